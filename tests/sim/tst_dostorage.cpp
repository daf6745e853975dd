// Tests of DurableObjectStorage, the synchronous storage core of a Durable Object, against a real
// in-memory SQLite database. They cover the KV-style API and its list order, the write batch and
// transactions, and SQL through exec() with workerd's error texts and authorizer rules. They also
// cover the production size limits, saved images, deleteAll() and the inspector's view.

#include "dostorage.h"

#include <QDate>
#include <QTest>

#include <memory>
#include <optional>

using namespace roomscope;

namespace QTest {
template<> inline char *toString(const Error &error)
{
    return toString(error.toString());
}
template<> inline char *toString(const std::optional<QByteArray> &value)
{
    return value ? toString(*value) : qstrdup("undefined");
}
} // namespace QTest

namespace {

using Value = std::optional<QByteArray>;

const QString kTransactionStatement = QStringLiteral(
    "To execute a transaction, please use the state.storage.transaction() or "
    "state.storage.transactionSync() APIs instead of the SQL BEGIN TRANSACTION or SAVEPOINT "
    "statements. The JavaScript API is safer because it will automatically roll back on "
    "exceptions, and because it interacts correctly with Durable Objects' automatic atomic "
    "write coalescing.");
const QString kSqlNotEnabled = QStringLiteral(
    "SQL is not enabled for this Durable Object class. To enable it, change `new_classes` to "
    "`new_sqlite_classes` within the 'migrations' field in your wrangler.jsonc or wrangler.toml "
    "file. If using workerd directly,set `enableSql = true` in your workerd config for the "
    "class. Note that this change cannot be made after the class is already deployed to "
    "production.");
const QString kSyncKvPrefix = QStringLiteral(
    "The storage.kv (synchronous KV) API is only available for SQLite-backed Durable Objects");

std::unique_ptr<DurableObjectStorage> makeStorage(
    StorageBackend backend = StorageBackend::Sqlite, bool enforce = false)
{
    auto created = DurableObjectStorage::create(backend, StorageLimits { enforce });
    if (!created)
        qFatal("cannot create the storage: %s", qPrintable(created.error().message));
    return std::move(created).value();
}

QStringList keysOf(const StorageEntries &entries)
{
    QStringList keys;
    for (const auto &entry : entries)
        keys << entry.first;
    return keys;
}

// Lists every key, failing the test run when list() fails.
QStringList listKeys(DurableObjectStorage &storage, const StorageListOptions &options = {})
{
    const Result<StorageEntries> listed = storage.list(options);
    if (!listed)
        qFatal("list failed: %s", qPrintable(listed.error().message));
    return keysOf(*listed);
}

// Writes keys with their names as values and commits them.
void seed(DurableObjectStorage &storage, const QStringList &keys)
{
    for (const QString &key : keys) {
        const Status put = storage.put(key, key.toUtf8());
        if (!put)
            qFatal("put %s failed: %s", qPrintable(key), qPrintable(put.error().message));
    }
    const Status committed = storage.commitBatch();
    if (!committed)
        qFatal("commit failed: %s", qPrintable(committed.error().message));
}

// Runs SQL that must succeed and fails the test run otherwise.
SqlCursor execOrDie(
    DurableObjectStorage &storage, const QString &sql, const QVariantList &bindings = {})
{
    const Result<SqlCursor> cursor = storage.exec(sql, bindings);
    if (!cursor)
        qFatal("%s failed: %s", qPrintable(sql), qPrintable(cursor.error().message));
    return cursor.value();
}

QString keyOfBytes(qsizetype bytes)
{
    return QString(bytes, QLatin1Char('k'));
}

std::optional<QString> optionalText(const QString &text)
{
    return text.isNull() ? std::nullopt : std::optional<QString>(text);
}

const QString kSmile = QStringLiteral("\U0001F600");
const QString kFullwidthZ = QStringLiteral("\uFF5A");

} // namespace

Q_DECLARE_METATYPE(StorageBackend)
Q_DECLARE_METATYPE(Error::Kind)

class TestDoStorage : public QObject
{
    Q_OBJECT

private slots:
    // KV-style API (conformance cases G1 to G8, G17, G22).
    void putUndefinedValue();
    void listOrderIsUtf8Bytes();
    void listReverseWithLimit();
    void bulkGetSortedWithoutMissing();
    void deleteCounts();
    void emptyValueRoundTrip();
    void putEntriesLastWins();
    void readOwnWriteInBatch();
    void kvTableCreatedOnFirstWrite();

    // list() options.
    void listRange_data();
    void listRange();
    void listOptionErrors_data();
    void listOptionErrors();

    // The write batch and transactions (G10, G11, G13).
    void batchAllOrNothing_data();
    void batchAllOrNothing();
    void batchRollbackUndoesSqlAndKvTable();
    void transactionRollback();
    void transactionCommit();
    void nestedTransactions();
    void deleteAllInsideTransaction();
    void commitBatchInsideTransaction();
    void conflictRollbackLosesTransaction();
    void transactionErrorTexts();

    // SQL (G14, G16).
    void sqlErrors_data();
    void sqlErrors();
    void sqlAllowed_data();
    void sqlAllowed();
    void sqlRowCounts();
    void sqlMultipleStatements();
    void sqlEarlierStatementsStayAfterError();
    void sqlBindingsRoundTrip();
    void sqlUnsupportedBinding();
    void cursorOne_data();
    void cursorOne();
    void keyValueBackendHasNoSql();
    void syncKvAvailability_data();
    void syncKvAvailability();

    // Limits (G20 and the other production limits).
    void keyValueLimits_data();
    void keyValueLimits();
    void batchLimitFailureWritesNothing();
    void sqliteEntryLimit_data();
    void sqliteEntryLimit();
    void sqliteValueTooBigLocally();
    void sqlStatementLimits_data();
    void sqlStatementLimits();
    void sqlLengthLimit_data();
    void sqlLengthLimit();

    // Images, deleteAll() and the inspector.
    void serializeRoundTrip();
    void serializeIncludesOpenBatch();
    void deserializeEmptyImage();
    void deserializeInvalidImage();
    void deleteAllWipesEverything_data();
    void deleteAllWipesEverything();
    void deleteAllWithForeignKeys();
    void inspectReadsHiddenTable();
    void inspectRejectsWrites_data();
    void inspectRejectsWrites();
    void tableNamesInSchemaOrder();
    void databaseSizeCountsUsedPages();
};

// --- KV-style API ---------------------------------------------------------------------------

void TestDoStorage::putUndefinedValue()
{
    auto storage = makeStorage();
    const Status put = storage->put(QStringLiteral("k"), std::nullopt);
    QVERIFY(!put.ok());
    QCOMPARE(put.error(), Error::typeError(QStringLiteral("put() called with undefined value.")));
    QCOMPARE(storage->get(QStringLiteral("k")).value(), Value());
    QVERIFY(!storage->hasOpenBatch());
}

void TestDoStorage::listOrderIsUtf8Bytes()
{
    auto storage = makeStorage();
    seed(*storage, { "b", "a", "c", "ab", "B", kFullwidthZ, kSmile });
    // UTF-16 order would put U+1F600 (a surrogate pair, 0xD83D...) before U+FF5A.
    const QStringList expected { "B", "a", "ab", "b", "c", kFullwidthZ, kSmile };
    QCOMPARE(listKeys(*storage), expected);
}

void TestDoStorage::listReverseWithLimit()
{
    auto storage = makeStorage();
    seed(*storage, { "b", "a", "c", "ab", "B", kFullwidthZ, kSmile });
    StorageListOptions options;
    options.reverse = true;
    options.limit = 2;
    QCOMPARE(listKeys(*storage, options), QStringList({ kSmile, kFullwidthZ }));
}

void TestDoStorage::bulkGetSortedWithoutMissing()
{
    auto storage = makeStorage();
    QVERIFY(storage->put(QStringLiteral("a"), QByteArray("1")).ok());
    QVERIFY(storage->put(QStringLiteral("c"), QByteArray("3")).ok());

    const Result<StorageEntries> read = storage->get(QStringList {
        QStringLiteral("c"), QStringLiteral("zz"), QStringLiteral("a"), QStringLiteral("c") });
    QVERIFY(read.ok());
    QCOMPARE(keysOf(*read), QStringList({ "a", "c" }));
    QCOMPARE(read->at(0).second, QByteArray("1"));
    QCOMPARE(read->at(1).second, QByteArray("3"));
}

void TestDoStorage::deleteCounts()
{
    auto storage = makeStorage();
    seed(*storage, { "a", "b" });

    const Result<qint64> many
        = storage->remove(QStringList { QStringLiteral("a"), QStringLiteral("zz") });
    QVERIFY(many.ok());
    QCOMPARE(*many, qint64(1));
    const Result<bool> existing = storage->remove(QStringLiteral("b"));
    QVERIFY(existing.ok());
    QCOMPARE(*existing, true);
    const Result<bool> missing = storage->remove(QStringLiteral("nope"));
    QVERIFY(missing.ok());
    QCOMPARE(*missing, false);
    const Result<qint64> duplicates
        = storage->remove(QStringList { QStringLiteral("c"), QStringLiteral("c") });
    QVERIFY(duplicates.ok());
    QCOMPARE(*duplicates, qint64(0));
    QCOMPARE(listKeys(*storage), QStringList());
}

void TestDoStorage::emptyValueRoundTrip()
{
    auto storage = makeStorage();
    QVERIFY(storage->put(QStringLiteral("e"), QByteArray()).ok());
    const Result<Value> read = storage->get(QStringLiteral("e"));
    QVERIFY(read.ok());
    QVERIFY(read->has_value());
    QCOMPARE(read->value().size(), 0);
    // A NULL in _cf_KV would read back as undefined through SQL too.
    const Result<SqlCursor> raw
        = storage->inspect(QStringLiteral("SELECT typeof(value) FROM _cf_KV"));
    QVERIFY(raw.ok());
    QCOMPARE(raw->rows.at(0).at(0).toString(), QStringLiteral("blob"));
}

void TestDoStorage::putEntriesLastWins()
{
    auto storage = makeStorage();
    const StorageEntries entries { { "x", "1" }, { "y", "2" }, { "x", "3" } };
    QVERIFY(storage->put(entries).ok());
    QCOMPARE(storage->get(QStringLiteral("x")).value(), Value("3"));
    QCOMPARE(storage->get(QStringLiteral("y")).value(), Value("2"));
}

void TestDoStorage::readOwnWriteInBatch()
{
    auto storage = makeStorage();
    QVERIFY(!storage->hasOpenBatch());
    QVERIFY(storage->put(QStringLiteral("na"), QByteArray("v1")).ok());
    QVERIFY(storage->hasOpenBatch());
    QCOMPARE(storage->get(QStringLiteral("na")).value(), Value("v1"));
    QVERIFY(storage->commitBatch().ok());
    QVERIFY(!storage->hasOpenBatch());
    QCOMPARE(storage->get(QStringLiteral("na")).value(), Value("v1"));
}

void TestDoStorage::kvTableCreatedOnFirstWrite()
{
    auto storage = makeStorage();
    const QString tables = QStringLiteral("SELECT name FROM sqlite_master WHERE type='table'");
    QCOMPARE(execOrDie(*storage, tables).rows.size(), std::size_t(0));
    QCOMPARE(storage->get(QStringLiteral("k")).value(), Value());
    QCOMPARE(execOrDie(*storage, tables).rows.size(), std::size_t(0));

    QVERIFY(storage->put(QStringLiteral("k"), QByteArray("v")).ok());
    const SqlCursor cursor = execOrDie(*storage, tables);
    QCOMPARE(cursor.rows.size(), std::size_t(1));
    QCOMPARE(cursor.rows.at(0).at(0).toString(), QStringLiteral("_cf_KV"));
}

// --- list() options ---------------------------------------------------------------------------

void TestDoStorage::listRange_data()
{
    QTest::addColumn<QString>("start"); // a null QString: option not given
    QTest::addColumn<QString>("startAfter");
    QTest::addColumn<QString>("end");
    QTest::addColumn<QString>("prefix");
    QTest::addColumn<bool>("reverse");
    QTest::addColumn<qint64>("limit"); // 0: option not given
    QTest::addColumn<QStringList>("expected");

    // The stored keys: a, a<NUL>, ab, abc, b, c, d, e.
    const QString none;
    QTest::newRow("everything") << none << none << none << none << false << qint64(0)
                                << QStringList { "a", QStringLiteral("a\u0000"), "ab", "abc", "b",
                                       "c", "d", "e" };
    QTest::newRow("reverse keeps start and end")
        << "b" << none << "e" << none << true << qint64(0) << QStringList { "d", "c", "b" };
    QTest::newRow("reverse limits from the high end")
        << "b" << none << "e" << none << true << qint64(2) << QStringList { "d", "c" };
    QTest::newRow("startAfter is exclusive")
        << none << "b"
        << "e" << none << false << qint64(0) << QStringList { "c", "d" };
    QTest::newRow("startAfter keeps the key after it")
        << none << "a"
        << "ab" << none << false << qint64(0) << QStringList { QStringLiteral("a\u0000") };
    QTest::newRow("limit") << none << none << none << none << false << qint64(3)
                           << QStringList { "a", QStringLiteral("a\u0000"), "ab" };
    QTest::newRow("prefix") << none << none << none << "ab" << false << qint64(0)
                            << QStringList { "ab", "abc" };
    QTest::newRow("prefix reversed") << none << none << none << "a" << true << qint64(0)
                                     << QStringList { "abc", "ab", QStringLiteral("a\u0000"), "a" };
    QTest::newRow("prefix with start inside")
        << "abb" << none << none << "ab" << false << qint64(0) << QStringList { "abc" };
    QTest::newRow("prefix with start before")
        << "a" << none << none << "ab" << false << qint64(0) << QStringList { "ab", "abc" };
    QTest::newRow("prefix with start after")
        << "b" << none << none << "ab" << false << qint64(0) << QStringList {};
    QTest::newRow("prefix with end inside") << none << none << "abc"
                                            << "ab" << false << qint64(0) << QStringList { "ab" };
    QTest::newRow("prefix with end before") << none << none << "aa"
                                            << "ab" << false << qint64(0) << QStringList {};
    QTest::newRow("prefix with end after")
        << none << none << "z"
        << "ab" << false << qint64(0) << QStringList { "ab", "abc" };
    QTest::newRow("empty prefix") << none << none << "ab"
                                  << "" << false << qint64(0)
                                  << QStringList { "a", QStringLiteral("a\u0000") };
    QTest::newRow("end before start")
        << "d" << none << "b" << none << false << qint64(0) << QStringList {};
    QTest::newRow("end equals start")
        << "b" << none << "b" << none << false << qint64(0) << QStringList {};
    QTest::newRow("no match") << none << none << none << "x" << false << qint64(0)
                              << QStringList {};
}

void TestDoStorage::listRange()
{
    QFETCH(QString, start);
    QFETCH(QString, startAfter);
    QFETCH(QString, end);
    QFETCH(QString, prefix);
    QFETCH(bool, reverse);
    QFETCH(qint64, limit);
    QFETCH(QStringList, expected);

    auto storage = makeStorage();
    seed(*storage, { "e", "d", "c", "b", "abc", "ab", QStringLiteral("a\u0000"), "a" });
    StorageListOptions options;
    options.start = optionalText(start);
    options.startAfter = optionalText(startAfter);
    options.end = optionalText(end);
    options.prefix = optionalText(prefix);
    options.reverse = reverse;
    if (limit > 0)
        options.limit = limit;
    QCOMPARE(listKeys(*storage, options), expected);
}

void TestDoStorage::listOptionErrors_data()
{
    QTest::addColumn<bool>("startAndStartAfter");
    QTest::addColumn<qint64>("limit"); // 1000: option not given
    QTest::addColumn<QString>("message");

    const QString bothStarts
        = QStringLiteral("list() cannot be called with both start and startAfter values.");
    const QString notPositive = QStringLiteral("List limit must be positive.");
    QTest::newRow("limit 0") << false << qint64(0) << notPositive;
    QTest::newRow("negative limit") << false << qint64(-1) << notPositive;
    QTest::newRow("start with startAfter") << true << qint64(1000) << bothStarts;
    QTest::newRow("start with startAfter is checked first") << true << qint64(0) << bothStarts;
}

void TestDoStorage::listOptionErrors()
{
    QFETCH(bool, startAndStartAfter);
    QFETCH(qint64, limit);
    QFETCH(QString, message);

    auto storage = makeStorage();
    seed(*storage, { "a", "b" });
    StorageListOptions options;
    if (startAndStartAfter) {
        options.start = QStringLiteral("b");
        options.startAfter = QStringLiteral("b");
    }
    if (limit != 1000)
        options.limit = limit;
    const Result<StorageEntries> listed = storage->list(options);
    QVERIFY(!listed.ok());
    QCOMPARE(listed.error(), Error::typeError(message));
}

// --- The write batch and transactions -------------------------------------------------------

void TestDoStorage::batchAllOrNothing_data()
{
    QTest::addColumn<bool>("commit");
    QTest::addColumn<QStringList>("expected");

    QTest::newRow("rollback changes nothing") << false << QStringList { "c" };
    QTest::newRow("commit keeps all three") << true << QStringList { "a", "b" };
}

void TestDoStorage::batchAllOrNothing()
{
    QFETCH(bool, commit);
    QFETCH(QStringList, expected);

    auto storage = makeStorage();
    seed(*storage, { "c" });
    QVERIFY(!storage->hasOpenBatch());

    QVERIFY(storage->put(QStringLiteral("a"), QByteArray("1")).ok());
    QVERIFY(storage->put(QStringLiteral("b"), QByteArray("2")).ok());
    QVERIFY(storage->remove(QStringLiteral("c")).value());
    QVERIFY(storage->hasOpenBatch());
    QCOMPARE(listKeys(*storage), QStringList({ "a", "b" }));

    if (commit)
        QVERIFY(storage->commitBatch().ok());
    else
        storage->rollbackBatch();
    QVERIFY(!storage->hasOpenBatch());
    QCOMPARE(listKeys(*storage), expected);
}

void TestDoStorage::batchRollbackUndoesSqlAndKvTable()
{
    auto storage = makeStorage();
    execOrDie(*storage, QStringLiteral("CREATE TABLE t (a)"));
    QVERIFY(storage->commitBatch().ok());

    execOrDie(*storage, QStringLiteral("INSERT INTO t VALUES (1)"));
    QVERIFY(storage->put(QStringLiteral("k"), QByteArray("v")).ok());
    QCOMPARE(storage->tableNames(), QStringList({ "t", "_cf_KV" }));
    storage->rollbackBatch();

    QCOMPARE(execOrDie(*storage, QStringLiteral("SELECT count(*) FROM t")).rows.at(0).at(0),
        QVariant(qint64(0)));
    QCOMPARE(storage->tableNames(), QStringList({ "t" }));
    QCOMPARE(storage->get(QStringLiteral("k")).value(), Value());
    // The table comes back on the next write.
    QVERIFY(storage->put(QStringLiteral("k"), QByteArray("again")).ok());
    QCOMPARE(storage->get(QStringLiteral("k")).value(), Value("again"));
}

void TestDoStorage::transactionRollback()
{
    auto storage = makeStorage();
    QVERIFY(storage->put(QStringLiteral("t"), QByteArray("before")).ok());
    QVERIFY(storage->commitBatch().ok());

    QVERIFY(storage->beginTransaction().ok());
    QCOMPARE(storage->transactionDepth(), 1);
    QVERIFY(storage->hasOpenBatch());
    QVERIFY(storage->put(QStringLiteral("t"), QByteArray("inside")).ok());
    QCOMPARE(storage->get(QStringLiteral("t")).value(), Value("inside"));
    storage->rollbackTransaction(); // the callback threw

    QCOMPARE(storage->transactionDepth(), 0);
    QCOMPARE(storage->get(QStringLiteral("t")).value(), Value("before"));
    QVERIFY(storage->commitBatch().ok());
    QCOMPARE(storage->get(QStringLiteral("t")).value(), Value("before"));
}

void TestDoStorage::transactionCommit()
{
    auto storage = makeStorage();
    QVERIFY(storage->beginTransaction().ok());
    QVERIFY(storage->put(QStringLiteral("x"), QByteArray("1")).ok());
    QVERIFY(storage->commitTransaction().ok());
    QCOMPARE(storage->transactionDepth(), 0);
    QVERIFY(storage->hasOpenBatch());
    QVERIFY(storage->commitBatch().ok());
    QCOMPARE(storage->get(QStringLiteral("x")).value(), Value("1"));
}

void TestDoStorage::nestedTransactions()
{
    auto storage = makeStorage();
    QVERIFY(storage->beginTransaction().ok());
    QVERIFY(storage->put(QStringLiteral("x"), QByteArray("outer")).ok());
    QVERIFY(storage->beginTransaction().ok());
    QCOMPARE(storage->transactionDepth(), 2);
    QVERIFY(storage->put(QStringLiteral("x"), QByteArray("inner")).ok());
    execOrDie(*storage, QStringLiteral("CREATE TABLE inner_only (a)"));
    storage->rollbackTransaction();

    QCOMPARE(storage->transactionDepth(), 1);
    QCOMPARE(storage->get(QStringLiteral("x")).value(), Value("outer"));
    QCOMPARE(storage->tableNames(), QStringList({ "_cf_KV" }));
    QVERIFY(storage->commitTransaction().ok());
    QVERIFY(storage->commitBatch().ok());
    QCOMPARE(storage->get(QStringLiteral("x")).value(), Value("outer"));
}

void TestDoStorage::deleteAllInsideTransaction()
{
    auto storage = makeStorage();
    seed(*storage, { "a" });
    QVERIFY(storage->beginTransaction().ok());
    const Status deleted = storage->deleteAll();
    QVERIFY(!deleted.ok());
    QCOMPARE(deleted.error(),
        Error::error(QStringLiteral("Cannot call deleteAll() within a transaction")));
    QCOMPARE(listKeys(*storage), QStringList({ "a" }));
    QCOMPARE(storage->transactionDepth(), 1);
}

void TestDoStorage::commitBatchInsideTransaction()
{
    auto storage = makeStorage();
    QVERIFY(storage->beginTransaction().ok());
    QVERIFY(storage->put(QStringLiteral("a"), QByteArray("1")).ok());
    const Status committed = storage->commitBatch();
    QVERIFY(!committed.ok());
    QCOMPARE(committed.error().message,
        QStringLiteral("Cannot commit the write batch while a transaction is open (depth "
                       "1). Commit or roll back the transaction first."));
    QVERIFY(storage->hasOpenBatch());
    QVERIFY(storage->commitTransaction().ok());
    QVERIFY(storage->commitBatch().ok());
    QCOMPARE(storage->get(QStringLiteral("a")).value(), Value("1"));
}

void TestDoStorage::conflictRollbackLosesTransaction()
{
    auto storage = makeStorage();
    execOrDie(*storage, QStringLiteral("CREATE TABLE u (id INTEGER PRIMARY KEY)"));
    execOrDie(*storage, QStringLiteral("INSERT INTO u VALUES (1)"));
    QVERIFY(storage->commitBatch().ok());

    QVERIFY(storage->beginTransaction().ok());
    QVERIFY(storage->put(QStringLiteral("k"), QByteArray("v")).ok());
    const Result<SqlCursor> failed
        = storage->exec(QStringLiteral("INSERT OR ROLLBACK INTO u VALUES (1)"));
    QVERIFY(!failed.ok());
    QCOMPARE(failed.error().message,
        QStringLiteral("UNIQUE constraint failed: u.id: SQLITE_CONSTRAINT (extended: "
                       "SQLITE_CONSTRAINT_PRIMARYKEY)"));

    // SQLite rolled back the whole batch, the put included.
    QVERIFY(!storage->hasOpenBatch());
    QCOMPARE(storage->get(QStringLiteral("k")).value(), Value());
    const Status committed = storage->commitTransaction();
    QVERIFY(!committed.ok());
    QCOMPARE(committed.error().message,
        QStringLiteral("Cannot commit transaction due to an earlier SQL critical error"));
    QCOMPARE(storage->transactionDepth(), 1);
    storage->rollbackTransaction();
    QCOMPARE(storage->transactionDepth(), 0);

    // The storage works normally afterwards.
    QVERIFY(storage->put(QStringLiteral("k"), QByteArray("after")).ok());
    QVERIFY(storage->commitBatch().ok());
    QCOMPARE(storage->get(QStringLiteral("k")).value(), Value("after"));
}

void TestDoStorage::transactionErrorTexts()
{
    QCOMPARE(DurableObjectStorage::rolledBackError(u"get()"),
        Error::error(QStringLiteral("Cannot get() on rolled back transaction")));
    QCOMPARE(DurableObjectStorage::committedError(u"put()"),
        Error::error(QStringLiteral("Cannot call put() on transaction that has already "
                                    "committed: did you move `txn` outside of the "
                                    "closure?")));
    QVERIFY(makeStorage()->checkTransactionSyncAvailable().ok());
    const Status keyValue = makeStorage(StorageBackend::KeyValue)->checkTransactionSyncAvailable();
    QVERIFY(!keyValue.ok());
    QCOMPARE(
        keyValue.error(), Error::error(QStringLiteral("Durable Object is not backed by SQL.")));
}

// --- SQL --------------------------------------------------------------------------------------

void TestDoStorage::sqlErrors_data()
{
    QTest::addColumn<QString>("sql");
    QTest::addColumn<QVariantList>("bindings");
    QTest::addColumn<QString>("message");

    const QVariantList none;
    QTest::newRow("syntax error") << "SELEC nope" << none
                                  << R"(near "SELEC": syntax error at offset 0: SQLITE_ERROR)";
    QTest::newRow("syntax error in a later statement")
        << "SELECT 1; SELEC nope" << none
        << R"(near "SELEC": syntax error at offset 0: SQLITE_ERROR)"; // offset in the remaining
                                                                      // text
    QTest::newRow("missing table")
        << "SELECT * FROM nope" << none << "no such table: nope: SQLITE_ERROR";
    QTest::newRow("BEGIN TRANSACTION") << "BEGIN TRANSACTION" << none << kTransactionStatement;
    QTest::newRow("COMMIT") << "COMMIT" << none << kTransactionStatement;
    QTest::newRow("ROLLBACK") << "ROLLBACK" << none << kTransactionStatement;
    QTest::newRow("SAVEPOINT") << "SAVEPOINT foo" << none << kTransactionStatement;
    QTest::newRow("RELEASE") << "RELEASE foo" << none << kTransactionStatement;
    QTest::newRow("read _cf_KV") << "SELECT * FROM _cf_KV" << none
                                 << "access to _cf_KV.key is prohibited: SQLITE_AUTH";
    QTest::newRow("read _cf_ in another case")
        << "SELECT value FROM _CF_kv" << none
        << "access to _cf_KV.value is prohibited: SQLITE_AUTH";
    QTest::newRow("write _cf_KV") << "DELETE FROM _cf_KV" << none << "not authorized: SQLITE_AUTH";
    QTest::newRow("drop _cf_KV") << "DROP TABLE _cf_KV" << none << "not authorized: SQLITE_AUTH";
    QTest::newRow("rename _cf_KV")
        << "ALTER TABLE _cf_KV RENAME TO stolen" << none << "not authorized: SQLITE_AUTH";
    QTest::newRow("index on _cf_KV")
        << "CREATE INDEX i ON _cf_KV (value)" << none << "not authorized: SQLITE_AUTH";
    QTest::newRow("create _cf_ table")
        << "CREATE TABLE _cf_invalid (name TEXT)" << none << "not authorized: SQLITE_AUTH";
    QTest::newRow("pragma not allowed")
        << "PRAGMA hard_heap_limit = 1024" << none << "not authorized: SQLITE_AUTH";
    QTest::newRow("pragma with an argument it must not have")
        << "PRAGMA page_size = 1024" << none << "not authorized: SQLITE_AUTH";
    QTest::newRow("pragma on _cf_KV")
        << "PRAGMA table_info(_cf_KV)" << none << "not authorized: SQLITE_AUTH";
    QTest::newRow("temporary table")
        << "CREATE TEMP TABLE x (a)" << none << "not authorized: SQLITE_AUTH";
    QTest::newRow("attach") << "ATTACH DATABASE ':memory:' AS other" << none
                            << "not authorized: SQLITE_AUTH";
    QTest::newRow("unknown virtual table module")
        << "CREATE VIRTUAL TABLE v USING fts5abcd(id)" << none << "not authorized: SQLITE_AUTH";
    QTest::newRow("six compound terms")
        << "SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 "
           "UNION ALL SELECT 6"
        << none << "too many terms in compound SELECT: SQLITE_ERROR";
    QTest::newRow("long LIKE pattern")
        << "SELECT 'a' LIKE ?" << QVariantList { QString(51, QLatin1Char('a')) }
        << "LIKE or GLOB pattern too complex: SQLITE_ERROR";
    QTest::newRow("constraint") << "INSERT INTO t VALUES (1)" << none
                                << "UNIQUE constraint failed: t.id: SQLITE_CONSTRAINT (extended: "
                                   "SQLITE_CONSTRAINT_PRIMARYKEY)";
    QTest::newRow("empty query") << "" << none << "SQL code did not contain a statement.";
    QTest::newRow("comment after a statement")
        << "SELECT 1; -- done" << none << "SQL code did not contain a statement.";
    QTest::newRow("missing binding")
        << "SELECT ?" << none << "Wrong number of parameter bindings for SQL query.";
    QTest::newRow("extra binding")
        << "SELECT 1" << QVariantList { 1 } << "Wrong number of parameter bindings for SQL query.";
    QTest::newRow("parameter in an earlier statement")
        << "SELECT ?; SELECT 1" << QVariantList { 1 }
        << "When executing multiple SQL statements in a single call, only the last statement can "
           "have parameters.";
}

void TestDoStorage::sqlErrors()
{
    QFETCH(QString, sql);
    QFETCH(QVariantList, bindings);
    QFETCH(QString, message);

    auto storage = makeStorage();
    QVERIFY(storage->put(QStringLiteral("k"), QByteArray("v")).ok());
    execOrDie(*storage, QStringLiteral("CREATE TABLE t (id INTEGER PRIMARY KEY)"));
    execOrDie(*storage, QStringLiteral("INSERT INTO t VALUES (1)"));
    QVERIFY(storage->commitBatch().ok());

    const Result<SqlCursor> cursor = storage->exec(sql, bindings);
    QVERIFY(!cursor.ok());
    QCOMPARE(cursor.error(), Error::error(message));
    // A failed statement changes nothing.
    QCOMPARE(storage->tableNames(), QStringList({ "_cf_KV", "t" }));
    QCOMPARE(storage->get(QStringLiteral("k")).value(), Value("v"));
    QCOMPARE(execOrDie(*storage, QStringLiteral("SELECT count(*) FROM t")).rows.at(0).at(0),
        QVariant(qint64(1)));
}

void TestDoStorage::sqlAllowed_data()
{
    QTest::addColumn<QString>("sql");

    QTest::newRow("alter table") << "ALTER TABLE t ADD COLUMN c";
    QTest::newRow("rename table") << "ALTER TABLE t RENAME TO t2";
    QTest::newRow("index and trigger") << "CREATE INDEX t_id ON t (id); CREATE TRIGGER t_del "
                                          "AFTER DELETE ON t BEGIN SELECT 1; END";
    QTest::newRow("view") << "CREATE VIEW v AS SELECT id FROM t";
    QTest::newRow("read the schema") << "SELECT name, sql FROM sqlite_master";
    QTest::newRow("foreign keys pragma") << "PRAGMA foreign_keys = ON";
    QTest::newRow("boolean pragma read") << "PRAGMA foreign_keys";
    QTest::newRow("table_info") << "PRAGMA table_info(t)";
    QTest::newRow("table_list lists _cf_KV too") << "PRAGMA table_list";
    QTest::newRow("quick_check") << "PRAGMA quick_check";
    QTest::newRow("optimize") << "PRAGMA optimize";
    QTest::newRow("recursive CTE") << "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 "
                                      "FROM n WHERE x < 5) SELECT x FROM n";
    QTest::newRow("fts5") << "CREATE VIRTUAL TABLE docs USING fts5(body)";
    QTest::newRow("rtree") << "CREATE VIRTUAL TABLE boxes USING rtree(id, x0, x1)";
    QTest::newRow("drop table") << "DROP TABLE t";
}

void TestDoStorage::sqlAllowed()
{
    QFETCH(QString, sql);

    auto storage = makeStorage();
    QVERIFY(storage->put(QStringLiteral("k"), QByteArray("v")).ok());
    execOrDie(*storage, QStringLiteral("CREATE TABLE t (id INTEGER PRIMARY KEY)"));
    const Result<SqlCursor> cursor = storage->exec(sql);
    QVERIFY2(cursor.ok(), qPrintable(cursor.ok() ? QString() : cursor.error().message));
}

void TestDoStorage::sqlRowCounts()
{
    auto storage = makeStorage();
    execOrDie(*storage, QStringLiteral("CREATE TABLE t (a)"));

    const SqlCursor inserted
        = execOrDie(*storage, QStringLiteral("INSERT INTO t VALUES (1),(2),(3)"));
    QCOMPARE(inserted.rowsWritten, qint64(3));
    QCOMPARE(inserted.rowsRead, qint64(0));
    QVERIFY(inserted.rows.empty());

    const SqlCursor selected = execOrDie(*storage, QStringLiteral("SELECT * FROM t"));
    QCOMPARE(selected.rowsRead, qint64(3));
    QCOMPARE(selected.rowsWritten, qint64(0));
    QCOMPARE(selected.columnNames, QStringList({ "a" }));
    QCOMPARE(selected.rows.size(), std::size_t(3));
    QCOMPARE(selected.rows.at(2).at(0), QVariant(qint64(3)));

    const SqlCursor updated
        = execOrDie(*storage, QStringLiteral("UPDATE t SET a = a * 10 WHERE a > 1"));
    QCOMPARE(updated.rowsWritten, qint64(2));
    const SqlCursor created = execOrDie(*storage, QStringLiteral("CREATE TABLE u (b)"));
    QCOMPARE(created.rowsWritten, qint64(0));
}

void TestDoStorage::sqlMultipleStatements()
{
    auto storage = makeStorage();
    const SqlCursor cursor = execOrDie(*storage,
        QStringLiteral("CREATE TABLE t (a, b);\nINSERT INTO t VALUES (1, 'x');\n"
                       "INSERT INTO t VALUES (2, 'y'), (3, 'z');\n"
                       "SELECT a, b FROM t WHERE a >= ? ORDER BY a;\n\t "),
        { 2 });
    QCOMPARE(cursor.columnNames, QStringList({ "a", "b" }));
    QCOMPARE(cursor.rows.size(), std::size_t(2));
    QCOMPARE(
        cursor.rows.at(0), QVariantList({ QVariant(qint64(2)), QVariant(QStringLiteral("y")) }));
    QCOMPARE(
        cursor.rows.at(1), QVariantList({ QVariant(qint64(3)), QVariant(QStringLiteral("z")) }));
    QCOMPARE(cursor.rowsWritten, qint64(3));
    QCOMPARE(cursor.rowsRead, qint64(2));
    QVERIFY(storage->hasOpenBatch());
}

void TestDoStorage::sqlEarlierStatementsStayAfterError()
{
    auto storage = makeStorage();
    const Result<SqlCursor> failed
        = storage->exec(QStringLiteral("CREATE TABLE t (a); INSERT INTO nope VALUES (1)"));
    QVERIFY(!failed.ok());
    QCOMPARE(failed.error().message, QStringLiteral("no such table: nope: SQLITE_ERROR"));
    QCOMPARE(storage->tableNames(), QStringList({ "t" }));
    QVERIFY(storage->hasOpenBatch());
}

void TestDoStorage::sqlBindingsRoundTrip()
{
    auto storage = makeStorage();
    const QByteArray bytes("a\0b", 3);
    const QVariantList bindings { QVariant(), QVariant(qint64(1) << 40), QVariant(2.5),
        QVariant(QStringLiteral("h\u00E9 %1").arg(kSmile)), QVariant(bytes), QVariant(7) };
    const SqlCursor cursor = execOrDie(*storage,
        QStringLiteral("SELECT ? AS n, ? AS i, ? AS d, ? AS s, ? AS b, ? AS small"), bindings);
    QCOMPARE(cursor.columnNames, QStringList({ "n", "i", "d", "s", "b", "small" }));
    QCOMPARE(cursor.rows.size(), std::size_t(1));
    const QVariantList row = cursor.rows.front();
    QVERIFY(!row.at(0).isValid());
    QCOMPARE(row.at(1), QVariant(qint64(1) << 40));
    QCOMPARE(row.at(2), QVariant(2.5));
    QCOMPARE(row.at(3), QVariant(QStringLiteral("h\u00E9 %1").arg(kSmile)));
    QCOMPARE(row.at(4), QVariant(bytes));
    QCOMPARE(row.at(5), QVariant(qint64(7)));
    QVERIFY(!storage->hasOpenBatch()); // reading opens no batch
}

void TestDoStorage::sqlUnsupportedBinding()
{
    auto storage = makeStorage();
    const Result<SqlCursor> cursor
        = storage->exec(QStringLiteral("SELECT ?"), { QVariant(QDate(2026, 1, 1)) });
    QVERIFY(!cursor.ok());
    QCOMPARE(cursor.error(),
        Error::typeError(QStringLiteral(
            "SQL binding 1 is a QDate; expected null, a number, a string or bytes.")));
}

void TestDoStorage::cursorOne_data()
{
    QTest::addColumn<QString>("sql");
    QTest::addColumn<QString>("message"); // empty: one() returns the row

    QTest::newRow("one row") << "SELECT a FROM t WHERE a = 2" << QString();
    QTest::newRow("no rows") << "SELECT a FROM t WHERE a > 100"
                             << "Expected exactly one result from SQL query, but got no results.";
    QTest::newRow("several rows")
        << "SELECT a FROM t"
        << "Expected exactly one result from SQL query, but got multiple results.";
    QTest::newRow("a write") << "INSERT INTO t VALUES (4)"
                             << "Expected exactly one result from SQL query, but got no results.";
}

void TestDoStorage::cursorOne()
{
    QFETCH(QString, sql);
    QFETCH(QString, message);

    auto storage = makeStorage();
    execOrDie(*storage, QStringLiteral("CREATE TABLE t (a); INSERT INTO t VALUES (1), (2), (3)"));
    const Result<QVariantList> row = execOrDie(*storage, sql).one();
    if (message.isEmpty()) {
        QVERIFY(row.ok());
        QCOMPARE(*row, QVariantList({ QVariant(qint64(2)) }));
        return;
    }
    QVERIFY(!row.ok());
    QCOMPARE(row.error(), Error::error(message));
}

void TestDoStorage::keyValueBackendHasNoSql()
{
    auto storage = makeStorage(StorageBackend::KeyValue);
    QCOMPARE(storage->backend(), StorageBackend::KeyValue);
    const Result<SqlCursor> cursor = storage->exec(QStringLiteral("SELECT 1"));
    QVERIFY(!cursor.ok());
    QCOMPARE(cursor.error(), Error::error(kSqlNotEnabled));

    // The KV-style API works, over the same kind of table.
    seed(*storage, { "b", "a" });
    QCOMPARE(listKeys(*storage), QStringList({ "a", "b" }));
    QCOMPARE(storage->tableNames(), QStringList({ "_cf_KV" }));
}

void TestDoStorage::syncKvAvailability_data()
{
    QTest::addColumn<StorageBackend>("backend");
    QTest::addColumn<bool>("available");

    QTest::newRow("SQLite") << StorageBackend::Sqlite << true;
    QTest::newRow("KeyValue") << StorageBackend::KeyValue << false;
}

void TestDoStorage::syncKvAvailability()
{
    QFETCH(StorageBackend, backend);
    QFETCH(bool, available);

    const Status status = makeStorage(backend)->checkSyncKvAvailable();
    QCOMPARE(status.ok(), available);
    if (available)
        return;
    QCOMPARE(status.error().kind, Error::Kind::Error);
    QVERIFY2(status.error().message.startsWith(kSyncKvPrefix), qPrintable(status.error().message));
    QCOMPARE(status.error().message,
        kSyncKvPrefix
            + QStringLiteral(
                ", but this object's namespace is not declared to use SQLite. You can use "
                "the older, asyncronous interface via methods of `storage` itself (e.g. "
                "`storage.get()`). Alternatively, to enable SQLite, change `new_classes` to "
                "`new_sqlite_classes` within the 'migrations' field in your wrangler.jsonc "
                "or wrangler.toml file. If using workerd directly, set `enableSql = true` in "
                "your workerd config for the class. Note that this change cannot be made "
                "after the class is already deployed to production."));
}

// --- Limits -----------------------------------------------------------------------------------

enum class KvCall { Get, Put, Delete, GetMany, PutMany, DeleteMany };
Q_DECLARE_METATYPE(KvCall)

namespace {

Status callKv(DurableObjectStorage &storage, KvCall call, const QString &key,
    const QByteArray &value, int count)
{
    QStringList keys;
    StorageEntries entries;
    for (int i = 0; i < count; ++i) {
        keys << QStringLiteral("k%1").arg(i);
        entries.emplace_back(keys.back(), QByteArray("v"));
    }
    if (!key.isEmpty()) {
        keys << key;
        entries.emplace_back(key, value);
    }
    switch (call) {
    case KvCall::Get: {
        const Result<Value> read = storage.get(key);
        return read ? Status(Done {}) : Status(read.error());
    }
    case KvCall::Put:
        return storage.put(key, value);
    case KvCall::Delete: {
        const Result<bool> removed = storage.remove(key);
        return removed ? Status(Done {}) : Status(removed.error());
    }
    case KvCall::GetMany: {
        const Result<StorageEntries> read = storage.get(keys);
        return read ? Status(Done {}) : Status(read.error());
    }
    case KvCall::PutMany:
        return storage.put(entries);
    case KvCall::DeleteMany: {
        const Result<qint64> removed = storage.remove(keys);
        return removed ? Status(Done {}) : Status(removed.error());
    }
    }
    return Done {};
}

} // namespace

void TestDoStorage::keyValueLimits_data()
{
    QTest::addColumn<KvCall>("call");
    QTest::addColumn<int>("keyBytes"); // 0: no extra key
    QTest::addColumn<int>("valueBytes");
    QTest::addColumn<int>("count"); // other keys in a batch call
    QTest::addColumn<QString>("message"); // the RangeError when enforced; empty: accepted

    const QString key2049
        = QStringLiteral("Keys cannot be larger than 2048 bytes. A key of size 2049 was provided.");
    QTest::newRow("get 2048-byte key") << KvCall::Get << 2048 << 0 << 0 << QString();
    QTest::newRow("get 2049-byte key") << KvCall::Get << 2049 << 0 << 0 << key2049;
    QTest::newRow("put 2049-byte key") << KvCall::Put << 2049 << 1 << 0 << key2049;
    QTest::newRow("delete 2049-byte key") << KvCall::Delete << 2049 << 0 << 0 << key2049;
    QTest::newRow("put value at the enforced size") << KvCall::Put << 1 << 131106 << 0 << QString();
    QTest::newRow("put value over the enforced size")
        << KvCall::Put << 1 << 131107 << 0
        << "Values cannot be larger than 131072 bytes. A value of size 131107 was provided.";
    QTest::newRow("put value of 200000 bytes")
        << KvCall::Put << 1 << 200000 << 0
        << "Values cannot be larger than 131072 bytes. A value of size 200000 was provided.";
    QTest::newRow("get 128 keys") << KvCall::GetMany << 0 << 0 << 128 << QString();
    QTest::newRow("get 129 keys")
        << KvCall::GetMany << 0 << 0 << 129
        << "Maximum number of key value pairs is 128. 129 pairs were provided.";
    QTest::newRow("get many with a long key") << KvCall::GetMany << 2049 << 0 << 1 << QString();
    QTest::newRow("put 128 pairs") << KvCall::PutMany << 0 << 0 << 128 << QString();
    QTest::newRow("put 129 pairs")
        << KvCall::PutMany << 0 << 0 << 129 << "Maximum number of pairs is 128.";
    QTest::newRow("put many with a long key") << KvCall::PutMany << 2049 << 1 << 3 << key2049;
    QTest::newRow("put many with a large value")
        << KvCall::PutMany << 1 << 131107 << 3
        << "Values cannot be larger than 131072 bytes. A value of size 131107 was provided.";
    QTest::newRow("delete 128 keys") << KvCall::DeleteMany << 0 << 0 << 128 << QString();
    QTest::newRow("delete 129 keys")
        << KvCall::DeleteMany << 0 << 0 << 129 << "Maximum number of keys is 128.";
    QTest::newRow("delete many with a long key") << KvCall::DeleteMany << 2049 << 0 << 3 << key2049;
}

void TestDoStorage::keyValueLimits()
{
    QFETCH(KvCall, call);
    QFETCH(int, keyBytes);
    QFETCH(int, valueBytes);
    QFETCH(int, count);
    QFETCH(QString, message);

    const QString key = keyBytes > 0 ? keyOfBytes(keyBytes) : QString();
    const QByteArray value(valueBytes, 'v');

    auto local = makeStorage(StorageBackend::KeyValue, false);
    const Status localStatus = callKv(*local, call, key, value, count);
    QVERIFY2(
        localStatus.ok(), qPrintable(localStatus.ok() ? QString() : localStatus.error().message));

    auto production = makeStorage(StorageBackend::KeyValue, true);
    const Status status = callKv(*production, call, key, value, count);
    if (message.isEmpty()) {
        QVERIFY2(status.ok(), qPrintable(status.ok() ? QString() : status.error().message));
        return;
    }
    QVERIFY(!status.ok());
    QCOMPARE(status.error(), Error::rangeError(message));
    QVERIFY(!production->hasOpenBatch());
    QCOMPARE(listKeys(*production), QStringList());
}

void TestDoStorage::batchLimitFailureWritesNothing()
{
    auto storage = makeStorage(StorageBackend::KeyValue, true);
    const StorageEntries entries { { "a", "1" }, { "b", QByteArray(131107, 'v') }, { "c", "3" } };
    const Status put = storage->put(entries);
    QVERIFY(!put.ok());
    QCOMPARE(put.error().kind, Error::Kind::RangeError);
    QCOMPARE(listKeys(*storage), QStringList());
    QVERIFY(!storage->hasOpenBatch());
}

void TestDoStorage::sqliteEntryLimit_data()
{
    QTest::addColumn<bool>("enforce");
    QTest::addColumn<int>("valueBytes"); // the key is "key", 3 bytes
    QTest::addColumn<QString>("message"); // empty: accepted

    QTest::newRow("production at the limit") << true << 1'999'997 << QString();
    QTest::newRow("production over the limit")
        << true << 1'999'998
        << "Key plus value cannot be larger than 2000000 bytes on a SQLite-backed Durable "
           "Object. A key and value of 2000001 bytes were provided.";
    QTest::newRow("local over the production limit") << false << 2'100'000 << QString();
    QTest::newRow("production key size is not limited alone") << true << 10 << QString();
}

void TestDoStorage::sqliteEntryLimit()
{
    QFETCH(bool, enforce);
    QFETCH(int, valueBytes);
    QFETCH(QString, message);

    auto storage = makeStorage(StorageBackend::Sqlite, enforce);
    const QByteArray value(valueBytes, 'v');
    const Status put = storage->put(QStringLiteral("key"), value);
    if (message.isEmpty()) {
        QVERIFY2(put.ok(), qPrintable(put.ok() ? QString() : put.error().message));
        QCOMPARE(storage->get(QStringLiteral("key")).value(), Value(value));
        // The KeyValue backend's 2048-byte key limit does not apply.
        QVERIFY(storage->put(keyOfBytes(4000), QByteArray("v")).ok());
        return;
    }
    QVERIFY(!put.ok());
    QCOMPARE(put.error(), Error::rangeError(message));
    QCOMPARE(storage->get(QStringLiteral("key")).value(), Value());
    QVERIFY(!storage->hasOpenBatch());
}

void TestDoStorage::sqliteValueTooBigLocally()
{
    auto storage = makeStorage();
    QVERIFY(storage->put(QStringLiteral("a"), QByteArray("1")).ok());
    const StorageEntries entries { { "b", "2" },
        { "c", QByteArray(dostorage::kLocalMaxSqliteLength + 1, 'v') } };
    const Status put = storage->put(entries);
    QVERIFY(!put.ok());
    QCOMPARE(put.error(), Error::error(QStringLiteral("string or blob too big: SQLITE_TOOBIG")));
    // The batch keeps "a" and has neither "b" nor "c".
    QCOMPARE(listKeys(*storage), QStringList({ "a" }));
    QVERIFY(storage->hasOpenBatch());
}

void TestDoStorage::sqlStatementLimits_data()
{
    QTest::addColumn<bool>("enforce");

    QTest::newRow("production") << true;
    QTest::newRow("local workerd too") << false;
}

void TestDoStorage::sqlStatementLimits()
{
    QFETCH(bool, enforce);
    auto storage = makeStorage(StorageBackend::Sqlite, enforce);

    // 100,000 bytes of SQL text pass and one more byte does not.
    const QString select = QStringLiteral("SELECT '';");
    const QString padded = select + QString(dostorage::kMaxStatementBytes - select.size(), ' ');
    QVERIFY(storage->exec(padded).ok());
    const Result<SqlCursor> tooLong = storage->exec(padded + QLatin1Char(' '));
    QVERIFY(!tooLong.ok());
    QCOMPARE(tooLong.error(), Error::error(QStringLiteral("statement too long: SQLITE_TOOBIG")));

    QVariantList bindings;
    QStringList markers;
    for (int i = 0; i < dostorage::kMaxBoundParameters; ++i) {
        bindings << i;
        markers << QStringLiteral("?");
    }
    const QString hundred = QStringLiteral("SELECT ") + markers.join(QLatin1Char(','));
    const Result<SqlCursor> cursor = storage->exec(hundred, bindings);
    QVERIFY(cursor.ok());
    QCOMPARE(cursor->rows.front().size(), dostorage::kMaxBoundParameters);
    const Result<SqlCursor> tooMany
        = storage->exec(hundred + QStringLiteral(",?"), bindings + QVariantList { 100 });
    QVERIFY(!tooMany.ok());
    QCOMPARE(tooMany.error(),
        Error::error(QStringLiteral("too many SQL variables at offset 207: SQLITE_ERROR")));
}

void TestDoStorage::sqlLengthLimit_data()
{
    QTest::addColumn<bool>("enforce");
    QTest::addColumn<int>("bytes");
    QTest::addColumn<bool>("accepted");

    QTest::newRow("production at 2,000,000 bytes") << true << 2'000'000 << true;
    QTest::newRow("production over 2,000,000 bytes") << true << 2'000'001 << false;
    QTest::newRow("local over 2,000,000 bytes") << false << 2'000'001 << true;
    QTest::newRow("local at 4 MiB") << false << dostorage::kLocalMaxSqliteLength << true;
    QTest::newRow("local over 4 MiB") << false << dostorage::kLocalMaxSqliteLength + 1 << false;
}

void TestDoStorage::sqlLengthLimit()
{
    QFETCH(bool, enforce);
    QFETCH(int, bytes);
    QFETCH(bool, accepted);

    auto storage = makeStorage(StorageBackend::Sqlite, enforce);
    // The limit applies to each string or BLOB and to a whole row, header bytes included.
    const Result<SqlCursor> cursor
        = storage->exec(QStringLiteral("SELECT length(zeroblob(?))"), { bytes });
    if (accepted) {
        QVERIFY2(cursor.ok(), qPrintable(cursor.ok() ? QString() : cursor.error().message));
        QCOMPARE(cursor->rows.front().front(), QVariant(qint64(bytes)));
    } else {
        QVERIFY(!cursor.ok());
        QCOMPARE(
            cursor.error(), Error::error(QStringLiteral("string or blob too big: SQLITE_TOOBIG")));
    }
    // KV writes keep the local SQLite limit; the production key plus value check is separate.
    QVERIFY(storage->put(QStringLiteral("k"), QByteArray("v")).ok());
}

// --- Images, deleteAll() and the inspector ----------------------------------------------------

void TestDoStorage::serializeRoundTrip()
{
    auto storage = makeStorage();
    seed(*storage, { "b", "a", kSmile });
    execOrDie(*storage, QStringLiteral("CREATE TABLE t (a, b); INSERT INTO t VALUES (1, x'00ff')"));
    QVERIFY(storage->commitBatch().ok());
    const QByteArray image = storage->serialize();
    QVERIFY(!image.isEmpty());

    auto restored
        = DurableObjectStorage::deserialize(StorageBackend::Sqlite, StorageLimits {}, image);
    QVERIFY2(restored.ok(), qPrintable(restored.ok() ? QString() : restored.error().message));
    DurableObjectStorage &copy = *restored.value();
    QCOMPARE(listKeys(copy), QStringList({ "a", "b", kSmile }));
    QCOMPARE(copy.get(kSmile).value(), Value(kSmile.toUtf8()));
    QCOMPARE(copy.tableNames(), QStringList({ "_cf_KV", "t" }));
    const SqlCursor row = execOrDie(copy, QStringLiteral("SELECT a, b FROM t"));
    QCOMPARE(
        row.rows.front(), QVariantList({ QVariant(qint64(1)), QVariant(QByteArray("\0\xff", 2)) }));
    QCOMPARE(copy.serialize(), image);

    // The copy is independent, and the authorizer guards it too.
    QVERIFY(copy.put(QStringLiteral("c"), QByteArray("3")).ok());
    QVERIFY(copy.commitBatch().ok());
    QCOMPARE(listKeys(*storage), QStringList({ "a", "b", kSmile }));
    QVERIFY(!copy.exec(QStringLiteral("SELECT * FROM _cf_KV")).ok());
}

void TestDoStorage::serializeIncludesOpenBatch()
{
    auto storage = makeStorage();
    seed(*storage, { "committed" });
    QVERIFY(storage->put(QStringLiteral("pending"), QByteArray("v")).ok());
    const QByteArray image = storage->serialize();
    QVERIFY(storage->hasOpenBatch()); // serializing leaves the batch open

    auto restored
        = DurableObjectStorage::deserialize(StorageBackend::Sqlite, StorageLimits {}, image);
    QVERIFY(restored.ok());
    QCOMPARE(listKeys(*restored.value()), QStringList({ "committed", "pending" }));
    QVERIFY(!restored.value()->hasOpenBatch());
}

void TestDoStorage::deserializeEmptyImage()
{
    auto empty = makeStorage();
    QCOMPARE(empty->serialize(), QByteArray());
    auto restored = DurableObjectStorage::deserialize(
        StorageBackend::Sqlite, StorageLimits {}, empty->serialize());
    QVERIFY(restored.ok());
    QCOMPARE(restored.value()->tableNames(), QStringList());
    QVERIFY(restored.value()->put(QStringLiteral("k"), QByteArray("v")).ok());
}

void TestDoStorage::deserializeInvalidImage()
{
    const auto restored = DurableObjectStorage::deserialize(
        StorageBackend::Sqlite, StorageLimits {}, QByteArray(4096, 'x'));
    QVERIFY(!restored.ok());
    QCOMPARE(restored.error(),
        Error::error(QStringLiteral(
            "Cannot load the storage image: file is not a database: SQLITE_NOTADB")));
}

void TestDoStorage::deleteAllWipesEverything_data()
{
    QTest::addColumn<bool>("commit");

    QTest::newRow("committed") << true;
    QTest::newRow("rolled back") << false;
}

void TestDoStorage::deleteAllWipesEverything()
{
    QFETCH(bool, commit);

    auto storage = makeStorage();
    seed(*storage, { "a", "b" });
    execOrDie(*storage,
        QStringLiteral("CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, a);"
                       "CREATE INDEX t_a ON t (a);"
                       "CREATE VIEW v AS SELECT a FROM t;"
                       "CREATE TABLE log (a);"
                       "CREATE TRIGGER t_log AFTER INSERT ON t BEGIN INSERT INTO log "
                       "VALUES (new.a); END;"
                       "INSERT INTO t (a) VALUES (1);"
                       "CREATE VIRTUAL TABLE docs USING fts5(body);"
                       "INSERT INTO docs VALUES ('hello');"
                       "ANALYZE"));
    QVERIFY(storage->commitBatch().ok());
    const QStringList tablesBefore = storage->tableNames();
    QCOMPARE(tablesBefore.mid(0, 4), QStringList({ "_cf_KV", "t", "log", "docs" }));
    // FTS5 keeps its index in shadow tables that DROP TABLE docs removes with it.
    QVERIFY2(
        tablesBefore.contains(QStringLiteral("docs_data")), qPrintable(tablesBefore.join(',')));

    // A pending write is wiped as well.
    QVERIFY(storage->put(QStringLiteral("c"), QByteArray("3")).ok());
    QVERIFY(storage->deleteAll().ok());
    QVERIFY(storage->hasOpenBatch());
    QCOMPARE(listKeys(*storage), QStringList());
    QCOMPARE(storage->get(QStringLiteral("a")).value(), Value());
    QCOMPARE(storage->tableNames(), QStringList());
    const SqlCursor schema = execOrDie(
        *storage, QStringLiteral("SELECT name FROM sqlite_master WHERE name <> 'sqlite_sequence'"));
    QCOMPARE(schema.rows.size(), std::size_t(0));

    if (commit) {
        QVERIFY(storage->commitBatch().ok());
        QCOMPARE(storage->tableNames(), QStringList());
        // Storage is usable again, _cf_KV included.
        QVERIFY(storage->put(QStringLiteral("z"), QByteArray("26")).ok());
        QCOMPARE(listKeys(*storage), QStringList({ "z" }));
    } else {
        storage->rollbackBatch();
        QCOMPARE(storage->tableNames(), tablesBefore);
        QCOMPARE(listKeys(*storage), QStringList({ "a", "b" }));
        QCOMPARE(execOrDie(*storage, QStringLiteral("SELECT count(*) FROM log")).rows.at(0).at(0),
            QVariant(qint64(1)));
    }
}

void TestDoStorage::deleteAllWithForeignKeys()
{
    auto storage = makeStorage();
    execOrDie(*storage, QStringLiteral("PRAGMA foreign_keys = ON"));
    execOrDie(*storage,
        QStringLiteral("CREATE TABLE parent (id INTEGER PRIMARY KEY);"
                       "CREATE TABLE child (p REFERENCES parent (id));"
                       "INSERT INTO parent VALUES (1); INSERT INTO child VALUES (1)"));
    QVERIFY(storage->commitBatch().ok());

    QVERIFY(storage->deleteAll().ok());
    QVERIFY(storage->commitBatch().ok());
    QCOMPARE(storage->tableNames(), QStringList());
}

void TestDoStorage::inspectReadsHiddenTable()
{
    for (StorageBackend backend : { StorageBackend::Sqlite, StorageBackend::KeyValue }) {
        auto storage = makeStorage(backend);
        seed(*storage, { "b", "a" });
        const Result<SqlCursor> cursor
            = storage->inspect(QStringLiteral("SELECT key, value FROM _cf_KV ORDER BY key"));
        QVERIFY2(cursor.ok(), qPrintable(cursor.ok() ? QString() : cursor.error().message));
        QCOMPARE(cursor->columnNames, QStringList({ "key", "value" }));
        QCOMPARE(cursor->rows.size(), std::size_t(2));
        QCOMPARE(cursor->rows.at(0),
            QVariantList({ QVariant(QStringLiteral("a")), QVariant(QByteArray("a")) }));
    }
}

void TestDoStorage::inspectRejectsWrites_data()
{
    QTest::addColumn<QString>("sql");
    QTest::addColumn<bool>("accepted");

    QTest::newRow("delete") << "DELETE FROM _cf_KV" << false;
    QTest::newRow("create table") << "CREATE TABLE x (a)" << false;
    QTest::newRow("commit") << "COMMIT" << false;
    QTest::newRow("rollback") << "ROLLBACK" << false;
    QTest::newRow("savepoint") << "SAVEPOINT s" << false;
    QTest::newRow("set a pragma") << "PRAGMA user_version = 5" << false;
    QTest::newRow("set foreign keys") << "PRAGMA foreign_keys = OFF" << false;
    QTest::newRow("read a pragma") << "PRAGMA user_version" << true;
    QTest::newRow("table_info of _cf_KV") << "PRAGMA table_info(_cf_KV)" << true;
    QTest::newRow("count") << "SELECT count(*) FROM _cf_KV" << true;
}

void TestDoStorage::inspectRejectsWrites()
{
    QFETCH(QString, sql);
    QFETCH(bool, accepted);

    auto storage = makeStorage();
    seed(*storage, { "a" });
    QVERIFY(storage->put(QStringLiteral("pending"), QByteArray("v")).ok());

    const Result<SqlCursor> cursor = storage->inspect(sql);
    if (accepted) {
        QVERIFY2(cursor.ok(), qPrintable(cursor.ok() ? QString() : cursor.error().message));
    } else {
        QVERIFY(!cursor.ok());
        QCOMPARE(cursor.error(),
            Error::error(QStringLiteral("The storage inspector runs read-only statements only.")));
    }
    // The batch is untouched: still open, and still able to roll back.
    QVERIFY(storage->hasOpenBatch());
    storage->rollbackBatch();
    QCOMPARE(listKeys(*storage), QStringList({ "a" }));
    QCOMPARE(storage->inspect(QStringLiteral("PRAGMA user_version")).value().rows.at(0).at(0),
        QVariant(qint64(0)));
}

void TestDoStorage::tableNamesInSchemaOrder()
{
    auto storage = makeStorage();
    execOrDie(*storage, QStringLiteral("CREATE TABLE t2 (a)"));
    QVERIFY(storage->put(QStringLiteral("k"), QByteArray("v")).ok());
    execOrDie(*storage, QStringLiteral("CREATE TABLE t1 (a); CREATE VIEW v AS SELECT 1"));
    QCOMPARE(storage->tableNames(), QStringList({ "t2", "_cf_KV", "t1" }));
}

void TestDoStorage::databaseSizeCountsUsedPages()
{
    auto storage = makeStorage();
    QCOMPARE(storage->databaseSize(), qint64(0));
    execOrDie(*storage, QStringLiteral("CREATE TABLE t (a)"));
    execOrDie(*storage, QStringLiteral("INSERT INTO t VALUES (randomblob(20000))"));
    QVERIFY(storage->commitBatch().ok());
    const qint64 used = storage->databaseSize();
    QVERIFY2(used > 20000, qPrintable(QString::number(used)));
    QCOMPARE(used % 4096, qint64(0));

    QVERIFY(storage->deleteAll().ok());
    QVERIFY(storage->commitBatch().ok());
    // Only page 1, the schema, stays in use; the freed pages are on the freelist.
    QCOMPARE(storage->databaseSize(), qint64(4096));
}

QTEST_GUILESS_MAIN(TestDoStorage)
#include "tst_dostorage.moc"
