// Tests of the writes made outside any Worker (KvNamespace::writeEntry, deleteEntry and
// deleteByPrefix): they validate as put() does, reach the central store at once, are traced as
// the "inspector" at the central location, and leave every location's cache as it was.
//
// Two locations without jitter: the central store in SJC, and LHR 70 ms from it.

#include "kvlimits.h"
#include "kvnamespace.h"
#include "location.h"
#include "simulation.h"
#include "task.h"
#include "simtasks.h"

#include <QTest>

#include <memory>
#include <optional>

using namespace roomscope;
using namespace roomscope::testing;

namespace {

constexpr LocationId kSjc = 0;
constexpr LocationId kLhr = 1;
constexpr SimTime kStart = seconds(1'000'000);


/// A KV namespace over SJC and LHR that records the KV write events of its trace.
class EditWorld
{
public:
    explicit EditWorld(KvSettings settings = {})
        : m_simulation(1, kStart)
    {
        m_locations.add(QStringLiteral("SJC"));
        m_locations.add(QStringLiteral("LHR"));
        m_locations.setLatency(kSjc, kLhr, milliseconds(70));
        m_locations.setJitterPercent(0);
        settings.centralLocation = kSjc;
        auto created = KvNamespace::create(
            m_simulation, m_locations, QStringLiteral("KV"), settings, QStringLiteral(":memory:"));
        if (!created)
            qFatal("cannot create the KV namespace: %s", qPrintable(created.error().message));
        m_kv = std::move(created).value();
        m_simulation.trace().addSink([this](const TraceEvent &event) {
            if (event.kind == TraceKind::KvPut || event.kind == TraceKind::KvDelete)
                m_writes.push_back(event);
        });
    }

    Simulation &simulation() { return m_simulation; }
    KvNamespace &kv() { return *m_kv; }
    const std::vector<TraceEvent> &writes() const { return m_writes; }

    template<typename T> T finish(Task<T> task) { return runTask(m_simulation, std::move(task)); }

    KvReadResult get(LocationId from, const QString &key)
    {
        const Result<KvReadResult> read = finish(m_kv->get(QStringLiteral("test"), from, key));
        if (!read)
            qFatal("get failed: %s", qPrintable(read.error().message));
        return read.value();
    }

private:
    Simulation m_simulation;
    LocationMap m_locations;
    std::unique_ptr<KvNamespace> m_kv;
    std::vector<TraceEvent> m_writes;
};

QStringList liveKeys(const KvNamespace &kv)
{
    QStringList keys;
    for (const KvEntry &entry : kv.entries({}, {}, 1000))
        keys << QString::fromUtf8(entry.key);
    return keys;
}

} // namespace

class KvEditTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void writeReachesCentralStore();
    void writeIsTracedAsInspector();
    void writeLeavesLocationCachesStale();
    void writeHasNoSameKeyLimit();
    void writeExpirationTtl();
    void writeValidation_data();
    void writeValidation();
    void deleteLeavesCachedValue();
    void deleteIsTraced();
    void deleteRejectsInvalidKey();
    void deleteByPrefixDeletesOnlyMatches();
    void deleteByPrefixSkipsExpiredKeys();
    void deleteByPrefixRejectsLongPrefix();
};

void KvEditTest::writeReachesCentralStore()
{
    EditWorld world;
    const Status written = world.kv().writeEntry(
        QStringLiteral("room:1"), "hello", KvPutOptions { {}, {}, QByteArray("{\"a\":1}") });
    QVERIFY(written.ok());

    const std::optional<KvEntry> central = world.kv().centralEntry(QStringLiteral("room:1"));
    QVERIFY(central.has_value());
    QCOMPARE(central->value, QByteArray("hello"));
    QCOMPARE(central->metadata, std::optional<QByteArray>("{\"a\":1}"));
    QCOMPARE(central->version, 1);
    QCOMPARE(central->expiration, std::nullopt);
    // No time passes: the write does not travel from any location.
    QCOMPARE(world.simulation().now(), kStart);

    QVERIFY(world.kv().writeEntry(QStringLiteral("room:2"), "x").ok());
    QCOMPARE(world.kv().centralEntry(QStringLiteral("room:2"))->version, 2);
}

void KvEditTest::writeIsTracedAsInspector()
{
    EditWorld world;
    QVERIFY(world.kv().writeEntry(QStringLiteral("k"), "v1").ok());

    QCOMPARE(world.writes().size(), size_t(1));
    const TraceEvent &event = world.writes().front();
    QCOMPARE(event.kind, TraceKind::KvPut);
    QCOMPARE(event.actor, QStringLiteral("inspector"));
    QCOMPARE(event.location, QStringLiteral("SJC"));
    QCOMPARE(event.subject, QStringLiteral("k"));
    QCOMPARE(event.numbers[0], 200);
    QCOMPARE(event.numbers[1], 1);
    QCOMPARE(event.numbers[2], 0);
    QCOMPARE(event.value, QByteArray("v1"));
}

void KvEditTest::writeLeavesLocationCachesStale()
{
    EditWorld world;
    QVERIFY(world.kv().writeEntry(QStringLiteral("k"), "old").ok());
    QCOMPARE(world.get(kLhr, QStringLiteral("k")).value, std::optional<QByteArray>("old"));
    const SimTime cachedAt = world.simulation().now();

    QVERIFY(world.kv().writeEntry(QStringLiteral("k"), "new").ok());

    const KvLocationView lhr = world.kv().view(kLhr, QStringLiteral("k"));
    QVERIFY(lhr.cached);
    QVERIFY(lhr.stale);
    QCOMPARE(lhr.value, std::optional<QByteArray>("old"));
    QCOMPARE(lhr.version, 1);
    QCOMPARE(lhr.refreshAt, cachedAt + seconds(kv::kDefaultCacheTtlSeconds));

    const KvLocationView sjc = world.kv().view(kSjc, QStringLiteral("k"));
    QVERIFY(!sjc.cached);
    QVERIFY(!sjc.stale);
    QCOMPARE(sjc.value, std::optional<QByteArray>("new"));
    QCOMPARE(sjc.version, 2);

    world.simulation().runUntil(lhr.refreshAt);
    const KvLocationView lapsed = world.kv().view(kLhr, QStringLiteral("k"));
    QVERIFY(!lapsed.cached);
    QCOMPARE(lapsed.value, std::optional<QByteArray>("new"));
}

void KvEditTest::writeHasNoSameKeyLimit()
{
    EditWorld world;
    QVERIFY(world.kv().writeEntry(QStringLiteral("k"), "1").ok());
    QVERIFY(world.kv().writeEntry(QStringLiteral("k"), "2").ok());
    QVERIFY(world.kv().writeEntry(QStringLiteral("k"), "3").ok());
    QCOMPARE(world.kv().centralEntry(QStringLiteral("k"))->value, QByteArray("3"));
    QCOMPARE(world.kv().centralEntry(QStringLiteral("k"))->version, 3);
}

void KvEditTest::writeExpirationTtl()
{
    EditWorld world;
    QVERIFY(world.kv().writeEntry(QStringLiteral("ttl"), "v", KvPutOptions { {}, 120.7, {} }).ok());
    QVERIFY(world.kv()
                .writeEntry(QStringLiteral("abs"), "v",
                    KvPutOptions { double(epochSeconds(kStart) + 90), {}, {} })
                .ok());

    QCOMPARE(world.kv().centralEntry(QStringLiteral("ttl"))->expiration,
        std::optional<qint64>(epochSeconds(kStart) + 120));
    QCOMPARE(world.kv().centralEntry(QStringLiteral("abs"))->expiration,
        std::optional<qint64>(epochSeconds(kStart) + 90));

    world.simulation().runUntil(kStart + seconds(90));
    QVERIFY(!world.kv().centralEntry(QStringLiteral("abs")).has_value());
    QVERIFY(world.kv().centralEntry(QStringLiteral("ttl")).has_value());
}

void KvEditTest::writeValidation_data()
{
    QTest::addColumn<QString>("key");
    QTest::addColumn<QByteArray>("value");
    QTest::addColumn<std::optional<double>>("expirationTtl");
    QTest::addColumn<QByteArray>("metadata");
    QTest::addColumn<QString>("expected");

    const std::optional<double> noTtl;
    QTest::newRow("empty key") << QString() << QByteArray("v") << noTtl << QByteArray()
                               << QStringLiteral("TypeError: Key name cannot be empty.");
    QTest::newRow("dot key") << QStringLiteral(".") << QByteArray("v") << noTtl << QByteArray()
                             << QStringLiteral("TypeError: \".\" is not allowed as a key name.");
    QTest::newRow("long key")
        << QString(513, QLatin1Char('k')) << QByteArray("v") << noTtl << QByteArray()
        << QStringLiteral(
               "Error: KV PUT failed: 414 UTF-8 encoded length of 513 exceeds key length limit of "
               "512.");
    QTest::newRow("short ttl")
        << QStringLiteral("k") << QByteArray("v") << std::optional<double>(30) << QByteArray()
        << QStringLiteral("Error: KV PUT failed: 400 Invalid expiration_ttl of 30. Expiration TTL "
                          "must be at least 60.");
    QTest::newRow("large metadata")
        << QStringLiteral("k") << QByteArray("v") << noTtl
        << (QByteArray("\"") + QByteArray(1023, 'm') + QByteArray("\""))
        << QStringLiteral("Error: KV PUT failed: 413 Metadata length of 1025 exceeds limit of "
                          "1024.");
    QTest::newRow("large value")
        << QStringLiteral("k") << QByteArray(101, 'v') << noTtl << QByteArray()
        << QStringLiteral("Error: KV PUT failed: 413 Value length of 101 exceeds limit of 100.");
}

void KvEditTest::writeValidation()
{
    QFETCH(QString, key);
    QFETCH(QByteArray, value);
    QFETCH(std::optional<double>, expirationTtl);
    QFETCH(QByteArray, metadata);
    QFETCH(QString, expected);

    KvSettings settings;
    settings.maxValueBytes = 100;
    EditWorld world(settings);
    KvPutOptions options;
    options.expirationTtl = expirationTtl;
    if (!metadata.isEmpty())
        options.metadata = metadata;

    const Status written = world.kv().writeEntry(key, value, options);
    QVERIFY(!written.ok());
    QCOMPARE(written.error().toString(), expected);
    QCOMPARE(world.kv().keyCount(), 0);
    QVERIFY(world.writes().empty());
}

void KvEditTest::deleteLeavesCachedValue()
{
    EditWorld world;
    QVERIFY(world.kv().writeEntry(QStringLiteral("k"), "v").ok());
    QCOMPARE(world.get(kLhr, QStringLiteral("k")).value, std::optional<QByteArray>("v"));

    QVERIFY(world.kv().deleteEntry(QStringLiteral("k")).ok());

    QVERIFY(!world.kv().centralEntry(QStringLiteral("k")).has_value());
    QCOMPARE(world.kv().keyCount(), 0);
    const KvLocationView lhr = world.kv().view(kLhr, QStringLiteral("k"));
    QVERIFY(lhr.cached);
    QVERIFY(lhr.stale);
    QCOMPARE(lhr.value, std::optional<QByteArray>("v"));
    QCOMPARE(world.kv().view(kSjc, QStringLiteral("k")).value, std::nullopt);
}

void KvEditTest::deleteIsTraced()
{
    EditWorld world;
    QVERIFY(world.kv().writeEntry(QStringLiteral("k"), "v").ok());
    QVERIFY(world.kv().deleteEntry(QStringLiteral("k")).ok());
    // Deleting a missing key succeeds, as a DELETE through the REST API does.
    QVERIFY(world.kv().deleteEntry(QStringLiteral("missing")).ok());

    QCOMPARE(world.writes().size(), size_t(3));
    const TraceEvent &event = world.writes()[1];
    QCOMPARE(event.kind, TraceKind::KvDelete);
    QCOMPARE(event.actor, QStringLiteral("inspector"));
    QCOMPARE(event.location, QStringLiteral("SJC"));
    QCOMPARE(event.subject, QStringLiteral("k"));
    QCOMPARE(event.numbers[0], 200);
    QCOMPARE(event.numbers[1], 2);
    QCOMPARE(world.writes()[2].numbers[1], 3);
}

void KvEditTest::deleteRejectsInvalidKey()
{
    EditWorld world;
    const Status deleted = world.kv().deleteEntry(QString(600, QLatin1Char('k')));
    QVERIFY(!deleted.ok());
    QCOMPARE(deleted.error().message,
        QStringLiteral("KV DELETE failed: 414 UTF-8 encoded length of 600 exceeds key length "
                       "limit of 512."));
    QVERIFY(world.writes().empty());
}

void KvEditTest::deleteByPrefixDeletesOnlyMatches()
{
    EditWorld world;
    for (const char *key :
        { "config", "room:1:score", "room:1:state", "room:10:state", "room:2:state", "room:1" })
        QVERIFY(world.kv().writeEntry(QString::fromLatin1(key), "v").ok());
    // Enough keys under the prefix to take several batches.
    for (int i = 0; i < 2500; ++i)
        QVERIFY(world.kv().writeEntry(QStringLiteral("room:1:user:%1").arg(i), "u").ok());

    const Result<qint64> deleted = world.kv().deleteByPrefix(QStringLiteral("room:1:"));
    QVERIFY(deleted.ok());
    QCOMPARE(*deleted, 2502);
    QCOMPARE(liveKeys(world.kv()),
        QStringList({ QStringLiteral("config"), QStringLiteral("room:1"),
            QStringLiteral("room:10:state"), QStringLiteral("room:2:state") }));
    QCOMPARE(world.writes().back().kind, TraceKind::KvDelete);
    QCOMPARE(world.writes().size(), size_t(6 + 2500 + 2502));
}

void KvEditTest::deleteByPrefixSkipsExpiredKeys()
{
    EditWorld world;
    QVERIFY(world.kv().writeEntry(QStringLiteral("a:live"), "v").ok());
    QVERIFY(
        world.kv().writeEntry(QStringLiteral("a:short"), "v", KvPutOptions { {}, 60.0, {} }).ok());
    world.simulation().runUntil(kStart + seconds(61));

    const Result<qint64> deleted = world.kv().deleteByPrefix(QStringLiteral("a:"));
    QVERIFY(deleted.ok());
    QCOMPARE(*deleted, 1);
}

void KvEditTest::deleteByPrefixRejectsLongPrefix()
{
    EditWorld world;
    QVERIFY(world.kv().writeEntry(QStringLiteral("k"), "v").ok());
    const Result<qint64> deleted = world.kv().deleteByPrefix(QString(513, QLatin1Char('p')));
    QVERIFY(!deleted.ok());
    QVERIFY2(deleted.error().message.contains(QStringLiteral("513")),
        qPrintable(deleted.error().message));
    QCOMPARE(world.kv().keyCount(), 1);
}

QTEST_GUILESS_MAIN(KvEditTest)
#include "tst_kvedit.moc"
