#pragma once

#include "result.h"

#include <QString>

namespace roomscope {

class DurableObjectNamespace;
class KvNamespace;

/// A session file is one SQLite file with the state a run leaves behind: the KV store
/// (KvStore, table `kv_entries`) and, from schema version 2, the Durable Objects in the table
///
///     durable_objects (class TEXT, id TEXT, name TEXT, location TEXT, backend TEXT,
///                      alarm INTEGER, storage BLOB, PRIMARY KEY (class, id))
///
/// with one row per object. `id` is 64 lowercase hex digits and `name` the name the object was
/// reached by, NULL for none. `location` is a location name and `backend` is "sqlite" or
/// "key-value". `alarm` is in epoch milliseconds, NULL for none. `storage` is the database
/// image (DurableObjectStorage::serialize()), empty for a database with no pages.
namespace session {

/// Saves the KV namespace's central store and every object of `objects`, with the storage and
/// alarm of its confirmed writes, to the file at `path`, replacing an older session there.
Status save(const QString &path, const KvNamespace &kv, const DurableObjectNamespace &objects);

/// Restores the Durable Objects of a session file into `objects`, none of which may exist
/// yet, and returns how many it restored. A file older than schema version 2 has none. An
/// invalid row gives an error, and so does a row that does not match the namespace: another
/// class, an ID the namespace did not make, a location it does not have or another storage
/// backend. The rows before it stay restored, so the caller discards the namespace.
Result<int> restoreObjects(const QString &path, DurableObjectNamespace &objects);

} // namespace session

} // namespace roomscope
