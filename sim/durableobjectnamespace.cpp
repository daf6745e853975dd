#include "durableobjectnamespace.h"

namespace roomscope {

QString DurableObject::actorName() const
{
    if (!name.isEmpty())
        return QStringLiteral("room ") + name;
    return QStringLiteral("object ") + id.toString().left(12);
}

DurableObjectNamespace::DurableObjectNamespace(Simulation &simulation, const LocationMap &locations,
                                               QString binding, QString className,
                                               const QString &uniqueKey, BehaviourFactory factory)
    : m_simulation(simulation)
    , m_locations(locations)
    , m_binding(std::move(binding))
    , m_className(std::move(className))
    , m_ids(uniqueKey)
    , m_factory(std::move(factory))
    , m_random(simulation.random(("do:" + m_binding).toStdString()))
{
}

void DurableObjectNamespace::setLocationHint(const DurableObjectId &id, LocationId location)
{
    m_locationHints[id.bytes()] = location;
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

DurableObject &DurableObjectNamespace::instance(const DurableObjectId &id, LocationId caller)
{
    auto &slot = m_objects[id.bytes()];
    if (slot)
        return *slot;
    slot = std::make_unique<DurableObject>();
    slot->id = id;
    slot->name = id.name().value_or(QString());
    const auto hint = m_locationHints.find(id.bytes());
    slot->location = hint != m_locationHints.end() ? hint->second : caller;
    slot->createdAt = m_simulation.now();
    slot->behaviour = m_factory(*slot);

    TraceEvent event;
    event.kind = TraceKind::ObjectCreated;
    event.actor = slot->actorName();
    event.location = m_locations.name(slot->location);
    event.subject = id.toString();
    m_simulation.record(std::move(event));
    return *slot;
}

void DurableObjectNamespace::beginRequest(DurableObject &object)
{
    if (object.requestsInFlight++ == 0)
        object.activeSince = m_simulation.now();
}

void DurableObjectNamespace::endRequest(DurableObject &object)
{
    ++object.requestsHandled;
    if (--object.requestsInFlight == 0)
        object.activeTime += m_simulation.now() - object.activeSince;
}

Task<HttpResponse> DurableObjectNamespace::fetch(LocationId from, DurableObjectId id,
                                                 HttpRequest request)
{
    // The object is placed where its first caller runs; the instance exists from the moment
    // the first request is routed to it.
    DurableObject &placed = instance(id, from);
    co_await m_simulation.sleep(m_locations.sampleLatency(from, placed.location, m_random));

    DurableObject &object = placed;
    beginRequest(object);
    HttpResponse response = co_await object.behaviour->fetch(std::move(request));
    endRequest(object);

    co_await m_simulation.sleep(m_locations.sampleLatency(object.location, from, m_random));
    co_return response;
}

} // namespace roomscope
