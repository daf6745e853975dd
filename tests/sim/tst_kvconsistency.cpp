// Tests of the KV namespace's consistency model on the virtual clock: per-location caches,
// read-your-writes, cacheTtl, the same-key write limit, expiration and list semantics.
//
// Three locations with fixed one-way latencies and no jitter, so every time is exact:
// the central store is in SJC (2 ms inside SJC), LHR is 70 ms from it and NRT 55 ms.

#include "kvlimits.h"
#include "kvnamespace.h"
#include "location.h"
#include "simulation.h"
#include "task.h"
#include "simtasks.h"

#include <QTemporaryDir>
#include <QTest>

#include <memory>
#include <optional>

using namespace roomscope;
using namespace roomscope::testing;

namespace QTest {
template<>
inline char *toString(const std::optional<QByteArray> &value)
{
    return value ? toString(*value) : qstrdup("nothing");
}
template<>
inline char *toString(const std::optional<qint64> &value)
{
    return value ? toString(*value) : qstrdup("nothing");
}
} // namespace QTest

namespace {

constexpr LocationId kSjc = 0;
constexpr LocationId kLhr = 1;
constexpr LocationId kNrt = 2;
constexpr SimDuration kSjcRoundTrip = 2 * LocationMap::kDefaultLocalLatencyUs;
constexpr SimDuration kLhrOneWay = milliseconds(70);
constexpr SimDuration kNrtOneWay = milliseconds(55);
constexpr SimDuration kLhrRoundTrip = 2 * kLhrOneWay;
constexpr SimDuration kNrtRoundTrip = 2 * kNrtOneWay;
constexpr SimDuration kCacheHit = milliseconds(1);
constexpr SimDuration kDefaultTtl = seconds(60);
constexpr SimTime kStart = seconds(1'000'000);

using Value = std::optional<QByteArray>;

Value value(const char *text)
{
    return QByteArray(text);
}


/// A KV namespace over SJC, LHR and NRT with its central store in SJC.
class KvWorld
{
public:
    explicit KvWorld(KvSettings settings = {}, SimTime start = kStart,
                     const QString &storePath = QStringLiteral(":memory:"))
        : m_simulation(1, start)
    {
        m_locations.add(QStringLiteral("SJC"));
        m_locations.add(QStringLiteral("LHR"));
        m_locations.add(QStringLiteral("NRT"));
        m_locations.setLatency(kSjc, kLhr, kLhrOneWay);
        m_locations.setLatency(kSjc, kNrt, kNrtOneWay);
        m_locations.setLatency(kLhr, kNrt, milliseconds(110));
        m_locations.setJitterPercent(0);
        settings.centralLocation = kSjc;
        auto created = KvNamespace::create(m_simulation, m_locations, QStringLiteral("KV"),
                                           settings, storePath);
        if (!created)
            qFatal("cannot create the KV namespace: %s", qPrintable(created.error().message));
        m_kv = std::move(created).value();
    }

    Simulation &simulation() { return m_simulation; }
    KvNamespace &kv() { return *m_kv; }
    SimTime now() const { return m_simulation.now(); }
    void runUntil(SimTime at) { m_simulation.runUntil(at); }

    /// Starts a task at the current time; finish() returns its result.
    template<typename T>
    std::shared_ptr<std::optional<T>> start(Task<T> task)
    {
        return startTask(m_simulation, std::move(task));
    }
    template<typename T>
    T finish(const std::shared_ptr<std::optional<T>> &result)
    {
        return finishTask(m_simulation, result);
    }

    Task<Result<KvReadResult>> getTask(LocationId from, const QString &key,
                                       std::optional<double> cacheTtl = {})
    {
        return m_kv->get(QStringLiteral("test"), from, key, KvGetOptions { cacheTtl });
    }
    Task<Status> putTask(LocationId from, const QString &key, const QByteArray &value,
                         KvPutOptions options = {})
    {
        return m_kv->put(QStringLiteral("test"), from, key, value, options);
    }

    KvReadResult get(LocationId from, const QString &key, std::optional<double> cacheTtl = {})
    {
        const Result<KvReadResult> read = finish(start(getTask(from, key, cacheTtl)));
        if (!read)
            qFatal("get failed: %s", qPrintable(read.error().message));
        return read.value();
    }
    Status put(LocationId from, const QString &key, const QByteArray &value,
               KvPutOptions options = {})
    {
        return finish(start(putTask(from, key, value, options)));
    }
    Status remove(LocationId from, const QString &key)
    {
        return finish(start(m_kv->remove(QStringLiteral("test"), from, key)));
    }
    KvListResult list(KvListOptions options = {})
    {
        const Result<KvListResult> listed =
            finish(start(m_kv->list(QStringLiteral("test"), kSjc, options)));
        if (!listed)
            qFatal("list failed: %s", qPrintable(listed.error().message));
        return listed.value();
    }

    /// Writes each key with the value "v" from SJC, all at once.
    void putAll(const QStringList &keys)
    {
        std::vector<std::shared_ptr<std::optional<Status>>> pending;
        for (const QString &key : keys)
            pending.push_back(start(putTask(kSjc, key, QByteArrayLiteral("v"))));
        for (const auto &result : pending) {
            const Status status = finish(result);
            if (!status)
                qFatal("put failed: %s", qPrintable(status.error().message));
        }
    }

private:
    Simulation m_simulation;
    LocationMap m_locations;
    std::unique_ptr<KvNamespace> m_kv;
};

QStringList names(const KvListResult &listed)
{
    QStringList result;
    for (const KvListKey &key : listed.keys)
        result << key.name;
    return result;
}

} // namespace

class TestKvConsistency : public QObject
{
    Q_OBJECT

private slots:
    // Visibility across locations
    void writerReadsOwnWriteAtOnce();
    void cachedMissHidesNewKeyUntilTtl();
    void cacheEntryLapsesAtExactTtl();
    void staleValueInOtherLocation();
    void deletedValueStaysInOtherLocation();
    void writeDuringFetchMarksReadStale();
    void readYourWrites_data();
    void readYourWrites();
    void lowerCacheTtlShortensEntry_data();
    void lowerCacheTtlShortensEntry();

    // Same-key write limit
    void sameKeyWriteLimit_data();
    void sameKeyWriteLimit();
    void writeLimitCountsArrivalAtCentral();
    void rejectedWriteKeepsWindow();
    void lastArrivalWinsWithoutLimit();

    // Expiration
    void expirationTtlExpires_data();
    void expirationTtlExpires();
    void listLeavesOutExpiredKeys();
    void listAtExactExpirySecond();
    void expiryBeatsLongCacheTtl();

    // List
    void listOrder_data();
    void listOrder();
    void literalKeysReadBack();
    void pagination();
    void paginationWithVariableLimit();
    void paginationNeedsPrefixOnEveryPage();
    void paginationSeesKeysInsertedAfterCursor();
    void emptyList();
    void listEntryShape();
    void metadataRoundTrip();
    void putWithoutMetadataClearsIt();
    void keysSurviveReopeningStore();

    // Inspection
    void viewReportsEachLocation();
    void viewOfCachedMiss();
    void viewRefreshAtFollowsDefaultRead();
};

void TestKvConsistency::writerReadsOwnWriteAtOnce()
{
    KvWorld world;
    QVERIFY(world.put(kLhr, QStringLiteral("k"), "v").ok());
    QCOMPARE(world.now(), kStart + kLhrRoundTrip);

    const KvReadResult read = world.get(kLhr, QStringLiteral("k"));
    QCOMPARE(read.value, value("v"));
    QCOMPARE(read.fromCentral, false);
    QCOMPARE(read.stale, false);
    QCOMPARE(read.version, qint64(1));
    QCOMPARE(world.now(), kStart + kLhrRoundTrip + kCacheHit);
}

void TestKvConsistency::cachedMissHidesNewKeyUntilTtl()
{
    KvWorld world;
    const QString key = QStringLiteral("k");

    // LHR reads the missing key at t0 and caches the miss when the response arrives.
    const KvReadResult miss = world.get(kLhr, key);
    QCOMPARE(miss.value, Value());
    QCOMPARE(miss.fromCentral, true);
    QCOMPARE(miss.stale, false);
    QCOMPARE(miss.version, qint64(0));
    const SimTime missCachedAt = kStart + kLhrRoundTrip;
    QCOMPARE(world.now(), missCachedAt);

    // NRT writes the key at t0 + 1 s.
    world.runUntil(kStart + seconds(1));
    QVERIFY(world.put(kNrt, key, "v").ok());
    QCOMPARE(world.kv().centralEntry(key)->value, QByteArray("v"));

    for (const SimTime at : { kStart + seconds(2), kStart + seconds(30),
                              missCachedAt + kDefaultTtl - 1 }) {
        world.runUntil(at);
        const KvReadResult read = world.get(kLhr, key);
        QCOMPARE(read.value, Value());
        QCOMPARE(read.fromCentral, false);
        QCOMPARE(read.stale, true);
        QCOMPARE(read.version, qint64(0));
    }

    world.runUntil(kStart + seconds(61));
    const KvReadResult fresh = world.get(kLhr, key);
    QCOMPARE(fresh.value, value("v"));
    QCOMPARE(fresh.fromCentral, true);
    QCOMPARE(fresh.stale, false);
    QCOMPARE(fresh.version, qint64(1));
}

void TestKvConsistency::cacheEntryLapsesAtExactTtl()
{
    KvWorld world;
    const QString key = QStringLiteral("k");
    world.get(kLhr, key);
    const SimTime missCachedAt = world.now();
    world.runUntil(kStart + seconds(1));
    QVERIFY(world.put(kSjc, key, "v").ok());

    world.runUntil(missCachedAt + kDefaultTtl);
    const KvReadResult read = world.get(kLhr, key);
    QCOMPARE(read.value, value("v"));
    QCOMPARE(read.fromCentral, true);
    QCOMPARE(read.stale, false);
}

void TestKvConsistency::staleValueInOtherLocation()
{
    KvWorld world;
    const QString key = QStringLiteral("k");
    QVERIFY(world.put(kLhr, key, "v1").ok());

    // NRT caches v1.
    const KvReadResult first = world.get(kNrt, key);
    QCOMPARE(first.value, value("v1"));
    QCOMPARE(first.fromCentral, true);
    const SimTime nrtCachedAt = world.now();
    QCOMPARE(nrtCachedAt, kStart + kLhrRoundTrip + kNrtRoundTrip);

    // LHR writes v2 at t1 and reads it back at once.
    const SimTime t1 = kStart + seconds(1);
    world.runUntil(t1);
    QVERIFY(world.put(kLhr, key, "v2").ok());
    const KvReadResult own = world.get(kLhr, key);
    QCOMPARE(own.value, value("v2"));
    QCOMPARE(own.fromCentral, false);
    QCOMPARE(own.stale, false);
    QCOMPARE(own.version, qint64(2));

    // SJC has no cached copy, so it reads fresh data.
    const KvReadResult uncached = world.get(kSjc, key);
    QCOMPARE(uncached.value, value("v2"));
    QCOMPARE(uncached.fromCentral, true);
    QCOMPARE(uncached.stale, false);

    // NRT keeps v1 until its entry's 60 s pass.
    for (const SimTime at : { t1 + seconds(1), t1 + seconds(30), nrtCachedAt + kDefaultTtl - 1 }) {
        world.runUntil(at);
        const KvReadResult read = world.get(kNrt, key);
        QCOMPARE(read.value, value("v1"));
        QCOMPARE(read.fromCentral, false);
        QCOMPARE(read.stale, true);
        QCOMPARE(read.version, qint64(1));
    }
    world.runUntil(t1 + seconds(61));
    const KvReadResult fresh = world.get(kNrt, key);
    QCOMPARE(fresh.value, value("v2"));
    QCOMPARE(fresh.fromCentral, true);
    QCOMPARE(fresh.stale, false);
    QCOMPARE(fresh.version, qint64(2));
}

void TestKvConsistency::deletedValueStaysInOtherLocation()
{
    KvWorld world;
    const QString key = QStringLiteral("k");
    QVERIFY(world.put(kLhr, key, "v1").ok());
    world.get(kNrt, key);

    const SimTime t1 = kStart + seconds(1);
    world.runUntil(t1);
    QVERIFY(world.remove(kLhr, key).ok());
    QCOMPARE(world.kv().centralEntry(key), std::nullopt);

    // The deleting location caches the miss.
    const KvReadResult own = world.get(kLhr, key);
    QCOMPARE(own.value, Value());
    QCOMPARE(own.fromCentral, false);
    QCOMPARE(own.stale, false);

    const KvReadResult uncached = world.get(kSjc, key);
    QCOMPARE(uncached.value, Value());
    QCOMPARE(uncached.fromCentral, true);
    QCOMPARE(uncached.stale, false);

    world.runUntil(t1 + seconds(30));
    const KvReadResult stale = world.get(kNrt, key);
    QCOMPARE(stale.value, value("v1"));
    QCOMPARE(stale.fromCentral, false);
    QCOMPARE(stale.stale, true);

    world.runUntil(t1 + seconds(61));
    const KvReadResult fresh = world.get(kNrt, key);
    QCOMPARE(fresh.value, Value());
    QCOMPARE(fresh.fromCentral, true);
    QCOMPARE(fresh.stale, false);
    QCOMPARE(fresh.version, qint64(0));
}

void TestKvConsistency::writeDuringFetchMarksReadStale()
{
    // LHR's read reaches the central store at +70 ms and returns at +140 ms. A write from SJC
    // lands at +100 ms, so the value LHR gets is already old when it arrives.
    KvWorld world;
    const QString key = QStringLiteral("k");
    QVERIFY(world.put(kSjc, key, "v1").ok());
    world.runUntil(kStart + seconds(2));

    const SimTime readAt = world.now();
    auto read = world.start(world.getTask(kLhr, key));
    world.runUntil(readAt + milliseconds(98));
    auto write = world.start(world.putTask(kSjc, key, "v2"));

    const Result<KvReadResult> result = world.finish(read);
    QVERIFY(result.ok());
    QCOMPARE(world.now(), readAt + kLhrRoundTrip);
    QCOMPARE(result->value, value("v1"));
    QCOMPARE(result->fromCentral, true);
    QCOMPARE(result->stale, true);
    QVERIFY(world.finish(write).ok());
}

void TestKvConsistency::readYourWrites_data()
{
    QTest::addColumn<bool>("readYourWrites");
    QTest::addColumn<Value>("expected");
    QTest::addColumn<bool>("stale");

    QTest::newRow("on: the writer sees its write") << true << value("v2") << false;
    QTest::newRow("off: the writer keeps its cached copy") << false << value("v1") << true;
}

void TestKvConsistency::readYourWrites()
{
    QFETCH(bool, readYourWrites);
    QFETCH(Value, expected);
    QFETCH(bool, stale);

    KvSettings settings;
    settings.readYourWrites = readYourWrites;
    KvWorld world(settings);
    const QString key = QStringLiteral("k");

    QVERIFY(world.put(kLhr, key, "v1").ok());
    QCOMPARE(world.kv().cachedKeyCount(kLhr), qsizetype(readYourWrites ? 1 : 0));
    const KvReadResult first = world.get(kLhr, key);
    QCOMPARE(first.value, value("v1"));
    QCOMPARE(first.fromCentral, !readYourWrites);

    world.runUntil(kStart + seconds(2));
    QVERIFY(world.put(kLhr, key, "v2").ok());
    const KvReadResult read = world.get(kLhr, key);
    QCOMPARE(read.value, expected);
    QCOMPARE(read.fromCentral, false);
    QCOMPARE(read.stale, stale);
}

void TestKvConsistency::lowerCacheTtlShortensEntry_data()
{
    QTest::addColumn<SimDuration>("shortenAt"); // after the entry is cached; -1 for no such read
    QTest::addColumn<std::optional<double>>("shortenTtl");
    QTest::addColumn<SimDuration>("readAt");
    QTest::addColumn<std::optional<double>>("readTtl");
    QTest::addColumn<bool>("seesNewValue");

    const std::optional<double> none;
    const std::optional<double> day = 86400;
    const std::optional<double> fiveMinutes = 300;
    QTest::newRow("86400 read at 301 s is served from cache")
        << SimDuration(-1) << none << seconds(301) << day << false;
    QTest::newRow("300 read at 301 s refetches")
        << SimDuration(-1) << none << seconds(301) << fiveMinutes << true;
    QTest::newRow("300 read at 299 s is served from cache")
        << SimDuration(-1) << none << seconds(299) << fiveMinutes << false;
    QTest::newRow("default read at 61 s refetches")
        << SimDuration(-1) << none << seconds(61) << none << true;
    QTest::newRow("default read at 59 s is served from cache")
        << SimDuration(-1) << none << seconds(59) << none << false;
    QTest::newRow("after a 300 read, an 86400 read at 301 s refetches")
        << seconds(10) << fiveMinutes << seconds(301) << day << true;
    QTest::newRow("after a 300 read, an 86400 read at 299 s is served from cache")
        << seconds(10) << fiveMinutes << seconds(299) << day << false;
    QTest::newRow("after a default read, an 86400 read at 61 s refetches")
        << seconds(10) << none << seconds(61) << day << true;
}

void TestKvConsistency::lowerCacheTtlShortensEntry()
{
    QFETCH(SimDuration, shortenAt);
    QFETCH(std::optional<double>, shortenTtl);
    QFETCH(SimDuration, readAt);
    QFETCH(std::optional<double>, readTtl);
    QFETCH(bool, seesNewValue);

    KvWorld world;
    const QString key = QStringLiteral("k");
    QVERIFY(world.put(kSjc, key, "old").ok());
    const KvReadResult cached = world.get(kLhr, key, 86400);
    QCOMPARE(cached.value, value("old"));
    QCOMPARE(cached.fromCentral, true);
    const SimTime cachedAt = world.now();

    world.runUntil(kStart + seconds(1));
    QVERIFY(world.put(kSjc, key, "new").ok());

    if (shortenAt >= 0) {
        world.runUntil(cachedAt + shortenAt);
        const KvReadResult shortening = world.get(kLhr, key, shortenTtl);
        QCOMPARE(shortening.value, value("old"));
        QCOMPARE(shortening.fromCentral, false);
        QCOMPARE(shortening.stale, true);
    }

    world.runUntil(cachedAt + readAt);
    const KvReadResult read = world.get(kLhr, key, readTtl);
    QCOMPARE(read.value, seesNewValue ? value("new") : value("old"));
    QCOMPARE(read.fromCentral, seesNewValue);
    QCOMPARE(read.stale, !seesNewValue);
}

void TestKvConsistency::sameKeyWriteLimit_data()
{
    QTest::addColumn<WriteRateLimit>("limit");
    QTest::addColumn<SimDuration>("gap");
    QTest::addColumn<QString>("secondError"); // empty when the second write succeeds

    const QString tooMany = QStringLiteral("KV PUT failed: 429 Too Many Requests");
    QTest::newRow("strict, same instant") << WriteRateLimit::Strict << SimDuration(0) << tooMany;
    QTest::newRow("strict, 0.5 s") << WriteRateLimit::Strict << milliseconds(500) << tooMany;
    QTest::newRow("strict, 1 us short of 1 s")
        << WriteRateLimit::Strict << seconds(1) - 1 << tooMany;
    QTest::newRow("strict, 1.0 s") << WriteRateLimit::Strict << seconds(1) << QString();
    QTest::newRow("strict, 1.5 s") << WriteRateLimit::Strict << milliseconds(1500) << QString();
    QTest::newRow("off, same instant") << WriteRateLimit::Off << SimDuration(0) << QString();
    QTest::newRow("off, 0.5 s") << WriteRateLimit::Off << milliseconds(500) << QString();
}

void TestKvConsistency::sameKeyWriteLimit()
{
    QFETCH(WriteRateLimit, limit);
    QFETCH(SimDuration, gap);
    QFETCH(QString, secondError);

    KvSettings settings;
    settings.writeRateLimit = limit;
    KvWorld world(settings);
    const QString key = QStringLiteral("k");

    auto first = world.start(world.putTask(kSjc, key, "v1"));
    world.runUntil(kStart + gap);
    auto second = world.start(world.putTask(kSjc, key, "v2"));
    // A write to another key at the same instant is never limited.
    auto other = world.start(world.putTask(kSjc, QStringLiteral("other"), "x"));

    QVERIFY(world.finish(first).ok());
    const Status secondStatus = world.finish(second);
    QVERIFY(world.finish(other).ok());

    const std::optional<KvEntry> central = world.kv().centralEntry(key);
    QVERIFY(central.has_value());
    if (secondError.isEmpty()) {
        QVERIFY2(secondStatus.ok(),
                 qPrintable(secondStatus.ok() ? QString() : secondStatus.error().message));
        QCOMPARE(central->value, QByteArray("v2"));
        return;
    }
    QVERIFY(!secondStatus.ok());
    QCOMPARE(secondStatus.error().kind, Error::Kind::Error);
    QCOMPARE(secondStatus.error().message, secondError);
    // The rejected write changes nothing, not even the writer's own cache.
    QCOMPARE(central->value, QByteArray("v1"));
    QCOMPARE(central->version, qint64(1));
    const KvReadResult read = world.get(kSjc, key);
    QCOMPARE(read.value, value("v1"));
    QCOMPARE(read.fromCentral, false);
    QCOMPARE(read.stale, false);
}

void TestKvConsistency::writeLimitCountsArrivalAtCentral()
{
    // LHR's write reaches the central store at +70 ms. SJC's write sent 1.0 s after it arrives
    // at +1.002 s, only 0.932 s after LHR's, so it is rejected.
    KvWorld world;
    const QString key = QStringLiteral("k");
    auto first = world.start(world.putTask(kLhr, key, "from LHR"));
    world.runUntil(kStart + seconds(1));
    auto second = world.start(world.putTask(kSjc, key, "from SJC"));

    QVERIFY(world.finish(first).ok());
    const Status secondStatus = world.finish(second);
    QVERIFY(!secondStatus.ok());
    QCOMPARE(secondStatus.error().message, QStringLiteral("KV PUT failed: 429 Too Many Requests"));
    QCOMPARE(world.kv().centralEntry(key)->value, QByteArray("from LHR"));

    // Sent at +1.068 s, it arrives at +1.070 s, exactly 1 s after LHR's write.
    world.runUntil(kStart + kLhrOneWay + seconds(1) - LocationMap::kDefaultLocalLatencyUs);
    QVERIFY(world.put(kSjc, key, "from SJC").ok());
    QCOMPARE(world.kv().centralEntry(key)->value, QByteArray("from SJC"));
}

void TestKvConsistency::rejectedWriteKeepsWindow()
{
    // The window runs from the last accepted write; a rejected write does not restart it.
    KvWorld world;
    const QString key = QStringLiteral("k");
    struct Step
    {
        SimDuration at;
        const char *value;
        bool accepted;
    };
    const Step steps[] = {
        { 0, "a", true },
        { milliseconds(500), "b", false },
        { seconds(1), "c", true },
        { milliseconds(1500), "d", false },
        { milliseconds(1990), "e", false },
        { seconds(2), "f", true },
    };
    QByteArray expected;
    for (const Step &step : steps) {
        world.runUntil(kStart + step.at);
        const Status status = world.put(kSjc, key, step.value);
        QVERIFY2(status.ok() == step.accepted, step.value);
        if (step.accepted)
            expected = step.value;
        QCOMPARE(world.kv().centralEntry(key)->value, expected);
    }
    QCOMPARE(world.kv().centralEntry(key)->value, QByteArray("f"));
    QCOMPARE(world.kv().centralEntry(key)->version, qint64(3));
}

void TestKvConsistency::lastArrivalWinsWithoutLimit()
{
    // With no limit, concurrent writes are last-write-wins in order of arrival at the central
    // store: NRT's write (55 ms) lands before LHR's (70 ms), so LHR's value stays.
    KvSettings settings;
    settings.writeRateLimit = WriteRateLimit::Off;
    KvWorld world(settings);
    const QString key = QStringLiteral("k");
    auto fromLhr = world.start(world.putTask(kLhr, key, "LHR"));
    auto fromNrt = world.start(world.putTask(kNrt, key, "NRT"));
    QVERIFY(world.finish(fromLhr).ok());
    QVERIFY(world.finish(fromNrt).ok());

    const std::optional<KvEntry> central = world.kv().centralEntry(key);
    QCOMPARE(central->value, QByteArray("LHR"));
    QCOMPARE(central->version, qint64(2));

    // Each writer's cache contains its own write, so NRT reads its value, stale, until it lapses.
    const KvReadResult atNrt = world.get(kNrt, key);
    QCOMPARE(atNrt.value, value("NRT"));
    QCOMPARE(atNrt.stale, true);
    const KvReadResult atLhr = world.get(kLhr, key);
    QCOMPARE(atLhr.value, value("LHR"));
    QCOMPARE(atLhr.stale, false);
}

void TestKvConsistency::expirationTtlExpires_data()
{
    QTest::addColumn<SimTime>("readAt");
    QTest::addColumn<LocationId>("location");
    QTest::addColumn<Value>("expected");
    QTest::addColumn<bool>("fromCentral");
    QTest::addColumn<bool>("stale");

    // Written at 1000 s with expirationTtl 60, so it expires at exactly 1060 s. SJC serves the
    // value from its own cache; LHR has no copy and reaches the central store 70 ms after the request.
    // A read marks its value stale when the key has expired by the time the value arrives.
    QTest::newRow("writer, 1 s before expiry")
        << seconds(1059) << kSjc << value("value") << false << false;
    QTest::newRow("writer, 1 us before expiry")
        << seconds(1060) - 1 << kSjc << value("value") << false << true;
    QTest::newRow("writer, at expiry") << seconds(1060) << kSjc << Value() << true << false;
    QTest::newRow("writer, 1 s after expiry") << seconds(1061) << kSjc << Value() << true << false;
    QTest::newRow("other location, 1 s before expiry")
        << seconds(1059) << kLhr << value("value") << true << false;
    QTest::newRow("other location, reaching the store 1 us before expiry")
        << seconds(1060) - kLhrOneWay - 1 << kLhr << value("value") << true << true;
    QTest::newRow("other location, reaching the store at expiry")
        << seconds(1060) - kLhrOneWay << kLhr << Value() << true << false;
}

void TestKvConsistency::expirationTtlExpires()
{
    QFETCH(SimTime, readAt);
    QFETCH(LocationId, location);
    QFETCH(Value, expected);
    QFETCH(bool, fromCentral);
    QFETCH(bool, stale);

    KvWorld world({}, seconds(1000));
    KvPutOptions options;
    options.expirationTtl = 60;
    QVERIFY(world.put(kSjc, QStringLiteral("key"), "value", options).ok());
    QCOMPARE(world.kv().centralEntry(QStringLiteral("key"))->expiration,
             std::optional<qint64>(1060));

    world.runUntil(readAt);
    const KvReadResult read = world.get(location, QStringLiteral("key"));
    QCOMPARE(read.value, expected);
    QCOMPARE(read.fromCentral, fromCentral);
    QCOMPARE(read.stale, stale);
}

void TestKvConsistency::listLeavesOutExpiredKeys()
{
    KvWorld world({}, seconds(1000));
    std::vector<std::shared_ptr<std::optional<Status>>> pending;
    for (int i = 1; i <= 3; ++i) {
        KvPutOptions options;
        options.expiration = 1000 + i * 60;
        pending.push_back(world.start(
            world.putTask(kSjc, QStringLiteral("key%1").arg(i), "value", options)));
    }
    for (const auto &result : pending)
        QVERIFY(world.finish(result).ok());

    world.runUntil(seconds(1130));
    const KvListResult listed = world.list();
    QCOMPARE(names(listed), QStringList { QStringLiteral("key3") });
    QCOMPARE(listed.keys[0].expiration, std::optional<qint64>(1180));
    QCOMPARE(listed.keys[0].metadata, Value());
    QCOMPARE(listed.listComplete, true);
    QCOMPARE(listed.cursor, QString());

    QCOMPARE(world.get(kSjc, QStringLiteral("key2")).value, Value());
    QCOMPARE(world.get(kSjc, QStringLiteral("key3")).value, value("value"));
    QCOMPARE(world.kv().entries(QString(), {}, 10).size(), size_t(1));
}

void TestKvConsistency::listAtExactExpirySecond()
{
    // As in Miniflare, get treats expiration <= now as expired while list keeps expiration >= now,
    // so in the second of expiry a key is listed but reads as missing. The inspector's entries()
    // follows get.
    KvWorld world({}, seconds(1000));
    KvPutOptions options;
    options.expiration = 1120;
    QVERIFY(world.put(kSjc, QStringLiteral("key2"), "value", options).ok());

    world.runUntil(seconds(1120));
    const KvListResult listed = world.list();
    QCOMPARE(names(listed), QStringList { QStringLiteral("key2") });
    QCOMPARE(world.get(kLhr, QStringLiteral("key2")).value, Value());
    QCOMPARE(world.kv().centralEntry(QStringLiteral("key2")), std::nullopt);
    QCOMPARE(world.kv().entries(QString(), {}, 10).size(), size_t(0));

    world.runUntil(seconds(1121));
    QCOMPARE(world.list().keys.size(), size_t(0));
}

void TestKvConsistency::expiryBeatsLongCacheTtl()
{
    KvWorld world({}, seconds(1000));
    const QString key = QStringLiteral("e");
    KvPutOptions options;
    options.expirationTtl = 60;
    QVERIFY(world.put(kSjc, key, "x", options).ok());

    const KvReadResult cached = world.get(kLhr, key, 3600);
    QCOMPARE(cached.value, value("x"));
    QCOMPARE(cached.fromCentral, true);
    const KvLocationView view = world.kv().view(kLhr, key);
    QCOMPARE(view.cached, true);
    QCOMPARE(view.refreshAt, seconds(1060));

    world.runUntil(seconds(1059));
    const KvReadResult before = world.get(kLhr, key, 3600);
    QCOMPARE(before.value, value("x"));
    QCOMPARE(before.fromCentral, false);

    world.runUntil(seconds(1061));
    const KvReadResult after = world.get(kLhr, key, 3600);
    QCOMPARE(after.value, Value());
    QCOMPARE(after.fromCentral, true);
    QCOMPARE(after.stale, false);
}

void TestKvConsistency::listOrder_data()
{
    QTest::addColumn<QStringList>("keys"); // written in this order
    QTest::addColumn<QString>("prefix");
    QTest::addColumn<QStringList>("expected");

    const QString none;
    QTest::newRow("sorted")
        << QStringList { "key3", "key1", "key2" } << none
        << QStringList { "key1", "key2", "key3" };
    QTest::newRow("punctuation by byte") << QStringList { ", ", "!" } << none
                                         << QStringList { "!", ", " };
    QTest::newRow("prefix") << QStringList { "section1key1", "section1key2", "section2key1" }
                            << QStringLiteral("section1")
                            << QStringList { "section1key1", "section1key2" };
    QTest::newRow("prefix is case-sensitive")
        << QStringList { "key1", "key2", "KEY1", "KEY2" } << QStringLiteral("KEY")
        << QStringList { "KEY1", "KEY2" };
    QTest::newRow("UTF-8 byte order")
        << QStringList { QStringLiteral("\U0001D655"), QStringLiteral("\uFF3A"), "Z", "a", ", ",
                         QStringLiteral("\u00E9"), "!" }
        << none
        << QStringList { "!", ", ", "Z", "a", QStringLiteral("\u00E9"), QStringLiteral("\uFF3A"),
                         QStringLiteral("\U0001D655") };
    QTest::newRow("U+FF5A before U+1F600")
        << QStringList { QStringLiteral("\U0001F600"), QStringLiteral("\uFF5A"), "c", "b", "ab",
                         "a/b", "a-b", "a", "B" }
        << none
        << QStringList { "B", "a", "a-b", "a/b", "ab", "b", "c", QStringLiteral("\uFF5A"),
                         QStringLiteral("\U0001F600") };
    QTest::newRow("path-like keys")
        << QStringList { "users/bob:x", "users/bob/messages", "users/bob", "users/bo" }
        << QStringLiteral("users/bob")
        << QStringList { "users/bob", "users/bob/messages", "users/bob:x" };
    const QStringList literal { "a b", "a%20b", "x^y", QStringLiteral("email\u001Fuser\u001Fpw"),
                                QStringLiteral("\u0144.html"), "a_b" };
    QTest::newRow("literal keys")
        << literal << none
        << QStringList { "a b", "a%20b", "a_b", QStringLiteral("email\u001Fuser\u001Fpw"), "x^y",
                         QStringLiteral("\u0144.html") };
    QTest::newRow("percent is no wildcard") << literal << QStringLiteral("a%")
                                            << QStringList { "a%20b" };
    QTest::newRow("underscore is no wildcard") << literal << QStringLiteral("a_")
                                               << QStringList { "a_b" };
    QTest::newRow("no key has the prefix") << literal << QStringLiteral("%") << QStringList();
    QTest::newRow("prefix of high bytes")
        << QStringList { QStringLiteral("\U0010FFFF"), QStringLiteral("\U0010FFFFa"),
                         QStringLiteral("\uFFFF") }
        << QStringLiteral("\U0010FFFF")
        << QStringList { QStringLiteral("\U0010FFFF"), QStringLiteral("\U0010FFFFa") };
}

void TestKvConsistency::listOrder()
{
    QFETCH(QStringList, keys);
    QFETCH(QString, prefix);
    QFETCH(QStringList, expected);

    KvWorld world;
    world.putAll(keys);
    KvListOptions options;
    options.prefix = prefix;
    const KvListResult listed = world.list(options);
    QCOMPARE(names(listed), expected);
    QCOMPARE(listed.listComplete, true);
    QCOMPARE(listed.cursor, QString());

    QStringList viaEntries;
    for (const KvEntry &entry : world.kv().entries(prefix, {}, 100))
        viaEntries << QString::fromUtf8(entry.key);
    QCOMPARE(viaEntries, expected);
}

void TestKvConsistency::literalKeysReadBack()
{
    KvWorld world;
    const QStringList keys { "a b", "a%20b", "x^y", QStringLiteral("email\u001Fuser\u001Fpw"),
                             QStringLiteral("\u0144.html"), "key", "KEY" };
    for (int i = 0; i < keys.size(); ++i)
        QVERIFY(world.put(kSjc, keys[i], QByteArray::number(i)).ok());
    QCOMPARE(world.kv().keyCount(), qint64(keys.size()));
    for (int i = 0; i < keys.size(); ++i) {
        const KvReadResult read = world.get(kNrt, keys[i]);
        QCOMPARE(read.value, Value(QByteArray::number(i)));
    }
}

void TestKvConsistency::pagination()
{
    KvWorld world;
    world.putAll({ "key1", "key2", "key3" });

    KvListOptions first;
    first.limit = 2;
    const KvListResult page1 = world.list(first);
    QCOMPARE(names(page1), (QStringList { "key1", "key2" }));
    QCOMPARE(page1.listComplete, false);
    QVERIFY(!page1.cursor.isEmpty());

    KvListOptions second;
    second.limit = 2;
    second.cursor = page1.cursor;
    const KvListResult page2 = world.list(second);
    QCOMPARE(names(page2), QStringList { "key3" });
    QCOMPARE(page2.listComplete, true);
    QCOMPARE(page2.cursor, QString());
}

void TestKvConsistency::paginationWithVariableLimit()
{
    KvWorld world;
    world.putAll({ "key1", "key2", "key3" });

    KvListOptions first;
    first.limit = 1;
    const KvListResult page1 = world.list(first);
    QCOMPARE(names(page1), QStringList { "key1" });
    QCOMPARE(page1.listComplete, false);

    KvListOptions second;
    second.limit = 2;
    second.cursor = page1.cursor;
    const KvListResult page2 = world.list(second);
    QCOMPARE(names(page2), (QStringList { "key2", "key3" }));
    QCOMPARE(page2.listComplete, true);
    QCOMPARE(page2.cursor, QString());
}

void TestKvConsistency::paginationNeedsPrefixOnEveryPage()
{
    KvWorld world;
    world.putAll({ "b2", "a1", "b1", "a3", "b3", "a2" });

    KvListOptions first;
    first.prefix = QStringLiteral("a");
    first.limit = 2;
    const KvListResult r1 = world.list(first);
    QCOMPARE(names(r1), (QStringList { "a1", "a2" }));
    QCOMPARE(r1.listComplete, false);

    // Without the prefix the cursor continues past it, as real KV may.
    KvListOptions withoutPrefix;
    withoutPrefix.cursor = r1.cursor;
    const KvListResult r2 = world.list(withoutPrefix);
    QCOMPARE(names(r2), (QStringList { "a3", "b1", "b2", "b3" }));
    QCOMPARE(r2.listComplete, true);

    KvListOptions withPrefix;
    withPrefix.prefix = QStringLiteral("a");
    withPrefix.cursor = r1.cursor;
    const KvListResult r3 = world.list(withPrefix);
    QCOMPARE(names(r3), QStringList { "a3" });
    QCOMPARE(r3.listComplete, true);
    QCOMPARE(r3.cursor, QString());
}

void TestKvConsistency::paginationSeesKeysInsertedAfterCursor()
{
    KvWorld world;
    world.putAll({ "key1", "key2", "key3" });
    KvListOptions first;
    first.limit = 2;
    const KvListResult page1 = world.list(first);
    QCOMPARE(names(page1), (QStringList { "key1", "key2" }));

    world.putAll({ "key0", "key25" });
    KvListOptions second;
    second.cursor = page1.cursor;
    const KvListResult page2 = world.list(second);
    QCOMPARE(names(page2), (QStringList { "key25", "key3" }));
    QCOMPARE(page2.listComplete, true);
}

void TestKvConsistency::emptyList()
{
    KvWorld world;
    const KvListResult listed = world.list();
    QCOMPARE(listed.keys.size(), size_t(0));
    QCOMPARE(listed.listComplete, true);
    QCOMPARE(listed.cursor, QString());
}

void TestKvConsistency::listEntryShape()
{
    // At t = 1,000,000 s.
    KvWorld world;
    KvPutOptions withTtl;
    withTtl.expirationTtl = 600;
    KvPutOptions withMetadata;
    withMetadata.metadata = QByteArrayLiteral("{\"x\":1}");
    KvPutOptions withBoth;
    withBoth.expiration = 1'000'100;
    withBoth.metadata = QByteArrayLiteral("{\"testing\":1}");
    auto a = world.start(world.putTask(kSjc, QStringLiteral("a"), "1", withTtl));
    auto b = world.start(world.putTask(kSjc, QStringLiteral("b"), "2", withMetadata));
    auto c = world.start(world.putTask(kSjc, QStringLiteral("c"), "3"));
    auto key1 = world.start(world.putTask(kSjc, QStringLiteral("key1"), "4", withBoth));
    for (const auto &pending : { a, b, c, key1 })
        QVERIFY(world.finish(pending).ok());

    const KvListResult listed = world.list();
    QCOMPARE(names(listed), (QStringList { "a", "b", "c", "key1" }));
    QCOMPARE(listed.listComplete, true);
    QCOMPARE(listed.cursor, QString());

    QCOMPARE(listed.keys[0].expiration, std::optional<qint64>(1'000'600));
    QCOMPARE(listed.keys[0].metadata, Value());
    QCOMPARE(listed.keys[1].expiration, std::optional<qint64>());
    QCOMPARE(listed.keys[1].metadata, value("{\"x\":1}"));
    QCOMPARE(listed.keys[2].expiration, std::optional<qint64>());
    QCOMPARE(listed.keys[2].metadata, Value());
    QCOMPARE(listed.keys[3].expiration, std::optional<qint64>(1'000'100));
    QCOMPARE(listed.keys[3].metadata, value("{\"testing\":1}"));
}

void TestKvConsistency::metadataRoundTrip()
{
    KvWorld world;
    const QByteArray metadata = QStringLiteral("{\"n\":null,\"arr\":[1,\"\u00E9\"]}").toUtf8();
    KvPutOptions options;
    options.metadata = metadata;
    QVERIFY(world.put(kLhr, QStringLiteral("k"), "v", options).ok());

    // Read back through the writer's cache, through another location, and through list.
    const KvReadResult own = world.get(kLhr, QStringLiteral("k"));
    QCOMPARE(own.metadata, Value(metadata));
    const KvReadResult other = world.get(kNrt, QStringLiteral("k"));
    QCOMPARE(other.metadata, Value(metadata));
    QCOMPARE(other.fromCentral, true);
    QCOMPARE(world.list().keys.at(0).metadata, Value(metadata));

    const KvReadResult missing = world.get(kNrt, QStringLiteral("nope"));
    QCOMPARE(missing.value, Value());
    QCOMPARE(missing.metadata, Value());
}

void TestKvConsistency::putWithoutMetadataClearsIt()
{
    KvWorld world;
    KvPutOptions options;
    options.metadata = QByteArrayLiteral("{\"x\":1}");
    QVERIFY(world.put(kSjc, QStringLiteral("ow"), "v1", options).ok());
    QCOMPARE(world.get(kSjc, QStringLiteral("ow")).metadata, value("{\"x\":1}"));

    world.runUntil(kStart + seconds(1));
    QVERIFY(world.put(kSjc, QStringLiteral("ow"), "v2").ok());
    const KvReadResult read = world.get(kSjc, QStringLiteral("ow"));
    QCOMPARE(read.value, value("v2"));
    QCOMPARE(read.metadata, Value());
    const KvReadResult elsewhere = world.get(kNrt, QStringLiteral("ow"));
    QCOMPARE(elsewhere.value, value("v2"));
    QCOMPARE(elsewhere.metadata, Value());
    QCOMPARE(world.list().keys.at(0).metadata, Value());
}

void TestKvConsistency::keysSurviveReopeningStore()
{
    QTemporaryDir directory;
    QVERIFY(directory.isValid());
    const QString path = directory.filePath(QStringLiteral("kv.sqlite"));
    const QStringList expected { "users/bob", "users/bob/messages", "users/bob:x" };
    KvListOptions options;
    options.prefix = QStringLiteral("users/bob");
    {
        KvWorld world({}, kStart, path);
        world.putAll({ "users/bob", "users/bob/messages", "users/bob:x" });
        QCOMPARE(names(world.list(options)), expected);
    }

    KvWorld reopened({}, kStart + seconds(10), path);
    QCOMPARE(names(reopened.list(options)), expected);
    QCOMPARE(reopened.get(kSjc, QStringLiteral("users/bob")).value, value("v"));
    // The version counter continues from the stored versions.
    QVERIFY(reopened.put(kSjc, QStringLiteral("users/bob"), "w").ok());
    QCOMPARE(reopened.kv().centralEntry(QStringLiteral("users/bob"))->version, qint64(4));
}

void TestKvConsistency::viewReportsEachLocation()
{
    KvWorld world;
    const QString key = QStringLiteral("k");
    QVERIFY(world.put(kSjc, key, "v1").ok());
    world.get(kLhr, key);
    const SimTime lhrCachedAt = world.now();

    world.runUntil(kStart + seconds(1));
    QVERIFY(world.put(kSjc, key, "v2").ok());
    const SimTime sjcCachedAt = world.now();
    QCOMPARE(sjcCachedAt, kStart + seconds(1) + kSjcRoundTrip);

    world.runUntil(kStart + seconds(2));
    const KvLocationView sjc = world.kv().view(kSjc, key);
    QCOMPARE(sjc.cached, true);
    QCOMPARE(sjc.value, value("v2"));
    QCOMPARE(sjc.version, qint64(2));
    QCOMPARE(sjc.stale, false);
    QCOMPARE(sjc.refreshAt, sjcCachedAt + kDefaultTtl);

    const KvLocationView lhr = world.kv().view(kLhr, key);
    QCOMPARE(lhr.cached, true);
    QCOMPARE(lhr.value, value("v1"));
    QCOMPARE(lhr.version, qint64(1));
    QCOMPARE(lhr.stale, true);
    QCOMPARE(lhr.refreshAt, lhrCachedAt + kDefaultTtl);

    const KvLocationView nrt = world.kv().view(kNrt, key);
    QCOMPARE(nrt.cached, false);
    QCOMPARE(nrt.value, value("v2"));
    QCOMPARE(nrt.version, qint64(2));
    QCOMPARE(nrt.stale, false);
    QCOMPARE(nrt.refreshAt, world.now());

    // Viewing changed no cache: NRT still has no entry and LHR still serves v1.
    QCOMPARE(world.kv().cachedKeyCount(kNrt), qsizetype(0));
    QCOMPARE(world.kv().cachedKeyCount(kLhr), qsizetype(1));
    const KvReadResult lhrRead = world.get(kLhr, key);
    QCOMPARE(lhrRead.value, value("v1"));
    QCOMPARE(lhrRead.stale, true);
    QCOMPARE(lhrRead.fromCentral, false);

    // Once LHR's entry lapses, its view shows the central value.
    world.runUntil(lhrCachedAt + kDefaultTtl);
    const KvLocationView lapsed = world.kv().view(kLhr, key);
    QCOMPARE(lapsed.cached, false);
    QCOMPARE(lapsed.value, value("v2"));
    QCOMPARE(lapsed.stale, false);
    QCOMPARE(lapsed.refreshAt, world.now());

    const KvLocationView missing = world.kv().view(kLhr, QStringLiteral("never-written"));
    QCOMPARE(missing.cached, false);
    QCOMPARE(missing.value, Value());
    QCOMPARE(missing.version, qint64(0));
    QCOMPARE(missing.refreshAt, world.now());
}

void TestKvConsistency::viewOfCachedMiss()
{
    KvWorld world;
    const QString key = QStringLiteral("k");
    world.get(kLhr, key);
    const SimTime cachedAt = world.now();

    const KvLocationView before = world.kv().view(kLhr, key);
    QCOMPARE(before.cached, true);
    QCOMPARE(before.value, Value());
    QCOMPARE(before.stale, false);
    QCOMPARE(before.refreshAt, cachedAt + kDefaultTtl);

    world.runUntil(kStart + seconds(1));
    QVERIFY(world.put(kNrt, key, "v").ok());
    const KvLocationView after = world.kv().view(kLhr, key);
    QCOMPARE(after.cached, true);
    QCOMPARE(after.value, Value());
    QCOMPARE(after.stale, true);
    QCOMPARE(after.refreshAt, cachedAt + kDefaultTtl);
}

void TestKvConsistency::viewRefreshAtFollowsDefaultRead()
{
    // view() describes a read with the default cacheTtl, so an entry cached with a longer
    // cacheTtl shows the refresh time of such a read.
    KvWorld world;
    const QString key = QStringLiteral("k");
    QVERIFY(world.put(kSjc, key, "v1").ok());
    world.get(kLhr, key, 86400);
    const SimTime cachedAt = world.now();

    world.runUntil(cachedAt + seconds(10));
    const KvLocationView early = world.kv().view(kLhr, key);
    QCOMPARE(early.cached, true);
    QCOMPARE(early.refreshAt, cachedAt + kDefaultTtl);

    world.runUntil(cachedAt + kDefaultTtl);
    const KvLocationView late = world.kv().view(kLhr, key);
    QCOMPARE(late.cached, false);
    QCOMPARE(late.refreshAt, world.now());
    const KvReadResult read = world.get(kLhr, key);
    QCOMPARE(read.fromCentral, true);
}

QTEST_GUILESS_MAIN(TestKvConsistency)
#include "tst_kvconsistency.moc"
