#include "kvnamespace.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>

#include <algorithm>
#include <cmath>
#include <set>

namespace roomscope {

KvSettings kvSettingsForProfile(KvProfile profile)
{
    KvSettings settings;
    switch (profile) {
    case KvProfile::Production:
        break;
    case KvProfile::Local:
        // Miniflare keeps one SQLite store, validates cacheTtl but ignores it, and never
        // rate-limits, so every read sees the latest write at once.
        settings.readYourWrites = true;
        settings.locationCaches = false;
        settings.networkLatency = false;
        settings.cacheHitLatency = 0;
        settings.writeRateLimit = WriteRateLimit::Off;
        break;
    }
    return settings;
}

std::optional<KvProfile> kvProfileFromName(const QString &name)
{
    if (name == QLatin1String("production"))
        return KvProfile::Production;
    if (name == QLatin1String("local"))
        return KvProfile::Local;
    return std::nullopt;
}

std::optional<KvPlan> kvPlanFromName(const QString &name)
{
    if (name == QLatin1String("paid"))
        return KvPlan::Paid;
    if (name == QLatin1String("free"))
        return KvPlan::Free;
    return std::nullopt;
}

std::optional<KvValueType> kvValueTypeFromName(const QString &name)
{
    if (name == QLatin1String("text"))
        return KvValueType::Text;
    if (name == QLatin1String("json"))
        return KvValueType::Json;
    if (name == QLatin1String("arrayBuffer"))
        return KvValueType::ArrayBuffer;
    if (name == QLatin1String("stream"))
        return KvValueType::Stream;
    return std::nullopt;
}

Status KvInvocation::countOperation()
{
    if (m_operationCount >= m_maxOperations)
        return kv::tooManyOperations();
    ++m_operationCount;
    return Done {};
}

namespace {

/// Parses a value as JSON.parse() would, including a bare number, string, true, false or null
/// at the top level. Returns nothing and sets `problem` when the bytes are not one JSON value.
std::optional<QJsonValue> parseJsonValue(const QByteArray &bytes, QString *problem)
{
    // QJsonDocument accepts only an object or an array at the top level, so the value is
    // wrapped in an array, which must then hold exactly one element.
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson('[' + bytes + ']', &error);
    if (error.error != QJsonParseError::NoError) {
        *problem = QStringLiteral("%1 at byte %2")
                       .arg(error.errorString())
                       .arg(std::max(0, error.offset - 1));
        return std::nullopt;
    }
    const QJsonArray array = document.array();
    if (array.size() != 1) {
        *problem = array.isEmpty() ? QStringLiteral("no value")
                                   : QStringLiteral("more than one value");
        return std::nullopt;
    }
    return array.first();
}

Error unknownTypeError()
{
    return Error::typeError(QStringLiteral("Unknown response type. Possible types are \"text\", "
                                           "\"arrayBuffer\", \"json\", and \"stream\"."));
}

/// The error of a "json" read of a value that is not JSON.
/// NOTE: V8's JSON.parse message (such as `Unexpected token 'v', "v" is not valid JSON`) cannot
/// be reproduced from Qt's parser; only the SyntaxError kind matches the platform.
Error notJsonError(const QString &key, const QString &problem)
{
    return { Error::Kind::SyntaxError,
             QStringLiteral("The value of KV key \"%1\" is not valid JSON: %2.").arg(key, problem) };
}

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
    if (!m_settings.locationCaches)
        return nullptr;
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

bool KvNamespace::isStaleNow(const CacheEntry &cached, const QByteArray &key) const
{
    if (changedSince(key, cached.centralSerial))
        return isStale(cached, liveEntry(key));
    // The central row is still the one the cache entry copied, so only its expiry can make
    // them differ. A cached miss copied a missing or expired row, which stays missing.
    if (!cached.value)
        return false;
    return cached.expiration && *cached.expiration <= nowSeconds();
}

bool KvNamespace::changedSince(const QByteArray &key, quint64 serial) const
{
    if (serial < m_changeFloor)
        return true;
    const auto it = m_lastChange.find(key);
    return it != m_lastChange.end() && it->second > serial;
}

void KvNamespace::noteCentralChange(const QByteArray &key)
{
    // Bounds the map: forgetting every key sends the stale checks of older cache entries back
    // to SQLite, which stays exact.
    constexpr size_t kMaxTrackedKeys = 65536;
    if (m_lastChange.size() >= kMaxTrackedKeys) {
        m_lastChange.clear();
        m_changeFloor = m_changeSerial;
    }
    m_lastChange[key] = ++m_changeSerial;
}

void KvNamespace::noteCentralReplaced()
{
    m_lastChange.clear();
    m_changeFloor = ++m_changeSerial;
}

void KvNamespace::startDayIfNew()
{
    constexpr qint64 kSecondsPerDay = 86400;
    const qint64 seconds = nowSeconds();
    // Days since the epoch, rounded down for times before it as well.
    const qint64 day = seconds / kSecondsPerDay - (seconds % kSecondsPerDay < 0 ? 1 : 0);
    if (day == m_day)
        return;
    m_day = day;
    m_readsToday = 0;
    m_deletesToday = 0;
    m_listsToday = 0;
    m_keysWrittenToday.clear();
}

bool KvNamespace::withinDailyLimit(const qint64 &used, qint64 count, qint64 limit)
{
    if (m_settings.plan != KvPlan::Free)
        return true;
    startDayIfNew();
    // NOTE: Cloudflare does not document what happens to a bulk read of more keys than the day
    // has reads left. Here it fails.
    return used + count <= limit;
}

bool KvNamespace::dailyLimitAdmitsWrite(const QByteArray &key)
{
    if (m_settings.plan != KvPlan::Free)
        return true;
    startDayIfNew();
    // NOTE: Cloudflare's limits page states the Free limit as 1,000 "writes to different keys"
    // per day, while its pricing page gives 1,000 writes. This follows the limits page.
    return m_keysWrittenToday.contains(key)
        || qint64(m_keysWrittenToday.size()) < kv::kFreeWritesPerDay;
}

SimDuration KvNamespace::oneWay(LocationId from, LocationId to)
{
    if (!m_settings.networkLatency)
        return 0;
    return m_locations.sampleLatency(from, to, m_random);
}

Task<Result<KvReadResult>> KvNamespace::get(QString actor, LocationId from, QString key,
                                            KvGetOptions options, KvInvocation *invocation)
{
    if (Status valid = kv::validateKey(key, kv::Operation::Get); !valid)
        co_return valid.error();
    if (invocation) {
        if (Status counted = invocation->countOperation(); !counted)
            co_return counted.error();
    }
    SimDuration readTtl = m_settings.defaultCacheTtl;
    if (options.cacheTtl) {
        if (Status valid = kv::validateCacheTtl(*options.cacheTtl, m_settings.minCacheTtlSeconds);
            !valid)
            co_return valid.error();
        readTtl = ttlFromSeconds(*options.cacheTtl);
    }
    // Every read counts toward the daily limit, served from a location's cache or not.
    if (!withinDailyLimit(m_readsToday, 1, kv::kFreeReadsPerDay)) {
        co_await m_simulation.sleep(oneWay(from, m_settings.centralLocation));
        co_await m_simulation.sleep(oneWay(m_settings.centralLocation, from));
        co_return kv::dailyLimitExceeded(kv::Operation::Get);
    }
    ++m_readsToday;

    const QByteArray utf8Key = key.toUtf8();
    KvReadResult result;
    if (const CacheEntry *cached = freshCacheEntry(from, utf8Key, readTtl)) {
        CacheEntry &entry = m_caches[size_t(from)][utf8Key];
        entry.ttl = std::min(entry.ttl, readTtl);
        const CacheEntry served = *cached;
        if (m_settings.networkLatency)
            co_await m_simulation.sleep(m_settings.cacheHitLatency);
        result.value = served.value;
        result.metadata = served.metadata;
        result.version = served.version;
        result.stale = isStaleNow(served, utf8Key);
    } else {
        co_await m_simulation.sleep(oneWay(from, m_settings.centralLocation));
        const quint64 serial = m_changeSerial;
        const std::optional<KvEntry> central = liveEntry(utf8Key);
        co_await m_simulation.sleep(oneWay(m_settings.centralLocation, from));
        result = fetchedResult(from, utf8Key, central, readTtl, serial);
    }
    traceRead(actor, from, key, result);

    // A missing key gives null before the type is checked, so an unknown type fails only for an
    // existing key.
    if (!result.value)
        co_return result;
    const std::optional<KvValueType> type = kvValueTypeFromName(options.type);
    if (!type)
        co_return unknownTypeError();
    if (*type == KvValueType::Json) {
        QString problem;
        result.json = parseJsonValue(*result.value, &problem);
        if (!result.json)
            co_return notJsonError(key, problem);
    }
    co_return result;
}

KvReadResult KvNamespace::fetchedResult(LocationId from, const QByteArray &utf8Key,
                                        const std::optional<KvEntry> &central, SimDuration readTtl,
                                        quint64 serial)
{
    cacheRead(from, utf8Key, central, readTtl, serial);
    KvReadResult result;
    if (central) {
        result.value = central->value;
        result.metadata = central->metadata;
        result.version = central->version;
    }
    result.fromCentral = true;
    // The central value may have changed while the response travelled back. Unless the key was
    // written or deleted meanwhile, only the fetched value's expiry can have changed it.
    std::optional<KvEntry> now;
    if (changedSince(utf8Key, serial))
        now = liveEntry(utf8Key);
    else if (central && isLive(*central))
        now = central;
    result.stale = central ? (!now || now->version != central->version) : now.has_value();
    return result;
}

void KvNamespace::cacheRead(LocationId location, const QByteArray &key,
                            const std::optional<KvEntry> &entry, SimDuration ttl, quint64 serial)
{
    if (!m_settings.locationCaches)
        return;
    CacheEntry filled;
    if (entry) {
        filled.value = entry->value;
        filled.metadata = entry->metadata;
        filled.expiration = entry->expiration;
        filled.version = entry->version;
    }
    filled.fetchedAt = m_simulation.now();
    filled.ttl = ttl;
    filled.centralSerial = serial;
    m_caches[size_t(location)][key] = filled;
}

void KvNamespace::traceRead(const QString &actor, LocationId from, const QString &key,
                            const KvReadResult &result)
{
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
}

Task<Result<std::vector<KvBulkEntry>>> KvNamespace::getBulk(QString actor, LocationId from,
                                                            QStringList keys,
                                                            KvBulkGetOptions options,
                                                            KvInvocation *invocation)
{
    for (const QString &key : keys) {
        if (Status valid = kv::validateKey(key, kv::Operation::GetBulk); !valid)
            co_return valid.error();
    }
    if (invocation) {
        if (Status counted = invocation->countOperation(); !counted)
            co_return counted.error();
    }
    if (Status valid = kv::validateBulkGet(keys.size(), options.type); !valid)
        co_return valid.error();
    SimDuration readTtl = m_settings.defaultCacheTtl;
    if (options.cacheTtl) {
        if (Status valid = kv::validateCacheTtl(*options.cacheTtl, m_settings.minCacheTtlSeconds);
            !valid)
            co_return valid.error();
        readTtl = ttlFromSeconds(*options.cacheTtl);
    }

    QStringList distinct;
    std::set<QString> seen;
    for (const QString &key : keys) {
        if (seen.insert(key).second)
            distinct << key;
    }
    // Each distinct key counts as one read toward the daily limit, as it does in kv.reads.
    // NOTE: how production bills a bulk read (per key or per call) is not documented.
    if (!withinDailyLimit(m_readsToday, distinct.size(), kv::kFreeReadsPerDay)) {
        co_await m_simulation.sleep(oneWay(from, m_settings.centralLocation));
        co_await m_simulation.sleep(oneWay(m_settings.centralLocation, from));
        co_return kv::dailyLimitExceeded(kv::Operation::GetBulk);
    }
    m_readsToday += distinct.size();

    // Modelling choice: each key is served from the location's cache exactly as a single read
    // would be, and the keys that miss are fetched together in one round trip to the central
    // store. A bulk read therefore costs one round trip at most, and a key it fetches fills the
    // location's cache like a single read of that key.
    std::vector<KvReadResult> results(size_t(distinct.size()));
    std::vector<std::optional<CacheEntry>> served(size_t(distinct.size()));
    std::vector<size_t> misses;
    for (size_t i = 0; i < size_t(distinct.size()); ++i) {
        const QByteArray utf8Key = distinct.at(qsizetype(i)).toUtf8();
        if (const CacheEntry *cached = freshCacheEntry(from, utf8Key, readTtl)) {
            served[i] = *cached;
            CacheEntry &entry = m_caches[size_t(from)][utf8Key];
            entry.ttl = std::min(entry.ttl, readTtl);
        } else {
            misses.push_back(i);
        }
    }
    if (misses.empty()) {
        if (m_settings.networkLatency)
            co_await m_simulation.sleep(m_settings.cacheHitLatency);
    } else {
        co_await m_simulation.sleep(oneWay(from, m_settings.centralLocation));
        const quint64 serial = m_changeSerial;
        std::vector<std::optional<KvEntry>> central;
        for (size_t i : misses)
            central.push_back(liveEntry(distinct.at(qsizetype(i)).toUtf8()));
        co_await m_simulation.sleep(oneWay(m_settings.centralLocation, from));
        for (size_t m = 0; m < misses.size(); ++m) {
            const size_t i = misses[m];
            results[i] = fetchedResult(from, distinct.at(qsizetype(i)).toUtf8(), central[m],
                                       readTtl, serial);
        }
    }
    for (size_t i = 0; i < size_t(distinct.size()); ++i) {
        if (served[i]) {
            results[i].value = served[i]->value;
            results[i].metadata = served[i]->metadata;
            results[i].version = served[i]->version;
            results[i].stale = isStaleNow(*served[i], distinct.at(qsizetype(i)).toUtf8());
        }
        traceRead(actor, from, distinct.at(qsizetype(i)), results[i]);
    }

    // NOTE: Miniflare's total counts the values only; whether production adds the metadata
    // of getWithMetadata(keys) to the total is not documented.
    qsizetype totalBytes = 0;
    for (const KvReadResult &result : results)
        totalBytes += result.value ? result.value->size() : 0;
    if (totalBytes > kv::kMaxBulkGetBytes) {
        co_return kv::failure(kv::Operation::GetBulk, 413,
                              QStringLiteral("Total size of request exceeds the limit of 25MB"));
    }

    const bool json = options.type == QLatin1String("json");
    std::vector<KvBulkEntry> entries;
    for (size_t i = 0; i < size_t(distinct.size()); ++i) {
        KvBulkEntry entry;
        entry.key = distinct.at(qsizetype(i));
        entry.value = results[i].value;
        if (options.withMetadata)
            entry.metadata = results[i].metadata;
        if (json && entry.value) {
            QString problem;
            entry.json = parseJsonValue(*entry.value, &problem);
            // One value that is not JSON fails the whole call.
            if (!entry.json) {
                co_return kv::failure(kv::Operation::GetBulk, 400,
                                      QStringLiteral("At least one of the requested keys "
                                                     "corresponds to a non-json value"));
            }
        }
        entries.push_back(std::move(entry));
    }
    co_return entries;
}

bool KvNamespace::admitWrite(const QByteArray &key)
{
    if (m_settings.writeRateLimit == WriteRateLimit::Off)
        return true;
    const SimTime now = m_simulation.now();
    const SimDuration interval = m_settings.sameKeyWriteInterval;
    const size_t allowed = m_settings.writeRateLimit == WriteRateLimit::Burst
        ? 1 + size_t(std::max(0, m_settings.writeBurst))
        : 1;
    std::deque<SimTime> &recent = m_recentWrites[key];
    while (!recent.empty() && now - recent.front() >= interval)
        recent.pop_front();
    // A rejected write is not recorded, so it does not extend the interval.
    if (recent.size() >= allowed)
        return false;
    recent.push_back(now);
    // Forget keys whose interval has passed, so the map holds only recently written keys.
    if (m_recentWrites.size() > 4096) {
        std::erase_if(m_recentWrites,
                      [&](const auto &item) { return now - item.second.back() >= interval; });
    }
    return true;
}

void KvNamespace::cacheWrite(LocationId location, const QByteArray &key,
                             const std::optional<KvEntry> &entry, quint64 serial)
{
    if (!m_settings.locationCaches)
        return;
    CacheEntry cached;
    if (entry) {
        cached.value = entry->value;
        cached.metadata = entry->metadata;
        cached.expiration = entry->expiration;
        cached.version = entry->version;
    }
    cached.fetchedAt = m_simulation.now();
    cached.ttl = m_settings.defaultCacheTtl;
    cached.centralSerial = serial;
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
                              KvPutOptions options, KvInvocation *invocation)
{
    if (Status valid = kv::validateKey(key, kv::Operation::Put); !valid)
        co_return valid;
    if (invocation) {
        if (Status counted = invocation->countOperation(); !counted)
            co_return counted;
    }
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
    // documented. They are kept as the latest instant that virtual time can represent.
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

    // Both limits are applied where the write reaches the central store, and a write that
    // either one rejects does not count toward the other.
    if (!dailyLimitAdmitsWrite(utf8Key)) {
        traceWrite(TraceKind::KvPut, actor, from, key, 429, 0, m_simulation.now() - calledAt,
                   value);
        co_await m_simulation.sleep(oneWay(m_settings.centralLocation, from));
        co_return kv::dailyLimitExceeded(kv::Operation::Put);
    }
    if (!admitWrite(utf8Key)) {
        traceWrite(TraceKind::KvPut, actor, from, key, 429, 0, m_simulation.now() - calledAt,
                   value);
        co_await m_simulation.sleep(oneWay(m_settings.centralLocation, from));
        co_return kv::failure(kv::Operation::Put, 429, QStringLiteral("Too Many Requests"));
    }
    if (m_settings.plan == KvPlan::Free)
        m_keysWrittenToday.insert(utf8Key);
    KvEntry entry { utf8Key, value, options.metadata, expiration, ++m_version };
    if (Status stored = m_store->put(entry); !stored)
        co_return stored;
    noteCentralChange(utf8Key);
    const quint64 serial = m_changeSerial;
    traceWrite(TraceKind::KvPut, actor, from, key, 200, entry.version,
               m_simulation.now() - calledAt, value);

    co_await m_simulation.sleep(oneWay(m_settings.centralLocation, from));
    if (m_settings.readYourWrites)
        cacheWrite(from, utf8Key, entry, serial);
    co_return Done {};
}

Task<Status> KvNamespace::remove(QString actor, LocationId from, QString key,
                                 KvInvocation *invocation)
{
    if (Status valid = kv::validateKey(key, kv::Operation::Delete); !valid)
        co_return valid;
    if (invocation) {
        if (Status counted = invocation->countOperation(); !counted)
            co_return counted;
    }
    const SimTime calledAt = m_simulation.now();
    const QByteArray utf8Key = key.toUtf8();
    co_await m_simulation.sleep(oneWay(from, m_settings.centralLocation));

    if (!withinDailyLimit(m_deletesToday, 1, kv::kFreeDeletesPerDay)) {
        traceWrite(TraceKind::KvDelete, actor, from, key, 429, 0, m_simulation.now() - calledAt,
                   {});
        co_await m_simulation.sleep(oneWay(m_settings.centralLocation, from));
        co_return kv::dailyLimitExceeded(kv::Operation::Delete);
    }
    if (!admitWrite(utf8Key)) {
        traceWrite(TraceKind::KvDelete, actor, from, key, 429, 0, m_simulation.now() - calledAt,
                   {});
        co_await m_simulation.sleep(oneWay(m_settings.centralLocation, from));
        co_return kv::failure(kv::Operation::Delete, 429, QStringLiteral("Too Many Requests"));
    }
    ++m_deletesToday;
    Result<bool> removed = m_store->remove(utf8Key);
    if (!removed)
        co_return removed.error();
    noteCentralChange(utf8Key);
    const quint64 serial = m_changeSerial;
    const qint64 version = ++m_version;
    traceWrite(TraceKind::KvDelete, actor, from, key, 200, version, m_simulation.now() - calledAt,
               {});

    co_await m_simulation.sleep(oneWay(m_settings.centralLocation, from));
    if (m_settings.readYourWrites)
        cacheWrite(from, utf8Key, std::nullopt, serial);
    co_return Done {};
}

Task<Result<KvListResult>> KvNamespace::list(QString actor, LocationId from, KvListOptions options,
                                             KvInvocation *invocation)
{
    Q_UNUSED(actor);
    if (invocation) {
        if (Status counted = invocation->countOperation(); !counted)
            co_return counted.error();
    }
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
    if (!withinDailyLimit(m_listsToday, 1, kv::kFreeListsPerDay)) {
        co_await m_simulation.sleep(oneWay(m_settings.centralLocation, from));
        // A list reports its errors as a GET, as workerd does.
        co_return kv::dailyLimitExceeded(kv::Operation::Get);
    }
    ++m_listsToday;
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
