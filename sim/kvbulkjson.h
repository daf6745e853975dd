#pragma once

#include "kvlimits.h"
#include "kvstore.h"

#include <QByteArray>
#include <QStringList>

#include <vector>

namespace roomscope {

/// The entries of a `wrangler kv bulk put` file, or every reason it is invalid.
struct KvBulkParseResult
{
    /// Validated entries in file order with versions of 0; empty when `errors` is not.
    std::vector<KvEntry> entries;
    /// One line per problem, such as `entry 3 (key "a/b"): KV PUT failed: 413 ...`.
    QStringList errors;

    bool ok() const { return errors.isEmpty(); }
};

/// Parses and validates the JSON array that `wrangler kv bulk put` reads.
///
/// Each object has `key` and `value` strings. It may have `expiration` (epoch seconds, or an
/// ISO 8601 date that is read as UTC when it has no offset), `expiration_ttl` (seconds from
/// `nowSeconds`, which wins over `expiration`), `metadata` (any JSON value) and `base64` (true
/// when the value is the base64 of the bytes). Other fields are ignored. Keys, expirations,
/// metadata and value sizes are checked with the binding's rules at `nowSeconds`, and TTLs become
/// absolute expirations.
KvBulkParseResult parseKvBulkJson(
    const QByteArray &json, qint64 nowSeconds, qsizetype maxValueBytes = kv::kMaxValueBytes);

/// Writes entries in the same format, one object per line in the order given: `base64: true`
/// exactly for values that are not valid UTF-8, `expiration` as epoch seconds and `metadata` as
/// compact JSON with object members sorted by name. Parsing the output and exporting again gives
/// the same bytes.
QByteArray exportKvBulkJson(const std::vector<KvEntry> &entries);

} // namespace roomscope
