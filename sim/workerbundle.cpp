#include "workerbundle.h"

#include <QDir>
#include <QFileInfo>
#include <QProcess>

namespace roomscope {

namespace {

QString esbuildIn(const QString &folder)
{
    const QString candidate = QDir(folder).filePath(QStringLiteral("node_modules/.bin/esbuild"));
    return QFileInfo(candidate).isExecutable() ? candidate : QString();
}

/// The folder esbuild runs in, so that it resolves packages from the project's node_modules.
QString projectFolderOf(const QString &esbuild)
{
    return QFileInfo(esbuild).dir().absoluteFilePath(QStringLiteral("../.."));
}

} // namespace

bool isTypeScriptPath(const QString &path)
{
    return path.endsWith(QLatin1String(".ts")) || path.endsWith(QLatin1String(".mts"));
}

QString findEsbuild(const QString &entryPath, const QStringList &projectFolders)
{
    for (const QString &folder : projectFolders) {
        if (const QString found = esbuildIn(folder); !found.isEmpty())
            return found;
    }
    QDir dir = QFileInfo(entryPath).absoluteDir();
    for (;;) {
        if (const QString found = esbuildIn(dir.absolutePath()); !found.isEmpty())
            return found;
        if (dir.exists(QStringLiteral("package.json")) || dir.isRoot() || !dir.cdUp())
            return {};
    }
}

Result<QString> bundleTypeScript(const QString &entryPath, const QStringList &projectFolders,
                                 const QString &outputFolder, const QString &configPath)
{
    const QFileInfo entry(entryPath);
    const QString esbuild = findEsbuild(entryPath, projectFolders);
    if (esbuild.isEmpty()) {
        const QString folder = projectFolders.isEmpty() ? entry.absolutePath()
                                                        : projectFolders.constFirst();
        const QString config = configPath.isEmpty()
                ? QString()
                : QStringLiteral(" --config %1").arg(QFileInfo(configPath).fileName());
        return Error::error(
                QStringLiteral("%1 is TypeScript, which Roomscope bundles with the project's "
                               "esbuild, but %2 has no node_modules/.bin/esbuild. Produce a "
                               "JavaScript bundle with `npx wrangler deploy --dry-run --outdir "
                               "dist`, then give the .js file in dist/ to Roomscope: roomscope "
                               "serve dist/%3.js%4")
                        .arg(entry.filePath(), folder, entry.completeBaseName(), config));
    }

    const QString bundlePath =
            QDir(outputFolder).filePath(entry.completeBaseName() + QStringLiteral(".js"));
    QProcess process;
    process.setWorkingDirectory(projectFolderOf(esbuild));
    process.setProgram(esbuild);
    // es2022 is what SpiderMonkey 102 runs; newer syntax is lowered to it.
    process.setArguments({ entry.absoluteFilePath(), QStringLiteral("--bundle"),
                           QStringLiteral("--format=esm"), QStringLiteral("--target=es2022"),
                           QStringLiteral("--external:cloudflare:workers"),
                           QStringLiteral("--external:cloudflare:*"),
                           QStringLiteral("--conditions=workerd,worker,browser"),
                           QStringLiteral("--log-level=warning"),
                           QStringLiteral("--outfile=") + bundlePath });
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.start();
    if (!process.waitForStarted())
        return Error::error(QStringLiteral("Cannot start %1 to bundle %2: %3")
                                    .arg(esbuild, entry.filePath(), process.errorString()));
    if (!process.waitForFinished(int(kBundleTimeout.count()))) {
        process.kill();
        process.waitForFinished();
        return Error::error(QStringLiteral("%1 timed out after %2 s bundling %3.")
                                    .arg(esbuild)
                                    .arg(kBundleTimeout.count() / 1000)
                                    .arg(entry.filePath()));
    }
    const QString output = QString::fromUtf8(process.readAll()).trimmed();
    if (process.exitStatus() != QProcess::NormalExit || process.exitCode() != 0)
        return Error::error(QStringLiteral("esbuild failed to bundle %1:\n%2")
                                    .arg(entry.filePath(), output));
    return bundlePath;
}

} // namespace roomscope
