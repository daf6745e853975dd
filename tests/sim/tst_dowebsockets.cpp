// WebSockets of the Durable Object runtime. The cases cover tags, attachments, the hibernatable
// socket limit, close codes, the close handshake and auto-responses. They also cover the output
// gate on sends, the received message size limit, broadcasts and how incoming messages are
// counted for billing.

#include "dofixture.h"

#include <QJsonArray>
#include <QTest>

#include <deque>

using namespace roomscope;
using namespace roomscope::testing;

Q_DECLARE_METATYPE(roomscope::Error::Kind)

namespace {

const QString kRoom = QStringLiteral("room-1");

/// 2026-01-01T00:00:00Z, the fixture's start, in epoch milliseconds.
constexpr qint64 kStartEpochMs = 1'767'225'600'000;

/// The client end of one socket. It records what the server sends and how the connection
/// closed, and sends its own frames, which reach the object after the one-way latency.
class TestClient : public WebSocketClient
{
public:
    struct Received
    {
        QByteArray data;
        SimTime at = 0; ///< arrival at the client
        SimTime sentAt = 0; ///< when the object sent it
    };

    TestClient(
        DurableObjectFixture &fixture, QString name, LocationId location, bool answersClose = true)
        : m_fixture(fixture)
        , m_name(std::move(name))
        , m_location(location)
        , m_answersClose(answersClose)
    {
    }

    QString name() const override { return m_name; }
    LocationId location() const override { return m_location; }
    void opened(quint64 connection) override { openedConnection = connection; }
    void messageReceived(const QByteArray &message, SimTime sentAt) override
    {
        received.push_back({ message, m_fixture.simulation.now(), sentAt });
    }
    void closed(int code, const QString &reason) override
    {
        ++closeCount;
        closeCode = code;
        closeReason = reason;
        closedAt = m_fixture.simulation.now();
    }
    bool answersClose() const override { return m_answersClose; }

    /// Sends a WebSocket upgrade request for `pathAndQuery` through a new stub and runs the
    /// simulation until the response arrives. A 101 response opens the client.
    Result<HttpResponse> connect(const QString &pathAndQuery = QStringLiteral("/ws"))
    {
        HttpRequest request = DurableObjectFixture::request(pathAndQuery);
        request.headers.append({ QByteArray("Upgrade"), QByteArray("websocket") });
        request.upgradeClient = this;
        Result<HttpResponse> response
            = runTask(m_fixture.simulation, m_fixture.stub(kRoom).fetch(std::move(request)));
        if (response && response->status == 101 && response->webSocket) {
            socket = response->webSocket;
            opened(socket->connection);
        }
        return response;
    }

    void send(const QByteArray &data, bool binary = false)
    {
        const WebSocketMessage message { data, binary };
        afterLatency([socket = socket, message](
                         DurableObject &object) { object.receiveMessage(socket, message); });
    }
    /// Sends a Close frame.
    void close(int code, const QString &reason)
    {
        afterLatency([socket = socket, code, reason](
                         DurableObject &object) { object.receiveClose(socket, code, reason); });
    }
    /// Drops the connection without a Close frame, as a lost TCP connection does.
    void drop()
    {
        afterLatency(
            [socket = socket](DurableObject &object) { object.receiveDisconnect(socket); });
    }

    QList<QByteArray> messages() const
    {
        QList<QByteArray> data;
        for (const Received &message : received)
            data << message.data;
        return data;
    }

    std::shared_ptr<ServerWebSocket> socket;
    std::optional<quint64> openedConnection;
    std::vector<Received> received;
    int closeCount = 0;
    int closeCode = 0;
    QString closeReason;
    SimTime closedAt = 0;

private:
    void afterLatency(std::function<void(DurableObject &)> action)
    {
        DurableObject *object = socket->object;
        const SimDuration latency = m_fixture.ns->latency(m_location, object->location());
        m_fixture.simulation.scheduleAfter(
            latency, [object, action = std::move(action)] { action(*object); });
    }

    DurableObjectFixture &m_fixture;
    QString m_name;
    LocationId m_location;
    bool m_answersClose;
};

/// The handler calls of every instance of the test object, kept outside the instances so that
/// hibernation does not lose them. Entries read like `#3 close 4001 "client bye" clean`, where
/// 3 is the socket's connection number.
struct HandlerLog
{
    QStringList calls;
    /// Whether webSocketClose() calls close() with the client's code and reason.
    bool closeInHandler = false;
};

QString logEntry(quint64 connection, const QString &call)
{
    return QStringLiteral("#%1 %2").arg(connection).arg(call);
}

Result<QJsonValue> toCallResult(const Status &status)
{
    if (!status)
        return status.error();
    return QJsonValue();
}

/// A chat-room object. `/ws` accepts the upgrade with ctx.acceptWebSocket() and the tags in
/// `?tags=a,b`, or with the standard accept() when the query has `standard`. With
/// `then-hibernatable` it calls acceptWebSocket() after accept(), and with `send-first` it sends
/// before accepting. RPC methods act on the sockets. Text messages are commands: `echo:X` sends X
/// back, and `save:K` puts K without awaiting the write, then sends "saved".
/// `save-unconfirmed:K` does the same with allowUnconfirmed.
class SocketObject : public DurableObjectBehaviour
{
public:
    SocketObject(DurableObjectState &ctx, std::shared_ptr<HandlerLog> log)
        : m_ctx(ctx)
        , m_log(std::move(log))
    {
    }

    DurableObjectState &context() { return m_ctx; }

    Task<Result<HttpResponse>> fetch(HttpRequest request) override
    {
        if (request.url.path() != QLatin1String("/ws"))
            co_return HttpResponse::text(404, "no route");
        const std::shared_ptr<ServerWebSocket> socket = m_ctx.upgrade(request);
        if (!socket)
            co_return HttpResponse::text(426, "expected Upgrade: websocket");
        if (request.hasQueryItem(u"send-first")) {
            if (const Status sent = m_ctx.send(socket, "early"); !sent)
                co_return sent.error();
        }
        if (request.hasQueryItem(u"standard")) {
            if (const Status accepted = m_ctx.accept(socket); !accepted)
                co_return accepted.error();
            m_standardSockets.push_back(socket);
            if (request.hasQueryItem(u"then-hibernatable")) {
                if (const Status accepted = m_ctx.acceptWebSocket(socket); !accepted)
                    co_return accepted.error();
            }
        } else {
            QStringList tags;
            if (request.hasQueryItem(u"tags"))
                tags = request.queryItem(u"tags").split(u',');
            if (const Status accepted = m_ctx.acceptWebSocket(socket, tags); !accepted)
                co_return accepted.error();
        }
        HttpResponse response;
        response.status = 101;
        response.webSocket = socket;
        co_return response;
    }

    Task<Result<QJsonValue>> call(QString method, QJsonArray arguments) override
    {
        if (method == QLatin1String("count"))
            co_return QJsonValue(qint64(m_ctx.getWebSockets(arguments.at(0).toString()).size()));
        if (method == QLatin1String("broadcast")) {
            qint64 sent = 0;
            for (const auto &socket : m_ctx.getWebSockets()) {
                if (m_ctx.send(socket, arguments.at(0).toString().toUtf8()))
                    ++sent;
            }
            co_return QJsonValue(sent);
        }
        if (method == QLatin1String("setAutoResponse")) {
            co_return toCallResult(m_ctx.setWebSocketAutoResponse(
                std::pair(arguments.at(0).toString(), arguments.at(1).toString())));
        }
        if (method == QLatin1String("setEventTimeout")) {
            std::optional<qint64> timeout;
            if (!arguments.at(0).isNull())
                timeout = arguments.at(0).toInteger();
            co_return toCallResult(m_ctx.setHibernatableWebSocketEventTimeout(timeout));
        }

        // The other methods act on one socket, named by its connection number.
        const std::shared_ptr<ServerWebSocket> socket = findSocket(arguments.at(0).toInteger());
        if (!socket)
            co_return Error::error(QStringLiteral("socket with connection number %1 not found")
                                       .arg(arguments.at(0).toInteger()));
        if (method == QLatin1String("send"))
            co_return toCallResult(m_ctx.send(socket, arguments.at(1).toString().toUtf8()));
        if (method == QLatin1String("close")) {
            co_return toCallResult(
                m_ctx.close(socket, arguments.at(1).toInt(), arguments.at(2).toString()));
        }
        if (method == QLatin1String("tags"))
            co_return QJsonValue(QJsonArray::fromStringList(m_ctx.getTags(*socket)));
        if (method == QLatin1String("serializeAttachment")) {
            std::optional<QByteArray> value;
            if (!arguments.at(1).isNull())
                value = arguments.at(1).toString().toUtf8();
            co_return toCallResult(m_ctx.serializeAttachment(*socket, value));
        }
        if (method == QLatin1String("deserializeAttachment")) {
            const std::optional<QByteArray> value = m_ctx.deserializeAttachment(*socket);
            co_return value ? QJsonValue(QString::fromUtf8(*value)) : QJsonValue();
        }
        if (method == QLatin1String("autoResponseTimestamp")) {
            const std::optional<qint64> at = m_ctx.getWebSocketAutoResponseTimestamp(*socket);
            co_return at ? QJsonValue(*at) : QJsonValue();
        }
        co_return co_await DurableObjectBehaviour::call(method, arguments);
    }

    Task<Status> webSocketMessage(
        std::shared_ptr<ServerWebSocket> socket, WebSocketMessage message) override
    {
        m_log->calls << logEntry(socket->connection,
            (message.binary ? QStringLiteral("message binary: ") : QStringLiteral("message text: "))
                + QString::fromUtf8(message.data));
        if (message.binary)
            co_return Done {};
        if (message.data.startsWith("echo:"))
            co_return m_ctx.send(socket, message.data.mid(5));
        const bool unconfirmed = message.data.startsWith("save-unconfirmed:");
        if (unconfirmed || message.data.startsWith("save:")) {
            const QString key = QString::fromUtf8(message.data.mid(message.data.indexOf(':') + 1));
            // The write is not awaited, but it still holds back the message sent after it.
            m_ctx.storage().put(key, QByteArray("1"), { false, unconfirmed });
            co_return m_ctx.send(socket, "saved");
        }
        co_return Done {};
    }

    Task<Status> webSocketClose(
        std::shared_ptr<ServerWebSocket> socket, int code, QString reason, bool wasClean) override
    {
        m_log->calls << logEntry(socket->connection,
            QStringLiteral("close %1 \"%2\" %3")
                .arg(code)
                .arg(reason, wasClean ? QStringLiteral("clean") : QStringLiteral("unclean")));
        if (m_log->closeInHandler)
            co_return m_ctx.close(socket, code, reason);
        co_return Done {};
    }

    Task<Status> webSocketError(std::shared_ptr<ServerWebSocket> socket, Error error) override
    {
        m_log->calls << logEntry(socket->connection, QStringLiteral("error ") + error.toString());
        co_return Done {};
    }

private:
    std::shared_ptr<ServerWebSocket> findSocket(qint64 connection) const
    {
        for (const auto &socket : m_ctx.getWebSockets()) {
            if (qint64(socket->connection) == connection)
                return socket;
        }
        for (const auto &socket : m_standardSockets) {
            if (qint64(socket->connection) == connection
                && socket->state != ServerWebSocket::State::Closed)
                return socket;
        }
        return nullptr;
    }

    DurableObjectState &m_ctx;
    std::shared_ptr<HandlerLog> m_log;
    std::vector<std::shared_ptr<ServerWebSocket>> m_standardSockets;
};

DurableObjectSettings settingsForDate(QDate date)
{
    DurableObjectSettings settings;
    settings.compatibilityDate = date;
    settings.compatibility = CompatibilityFlags::forDate(date);
    return settings;
}

/// The test object's namespace and the log its handlers write.
struct SocketFixture
{
    explicit SocketFixture(DurableObjectSettings settings = {})
        : log(std::make_shared<HandlerLog>())
        , fixture([log = log](
                      DurableObjectState &ctx) { return std::make_unique<SocketObject>(ctx, log); },
              StorageBackend::Sqlite, std::move(settings))
    {
    }

    DurableObject &object() { return fixture.object(kRoom); }
    SimTime now() const { return fixture.simulation.now(); }

    /// Calls an RPC method of the object through a new stub and runs until the result is back.
    Result<QJsonValue> call(const QString &method, const QJsonArray &arguments = {})
    {
        return runTask(fixture.simulation, fixture.stub(kRoom).call(method, arguments));
    }
    /// Returns how many sockets getWebSockets(tag) lists, through an RPC call.
    int count(const QString &tag = {})
    {
        return int(call(QStringLiteral("count"), { tag })->toInteger());
    }

    /// Runs the simulation until `offset` after its start.
    void runUntilOffset(SimDuration offset)
    {
        fixture.simulation.runUntil(fixture.simulation.start() + offset);
    }

    std::shared_ptr<HandlerLog> log;
    DurableObjectFixture fixture;
};

QJsonArray arguments(const TestClient &client, const QJsonArray &rest = {})
{
    QJsonArray all { qint64(client.socket->connection) };
    for (const QJsonValue &value : rest)
        all.append(value);
    return all;
}

QStringList numberedTags(int count, const QString &prefix = QStringLiteral("t"))
{
    QStringList tags;
    for (int i = 0; i < count; ++i)
        tags << prefix + QString::number(i);
    return tags;
}

} // namespace

class DoWebSocketsTest : public QObject
{
    Q_OBJECT

private slots:
    void acceptWebSocketTags_data();
    void acceptWebSocketTags();
    void getWebSocketsByTag();
    void hibernatableSocketLimit_data();
    void hibernatableSocketLimit();
    void acceptWebSocketAfterAccept();
    void standardSocketKeepsObjectAwake();

    void attachmentSizeLimit_data();
    void attachmentSizeLimit();
    void attachmentRoundTripAndUnset();
    void eventTimeoutLimit_data();
    void eventTimeoutLimit();

    void sendBeforeAccept();
    void sendAfterClose();
    void closeCodes_data();
    void closeCodes();
    void clientCloseRunsHandler();
    void clientCloseHandshake_data();
    void clientCloseHandshake();
    void serverCloseToSilentClient();
    void droppedConnection();

    void autoResponse_data();
    void autoResponse();
    void autoResponseKeepsSendOrder();
    void outputGateHoldsSend_data();
    void outputGateHoldsSend();
    void messageSizeLimit_data();
    void messageSizeLimit();
    void broadcastReachesEverySocket();
    void billingCountsIncomingMessagesOnly();
};

// ---------------------------------------------------------------------------------------------
// Accepting sockets

void DoWebSocketsTest::acceptWebSocketTags_data()
{
    QTest::addColumn<QStringList>("tags");
    QTest::addColumn<QString>("error");
    QTest::addColumn<QStringList>("storedTags");

    const QString tooMany
        = QStringLiteral("a Hibernatable WebSocket cannot have more than 10 tags");
    QTest::newRow("11 distinct tags") << numberedTags(11) << tooMany << QStringList();
    QTest::newRow("10 distinct tags and 2 repeats")
        << numberedTags(10) + QStringList { QStringLiteral("t0"), QStringLiteral("t1") } << tooMany
        << QStringList();
    QTest::newRow("tag of 257 characters")
        << QStringList { QString(257, u'y') }
        << QStringLiteral("\"%1\" is longer than the max tag length (256 characters).")
               .arg(QString(257, u'y'))
        << QStringList();
    QTest::newRow("tag of 256 characters")
        << QStringList { QString(256, u'y') } << QString() << QStringList { QString(256, u'y') };
    QTest::newRow("10 distinct tags") << numberedTags(10) << QString() << numberedTags(10);
    QTest::newRow("9 distinct tags and 1 repeat")
        << numberedTags(9) + QStringList { QStringLiteral("t3") } << QString() << numberedTags(9);
}

void DoWebSocketsTest::acceptWebSocketTags()
{
    QFETCH(QStringList, tags);
    QFETCH(QString, error);
    QFETCH(QStringList, storedTags);

    SocketFixture f;
    TestClient client(f.fixture, QStringLiteral("client"), f.fixture.lhr);
    const Result<HttpResponse> response
        = client.connect(QStringLiteral("/ws?tags=") + tags.join(u','));

    if (!error.isEmpty()) {
        QVERIFY(!response.ok());
        QCOMPARE(response.error().kind, Error::Kind::Error);
        QCOMPARE(response.error().message, error);
        QVERIFY(!client.openedConnection);
        QCOMPARE(f.count(), 0);
        QVERIFY(f.object().sockets().empty());
        return;
    }
    QVERIFY(response.ok());
    QCOMPARE(response->status, 101);
    QCOMPARE(client.openedConnection.value_or(0), client.socket->connection);
    QCOMPARE(
        f.call(QStringLiteral("tags"), arguments(client))->toVariant().toStringList(), storedTags);
    QCOMPARE(f.count(), 1);
}

void DoWebSocketsTest::getWebSocketsByTag()
{
    SocketFixture f;
    TestClient tagged(f.fixture, QStringLiteral("tagged"), f.fixture.lhr);
    TestClient plain1(f.fixture, QStringLiteral("plain-1"), f.fixture.lhr);
    TestClient plain2(f.fixture, QStringLiteral("plain-2"), f.fixture.sjc);
    QCOMPARE(tagged.connect(QStringLiteral("/ws?tags=room,t2"))->status, 101);
    QCOMPARE(plain1.connect()->status, 101);
    QCOMPARE(plain2.connect()->status, 101);

    QCOMPARE(f.count(QStringLiteral("room")), 1);
    QCOMPARE(f.count(QStringLiteral("t2")), 1);
    QCOMPARE(f.count(QStringLiteral("no-such")), 0);
    QCOMPARE(f.count(), 3);
}

void DoWebSocketsTest::hibernatableSocketLimit_data()
{
    QTest::addColumn<int>("settingOverride"); // 0 keeps the default setting
    QTest::addColumn<int>("limit");

    QTest::newRow("platform limit") << 0 << 32768;
    QTest::newRow("limit set to 3") << 3 << 3;
}

void DoWebSocketsTest::hibernatableSocketLimit()
{
    QFETCH(int, settingOverride);
    QFETCH(int, limit);

    DurableObjectSettings settings;
    if (settingOverride > 0)
        settings.maxHibernatableSockets = settingOverride;
    SocketFixture f(settings);
    std::deque<TestClient> clients;
    for (int i = 0; i < limit; ++i) {
        TestClient &client
            = clients.emplace_back(f.fixture, QStringLiteral("client-%1").arg(i), f.fixture.lhr);
        const Result<HttpResponse> response = client.connect();
        if (!response.ok() || response->status != 101)
            QFAIL(qPrintable(QStringLiteral("socket %1 was not accepted").arg(i)));
    }

    TestClient extra(f.fixture, QStringLiteral("extra"), f.fixture.lhr);
    const Result<HttpResponse> rejected = extra.connect();
    QVERIFY(!rejected.ok());
    QCOMPARE(rejected.error().kind, Error::Kind::Error);
    QCOMPARE(rejected.error().message,
        QStringLiteral("only %1 websockets can be accepted on a single Durable Object instance")
            .arg(limit));
    QVERIFY(!extra.openedConnection);
    QCOMPARE(f.count(), limit);
}

void DoWebSocketsTest::acceptWebSocketAfterAccept()
{
    SocketFixture f;
    TestClient client(f.fixture, QStringLiteral("client"), f.fixture.lhr);
    const Result<HttpResponse> response
        = client.connect(QStringLiteral("/ws?standard&then-hibernatable"));

    QVERIFY(!response.ok());
    QCOMPARE(response.error().kind, Error::Kind::Error);
    QCOMPARE(response.error().message,
        QStringLiteral("Cannot call `acceptWebSocket()` if the WebSocket was already accepted "
                       "via `accept()`"));
    QCOMPARE(f.count(), 0);
}

void DoWebSocketsTest::standardSocketKeepsObjectAwake()
{
    SocketFixture f;
    TestClient client(f.fixture, QStringLiteral("client"), f.fixture.lhr);
    QCOMPARE(client.connect(QStringLiteral("/ws?standard"))->status, 101);

    // Well past the 10 s hibernation delay and the 140 s maximum eviction delay.
    f.runUntilOffset(seconds(200));
    QCOMPARE(f.object().state(), ObjectState::IdleNonHibernatable);
    QCOMPARE(f.object().constructorRuns(), quint64(1));
    // getWebSockets() lists only sockets accepted with acceptWebSocket().
    QCOMPARE(f.count(), 0);

    QVERIFY(f.call(QStringLiteral("send"), arguments(client, { QStringLiteral("hi") })).ok());
    f.runUntilOffset(seconds(201));
    QCOMPARE(client.messages(), QList<QByteArray> { "hi" });
}

// ---------------------------------------------------------------------------------------------
// Attachments and the event timeout

void DoWebSocketsTest::attachmentSizeLimit_data()
{
    QTest::addColumn<int>("bytes");
    QTest::addColumn<QString>("error");

    // Serializing "a".repeat(16400) gives 16,406 bytes, the size in the platform's error.
    QTest::newRow("16406 bytes")
        << 16406
        << QStringLiteral("A WebSocket 'attachment' cannot be larger than 16384 bytes."
                          "'attachment' was 16406 bytes.");
    QTest::newRow("16385 bytes")
        << 16385
        << QStringLiteral("A WebSocket 'attachment' cannot be larger than 16384 bytes."
                          "'attachment' was 16385 bytes.");
    QTest::newRow("16384 bytes") << 16384 << QString();
}

void DoWebSocketsTest::attachmentSizeLimit()
{
    QFETCH(int, bytes);
    QFETCH(QString, error);

    SocketFixture f;
    TestClient client(f.fixture, QStringLiteral("client"), f.fixture.lhr);
    QCOMPARE(client.connect()->status, 101);
    const QString value(bytes, u'a');
    const Result<QJsonValue> stored
        = f.call(QStringLiteral("serializeAttachment"), arguments(client, { value }));
    const Result<QJsonValue> read
        = f.call(QStringLiteral("deserializeAttachment"), arguments(client));

    if (!error.isEmpty()) {
        QVERIFY(!stored.ok());
        QCOMPARE(stored.error().kind, Error::Kind::Error);
        QCOMPARE(stored.error().message, error);
        QVERIFY(read->isNull());
        return;
    }
    QVERIFY(stored.ok());
    QCOMPARE(read->toString(), value);
}

void DoWebSocketsTest::attachmentRoundTripAndUnset()
{
    SocketFixture f;
    TestClient client(f.fixture, QStringLiteral("client"), f.fixture.lhr);
    QCOMPARE(client.connect()->status, 101);

    auto *live = dynamic_cast<SocketObject *>(f.object().behaviour());
    QVERIFY(live);
    QCOMPARE(live->context().deserializeAttachment(*client.socket), std::nullopt);
    QVERIFY(f.call(QStringLiteral("deserializeAttachment"), arguments(client))->isNull());

    const QString value = QStringLiteral("{\"a\":1}");
    QVERIFY(f.call(QStringLiteral("serializeAttachment"), arguments(client, { value })).ok());
    QCOMPARE(f.call(QStringLiteral("deserializeAttachment"), arguments(client))->toString(), value);

    // The attachment survives hibernation.
    f.runUntilOffset(seconds(30));
    QCOMPARE(f.object().state(), ObjectState::Hibernated);
    QCOMPARE(f.call(QStringLiteral("deserializeAttachment"), arguments(client))->toString(), value);
    QCOMPARE(f.object().constructorRuns(), quint64(2));

    QVERIFY(
        f.call(QStringLiteral("serializeAttachment"), arguments(client, { QJsonValue() })).ok());
    QVERIFY(f.call(QStringLiteral("deserializeAttachment"), arguments(client))->isNull());
}

void DoWebSocketsTest::eventTimeoutLimit_data()
{
    QTest::addColumn<QJsonValue>("milliseconds");
    QTest::addColumn<QString>("error");

    QTest::newRow("604800001 ms") << QJsonValue(
        qint64(604'800'001)) << QStringLiteral("Event timeout should not exceed 604800000 ms.");
    QTest::newRow("604800000 ms") << QJsonValue(qint64(604'800'000)) << QString();
    QTest::newRow("no timeout") << QJsonValue() << QString();
}

void DoWebSocketsTest::eventTimeoutLimit()
{
    QFETCH(QJsonValue, milliseconds);
    QFETCH(QString, error);

    SocketFixture f;
    const Result<QJsonValue> set = f.call(QStringLiteral("setEventTimeout"), { milliseconds });

    if (!error.isEmpty()) {
        QVERIFY(!set.ok());
        QCOMPARE(set.error().kind, Error::Kind::Error);
        QCOMPARE(set.error().message, error);
        return;
    }
    QVERIFY(set.ok());
}

// ---------------------------------------------------------------------------------------------
// Sending and closing

void DoWebSocketsTest::sendBeforeAccept()
{
    SocketFixture f;
    TestClient client(f.fixture, QStringLiteral("client"), f.fixture.lhr);
    const Result<HttpResponse> response = client.connect(QStringLiteral("/ws?send-first"));

    QVERIFY(!response.ok());
    QCOMPARE(response.error().kind, Error::Kind::TypeError);
    QCOMPARE(response.error().message,
        QStringLiteral("You must call one of accept() or state.acceptWebSocket() on this "
                       "WebSocket before sending messages."));
    f.runUntilOffset(seconds(1));
    QVERIFY(client.received.empty());
}

void DoWebSocketsTest::sendAfterClose()
{
    SocketFixture f;
    // The client is 40 ms away, so its Close frame in reply arrives 80 ms after the server's.
    TestClient client(f.fixture, QStringLiteral("client"), f.fixture.sjc);
    QCOMPARE(client.connect()->status, 101);

    QVERIFY(
        f.call(QStringLiteral("close"), arguments(client, { 1000, QStringLiteral("done") })).ok());
    QCOMPARE(client.socket->state, ServerWebSocket::State::Closing);
    const Result<QJsonValue> sent
        = f.call(QStringLiteral("send"), arguments(client, { QStringLiteral("late") }));

    QVERIFY(!sent.ok());
    QCOMPARE(sent.error().kind, Error::Kind::TypeError);
    QCOMPARE(sent.error().message, QStringLiteral("Can't call WebSocket send() after close()."));
    f.runUntilOffset(seconds(1));
    QVERIFY(client.received.empty());
    QCOMPARE(client.closeCode, 1000);
    QCOMPARE(client.closeReason, QStringLiteral("done"));
}

void DoWebSocketsTest::closeCodes_data()
{
    QTest::addColumn<QDate>("compatibilityDate");
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("reason");
    QTest::addColumn<Error::Kind>("kind");
    QTest::addColumn<QString>("error"); // empty when close() succeeds

    const QDate current(2026, 4, 7);
    const auto invalidCode
        = [](int code) { return QStringLiteral("Invalid WebSocket close code: %1.").arg(code); };
    for (const int code : { 1005, 1006, 1015, 1004, 999, 5000 }) {
        QTest::addRow("code %d", code)
            << current << code << QString() << Error::Kind::InvalidAccessError << invalidCode(code);
    }
    for (const int code : { 1000, 3000, 4999 })
        QTest::addRow("code %d", code)
            << current << code << QStringLiteral("bye") << Error::Kind::Error << QString();

    const QString tooLong
        = QStringLiteral("WebSocket close reason must not be longer than 123 bytes "
                         "when UTF-8 encoded.");
    QTest::newRow("124-byte reason from 2026-03-03")
        << QDate(2026, 3, 3) << 1000 << QString(124, u'r') << Error::Kind::DomSyntaxError
        << tooLong;
    QTest::newRow("62 two-byte characters from 2026-03-03")
        << QDate(2026, 3, 3) << 1000 << QString(62, u'é') << Error::Kind::DomSyntaxError << tooLong;
    QTest::newRow("123-byte reason from 2026-03-03")
        << QDate(2026, 3, 3) << 1000 << QString(123, u'r') << Error::Kind::Error << QString();
    QTest::newRow("124-byte reason before 2026-03-03")
        << QDate(2026, 3, 2) << 1000 << QString(124, u'r') << Error::Kind::Error << QString();
}

void DoWebSocketsTest::closeCodes()
{
    QFETCH(QDate, compatibilityDate);
    QFETCH(int, code);
    QFETCH(QString, reason);
    QFETCH(Error::Kind, kind);
    QFETCH(QString, error);

    SocketFixture f(settingsForDate(compatibilityDate));
    TestClient client(f.fixture, QStringLiteral("client"), f.fixture.lhr);
    QCOMPARE(client.connect()->status, 101);
    const Result<QJsonValue> closed
        = f.call(QStringLiteral("close"), arguments(client, { code, reason }));
    f.runUntilOffset(seconds(1));

    if (!error.isEmpty()) {
        QVERIFY(!closed.ok());
        QCOMPARE(closed.error().kind, kind);
        QCOMPARE(closed.error().message, error);
        QCOMPARE(client.socket->state, ServerWebSocket::State::Open);
        QCOMPARE(client.closeCount, 0);
        QCOMPARE(f.count(), 1);
        return;
    }
    QVERIFY(closed.ok());
    QCOMPARE(client.closeCount, 1);
    QCOMPARE(client.closeCode, code);
    QCOMPARE(client.closeReason, reason);
    QCOMPARE(f.count(), 0);
}

void DoWebSocketsTest::clientCloseRunsHandler()
{
    SocketFixture f;
    TestClient client(f.fixture, QStringLiteral("client"), f.fixture.lhr);
    QCOMPARE(client.connect()->status, 101);

    client.close(4001, QStringLiteral("client bye"));
    f.runUntilOffset(seconds(1));

    QCOMPARE(f.log->calls,
        QStringList { logEntry(
            client.socket->connection, QStringLiteral("close 4001 \"client bye\" clean")) });
    QCOMPARE(f.count(), 0);
}

void DoWebSocketsTest::clientCloseHandshake_data()
{
    QTest::addColumn<QDate>("compatibilityDate");
    QTest::addColumn<bool>("closeInHandler");
    QTest::addColumn<int>("clientCode");
    QTest::addColumn<QString>("clientReason");
    QTest::addColumn<qint64>("closedAfter"); // from the client's Close frame to the client's close
    QTest::addColumn<bool>("listedWhileClosing");

    // Each frame takes 2 ms. A Close frame without a reply waits for the 30 s handshake timeout.
    QTest::newRow("before 2026-04-07, handler does not close")
        << QDate(2026, 4, 6) << false << 1006 << QString()
        << milliseconds(2) + seconds(30) + milliseconds(2) << true;
    QTest::newRow("before 2026-04-07, handler closes")
        << QDate(2026, 4, 6) << true << 1000 << QStringLiteral("bye") << milliseconds(4) << false;
    QTest::newRow("from 2026-04-07")
        << QDate(2026, 4, 7) << false << 1000 << QStringLiteral("bye") << milliseconds(4) << false;
}

void DoWebSocketsTest::clientCloseHandshake()
{
    QFETCH(QDate, compatibilityDate);
    QFETCH(bool, closeInHandler);
    QFETCH(int, clientCode);
    QFETCH(QString, clientReason);
    QFETCH(qint64, closedAfter);
    QFETCH(bool, listedWhileClosing);

    SocketFixture f(settingsForDate(compatibilityDate));
    f.log->closeInHandler = closeInHandler;
    TestClient client(f.fixture, QStringLiteral("client"), f.fixture.lhr);
    QCOMPARE(client.connect()->status, 101);

    f.runUntilOffset(seconds(1));
    const SimTime sentAt = f.now();
    client.close(1000, QStringLiteral("bye"));
    f.runUntilOffset(seconds(2));

    QCOMPARE(f.log->calls,
        QStringList {
            logEntry(client.socket->connection, QStringLiteral("close 1000 \"bye\" clean")) });
    QCOMPARE(f.count(), listedWhileClosing ? 1 : 0);
    QCOMPARE(client.socket->state,
        listedWhileClosing ? ServerWebSocket::State::Closing : ServerWebSocket::State::Closed);

    f.runUntilOffset(seconds(60));
    QCOMPARE(client.closeCount, 1);
    QCOMPARE(client.closeCode, clientCode);
    QCOMPARE(client.closeReason, clientReason);
    QCOMPARE(client.closedAt - sentAt, closedAfter);
    QCOMPARE(f.count(), 0);
    QCOMPARE(f.log->calls.size(), qsizetype(1));
}

void DoWebSocketsTest::serverCloseToSilentClient()
{
    SocketFixture f;
    TestClient client(f.fixture, QStringLiteral("client"), f.fixture.lhr, false);
    QCOMPARE(client.connect()->status, 101);

    f.runUntilOffset(seconds(1));
    const SimTime closeCalledAt = f.now() + DurableObjectFixture::kLocalLatency;
    QVERIFY(
        f.call(QStringLiteral("close"), arguments(client, { 1000, QStringLiteral("server bye") }))
            .ok());

    // The client never replies to the Close frame, and it keeps sending.
    client.send("echo:after close");
    f.runUntilOffset(seconds(2));
    QCOMPARE(client.socket->state, ServerWebSocket::State::Closing);
    QCOMPARE(f.count(), 1);
    const Result<QJsonValue> sent
        = f.call(QStringLiteral("send"), arguments(client, { QStringLiteral("x") }));
    QVERIFY(!sent.ok());
    QCOMPARE(sent.error().kind, Error::Kind::TypeError);
    QCOMPARE(sent.error().message, QStringLiteral("Can't call WebSocket send() after close()."));

    // The socket does not come back to life after hibernation.
    f.runUntilOffset(seconds(15));
    QCOMPARE(f.object().state(), ObjectState::Hibernated);
    client.send("echo:after hibernation");
    f.runUntilOffset(seconds(16));
    QCOMPARE(f.count(), 1);
    const Result<QJsonValue> sentAfterWake
        = f.call(QStringLiteral("send"), arguments(client, { QStringLiteral("y") }));
    QVERIFY(!sentAfterWake.ok());
    QCOMPARE(sentAfterWake.error().message,
        QStringLiteral("Can't call WebSocket send() after close()."));
    QVERIFY(f.log->calls.isEmpty());
    QCOMPARE(f.object().messagesReceived(), quint64(0));
    QCOMPARE(client.closeCount, 0);

    // The close handshake times out after 30 s, and the client learns it 2 ms later.
    f.runUntilOffset(seconds(60));
    QCOMPARE(client.closeCount, 1);
    QCOMPARE(client.closeCode, 1006);
    QCOMPARE(client.closeReason, QString());
    QCOMPARE(client.closedAt, closeCalledAt + seconds(30) + DurableObjectFixture::kLocalLatency);
    QCOMPARE(f.count(), 0);
    QVERIFY(client.received.empty());
    QVERIFY(f.log->calls.isEmpty());
}

void DoWebSocketsTest::droppedConnection()
{
    SocketFixture f;
    TestClient client(f.fixture, QStringLiteral("client"), f.fixture.lhr);
    QCOMPARE(client.connect()->status, 101);

    client.drop();
    f.runUntilOffset(seconds(1));

    QCOMPARE(f.log->calls,
        QStringList {
            logEntry(client.socket->connection, QStringLiteral("close 1006 \"\" unclean")) });
    QCOMPARE(client.socket->state, ServerWebSocket::State::Closed);
    QCOMPARE(f.count(), 0);
}

// ---------------------------------------------------------------------------------------------
// Auto-responses, the output gate and incoming messages

void DoWebSocketsTest::autoResponse_data()
{
    QTest::addColumn<QByteArray>("message");
    QTest::addColumn<bool>("binary");
    QTest::addColumn<bool>("answered");

    QTest::newRow("exact text") << QByteArray("ping") << false << true;
    QTest::newRow("leading space") << QByteArray(" ping") << false << false;
    QTest::newRow("upper case") << QByteArray("PING") << false << false;
    QTest::newRow("binary frame") << QByteArray("ping") << true << false;
}

void DoWebSocketsTest::autoResponse()
{
    QFETCH(QByteArray, message);
    QFETCH(bool, binary);
    QFETCH(bool, answered);

    SocketFixture f;
    TestClient client(f.fixture, QStringLiteral("client"), f.fixture.lhr);
    QCOMPARE(client.connect()->status, 101);
    QVERIFY(f.call(QStringLiteral("setAutoResponse"),
                 { QStringLiteral("ping"), QStringLiteral("pong") })
                .ok());
    f.runUntilOffset(seconds(20));
    QCOMPARE(f.object().state(), ObjectState::Hibernated);
    QCOMPARE(f.object().constructorRuns(), quint64(1));

    // Sent at 20 s and 0.5 ms, the frame arrives at 20.0025 s.
    f.runUntilOffset(seconds(20) + 500);
    client.send(message, binary);
    f.runUntilOffset(seconds(21));

    if (answered) {
        QCOMPARE(client.messages(), QList<QByteArray> { "pong" });
        QCOMPARE(client.received.front().at, f.fixture.simulation.start() + seconds(20) + 4500);
        QCOMPARE(f.object().constructorRuns(), quint64(1));
        QCOMPARE(f.object().state(), ObjectState::Hibernated);
        QVERIFY(f.log->calls.isEmpty());
        QCOMPARE(f.object().messagesReceived(), quint64(0));
        QCOMPARE(f.call(QStringLiteral("autoResponseTimestamp"), arguments(client))->toInteger(),
            kStartEpochMs + 20'002);
        return;
    }
    QVERIFY(client.received.empty());
    QCOMPARE(f.object().constructorRuns(), quint64(2));
    QCOMPARE(f.log->calls,
        QStringList { logEntry(client.socket->connection,
            (binary ? QStringLiteral("message binary: ") : QStringLiteral("message text: "))
                + QString::fromUtf8(message)) });
    QCOMPARE(f.object().messagesReceived(), quint64(1));
    QVERIFY(f.call(QStringLiteral("autoResponseTimestamp"), arguments(client))->isNull());
}

void DoWebSocketsTest::autoResponseKeepsSendOrder()
{
    DurableObjectSettings settings;
    settings.storageCommitLatency = milliseconds(30);
    SocketFixture f(settings);
    TestClient client(f.fixture, QStringLiteral("client"), f.fixture.lhr);
    QCOMPARE(client.connect()->status, 101);
    QVERIFY(f.call(QStringLiteral("setAutoResponse"),
                 { QStringLiteral("ping"), QStringLiteral("pong") })
                .ok());

    // "saved" waits 30 ms for its write, and the ping arrives 1 ms after the save, during that
    // wait.
    f.runUntilOffset(seconds(1));
    client.send("save:k");
    f.runUntilOffset(seconds(1) + milliseconds(1));
    client.send("ping");
    f.runUntilOffset(seconds(2));

    QCOMPARE(client.messages(), (QList<QByteArray> { "saved", "pong" }));
    QCOMPARE(
        client.received.front().at, f.fixture.simulation.start() + seconds(1) + milliseconds(34));
}

void DoWebSocketsTest::outputGateHoldsSend_data()
{
    QTest::addColumn<QByteArray>("command");
    QTest::addColumn<qint64>("delay"); // from the client's message to its reply

    // 2 ms there, 30 ms until the write is confirmed, 2 ms back.
    QTest::newRow("write not awaited") << QByteArray("save:k") << milliseconds(34);
    QTest::newRow("allowUnconfirmed") << QByteArray("save-unconfirmed:k") << milliseconds(4);
}

void DoWebSocketsTest::outputGateHoldsSend()
{
    QFETCH(QByteArray, command);
    QFETCH(qint64, delay);

    DurableObjectSettings settings;
    settings.storageCommitLatency = milliseconds(30);
    SocketFixture f(settings);
    TestClient client(f.fixture, QStringLiteral("client"), f.fixture.lhr);
    QCOMPARE(client.connect()->status, 101);

    f.runUntilOffset(seconds(1));
    const SimTime sentAt = f.now();
    client.send(command);
    f.runUntilOffset(seconds(2));

    QCOMPARE(client.messages(), QList<QByteArray> { "saved" });
    QCOMPARE(client.received.front().at - sentAt, delay);
    // The reply left the object 2 ms before it arrived, so the wait was inside the object.
    QCOMPARE(client.received.front().at - client.received.front().sentAt,
        DurableObjectFixture::kLocalLatency);
    QCOMPARE(f.object().storage().get(QStringLiteral("k")).value(), QByteArray("1"));
}

void DoWebSocketsTest::messageSizeLimit_data()
{
    QTest::addColumn<int>("bytes");
    QTest::addColumn<bool>("delivered");

    QTest::newRow("16 bytes, at the limit") << 16 << true;
    QTest::newRow("17 bytes, over the limit") << 17 << false;
}

void DoWebSocketsTest::messageSizeLimit()
{
    QFETCH(int, bytes);
    QFETCH(bool, delivered);

    DurableObjectSettings settings;
    settings.maxMessageSize = 16;
    SocketFixture f(settings);
    TestClient client(f.fixture, QStringLiteral("client"), f.fixture.lhr);
    QCOMPARE(client.connect()->status, 101);
    const QByteArray message(bytes, 'm');

    client.send(message);
    f.runUntilOffset(seconds(1));

    const quint64 connection = client.socket->connection;
    if (delivered) {
        QCOMPARE(f.log->calls,
            QStringList { logEntry(
                connection, QStringLiteral("message text: ") + QString::fromUtf8(message)) });
        QCOMPARE(client.closeCount, 0);
        QCOMPARE(f.count(), 1);
        return;
    }
    const QString reason = QStringLiteral("Message is too large: 17 > 16");
    QCOMPARE(f.log->calls,
        QStringList { logEntry(connection, QStringLiteral("error Error: ") + reason) });
    QCOMPARE(client.closeCount, 1);
    QCOMPARE(client.closeCode, 1009);
    QCOMPARE(client.closeReason, reason);
    QCOMPARE(f.count(), 0);
}

void DoWebSocketsTest::broadcastReachesEverySocket()
{
    SocketFixture f;
    std::deque<TestClient> clients;
    for (int i = 0; i < 1000; ++i) {
        TestClient &client = clients.emplace_back(
            f.fixture, QStringLiteral("client-%1").arg(i), i % 2 ? f.fixture.sjc : f.fixture.lhr);
        QCOMPARE(client.connect()->status, 101);
    }

    const Result<QJsonValue> sent = f.call(QStringLiteral("broadcast"), { QStringLiteral("news") });
    f.runUntilOffset(seconds(60));

    QCOMPARE(sent->toInteger(), qint64(1000));
    qsizetype delivered = 0;
    for (const TestClient &client : clients) {
        QCOMPARE(client.messages(), QList<QByteArray> { "news" });
        delivered += qsizetype(client.received.size());
    }
    QCOMPARE(delivered, 1000);
}

void DoWebSocketsTest::billingCountsIncomingMessagesOnly()
{
    SocketFixture f;
    std::deque<TestClient> clients;
    for (int i = 0; i < 1000; ++i) {
        TestClient &client
            = clients.emplace_back(f.fixture, QStringLiteral("client-%1").arg(i), f.fixture.lhr);
        QCOMPARE(client.connect()->status, 101);
    }

    QCOMPARE(
        f.call(QStringLiteral("broadcast"), { QStringLiteral("news") })->toInteger(), qint64(1000));
    clients.front().send("hello");
    f.runUntilOffset(seconds(60));

    QCOMPARE(f.object().messagesReceived(), quint64(1));
    // 1,000 upgrade requests and the broadcast's RPC call.
    QCOMPARE(f.object().requestsHandled(), quint64(1001));
    QCOMPARE(f.log->calls,
        QStringList {
            logEntry(clients.front().socket->connection, QStringLiteral("message text: hello")) });
}

QTEST_GUILESS_MAIN(DoWebSocketsTest)
#include "tst_dowebsockets.moc"
