#pragma once

#include "scenario.h"

#include <QCommandLineOption>
#include <QCommandLineParser>

namespace roomscope {

/// The options of `roomscope run` and `serve` that choose and bind a Worker: --config, --env,
/// --kv, --do, --sqlite-class and --cpu-limit.
class WorkerFlags
{
public:
    WorkerFlags();

    void addTo(QCommandLineParser &parser) const;
    /// Reads the options after parsing; returns an error naming an invalid value and the fix.
    Result<WorkerOptions> read(const QCommandLineParser &parser) const;

private:
    QCommandLineOption m_config;
    QCommandLineOption m_environment;
    QCommandLineOption m_kv;
    QCommandLineOption m_objects;
    QCommandLineOption m_sqlite;
    QCommandLineOption m_cpuLimit;
};

} // namespace roomscope
