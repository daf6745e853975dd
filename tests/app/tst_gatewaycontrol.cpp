#include "connectionsmodel.h"
#include "durableobject.h"
#include "eventlogfiltermodel.h"
#include "eventlogmodel.h"
#include "eventlogpane.h"
#include "framesmodel.h"
#include "gateway.h"
#include "gatewaycontrol.h"
#include "mainwindow.h"
#include "modelroles.h"
#include "simulationcontroller.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QDialogButtonBox>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTableView>
#include <QTcpServer>
#include <QTest>
#include <QWebSocket>

using namespace roomscope;

class GatewayControlTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();

    void toggleStartsGatewayAndRuns();
    void realWebSocketShowsInConnections();
    void turningOffClosesClients();
    void portInUseShowsInlineError();
    void refusalHighlightedInEventLog();
    void reloadKeepsServing();
    void settingsDialogValidatesAddress_data();
    void settingsDialogValidatesAddress();
    void settingsDialogRestoresDefaults();

private:
    /// Starts the gateway on a free loopback port through the toolbar action.
    bool startGateway();
    /// Opens a WebSocket to the gateway and waits until it is connected.
    bool openWebSocket(QWebSocket &socket, const QString &room);
    /// Sends a GET through the gateway, waits for the response and returns its status.
    int get(const QString &pathAndQuery, const QByteArray &origin = {});
    QString gatewayUrl() const;
    QString cell(const QAbstractItemModel &model, int row, int column) const;
    /// The open WebSockets of a room's Durable Object.
    int openSockets(const QString &room) const;
    /// The rows of the event log with the gateway's kind and this subject.
    QList<int> gatewayEvents(const QString &subject) const;

    QString m_scenarioPath;
    MainWindow *m_window = nullptr;
    QNetworkAccessManager *m_network = nullptr;
};

void GatewayControlTest::initTestCase()
{
    // Keep the user's saved settings out of the test, and the test's out of theirs.
    QStandardPaths::setTestModeEnabled(true);
    m_scenarioPath = qEnvironmentVariable("ROOMSCOPE_SOURCE_DIR")
        + QStringLiteral("/resources/scenarios/gateway-local.json");
    QVERIFY2(QFile::exists(m_scenarioPath), qPrintable(m_scenarioPath));
}

void GatewayControlTest::init()
{
    QSettings().remove(QLatin1String(GatewayControl::kSettingsGroup));
    m_window = new MainWindow;
    m_window->resize(1400, 900);
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window));
    QVERIFY(m_window->openScenario(m_scenarioPath));
    m_network = new QNetworkAccessManager(this);
}

void GatewayControlTest::cleanup()
{
    delete m_network;
    m_network = nullptr;
    delete m_window;
    m_window = nullptr;
    QSettings().remove(QLatin1String(GatewayControl::kSettingsGroup));
}

bool GatewayControlTest::startGateway()
{
    GatewayControl *control = m_window->gatewayControl();
    GatewaySettings settings = control->settings();
    settings.port = 0;
    control->setSettings(settings);
    control->toggleAction()->trigger();
    return control->isRunning();
}

QString GatewayControlTest::gatewayUrl() const
{
    const Gateway *gateway = m_window->gatewayControl()->gateway();
    return gateway ? gateway->url() : QString();
}

bool GatewayControlTest::openWebSocket(QWebSocket &socket, const QString &room)
{
    const QString url = QString(gatewayUrl()).replace(QLatin1String("http:"), QLatin1String("ws:"))
        + QStringLiteral("/ws?roomId=") + room;
    socket.open(QUrl(url));
    return QTest::qWaitFor([&socket] { return socket.state() == QAbstractSocket::ConnectedState; });
}

int GatewayControlTest::get(const QString &pathAndQuery, const QByteArray &origin)
{
    QNetworkRequest request(QUrl(gatewayUrl() + pathAndQuery));
    if (!origin.isEmpty())
        request.setRawHeader("Origin", origin);
    QNetworkReply *reply = m_network->get(request);
    const bool finished = QTest::qWaitFor([reply] { return reply->isFinished(); });
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    reply->deleteLater();
    return finished ? status : -1;
}

QString GatewayControlTest::cell(const QAbstractItemModel &model, int row, int column) const
{
    return model.data(model.index(row, column)).toString();
}

int GatewayControlTest::openSockets(const QString &room) const
{
    const DurableObject *object = m_window->controller()->world()->roomObject(room);
    if (!object)
        return -1;
    int open = 0;
    for (const std::shared_ptr<ServerWebSocket> &socket : object->sockets()) {
        if (socket->state == ServerWebSocket::State::Open)
            ++open;
    }
    return open;
}

QList<int> GatewayControlTest::gatewayEvents(const QString &subject) const
{
    QList<int> rows;
    const EventLogModel *log = m_window->eventLogModel();
    for (int row = 0; row < log->rowCount(); ++row) {
        const TraceEvent &event = log->event(row);
        if (event.kind == TraceKind::Gateway && event.subject == subject)
            rows << row;
    }
    return rows;
}

void GatewayControlTest::toggleStartsGatewayAndRuns()
{
    GatewayControl *control = m_window->gatewayControl();
    SimulationController *controller = m_window->controller();
    controller->setSpeed(10);
    QVERIFY(!controller->isRunning());
    QVERIFY(control->statusLabel()->isHidden());

    QVERIFY(startGateway());
    QVERIFY(control->toggleAction()->isChecked());
    const quint16 port = control->gateway()->port();
    QVERIFY(port != 0);
    const QString url = QStringLiteral("http://127.0.0.1:%1").arg(port);
    QCOMPARE(gatewayUrl(), url);
    QVERIFY(control->statusLabel()->isVisible());
    QCOMPARE(control->statusLabel()->text(),
        QStringLiteral("Gateway %1 · 0 WebSockets, 0 HTTP connections · 0 requests · 0 refused")
            .arg(url));
    QCOMPARE(m_window->statusBar()->currentMessage(),
        QStringLiteral("Gateway on. Try wscat -c 'ws://127.0.0.1:%2/ws?roomId=lobby' or open "
                       "%1/__roomscope/")
            .arg(url)
            .arg(port));

    QVERIFY(controller->keepsRunning());
    QVERIFY(controller->isRunning());
    QCOMPARE(controller->speed(), 1.0);

    // The gateway's log line reaches the event log at the next frame.
    QTRY_COMPARE(gatewayEvents(QStringLiteral("listening")).size(), 1);
    const TraceEvent listening
        = m_window->eventLogModel()->event(gatewayEvents(QStringLiteral("listening")).first());
    QCOMPARE(listening.actor, QStringLiteral("gateway"));
    QCOMPARE(QString::fromUtf8(listening.value),
        QStringLiteral("Gateway listening on %1 (demo page %1/__roomscope/)").arg(url));
    QCOMPARE(EventLogModel::highlight(listening), Highlight::None);
}

void GatewayControlTest::realWebSocketShowsInConnections()
{
    QVERIFY(startGateway());
    QWebSocket socket;
    QVERIFY(openWebSocket(socket, QStringLiteral("lobby")));
    const QString peer = QStringLiteral("127.0.0.1:%1").arg(socket.localPort());

    const ConnectionsModel *connections = m_window->connectionsModel();
    QTRY_COMPARE(connections->rowCount(), 1);
    QCOMPARE(cell(*connections, 0, ConnectionsModel::ClientColumn), QStringLiteral("real/1"));
    QCOMPARE(cell(*connections, 0, ConnectionsModel::KindColumn), QStringLiteral("real"));
    QCOMPARE(cell(*connections, 0, ConnectionsModel::PeerColumn), peer);
    QTRY_COMPARE(cell(*connections, 0, ConnectionsModel::StateColumn), QStringLiteral("open"));
    QTRY_COMPARE(m_window->gatewayControl()->statusLabel()->text(),
        QStringLiteral("Gateway %1 · 1 WebSocket, 0 HTTP connections · 1 request · 0 refused")
            .arg(gatewayUrl()));

    // Selecting the client shows its frames beside the table.
    auto *connectionsView = m_window->findChild<QTableView *>(QStringLiteral("connectionsView"));
    auto *summary = m_window->findChild<QLabel *>(QStringLiteral("framesSummary"));
    QVERIFY(connectionsView && summary);
    connectionsView->setCurrentIndex(connectionsView->model()->index(0, 0));
    const FramesModel *frames = m_window->framesModel();
    QCOMPARE(frames->clientName(), QStringLiteral("real/1"));
    QCOMPARE(summary->text(), QStringLiteral("Frames of real/1 (%1): none yet").arg(peer));

    socket.sendTextMessage(QStringLiteral("hello"));
    QTRY_COMPARE(frames->rowCount(), 1);
    QCOMPARE(cell(*frames, 0, FramesModel::DirectionColumn), QStringLiteral("↑"));
    QCOMPARE(cell(*frames, 0, FramesModel::DataColumn), QStringLiteral("hello"));

    QStringList received;
    connect(&socket, &QWebSocket::textMessageReceived, this,
        [&received](const QString &message) { received << message; });
    QCOMPARE(get(QStringLiteral("/put?roomId=lobby&key=greeting&value=hi")), 200);
    QCOMPARE(get(QStringLiteral("/broadcast?roomId=lobby&key=greeting")), 200);
    QTRY_COMPARE(received, QStringList { QStringLiteral("hi") });
    QTRY_COMPARE(frames->rowCount(), 2);
    QCOMPARE(cell(*frames, 1, FramesModel::DirectionColumn), QStringLiteral("↓"));
    QCOMPARE(cell(*frames, 1, FramesModel::DataColumn), QStringLiteral("hi"));
    QCOMPARE(summary->text(), QStringLiteral("Frames of real/1 (%1): 2 frames").arg(peer));
    QTRY_COMPARE(cell(*connections, 0, ConnectionsModel::MessagesColumn), QStringLiteral("1"));
    QCOMPARE(cell(*connections, 0, ConnectionsModel::MessagesSentColumn), QStringLiteral("1"));
}

void GatewayControlTest::turningOffClosesClients()
{
    QVERIFY(startGateway());
    QWebSocket socket;
    QVERIFY(openWebSocket(socket, QStringLiteral("lobby")));
    const ConnectionsModel *connections = m_window->connectionsModel();
    QTRY_COMPARE(cell(*connections, 0, ConnectionsModel::StateColumn), QStringLiteral("open"));
    const QString url = gatewayUrl();
    QCOMPARE(openSockets(QStringLiteral("lobby")), 1);

    GatewayControl *control = m_window->gatewayControl();
    control->toggleAction()->trigger();
    QVERIFY(!control->isRunning());
    QVERIFY(!control->toggleAction()->isChecked());
    QVERIFY(control->statusLabel()->isHidden());
    QVERIFY(!m_window->controller()->keepsRunning());
    QCOMPARE(m_window->statusBar()->currentMessage(),
        QStringLiteral("The gateway on %1 stopped and closed its connections.").arg(url));

    QTRY_COMPARE(socket.state(), QAbstractSocket::UnconnectedState);
    QCOMPARE(socket.closeCode(), QWebSocketProtocol::CloseCodeGoingAway);
    QCOMPARE(cell(*connections, 0, ConnectionsModel::StateColumn),
        QStringLiteral("closed (1001: The gateway stopped.)"));
    QCOMPARE(gatewayEvents(QStringLiteral("stopped")).size(), 1);
    // The Durable Object learned that its client went away.
    QCOMPARE(openSockets(QStringLiteral("lobby")), 0);

    // Nothing listens any more.
    QTcpServer server;
    QVERIFY2(
        server.listen(QHostAddress::LocalHost, QUrl(url).port()), qPrintable(server.errorString()));
}

void GatewayControlTest::portInUseShowsInlineError()
{
    QTcpServer blocker;
    QVERIFY(blocker.listen(QHostAddress::LocalHost, 0));
    GatewayControl *control = m_window->gatewayControl();
    GatewaySettings settings = control->settings();
    settings.port = blocker.serverPort();
    control->setSettings(settings);
    SimulationController *controller = m_window->controller();

    control->toggleAction()->trigger();
    QVERIFY(!control->isRunning());
    QVERIFY(!control->toggleAction()->isChecked());
    QVERIFY(!controller->keepsRunning());
    QVERIFY(!controller->isRunning());
    QLabel *label = control->statusLabel();
    QVERIFY(label->isVisible());
    QCOMPARE(label->text(),
        QStringLiteral("Gateway off: Cannot listen on 127.0.0.1 port %1: The bound address is "
                       "already in use. Choose another port in Simulation > Gateway Settings, or "
                       "0 for any free port.")
            .arg(blocker.serverPort()));
    QVERIFY(label->autoFillBackground());
    QCOMPARE(m_window->statusBar()->currentMessage(), QString());
    // Inline only: no message box opened.
    QCOMPARE(QApplication::activeModalWidget(), nullptr);
    for (QWidget *widget : QApplication::topLevelWidgets())
        QVERIFY(!qobject_cast<QMessageBox *>(widget) || !widget->isVisible());

    // The next start, on a free port, replaces the error.
    QVERIFY(startGateway());
    QVERIFY(label->text().startsWith(QStringLiteral("Gateway http://127.0.0.1:")));
    QVERIFY(!label->autoFillBackground());
}

void GatewayControlTest::refusalHighlightedInEventLog()
{
    QVERIFY(startGateway());
    QCOMPARE(get(QStringLiteral("/get?roomId=lobby&key=x"), "http://evil.example"), 403);
    QTRY_COMPARE(gatewayEvents(QStringLiteral("refused")).size(), 1);
    const EventLogModel *log = m_window->eventLogModel();
    const int row = gatewayEvents(QStringLiteral("refused")).first();
    QCOMPARE(log->index(row, 0).data(HighlightRole).value<Highlight>(), Highlight::Warning);
    QCOMPARE(cell(*log, row, EventLogModel::KindColumn), QStringLiteral("gateway"));
    QTRY_VERIFY(
        m_window->gatewayControl()->statusLabel()->text().endsWith(QStringLiteral(" · 1 refused")));

    // The display filter picks the gateway's lines out by kind.
    auto *pane = m_window->findChild<EventLogPane *>();
    QVERIFY(pane);
    pane->proxy()->setFilterText(QStringLiteral("kind:gateway"));
    QCOMPARE(pane->proxy()->filterState(), EventFilter::State::Valid);
    QCOMPARE(pane->proxy()->rowCount(), 2);
    pane->proxy()->setFilterText(QStringLiteral("kind:gateway !refused"));
    QCOMPARE(pane->proxy()->rowCount(), 1);
}

void GatewayControlTest::reloadKeepsServing()
{
    QVERIFY(startGateway());
    QWebSocket socket;
    QVERIFY(openWebSocket(socket, QStringLiteral("lobby")));
    QTRY_COMPARE(m_window->connectionsModel()->rowCount(), 1);

    QVERIFY(m_window->openScenario(m_scenarioPath));
    QTRY_COMPARE(socket.state(), QAbstractSocket::UnconnectedState);
    QCOMPARE(socket.closeCode(), QWebSocketProtocol::CloseCodeGoingAway);
    QCOMPARE(socket.closeReason(), QStringLiteral("The simulation was reloaded."));
    QVERIFY(m_window->gatewayControl()->isRunning());
    QVERIFY(m_window->controller()->isRunning());
    QCOMPARE(m_window->connectionsModel()->rowCount(), 0);

    QWebSocket again;
    QVERIFY(openWebSocket(again, QStringLiteral("arena")));
    QTRY_COMPARE(m_window->connectionsModel()->rowCount(), 1);
    QCOMPARE(cell(*m_window->connectionsModel(), 0, ConnectionsModel::RoomColumn),
        QStringLiteral("arena"));
}

void GatewayControlTest::settingsDialogValidatesAddress_data()
{
    QTest::addColumn<QString>("address");
    QTest::addColumn<bool>("allowNonLoopback");
    QTest::addColumn<QString>("error");

    QTest::newRow("IPv4 loopback") << QStringLiteral("127.0.0.1") << false << QString();
    QTest::newRow("IPv6 loopback") << QStringLiteral("::1") << false << QString();
    QTest::newRow("not an address")
        << QStringLiteral("localhost") << false
        << QStringLiteral("\"localhost\" is not an IP address. Give one such as 127.0.0.1 or ::1.");
    QTest::newRow("non-loopback")
        << QStringLiteral("0.0.0.0") << false
        << QStringLiteral("0.0.0.0 is not a loopback address, so other machines could reach the "
                          "simulation. Listen on 127.0.0.1, or check \"Allow a non-loopback "
                          "address\" to accept the risk.");
    QTest::newRow("non-loopback allowed") << QStringLiteral("0.0.0.0") << true << QString();
}

void GatewayControlTest::settingsDialogValidatesAddress()
{
    QFETCH(QString, address);
    QFETCH(bool, allowNonLoopback);
    QFETCH(QString, error);

    GatewaySettingsDialog dialog(GatewaySettings(), { QStringLiteral("local") }, false);
    dialog.addressEdit()->setText(address);
    dialog.nonLoopbackCheck()->setChecked(allowNonLoopback);
    QCOMPARE(dialog.validationError(), error);
    auto *label = dialog.findChild<QLabel *>(QStringLiteral("gatewaySettingsError"));
    QVERIFY(label);
    QCOMPARE(label->text(), error);
    auto *buttons = dialog.findChild<QDialogButtonBox *>();
    QVERIFY(buttons);
    QCOMPARE(buttons->button(QDialogButtonBox::Ok)->isEnabled(), error.isEmpty());
    if (error.isEmpty()) {
        QCOMPARE(dialog.settings().address, QHostAddress(address));
        QCOMPARE(dialog.settings().allowNonLoopback, allowNonLoopback);
    }
}

void GatewayControlTest::settingsDialogRestoresDefaults()
{
    GatewaySettings custom;
    custom.port = 9000;
    custom.allowedOrigins = { QStringLiteral("http://localhost:5173") };
    custom.maxMessageBytes = 100;
    custom.sendQueueLimitBytes = 64 * 1024;
    custom.pingIntervalMs = 500;
    custom.clientLocation = QStringLiteral("local");
    GatewaySettingsDialog dialog(custom, { QStringLiteral("local") }, true);

    // The fields show the settings and give them back unchanged.
    const GatewaySettings shown = dialog.settings();
    QCOMPARE(shown.port, quint16(9000));
    QCOMPARE(shown.allowedOrigins, custom.allowedOrigins);
    QCOMPARE(shown.maxMessageBytes, 100);
    QCOMPARE(shown.sendQueueLimitBytes, 64 * 1024);
    QCOMPARE(shown.pingIntervalMs, 500);
    QCOMPARE(shown.clientLocation, QStringLiteral("local"));
    auto *buttons = dialog.findChild<QDialogButtonBox *>();
    QVERIFY(buttons);
    QCOMPARE(buttons->button(QDialogButtonBox::Ok)->text(), QStringLiteral("Restart Gateway"));

    buttons->button(QDialogButtonBox::RestoreDefaults)->click();
    const GatewaySettings defaults;
    const GatewaySettings restored = dialog.settings();
    QCOMPARE(restored.address, defaults.address);
    QCOMPARE(restored.port, defaults.port);
    QCOMPARE(restored.allowedOrigins, QStringList());
    QCOMPARE(restored.maxMessageBytes, defaults.maxMessageBytes);
    QCOMPARE(restored.sendQueueLimitBytes, defaults.sendQueueLimitBytes);
    QCOMPARE(restored.maxConnections, defaults.maxConnections);
    QCOMPARE(restored.pingIntervalMs, defaults.pingIntervalMs);
    QCOMPARE(restored.pingTimeoutMs, defaults.pingTimeoutMs);
    QCOMPARE(restored.httpIdleTimeoutMs, defaults.httpIdleTimeoutMs);
    QCOMPARE(restored.clientLocation, QString());
}

QTEST_MAIN(GatewayControlTest)
#include "tst_gatewaycontrol.moc"
