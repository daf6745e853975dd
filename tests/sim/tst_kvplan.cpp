// Tests of the Free plan's daily KV limits, of expirations in the delete count and the cost,
// and of the `stale` flag of reads that a location's cache serves after every kind of central
// change.
//
// Two locations with fixed one-way latencies and no jitter: the central store is in SJC and
// LHR is 70 ms from it.

#include "kvlimits.h"
#include "kvnamespace.h"
#include "location.h"
#include "metrics.h"
#include "report.h"
#include "scenario.h"
#include "simtasks.h"
#include "simulation.h"
#include "task.h"

#include <QTemporaryDir>
#include <QTest>

#include <memory>
#include <optional>

using namespace roomscope;
using namespace roomscope::testing;

namespace QTest {
template<> inline char *toString(const std::optional<QByteArray> &value)
{
    return value ? toString(*value) : qstrdup("nothing");
}
} // namespace QTest

namespace {

constexpr LocationId kSjc = 0;
constexpr LocationId kLhr = 1;
constexpr SimDuration kLhrOneWay = milliseconds(70);
/// 2026-01-01T23:00:00Z, one hour before a new UTC day.
constexpr qint64 kStartSeconds = 1'767'225'600 + 23 * 3600;
constexpr SimTime kStart = seconds(kStartSeconds);
/// 2026-01-02T00:00:00Z.
constexpr SimTime kNextMidnight = seconds(1'767'225'600 + 24 * 3600);

const QString kLimitText = QStringLiteral(
    "429 your account has reached the free usage limit for this operation for today");

/// A KV namespace over SJC and LHR with its central store in SJC, and the metrics of its trace.
class KvWorld
{
public:
    explicit KvWorld(KvSettings settings = {})
        : m_simulation(1, kStart)
    {
        m_locations.add(QStringLiteral("SJC"));
        m_locations.add(QStringLiteral("LHR"));
        m_locations.setLatency(kSjc, kLhr, kLhrOneWay);
        m_locations.setJitterPercent(0);
        settings.centralLocation = kSjc;
        auto created = KvNamespace::create(
            m_simulation, m_locations, QStringLiteral("KV"), settings, QStringLiteral(":memory:"));
        if (!created)
            qFatal("cannot create the KV namespace: %s", qPrintable(created.error().message));
        m_kv = std::move(created).value();
        Metrics *metrics = &m_metrics;
        m_simulation.trace().addSink(
            [metrics](const TraceEvent &event) { metrics->observe(event); });
    }

    KvNamespace &kv() { return *m_kv; }
    const Metrics &metrics() const { return m_metrics; }
    SimTime now() const { return m_simulation.now(); }
    void runUntil(SimTime at) { m_simulation.runUntil(at); }

    template<typename T> T run(Task<T> task)
    {
        return finishTask(m_simulation, startTask(m_simulation, std::move(task)));
    }

    Result<KvReadResult> get(LocationId from, const QString &key)
    {
        return run(m_kv->get(QStringLiteral("test"), from, key));
    }
    Result<std::vector<KvBulkEntry>> getBulk(const QStringList &keys)
    {
        return run(m_kv->getBulk(QStringLiteral("test"), kSjc, keys));
    }
    Status put(
        LocationId from, const QString &key, const QByteArray &value, KvPutOptions options = {})
    {
        return run(m_kv->put(QStringLiteral("test"), from, key, value, options));
    }
    Status remove(LocationId from, const QString &key)
    {
        return run(m_kv->remove(QStringLiteral("test"), from, key));
    }
    Result<KvListResult> list() { return run(m_kv->list(QStringLiteral("test"), kSjc)); }

private:
    Simulation m_simulation;
    LocationMap m_locations;
    std::unique_ptr<KvNamespace> m_kv;
    Metrics m_metrics;
};

KvSettings freePlanSettings()
{
    KvSettings settings;
    settings.plan = KvPlan::Free;
    // No latency, so that each call completes at the instant it is made and the day boundary
    // falls exactly where a test puts it.
    settings.networkLatency = false;
    return settings;
}

QString messageOf(const Status &status)
{
    return status ? QString() : status.error().message;
}

template<typename T> QString messageOf(const Result<T> &result)
{
    return result ? QString() : result.error().message;
}

QStringList keyRange(int first, int count)
{
    QStringList keys;
    for (int i = first; i < first + count; ++i)
        keys << QStringLiteral("key-%1").arg(i);
    return keys;
}

/// Whether a read that returned `version` (0 for a miss) differs from the central store now.
bool differsFromCentral(KvNamespace &kv, const QString &key, qint64 version)
{
    const std::optional<KvEntry> central = kv.centralEntry(key);
    return central ? central->version != version : version != 0;
}

} // namespace

Q_DECLARE_METATYPE(KvPlan)

/// One operation type of the daily limits: its call and its count per call.
enum class DailyOperation { Get, GetBulk, Put, Delete, List };
Q_DECLARE_METATYPE(DailyOperation)

class TestKvPlan : public QObject
{
    Q_OBJECT

private slots:
    // The Free plan's daily limits.
    void dailyLimit_data();
    void dailyLimit();
    void paidPlanHasNoDailyLimit();
    void writeLimitCountsDistinctKeys();
    void bulkReadBeyondRemainingReadsFails();
    void rejectedWriteIsTracedAs429();
    void inspectorWritesAreNotCounted();
    void scenarioPlan_data();
    void scenarioPlan();
    void scenarioPlanErrors_data();
    void scenarioPlanErrors();

    // Expirations are not deletes.
    void expiryIsNotBilledAsDelete_data();
    void expiryIsNotBilledAsDelete();

    // The stale flag of cache hits.
    void staleFlagOfCacheHit_data();
    void staleFlagOfCacheHit();
    void staleFlagOfBulkCacheHit_data();
    void staleFlagOfBulkCacheHit();
};

void TestKvPlan::dailyLimit_data()
{
    QTest::addColumn<DailyOperation>("operation");
    QTest::addColumn<int>("allowedCalls");
    QTest::addColumn<QString>("expectedError");

    QTest::newRow("get") << DailyOperation::Get << 100'000
                         << QStringLiteral("KV GET failed: ") + kLimitText;
    QTest::newRow("bulk get of 100 keys")
        << DailyOperation::GetBulk << 1'000 << QStringLiteral("KV GET_BULK failed: ") + kLimitText;
    QTest::newRow("put to new keys")
        << DailyOperation::Put << 1'000 << QStringLiteral("KV PUT failed: ") + kLimitText;
    QTest::newRow("delete") << DailyOperation::Delete << 1'000
                            << QStringLiteral("KV DELETE failed: ") + kLimitText;
    QTest::newRow("list") << DailyOperation::List << 1'000
                          << QStringLiteral("KV GET failed: ") + kLimitText;
}

void TestKvPlan::dailyLimit()
{
    QFETCH(DailyOperation, operation);
    QFETCH(int, allowedCalls);
    QFETCH(QString, expectedError);

    KvWorld world(freePlanSettings());
    const QStringList bulkKeys = keyRange(0, 100);
    // Makes call `index` of the day. Puts and deletes use a new key each time, so neither the
    // same-key limit nor the distinct-key rule of the write limit plays a part.
    const auto call = [&](int index) -> QString {
        const QString key = QStringLiteral("key-%1").arg(index);
        switch (operation) {
        case DailyOperation::Get:
            return messageOf(world.get(kSjc, QStringLiteral("key")));
        case DailyOperation::GetBulk:
            return messageOf(world.getBulk(bulkKeys));
        case DailyOperation::Put:
            return messageOf(world.put(kSjc, key, "v"));
        case DailyOperation::Delete:
            return messageOf(world.remove(kSjc, key));
        case DailyOperation::List:
            return messageOf(world.list());
        }
        return QStringLiteral("unknown operation");
    };

    int failedCalls = 0;
    for (int i = 0; i < allowedCalls; ++i)
        failedCalls += call(i).isEmpty() ? 0 : 1;
    QCOMPARE(failedCalls, 0);
    QCOMPARE(call(allowedCalls), expectedError);
    QCOMPARE(call(allowedCalls + 1), expectedError);

    // The last microsecond of the day is still over the limit; 00:00 UTC starts a new count.
    world.runUntil(kNextMidnight - 1);
    QCOMPARE(call(allowedCalls + 2), expectedError);
    world.runUntil(kNextMidnight);
    QCOMPARE(call(allowedCalls + 3), QString());
}

void TestKvPlan::paidPlanHasNoDailyLimit()
{
    KvSettings settings = freePlanSettings();
    settings.plan = KvPlan::Paid;
    KvWorld world(settings);

    for (int i = 0; i < 1'001; ++i)
        QCOMPARE(messageOf(world.put(kSjc, QStringLiteral("key-%1").arg(i), "v")), QString());
    world.runUntil(world.now() + seconds(1)); // past the same-key write limit
    for (int i = 0; i < 1'001; ++i)
        QCOMPARE(messageOf(world.remove(kSjc, QStringLiteral("key-%1").arg(i))), QString());
    for (int i = 0; i < 1'001; ++i)
        QCOMPARE(messageOf(world.getBulk(keyRange(0, 100))), QString());
    QCOMPARE(world.metrics().kvWrites, quint64(1'001));
    QCOMPARE(world.metrics().kvDeletes, quint64(1'001));
    QCOMPARE(world.metrics().kvReads, quint64(100'100));
    QCOMPARE(world.metrics().kvWritesRateLimited, quint64(0));
}

void TestKvPlan::writeLimitCountsDistinctKeys()
{
    KvWorld world(freePlanSettings());
    for (int i = 0; i < 1'000; ++i)
        QCOMPARE(messageOf(world.put(kSjc, QStringLiteral("key-%1").arg(i), "v")), QString());

    // A key already written today can be written again, once the same-key second has passed.
    world.runUntil(world.now() + seconds(1));
    QCOMPARE(messageOf(world.put(kSjc, QStringLiteral("key-0"), "again")), QString());
    QCOMPARE(world.kv().centralEntry(QStringLiteral("key-0"))->value, QByteArray("again"));

    // A new key is the 1,001st different key and fails, and nothing is stored.
    QCOMPARE(messageOf(world.put(kSjc, QStringLiteral("key-1000"), "v")),
        QStringLiteral("KV PUT failed: ") + kLimitText);
    QVERIFY(!world.kv().centralEntry(QStringLiteral("key-1000")));

    // The other operation types keep their own counts.
    QCOMPARE(messageOf(world.get(kSjc, QStringLiteral("key-1"))), QString());
    QCOMPARE(messageOf(world.remove(kSjc, QStringLiteral("key-1"))), QString());
    QCOMPARE(messageOf(world.list()), QString());

    // A delete does not free a place in the write count.
    QCOMPARE(messageOf(world.put(kSjc, QStringLiteral("key-1001"), "v")),
        QStringLiteral("KV PUT failed: ") + kLimitText);
}

void TestKvPlan::bulkReadBeyondRemainingReadsFails()
{
    KvWorld world(freePlanSettings());
    const QStringList hundredKeys = keyRange(0, 100);
    for (int i = 0; i < 999; ++i)
        QCOMPARE(messageOf(world.getBulk(hundredKeys)), QString());
    QCOMPARE(messageOf(world.getBulk(keyRange(0, 50))), QString()); // 99,950 reads

    // 100 keys would make 100,050 reads, so the call fails as a whole and counts nothing.
    QCOMPARE(
        messageOf(world.getBulk(hundredKeys)), QStringLiteral("KV GET_BULK failed: ") + kLimitText);
    // Duplicate keys count once, as they do in kv.reads.
    QStringList duplicated = keyRange(0, 50);
    duplicated += keyRange(0, 50);
    QCOMPARE(messageOf(world.getBulk(duplicated)), QString()); // 100,000 reads
    QCOMPARE(messageOf(world.get(kSjc, QStringLiteral("key-0"))),
        QStringLiteral("KV GET failed: ") + kLimitText);
    QCOMPARE(world.metrics().kvReads, quint64(100'000));
}

void TestKvPlan::rejectedWriteIsTracedAs429()
{
    KvWorld world(freePlanSettings());
    for (int i = 0; i < 1'000; ++i) {
        QCOMPARE(messageOf(world.put(kSjc, QStringLiteral("key-%1").arg(i), "v")), QString());
        QCOMPARE(messageOf(world.remove(kSjc, QStringLiteral("old-%1").arg(i))), QString());
    }
    QVERIFY(!world.put(kSjc, QStringLiteral("new"), "v"));
    QVERIFY(!world.remove(kSjc, QStringLiteral("new")));

    QCOMPARE(world.metrics().kvWrites, quint64(1'000));
    QCOMPARE(world.metrics().kvDeletes, quint64(1'000));
    QCOMPARE(world.metrics().kvWritesRateLimited, quint64(2));
}

void TestKvPlan::inspectorWritesAreNotCounted()
{
    KvWorld world(freePlanSettings());
    std::vector<KvEntry> imported;
    for (int i = 0; i < 1'500; ++i)
        imported.push_back({ QStringLiteral("imported-%1").arg(i).toUtf8(), "v", {}, {}, 0 });
    QVERIFY(world.kv().importEntries(imported));
    for (int i = 0; i < 1'500; ++i)
        QVERIFY(world.kv().writeEntry(QStringLiteral("edited-%1").arg(i), "v"));
    QCOMPARE(world.kv().deleteByPrefix(QStringLiteral("edited-")).value(), qint64(1'500));

    for (int i = 0; i < 1'000; ++i)
        QCOMPARE(messageOf(world.put(kSjc, QStringLiteral("key-%1").arg(i), "v")), QString());
    world.runUntil(world.now() + seconds(1)); // past the same-key write limit
    for (int i = 0; i < 1'000; ++i)
        QCOMPARE(messageOf(world.remove(kSjc, QStringLiteral("key-%1").arg(i))), QString());
    QCOMPARE(messageOf(world.put(kSjc, QStringLiteral("key-1000"), "v")),
        QStringLiteral("KV PUT failed: ") + kLimitText);
}

void TestKvPlan::scenarioPlan_data()
{
    QTest::addColumn<QByteArray>("kv");
    QTest::addColumn<KvPlan>("expectedPlan");

    QTest::newRow("no kv section") << QByteArray() << KvPlan::Paid;
    QTest::newRow("kv section without plan")
        << QByteArray(R"("profile": "production")") << KvPlan::Paid;
    QTest::newRow("paid") << QByteArray(R"("plan": "paid")") << KvPlan::Paid;
    QTest::newRow("free") << QByteArray(R"("plan": "free")") << KvPlan::Free;
    QTest::newRow("free with local profile")
        << QByteArray(R"("profile": "local", "plan": "free")") << KvPlan::Free;
}

void TestKvPlan::scenarioPlan()
{
    QFETCH(QByteArray, kv);
    QFETCH(KvPlan, expectedPlan);

    QByteArray json = R"({ "name": "t", "locations": ["LHR", "SJC"])";
    if (!kv.isNull())
        json += ", \"kv\": { " + kv + " }";
    json += " }";
    const Result<Scenario> parsed = Scenario::parse(json, QStringLiteral("kv.json"));
    QVERIFY2(parsed.ok(), qPrintable(messageOf(parsed)));
    QCOMPARE(parsed->kv.plan, expectedPlan);
}

void TestKvPlan::scenarioPlanErrors_data()
{
    QTest::addColumn<QByteArray>("kv");
    QTest::addColumn<QString>("expectedError");

    QTest::newRow("unknown plan")
        << QByteArray(R"("plan": "pro")")
        << QStringLiteral("kv.json:1:61: kv.plan: expected \"paid\" or \"free\", found \"pro\"");
    QTest::newRow("empty plan")
        << QByteArray(R"("plan": "")")
        << QStringLiteral("kv.json:1:61: kv.plan: expected a non-empty string, found \"\"");
    QTest::newRow("plan not a string")
        << QByteArray(R"("plan": true)")
        << QStringLiteral("kv.json:1:61: kv.plan: expected a non-empty string, found true");
}

void TestKvPlan::scenarioPlanErrors()
{
    QFETCH(QByteArray, kv);
    QFETCH(QString, expectedError);

    const QByteArray json = R"({ "name": "t", "locations": ["LHR", "SJC"], "kv": { )" + kv + " } }";
    const Result<Scenario> parsed = Scenario::parse(json, QStringLiteral("kv.json"));
    QVERIFY(!parsed.ok());
    QCOMPARE(parsed.error().message, expectedError);
}

/// What happens to a key written with a 60 s TTL before the run ends at 120 s.
enum class ExpiryCase { ExpiresUnread, ExpiresAfterRead, DeletedBeforeExpiry, DeletedAfterExpiry };
Q_DECLARE_METATYPE(ExpiryCase)

void TestKvPlan::expiryIsNotBilledAsDelete_data()
{
    QTest::addColumn<ExpiryCase>("expiryCase");
    QTest::addColumn<quint64>("expectedDeletes");
    QTest::addColumn<double>("expectedDeletesUsd");

    QTest::newRow("expires unread") << ExpiryCase::ExpiresUnread << quint64(0) << 0.0;
    QTest::newRow("expires after read") << ExpiryCase::ExpiresAfterRead << quint64(0) << 0.0;
    QTest::newRow("deleted before expiry")
        << ExpiryCase::DeletedBeforeExpiry << quint64(1) << 5.0e-6;
    QTest::newRow("deleted after expiry") << ExpiryCase::DeletedAfterExpiry << quint64(1) << 5.0e-6;
}

void TestKvPlan::expiryIsNotBilledAsDelete()
{
    QFETCH(ExpiryCase, expiryCase);
    QFETCH(quint64, expectedDeletes);
    QFETCH(double, expectedDeletesUsd);

    KvWorld world;
    KvPutOptions options;
    options.expirationTtl = 60;
    QVERIFY(world.put(kSjc, QStringLiteral("session"), "token", options));
    if (expiryCase == ExpiryCase::ExpiresAfterRead)
        QCOMPARE(
            world.get(kLhr, QStringLiteral("session"))->value, std::optional<QByteArray>("token"));
    if (expiryCase == ExpiryCase::DeletedBeforeExpiry) {
        world.runUntil(world.now() + seconds(1)); // past the same-key write limit
        QVERIFY(world.remove(kSjc, QStringLiteral("session")));
    }

    world.runUntil(kStart + seconds(120));
    QVERIFY(!world.kv().centralEntry(QStringLiteral("session")));
    QCOMPARE(world.list()->keys.size(), size_t(0));
    QCOMPARE(world.get(kLhr, QStringLiteral("session"))->value, std::optional<QByteArray>());
    if (expiryCase == ExpiryCase::DeletedAfterExpiry)
        QVERIFY(world.remove(kSjc, QStringLiteral("session")));

    const Metrics &metrics = world.metrics();
    QCOMPARE(metrics.kvWrites, quint64(1));
    QCOMPARE(metrics.kvDeletes, expectedDeletes);
    const CostEstimate cost = estimateCost(double(metrics.kvReads), double(metrics.kvWrites),
        double(metrics.kvDeletes), 0, 0, seconds(120));
    QCOMPARE(cost.kvDeletesUsd, expectedDeletesUsd);
    QCOMPARE(cost.kvWritesUsd, 5.0e-6);
}

/// A change to the central store between a read that fills LHR's cache and a read it serves.
enum class CentralChange {
    None,
    OwnWrite, ///< LHR itself writes the key, with read-your-writes
    WorkerWrite, ///< SJC writes the key
    WorkerDelete,
    WorkerWriteOtherKey,
    InspectorWrite,
    InspectorDelete,
    InspectorDeleteByPrefix,
    Import,
    ImportOtherKeysBeyondTracking, ///< 70,000 other keys, more than the change tracking keeps
    WriteThenImportBeyondTracking,
    LoadSessionWithSameVersion,
    LoadSessionWithoutKey,
    LoadSessionWithKey,
    ExpiresDuringHitLatency,
};
Q_DECLARE_METATYPE(CentralChange)

namespace {

void addStaleRows()
{
    QTest::addColumn<bool>("keyExists"); ///< whether the key exists when LHR fills its cache
    QTest::addColumn<CentralChange>("change");
    QTest::addColumn<bool>("expectedStale");

    QTest::newRow("value, no change") << true << CentralChange::None << false;
    QTest::newRow("miss, no change") << false << CentralChange::None << false;
    QTest::newRow("value, own write") << true << CentralChange::OwnWrite << false;
    QTest::newRow("miss, own write") << false << CentralChange::OwnWrite << false;
    QTest::newRow("value, write elsewhere") << true << CentralChange::WorkerWrite << true;
    QTest::newRow("miss, write elsewhere") << false << CentralChange::WorkerWrite << true;
    QTest::newRow("value, delete elsewhere") << true << CentralChange::WorkerDelete << true;
    QTest::newRow("miss, delete elsewhere") << false << CentralChange::WorkerDelete << false;
    QTest::newRow("value, other key written")
        << true << CentralChange::WorkerWriteOtherKey << false;
    QTest::newRow("value, inspector write") << true << CentralChange::InspectorWrite << true;
    QTest::newRow("miss, inspector write") << false << CentralChange::InspectorWrite << true;
    QTest::newRow("value, inspector delete") << true << CentralChange::InspectorDelete << true;
    QTest::newRow("value, inspector prefix delete")
        << true << CentralChange::InspectorDeleteByPrefix << true;
    QTest::newRow("value, import") << true << CentralChange::Import << true;
    QTest::newRow("miss, import") << false << CentralChange::Import << true;
    QTest::newRow("value, many other keys imported")
        << true << CentralChange::ImportOtherKeysBeyondTracking << false;
    QTest::newRow("miss, many other keys imported")
        << false << CentralChange::ImportOtherKeysBeyondTracking << false;
    QTest::newRow("value, write then many imports")
        << true << CentralChange::WriteThenImportBeyondTracking << true;
    QTest::newRow("value, session with same version")
        << true << CentralChange::LoadSessionWithSameVersion << false;
    QTest::newRow("value, session without key")
        << true << CentralChange::LoadSessionWithoutKey << true;
    QTest::newRow("miss, session with key") << false << CentralChange::LoadSessionWithKey << true;
    QTest::newRow("value, expires during hit latency")
        << true << CentralChange::ExpiresDuringHitLatency << true;
}

/// Writes `key` with a 60 s TTL from SJC when `keyExists`, lets LHR fill its cache, applies
/// `change`, and leaves the world at the instant of the second read.
void prepareCacheHit(KvWorld &world, const QString &key, bool keyExists, CentralChange change,
    const QString &sessionPath)
{
    // A session saved before anything is written contains no key.
    if (change == CentralChange::LoadSessionWithoutKey)
        QVERIFY(world.kv().saveStore(sessionPath));
    if (keyExists) {
        KvPutOptions options;
        options.expirationTtl = 60;
        QVERIFY(world.put(kSjc, key, "v1", options));
    }
    const Result<KvReadResult> fill = world.get(kLhr, key);
    QVERIFY(fill);
    QVERIFY(fill->fromCentral);
    // The session contains the key exactly as LHR has cached it, or nothing for a cached miss.
    if (change == CentralChange::LoadSessionWithSameVersion)
        QVERIFY(world.kv().saveStore(sessionPath));
    world.runUntil(world.now() + seconds(2));

    std::vector<KvEntry> manyOtherKeys;
    if (change == CentralChange::ImportOtherKeysBeyondTracking
        || change == CentralChange::WriteThenImportBeyondTracking) {
        for (int i = 0; i < 70'000; ++i)
            manyOtherKeys.push_back({ QStringLiteral("other-%1").arg(i).toUtf8(), "o", {}, {}, 0 });
    }

    switch (change) {
    case CentralChange::None:
        break;
    case CentralChange::OwnWrite:
        QVERIFY(world.put(kLhr, key, "v2"));
        break;
    case CentralChange::WorkerWrite:
        QVERIFY(world.put(kSjc, key, "v2"));
        break;
    case CentralChange::WorkerDelete:
        QVERIFY(world.remove(kSjc, key));
        break;
    case CentralChange::WorkerWriteOtherKey:
        QVERIFY(world.put(kSjc, QStringLiteral("other"), "v2"));
        break;
    case CentralChange::InspectorWrite:
        QVERIFY(world.kv().writeEntry(key, "v2"));
        break;
    case CentralChange::InspectorDelete:
        QVERIFY(world.kv().deleteEntry(key));
        break;
    case CentralChange::InspectorDeleteByPrefix:
        QCOMPARE(world.kv().deleteByPrefix(key.left(2)).value(), qint64(1));
        break;
    case CentralChange::Import:
        QVERIFY(world.kv().importEntries({ { key.toUtf8(), "v2", {}, {}, 0 } }));
        break;
    case CentralChange::ImportOtherKeysBeyondTracking:
        QVERIFY(world.kv().importEntries(manyOtherKeys));
        break;
    case CentralChange::WriteThenImportBeyondTracking:
        QVERIFY(world.kv().writeEntry(key, "v2"));
        QVERIFY(world.kv().importEntries(manyOtherKeys));
        break;
    case CentralChange::LoadSessionWithSameVersion:
        // Overwrite the key first, so that only the load brings the cached version back.
        QVERIFY(world.kv().writeEntry(key, "v2"));
        QVERIFY(world.kv().loadStore(sessionPath));
        break;
    case CentralChange::LoadSessionWithoutKey:
        QVERIFY(world.kv().loadStore(sessionPath));
        break;
    case CentralChange::LoadSessionWithKey:
        QVERIFY(world.kv().writeEntry(key, "v2"));
        QVERIFY(world.kv().saveStore(sessionPath));
        QVERIFY(world.kv().deleteEntry(key));
        QVERIFY(world.kv().loadStore(sessionPath));
        break;
    case CentralChange::ExpiresDuringHitLatency:
        // The value expires 60 s after the write; the 1 ms cache hit starts 0.5 ms before that.
        world.runUntil(kStart + seconds(60) - 500);
        break;
    }
}

} // namespace

void TestKvPlan::staleFlagOfCacheHit_data()
{
    addStaleRows();
}

void TestKvPlan::staleFlagOfCacheHit()
{
    QFETCH(bool, keyExists);
    QFETCH(CentralChange, change);
    QFETCH(bool, expectedStale);

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    KvWorld world;
    const QString key = QStringLiteral("k1");
    prepareCacheHit(world, key, keyExists, change, dir.filePath(QStringLiteral("session.sqlite")));
    if (QTest::currentTestFailed())
        return;

    const Result<KvReadResult> hit = world.get(kLhr, key);
    QVERIFY(hit);
    QVERIFY(!hit->fromCentral);
    QCOMPARE(hit->stale, expectedStale);
    QCOMPARE(hit->stale, differsFromCentral(world.kv(), key, hit->version));
    QCOMPARE(world.metrics().kvStaleReads, quint64(expectedStale ? 1 : 0));
}

void TestKvPlan::staleFlagOfBulkCacheHit_data()
{
    addStaleRows();
}

void TestKvPlan::staleFlagOfBulkCacheHit()
{
    QFETCH(bool, keyExists);
    QFETCH(CentralChange, change);
    QFETCH(bool, expectedStale);

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    KvWorld world;
    const QString key = QStringLiteral("k1");
    prepareCacheHit(world, key, keyExists, change, dir.filePath(QStringLiteral("session.sqlite")));
    if (QTest::currentTestFailed())
        return;

    const quint64 staleBefore = world.metrics().kvStaleReads;
    const quint64 readsBefore = world.metrics().kvReadsFromCentral;
    const Result<std::vector<KvBulkEntry>> hit
        = world.run(world.kv().getBulk(QStringLiteral("test"), kLhr, { key }));
    QVERIFY(hit);
    QCOMPARE(hit->size(), size_t(1));
    QCOMPARE(world.metrics().kvReadsFromCentral, readsBefore);
    QCOMPARE(world.metrics().kvStaleReads - staleBefore, quint64(expectedStale ? 1 : 0));
}

QTEST_GUILESS_MAIN(TestKvPlan)
#include "tst_kvplan.moc"
