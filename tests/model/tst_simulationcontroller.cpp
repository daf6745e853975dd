#include "simulationcontroller.h"

#include <QFile>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace roomscope;

class SimulationControllerTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void loadStartsPaused();
    void loadInvalidScenarioKeepsRun_data();
    void loadInvalidScenarioKeepsRun();
    void stepRunsOneEvent();
    void advanceByEmitsOnce();
    void unlimitedRunMatchesHeadless();
    void realTimeRunAndPause();
    void requestAfterEndRunsAgain();
    void reloadRestarts();
    void speedRejectsNonPositive();

private:
    QString m_scenarioPath;
    QTemporaryDir m_directory;
};

void SimulationControllerTest::initTestCase()
{
    m_scenarioPath = qEnvironmentVariable("ROOMSCOPE_SOURCE_DIR")
        + QStringLiteral("/resources/scenarios/kv-room.json");
    QVERIFY2(QFile::exists(m_scenarioPath), qPrintable(m_scenarioPath));
    QVERIFY(m_directory.isValid());
}

void SimulationControllerTest::loadStartsPaused()
{
    SimulationController controller;
    QCOMPARE(controller.runState(), SimulationController::RunState::Empty);
    QVERIFY(!controller.canRun());
    QSignalSpy changed(&controller, &SimulationController::worldChanged);
    QVERIFY(controller.load(m_scenarioPath).ok());
    QCOMPARE(changed.count(), 1);
    QVERIFY(controller.world());
    QCOMPARE(controller.runState(), SimulationController::RunState::Paused);
    QCOMPARE(controller.world()->simulation().now(), controller.world()->simulation().start());
    QCOMPARE(controller.world()->simulation().seed(), quint64(1));
    QVERIFY(controller.canRun());
}

void SimulationControllerTest::loadInvalidScenarioKeepsRun_data()
{
    QTest::addColumn<QByteArray>("search");
    QTest::addColumn<QByteArray>("replacement");
    QTest::addColumn<QString>("field");

    QTest::newRow("rate is text") << QByteArray("\"rate\": 4,") << QByteArray("\"rate\": \"fast\",")
                                  << QStringLiteral("rate");
    QTest::newRow("unknown location")
        << QByteArray("\"centralLocation\": \"SJC\"") << QByteArray("\"centralLocation\": \"CDG\"")
        << QStringLiteral("centralLocation");
    QTest::newRow("broken JSON") << QByteArray("\"seed\": 1,") << QByteArray("\"seed\": 1,,")
                                 << QStringLiteral("invalid JSON");
}

void SimulationControllerTest::loadInvalidScenarioKeepsRun()
{
    QFETCH(QByteArray, search);
    QFETCH(QByteArray, replacement);
    QFETCH(QString, field);

    QFile source(m_scenarioPath);
    QVERIFY(source.open(QIODevice::ReadOnly));
    QByteArray json = source.readAll();
    QVERIFY(json.contains(search));
    json.replace(search, replacement);
    const QString badPath = m_directory.filePath(QStringLiteral("bad.json"));
    QFile bad(badPath);
    QVERIFY(bad.open(QIODevice::WriteOnly | QIODevice::Truncate));
    bad.write(json);
    bad.close();

    SimulationController controller;
    QVERIFY(controller.load(m_scenarioPath).ok());
    const World *before = controller.world();
    QSignalSpy aboutToChange(&controller, &SimulationController::worldAboutToChange);

    const Status loaded = controller.load(badPath);
    QVERIFY(!loaded.ok());
    const QString message = loaded.error().message;
    QVERIFY2(QRegularExpression(QStringLiteral("bad\\.json:\\d+:\\d+: ")).match(message).hasMatch(),
        qPrintable(message));
    QVERIFY2(message.contains(field), qPrintable(message));
    QCOMPARE(controller.world(), before);
    QCOMPARE(controller.scenarioPath(), m_scenarioPath);
    QCOMPARE(aboutToChange.count(), 0);

    const Status missing = controller.load(m_directory.filePath(QStringLiteral("missing.json")));
    QVERIFY(!missing.ok());
    QVERIFY2(missing.error().message.contains(QLatin1String("missing.json")),
        qPrintable(missing.error().message));
    QCOMPARE(controller.world(), before);
}

void SimulationControllerTest::stepRunsOneEvent()
{
    SimulationController controller;
    QVERIFY(controller.load(m_scenarioPath).ok());
    const Simulation &simulation = controller.world()->simulation();
    QSignalSpy advanced(&controller, &SimulationController::advanced);
    quint64 dispatched = 0;
    for (int i = 1; i <= 5; ++i) {
        const quint64 traced = simulation.trace().eventCount();
        QVERIFY(controller.step());
        // Each step ends with the first event that left something in the trace.
        QVERIFY(simulation.trace().eventCount() > traced);
        QVERIFY(simulation.dispatchedEventCount() > dispatched);
        dispatched = simulation.dispatchedEventCount();
        QCOMPARE(advanced.count(), i);
    }
    QCOMPARE(controller.runState(), SimulationController::RunState::Paused);
}

void SimulationControllerTest::advanceByEmitsOnce()
{
    SimulationController controller;
    QVERIFY(controller.load(m_scenarioPath).ok());
    QSignalSpy advanced(&controller, &SimulationController::advanced);
    const quint64 events = controller.advanceBy(seconds(5));
    QVERIFY(events > 1000);
    QCOMPARE(advanced.count(), 1);
    const Simulation &simulation = controller.world()->simulation();
    QCOMPARE(simulation.now(), simulation.start() + seconds(5));
    QCOMPARE(simulation.dispatchedEventCount(), events);
}

void SimulationControllerTest::unlimitedRunMatchesHeadless()
{
    Result<Scenario> scenario = Scenario::load(m_scenarioPath);
    QVERIFY(scenario.ok());
    Result<std::unique_ptr<World>> headless = World::create(*scenario);
    QVERIFY(headless.ok());
    const quint64 headlessEvents = headless.value()->runToEnd();

    SimulationController controller;
    QVERIFY(controller.load(m_scenarioPath).ok());
    controller.setSpeed(SimulationController::kUnlimitedSpeed);
    QSignalSpy advanced(&controller, &SimulationController::advanced);
    QSignalSpy finished(&controller, &SimulationController::finished);
    QVERIFY(controller.run());
    QCOMPARE(controller.runState(), SimulationController::RunState::Running);
    QTRY_COMPARE_WITH_TIMEOUT(
        controller.runState(), SimulationController::RunState::Finished, 120000);

    QCOMPARE(finished.count(), 1);
    QVERIFY(!controller.isRunning());
    const Simulation &simulation = controller.world()->simulation();
    QCOMPARE(simulation.dispatchedEventCount(), headlessEvents);
    QCOMPARE(
        simulation.trace().digest().hex(), headless.value()->simulation().trace().digest().hex());
    // One advanced() per frame, far fewer than the events run.
    QVERIFY(advanced.count() > 0);
    QVERIFY(quint64(advanced.count()) * 100 < headlessEvents);
    QVERIFY(!controller.canRun());
    QVERIFY(!controller.run());
}

void SimulationControllerTest::realTimeRunAndPause()
{
    SimulationController controller;
    QVERIFY(controller.load(m_scenarioPath).ok());
    controller.setSpeed(100);
    QCOMPARE(controller.speed(), 100.0);
    QSignalSpy advanced(&controller, &SimulationController::advanced);
    QSignalSpy states(&controller, &SimulationController::runStateChanged);
    QVERIFY(controller.run());
    QVERIFY(!controller.run());
    const Simulation &simulation = controller.world()->simulation();
    QTRY_VERIFY(simulation.now() > simulation.start() + seconds(1));
    controller.pause();
    QCOMPARE(controller.runState(), SimulationController::RunState::Paused);
    QCOMPARE(states.count(), 2);

    const int framesBeforeWait = advanced.count();
    const SimTime pausedAt = simulation.now();
    QTest::qWait(100);
    QCOMPARE(advanced.count(), framesBeforeWait);
    QCOMPARE(simulation.now(), pausedAt);
}

void SimulationControllerTest::requestAfterEndRunsAgain()
{
    SimulationController controller;
    QVERIFY(controller.load(m_scenarioPath).ok());
    controller.advanceBy(seconds(400));
    QCOMPARE(controller.runState(), SimulationController::RunState::Finished);
    QVERIFY(!controller.canRun());

    std::optional<HttpResponse> response;
    HttpRequest request;
    request.url = roomUrl(QStringLiteral("count"), QStringLiteral("lobby"));
    controller.sendRequest(QStringLiteral("test"), 0, request,
        [&response](const HttpResponse &received) { response = received; });
    QVERIFY(controller.canRun());
    controller.setSpeed(SimulationController::kUnlimitedSpeed);
    QVERIFY(controller.run());
    QTRY_VERIFY(!controller.isRunning());
    QVERIFY(response.has_value());
    QCOMPARE(response->status, 200);
    QCOMPARE(response->body, QByteArray("200"));
    QCOMPARE(controller.runState(), SimulationController::RunState::Finished);
}

void SimulationControllerTest::reloadRestarts()
{
    SimulationController controller;
    QVERIFY(controller.load(m_scenarioPath, 7).ok());
    controller.advanceBy(seconds(3));
    QSignalSpy aboutToChange(&controller, &SimulationController::worldAboutToChange);
    QSignalSpy changed(&controller, &SimulationController::worldChanged);
    QVERIFY(controller.reload().ok());
    QCOMPARE(aboutToChange.count(), 1);
    QCOMPARE(changed.count(), 1);
    const Simulation &simulation = controller.world()->simulation();
    QCOMPARE(simulation.now(), simulation.start());
    QCOMPARE(simulation.seed(), quint64(7));
}

void SimulationControllerTest::speedRejectsNonPositive()
{
    SimulationController controller;
    QSignalSpy speeds(&controller, &SimulationController::speedChanged);
    controller.setSpeed(0);
    controller.setSpeed(-5);
    QCOMPARE(controller.speed(), 1.0);
    QCOMPARE(speeds.count(), 0);
    controller.setSpeed(0.1);
    QCOMPARE(controller.speed(), 0.1);
    QCOMPARE(speeds.count(), 1);
}

QTEST_GUILESS_MAIN(SimulationControllerTest)
#include "tst_simulationcontroller.moc"
