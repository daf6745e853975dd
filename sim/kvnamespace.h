#pragma once

#include "kvlimits.h"
#include "kvstore.h"
#include "location.h"
#include "result.h"
#include "simulation.h"
#include "task.h"

#include <QByteArray>
#include <QJsonValue>
#include <QString>
#include <QStringList>

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

namespace roomscope {

/// The rule for a second write to a key within the same-key interval.
enum class WriteRateLimit {
    Strict, ///< rejected with `KV PUT failed: 429 Too Many Requests` (production, the default)
    /// Accepted while the key has had at most KvSettings::writeBurst other accepted writes
    /// within the interval, then rejected with 429 like Strict.
    Burst,
    Off, ///< accepted, as local workerd and Miniflare do
};

/// The Workers plan of the account, which decides the daily operation limits.
enum class KvPlan {
    Paid, ///< no daily limits (the default)
    /// Per UTC day: kv::kFreeReadsPerDay reads, kv::kFreeWritesPerDay writes to different keys,
    /// kv::kFreeDeletesPerDay deletes and kv::kFreeListsPerDay lists.
    Free,
};
/// The plan named `name` ("paid" or "free"), or nothing for any other name.
std::optional<KvPlan> kvPlanFromName(const QString &name);

/// A preset of KvSettings that a scenario picks before overriding single settings.
enum class KvProfile {
    Production, ///< production KV as Cloudflare documents it (the default)
    Local, ///< `wrangler dev` with workerd and Miniflare: one store, no caches, no latency, no 429
};

/// The settings of a namespace's consistency model. Each one is a scenario setting; the defaults
/// follow Cloudflare's documentation of production KV.
struct KvSettings
{
    /// How long a location keeps a read value, or a miss, when a read gives no cacheTtl.
    SimDuration defaultCacheTtl = seconds(kv::kDefaultCacheTtlSeconds);
    /// Whether a write updates the writer's own location at once. Documented as usual but not
    /// guaranteed.
    bool readYourWrites = true;
    WriteRateLimit writeRateLimit = WriteRateLimit::Strict;
    SimDuration sameKeyWriteInterval = kv::kSameKeyWriteIntervalUs;
    /// Extra writes to a key accepted within the same-key interval when writeRateLimit is Burst.
    /// NOTE: production's real allowance is not documented; one public report saw 10 writes to a
    /// key within 20 ms succeed. The default of 3 is a guess, not a measured value.
    int writeBurst = 3;
    /// The smallest cacheTtl a read may set: 30 s in current documentation and Miniflare, 60 s in
    /// older documentation.
    qint64 minCacheTtlSeconds = kv::kMinCacheTtlSeconds;
    /// Whether each location caches what it reads. Without caches every read sees the central
    /// store, as local development does.
    bool locationCaches = true;
    /// Whether KV calls take the network latency between the caller and centralLocation, and
    /// cacheHitLatency for a cache hit. Off, every call completes at the instant it is made.
    bool networkLatency = true;
    /// Time for a read served from the location's own cache.
    SimDuration cacheHitLatency = milliseconds(1);
    /// The location of the central store that writes go to and cache misses fetch from.
    LocationId centralLocation = 0;
    qsizetype maxValueBytes = kv::kMaxValueBytes;
    /// Free applies the daily limits to the Worker calls; writes made through writeEntry(),
    /// deleteEntry() and importEntries() are not counted.
    KvPlan plan = KvPlan::Paid;
};

/// The settings of a profile, before a scenario overrides any of them.
KvSettings kvSettingsForProfile(KvProfile profile);
/// The profile named `name` ("production" or "local"), or nothing for any other name.
std::optional<KvProfile> kvProfileFromName(const QString &name);

/// The form of a read's value, named as the `type` option of `get()` names it.
enum class KvValueType { Text, Json, ArrayBuffer, Stream };
/// The type named `name`, or nothing when the platform does not know the name.
std::optional<KvValueType> kvValueTypeFromName(const QString &name);

/// A counter of the KV operations made by one Worker invocation, which is one request handled
/// by a Worker or a Durable Object. Each call that reaches the KV service counts as one
/// operation, and a bulk read is one call. A call rejected by the client-side key check does
/// not count.
class KvInvocation
{
public:
    explicit KvInvocation(int maxOperations = kv::kMaxOperationsPerInvocation)
        : m_maxOperations(maxOperations)
    {
    }

    /// Counts one operation, or fails when the invocation has made maxOperations already.
    Status countOperation();
    int operationCount() const { return m_operationCount; }
    int maxOperations() const { return m_maxOperations; }

private:
    int m_maxOperations;
    int m_operationCount = 0;
};

struct KvGetOptions
{
    std::optional<double> cacheTtl; ///< seconds
    /// "text", "json", "arrayBuffer" or "stream"; any other name fails for an existing key.
    QString type = QStringLiteral("text");
};

struct KvBulkGetOptions
{
    /// Only "text" and "json" are allowed for a bulk read.
    QString type = QStringLiteral("text");
    std::optional<double> cacheTtl; ///< seconds
    bool withMetadata = false; ///< getWithMetadata(keys) rather than get(keys)
};

struct KvPutOptions
{
    std::optional<double> expiration; ///< epoch seconds
    std::optional<double> expirationTtl; ///< seconds from now; wins over expiration
    std::optional<QByteArray> metadata; ///< serialized JSON
};

struct KvListOptions
{
    QString prefix;
    std::optional<double> limit;
    QString cursor;
};

/// The result of one read, with how it was served. The same struct is the result of
/// getWithMetadata(), whose cacheStatus is always null in the simulation.
struct KvReadResult
{
    /// The stored bytes, unchanged, whatever the type; nothing when the key is missing or
    /// expired. For "text" the JavaScript binding decodes them as UTF-8, replacing invalid bytes
    /// with U+FFFD as TextDecoder does.
    std::optional<QByteArray> value;
    /// The parsed value of a "json" read of an existing key; nothing for other types.
    std::optional<QJsonValue> json;
    std::optional<QByteArray> metadata;
    bool fromCentral = false; ///< fetched from the central store rather than the location's cache
    bool stale = false; ///< differs from what the central store holds now
    qint64 version = 0; ///< version of the value served; 0 for a miss
};

/// One distinct key of a bulk read, in the order the keys were first requested.
struct KvBulkEntry
{
    QString key;
    /// Nothing for a missing key. getWithMetadata(keys) gives null for such a key, and get(keys)
    /// gives a null value.
    std::optional<QByteArray> value;
    std::optional<QJsonValue> json; ///< the parsed value, for type "json"
    std::optional<QByteArray> metadata; ///< only for getWithMetadata(keys)
};

struct KvListKey
{
    QString name;
    std::optional<qint64> expiration;
    std::optional<QByteArray> metadata;
};

struct KvListResult
{
    std::vector<KvListKey> keys;
    bool listComplete = true;
    QString cursor; ///< empty when listComplete
};

/// The result a read at a location would return now, computed without reading (for inspectors).
struct KvLocationView
{
    bool cached = false; ///< the location has a live cache entry for the key
    std::optional<QByteArray> value;
    qint64 version = 0;
    bool stale = false;
    /// When the location's cache entry lapses and the next read fetches the central value.
    SimTime refreshAt = 0;
};

/// A Workers KV namespace: a linearizable central store in SQLite plus a cache per location.
///
/// A read at a location is served from that location's cache entry (a value or a cached miss)
/// while the entry is younger than the read's cacheTtl, and fetched from the central store
/// otherwise. A write reaches the central store after the one-way latency from the writer, and
/// updates the writer's own cache when it is acknowledged (read-your-writes). Other locations
/// see it only when their cached entries lapse.
class KvNamespace
{
public:
    /// `storePath` is an SQLite file, or ":memory:".
    static Result<std::unique_ptr<KvNamespace>> create(Simulation &simulation,
                                                       const LocationMap &locations,
                                                       QString binding, KvSettings settings,
                                                       const QString &storePath);

    const QString &binding() const { return m_binding; }
    const KvSettings &settings() const { return m_settings; }

    // The Worker calls. `invocation`, when given, counts each call toward the per-invocation
    // limit; it must live until the call completes.

    /// get(key, options) and getWithMetadata(key, options).
    Task<Result<KvReadResult>> get(QString actor, LocationId from, QString key,
                                   KvGetOptions options = {}, KvInvocation *invocation = nullptr);
    /// get(keys, options) and getWithMetadata(keys, options): one entry per distinct key.
    Task<Result<std::vector<KvBulkEntry>>> getBulk(QString actor, LocationId from,
                                                   QStringList keys, KvBulkGetOptions options = {},
                                                   KvInvocation *invocation = nullptr);
    Task<Status> put(QString actor, LocationId from, QString key, QByteArray value,
                     KvPutOptions options = {}, KvInvocation *invocation = nullptr);
    Task<Status> remove(QString actor, LocationId from, QString key,
                        KvInvocation *invocation = nullptr);
    Task<Result<KvListResult>> list(QString actor, LocationId from, KvListOptions options = {},
                                    KvInvocation *invocation = nullptr);

    // Writes made outside any Worker, as the dashboard or `wrangler kv` make them: they go straight
    // to the central store, bump the version, are traced, and leave location caches as they are.
    // Defined in kvnamespaceedit.cpp.

    /// Writes one entry after the same validation as put(), without the same-key write limit.
    Status writeEntry(const QString &key, const QByteArray &value, KvPutOptions options = {});
    Status deleteEntry(const QString &key);
    /// Deletes every live key with the prefix; returns how many were deleted.
    Result<qint64> deleteByPrefix(const QString &prefix);

    /// Writes all entries in one transaction, or none when one fails. Defined in
    /// kvnamespaceimport.cpp.
    Status importEntries(const std::vector<KvEntry> &entries);
    /// Saves a copy of the central store to an SQLite file (a session file), with the tables
    /// that `writeTables` adds (KvStore::saveTo). Defined in kvnamespaceimport.cpp.
    Status saveStore(const QString &path, const KvStore::TableWriter &writeTables = {}) const;
    /// Replaces the central store with a saved session file and continues the version counter
    /// from its highest version. Location caches are left as they are. Defined in
    /// kvnamespaceimport.cpp.
    Status loadStore(const QString &path);

    /// The central entry of a key as a read would see it now (expired keys are missing).
    std::optional<KvEntry> centralEntry(const QString &key) const;
    /// Returns the result a read at `location` would give now; it changes no cache.
    KvLocationView view(LocationId location, const QString &key) const;
    /// Live keys in byte order, at most `limit`, after `startAfter`.
    std::vector<KvEntry> entries(const QString &prefix, const QByteArray &startAfter,
                                 int limit) const;
    qint64 keyCount() const { return m_store->count(); }
    /// The number of keys with a cache entry at a location, misses included.
    qsizetype cachedKeyCount(LocationId location) const;

private:
    struct CacheEntry
    {
        std::optional<QByteArray> value; ///< nothing for a cached miss
        std::optional<QByteArray> metadata;
        std::optional<qint64> expiration;
        qint64 version = 0;
        SimTime fetchedAt = 0;
        SimDuration ttl = 0;
        /// m_changeSerial when the contents were read from (or written to) the central store.
        quint64 centralSerial = 0;
    };
    using Cache = std::map<QByteArray, CacheEntry>;

    KvNamespace(Simulation &simulation, const LocationMap &locations, QString binding,
                KvSettings settings, std::unique_ptr<KvStore> store);

    qint64 nowSeconds() const { return epochSeconds(m_simulation.now()); }
    bool isLive(const KvEntry &entry) const;
    std::optional<KvEntry> liveEntry(const QByteArray &key) const;
    /// Whether the Free plan's daily limit admits `count` more operations of a type when `used`
    /// of them were made today. Always true on the Paid plan. `used` must be one of the
    /// m_...Today counters, because a new UTC day resets them before the comparison.
    bool withinDailyLimit(const qint64 &used, qint64 count, qint64 limit);
    /// Whether the Free plan's daily write limit admits a write to `key`. A key already written
    /// today is always admitted because the limit counts writes to different keys.
    bool dailyLimitAdmitsWrite(const QByteArray &key);
    /// Starts the counts of a new day when 00:00 UTC has passed since the last operation.
    void startDayIfNew();
    const CacheEntry *freshCacheEntry(LocationId location, const QByteArray &key,
                                      SimDuration readTtl) const;
    bool isStale(const CacheEntry &cached, const std::optional<KvEntry> &central) const;
    /// isStale() against the central entry now, without an SQLite lookup when the key has not
    /// changed centrally since the cache entry was filled.
    bool isStaleNow(const CacheEntry &cached, const QByteArray &key) const;
    /// Whether the central entry of `key` may have changed since `serial`.
    bool changedSince(const QByteArray &key, quint64 serial) const;
    /// Records a write or delete of `key` in the central store.
    void noteCentralChange(const QByteArray &key);
    /// Records that any key may have changed in the central store (a load replaced it).
    void noteCentralReplaced();
    /// Applies the same-key write limit at the central store; true when the write may proceed.
    bool admitWrite(const QByteArray &key);
    /// Stores what a read at `location` fetched from the central store, unless caches are off.
    /// `serial` is m_changeSerial when `entry` was looked up.
    void cacheRead(LocationId location, const QByteArray &key, const std::optional<KvEntry> &entry,
                   SimDuration ttl, quint64 serial);
    /// Caches what a read fetched from the central store and describes it as a read result.
    KvReadResult fetchedResult(LocationId from, const QByteArray &utf8Key,
                               const std::optional<KvEntry> &central, SimDuration readTtl,
                               quint64 serial);
    void traceRead(const QString &actor, LocationId from, const QString &key,
                   const KvReadResult &result);
    void cacheWrite(LocationId location, const QByteArray &key, const std::optional<KvEntry> &entry,
                    quint64 serial);
    SimDuration oneWay(LocationId from, LocationId to);
    void traceWrite(TraceKind kind, const QString &actor, LocationId from, const QString &key,
                    int status, qint64 version, SimDuration latency, const QByteArray &value);

    Simulation &m_simulation;
    const LocationMap &m_locations;
    QString m_binding;
    KvSettings m_settings;
    std::unique_ptr<KvStore> m_store;
    std::vector<Cache> m_caches; // one per location
    // The times of accepted writes inside the same-key interval, oldest first, by key.
    std::map<QByteArray, std::deque<SimTime>> m_recentWrites;
    qint64 m_version = 0;
    Random m_random;

    // Cheap stale checks: every change to the central store takes the next serial, and
    // m_lastChange stores the last serial of each recently changed key. A key missing from the
    // map has not changed since m_changeFloor. The map is cleared when it grows large, and a
    // load raises m_changeFloor, so a cache entry filled before the floor is checked in SQLite.
    quint64 m_changeSerial = 0;
    quint64 m_changeFloor = 0;
    std::map<QByteArray, quint64> m_lastChange;

    // The Free plan's counts for the current UTC day.
    qint64 m_day = -1; ///< days since the epoch
    qint64 m_readsToday = 0;
    qint64 m_deletesToday = 0;
    qint64 m_listsToday = 0;
    std::set<QByteArray> m_keysWrittenToday;
};

} // namespace roomscope
