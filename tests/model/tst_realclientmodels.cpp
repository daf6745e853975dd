#include "connectionsmodel.h"
#include "framesmodel.h"
#include "modelroles.h"
#include "simulationcontroller.h"

#include <QAbstractItemModelTester>
#include <QTest>

using namespace roomscope;

namespace {

/// The gateway's side of a real client, without a socket: it records what the client sends.
class RecordingLink : public RealClient::Link
{
public:
    void sendMessage(const QByteArray &message, bool binary) override
    {
        sent.push_back({ message, binary });
    }
    void close(int code, const QString &reason) override { closes.emplace_back(code, reason); }

    std::vector<WebSocketMessage> sent;
    std::vector<std::pair<int, QString>> closes;
};

/// What a test does to a real client after its upgrade.
enum class ClientAction { None, CloseFromClient, Disconnect };

} // namespace

Q_DECLARE_METATYPE(ClientAction)

class RealClientModelsTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanup();

    void connectionsListRealBesideSimulated();
    void connectionsShowRealClientState_data();
    void connectionsShowRealClientState();
    void framesListBothDirections();
    void framesFollowClientLog();
    void framesEmptyForSimulatedClient();
    void framesClearedByNewRun();

private:
    void load(const QString &scenario);
    /// Adds a real client in the first location and sends its upgrade through the Worker, as the
    /// gateway does. Attaches `link` when the Worker accepted the upgrade.
    RealClient *connectRealClient(const QString &room, const QString &peer, RecordingLink &link);
    /// Sends a request to a kv-room route and runs until its response arrives.
    HttpResponse request(
        const QString &route, const QString &room, const QList<QPair<QString, QString>> &query);
    QString cell(
        const QAbstractItemModel &model, int row, int column, int role = Qt::DisplayRole) const;
    int rowOf(const ConnectionsModel &model, const QString &client) const;

    SimulationController *m_controller = nullptr;
};

void RealClientModelsTest::initTestCase()
{
    for (const char *name : { "kv-room", "gateway-local" }) {
        const QString path = qEnvironmentVariable("ROOMSCOPE_SOURCE_DIR")
            + QStringLiteral("/resources/scenarios/%1.json").arg(QLatin1String(name));
        QVERIFY2(QFile::exists(path), qPrintable(path));
    }
}

void RealClientModelsTest::cleanup()
{
    delete m_controller;
    m_controller = nullptr;
}

void RealClientModelsTest::load(const QString &scenario)
{
    m_controller = new SimulationController(this);
    const Status loaded = m_controller->load(qEnvironmentVariable("ROOMSCOPE_SOURCE_DIR")
        + QStringLiteral("/resources/scenarios/%1.json").arg(scenario));
    QVERIFY2(loaded.ok(), loaded.ok() ? "" : qPrintable(loaded.error().message));
}

RealClient *RealClientModelsTest::connectRealClient(
    const QString &room, const QString &peer, RecordingLink &link)
{
    World *world = m_controller->world();
    RealClient &client = world->addRealClient(room, 0, peer);
    HttpRequest upgrade;
    upgrade.url = roomUrl(QStringLiteral("ws"), room);
    upgrade.headers = { { "Upgrade", "websocket" } };
    upgrade.upgradeClient = &client;
    bool answered = false;
    m_controller->deliverExternal([&] {
        world->sendRequest(
            QStringLiteral("ws ") + peer, 0, upgrade,
            [&client, &answered](const HttpResponse &response) {
                answered = true;
                if (response.status == 101 && response.webSocket)
                    client.setServerSocket(response.webSocket);
                else
                    client.reject(response.status);
            },
            World::Route::Direct);
    });
    for (int i = 0; i < 100 && !answered; ++i)
        m_controller->advanceBy(milliseconds(10));
    if (!answered) {
        qWarning("the Worker did not answer the upgrade of %s within 1 s", qPrintable(peer));
        return nullptr;
    }
    if (client.state() == RealClient::State::Open)
        client.attach(&link);
    m_controller->notifyWorldEdited();
    return &client;
}

HttpResponse RealClientModelsTest::request(
    const QString &route, const QString &room, const QList<QPair<QString, QString>> &query)
{
    HttpRequest request;
    request.url = roomUrl(route, room, query);
    std::optional<HttpResponse> response;
    m_controller->sendRequest(QStringLiteral("test"), 0, request,
        [&response](const HttpResponse &received) { response = received; });
    for (int i = 0; i < 100 && !response; ++i)
        m_controller->advanceBy(milliseconds(100));
    return response.value_or(HttpResponse::text(0, "no response within 10 s"));
}

QString RealClientModelsTest::cell(
    const QAbstractItemModel &model, int row, int column, int role) const
{
    return model.data(model.index(row, column), role).toString();
}

int RealClientModelsTest::rowOf(const ConnectionsModel &model, const QString &client) const
{
    for (int row = 0; row < model.rowCount(); ++row) {
        if (cell(model, row, ConnectionsModel::ClientColumn) == client)
            return row;
    }
    return -1;
}

void RealClientModelsTest::connectionsListRealBesideSimulated()
{
    load(QStringLiteral("kv-room"));
    ConnectionsModel connections(m_controller);
    QAbstractItemModelTester tester(
        &connections, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(connections.rowCount(), 400);

    RecordingLink link;
    RealClient *client
        = connectRealClient(QStringLiteral("lobby"), QStringLiteral("127.0.0.1:50001"), link);
    QVERIFY(client);
    QCOMPARE(connections.rowCount(), 401);
    m_controller->deliverExternal([client] { client->receiveMessage({ "hello", false }); });
    for (int frame = 0; frame < 40; ++frame)
        m_controller->advanceBy(milliseconds(250));
    QVERIFY(!QTest::currentTestFailed());

    QCOMPARE(cell(connections, 1, ConnectionsModel::ClientColumn), QStringLiteral("lobby/LHR/1"));
    QCOMPARE(cell(connections, 1, ConnectionsModel::KindColumn), QStringLiteral("simulated"));
    QCOMPARE(cell(connections, 1, ConnectionsModel::PeerColumn), QString());
    QCOMPARE(cell(connections, 1, ConnectionsModel::MessagesSentColumn), QStringLiteral("0"));
    QCOMPARE(
        cell(connections, 400, ConnectionsModel::ClientColumn), QStringLiteral("arena/NRT/50"));

    // Real clients come first.
    const int row = 0;
    QCOMPARE(cell(connections, row, ConnectionsModel::ClientColumn), QStringLiteral("real/1"));
    QCOMPARE(cell(connections, row, ConnectionsModel::KindColumn), QStringLiteral("real"));
    QCOMPARE(cell(connections, row, ConnectionsModel::RoomColumn), QStringLiteral("lobby"));
    QCOMPARE(cell(connections, row, ConnectionsModel::LocationColumn), QStringLiteral("LHR"));
    QCOMPARE(
        cell(connections, row, ConnectionsModel::PeerColumn), QStringLiteral("127.0.0.1:50001"));
    QCOMPARE(cell(connections, row, ConnectionsModel::StateColumn), QStringLiteral("open"));
    QCOMPARE(cell(connections, row, ConnectionsModel::ConnectionColumn),
        QString::number(client->connection()));
    QCOMPARE(cell(connections, row, ConnectionsModel::MessagesSentColumn), QStringLiteral("1"));
    QCOMPARE(cell(connections, row, ConnectionsModel::BytesSentColumn), QStringLiteral("5"));

    // The lobby's broadcasts reach the real client as they reach the simulated ones.
    QVERIFY(!link.sent.empty());
    const QString received = QString::number(link.sent.size());
    QCOMPARE(cell(connections, row, ConnectionsModel::MessagesColumn), received);
    qint64 bytes = 0;
    for (const WebSocketMessage &message : link.sent)
        bytes += message.data.size();
    QCOMPARE(cell(connections, row, ConnectionsModel::BytesColumn), QString::number(bytes));
    QCOMPARE(connections.index(row, 0).data(RawValueRole).toByteArray(), link.sent.back().data);
    const int simulated = rowOf(connections, QStringLiteral("lobby/LHR/1"));
    QVERIFY(simulated >= 0);
    QCOMPARE(cell(connections, simulated, ConnectionsModel::MessagesColumn), received);
}

void RealClientModelsTest::connectionsShowRealClientState_data()
{
    QTest::addColumn<QString>("room");
    QTest::addColumn<ClientAction>("action");
    QTest::addColumn<QString>("state");
    QTest::addColumn<Highlight>("highlight");
    QTest::addColumn<QString>("toolTip");

    QTest::newRow("open") << QStringLiteral("lobby") << ClientAction::None << QStringLiteral("open")
                          << Highlight::None << QString();
    QTest::newRow("rejected without roomId")
        << QString() << ClientAction::None << QStringLiteral("rejected (HTTP 400)")
        << Highlight::Error << QStringLiteral("The Worker answered the upgrade with HTTP 400");
    QTest::newRow("closed by client")
        << QStringLiteral("lobby") << ClientAction::CloseFromClient
        << QStringLiteral("closed (1000: bye)") << Highlight::None
        << QStringLiteral("Closed with code 1000 (normal closure): bye");
    QTest::newRow("connection dropped")
        << QStringLiteral("lobby") << ClientAction::Disconnect
        << QStringLiteral("closed (1006: the connection dropped)") << Highlight::Warning
        << QStringLiteral("Closed with code 1006 (abnormal closure): the connection dropped");
}

void RealClientModelsTest::connectionsShowRealClientState()
{
    QFETCH(QString, room);
    QFETCH(ClientAction, action);
    QFETCH(QString, state);
    QFETCH(Highlight, highlight);
    QFETCH(QString, toolTip);

    load(QStringLiteral("gateway-local"));
    ConnectionsModel connections(m_controller);
    QAbstractItemModelTester tester(
        &connections, QAbstractItemModelTester::FailureReportingMode::QtTest);
    RecordingLink link;
    RealClient *client = connectRealClient(room, QStringLiteral("[::1]:50002"), link);
    QVERIFY(client);
    m_controller->deliverExternal([client, action] {
        if (action == ClientAction::CloseFromClient)
            client->receiveClose(1000, QStringLiteral("bye"));
        else if (action == ClientAction::Disconnect)
            client->receiveDisconnect(1006, QStringLiteral("the connection dropped"));
    });
    m_controller->advanceBy(milliseconds(100));

    QCOMPARE(connections.rowCount(), 1);
    QCOMPARE(cell(connections, 0, ConnectionsModel::ClientColumn), QStringLiteral("real/1"));
    QCOMPARE(cell(connections, 0, ConnectionsModel::KindColumn), QStringLiteral("real"));
    QCOMPARE(cell(connections, 0, ConnectionsModel::LocationColumn), QStringLiteral("local"));
    QCOMPARE(cell(connections, 0, ConnectionsModel::PeerColumn), QStringLiteral("[::1]:50002"));
    QCOMPARE(cell(connections, 0, ConnectionsModel::StateColumn), state);
    QCOMPARE(
        connections.index(0, ConnectionsModel::StateColumn).data(HighlightRole).value<Highlight>(),
        highlight);
    QCOMPARE(cell(connections, 0, ConnectionsModel::StateColumn, Qt::ToolTipRole), toolTip);
}

void RealClientModelsTest::framesListBothDirections()
{
    load(QStringLiteral("gateway-local"));
    FramesModel frames(m_controller);
    QAbstractItemModelTester tester(
        &frames, QAbstractItemModelTester::FailureReportingMode::QtTest);
    RecordingLink link;
    RealClient *client
        = connectRealClient(QStringLiteral("lobby"), QStringLiteral("127.0.0.1:50003"), link);
    QVERIFY(client);
    frames.setClient(QStringLiteral("real/1"));
    QCOMPARE(frames.client(), client);
    QCOMPARE(frames.rowCount(), 0);
    QCOMPARE(frames.summary(), QStringLiteral("Frames of real/1 (127.0.0.1:50003): none yet"));

    const World *world = m_controller->world();
    const SimTime start = world->simulation().start();
    const QString sentAt = formatOffset(world->simulation().now(), start);
    m_controller->deliverExternal([client] { client->receiveMessage({ "hello", false }); });
    QCOMPARE(frames.rowCount(), 1);

    QCOMPARE(request(QStringLiteral("put"), QStringLiteral("lobby"),
                 { { QStringLiteral("key"), QStringLiteral("greeting") },
                     { QStringLiteral("value"), QStringLiteral("hi there") } })
                 .status,
        200);
    const HttpResponse broadcast = request(QStringLiteral("broadcast"), QStringLiteral("lobby"),
        { { QStringLiteral("key"), QStringLiteral("greeting") } });
    QCOMPARE(broadcast.body, QByteArray(R"({"failed":0,"sent":1})"));
    // The request loop runs past the delivery to the end of its step.
    const QString broadcastAt = formatOffset(client->lastMessageAt(), start);
    const QString laterAt = formatOffset(world->simulation().now(), start);
    QVERIFY(client->lastMessageAt() < world->simulation().now());
    QCOMPARE(link.sent.size(), size_t(1));
    QCOMPARE(link.sent.front().data, QByteArray("hi there"));

    const QByteArray binary("\x00\x01\xff", 3);
    m_controller->deliverExternal([client, binary] {
        client->receiveMessage({ binary, true });
        client->logControlFrame(
            WebSocketFrame::Direction::ToClient, WebSocketFrame::Opcode::Ping, "42");
        client->receiveClose(1000, QStringLiteral("bye"));
    });

    const QList<QStringList> expected = {
        { sentAt, "↑", "text", "5", "hello" },
        { broadcastAt, "↓", "text", "8", "hi there" },
        { laterAt, "↑", "binary", "3", "00 01 ff" },
        { laterAt, "↓", "ping", "2", "42" },
        { laterAt, "↑", "close", "5", "1000 bye" },
    };
    QCOMPARE(frames.rowCount(), int(expected.size()));
    for (int row = 0; row < frames.rowCount(); ++row) {
        QStringList displayed;
        for (int column = 0; column < FramesModel::ColumnCount; ++column)
            displayed << cell(frames, row, column);
        QCOMPARE(displayed, expected[row]);
    }
    QCOMPARE(frames.summary(), QStringLiteral("Frames of real/1 (127.0.0.1:50003): 5 frames"));
    QCOMPARE(frames.index(1, FramesModel::DataColumn).data(RawValueRole).toByteArray(),
        QByteArray("hi there"));
    QCOMPARE(cell(frames, 1, 0, ValueTitleRole),
        QStringLiteral("Text frame to real/1 at t+%1 s").arg(broadcastAt));
    QCOMPARE(cell(frames, 2, 0, ValueTitleRole),
        QStringLiteral("Binary frame from real/1 at t+%1 s").arg(laterAt));
    QCOMPARE(cell(frames, 4, FramesModel::DataColumn, Qt::ToolTipRole),
        QStringLiteral("1000 (normal closure)"));
    QCOMPARE(frames.index(4, 0).data(HighlightRole).value<Highlight>(), Highlight::None);
    QCOMPARE(cell(frames, 0, FramesModel::DirectionColumn, Qt::ToolTipRole),
        QStringLiteral("Sent by the client to the Durable Object"));
}

void RealClientModelsTest::framesFollowClientLog()
{
    load(QStringLiteral("gateway-local"));
    FramesModel frames(m_controller);
    QAbstractItemModelTester tester(
        &frames, QAbstractItemModelTester::FailureReportingMode::QtTest);
    RecordingLink link;
    RealClient *client
        = connectRealClient(QStringLiteral("lobby"), QStringLiteral("127.0.0.1:50004"), link);
    QVERIFY(client);
    frames.setClient(QStringLiteral("real/1"));

    // Batches of messages between frames: the model drops and appends rows as the log does.
    const QByteArray long1000(1000, 'x');
    for (int batch = 0; batch < 6; ++batch) {
        m_controller->deliverExternal([client, batch, long1000] {
            for (int i = 0; i < 50; ++i) {
                const int number = batch * 50 + i;
                client->receiveMessage(
                    { number == 299 ? long1000 : QByteArray("m") + QByteArray::number(number),
                        false });
            }
        });
        if (QTest::currentTestFailed())
            return;
    }
    QCOMPARE(client->framesLogged(), quint64(300));
    QCOMPARE(frames.rowCount(), int(kFrameLogLength));
    QCOMPARE(cell(frames, 0, FramesModel::DataColumn), QStringLiteral("m44"));
    QCOMPARE(frames.summary(),
        QStringLiteral("Frames of real/1 (127.0.0.1:50004): the last 256 of 300"));
    const int last = frames.rowCount() - 1;
    QCOMPARE(cell(frames, last, FramesModel::SizeColumn), QStringLiteral("1000"));
    QCOMPARE(cell(frames, last, FramesModel::DataColumn), QString(80, QLatin1Char('x')) + "…");
    QCOMPARE(frames.index(last, 0).data(RawValueRole).toByteArray(),
        QByteArray(kFramePreviewBytes, 'x'));
    QCOMPARE(cell(frames, last, FramesModel::DataColumn, Qt::ToolTipRole),
        QStringLiteral("The log keeps the first 256 of 1000 bytes."));

    // A closed connection keeps only its last frames.
    m_controller->deliverExternal(
        [client] { client->receiveDisconnect(1009, QStringLiteral("message too big")); });
    QCOMPARE(frames.rowCount(), int(kClosedFrameLogLength));
    QCOMPARE(cell(frames, 0, FramesModel::DataColumn), QStringLiteral("m268"));
}

void RealClientModelsTest::framesEmptyForSimulatedClient()
{
    load(QStringLiteral("kv-room"));
    FramesModel frames(m_controller);
    QAbstractItemModelTester tester(
        &frames, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(frames.summary(),
        QStringLiteral("Select a real client (Kind \"real\") to see its WebSocket frames."));
    frames.setClient(QStringLiteral("lobby/LHR/1"));
    m_controller->advanceBy(seconds(4));
    QCOMPARE(frames.rowCount(), 0);
    QCOMPARE(frames.client(), nullptr);
    QCOMPARE(frames.summary(),
        QStringLiteral("lobby/LHR/1 is a simulated client. Frames are logged for real clients, "
                       "which join through the gateway."));
}

void RealClientModelsTest::framesClearedByNewRun()
{
    load(QStringLiteral("gateway-local"));
    FramesModel frames(m_controller);
    QAbstractItemModelTester tester(
        &frames, QAbstractItemModelTester::FailureReportingMode::QtTest);
    RecordingLink link;
    RealClient *client
        = connectRealClient(QStringLiteral("lobby"), QStringLiteral("127.0.0.1:50005"), link);
    QVERIFY(client);
    frames.setClient(QStringLiteral("real/1"));
    m_controller->deliverExternal([client] { client->receiveMessage({ "hello", false }); });
    QCOMPARE(frames.rowCount(), 1);

    const Status reloaded = m_controller->reload();
    QVERIFY(reloaded.ok());
    QCOMPARE(frames.rowCount(), 0);
    QCOMPARE(frames.clientName(), QString());
    QCOMPARE(frames.client(), nullptr);
}

QTEST_GUILESS_MAIN(RealClientModelsTest)
#include "tst_realclientmodels.moc"
