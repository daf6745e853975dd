#pragma once

#include "durableobjectid.h"
#include "http.h"
#include "location.h"
#include "simulation.h"
#include "task.h"

#include <QString>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

namespace roomscope {

class DurableObjectNamespace;

/// The behaviour of a Durable Object class, the C++ counterpart of a class extending DurableObject.
/// The simulation runs it on one thread; its coroutines interleave only where they co_await.
class DurableObjectBehaviour
{
public:
    virtual ~DurableObjectBehaviour() = default;
    virtual Task<HttpResponse> fetch(HttpRequest request) = 0;
};

/// One live instance of a Durable Object, with what the inspector shows about it.
struct DurableObject
{
    enum class State { Active, Idle };

    DurableObjectId id;
    QString name; ///< the name it was reached by, empty for unique IDs
    LocationId location = 0;
    SimTime createdAt = 0;
    std::unique_ptr<DurableObjectBehaviour> behaviour;
    int requestsInFlight = 0;
    quint64 requestsHandled = 0;
    SimTime activeSince = 0;
    SimDuration activeTime = 0; ///< total time with a request in flight (billed duration)

    State state() const { return requestsInFlight > 0 ? State::Active : State::Idle; }
    /// "room lobby" for a named object, else the first 12 hex digits of its ID.
    QString actorName() const;
};

/// Creates a behaviour for a new instance.
using BehaviourFactory = std::function<std::unique_ptr<DurableObjectBehaviour>(DurableObject &)>;

/// A Durable Object namespace binding (env.ROOMS). IDs are derived as workerd derives them, and
/// an object is constructed lazily, in the location of its first caller unless a location hint
/// places it, on the first request sent to it. There is one instance per ID.
class DurableObjectNamespace
{
public:
    DurableObjectNamespace(Simulation &simulation, const LocationMap &locations, QString binding,
                           QString className, const QString &uniqueKey, BehaviourFactory factory);

    const QString &binding() const { return m_binding; }
    const QString &className() const { return m_className; }

    DurableObjectId idFromName(const QString &name) const { return m_ids.idFromName(name); }
    Result<DurableObjectId> idFromString(const QString &text) const
    {
        return m_ids.idFromString(text);
    }
    DurableObjectId newUniqueId() { return m_ids.newUniqueId(m_random); }

    /// Places an object that does not exist yet; the hint applies only to its construction.
    void setLocationHint(const DurableObjectId &id, LocationId location);

    /// Sends a request from a Worker in `from` to the object, constructing it if needed.
    /// The request and the response each cross the network between the two locations.
    Task<HttpResponse> fetch(LocationId from, DurableObjectId id, HttpRequest request);

    /// The live instance for an ID, or null if it was never constructed.
    DurableObject *find(const DurableObjectId &id) const;
    /// Every live instance, in ID order.
    std::vector<DurableObject *> objects() const;

private:
    DurableObject &instance(const DurableObjectId &id, LocationId caller);
    void beginRequest(DurableObject &object);
    void endRequest(DurableObject &object);

    Simulation &m_simulation;
    const LocationMap &m_locations;
    QString m_binding;
    QString m_className;
    DurableObjectIdFactory m_ids;
    BehaviourFactory m_factory;
    Random m_random;
    std::map<QByteArray, std::unique_ptr<DurableObject>> m_objects;
    std::map<QByteArray, LocationId> m_locationHints;
};

} // namespace roomscope
