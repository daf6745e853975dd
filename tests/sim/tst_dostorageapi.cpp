// The storage API as a Durable Object's code calls it through ctx.storage. The tests cover the
// asynchronous wrappers with their errors and timing: read latency, write latency, sync() and
// the commit. They also cover transactions and txn.rollback(), transactionSync, SQL and the
// synchronous storage.kv API on both backends, reads with allowConcurrency, and the size limits
// of the production profile. Each test runs scripts inside a real object through RPC calls.

#include "dofixture.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QTest>

#include <functional>
#include <map>
#include <optional>

using namespace roomscope;
using namespace roomscope::testing;

namespace {

struct Harness;

/// Code that runs inside the object when a stub calls the method of its name. The arguments
/// are the call's arguments.
using Script = std::function<Task<Result<QJsonValue>>(
    DurableObjectState &ctx, Harness &harness, QJsonArray arguments)>;

/// The scripts of one test, and a log that they append to.
struct Harness
{
    std::map<QString, Script> scripts;
    QStringList log;
};

/// A class whose RPC methods are the harness's scripts.
class ScriptedObject : public DurableObjectBehaviour
{
public:
    ScriptedObject(DurableObjectState &ctx, Harness &harness)
        : m_ctx(ctx)
        , m_harness(harness)
    {
    }

    Task<Result<HttpResponse>> fetch(HttpRequest) override
    {
        co_return HttpResponse::text(404, "no route");
    }

    Task<Result<QJsonValue>> call(QString method, QJsonArray arguments) override
    {
        const auto script = m_harness.scripts.find(method);
        if (script == m_harness.scripts.end())
            co_return co_await DurableObjectBehaviour::call(method, arguments);
        co_return co_await script->second(m_ctx, m_harness, arguments);
    }

private:
    DurableObjectState &m_ctx;
    Harness &m_harness;
};

const QString kRoom = QStringLiteral("room-1");

/// One object of a scripted class, reached through the fixture's namespace.
struct ScriptedWorld
{
    explicit ScriptedWorld(
        StorageBackend backend = StorageBackend::Sqlite, DurableObjectSettings settings = {})
        : fixture(
            [this](
                DurableObjectState &ctx) { return std::make_unique<ScriptedObject>(ctx, harness); },
            backend, std::move(settings))
    {
    }

    void define(const QString &method, Script script)
    {
        harness.scripts[method] = std::move(script);
    }
    Result<QJsonValue> call(const QString &method, const QJsonArray &arguments = {})
    {
        return runTask(fixture.simulation, fixture.stub(kRoom).call(method, arguments));
    }
    /// Calls a method that must succeed and returns its value.
    QJsonValue valueOf(const QString &method, const QJsonArray &arguments = {})
    {
        const Result<QJsonValue> result = call(method, arguments);
        if (!result)
            qFatal("%s failed: %s", qPrintable(method), qPrintable(result.error().toString()));
        return *result;
    }
    DurableObject &object() { return fixture.object(kRoom); }

    Harness harness;
    DurableObjectFixture fixture;
};

/// A stored value as JSON text, or null for `undefined`.
QJsonValue jsonOf(const std::optional<QByteArray> &value)
{
    return value ? QJsonValue(QString::fromUtf8(*value)) : QJsonValue();
}

/// Entries as an array of [key, value] pairs, in their order.
QJsonValue jsonOf(const StorageEntries &entries)
{
    QJsonArray pairs;
    for (const auto &[key, value] : entries)
        pairs.append(QJsonArray { key, QString::fromUtf8(value) });
    return pairs;
}

template<typename T> Status statusOf(const Result<T> &result)
{
    if (!result)
        return result.error();
    return Done {};
}

/// The stored value of a key, read from the storage core, bypassing the API's timing.
std::optional<QByteArray> storedValue(DurableObject &object, const QString &key)
{
    const Result<std::optional<QByteArray>> value = object.storage().get(key);
    if (!value)
        qFatal("get %s failed: %s", qPrintable(key), qPrintable(value.error().message));
    return *value;
}

const QString kSqlNotEnabled = QStringLiteral(
    "SQL is not enabled for this Durable Object class. To enable it, change `new_classes` to "
    "`new_sqlite_classes` within the 'migrations' field in your wrangler.jsonc or "
    "wrangler.toml file. If using workerd directly,set `enableSql = true` in your workerd "
    "config for the class. Note that this change cannot be made after the class is already "
    "deployed to production.");
const QString kSyncKvNotAvailable = QStringLiteral(
    "The storage.kv (synchronous KV) API is only available for SQLite-backed Durable "
    "Objects, but this object's namespace is not declared to use SQLite. You can use the "
    "older, asyncronous interface via methods of `storage` itself (e.g. `storage.get()`). "
    "Alternatively, to enable SQLite, change `new_classes` to `new_sqlite_classes` within "
    "the 'migrations' field in your wrangler.jsonc or wrangler.toml file. If using workerd "
    "directly, set `enableSql = true` in your workerd config for the class. Note that this "
    "change cannot be made after the class is already deployed to production.");
const QString kSyncKvSpecPrefix = QStringLiteral(
    "The storage.kv (synchronous KV) API is only available for SQLite-backed Durable Objects");
const QString kSqlSpecPrefix = QStringLiteral(
    "SQL is not enabled for this Durable Object class. To enable it, change `new_classes` to "
    "`new_sqlite_classes`");

// Scripts whose result is the error of one storage call.

Task<Result<QJsonValue>> putUndefined(DurableObjectState &ctx, Harness &, QJsonArray)
{
    if (const Status put = co_await ctx.storage().put(QStringLiteral("k"), std::nullopt); !put)
        co_return put.error();
    co_return QJsonValue(QStringLiteral("no error"));
}

Task<Result<QJsonValue>> listWithLimit(DurableObjectState &ctx, Harness &, QJsonArray arguments)
{
    StorageListOptions options;
    options.limit = arguments.at(0).toInteger();
    const Result<StorageEntries> listed = co_await ctx.storage().list(options);
    if (!listed)
        co_return listed.error();
    co_return jsonOf(*listed);
}

Task<Result<QJsonValue>> deleteAllInTransaction(DurableObjectState &ctx, Harness &, QJsonArray)
{
    co_return co_await ctx.storage().transaction(
        [](StorageTransaction &txn) -> Task<Result<QJsonValue>> {
            if (const Status deleted = co_await txn.deleteAll(); !deleted)
                co_return deleted.error();
            co_return QJsonValue(QStringLiteral("deleted"));
        });
}

Task<Result<QJsonValue>> transactionSyncPut(DurableObjectState &ctx, Harness &, QJsonArray)
{
    StorageApi &storage = ctx.storage();
    co_return storage.transactionSync([&storage]() -> Result<QJsonValue> {
        if (const Status put = storage.kvPut(QStringLiteral("k"), QByteArray("v")); !put)
            return put.error();
        return QJsonValue(QStringLiteral("committed"));
    });
}

Task<Result<QJsonValue>> sqlQuery(DurableObjectState &ctx, Harness &, QJsonArray arguments)
{
    const Result<SqlCursor> cursor = ctx.storage().exec(arguments.at(0).toString());
    if (!cursor)
        co_return cursor.error();
    co_return QJsonValue(qint64(cursor->rows.size()));
}

Task<Result<QJsonValue>> kvCall(DurableObjectState &ctx, Harness &, QJsonArray arguments)
{
    StorageApi &storage = ctx.storage();
    const QString call = arguments.at(0).toString();
    Status status = Done {};
    if (call == QLatin1String("get"))
        status = statusOf(storage.kvGet(QStringLiteral("k")));
    else if (call == QLatin1String("put"))
        status = storage.kvPut(QStringLiteral("k"), QByteArray("v"));
    else if (call == QLatin1String("delete"))
        status = statusOf(storage.kvDelete(QStringLiteral("k")));
    else if (call == QLatin1String("list"))
        status = statusOf(storage.kvList());
    if (!status)
        co_return status.error();
    co_return QJsonValue(QStringLiteral("no error"));
}

/// Runs one storage operation named by the first argument and returns the virtual time it took
/// in microseconds.
Task<Result<QJsonValue>> timeOperation(DurableObjectState &ctx, Harness &, QJsonArray arguments)
{
    StorageApi &storage = ctx.storage();
    const QString op = arguments.at(0).toString();
    const QString key = QStringLiteral("k");
    // Initializer lists stay out of co_await expressions: GCC 12 cannot keep their arrays
    // alive across the suspension ("array used as initializer").
    const QStringList keys { key, QStringLiteral("j") };
    const StorageEntries entries { { key, QByteArray("v") },
        { QStringLiteral("j"), QByteArray("w") } };
    const SimTime start = ctx.simulation().now();
    Status status = Done {};
    if (op == QLatin1String("get"))
        status = statusOf(co_await storage.get(key));
    else if (op == QLatin1String("get with allowConcurrency"))
        status = statusOf(co_await storage.get(key, StorageOptions { true, false }));
    else if (op == QLatin1String("get keys"))
        status = statusOf(co_await storage.get(keys));
    else if (op == QLatin1String("list"))
        status = statusOf(co_await storage.list());
    else if (op == QLatin1String("getAlarm"))
        status = statusOf(co_await storage.getAlarm());
    else if (op == QLatin1String("put"))
        status = co_await storage.put(key, QByteArray("v"));
    else if (op == QLatin1String("put entries"))
        status = co_await storage.put(entries);
    else if (op == QLatin1String("delete"))
        status = statusOf(co_await storage.remove(key));
    else if (op == QLatin1String("delete keys"))
        status = statusOf(co_await storage.remove(keys));
    else if (op == QLatin1String("deleteAll"))
        status = co_await storage.deleteAll();
    else if (op == QLatin1String("sql.exec"))
        status = statusOf(storage.exec(QStringLiteral("CREATE TABLE t (a)")));
    else if (op == QLatin1String("kv.put"))
        status = storage.kvPut(key, QByteArray("v"));
    else if (op == QLatin1String("kv.get"))
        status = statusOf(storage.kvGet(key));
    else
        status = Error::error(QStringLiteral("unknown operation ") + op);
    if (!status)
        co_return status.error();
    co_return QJsonValue(qint64(ctx.simulation().now() - start));
}

/// A transaction callback: writes "r", calls txn.rollback(), then makes the call named `op` on
/// the transaction and logs its error.
Task<Result<QJsonValue>> putRollBackAndCall(StorageTransaction &txn, QString op, Harness &harness)
{
    if (const Status put = co_await txn.put(QStringLiteral("r"), QByteArray("1")); !put)
        co_return put.error();
    txn.rollback();
    Status status = Done {};
    if (op == QLatin1String("get"))
        status = statusOf(co_await txn.get(QStringLiteral("r")));
    else if (op == QLatin1String("put"))
        status = co_await txn.put(QStringLiteral("r"), QByteArray("2"));
    else if (op == QLatin1String("delete"))
        status = statusOf(co_await txn.remove(QStringLiteral("r")));
    else if (op == QLatin1String("list"))
        status = statusOf(co_await txn.list());
    else if (op == QLatin1String("deleteAll"))
        status = co_await txn.deleteAll();
    harness.log << (status ? QStringLiteral("no error") : status.error().toString());
    co_return QJsonValue(QStringLiteral("callback value"));
}

} // namespace

Q_DECLARE_METATYPE(Script)
Q_DECLARE_METATYPE(StorageBackend)
Q_DECLARE_METATYPE(Error::Kind)

class DoStorageApiTest : public QObject
{
    Q_OBJECT

private slots:
    // The KV-style methods and transactions through ctx.
    void callErrors_data();
    void callErrors();
    void bulkGetSortedWithoutMissing();
    void deleteCounts();
    void unawaitedPutVisibleToGet();
    void transactionThrowRollsBack();
    void transactionReturnsValue();
    void transactionRollback_data();
    void transactionRollback();

    // The synchronous APIs of SQLite-backed classes.
    void transactionSyncCommitsAndRollsBack();
    void sqlExecThroughCtx();
    void syncKvApi();

    // Timing.
    void operationLatency_data();
    void operationLatency();
    void syncWaitsForCommit_data();
    void syncWaitsForCommit();
    void allowConcurrencyInterleaves_data();
    void allowConcurrencyInterleaves();

    // Size limits of the production profile.
    void storageLimits_data();
    void storageLimits();
};

void DoStorageApiTest::callErrors_data()
{
    QTest::addColumn<StorageBackend>("backend");
    QTest::addColumn<Script>("script");
    QTest::addColumn<QJsonArray>("arguments");
    QTest::addColumn<Error::Kind>("kind");
    QTest::addColumn<QString>("message");
    QTest::addColumn<QString>("specText"); // the text the conformance case gives, a prefix

    const QString undefinedValue = QStringLiteral("put() called with undefined value.");
    const QString limitNotPositive = QStringLiteral("List limit must be positive.");
    const QString deleteAllInTxn = QStringLiteral("Cannot call deleteAll() within a transaction");
    const QString notSql = QStringLiteral("Durable Object is not backed by SQL.");
    const QString syntaxError
        = QStringLiteral("near \"SELEC\": syntax error at offset 0: SQLITE_ERROR");

    QTest::newRow("put undefined, SQLite")
        << StorageBackend::Sqlite << Script(putUndefined) << QJsonArray() << Error::Kind::TypeError
        << undefinedValue << undefinedValue;
    QTest::newRow("put undefined, KeyValue")
        << StorageBackend::KeyValue << Script(putUndefined) << QJsonArray()
        << Error::Kind::TypeError << undefinedValue << undefinedValue;
    QTest::newRow("list limit 0") << StorageBackend::Sqlite << Script(listWithLimit)
                                  << QJsonArray { 0 } << Error::Kind::TypeError << limitNotPositive
                                  << limitNotPositive;
    QTest::newRow("list limit -1")
        << StorageBackend::KeyValue << Script(listWithLimit) << QJsonArray { -1 }
        << Error::Kind::TypeError << limitNotPositive << limitNotPositive;
    QTest::newRow("deleteAll in transaction")
        << StorageBackend::Sqlite << Script(deleteAllInTransaction) << QJsonArray()
        << Error::Kind::Error << deleteAllInTxn << deleteAllInTxn;
    QTest::newRow("transactionSync on KeyValue")
        << StorageBackend::KeyValue << Script(transactionSyncPut) << QJsonArray()
        << Error::Kind::Error << notSql << notSql;
    QTest::newRow("sql syntax error")
        << StorageBackend::Sqlite << Script(sqlQuery) << QJsonArray { QStringLiteral("SELEC nope") }
        << Error::Kind::Error << syntaxError << syntaxError;
    QTest::newRow("sql.exec on KeyValue")
        << StorageBackend::KeyValue << Script(sqlQuery) << QJsonArray { QStringLiteral("SELECT 1") }
        << Error::Kind::Error << kSqlNotEnabled << kSqlSpecPrefix;
    for (const QString &call : { QStringLiteral("get"), QStringLiteral("put"),
             QStringLiteral("delete"), QStringLiteral("list") }) {
        QTest::addRow("storage.kv.%s on KeyValue", qPrintable(call))
            << StorageBackend::KeyValue << Script(kvCall) << QJsonArray { call }
            << Error::Kind::Error << kSyncKvNotAvailable << kSyncKvSpecPrefix;
    }
}

void DoStorageApiTest::callErrors()
{
    QFETCH(StorageBackend, backend);
    QFETCH(Script, script);
    QFETCH(QJsonArray, arguments);
    QFETCH(Error::Kind, kind);
    QFETCH(QString, message);
    QFETCH(QString, specText);
    ScriptedWorld world(backend);
    world.define(QStringLiteral("run"), script);

    const Result<QJsonValue> result = world.call(QStringLiteral("run"), arguments);

    QVERIFY2(!result.ok(), qPrintable(result ? result->toVariant().toString() : QString()));
    QCOMPARE(result.error().kind, kind);
    QCOMPARE(result.error().message, message);
    QVERIFY(result.error().message.startsWith(specText));
    // A thrown error reaches the caller as remote and does not reset the object.
    QVERIFY(result.error().remote);
    QVERIFY(!result.error().durableObjectReset);
    QCOMPARE(world.object().constructorRuns(), quint64(1));
    QCOMPARE(storedValue(world.object(), QStringLiteral("k")), std::nullopt);
}

void DoStorageApiTest::bulkGetSortedWithoutMissing()
{
    ScriptedWorld world;
    world.define(QStringLiteral("run"),
        [](DurableObjectState &ctx, Harness &, QJsonArray) -> Task<Result<QJsonValue>> {
            StorageApi &storage = ctx.storage();
            const StorageEntries seed { { QStringLiteral("c"), QByteArray("3") },
                { QStringLiteral("a"), QByteArray("1") } };
            if (const Status put = co_await storage.put(seed); !put)
                co_return put.error();
            const QStringList keys { QStringLiteral("a"), QStringLiteral("zz"),
                QStringLiteral("c") };
            const Result<StorageEntries> entries = co_await storage.get(keys);
            if (!entries)
                co_return entries.error();
            co_return jsonOf(*entries);
        });

    const QJsonValue entries = world.valueOf(QStringLiteral("run"));

    QCOMPARE(entries, QJsonValue(QJsonArray { QJsonArray { "a", "1" }, QJsonArray { "c", "3" } }));
}

void DoStorageApiTest::deleteCounts()
{
    ScriptedWorld world;
    world.define(QStringLiteral("run"),
        [](DurableObjectState &ctx, Harness &, QJsonArray) -> Task<Result<QJsonValue>> {
            StorageApi &storage = ctx.storage();
            const StorageEntries seed { { QStringLiteral("a"), QByteArray("1") },
                { QStringLiteral("b"), QByteArray("2") } };
            if (const Status put = co_await storage.put(seed); !put)
                co_return put.error();
            const QStringList keys { QStringLiteral("a"), QStringLiteral("zz") };
            const Result<qint64> many = co_await storage.remove(keys);
            const Result<bool> existing = co_await storage.remove(QStringLiteral("b"));
            const Result<bool> missing = co_await storage.remove(QStringLiteral("nope"));
            if (!many || !existing || !missing)
                co_return Error::error(QStringLiteral("a delete failed"));
            co_return QJsonArray { *many, *existing, *missing };
        });

    const QJsonArray counts = world.valueOf(QStringLiteral("run")).toArray();

    QCOMPARE(counts.at(0), QJsonValue(1));
    QCOMPARE(counts.at(1), QJsonValue(true));
    QCOMPARE(counts.at(2), QJsonValue(false));
    QCOMPARE(world.object().storage().list({}).value().size(), size_t(0));
}

void DoStorageApiTest::unawaitedPutVisibleToGet()
{
    DurableObjectSettings settings;
    settings.storageCommitLatency = milliseconds(30);
    ScriptedWorld world(StorageBackend::Sqlite, settings);
    world.define(QStringLiteral("run"),
        [](DurableObjectState &ctx, Harness &, QJsonArray) -> Task<Result<QJsonValue>> {
            // put() is not awaited, and the read after it returns the write before it is committed.
            ctx.storage().put(QStringLiteral("na"), QByteArray("v1"));
            const Result<std::optional<QByteArray>> value
                = co_await ctx.storage().get(QStringLiteral("na"));
            if (!value)
                co_return value.error();
            co_return QJsonArray { jsonOf(*value), ctx.simulation().now() };
        });
    const SimTime start = world.fixture.simulation.now();

    const QJsonArray result = world.valueOf(QStringLiteral("run")).toArray();

    QCOMPARE(result.at(0), QJsonValue(QStringLiteral("v1")));
    const SimTime readDone = start + DurableObjectFixture::kLocalLatency
        + world.fixture.ns->settings().storageReadLatency;
    QCOMPARE(result.at(1).toInteger(), readDone);
    // The result left once the write was durable: the output gate.
    QCOMPARE(world.fixture.simulation.now(),
        start + DurableObjectFixture::kLocalLatency + milliseconds(30)
            + DurableObjectFixture::kLocalLatency);
    QCOMPARE(storedValue(world.object(), QStringLiteral("na")), QByteArray("v1"));
}

void DoStorageApiTest::transactionThrowRollsBack()
{
    ScriptedWorld world;
    world.define(QStringLiteral("seed"),
        [](DurableObjectState &ctx, Harness &, QJsonArray) -> Task<Result<QJsonValue>> {
            if (const Status put
                = co_await ctx.storage().put(QStringLiteral("t"), QByteArray("before"));
                !put)
                co_return put.error();
            co_return QJsonValue(QStringLiteral("seeded"));
        });
    world.define(QStringLiteral("run"),
        [](DurableObjectState &ctx, Harness &, QJsonArray) -> Task<Result<QJsonValue>> {
            const Result<QJsonValue> txnResult = co_await ctx.storage().transaction(
                [](StorageTransaction &txn) -> Task<Result<QJsonValue>> {
                    if (const Status put
                        = co_await txn.put(QStringLiteral("t"), QByteArray("inside"));
                        !put)
                        co_return put.error();
                    co_return Error::rangeError(QStringLiteral("txn failure"));
                });
            const Result<std::optional<QByteArray>> after
                = co_await ctx.storage().get(QStringLiteral("t"));
            if (!after)
                co_return after.error();
            const QString outcome
                = txnResult ? QStringLiteral("resolved") : txnResult.error().toString();
            co_return QJsonArray { outcome, jsonOf(*after) };
        });
    world.valueOf(QStringLiteral("seed"));

    const QJsonArray result = world.valueOf(QStringLiteral("run")).toArray();

    QCOMPARE(result.at(0), QJsonValue(QStringLiteral("RangeError: txn failure")));
    QCOMPARE(result.at(1), QJsonValue(QStringLiteral("before")));
    QCOMPARE(storedValue(world.object(), QStringLiteral("t")), QByteArray("before"));
}

void DoStorageApiTest::transactionReturnsValue()
{
    ScriptedWorld world;
    world.define(QStringLiteral("run"),
        [](DurableObjectState &ctx, Harness &, QJsonArray) -> Task<Result<QJsonValue>> {
            const Result<QJsonValue> txnResult = co_await ctx.storage().transaction(
                [](StorageTransaction &txn) -> Task<Result<QJsonValue>> {
                    if (const Status put = co_await txn.put(QStringLiteral("x"), QByteArray("1"));
                        !put)
                        co_return put.error();
                    co_return QJsonValue(QStringLiteral("txn-value"));
                });
            if (!txnResult)
                co_return txnResult.error();
            const Result<std::optional<QByteArray>> after
                = co_await ctx.storage().get(QStringLiteral("x"));
            if (!after)
                co_return after.error();
            co_return QJsonArray { *txnResult, jsonOf(*after) };
        });

    const QJsonArray result = world.valueOf(QStringLiteral("run")).toArray();

    QCOMPARE(result.at(0), QJsonValue(QStringLiteral("txn-value")));
    QCOMPARE(result.at(1), QJsonValue(QStringLiteral("1")));
    QCOMPARE(storedValue(world.object(), QStringLiteral("x")), QByteArray("1"));
    QCOMPARE(world.object().lastBatch(), world.object().confirmedBatch());
}

void DoStorageApiTest::transactionRollback_data()
{
    QTest::addColumn<QString>("operation");
    QTest::addColumn<QString>("message");

    QTest::newRow("get") << QStringLiteral("get")
                         << QStringLiteral("Cannot get() on rolled back transaction");
    QTest::newRow("put") << QStringLiteral("put")
                         << QStringLiteral("Cannot put() on rolled back transaction");
    QTest::newRow("delete") << QStringLiteral("delete")
                            << QStringLiteral("Cannot delete() on rolled back transaction");
    QTest::newRow("list") << QStringLiteral("list")
                          << QStringLiteral("Cannot list() on rolled back transaction");
    // workerd rejects deleteAll() on every transaction with one text.
    QTest::newRow("deleteAll") << QStringLiteral("deleteAll")
                               << QStringLiteral("Cannot call deleteAll() within a transaction");
}

void DoStorageApiTest::transactionRollback()
{
    QFETCH(QString, operation);
    QFETCH(QString, message);
    ScriptedWorld world;
    world.define(QStringLiteral("run"),
        [](DurableObjectState &ctx, Harness &harness,
            QJsonArray arguments) -> Task<Result<QJsonValue>> {
            const QString op = arguments.at(0).toString();
            // A named callback: GCC 12 destroys a capturing lambda twice when it is a temporary
            // inside a co_await expression, which corrupts the captured QString.
            const std::function<Task<Result<QJsonValue>>(StorageTransaction &)> callback
                = [op, &harness](
                      StorageTransaction &txn) { return putRollBackAndCall(txn, op, harness); };
            const Result<QJsonValue> txnResult = co_await ctx.storage().transaction(callback);
            if (!txnResult)
                co_return txnResult.error();
            const Result<std::optional<QByteArray>> after
                = co_await ctx.storage().get(QStringLiteral("r"));
            if (!after)
                co_return after.error();
            co_return QJsonArray { *txnResult, jsonOf(*after) };
        });

    const QJsonArray result
        = world.valueOf(QStringLiteral("run"), QJsonArray { operation }).toArray();

    QCOMPARE(world.harness.log, QStringList { QStringLiteral("Error: ") + message });
    // The transaction resolves with the callback's value, and its write is gone.
    QCOMPARE(result.at(0), QJsonValue(QStringLiteral("callback value")));
    QCOMPARE(result.at(1), QJsonValue());
    QCOMPARE(storedValue(world.object(), QStringLiteral("r")), std::nullopt);
    QCOMPARE(DurableObjectStorage::rolledBackError(u"get()").message,
        QStringLiteral("Cannot get() on rolled back transaction"));
}

void DoStorageApiTest::transactionSyncCommitsAndRollsBack()
{
    ScriptedWorld world;
    world.define(QStringLiteral("run"),
        [](DurableObjectState &ctx, Harness &, QJsonArray) -> Task<Result<QJsonValue>> {
            StorageApi &storage = ctx.storage();
            const SimTime start = ctx.simulation().now();
            const Result<QJsonValue> committed
                = storage.transactionSync([&storage]() -> Result<QJsonValue> {
                      if (const Status put = storage.kvPut(QStringLiteral("kept"), QByteArray("1"));
                          !put)
                          return put.error();
                      return QJsonValue(QStringLiteral("committed"));
                  });
            const Result<QJsonValue> failed
                = storage.transactionSync([&storage]() -> Result<QJsonValue> {
                      if (const Status put
                          = storage.kvPut(QStringLiteral("dropped"), QByteArray("1"));
                          !put)
                          return put.error();
                      return Error::error(QStringLiteral("sync failure"));
                  });
            const SimTime elapsed = ctx.simulation().now() - start;
            co_return QJsonArray { committed ? *committed
                                             : QJsonValue(committed.error().toString()),
                failed ? *failed : QJsonValue(failed.error().toString()), elapsed };
        });

    const QJsonArray result = world.valueOf(QStringLiteral("run")).toArray();

    QCOMPARE(result.at(0), QJsonValue(QStringLiteral("committed")));
    QCOMPARE(result.at(1), QJsonValue(QStringLiteral("Error: sync failure")));
    QCOMPARE(result.at(2), QJsonValue(0)); // synchronous: no virtual time passes
    QCOMPARE(storedValue(world.object(), QStringLiteral("kept")), QByteArray("1"));
    QCOMPARE(storedValue(world.object(), QStringLiteral("dropped")), std::nullopt);
}

void DoStorageApiTest::sqlExecThroughCtx()
{
    ScriptedWorld world;
    world.define(QStringLiteral("run"),
        [](DurableObjectState &ctx, Harness &, QJsonArray) -> Task<Result<QJsonValue>> {
            StorageApi &storage = ctx.storage();
            const SimTime start = ctx.simulation().now();
            const Result<SqlCursor> created
                = storage.exec(QStringLiteral("CREATE TABLE t (a INTEGER)"));
            if (!created)
                co_return created.error();
            const Result<SqlCursor> inserted
                = storage.exec(QStringLiteral("INSERT INTO t VALUES (?), (?), (?)"), { 1, 2, 3 });
            if (!inserted)
                co_return inserted.error();
            const Result<SqlCursor> selected
                = storage.exec(QStringLiteral("SELECT a FROM t ORDER BY a DESC"));
            if (!selected)
                co_return selected.error();
            QJsonArray values;
            for (const QVariantList &row : selected->rows)
                values.append(row.at(0).toLongLong());
            QJsonObject result;
            result[QStringLiteral("rowsWritten")] = inserted->rowsWritten;
            result[QStringLiteral("rowsRead")] = selected->rowsRead;
            result[QStringLiteral("values")] = values;
            result[QStringLiteral("elapsed")] = ctx.simulation().now() - start;
            co_return result;
        });

    const QJsonObject result = world.valueOf(QStringLiteral("run")).toObject();

    QCOMPARE(result.value(QStringLiteral("rowsWritten")), QJsonValue(3));
    QCOMPARE(result.value(QStringLiteral("rowsRead")), QJsonValue(3));
    QCOMPARE(result.value(QStringLiteral("values")), QJsonValue(QJsonArray { 3, 2, 1 }));
    QCOMPARE(result.value(QStringLiteral("elapsed")), QJsonValue(0));
    // The statements went into the turn's batch, which committed before the result left.
    DurableObject &object = world.object();
    QCOMPARE(object.lastBatch(), object.confirmedBatch());
    QVERIFY(!object.storage().hasOpenBatch());
    const Result<SqlCursor> count = object.storage().exec(QStringLiteral("SELECT count(*) FROM t"));
    QCOMPARE(count->rows.at(0).at(0).toLongLong(), 3);
}

void DoStorageApiTest::syncKvApi()
{
    ScriptedWorld world;
    world.define(QStringLiteral("run"),
        [](DurableObjectState &ctx, Harness &, QJsonArray) -> Task<Result<QJsonValue>> {
            StorageApi &storage = ctx.storage();
            const SimTime start = ctx.simulation().now();
            if (const Status put = storage.kvPut(QStringLiteral("b"), QByteArray("2")); !put)
                co_return put.error();
            if (const Status put = storage.kvPut(QStringLiteral("a"), QByteArray("1")); !put)
                co_return put.error();
            const Result<std::optional<QByteArray>> a = storage.kvGet(QStringLiteral("a"));
            const Result<StorageEntries> listed = storage.kvList();
            const Result<bool> deletedA = storage.kvDelete(QStringLiteral("a"));
            const Result<bool> deletedMissing = storage.kvDelete(QStringLiteral("zz"));
            const Result<std::optional<QByteArray>> aAfter = storage.kvGet(QStringLiteral("a"));
            if (!a || !listed || !deletedA || !deletedMissing || !aAfter)
                co_return Error::error(QStringLiteral("a storage.kv call failed"));
            co_return QJsonArray { jsonOf(*a), jsonOf(*listed), *deletedA, *deletedMissing,
                jsonOf(*aAfter), ctx.simulation().now() - start };
        });
    world.define(QStringLiteral("read"),
        [](DurableObjectState &ctx, Harness &, QJsonArray) -> Task<Result<QJsonValue>> {
            // The asynchronous API reads what the synchronous one wrote.
            const Result<StorageEntries> listed = co_await ctx.storage().list();
            if (!listed)
                co_return listed.error();
            co_return jsonOf(*listed);
        });

    const QJsonArray result = world.valueOf(QStringLiteral("run")).toArray();

    QCOMPARE(result.at(0), QJsonValue(QStringLiteral("1")));
    QCOMPARE(
        result.at(1), QJsonValue(QJsonArray { QJsonArray { "a", "1" }, QJsonArray { "b", "2" } }));
    QCOMPARE(result.at(2), QJsonValue(true));
    QCOMPARE(result.at(3), QJsonValue(false));
    QCOMPARE(result.at(4), QJsonValue());
    QCOMPARE(result.at(5), QJsonValue(0));
    QCOMPARE(
        world.valueOf(QStringLiteral("read")), QJsonValue(QJsonArray { QJsonArray { "b", "2" } }));
}

void DoStorageApiTest::operationLatency_data()
{
    QTest::addColumn<QString>("operation");
    QTest::addColumn<qint64>("elapsed");

    // storageReadLatency is 5 ms and storageWriteLatency 1 ms in this test.
    const qint64 read = milliseconds(5);
    const qint64 write = milliseconds(1);
    QTest::newRow("get") << QStringLiteral("get") << read;
    QTest::newRow("get with allowConcurrency")
        << QStringLiteral("get with allowConcurrency") << read;
    QTest::newRow("get keys") << QStringLiteral("get keys") << read;
    QTest::newRow("list") << QStringLiteral("list") << read;
    QTest::newRow("getAlarm") << QStringLiteral("getAlarm") << read;
    QTest::newRow("put") << QStringLiteral("put") << write;
    QTest::newRow("put entries") << QStringLiteral("put entries") << write;
    QTest::newRow("delete") << QStringLiteral("delete") << write;
    QTest::newRow("delete keys") << QStringLiteral("delete keys") << write;
    QTest::newRow("deleteAll") << QStringLiteral("deleteAll") << write;
    QTest::newRow("sql.exec") << QStringLiteral("sql.exec") << qint64(0);
    QTest::newRow("kv.put") << QStringLiteral("kv.put") << qint64(0);
    QTest::newRow("kv.get") << QStringLiteral("kv.get") << qint64(0);
}

void DoStorageApiTest::operationLatency()
{
    QFETCH(QString, operation);
    QFETCH(qint64, elapsed);
    DurableObjectSettings settings;
    settings.storageReadLatency = milliseconds(5);
    settings.storageWriteLatency = milliseconds(1);
    ScriptedWorld world(StorageBackend::Sqlite, settings);
    world.define(QStringLiteral("time"), timeOperation);

    QCOMPARE(world.valueOf(QStringLiteral("time"), QJsonArray { operation }).toInteger(), elapsed);
}

void DoStorageApiTest::syncWaitsForCommit_data()
{
    QTest::addColumn<QString>("writes");
    QTest::addColumn<qint64>("elapsed");

    // storageCommitLatency is 30 ms in this test.
    QTest::newRow("after a put") << QStringLiteral("put") << milliseconds(30);
    QTest::newRow("after an unconfirmed put")
        << QStringLiteral("unconfirmed put") << milliseconds(30);
    QTest::newRow("after a synced put") << QStringLiteral("synced put") << qint64(0);
    QTest::newRow("nothing written") << QStringLiteral("none") << qint64(0);
}

void DoStorageApiTest::syncWaitsForCommit()
{
    QFETCH(QString, writes);
    QFETCH(qint64, elapsed);
    DurableObjectSettings settings;
    settings.storageCommitLatency = milliseconds(30);
    ScriptedWorld world(StorageBackend::Sqlite, settings);
    world.define(QStringLiteral("run"),
        [](DurableObjectState &ctx, Harness &, QJsonArray arguments) -> Task<Result<QJsonValue>> {
            StorageApi &storage = ctx.storage();
            const QString writes = arguments.at(0).toString();
            // The puts are not awaited, so sync() is the first await after them.
            if (writes == QLatin1String("put") || writes == QLatin1String("synced put"))
                storage.put(QStringLiteral("k"), QByteArray("v"));
            else if (writes == QLatin1String("unconfirmed put"))
                storage.put(QStringLiteral("k"), QByteArray("v"), StorageOptions { false, true });
            if (writes == QLatin1String("synced put")) {
                if (const Status synced = co_await storage.sync(); !synced)
                    co_return synced.error();
            }
            const SimTime start = ctx.simulation().now();
            if (const Status synced = co_await storage.sync(); !synced)
                co_return synced.error();
            co_return QJsonValue(ctx.simulation().now() - start);
        });

    QCOMPARE(world.valueOf(QStringLiteral("run"), QJsonArray { writes }).toInteger(), elapsed);
    QCOMPARE(world.object().lastBatch(), world.object().confirmedBatch());
}

void DoStorageApiTest::allowConcurrencyInterleaves_data()
{
    QTest::addColumn<bool>("allowConcurrency");
    QTest::addColumn<QStringList>("log");
    QTest::addColumn<int>("finalCount");

    // Call A reads the counter with or without allowConcurrency; call B arrives right after it.
    QTest::newRow("input gate closed by the read")
        << false
        << QStringList { "A start", "A read 0", "A wrote 1", "B start", "B read 1", "B wrote 2" }
        << 2;
    // B runs during A's read and both read 0: one increment is lost.
    QTest::newRow("allowConcurrency lets B in")
        << true
        << QStringList { "A start", "B start", "A read 0", "B read 0", "A wrote 1", "B wrote 1" }
        << 1;
}

void DoStorageApiTest::allowConcurrencyInterleaves()
{
    QFETCH(bool, allowConcurrency);
    QFETCH(QStringList, log);
    QFETCH(int, finalCount);
    DurableObjectSettings settings;
    settings.storageReadLatency = milliseconds(10);
    ScriptedWorld world(StorageBackend::Sqlite, settings);
    world.define(QStringLiteral("increment"),
        [](DurableObjectState &ctx, Harness &harness,
            QJsonArray arguments) -> Task<Result<QJsonValue>> {
            const QString name = arguments.at(0).toString();
            const StorageOptions options { arguments.at(1).toBool(), false };
            harness.log << name + QStringLiteral(" start");
            const Result<std::optional<QByteArray>> value
                = co_await ctx.storage().get(QStringLiteral("n"), options);
            if (!value)
                co_return value.error();
            const int read = value->value_or("0").toInt();
            harness.log << QStringLiteral("%1 read %2").arg(name).arg(read);
            if (const Status put
                = co_await ctx.storage().put(QStringLiteral("n"), QByteArray::number(read + 1));
                !put)
                co_return put.error();
            harness.log << QStringLiteral("%1 wrote %2").arg(name).arg(read + 1);
            co_return QJsonValue(read + 1);
        });
    Simulation &simulation = world.fixture.simulation;
    const DurableObjectStub stub = world.fixture.stub(kRoom);

    const auto a = startTask(
        simulation, stub.call(QStringLiteral("increment"), QJsonArray { "A", allowConcurrency }));
    const auto b
        = startTask(simulation, stub.call(QStringLiteral("increment"), QJsonArray { "B", false }));
    const Result<QJsonValue> resultA = finishTask(simulation, a);
    const Result<QJsonValue> resultB = finishTask(simulation, b);

    QCOMPARE(world.harness.log, log);
    QCOMPARE(resultA->toInt(), 1);
    QCOMPARE(resultB->toInt(), finalCount);
    QCOMPARE(storedValue(world.object(), QStringLiteral("n")), QByteArray::number(finalCount));
}

void DoStorageApiTest::storageLimits_data()
{
    QTest::addColumn<StorageBackend>("backend");
    QTest::addColumn<bool>("production"); // settings.enforceStorageLimits
    QTest::addColumn<int>("keyBytes");
    QTest::addColumn<int>("valueBytes");
    QTest::addColumn<QString>("message"); // empty: the put succeeds
    QTest::addColumn<QString>("specText"); // the platform's documented text, a prefix

    const QString valueTooLarge = QStringLiteral("Values cannot be larger than 131072 bytes.");
    const StorageBackend kv = StorageBackend::KeyValue;
    const StorageBackend sqlite = StorageBackend::Sqlite;

    QTest::newRow("KeyValue production, value of 131107 bytes")
        << kv << true << 1 << 131'107
        << valueTooLarge + QStringLiteral(" A value of size 131107 was provided.") << valueTooLarge;
    // workerd allows 34 bytes beyond the advertised limit for the serialization header.
    QTest::newRow("KeyValue production, value of 131106 bytes")
        << kv << true << 1 << 131'106 << QString() << QString();
    QTest::newRow("KeyValue local, value of 131107 bytes")
        << kv << false << 1 << 131'107 << QString() << QString();
    QTest::newRow("KeyValue production, key of 2049 bytes")
        << kv << true << 2049 << 1
        << QStringLiteral("Keys cannot be larger than 2048 bytes. A key of size 2049 was provided.")
        << QStringLiteral("Keys cannot be larger than 2048 bytes.");
    QTest::newRow("KeyValue production, key of 2048 bytes")
        << kv << true << 2048 << 1 << QString() << QString();
    QTest::newRow("KeyValue local, key of 2049 bytes")
        << kv << false << 2049 << 1 << QString() << QString();
    QTest::newRow("SQLite production, key and value of 2,000,001 bytes")
        << sqlite << true << 1 << 2'000'000
        << QStringLiteral("Key plus value cannot be larger than 2000000 bytes on a SQLite-backed "
                          "Durable Object. A key and value of 2000001 bytes were provided.")
        << QStringLiteral("Key plus value cannot be larger than 2000000 bytes");
    QTest::newRow("SQLite production, key and value of 2,000,000 bytes")
        << sqlite << true << 1 << 1'999'999 << QString() << QString();
    QTest::newRow("SQLite local, value of 2 MiB + 10 bytes")
        << sqlite << false << 1 << 2 * 1024 * 1024 + 10 << QString() << QString();
}

void DoStorageApiTest::storageLimits()
{
    QFETCH(StorageBackend, backend);
    QFETCH(bool, production);
    QFETCH(int, keyBytes);
    QFETCH(int, valueBytes);
    QFETCH(QString, message);
    QFETCH(QString, specText);
    DurableObjectSettings settings;
    settings.enforceStorageLimits = production;
    ScriptedWorld world(backend, settings);
    world.define(QStringLiteral("put"),
        [](DurableObjectState &ctx, Harness &, QJsonArray arguments) -> Task<Result<QJsonValue>> {
            const QString key(arguments.at(0).toInt(), QLatin1Char('k'));
            const QByteArray value(arguments.at(1).toInt(), 'v');
            if (const Status put = co_await ctx.storage().put(key, value); !put)
                co_return put.error();
            co_return QJsonValue(QStringLiteral("stored"));
        });
    const QString key(keyBytes, QLatin1Char('k'));

    const Result<QJsonValue> result
        = world.call(QStringLiteral("put"), QJsonArray { keyBytes, valueBytes });

    if (message.isEmpty()) {
        QVERIFY2(result.ok(), qPrintable(result ? QString() : result.error().toString()));
        QCOMPARE(storedValue(world.object(), key)->size(), qsizetype(valueBytes));
        return;
    }
    QVERIFY(!result.ok());
    QCOMPARE(result.error().kind, Error::Kind::RangeError);
    QCOMPARE(result.error().message, message);
    QVERIFY(result.error().message.startsWith(specText));
    QCOMPARE(world.object().storage().list({}).value().size(), size_t(0));
}

QTEST_GUILESS_MAIN(DoStorageApiTest)
#include "tst_dostorageapi.moc"
