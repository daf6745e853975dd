// bench_js: the user's Worker JavaScript in the simulation. It measures
//   - awaits per second through the KV binding, from a Worker's fetch handler and from a Durable
//     Object, each `await env.KV.get()` settled by the simulation's own job queue;
//   - requests per second through the bundled kv-room Worker module, beside the built-in C++
//     kv-room class, which serves the same routes;
//   - the memory that one idle Durable Object instance of that module costs, beside the built-in
//     class, each in a child process of its own.
// It checks every response but asserts nothing about speed, because tests never assert speed.
// docs/benchmarks.md explains the method and records the figures.

#include "benchoutput.h"
#include "processinfo.h"

#include "js/jsworker.h"
#include "scenario.h"
#include "simulation.h"
#include "task.h"
#include "world.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>
#include <QProcess>
#include <QTemporaryDir>
#include <QTextStream>

#include <malloc.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <vector>

using namespace roomscope;
using namespace roomscope::bench;

namespace {

/// Awaits per second that the KV binding must sustain from JavaScript.
constexpr double kTargetAwaitsPerSecond = 250'000;
/// Memory that one idle Durable Object instance of a JavaScript class may add, in bytes.
constexpr double kTargetBytesPerObject = 64 * 1024;
/// A timed phase starts no new request after this much wall time, so that a slow build cannot
/// run for many minutes.
constexpr double kRunBudgetSeconds = 60;
/// How long the parent waits for one memory measurement in a child process.
constexpr int kChildTimeoutMs = 10 * 60 * 1000;

struct Options
{
    int awaits = 200'000;
    int requests = 20'000;
    int concurrency = 16;
    int rooms = 16;
    int objects = 2'000;
    int repeats = 3;
    bool json = false;
    QString memoryChild; ///< "js" or "builtin": measure memory only, print one JSON line
};

void progress(const QString &message)
{
    QTextStream(stderr) << "bench_js: " << message << Qt::endl;
}

[[noreturn]] void failRun(const QString &message)
{
    progress(message);
    std::exit(1);
}

QString number(double value, int decimals = 0)
{
    static const QLocale english(QLocale::English, QLocale::UnitedStates);
    return english.toString(value, 'f', decimals);
}

double secondsSince(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// CPU time of the calling thread, in seconds. The rates use it beside wall time because
/// other processes on a shared machine stretch wall time but not CPU time.
double threadCpuSeconds()
{
    timespec now {};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return double(now.tv_sec) + double(now.tv_nsec) / 1e9;
}

QString sourcePath(const QString &relative)
{
    return QStringLiteral(ROOMSCOPE_SOURCE_DIR "/") + relative;
}

/// A world that serves `modulePath` as `roomscope serve` does (local profile, KV and ROOMS=Room).
/// With `builtin` set, the world has the same settings and the built-in kv-room Worker instead.
std::unique_ptr<World> makeWorld(const QString &modulePath, bool builtin)
{
    Result<Scenario> scenario = Scenario::forWorkerModule(modulePath, QStringLiteral("KV"),
                                                          QStringLiteral("ROOMS=Room"), true);
    if (!scenario)
        failRun(scenario.error().message);
    Scenario settings = std::move(scenario).value();
    if (builtin)
        settings.workerModule.clear();
    Result<std::unique_ptr<World>> world = World::create(settings);
    if (!world)
        failRun(world.error().message);
    return std::move(world).value();
}

HttpRequest getRequest(const QString &target)
{
    HttpRequest request;
    request.url = QUrl(QStringLiteral("http://127.0.0.1:8787") + target);
    return request;
}

/// Sends one request and steps the simulation until its response arrives.
HttpResponse send(World &world, const QString &target)
{
    std::optional<HttpResponse> response;
    std::function<Task<void>()> run = [&]() -> Task<void> {
        response = co_await world.request(QStringLiteral("bench"), 0, getRequest(target));
    };
    world.simulation().spawn(run());
    while (!response && world.simulation().step()) { }
    if (!response)
        failRun(QStringLiteral("%1 never received a response").arg(target));
    return *response;
}

// ---- Awaits through the KV binding -------------------------------------------------------

/// A Worker whose /worker route and whose object's /object route each await KV reads in a loop.
constexpr char kAwaitModule[] = R"js(import { DurableObject } from "cloudflare:workers";

async function readLoop(kv, count) {
  let found = 0;
  for (let i = 0; i < count; i++) {
    if ((await kv.get("bench-key")) !== null) found++;
  }
  return found;
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const count = Number(url.searchParams.get("n"));
    if (url.pathname === "/seed") {
      await env.KV.put("bench-key", "value");
      return new Response("seeded");
    }
    if (url.pathname === "/worker") return new Response(String(await readLoop(env.KV, count)));
    return env.ROOMS.getByName("bench").fetch(request);
  },
};

export class Room extends DurableObject {
  async fetch(request) {
    const count = Number(new URL(request.url).searchParams.get("n"));
    return new Response(String(await readLoop(this.env.KV, count)));
  }
}
)js";

struct AwaitFigures
{
    Timing worker;
    Timing object;
    Timing workerCpu;
    Timing objectCpu;
};

AwaitFigures measureAwaits(const Options &options)
{
    QTemporaryDir folder;
    const QString path = folder.filePath(QStringLiteral("worker.mjs"));
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(kAwaitModule) < 0)
        failRun(QStringLiteral("cannot write %1").arg(path));
    file.close();

    const std::unique_ptr<World> world = makeWorld(path, false);
    if (send(*world, QStringLiteral("/seed")).body != "seeded")
        failRun(QStringLiteral("the await module did not seed its key"));

    AwaitFigures figures;
    const QByteArray expected = QByteArray::number(options.awaits);
    for (int repeat = 0; repeat < options.repeats; ++repeat) {
        for (const QString &route : { QStringLiteral("/worker"), QStringLiteral("/object") }) {
            const auto start = std::chrono::steady_clock::now();
            const double cpuStart = threadCpuSeconds();
            const HttpResponse response =
                    send(*world, QStringLiteral("%1?n=%2").arg(route).arg(options.awaits));
            const double seconds = secondsSince(start);
            const double cpuSeconds = threadCpuSeconds() - cpuStart;
            if (response.body != expected)
                failRun(QStringLiteral("%1 read the key %2 times, expected %3")
                                .arg(route, QString::fromUtf8(response.body),
                                     QString::fromLatin1(expected)));
            const bool fromWorker = route == QLatin1String("/worker");
            (fromWorker ? figures.worker : figures.object).seconds.push_back(seconds);
            (fromWorker ? figures.workerCpu : figures.objectCpu).seconds.push_back(cpuSeconds);
        }
    }
    return figures;
}

// ---- Requests through the kv-room Worker -------------------------------------------------

struct RequestFigures
{
    Timing put;
    Timing get;
    qint64 requests = 0;
};

/// Sends `options.requests` requests of one route from `options.concurrency` callers over
/// `options.rooms` rooms, and returns the wall time. Every response must have status 200.
double runRequests(World &world, const Options &options, const QString &route)
{
    qint64 started = 0;
    qint64 finished = 0;
    qint64 failed = 0;
    const auto start = std::chrono::steady_clock::now();
    std::function<Task<void>(int)> caller = [&](int index) -> Task<void> {
        for (;;) {
            if (started >= options.requests || secondsSince(start) > kRunBudgetSeconds)
                co_return;
            const qint64 sequence = started++;
            const QString target = route == QLatin1String("put")
                    ? QStringLiteral("/put?roomId=room-%1&key=key-%2&value=value-%3")
                              .arg(sequence % options.rooms).arg(index).arg(sequence)
                    : QStringLiteral("/get?roomId=room-%1&key=key-%2")
                              .arg(sequence % options.rooms).arg(index);
            const HttpResponse response =
                    co_await world.request(QStringLiteral("bench"), 0, getRequest(target));
            if (response.status != 200)
                ++failed;
            ++finished;
        }
    };
    for (int index = 0; index < options.concurrency; ++index)
        world.simulation().spawn(caller(index));
    while (finished < started || started == 0) {
        if (!world.simulation().step())
            break;
    }
    const double seconds = secondsSince(start);
    if (failed > 0)
        failRun(QStringLiteral("%1 of %2 %3 requests failed").arg(failed).arg(finished).arg(route));
    if (finished != options.requests)
        failRun(QStringLiteral("only %1 of %2 %3 requests finished within %4 s")
                        .arg(finished).arg(options.requests).arg(route).arg(kRunBudgetSeconds));
    return seconds;
}

RequestFigures measureRequests(const Options &options, bool builtin)
{
    const QString module = sourcePath(QStringLiteral("resources/workers/kv-room/worker.mjs"));
    RequestFigures figures;
    figures.requests = options.requests;
    for (int repeat = 0; repeat < options.repeats; ++repeat) {
        const std::unique_ptr<World> world = makeWorld(module, builtin);
        figures.put.seconds.push_back(runRequests(*world, options, QStringLiteral("put")));
        figures.get.seconds.push_back(runRequests(*world, options, QStringLiteral("get")));
    }
    return figures;
}

// ---- Memory per idle object --------------------------------------------------------------

qint64 residentKiBAfterTrim(World &world)
{
    if (world.script())
        world.script()->collectGarbage();
    malloc_trim(0);
    return procStatusKiB("VmRSS");
}

/// Constructs `options.objects` instances (one /id request each), lets them go idle, and prints
/// the resident memory they added as one JSON line. Runs in a child process of its own.
int measureMemoryChild(const Options &options)
{
    const bool builtin = options.memoryChild == QLatin1String("builtin");
    const QString module = sourcePath(QStringLiteral("resources/workers/kv-room/worker.mjs"));
    const std::unique_ptr<World> world = makeWorld(module, builtin);
    // One object first, so that the class's code and the namespace's tables exist already.
    send(*world, QStringLiteral("/id?roomId=warm-up"));
    const qint64 heapBefore = world->script() ? world->script()->collectGarbage() : 0;
    const qint64 beforeKiB = residentKiBAfterTrim(*world);
    for (int index = 0; index < options.objects; ++index) {
        const HttpResponse response = send(*world, QStringLiteral("/id?roomId=idle-%1").arg(index));
        if (response.status != 200)
            failRun(QStringLiteral("/id answered %1").arg(response.status));
    }
    // A second of virtual time lets every object finish its event and go idle. Eviction comes
    // much later, so all of them stay in memory.
    world->simulation().runUntil(world->simulation().now() + seconds(1));
    const qint64 inMemory = qint64(world->rooms().objects().size());
    const qint64 heapAfter = world->script() ? world->script()->collectGarbage() : 0;
    const qint64 afterKiB = residentKiBAfterTrim(*world);
    const QJsonObject figures {
        { QStringLiteral("worker"), options.memoryChild },
        { QStringLiteral("objects"), options.objects },
        { QStringLiteral("objectsInNamespace"), inMemory },
        { QStringLiteral("residentBeforeKiB"), beforeKiB },
        { QStringLiteral("residentAfterKiB"), afterKiB },
        { QStringLiteral("heapBytesBefore"), heapBefore },
        { QStringLiteral("heapBytesAfter"), heapAfter },
    };
    QTextStream(stdout) << QJsonDocument(figures).toJson(QJsonDocument::Compact) << Qt::endl;
    return 0;
}

QJsonObject runMemoryChild(const Options &options, const QString &worker)
{
    QProcess child;
    child.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    child.start(QCoreApplication::applicationFilePath(),
                { QStringLiteral("--memory-child"), worker, QStringLiteral("--objects"),
                  QString::number(options.objects) });
    if (!child.waitForFinished(kChildTimeoutMs) || child.exitCode() != 0)
        failRun(QStringLiteral("the %1 memory measurement failed").arg(worker));
    const QJsonObject figures = QJsonDocument::fromJson(child.readAllStandardOutput()).object();
    if (figures.isEmpty())
        failRun(QStringLiteral("the %1 memory measurement printed no figures").arg(worker));
    return figures;
}

double bytesPerObject(const QJsonObject &figures)
{
    const double addedKiB = figures.value(QStringLiteral("residentAfterKiB")).toDouble()
            - figures.value(QStringLiteral("residentBeforeKiB")).toDouble();
    return addedKiB * 1024 / figures.value(QStringLiteral("objects")).toDouble();
}

double heapBytesPerObject(const QJsonObject &figures)
{
    return (figures.value(QStringLiteral("heapBytesAfter")).toDouble()
            - figures.value(QStringLiteral("heapBytesBefore")).toDouble())
            / figures.value(QStringLiteral("objects")).toDouble();
}

// ---- Output ------------------------------------------------------------------------------

QString verdict(bool met)
{
    return met ? QStringLiteral("met") : QStringLiteral("missed");
}

void printRow(const QString &name, const QString &value, const QString &target)
{
    out() << "| " << name << " | " << value << " | " << target << " |\n";
}

Options parseOptions(const QCoreApplication &app)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
            "Measures user JavaScript in the simulation: KV awaits per second, requests per "
            "second through the bundled kv-room Worker module, and memory per idle object."));
    parser.addHelpOption();
    const QCommandLineOption awaits(QStringLiteral("awaits"),
            QStringLiteral("KV reads awaited in one request (default 200000)."), QStringLiteral("n"));
    const QCommandLineOption requests(QStringLiteral("requests"),
            QStringLiteral("Requests per route and run (default 20000)."), QStringLiteral("n"));
    const QCommandLineOption concurrency(QStringLiteral("concurrency"),
            QStringLiteral("Requests in flight at once (default 16)."), QStringLiteral("n"));
    const QCommandLineOption objects(QStringLiteral("objects"),
            QStringLiteral("Idle objects for the memory figure (default 2000)."), QStringLiteral("n"));
    const QCommandLineOption repeats(QStringLiteral("repeats"),
            QStringLiteral("Runs of each timed phase; the median counts (default 3)."),
            QStringLiteral("n"));
    const QCommandLineOption json(QStringLiteral("json"),
            QStringLiteral("Also print the figures as one JSON line."));
    const QCommandLineOption memoryChild(QStringLiteral("memory-child"),
            QStringLiteral("Internal: measure the memory of js or builtin objects only."),
            QStringLiteral("worker"));
    parser.addOptions({ awaits, requests, concurrency, objects, repeats, json, memoryChild });
    parser.process(app);

    Options options;
    const auto positive = [&](const QCommandLineOption &option, int fallback) {
        if (!parser.isSet(option))
            return fallback;
        bool ok = false;
        const int value = parser.value(option).toInt(&ok);
        if (!ok || value <= 0)
            failRun(QStringLiteral("invalid --%1 \"%2\": give a positive whole number")
                            .arg(option.names().constFirst(), parser.value(option)));
        return value;
    };
    options.awaits = positive(awaits, options.awaits);
    options.requests = positive(requests, options.requests);
    options.concurrency = positive(concurrency, options.concurrency);
    options.objects = positive(objects, options.objects);
    options.repeats = positive(repeats, options.repeats);
    options.json = parser.isSet(json);
    options.memoryChild = parser.value(memoryChild);
    if (!options.memoryChild.isEmpty() && options.memoryChild != QLatin1String("js")
        && options.memoryChild != QLatin1String("builtin"))
        failRun(QStringLiteral("invalid --memory-child \"%1\": give js or builtin").arg(options.memoryChild));
    return options;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const Options options = parseOptions(app);
    if (!options.memoryChild.isEmpty())
        return measureMemoryChild(options);

    const MachineInfo machine = MachineInfo::current();
    out() << "bench_js on " << machine.cpuModel << ", " << machine.cpus << " CPUs, "
          << machine.compiler << ", " << machine.buildType << " build, Qt " << machine.qtVersion
          << "\n\n";

    progress(QStringLiteral("awaiting %1 KV reads per run").arg(options.awaits));
    const AwaitFigures awaits = measureAwaits(options);
    progress(QStringLiteral("sending %1 requests per route through the kv-room Worker module")
                     .arg(options.requests));
    const RequestFigures js = measureRequests(options, false);
    progress(QStringLiteral("sending %1 requests per route through the built-in kv-room")
                     .arg(options.requests));
    const RequestFigures builtin = measureRequests(options, true);
    progress(QStringLiteral("constructing %1 idle objects in child processes").arg(options.objects));
    const QJsonObject jsMemory = runMemoryChild(options, QStringLiteral("js"));
    const QJsonObject builtinMemory = runMemoryChild(options, QStringLiteral("builtin"));

    const double workerAwaits = options.awaits / awaits.worker.median();
    const double objectAwaits = options.awaits / awaits.object.median();
    const double workerAwaitsCpu = options.awaits / awaits.workerCpu.median();
    const double objectAwaitsCpu = options.awaits / awaits.objectCpu.median();
    const double jsBytes = bytesPerObject(jsMemory);
    const double builtinBytes = bytesPerObject(builtinMemory);

    out() << "| measurement | median of " << options.repeats << " | target |\n|---|---|---|\n";
    const auto awaitRow = [&](const QString &name, double wallRate, double cpuRate) {
        printRow(name, QStringLiteral("%1 (%2 per CPU second)").arg(number(wallRate), number(cpuRate)),
                 QStringLiteral("≥ %1: %2").arg(number(kTargetAwaitsPerSecond),
                                                verdict(wallRate >= kTargetAwaitsPerSecond)));
    };
    awaitRow(QStringLiteral("KV awaits/s from a Worker's fetch"), workerAwaits, workerAwaitsCpu);
    awaitRow(QStringLiteral("KV awaits/s from a Durable Object"), objectAwaits, objectAwaitsCpu);
    const auto rate = [&](const Timing &timing) { return number(options.requests / timing.median()); };
    printRow(QStringLiteral("kv-room Worker module, /put req/s (%1 in flight, %2 rooms)")
                     .arg(options.concurrency).arg(options.rooms),
             rate(js.put), QStringLiteral("built-in class: %1").arg(rate(builtin.put)));
    printRow(QStringLiteral("kv-room Worker module, /get req/s"), rate(js.get),
             QStringLiteral("built-in class: %1").arg(rate(builtin.get)));
    printRow(QStringLiteral("resident memory per idle object (%1 objects)").arg(options.objects),
             QStringLiteral("%1 B (JS heap %2 B)").arg(number(jsBytes), number(heapBytesPerObject(jsMemory))),
             QStringLiteral("≤ %1 B: %2; built-in class: %3 B")
                     .arg(number(kTargetBytesPerObject), verdict(jsBytes <= kTargetBytesPerObject),
                          number(builtinBytes)));
    out().flush();

    if (options.json) {
        const QJsonObject figures {
            { QStringLiteral("machine"), machine.toJson() },
            { QStringLiteral("awaitsPerSecondWorker"), workerAwaits },
            { QStringLiteral("awaitsPerSecondObject"), objectAwaits },
            { QStringLiteral("awaitsPerCpuSecondWorker"), workerAwaitsCpu },
            { QStringLiteral("awaitsPerCpuSecondObject"), objectAwaitsCpu },
            { QStringLiteral("putPerSecondJs"), options.requests / js.put.median() },
            { QStringLiteral("getPerSecondJs"), options.requests / js.get.median() },
            { QStringLiteral("putPerSecondBuiltin"), options.requests / builtin.put.median() },
            { QStringLiteral("getPerSecondBuiltin"), options.requests / builtin.get.median() },
            { QStringLiteral("memoryJs"), jsMemory },
            { QStringLiteral("memoryBuiltin"), builtinMemory },
        };
        out() << QJsonDocument(figures).toJson(QJsonDocument::Compact) << "\n";
    }
    return 0;
}
