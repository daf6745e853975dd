#pragma once

#include <QJsonObject>
#include <QString>

namespace roomscope::bench {

/// A field of /proc/self/status in KiB, such as "VmHWM" (peak resident set size) or "VmRSS";
/// -1 when it cannot be read.
qint64 procStatusKiB(const char *field);

/// The machine and build a benchmark ran on, so that a recorded figure can be interpreted.
struct MachineInfo
{
    QString cpuModel; ///< the first "model name" of /proc/cpuinfo
    int cpus = 0; ///< CPUs this process may run on, as nproc counts them
    QString kernel;
    QString compiler;
    QString buildType;
    QString qtVersion;

    static MachineInfo current();
    QJsonObject toJson() const;
};

} // namespace roomscope::bench
