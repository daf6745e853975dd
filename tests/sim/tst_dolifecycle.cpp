// Lifecycle of a Durable Object: construction on the first request or alarm, hibernation,
// eviction, the timers behind them, resets, shutdowns, blockConcurrencyWhile failures and
// timeouts, ctx.abort(), and the overload errors of a hot object.
//
// The fixture's callers are in LHR with the object, 2 ms each way, so a request sent at t
// arrives at t + 2 ms and its response at t + 4 ms plus the handler's own time.

#include "dofixture.h"

#include <QMap>
#include <QTest>

using namespace roomscope;
using namespace roomscope::testing;

namespace {

const QString kRoom = QStringLiteral("room-1");
constexpr SimDuration kOneWay = DurableObjectFixture::kLocalLatency;

/// What the instances of one object did, shared by every instance of it.
struct Journal
{
    QStringList lines;
    /// Called by `/put-then-fault` right after its write, in the same turn.
    std::function<void()> afterWrite;
};

/// Runs `ctx.sleep(period)` in a loop, as setInterval() would, until the instance is gone.
Task<void> runInterval(
    DurableObjectState &ctx, SimDuration period, std::shared_ptr<Journal> journal)
{
    // ctx is not touched once sleep() returns false, because its instance may be freed by then.
    // NOTE: GCC 12.2 miscompiles `while (co_await ...)`, so the await is a statement of its own.
    for (;;) {
        const bool awake = co_await ctx.sleep(period);
        if (!awake)
            break;
        journal->lines << QStringLiteral("tick");
    }
}

/// A room with one in-memory counter (`hits`) and routes for each lifecycle case. The journal
/// records constructors, alarms and interval ticks.
class LifecycleObject : public DurableObjectBehaviour
{
public:
    LifecycleObject(DurableObjectState &ctx, std::shared_ptr<Journal> journal)
        : m_ctx(ctx)
        , m_journal(std::move(journal))
    {
        m_journal->lines << QStringLiteral("constructor %1").arg(ctx.instance());
    }

    Task<Result<HttpResponse>> fetch(HttpRequest request) override
    {
        const QString path = request.url.path();
        if (path == QLatin1String("/hit")) {
            ++m_hits;
            co_return text(QStringLiteral("hits=%1 instance=%2").arg(m_hits).arg(m_ctx.instance()));
        }
        if (path == QLatin1String("/put")) {
            const Status stored = co_await m_ctx.storage().put(
                request.queryItem(u"key"), request.queryItem(u"value").toUtf8());
            if (!stored)
                co_return stored.error();
            co_return text(QStringLiteral("stored"));
        }
        if (path == QLatin1String("/ws") || path == QLatin1String("/ws-standard"))
            co_return co_await acceptSocket(request, path == QLatin1String("/ws"));
        if (path == QLatin1String("/interval")) {
            const SimDuration period = seconds(request.queryItem(u"every").toLongLong());
            m_ctx.simulation().spawn(runInterval(m_ctx, period, m_journal));
            co_return text(QStringLiteral("started"));
        }
        if (path == QLatin1String("/compute")) {
            co_await m_ctx.compute(milliseconds(request.queryItem(u"ms").toLongLong()));
            co_return text(QStringLiteral("computed"));
        }
        if (path == QLatin1String("/sleep")) {
            const bool awake
                = co_await m_ctx.sleep(milliseconds(request.queryItem(u"ms").toLongLong()));
            co_return text(awake ? QStringLiteral("slept") : QStringLiteral("instance gone"));
        }
        if (path == QLatin1String("/sleep-then-get")) {
            co_await m_ctx.sleep(milliseconds(request.queryItem(u"ms").toLongLong()));
            const Result<std::optional<QByteArray>> value
                = co_await m_ctx.storage().get(QStringLiteral("k"));
            if (!value)
                co_return value.error();
            co_return text(QStringLiteral("read"));
        }
        if (path == QLatin1String("/bcw-fail")) {
            const Status blocked = co_await m_ctx.blockConcurrencyWhile(
                []() -> Task<Status> { co_return Error::error(QStringLiteral("bcw failure")); });
            if (!blocked)
                co_return blocked.error();
            co_return text(QStringLiteral("unblocked"));
        }
        if (path == QLatin1String("/bcw-hang")) {
            const SimDuration hang = seconds(request.queryItem(u"s").toLongLong());
            Simulation &simulation = m_ctx.simulation();
            const Status blocked
                = co_await m_ctx.blockConcurrencyWhile([&simulation, hang]() -> Task<Status> {
                      co_await simulation.sleep(hang);
                      co_return Done {};
                  });
            if (!blocked)
                co_return blocked.error();
            co_return text(QStringLiteral("unblocked"));
        }
        if (path == QLatin1String("/abort")) {
            m_ctx.abort(request.queryItem(u"reason"));
            co_return text(QStringLiteral("after abort"));
        }
        if (path == QLatin1String("/set-alarm")) {
            const qint64 nowMs = m_ctx.simulation().now() / kMicrosecondsPerMillisecond;
            const Status set
                = co_await m_ctx.storage().setAlarm(nowMs + request.queryItem(u"ms").toLongLong());
            if (!set)
                co_return set.error();
            co_return text(QStringLiteral("alarm set"));
        }
        if (path == QLatin1String("/put-then-fault")) {
            // Not awaited: the write is still in the open batch when the hook runs.
            m_ctx.storage().put(QStringLiteral("unflushed"), QByteArray("1"));
            m_journal->afterWrite();
            co_return text(QStringLiteral("after fault"));
        }
        co_return HttpResponse::text(404, "no route");
    }

    Task<Result<QJsonValue>> call(QString method, QJsonArray arguments) override
    {
        if (method == QLatin1String("instance"))
            co_return QJsonValue(qint64(m_ctx.instance()));
        co_return co_await DurableObjectBehaviour::call(method, arguments);
    }

    bool hasAlarmHandler() const override { return true; }

    Task<Status> alarm(AlarmInfo) override
    {
        const std::optional<QString> &name = m_ctx.id().name();
        m_journal->lines << QStringLiteral("alarm instance=%1 name=%2")
                                .arg(m_ctx.instance())
                                .arg(name ? *name : QStringLiteral("(none)"));
        co_return Done {};
    }

    Task<Status> webSocketMessage(
        std::shared_ptr<ServerWebSocket> socket, WebSocketMessage) override
    {
        ++m_hits;
        const std::optional<QByteArray> attachment = m_ctx.deserializeAttachment(*socket);
        const QString reply
            = QStringLiteral("hits=%1 instance=%2 attachment=%3 tags=%4 tagged=%5")
                  .arg(m_hits)
                  .arg(m_ctx.instance())
                  .arg(attachment ? QString::fromUtf8(*attachment) : QStringLiteral("(none)"))
                  .arg(m_ctx.getTags(*socket).join(QLatin1Char(',')))
                  .arg(m_ctx.getWebSockets(QStringLiteral("user-7")).size());
        co_return m_ctx.send(socket, reply.toUtf8());
    }

    std::vector<std::pair<QString, QString>> memoryState() const override
    {
        return { { QStringLiteral("hits"), QString::number(m_hits) } };
    }

private:
    static HttpResponse text(const QString &body) { return HttpResponse::text(200, body.toUtf8()); }

    /// `/ws` accepts with the hibernation API (tags, an attachment and a stored write), and
    /// `/ws-standard` with the standard accept().
    Task<Result<HttpResponse>> acceptSocket(const HttpRequest &request, bool hibernatable)
    {
        const std::shared_ptr<ServerWebSocket> socket = m_ctx.upgrade(request);
        if (!socket)
            co_return HttpResponse::text(426, "expected a WebSocket upgrade");
        if (hibernatable) {
            if (const Status accepted = m_ctx.acceptWebSocket(
                    socket, { QStringLiteral("room"), QStringLiteral("user-7") });
                !accepted)
                co_return accepted.error();
            if (const Status attached = m_ctx.serializeAttachment(*socket, QByteArray("alice"));
                !attached)
                co_return attached.error();
            ++m_hits;
            if (const Status stored
                = co_await m_ctx.storage().put(QStringLiteral("k"), QByteArray("v"));
                !stored)
                co_return stored.error();
        } else if (const Status accepted = m_ctx.accept(socket); !accepted) {
            co_return accepted.error();
        }
        HttpResponse response;
        response.status = 101;
        response.webSocket = socket;
        co_return response;
    }

    DurableObjectState &m_ctx;
    std::shared_ptr<Journal> m_journal;
    int m_hits = 0;
};

/// The fixture with LifecycleObject as its class and a journal the test can read.
struct LifecycleFixture : DurableObjectFixture
{
    explicit LifecycleFixture(DurableObjectSettings settings = {})
        : LifecycleFixture(std::make_shared<Journal>(), std::move(settings))
    {
    }

    LifecycleFixture(std::shared_ptr<Journal> shared, DurableObjectSettings settings)
        : DurableObjectFixture(
            [shared](
                DurableObjectState &ctx) { return std::make_unique<LifecycleObject>(ctx, shared); },
            StorageBackend::Sqlite, std::move(settings))
        , journal(std::move(shared))
        , start(simulation.now())
    {
    }

    DurableObject &room() { return object(kRoom); }

    std::shared_ptr<Journal> journal;
    SimTime start;
};

/// The client end of one WebSocket: records the messages and the close it receives.
class RecordingClient : public WebSocketClient
{
public:
    explicit RecordingClient(DurableObjectFixture &fixture)
        : m_fixture(fixture)
    {
    }

    QString name() const override { return QStringLiteral("client-1"); }
    LocationId location() const override { return m_fixture.lhr; }
    void opened(quint64) override { }
    void messageReceived(const QByteArray &message, SimTime) override { messages << message; }
    void closed(int code, const QString &reason) override
    {
        closeCode = code;
        closeReason = reason;
        closedAt = m_fixture.simulation.now();
    }

    QList<QByteArray> messages;
    int closeCode = 0;
    QString closeReason;
    std::optional<SimTime> closedAt;

private:
    DurableObjectFixture &m_fixture;
};

using ResponseSlot = std::shared_ptr<std::optional<Result<HttpResponse>>>;

/// Awaits a fetch through a stub that this coroutine owns, so the stub outlives the call.
Task<Result<HttpResponse>> fetchThrough(DurableObjectStub stub, HttpRequest request)
{
    co_return co_await stub.fetch(std::move(request));
}

Task<Result<QJsonValue>> callThrough(DurableObjectStub stub, QString method)
{
    co_return co_await stub.call(std::move(method));
}

/// Starts a request to `name` through a new stub, as a Worker invocation would.
ResponseSlot startFetch(
    DurableObjectFixture &fixture, const QString &pathAndQuery, const QString &name = kRoom)
{
    return startTask(fixture.simulation,
        fetchThrough(fixture.stub(name), DurableObjectFixture::request(pathAndQuery)));
}

/// The body of a successful response, or the error as JavaScript prints it.
QByteArray bodyOrError(const Result<HttpResponse> &response)
{
    return response ? response->body : response.error().toString().toUtf8();
}

QByteArray fetchBody(DurableObjectFixture &fixture, const QString &pathAndQuery)
{
    return bodyOrError(finishTask(fixture.simulation, startFetch(fixture, pathAndQuery)));
}

QByteArray fetchBody(
    DurableObjectFixture &fixture, const DurableObjectStub &stub, const QString &pathAndQuery)
{
    return bodyOrError(runTask(
        fixture.simulation, fetchThrough(stub, DurableObjectFixture::request(pathAndQuery))));
}

/// Sends a WebSocket upgrade request and returns the accepted server socket, or null.
std::shared_ptr<ServerWebSocket> connectClient(
    LifecycleFixture &fixture, RecordingClient &client, const QString &path)
{
    HttpRequest upgrade = DurableObjectFixture::request(path);
    upgrade.headers.append({ QByteArray("Upgrade"), QByteArray("websocket") });
    upgrade.upgradeClient = &client;
    const Result<HttpResponse> response
        = runTask(fixture.simulation, fetchThrough(fixture.stub(kRoom), std::move(upgrade)));
    if (!response || response->status != 101)
        return nullptr;
    return response->webSocket;
}

/// The object's history as "<seconds since the fixture's start> <state>: <reason>", with
/// microseconds shown only where a time has them.
QStringList historyLines(const LifecycleFixture &fixture, const DurableObject &object)
{
    QStringList lines;
    for (const LifecycleChange &change : object.history()) {
        const SimDuration offset = change.at - fixture.start;
        const QString seconds = QString::number(double(offset) / kMicrosecondsPerSecond, 'f',
            offset % kMicrosecondsPerMillisecond ? 6 : 3);
        lines << QStringLiteral("%1 %2: %3")
                     .arg(seconds, objectStateName(change.state), change.reason);
    }
    return lines;
}

/// Counts the outcomes of finished requests: successes, and failures by message.
struct Outcomes
{
    int succeeded = 0;
    QMap<QString, int> failures;
    int notOverloaded = 0; ///< failures that are not plain overload errors (flags or kind differ)

    explicit Outcomes(const std::vector<ResponseSlot> &responses)
    {
        for (const ResponseSlot &slot : responses) {
            if (!slot->has_value())
                continue;
            const Result<HttpResponse> &response = **slot;
            if (response) {
                ++succeeded;
                continue;
            }
            const Error &error = response.error();
            ++failures[error.message];
            if (!error.overloaded || error.durableObjectReset || error.remote
                || error.kind != Error::Kind::Error)
                ++notOverloaded;
        }
    }
};

/// Sends `count` requests for `pathAndQuery`, one every `interval`, each through a new stub.
Task<void> sendEvery(DurableObjectFixture &fixture, QString pathAndQuery, int count,
    SimDuration interval, std::vector<ResponseSlot> *responses)
{
    for (int i = 0; i < count; ++i) {
        if (i > 0)
            co_await fixture.simulation.sleep(interval);
        responses->push_back(startFetch(fixture, pathAndQuery, QStringLiteral("hot")));
    }
}

const QString kOverloadedQueue
    = QStringLiteral("Durable Object is overloaded. Too many requests queued.");
const QString kOverloadedData
    = QStringLiteral("Durable Object is overloaded. Too much data queued.");
const QString kOverloadedWait
    = QStringLiteral("Durable Object is overloaded. Requests queued for too long.");
const QString kOverloadedWindow = QStringLiteral("Durable Object is overloaded. Too many requests "
                                                 "for the same object within a 10 second window.");
const QString kCodeUpdated = QStringLiteral("Durable Object reset because its code was updated.");
const QString kBlockConcurrencyTimeout = QStringLiteral(
    "A call to blockConcurrencyWhile() in a Durable Object waited for too long. The call was "
    "canceled and the Durable Object was reset.");

/// A class whose constructor starts initialisation that a request must not overtake. With
/// `mode` "block", it reads the config inside blockConcurrencyWhile(), and "block-with-fetch"
/// also awaits a fetch inside it. "fetch-unblocked" awaits a fetch and then sets ready, without
/// blocking anything.
class ReadyObject : public DurableObjectBehaviour
{
public:
    ReadyObject(DurableObjectState &ctx, const QString &mode)
        : m_ctx(ctx)
    {
        if (mode == QLatin1String("fetch-unblocked")) {
            ctx.simulation().spawn(loadAfterFetch());
            return;
        }
        const bool withFetch = mode == QLatin1String("block-with-fetch");
        // The constructor cannot await, but blockConcurrencyWhile() delays events all the same.
        ctx.blockConcurrencyWhile([this, withFetch]() -> Task<Status> {
            const Result<std::optional<QByteArray>> config
                = co_await m_ctx.storage().get(QStringLiteral("config"));
            if (!config)
                co_return config.error();
            if (withFetch)
                co_await m_ctx.fetch(upstream(), milliseconds(20));
            m_config = config->value_or("(missing)");
            m_ready = true;
            co_return Done {};
        });
    }

    Task<Result<HttpResponse>> fetch(HttpRequest) override
    {
        if (!m_ready)
            co_return HttpResponse::text(200, "not ready");
        co_return HttpResponse::text(200, "ready config=" + m_config);
    }

private:
    static HttpRequest upstream()
    {
        HttpRequest request;
        request.url = QUrl(QStringLiteral("https://upstream.invalid/config"));
        return request;
    }

    Task<void> loadAfterFetch()
    {
        co_await m_ctx.fetch(upstream(), milliseconds(20));
        m_config = "fetched";
        m_ready = true;
    }

    DurableObjectState &m_ctx;
    bool m_ready = false;
    QByteArray m_config;
};

} // namespace

class DoLifecycleTest : public QObject
{
    Q_OBJECT

private slots:
    void constructorRunsOnFirstRequest();
    void constructorRunsOnFirstAlarm();
    void hibernatesAfterIdleTime();
    void evictsIdleObjectWithTimer();
    void idleTimersFollowSettings_data();
    void idleTimersFollowSettings();
    void standardWebSocketPinsObject();
    void resetFailsBoundCalls();
    void resetDropsUnflushedWrites();
    void shutdownLetsRequestsFinish();
    void shutdownStorageAccessResets();
    void shutdownGraceExpires_data();
    void shutdownGraceExpires();
    void blockConcurrencyFailureBreaksStub();
    void blockConcurrencyTimeout_data();
    void blockConcurrencyTimeout();
    void constructorInitialisation_data();
    void constructorInitialisation();
    void abortResets_data();
    void abortResets();
    void overloadHotObject();
    void overloadThresholds_data();
    void overloadThresholds();
    void overloadWindowSlides();
};

void DoLifecycleTest::constructorRunsOnFirstRequest()
{
    LifecycleFixture fixture;
    DurableObject &room = fixture.room();

    // Routing a stub creates the record; nothing is constructed yet.
    QCOMPARE(room.state(), ObjectState::Inactive);
    QCOMPARE(room.behaviour(), nullptr);
    QCOMPARE(room.constructorRuns(), quint64(0));
    QVERIFY(fixture.journal->lines.isEmpty());

    QCOMPARE(fetchBody(fixture, QStringLiteral("/hit")), QByteArray("hits=1 instance=1"));
    QCOMPARE(fixture.journal->lines, QStringList { QStringLiteral("constructor 1") });
    QCOMPARE(room.constructorRuns(), quint64(1));
    QVERIFY(room.behaviour());
    // Moves between active and idle are not history, only changes of what is in memory.
    QCOMPARE(historyLines(fixture, room),
        (QStringList { "0.000 inactive: created", "0.002 active: constructor" }));

    // The next request reaches the same instance.
    QCOMPARE(fetchBody(fixture, QStringLiteral("/hit")), QByteArray("hits=2 instance=1"));
    QCOMPARE(room.constructorRuns(), quint64(1));
}

void DoLifecycleTest::constructorRunsOnFirstAlarm()
{
    LifecycleFixture fixture;
    DurableObject &room = fixture.room();
    QCOMPARE(fetchBody(fixture, QStringLiteral("/set-alarm?ms=60000")), QByteArray("alarm set"));

    // The alarm is due 60 s after the request arrived, and the object hibernates long before.
    fixture.simulation.runUntil(fixture.start + seconds(60));
    QCOMPARE(room.state(), ObjectState::Hibernated);
    QCOMPARE(
        room.alarmTimeMs(), std::optional<qint64>((fixture.start + kOneWay + seconds(60)) / 1000));

    fixture.simulation.runUntil(fixture.start + kOneWay + seconds(60));
    QCOMPARE(room.alarmRuns(), quint64(1));
    // The alarm is the new instance's first event: its constructor runs first, and an alarm
    // has no caller, so ctx.id gets the name the object was reached by.
    QCOMPARE(fixture.journal->lines,
        (QStringList { "constructor 1", "constructor 2", "alarm instance=2 name=room-1" }));
    QCOMPARE(room.constructorRuns(), quint64(2));
    QCOMPARE(historyLines(fixture, room),
        (QStringList { "0.000 inactive: created", "0.002 active: constructor",
            "10.004 hibernated: idle for 10.000 s", "60.002 active: constructor again" }));
}

void DoLifecycleTest::hibernatesAfterIdleTime()
{
    LifecycleFixture fixture;
    DurableObject &room = fixture.room();
    RecordingClient client(fixture);
    const std::shared_ptr<ServerWebSocket> socket
        = connectClient(fixture, client, QStringLiteral("/ws"));
    QVERIFY(socket);

    // The upgrade's write is confirmed at 4 ms. From then on nothing happens.
    const SimTime idleSince = fixture.start + 2 * kOneWay;
    QCOMPARE(room.state(), ObjectState::IdleHibernatable);
    QCOMPARE(room.behaviour()->memoryState(),
        (std::vector<std::pair<QString, QString>> {
            { QStringLiteral("hits"), QStringLiteral("1") } }));

    fixture.simulation.runUntil(idleSince + seconds(10) - 1);
    QCOMPARE(room.state(), ObjectState::IdleHibernatable);
    QVERIFY(room.behaviour());

    fixture.simulation.runUntil(idleSince + seconds(10));
    QCOMPARE(room.state(), ObjectState::Hibernated);
    QCOMPARE(room.behaviour(), nullptr);
    QVERIFY(!room.isInMemory());
    // Storage and the hibernatable socket survive, with its tags and attachment.
    QCOMPARE(room.storage().get(QStringLiteral("k")).value(), std::optional<QByteArray>("v"));
    QCOMPARE(room.sockets().size(), size_t(1));
    QCOMPARE(room.sockets().front(), socket);
    QCOMPARE(socket->state, ServerWebSocket::State::Open);
    QCOMPARE(socket->tags, (QStringList { "room", "user-7" }));
    QCOMPARE(socket->attachment, std::optional<QByteArray>("alice"));
    QVERIFY(!client.closedAt);
    // Only the 2 ms of handling were billed: an object that can hibernate is not billed.
    QCOMPARE(room.activeTime(), milliseconds(2));

    // A message a minute later runs the constructor again, and the counter starts from zero.
    fixture.simulation.runUntil(fixture.start + seconds(60));
    room.receiveMessage(socket, { QByteArray("hello"), false });
    fixture.simulation.runUntil(fixture.start + seconds(60) + kOneWay);
    QCOMPARE(client.messages,
        QList<QByteArray> { "hits=1 instance=2 attachment=alice tags=room,user-7 tagged=1" });
    QCOMPARE(room.constructorRuns(), quint64(2));
    QCOMPARE(fixture.journal->lines, (QStringList { "constructor 1", "constructor 2" }));
    QCOMPARE(room.activeTime(), milliseconds(2));
    QCOMPARE(historyLines(fixture, room),
        (QStringList { "0.000 inactive: created", "0.002 active: constructor",
            "10.004 hibernated: idle for 10.000 s", "60.000 active: constructor again" }));
}

void DoLifecycleTest::evictsIdleObjectWithTimer()
{
    // Runs the same scenario on a fresh fixture and returns how long the object stayed idle.
    // The handler does not await, so the object is idle from the request's arrival at 2 ms.
    const auto evictionDelay = [](LifecycleFixture &fixture) -> SimDuration {
        DurableObject &room = fixture.room();
        if (fetchBody(fixture, QStringLiteral("/interval?every=300")) != "started")
            return -1;
        if (room.state() != ObjectState::IdleNonHibernatable)
            return -1;
        const SimTime idleSince = fixture.start + kOneWay;
        fixture.simulation.runUntil(idleSince + seconds(140));
        const LifecycleChange evicted = room.history().back();
        if (evicted.state != ObjectState::Inactive || evicted.reason != "evicted after being idle")
            return -1;
        return evicted.at - idleSince;
    };

    LifecycleFixture fixture;
    DurableObject &room = fixture.room();
    const SimDuration delay = evictionDelay(fixture);
    QVERIFY2(delay >= seconds(70), qPrintable(formatDuration(delay)));
    QVERIFY2(delay <= seconds(140), qPrintable(formatDuration(delay)));
    QCOMPARE(room.behaviour(), nullptr);
    // Active and idle non-hibernatable time are both billed, so all of the delay is.
    QCOMPARE(room.activeTime(), delay);

    // The same seed gives the same delay.
    LifecycleFixture again;
    QCOMPARE(evictionDelay(again), delay);

    // The interval never fires for the evicted instance, and the next request constructs anew.
    fixture.simulation.runUntil(fixture.start + seconds(400));
    QCOMPARE(fixture.journal->lines, QStringList { "constructor 1" });
    QCOMPARE(fetchBody(fixture, QStringLiteral("/hit")), QByteArray("hits=1 instance=2"));
}

void DoLifecycleTest::idleTimersFollowSettings_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<SimDuration>("hibernateAfter");
    QTest::addColumn<SimDuration>("evictAfterMin");
    QTest::addColumn<SimDuration>("evictAfterMax");
    QTest::addColumn<bool>("hibernates"); // else it is evicted
    QTest::addColumn<QString>("reason");

    const QString hit = QStringLiteral("/hit");
    const QString interval = QStringLiteral("/interval?every=300");
    const QString evicted = QStringLiteral("evicted after being idle");
    QTest::newRow("default hibernation") << hit << seconds(10) << seconds(70) << seconds(140)
                                         << true << QStringLiteral("idle for 10.000 s");
    QTest::newRow("hibernateAfter 3 s") << hit << seconds(3) << seconds(70) << seconds(140) << true
                                        << QStringLiteral("idle for 3.000 s");
    QTest::newRow("default eviction")
        << interval << seconds(10) << seconds(70) << seconds(140) << false << evicted;
    QTest::newRow("eviction 20 to 25 s")
        << interval << seconds(10) << seconds(20) << seconds(25) << false << evicted;
    QTest::newRow("eviction at 45 s")
        << interval << seconds(10) << seconds(45) << seconds(45) << false << evicted;
}

void DoLifecycleTest::idleTimersFollowSettings()
{
    QFETCH(QString, path);
    QFETCH(SimDuration, hibernateAfter);
    QFETCH(SimDuration, evictAfterMin);
    QFETCH(SimDuration, evictAfterMax);
    QFETCH(bool, hibernates);
    QFETCH(QString, reason);

    DurableObjectSettings settings;
    settings.hibernateAfter = hibernateAfter;
    settings.evictAfterMin = evictAfterMin;
    settings.evictAfterMax = evictAfterMax;
    LifecycleFixture fixture(settings);
    DurableObject &room = fixture.room();
    QVERIFY(fetchBody(fixture, path).size() > 0);

    // Neither handler awaits, so the object is idle from the request's arrival at 2 ms.
    const SimTime idleSince = fixture.start + kOneWay;
    const ObjectState idle
        = hibernates ? ObjectState::IdleHibernatable : ObjectState::IdleNonHibernatable;
    QCOMPARE(room.state(), idle);
    const SimDuration earliest = hibernates ? hibernateAfter : evictAfterMin;
    const SimDuration latest = hibernates ? hibernateAfter : evictAfterMax;

    fixture.simulation.runUntil(idleSince + earliest - 1);
    QCOMPARE(room.state(), idle);
    fixture.simulation.runUntil(idleSince + latest);
    QCOMPARE(room.state(), hibernates ? ObjectState::Hibernated : ObjectState::Inactive);
    const LifecycleChange dropped = room.history().back();
    QCOMPARE(dropped.reason, reason);
    QVERIFY(dropped.at - idleSince >= earliest);
    QVERIFY(dropped.at - idleSince <= latest);
}

void DoLifecycleTest::standardWebSocketPinsObject()
{
    LifecycleFixture fixture;
    DurableObject &room = fixture.room();
    RecordingClient client(fixture);
    const std::shared_ptr<ServerWebSocket> socket
        = connectClient(fixture, client, QStringLiteral("/ws-standard"));
    QVERIFY(socket);
    QCOMPARE(room.state(), ObjectState::IdleNonHibernatable);

    // An hour later the object is still in memory and billed for all of it.
    fixture.simulation.runUntil(fixture.start + seconds(3600));
    QCOMPARE(room.state(), ObjectState::IdleNonHibernatable);
    QVERIFY(room.behaviour());
    QCOMPARE(room.constructorRuns(), quint64(1));
    QCOMPARE(socket->state, ServerWebSocket::State::Open);
    QCOMPARE(room.activeTime(), seconds(3600) - kOneWay);

    // Once the client closes, the object can hibernate and billing stops.
    room.receiveClose(socket, 1000, QStringLiteral("bye"));
    fixture.simulation.runUntil(fixture.start + seconds(3600) + seconds(10));
    QCOMPARE(client.closeCode, 1000);
    QCOMPARE(client.closeReason, QStringLiteral("bye"));
    QCOMPARE(room.state(), ObjectState::Hibernated);
    QCOMPARE(room.activeTime(), seconds(3600) - kOneWay);
    QCOMPARE(historyLines(fixture, room),
        (QStringList { "0.000 inactive: created", "0.002 active: constructor",
            "3610.000 hibernated: idle for 10.000 s" }));
}

void DoLifecycleTest::resetFailsBoundCalls()
{
    LifecycleFixture fixture;
    DurableObject &room = fixture.room();
    QCOMPARE(
        fetchBody(fixture, QStringLiteral("/put?key=confirmed&value=1")), QByteArray("stored"));
    RecordingClient client(fixture);
    QVERIFY(connectClient(fixture, client, QStringLiteral("/ws")));
    QCOMPARE(fetchBody(fixture, QStringLiteral("/hit")), QByteArray("hits=2 instance=1"));

    // Stub A's first call binds it to instance 1 and keeps the thread busy for a second, so its
    // later calls queue behind it. Stub B is new, so its call is bound to no instance yet.
    const DurableObjectStub stubA = fixture.stub(kRoom);
    const ResponseSlot inFlight = startTask(fixture.simulation,
        fetchThrough(stubA, DurableObjectFixture::request(QStringLiteral("/compute?ms=1000"))));
    const ResponseSlot queuedA = startTask(fixture.simulation,
        fetchThrough(stubA, DurableObjectFixture::request(QStringLiteral("/hit"))));
    const auto queuedCall
        = startTask(fixture.simulation, callThrough(stubA, QStringLiteral("instance")));
    const ResponseSlot queuedB = startFetch(fixture, QStringLiteral("/hit"));
    fixture.simulation.runUntil(fixture.simulation.now() + milliseconds(500));
    QCOMPARE(room.eventsInFlight(), 1);
    QCOMPARE(room.queuedEvents(), 3);

    const SimTime resetAt = fixture.simulation.now();
    room.reset(Error::error(QStringLiteral("injected fault")));

    for (const ResponseSlot &slot : { inFlight, queuedA }) {
        const Result<HttpResponse> response = finishTask(fixture.simulation, slot);
        QVERIFY(!response.ok());
        QCOMPARE(response.error().toString(), QStringLiteral("Error: injected fault"));
        QVERIFY(response.error().durableObjectReset);
    }
    const Result<QJsonValue> call = finishTask(fixture.simulation, queuedCall);
    QVERIFY(!call.ok());
    QCOMPARE(call.error().toString(), QStringLiteral("Error: injected fault"));
    QVERIFY(call.error().durableObjectReset);
    // B's call was not bound to the old instance, so it reaches a new one with fresh memory.
    QCOMPARE(bodyOrError(finishTask(fixture.simulation, queuedB)), QByteArray("hits=1 instance=2"));

    // Stub A stays broken: its next call fails at once, without reaching the object.
    QCOMPARE(stubA.brokenError()->message, QStringLiteral("injected fault"));
    const quint64 handled = room.requestsHandled();
    const SimTime sentAt = fixture.simulation.now();
    QCOMPARE(
        fetchBody(fixture, stubA, QStringLiteral("/hit")), QByteArray("Error: injected fault"));
    QCOMPARE(fixture.simulation.now(), sentAt);
    QCOMPARE(room.requestsHandled(), handled);

    // The socket closed with 1011, seen by the client one way later.
    fixture.simulation.runUntil(resetAt + seconds(1));
    QCOMPARE(client.closeCode, 1011);
    QCOMPARE(client.closeReason, QStringLiteral("Durable Object reset"));
    QCOMPARE(client.closedAt, std::optional<SimTime>(resetAt + kOneWay));
    QVERIFY(room.sockets().empty());
    QCOMPARE(
        room.storage().get(QStringLiteral("confirmed")).value(), std::optional<QByteArray>("1"));
    QCOMPARE(room.constructorRuns(), quint64(2));
    const QStringList history = historyLines(fixture, room);
    QVERIFY(
        history.contains(QStringLiteral("%1 inactive: reset: injected fault")
                             .arg(QString::number(double(resetAt - fixture.start) / 1e6, 'f', 3))));
}

void DoLifecycleTest::resetDropsUnflushedWrites()
{
    LifecycleFixture fixture;
    DurableObject &room = fixture.room();
    QCOMPARE(fetchBody(fixture, QStringLiteral("/put?key=kept&value=1")), QByteArray("stored"));

    // The fault strikes while the handler's write is still in the open batch.
    fixture.journal->afterWrite
        = [&room] { room.reset(Error::error(QStringLiteral("fault after write"))); };
    const Result<HttpResponse> response
        = finishTask(fixture.simulation, startFetch(fixture, QStringLiteral("/put-then-fault")));

    QVERIFY(!response.ok());
    QCOMPARE(response.error().message, QStringLiteral("fault after write"));
    QVERIFY(response.error().durableObjectReset);
    QCOMPARE(room.storage().get(QStringLiteral("unflushed")).value(), std::nullopt);
    QCOMPARE(room.storage().get(QStringLiteral("kept")).value(), std::optional<QByteArray>("1"));
    QCOMPARE(room.state(), ObjectState::Inactive);
    // Nothing is left waiting for a confirmation that will never come.
    QCOMPARE(room.heldOutputs(), 0);
}

void DoLifecycleTest::shutdownLetsRequestsFinish()
{
    LifecycleFixture fixture;
    DurableObject &room = fixture.room();
    RecordingClient client(fixture);
    QVERIFY(connectClient(fixture, client, QStringLiteral("/ws")));
    const SimTime sentAt = fixture.simulation.now();
    const ResponseSlot slow = startFetch(fixture, QStringLiteral("/sleep?ms=5000"));

    fixture.simulation.runUntil(sentAt + seconds(1));
    const SimTime shutdownAt = fixture.simulation.now();
    room.shutdown();

    // Sockets close at once, and the request in flight finishes within the grace period.
    QCOMPARE(bodyOrError(finishTask(fixture.simulation, slow)), QByteArray("slept"));
    QCOMPARE(fixture.simulation.now(), sentAt + seconds(5) + 2 * kOneWay);
    QCOMPARE(client.closeCode, 1001);
    QCOMPARE(client.closeReason, QStringLiteral("Durable Object is shutting down"));
    QCOMPARE(client.closedAt, std::optional<SimTime>(shutdownAt + kOneWay));
    QCOMPARE(room.state(), ObjectState::Inactive);
    QCOMPARE(room.history().back().reason, QStringLiteral("shut down"));
    QCOMPARE(room.history().back().at, sentAt + seconds(5) + kOneWay);

    // A new instance is not reset when the old one's grace period ends.
    QCOMPARE(fetchBody(fixture, QStringLiteral("/hit")), QByteArray("hits=1 instance=2"));
    fixture.simulation.runUntil(shutdownAt + seconds(31));
    QCOMPARE(room.constructorRuns(), quint64(2));
    QCOMPARE(room.state(), ObjectState::Hibernated);
}

void DoLifecycleTest::shutdownStorageAccessResets()
{
    LifecycleFixture fixture;
    DurableObject &room = fixture.room();
    const SimTime sentAt = fixture.simulation.now();
    const ResponseSlot reader = startFetch(fixture, QStringLiteral("/sleep-then-get?ms=5000"));
    const ResponseSlot sleeper = startFetch(fixture, QStringLiteral("/sleep?ms=20000"));
    fixture.simulation.runUntil(sentAt + seconds(1));
    room.shutdown();

    // The read during the grace period fails, and the object resets at once.
    const Result<HttpResponse> read = finishTask(fixture.simulation, reader);
    QVERIFY(!read.ok());
    QCOMPARE(read.error().toString(),
        QStringLiteral("Error: Durable Object storage is no longer accessible."));
    const Result<HttpResponse> slept = finishTask(fixture.simulation, sleeper);
    QVERIFY(!slept.ok());
    QCOMPARE(slept.error().message, kCodeUpdated);
    QVERIFY(slept.error().durableObjectReset);
    QCOMPARE(fixture.simulation.now(), sentAt + seconds(5) + 2 * kOneWay);
    QCOMPARE(room.history().back().at, sentAt + seconds(5) + kOneWay);
    QCOMPARE(room.history().back().reason, QStringLiteral("reset: ") + kCodeUpdated);
}

void DoLifecycleTest::shutdownGraceExpires_data()
{
    QTest::addColumn<SimDuration>("grace");

    QTest::newRow("default 30 s") << seconds(30);
    QTest::newRow("5 s") << seconds(5);
}

void DoLifecycleTest::shutdownGraceExpires()
{
    QFETCH(SimDuration, grace);

    DurableObjectSettings settings;
    settings.shutdownGrace = grace;
    LifecycleFixture fixture(settings);
    DurableObject &room = fixture.room();
    const ResponseSlot slow = startFetch(fixture,
        QStringLiteral("/sleep?ms=%1").arg((grace + seconds(10)) / kMicrosecondsPerMillisecond));
    fixture.simulation.runUntil(fixture.start + seconds(1));
    room.shutdown();

    const Result<HttpResponse> response = finishTask(fixture.simulation, slow);
    QVERIFY(!response.ok());
    QCOMPARE(response.error().message, kCodeUpdated);
    QVERIFY(response.error().durableObjectReset);
    QCOMPARE(room.history().back().at, fixture.start + seconds(1) + grace);
    QCOMPARE(fixture.simulation.now(), fixture.start + seconds(1) + grace + kOneWay);
}

void DoLifecycleTest::blockConcurrencyFailureBreaksStub()
{
    LifecycleFixture fixture;
    DurableObject &room = fixture.room();
    const DurableObjectStub stub = fixture.stub(kRoom);
    QCOMPARE(fetchBody(fixture, stub, QStringLiteral("/hit")), QByteArray("hits=1 instance=1"));

    const Result<HttpResponse> failed = runTask(fixture.simulation,
        fetchThrough(stub, DurableObjectFixture::request(QStringLiteral("/bcw-fail"))));
    QVERIFY(!failed.ok());
    QCOMPARE(failed.error().toString(), QStringLiteral("Error: bcw failure"));
    QVERIFY(failed.error().durableObjectReset);
    QCOMPARE(room.state(), ObjectState::Inactive);

    // The same stub keeps failing with the same error, for requests and RPC calls alike.
    const Result<HttpResponse> again = runTask(fixture.simulation,
        fetchThrough(stub, DurableObjectFixture::request(QStringLiteral("/hit"))));
    QVERIFY(!again.ok());
    QCOMPARE(again.error(), failed.error());
    const Result<QJsonValue> call
        = runTask(fixture.simulation, callThrough(stub, QStringLiteral("instance")));
    QVERIFY(!call.ok());
    QCOMPARE(call.error(), failed.error());
    QCOMPARE(room.constructorRuns(), quint64(1));

    // A new stub reaches instance 2.
    const Result<QJsonValue> instance
        = runTask(fixture.simulation, callThrough(fixture.stub(kRoom), QStringLiteral("instance")));
    QCOMPARE(instance->toInteger(), 2);
    QCOMPARE(room.constructorRuns(), quint64(2));
}

void DoLifecycleTest::blockConcurrencyTimeout_data()
{
    QTest::addColumn<SimDuration>("timeout");

    QTest::newRow("default 30 s") << seconds(30);
    QTest::newRow("5 s") << seconds(5);
}

void DoLifecycleTest::blockConcurrencyTimeout()
{
    QFETCH(SimDuration, timeout);

    DurableObjectSettings settings;
    settings.blockConcurrencyTimeout = timeout;
    LifecycleFixture fixture(settings);
    DurableObject &room = fixture.room();
    const ResponseSlot blocked = startFetch(fixture, QStringLiteral("/bcw-hang?s=60"));
    fixture.simulation.runUntil(fixture.start + seconds(1));
    // This request waits behind the block and then reaches the instance that replaces it.
    const ResponseSlot waiting = startFetch(fixture, QStringLiteral("/hit"));
    fixture.simulation.runUntil(fixture.start + seconds(1) + kOneWay);
    QCOMPARE(room.queuedEvents(), 1);

    const Result<HttpResponse> response = finishTask(fixture.simulation, blocked);
    QVERIFY(!response.ok());
    QCOMPARE(response.error().kind, Error::Kind::Error);
    QCOMPARE(response.error().message, kBlockConcurrencyTimeout);
    QVERIFY(response.error().overloaded);
    QVERIFY(response.error().durableObjectReset);
    const SimTime resetAt = fixture.start + kOneWay + timeout;
    QCOMPARE(fixture.simulation.now(), resetAt + kOneWay);
    QVERIFY(historyLines(fixture, room)
                .contains(QStringLiteral("%1.002 inactive: reset: ")
                              .arg((kOneWay + timeout) / kMicrosecondsPerSecond)
                    + kBlockConcurrencyTimeout));
    QCOMPARE(bodyOrError(finishTask(fixture.simulation, waiting)), QByteArray("hits=1 instance=2"));

    // The callback's late completion changes nothing.
    fixture.simulation.runUntil(fixture.start + seconds(70));
    QCOMPARE(room.constructorRuns(), quint64(2));
    QCOMPARE(room.state(), ObjectState::Hibernated);
}

void DoLifecycleTest::constructorInitialisation_data()
{
    QTest::addColumn<QString>("mode");
    QTest::addColumn<SimDuration>("readLatency");
    QTest::addColumn<QByteArray>("expected");

    const QByteArray ready("ready config=blue");
    QTest::newRow("blockConcurrencyWhile") << QStringLiteral("block") << SimDuration(100) << ready;
    QTest::newRow("blockConcurrencyWhile, 50 ms read")
        << QStringLiteral("block") << milliseconds(50) << ready;
    QTest::newRow("blockConcurrencyWhile around a fetch")
        << QStringLiteral("block-with-fetch") << SimDuration(100) << ready;
    // Without blockConcurrencyWhile, a fetch opens the input gate and the requests overtake.
    QTest::newRow("fetch without blocking")
        << QStringLiteral("fetch-unblocked") << SimDuration(100) << QByteArray("not ready");
}

void DoLifecycleTest::constructorInitialisation()
{
    QFETCH(QString, mode);
    QFETCH(SimDuration, readLatency);
    QFETCH(QByteArray, expected);

    DurableObjectSettings settings;
    settings.storageReadLatency = readLatency;
    DurableObjectFixture fixture(
        [mode](DurableObjectState &ctx) { return std::make_unique<ReadyObject>(ctx, mode); },
        StorageBackend::Sqlite, settings);
    DurableObject &room = fixture.object(kRoom);
    QVERIFY(room.storage().put(QStringLiteral("config"), QByteArray("blue")).ok());
    QVERIFY(room.storage().commitBatch().ok());

    // Five requests arrive at the same instant; the first one runs the constructor.
    std::vector<ResponseSlot> responses;
    for (int i = 0; i < 5; ++i)
        responses.push_back(startFetch(fixture, QStringLiteral("/ready")));
    for (const ResponseSlot &slot : responses)
        QCOMPARE(bodyOrError(finishTask(fixture.simulation, slot)), expected);
    QCOMPARE(room.constructorRuns(), quint64(1));
}

void DoLifecycleTest::abortResets_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("message");

    const QString defaultReason
        = QStringLiteral("Application called abort() to reset Durable Object.");
    QTest::newRow("no reason") << QStringLiteral("/abort") << defaultReason;
    QTest::newRow("with a reason")
        << QStringLiteral("/abort?reason=room%20closed") << QStringLiteral("room closed");
}

void DoLifecycleTest::abortResets()
{
    QFETCH(QString, path);
    QFETCH(QString, message);

    LifecycleFixture fixture;
    DurableObject &room = fixture.room();
    const DurableObjectStub stub = fixture.stub(kRoom);
    QCOMPARE(fetchBody(fixture, stub, QStringLiteral("/hit")), QByteArray("hits=1 instance=1"));

    const Result<HttpResponse> aborted
        = runTask(fixture.simulation, fetchThrough(stub, DurableObjectFixture::request(path)));
    QVERIFY(!aborted.ok());
    QCOMPARE(aborted.error().kind, Error::Kind::Error);
    QCOMPARE(aborted.error().message, message);
    QVERIFY(aborted.error().durableObjectReset);
    QCOMPARE(room.history().back().reason, QStringLiteral("reset: ") + message);

    QCOMPARE(fetchBody(fixture, stub, QStringLiteral("/hit")), ("Error: " + message).toUtf8());
    QCOMPARE(fetchBody(fixture, QStringLiteral("/hit")), QByteArray("hits=1 instance=2"));
}

void DoLifecycleTest::overloadHotObject()
{
    // 200 requests/s for 10 s to one object whose handler keeps its thread busy for 50 ms.
    //
    // Why 800 succeed, 800 find the queue full and 400 wait too long: let request i (0..1999)
    // arrive at a + 5i ms. The object serves one request every 50 ms, back to back, so delivery
    // k happens at a + 50k ms. At an instant with both, the delivery runs first because it was
    // scheduled earlier. Before arrival i the queue contains i - (i / 10 + 1) requests, which
    // reaches the limit of 1,000 at i = 1112. From then on each 50 ms window admits the one
    // request that arrives as a delivery frees a slot (i = 1120, 1130, ..., 1990, so 88) and
    // rejects the other nine, so 888 - 88 = 800 get "Too many requests queued".
    //
    // Of the 1,200 admitted, request k waits 45k ms while the queue drains in order, so from
    // k = 667 on it would wait more than 30 s. At delivery k the runtime drops every request
    // that arrived more than 30 s earlier and delivers the one that arrived exactly 30 s
    // earlier (i = 10k - 6000). That delivers 0..666 (667), 670..1110 in steps of 10 (45) and
    // 1120..1990 (88), 800 in all. The other 400 get "Requests queued for too long".
    // Nothing here is random, because the fixture has no jitter.
    LifecycleFixture fixture;
    std::vector<ResponseSlot> responses;
    fixture.simulation.spawn(
        sendEvery(fixture, QStringLiteral("/compute?ms=50"), 2000, milliseconds(5), &responses));

    // Another object is served as if nothing else were happening: 2 ms there, 50 ms of work
    // and 2 ms back.
    fixture.simulation.runUntil(fixture.start + seconds(5));
    const SimTime sentAt = fixture.simulation.now();
    const ResponseSlot calm
        = startFetch(fixture, QStringLiteral("/compute?ms=50"), QStringLiteral("calm"));
    QCOMPARE(bodyOrError(finishTask(fixture.simulation, calm)), QByteArray("computed"));
    QCOMPARE(fixture.simulation.now() - sentAt, milliseconds(54));

    fixture.simulation.runUntil(fixture.start + seconds(120));
    QCOMPARE(responses.size(), size_t(2000));
    const Outcomes outcomes(responses);
    QCOMPARE(outcomes.succeeded, 800);
    QCOMPARE(outcomes.failures.value(kOverloadedQueue), 800);
    QCOMPARE(outcomes.failures.value(kOverloadedWait), 400);
    QCOMPARE(outcomes.failures.size(), 2);
    QCOMPARE(outcomes.notOverloaded, 0);
    // Overload errors do not reset the object.
    QCOMPARE(fixture.object(QStringLiteral("hot")).constructorRuns(), quint64(1));
    QCOMPARE(fixture.object(QStringLiteral("hot")).requestsHandled(), quint64(800));
}

void DoLifecycleTest::overloadThresholds_data()
{
    QTest::addColumn<int>("maxQueuedEvents");
    QTest::addColumn<qint64>("maxQueuedBytes");
    QTest::addColumn<SimDuration>("maxQueueWait");
    QTest::addColumn<int>("maxEventsPerWindow");
    QTest::addColumn<int>("bodyBytes");
    QTest::addColumn<int>("succeeded");
    QTest::addColumn<QString>("message");

    // Ten requests arrive at one instant. The first is delivered at once, and each keeps the
    // thread busy for 50 ms.
    const DurableObjectSettings defaults;
    // Three wait in the queue, and the other six find it full.
    QTest::newRow("queued events")
        << 3 << defaults.maxQueuedBytes << defaults.maxQueueWait << 0 << 0 << 4 << kOverloadedQueue;
    // Each request counts 1,033 bytes (a 1,000-byte body and its 33-byte URL): two fit in 3,000.
    QTest::newRow("queued bytes") << defaults.maxQueuedEvents << qint64(3000)
                                  << defaults.maxQueueWait << 0 << 1000 << 3 << kOverloadedData;
    // Deliveries at 0, 50, ..., 200 ms are within the wait limit. At 250 ms the rest have waited
    // too long.
    QTest::newRow("queue wait") << defaults.maxQueuedEvents << defaults.maxQueuedBytes
                                << milliseconds(200) << 0 << 0 << 5 << kOverloadedWait;
    QTest::newRow("events per window") << defaults.maxQueuedEvents << defaults.maxQueuedBytes
                                       << defaults.maxQueueWait << 4 << 0 << 4 << kOverloadedWindow;
}

void DoLifecycleTest::overloadThresholds()
{
    QFETCH(int, maxQueuedEvents);
    QFETCH(qint64, maxQueuedBytes);
    QFETCH(SimDuration, maxQueueWait);
    QFETCH(int, maxEventsPerWindow);
    QFETCH(int, bodyBytes);
    QFETCH(int, succeeded);
    QFETCH(QString, message);

    DurableObjectSettings settings;
    settings.maxQueuedEvents = maxQueuedEvents;
    settings.maxQueuedBytes = maxQueuedBytes;
    settings.maxQueueWait = maxQueueWait;
    settings.maxEventsPerWindow = maxEventsPerWindow;
    LifecycleFixture fixture(settings);

    std::vector<ResponseSlot> responses;
    for (int i = 0; i < 10; ++i) {
        HttpRequest request = DurableObjectFixture::request(QStringLiteral("/compute?ms=50"));
        request.body = QByteArray(bodyBytes, 'x');
        responses.push_back(
            startTask(fixture.simulation, fetchThrough(fixture.stub(kRoom), request)));
    }
    fixture.simulation.runUntil(fixture.start + seconds(5));

    const Outcomes outcomes(responses);
    QCOMPARE(outcomes.succeeded, succeeded);
    QCOMPARE(outcomes.failures, (QMap<QString, int> { { message, 10 - succeeded } }));
    QCOMPARE(outcomes.notOverloaded, 0);
    QCOMPARE(fixture.room().requestsHandled(), quint64(succeeded));
}

void DoLifecycleTest::overloadWindowSlides()
{
    DurableObjectSettings settings;
    settings.maxEventsPerWindow = 4;
    // Long enough that one instance serves every request, so the hit counter keeps counting.
    settings.hibernateAfter = seconds(60);
    LifecycleFixture fixture(settings);

    // Four requests fill the window that starts when they arrive, at 2 ms.
    std::vector<ResponseSlot> first;
    for (int i = 0; i < 4; ++i)
        first.push_back(startFetch(fixture, QStringLiteral("/hit")));
    fixture.simulation.runUntil(fixture.start + seconds(1));
    QCOMPARE(Outcomes(first).succeeded, 4);

    // 9.999999 s after them the window is still full. At exactly 10 s it has moved past them.
    fixture.simulation.runUntil(fixture.start + seconds(10) - 1);
    const Result<HttpResponse> early
        = finishTask(fixture.simulation, startFetch(fixture, QStringLiteral("/hit")));
    QVERIFY(!early.ok());
    QCOMPARE(early.error().message, kOverloadedWindow);
    QVERIFY(early.error().overloaded);

    fixture.simulation.runUntil(fixture.start + seconds(10));
    QCOMPARE(fetchBody(fixture, QStringLiteral("/hit")), QByteArray("hits=5 instance=1"));
}

QTEST_GUILESS_MAIN(DoLifecycleTest)
#include "tst_dolifecycle.moc"
