#include "kvnamespace.h"

#include <algorithm>
#include <cmath>

namespace roomscope {

namespace {

SimDuration ttlFromSeconds(double secondsValue)
{
    // cacheTtl may be as large as Number.MAX_SAFE_INTEGER seconds; keep the product finite.
    const double us = std::min(secondsValue, 9.0e12) * double(kMicrosecondsPerSecond);
    return SimDuration(us);
}

} // namespace

Result<std::unique_ptr<KvNamespace>> KvNamespace::create(Simulation &simulation,
                                                         const LocationMap &locations,
                                                         QString binding, KvSettings settings,
                                                         const QString &storePath)
{
    auto store = KvStore::open(storePath);
    if (!store)
        return store.error();
    return std::unique_ptr<KvNamespace>(new KvNamespace(simulation, locations, std::move(binding),
                                                        settings, std::move(store).value()));
}

KvNamespace::KvNamespace(Simulation &simulation, const LocationMap &locations, QString binding,
                         KvSettings settings, std::unique_ptr<KvStore> store)
    : m_simulation(simulation)
    , m_locations(locations)
    , m_binding(std::move(binding))
    , m_settings(settings)
    , m_store(std::move(store))
    , m_caches(size_t(locations.count()))
    , m_version(m_store->maxVersion())
    , m_random(simulation.random(("kv:" + m_binding).toStdString()))
{
}

bool KvNamespace::isLive(const KvEntry &entry) const
{
    return !entry.expiration || *entry.expiration > nowSeconds();
}

std::optional<KvEntry> KvNamespace::liveEntry(const QByteArray &key) const
{
    std::optional<KvEntry> entry = m_store->find(key);
    if (entry && !isLive(*entry))
        return std::nullopt;
    return entry;
}

std::optional<KvEntry> KvNamespace::centralEntry(const QString &key) const
{
    return liveEntry(key.toUtf8());
}

const KvNamespace::CacheEntry *KvNamespace::freshCacheEntry(LocationId location,
                                                            const QByteArray &key,
                                                            SimDuration readTtl) const
{
    const Cache &cache = m_caches[size_t(location)];
    const auto it = cache.find(key);
    if (it == cache.end())
        return nullptr;
    const CacheEntry &entry = it->second;
    const SimDuration age = m_simulation.now() - entry.fetchedAt;
    // A read with a lower cacheTtl than the entry's shortens the entry's life.
    if (age >= std::min(entry.ttl, readTtl))
        return nullptr;
    // Expiration wins over cacheTtl: an expired value is never served from a cache.
    if (entry.expiration && *entry.expiration <= nowSeconds())
        return nullptr;
    return &entry;
}

bool KvNamespace::isStale(const CacheEntry &cached, const std::optional<KvEntry> &central) const
{
    if (!cached.value)
        return central.has_value();
    return !central || central->version != cached.version;
}

SimDuration KvNamespace::oneWay(LocationId from, LocationId to)
{
    return m_locations.sampleLatency(from, to, m_random);
}

Task<Result<KvReadResult>> KvNamespace::get(QString actor, LocationId from, QString key,
                                            KvGetOptions options)
{
    if (Status valid = kv::validateKey(key, kv::Operation::Get); !valid)
        co_return valid.error();
    SimDuration readTtl = m_settings.defaultCacheTtl;
    if (options.cacheTtl) {
        if (Status valid = kv::validateCacheTtl(*options.cacheTtl); !valid)
            co_return valid.error();
        readTtl = ttlFromSeconds(*options.cacheTtl);
    }

    const QByteArray utf8Key = key.toUtf8();
    KvReadResult result;
    if (const CacheEntry *cached = freshCacheEntry(from, utf8Key, readTtl)) {
        CacheEntry &entry = m_caches[size_t(from)][utf8Key];
        entry.ttl = std::min(entry.ttl, readTtl);
        const CacheEntry served = *cached;
        co_await m_simulation.sleep(m_settings.cacheHitLatency);
        result.value = served.value;
        result.metadata = served.metadata;
        result.version = served.version;
        result.stale = isStale(served, liveEntry(utf8Key));
    } else {
        co_await m_simulation.sleep(oneWay(from, m_settings.centralLocation));
        const std::optional<KvEntry> central = liveEntry(utf8Key);
        co_await m_simulation.sleep(oneWay(m_settings.centralLocation, from));
        CacheEntry filled;
        if (central) {
            filled.value = central->value;
            filled.metadata = central->metadata;
            filled.expiration = central->expiration;
            filled.version = central->version;
        }
        filled.fetchedAt = m_simulation.now();
        filled.ttl = readTtl;
        m_caches[size_t(from)][utf8Key] = filled;
        result.value = filled.value;
        result.metadata = filled.metadata;
        result.version = filled.version;
        result.fromCentral = true;
        // The central value may have changed while the response travelled back.
        result.stale = isStale(filled, liveEntry(utf8Key));
    }

    TraceEvent event;
    event.kind = TraceKind::KvGet;
    event.actor = actor;
    event.location = m_locations.name(from);
    event.subject = key;
    event.numbers[0] = result.fromCentral ? 1 : 0;
    event.numbers[1] = result.stale ? 1 : 0;
    event.numbers[2] = result.version;
    event.value = result.value.value_or(QByteArray());
    m_simulation.record(std::move(event));
    co_return result;
}

bool KvNamespace::admitWrite(const QByteArray &key)
{
    if (m_settings.writeRateLimit == WriteRateLimit::Off)
        return true;
    const SimTime now = m_simulation.now();
    const auto it = m_lastWriteAt.find(key);
    if (it != m_lastWriteAt.end() && now - it->second < m_settings.sameKeyWriteInterval)
        return false;
    m_lastWriteAt[key] = now;
    // Forget keys whose interval has passed, so the map holds only recently written keys.
    if (m_lastWriteAt.size() > 4096) {
        std::erase_if(m_lastWriteAt, [&](const auto &item) {
            return now - item.second >= m_settings.sameKeyWriteInterval;
        });
    }
    return true;
}

void KvNamespace::cacheWrite(LocationId location, const QByteArray &key,
                             const std::optional<KvEntry> &entry)
{
    CacheEntry cached;
    if (entry) {
        cached.value = entry->value;
        cached.metadata = entry->metadata;
        cached.expiration = entry->expiration;
        cached.version = entry->version;
    }
    cached.fetchedAt = m_simulation.now();
    cached.ttl = m_settings.defaultCacheTtl;
    m_caches[size_t(location)][key] = cached;
}

void KvNamespace::traceWrite(TraceKind kind, const QString &actor, LocationId from,
                             const QString &key, int status, qint64 version, SimDuration latency,
                             const QByteArray &value)
{
    TraceEvent event;
    event.kind = kind;
    event.actor = actor;
    event.location = m_locations.name(from);
    event.subject = key;
    event.numbers[0] = status;
    event.numbers[1] = version;
    event.numbers[2] = latency;
    event.value = value;
    m_simulation.record(std::move(event));
}

Task<Status> KvNamespace::put(QString actor, LocationId from, QString key, QByteArray value,
                              KvPutOptions options)
{
    if (Status valid = kv::validateKey(key, kv::Operation::Put); !valid)
        co_return valid;
    const qint64 calledAtSeconds = nowSeconds();
    if (Status valid = kv::validateExpiration(options.expiration, options.expirationTtl,
                                              calledAtSeconds);
        !valid)
        co_return valid;
    if (options.metadata) {
        if (Status valid = kv::validateMetadata(*options.metadata); !valid)
            co_return valid;
    }
    if (Status valid = kv::validateValueSize(value.size(), m_settings.maxValueBytes); !valid)
        co_return valid;

    // NOTE: the platform's handling of expirations beyond any real date (1e20, Infinity) is not
    // documented; they are kept as the latest instant that virtual time can represent.
    constexpr double kLatestExpirationSeconds = 9.0e12;
    std::optional<qint64> expiration;
    if (options.expirationTtl) {
        expiration = qint64(std::min(double(calledAtSeconds) + std::floor(*options.expirationTtl),
                                     kLatestExpirationSeconds));
    } else if (options.expiration) {
        expiration = qint64(std::min(std::floor(*options.expiration), kLatestExpirationSeconds));
    }

    const SimTime calledAt = m_simulation.now();
    const QByteArray utf8Key = key.toUtf8();
    co_await m_simulation.sleep(oneWay(from, m_settings.centralLocation));

    if (!admitWrite(utf8Key)) {
        traceWrite(TraceKind::KvPut, actor, from, key, 429, 0, m_simulation.now() - calledAt,
                   value);
        co_await m_simulation.sleep(oneWay(m_settings.centralLocation, from));
        co_return kv::failure(kv::Operation::Put, 429, QStringLiteral("Too Many Requests"));
    }
    KvEntry entry { utf8Key, value, options.metadata, expiration, ++m_version };
    if (Status stored = m_store->put(entry); !stored)
        co_return stored;
    traceWrite(TraceKind::KvPut, actor, from, key, 200, entry.version,
               m_simulation.now() - calledAt, value);

    co_await m_simulation.sleep(oneWay(m_settings.centralLocation, from));
    if (m_settings.readYourWrites)
        cacheWrite(from, utf8Key, entry);
    co_return Done {};
}

Task<Status> KvNamespace::remove(QString actor, LocationId from, QString key)
{
    if (Status valid = kv::validateKey(key, kv::Operation::Delete); !valid)
        co_return valid;
    const SimTime calledAt = m_simulation.now();
    const QByteArray utf8Key = key.toUtf8();
    co_await m_simulation.sleep(oneWay(from, m_settings.centralLocation));

    if (!admitWrite(utf8Key)) {
        traceWrite(TraceKind::KvDelete, actor, from, key, 429, 0, m_simulation.now() - calledAt,
                   {});
        co_await m_simulation.sleep(oneWay(m_settings.centralLocation, from));
        co_return kv::failure(kv::Operation::Delete, 429, QStringLiteral("Too Many Requests"));
    }
    Result<bool> removed = m_store->remove(utf8Key);
    if (!removed)
        co_return removed.error();
    const qint64 version = ++m_version;
    traceWrite(TraceKind::KvDelete, actor, from, key, 200, version, m_simulation.now() - calledAt,
               {});

    co_await m_simulation.sleep(oneWay(m_settings.centralLocation, from));
    if (m_settings.readYourWrites)
        cacheWrite(from, utf8Key, std::nullopt);
    co_return Done {};
}

Task<Result<KvListResult>> KvNamespace::list(QString actor, LocationId from, KvListOptions options)
{
    Q_UNUSED(actor);
    if (Status valid = kv::validateList(options.prefix, options.limit); !valid)
        co_return valid.error();
    // workerd sends no limit when it is 0 or less, and the server then uses its default.
    int limit = kv::kMaxListLimit;
    if (options.limit && *options.limit > 0)
        limit = int(std::ceil(*options.limit));
    // Like Miniflare's, our cursor is the base64 of the last key returned.
    const QByteArray startAfter = QByteArray::fromBase64(options.cursor.toLatin1());

    // NOTE: list reads the central store directly; list results in production can also lag
    // writes by up to 60 s, which is not modelled yet.
    co_await m_simulation.sleep(oneWay(from, m_settings.centralLocation));
    std::vector<KvEntry> entries = m_store->list(options.prefix.toUtf8(), startAfter, limit + 1,
                                                 nowSeconds());
    co_await m_simulation.sleep(oneWay(m_settings.centralLocation, from));

    KvListResult result;
    result.listComplete = int(entries.size()) <= limit;
    if (!result.listComplete)
        entries.resize(size_t(limit));
    for (const KvEntry &entry : entries)
        result.keys.push_back({ QString::fromUtf8(entry.key), entry.expiration, entry.metadata });
    if (!result.listComplete)
        result.cursor = QString::fromLatin1(entries.back().key.toBase64());
    co_return result;
}

KvLocationView KvNamespace::view(LocationId location, const QString &key) const
{
    const QByteArray utf8Key = key.toUtf8();
    const std::optional<KvEntry> central = liveEntry(utf8Key);
    KvLocationView view;
    const CacheEntry *cached = freshCacheEntry(location, utf8Key, m_settings.defaultCacheTtl);
    if (!cached) {
        if (central) {
            view.value = central->value;
            view.version = central->version;
        }
        view.refreshAt = m_simulation.now();
        return view;
    }
    view.cached = true;
    view.value = cached->value;
    view.version = cached->version;
    view.stale = isStale(*cached, central);
    // Like `cached` above, this describes a read with the default cacheTtl, which shortens a
    // longer-lived entry.
    view.refreshAt = cached->fetchedAt + std::min(cached->ttl, m_settings.defaultCacheTtl);
    if (cached->expiration)
        view.refreshAt = std::min(view.refreshAt, *cached->expiration * kMicrosecondsPerSecond);
    return view;
}

std::vector<KvEntry> KvNamespace::entries(const QString &prefix, const QByteArray &startAfter,
                                          int limit) const
{
    std::vector<KvEntry> found = m_store->list(prefix.toUtf8(), startAfter, limit, nowSeconds());
    std::erase_if(found, [this](const KvEntry &entry) { return !isLive(entry); });
    return found;
}

qsizetype KvNamespace::cachedKeyCount(LocationId location) const
{
    return qsizetype(m_caches[size_t(location)].size());
}

} // namespace roomscope
