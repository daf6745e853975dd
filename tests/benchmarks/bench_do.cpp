// bench_do: the Durable Object runtime under the built-in kv-room class. It measures /put
// requests through one room, each of which writes KV, and the fan-out of /broadcast to 10,000 and
// 100,000 hibernatable sockets in one room, with the memory that each socket costs. It checks
// every response and delivery but asserts nothing about speed, because tests never assert speed.
// docs/benchmarks.md explains the method and records the figures.

#include "benchoutput.h"
#include "processinfo.h"

#include "durableobjectnamespace.h"
#include "kvnamespace.h"
#include "kvroom.h"
#include "location.h"
#include "simulation.h"
#include "task.h"
#include "websocket.h"
#include "world.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>
#include <QProcess>
#include <QTextStream>

#include <malloc.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <vector>

using namespace roomscope;
using namespace roomscope::bench;

namespace {

constexpr int kMaxRepeats = 10;
/// Host CPU time that one delivered broadcast message may cost, in nanoseconds.
constexpr double kTargetNsPerMessage = 1000;
/// Memory that one connected hibernatable socket may add, in bytes.
constexpr double kTargetBytesPerSocket = 2048;
/// A timed run of /put requests, or of broadcasts, starts no new request after this much wall
/// time, so that a slow build cannot run for many minutes.
constexpr double kRunBudgetSeconds = 60;
/// Connecting the sockets starts no new connection after this much wall time.
constexpr double kConnectBudgetSeconds = 900;
/// How long the parent waits for one fan-out measurement in a child process.
constexpr int kChildTimeoutMs = 30 * 60 * 1000;
/// Simulation events dispatched between two looks at the wall clock.
constexpr int kEventsPerClockCheck = 4096;
/// Upgrade requests in flight at once while the sockets connect. Each connector coroutine sends
/// its share one after another.
constexpr int kConnectConcurrency = 100;
constexpr qsizetype kValueBytes = 64;
/// 2026-01-01T00:00:00Z, the virtual start time, in microseconds since the epoch.
constexpr SimTime kStart = 1'767'225'600LL * kMicrosecondsPerSecond;

enum class Mode { All, Requests, Fanout };

struct Options
{
    qint64 requests = 100'000;
    int concurrency = 100;
    std::vector<int> socketCounts { 10'000, 100'000 };
    int broadcasts = 10;
    int repeats = 3;
    Mode mode = Mode::All;
    bool json = false;
};

void progress(const QString &message)
{
    QTextStream(stderr) << "bench_do: " << message << Qt::endl;
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

/// Wall and CPU time of this thread from one point on.
class Stopwatch
{
public:
    Stopwatch()
        : m_wallStart(std::chrono::steady_clock::now())
        , m_cpuStart(threadCpuSeconds())
    {
    }

    double wallSeconds() const
    {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - m_wallStart)
            .count();
    }
    double cpuSeconds() const { return threadCpuSeconds() - m_cpuStart; }

private:
    static double threadCpuSeconds()
    {
        timespec now {};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
        return double(now.tv_sec) + double(now.tv_nsec) / 1e9;
    }

    std::chrono::steady_clock::time_point m_wallStart;
    double m_cpuStart;
};

/// Bytes that malloc has allocated and not yet freed: mallinfo2()'s bytes in use in the arenas
/// plus the blocks that it served with mmap.
qint64 mallocInUseBytes()
{
    const struct mallinfo2 info = mallinfo2();
    return qint64(info.uordblks + info.hblkhd);
}

/// The one-minute load average from /proc/loadavg, or -1 when it cannot be read. The recorded
/// figures print it because other processes on the machine slow the wall-clock figures down.
double loadAverage()
{
    QFile file(QStringLiteral("/proc/loadavg"));
    if (!file.open(QIODevice::ReadOnly | QIODevice::Text))
        return -1;
    bool ok = false;
    const double load = file.readLine().split(' ').value(0).toDouble(&ok);
    return ok ? load : -1;
}

QJsonObject timingJson(const Timing &timing)
{
    QJsonArray runs;
    for (const double seconds : timing.seconds)
        runs.append(seconds);
    return QJsonObject {
        { QStringLiteral("median"), timing.median() },
        { QStringLiteral("best"), timing.best() },
        { QStringLiteral("runs"), runs },
    };
}

Timing timingFromJson(const QJsonValue &value)
{
    Timing timing;
    for (const QJsonValue &run : value.toObject().value(QStringLiteral("runs")).toArray())
        timing.seconds.push_back(run.toDouble());
    return timing;
}

// ---- The room ------------------------------------------------------------------------------

const QString kRoomName = QStringLiteral("bench-room");
const QString kBroadcastKey = QStringLiteral("state");

/// One kv-room Durable Object namespace and its Worker, built as the kv-room test suite builds
/// them: LHR and SJC 70 ms apart (2 ms inside a location), the KV central store in SJC and the
/// room placed in LHR. Latencies get the bundled scenario's jitter of 10 %.
struct RoomBench
{
    explicit RoomBench(int maxHibernatableSockets = DurableObjectSettings().maxHibernatableSockets)
    {
        locations.setLatency(lhr, lhr, milliseconds(2));
        locations.setLatency(sjc, sjc, milliseconds(2));
        locations.setLatency(lhr, sjc, milliseconds(70));
        locations.setJitterPercent(10);

        KvSettings kvSettings;
        kvSettings.centralLocation = sjc;
        Result<std::unique_ptr<KvNamespace>> created = KvNamespace::create(
            simulation, locations, QStringLiteral("KV"), kvSettings, QStringLiteral(":memory:"));
        if (!created)
            failRun(created.error().message);
        kv = std::move(created).value();

        DurableObjectClass roomClass;
        roomClass.name = QStringLiteral("RoomDO");
        roomClass.factory = [this](DurableObjectState &ctx) {
            return std::make_unique<KvRoom>(ctx, locations, *kv);
        };
        DurableObjectSettings settings;
        settings.maxHibernatableSockets = maxHibernatableSockets;
        rooms = std::make_unique<DurableObjectNamespace>(simulation, locations,
            QStringLiteral("ROOMS"), std::move(roomClass), QStringLiteral("worker-RoomDO"),
            settings);
        rooms->setLocationHint(rooms->idFromName(kRoomName), lhr);
        worker = std::make_unique<KvRoomWorker>(*rooms);
    }

    DurableObject *room() const { return rooms->find(rooms->idFromName(kRoomName)); }

    LocationMap locations;
    LocationId lhr = locations.add(QStringLiteral("LHR"));
    LocationId sjc = locations.add(QStringLiteral("SJC"));
    std::unique_ptr<KvNamespace> kv;
    std::unique_ptr<DurableObjectNamespace> rooms;
    std::unique_ptr<KvRoomWorker> worker;
    // Declared last so that it is destroyed first, with the coroutine frames that refer to the
    // members above.
    Simulation simulation { 1, kStart };
};

HttpRequest getRequest(QUrl url)
{
    HttpRequest request;
    request.url = std::move(url);
    return request;
}

/// Sends one request through the Worker in LHR and stores the response.
Task<void> sendRequest(RoomBench &bench, HttpRequest request, std::optional<HttpResponse> &response)
{
    response = co_await bench.worker->fetch(bench.lhr, std::move(request));
}

/// Sends one request and dispatches events until its response arrives.
HttpResponse runRequest(RoomBench &bench, HttpRequest request)
{
    std::optional<HttpResponse> response;
    bench.simulation.spawn(sendRequest(bench, std::move(request), response));
    while (!response && bench.simulation.step()) { }
    if (!response)
        failRun(QStringLiteral("a request to the room never got a response"));
    return *response;
}

// ---- /put requests --------------------------------------------------------------------------

struct PutCallers
{
    std::vector<QUrl> urls;
    qsizetype next = 0;
    bool stop = false;
    qint64 completed = 0;
    qint64 unexpected = 0; ///< responses other than 200 "ok\n"
};

Task<void> putCaller(RoomBench &bench, PutCallers &callers)
{
    while (!callers.stop && callers.next < qsizetype(callers.urls.size())) {
        const QUrl &url = callers.urls[size_t(callers.next++)];
        const HttpResponse response = co_await bench.worker->fetch(bench.lhr, getRequest(url));
        ++callers.completed;
        if (response.status != 200 || response.body != "ok\n")
            ++callers.unexpected;
    }
}

struct RequestFigures
{
    Timing wallPerRequest; ///< wall seconds per completed request, one entry per run
    Timing cpuPerRequest;
    std::vector<qint64> completed;
    double eventsPerRequest = 0; ///< simulation events dispatched per request, last run
    double virtualSecondsPerRun = 0; ///< virtual time from the first request to the last response
    bool stoppedByBudget = false;
};

/// Builds a fresh room for each run and sends `requests` /put requests of distinct keys, from
/// `concurrency` callers that each send one after another. The URLs are built before the clock
/// starts, and an untimed /id request constructs the room.
RequestFigures measureRequests(const Options &options)
{
    RequestFigures figures;
    const QString value(kValueBytes, QLatin1Char('v'));
    for (int repeat = 0; repeat < options.repeats; ++repeat) {
        progress(
            QStringLiteral("/put requests, run %1 of %2").arg(repeat + 1).arg(options.repeats));
        RoomBench bench;
        const HttpResponse id
            = runRequest(bench, getRequest(roomUrl(QStringLiteral("id"), kRoomName)));
        if (id.status != 200)
            failRun(
                QStringLiteral("the room's /id request returned %1; expected 200").arg(id.status));

        PutCallers callers;
        callers.urls.reserve(size_t(options.requests));
        for (qint64 i = 0; i < options.requests; ++i) {
            callers.urls.push_back(roomUrl(QStringLiteral("put"), kRoomName,
                { { QStringLiteral("key"), QStringLiteral("key-%1").arg(i) },
                    { QStringLiteral("value"), value } }));
        }

        Simulation &simulation = bench.simulation;
        const quint64 eventsBefore = simulation.dispatchedEventCount();
        const SimTime virtualStart = simulation.now();
        const Stopwatch stopwatch;
        for (int i = 0; i < options.concurrency; ++i)
            simulation.spawn(putCaller(bench, callers));
        while (callers.completed < qint64(callers.next)
            || (!callers.stop && callers.next < qsizetype(callers.urls.size()))) {
            for (int i = 0; i < kEventsPerClockCheck && simulation.step(); ++i) { }
            if (!simulation.hasPendingEvents())
                break;
            if (!callers.stop && stopwatch.wallSeconds() > kRunBudgetSeconds)
                callers.stop = true;
        }
        const double wall = stopwatch.wallSeconds();
        const double cpu = stopwatch.cpuSeconds();

        if (callers.completed != qint64(callers.next))
            failRun(QStringLiteral("%1 of %2 /put requests never got a response")
                        .arg(qint64(callers.next) - callers.completed)
                        .arg(callers.next));
        if (callers.unexpected)
            failRun(QStringLiteral("%1 of %2 /put requests did not return 200 \"ok\"")
                        .arg(callers.unexpected)
                        .arg(callers.completed));
        const auto *room = static_cast<KvRoom *>(bench.room()->behaviour());
        if (room && !room->pendingWrites().empty())
            failRun(QStringLiteral("the room still has %1 queued KV writes after the run")
                        .arg(room->pendingWrites().size()));

        const double completed = double(std::max<qint64>(callers.completed, 1));
        figures.wallPerRequest.seconds.push_back(wall / completed);
        figures.cpuPerRequest.seconds.push_back(cpu / completed);
        figures.completed.push_back(callers.completed);
        figures.stoppedByBudget = figures.stoppedByBudget || callers.stop;
        figures.eventsPerRequest
            = double(simulation.dispatchedEventCount() - eventsBefore) / completed;
        figures.virtualSecondsPerRun = double(simulation.now() - virtualStart) / 1e6;
    }
    return figures;
}

QJsonObject requestsJson(const RequestFigures &figures, const Options &options)
{
    QJsonArray completed;
    for (const qint64 count : figures.completed)
        completed.append(double(count));
    return QJsonObject {
        { QStringLiteral("requests"), double(options.requests) },
        { QStringLiteral("concurrency"), options.concurrency },
        { QStringLiteral("completed"), completed },
        { QStringLiteral("wallSecondsPerRequest"), timingJson(figures.wallPerRequest) },
        { QStringLiteral("cpuSecondsPerRequest"), timingJson(figures.cpuPerRequest) },
        { QStringLiteral("requestsPerHostSecond"), 1 / figures.wallPerRequest.median() },
        { QStringLiteral("eventsPerRequest"), figures.eventsPerRequest },
        { QStringLiteral("virtualSecondsPerRun"), figures.virtualSecondsPerRun },
        { QStringLiteral("stoppedByBudget"), figures.stoppedByBudget },
    };
}

// ---- Broadcast fan-out ----------------------------------------------------------------------

/// What the counting clients of one room have seen, summed over all of them.
struct Deliveries
{
    qint64 opened = 0;
    qint64 messages = 0;
    qint64 bytes = 0;
    qint64 closed = 0;
};

/// A minimal WebSocket client that counts what it receives.
class CountingClient final : public WebSocketClient
{
public:
    CountingClient(Deliveries &deliveries, LocationId location, quint32 index)
        : m_deliveries(&deliveries)
        , m_location(location)
        , m_index(index)
    {
    }

    QString name() const override { return QStringLiteral("client-") + QString::number(m_index); }
    LocationId location() const override { return m_location; }
    void opened(quint64) override { ++m_deliveries->opened; }
    void messageReceived(const QByteArray &message, SimTime) override
    {
        ++m_received;
        ++m_deliveries->messages;
        m_deliveries->bytes += message.size();
    }
    void closed(int, const QString &) override { ++m_deliveries->closed; }

    quint32 received() const { return m_received; }

private:
    Deliveries *m_deliveries;
    LocationId m_location;
    quint32 m_index;
    quint32 m_received = 0;
};

struct Connectors
{
    std::vector<CountingClient> *clients = nullptr;
    qsizetype next = 0;
    bool stop = false;
    qint64 rejected = 0; ///< upgrade requests answered with a status other than 101
};

Task<void> connector(RoomBench &bench, Connectors &connectors)
{
    const QUrl url = roomUrl(QStringLiteral("ws"), kRoomName);
    while (!connectors.stop && connectors.next < qsizetype(connectors.clients->size())) {
        CountingClient &client = (*connectors.clients)[size_t(connectors.next++)];
        HttpRequest request = getRequest(url);
        request.headers.append(qMakePair(QByteArray("Upgrade"), QByteArray("websocket")));
        request.upgradeClient = &client;
        const HttpResponse response
            = co_await bench.worker->fetch(client.location(), std::move(request));
        if (response.status == 101 && response.webSocket)
            client.opened(response.webSocket->connection);
        else
            ++connectors.rejected;
    }
}

struct FanoutFigures
{
    int sockets = 0;
    double connectWallSeconds = 0;
    double connectCpuSeconds = 0;
    int broadcastsPerRun = 0;
    std::vector<qint64> messagesPerRun;
    Timing cpuPerMessage; ///< CPU seconds per delivered message, one entry per run
    Timing wallPerMessage;
    Timing wallPerBroadcast;
    double eventsPerMessage = 0; ///< simulation events dispatched per delivered message, last run
    bool stoppedByBudget = false;
    // Memory, in bytes, read before connecting, after connecting and after the broadcasts.
    qint64 mallocBefore = 0;
    qint64 mallocConnected = 0;
    qint64 mallocAfterBroadcasts = 0;
    qint64 hwmBeforeKiB = 0;
    qint64 hwmConnectedKiB = 0;
    qint64 hwmAfterBroadcastsKiB = 0;

    double mallocPerSocket() const { return double(mallocConnected - mallocBefore) / sockets; }
    double hwmPerSocket() const { return double(hwmConnectedKiB - hwmBeforeKiB) * 1024 / sockets; }
    double peakHwmPerSocket() const
    {
        return double(hwmAfterBroadcastsKiB - hwmBeforeKiB) * 1024 / sockets;
    }

    QJsonObject toJson() const;
    static FanoutFigures fromJson(const QJsonObject &object);
};

QJsonObject FanoutFigures::toJson() const
{
    QJsonArray messages;
    for (const qint64 count : messagesPerRun)
        messages.append(double(count));
    return QJsonObject {
        { QStringLiteral("sockets"), sockets },
        { QStringLiteral("connectWallSeconds"), connectWallSeconds },
        { QStringLiteral("connectCpuSeconds"), connectCpuSeconds },
        { QStringLiteral("broadcastsPerRun"), broadcastsPerRun },
        { QStringLiteral("messagesPerRun"), messages },
        { QStringLiteral("cpuSecondsPerMessage"), timingJson(cpuPerMessage) },
        { QStringLiteral("wallSecondsPerMessage"), timingJson(wallPerMessage) },
        { QStringLiteral("wallSecondsPerBroadcast"), timingJson(wallPerBroadcast) },
        { QStringLiteral("eventsPerMessage"), eventsPerMessage },
        { QStringLiteral("stoppedByBudget"), stoppedByBudget },
        { QStringLiteral("cpuTargetMet"), cpuPerMessage.median() * 1e9 <= kTargetNsPerMessage },
        { QStringLiteral("mallocBytesBefore"), double(mallocBefore) },
        { QStringLiteral("mallocBytesConnected"), double(mallocConnected) },
        { QStringLiteral("mallocBytesAfterBroadcasts"), double(mallocAfterBroadcasts) },
        { QStringLiteral("vmHwmBeforeKiB"), double(hwmBeforeKiB) },
        { QStringLiteral("vmHwmConnectedKiB"), double(hwmConnectedKiB) },
        { QStringLiteral("vmHwmAfterBroadcastsKiB"), double(hwmAfterBroadcastsKiB) },
        { QStringLiteral("mallocBytesPerSocket"), mallocPerSocket() },
        { QStringLiteral("vmHwmBytesPerSocket"), hwmPerSocket() },
        { QStringLiteral("memoryTargetMet"),
            std::max(mallocPerSocket(), hwmPerSocket()) <= kTargetBytesPerSocket },
    };
}

FanoutFigures FanoutFigures::fromJson(const QJsonObject &object)
{
    const auto integer
        = [&](const char *field) { return qint64(object.value(QLatin1String(field)).toDouble()); };
    FanoutFigures figures;
    figures.sockets = object.value(QStringLiteral("sockets")).toInt();
    figures.connectWallSeconds = object.value(QStringLiteral("connectWallSeconds")).toDouble();
    figures.connectCpuSeconds = object.value(QStringLiteral("connectCpuSeconds")).toDouble();
    figures.broadcastsPerRun = object.value(QStringLiteral("broadcastsPerRun")).toInt();
    for (const QJsonValue &count : object.value(QStringLiteral("messagesPerRun")).toArray())
        figures.messagesPerRun.push_back(qint64(count.toDouble()));
    figures.cpuPerMessage = timingFromJson(object.value(QStringLiteral("cpuSecondsPerMessage")));
    figures.wallPerMessage = timingFromJson(object.value(QStringLiteral("wallSecondsPerMessage")));
    figures.wallPerBroadcast
        = timingFromJson(object.value(QStringLiteral("wallSecondsPerBroadcast")));
    figures.eventsPerMessage = object.value(QStringLiteral("eventsPerMessage")).toDouble();
    figures.stoppedByBudget = object.value(QStringLiteral("stoppedByBudget")).toBool();
    figures.mallocBefore = integer("mallocBytesBefore");
    figures.mallocConnected = integer("mallocBytesConnected");
    figures.mallocAfterBroadcasts = integer("mallocBytesAfterBroadcasts");
    figures.hwmBeforeKiB = integer("vmHwmBeforeKiB");
    figures.hwmConnectedKiB = integer("vmHwmConnectedKiB");
    figures.hwmAfterBroadcastsKiB = integer("vmHwmAfterBroadcastsKiB");
    return figures;
}

/// Connects `clients` to the room, 100 upgrade requests at a time, and checks that each socket
/// was accepted.
void connectClients(RoomBench &bench, std::vector<CountingClient> &clients,
    const Deliveries &deliveries, FanoutFigures &figures)
{
    Connectors connectors;
    connectors.clients = &clients;
    Simulation &simulation = bench.simulation;
    const Stopwatch stopwatch;
    for (int i = 0; i < kConnectConcurrency; ++i)
        simulation.spawn(connector(bench, connectors));
    while (deliveries.opened + connectors.rejected < qint64(connectors.next)) {
        for (int i = 0; i < kEventsPerClockCheck && simulation.step(); ++i) { }
        if (!simulation.hasPendingEvents())
            break;
        if (!connectors.stop && stopwatch.wallSeconds() > kConnectBudgetSeconds)
            connectors.stop = true;
    }
    figures.connectWallSeconds = stopwatch.wallSeconds();
    figures.connectCpuSeconds = stopwatch.cpuSeconds();

    if (connectors.stop)
        failRun(QStringLiteral("connected %1 of %2 sockets in the %3 s limit")
                    .arg(deliveries.opened)
                    .arg(clients.size())
                    .arg(kConnectBudgetSeconds));
    if (connectors.rejected)
        failRun(QStringLiteral("the room rejected %1 of %2 WebSocket upgrades")
                    .arg(connectors.rejected)
                    .arg(clients.size()));
    const qsizetype open = bench.room()->openSocketCount();
    if (deliveries.opened != qint64(clients.size()) || open != qsizetype(clients.size()))
        failRun(QStringLiteral("%1 clients saw their socket open and the room has %2 open "
                               "sockets; expected %3")
                    .arg(deliveries.opened)
                    .arg(open)
                    .arg(clients.size()));
}

/// Sends `count` broadcasts one after another, each once the one before has reached every
/// socket, until the wall-time limit. Returns the broadcasts sent.
int runBroadcasts(RoomBench &bench, int count, const Deliveries &deliveries, int sockets,
    const Stopwatch &stopwatch)
{
    const QUrl url = roomUrl(
        QStringLiteral("broadcast"), kRoomName, { { QStringLiteral("key"), kBroadcastKey } });
    const QByteArray expectedBody = "{\"failed\":0,\"sent\":" + QByteArray::number(sockets) + '}';
    int sent = 0;
    for (; sent < count; ++sent) {
        if (stopwatch.wallSeconds() > kRunBudgetSeconds)
            break;
        const qint64 target = deliveries.messages + sockets;
        std::optional<HttpResponse> response;
        bench.simulation.spawn(sendRequest(bench, getRequest(url), response));
        while ((!response || deliveries.messages < target) && bench.simulation.step()) { }
        if (!response || response->status != 200 || response->body != expectedBody)
            failRun(QStringLiteral("a broadcast returned %1 \"%2\"; expected 200 \"%3\"")
                        .arg(response ? response->status : 0)
                        .arg(QString::fromUtf8(response ? response->body : QByteArray()).trimmed(),
                            QString::fromLatin1(expectedBody)));
        if (deliveries.messages != target)
            failRun(QStringLiteral("a broadcast reached %1 of %2 sockets")
                        .arg(deliveries.messages - (target - sockets))
                        .arg(sockets));
    }
    return sent;
}

/// Builds one room, connects `sockets` counting clients (half in LHR, half in SJC) and times
/// `--repeats` runs of `--broadcasts` broadcasts. It reads malloc's bytes in use and VmHWM before
/// connecting, after connecting and after the broadcasts. The clients are allocated before the
/// first reading, so the memory figures are the runtime's cost of a socket.
FanoutFigures measureFanout(const Options &options, int sockets)
{
    FanoutFigures figures;
    figures.sockets = sockets;
    figures.broadcastsPerRun = options.broadcasts;

    // DurableObjectSettings limits an object to 32,768 hibernatable sockets by default, as the
    // platform does, so the benchmark raises the limit to fit 100,000 into one room.
    RoomBench bench(std::max(sockets, DurableObjectSettings().maxHibernatableSockets));
    Deliveries deliveries;
    std::vector<CountingClient> clients;
    clients.reserve(size_t(sockets));
    for (int i = 0; i < sockets; ++i)
        clients.emplace_back(deliveries, i % 2 ? bench.sjc : bench.lhr, quint32(i));
    const HttpResponse put = runRequest(bench,
        getRequest(roomUrl(QStringLiteral("put"), kRoomName,
            { { QStringLiteral("key"), kBroadcastKey },
                { QStringLiteral("value"), QString(kValueBytes, QLatin1Char('b')) } })));
    if (put.status != 200)
        failRun(QStringLiteral("the /put of the broadcast key returned %1").arg(put.status));

    figures.mallocBefore = mallocInUseBytes();
    figures.hwmBeforeKiB = procStatusKiB("VmHWM");
    progress(QStringLiteral("connecting %1 sockets").arg(number(sockets)));
    connectClients(bench, clients, deliveries, figures);
    figures.mallocConnected = mallocInUseBytes();
    figures.hwmConnectedKiB = procStatusKiB("VmHWM");

    int totalBroadcasts = 0;
    for (int repeat = 0; repeat < options.repeats; ++repeat) {
        progress(QStringLiteral("%1 broadcasts to %2 sockets, run %3 of %4")
                     .arg(options.broadcasts)
                     .arg(number(sockets))
                     .arg(repeat + 1)
                     .arg(options.repeats));
        const qint64 messagesBefore = deliveries.messages;
        const quint64 eventsBefore = bench.simulation.dispatchedEventCount();
        const Stopwatch stopwatch;
        const int sent = runBroadcasts(bench, options.broadcasts, deliveries, sockets, stopwatch);
        const double wall = stopwatch.wallSeconds();
        const double cpu = stopwatch.cpuSeconds();
        const qint64 messages = deliveries.messages - messagesBefore;

        totalBroadcasts += sent;
        figures.stoppedByBudget = figures.stoppedByBudget || sent < options.broadcasts;
        figures.messagesPerRun.push_back(messages);
        figures.cpuPerMessage.seconds.push_back(cpu / double(std::max<qint64>(messages, 1)));
        figures.wallPerMessage.seconds.push_back(wall / double(std::max<qint64>(messages, 1)));
        figures.wallPerBroadcast.seconds.push_back(wall / std::max(sent, 1));
        figures.eventsPerMessage = double(bench.simulation.dispatchedEventCount() - eventsBefore)
            / double(std::max<qint64>(messages, 1));
    }
    figures.mallocAfterBroadcasts = mallocInUseBytes();
    figures.hwmAfterBroadcastsKiB = procStatusKiB("VmHWM");

    const auto [fewest, most] = std::minmax_element(
        clients.begin(), clients.end(), [](const CountingClient &a, const CountingClient &b) {
            return a.received() < b.received();
        });
    if (fewest->received() != quint32(totalBroadcasts)
        || most->received() != quint32(totalBroadcasts))
        failRun(QStringLiteral("clients received %1 to %2 messages; expected %3 each")
                    .arg(fewest->received())
                    .arg(most->received())
                    .arg(totalBroadcasts));
    if (deliveries.bytes != deliveries.messages * kValueBytes)
        failRun(QStringLiteral("the clients received %1 bytes in %2 messages; expected %3 each")
                    .arg(deliveries.bytes)
                    .arg(deliveries.messages)
                    .arg(kValueBytes));
    if (deliveries.closed)
        failRun(QStringLiteral("%1 sockets closed during the run").arg(deliveries.closed));
    return figures;
}

/// Runs this program again with --mode fanout, so that each fan-out's memory figures come from a
/// process that no earlier phase has grown.
Result<FanoutFigures> measureFanoutInChild(const Options &options, int sockets)
{
    progress(QStringLiteral("measuring the fan-out to %1 sockets in a child process")
                 .arg(number(sockets)));
    QProcess child;
    child.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    child.start(QCoreApplication::applicationFilePath(),
        { QStringLiteral("--mode"), QStringLiteral("fanout"), QStringLiteral("--json"),
            QStringLiteral("--sockets"), QString::number(sockets), QStringLiteral("--broadcasts"),
            QString::number(options.broadcasts), QStringLiteral("--repeats"),
            QString::number(options.repeats) });
    if (!child.waitForFinished(kChildTimeoutMs)) {
        child.kill();
        child.waitForFinished();
        return Error::error(
            QStringLiteral("the fan-out measurement to %1 sockets did not finish: %2")
                .arg(sockets)
                .arg(child.errorString()));
    }
    if (child.exitStatus() != QProcess::NormalExit || child.exitCode() != 0) {
        return Error::error(
            QStringLiteral("the fan-out measurement to %1 sockets failed with exit code %2")
                .arg(sockets)
                .arg(child.exitCode()));
    }
    const QJsonDocument document = QJsonDocument::fromJson(child.readAllStandardOutput().trimmed());
    const QJsonArray fanout = document.object().value(QStringLiteral("fanout")).toArray();
    if (fanout.size() != 1)
        return Error::error(
            QStringLiteral("the fan-out measurement to %1 sockets printed no fan-out figures")
                .arg(sockets));
    return FanoutFigures::fromJson(fanout.first().toObject());
}

// ---- Output ---------------------------------------------------------------------------------

QString microseconds(const Timing &timing)
{
    return QStringLiteral("%1 µs (%2)")
        .arg(timing.median() * 1e6, 0, 'f', 2)
        .arg(timing.best() * 1e6, 0, 'f', 2);
}

QString nanoseconds(const Timing &timing)
{
    return QStringLiteral("%1 ns (%2)")
        .arg(number(timing.median() * 1e9), number(timing.best() * 1e9));
}

void printHeader(
    const MachineInfo &machine, const Options &options, double loadAtStart, double loadAtEnd)
{
    out() << "Roomscope Durable Object benchmark\n";
    out() << "  machine   " << machine.cpuModel << ", " << machine.cpus << " CPUs, "
          << machine.kernel << '\n';
    out() << "  build     " << machine.buildType << ", " << machine.compiler << ", Qt "
          << machine.qtVersion << '\n';
    out() << "  room      one kv-room object in LHR, the KV central store in SJC, 70 ms one way "
             "with 10% jitter\n";
    out() << "  repeats   median of " << options.repeats << ", best in brackets\n";
    out() << "  load      " << loadAtStart << " (one-minute average) at the start, " << loadAtEnd
          << " at the end\n\n";
}

void printRequests(const RequestFigures &figures, const Options &options)
{
    const qint64 fewest = *std::min_element(figures.completed.begin(), figures.completed.end());
    out() << "/put requests through one room, each a KV write of a new key\n";
    out() << QStringLiteral("  %1 requests per run%2 from %3 callers at once\n")
                 .arg(number(double(fewest)),
                     figures.stoppedByBudget ? QStringLiteral("*") : QString())
                 .arg(options.concurrency);
    const auto row = [](const QString &name, const QString &value) {
        out() << QStringLiteral("  %1 %2\n").arg(name, -34).arg(value, 24);
    };
    row(QStringLiteral("wall time per request"), microseconds(figures.wallPerRequest));
    row(QStringLiteral("CPU time per request"), microseconds(figures.cpuPerRequest));
    row(QStringLiteral("requests per host second"),
        QStringLiteral("%1 (%2)").arg(number(1 / figures.wallPerRequest.median()),
            number(1 / figures.wallPerRequest.best())));
    row(QStringLiteral("simulation events per request"), number(figures.eventsPerRequest, 1));
    row(QStringLiteral("virtual time of one run"),
        formatDuration(SimDuration(figures.virtualSecondsPerRun * 1e6)));
    if (figures.stoppedByBudget)
        out() << "  * a run stopped at the time limit; the figures cover the requests it made.\n";
    out() << '\n';
}

void printFanout(const std::vector<FanoutFigures> &fanouts)
{
    out() << "Broadcast fan-out to hibernatable sockets in one room (each figure from its own "
             "process)\n";
    QString header = QStringLiteral("  %1").arg(QStringLiteral("sockets"), -36);
    for (const FanoutFigures &figures : fanouts)
        header += QStringLiteral(" %1").arg(number(figures.sockets), 22);
    out() << header << '\n';
    const auto row = [&](const QString &name, const auto &cell) {
        QString line = QStringLiteral("  %1").arg(name, -36);
        for (const FanoutFigures &figures : fanouts)
            line += QStringLiteral(" %1").arg(cell(figures), 22);
        out() << line << '\n';
    };
    row(QStringLiteral("connect all sockets (wall, CPU)"), [](const FanoutFigures &f) {
        return QStringLiteral("%1 s, %2 s")
            .arg(f.connectWallSeconds, 0, 'f', 2)
            .arg(f.connectCpuSeconds, 0, 'f', 2);
    });
    row(QStringLiteral("broadcasts per run"), [](const FanoutFigures &f) {
        return number(f.broadcastsPerRun) + (f.stoppedByBudget ? QStringLiteral("*") : QString());
    });
    row(QStringLiteral("wall time per broadcast"), [](const FanoutFigures &f) {
        return QStringLiteral("%1 ms (%2)")
            .arg(f.wallPerBroadcast.median() * 1e3, 0, 'f', 2)
            .arg(f.wallPerBroadcast.best() * 1e3, 0, 'f', 2);
    });
    row(QStringLiteral("CPU time per delivered message"),
        [](const FanoutFigures &f) { return nanoseconds(f.cpuPerMessage); });
    row(QStringLiteral("wall time per delivered message"),
        [](const FanoutFigures &f) { return nanoseconds(f.wallPerMessage); });
    row(QStringLiteral("simulation events per message"),
        [](const FanoutFigures &f) { return number(f.eventsPerMessage, 3); });
    row(QStringLiteral("malloc in use per socket"),
        [](const FanoutFigures &f) { return number(f.mallocPerSocket()) + QStringLiteral(" B"); });
    row(QStringLiteral("VmHWM growth per socket"),
        [](const FanoutFigures &f) { return number(f.hwmPerSocket()) + QStringLiteral(" B"); });
    row(QStringLiteral("VmHWM growth incl. broadcasts"),
        [](const FanoutFigures &f) { return number(f.peakHwmPerSocket()) + QStringLiteral(" B"); });

    bool cpuMet = true;
    bool memoryMet = true;
    for (const FanoutFigures &figures : fanouts) {
        cpuMet = cpuMet && figures.cpuPerMessage.median() * 1e9 <= kTargetNsPerMessage;
        memoryMet = memoryMet
            && std::max(figures.mallocPerSocket(), figures.hwmPerSocket()) <= kTargetBytesPerSocket;
    }
    const auto verdict
        = [](bool met) { return met ? QStringLiteral("met") : QStringLiteral("NOT met"); };
    out() << QStringLiteral("  target at most %1 ns of CPU per delivered message (median): %2\n")
                 .arg(number(kTargetNsPerMessage), verdict(cpuMet));
    out() << QStringLiteral("  target at most %1 B per socket (malloc and VmHWM): %2\n")
                 .arg(number(kTargetBytesPerSocket), verdict(memoryMet));
    out() << "  CPU time is this thread's (CLOCK_THREAD_CPUTIME_ID) from sending the first\n"
             "  broadcast of a run to the last delivery, requests and KV reads included.\n"
             "  Memory is read just before the first socket connects and just after the last:\n"
             "  malloc's bytes in use (mallinfo2) and the peak resident set (VmHWM), divided by\n"
             "  the sockets. The clients are allocated before the first reading. The last row\n"
             "  reads VmHWM after the broadcasts, which adds one broadcast's pending deliveries.\n";
    bool anyStopped = false;
    for (const FanoutFigures &figures : fanouts)
        anyStopped = anyStopped || figures.stoppedByBudget;
    if (anyStopped)
        out() << "  * a run stopped at the time limit; the figures cover the broadcasts it sent.\n";
    out() << '\n';
}

// ---- Command line ---------------------------------------------------------------------------

Options parseOptions(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Measures /put requests through one kv-room Durable Object, and the fan-out of\n"
        "/broadcast to many hibernatable sockets in one room with the memory per socket."));
    parser.addHelpOption();
    const QCommandLineOption requests(QStringLiteral("requests"),
        QStringLiteral("/put requests per run, 1 to 10000000 (default 100000)."),
        QStringLiteral("N"), QStringLiteral("100000"));
    const QCommandLineOption concurrency(QStringLiteral("concurrency"),
        QStringLiteral("Callers sending /put requests at once, 1 to 1000 (default 100)."),
        QStringLiteral("N"), QStringLiteral("100"));
    const QCommandLineOption sockets(QStringLiteral("sockets"),
        QStringLiteral("Comma-separated socket counts for the fan-out, each 1 to 1000000 "
                       "(default 10000,100000)."),
        QStringLiteral("LIST"), QStringLiteral("10000,100000"));
    const QCommandLineOption broadcasts(QStringLiteral("broadcasts"),
        QStringLiteral("Broadcasts per timed run, 1 to 1000 (default 10)."), QStringLiteral("N"),
        QStringLiteral("10"));
    const QCommandLineOption repeats(QStringLiteral("repeats"),
        QStringLiteral("Timed runs of each measurement, 1 to 10 (default 3)."), QStringLiteral("N"),
        QStringLiteral("3"));
    const QCommandLineOption mode(QStringLiteral("mode"),
        QStringLiteral("all (default), requests (the /put phase only) or fanout (one socket "
                       "count, measured in this process)."),
        QStringLiteral("mode"), QStringLiteral("all"));
    const QCommandLineOption json(
        QStringLiteral("json"), QStringLiteral("Print one JSON line instead of the tables."));
    parser.addOptions({ requests, concurrency, sockets, broadcasts, repeats, mode, json });
    parser.process(arguments);

    const auto fail = [](const QString &message) {
        QTextStream(stderr) << "bench_do: " << message << '\n';
        std::exit(2);
    };
    const auto integer = [&](const QString &name, const QString &text, qint64 low, qint64 high) {
        bool ok = false;
        const qint64 value = text.toLongLong(&ok);
        if (!ok || value < low || value > high)
            fail(QStringLiteral("invalid --%1 \"%2\"; give a whole number from %3 to %4")
                     .arg(name, text)
                     .arg(low)
                     .arg(high));
        return value;
    };
    const auto option = [&](const QCommandLineOption &option, qint64 low, qint64 high) {
        return integer(option.names().first(), parser.value(option), low, high);
    };

    Options options;
    options.requests = option(requests, 1, 10'000'000);
    options.concurrency = int(option(concurrency, 1, 1000));
    options.broadcasts = int(option(broadcasts, 1, 1000));
    options.repeats = int(option(repeats, 1, kMaxRepeats));
    options.json = parser.isSet(json);
    options.socketCounts.clear();
    for (const QString &count : parser.value(sockets).split(QLatin1Char(',')))
        options.socketCounts.push_back(
            int(integer(QStringLiteral("sockets"), count, 1, 1'000'000)));

    const QString modeName = parser.value(mode);
    if (modeName == QLatin1String("all"))
        options.mode = Mode::All;
    else if (modeName == QLatin1String("requests"))
        options.mode = Mode::Requests;
    else if (modeName == QLatin1String("fanout"))
        options.mode = Mode::Fanout;
    else
        fail(QStringLiteral("invalid --mode \"%1\"; give all, requests or fanout").arg(modeName));
    if (options.mode == Mode::Fanout && options.socketCounts.size() != 1)
        fail(QStringLiteral("--mode fanout measures one socket count; give one with --sockets"));
    return options;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication application(argc, argv);
    const Options options = parseOptions(application.arguments());
    const MachineInfo machine = MachineInfo::current();
    const double loadAtStart = loadAverage();

    std::vector<FanoutFigures> fanouts;
    if (options.mode == Mode::Fanout) {
        fanouts.push_back(measureFanout(options, options.socketCounts.front()));
    } else if (options.mode == Mode::All) {
        for (const int sockets : options.socketCounts) {
            Result<FanoutFigures> figures = measureFanoutInChild(options, sockets);
            if (!figures) {
                progress(figures.error().message);
                return 1;
            }
            fanouts.push_back(std::move(figures).value());
        }
    }
    std::optional<RequestFigures> requests;
    if (options.mode != Mode::Fanout)
        requests = measureRequests(options);
    const double loadAtEnd = loadAverage();

    if (options.json) {
        QJsonObject record {
            { QStringLiteral("benchmark"), QStringLiteral("bench_do") },
            { QStringLiteral("machine"), machine.toJson() },
            { QStringLiteral("repeats"), options.repeats },
            { QStringLiteral("loadAverageAtStart"), loadAtStart },
            { QStringLiteral("loadAverageAtEnd"), loadAtEnd },
        };
        if (requests)
            record.insert(QStringLiteral("requests"), requestsJson(*requests, options));
        if (!fanouts.empty()) {
            QJsonArray fanoutRecords;
            for (const FanoutFigures &figures : fanouts)
                fanoutRecords.append(figures.toJson());
            record.insert(QStringLiteral("fanout"), fanoutRecords);
        }
        out() << QJsonDocument(record).toJson(QJsonDocument::Compact) << '\n';
        return 0;
    }
    printHeader(machine, options, loadAtStart, loadAtEnd);
    if (requests)
        printRequests(*requests, options);
    if (!fanouts.empty())
        printFanout(fanouts);
    return 0;
}
