#pragma once

#include "result.h"

#include <QByteArray>
#include <QString>
#include <QStringList>
#include <QStringView>
#include <QVariantList>

#include <array>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace roomscope {

/// The storage backend of a Durable Object class: `new_sqlite_classes` (Sqlite) or
/// `new_classes` (KeyValue) in the wrangler migrations.
enum class StorageBackend { Sqlite, KeyValue };

/// Whether the production size limits of Durable Object storage apply. Local workerd does not
/// enforce them, so `enforce = false` behaves like `wrangler dev`.
struct StorageLimits
{
    bool enforce = false;
};

/// Key-value pairs in UTF-8 byte order of their keys.
using StorageEntries = std::vector<std::pair<QString, QByteArray>>;

/// The options of list(). `start` is inclusive, `startAfter` and `end` are exclusive, and
/// `reverse` walks from the high end without changing what `start` and `end` mean.
struct StorageListOptions
{
    std::optional<QString> start;
    std::optional<QString> startAfter;
    std::optional<QString> end;
    std::optional<QString> prefix;
    bool reverse = false;
    std::optional<qint64> limit;
};

/// The fully read result of the last statement of an exec().
struct SqlCursor
{
    QStringList columnNames;
    /// One QVariantList per row. A value is an invalid QVariant for NULL, or a qint64, double,
    /// QString or QByteArray.
    std::vector<QVariantList> rows;
    /// Rows that the statements returned, summed over all statements of the exec. The platform
    /// counts every row that SQLite scans instead, so a filtered full-table scan reads more there.
    qint64 rowsRead = 0;
    /// Rows that INSERT, UPDATE and DELETE changed, summed over all statements of the exec and
    /// including rows changed by triggers. The platform also counts index rows written.
    qint64 rowsWritten = 0;

    /// The only row, or workerd's error when there are no rows or several.
    Result<QVariantList> one() const;
};

/// Durable Object storage limits, from Cloudflare's limits page
/// (developers.cloudflare.com/durable-objects/platform/limits) and workerd's sources.
namespace dostorage {

/// UTF-8 bytes of a key, KeyValue backend.
constexpr qsizetype kMaxKeyBytes = 2048;
/// The advertised size of a serialized value, KeyValue backend, and the number in its error.
constexpr qsizetype kMaxValueBytes = 128 * 1024;
/// The size of a serialized value that workerd accepts: kMaxValueBytes plus 34 bytes for the
/// V8 serialization header and type tags (workerd src/workerd/io/actor-storage.h).
constexpr qsizetype kEnforcedMaxValueBytes = kMaxValueBytes + 34;
/// Keys of get(keys), pairs of put(entries) and keys of delete(keys), KeyValue backend.
constexpr qsizetype kMaxBatchKeys = 128;
/// Key plus value, SQLite backend. Cloudflare's limits page gives "2 MB", and D1's limits page,
/// which has the same SQL limits table, spells 2 MB out as 2,000,000 bytes.
constexpr qsizetype kMaxSqliteEntryBytes = 2'000'000;
/// String, BLOB or row size in SQL on the SQLite backend in production (2 MB as above).
constexpr int kMaxSqliteLength = 2'000'000;
/// String, BLOB or row size that local workerd allows (SQLITE_LIMIT_LENGTH, 4 MiB).
constexpr int kLocalMaxSqliteLength = 4 * 1024 * 1024;
/// Bytes of the SQL text of one exec(), local and production (SQLITE_LIMIT_SQL_LENGTH).
constexpr int kMaxStatementBytes = 100'000;
/// Bound parameters of a statement, local and production (SQLITE_LIMIT_VARIABLE_NUMBER).
constexpr int kMaxBoundParameters = 100;
/// Arguments of an SQL function: 32 in production, 127 in local workerd.
constexpr int kMaxFunctionArguments = 32;
constexpr int kLocalMaxFunctionArguments = 127;

} // namespace dostorage

/// The synchronous storage core of one Durable Object: an in-memory SQLite database.
///
/// The KV-style API stores its entries in the table `_cf_KV (key TEXT PRIMARY KEY, value BLOB)
/// WITHOUT ROWID`, created on the first write as workerd creates it. TEXT under SQLite's BINARY
/// collation compares UTF-8 bytes, which is the platform's key order. A value is the serialized
/// form of a JavaScript value, opaque here.
///
/// Every write, from the KV API or from SQL, goes straight into SQLite inside a write batch: the
/// first write opens it with BEGIN, and the runtime ends it with commitBatch() or
/// rollbackBatch(). Reads see the writes of the open batch at once. Transactions are SAVEPOINTs
/// inside the batch.
///
/// exec() runs user SQL under an authorizer with workerd's rules. It rejects transaction
/// statements and any access to tables whose names start with `_cf_`. It allows a short list of
/// pragmas, and it rejects ATTACH, temporary objects and virtual tables other than FTS5 and
/// R*Tree. The connection has the SQLite limits that workerd sets, locally too: 100,000 bytes of
/// SQL text per exec(), 100 bound parameters, 100 columns, 5 terms in a compound SELECT and a
/// 50-byte LIKE pattern.
///
/// Not thread-safe: one object's storage is used by one thread of execution.
class DurableObjectStorage
{
public:
    static Result<std::unique_ptr<DurableObjectStorage>> create(
        StorageBackend backend, StorageLimits limits);
    /// Opens a database image made by serialize() (sqlite3_deserialize), for saved sessions. An
    /// empty image gives an empty database.
    static Result<std::unique_ptr<DurableObjectStorage>> deserialize(
        StorageBackend backend, StorageLimits limits, const QByteArray &image);
    ~DurableObjectStorage();
    DurableObjectStorage(const DurableObjectStorage &) = delete;
    DurableObjectStorage &operator=(const DurableObjectStorage &) = delete;

    /// The whole database as sqlite3_serialize writes it, or an empty array for a database with
    /// no pages. The image contains the writes of an open batch too, so serialize after
    /// commitBatch() to save only confirmed writes.
    QByteArray serialize() const;
    StorageBackend backend() const { return m_backend; }
    StorageLimits limits() const { return m_limits; }

    // The KV-style API. It is asynchronous in JavaScript and synchronous here. std::nullopt is
    // `undefined`.

    Result<std::optional<QByteArray>> get(const QString &key);
    /// The entries of the keys that exist, in UTF-8 byte order of the keys, each key once.
    Result<StorageEntries> get(const QStringList &keys);
    /// Writes a value. std::nullopt gives TypeError `put() called with undefined value.`.
    Status put(const QString &key, const std::optional<QByteArray> &value);
    /// Writes all entries or, when one fails a check, none. A later entry for a key wins.
    Status put(const StorageEntries &entries);
    /// Deletes a key and returns whether it existed.
    Result<bool> remove(const QString &key);
    /// Deletes keys and returns how many existed. Writes nothing when a key fails a check.
    Result<qint64> remove(const QStringList &keys);
    Result<StorageEntries> list(const StorageListOptions &options);
    /// Deletes every table, view, index and trigger, `_cf_KV` included, inside the write batch,
    /// so a later rollbackBatch() brings them back. The alarm is runtime state and stays: the
    /// runtime clears it when its compatibility profile deletes the alarm with the data.
    Status deleteAll();

    // The write batch.

    bool hasOpenBatch() const { return m_batchOpen; }
    /// Commits the open batch (COMMIT); does nothing when none is open. Fails while a
    /// transaction is open. When COMMIT itself fails (a deferred foreign key check), the batch
    /// stays open for rollbackBatch().
    Status commitBatch();
    /// Discards the open batch and every transaction in it (ROLLBACK): an injected storage
    /// failure or a reset of the object.
    void rollbackBatch();

    // transaction(async txn => ...) and transactionSync(fn): a SAVEPOINT inside the batch.

    /// Starts a transaction, nested in any open one, and opens the batch if none is open.
    Status beginTransaction();
    /// Keeps the innermost transaction's writes in the batch (RELEASE). Fails with
    /// `Cannot commit transaction due to an earlier SQL critical error` when a statement's
    /// conflict resolution made SQLite roll back the whole batch during the transaction. On
    /// failure the transaction stays open for rollbackTransaction().
    Status commitTransaction();
    /// Discards the innermost transaction's writes (ROLLBACK TO, then RELEASE).
    void rollbackTransaction();
    int transactionDepth() const { return m_transactionDepth; }

    /// workerd's error for a call on a transaction after txn.rollback(). `op` is the call as
    /// workerd names it, for example "get()".
    static Error rolledBackError(QStringView op);
    /// workerd's error for a call on a transaction after its callback returned.
    static Error committedError(QStringView op);
    /// Done on the SQLite backend. On the KeyValue backend, workerd's error for
    /// transactionSync(): `Durable Object is not backed by SQL.`.
    Status checkTransactionSyncAvailable() const;

    // SQL, SQLite backend only.

    /// Runs one or more statements; `bindings` apply to the last one, which gives the cursor.
    /// Each statement is atomic, but when a later statement fails, the earlier ones stay
    /// written, as in workerd. Errors read like workerd's: `near "SELEC": syntax error at offset
    /// 0: SQLITE_ERROR`.
    /// NOTE: SQL functions that read the clock or random numbers (`datetime('now')`, `random()`)
    /// use the real clock and SQLite's own generator, so runs that call them are not
    /// reproducible from the seed.
    Result<SqlCursor> exec(const QString &query, const QVariantList &bindings = {});
    /// Bytes of the pages in use, (page_count - freelist_count) * page_size, as workerd
    /// computes sql.databaseSize.
    qint64 databaseSize() const;

    /// Done on the SQLite backend. On the KeyValue backend, workerd's error for
    /// `ctx.storage.kv`, which starts `The storage.kv (synchronous KV) API is only available for
    /// SQLite-backed Durable Objects`. The synchronous KV API has the semantics of the KV-style
    /// methods above.
    Status checkSyncKvAvailable() const;

    // For the room inspector.

    /// Runs read-only statements without workerd's rules, so `_cf_KV` can be read. Works on both
    /// backends. Writes, transaction statements and pragmas that set a value give an error and
    /// change nothing.
    Result<SqlCursor> inspect(const QString &query);
    /// Every table except SQLite's own `sqlite_*` tables, `_cf_KV` included when it exists, in
    /// sqlite_master order.
    QStringList tableNames();

private:
    enum class SqlMode { User, Inspector };
    /// The rules the authorizer applies to the statement being prepared or stepped.
    enum class AuthorizerRules {
        None, ///< trusted SQL of this class
        Workerd, ///< exec(): workerd's rules for user SQL
        ReadOnly, ///< inspect(): reads, and pragmas that only read
    };
    enum KvStatement {
        KvGet,
        KvPut,
        KvDelete,
        KvListUp,
        KvListUpTo,
        KvListDown,
        KvListDownTo,
        KvStatementCount,
    };

    DurableObjectStorage(sqlite3 *db, StorageBackend backend, StorageLimits limits);
    static Result<std::unique_ptr<DurableObjectStorage>> open(
        StorageBackend backend, StorageLimits limits, const QByteArray *image);
    static int authorizerCallback(void *storage, int action, const char *first, const char *second,
        const char *database, const char *trigger);
    int authorize(int action, const char *first, const char *second, const char *database);
    int authorizeReadOnly(int action, const char *first, const char *second);

    Result<SqlCursor> run(const QString &query, const QVariantList &bindings, SqlMode mode);
    void noteFailedStatement();
    Error sqlError(int code) const;
    Status execute(const char *sql);
    void executeCleanup(const char *sql);
    Status ensureBatch();
    Status ensureKvTable();
    void refreshKvTableState();
    Result<sqlite3_stmt *> kvStatement(KvStatement kind);
    Status writeEntry(const QString &key, const QByteArray &value);
    Status writeEntries(const StorageEntries &entries);
    Result<bool> deleteEntry(const QString &key);
    Result<qint64> deleteEntries(const QStringList &keys);
    Status dropEverything();
    Status checkEntry(const QString &key, const QByteArray &value) const;
    Status checkKey(const QString &key) const;

    sqlite3 *m_db = nullptr;
    StorageBackend m_backend;
    StorageLimits m_limits;
    bool m_batchOpen = false;
    int m_transactionDepth = 0;
    /// Set when SQLite rolled back the whole batch while transactions were open, so their
    /// savepoints are gone.
    bool m_savepointsLost = false;
    bool m_kvTableExists = false;
    AuthorizerRules m_authorizerRules = AuthorizerRules::None;
    /// The error that the authorizer chose for the statement being prepared.
    std::optional<Error> m_authorizerError;
    std::array<sqlite3_stmt *, KvStatementCount> m_kvStatements {};
};

} // namespace roomscope
