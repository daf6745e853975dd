#pragma once

// The bundled scenario's path and a runner for the roomscope binary, for command-line tests.

#include <QByteArray>
#include <QProcess>
#include <QString>
#include <QStringList>
#include <QtGlobal>

namespace roomscope::testing {

/// The bundled kv-room scenario, found through ROOMSCOPE_SOURCE_DIR, which CTest sets.
inline QString kvRoomPath()
{
    return qEnvironmentVariable("ROOMSCOPE_SOURCE_DIR")
        + QStringLiteral("/resources/scenarios/kv-room.json");
}

struct ProcessResult
{
    int exitCode = -1; ///< -1 when the process crashed or did not finish
    QByteArray standardOutput;
    QByteArray standardError;
};

/// Runs `roomscope run ARGUMENTS` (the binary at `binary`) and waits up to two minutes.
inline ProcessResult runRoomscope(const QString &binary, const QStringList &arguments)
{
    QProcess process;
    process.start(binary, QStringList { QStringLiteral("run") } + arguments);
    ProcessResult result;
    if (!process.waitForFinished(120'000)) {
        qWarning("roomscope did not finish: %s", qPrintable(process.errorString()));
        process.kill();
        process.waitForFinished();
        return result;
    }
    if (process.exitStatus() == QProcess::NormalExit)
        result.exitCode = process.exitCode();
    result.standardOutput = process.readAllStandardOutput();
    result.standardError = process.readAllStandardError();
    return result;
}

} // namespace roomscope::testing
