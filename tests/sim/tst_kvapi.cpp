// Tests of the Workers KV binding calls beyond validation: read types, getWithMetadata, bulk
// reads, the per-invocation operation limit, the write-limit modes, the profiles and their
// scenario settings, and byte-exact keys and values.
//
// Two locations with fixed one-way latencies and no jitter: the central store is in SJC (2 ms
// inside SJC) and LHR is 70 ms from it.

#include "kvlimits.h"
#include "kvnamespace.h"
#include "location.h"
#include "scenario.h"
#include "simulation.h"
#include "task.h"
#include "simtasks.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
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
} // namespace QTest

namespace {

constexpr LocationId kSjc = 0;
constexpr LocationId kLhr = 1;
constexpr SimDuration kLhrOneWay = milliseconds(70);
constexpr SimDuration kLhrRoundTrip = 2 * kLhrOneWay;
constexpr SimTime kStart = seconds(1'000'000);

using Value = std::optional<QByteArray>;

const QString kUnknownType = QStringLiteral(
    "Unknown response type. Possible types are \"text\", \"arrayBuffer\", \"json\", and "
    "\"stream\".");
const QString kTooManyOperations =
    QStringLiteral("Too many API requests by single Worker invocation.");
const QString kTooManyRequests = QStringLiteral("KV PUT failed: 429 Too Many Requests");


/// A KV namespace over SJC and LHR with its central store in SJC.
class KvWorld
{
public:
    explicit KvWorld(KvSettings settings = {}) : m_simulation(1, kStart)
    {
        m_locations.add(QStringLiteral("SJC"));
        m_locations.add(QStringLiteral("LHR"));
        m_locations.setLatency(kSjc, kLhr, kLhrOneWay);
        m_locations.setJitterPercent(0);
        settings.centralLocation = kSjc;
        auto created = KvNamespace::create(m_simulation, m_locations, QStringLiteral("KV"),
                                           settings, QStringLiteral(":memory:"));
        if (!created)
            qFatal("cannot create the KV namespace: %s", qPrintable(created.error().message));
        m_kv = std::move(created).value();
    }

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
    template<typename T>
    T run(Task<T> task)
    {
        return finish(start(std::move(task)));
    }

    Result<KvReadResult> get(LocationId from, const QString &key, KvGetOptions options = {},
                             KvInvocation *invocation = nullptr)
    {
        return run(m_kv->get(QStringLiteral("test"), from, key, options, invocation));
    }
    Result<std::vector<KvBulkEntry>> getBulk(LocationId from, const QStringList &keys,
                                             KvBulkGetOptions options = {},
                                             KvInvocation *invocation = nullptr)
    {
        return run(m_kv->getBulk(QStringLiteral("test"), from, keys, options, invocation));
    }
    Status put(LocationId from, const QString &key, const QByteArray &value,
               KvPutOptions options = {}, KvInvocation *invocation = nullptr)
    {
        return run(m_kv->put(QStringLiteral("test"), from, key, value, options, invocation));
    }
    /// Writes a key from SJC and fails the test run when the write fails.
    void write(const QString &key, const QByteArray &value,
               std::optional<QByteArray> metadata = std::nullopt)
    {
        KvPutOptions options;
        options.metadata = metadata;
        const Status status = put(kSjc, key, value, options);
        if (!status)
            qFatal("put %s failed: %s", qPrintable(key), qPrintable(status.error().message));
    }
    KvListResult list(KvListOptions options = {})
    {
        const Result<KvListResult> listed =
            run(m_kv->list(QStringLiteral("test"), kSjc, options));
        if (!listed)
            qFatal("list failed: %s", qPrintable(listed.error().message));
        return listed.value();
    }

private:
    Simulation m_simulation;
    LocationMap m_locations;
    std::unique_ptr<KvNamespace> m_kv;
};

QString compactJson(const QJsonValue &value)
{
    const QByteArray wrapped = QJsonDocument(QJsonArray { value }).toJson(QJsonDocument::Compact);
    return QString::fromUtf8(wrapped.mid(1, wrapped.size() - 2));
}

/// Describes bulk read entries as "key=value", "key=null", "key=json:<compact JSON>" and
/// ";meta=<metadata>" when an entry has metadata, so that a table row can state them exactly.
QStringList describe(const std::vector<KvBulkEntry> &entries)
{
    QStringList lines;
    for (const KvBulkEntry &entry : entries) {
        QString line = entry.key + QLatin1Char('=');
        if (!entry.value)
            line += QStringLiteral("null");
        else if (entry.json)
            line += QStringLiteral("json:") + compactJson(*entry.json);
        else
            line += QString::fromUtf8(*entry.value);
        if (entry.metadata)
            line += QStringLiteral(";meta=") + QString::fromUtf8(*entry.metadata);
        lines << line;
    }
    return lines;
}

QStringList manyKeys(int count)
{
    QStringList keys;
    for (int i = 0; i < count; ++i)
        keys << QStringLiteral("k%1").arg(i);
    return keys;
}

enum class Call { Get, GetBulk, Put, Delete, List };

Status callOnce(KvWorld &world, Call call, KvInvocation *invocation)
{
    switch (call) {
    case Call::Get: {
        const Result<KvReadResult> read = world.get(kSjc, QStringLiteral("k"), {}, invocation);
        return read ? Status(Done {}) : Status(read.error());
    }
    case Call::GetBulk: {
        const Result<std::vector<KvBulkEntry>> read =
            world.getBulk(kSjc, { QStringLiteral("a"), QStringLiteral("b") }, {}, invocation);
        return read ? Status(Done {}) : Status(read.error());
    }
    case Call::Put:
        // A new key each time, so that the same-key write limit stays out of the way.
        return world.put(kSjc, QStringLiteral("p%1").arg(invocation->operationCount()), "v", {},
                         invocation);
    case Call::Delete:
        return world.run(world.kv().remove(QStringLiteral("test"), kSjc,
                                           QStringLiteral("d%1").arg(invocation->operationCount()),
                                           invocation));
    case Call::List: {
        const Result<KvListResult> listed =
            world.run(world.kv().list(QStringLiteral("test"), kSjc, {}, invocation));
        return listed ? Status(Done {}) : Status(listed.error());
    }
    }
    return Done {};
}

} // namespace

Q_DECLARE_METATYPE(Call)
Q_DECLARE_METATYPE(WriteRateLimit)
Q_DECLARE_METATYPE(Error::Kind)

class TestKvApi : public QObject
{
    Q_OBJECT

private slots:
    // Read types and getWithMetadata.
    void readType_data();
    void readType();
    void unknownTypeChecksExistingKeyOnly();
    void jsonReadLeavesValueUnchanged();
    void getWithMetadataMissingKey();
    void getWithMetadataShapes_data();
    void getWithMetadataShapes();

    // Bulk reads.
    void bulkGet_data();
    void bulkGet();
    void bulkGetTotalSize_data();
    void bulkGetTotalSize();
    void bulkGetUsesLocationCache();
    void bulkGetCachesWhatItFetches();

    // The operation limit per invocation.
    void invocationLimit_data();
    void invocationLimit();
    void bulkGetCountsAsOneOperation();
    void invalidKeyIsNotCounted();

    // The same-key write limit.
    void writeLimitModes_data();
    void writeLimitModes();
    void burstWindowSlides_data();
    void burstWindowSlides();
    void concurrentWritesToHotKey();
    void lostUpdateWithoutCompareAndSwap();

    // Settings and profiles.
    void minCacheTtlSetting_data();
    void minCacheTtlSetting();
    void productionProfileIsDefault();
    void localProfileSettings();
    void localProfileReadsAreConsistent();
    void scenarioKvSettings_data();
    void scenarioKvSettings();
    void scenarioKvErrors_data();
    void scenarioKvErrors();

    // Bytes in keys and values.
    void binaryValueRoundTrip_data();
    void binaryValueRoundTrip();
    void falsyValueKeepsMetadata_data();
    void falsyValueKeepsMetadata();
    void literalKeys_data();
    void literalKeys();
};

// --- Read types and getWithMetadata -------------------------------------------------------

void TestKvApi::readType_data()
{
    QTest::addColumn<QByteArray>("stored");
    QTest::addColumn<QString>("type");
    QTest::addColumn<QString>("expectedJson"); // compact JSON of the parsed value; empty: none
    QTest::addColumn<Error::Kind>("errorKind");
    QTest::addColumn<QString>("errorMessage"); // empty: the read succeeds

    const Error::Kind none = Error::Kind::Error;
    QTest::newRow("text") << QByteArray("v1") << "text" << QString() << none << QString();
    QTest::newRow("arrayBuffer") << QByteArray("v1") << "arrayBuffer" << QString() << none
                                 << QString();
    QTest::newRow("stream") << QByteArray("v1") << "stream" << QString() << none << QString();
    QTest::newRow("json object") << QByteArray(R"({"x":1})") << "json" << R"({"x":1})" << none
                                 << QString();
    QTest::newRow("json array with spaces")
        << QByteArray(" [1, \"\xC3\xA9\", null] \n") << "json" << QStringLiteral("[1,\"\u00E9\",null]")
        << none << QString();
    QTest::newRow("json number") << QByteArray("42") << "json" << "42" << none << QString();
    QTest::newRow("json string") << QByteArray(R"("hi")") << "json" << R"("hi")" << none
                                 << QString();
    QTest::newRow("json true") << QByteArray("true") << "json" << "true" << none << QString();
    QTest::newRow("json null") << QByteArray("null") << "json" << "null" << none << QString();
    QTest::newRow("json over plain text")
        << QByteArray("v") << "json" << QString() << Error::Kind::SyntaxError
        << QStringLiteral("The value of KV key \"k\" is not valid JSON: illegal number at byte 0.");
    QTest::newRow("json over broken object")
        << QByteArray("{not json") << "json" << QString() << Error::Kind::SyntaxError
        << QStringLiteral("The value of KV key \"k\" is not valid JSON: unterminated object at "
                          "byte 2.");
    QTest::newRow("json over two values")
        << QByteArray("1,2") << "json" << QString() << Error::Kind::SyntaxError
        << QStringLiteral("The value of KV key \"k\" is not valid JSON: more than one value.");
    QTest::newRow("json over a bracket that closes the wrapper")
        << QByteArray("1],[2") << "json" << QString() << Error::Kind::SyntaxError
        << QStringLiteral("The value of KV key \"k\" is not valid JSON: garbage at the end of "
                          "the document at byte 2.");
    QTest::newRow("json over empty value")
        << QByteArray() << "json" << QString() << Error::Kind::SyntaxError
        << QStringLiteral("The value of KV key \"k\" is not valid JSON: no value.");
    QTest::newRow("unknown type blob") << QByteArray("v1") << "blob" << QString()
                                       << Error::Kind::TypeError << kUnknownType;
    QTest::newRow("type names are case-sensitive") << QByteArray("v1") << "JSON" << QString()
                                                   << Error::Kind::TypeError << kUnknownType;
    QTest::newRow("arraybuffer in lower case") << QByteArray("v1") << "arraybuffer" << QString()
                                               << Error::Kind::TypeError << kUnknownType;
}

void TestKvApi::readType()
{
    QFETCH(QByteArray, stored);
    QFETCH(QString, type);
    QFETCH(QString, expectedJson);
    QFETCH(Error::Kind, errorKind);
    QFETCH(QString, errorMessage);

    KvWorld world;
    world.write(QStringLiteral("k"), stored);
    KvGetOptions options;
    options.type = type;
    const Result<KvReadResult> read = world.get(kSjc, QStringLiteral("k"), options);
    if (!errorMessage.isEmpty()) {
        QVERIFY(!read.ok());
        QCOMPARE(read.error().kind, errorKind);
        QCOMPARE(read.error().message, errorMessage);
        return;
    }
    QVERIFY2(read.ok(), qPrintable(read.ok() ? QString() : read.error().message));
    QCOMPARE(read->value, Value(stored));
    QCOMPARE(read->json.has_value(), !expectedJson.isEmpty());
    if (read->json)
        QCOMPARE(compactJson(*read->json), expectedJson);
}

void TestKvApi::unknownTypeChecksExistingKeyOnly()
{
    KvWorld world;
    KvGetOptions options;
    options.type = QStringLiteral("blob");

    // A missing key resolves null before the type is looked at.
    const Result<KvReadResult> missing = world.get(kSjc, QStringLiteral("missing"), options);
    QVERIFY(missing.ok());
    QCOMPARE(missing->value, Value());
    QCOMPARE(missing->json.has_value(), false);

    world.write(QStringLiteral("exists"), "v");
    const Result<KvReadResult> existing = world.get(kSjc, QStringLiteral("exists"), options);
    QVERIFY(!existing.ok());
    QCOMPARE(existing.error().kind, Error::Kind::TypeError);
    QCOMPARE(existing.error().message, kUnknownType);

    // A json read of a missing key is null, not a parse error.
    options.type = QStringLiteral("json");
    const Result<KvReadResult> missingJson = world.get(kSjc, QStringLiteral("missing"), options);
    QVERIFY(missingJson.ok());
    QCOMPARE(missingJson->value, Value());
}

void TestKvApi::jsonReadLeavesValueUnchanged()
{
    KvWorld world;
    world.write(QStringLiteral("good"), R"({"a":1})");
    world.write(QStringLiteral("bad"), "{not json");

    KvGetOptions json;
    json.type = QStringLiteral("json");
    const Result<KvReadResult> bad = world.get(kSjc, QStringLiteral("bad"), json);
    QVERIFY(!bad.ok());
    QCOMPARE(bad.error().kind, Error::Kind::SyntaxError);

    const Result<KvReadResult> text = world.get(kSjc, QStringLiteral("bad"));
    QVERIFY(text.ok());
    QCOMPARE(text->value, Value("{not json"));
    QCOMPARE(world.kv().centralEntry(QStringLiteral("bad"))->value, QByteArray("{not json"));

    const Result<KvReadResult> good = world.get(kSjc, QStringLiteral("good"), json);
    QVERIFY(good.ok());
    QCOMPARE(good->json->toObject().value(QStringLiteral("a")).toInt(), 1);
}

void TestKvApi::getWithMetadataMissingKey()
{
    KvWorld world;
    const Result<KvReadResult> read = world.get(kSjc, QStringLiteral("nope"));
    QVERIFY(read.ok());
    QCOMPARE(read->value, Value());
    QCOMPARE(read->metadata, Value());
    QCOMPARE(read->version, qint64(0));
}

void TestKvApi::getWithMetadataShapes_data()
{
    QTest::addColumn<QByteArray>("value");
    QTest::addColumn<Value>("metadata");

    QTest::newRow("no metadata") << QByteArray("v") << Value();
    QTest::newRow("object") << QByteArray("v") << Value(R"({"testing":true})");
    QTest::newRow("nested null and non-ASCII")
        << QByteArray("v") << Value("{\"n\":null,\"arr\":[1,\"\xC3\xA9\"]}");
    QTest::newRow("metadata null") << QByteArray("v") << Value("null");
}

void TestKvApi::getWithMetadataShapes()
{
    QFETCH(QByteArray, value);
    QFETCH(Value, metadata);

    KvWorld world;
    world.write(QStringLiteral("k"), value, metadata);
    const Result<KvReadResult> read = world.get(kLhr, QStringLiteral("k"));
    QVERIFY(read.ok());
    QCOMPARE(read->value, Value(value));
    QCOMPARE(read->metadata, metadata);
}

// --- Bulk reads ---------------------------------------------------------------------------

void TestKvApi::bulkGet_data()
{
    QTest::addColumn<QStringList>("keys");
    QTest::addColumn<QString>("type");
    QTest::addColumn<bool>("withMetadata");
    QTest::addColumn<QStringList>("expected"); // as describe() writes them
    QTest::addColumn<Error::Kind>("errorKind");
    QTest::addColumn<QString>("errorMessage"); // empty: the read succeeds

    const Error::Kind error = Error::Kind::Error;
    const QString text = QStringLiteral("text");
    const QString json = QStringLiteral("json");
    QTest::newRow("value and missing key")
        << QStringList { "key1", "key2missing" } << text << false
        << QStringList { "key1=value1", "key2missing=null" } << error
        << QString();
    QTest::newRow("duplicates collapse in first-request order")
        << QStringList { "key2", "key1", "key2", "key1", "key2" } << text << false
        << QStringList { "key2=value2", "key1=value1" } << error
        << QString();
    QTest::newRow("with metadata")
        << QStringList { "key1", "key2" } << text << true
        << QStringList { "key1=value1;meta={\"testing\":true}", "key2=value2" } << error
        << QString();
    QTest::newRow("with metadata and a missing key")
        << QStringList { "key1", "nope" } << text << true
        << QStringList { "key1=value1;meta={\"testing\":true}", "nope=null" } << error
        << QString();
    QTest::newRow("json") << QStringList { "good", "number", "nope" } << json << false
                          << QStringList { "good=json:{\"a\":1}", "number=json:42", "nope=null" }
                          << error << QString();
    QTest::newRow("json over one non-JSON value fails the call")
        << QStringList { "good", "bad" } << json << false << QStringList() << error
        << QStringLiteral("KV GET_BULK failed: 400 At least one of the requested keys "
                          "corresponds to a non-json value");
    QTest::newRow("text over a non-JSON value")
        << QStringList { "good", "bad" } << text << false
        << QStringList { "good={\"a\":1}", "bad={not json" } << error << QString();
    QTest::newRow("arrayBuffer") << QStringList { "key1" } << "arrayBuffer" << false
                                 << QStringList() << error
                                 << QStringLiteral("KV GET_BULK failed: 400 \"arrayBuffer\" is "
                                                   "not a valid type. Use \"json\" or \"text\"");
    QTest::newRow("stream") << QStringList { "key1" } << "stream" << false << QStringList()
                            << error
                            << QStringLiteral("KV GET_BULK failed: 400 \"stream\" is not a valid "
                                              "type. Use \"json\" or \"text\"");
    QTest::newRow("no keys") << QStringList() << text << false << QStringList() << error
                             << QStringLiteral("KV GET_BULK failed: 400 You must request a "
                                               "minimum of 1 key");
    QTest::newRow("101 keys") << manyKeys(101) << text << false << QStringList() << error
                              << QStringLiteral("KV GET_BULK failed: 400 You can request a "
                                                "maximum of 100 keys");
    QStringList hundredMissing;
    for (const QString &key : manyKeys(100))
        hundredMissing << key + QStringLiteral("=null");
    QTest::newRow("100 keys") << manyKeys(100) << text << false << hundredMissing << error
                              << QString();
    QTest::newRow("101 keys of which 100 distinct")
        << manyKeys(100) + QStringList { "k0" } << text << false << QStringList() << error
        << QStringLiteral("KV GET_BULK failed: 400 You can request a maximum of 100 keys");
    QTest::newRow("empty key") << QStringList { "key1", "" } << text << false << QStringList()
                               << Error::Kind::TypeError
                               << QStringLiteral("Key name cannot be empty.");
    QTest::newRow("513-byte key")
        << QStringList { QString(513, QLatin1Char('x')) } << text << false << QStringList()
        << error
        << QStringLiteral("KV GET_BULK failed: 414 UTF-8 encoded length of 513 exceeds key "
                          "length limit of 512.");
}

void TestKvApi::bulkGet()
{
    QFETCH(QStringList, keys);
    QFETCH(QString, type);
    QFETCH(bool, withMetadata);
    QFETCH(QStringList, expected);
    QFETCH(Error::Kind, errorKind);
    QFETCH(QString, errorMessage);

    KvWorld world;
    world.write(QStringLiteral("key1"), "value1", QByteArray(R"({"testing":true})"));
    world.write(QStringLiteral("key2"), "value2");
    world.write(QStringLiteral("good"), R"({"a":1})");
    world.write(QStringLiteral("bad"), "{not json");
    world.write(QStringLiteral("number"), "42");

    KvBulkGetOptions options;
    options.type = type;
    options.withMetadata = withMetadata;
    const Result<std::vector<KvBulkEntry>> read = world.getBulk(kLhr, keys, options);
    if (!errorMessage.isEmpty()) {
        QVERIFY(!read.ok());
        QCOMPARE(read.error().kind, errorKind);
        QCOMPARE(read.error().message, errorMessage);
        return;
    }
    QVERIFY2(read.ok(), qPrintable(read.ok() ? QString() : read.error().message));
    QCOMPARE(describe(read.value()), expected);
}

void TestKvApi::bulkGetTotalSize_data()
{
    QTest::addColumn<qsizetype>("firstBytes");
    QTest::addColumn<qsizetype>("secondBytes");
    QTest::addColumn<QString>("errorMessage");

    const qsizetype half = kv::kMaxBulkGetBytes / 2;
    QTest::newRow("exactly 25 MiB") << half << half << QString();
    QTest::newRow("one byte over 25 MiB")
        << half << half + 1
        << QStringLiteral("KV GET_BULK failed: 413 Total size of request exceeds the limit of "
                          "25MB");
}

void TestKvApi::bulkGetTotalSize()
{
    QFETCH(qsizetype, firstBytes);
    QFETCH(qsizetype, secondBytes);
    QFETCH(QString, errorMessage);

    KvWorld world;
    world.write(QStringLiteral("a"), QByteArray(firstBytes, 'a'));
    world.write(QStringLiteral("b"), QByteArray(secondBytes, 'b'));
    const Result<std::vector<KvBulkEntry>> read =
        world.getBulk(kSjc, { QStringLiteral("a"), QStringLiteral("b") });
    if (!errorMessage.isEmpty()) {
        QVERIFY(!read.ok());
        QCOMPARE(read.error().message, errorMessage);
        return;
    }
    QVERIFY(read.ok());
    QCOMPARE(read->size(), size_t(2));
    QCOMPARE(read->at(0).value->size(), firstBytes);
    QCOMPARE(read->at(1).value->size(), secondBytes);
}

void TestKvApi::bulkGetUsesLocationCache()
{
    KvWorld world;
    world.write(QStringLiteral("cached"), "v1");
    world.write(QStringLiteral("fresh"), "f1");
    // LHR caches "cached" = v1; then SJC changes both keys.
    QCOMPARE(world.get(kLhr, QStringLiteral("cached"))->value, Value("v1"));
    world.runUntil(world.now() + seconds(2));
    world.write(QStringLiteral("cached"), "v2");
    world.write(QStringLiteral("fresh"), "f2");

    const SimTime before = world.now();
    const Result<std::vector<KvBulkEntry>> read =
        world.getBulk(kLhr, { QStringLiteral("cached"), QStringLiteral("fresh") });
    QVERIFY(read.ok());
    QCOMPARE(describe(read.value()), (QStringList { "cached=v1", "fresh=f2" }));
    // The one key that missed costs one round trip to the central store.
    QCOMPARE(world.now() - before, kLhrRoundTrip);

    // Once LHR's entry lapses, the bulk read sees the new value.
    world.runUntil(world.now() + seconds(60));
    const Result<std::vector<KvBulkEntry>> later =
        world.getBulk(kLhr, { QStringLiteral("cached") });
    QCOMPARE(describe(later.value()), QStringList { "cached=v2" });
}

void TestKvApi::bulkGetCachesWhatItFetches()
{
    KvWorld world;
    world.write(QStringLiteral("a"), "a1");
    const Result<std::vector<KvBulkEntry>> read =
        world.getBulk(kLhr, { QStringLiteral("a"), QStringLiteral("missing") });
    QVERIFY(read.ok());
    QCOMPARE(world.kv().cachedKeyCount(kLhr), qsizetype(2));

    // A single read now hits the entry that the bulk read filled, and so does a later bulk
    // read of the cached miss, which costs the cache-hit latency only.
    world.runUntil(world.now() + seconds(2));
    world.write(QStringLiteral("a"), "a2");
    world.write(QStringLiteral("missing"), "m1");
    const Result<KvReadResult> single = world.get(kLhr, QStringLiteral("a"));
    QCOMPARE(single->value, Value("a1"));
    QCOMPARE(single->fromCentral, false);
    const SimTime before = world.now();
    const Result<std::vector<KvBulkEntry>> again =
        world.getBulk(kLhr, { QStringLiteral("missing") });
    QCOMPARE(describe(again.value()), QStringList { "missing=null" });
    QCOMPARE(world.now() - before, milliseconds(1));
}

// --- The operation limit per invocation ---------------------------------------------------

void TestKvApi::invocationLimit_data()
{
    QTest::addColumn<Call>("call");

    QTest::newRow("get") << Call::Get;
    QTest::newRow("bulk get") << Call::GetBulk;
    QTest::newRow("put") << Call::Put;
    QTest::newRow("delete") << Call::Delete;
    QTest::newRow("list") << Call::List;
}

void TestKvApi::invocationLimit()
{
    QFETCH(Call, call);

    KvWorld world;
    KvInvocation invocation;
    QCOMPARE(invocation.maxOperations(), 1000);
    for (int i = 0; i < 1000; ++i) {
        const Status status = callOnce(world, call, &invocation);
        QVERIFY2(status.ok(), qPrintable(status.ok() ? QString() : status.error().message));
    }
    QCOMPARE(invocation.operationCount(), 1000);

    const Status rejected = callOnce(world, call, &invocation);
    QVERIFY(!rejected.ok());
    QCOMPARE(rejected.error().kind, Error::Kind::Error);
    QCOMPARE(rejected.error().message, kTooManyOperations);
    QCOMPARE(invocation.operationCount(), 1000);

    // Another invocation starts from zero.
    KvInvocation next;
    QVERIFY(callOnce(world, call, &next).ok());
    QCOMPARE(next.operationCount(), 1);
}

void TestKvApi::bulkGetCountsAsOneOperation()
{
    KvWorld world;
    KvInvocation invocation(3);
    QVERIFY(world.getBulk(kSjc, manyKeys(100), {}, &invocation).ok());
    QCOMPARE(invocation.operationCount(), 1);
    QVERIFY(world.get(kSjc, QStringLiteral("k1"), {}, &invocation).ok());
    QVERIFY(world.put(kSjc, QStringLiteral("k1"), "v", {}, &invocation).ok());
    QCOMPARE(invocation.operationCount(), 3);

    const Result<std::vector<KvBulkEntry>> fourth =
        world.getBulk(kSjc, manyKeys(2), {}, &invocation);
    QVERIFY(!fourth.ok());
    QCOMPARE(fourth.error().message, kTooManyOperations);
}

void TestKvApi::invalidKeyIsNotCounted()
{
    KvWorld world;
    KvInvocation invocation;
    // workerd checks keys before it sends a request, so these calls reach no service.
    QVERIFY(!world.get(kSjc, QString(), {}, &invocation).ok());
    QVERIFY(!world.put(kSjc, QStringLiteral("."), "v", {}, &invocation).ok());
    QVERIFY(!world.getBulk(kSjc, { QStringLiteral("..") }, {}, &invocation).ok());
    QCOMPARE(invocation.operationCount(), 0);

    // A request that the service rejects still counts.
    KvGetOptions shortTtl;
    shortTtl.cacheTtl = 10;
    QVERIFY(!world.get(kSjc, QStringLiteral("k"), shortTtl, &invocation).ok());
    QCOMPARE(invocation.operationCount(), 1);
}

// --- The same-key write limit -------------------------------------------------------------

void TestKvApi::writeLimitModes_data()
{
    QTest::addColumn<WriteRateLimit>("mode");
    QTest::addColumn<int>("burst");
    QTest::addColumn<int>("accepted"); // of 8 writes that reach the store at the same instant

    QTest::newRow("strict") << WriteRateLimit::Strict << 3 << 1;
    QTest::newRow("burst of 3") << WriteRateLimit::Burst << 3 << 4;
    QTest::newRow("burst of 0") << WriteRateLimit::Burst << 0 << 1;
    QTest::newRow("burst of 7") << WriteRateLimit::Burst << 7 << 8;
    QTest::newRow("burst of 20") << WriteRateLimit::Burst << 20 << 8;
    QTest::newRow("off") << WriteRateLimit::Off << 0 << 8;
}

void TestKvApi::writeLimitModes()
{
    QFETCH(WriteRateLimit, mode);
    QFETCH(int, burst);
    QFETCH(int, accepted);

    KvSettings settings;
    settings.writeRateLimit = mode;
    settings.writeBurst = burst;
    KvWorld world(settings);
    std::vector<std::shared_ptr<std::optional<Status>>> pending;
    for (int i = 0; i < 8; ++i) {
        pending.push_back(world.start(world.kv().put(QStringLiteral("test"), kSjc,
                                                     QStringLiteral("hot"),
                                                     QByteArray::number(i))));
    }
    int acceptedCount = 0;
    QByteArray lastAccepted;
    for (int i = 0; i < 8; ++i) {
        const Status status = world.finish(pending[size_t(i)]);
        if (status.ok()) {
            ++acceptedCount;
            lastAccepted = QByteArray::number(i);
        } else {
            QCOMPARE(status.error().message, kTooManyRequests);
        }
    }
    QCOMPARE(acceptedCount, accepted);
    QCOMPARE(world.kv().centralEntry(QStringLiteral("hot"))->value, lastAccepted);
}

void TestKvApi::burstWindowSlides_data()
{
    QTest::addColumn<QList<int>>("offsetsMs"); // when each write reaches the store
    QTest::addColumn<QList<bool>>("accepted");

    // A burst of 1: two writes within any 1 s.
    QTest::newRow("third write within 1 s of the first")
        << QList<int> { 0, 500, 900 } << QList<bool> { true, true, false };
    QTest::newRow("third write 1 s after the first")
        << QList<int> { 0, 500, 1000 } << QList<bool> { true, true, true };
    QTest::newRow("rejected write does not extend the window")
        << QList<int> { 0, 100, 200, 1000, 1100 } << QList<bool> { true, true, false, true, true };
    QTest::newRow("window follows the second write")
        << QList<int> { 0, 500, 1000, 1400 } << QList<bool> { true, true, true, false };
}

void TestKvApi::burstWindowSlides()
{
    QFETCH(QList<int>, offsetsMs);
    QFETCH(QList<bool>, accepted);

    KvSettings settings;
    settings.writeRateLimit = WriteRateLimit::Burst;
    settings.writeBurst = 1;
    KvWorld world(settings);
    // Writes from SJC take 2 ms to reach the store, so each starts 2 ms before its offset.
    const SimTime origin = world.now() + seconds(10);
    for (qsizetype i = 0; i < offsetsMs.size(); ++i) {
        world.runUntil(origin + milliseconds(offsetsMs[i]) - LocationMap::kDefaultLocalLatencyUs);
        const Status status = world.put(kSjc, QStringLiteral("hot"), QByteArray::number(i));
        QCOMPARE(status.ok(), accepted[i]);
    }
}

void TestKvApi::concurrentWritesToHotKey()
{
    // Twenty writes to one key from one request: production accepts one and rejects the others
    // with 429, and the key contains the accepted value.
    KvWorld world;
    std::vector<std::shared_ptr<std::optional<Status>>> pending;
    for (int i = 0; i < 20; ++i) {
        pending.push_back(world.start(world.kv().put(QStringLiteral("test"), kLhr,
                                                     QStringLiteral("hot"),
                                                     QByteArray("attempt ") + QByteArray::number(i))));
    }
    int rejected = 0;
    for (const auto &result : pending) {
        const Status status = world.finish(result);
        if (!status.ok()) {
            QCOMPARE(status.error().message, kTooManyRequests);
            ++rejected;
        }
    }
    QCOMPARE(rejected, 19);
    QCOMPARE(world.kv().centralEntry(QStringLiteral("hot"))->value, QByteArray("attempt 0"));
}

void TestKvApi::lostUpdateWithoutCompareAndSwap()
{
    // Two clients read a counter, add one and write it back: KV has no compare-and-swap, so
    // the counter ends at 1.
    KvWorld world;
    world.write(QStringLiteral("ctr"), "0");
    world.runUntil(world.now() + seconds(2));
    const auto readA = world.start(world.kv().get(QStringLiteral("a"), kSjc, QStringLiteral("ctr")));
    const auto readB = world.start(world.kv().get(QStringLiteral("b"), kLhr, QStringLiteral("ctr")));
    const QByteArray seenA = world.finish(readA)->value.value();
    const QByteArray seenB = world.finish(readB)->value.value();
    QCOMPARE(seenA, QByteArray("0"));
    QCOMPARE(seenB, QByteArray("0"));
    QVERIFY(world.put(kSjc, QStringLiteral("ctr"), QByteArray::number(seenA.toInt() + 1)).ok());
    world.runUntil(world.now() + seconds(2));
    QVERIFY(world.put(kLhr, QStringLiteral("ctr"), QByteArray::number(seenB.toInt() + 1)).ok());
    QCOMPARE(world.kv().centralEntry(QStringLiteral("ctr"))->value, QByteArray("1"));
}

// --- Settings and profiles ----------------------------------------------------------------

void TestKvApi::minCacheTtlSetting_data()
{
    QTest::addColumn<qint64>("minimum");
    QTest::addColumn<double>("cacheTtl");
    QTest::addColumn<QString>("errorMessage");

    QTest::newRow("30-s minimum, 29") << qint64(30) << 29.0
                                      << QStringLiteral("KV GET failed: 400 Invalid cache_ttl of "
                                                        "29. Cache TTL must be at least 30.");
    QTest::newRow("30-s minimum, 30") << qint64(30) << 30.0 << QString();
    QTest::newRow("60-s minimum, 30") << qint64(60) << 30.0
                                      << QStringLiteral("KV GET failed: 400 Invalid cache_ttl of "
                                                        "30. Cache TTL must be at least 60.");
    QTest::newRow("60-s minimum, 59.5") << qint64(60) << 59.5
                                        << QStringLiteral("KV GET failed: 400 Invalid cache_ttl "
                                                          "of 59.5. Cache TTL must be at least "
                                                          "60.");
    QTest::newRow("60-s minimum, 60") << qint64(60) << 60.0 << QString();
}

void TestKvApi::minCacheTtlSetting()
{
    QFETCH(qint64, minimum);
    QFETCH(double, cacheTtl);
    QFETCH(QString, errorMessage);

    KvSettings settings;
    settings.minCacheTtlSeconds = minimum;
    KvWorld world(settings);
    world.write(QStringLiteral("k"), "v");
    KvGetOptions options;
    options.cacheTtl = cacheTtl;
    const Result<KvReadResult> read = world.get(kLhr, QStringLiteral("k"), options);
    KvBulkGetOptions bulkOptions;
    bulkOptions.cacheTtl = cacheTtl;
    const Result<std::vector<KvBulkEntry>> bulk =
        world.getBulk(kLhr, { QStringLiteral("k") }, bulkOptions);
    if (errorMessage.isEmpty()) {
        QVERIFY(read.ok());
        QCOMPARE(read->value, Value("v"));
        QVERIFY(bulk.ok());
        return;
    }
    QVERIFY(!read.ok());
    QCOMPARE(read.error().message, errorMessage);
    QVERIFY(!bulk.ok());
    QCOMPARE(bulk.error().message, errorMessage);
}

void TestKvApi::productionProfileIsDefault()
{
    const KvSettings production = kvSettingsForProfile(KvProfile::Production);
    const KvSettings defaults;
    QCOMPARE(production.defaultCacheTtl, seconds(60));
    QCOMPARE(production.readYourWrites, true);
    QCOMPARE(production.writeRateLimit, WriteRateLimit::Strict);
    QCOMPARE(production.writeBurst, defaults.writeBurst);
    QCOMPARE(production.minCacheTtlSeconds, qint64(30));
    QCOMPARE(production.locationCaches, true);
    QCOMPARE(production.networkLatency, true);
    QCOMPARE(production.cacheHitLatency, milliseconds(1));
    QVERIFY(kvProfileFromName(QStringLiteral("production")) == KvProfile::Production);
    QVERIFY(kvProfileFromName(QStringLiteral("local")) == KvProfile::Local);
    QVERIFY(!kvProfileFromName(QStringLiteral("Local")).has_value());
}

void TestKvApi::localProfileSettings()
{
    const KvSettings local = kvSettingsForProfile(KvProfile::Local);
    QCOMPARE(local.readYourWrites, true);
    QCOMPARE(local.locationCaches, false);
    QCOMPARE(local.networkLatency, false);
    QCOMPARE(local.cacheHitLatency, SimDuration(0));
    QCOMPARE(local.writeRateLimit, WriteRateLimit::Off);
    QCOMPARE(local.minCacheTtlSeconds, qint64(30));
}

void TestKvApi::localProfileReadsAreConsistent()
{
    KvWorld world(kvSettingsForProfile(KvProfile::Local));
    const SimTime start = world.now();

    // A cached miss in production; locally the next read sees the write at once.
    QCOMPARE(world.get(kLhr, QStringLiteral("k"))->value, Value());
    QVERIFY(world.put(kSjc, QStringLiteral("k"), "v1").ok());
    QCOMPARE(world.get(kLhr, QStringLiteral("k"))->value, Value("v1"));
    QVERIFY(world.put(kSjc, QStringLiteral("k"), "v2").ok());
    const Result<KvReadResult> read = world.get(kLhr, QStringLiteral("k"));
    QCOMPARE(read->value, Value("v2"));
    QCOMPARE(read->stale, false);
    QCOMPARE(world.kv().cachedKeyCount(kLhr), qsizetype(0));
    QCOMPARE(world.kv().view(kLhr, QStringLiteral("k")).cached, false);

    // The cacheTtl minimum is still checked, as Miniflare does.
    KvGetOptions shortTtl;
    shortTtl.cacheTtl = 10;
    QVERIFY(!world.get(kLhr, QStringLiteral("k"), shortTtl).ok());

    // No call took any virtual time.
    QCOMPARE(world.now(), start);
}

void TestKvApi::scenarioKvSettings_data()
{
    QTest::addColumn<QByteArray>("kv");
    QTest::addColumn<bool>("locationCaches");
    QTest::addColumn<bool>("networkLatency");
    QTest::addColumn<WriteRateLimit>("writeRateLimit");
    QTest::addColumn<int>("writeBurst");
    QTest::addColumn<qint64>("minCacheTtl");
    QTest::addColumn<SimDuration>("cacheTtl");

    QTest::newRow("no kv section")
        << QByteArray() << true << true << WriteRateLimit::Strict << 3 << qint64(30) << seconds(60);
    QTest::newRow("production") << QByteArray(R"("profile": "production")") << true << true
                                << WriteRateLimit::Strict << 3 << qint64(30) << seconds(60);
    QTest::newRow("local") << QByteArray(R"("profile": "local")") << false << false
                           << WriteRateLimit::Off << 3 << qint64(30) << seconds(60);
    QTest::newRow("local with the strict limit")
        << QByteArray(R"("profile": "local", "writeRateLimit": "strict")") << false << false
        << WriteRateLimit::Strict << 3 << qint64(30) << seconds(60);
    QTest::newRow("local with caches")
        << QByteArray(R"("profile": "local", "locationCaches": true)") << true << false
        << WriteRateLimit::Off << 3 << qint64(30) << seconds(60);
    QTest::newRow("burst of 5")
        << QByteArray(R"("writeRateLimit": "burst", "writeBurst": 5)") << true << true
        << WriteRateLimit::Burst << 5 << qint64(30) << seconds(60);
    QTest::newRow("burst with the default allowance")
        << QByteArray(R"("writeRateLimit": "burst")") << true << true << WriteRateLimit::Burst
        << 3 << qint64(30) << seconds(60);
    QTest::newRow("older 60-s minimum")
        << QByteArray(R"("minCacheTtl": 60)") << true << true << WriteRateLimit::Strict << 3
        << qint64(60) << seconds(60);
    QTest::newRow("60-s minimum and a 2-minute cacheTtl")
        << QByteArray(R"("minCacheTtl": 60, "cacheTtl": "2m")") << true << true
        << WriteRateLimit::Strict << 3 << qint64(60) << seconds(120);
    QTest::newRow("no network latency")
        << QByteArray(R"("networkLatency": false)") << true << false << WriteRateLimit::Strict
        << 3 << qint64(30) << seconds(60);
}

void TestKvApi::scenarioKvSettings()
{
    QFETCH(QByteArray, kv);
    QFETCH(bool, locationCaches);
    QFETCH(bool, networkLatency);
    QFETCH(WriteRateLimit, writeRateLimit);
    QFETCH(int, writeBurst);
    QFETCH(qint64, minCacheTtl);
    QFETCH(SimDuration, cacheTtl);

    QByteArray json = R"({ "name": "t", "locations": ["LHR", "SJC"])";
    if (!kv.isNull())
        json += ", \"kv\": { " + kv + " }";
    json += " }";
    const Result<Scenario> parsed = Scenario::parse(json, QStringLiteral("kv.json"));
    QVERIFY2(parsed.ok(), qPrintable(parsed.ok() ? QString() : parsed.error().message));
    const KvSettings &settings = parsed->kv;
    QCOMPARE(settings.locationCaches, locationCaches);
    QCOMPARE(settings.networkLatency, networkLatency);
    QCOMPARE(settings.writeRateLimit, writeRateLimit);
    QCOMPARE(settings.writeBurst, writeBurst);
    QCOMPARE(settings.minCacheTtlSeconds, minCacheTtl);
    QCOMPARE(settings.defaultCacheTtl, cacheTtl);
    QCOMPARE(settings.readYourWrites, true);
}

void TestKvApi::scenarioKvErrors_data()
{
    QTest::addColumn<QByteArray>("kv");
    QTest::addColumn<QString>("message");

    QTest::newRow("unknown profile")
        << QByteArray(R"("profile": "staging")")
        << QStringLiteral("kv.json:1:64: kv.profile: expected \"production\" or \"local\", found "
                          "\"staging\"");
    QTest::newRow("writeBurst without burst")
        << QByteArray(R"("writeBurst": 2)")
        << QStringLiteral("kv.json:1:67: kv.writeBurst: writeBurst applies only with "
                          "\"writeRateLimit\": \"burst\"");
    QTest::newRow("negative writeBurst")
        << QByteArray(R"("writeRateLimit": "burst", "writeBurst": -1)")
        << QStringLiteral("kv.json:1:94: kv.writeBurst: expected a whole number from 0 to 1000, "
                          "found -1");
    QTest::newRow("cacheTtl below a 60-s minimum")
        << QByteArray(R"("minCacheTtl": 60, "cacheTtl": 30)")
        << QStringLiteral("kv.json:1:84: kv.cacheTtl: expected a duration of at least 1 min 0 s, "
                          "such as 30, \"250ms\", \"1.5s\" or \"2m\", found 30");
    QTest::newRow("minimum above the default cacheTtl")
        << QByteArray(R"("minCacheTtl": 120)")
        << QStringLiteral("kv.json:1:68: kv.minCacheTtl: the default cacheTtl of 1 min 0 s is "
                          "below this minimum; set \"cacheTtl\" to at least 120 s as well");
    QTest::newRow("minCacheTtl of 0")
        << QByteArray(R"("minCacheTtl": 0)")
        << QStringLiteral("kv.json:1:68: kv.minCacheTtl: expected a whole number from 1 to "
                          "86400, found 0");
    QTest::newRow("unknown writeRateLimit")
        << QByteArray(R"("writeRateLimit": "random")")
        << QStringLiteral("kv.json:1:71: kv.writeRateLimit: expected \"strict\", \"burst\" or "
                          "\"off\", found \"random\"");
}

void TestKvApi::scenarioKvErrors()
{
    QFETCH(QByteArray, kv);
    QFETCH(QString, message);

    const QByteArray json =
        R"({ "name": "t", "locations": ["LHR", "SJC"], "kv": { )" + kv + " } }";
    const Result<Scenario> parsed = Scenario::parse(json, QStringLiteral("kv.json"));
    QVERIFY(!parsed.ok());
    QCOMPARE(parsed.error().message, message);
}

// --- Bytes in keys and values -------------------------------------------------------------

void TestKvApi::binaryValueRoundTrip_data()
{
    QTest::addColumn<QByteArray>("value");

    QTest::newRow("NUL bytes") << QByteArray("a\0b\0", 4);
    QTest::newRow("only NUL") << QByteArray(1, '\0');
    QTest::newRow("invalid UTF-8") << QByteArray("\xFF\xFE\xC3(\x80", 5);
    QTest::newRow("lone surrogate in UTF-8") << QByteArray("\xED\xA0\x80", 3);
    QByteArray everyByte;
    for (int i = 0; i < 256; ++i)
        everyByte.append(char(i));
    QTest::newRow("every byte") << everyByte;
    QTest::newRow("empty") << QByteArray();
}

void TestKvApi::binaryValueRoundTrip()
{
    QFETCH(QByteArray, value);

    KvWorld world;
    world.write(QStringLiteral("bin"), value);
    for (const char *type : { "text", "arrayBuffer", "stream" }) {
        KvGetOptions options;
        options.type = QString::fromLatin1(type);
        const Result<KvReadResult> read = world.get(kLhr, QStringLiteral("bin"), options);
        QVERIFY(read.ok());
        QCOMPARE(read->value, Value(value));
    }
    const Result<std::vector<KvBulkEntry>> bulk = world.getBulk(kLhr, { QStringLiteral("bin") });
    QVERIFY(bulk.ok());
    QCOMPARE(bulk->at(0).value, Value(value));
    QCOMPARE(world.kv().centralEntry(QStringLiteral("bin"))->value, value);
}

void TestKvApi::falsyValueKeepsMetadata_data()
{
    QTest::addColumn<QByteArray>("value");

    QTest::newRow("empty") << QByteArray();
    QTest::newRow("zero") << QByteArray("0");
    QTest::newRow("false") << QByteArray("false");
    QTest::newRow("null") << QByteArray("null");
}

void TestKvApi::falsyValueKeepsMetadata()
{
    QFETCH(QByteArray, value);

    KvWorld world;
    const QByteArray metadata = R"({"m":1})";
    world.write(QStringLiteral("k"), value, metadata);

    const Result<KvReadResult> read = world.get(kLhr, QStringLiteral("k"));
    QVERIFY(read.ok());
    QCOMPARE(read->value, Value(value));
    QCOMPARE(read->metadata, Value(metadata));

    KvBulkGetOptions options;
    options.withMetadata = true;
    const Result<std::vector<KvBulkEntry>> bulk =
        world.getBulk(kSjc, { QStringLiteral("k") }, options);
    QVERIFY(bulk.ok());
    QCOMPARE(bulk->at(0).value, Value(value));
    QCOMPARE(bulk->at(0).metadata, Value(metadata));

    const KvListResult listed = world.list();
    QCOMPARE(listed.keys.size(), size_t(1));
    QCOMPARE(listed.keys[0].metadata, Value(metadata));
}

void TestKvApi::literalKeys_data()
{
    QTest::addColumn<QString>("key");
    QTest::addColumn<QByteArray>("utf8");

    QTest::newRow("space") << QStringLiteral("a b") << QByteArray("a b");
    QTest::newRow("percent escape") << QStringLiteral("a%20b") << QByteArray("a%20b");
    QTest::newRow("lone percent") << QStringLiteral("100%") << QByteArray("100%");
    QTest::newRow("slashes") << QStringLiteral("/users//bob/") << QByteArray("/users//bob/");
    QTest::newRow("dot segments") << QStringLiteral("a/../b/./c") << QByteArray("a/../b/./c");
    QTest::newRow("encoded slash") << QStringLiteral("a%2Fb") << QByteArray("a%2Fb");
    QTest::newRow("query and fragment") << QStringLiteral("?x=1#y") << QByteArray("?x=1#y");
    QTest::newRow("unit separator") << QStringLiteral("email\u001Fuser") << QByteArray("email\x1Fuser");
    QTest::newRow("newline and tab") << QStringLiteral("a\nb\tc") << QByteArray("a\nb\tc");
    QTest::newRow("NUL") << QString(QStringLiteral("a") + QChar(0) + QStringLiteral("b"))
                         << QByteArray("a\0b", 3);
    QTest::newRow("DEL") << QStringLiteral("a\u007F") << QByteArray("a\x7F");
    QTest::newRow("plus") << QStringLiteral("a+b") << QByteArray("a+b");
    QTest::newRow("backslash") << QStringLiteral("a\\b") << QByteArray("a\\b");
}

void TestKvApi::literalKeys()
{
    QFETCH(QString, key);
    QFETCH(QByteArray, utf8);

    KvWorld world;
    // A neighbour key that sorts after every key of the table.
    world.write(QStringLiteral("~neighbour"), "other");
    world.write(key, "literal");

    const Result<KvReadResult> read = world.get(kLhr, key);
    QVERIFY(read.ok());
    QCOMPARE(read->value, Value("literal"));
    QCOMPARE(world.kv().centralEntry(key)->key, utf8);

    KvListOptions options;
    options.prefix = key;
    const KvListResult listed = world.list(options);
    QCOMPARE(listed.keys.size(), size_t(1));
    QCOMPARE(listed.keys[0].name, key);
}

QTEST_GUILESS_MAIN(TestKvApi)
#include "tst_kvapi.moc"
