#include "report.h"
#include "scenario.h"
#include "world.h"
#include "roomscopeprocess.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <memory>
#include <optional>

using namespace roomscope;
using namespace roomscope::testing;

namespace {


// What one run of a scenario produced, for comparing two runs.
struct RunRecord
{
    QString digest;
    quint64 traceEvents = 0;
    quint64 dispatchedEvents = 0;
    SimTime end = 0;
    QString reportText;
    QByteArrayList traceLines; ///< every trace event as compact JSON, in recording order
};

std::unique_ptr<World> createWorld(std::optional<quint64> seed)
{
    const Result<Scenario> scenario = Scenario::load(kvRoomPath());
    if (!scenario) {
        qWarning("%s", qPrintable(scenario.error().message));
        return nullptr;
    }
    Result<std::unique_ptr<World>> world = World::create(*scenario, seed);
    if (!world) {
        qWarning("%s", qPrintable(world.error().message));
        return nullptr;
    }
    return std::move(world).value();
}

RunRecord record(World &world)
{
    RunRecord run;
    run.digest = world.simulation().trace().digest().hex();
    run.traceEvents = world.simulation().trace().eventCount();
    run.dispatchedEvents = world.simulation().dispatchedEventCount();
    run.end = world.simulation().now();
    run.reportText = buildReport(world).toText();
    return run;
}

std::optional<RunRecord> runKvRoom(std::optional<quint64> seed)
{
    std::unique_ptr<World> world = createWorld(seed);
    if (!world)
        return std::nullopt;
    QByteArrayList lines;
    world->simulation().trace().addSink([&lines](const TraceEvent &event) {
        lines << QJsonDocument(event.toJson()).toJson(QJsonDocument::Compact);
    });
    world->runToEnd();
    RunRecord run = record(*world);
    run.traceLines = lines;
    return run;
}

} // namespace

class TestDeterminism : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void sameSeedSameRun_data();
    void sameSeedSameRun();
    void differentSeedDifferentRun();
    void scenarioSeedIsTheDefault();
    void interleavedWorldsMatchSeparateRuns();
    void traceDumpHasEveryEvent();
};

void TestDeterminism::initTestCase()
{
    QVERIFY2(!qEnvironmentVariableIsEmpty("ROOMSCOPE_SOURCE_DIR"),
        "ROOMSCOPE_SOURCE_DIR is not set: run the test with ctest, or set it to the source "
        "tree");
}

void TestDeterminism::sameSeedSameRun_data()
{
    QTest::addColumn<quint64>("seed");

    QTest::newRow("seed 1") << quint64(1);
    QTest::newRow("seed 2") << quint64(2);
    QTest::newRow("seed 2^53") << (quint64(1) << 53);
}

void TestDeterminism::sameSeedSameRun()
{
    QFETCH(quint64, seed);

    const std::optional<RunRecord> first = runKvRoom(seed);
    const std::optional<RunRecord> second = runKvRoom(seed);
    QVERIFY(first.has_value());
    QVERIFY(second.has_value());

    QCOMPARE(second->digest, first->digest);
    QCOMPARE(second->traceEvents, first->traceEvents);
    QCOMPARE(second->dispatchedEvents, first->dispatchedEvents);
    QCOMPARE(second->end, first->end);
    QCOMPARE(second->reportText, first->reportText);

    QCOMPARE(second->traceLines.size(), first->traceLines.size());
    for (qsizetype i = 0; i < first->traceLines.size(); ++i) {
        if (second->traceLines[i] != first->traceLines[i]) {
            QFAIL(qPrintable(QStringLiteral("trace event %1 differs:\n%2\n%3")
                                 .arg(i)
                                 .arg(QString::fromUtf8(first->traceLines[i]),
                                     QString::fromUtf8(second->traceLines[i]))));
        }
    }
    QVERIFY(first->reportText.contains(QStringLiteral("seed %1").arg(seed)));
    QVERIFY(first->reportText.contains(QStringLiteral("trace digest ") + first->digest));
}

void TestDeterminism::differentSeedDifferentRun()
{
    const std::optional<RunRecord> seed1 = runKvRoom(1);
    const std::optional<RunRecord> seed2 = runKvRoom(2);
    QVERIFY(seed1.has_value());
    QVERIFY(seed2.has_value());

    QVERIFY(seed1->digest != seed2->digest);
    QVERIFY(seed1->traceLines != seed2->traceLines);
    QVERIFY(seed1->reportText != seed2->reportText);
}

void TestDeterminism::scenarioSeedIsTheDefault()
{
    // kv-room.json sets "seed": 1, so a run without a seed override is the seed 1 run.
    const std::optional<RunRecord> fromScenario = runKvRoom(std::nullopt);
    const std::optional<RunRecord> explicitSeed = runKvRoom(1);
    QVERIFY(fromScenario.has_value());
    QVERIFY(explicitSeed.has_value());

    QCOMPARE(fromScenario->digest, explicitSeed->digest);
    QCOMPARE(fromScenario->reportText, explicitSeed->reportText);
}

void TestDeterminism::interleavedWorldsMatchSeparateRuns()
{
    // Two simulations stepped alternately in one process share no state, so each matches the
    // run it would make alone.
    std::unique_ptr<World> one = createWorld(1);
    std::unique_ptr<World> two = createWorld(2);
    QVERIFY(one);
    QVERIFY(two);
    // Step both to the same finish as World::runToEnd(), one event each in turn.
    bool stepped = true;
    while (stepped) {
        stepped = false;
        for (World *world : { one.get(), two.get() }) {
            Simulation &simulation = world->simulation();
            if (simulation.now() < world->workloadEnd()) {
                simulation.runUntil(world->workloadEnd(), 1);
                stepped = true;
            } else if (simulation.hasPendingEvents()
                && *simulation.nextEventTime() <= world->drainLimit()) {
                simulation.step();
                stepped = true;
            }
        }
    }

    const std::optional<RunRecord> alone1 = runKvRoom(1);
    const std::optional<RunRecord> alone2 = runKvRoom(2);
    QVERIFY(alone1.has_value());
    QVERIFY(alone2.has_value());
    QCOMPARE(record(*one).digest, alone1->digest);
    QCOMPARE(record(*two).digest, alone2->digest);
    QCOMPARE(record(*one).reportText, alone1->reportText);
    QCOMPARE(record(*two).reportText, alone2->reportText);
}

void TestDeterminism::traceDumpHasEveryEvent()
{
    const std::optional<RunRecord> run = runKvRoom(1);
    QVERIFY(run.has_value());

    QVERIFY(run->traceEvents > 0);
    QCOMPARE(quint64(run->traceLines.size()), run->traceEvents);
    double previousTime = 0;
    for (qsizetype i = 0; i < run->traceLines.size(); ++i) {
        const QJsonObject event = QJsonDocument::fromJson(run->traceLines[i]).object();
        QCOMPARE(event.value(QStringLiteral("seq")).toDouble(), double(i));
        const double time = event.value(QStringLiteral("time")).toDouble();
        QVERIFY(time >= previousTime);
        previousTime = time;
    }
}

QTEST_GUILESS_MAIN(TestDeterminism)
#include "tst_determinism.moc"
