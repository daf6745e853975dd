// The loopback gateway with real clients: routing by roomId, keep-alive, broadcasts to a thousand
// real sockets and to real and simulated clients together, reloads, and the gateway's own pages.
// The guards are in tst_gatewayguards.cpp.

#include "gatewayfixture.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QNetworkReply>
#include <QTemporaryDir>
#include <QTest>

#include <sys/resource.h>

using namespace roomscope;
using namespace roomscope::testing;

namespace {

/// File descriptors the thousand-socket test needs: both ends of each connection, and spare.
constexpr rlim_t kDescriptorsNeeded = 2'300;

/// Raises the soft limit on open files to what the test needs; returns false when the hard
/// limit is lower.
bool raiseDescriptorLimit()
{
    rlimit limit {};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return false;
    if (limit.rlim_cur >= kDescriptorsNeeded)
        return true;
    if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < kDescriptorsNeeded)
        return false;
    limit.rlim_cur = kDescriptorsNeeded;
    return ::setrlimit(RLIMIT_NOFILE, &limit) == 0;
}

bool writeFile(const QString &path, const QByteArray &content)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(content) == content.size();
}

} // namespace

class GatewayTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanup();

    void roomIdRoutesToRoomObject();
    void missingRoomIdIsBadRequest();
    void keepAliveRespondsInOrder();
    void requestBodyKeepsFraming();
    void bodyAndHeadersReachWorker();
    void networkAccessManagerClient();
    void broadcastReachesThousandSockets();
    void realAndSimulatedClientsShareBroadcast();
    void reloadClosesEverything();
    void demoPage();
    void statusPage();
    void unknownOwnPage();
};

void GatewayTest::initTestCase()
{
    QVERIFY2(!qEnvironmentVariableIsEmpty("ROOMSCOPE_SOURCE_DIR"),
             "ROOMSCOPE_SOURCE_DIR is not set: run the test with ctest, or set it to the source "
             "tree");
    // Loopback clients must never go through a proxy from the environment.
    QNetworkProxy::setApplicationProxy(QNetworkProxy::NoProxy);
}

void GatewayTest::cleanup()
{
    QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
}

void GatewayTest::roomIdRoutesToRoomObject()
{
    GatewayFixture fixture;
    QCOMPARE(fixture.start(QStringLiteral("gateway-local.json")), QString());
    TraceRecorder queued(fixture.world(), { TraceKind::WriteQueued });

    HttpClient client;
    QVERIFY(client.connectTo(fixture.port()));
    client.send(fixture.get("/put?roomId=red&key=colour&value=crimson"));
    client.send(fixture.get("/put?roomId=blue&key=shade&value=navy"));
    client.send(fixture.get("/id?roomId=red"));
    client.send(fixture.get("/id?roomId=blue"));
    client.send(fixture.get("/get?roomId=red&key=shade"));
    const std::vector<HttpReply> replies = client.waitForReplies(5);
    QCOMPARE(replies.size(), size_t(5));

    QCOMPARE(replies[0].status, 200);
    QCOMPARE(replies[0].body, QByteArray("ok\n"));
    QCOMPARE(replies[1].status, 200);
    QCOMPARE(replies[1].body, QByteArray("ok\n"));

    // Each roomId reached its own Durable Object, named after it.
    DurableObject *red = fixture.world().roomObject(QStringLiteral("red"));
    DurableObject *blue = fixture.world().roomObject(QStringLiteral("blue"));
    QVERIFY(red);
    QVERIFY(blue);
    QVERIFY(red != blue);
    QCOMPARE(red->name(), QStringLiteral("red"));
    QCOMPARE(blue->name(), QStringLiteral("blue"));
    QCOMPARE(replies[2].status, 200);
    QCOMPARE(replies[2].body, red->id().toString().toLatin1());
    QCOMPARE(replies[3].status, 200);
    QCOMPARE(replies[3].body, blue->id().toString().toLatin1());
    QVERIFY(replies[2].body != replies[3].body);
    QStringList rooms = fixture.world().roomNames();
    rooms.sort();
    QCOMPARE(rooms, QStringList({ QStringLiteral("blue"), QStringLiteral("red") }));

    // Each write was queued by the room it was sent to; KV itself is one namespace for both.
    QCOMPARE(queued.events.size(), size_t(2));
    QCOMPARE(queued.events[0].actor, QStringLiteral("room red"));
    QCOMPARE(queued.events[0].subject, QStringLiteral("colour"));
    QCOMPARE(queued.events[1].actor, QStringLiteral("room blue"));
    QCOMPARE(queued.events[1].subject, QStringLiteral("shade"));
    QCOMPARE(fixture.world().kv().centralEntry(QStringLiteral("colour"))->value, QByteArray("crimson"));
    QCOMPARE(fixture.world().kv().centralEntry(QStringLiteral("shade"))->value, QByteArray("navy"));
    QCOMPARE(replies[4].status, 200);
    QCOMPARE(replies[4].body, QByteArray("navy"));
    queued.stop();
}

void GatewayTest::missingRoomIdIsBadRequest()
{
    GatewayFixture fixture;
    QCOMPARE(fixture.start(QStringLiteral("gateway-local.json")), QString());

    const std::optional<HttpReply> reply = fixture.fetch(fixture.get("/get?key=colour"));
    QVERIFY(reply);
    QCOMPARE(reply->statusLine, QByteArray("HTTP/1.1 400 Bad Request"));
    QCOMPARE(reply->header("content-type"), QByteArray("text/plain;charset=UTF-8"));
    QCOMPARE(reply->body, QByteArray("missing roomId\n"));
    QCOMPARE(fixture.world().roomNames(), QStringList());

    // An upgrade without a roomId gets the Worker's own response instead of a WebSocket.
    const std::optional<HttpReply> upgrade = fixture.fetch(
            fixture.get("/ws", { "Upgrade: websocket", "Connection: Upgrade",
                                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                                 "Sec-WebSocket-Version: 13" }));
    QVERIFY(upgrade);
    QCOMPARE(upgrade->status, 400);
    QCOMPARE(upgrade->body, QByteArray("missing roomId\n"));
    QCOMPARE(upgrade->header("connection"), QByteArray("close"));
    QCOMPARE(fixture.world().realClients().size(), size_t(1));
    QCOMPARE(fixture.world().realClients().front()->state(), RealClient::State::Rejected);
    QCOMPARE(fixture.world().realClients().front()->rejectedStatus(), 400);
}

void GatewayTest::keepAliveRespondsInOrder()
{
    // In kv-room the arena's object is in SJC, 70 ms from the gateway's clients in LHR, and the
    // lobby's is in LHR, so the lobby's responses are ready first and must wait their turn.
    GatewayFixture fixture;
    QCOMPARE(fixture.start(QStringLiteral("kv-room.json")), QString());
    TraceRecorder ends(fixture.world(), { TraceKind::RequestEnd });

    HttpClient client;
    QVERIFY(client.connectTo(fixture.port()));
    client.send(fixture.get("/id?roomId=arena") + fixture.get("/id?roomId=lobby")
                + fixture.get("/get?roomId=arena&key=absent") + fixture.get("/id?roomId=lobby"));
    const std::vector<HttpReply> replies = client.waitForReplies(4);
    QCOMPARE(replies.size(), size_t(4));

    const QByteArray arenaId = fixture.world().roomObject(QStringLiteral("arena"))->id().toString().toLatin1();
    const QByteArray lobbyId = fixture.world().roomObject(QStringLiteral("lobby"))->id().toString().toLatin1();
    QCOMPARE(replies[0].body, arenaId);
    QCOMPARE(replies[1].body, lobbyId);
    QCOMPARE(replies[2].body, QByteArray("not found\n"));
    QCOMPARE(replies[3].body, lobbyId);
    QCOMPARE(replies[0].status, 200);
    QCOMPARE(replies[1].status, 200);
    QCOMPARE(replies[2].status, 404);
    QCOMPARE(replies[3].status, 200);
    for (const HttpReply &reply : replies)
        QCOMPARE(reply.header("connection"), QByteArray("keep-alive"));
    QCOMPARE(client.socket().state(), QAbstractSocket::ConnectedState);

    // The simulation finished the lobby's requests before the arena's.
    const QString actor = QStringLiteral("http 127.0.0.1:%1").arg(client.localPort());
    QStringList finished;
    for (const TraceEvent &event : ends.events) {
        if (event.actor == actor)
            finished << event.subject;
    }
    QCOMPARE(finished, QStringList({ QStringLiteral("lobby"), QStringLiteral("lobby"),
                                     QStringLiteral("arena"), QStringLiteral("arena") }));
    ends.stop();
}

void GatewayTest::requestBodyKeepsFraming()
{
    GatewayFixture fixture;
    QCOMPARE(fixture.start(QStringLiteral("gateway-local.json")), QString());
    TraceRecorder starts(fixture.world(), { TraceKind::RequestStart });

    // A body that reads like a request: were it parsed as one, a third response would come.
    const QByteArray body = fixture.get("/put?roomId=red&key=smuggled&value=yes");
    HttpClient client;
    QVERIFY(client.connectTo(fixture.port()));
    client.send(httpRequestBytes("POST", "/put?roomId=red&key=posted&value=1",
                                 { fixture.hostHeader(), "Content-Type: text/plain" }, body));
    client.send(httpRequestBytes("PUT", "/put?roomId=red&key=put&value=2", { fixture.hostHeader() },
                                 QByteArray(5000, 'b')));
    client.send(fixture.get("/id?roomId=red"));
    const std::vector<HttpReply> replies = client.waitForReplies(3);
    QCOMPARE(replies.size(), size_t(3));
    QCOMPARE(replies[0].body, QByteArray("ok\n"));
    QCOMPARE(replies[1].body, QByteArray("ok\n"));
    QCOMPARE(replies[2].body,
             fixture.world().roomObject(QStringLiteral("red"))->id().toString().toLatin1());
    QCOMPARE(client.unparsed(), QByteArray());
    QVERIFY(!fixture.world().kv().centralEntry(QStringLiteral("smuggled")));

    QStringList requests;
    for (const TraceEvent &event : starts.events)
        requests << QString::fromUtf8(event.value);
    QCOMPARE(requests, QStringList({ QStringLiteral("POST /put?roomId=red&key=posted&value=1"),
                                     QStringLiteral("PUT /put?roomId=red&key=put&value=2"),
                                     QStringLiteral("GET /id?roomId=red") }));
    starts.stop();
}

void GatewayTest::bodyAndHeadersReachWorker()
{
    // The built-in Worker ignores bodies, so a JavaScript Worker echoes what it gets.
    QTemporaryDir directory;
    QVERIFY(directory.isValid());
    QVERIFY(writeFile(directory.filePath(QStringLiteral("echo.mjs")), R"(
import { DurableObject } from "cloudflare:workers";
export default {
  async fetch(request) {
    const body = await request.text();
    const type = request.headers.get("content-type");
    return new Response(`${request.method}|${type}|${body.length}|${body}`);
  },
};
export class Room extends DurableObject {}
)"));
    QVERIFY(writeFile(directory.filePath(QStringLiteral("echo.json")), R"({
  "name": "echo", "seed": 1, "start": "2026-01-01T00:00:00Z", "duration": "1s",
  "locations": ["local"], "latency": { "local": "0ms", "jitterPercent": 0 },
  "kv": { "binding": "KV", "profile": "local" },
  "worker": { "module": "echo.mjs", "roomsBinding": "ROOMS", "roomClass": "Room" },
  "durableObjects": { "profile": "local" }, "rooms": [], "workloads": []
})"));
    GatewayFixture fixture;
    QCOMPARE(fixture.startScenario(directory.filePath(QStringLiteral("echo.json"))), QString());

    const QByteArray text = QStringLiteral("h\u00e9llo ").toUtf8() + QByteArray(4000, 'x');
    HttpClient client;
    QVERIFY(client.connectTo(fixture.port()));
    client.send(httpRequestBytes("POST", "/echo?roomId=a",
                                 { fixture.hostHeader(), "Content-Type: text/plain;charset=UTF-8" },
                                 text));
    client.send(httpRequestBytes("PUT", "/echo?roomId=a",
                                 { fixture.hostHeader(), "Content-Type: application/json" },
                                 R"({"n":1})"));
    client.send(fixture.get("/echo?roomId=a"));
    const std::vector<HttpReply> replies = client.waitForReplies(3);
    QCOMPARE(replies.size(), size_t(3));
    // JavaScript counts UTF-16 code units: "héllo " is 6 of them.
    QCOMPARE(replies[0].body, "POST|text/plain;charset=UTF-8|4006|" + text);
    QCOMPARE(replies[1].body, QByteArray(R"(PUT|application/json|7|{"n":1})"));
    QCOMPARE(replies[2].body, QByteArray("GET|null|0|"));
}

void GatewayTest::networkAccessManagerClient()
{
    GatewayFixture fixture;
    QCOMPARE(fixture.start(QStringLiteral("gateway-local.json")), QString());

    QNetworkAccessManager manager;
    const QString base = fixture.gateway->url();
    QNetworkReply *put = manager.put(
            QNetworkRequest(QUrl(base + QStringLiteral("/put?roomId=green&key=leaf&value=oak"))),
            QByteArray("ignored by the Worker"));
    QTRY_VERIFY_WITH_TIMEOUT(put->isFinished(), kWaitMs);
    QCOMPARE(put->error(), QNetworkReply::NoError);
    QCOMPARE(put->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
    QCOMPARE(put->readAll(), QByteArray("ok\n"));
    put->deleteLater();

    QNetworkReply *get = manager.get(
            QNetworkRequest(QUrl(base + QStringLiteral("/get?roomId=green&key=leaf"))));
    QTRY_VERIFY_WITH_TIMEOUT(get->isFinished(), kWaitMs);
    QCOMPARE(get->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
    QCOMPARE(get->header(QNetworkRequest::ContentTypeHeader).toString(),
             QStringLiteral("text/plain;charset=UTF-8"));
    QCOMPARE(get->readAll(), QByteArray("oak"));
    get->deleteLater();
}

void GatewayTest::broadcastReachesThousandSockets()
{
    if (!raiseDescriptorLimit())
        QSKIP("The hard limit on open files is below what 1,000 loopback connections need "
              "(ulimit -Hn); raise it to run this test.");
    constexpr int kSockets = 1000;
    GatewayFixture fixture;
    QCOMPARE(fixture.start(QStringLiteral("gateway-local.json")), QString());

    const TestWebSockets sockets = fixture.openWebSockets(QStringLiteral("crowd"), kSockets);
    QCOMPARE(openCount(sockets), kSockets);
    QTRY_COMPARE_WITH_TIMEOUT(fixture.realClientCount(QStringLiteral("crowd"), RealClient::State::Open),
                              kSockets, kWaitMs);
    QCOMPARE(fixture.gateway->openWebSockets(), kSockets);
    QCOMPARE(fixture.world().roomObject(QStringLiteral("crowd"))->sockets().size(), size_t(kSockets));

    HttpClient client;
    QVERIFY(client.connectTo(fixture.port()));
    client.send(fixture.get("/put?roomId=crowd&key=news&value=first") +
                fixture.get("/broadcast?roomId=crowd&key=news"));
    std::vector<HttpReply> replies = client.waitForReplies(2);
    QCOMPARE(replies.size(), size_t(2));
    QCOMPARE(replies[0].body, QByteArray("ok\n"));
    QCOMPARE(replies[1].status, 200);
    QCOMPARE(replies[1].header("content-type"), QByteArray("application/json"));
    QCOMPARE(QJsonDocument::fromJson(replies[1].body).object(),
             QJsonObject({ { QStringLiteral("sent"), kSockets }, { QStringLiteral("failed"), 0 } }));
    QCOMPARE(replies[1].body, QByteArray(R"({"failed":0,"sent":1000})"));

    // A second broadcast marks the end of the first: a duplicate of the first would come
    // before it on the same connection.
    const auto countWith = [&](const QStringList &expected) {
        return int(std::count_if(sockets.begin(), sockets.end(),
                                 [&](const auto &socket) { return socket->messages == expected; }));
    };
    QTRY_COMPARE_WITH_TIMEOUT(countWith({ QStringLiteral("first") }), kSockets, kWaitMs);
    client.send(fixture.get("/put?roomId=crowd&key=news&value=second") +
                fixture.get("/broadcast?roomId=crowd&key=news"));
    replies = client.waitForReplies(2);
    QCOMPARE(replies.size(), size_t(2));
    QCOMPARE(replies[1].body, QByteArray(R"({"failed":0,"sent":1000})"));
    QTRY_COMPARE_WITH_TIMEOUT(countWith({ QStringLiteral("first"), QStringLiteral("second") }),
                              kSockets, kWaitMs);

    for (const auto &real : fixture.world().realClients()) {
        QCOMPARE(real->messagesReceived(), quint64(2));
        QCOMPARE(real->lastMessage(), QByteArray("second"));
    }
    QCOMPARE(openCount(sockets), kSockets);
}

void GatewayTest::realAndSimulatedClientsShareBroadcast()
{
    // kv-room's lobby is in LHR, the scenario's first location, where real clients join. Its 200
    // simulated clients are in LHR and NRT, and it broadcasts lobby:state every second from 2.5 s.
    GatewayFixture fixture;
    QCOMPARE(fixture.start(QStringLiteral("kv-room.json")), QString());
    TraceRecorder broadcasts(fixture.world(), { TraceKind::WsBroadcast });

    TestWebSockets sockets = fixture.openWebSockets(QStringLiteral("lobby"), 1);
    QCOMPARE(openCount(sockets), 1);
    TestWebSocket &real = *sockets.front();
    // Pause on the first message, before the next broadcast, so that the messages still on
    // their way to the simulated clients in NRT can be delivered without a new one following.
    QObject::connect(&real.socket, &QWebSocket::textMessageReceived, &real.socket,
                     [&](const QString &) { fixture.controller.pause(); });
    QTRY_COMPARE_WITH_TIMEOUT(real.messages.size(), 1, kWaitMs);
    QVERIFY(!fixture.controller.isRunning());
    fixture.controller.advanceBy(milliseconds(500));
    const QByteArray message = real.messages.front().toUtf8();
    QVERIFY(!message.isEmpty());

    QCOMPARE(fixture.world().realClients().size(), size_t(1));
    const RealClient &realClient = *fixture.world().realClients().front();
    QCOMPARE(realClient.name(), QStringLiteral("real/1"));
    QCOMPARE(realClient.room(), QStringLiteral("lobby"));
    QCOMPARE(realClient.state(), RealClient::State::Open);
    QCOMPARE(realClient.messagesReceived(), quint64(1));
    QCOMPARE(realClient.lastMessage(), message);

    int lobbyClients = 0;
    for (const auto &client : fixture.world().clients()) {
        if (client->room() != QLatin1String("lobby"))
            continue;
        ++lobbyClients;
        QCOMPARE(client->state(), SimulatedClient::State::Open);
        QCOMPARE(client->lastMessage(), message);
    }
    QCOMPARE(lobbyClients, 200);

    // One lobby broadcast so far, of this value, to the 200 simulated sockets and the real one.
    std::vector<TraceEvent> lobby;
    for (const TraceEvent &event : broadcasts.events) {
        if (event.actor == QLatin1String("room lobby"))
            lobby.push_back(event);
    }
    QCOMPARE(lobby.size(), size_t(1));
    QCOMPARE(lobby.front().subject, QStringLiteral("lobby:state"));
    QCOMPARE(lobby.front().value, message);
    QCOMPARE(lobby.front().numbers[0], qint64(201));
    broadcasts.stop();
}

void GatewayTest::reloadClosesEverything()
{
    GatewayFixture fixture;
    QCOMPARE(fixture.start(QStringLiteral("kv-room.json")), QString());
    TestWebSockets sockets = fixture.openWebSockets(QStringLiteral("lobby"), 3);
    QCOMPARE(openCount(sockets), 3);
    QTRY_COMPARE_WITH_TIMEOUT(fixture.realClientCount(QStringLiteral("lobby"), RealClient::State::Open),
                              3, kWaitMs);

    // Paused, the request reaches the Worker but the response from the arena's object in SJC
    // waits for the run to go on, so it is still pending at the reload.
    fixture.controller.pause();
    HttpClient pending;
    QVERIFY(pending.connectTo(fixture.port()));
    pending.send(fixture.get("/id?roomId=arena"));
    QTRY_COMPARE_WITH_TIMEOUT(fixture.gateway->requestsServed(), quint64(4), kWaitMs);
    QCOMPARE(pending.unparsed(), QByteArray());

    QVERIFY(fixture.controller.reload().ok());
    const std::optional<HttpReply> reply = pending.waitForReply();
    QVERIFY(reply);
    QCOMPARE(reply->statusLine, QByteArray("HTTP/1.1 503 Service Unavailable"));
    QCOMPARE(reply->body, QByteArray("Roomscope gateway: The simulation was reloaded.\n"));
    QCOMPARE(reply->header("connection"), QByteArray("close"));
    QVERIFY(pending.waitForDisconnected());

    for (const auto &socket : sockets) {
        QTRY_VERIFY_WITH_TIMEOUT(socket->disconnected, kWaitMs);
        QCOMPARE(socket->socket.closeCode(), QWebSocketProtocol::CloseCodeGoingAway);
        QCOMPARE(socket->socket.closeReason(), QStringLiteral("The simulation was reloaded."));
    }
    QCOMPARE(fixture.gateway->openWebSockets(), 0);

    // The gateway goes on with the new world.
    QVERIFY(fixture.controller.world()->realClients().empty());
    QVERIFY(fixture.controller.run());
    TestWebSockets again = fixture.openWebSockets(QStringLiteral("lobby"), 1);
    QCOMPARE(openCount(again), 1);
    QTRY_COMPARE_WITH_TIMEOUT(fixture.realClientCount(QStringLiteral("lobby"), RealClient::State::Open),
                              1, kWaitMs);
    QCOMPARE(fixture.world().realClients().front()->name(), QStringLiteral("real/1"));
    const std::optional<HttpReply> after = fixture.fetch(fixture.get("/id?roomId=arena"));
    QVERIFY(after);
    QCOMPARE(after->status, 200);
    QCOMPARE(after->body,
             fixture.world().roomObject(QStringLiteral("arena"))->id().toString().toLatin1());
}

void GatewayTest::demoPage()
{
    GatewayFixture fixture;
    QCOMPARE(fixture.start(QStringLiteral("gateway-local.json")), QString());

    QFile page(qEnvironmentVariable("ROOMSCOPE_SOURCE_DIR")
               + QStringLiteral("/resources/gateway/demo.html"));
    QVERIFY(page.open(QIODevice::ReadOnly));
    const QByteArray expected = page.readAll();

    const std::optional<HttpReply> reply = fixture.fetch(fixture.get("/__roomscope/"));
    QVERIFY(reply);
    QCOMPARE(reply->statusLine, QByteArray("HTTP/1.1 200 OK"));
    QCOMPARE(reply->header("content-type"), QByteArray("text/html;charset=UTF-8"));
    QVERIFY(reply->body.contains("new WebSocket("));
    QCOMPARE(reply->body, expected);
    // Own pages never reach the Worker, so no room is created and no request counted.
    QCOMPARE(fixture.world().roomNames(), QStringList());
    QCOMPARE(fixture.gateway->requestsServed(), quint64(0));
}

void GatewayTest::statusPage()
{
    GatewayFixture fixture;
    QCOMPARE(fixture.start(QStringLiteral("gateway-local.json")), QString());
    TestWebSockets sockets = fixture.openWebSockets(QStringLiteral("a"), 2);
    TestWebSockets more = fixture.openWebSockets(QStringLiteral("b"), 1);
    QCOMPARE(openCount(sockets), 2);
    QCOMPARE(openCount(more), 1);
    {
        const std::optional<HttpReply> put = fixture.fetch(fixture.get("/put?roomId=a&key=k&value=v"));
        QVERIFY(put);
        QCOMPARE(put->body, QByteArray("ok\n"));
    }
    const std::optional<HttpReply> refused =
            fixture.fetch(httpRequestBytes("GET", "/id?roomId=a", { "Host: elsewhere.example" }));
    QVERIFY(refused);
    QCOMPARE(refused->status, 403);
    // Both HTTP connections are closed once their client objects are gone.
    QTRY_COMPARE_WITH_TIMEOUT(fixture.gateway->openConnections(), 3, kWaitMs);

    const std::optional<HttpReply> reply = fixture.fetch(fixture.get("/__roomscope/status"));
    QVERIFY(reply);
    QCOMPARE(reply->status, 200);
    QCOMPARE(reply->header("content-type"), QByteArray("application/json"));
    QJsonParseError error;
    const QJsonObject status = QJsonDocument::fromJson(reply->body, &error).object();
    QCOMPARE(error.error, QJsonParseError::NoError);
    QCOMPARE(status.value(QStringLiteral("url")).toString(),
             QStringLiteral("http://127.0.0.1:%1").arg(fixture.port()));
    QCOMPARE(status.value(QStringLiteral("connections")).toInt(), 4); // three sockets and this
    QCOMPARE(status.value(QStringLiteral("webSockets")).toInt(), 3);
    QCOMPARE(status.value(QStringLiteral("requests")).toInt(), 4); // three upgrades and the put
    QCOMPARE(status.value(QStringLiteral("refusals")).toInt(), 1);
    QCOMPARE(status.value(QStringLiteral("scenario")).toString(), QStringLiteral("gateway-local"));
    QStringList rooms;
    for (const QJsonValue &room : status.value(QStringLiteral("rooms")).toArray())
        rooms << room.toString();
    rooms.sort();
    QCOMPARE(rooms, QStringList({ QStringLiteral("a"), QStringLiteral("b") }));
    const QDateTime virtualTime = QDateTime::fromString(
            status.value(QStringLiteral("virtualTime")).toString(), Qt::ISODateWithMs);
    QVERIFY(virtualTime.isValid());
    QVERIFY(virtualTime >= QDateTime(QDate(2026, 1, 1), QTime(0, 0), Qt::UTC));
    QVERIFY(virtualTime <= QDateTime::fromMSecsSinceEpoch(
                    fixture.world().simulation().now() / 1000, Qt::UTC));
}

void GatewayTest::unknownOwnPage()
{
    GatewayFixture fixture;
    QCOMPARE(fixture.start(QStringLiteral("gateway-local.json")), QString());
    const std::optional<HttpReply> reply = fixture.fetch(fixture.get("/__roomscope/missing"));
    QVERIFY(reply);
    QCOMPARE(reply->statusLine, QByteArray("HTTP/1.1 404 Not Found"));
    QCOMPARE(reply->body, QByteArray("Roomscope gateway: no page at /__roomscope/missing; the "
                                     "demo page is at /__roomscope/.\n"));
}

QTEST_GUILESS_MAIN(GatewayTest)
#include "tst_gateway.moc"
