#include "kvstore.h"

#include <QLoggingCategory>

#include <sqlite3.h>

#include <memory>

Q_LOGGING_CATEGORY(lcKvStore, "roomscope.sim.kvstore", QtWarningMsg)

namespace roomscope {

namespace {

constexpr const char *kSchema = R"sql(
CREATE TABLE IF NOT EXISTS kv_entries (
    key BLOB PRIMARY KEY NOT NULL,
    value BLOB NOT NULL,
    metadata BLOB,
    expiration INTEGER,
    version INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

// Resets a statement when the scope ends, so it never holds a read lock or stale bindings.
struct StatementScope
{
    sqlite3_stmt *statement;
    ~StatementScope()
    {
        sqlite3_reset(statement);
        sqlite3_clear_bindings(statement);
    }
};

void bindBlob(sqlite3_stmt *statement, int index, const QByteArray &bytes)
{
    // An empty QByteArray may have a null data pointer, which SQLite would store as NULL.
    static const char empty = 0;
    sqlite3_bind_blob64(statement, index, bytes.isEmpty() ? &empty : bytes.constData(),
                        sqlite3_uint64(bytes.size()), SQLITE_TRANSIENT);
}

QByteArray columnBlob(sqlite3_stmt *statement, int column)
{
    const void *data = sqlite3_column_blob(statement, column);
    const int size = sqlite3_column_bytes(statement, column);
    return QByteArray(static_cast<const char *>(data), size);
}

// The smallest byte string greater than every string that starts with `prefix`. With no such
// string (an empty prefix, or one of 0xFF bytes only), a string longer than any key is returned.
QByteArray prefixUpperBound(QByteArray prefix)
{
    while (!prefix.isEmpty() && quint8(prefix.back()) == 0xFF)
        prefix.chop(1);
    if (prefix.isEmpty())
        return QByteArray(1024, char(0xFF));
    prefix.back() = char(quint8(prefix.back()) + 1);
    return prefix;
}

KvEntry readEntry(sqlite3_stmt *statement)
{
    KvEntry entry;
    entry.key = columnBlob(statement, 0);
    entry.value = columnBlob(statement, 1);
    if (sqlite3_column_type(statement, 2) != SQLITE_NULL)
        entry.metadata = columnBlob(statement, 2);
    if (sqlite3_column_type(statement, 3) != SQLITE_NULL)
        entry.expiration = sqlite3_column_int64(statement, 3);
    entry.version = sqlite3_column_int64(statement, 4);
    return entry;
}

} // namespace

KvStore::KvStore(sqlite3 *db) : m_db(db) { }

KvStore::~KvStore()
{
    for (sqlite3_stmt *statement : { m_find, m_put, m_remove, m_list, m_count, m_maxVersion })
        sqlite3_finalize(statement);
    sqlite3_close(m_db);
}

Result<std::unique_ptr<KvStore>> KvStore::open(const QString &path)
{
    sqlite3 *db = nullptr;
    const QByteArray file = path.toUtf8();
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(file.constData(), &db, flags, nullptr) != SQLITE_OK) {
        const QString message = db ? QString::fromUtf8(sqlite3_errmsg(db)) : QStringLiteral("out of memory");
        sqlite3_close(db);
        return Error::error(QStringLiteral("Cannot open the KV store %1: %2").arg(path, message));
    }
    std::unique_ptr<KvStore> store(new KvStore(db));
    char *message = nullptr;
    if (sqlite3_exec(db, kSchema, nullptr, nullptr, &message) != SQLITE_OK) {
        const QString text = QString::fromUtf8(message);
        sqlite3_free(message);
        return Error::error(QStringLiteral("Cannot create the KV table in %1: %2").arg(path, text));
    }
    if (Status prepared = store->prepare(); !prepared)
        return prepared.error();
    return store;
}

Status KvStore::prepare()
{
    const struct
    {
        sqlite3_stmt **statement;
        const char *sql;
    } statements[] = {
        { &m_find, "SELECT key, value, metadata, expiration, version FROM kv_entries WHERE key = ?1" },
        { &m_put, "INSERT OR REPLACE INTO kv_entries (key, value, metadata, expiration, version) "
                  "VALUES (?1, ?2, ?3, ?4, ?5)" },
        { &m_remove, "DELETE FROM kv_entries WHERE key = ?1" },
        // A byte range [prefix, upper bound) is a literal prefix match with no LIKE wildcards
        // and no case folding, and it lets SQLite walk the primary key index.
        { &m_list, "SELECT key, value, metadata, expiration, version FROM kv_entries "
                   "WHERE key >= ?1 AND key < ?5 AND key > ?2 "
                   "AND (expiration IS NULL OR expiration >= ?3) ORDER BY key LIMIT ?4" },
        { &m_count, "SELECT count(*) FROM kv_entries" },
        { &m_maxVersion, "SELECT coalesce(max(version), 0) FROM kv_entries" },
    };
    for (const auto &entry : statements) {
        if (sqlite3_prepare_v3(m_db, entry.sql, -1, SQLITE_PREPARE_PERSISTENT, entry.statement,
                               nullptr)
            != SQLITE_OK)
            return Error::error(QStringLiteral("Cannot prepare a KV statement: %1").arg(lastError()));
    }
    return Done {};
}

QString KvStore::lastError() const
{
    return QString::fromUtf8(sqlite3_errmsg(m_db));
}

std::optional<KvEntry> KvStore::find(const QByteArray &key) const
{
    StatementScope scope { m_find };
    bindBlob(m_find, 1, key);
    if (sqlite3_step(m_find) != SQLITE_ROW)
        return std::nullopt;
    return readEntry(m_find);
}

Status KvStore::put(const KvEntry &entry)
{
    StatementScope scope { m_put };
    bindBlob(m_put, 1, entry.key);
    bindBlob(m_put, 2, entry.value);
    if (entry.metadata)
        bindBlob(m_put, 3, *entry.metadata);
    else
        sqlite3_bind_null(m_put, 3);
    if (entry.expiration)
        sqlite3_bind_int64(m_put, 4, *entry.expiration);
    else
        sqlite3_bind_null(m_put, 4);
    sqlite3_bind_int64(m_put, 5, entry.version);
    if (sqlite3_step(m_put) != SQLITE_DONE) {
        qCWarning(lcKvStore) << "put failed:" << lastError();
        return Error::error(QStringLiteral("KV store write failed: %1").arg(lastError()));
    }
    return Done {};
}

Result<bool> KvStore::remove(const QByteArray &key)
{
    StatementScope scope { m_remove };
    bindBlob(m_remove, 1, key);
    if (sqlite3_step(m_remove) != SQLITE_DONE) {
        qCWarning(lcKvStore) << "delete failed:" << lastError();
        return Error::error(QStringLiteral("KV store delete failed: %1").arg(lastError()));
    }
    return sqlite3_changes(m_db) > 0;
}

std::vector<KvEntry> KvStore::list(const QByteArray &prefix, const QByteArray &startAfter,
                                   int limit, qint64 nowSeconds) const
{
    StatementScope scope { m_list };
    bindBlob(m_list, 1, prefix);
    bindBlob(m_list, 2, startAfter);
    sqlite3_bind_int64(m_list, 3, nowSeconds);
    sqlite3_bind_int(m_list, 4, limit);
    bindBlob(m_list, 5, prefixUpperBound(prefix));
    std::vector<KvEntry> entries;
    while (sqlite3_step(m_list) == SQLITE_ROW)
        entries.push_back(readEntry(m_list));
    return entries;
}

qint64 KvStore::count() const
{
    StatementScope scope { m_count };
    return sqlite3_step(m_count) == SQLITE_ROW ? sqlite3_column_int64(m_count, 0) : 0;
}

qint64 KvStore::maxVersion() const
{
    StatementScope scope { m_maxVersion };
    return sqlite3_step(m_maxVersion) == SQLITE_ROW ? sqlite3_column_int64(m_maxVersion, 0) : 0;
}

} // namespace roomscope
