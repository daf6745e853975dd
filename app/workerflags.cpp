#include "workerflags.h"

namespace roomscope {

namespace {

/// The largest --cpu-limit, as for `worker.cpuLimitMs` in a scenario: one hour.
constexpr int kMaxCpuLimitMs = 3'600'000;

} // namespace

WorkerFlags::WorkerFlags()
    : m_config(QStringLiteral("config"),
               QStringLiteral("For a Worker module: the wrangler configuration file (wrangler.jsonc, "
                              "wrangler.json or wrangler.toml) that declares its bindings, vars "
                              "and migrations. Without it and without --kv, --do and "
                              "--sqlite-class, the module's folder and its parents are searched "
                              "for one."),
               QStringLiteral("FILE"))
    , m_environment(QStringLiteral("env"),
                    QStringLiteral("Apply the env.NAME section of the configuration file, as "
                                   "wrangler's --env does."),
                    QStringLiteral("NAME"))
    , m_kv(QStringLiteral("kv"),
           QStringLiteral("For a Worker module: the name of its KV namespace binding (default "
                          "KV, or the configuration file's)."),
           QStringLiteral("BINDING"))
    , m_objects(QStringLiteral("do"),
                QStringLiteral("For a Worker module: its Durable Object binding and the exported "
                               "class, such as ROOMS=Room (replaces the configuration file's)."),
                QStringLiteral("BINDING=CLASS"))
    , m_sqlite(QStringLiteral("sqlite-class"),
               QStringLiteral("For a Worker module: the class is SQLite-backed "
                              "(new_sqlite_classes), whatever the configuration file's "
                              "migrations say."),
               QStringLiteral("CLASS"))
    , m_cpuLimit(QStringLiteral("cpu-limit"),
                 QStringLiteral("Milliseconds of wall time that one call into the Worker's "
                                "JavaScript may run before it is stopped with \"Worker exceeded "
                                "CPU time limit\" (default 2000, or the scenario's "
                                "worker.cpuLimitMs); 0 turns the limit off."),
                 QStringLiteral("MS"))
{
}

void WorkerFlags::addTo(QCommandLineParser &parser) const
{
    parser.addOptions({ m_config, m_environment, m_kv, m_objects, m_sqlite, m_cpuLimit });
}

Result<WorkerOptions> WorkerFlags::read(const QCommandLineParser &parser) const
{
    WorkerOptions options;
    options.configPath = parser.value(m_config);
    options.environment = parser.value(m_environment);
    options.kvBinding = parser.value(m_kv);
    options.objectsBinding = parser.value(m_objects);
    options.sqliteClass = parser.isSet(m_sqlite);
    if (parser.isSet(m_cpuLimit)) {
        bool ok = false;
        const int limit = parser.value(m_cpuLimit).toInt(&ok);
        if (!ok || limit < 0 || limit > kMaxCpuLimitMs)
            return Error::error(QStringLiteral("invalid --cpu-limit \"%1\"; give milliseconds "
                                               "from 0 (no limit) to %2")
                                        .arg(parser.value(m_cpuLimit))
                                        .arg(kMaxCpuLimitMs));
        options.cpuLimitMs = limit;
    }
    return options;
}

} // namespace roomscope
