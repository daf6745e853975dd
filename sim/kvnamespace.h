#pragma once

#include "kvlimits.h"
#include "kvstore.h"
#include "location.h"
#include "result.h"
#include "simulation.h"
#include "task.h"

#include <QByteArray>
#include <QString>

#include <map>
#include <memory>
#include <optional>
#include <vector>

namespace roomscope {

/// What a second write to a key within the same-key interval gets.
enum class WriteRateLimit {
    Strict, ///< rejected with `KV PUT failed: 429 Too Many Requests` (production, the default)
    Off, ///< accepted, as local workerd and Miniflare do
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
    /// Time for a read served from the location's own cache.
    SimDuration cacheHitLatency = milliseconds(1);
    /// The location of the central store that writes go to and cache misses fetch from.
    LocationId centralLocation = 0;
    qsizetype maxValueBytes = kv::kMaxValueBytes;
};

struct KvGetOptions
{
    std::optional<double> cacheTtl; ///< seconds
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

/// The result of one read, with how it was served.
struct KvReadResult
{
    std::optional<QByteArray> value; ///< nothing when the key is missing or expired
    std::optional<QByteArray> metadata;
    bool fromCentral = false; ///< fetched from the central store rather than the location's cache
    bool stale = false; ///< differs from what the central store holds now
    qint64 version = 0; ///< version of the value served; 0 for a miss
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

/// What a read at a location would return now, without reading (for inspectors).
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
/// updates the writer's own cache when it is acknowledged (read-your-writes); other locations
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

    Task<Result<KvReadResult>> get(QString actor, LocationId from, QString key,
                                   KvGetOptions options = {});
    Task<Status> put(QString actor, LocationId from, QString key, QByteArray value,
                     KvPutOptions options = {});
    Task<Status> remove(QString actor, LocationId from, QString key);
    Task<Result<KvListResult>> list(QString actor, LocationId from, KvListOptions options = {});

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

    /// The central entry of a key as a read would see it now (expired keys are missing).
    std::optional<KvEntry> centralEntry(const QString &key) const;
    /// What a read at `location` would return now; it changes no cache.
    KvLocationView view(LocationId location, const QString &key) const;
    /// Live keys in byte order, at most `limit`, after `startAfter`.
    std::vector<KvEntry> entries(const QString &prefix, const QByteArray &startAfter,
                                 int limit) const;
    qint64 keyCount() const { return m_store->count(); }
    /// The number of keys a location holds cache entries for, misses included.
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
    };
    using Cache = std::map<QByteArray, CacheEntry>;

    KvNamespace(Simulation &simulation, const LocationMap &locations, QString binding,
                KvSettings settings, std::unique_ptr<KvStore> store);

    qint64 nowSeconds() const { return epochSeconds(m_simulation.now()); }
    bool isLive(const KvEntry &entry) const;
    std::optional<KvEntry> liveEntry(const QByteArray &key) const;
    const CacheEntry *freshCacheEntry(LocationId location, const QByteArray &key,
                                      SimDuration readTtl) const;
    bool isStale(const CacheEntry &cached, const std::optional<KvEntry> &central) const;
    /// Applies the same-key write limit at the central store; true when the write may proceed.
    bool admitWrite(const QByteArray &key);
    void cacheWrite(LocationId location, const QByteArray &key, const std::optional<KvEntry> &entry);
    SimDuration oneWay(LocationId from, LocationId to);
    void traceWrite(TraceKind kind, const QString &actor, LocationId from, const QString &key,
                    int status, qint64 version, SimDuration latency, const QByteArray &value);

    Simulation &m_simulation;
    const LocationMap &m_locations;
    QString m_binding;
    KvSettings m_settings;
    std::unique_ptr<KvStore> m_store;
    std::vector<Cache> m_caches; // one per location
    std::map<QByteArray, SimTime> m_lastWriteAt; // accepted writes inside the same-key interval
    qint64 m_version = 0;
    Random m_random;
};

} // namespace roomscope
