#include "durableobjectnamespace.h"

namespace roomscope {

namespace {

/// workerd leaves `id.name` undefined for names longer than this many bytes of UTF-8.
constexpr qsizetype kMaxIdNameBytes = 1024;

} // namespace

DurableObjectStub::DurableObjectStub(DurableObjectNamespace &ns, DurableObjectId id,
                                     LocationId caller)
    : m_namespace(&ns)
    , m_id(std::move(id))
    , m_caller(caller)
    , m_connection(std::make_shared<StubConnection>())
{
}

Task<Result<HttpResponse>> DurableObjectStub::fetch(HttpRequest request) const
{
    if (request.url.isRelative() || !request.url.isValid())
        co_return Error::typeError(QStringLiteral("Invalid URL: ") + request.url.toString());
    if (m_connection->broken)
        co_return *m_connection->broken;
    DurableObjectNamespace &ns = *m_namespace;
    DurableObject &object = ns.object(m_id, m_caller);
    co_await ns.simulation().sleep(ns.latency(m_caller, object.location()));
    Result<HttpResponse> response = co_await object.deliverRequest(std::move(request), m_connection, m_id);
    co_await ns.simulation().sleep(ns.latency(object.location(), m_caller));
    co_return response;
}

Task<Result<QJsonValue>> DurableObjectStub::call(QString method, QJsonArray arguments) const
{
    if (m_connection->broken)
        co_return *m_connection->broken;
    DurableObjectNamespace &ns = *m_namespace;
    DurableObject &object = ns.object(m_id, m_caller);
    co_await ns.simulation().sleep(ns.latency(m_caller, object.location()));
    Result<QJsonValue> result =
            co_await object.deliverCall(std::move(method), std::move(arguments), m_connection, m_id);
    co_await ns.simulation().sleep(ns.latency(object.location(), m_caller));
    co_return result;
}

DurableObjectNamespace::DurableObjectNamespace(Simulation &simulation, const LocationMap &locations,
                                               QString binding, DurableObjectClass objectClass,
                                               const QString &uniqueKey,
                                               DurableObjectSettings settings)
    : m_simulation(simulation)
    , m_locations(locations)
    , m_binding(std::move(binding))
    , m_class(std::move(objectClass))
    , m_settings(std::move(settings))
    , m_ids(uniqueKey)
    , m_random(simulation.random(("do:" + m_binding).toStdString()))
{
}

DurableObjectNamespace::~DurableObjectNamespace() = default;

DurableObjectId DurableObjectNamespace::idFromName(const QString &name) const
{
    DurableObjectId id = m_ids.idFromName(name);
    if (name.toUtf8().size() > kMaxIdNameBytes)
        return DurableObjectId(id.bytes(), std::nullopt);
    return id;
}

Status DurableObjectNamespace::checkJurisdiction(const QString &jurisdiction) const
{
    if (m_local)
        return Error::error(QStringLiteral("Jurisdiction restrictions are not implemented in workerd."));
    if (jurisdiction != QLatin1String("eu") && jurisdiction != QLatin1String("fedramp"))
        return Error::typeError(QStringLiteral("Unknown jurisdiction \"%1\": use \"eu\" or \"fedramp\".")
                                        .arg(jurisdiction));
    return Done {};
}

Result<DurableObjectId> DurableObjectNamespace::newUniqueId(const QString &jurisdiction)
{
    if (!jurisdiction.isEmpty()) {
        // NOTE: production encodes the jurisdiction in the ID in a way that is not public; a
        // unique ID made here for a jurisdiction looks like any other.
        if (const Status allowed = checkJurisdiction(jurisdiction); !allowed)
            return allowed.error();
    }
    return m_ids.newUniqueId(m_random);
}

Result<DurableObjectStub> DurableObjectNamespace::get(const DurableObjectId &id, LocationId caller,
                                                      const StubOptions &options)
{
    if (!options.locationHint.isEmpty() && !m_objects.contains(id.bytes())) {
        // A hint only places an object that does not exist yet. workerd does not check hints,
        // so one that names no scenario location is ignored, as local development ignores all.
        LocationId location = m_locations.find(options.locationHint);
        if (location < 0) {
            const auto region = m_regions.find(options.locationHint);
            if (region != m_regions.end())
                location = region->second;
        }
        if (location >= 0 && !m_local)
            m_locationHints[id.bytes()] = location;
    }
    return DurableObjectStub(*this, id, caller);
}

Result<DurableObjectStub> DurableObjectNamespace::getByName(const QString &name, LocationId caller,
                                                            const StubOptions &options)
{
    return get(idFromName(name), caller, options);
}

Task<HttpResponse> DurableObjectNamespace::fetch(LocationId from, DurableObjectId id,
                                                 HttpRequest request)
{
    const DurableObjectStub stub(*this, std::move(id), from);
    const Result<HttpResponse> response = co_await stub.fetch(std::move(request));
    if (!response)
        co_return HttpResponse::text(500, response.error().toString().toUtf8() + '\n');
    co_return response.value();
}

DurableObject &DurableObjectNamespace::object(const DurableObjectId &id, LocationId caller)
{
    auto &slot = m_objects[id.bytes()];
    if (!slot) {
        const auto hint = m_locationHints.find(id.bytes());
        const LocationId location = hint != m_locationHints.end() ? hint->second : caller;
        // The record keeps the name it was first reached by; the ID from a string has none.
        slot = std::make_unique<DurableObject>(*this, id, location);
    }
    return *slot;
}

DurableObject *DurableObjectNamespace::find(const DurableObjectId &id) const
{
    const auto it = m_objects.find(id.bytes());
    return it == m_objects.end() ? nullptr : it->second.get();
}

std::vector<DurableObject *> DurableObjectNamespace::objects() const
{
    std::vector<DurableObject *> all;
    all.reserve(m_objects.size());
    for (const auto &[bytes, object] : m_objects)
        all.push_back(object.get());
    return all;
}

Result<DurableObject *> DurableObjectNamespace::restoreObject(const DurableObjectId &id,
                                                              LocationId location,
                                                              const DurableObjectSnapshot &snapshot)
{
    if (m_objects.contains(id.bytes()))
        return Error::error(QStringLiteral("Durable Object %1 exists already, so it cannot be "
                                           "restored.")
                                    .arg(id.toString()));
    if (location < 0 || location >= m_locations.count())
        return Error::error(QStringLiteral("Cannot restore Durable Object %1: location %2 does "
                                           "not exist.")
                                    .arg(id.toString())
                                    .arg(location));
    StorageLimits limits;
    limits.enforce = m_settings.enforceStorageLimits;
    auto storage = DurableObjectStorage::deserialize(m_class.backend, limits, snapshot.storage);
    if (!storage)
        return storage.error();
    // sqlite3_deserialize reads only the schema at first, so check every page now rather than
    // fail at the object's first read.
    const Result<SqlCursor> check = storage.value()->inspect(QStringLiteral("PRAGMA quick_check"));
    if (!check)
        return Error::error(QStringLiteral("Cannot load the storage image: %1")
                                    .arg(check.error().message));
    const QString verdict = check->rows.empty() || check->rows.front().isEmpty()
            ? QString()
            : check->rows.front().front().toString();
    if (verdict != QLatin1String("ok"))
        return Error::error(QStringLiteral("Cannot load the storage image: %1").arg(verdict));

    auto object = std::make_unique<DurableObject>(*this, id, location);
    if (Status restored = object->restore(std::move(storage).value(), snapshot.alarmMs); !restored)
        return restored.error();
    DurableObject *raw = object.get();
    m_objects[id.bytes()] = std::move(object);
    return raw;
}

SimDuration DurableObjectNamespace::latency(LocationId from, LocationId to)
{
    return m_locations.sampleLatency(from, to, m_random);
}

} // namespace roomscope
