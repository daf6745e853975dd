#include "processinfo.h"

#include <QFile>
#include <QSysInfo>

#include <sched.h>

namespace roomscope::bench {

namespace {

/// The value after "name:" on the first line of a /proc file that starts with `name`.
QByteArray procField(const char *path, const QByteArray &name)
{
    QFile file(QString::fromLatin1(path));
    if (!file.open(QIODevice::ReadOnly | QIODevice::Text))
        return {};
    // /proc files report a size of 0, so atEnd() is true at once. Read until readLine() returns
    // nothing.
    for (QByteArray line = file.readLine(); !line.isEmpty(); line = file.readLine()) {
        if (!line.startsWith(name))
            continue;
        const qsizetype colon = line.indexOf(':');
        if (colon >= 0 && line.left(colon).trimmed() == name)
            return line.mid(colon + 1).trimmed();
    }
    return {};
}

} // namespace

qint64 procStatusKiB(const char *field)
{
    // The line reads like "VmHWM:     123456 kB".
    const QByteArray value = procField("/proc/self/status", QByteArray(field));
    bool ok = false;
    const qint64 kib = value.split(' ').value(0).toLongLong(&ok);
    return ok ? kib : -1;
}

MachineInfo MachineInfo::current()
{
    MachineInfo info;
    info.cpuModel = QString::fromUtf8(procField("/proc/cpuinfo", "model name"));
    if (info.cpuModel.isEmpty())
        info.cpuModel = QStringLiteral("unknown");
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0)
        info.cpus = CPU_COUNT(&set);
    info.kernel = QSysInfo::kernelType() + QLatin1Char(' ') + QSysInfo::kernelVersion();
#if defined(__clang__)
    info.compiler = QStringLiteral("Clang ") + QLatin1String(__clang_version__);
#elif defined(__GNUC__)
    info.compiler = QStringLiteral("GCC ") + QLatin1String(__VERSION__);
#else
    info.compiler = QStringLiteral("unknown");
#endif
    info.buildType = QStringLiteral(ROOMSCOPE_BUILD_TYPE);
    if (info.buildType.isEmpty())
        info.buildType = QStringLiteral("none set");
    info.qtVersion = QString::fromLatin1(qVersion());
    return info;
}

QJsonObject MachineInfo::toJson() const
{
    return QJsonObject {
        { QStringLiteral("cpuModel"), cpuModel },
        { QStringLiteral("cpus"), cpus },
        { QStringLiteral("kernel"), kernel },
        { QStringLiteral("compiler"), compiler },
        { QStringLiteral("buildType"), buildType },
        { QStringLiteral("qt"), qtVersion },
    };
}

} // namespace roomscope::bench
