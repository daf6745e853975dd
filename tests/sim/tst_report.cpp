#include "report.h"
#include "scenario.h"
#include "world.h"
#include "roomscopeprocess.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <vector>

using namespace roomscope;
using namespace roomscope::testing;

namespace {

constexpr SimDuration kThirtyDaysUs = seconds(30 * 24 * 3600);


// A finished run of a scenario with every trace event it recorded.
struct FinishedRun
{
    std::unique_ptr<World> world;
    std::vector<TraceEvent> events;
    Report report;
};

std::unique_ptr<FinishedRun> runScenario(const Scenario &scenario)
{
    Result<std::unique_ptr<World>> world = World::create(scenario);
    if (!world) {
        qWarning("%s", qPrintable(world.error().message));
        return nullptr;
    }
    auto run = std::make_unique<FinishedRun>();
    run->world = std::move(world).value();
    std::vector<TraceEvent> *events = &run->events;
    run->world->simulation().trace().addSink(
        [events](const TraceEvent &event) { events->push_back(event); });
    run->world->runToEnd();
    run->report = buildReport(*run->world);
    return run;
}

std::unique_ptr<FinishedRun> runKvRoom()
{
    const Result<Scenario> scenario = Scenario::load(kvRoomPath());
    if (!scenario) {
        qWarning("%s", qPrintable(scenario.error().message));
        return nullptr;
    }
    return runScenario(*scenario);
}

qsizetype countOf(const std::vector<TraceEvent> &events, TraceKind kind)
{
    return std::count_if(events.begin(), events.end(),
        [kind](const TraceEvent &event) { return event.kind == kind; });
}

// The nearest-rank percentile: the smallest sample with at least `percent` of samples at or
// below it.
qint64 nearestRank(std::vector<qint64> samples, int percent)
{
    std::sort(samples.begin(), samples.end());
    const size_t n = samples.size();
    size_t rank = (size_t(percent) * n + 99) / 100; // ceil(percent / 100 * n) in integers
    rank = std::max<size_t>(rank, 1);
    return samples[rank - 1];
}

} // namespace

class TestReport : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();

    void deliveriesMatchBroadcasts();
    void broadcastsReachAcceptedSockets();
    void countersMatchTrace();
    void peakPendingWritesMatchTrace();
    void latencyPercentiles();
    void expectationsPass();
    void jsonMatchesValues();
    void costUsesRunUsage();

    void estimateCost_data();
    void estimateCost();
    void estimateCostKvPrices();
    void failingExpectation();

private:
    std::unique_ptr<FinishedRun> m_run;
};

void TestReport::initTestCase()
{
    QVERIFY2(!qEnvironmentVariableIsEmpty("ROOMSCOPE_SOURCE_DIR"),
        "ROOMSCOPE_SOURCE_DIR is not set: run the test with ctest, or set it to the source "
        "tree");
    m_run = runKvRoom();
    QVERIFY(m_run);
}

void TestReport::cleanupTestCase()
{
    m_run.reset();
}

void TestReport::deliveriesMatchBroadcasts()
{
    const Report &report = m_run->report;
    qint64 socketsPerBroadcast = 0;
    for (const TraceEvent &event : m_run->events) {
        if (event.kind == TraceKind::WsBroadcast)
            socketsPerBroadcast += event.numbers[0];
    }

    QVERIFY(socketsPerBroadcast > 0);
    QCOMPARE(report.values.at(QStringLiteral("ws.messagesSent")), double(socketsPerBroadcast));
    QCOMPARE(report.values.at(QStringLiteral("ws.messagesDelivered")), double(socketsPerBroadcast));
    QCOMPARE(double(countOf(m_run->events, TraceKind::WsDeliver)), double(socketsPerBroadcast));
    QCOMPARE(report.values.at(QStringLiteral("ws.undelivered")), 0.0);
}

void TestReport::broadcastsReachAcceptedSockets()
{
    // kv-room closes no socket, so each broadcast reaches every socket its room has accepted.
    QCOMPARE(countOf(m_run->events, TraceKind::WsClose), qsizetype(0));
    std::map<QString, qint64> accepted; // by room actor
    qsizetype broadcasts = 0;
    for (const TraceEvent &event : m_run->events) {
        if (event.kind == TraceKind::WsAccept) {
            ++accepted[event.actor];
        } else if (event.kind == TraceKind::WsBroadcast) {
            ++broadcasts;
            QVERIFY2(event.numbers[0] == accepted[event.actor],
                qPrintable(QStringLiteral("%1 broadcast at %2 reached %3 sockets of %4")
                               .arg(event.actor, formatInstant(event.time))
                               .arg(event.numbers[0])
                               .arg(accepted[event.actor])));
        }
    }
    QVERIFY(broadcasts >= 100);
    QCOMPARE(accepted[QStringLiteral("room lobby")], 200);
    QCOMPARE(accepted[QStringLiteral("room arena")], 200);
}

void TestReport::countersMatchTrace()
{
    const std::map<QString, double> &values = m_run->report.values;
    const std::vector<TraceEvent> &events = m_run->events;
    qsizetype failed = 0;
    qsizetype acceptedWrites = 0;
    qsizetype rejectedWrites = 0;
    qsizetype readsFromCentral = 0;
    for (const TraceEvent &event : events) {
        if (event.kind == TraceKind::RequestEnd && event.numbers[1] >= 400)
            ++failed;
        if (event.kind == TraceKind::KvPut && event.numbers[0] == 429)
            ++rejectedWrites;
        if (event.kind == TraceKind::KvPut && event.numbers[0] == 200)
            ++acceptedWrites;
        if (event.kind == TraceKind::KvGet && event.numbers[0] == 1)
            ++readsFromCentral;
    }

    QCOMPARE(values.at(QStringLiteral("ws.accepted")), 400.0);
    QCOMPARE(double(countOf(events, TraceKind::WsAccept)), 400.0);
    QCOMPARE(values.at(QStringLiteral("kv.writesRateLimited")), 0.0);
    QCOMPARE(rejectedWrites, qsizetype(0));
    QCOMPARE(values.at(QStringLiteral("kv.writes")), double(acceptedWrites));
    QCOMPARE(values.at(QStringLiteral("kv.reads")), double(countOf(events, TraceKind::KvGet)));
    QCOMPARE(values.at(QStringLiteral("kv.readsFromCentral")), double(readsFromCentral));
    QCOMPARE(values.at(QStringLiteral("requests.total")),
        double(countOf(events, TraceKind::RequestEnd)));
    QCOMPARE(double(countOf(events, TraceKind::RequestStart)),
        double(countOf(events, TraceKind::RequestEnd)));
    QCOMPARE(values.at(QStringLiteral("requests.failed")), double(failed));
    std::map<int, quint64> statuses;
    for (const TraceEvent &event : events) {
        if (event.kind == TraceKind::RequestEnd)
            ++statuses[int(event.numbers[1])];
    }
    QCOMPARE(m_run->report.responsesByStatus, statuses);
    QVERIFY(m_run->report.toText().contains(
        QStringLiteral("(%1 failed: %2 with status 404)").arg(failed).arg(statuses[404])));
    QCOMPARE(values.at(QStringLiteral("objects.created")), 2.0);
    QCOMPARE(values.at(QStringLiteral("ws.broadcasts")),
        double(countOf(events, TraceKind::WsBroadcast)));
    QCOMPARE(m_run->report.traceEvents, quint64(events.size()));
}

void TestReport::peakPendingWritesMatchTrace()
{
    std::map<QString, qint64> deepest; // by room actor
    for (const TraceEvent &event : m_run->events) {
        if (event.kind == TraceKind::WriteQueued)
            deepest[event.actor] = std::max(deepest[event.actor], event.numbers[0]);
    }
    const Report &report = m_run->report;
    QCOMPARE(report.rooms.size(), size_t(2));

    qint64 overall = 0;
    for (const Report::Room &room : report.rooms) {
        const qint64 expected = deepest[QStringLiteral("room ") + room.name];
        QVERIFY2(expected > 0, qPrintable(room.name));
        QCOMPARE(qint64(room.peakPendingWrites), expected);
        QCOMPARE(report.values.at(QStringLiteral("rooms.%1.peakPendingWrites").arg(room.name)),
            double(expected));
        // A room that hibernated has dropped its in-memory counter; the trace keeps the peak.
        if (const KvRoom *kvRoom = m_run->world->room(room.name))
            QCOMPARE(qint64(kvRoom->peakPendingWrites()), expected);
        else
            QCOMPARE(m_run->world->roomObject(room.name)->state(), ObjectState::Hibernated);
        overall = std::max(overall, expected);
    }
    QCOMPARE(report.values.at(QStringLiteral("writes.peakPending")), double(overall));
}

void TestReport::latencyPercentiles()
{
    std::vector<qint64> latencies;
    for (const TraceEvent &event : m_run->events) {
        if (event.kind == TraceKind::RequestEnd)
            latencies.push_back(event.numbers[2]);
    }
    QVERIFY(latencies.size() > 100);

    const qint64 p50 = nearestRank(latencies, 50);
    const qint64 p99 = nearestRank(latencies, 99);
    QVERIFY(p50 <= p99);
    QCOMPARE(m_run->report.values.at(QStringLiteral("latency.p50Ms")), double(p50) / 1000.0);
    QCOMPARE(m_run->report.values.at(QStringLiteral("latency.p99Ms")), double(p99) / 1000.0);
    QCOMPARE(m_run->world->metrics().latencyPercentileUs(50), p50);
    QCOMPARE(m_run->world->metrics().latencyPercentileUs(99), p99);
    QCOMPARE(m_run->world->metrics().latencyPercentileUs(100),
        *std::max_element(latencies.begin(), latencies.end()));
}

void TestReport::expectationsPass()
{
    const Report &report = m_run->report;

    QCOMPARE(report.expectations.size(), size_t(4));
    for (const Report::ExpectationResult &result : report.expectations) {
        QVERIFY2(result.passed, qPrintable(result.description));
        QVERIFY(result.known);
    }
    QCOMPARE(report.expectations[2].description, QStringLiteral("ws.accepted == 400"));
    QCOMPARE(report.expectations[2].actual, 400.0);
    QVERIFY(report.passed());
    QVERIFY(report.toText().endsWith(QStringLiteral("\nResult: passed\n")));
}

void TestReport::jsonMatchesValues()
{
    const Report &report = m_run->report;
    const QJsonObject json = report.toJson();
    const QJsonObject metrics = json.value(QStringLiteral("metrics")).toObject();

    const QString kvSettings = QStringLiteral(
        "central store SJC, cacheTtl 1 min 0 s, location caches on, read-your-writes on, "
        "same-key write limit strict, Paid plan");
    QCOMPARE(report.kvSettings, kvSettings);
    QCOMPARE(json.value(QStringLiteral("kvSettings")).toString(), kvSettings);
    QVERIFY(report.toText().contains(QStringLiteral("\n  KV             ") + kvSettings + '\n'));
    QVERIFY(!report.toText().contains(QStringLiteral("Free plan")));

    QCOMPARE(qsizetype(metrics.size()), qsizetype(report.values.size()));
    for (const auto &[name, value] : report.values) {
        QVERIFY2(metrics.contains(name), qPrintable(name));
        QCOMPARE(metrics.value(name).toDouble(), value);
    }
    // Every listed metric name is in the report.
    for (const QString &name : reportMetricNames())
        QVERIFY2(report.values.count(name) == 1, qPrintable(name));

    QCOMPARE(json.value(QStringLiteral("passed")).toBool(), true);
    QCOMPARE(json.value(QStringLiteral("seed")).toString(), QStringLiteral("1"));
    QCOMPARE(json.value(QStringLiteral("scenario")).toString(), QStringLiteral("kv-room"));
    QCOMPARE(json.value(QStringLiteral("traceDigest")).toString(), report.traceDigest);
    QCOMPARE(json.value(QStringLiteral("durationSeconds")).toDouble(), 60.0);
    QCOMPARE(json.value(QStringLiteral("events")).toDouble(), double(report.events));
    const QJsonArray rooms = json.value(QStringLiteral("rooms")).toArray();
    QCOMPARE(rooms.size(), 2);
    QCOMPARE(rooms[0].toObject().value(QStringLiteral("name")).toString(), QStringLiteral("lobby"));
    QCOMPARE(
        rooms[0].toObject().value(QStringLiteral("location")).toString(), QStringLiteral("LHR"));
    QCOMPARE(rooms[0].toObject().value(QStringLiteral("sockets")).toInt(), 200);
    QCOMPARE(rooms[1].toObject().value(QStringLiteral("name")).toString(), QStringLiteral("arena"));
    QCOMPARE(
        rooms[1].toObject().value(QStringLiteral("location")).toString(), QStringLiteral("SJC"));
    const QJsonObject cost = json.value(QStringLiteral("cost")).toObject();
    // The JSON rounds money to 9 decimals.
    QCOMPARE(cost.value(QStringLiteral("runUsd")).toDouble(),
             std::round(report.cost.runUsd * 1e9) / 1e9);
    QCOMPARE(cost.value(QStringLiteral("monthlyUsd")).toDouble(),
             std::round(report.cost.monthlyUsd * 1e9) / 1e9);
    QVERIFY(json.value(QStringLiteral("responsesByStatus")).toObject().contains(QStringLiteral("200")));
}

void TestReport::costUsesRunUsage()
{
    const Report &report = m_run->report;
    const std::map<QString, double> &values = report.values;
    double activeSeconds = 0;
    double roomRequests = 0;
    for (const DurableObject *object : m_run->world->rooms().objects()) {
        activeSeconds += double(object->activeTime()) / 1e6;
        roomRequests += double(object->requestsHandled());
    }
    // Every request in kv-room names a room, so each one, WebSocket upgrades included, is a
    // Durable Object request.
    QCOMPARE(roomRequests, values.at(QStringLiteral("requests.total")));

    const CostEstimate expected = roomscope::estimateCost(values.at(QStringLiteral("kv.reads")),
        values.at(QStringLiteral("kv.writes")), values.at(QStringLiteral("kv.deletes")),
        roomRequests, activeSeconds, seconds(60));
    QCOMPARE(report.cost.doRequests, roomRequests);
    QCOMPARE(report.cost.runUsd, expected.runUsd);
    QCOMPARE(report.cost.monthlyUsd, expected.monthlyUsd);
    QCOMPARE(values.at(QStringLiteral("cost.runUsd")), expected.runUsd);
    QCOMPARE(values.at(QStringLiteral("cost.monthlyUsd")), expected.monthlyUsd);
}

void TestReport::estimateCost_data()
{
    QTest::addColumn<double>("kvReads");
    QTest::addColumn<double>("kvWrites");
    QTest::addColumn<double>("kvDeletes");
    QTest::addColumn<double>("doRequests");
    QTest::addColumn<double>("doActiveSeconds");
    QTest::addColumn<SimDuration>("runDuration");
    QTest::addColumn<double>("expectedDoGbSeconds");
    QTest::addColumn<double>("expectedRunUsd");
    QTest::addColumn<double>("expectedMonthlyUsd");

    // Cloudflare's Durable Objects pricing page, example 1: one object called 1.5 million
    // times and active for 1,000,000 s in a month. (1.5 M - 1 M included) x $0.15/M = $0.075.
    // 128,000 GB-s is inside the 400,000 GB-s allowance. The page rounds the total of $5.075
    // to $5.08. The run cost is before allowances: 1.5 M x $0.15/M + 128,000 GB-s x $12.50/M.
    QTest::newRow("one object for a month")
        << 0.0 << 0.0 << 0.0 << 1.5e6 << 1e6 << kThirtyDaysUs << 128'000.0 << 0.225 + 1.6 << 5.075;
    // The same page, example 4: 21.61 M billed requests and 4,320,000 s active, that is
    // 552,960 GB-s. (21.61 M - 1 M) x $0.15/M = $3.0915 and (552,960 - 400,000) GB-s x
    // $12.50/M = $1.912. The page shows $3.09 + $1.91 + $5 = $10.00.
    QTest::newRow("hibernated WebSockets for a month")
        << 0.0 << 0.0 << 0.0 << 21.61e6 << 4'320'000.0 << kThirtyDaysUs << 552'960.0
        << 21.61 * 0.15 + 0.55296 * 12.5 << 5.0 + 3.0915 + 1.912;
    QTest::newRow("KV usage inside the allowances")
        << 2e6 << 1e6 << 0.0 << 0.0 << 0.0 << kThirtyDaysUs << 0.0 << 1.0 + 5.0 << 5.0;
    QTest::newRow("KV usage above the allowances")
        << 12e6 << 3e6 << 1.5e6 << 0.0 << 0.0 << kThirtyDaysUs << 0.0 << 6.0 + 15.0 + 7.5
        << 5.0 + 1.0 + 10.0 + 2.5;
    // 1,000 writes a minute are 43.2 M writes in 30 days: (43.2 M - 1 M) x $5/M = $211.
    QTest::newRow("one minute scaled to a month")
        << 0.0 << 1'000.0 << 0.0 << 0.0 << 0.0 << seconds(60) << 0.0 << 0.005 << 216.0;
    // 7,812,500 s x 0.128 GB = 1,000,000 GB-s.
    QTest::newRow("duration only")
        << 0.0 << 0.0 << 0.0 << 0.0 << 7'812'500.0 << kThirtyDaysUs << 1e6 << 12.5 << 5.0 + 7.5;
    QTest::newRow("no usage") << 0.0 << 0.0 << 0.0 << 0.0 << 0.0 << kThirtyDaysUs << 0.0 << 0.0
                              << 5.0;
}

void TestReport::estimateCost()
{
    QFETCH(double, kvReads);
    QFETCH(double, kvWrites);
    QFETCH(double, kvDeletes);
    QFETCH(double, doRequests);
    QFETCH(double, doActiveSeconds);
    QFETCH(SimDuration, runDuration);
    QFETCH(double, expectedDoGbSeconds);
    QFETCH(double, expectedRunUsd);
    QFETCH(double, expectedMonthlyUsd);

    const CostEstimate cost = roomscope::estimateCost(
        kvReads, kvWrites, kvDeletes, doRequests, doActiveSeconds, runDuration);

    QCOMPARE(cost.doRequests, doRequests);
    QCOMPARE(cost.doGbSeconds, expectedDoGbSeconds);
    QCOMPARE(cost.kvReadsUsd, kvReads * 0.50 / 1e6);
    QCOMPARE(cost.kvWritesUsd, kvWrites * 5.00 / 1e6);
    QCOMPARE(cost.kvDeletesUsd, kvDeletes * 5.00 / 1e6);
    QCOMPARE(cost.doRequestsUsd, doRequests * 0.15 / 1e6);
    QCOMPARE(cost.runUsd, expectedRunUsd);
    QCOMPARE(cost.runUsd,
        cost.kvReadsUsd + cost.kvWritesUsd + cost.kvDeletesUsd + cost.doRequestsUsd
            + cost.doDurationUsd);
    QCOMPARE(cost.monthlyUsd, expectedMonthlyUsd);
}

void TestReport::estimateCostKvPrices()
{
    const CostEstimate cost = roomscope::estimateCost(2e6, 1e6, 1e6, 0, 0, kThirtyDaysUs);

    QCOMPARE(cost.kvReadsUsd, 1.00); // $0.50 per million reads
    QCOMPARE(cost.kvWritesUsd, 5.00); // $5.00 per million writes
    QCOMPARE(cost.kvDeletesUsd, 5.00); // $5.00 per million deletes
    QCOMPARE(cost.doRequestsUsd, 0.0);
    QCOMPARE(cost.doDurationUsd, 0.0);
    QCOMPARE(cost.runUsd, 11.00);
    QCOMPARE(cost.monthlyUsd, 5.00); // inside every monthly allowance
}

void TestReport::failingExpectation()
{
    QFile file(kvRoomPath());
    QVERIFY(file.open(QIODevice::ReadOnly));
    QJsonObject root = QJsonDocument::fromJson(file.readAll()).object();
    QVERIFY(!root.isEmpty());
    // A shorter run is enough: every client connects within the first 2 s.
    root.insert(QStringLiteral("duration"), QStringLiteral("10s"));
    root.insert(QStringLiteral("expect"),
        QJsonArray {
            QJsonObject { { QStringLiteral("metric"), QStringLiteral("ws.accepted") },
                { QStringLiteral("equals"), 400 } },
            QJsonObject { { QStringLiteral("metric"), QStringLiteral("ws.accepted") },
                { QStringLiteral("equals"), 399 } },
            QJsonObject { { QStringLiteral("metric"), QStringLiteral("kv.writes") },
                { QStringLiteral("min"), 1 }, { QStringLiteral("max"), 2 } },
        });
    const Result<Scenario> scenario
        = Scenario::parse(QJsonDocument(root).toJson(), QStringLiteral("failing.json"));
    QVERIFY2(scenario.ok(), qPrintable(scenario ? QString() : scenario.error().message));

    const std::unique_ptr<FinishedRun> run = runScenario(*scenario);
    QVERIFY(run);
    const Report &report = run->report;

    QCOMPARE(report.expectations.size(), size_t(3));
    QVERIFY(report.expectations[0].passed);
    QVERIFY(!report.expectations[1].passed);
    QCOMPARE(report.expectations[1].description, QStringLiteral("ws.accepted == 399"));
    QCOMPARE(report.expectations[1].actual, 400.0);
    QVERIFY(!report.expectations[2].passed);
    QCOMPARE(
        report.expectations[2].description, QStringLiteral("kv.writes >= 1 and kv.writes <= 2"));
    QVERIFY(report.expectations[2].actual > 2);
    QVERIFY(!report.passed());

    const QString text = report.toText();
    QVERIFY(text.contains(QStringLiteral("\n  pass  ws.accepted == 400 (actual 400)\n")));
    QVERIFY(text.contains(QStringLiteral("\n  FAIL  ws.accepted == 399 (actual 400)\n")));
    QVERIFY(text.endsWith(QStringLiteral("\nResult: FAILED; reproduce with --seed 1\n")));
    QCOMPARE(report.toJson().value(QStringLiteral("passed")).toBool(), false);

    Report overridden = report;
    overridden.overrides = { QStringLiteral("--duration"), QStringLiteral("10s") };
    QVERIFY(overridden.toText().endsWith(
        QStringLiteral("\nResult: FAILED; reproduce with --seed 1 --duration 10s\n")));
}

QTEST_GUILESS_MAIN(TestReport)
#include "tst_report.moc"
