#include "eventlogmodel.h"
#include "inspectorpane.h"
#include "mainwindow.h"
#include "modelroles.h"
#include "requestcomposer.h"
#include "roominspector.h"
#include "roominspectorpane.h"
#include "roomsmodel.h"
#include "roomtablemodels.h"
#include "simulationcontroller.h"
#include "topologyview.h"

#include <QAction>
#include <QComboBox>
#include <QDockWidget>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSet>
#include <QSpinBox>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QTest>

using namespace roomscope;

/// The Room dock, File > Open Example and the request composer's path route and concurrent
/// requests, in the main window on the bundled do-lab scenario.
class RoomInspectorPaneTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();

    void openExampleOpensDoLab();
    void composerSendsConcurrentRequests();
    void composerConcurrentStorageCountsInOrder();
    void composerRejectsPathWithoutSlash();
    void roomDockFollowsRoomsViewAndTopology();
    void actionsEnableAndReport();
    void hibernateWhileBusyShowsReason();
    void queryConsoleShowsResultAndError();
    void storedEntryShowsInValueInspector();
    void socketsSummaryAfterConnect();
    void dockRendersOffscreen();
    void windowFitsSmallScreen();

private:
    template<typename T> T *child(const QString &name) const
    {
        T *found = m_window->findChild<T *>(name);
        if (!found)
            qWarning("no child named %s", qPrintable(name));
        return found;
    }
    /// Fills the composer with the path route and sends `count` copies.
    bool sendPath(const QString &path, int count, const QString &room = QStringLiteral("lab"));
    QList<TraceEvent> composerEvents(TraceKind kind) const;
    /// Counts the distinct colours of every 5th pixel: a blank grab has one or two.
    static int colourCount(const QImage &image);

    MainWindow *m_window = nullptr;
    RoomInspectorPane *m_pane = nullptr;
};

void RoomInspectorPaneTest::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
}

void RoomInspectorPaneTest::init()
{
    m_window = new MainWindow;
    m_window->resize(1400, 900);
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window));
    QVERIFY(m_window->openExample(QStringLiteral("do-lab")));
    m_pane = m_window->roomInspector();
    QVERIFY(m_pane);
}

void RoomInspectorPaneTest::cleanup()
{
    delete m_window;
    m_window = nullptr;
    m_pane = nullptr;
}

bool RoomInspectorPaneTest::sendPath(const QString &path, int count, const QString &room)
{
    auto *roomBox = child<QComboBox>(QStringLiteral("composerRoom"));
    auto *route = child<QComboBox>(QStringLiteral("composerRoute"));
    auto *pathBox = child<QComboBox>(QStringLiteral("composerPath"));
    auto *concurrent = child<QSpinBox>(QStringLiteral("composerConcurrent"));
    auto *send = child<QPushButton>(QStringLiteral("composerSend"));
    if (!roomBox || !route || !pathBox || !concurrent || !send)
        return false;
    roomBox->setEditText(room);
    route->setCurrentIndex(route->findText(QStringLiteral("path")));
    pathBox->setEditText(path);
    concurrent->setValue(count);
    QTest::mouseClick(send, Qt::LeftButton);
    return true;
}

QList<TraceEvent> RoomInspectorPaneTest::composerEvents(TraceKind kind) const
{
    QList<TraceEvent> events;
    const EventLogModel *log = m_window->eventLogModel();
    for (int row = 0; row < log->rowCount(); ++row) {
        const TraceEvent event = log->index(row, 0).data(TraceEventRole).value<TraceEvent>();
        if (event.kind == kind && event.actor == QLatin1String(RequestComposer::kActor))
            events << event;
    }
    return events;
}

int RoomInspectorPaneTest::colourCount(const QImage &image)
{
    QSet<QRgb> colours;
    for (int y = 0; y < image.height(); y += 5) {
        for (int x = 0; x < image.width(); x += 5)
            colours.insert(image.pixel(x, y));
    }
    return int(colours.size());
}

void RoomInspectorPaneTest::openExampleOpensDoLab()
{
    // The menu lists both bundled scenarios.
    auto *menu = child<QMenu>(QStringLiteral("openExampleMenu"));
    QVERIFY(menu);
    QStringList names;
    for (const QAction *action : menu->actions())
        names << action->text();
    QCOMPARE(names, (QStringList { "kv-room", "do-lab" }));

    auto *kvRoom = child<QAction>(QStringLiteral("openExample-kv-room"));
    QVERIFY(kvRoom);
    kvRoom->trigger();
    QCOMPARE(m_window->controller()->world()->scenario().name, QStringLiteral("kv-room"));
    QCOMPARE(m_pane->inspector()->room(), QStringLiteral("lobby"));

    auto *doLab = child<QAction>(QStringLiteral("openExample-do-lab"));
    QVERIFY(doLab);
    doLab->trigger();
    QCOMPARE(m_window->controller()->world()->scenario().name, QStringLiteral("do-lab"));
    QCOMPARE(m_window->controller()->scenarioPath(), QStringLiteral(":/scenarios/do-lab.json"));
    QCOMPARE(m_window->statusBar()->currentMessage(),
        QStringLiteral("Opened the bundled do-lab scenario. Press Space to run."));
    QCOMPARE(m_pane->inspector()->room(), QStringLiteral("lab"));
    // The lab class keeps its state in the object, so its dock comes to the front, and the
    // composer starts on the path route.
    QVERIFY(m_pane->isVisible());
    QCOMPARE(
        child<QComboBox>(QStringLiteral("composerRoute"))->currentText(), QStringLiteral("path"));
    QCOMPARE(child<QLabel>(QStringLiteral("roomTitle"))->text(), QStringLiteral("Room lab"));
    QCOMPARE(child<QLabel>(QStringLiteral("roomState"))->text(), QStringLiteral("not created"));
}

void RoomInspectorPaneTest::composerSendsConcurrentRequests()
{
    QVERIFY(sendPath(QStringLiteral("/count-memory"), 10));
    auto *status = child<QLabel>(QStringLiteral("composerStatus"));
    auto *body = child<QPlainTextEdit>(QStringLiteral("composerBody"));
    QVERIFY(status && body);
    QVERIFY2(status->text().startsWith(
                 QStringLiteral("Sent 10 × GET /count-memory at t+0.000 s; waiting for the ")),
        qPrintable(status->text()));

    // All ten start at the same instant with the same target.
    const QList<TraceEvent> starts = composerEvents(TraceKind::RequestStart);
    QCOMPARE(starts.size(), 10);
    for (const TraceEvent &start : starts) {
        QCOMPARE(start.time, starts.first().time);
        QCOMPARE(start.value, QByteArray("GET /count-memory?roomId=lab"));
    }

    m_window->controller()->advanceBy(seconds(1));
    QCOMPARE(composerEvents(TraceKind::RequestEnd).size(), 10);
    // Every request read the count before any wrote it: ten lost updates, ten 1s.
    QStringList expected;
    for (int i = 1; i <= 10; ++i)
        expected << QStringLiteral("#%1 200 1").arg(i, 2, 10, QLatin1Char('0'));
    QCOMPARE(body->toPlainText(), expected.join(QLatin1Char('\n')));
    QVERIFY2(status->text().startsWith(QStringLiteral("10 of 10 responses · 200 ×10 · latency ")),
        qPrintable(status->text()));
    QCOMPARE(m_pane->inspector()->storage()->rowCount(), 0);
}

void RoomInspectorPaneTest::composerConcurrentStorageCountsInOrder()
{
    QVERIFY(sendPath(QStringLiteral("/count-storage"), 5));
    m_window->controller()->advanceBy(seconds(1));
    auto *body = child<QPlainTextEdit>(QStringLiteral("composerBody"));
    QVERIFY(body);
    // The input gate delivers them one at a time, so each reads the count the last one wrote.
    QCOMPARE(
        body->toPlainText(), QStringLiteral("#1 200 1\n#2 200 2\n#3 200 3\n#4 200 4\n#5 200 5"));

    // One request shows its body as it is, as before.
    QVERIFY(sendPath(QStringLiteral("/state"), 1));
    m_window->controller()->advanceBy(seconds(1));
    QVERIFY2(body->toPlainText().startsWith(QLatin1String("{\"alarm\":null,\"instance\":1,")),
        qPrintable(body->toPlainText()));
    QVERIFY2(body->toPlainText().contains(QLatin1String("\"storedCount\":5")),
        qPrintable(body->toPlainText()));
}

void RoomInspectorPaneTest::composerRejectsPathWithoutSlash()
{
    QVERIFY(sendPath(QStringLiteral("count-memory"), 3));
    QCOMPARE(child<QLabel>(QStringLiteral("composerStatus"))->text(),
        QStringLiteral("Enter a path that starts with /, for example /count-memory."));
    QVERIFY(composerEvents(TraceKind::RequestStart).isEmpty());

    // The path field is only for the path route.
    auto *route = child<QComboBox>(QStringLiteral("composerRoute"));
    route->setCurrentIndex(route->findText(QStringLiteral("get")));
    QVERIFY(!child<QComboBox>(QStringLiteral("composerPath"))->isEnabled());
    QVERIFY(child<QLineEdit>(QStringLiteral("composerKey"))->isEnabled());
}

void RoomInspectorPaneTest::roomDockFollowsRoomsViewAndTopology()
{
    // A second lab room, created by a request.
    QVERIFY(sendPath(QStringLiteral("/count-memory"), 1, QStringLiteral("annex")));
    m_window->controller()->advanceBy(seconds(1));
    auto *roomsView = child<QTableView>(QStringLiteral("roomsView"));
    QVERIFY(roomsView);
    QCOMPARE(roomsView->model()->rowCount(), 2);
    QCOMPARE(roomsView->currentIndex().row(), 0);

    const QModelIndex annex = roomsView->model()->index(1, RoomsModel::NameColumn);
    QCOMPARE(annex.data().toString(), QStringLiteral("annex"));
    QTest::mouseClick(
        roomsView->viewport(), Qt::LeftButton, {}, roomsView->visualRect(annex).center());
    QCOMPARE(m_pane->inspector()->room(), QStringLiteral("annex"));
    QCOMPARE(child<QLabel>(QStringLiteral("roomTitle"))->text(), QStringLiteral("Room annex"));
    QCOMPARE(m_pane->inspector()->memory()->rowCount(), 4);

    // A click on a room in the topology view selects it too, and the rooms view follows.
    auto *topology = child<TopologyView>(QStringLiteral("topologyView"));
    QVERIFY(topology);
    topology->repaint();
    const QRectF lab = topology->roomRect(QStringLiteral("lab"));
    QVERIFY(!lab.isEmpty());
    QTest::mouseClick(topology, Qt::LeftButton, {}, lab.center().toPoint());
    QCOMPARE(m_pane->inspector()->room(), QStringLiteral("lab"));
    QCOMPARE(roomsView->currentIndex().row(), 0);
    QVERIFY(m_pane->isVisible());
}

void RoomInspectorPaneTest::actionsEnableAndReport()
{
    using Action = RoomInspector::Action;
    const QList<Action> all = { Action::Hibernate, Action::Evict, Action::Reset, Action::Shutdown,
        Action::FireAlarm, Action::FailNextCommit };
    for (Action action : all) {
        QVERIFY(m_pane->action(action));
        QVERIFY(!m_pane->action(action)->isEnabled());
        QCOMPARE(m_pane->action(action)->toolTip(), RoomInspector::actionToolTip(action));
    }

    m_window->controller()->advanceBy(seconds(27));
    QVERIFY(m_pane->action(Action::Hibernate)->isEnabled());
    QVERIFY(m_pane->action(Action::Evict)->isEnabled());
    QVERIFY(m_pane->action(Action::Reset)->isEnabled());
    QVERIFY(m_pane->action(Action::Shutdown)->isEnabled());
    QVERIFY(!m_pane->action(Action::FireAlarm)->isEnabled());
    QVERIFY(m_pane->action(Action::FailNextCommit)->isEnabled());
    auto *note = child<QLabel>(QStringLiteral("roomMemoryNote"));
    QVERIFY(note);
    QVERIFY2(
        note->text().startsWith(QLatin1String("In memory: instance 2.")), qPrintable(note->text()));

    m_pane->action(Action::Hibernate)->trigger();
    const QString hibernated = QStringLiteral(
        "Hibernated room lab: its in-memory fields are gone, and the next event runs the "
        "constructor again.");
    QCOMPARE(m_pane->messageText(), hibernated);
    QCOMPARE(m_window->statusBar()->currentMessage(), hibernated);
    QCOMPARE(child<QLabel>(QStringLiteral("roomState"))->text(), QStringLiteral("hibernated"));
    QVERIFY(!m_pane->action(Action::Hibernate)->isEnabled());
    QVERIFY(!m_pane->action(Action::Evict)->isEnabled());
    QVERIFY(m_pane->action(Action::Reset)->isEnabled());
    QVERIFY2(note->text().startsWith(QLatin1String("Not in memory: the object is hibernated.")),
        qPrintable(note->text()));
    QCOMPARE(m_pane->inspector()->memory()->rowCount(), 0);
    QCOMPARE(
        m_pane->inspector()->storage()->valueText(QStringLiteral("count")), QStringLiteral("10"));

    m_pane->action(Action::FailNextCommit)->trigger();
    QVERIFY(!m_pane->action(Action::FailNextCommit)->isEnabled());
    QCOMPARE(m_pane->messageText(),
        QStringLiteral("The next storage commit of room lab fails, which resets the object."));
}

void RoomInspectorPaneTest::hibernateWhileBusyShowsReason()
{
    m_window->controller()->advanceBy(seconds(25) + milliseconds(20));
    QAction *hibernate = m_pane->action(RoomInspector::Action::Hibernate);
    QVERIFY(hibernate->isEnabled());
    hibernate->trigger();
    const QString reason = QStringLiteral(
        "Could not hibernate room lab: 10 events in flight, 10 outbound I/O operations.");
    QCOMPARE(m_pane->messageText(), reason);
    QCOMPARE(m_window->statusBar()->currentMessage(), reason);
    QCOMPARE(child<QLabel>(QStringLiteral("roomState"))->text(), QStringLiteral("active"));
}

void RoomInspectorPaneTest::queryConsoleShowsResultAndError()
{
    m_window->controller()->advanceBy(seconds(27));
    auto *tabs = child<QTabWidget>(QStringLiteral("roomTabs"));
    auto *input = child<QLineEdit>(QStringLiteral("roomQueryInput"));
    auto *run = child<QPushButton>(QStringLiteral("roomQueryRun"));
    auto *result = child<QTableView>(QStringLiteral("roomQueryResult"));
    QVERIFY(tabs && input && run && result);
    tabs->setCurrentIndex(2);
    QCOMPARE(tabs->tabText(2), QStringLiteral("Storage"));

    input->setText(QStringLiteral("SELECT key, value FROM _cf_KV"));
    QTest::mouseClick(run, Qt::LeftButton);
    QCOMPARE(m_pane->consoleText(), QStringLiteral("> SELECT key, value FROM _cf_KV\n1 row"));
    QCOMPARE(result->model()->rowCount(), 1);
    QCOMPARE(result->model()->index(0, 0).data().toString(), QStringLiteral("count"));
    QCOMPARE(result->model()->index(0, 1).data().toString(), QStringLiteral("10"));

    input->setText(QStringLiteral("DROP TABLE _cf_KV"));
    QTest::keyClick(input, Qt::Key_Return);
    QCOMPARE(m_pane->consoleText(),
        QStringLiteral("> SELECT key, value FROM _cf_KV\n1 row\n> DROP TABLE _cf_KV\n"
                       "Error: The storage inspector runs read-only statements only."));
    QCOMPARE(result->model()->rowCount(), 0);
    QCOMPARE(m_pane->inspector()->tableNames(), QStringList { "_cf_KV" });
}

void RoomInspectorPaneTest::storedEntryShowsInValueInspector()
{
    m_window->controller()->advanceBy(seconds(27));
    auto *stored = child<QTableView>(QStringLiteral("roomStoredView"));
    QVERIFY(stored);
    QCOMPARE(stored->model()->rowCount(), 1);
    stored->setCurrentIndex(stored->model()->index(0, 1));
    QCOMPARE(m_window->inspector()->text(), QStringLiteral("10"));
    QCOMPARE(m_window->inspector()->title(), QStringLiteral("Stored value of count in room lab"));
}

void RoomInspectorPaneTest::socketsSummaryAfterConnect()
{
    auto *summary = child<QLabel>(QStringLiteral("roomSocketsSummary"));
    QVERIFY(summary);
    QCOMPARE(summary->text(), QStringLiteral("No WebSockets: the object does not exist yet."));
    m_window->controller()->advanceBy(seconds(2));
    QCOMPARE(summary->text(),
        QStringLiteral("10 WebSockets: 10 hibernatable, 0 standard · auto-response \"ping\" → "
                       "\"pong\", answered without waking the object"));
    QCOMPARE(child<QTableView>(QStringLiteral("roomSocketsView"))->model()->rowCount(), 10);
}

void RoomInspectorPaneTest::dockRendersOffscreen()
{
    m_window->controller()->advanceBy(seconds(45));
    auto *tabs = child<QTabWidget>(QStringLiteral("roomTabs"));
    QVERIFY(tabs);
    QCOMPARE(tabs->count(), 6);
    for (int tab = 0; tab < tabs->count(); ++tab) {
        tabs->setCurrentIndex(tab);
        const QPixmap pixmap = m_pane->grab();
        QVERIFY(!pixmap.isNull());
        QCOMPARE(pixmap.size() / pixmap.devicePixelRatio(), m_pane->size());
        QVERIFY2(m_pane->width() > 300 && m_pane->height() > 200,
            qPrintable(QStringLiteral("%1x%2").arg(m_pane->width()).arg(m_pane->height())));
        const int colours = colourCount(pixmap.toImage());
        QVERIFY2(
            colours > 10, qPrintable(QStringLiteral("tab %1: %2 colours").arg(tab).arg(colours)));
    }
}

void RoomInspectorPaneTest::windowFitsSmallScreen()
{
    const QSize minimum = m_window->minimumSizeHint();
    QVERIFY2(minimum.width() <= 1280 && minimum.height() <= 800,
        qPrintable(QStringLiteral("%1x%2").arg(minimum.width()).arg(minimum.height())));
    m_window->resize(1280, 800);
    QTest::qWait(50);
    QVERIFY2(m_pane->width() >= 400 && m_pane->height() >= 200,
        qPrintable(QStringLiteral("%1x%2").arg(m_pane->width()).arg(m_pane->height())));
}

QTEST_MAIN(RoomInspectorPaneTest)
#include "tst_roominspectorpane.moc"
