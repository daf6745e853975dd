// bench_sim: the simulator's event rate against a bare std::priority_queue dispatch loop, and its
// peak memory per simulated client, on the kv-room scenario scaled up. It asserts nothing,
// because tests never assert speed. docs/benchmarks.md explains the method and records the
// figures.

#include "benchoutput.h"
#include "processinfo.h"
#include "scaledscenario.h"

#include "world.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTextStream>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <queue>
#include <vector>

using namespace roomscope;
using namespace roomscope::bench;

namespace {

constexpr int kMaxRepeats = 10;
constexpr SimDuration kMaxDuration = seconds(3600);
/// A timed phase stops repeating once its runs have taken this long in total.
constexpr double kPhaseBudgetSeconds = 300;
/// How long the parent waits for one memory measurement in a child process.
constexpr int kChildTimeoutMs = 15 * 60 * 1000;

enum class Mode { All, Speed, Memory };

struct Options
{
    QString scenarioPath;
    ScaleOptions scale;
    int repeats = 3;
    bool json = false;
    Mode mode = Mode::All;
    bool clientsOnly = false; ///< --config clients-only, for --mode memory
};

void progress(const QString &message)
{
    QTextStream(stderr) << "bench_sim: " << message << Qt::endl;
}

double secondsSince(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// ---- Scenario -------------------------------------------------------------------------------

Result<Scenario> loadScenario(const Options &options, bool withWorkloads)
{
    Result<Scenario> base = Scenario::load(options.scenarioPath);
    if (!base)
        return base.error();
    ScaleOptions scale = options.scale;
    scale.withWorkloads = withWorkloads;
    return scaleScenario(*base, scale);
}

std::unique_ptr<World> createWorld(const Scenario &scenario)
{
    Result<std::unique_ptr<World>> world = World::create(scenario);
    if (!world) {
        progress(QStringLiteral("cannot build the world: %1").arg(world.error().message));
        std::exit(1);
    }
    return std::move(world).value();
}

// ---- Event rate -----------------------------------------------------------------------------

/// Runs the scenario one event at a time, as World::runToEnd() does, and records how many events
/// were pending before each dispatch. It is not timed, because the sampling costs time of its own.
void samplePendingEvents(const Scenario &scenario, SpeedResult &result)
{
    const std::unique_ptr<World> world = createWorld(scenario);
    Simulation &simulation = world->simulation();
    double pendingSum = 0;
    quint64 events = 0;
    while (simulation.hasPendingEvents() && *simulation.nextEventTime() <= world->drainLimit()) {
        const qsizetype pending = simulation.pendingEventCount();
        pendingSum += double(pending);
        result.peakPending = std::max(result.peakPending, pending);
        simulation.step();
        ++events;
    }
    result.events = events;
    result.averagePending = events ? pendingSum / double(events) : 0;
    result.traceDigest = simulation.trace().digest().hex();
    result.traceEvents = simulation.trace().eventCount();
}

void timeSimulation(const Scenario &scenario, int repeats, SpeedResult &result)
{
    double total = 0;
    for (int i = 0; i < repeats && total < kPhaseBudgetSeconds; ++i) {
        progress(QStringLiteral("simulation run %1 of %2").arg(i + 1).arg(repeats));
        const std::unique_ptr<World> world = createWorld(scenario);
        const auto start = std::chrono::steady_clock::now();
        world->runToEnd();
        const double elapsed = secondsSince(start);
        total += elapsed;
        result.simulation.seconds.push_back(elapsed);

        const Simulation &simulation = world->simulation();
        if (simulation.dispatchedEventCount() != result.events
            || simulation.trace().digest().hex() != result.traceDigest)
            result.digestsIdentical = false;
    }
}

/// The bare loop's event: what a minimal discrete-event scheduler would queue.
struct BareEvent
{
    qint64 time;
    quint64 sequence;
    quint64 payload;
};

struct BareLater
{
    bool operator()(const BareEvent &a, const BareEvent &b) const
    {
        return a.time != b.time ? a.time > b.time : a.sequence > b.sequence;
    }
};

quint64 xorshift64(quint64 &state)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

/// Dispatches `events` events from a std::priority_queue that contains `pending` events before
/// each pop. Each handled event schedules one more, up to 100 ms of virtual time later, so the
/// queue keeps its size. The handling folds the payload into a checksum that the caller prints,
/// so the optimizer cannot drop it. The function is kept out of line so that a profiler can tell
/// its cost from the simulation's.
Q_NEVER_INLINE double timeBareLoop(quint64 events, qsizetype pending, quint64 &checksum)
{
    constexpr quint64 kMaxDelayUs = 100'000;
    quint64 random = 0x9E3779B97F4A7C15ull;
    quint64 sequence = 0;
    std::vector<BareEvent> initial;
    initial.reserve(size_t(pending) + 1);
    for (qsizetype i = 0; i < pending; ++i)
        initial.push_back({ qint64(xorshift64(random) % kMaxDelayUs), sequence++, random });
    std::priority_queue<BareEvent, std::vector<BareEvent>, BareLater> queue(
        BareLater(), std::move(initial));

    const auto start = std::chrono::steady_clock::now();
    quint64 sum = 0;
    for (quint64 i = 0; i < events; ++i) {
        const BareEvent event = queue.top();
        queue.pop();
        sum = sum * 31 + event.payload;
        const quint64 next = xorshift64(random);
        queue.push({ event.time + 1 + qint64(next % kMaxDelayUs), sequence++, next ^ sum });
    }
    const double elapsed = secondsSince(start);
    checksum ^= sum;
    return elapsed;
}

SpeedResult measureSpeed(const Scenario &scenario, int repeats)
{
    SpeedResult result;
    progress(QStringLiteral("sampling the pending event count (untimed run)"));
    samplePendingEvents(scenario, result);
    timeSimulation(scenario, repeats, result);

    result.bareLoopPending = std::max<qsizetype>(1, qsizetype(result.averagePending + 0.5));
    double total = 0;
    for (int i = 0; i < repeats && total < kPhaseBudgetSeconds; ++i) {
        progress(QStringLiteral("bare loop run %1 of %2").arg(i + 1).arg(repeats));
        const double elapsed
            = timeBareLoop(result.events, result.bareLoopPending, result.bareLoopChecksum);
        total += elapsed;
        result.bareLoop.seconds.push_back(elapsed);
    }
    return result;
}

// ---- Memory ---------------------------------------------------------------------------------

/// Measures the growth of the peak resident set size (VmHWM) from just before the World is built
/// to the end of its run, in this process.
QJsonObject measureMemory(const Scenario &scenario, const QString &configuration)
{
    const qint64 beforeKiB = procStatusKiB("VmHWM");
    const std::unique_ptr<World> world = createWorld(scenario);
    const qint64 afterBuildKiB = procStatusKiB("VmHWM");
    const quint64 events = world->runToEnd();
    const qint64 afterRunKiB = procStatusKiB("VmHWM");
    const qint64 clients = clientCount(scenario);
    const double bytesPerClient
        = clients > 0 ? double(afterRunKiB - beforeKiB) * 1024 / double(clients) : 0;
    return QJsonObject {
        { QStringLiteral("configuration"), configuration },
        { QStringLiteral("clients"), double(clients) },
        { QStringLiteral("events"), double(events) },
        { QStringLiteral("vmHwmBeforeKiB"), double(beforeKiB) },
        { QStringLiteral("vmHwmAfterBuildKiB"), double(afterBuildKiB) },
        { QStringLiteral("vmHwmAfterRunKiB"), double(afterRunKiB) },
        { QStringLiteral("bytesPerClient"), bytesPerClient },
    };
}

/// Runs this program again with --mode memory, so that no earlier phase raised the peak.
Result<QJsonObject> measureMemoryInChild(const Options &options, bool clientsOnly)
{
    const QString configuration
        = clientsOnly ? QStringLiteral("clients-only") : QStringLiteral("full");
    progress(QStringLiteral("measuring memory (%1) in a child process").arg(configuration));
    QProcess child;
    child.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    child.start(QCoreApplication::applicationFilePath(),
        { QStringLiteral("--mode"), QStringLiteral("memory"), QStringLiteral("--json"),
            QStringLiteral("--config"), configuration, QStringLiteral("--scenario"),
            options.scenarioPath, QStringLiteral("--rooms"), QString::number(options.scale.rooms),
            QStringLiteral("--clients-per-room"), QString::number(options.scale.clientsPerRoom),
            QStringLiteral("--duration"), QStringLiteral("%1us").arg(options.scale.duration) });
    if (!child.waitForFinished(kChildTimeoutMs)) {
        child.kill();
        child.waitForFinished();
        return Error::error(QStringLiteral("the memory measurement (%1) did not finish: %2")
                                .arg(configuration, child.errorString()));
    }
    if (child.exitStatus() != QProcess::NormalExit || child.exitCode() != 0) {
        return Error::error(QStringLiteral("the memory measurement (%1) failed with exit code %2")
                                .arg(configuration)
                                .arg(child.exitCode()));
    }
    const QJsonDocument document = QJsonDocument::fromJson(child.readAllStandardOutput().trimmed());
    if (!document.isObject())
        return Error::error(QStringLiteral("the memory measurement (%1) printed no JSON object")
                                .arg(configuration));
    return document.object().value(QStringLiteral("memory")).toObject();
}

// ---- Command line ---------------------------------------------------------------------------

Options parseOptions(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Measures the simulator's event rate against a bare std::priority_queue loop and its\n"
        "peak memory per simulated client, on the kv-room scenario scaled up."));
    parser.addHelpOption();
    const QCommandLineOption scenario(QStringLiteral("scenario"),
        QStringLiteral("The scenario to scale (default: the bundled kv-room)."),
        QStringLiteral("FILE"),
        QStringLiteral(ROOMSCOPE_SOURCE_DIR "/resources/scenarios/kv-room.json"));
    const QCommandLineOption duration(QStringLiteral("duration"),
        QStringLiteral(
            "How long the workloads run in virtual time, such as 90s or 10m (default 10m)."),
        QStringLiteral("T"), QStringLiteral("10m"));
    const QCommandLineOption rooms(QStringLiteral("rooms"),
        QStringLiteral("Number of rooms (default 10)."), QStringLiteral("N"), QStringLiteral("10"));
    const QCommandLineOption clients(QStringLiteral("clients-per-room"),
        QStringLiteral("WebSocket clients per room (default 1000)."), QStringLiteral("N"),
        QStringLiteral("1000"));
    const QCommandLineOption repeats(QStringLiteral("repeats"),
        QStringLiteral("Timed runs of each phase, 1 to 10 (default 3)."), QStringLiteral("N"),
        QStringLiteral("3"));
    const QCommandLineOption mode(QStringLiteral("mode"),
        QStringLiteral("all (default), speed (event rates only) or memory (one memory figure, "
                       "measured in this process)."),
        QStringLiteral("mode"), QStringLiteral("all"));
    const QCommandLineOption config(QStringLiteral("config"),
        QStringLiteral("With --mode memory: full (default) or clients-only."),
        QStringLiteral("name"), QStringLiteral("full"));
    const QCommandLineOption json(
        QStringLiteral("json"), QStringLiteral("Print one JSON line instead of the table."));
    parser.addOptions({ scenario, duration, rooms, clients, repeats, mode, config, json });
    parser.process(arguments);

    const auto fail = [](const QString &message) {
        QTextStream(stderr) << "bench_sim: " << message << '\n';
        std::exit(2);
    };
    const auto integer = [&](const QCommandLineOption &option, int low, int high) {
        bool ok = false;
        const int value = parser.value(option).toInt(&ok);
        if (!ok || value < low || value > high)
            fail(QStringLiteral("invalid --%1 \"%2\"; give a whole number from %3 to %4")
                     .arg(option.names().first(), parser.value(option))
                     .arg(low)
                     .arg(high));
        return value;
    };

    Options options;
    options.scenarioPath = parser.value(scenario);
    options.scale.rooms = integer(rooms, 1, 1000);
    options.scale.clientsPerRoom = integer(clients, 0, 100'000);
    options.repeats = integer(repeats, 1, kMaxRepeats);
    options.json = parser.isSet(json);
    const std::optional<SimDuration> parsed = parseDuration(parser.value(duration));
    if (!parsed || *parsed <= 0 || *parsed > kMaxDuration)
        fail(
            QStringLiteral("invalid --duration \"%1\"; give a duration from 1us to 1h, such as 10m")
                .arg(parser.value(duration)));
    options.scale.duration = *parsed;

    const QString modeName = parser.value(mode);
    if (modeName == QLatin1String("all"))
        options.mode = Mode::All;
    else if (modeName == QLatin1String("speed"))
        options.mode = Mode::Speed;
    else if (modeName == QLatin1String("memory"))
        options.mode = Mode::Memory;
    else
        fail(QStringLiteral("invalid --mode \"%1\"; give all, speed or memory").arg(modeName));

    const QString configName = parser.value(config);
    if (configName != QLatin1String("full") && configName != QLatin1String("clients-only"))
        fail(QStringLiteral("invalid --config \"%1\"; give full or clients-only").arg(configName));
    options.clientsOnly = configName == QLatin1String("clients-only");
    return options;
}

Scenario loadOrExit(const Options &options, bool withWorkloads)
{
    Result<Scenario> scenario = loadScenario(options, withWorkloads);
    if (!scenario) {
        progress(scenario.error().message);
        std::exit(2);
    }
    return std::move(scenario).value();
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication application(argc, argv);
    const Options options = parseOptions(application.arguments());
    const MachineInfo machine = MachineInfo::current();

    if (options.mode == Mode::Memory) {
        const Scenario scenario = loadOrExit(options, !options.clientsOnly);
        const QJsonObject memory = measureMemory(scenario,
            options.clientsOnly ? QStringLiteral("clients-only") : QStringLiteral("full"));
        if (options.json) {
            out() << QJsonDocument(QJsonObject { { QStringLiteral("memory"), memory } })
                         .toJson(QJsonDocument::Compact)
                  << '\n';
        } else {
            printMachine(machine, scenario, options.scale.duration);
            printMemory({ memory });
        }
        return 0;
    }

    // Load first, so that an invalid scenario is reported once and before any child starts.
    const Scenario scenario = loadOrExit(options, true);
    std::vector<QJsonObject> memory;
    if (options.mode == Mode::All) {
        for (const bool childClientsOnly : { false, true }) {
            Result<QJsonObject> figures = measureMemoryInChild(options, childClientsOnly);
            if (!figures) {
                progress(figures.error().message);
                return 1;
            }
            memory.push_back(*figures);
        }
    }

    const SpeedResult speed = measureSpeed(scenario, options.repeats);

    if (options.json) {
        QJsonObject record {
            { QStringLiteral("benchmark"), QStringLiteral("bench_sim") },
            { QStringLiteral("machine"), machine.toJson() },
            { QStringLiteral("scenario"), scenario.name },
            { QStringLiteral("clients"), double(clientCount(scenario)) },
            { QStringLiteral("durationSeconds"), double(options.scale.duration) / 1e6 },
            { QStringLiteral("seed"), double(scenario.seed) },
            { QStringLiteral("speed"), speedJson(speed) },
        };
        QJsonObject memoryRecord;
        for (const QJsonObject &figures : memory)
            memoryRecord.insert(figures.value(QStringLiteral("configuration")).toString(), figures);
        if (!memory.empty())
            record.insert(QStringLiteral("memory"), memoryRecord);
        out() << QJsonDocument(record).toJson(QJsonDocument::Compact) << '\n';
        return 0;
    }
    printMachine(machine, scenario, options.scale.duration);
    printSpeed(speed);
    if (!memory.empty())
        printMemory(memory);
    return 0;
}
