#pragma once

#include "result.h"

#include <QByteArray>
#include <QString>

#include <functional>
#include <optional>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace roomscope {

/// One key's state in the central store.
struct KvEntry
{
    QByteArray key; ///< UTF-8
    QByteArray value;
    std::optional<QByteArray> metadata; ///< serialized JSON; nothing when the write had none
    std::optional<qint64> expiration; ///< epoch seconds
    qint64 version = 0; ///< the namespace's write counter when this value was written

    bool operator==(const KvEntry &) const = default;
};

/// The linearizable central store of a KV namespace: one SQLite table whose BLOB keys sort by
/// memcmp, which is the UTF-8 byte order that KV's list uses.
///
/// A store file (a saved session) is an SQLite database with the table `kv_entries`, and
/// `PRAGMA user_version` set to kSchemaVersion. Other parts of a session add their own tables
/// beside it when the store is saved (see saveTo()).
class KvStore
{
public:
    /// The schema version this build writes and the newest it reads. Version 1 is the table
    /// `kv_entries (key BLOB PRIMARY KEY, value BLOB, metadata BLOB, expiration INTEGER epoch
    /// seconds, version INTEGER)`. Version 2 adds the table `durable_objects` of a session's
    /// Durable Objects (sessionfile.h); a version 2 file without it has no objects.
    static constexpr int kSchemaVersion = 2;

    /// Writes more tables into the copy of the store that saveTo() writes to a file.
    using TableWriter = std::function<Status(sqlite3 *db)>;

    /// Opens or creates a store; ":memory:" keeps it in memory. An existing file must be a
    /// store of schema version kSchemaVersion or older.
    static Result<std::unique_ptr<KvStore>> open(const QString &path);
    ~KvStore();
    KvStore(const KvStore &) = delete;
    KvStore &operator=(const KvStore &) = delete;

    /// The entry for a key, expired or not.
    std::optional<KvEntry> find(const QByteArray &key) const;
    Status put(const KvEntry &entry);
    /// Writes all entries in one transaction, or none of them when one write fails.
    Status putMany(const std::vector<KvEntry> &entries);
    /// Removes a key; returns whether it existed.
    Result<bool> remove(const QByteArray &key);
    /// Up to `limit` entries with the prefix, after `startAfter` (exclusive) in byte order,
    /// leaving out those whose expiration is before `nowSeconds`.
    std::vector<KvEntry> list(const QByteArray &prefix, const QByteArray &startAfter, int limit,
                              qint64 nowSeconds) const;
    qint64 count() const;
    /// The highest version stored, or 0 for an empty store.
    qint64 maxVersion() const;

    /// Copies the whole store to the file at `path` with SQLite's backup API, replacing the
    /// file's contents. A `writeTables` callback adds its tables to an in-memory copy of the
    /// store first, so the file gets the store and those tables in one step, or keeps its old
    /// contents when either fails.
    Status saveTo(const QString &path, const TableWriter &writeTables = {}) const;
    /// Replaces the whole store with the contents of a store file, which it opens read-only.
    /// Tables of the file other than `kv_entries` are not kept.
    Status restoreFrom(const QString &path);

private:
    explicit KvStore(sqlite3 *db);
    Status prepare();
    QString lastError() const;

    sqlite3 *m_db = nullptr;
    sqlite3_stmt *m_find = nullptr;
    sqlite3_stmt *m_put = nullptr;
    sqlite3_stmt *m_remove = nullptr;
    sqlite3_stmt *m_list = nullptr;
    sqlite3_stmt *m_listAfter = nullptr;
    sqlite3_stmt *m_count = nullptr;
    sqlite3_stmt *m_maxVersion = nullptr;
};

} // namespace roomscope
