#pragma once

#include "dosettings.h"
#include "durableobject.h"
#include "durableobjectid.h"
#include "http.h"
#include "location.h"
#include "simulation.h"
#include "task.h"

#include <QString>

#include <map>
#include <memory>
#include <optional>
#include <vector>

namespace roomscope {

/// What a Durable Object class declares: its name, its storage backend (`new_sqlite_classes`
/// or `new_classes` in the Worker's migrations) and its constructor.
struct DurableObjectClass
{
    QString name;
    StorageBackend backend = StorageBackend::Sqlite;
    BehaviourFactory factory;
};

/// Options of `get(id, {locationHint})` and `getByName(name, {locationHint})`.
struct StubOptions
{
    /// A location name from the scenario or a Cloudflare region hint (wnam, enam, sam, weur,
    /// eeur, apac, oc, afr, me) that a scenario location declares. It places a new object only.
    QString locationHint;
};

/// A stub: the client side of a Durable Object that a Worker or another object holds. Copies
/// share one connection, which breaks for good when the object it reached is reset.
class DurableObjectStub
{
public:
    DurableObjectStub(DurableObjectNamespace &ns, DurableObjectId id, LocationId caller);

    const DurableObjectId &id() const { return m_id; }
    /// `stub.fetch(request)`. The URL must be absolute, as on the platform.
    Task<Result<HttpResponse>> fetch(HttpRequest request) const;
    /// `await stub.method(...arguments)`: an RPC call, its own session and billed request.
    Task<Result<QJsonValue>> call(QString method, QJsonArray arguments = {}) const;
    /// The error every call fails with once the object this stub reached was reset.
    std::optional<Error> brokenError() const { return m_connection->broken; }

private:
    DurableObjectNamespace *m_namespace;
    DurableObjectId m_id;
    LocationId m_caller;
    std::shared_ptr<StubConnection> m_connection;
};

/// A Durable Object namespace binding (env.ROOMS). IDs are derived as workerd derives them, and
/// an object is constructed lazily, in the location of its first caller unless a location hint
/// places it, on the first event sent to it. There is one object per ID.
class DurableObjectNamespace
{
public:
    DurableObjectNamespace(Simulation &simulation, const LocationMap &locations, QString binding,
                           DurableObjectClass objectClass, const QString &uniqueKey,
                           DurableObjectSettings settings = {});
    ~DurableObjectNamespace();

    const QString &binding() const { return m_binding; }
    const QString &className() const { return m_class.name; }
    const DurableObjectClass &objectClass() const { return m_class; }
    const DurableObjectSettings &settings() const { return m_settings; }
    DurableObjectSettings &settings() { return m_settings; }
    Simulation &simulation() const { return m_simulation; }
    const LocationMap &locations() const { return m_locations; }
    /// Whether the namespace behaves as local development (workerd, Miniflare) does.
    bool isLocal() const { return m_local; }
    void setLocal(bool local) { m_local = local; }
    /// Places an object that does not exist yet, as a scenario's room location does.
    void setLocationHint(const DurableObjectId &id, LocationId location)
    {
        m_locationHints[id.bytes()] = location;
    }
    /// Maps a Cloudflare region hint to a scenario location.
    void setRegion(const QString &hint, LocationId location) { m_regions[hint] = location; }

    DurableObjectId idFromName(const QString &name) const;
    Result<DurableObjectId> idFromString(const QString &text) const
    {
        return m_ids.idFromString(text);
    }
    /// `newUniqueId({jurisdiction})`. Local development rejects any jurisdiction.
    Result<DurableObjectId> newUniqueId(const QString &jurisdiction = {});
    /// Checks `ns.jurisdiction(name)`: an error locally, allowed in production.
    Status checkJurisdiction(const QString &jurisdiction) const;

    /// `get(id, options)` from a caller in `caller`.
    Result<DurableObjectStub> get(const DurableObjectId &id, LocationId caller,
                                  const StubOptions &options = {});
    /// `getByName(name, options)`: the same as get(idFromName(name), options).
    Result<DurableObjectStub> getByName(const QString &name, LocationId caller,
                                        const StubOptions &options = {});

    /// Sends a request from a Worker in `from` through a fresh stub. An Error from the object
    /// becomes a 500 response whose body is the error, as an uncaught exception in a Worker.
    Task<HttpResponse> fetch(LocationId from, DurableObjectId id, HttpRequest request);

    /// The object for an ID, created (not constructed) on first use.
    DurableObject &object(const DurableObjectId &id, LocationId caller);
    /// The object for an ID, or null if nothing was ever sent to it.
    DurableObject *find(const DurableObjectId &id) const;
    /// Every object, in ID order.
    std::vector<DurableObject *> objects() const;
    /// Creates an object from a saved session: not constructed until an event reaches it, in
    /// `location`, with the snapshot's storage (opened with this class's backend and limits)
    /// and alarm. Fails when the object exists already or when the storage image is not a
    /// valid SQLite database.
    Result<DurableObject *> restoreObject(const DurableObjectId &id, LocationId location,
                                          const DurableObjectSnapshot &snapshot);

    /// The sampled one-way latency between two locations.
    SimDuration latency(LocationId from, LocationId to);

private:
    Simulation &m_simulation;
    const LocationMap &m_locations;
    QString m_binding;
    DurableObjectClass m_class;
    DurableObjectSettings m_settings;
    DurableObjectIdFactory m_ids;
    Random m_random;
    bool m_local = false;
    std::map<QByteArray, std::unique_ptr<DurableObject>> m_objects;
    std::map<QByteArray, LocationId> m_locationHints;
    std::map<QString, LocationId> m_regions;
};

} // namespace roomscope
