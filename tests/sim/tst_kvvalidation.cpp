// Tests of the Workers KV validation rules and error texts, through the KvNamespace calls and
// through the kv::validate* functions that they use.

#include "kvlimits.h"
#include "kvnamespace.h"
#include "location.h"
#include "simulation.h"
#include "task.h"

#include <QTest>

#include <cmath>
#include <limits>
#include <memory>
#include <optional>

using namespace roomscope;

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

constexpr qint64 kNowSeconds = 1000;
const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInfinity = std::numeric_limits<double>::infinity();

enum class Call { Get, Put, Delete };

template<typename T>
Task<void> storeResult(Task<T> task, std::optional<T> *result)
{
    result->emplace(co_await task);
}

/// One location ("SJC", where the central store is) and one namespace, on a virtual clock
/// that starts at kNowSeconds.
class KvWorld
{
public:
    explicit KvWorld(KvSettings settings = {})
        : m_simulation(1, seconds(kNowSeconds))
    {
        m_locations.add(QStringLiteral("SJC"));
        auto created = KvNamespace::create(m_simulation, m_locations, QStringLiteral("KV"),
                                           settings, QStringLiteral(":memory:"));
        if (!created)
            qFatal("cannot create the KV namespace: %s", qPrintable(created.error().message));
        m_kv = std::move(created).value();
    }

    Simulation &simulation() { return m_simulation; }
    KvNamespace &kv() { return *m_kv; }

    /// Runs the simulation until `task` finishes and returns its result.
    template<typename T>
    T run(Task<T> task)
    {
        std::optional<T> result;
        m_simulation.spawn(storeResult(std::move(task), &result));
        while (!result && m_simulation.step()) { }
        if (!result)
            qFatal("a KV call never finished");
        return std::move(*result);
    }

    Result<KvReadResult> get(const QString &key, KvGetOptions options = {})
    {
        return run(m_kv->get(QStringLiteral("test"), 0, key, options));
    }
    Status put(const QString &key, const QByteArray &value, KvPutOptions options = {})
    {
        return run(m_kv->put(QStringLiteral("test"), 0, key, value, options));
    }
    Status remove(const QString &key) { return run(m_kv->remove(QStringLiteral("test"), 0, key)); }
    Result<KvListResult> list(KvListOptions options = {})
    {
        return run(m_kv->list(QStringLiteral("test"), 0, options));
    }

    /// Writes `count` distinct keys "key0000", "key0001", ... at once.
    void fill(int count)
    {
        auto pending = std::make_shared<int>(count);
        for (int i = 0; i < count; ++i) {
            const QString key = QStringLiteral("key%1").arg(i, 4, 10, QLatin1Char('0'));
            m_simulation.spawn(
                [](Task<Status> put, std::shared_ptr<int> left) -> Task<void> {
                    const Status status = co_await put;
                    if (!status)
                        qFatal("fill: %s", qPrintable(status.error().message));
                    --*left;
                }(m_kv->put(QStringLiteral("fill"), 0, key, QByteArrayLiteral("v")), pending));
        }
        while (*pending > 0 && m_simulation.step()) { }
    }

private:
    Simulation m_simulation;
    LocationMap m_locations;
    std::unique_ptr<KvNamespace> m_kv;
};

Status callWithKey(KvWorld &world, Call call, const QString &key)
{
    switch (call) {
    case Call::Get: {
        const Result<KvReadResult> read = world.get(key);
        if (!read)
            return read.error();
        return Done {};
    }
    case Call::Put:
        return world.put(key, QByteArrayLiteral("v"));
    case Call::Delete:
        return world.remove(key);
    }
    return Done {};
}

kv::Operation operationOf(Call call)
{
    switch (call) {
    case Call::Get:
        return kv::Operation::Get;
    case Call::Put:
        return kv::Operation::Put;
    case Call::Delete:
        return kv::Operation::Delete;
    }
    return kv::Operation::Get;
}

QString repeated(const QString &text, int times)
{
    return text.repeated(times);
}

const QString kEuro = QStringLiteral("\u20AC"); // 3 UTF-8 bytes
const QString kEAcute = QStringLiteral("\u00E9"); // 2 UTF-8 bytes
const QString kGrinning = QStringLiteral("\U0001F600"); // 4 UTF-8 bytes, 2 UTF-16 units

QString keyTooLong(const char *operation, int bytes)
{
    return QStringLiteral("KV %1 failed: 414 UTF-8 encoded length of %2 exceeds key length limit "
                          "of 512.")
        .arg(QLatin1String(operation))
        .arg(bytes);
}

} // namespace

Q_DECLARE_METATYPE(Call)

class TestKvValidation : public QObject
{
    Q_OBJECT

private slots:
    void invalidKey_data();
    void invalidKey();
    void acceptedKey_data();
    void acceptedKey();
    void getMissing512ByteKey();
    void cacheTtl_data();
    void cacheTtl();
    void expirationTtl_data();
    void expirationTtl();
    void expiration_data();
    void expiration();
    void expirationTtlListsAbsoluteTime();
    void expirationTtlWinsOverExpiration();
    void keyCheckedBeforeOptions();
    void metadataSize_data();
    void metadataSize();
    void valueSize_data();
    void valueSize();
    void listOptions_data();
    void listOptions();
    void writeReturnValues();
    void operationNames();
    void jsNumber_data();
    void jsNumber();
};

void TestKvValidation::invalidKey_data()
{
    QTest::addColumn<Call>("call");
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("errorName");
    QTest::addColumn<QString>("message");

    const QString empty = QStringLiteral("Key name cannot be empty.");
    const QString dot = QStringLiteral("\".\" is not allowed as a key name.");
    const QString dotDot = QStringLiteral("\"..\" is not allowed as a key name.");
    const QString typeError = QStringLiteral("TypeError");
    const QString error = QStringLiteral("Error");

    QTest::newRow("get empty") << Call::Get << QString() << typeError << empty;
    QTest::newRow("put empty") << Call::Put << QString() << typeError << empty;
    QTest::newRow("delete empty") << Call::Delete << QString() << typeError << empty;
    QTest::newRow("get dot") << Call::Get << QStringLiteral(".") << typeError << dot;
    QTest::newRow("put dot") << Call::Put << QStringLiteral(".") << typeError << dot;
    QTest::newRow("delete dot") << Call::Delete << QStringLiteral(".") << typeError << dot;
    QTest::newRow("get dot dot") << Call::Get << QStringLiteral("..") << typeError << dotDot;
    QTest::newRow("put dot dot") << Call::Put << QStringLiteral("..") << typeError << dotDot;
    QTest::newRow("delete dot dot") << Call::Delete << QStringLiteral("..") << typeError << dotDot;
    QTest::newRow("get 513 ascii bytes")
        << Call::Get << repeated(QStringLiteral("x"), 513) << error << keyTooLong("GET", 513);
    QTest::newRow("put 513 ascii bytes")
        << Call::Put << repeated(QStringLiteral("x"), 513) << error << keyTooLong("PUT", 513);
    QTest::newRow("delete 513 ascii bytes")
        << Call::Delete << repeated(QStringLiteral("x"), 513) << error << keyTooLong("DELETE", 513);
    QTest::newRow("put 171 euro signs")
        << Call::Put << repeated(kEuro, 171) << error << keyTooLong("PUT", 513);
    QTest::newRow("get 257 e-acute")
        << Call::Get << repeated(kEAcute, 257) << error << keyTooLong("GET", 514);
    QTest::newRow("put 128 emoji and x")
        << Call::Put << repeated(kGrinning, 128) + QStringLiteral("x") << error
        << keyTooLong("PUT", 513);
}

void TestKvValidation::invalidKey()
{
    QFETCH(Call, call);
    QFETCH(QString, key);
    QFETCH(QString, errorName);
    QFETCH(QString, message);

    KvWorld world;
    const SimTime before = world.simulation().now();
    const Status status = callWithKey(world, call, key);
    QVERIFY(!status.ok());
    QCOMPARE(status.error().message, message);
    QCOMPARE(status.error().name(), errorName);
    QCOMPARE(status.error().kind,
             errorName == QLatin1String("TypeError") ? Error::Kind::TypeError : Error::Kind::Error);
    // The client checks keys before it sends a request, so no virtual time passes.
    QCOMPARE(world.simulation().now(), before);
    QCOMPARE(world.kv().keyCount(), 0);

    const Status direct = kv::validateKey(key, operationOf(call));
    QVERIFY(!direct.ok());
    QCOMPARE(direct.error().message, message);
    QCOMPARE(direct.error().name(), errorName);
}

void TestKvValidation::acceptedKey_data()
{
    QTest::addColumn<QString>("key");
    QTest::addColumn<int>("utf8Bytes");

    QTest::newRow("512 ascii bytes") << repeated(QStringLiteral("x"), 512) << 512;
    QTest::newRow("170 euro signs") << repeated(kEuro, 170) << 510;
    QTest::newRow("128 emoji") << repeated(kGrinning, 128) << 512;
    QTest::newRow("three dots") << QStringLiteral("...") << 3;
    QTest::newRow("dot prefix") << QStringLiteral(".a") << 2;
    QTest::newRow("one space") << QStringLiteral(" ") << 1;
}

void TestKvValidation::acceptedKey()
{
    QFETCH(QString, key);
    QFETCH(int, utf8Bytes);

    QCOMPARE(key.toUtf8().size(), utf8Bytes);
    QVERIFY(kv::validateKey(key, kv::Operation::Put).ok());

    KvWorld world;
    const Status put = world.put(key, QByteArrayLiteral("stored"));
    QVERIFY2(put.ok(), qPrintable(put.ok() ? QString() : put.error().message));
    const Result<KvReadResult> read = world.get(key);
    QVERIFY(read.ok());
    QCOMPARE(read->value, std::optional<QByteArray>(QByteArrayLiteral("stored")));

    const Result<KvListResult> listed = world.list();
    QVERIFY(listed.ok());
    QCOMPARE(listed->keys.size(), size_t(1));
    QCOMPARE(listed->keys[0].name, key);

    // A delete is a write, so it waits out the one-write-per-second limit on the key.
    world.simulation().runUntil(world.simulation().now() + seconds(1));
    const Status removed = world.remove(key);
    QVERIFY2(removed.ok(), qPrintable(removed.ok() ? QString() : removed.error().message));
    QCOMPARE(world.kv().keyCount(), 0);
}

void TestKvValidation::getMissing512ByteKey()
{
    KvWorld world;
    const Result<KvReadResult> read = world.get(repeated(QStringLiteral("x"), 512));
    QVERIFY(read.ok());
    QCOMPARE(read->value, std::nullopt);
    QCOMPARE(read->metadata, std::nullopt);
    QCOMPARE(read->version, 0);
}

void TestKvValidation::cacheTtl_data()
{
    QTest::addColumn<double>("cacheTtl");
    QTest::addColumn<QString>("message"); // empty when the read succeeds

    const auto invalid = [](const char *shown) {
        return QStringLiteral("KV GET failed: 400 Invalid cache_ttl of %1. Cache TTL must be at "
                              "least 30.")
            .arg(QLatin1String(shown));
    };
    QTest::newRow("10") << 10.0 << invalid("10");
    QTest::newRow("29") << 29.0 << invalid("29");
    QTest::newRow("29.5") << 29.5 << invalid("29.5");
    QTest::newRow("0.1") << 0.1 << invalid("0.1");
    QTest::newRow("0") << 0.0 << invalid("0");
    QTest::newRow("-1") << -1.0 << invalid("-1");
    QTest::newRow("NaN reports as 0") << kNaN << invalid("0");
    QTest::newRow("-Infinity") << -kInfinity << invalid("-Infinity");
    QTest::newRow("30") << 30.0 << QString();
    QTest::newRow("60") << 60.0 << QString();
    QTest::newRow("86400") << 86400.0 << QString();
    QTest::newRow("max safe integer") << 9007199254740991.0 << QString();
}

void TestKvValidation::cacheTtl()
{
    QFETCH(double, cacheTtl);
    QFETCH(QString, message);

    KvWorld world;
    QVERIFY(world.put(QStringLiteral("k"), QByteArrayLiteral("value")).ok());

    const Result<KvReadResult> read = world.get(QStringLiteral("k"), { cacheTtl });
    const Status direct = kv::validateCacheTtl(cacheTtl);
    if (message.isEmpty()) {
        QVERIFY2(read.ok(), qPrintable(read.ok() ? QString() : read.error().message));
        QCOMPARE(read->value, std::optional<QByteArray>(QByteArrayLiteral("value")));
        QVERIFY(direct.ok());
        return;
    }
    QVERIFY(!read.ok());
    QCOMPARE(read.error().message, message);
    QCOMPARE(read.error().kind, Error::Kind::Error);
    QCOMPARE(read.error().name(), QStringLiteral("Error"));
    QVERIFY(!direct.ok());
    QCOMPARE(direct.error().message, message);
}

void TestKvValidation::expirationTtl_data()
{
    QTest::addColumn<double>("expirationTtl");
    QTest::addColumn<QString>("message"); // empty when the write succeeds

    const auto notPositive = [](const char *shown) {
        return QStringLiteral("KV PUT failed: 400 Invalid expiration_ttl of %1. Please specify "
                              "integer greater than 0.")
            .arg(QLatin1String(shown));
    };
    const auto tooShort = [](const char *shown) {
        return QStringLiteral("KV PUT failed: 400 Invalid expiration_ttl of %1. Expiration TTL "
                              "must be at least 60.")
            .arg(QLatin1String(shown));
    };
    QTest::newRow("0") << 0.0 << notPositive("0");
    QTest::newRow("NaN reports as 0") << kNaN << notPositive("0");
    QTest::newRow("-5") << -5.0 << notPositive("-5");
    QTest::newRow("-0.5") << -0.5 << notPositive("-0.5");
    QTest::newRow("1") << 1.0 << tooShort("1");
    QTest::newRow("59") << 59.0 << tooShort("59");
    QTest::newRow("59.9") << 59.9 << tooShort("59.9");
    QTest::newRow("60") << 60.0 << QString();
    QTest::newRow("3600") << 3600.0 << QString();
}

void TestKvValidation::expirationTtl()
{
    QFETCH(double, expirationTtl);
    QFETCH(QString, message);

    KvWorld world;
    KvPutOptions options;
    options.expirationTtl = expirationTtl;
    const Status put = world.put(QStringLiteral("k"), QByteArrayLiteral("v"), options);
    const Status direct = kv::validateExpiration(std::nullopt, expirationTtl, kNowSeconds);
    if (message.isEmpty()) {
        QVERIFY2(put.ok(), qPrintable(put.ok() ? QString() : put.error().message));
        QVERIFY(direct.ok());
        QCOMPARE(world.kv().keyCount(), 1);
        return;
    }
    QVERIFY(!put.ok());
    QCOMPARE(put.error().message, message);
    QCOMPARE(put.error().kind, Error::Kind::Error);
    QVERIFY(!direct.ok());
    QCOMPARE(direct.error().message, message);
    QCOMPARE(world.kv().keyCount(), 0);
}

void TestKvValidation::expiration_data()
{
    QTest::addColumn<double>("expiration");
    QTest::addColumn<QString>("message"); // empty when the write succeeds

    const auto notFuture = [](const char *shown) {
        return QStringLiteral("KV PUT failed: 400 Invalid expiration of %1. Please specify integer "
                              "greater than the current number of seconds since the UNIX epoch.")
            .arg(QLatin1String(shown));
    };
    const auto tooSoon = [](const char *shown) {
        return QStringLiteral("KV PUT failed: 400 Invalid expiration of %1. Expiration times must "
                              "be at least 60 seconds in the future.")
            .arg(QLatin1String(shown));
    };
    // The clock is at 1000 s since the epoch.
    QTest::newRow("equal to now") << 1000.0 << notFuture("1000");
    QTest::newRow("10 s before now") << 990.0 << notFuture("990");
    QTest::newRow("zero") << 0.0 << notFuture("0");
    QTest::newRow("now + 1") << 1001.0 << tooSoon("1001");
    QTest::newRow("now + 30") << 1030.0 << tooSoon("1030");
    QTest::newRow("now + 59") << 1059.0 << tooSoon("1059");
    QTest::newRow("now + 59.5") << 1059.5 << tooSoon("1059.5");
    QTest::newRow("now + 60") << 1060.0 << QString();
    QTest::newRow("now + 100000") << 101000.0 << QString();
}

void TestKvValidation::expiration()
{
    QFETCH(double, expiration);
    QFETCH(QString, message);

    KvWorld world;
    QCOMPARE(epochSeconds(world.simulation().now()), kNowSeconds);
    KvPutOptions options;
    options.expiration = expiration;
    const Status put = world.put(QStringLiteral("k"), QByteArrayLiteral("v"), options);
    const Status direct = kv::validateExpiration(expiration, std::nullopt, kNowSeconds);
    if (message.isEmpty()) {
        QVERIFY2(put.ok(), qPrintable(put.ok() ? QString() : put.error().message));
        QVERIFY(direct.ok());
        const Result<KvListResult> listed = world.list();
        QVERIFY(listed.ok());
        QCOMPARE(listed->keys.size(), size_t(1));
        QCOMPARE(listed->keys[0].expiration, std::optional<qint64>(qint64(expiration)));
        return;
    }
    QVERIFY(!put.ok());
    QCOMPARE(put.error().message, message);
    QCOMPARE(put.error().kind, Error::Kind::Error);
    QVERIFY(!direct.ok());
    QCOMPARE(direct.error().message, message);
    QCOMPARE(world.kv().keyCount(), 0);
}

void TestKvValidation::expirationTtlListsAbsoluteTime()
{
    KvWorld world;
    KvPutOptions options;
    options.expirationTtl = 60;
    QVERIFY(world.put(QStringLiteral("k"), QByteArrayLiteral("v"), options).ok());

    const Result<KvListResult> listed = world.list();
    QVERIFY(listed.ok());
    QCOMPARE(listed->keys.size(), size_t(1));
    QCOMPARE(listed->keys[0].name, QStringLiteral("k"));
    QCOMPARE(listed->keys[0].expiration, std::optional<qint64>(kNowSeconds + 60));
    QCOMPARE(listed->keys[0].metadata, std::nullopt);
    QCOMPARE(world.kv().centralEntry(QStringLiteral("k"))->expiration,
             std::optional<qint64>(kNowSeconds + 60));
}

void TestKvValidation::expirationTtlWinsOverExpiration()
{
    KvWorld world;
    KvPutOptions options;
    options.expiration = double(kNowSeconds + 100000);
    options.expirationTtl = 3600;
    QVERIFY(world.put(QStringLiteral("both"), QByteArrayLiteral("v"), options).ok());
    QVERIFY(kv::validateExpiration(options.expiration, options.expirationTtl, kNowSeconds).ok());

    KvListOptions listOptions;
    listOptions.prefix = QStringLiteral("both");
    const Result<KvListResult> listed = world.list(listOptions);
    QVERIFY(listed.ok());
    QCOMPARE(listed->keys.size(), size_t(1));
    QCOMPARE(listed->keys[0].expiration, std::optional<qint64>(kNowSeconds + 3600));
}

void TestKvValidation::keyCheckedBeforeOptions()
{
    // workerd checks the key on the client, before the server checks the other options.
    KvWorld world;
    KvPutOptions options;
    options.expirationTtl = 0;
    options.metadata = QByteArray(2000, 'x');
    const Status put = world.put(QString(), QByteArray(), options);
    QVERIFY(!put.ok());
    QCOMPARE(put.error().kind, Error::Kind::TypeError);
    QCOMPARE(put.error().message, QStringLiteral("Key name cannot be empty."));

    const Result<KvReadResult> read = world.get(QStringLiteral(".."), { 1.0 });
    QVERIFY(!read.ok());
    QCOMPARE(read.error().kind, Error::Kind::TypeError);
    QCOMPARE(read.error().message, QStringLiteral("\"..\" is not allowed as a key name."));
}

void TestKvValidation::metadataSize_data()
{
    QTest::addColumn<QByteArray>("metadata");
    QTest::addColumn<QString>("message"); // empty when the write succeeds

    const QByteArray x1017 = QByteArray(1017, 'x');
    QTest::newRow("1025 bytes") << QByteArray("{\"m\":\"" + x1017 + "\"}")
                                << QStringLiteral("KV PUT failed: 413 Metadata length of 1025 "
                                                  "exceeds limit of 1024.");
    QTest::newRow("1024 bytes") << QByteArray("{\"m\":\"" + QByteArray(1016, 'x') + "\"}")
                                << QString();
    // 509 two-byte characters: 1018 bytes in 509 characters, so the limit counts bytes.
    QTest::newRow("1026 bytes in 517 characters")
        << QByteArray("{\"m\":\"" + kEAcute.repeated(509).toUtf8() + "\"}")
        << QStringLiteral("KV PUT failed: 413 Metadata length of 1026 exceeds limit of 1024.");
    QTest::newRow("empty object") << QByteArrayLiteral("{}") << QString();
}

void TestKvValidation::metadataSize()
{
    QFETCH(QByteArray, metadata);
    QFETCH(QString, message);

    KvWorld world;
    KvPutOptions options;
    options.metadata = metadata;
    const Status put = world.put(QStringLiteral("k"), QByteArrayLiteral("v"), options);
    const Status direct = kv::validateMetadata(metadata);
    if (message.isEmpty()) {
        QVERIFY2(put.ok(), qPrintable(put.ok() ? QString() : put.error().message));
        QVERIFY(direct.ok());
        const Result<KvReadResult> read = world.get(QStringLiteral("k"));
        QVERIFY(read.ok());
        QCOMPARE(read->metadata, std::optional<QByteArray>(metadata));
        return;
    }
    QVERIFY(!put.ok());
    QCOMPARE(put.error().message, message);
    QCOMPARE(put.error().kind, Error::Kind::Error);
    QVERIFY(!direct.ok());
    QCOMPARE(direct.error().message, message);
    QCOMPARE(world.kv().keyCount(), 0);
}

void TestKvValidation::valueSize_data()
{
    QTest::addColumn<qint64>("limit"); // 0 uses the default of 25 MiB
    QTest::addColumn<qint64>("size");
    QTest::addColumn<QString>("message"); // empty when the write succeeds

    QTest::newRow("1025 over a 1024 limit")
        << qint64(1024) << qint64(1025)
        << QStringLiteral("KV PUT failed: 413 Value length of 1025 exceeds limit of 1024.");
    QTest::newRow("1024 at a 1024 limit") << qint64(1024) << qint64(1024) << QString();
    QTest::newRow("empty value") << qint64(1024) << qint64(0) << QString();
    QTest::newRow("one byte over 25 MiB")
        << qint64(0) << qint64(26214401)
        << QStringLiteral("KV PUT failed: 413 Value length of 26214401 exceeds limit of 26214400.");
    QTest::newRow("exactly 25 MiB") << qint64(0) << qint64(26214400) << QString();
}

void TestKvValidation::valueSize()
{
    QFETCH(qint64, limit);
    QFETCH(qint64, size);
    QFETCH(QString, message);

    KvSettings settings;
    if (limit > 0)
        settings.maxValueBytes = limit;
    QCOMPARE(KvSettings().maxValueBytes, qsizetype(26214400));

    KvWorld world(settings);
    const QByteArray value(size, 'v');
    const Status put = world.put(QStringLiteral("k"), value);
    const Status direct = kv::validateValueSize(size, settings.maxValueBytes);
    if (message.isEmpty()) {
        QVERIFY2(put.ok(), qPrintable(put.ok() ? QString() : put.error().message));
        QVERIFY(direct.ok());
        const Result<KvReadResult> read = world.get(QStringLiteral("k"));
        QVERIFY(read.ok());
        QVERIFY(read->value.has_value());
        QCOMPARE(read->value->size(), size);
        QVERIFY(*read->value == value);
        return;
    }
    QVERIFY(!put.ok());
    QCOMPARE(put.error().message, message);
    QCOMPARE(put.error().kind, Error::Kind::Error);
    QVERIFY(!direct.ok());
    QCOMPARE(direct.error().message, message);
    QCOMPARE(world.kv().keyCount(), 0);
}

void TestKvValidation::listOptions_data()
{
    QTest::addColumn<QString>("prefix");
    QTest::addColumn<std::optional<double>>("limit");
    QTest::addColumn<QString>("message"); // empty when the list succeeds
    QTest::addColumn<int>("keyCount");
    QTest::addColumn<bool>("listComplete");
    QTest::addColumn<QString>("firstKey");

    const std::optional<double> none;
    const QString noPrefix;
    QTest::newRow("limit 1001")
        << noPrefix << std::optional<double>(1001)
        << QStringLiteral("KV GET failed: 400 Invalid key_count_limit of 1001. Please specify an "
                          "integer less than 1000.")
        << 0 << false << QString();
    QTest::newRow("limit 1000") << noPrefix << std::optional<double>(1000) << QString() << 1000
                                << false << QStringLiteral("key0000");
    QTest::newRow("limit 0 uses the default")
        << noPrefix << std::optional<double>(0) << QString() << 1000 << false
        << QStringLiteral("key0000");
    QTest::newRow("limit -1 uses the default")
        << noPrefix << std::optional<double>(-1) << QString() << 1000 << false
        << QStringLiteral("key0000");
    QTest::newRow("no limit") << noPrefix << none << QString() << 1000 << false
        << QStringLiteral("key0000");
    QTest::newRow("limit 2") << noPrefix << std::optional<double>(2) << QString() << 2 << false
                             << QStringLiteral("key0000");
    QTest::newRow("prefix of 513 bytes")
        << repeated(QStringLiteral("p"), 513) << none << keyTooLong("GET", 513) << 0 << false
        << QString();
    QTest::newRow("prefix of 514 bytes in e-acute")
        << repeated(kEAcute, 257) << none << keyTooLong("GET", 514) << 0 << false << QString();
    QTest::newRow("prefix of 512 bytes")
        << repeated(QStringLiteral("p"), 512) << none << QString() << 0 << true << QString();
    QTest::newRow("prefix key1 with limit 0")
        << QStringLiteral("key1") << std::optional<double>(0) << QString() << 1 << true
        << QStringLiteral("key1000");
}

void TestKvValidation::listOptions()
{
    QFETCH(QString, prefix);
    QFETCH(std::optional<double>, limit);
    QFETCH(QString, message);
    QFETCH(int, keyCount);
    QFETCH(bool, listComplete);
    QFETCH(QString, firstKey);

    KvWorld world;
    world.fill(1001);
    QCOMPARE(world.kv().keyCount(), 1001);

    KvListOptions options;
    options.prefix = prefix;
    options.limit = limit;
    const Result<KvListResult> listed = world.list(options);
    const Status direct = kv::validateList(prefix, limit);
    if (!message.isEmpty()) {
        QVERIFY(!listed.ok());
        QCOMPARE(listed.error().message, message);
        QCOMPARE(listed.error().kind, Error::Kind::Error);
        QVERIFY(!direct.ok());
        QCOMPARE(direct.error().message, message);
        return;
    }
    QVERIFY2(listed.ok(), qPrintable(listed.ok() ? QString() : listed.error().message));
    QVERIFY(direct.ok());
    QCOMPARE(int(listed->keys.size()), keyCount);
    QCOMPARE(listed->listComplete, listComplete);
    QCOMPARE(listed->cursor.isEmpty(), listComplete);
    if (keyCount > 0)
        QCOMPARE(listed->keys.front().name, firstKey);
}

void TestKvValidation::writeReturnValues()
{
    KvWorld world;
    const Status put = world.put(QStringLiteral("k"), QByteArrayLiteral("v"));
    QVERIFY(put.ok());
    QCOMPARE(put.value(), Done {});
    QCOMPARE(world.kv().keyCount(), 1);

    world.simulation().runUntil(world.simulation().now() + seconds(1));
    const Status removed = world.remove(QStringLiteral("k"));
    QVERIFY(removed.ok());
    QCOMPARE(removed.value(), Done {});
    QCOMPARE(world.kv().keyCount(), 0);

    // Deleting a key that does not exist is not an error.
    const Status removedMissing = world.remove(QStringLiteral("never-written"));
    QVERIFY(removedMissing.ok());
    QCOMPARE(world.kv().keyCount(), 0);

    const Result<KvReadResult> read = world.get(QStringLiteral("k"));
    QVERIFY(read.ok());
    QCOMPARE(read->value, std::nullopt);
}

void TestKvValidation::operationNames()
{
    QCOMPARE(kv::operationName(kv::Operation::Get), QStringLiteral("GET"));
    QCOMPARE(kv::operationName(kv::Operation::GetBulk), QStringLiteral("GET_BULK"));
    QCOMPARE(kv::operationName(kv::Operation::Put), QStringLiteral("PUT"));
    QCOMPARE(kv::operationName(kv::Operation::Delete), QStringLiteral("DELETE"));

    const Error failure =
        kv::failure(kv::Operation::Put, 429, QStringLiteral("Too Many Requests"));
    QCOMPARE(failure.kind, Error::Kind::Error);
    QCOMPARE(failure.message, QStringLiteral("KV PUT failed: 429 Too Many Requests"));
    QCOMPARE(failure.toString(), QStringLiteral("Error: KV PUT failed: 429 Too Many Requests"));
    QCOMPARE(Error::typeError(QStringLiteral("Key name cannot be empty.")).toString(),
             QStringLiteral("TypeError: Key name cannot be empty."));
}

void TestKvValidation::jsNumber_data()
{
    QTest::addColumn<double>("value");
    QTest::addColumn<QString>("text");

    QTest::newRow("zero") << 0.0 << QStringLiteral("0");
    QTest::newRow("negative zero") << -0.0 << QStringLiteral("0");
    QTest::newRow("-5") << -5.0 << QStringLiteral("-5");
    QTest::newRow("1001") << 1001.0 << QStringLiteral("1001");
    QTest::newRow("max safe integer") << 9007199254740991.0 << QStringLiteral("9007199254740991");
    QTest::newRow("29.5") << 29.5 << QStringLiteral("29.5");
    QTest::newRow("0.1") << 0.1 << QStringLiteral("0.1");
    QTest::newRow("59.9") << 59.9 << QStringLiteral("59.9");
    QTest::newRow("-0.3") << -0.3 << QStringLiteral("-0.3");
    QTest::newRow("0.000001") << 0.000001 << QStringLiteral("0.000001");
    QTest::newRow("1.5e-7") << 1.5e-7 << QStringLiteral("1.5e-7");
    QTest::newRow("1e20") << 1e20 << QStringLiteral("100000000000000000000");
    QTest::newRow("1e21") << 1e21 << QStringLiteral("1e+21");
    QTest::newRow("-2.5e-8") << -2.5e-8 << QStringLiteral("-2.5e-8");
    QTest::newRow("NaN") << kNaN << QStringLiteral("NaN");
    QTest::newRow("Infinity") << kInfinity << QStringLiteral("Infinity");
    QTest::newRow("-Infinity") << -kInfinity << QStringLiteral("-Infinity");
}

void TestKvValidation::jsNumber()
{
    QFETCH(double, value);
    QFETCH(QString, text);

    QCOMPARE(kv::jsNumber(value), text);
}

QTEST_GUILESS_MAIN(TestKvValidation)
#include "tst_kvvalidation.moc"
