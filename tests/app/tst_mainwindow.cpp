#include "eventlogmodel.h"
#include "inspectorpane.h"
#include "kvbrowsermodel.h"
#include "kvbrowserpane.h"
#include "mainwindow.h"
#include "messagebanner.h"
#include "modelroles.h"
#include "requestcomposer.h"
#include "simulationcontroller.h"

#include <QAction>
#include <QComboBox>
#include <QDir>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScreen>
#include <QSet>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeView>

using namespace roomscope;

class MainWindowTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();

    void composerRequestReachesLog();
    void composerRejectsMissingKey();
    void keyboardRunPauseStep();
    void invalidScenarioShowsBanner();
    void selectionShowsValueInInspector();
    void reloadClearsInspectorAndComposerRoom();
    void openingOtherScenarioResetsComposerRoom();
    void runOnOpenStatusMessage();
    void bundledScenarioDisplayName();
    void initialSizeFitsScreen();
    void windowRendersOffscreen();

private:
    template<typename T> T *child(const QString &name) const
    {
        T *found = m_window->findChild<T *>(name);
        if (!found)
            qWarning("no child named %s", qPrintable(name));
        return found;
    }
    QList<TraceEvent> composerEvents(TraceKind kind) const;

    QString m_scenarioPath;
    MainWindow *m_window = nullptr;
};

void MainWindowTest::initTestCase()
{
    // Keep the user's saved window layout out of the test, and the test's out of theirs.
    QStandardPaths::setTestModeEnabled(true);
    m_scenarioPath = qEnvironmentVariable("ROOMSCOPE_SOURCE_DIR")
        + QStringLiteral("/resources/scenarios/kv-room.json");
    QVERIFY2(QFile::exists(m_scenarioPath), qPrintable(m_scenarioPath));
}

void MainWindowTest::init()
{
    m_window = new MainWindow;
    m_window->resize(1400, 900);
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window));
    QVERIFY(m_window->openScenario(m_scenarioPath));
    QVERIFY(m_window->banner()->isHidden());
}

void MainWindowTest::cleanup()
{
    delete m_window;
    m_window = nullptr;
}

QList<TraceEvent> MainWindowTest::composerEvents(TraceKind kind) const
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

void MainWindowTest::composerRequestReachesLog()
{
    auto *room = child<QComboBox>(QStringLiteral("composerRoom"));
    auto *route = child<QComboBox>(QStringLiteral("composerRoute"));
    auto *key = child<QLineEdit>(QStringLiteral("composerKey"));
    auto *value = child<QLineEdit>(QStringLiteral("composerValue"));
    auto *from = child<QComboBox>(QStringLiteral("composerFrom"));
    auto *send = child<QPushButton>(QStringLiteral("composerSend"));
    auto *status = child<QLabel>(QStringLiteral("composerStatus"));
    auto *body = child<QPlainTextEdit>(QStringLiteral("composerBody"));
    QVERIFY(room && route && key && value && from && send && status && body);

    QCOMPARE(room->count(), 2);
    QCOMPARE(room->itemText(0), QStringLiteral("lobby"));
    QCOMPARE(room->itemText(1), QStringLiteral("arena"));
    QCOMPARE(from->count(), 3);

    room->setCurrentText(QStringLiteral("arena"));
    route->setCurrentIndex(route->findText(QStringLiteral("put")));
    QTest::keyClicks(key, QStringLiteral("composer:probe"));
    QTest::keyClicks(value, QStringLiteral("hello from NRT"));
    from->setCurrentIndex(from->findText(QStringLiteral("NRT")));
    QTest::mouseClick(send, Qt::LeftButton);

    const QList<TraceEvent> starts = composerEvents(TraceKind::RequestStart);
    QCOMPARE(starts.size(), 1);
    QCOMPARE(starts.first().location, QStringLiteral("NRT"));
    QCOMPARE(starts.first().subject, QStringLiteral("arena"));
    QVERIFY2(starts.first().value.startsWith("POST /put?roomId=arena&key=composer:probe"),
        starts.first().value.constData());
    QVERIFY(composerEvents(TraceKind::RequestEnd).isEmpty());
    QVERIFY2(status->text().startsWith(QLatin1String("Sent POST /put at t+0.000 s")),
        qPrintable(status->text()));

    m_window->controller()->advanceBy(seconds(3));

    const QList<TraceEvent> ends = composerEvents(TraceKind::RequestEnd);
    QCOMPARE(ends.size(), 1);
    QCOMPARE(ends.first().numbers[0], starts.first().numbers[0]);
    QCOMPARE(ends.first().numbers[1], 200);
    const SimDuration latency = ends.first().numbers[2];
    QVERIFY2(status->text().startsWith(
                 QStringLiteral("200 · latency %1 · ").arg(formatDuration(latency))),
        qPrintable(status->text()));
    QCOMPARE(body->toPlainText(), QStringLiteral("ok\n"));

    const std::optional<KvEntry> stored
        = m_window->controller()->world()->kv().centralEntry(QStringLiteral("composer:probe"));
    QVERIFY(stored.has_value());
    QCOMPARE(stored->value, QByteArray("hello from NRT"));
}

void MainWindowTest::composerRejectsMissingKey()
{
    auto *route = child<QComboBox>(QStringLiteral("composerRoute"));
    auto *status = child<QLabel>(QStringLiteral("composerStatus"));
    auto *value = child<QLineEdit>(QStringLiteral("composerValue"));
    QVERIFY(route && status && value);
    route->setCurrentIndex(route->findText(QStringLiteral("get")));
    QVERIFY(!value->isEnabled());
    QVERIFY(!m_window->composer()->send());
    QCOMPARE(status->text(), QStringLiteral("Enter a key: /get needs one."));
    QVERIFY(composerEvents(TraceKind::RequestStart).isEmpty());

    route->setCurrentIndex(route->findText(QStringLiteral("count")));
    QVERIFY(m_window->composer()->send());
    m_window->controller()->advanceBy(seconds(1));
    QCOMPARE(composerEvents(TraceKind::RequestEnd).size(), 1);
}

void MainWindowTest::keyboardRunPauseStep()
{
    QApplication::setActiveWindow(m_window);
    QVERIFY(QTest::qWaitForWindowActive(m_window));
    auto *roomsView = child<QTableView>(QStringLiteral("roomsView"));
    QVERIFY(roomsView);
    roomsView->setFocus();
    SimulationController *controller = m_window->controller();

    QTest::keyClick(roomsView, Qt::Key_Space);
    QVERIFY(controller->isRunning());
    QTest::keyClick(roomsView, Qt::Key_Space);
    QVERIFY(!controller->isRunning());

    // A step runs on to the next event that records a trace event.
    const Trace &trace = controller->world()->simulation().trace();
    const quint64 before = trace.eventCount();
    QTest::keyClick(roomsView, Qt::Key_F10);
    const quint64 afterF10 = trace.eventCount();
    QVERIFY(afterF10 > before);
    QTest::keyClick(roomsView, Qt::Key_Period, Qt::ControlModifier);
    QVERIFY(trace.eventCount() > afterF10);

    // Space typed into a text field is text, not Run.
    auto *filter = child<QLineEdit>(QStringLiteral("eventFilter"));
    QVERIFY(filter);
    filter->setFocus();
    QTest::keyClicks(filter, QStringLiteral("kind:kv "));
    QCOMPARE(filter->text(), QStringLiteral("kind:kv "));
    QVERIFY(!controller->isRunning());
}

void MainWindowTest::invalidScenarioShowsBanner()
{
    QTemporaryDir directory;
    QVERIFY(directory.isValid());
    const QString badPath = directory.filePath(QStringLiteral("broken.json"));
    QFile bad(badPath);
    QVERIFY(bad.open(QIODevice::WriteOnly));
    bad.write("{\n  \"name\": \"broken\",\n  \"seed\": \"one\"\n}\n");
    bad.close();

    const World *before = m_window->controller()->world();
    QVERIFY(!m_window->openScenario(badPath));
    QVERIFY(m_window->banner()->isVisible());
    QVERIFY2(m_window->banner()->text().contains(badPath + QStringLiteral(":3:")),
        qPrintable(m_window->banner()->text()));
    QVERIFY2(m_window->banner()->text().contains(QLatin1String("seed")),
        qPrintable(m_window->banner()->text()));
    QCOMPARE(m_window->controller()->world(), before);

    QVERIFY(m_window->openScenario(m_scenarioPath));
    QVERIFY(m_window->banner()->isHidden());
}

void MainWindowTest::selectionShowsValueInInspector()
{
    m_window->controller()->advanceBy(seconds(4));
    m_window->kvBrowser()->model()->refresh();
    auto *kvView = child<QTreeView>(QStringLiteral("kvBrowserView"));
    QVERIFY(kvView);
    QCOMPARE(kvView, m_window->kvBrowser()->view());
    QVERIFY(kvView->model()->rowCount() > 0);
    const QModelIndex value = kvView->model()->index(0, KvBrowserModel::ValueColumn);
    kvView->setCurrentIndex(value);
    const QByteArray raw = value.data(RawValueRole).toByteArray();
    QVERIFY(!raw.isEmpty());
    QCOMPARE(m_window->inspector()->text(), QString::fromUtf8(raw));
    QCOMPARE(m_window->inspector()->title(), value.data(ValueTitleRole).toString());

    // Selecting the key itself shows the same central value.
    const QModelIndex key = kvView->model()->index(0, KvBrowserModel::KeyColumn);
    kvView->setCurrentIndex(key);
    QCOMPARE(m_window->inspector()->text(), QString::fromUtf8(raw));
    QCOMPARE(m_window->inspector()->title(), value.data(ValueTitleRole).toString());

    // A location column shows what that location would read.
    const QModelIndex location = kvView->model()->index(0, KvBrowserModel::FixedColumnCount);
    kvView->setCurrentIndex(location);
    QCOMPARE(m_window->inspector()->title(), location.data(ValueTitleRole).toString());

    auto *eventView = child<QTableView>(QStringLiteral("eventLogView"));
    QVERIFY(eventView);
    const QModelIndex eventIndex = eventView->model()->index(eventView->model()->rowCount() - 1, 0);
    eventView->setCurrentIndex(eventIndex);
    QCOMPARE(m_window->inspector()->title(), eventIndex.data(ValueTitleRole).toString());
}

void MainWindowTest::reloadClearsInspectorAndComposerRoom()
{
    InspectorPane cleared;
    cleared.clear();
    const QString placeholder = cleared.title();

    m_window->controller()->advanceBy(seconds(4));
    m_window->kvBrowser()->model()->refresh();
    QTreeView *kvView = m_window->kvBrowser()->view();
    QVERIFY(kvView->model()->rowCount() > 0);
    kvView->setCurrentIndex(kvView->model()->index(0, KvBrowserModel::FixedColumnCount));
    QVERIFY(m_window->inspector()->title() != placeholder);

    auto *room = child<QComboBox>(QStringLiteral("composerRoom"));
    QVERIFY(room);
    room->setCurrentIndex(1);
    QCOMPARE(room->currentText(), QStringLiteral("arena"));
    room->setEditText(QStringLiteral("typed-room"));

    QAction *reload = nullptr;
    for (QAction *action : m_window->findChildren<QAction *>()) {
        if (action->text() == QLatin1String("&Reload"))
            reload = action;
    }
    QVERIFY(reload);
    reload->trigger();
    QCOMPARE(m_window->controller()->world()->simulation().dispatchedEventCount(), quint64(0));
    QCOMPARE(m_window->inspector()->title(), placeholder);
    QCOMPARE(m_window->inspector()->text(), QString());
    QCOMPARE(room->currentText(), QStringLiteral("lobby"));
    QCOMPARE(room->currentIndex(), 0);
    QCOMPARE(m_window->kvBrowser()->model()->rowCount(), 0);
}

void MainWindowTest::openingOtherScenarioResetsComposerRoom()
{
    QFile original(m_scenarioPath);
    QVERIFY(original.open(QIODevice::ReadOnly));
    QByteArray json = original.readAll();
    json.replace("\"lobby", "\"hall").replace("\"arena", "\"stage");
    QTemporaryDir directory;
    QVERIFY(directory.isValid());
    const QString otherPath = directory.filePath(QStringLiteral("hall.json"));
    QFile other(otherPath);
    QVERIFY(other.open(QIODevice::WriteOnly));
    QCOMPARE(other.write(json), json.size());
    other.close();

    auto *room = child<QComboBox>(QStringLiteral("composerRoom"));
    QVERIFY(room);
    QCOMPARE(room->currentText(), QStringLiteral("lobby"));
    QVERIFY(m_window->openScenario(otherPath));
    QCOMPARE(room->count(), 2);
    QCOMPARE(room->itemText(0), QStringLiteral("hall"));
    QCOMPARE(room->currentText(), QStringLiteral("hall"));

    // Send now reaches the new scenario's room, not a new "lobby" object.
    auto *route = child<QComboBox>(QStringLiteral("composerRoute"));
    QVERIFY(route);
    route->setCurrentIndex(route->findText(QStringLiteral("count")));
    QVERIFY(m_window->composer()->send());
    const QList<TraceEvent> starts = composerEvents(TraceKind::RequestStart);
    QCOMPARE(starts.size(), 1);
    QCOMPARE(starts.first().subject, QStringLiteral("hall"));
}

void MainWindowTest::runOnOpenStatusMessage()
{
    QVERIFY(m_window->openScenario(m_scenarioPath));
    QCOMPARE(m_window->statusBar()->currentMessage(),
        QStringLiteral("Opened %1. Press Space to run.").arg(m_scenarioPath));
    QVERIFY(!m_window->controller()->isRunning());

    QVERIFY(m_window->openScenario(m_scenarioPath, std::nullopt, true));
    QVERIFY(m_window->controller()->isRunning());
    QCOMPARE(m_window->statusBar()->currentMessage(),
        QStringLiteral("Opened %1. It is running; Space pauses it.").arg(m_scenarioPath));
    m_window->controller()->pause();
}

void MainWindowTest::bundledScenarioDisplayName()
{
    QCOMPARE(MainWindow::scenarioDisplayName(QString::fromLatin1(MainWindow::kBundledScenario)),
        QStringLiteral("the bundled kv-room scenario"));
    QCOMPARE(MainWindow::scenarioDisplayName(QStringLiteral("/tmp/a/b.json")),
        QDir::toNativeSeparators(QStringLiteral("/tmp/a/b.json")));
}

void MainWindowTest::initialSizeFitsScreen()
{
    MainWindow window;
    const QRect available = window.screen()->availableGeometry();
    const QString sizes = QStringLiteral("window %1x%2, minimum %3x%4, screen %5x%6")
                              .arg(window.width())
                              .arg(window.height())
                              .arg(window.minimumSizeHint().width())
                              .arg(window.minimumSizeHint().height())
                              .arg(available.width())
                              .arg(available.height());
    QVERIFY2(window.width() <= available.width(), qPrintable(sizes));
    QVERIFY2(window.height() <= available.height(), qPrintable(sizes));
    QVERIFY2(available.contains(window.geometry()), qPrintable(sizes));
    if (available.width() >= 1700 && available.height() >= 1100)
        QCOMPARE(window.size(), QSize(1600, 1000));
}

void MainWindowTest::windowRendersOffscreen()
{
    m_window->controller()->advanceBy(seconds(5));
    const QPixmap pixmap = m_window->grab();
    QVERIFY(!pixmap.isNull());
    QCOMPARE(pixmap.size() / pixmap.devicePixelRatio(), m_window->size());

    // A blank or single-colour grab means nothing was painted.
    const QImage image = pixmap.toImage();
    QSet<QRgb> colors;
    for (int y = 0; y < image.height(); y += 7) {
        for (int x = 0; x < image.width(); x += 7)
            colors.insert(image.pixel(x, y));
    }
    QVERIFY2(colors.size() > 20, qPrintable(QString::number(colors.size())));
}

QTEST_MAIN(MainWindowTest)
#include "tst_mainwindow.moc"
