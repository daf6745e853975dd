// The bundled do-lab scenario: the lab class's lost update, input-gate save, hibernation and
// alarm retries, as a whole run shows them.

#include "report.h"
#include "scenario.h"
#include "world.h"

#include <QDir>
#include <QTest>

#include <memory>

using namespace roomscope;

namespace {

struct LabRun
{
    std::unique_ptr<World> world;
    std::vector<TraceEvent> events;
};

std::unique_ptr<LabRun> runDoLab(quint64 seed)
{
    const Result<Scenario> scenario = Scenario::load(
            QDir(qEnvironmentVariable("ROOMSCOPE_SOURCE_DIR")).filePath(QStringLiteral("resources/scenarios/do-lab.json")));
    if (!scenario) {
        qWarning("%s", qPrintable(scenario.error().message));
        return nullptr;
    }
    Result<std::unique_ptr<World>> world = World::create(*scenario, seed);
    if (!world) {
        qWarning("%s", qPrintable(world.error().message));
        return nullptr;
    }
    auto run = std::make_unique<LabRun>();
    run->world = std::move(world).value();
    run->world->simulation().trace().addSink([events = &run->events](const TraceEvent &event) {
        events->push_back(event);
    });
    run->world->runToEnd();
    return run;
}

/// Response bodies of one workload's requests, grouped by the second they completed in.
std::map<qint64, QByteArrayList> bodiesBySecond(const LabRun &run, const QString &workload)
{
    std::map<qint64, QByteArrayList> bodies;
    const SimTime start = run.world->scenario().start;
    for (const TraceEvent &event : run.events) {
        if (event.kind == TraceKind::RequestEnd && event.actor == QStringLiteral("workload ") + workload)
            bodies[(event.time - start) / kMicrosecondsPerSecond] << event.value.trimmed();
    }
    return bodies;
}

} // namespace

class TestDoLab : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void lostUpdateAnswersOneEachBurst();
    void inputGateCountsOnAcrossHibernation();
    void alarmRetriesWithBackoff();
    void reportListsWorkloadResponses();
    void hibernatesWhenIdle();
    void sameSeedSameTrace();

private:
    std::unique_ptr<LabRun> m_run;
};

void TestDoLab::initTestCase()
{
    QVERIFY2(!qEnvironmentVariableIsEmpty("ROOMSCOPE_SOURCE_DIR"),
             "ROOMSCOPE_SOURCE_DIR is not set: run the test with ctest");
    m_run = runDoLab(7);
    QVERIFY(m_run);
}

void TestDoLab::lostUpdateAnswersOneEachBurst()
{
    // Ten concurrent increments around a 50 ms fetch all read 0 and all write 1. The room
    // hibernates between bursts, so each burst starts again from 0.
    const auto bodies = bodiesBySecond(*m_run, QStringLiteral("lost-update"));
    QCOMPARE(bodies.size(), size_t(3));
    for (const auto &[second, list] : bodies) {
        QCOMPARE(list, QByteArrayList(10, "1"));
        QVERIFY(second == 25 || second == 50 || second == 75);
    }
}

void TestDoLab::inputGateCountsOnAcrossHibernation()
{
    const auto bodies = bodiesBySecond(*m_run, QStringLiteral("input-gate"));
    QByteArrayList all;
    for (const auto &[second, list] : bodies)
        all << list;
    QByteArrayList expected;
    for (int i = 1; i <= 30; ++i)
        expected << QByteArray::number(i);
    QCOMPARE(all, expected);

    DurableObject *lab = m_run->world->roomObject(QStringLiteral("lab"));
    QVERIFY(lab);
    QCOMPARE(lab->storage().get(QStringLiteral("count")).value(), QByteArray("30"));
}

void TestDoLab::alarmRetriesWithBackoff()
{
    QList<qint64> runsMs;
    QList<qint64> retryCounts;
    const SimTime start = m_run->world->scenario().start;
    for (const TraceEvent &event : m_run->events) {
        if (event.kind == TraceKind::AlarmRun) {
            runsMs << (event.time - start) / kMicrosecondsPerMillisecond;
            retryCounts << event.numbers[0];
        }
    }
    // Set at 40 s and 80 s for 2 s later; three failures retry after 2, 4 and 8 s.
    QCOMPARE(runsMs, (QList<qint64> { 42'004, 44'004, 48'004, 56'004, 82'004, 84'004, 88'004, 96'004 }));
    QCOMPARE(retryCounts, (QList<qint64> { 0, 1, 2, 3, 0, 1, 2, 3 }));
    // The fourth run of each cycle succeeds; alarm.set records the completion.
    QList<qint64> completedMs;
    for (const TraceEvent &event : m_run->events) {
        if (event.kind == TraceKind::AlarmSet && event.subject == QStringLiteral("completed"))
            completedMs << (event.time - start) / kMicrosecondsPerMillisecond;
    }
    QCOMPARE(completedMs, (QList<qint64> { 56'004, 96'004 }));

    const Report report = buildReport(*m_run->world);
    QCOMPARE(report.values.at(QStringLiteral("alarms.runs")), 8.0);
    QCOMPARE(report.values.at(QStringLiteral("alarms.retries")), 6.0);
    QVERIFY(report.passed());
}

void TestDoLab::reportListsWorkloadResponses()
{
    const Report report = buildReport(*m_run->world);
    QCOMPARE(report.pathWorkloads.size(), size_t(3));
    const Report::PathWorkload &lost = report.pathWorkloads[0];
    QCOMPARE(lost.path, QStringLiteral("/count-memory"));
    QCOMPARE(lost.responses.size(), size_t(1));
    QCOMPARE(lost.responses[0].first, QByteArray("200 1"));
    QCOMPARE(lost.responses[0].second, quint64(30));
    const Report::PathWorkload &gated = report.pathWorkloads[1];
    QCOMPARE(gated.responses.size(), Metrics::kMaxDistinctBodies);
    QCOMPARE(gated.responses[0].first, QByteArray("200 1"));
    QCOMPARE(gated.responses[7].first, QByteArray("200 8"));
    QCOMPARE(gated.otherResponses, quint64(22));
    QVERIFY(report.toText().contains(QStringLiteral("  lost-update   /count-memory         200 1 ×30\n")));
}

void TestDoLab::hibernatesWhenIdle()
{
    QList<qint64> hibernatedAtMs;
    const SimTime start = m_run->world->scenario().start;
    for (const TraceEvent &event : m_run->events) {
        if (event.kind == TraceKind::ObjectState && event.subject == QStringLiteral("hibernated"))
            hibernatedAtMs << (event.time - start) / kMicrosecondsPerMillisecond;
    }
    QVERIFY(!hibernatedAtMs.isEmpty());
    // The clients connect within the first second; the room hibernates 10 s after the last.
    QVERIFY(hibernatedAtMs.first() > 10'000 && hibernatedAtMs.first() < 11'100);

    const DurableObject *lab = m_run->world->roomObject(QStringLiteral("lab"));
    QCOMPARE(lab->openSocketCount(), 10);
    QCOMPARE(int(lab->constructorRuns()), hibernatedAtMs.size() + (lab->isInMemory() ? 1 : 0));
}

void TestDoLab::sameSeedSameTrace()
{
    const std::unique_ptr<LabRun> again = runDoLab(7);
    QVERIFY(again);
    QCOMPARE(again->world->simulation().trace().digest().hex(),
             m_run->world->simulation().trace().digest().hex());
    QCOMPARE(again->events.size(), m_run->events.size());
}

QTEST_GUILESS_MAIN(TestDoLab)
#include "tst_dolab.moc"
