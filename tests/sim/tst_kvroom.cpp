#include "durableobjectnamespace.h"
#include "kvnamespace.h"
#include "kvroom.h"
#include "location.h"
#include "scenario.h"
#include "simulation.h"
#include "websocket.h"
#include "world.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <memory>
#include <optional>
#include <vector>

using namespace roomscope;

namespace {

constexpr SimTime kStart = 1'767'225'600'000'000; // 2026-01-01T00:00:00Z

// Latencies of the fixture, one way, with no jitter.
constexpr SimDuration kLocalUs = milliseconds(2);
constexpr SimDuration kLhrToSjcUs = milliseconds(70);

// The kv-room test vector: uniqueKey "worker-RoomDO", name "room-1".
const QByteArray kRoom1Id = "b46ac3e5988656dbb1f078b8feeecc5ca6de93ac9a8f56b8a6e0b1f4508ced6b";

QUrl url(const QString &pathAndQuery)
{
    return QUrl(QStringLiteral("http://roomscope.invalid") + pathAndQuery);
}

QUrl putUrl(const QString &room, const QString &key, const QString &value)
{
    return roomUrl(QStringLiteral("put"), room,
        { { QStringLiteral("key"), key }, { QStringLiteral("value"), value } });
}

// The client end of a WebSocket that records every message with its arrival time.
class RecordingClient : public WebSocketClient
{
public:
    struct Message
    {
        QByteArray data;
        SimTime sentAt = 0;
        SimTime receivedAt = 0;
    };

    RecordingClient(Simulation &simulation, QString name, LocationId location)
        : m_simulation(simulation)
        , m_name(std::move(name))
        , m_location(location)
    {
    }

    QString name() const override { return m_name; }
    LocationId location() const override { return m_location; }
    void opened(quint64 connection) override { m_connection = connection; }
    void messageReceived(const QByteArray &message, SimTime sentAt) override
    {
        m_messages.push_back({ message, sentAt, m_simulation.now() });
    }
    void closed(int, const QString &) override { }

    quint64 connection() const { return m_connection; }
    const std::vector<Message> &messages() const { return m_messages; }

private:
    Simulation &m_simulation;
    QString m_name;
    LocationId m_location;
    quint64 m_connection = 0;
    std::vector<Message> m_messages;
};

struct Reply
{
    std::optional<HttpResponse> response;
    SimTime arrivedAt = 0;
};

// LHR and SJC, the KV central store in SJC, rooms placed in LHR, and the kv-room Worker.
struct RoomFixture
{
    LocationMap locations;
    LocationId lhr = locations.add(QStringLiteral("LHR"));
    LocationId sjc = locations.add(QStringLiteral("SJC"));
    std::vector<std::unique_ptr<Reply>> replies;
    std::vector<TraceEvent> events;
    std::unique_ptr<KvNamespace> kv;
    std::unique_ptr<DurableObjectNamespace> rooms;
    std::unique_ptr<KvRoomWorker> worker;
    // Declared last so that it is destroyed first, with the coroutine frames that refer to
    // the members above.
    Simulation simulation { 1, kStart };

    RoomFixture()
    {
        locations.setLatency(lhr, lhr, kLocalUs);
        locations.setLatency(sjc, sjc, kLocalUs);
        locations.setLatency(lhr, sjc, kLhrToSjcUs);
        locations.setJitterPercent(0);

        KvSettings settings;
        settings.centralLocation = sjc;
        auto created = KvNamespace::create(
            simulation, locations, QStringLiteral("KV"), settings, QStringLiteral(":memory:"));
        QVERIFY(created.ok());
        kv = std::move(created).value();
        DurableObjectClass roomClass;
        roomClass.name = QStringLiteral("RoomDO");
        roomClass.factory = [this](DurableObjectState &ctx) {
            return std::make_unique<KvRoom>(ctx, locations, *kv);
        };
        rooms = std::make_unique<DurableObjectNamespace>(simulation, locations,
            QStringLiteral("ROOMS"), std::move(roomClass), QStringLiteral("worker-RoomDO"));
        worker = std::make_unique<KvRoomWorker>(*rooms);
        for (const QString &room : { QStringLiteral("lobby"), QStringLiteral("room-1") })
            rooms->setLocationHint(rooms->idFromName(room), lhr);
        simulation.trace().addSink([this](const TraceEvent &event) { events.push_back(event); });
    }

    // Sends a request through the Worker in `from` at `at`. The reply fills in when it arrives.
    Reply *send(SimTime at, LocationId from, QUrl requestUrl, QByteArray upgrade = {},
        WebSocketClient *client = nullptr)
    {
        replies.push_back(std::make_unique<Reply>());
        Reply *reply = replies.back().get();
        HttpRequest request;
        request.url = std::move(requestUrl);
        if (!upgrade.isEmpty())
            request.headers.append(qMakePair(QByteArray("Upgrade"), upgrade));
        request.upgradeClient = client;
        simulation.schedule(at,
            [this, from, request, reply] { simulation.spawn(run(this, from, request, reply)); });
        return reply;
    }

    Reply *connect(SimTime at, RecordingClient *client, const QString &room)
    {
        return send(
            at, client->location(), roomUrl(QStringLiteral("ws"), room), "websocket", client);
    }

    static Task<void> run(RoomFixture *fixture, LocationId from, HttpRequest request, Reply *reply)
    {
        WebSocketClient *client = request.upgradeClient;
        reply->response = co_await fixture->worker->fetch(from, std::move(request));
        reply->arrivedAt = fixture->simulation.now();
        if (client && reply->response->status == 101)
            client->opened(reply->response->webSocket->connection);
    }

    std::vector<TraceEvent> eventsOf(TraceKind kind) const
    {
        std::vector<TraceEvent> matching;
        for (const TraceEvent &event : events) {
            if (event.kind == kind)
                matching.push_back(event);
        }
        return matching;
    }

    KvRoom *room(const QString &name) const
    {
        DurableObject *object = rooms->find(rooms->idFromName(name));
        return object ? static_cast<KvRoom *>(object->behaviour()) : nullptr;
    }
};

QList<qint64> offsetsMs(const std::vector<TraceEvent> &events)
{
    QList<qint64> offsets;
    for (const TraceEvent &event : events)
        offsets << (event.time - kStart) / kMicrosecondsPerMillisecond;
    return offsets;
}

QByteArrayList values(const std::vector<TraceEvent> &events)
{
    QByteArrayList list;
    for (const TraceEvent &event : events)
        list << event.value;
    return list;
}

} // namespace

class TestKvRoom : public QObject
{
    Q_OBJECT

private slots:
    void routes_data();
    void routes();
    void putThenGet();
    void queryValuesAreLiteral_data();
    void queryValuesAreLiteral();
    void searchParamDecodesAsUrlSearchParams_data();
    void searchParamDecodesAsUrlSearchParams();
    void countsAcceptedSockets();
    void coalescesWritesToOneKey();
    void pacesWritesToOneKey_data();
    void pacesWritesToOneKey();
    void otherKeysNotHeldBack();
    void broadcastReachesEverySocket();
    void broadcastToSimulatedClients();
};

void TestKvRoom::routes_data()
{
    QTest::addColumn<QString>("target");
    QTest::addColumn<QByteArray>("upgrade");
    QTest::addColumn<int>("expectedStatus");
    QTest::addColumn<QByteArray>("expectedBody");
    QTest::addColumn<int>("expectedObjects");

    QTest::newRow("get of a missing key")
        << "/get?roomId=lobby&key=nothing" << QByteArray() << 404 << QByteArray("not found\n") << 1;
    QTest::newRow("broadcast of a missing key")
        << "/broadcast?roomId=lobby&key=nothing" << QByteArray() << 404 << QByteArray("not found\n")
        << 1;
    QTest::newRow("id is idFromName of roomId")
        << "/id?roomId=room-1" << QByteArray() << 200 << kRoom1Id << 1;
    QTest::newRow("count with no sockets")
        << "/count?roomId=lobby" << QByteArray() << 200 << QByteArray("0") << 1;
    QTest::newRow("ws without Upgrade") << "/ws?roomId=lobby" << QByteArray() << 426
                                        << QByteArray("expected Upgrade: websocket\n") << 1;
    QTest::newRow("ws with another Upgrade") << "/ws?roomId=lobby" << QByteArray("h2c") << 426
                                             << QByteArray("expected Upgrade: websocket\n") << 1;
    QTest::newRow("ws with Upgrade but no client")
        << "/ws?roomId=lobby" << QByteArray("websocket") << 426
        << QByteArray("expected Upgrade: websocket\n") << 1;
    QTest::newRow("unknown route")
        << "/nothing?roomId=lobby" << QByteArray() << 404 << QByteArray("not found\n") << 1;
    QTest::newRow("root path") << "/?roomId=lobby" << QByteArray() << 404
                               << QByteArray("not found\n") << 1;
    QTest::newRow("missing roomId")
        << "/get?key=a" << QByteArray() << 400 << QByteArray("missing roomId\n") << 0;
    QTest::newRow("empty roomId") << "/put?roomId=&key=a&value=b" << QByteArray() << 400
                                  << QByteArray("missing roomId\n") << 0;
}

void TestKvRoom::routes()
{
    QFETCH(QString, target);
    QFETCH(QByteArray, upgrade);
    QFETCH(int, expectedStatus);
    QFETCH(QByteArray, expectedBody);
    QFETCH(int, expectedObjects);

    RoomFixture fixture;
    Reply *reply = fixture.send(kStart, fixture.lhr, url(target), upgrade);
    fixture.simulation.runUntil(kStart + seconds(10));

    QVERIFY(reply->response.has_value());
    QCOMPARE(reply->response->status, expectedStatus);
    QCOMPARE(reply->response->body, expectedBody);
    QCOMPARE(int(fixture.rooms->objects().size()), expectedObjects);
    QCOMPARE(fixture.eventsOf(TraceKind::WsAccept).size(), size_t(0));
    QCOMPARE(fixture.eventsOf(TraceKind::KvPut).size(), size_t(0));
}

void TestKvRoom::putThenGet()
{
    RoomFixture fixture;
    Reply *put = fixture.send(kStart, fixture.lhr, putUrl("lobby", "greeting", "hello"));
    Reply *get = fixture.send(
        kStart + seconds(1), fixture.lhr, roomUrl("get", "lobby", { { "key", "greeting" } }));
    fixture.simulation.runUntil(kStart + seconds(10));

    QVERIFY(put->response.has_value());
    QCOMPARE(put->response->status, 200);
    QCOMPARE(put->response->body, QByteArray("ok\n"));
    // Worker to room 2 ms, room to the central store 70 ms and back, room to Worker 2 ms.
    QCOMPARE(put->arrivedAt, kStart + 2 * kLocalUs + 2 * kLhrToSjcUs);
    const std::optional<KvEntry> central = fixture.kv->centralEntry(QStringLiteral("greeting"));
    QVERIFY(central.has_value());
    QCOMPARE(central->value, QByteArray("hello"));

    QVERIFY(get->response.has_value());
    QCOMPARE(get->response->status, 200);
    QCOMPARE(get->response->body, QByteArray("hello"));
    // The room reads its own write from its location's cache.
    const std::vector<TraceEvent> reads = fixture.eventsOf(TraceKind::KvGet);
    QCOMPARE(reads.size(), size_t(1));
    QCOMPARE(reads[0].numbers[0], 0); // fromCentral
    QCOMPARE(get->arrivedAt, kStart + seconds(1) + 2 * kLocalUs + milliseconds(1));
}

void TestKvRoom::queryValuesAreLiteral_data()
{
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("value");

    QTest::newRow("percent escape") << QStringLiteral("a%26b") << QStringLiteral("100%");
    QTest::newRow("ampersand and equals") << QStringLiteral("a&b=c") << QStringLiteral("x=1&y=2");
    QTest::newRow("plus and space") << QStringLiteral("a+b c") << QStringLiteral("1 + 1");
    QTest::newRow("non-ASCII") << QStringLiteral("ń.html") << QStringLiteral("€ 5");
}

void TestKvRoom::queryValuesAreLiteral()
{
    QFETCH(QString, key);
    QFETCH(QString, value);

    RoomFixture fixture;
    Reply *put = fixture.send(kStart, fixture.lhr, roomUrl("put", "lobby", { { "key", key }, { "value", value } }));
    Reply *get = fixture.send(kStart + seconds(1), fixture.lhr,
                              roomUrl("get", "lobby", { { "key", key } }));
    fixture.simulation.runUntil(kStart + seconds(10));

    QVERIFY(put->response.has_value());
    QCOMPARE(put->response->status, 200);
    const std::optional<KvEntry> central = fixture.kv->centralEntry(key);
    QVERIFY(central.has_value());
    QCOMPARE(central->value, value.toUtf8());
    QVERIFY(get->response.has_value());
    QCOMPARE(get->response->body, value.toUtf8());
}

void TestKvRoom::searchParamDecodesAsUrlSearchParams_data()
{
    QTest::addColumn<QString>("query");
    QTest::addColumn<QString>("name");
    QTest::addColumn<bool>("present");
    QTest::addColumn<QString>("value");

    QTest::newRow("plus is a space") << QStringLiteral("key=a+b") << QStringLiteral("key") << true
                                     << QStringLiteral("a b");
    QTest::newRow("escaped plus") << QStringLiteral("key=a%2Bb") << QStringLiteral("key") << true
                                  << QStringLiteral("a+b");
    QTest::newRow("first of two") << QStringLiteral("key=1&key=2") << QStringLiteral("key") << true
                                  << QStringLiteral("1");
    QTest::newRow("no equals sign") << QStringLiteral("flag&key=v") << QStringLiteral("flag")
                                    << true << QString();
    QTest::newRow("missing") << QStringLiteral("key=v") << QStringLiteral("roomId") << false
                             << QString();
    QTest::newRow("escaped name") << QStringLiteral("room%49d=x") << QStringLiteral("roomId")
                                  << true << QStringLiteral("x");
    QTest::newRow("UTF-8 escapes") << QStringLiteral("v=%E2%82%AC") << QStringLiteral("v") << true
                                   << QStringLiteral("€");
}

void TestKvRoom::searchParamDecodesAsUrlSearchParams()
{
    QFETCH(QString, query);
    QFETCH(QString, name);
    QFETCH(bool, present);
    QFETCH(QString, value);

    QUrl url(QStringLiteral("http://roomscope.invalid/get"));
    url.setQuery(query, QUrl::StrictMode);
    const std::optional<QString> found = searchParam(url, name);
    QCOMPARE(found.has_value(), present);
    if (present)
        QCOMPARE(*found, value);
}

void TestKvRoom::countsAcceptedSockets()
{
    RoomFixture fixture;
    RecordingClient near(fixture.simulation, QStringLiteral("near"), fixture.lhr);
    RecordingClient far(fixture.simulation, QStringLiteral("far"), fixture.sjc);
    RecordingClient third(fixture.simulation, QStringLiteral("third"), fixture.lhr);
    Reply *first = fixture.connect(kStart, &near, QStringLiteral("lobby"));
    Reply *second = fixture.connect(kStart, &far, QStringLiteral("lobby"));
    Reply *last = fixture.connect(kStart + milliseconds(1), &third, QStringLiteral("lobby"));
    Reply *count = fixture.send(kStart + seconds(1), fixture.lhr,
        roomUrl(QStringLiteral("count"), QStringLiteral("lobby")));
    fixture.simulation.runUntil(kStart + seconds(10));

    for (Reply *reply : { first, second, last }) {
        QVERIFY(reply->response.has_value());
        QCOMPARE(reply->response->status, 101);
        QVERIFY(reply->response->webSocket);
    }
    QCOMPARE(first->arrivedAt, kStart + 2 * kLocalUs);
    QCOMPARE(second->arrivedAt, kStart + 2 * kLhrToSjcUs);
    QVERIFY(count->response.has_value());
    QCOMPARE(count->response->body, QByteArray("3"));

    // The room accepts in arrival order: the near clients first, the far one 70 ms later.
    const std::vector<TraceEvent> accepts = fixture.eventsOf(TraceKind::WsAccept);
    QCOMPARE(accepts.size(), size_t(3));
    QCOMPARE(accepts[0].subject, QStringLiteral("near"));
    QCOMPARE(accepts[1].subject, QStringLiteral("third"));
    QCOMPARE(accepts[2].subject, QStringLiteral("far"));
    QCOMPARE(accepts[0].numbers[1], 1);
    QCOMPARE(accepts[1].numbers[1], 2);
    QCOMPARE(accepts[2].numbers[1], 3);
    QCOMPARE(quint64(accepts[2].numbers[0]), far.connection());
    QCOMPARE(fixture.rooms->find(fixture.rooms->idFromName(QStringLiteral("lobby")))->openSocketCount(), 3);
}

void TestKvRoom::coalescesWritesToOneKey()
{
    RoomFixture fixture;
    // The first write is in flight from 2 ms to 142 ms; the next may start 1 s after that.
    std::vector<Reply *> puts;
    for (int i = 0; i < 4; ++i) {
        puts.push_back(fixture.send(kStart + milliseconds(10 * i), fixture.lhr,
            putUrl("lobby", "state", QStringLiteral("v%1").arg(i + 1))));
    }
    fixture.simulation.runUntil(kStart + seconds(10));

    const std::vector<TraceEvent> writes = fixture.eventsOf(TraceKind::KvPut);
    QCOMPARE(writes.size(), size_t(2));
    QCOMPARE(values(writes), QByteArrayList({ "v1", "v4" }));
    QCOMPARE(offsetsMs(writes), QList<qint64>({ 72, 1212 }));
    QCOMPARE(writes[0].numbers[0], 200);
    QCOMPARE(writes[1].numbers[0], 200);
    QCOMPARE(fixture.kv->centralEntry(QStringLiteral("state"))->value, QByteArray("v4"));

    for (Reply *reply : puts) {
        QVERIFY(reply->response.has_value());
        QCOMPARE(reply->response->status, 200);
        QCOMPARE(reply->response->body, QByteArray("ok\n"));
    }
    QCOMPARE(puts[0]->arrivedAt, kStart + milliseconds(144));
    for (int i = 1; i < 4; ++i)
        QCOMPARE(puts[size_t(i)]->arrivedAt, kStart + milliseconds(1284));

    const std::vector<TraceEvent> queued = fixture.eventsOf(TraceKind::WriteQueued);
    QCOMPARE(queued.size(), size_t(4));
    QCOMPARE(values(queued), QByteArrayList({ "v1", "v2", "v3", "v4" }));
    QList<qint64> depths;
    QList<qint64> coalesced;
    for (const TraceEvent &event : queued) {
        depths << event.numbers[0];
        coalesced << event.numbers[1];
    }
    QCOMPARE(depths, QList<qint64>({ 1, 2, 2, 2 }));
    QCOMPARE(coalesced, QList<qint64>({ 0, 0, 1, 1 }));

    KvRoom *room = fixture.room(QStringLiteral("lobby"));
    QVERIFY(room);
    QCOMPARE(room->peakPendingWrites(), 2);
    QVERIFY(room->pendingWrites().empty());
}

void TestKvRoom::pacesWritesToOneKey_data()
{
    QTest::addColumn<int>("intervalMs"); // between the ten puts
    QTest::addColumn<QList<qint64>>("expectedWriteMs"); // kv.put times at the central store
    QTest::addColumn<QByteArrayList>("expectedValues");

    // A write reaches the central store 70 ms after the room sends it and is acknowledged
    // 70 ms later. The room sends the key's next write 1 s after that acknowledgement.
    QTest::newRow("ten puts within a second")
        << 100 << QList<qint64> { 72, 1212 } << QByteArrayList { "v0", "v9" };
    QTest::newRow("a put every 400 ms") << 400 << QList<qint64> { 72, 1212, 2352, 3492, 4632 }
                                        << QByteArrayList { "v0", "v2", "v5", "v8", "v9" };
}

void TestKvRoom::pacesWritesToOneKey()
{
    QFETCH(int, intervalMs);
    QFETCH(QList<qint64>, expectedWriteMs);
    QFETCH(QByteArrayList, expectedValues);

    RoomFixture fixture;
    std::vector<Reply *> puts;
    for (int i = 0; i < 10; ++i) {
        puts.push_back(fixture.send(kStart + milliseconds(qint64(intervalMs) * i), fixture.lhr,
            putUrl("lobby", "state", QStringLiteral("v%1").arg(i))));
    }
    fixture.simulation.runUntil(kStart + seconds(30));

    const std::vector<TraceEvent> writes = fixture.eventsOf(TraceKind::KvPut);
    for (const TraceEvent &write : writes)
        QCOMPARE(write.numbers[0], 200); // no 429
    for (size_t i = 1; i < writes.size(); ++i)
        QVERIFY(writes[i].time - writes[i - 1].time >= seconds(1));
    QCOMPARE(offsetsMs(writes), expectedWriteMs);
    QCOMPARE(values(writes), expectedValues);
    QCOMPARE(fixture.kv->centralEntry(QStringLiteral("state"))->value, QByteArray("v9"));

    for (Reply *reply : puts) {
        QVERIFY(reply->response.has_value());
        QCOMPARE(reply->response->status, 200);
        QCOMPARE(reply->response->body, QByteArray("ok\n"));
    }
}

void TestKvRoom::otherKeysNotHeldBack()
{
    RoomFixture fixture;
    Reply *a1 = fixture.send(kStart, fixture.lhr, putUrl("lobby", "a", "a1"));
    Reply *a2 = fixture.send(kStart + milliseconds(10), fixture.lhr, putUrl("lobby", "a", "a2"));
    Reply *b1 = fixture.send(kStart + milliseconds(20), fixture.lhr, putUrl("lobby", "b", "b1"));
    fixture.simulation.runUntil(kStart + seconds(10));

    // b1 waits only for a1 to finish (one write in flight), not for a's 1 s interval.
    const std::vector<TraceEvent> writes = fixture.eventsOf(TraceKind::KvPut);
    QCOMPARE(writes.size(), size_t(3));
    QCOMPARE(values(writes), QByteArrayList({ "a1", "b1", "a2" }));
    QCOMPARE(offsetsMs(writes), QList<qint64>({ 72, 212, 1212 }));
    QCOMPARE(b1->arrivedAt, kStart + milliseconds(284));
    QCOMPARE(a2->arrivedAt, kStart + milliseconds(1284));
    for (Reply *reply : { a1, a2, b1 })
        QCOMPARE(reply->response->status, 200);

    const std::vector<TraceEvent> queued = fixture.eventsOf(TraceKind::WriteQueued);
    QCOMPARE(queued.size(), size_t(3));
    QCOMPARE(queued[2].subject, QStringLiteral("b"));
    QCOMPARE(queued[2].numbers[0], 3);
    QCOMPARE(queued[2].numbers[1], 0);
}

void TestKvRoom::broadcastReachesEverySocket()
{
    RoomFixture fixture;
    std::vector<std::unique_ptr<RecordingClient>> clients;
    for (int i = 0; i < 5; ++i) {
        const LocationId location = i < 3 ? fixture.lhr : fixture.sjc;
        clients.push_back(std::make_unique<RecordingClient>(
            fixture.simulation, QStringLiteral("client %1").arg(i + 1), location));
        fixture.connect(kStart, clients.back().get(), QStringLiteral("lobby"));
    }
    fixture.send(kStart + seconds(1), fixture.lhr, putUrl("lobby", "state", "hello"));
    Reply *broadcast = fixture.send(
        kStart + seconds(2), fixture.lhr, roomUrl("broadcast", "lobby", { { "key", "state" } }));
    fixture.simulation.runUntil(kStart + seconds(10));

    QVERIFY(broadcast->response.has_value());
    QCOMPARE(broadcast->response->status, 200);
    QCOMPARE(broadcast->response->contentType, QByteArray("application/json"));
    const QJsonObject body = QJsonDocument::fromJson(broadcast->response->body).object();
    QCOMPARE(body.value(QStringLiteral("sent")).toInt(), 5);
    QCOMPARE(body.value(QStringLiteral("failed")).toInt(), 0);

    const std::vector<TraceEvent> reads = fixture.eventsOf(TraceKind::KvGet);
    QCOMPARE(reads.size(), size_t(1));
    QCOMPARE(reads[0].value, QByteArray("hello"));
    const std::vector<TraceEvent> broadcasts = fixture.eventsOf(TraceKind::WsBroadcast);
    QCOMPARE(broadcasts.size(), size_t(1));
    QCOMPARE(broadcasts[0].numbers[0], 5); // sockets
    QCOMPARE(broadcasts[0].numbers[1], 5); // bytes
    // Worker to room 2 ms, then a 1 ms read from the room's own cache.
    const SimTime sentAt = broadcasts[0].time;
    QCOMPARE(sentAt, kStart + seconds(2) + kLocalUs + milliseconds(1));

    int deliveries = 0;
    for (const auto &client : clients) {
        QCOMPARE(client->messages().size(), size_t(1));
        const RecordingClient::Message &message = client->messages().front();
        QCOMPARE(message.data, QByteArray("hello"));
        QCOMPARE(message.sentAt, sentAt);
        QCOMPARE(message.receivedAt,
            sentAt + fixture.locations.baseLatency(fixture.lhr, client->location()));
        deliveries += int(client->messages().size());
    }
    QCOMPARE(deliveries, 5);
    QCOMPARE(clients[0]->messages().front().receivedAt, sentAt + kLocalUs);
    QCOMPARE(clients[4]->messages().front().receivedAt, sentAt + kLhrToSjcUs);
}

void TestKvRoom::broadcastToSimulatedClients()
{
    // The same broadcast through a World, whose simulated clients connect at the start.
    const QByteArray json = R"({
        "name": "broadcast",
        "start": "2026-01-01T00:00:00Z",
        "duration": "10s",
        "locations": ["LHR", "SJC"],
        "latency": { "local": "2ms", "jitterPercent": 0,
                     "between": [{ "from": "LHR", "to": "SJC", "oneWay": "70ms" }] },
        "kv": { "centralLocation": "SJC" },
        "worker": { "connectSpread": "0s" },
        "rooms": [{ "name": "lobby", "location": "LHR",
                    "clients": [{ "location": "LHR", "count": 3 },
                                { "location": "SJC", "count": 2 }] }]
    })";
    const Result<Scenario> scenario = Scenario::parse(json, QStringLiteral("broadcast.json"));
    QVERIFY2(scenario.ok(), qPrintable(scenario ? QString() : scenario.error().message));
    Result<std::unique_ptr<World>> created = World::create(*scenario);
    QVERIFY(created.ok());
    World &world = *created.value();
    const LocationId lhr = world.locations().find(QStringLiteral("LHR"));

    std::optional<HttpResponse> broadcastResponse;
    world.simulation().schedule(kStart + seconds(1), [&world, lhr] {
        HttpRequest request;
        request.url = putUrl("lobby", "state", "hello");
        world.sendRequest(QStringLiteral("writer"), lhr, request, nullptr);
    });
    world.simulation().schedule(kStart + seconds(2), [&world, lhr, &broadcastResponse] {
        HttpRequest request;
        request.url = roomUrl("broadcast", "lobby", { { "key", "state" } });
        world.sendRequest(QStringLiteral("broadcaster"), lhr, request,
            [&broadcastResponse](const HttpResponse &response) { broadcastResponse = response; });
    });
    world.runToEnd();

    QVERIFY(broadcastResponse.has_value());
    QCOMPARE(broadcastResponse->status, 200);
    QCOMPARE(world.metrics().kvReads, quint64(1));
    QCOMPARE(world.metrics().broadcasts, quint64(1));
    QCOMPARE(world.metrics().messagesSent, quint64(5));
    QCOMPARE(world.metrics().messagesDelivered, quint64(5));
    // Client to Worker 2 ms, Worker to room 2 ms, then a 1 ms read from the room's cache.
    const SimTime sentAt = kStart + seconds(2) + 2 * kLocalUs + milliseconds(1);

    QCOMPARE(world.clients().size(), size_t(5));
    for (const auto &client : world.clients()) {
        QCOMPARE(client->state(), SimulatedClient::State::Open);
        QCOMPARE(client->messagesReceived(), quint64(1));
        QCOMPARE(client->lastMessage(), QByteArray("hello"));
        const SimDuration latency = client->location() == lhr ? kLocalUs : kLhrToSjcUs;
        QCOMPARE(client->lastMessageAt(), sentAt + latency);
    }
}

QTEST_GUILESS_MAIN(TestKvRoom)
#include "tst_kvroom.moc"
