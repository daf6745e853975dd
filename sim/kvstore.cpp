#include "kvstore.h"

#include <QFileInfo>
#include <QStringList>
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

const QString kSessionHint =
    QStringLiteral("Give a session file that `roomscope run --save-session` wrote.");

// The first column of a single-row query, or nothing when the query fails (for example because
// the file is not an SQLite database).
std::optional<qint64> queryInteger(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *statement = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &statement, nullptr) != SQLITE_OK) {
        sqlite3_finalize(statement);
        return std::nullopt;
    }
    std::optional<qint64> value;
    if (sqlite3_step(statement) == SQLITE_ROW)
        value = sqlite3_column_int64(statement, 0);
    sqlite3_finalize(statement);
    return value;
}

// Accepts an empty database, a store of schema version 1 to kSchemaVersion, and a store written
// before the schema version was set (user_version 0 and the kv_entries table).
Status checkSchema(sqlite3 *db, const QString &path, bool requireTable)
{
    const std::optional<qint64> version = queryInteger(db, "PRAGMA user_version");
    const std::optional<qint64> tables = queryInteger(
        db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
    const std::optional<qint64> kvTables = queryInteger(
        db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'kv_entries'");
    if (!version || !tables || !kvTables) {
        return Error::error(QStringLiteral("Cannot read the KV store %1: %2. %3")
                                .arg(path, QString::fromUtf8(sqlite3_errmsg(db)), kSessionHint));
    }
    if (*version > KvStore::kSchemaVersion) {
        return Error::error(
            QStringLiteral("The KV store %1 has schema version %2, but this Roomscope reads "
                           "versions up to %3. Open it with a newer Roomscope.")
                .arg(path)
                .arg(*version)
                .arg(KvStore::kSchemaVersion));
    }
    const bool empty = *tables == 0 && *version == 0;
    if ((empty && requireTable) || (!empty && *kvTables == 0)) {
        return Error::error(
            QStringLiteral("%1 is not a Roomscope KV store: it has no kv_entries table. %2")
                .arg(path, kSessionHint));
    }
    return Done {};
}

// Copies the main database of `from` over the main database of `to`.
Status copyDatabase(sqlite3 *from, sqlite3 *to, const QString &action, const QString &path)
{
    sqlite3_backup *backup = sqlite3_backup_init(to, "main", from, "main");
    if (!backup) {
        return Error::error(QStringLiteral("Cannot %1 %2: %3")
                                .arg(action, path, QString::fromUtf8(sqlite3_errmsg(to))));
    }
    const int stepped = sqlite3_backup_step(backup, -1);
    const int finished = sqlite3_backup_finish(backup);
    if (stepped != SQLITE_DONE || finished != SQLITE_OK) {
        return Error::error(QStringLiteral("Cannot %1 %2: %3")
                                .arg(action, path, QString::fromUtf8(sqlite3_errmsg(to))));
    }
    return Done {};
}

Status execute(sqlite3 *db, const char *sql)
{
    char *message = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
        const QString text = QString::fromUtf8(message);
        sqlite3_free(message);
        return Error::error(text);
    }
    return Done {};
}

// Creates the table when it is missing and marks the database with the current schema version.
Status createSchema(sqlite3 *db, const QString &path)
{
    const QByteArray sql = QByteArray(kSchema) + "PRAGMA user_version = "
        + QByteArray::number(KvStore::kSchemaVersion) + ";";
    if (Status created = execute(db, sql.constData()); !created) {
        return Error::error(QStringLiteral("Cannot create the KV table in %1: %2")
                                .arg(path, created.error().message));
    }
    return Done {};
}

// Drops the tables that other parts of a session file added beside kv_entries, so that the
// store in memory contains the KV entries only.
Status dropOtherTables(sqlite3 *db, const QString &path)
{
    sqlite3_stmt *statement = nullptr;
    if (sqlite3_prepare_v2(db,
                           "SELECT name FROM sqlite_master WHERE type = 'table' "
                           "AND name <> 'kv_entries' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
                           -1, &statement, nullptr)
        != SQLITE_OK) {
        sqlite3_finalize(statement);
        return Error::error(QStringLiteral("Cannot load the KV store %1: %2")
                                .arg(path, QString::fromUtf8(sqlite3_errmsg(db))));
    }
    QStringList drops;
    while (sqlite3_step(statement) == SQLITE_ROW) {
        QString name = QString::fromUtf8(
            reinterpret_cast<const char *>(sqlite3_column_text(statement, 0)));
        name.replace(QLatin1Char('"'), QStringLiteral("\"\""));
        drops << QStringLiteral("DROP TABLE \"%1\";").arg(name);
    }
    sqlite3_finalize(statement);
    if (Status dropped = execute(db, drops.join(QLatin1Char(' ')).toUtf8().constData()); !dropped) {
        return Error::error(QStringLiteral("Cannot load the KV store %1: %2")
                                .arg(path, dropped.error().message));
    }
    return Done {};
}

} // namespace

KvStore::KvStore(sqlite3 *db) : m_db(db) { }

KvStore::~KvStore()
{
    for (sqlite3_stmt *statement : { m_find, m_put, m_remove, m_list, m_listAfter, m_count, m_maxVersion })
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
    if (Status valid = checkSchema(db, path, false); !valid)
        return valid.error();
    if (Status created = createSchema(db, path); !created)
        return created.error();
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
                   "WHERE key >= ?1 AND key < ?5 "
                   "AND (expiration IS NULL OR expiration >= ?3) ORDER BY key LIMIT ?4" },
        { &m_listAfter, "SELECT key, value, metadata, expiration, version FROM kv_entries "
                        "WHERE key > ?1 AND key < ?5 "
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

Status KvStore::putMany(const std::vector<KvEntry> &entries)
{
    if (Status begun = execute(m_db, "BEGIN IMMEDIATE"); !begun)
        return Error::error(QStringLiteral("KV store write failed: %1").arg(begun.error().message));
    for (const KvEntry &entry : entries) {
        if (Status stored = put(entry); !stored) {
            // The rollback leaves the store as it was before BEGIN.
            if (Status rolledBack = execute(m_db, "ROLLBACK"); !rolledBack)
                qCWarning(lcKvStore) << "rollback failed:" << rolledBack.error().message;
            return stored;
        }
    }
    if (Status committed = execute(m_db, "COMMIT"); !committed) {
        if (Status rolledBack = execute(m_db, "ROLLBACK"); !rolledBack)
            qCWarning(lcKvStore) << "rollback failed:" << rolledBack.error().message;
        return Error::error(
            QStringLiteral("KV store write failed: %1").arg(committed.error().message));
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
    // One lower bound, so that SQLite starts its index walk where the page starts: with both
    // bounds in the query it walks from the prefix, and late pages of a big namespace get slow.
    const bool afterCursor = startAfter >= prefix;
    sqlite3_stmt *statement = afterCursor ? m_listAfter : m_list;
    StatementScope scope { statement };
    bindBlob(statement, 1, afterCursor ? startAfter : prefix);
    sqlite3_bind_int64(statement, 3, nowSeconds);
    sqlite3_bind_int(statement, 4, limit);
    bindBlob(statement, 5, prefixUpperBound(prefix));
    std::vector<KvEntry> entries;
    while (sqlite3_step(statement) == SQLITE_ROW)
        entries.push_back(readEntry(statement));
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

Status KvStore::saveTo(const QString &path, const TableWriter &writeTables) const
{
    sqlite3 *file = nullptr;
    const QByteArray name = path.toUtf8();
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(name.constData(), &file, flags, nullptr) != SQLITE_OK) {
        const QString message =
            file ? QString::fromUtf8(sqlite3_errmsg(file)) : QStringLiteral("out of memory");
        sqlite3_close(file);
        return Error::error(QStringLiteral("Cannot save the KV store to %1: %2").arg(path, message));
    }
    // Only a Roomscope store (or an empty or new file) is replaced, never another program's data.
    if (!checkSchema(file, path, false)) {
        sqlite3_close(file);
        return Error::error(QStringLiteral("Cannot save the KV store to %1: the file exists and is "
                                           "not a Roomscope KV store. Choose another file name.")
                                .arg(path));
    }
    sqlite3 *source = m_db;
    sqlite3 *copy = nullptr;
    Status copied = Done {};
    if (writeTables) {
        // The other tables go into a copy, so a failure leaves the file as it was.
        if (sqlite3_open_v2(":memory:", &copy, flags, nullptr) != SQLITE_OK) {
            copied = Error::error(QStringLiteral("Cannot save the session to %1: %2")
                                      .arg(path, copy ? QString::fromUtf8(sqlite3_errmsg(copy))
                                                      : QStringLiteral("out of memory")));
        }
        if (copied)
            copied = copyDatabase(m_db, copy, QStringLiteral("save the KV store to"), path);
        if (copied)
            copied = writeTables(copy);
        source = copy;
    }
    if (copied)
        copied = copyDatabase(source, file, QStringLiteral("save the KV store to"), path);
    sqlite3_close(copy);
    sqlite3_close(file);
    if (!copied)
        qCWarning(lcKvStore) << "save failed:" << copied.error().message;
    return copied;
}

Status KvStore::restoreFrom(const QString &path)
{
    if (!QFileInfo(path).isFile())
        return Error::error(QStringLiteral("The KV store %1 was not found.").arg(path));
    sqlite3 *file = nullptr;
    const QByteArray name = path.toUtf8();
    if (sqlite3_open_v2(name.constData(), &file, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                        nullptr)
        != SQLITE_OK) {
        const QString message =
            file ? QString::fromUtf8(sqlite3_errmsg(file)) : QStringLiteral("out of memory");
        sqlite3_close(file);
        return Error::error(QStringLiteral("Cannot open the KV store %1: %2").arg(path, message));
    }
    Status restored = checkSchema(file, path, true);
    if (restored)
        restored = copyDatabase(file, m_db, QStringLiteral("load the KV store"), path);
    sqlite3_close(file);
    if (restored)
        restored = dropOtherTables(m_db, path);
    if (!restored)
        return restored;
    // A store written before user_version was set is marked with the current version.
    return createSchema(m_db, path);
}

} // namespace roomscope
