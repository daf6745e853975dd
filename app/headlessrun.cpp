#include "headlessrun.h"

#include "kvfiles.h"
#include "workerflags.h"
#include "report.h"
#include "scenario.h"
#include "world.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QFile>
#include <QJsonDocument>
#include <QTextStream>

#include <cstdio>

namespace roomscope {

namespace {

constexpr int kExitExpectationFailed = 1;
constexpr int kExitInvalidInput = 2;

int fail(const QString &message)
{
    QTextStream(stderr) << "roomscope run: " << message << '\n';
    return kExitInvalidInput;
}

/// Writes every trace event as one JSON line.
class TraceFile
{
public:
    bool open(const QString &path)
    {
        m_file.setFileName(path);
        return m_file.open(QIODevice::WriteOnly | QIODevice::Truncate);
    }
    QString errorString() const { return m_file.errorString(); }
    void write(const TraceEvent &event)
    {
        m_file.write(QJsonDocument(event.toJson()).toJson(QJsonDocument::Compact));
        m_file.write("\n");
    }

private:
    QFile m_file;
};

/// Imports a bulk JSON file and returns how many entries it wrote.
Result<qsizetype> importKv(World &world, const QString &path)
{
    const KvBulkImport imported
        = importKvBulkFile(world.kv(), epochSeconds(world.simulation().now()), path);
    if (!imported.entryErrors.isEmpty()) {
        return Error::error(QStringLiteral("%1 is invalid, so no entry was written:\n  %2")
                                .arg(path, imported.entryErrors.join(QStringLiteral("\n  "))));
    }
    if (!imported.error.isEmpty())
        return Error::error(imported.error);
    return imported.importedCount;
}

} // namespace

int runHeadless(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Runs a scenario headless, as fast as the CPU allows, and prints its report."));
    parser.addHelpOption();
    parser.addPositionalArgument(QStringLiteral("run"), QStringLiteral("The run command."));
    parser.addPositionalArgument(QStringLiteral("scenario"),
                                 QStringLiteral("The scenario JSON file, a wrangler configuration "
                                                "file (wrangler.jsonc, wrangler.json or "
                                                "wrangler.toml), or a Worker module (.js, .mjs "
                                                "or .ts)."));
    const QCommandLineOption seedOption(QStringLiteral("seed"),
                                        QStringLiteral("Seed of the random streams (replaces the scenario's)."),
                                        QStringLiteral("N"));
    const QCommandLineOption durationOption(
        QStringLiteral("duration"),
        QStringLiteral("How long the workloads run in virtual time, such as 30s or 5m (replaces the scenario's)."),
        QStringLiteral("T"));
    const QCommandLineOption reportOption(QStringLiteral("report"),
                                          QStringLiteral("Report format: text or json (default text)."),
                                          QStringLiteral("format"), QStringLiteral("text"));
    const QCommandLineOption traceOption(QStringLiteral("trace"),
                                         QStringLiteral("Write every trace event to FILE as JSON lines."),
                                         QStringLiteral("FILE"));
    const QCommandLineOption kvImportOption(
        QStringLiteral("kv-import"),
        QStringLiteral("Write the entries of a `wrangler kv bulk put` JSON file to the KV namespace "
                       "before the run starts. An invalid file writes nothing and exits with 2."),
        QStringLiteral("FILE.json"));
    const QCommandLineOption kvExportOption(
        QStringLiteral("kv-export"),
        QStringLiteral("After the run, write the live KV entries to FILE.json in the same bulk "
                       "format."),
        QStringLiteral("FILE.json"));
    const QCommandLineOption saveSessionOption(
        QStringLiteral("save-session"),
        QStringLiteral("After the run, save the KV store and the Durable Objects (their confirmed "
                       "storage and alarms) to an SQLite session file."),
        QStringLiteral("FILE.sqlite"));
    const QCommandLineOption loadSessionOption(
        QStringLiteral("load-session"),
        QStringLiteral("Start the run with the KV entries and the Durable Objects of a session "
                       "file that --save-session wrote. The file is only read."),
        QStringLiteral("FILE.sqlite"));
    const QCommandLineOption profileOption(
        QStringLiteral("profile"),
        QStringLiteral("Platform settings to run with: local (wrangler dev on one machine: local "
                       "KV and Durable Objects, no latency) or production. Replaces the "
                       "scenario's own."),
        QStringLiteral("local|production"));
    parser.addOptions({ seedOption, durationOption, profileOption, reportOption, traceOption,
                        loadSessionOption, kvImportOption, kvExportOption, saveSessionOption });
    const WorkerFlags workerFlags;
    workerFlags.addTo(parser);
    if (!parser.parse(arguments))
        return fail(parser.errorText());
    if (parser.isSet(QStringLiteral("help"))) {
        QTextStream(stdout) << parser.helpText();
        return 0;
    }
    const QStringList positional = parser.positionalArguments();
    if (positional.size() != 2)
        return fail(QStringLiteral("give one scenario file, wrangler configuration file or Worker module, for example: roomscope run resources/scenarios/kv-room.json"));

    std::optional<quint64> seed;
    if (parser.isSet(seedOption)) {
        bool ok = false;
        seed = parser.value(seedOption).toULongLong(&ok);
        if (!ok)
            return fail(QStringLiteral("invalid --seed \"%1\"; give a whole number such as 42")
                            .arg(parser.value(seedOption)));
    }
    const QString format = parser.value(reportOption);
    if (format != QLatin1String("text") && format != QLatin1String("json"))
        return fail(QStringLiteral("invalid --report \"%1\"; give text or json").arg(format));

    const Result<WorkerOptions> workerOptions = workerFlags.read(parser);
    if (!workerOptions)
        return fail(workerOptions.error().message);
    Result<Scenario> scenario = Scenario::forPath(positional.at(1), *workerOptions);
    if (!scenario)
        return fail(scenario.error().message);
    for (const QString &message : scenario->loadMessages)
        QTextStream(stderr) << "roomscope run: " << message << '\n';
    if (parser.isSet(durationOption)) {
        const std::optional<SimDuration> duration = parseDuration(parser.value(durationOption));
        if (!duration || *duration <= 0)
            return fail(QStringLiteral("invalid --duration \"%1\"; give a duration such as 30s, 1500ms or 5m")
                            .arg(parser.value(durationOption)));
        scenario.value().duration = *duration;
    }
    if (parser.isSet(profileOption)) {
        if (Status applied = scenario.value().applyProfile(parser.value(profileOption)); !applied)
            return fail(applied.error().message);
    }

    Result<std::unique_ptr<World>> world =
        World::create(*scenario, seed, parser.value(loadSessionOption));
    if (!world)
        return fail(world.error().message);
    // Report lines naming the sources of the KV entries present before the run starts.
    QStringList kvInputs;
    if (parser.isSet(loadSessionOption)) {
        kvInputs << QStringLiteral("%1 keys loaded from %2")
                        .arg(world.value()->kv().keyCount())
                        .arg(parser.value(loadSessionOption));
    }
    if (parser.isSet(kvImportOption)) {
        const Result<qsizetype> imported = importKv(*world.value(), parser.value(kvImportOption));
        if (!imported)
            return fail(imported.error().message);
        kvInputs << QStringLiteral("%1 entries imported from %2")
                        .arg(*imported)
                        .arg(parser.value(kvImportOption));
    }
    TraceFile traceFile;
    if (parser.isSet(traceOption)) {
        if (!traceFile.open(parser.value(traceOption)))
            return fail(QStringLiteral("cannot write the trace to %1: %2")
                            .arg(parser.value(traceOption), traceFile.errorString()));
        world.value()->simulation().trace().addSink(
            [&traceFile](const TraceEvent &event) { traceFile.write(event); });
    }
    world.value()->runToEnd();
    if (parser.isSet(saveSessionOption)) {
        if (Status saved = world.value()->saveSession(parser.value(saveSessionOption)); !saved)
            return fail(saved.error().message);
    }
    if (parser.isSet(kvExportOption)) {
        const Result<qsizetype> exported
            = exportKvBulkFile(world.value()->kv(), parser.value(kvExportOption));
        if (!exported)
            return fail(exported.error().message);
    }

    Report report = buildReport(*world.value());
    report.kvInputs = kvInputs;
    // Options that change what runs, so that the failure line's command reproduces this run.
    for (const QCommandLineOption &option : { durationOption, loadSessionOption, kvImportOption }) {
        if (parser.isSet(option))
            report.overrides << QStringLiteral("--") + option.names().constFirst()
                    << parser.value(option);
    }
    QTextStream out(stdout);
    if (format == QLatin1String("json"))
        out << QJsonDocument(report.toJson()).toJson(QJsonDocument::Indented);
    else
        out << report.toText();
    return report.passed() ? 0 : kExitExpectationFailed;
}

} // namespace roomscope
