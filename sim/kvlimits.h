#pragma once

#include "result.h"
#include "simtime.h"

#include <QByteArray>
#include <QString>

#include <optional>

namespace roomscope {

/// Workers KV limits as Cloudflare documents them (developers.cloudflare.com/kv/platform/limits)
/// and as workerd and Miniflare enforce them.
namespace kv {

constexpr qsizetype kMaxKeyBytes = 512; ///< UTF-8 bytes of a key or a list prefix
constexpr qsizetype kMaxValueBytes = 25 * 1024 * 1024; ///< 26,214,400 bytes
constexpr qsizetype kMaxMetadataBytes = 1024; ///< UTF-8 bytes of the metadata's JSON
constexpr qint64 kMinExpirationTtlSeconds = 60; ///< also the minimum distance of `expiration`
constexpr qint64 kMinCacheTtlSeconds = 30; ///< current docs and Miniflare; older docs said 60
constexpr qint64 kDefaultCacheTtlSeconds = 60;
constexpr int kMaxListLimit = 1000; ///< also the default list limit
constexpr SimDuration kSameKeyWriteIntervalUs = seconds(1); ///< one write per second per key
/// KV calls per Worker invocation; a bulk read counts as one.
constexpr int kMaxOperationsPerInvocation = 1000;
constexpr int kMaxBulkGetKeys = 100;
constexpr qsizetype kMaxBulkGetBytes = 25 * 1024 * 1024; ///< total of the values of a bulk read

// The Free plan's daily limits, per account and per UTC day. The Paid plan has none.
constexpr qint64 kFreeReadsPerDay = 100'000;
constexpr qint64 kFreeWritesPerDay = 1'000; ///< writes to different keys
constexpr qint64 kFreeDeletesPerDay = 1'000;
constexpr qint64 kFreeListsPerDay = 1'000;

/// The operation name in server errors ("KV GET failed: ..."). A list reports as GET.
enum class Operation { Get, GetBulk, Put, Delete };
QString operationName(Operation operation);

/// A server-side error as workerd reports it: `KV <OP> failed: <status> <text>`.
Error failure(Operation operation, int status, const QString &text);

/// Checks a key as workerd does before sending any request.
Status validateKey(const QString &key, Operation operation);
/// Checks a read's cacheTtl against `minimumSeconds`; NaN reports as 0, as Miniflare does.
Status validateCacheTtl(double cacheTtl, qint64 minimumSeconds = kMinCacheTtlSeconds);
/// Checks the key count and type of a bulk read, as the KV server does. `keyCount` counts
/// duplicates, as the request body does.
Status validateBulkGet(qsizetype keyCount, const QString &type);
/// The error of a call made after the invocation's kMaxOperationsPerInvocation calls.
Error tooManyOperations();
/// The error of an operation made after the Free plan's daily limit for its type is used up.
Error dailyLimitExceeded(Operation operation);
/// Checks a write's expiration options at `nowSeconds`; the TTL is checked first and wins.
Status validateExpiration(std::optional<double> expiration, std::optional<double> expirationTtl,
                          qint64 nowSeconds);
/// Checks the size of serialized metadata JSON.
Status validateMetadata(const QByteArray &metadataJson);
Status validateValueSize(qsizetype bytes, qsizetype maxValueBytes = kMaxValueBytes);
/// Checks a list prefix and limit. A limit of 0 or less is not sent by workerd, so it is valid.
Status validateList(const QString &prefix, std::optional<double> limit);

/// Formats a number as JavaScript's String(n) does for the values these messages show.
QString jsNumber(double value);

} // namespace kv
} // namespace roomscope
