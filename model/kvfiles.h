#pragma once

#include "kvnamespace.h"
#include "result.h"

#include <QString>
#include <QStringList>

namespace roomscope {

/// The outcome of importing a `wrangler kv bulk put` file.
struct KvBulkImport
{
    /// The number of entries written, which is 0 when the file was invalid or unreadable.
    qsizetype importedCount = 0;
    /// One line per invalid entry, as parseKvBulkJson() reports them. When it is not empty,
    /// nothing was written.
    QStringList entryErrors;
    /// The reason the file could not be read or written, such as a missing file or an SQLite
    /// error. It is empty on success and when the only problems are invalid entries.
    QString error;

    bool ok() const { return entryErrors.isEmpty() && error.isEmpty(); }
};

/// Reads a `wrangler kv bulk put` JSON file and writes all its entries to `kv` in one
/// transaction (KvNamespace::importEntries()), or none of them when any entry is invalid.
/// Relative expirations (`expiration_ttl`) count from `nowSeconds`.
KvBulkImport importKvBulkFile(KvNamespace &kv, qint64 nowSeconds, const QString &path);

/// Writes every live entry of `kv` to `path` in the bulk format (exportKvBulkJson()) and
/// returns the number of entries written.
Result<qsizetype> exportKvBulkFile(const KvNamespace &kv, const QString &path);

} // namespace roomscope
