#pragma once

#include "kvstore.h"
#include "result.h"

#include <QString>
#include <QStringList>

#include <vector>

namespace roomscope {

/// One KV namespace in a `wrangler dev` persistence folder.
struct WranglerKvNamespace
{
    /// The namespace ID from the Wrangler configuration; empty when no blobs folder names it.
    QString id;
    QString databasePath; ///< the namespace's SQLite file; empty when it does not exist yet
    QString blobsPath; ///< the folder of value files; empty when it does not exist yet
};

/// The entries of one namespace as stored on disk.
struct WranglerKvListing
{
    /// Every row in key byte order, expired rows included (Miniflare deletes them lazily).
    /// Expirations are epoch seconds, rounded down from Miniflare's milliseconds; versions are 0.
    std::vector<KvEntry> entries;
    /// Keys whose value file is missing; Miniflare reads them as missing keys.
    QStringList keysWithoutBlob;
};

/// Read-only view of the KV data that `wrangler dev` (Miniflare 3 and later) keeps, by default
/// in `.wrangler/state/v3/kv`:
///
///   kv/miniflare-KVNamespaceObject/<object id>.sqlite   table _mf_entries (key TEXT PRIMARY KEY,
///                                                       blob_id TEXT, expiration INTEGER in
///                                                       epoch milliseconds, metadata TEXT JSON)
///   kv/<namespace id>/blobs/<blob id>                   one file of value bytes per entry
///
/// The object ID is workerd's Durable Object ID for the name <namespace id> in the namespace
/// with unique key "miniflare-KVNamespaceObject" (source: cloudflare/workers-sdk,
/// packages/miniflare/src/workers/shared/keyvalue.worker.ts, blob.worker.ts and
/// object-entry.worker.ts). Nothing in the folder is written: databases are opened with
/// SQLITE_OPEN_READONLY and `immutable=1`.
class WranglerKvState
{
public:
    /// Opens a project folder, its `.wrangler`, `.wrangler/state`, `.wrangler/state/v3` or the
    /// `kv` folder itself (the `--persist-to` folder of `wrangler dev` works as well).
    static Result<WranglerKvState> open(const QString &folder);

    /// The `kv` folder that was found.
    const QString &kvPath() const { return m_kvPath; }
    /// Namespaces sorted by ID; those with an unknown ID come last, by file name.
    const std::vector<WranglerKvNamespace> &namespaces() const { return m_namespaces; }

    /// Reads every entry of a namespace and its value files.
    static Result<WranglerKvListing> read(const WranglerKvNamespace &kvNamespace);

    /// The SQLite file name that Miniflare uses for a namespace ID.
    static QString databaseFileName(const QString &namespaceId);

private:
    QString m_kvPath;
    std::vector<WranglerKvNamespace> m_namespaces;
};

} // namespace roomscope
