#pragma once

#include "durableobjectnamespace.h"
#include "kvnamespace.h"
#include "kvroom.h"
#include "location.h"
#include "metrics.h"
#include "realclient.h"
#include "scenario.h"
#include "scripterrors.h"
#include "simulation.h"
#include "websocket.h"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

namespace roomscope {

class JsWorkerScript;
class World;

/// A simulated WebSocket client that joins one room from one location and counts what it gets.
class SimulatedClient : public WebSocketClient
{
public:
    enum class State { Idle, Connecting, Open, Rejected, Closed };

    SimulatedClient(World &world, QString name, QString room, LocationId location);

    QString name() const override { return m_name; }
    LocationId location() const override { return m_location; }
    void opened(quint64 connection) override;
    void messageReceived(const QByteArray &message, SimTime sentAt) override;
    void closed(int code, const QString &reason) override;

    const QString &room() const { return m_room; }
    State state() const { return m_state; }
    quint64 connection() const { return m_connection; }
    quint64 messagesReceived() const { return m_messagesReceived; }
    quint64 bytesReceived() const { return m_bytesReceived; }
    const QByteArray &lastMessage() const { return m_lastMessage; }
    SimTime lastMessageAt() const { return m_lastMessageAt; }

    /// Sends the upgrade request through the Worker.
    Task<void> connect();

private:
    World &m_world;
    QString m_name;
    QString m_room;
    LocationId m_location;
    State m_state = State::Idle;
    quint64 m_connection = 0;
    quint64 m_messagesReceived = 0;
    quint64 m_bytesReceived = 0;
    QByteArray m_lastMessage;
    SimTime m_lastMessageAt = 0;
};

/// One run of a scenario: the simulation, its locations, the KV namespace, the rooms' Durable
/// Object namespace, the Worker in front of them, the simulated clients and the workloads.
class World
{
public:
    /// Builds a run; `seed` replaces the scenario's seed when given. A non-empty
    /// `sessionFile` is a session file (saveSession()) whose KV entries the KV namespace starts
    /// with. The rooms' namespace restores its Durable Objects, each in its saved location and
    /// not constructed until an event reaches it. The file itself is only read.
    static Result<std::unique_ptr<World>> create(const Scenario &scenario,
                                                 std::optional<quint64> seed = std::nullopt,
                                                 const QString &sessionFile = {});
    ~World();

    const Scenario &scenario() const { return m_scenario; }
    Simulation &simulation() { return *m_simulation; }
    const Simulation &simulation() const { return *m_simulation; }
    const LocationMap &locations() const { return m_locations; }
    KvNamespace &kv() { return *m_kv; }
    const KvNamespace &kv() const { return *m_kv; }
    DurableObjectNamespace &rooms() { return *m_rooms; }
    const DurableObjectNamespace &rooms() const { return *m_rooms; }
    const Metrics &metrics() const { return m_metrics; }
    const std::vector<std::unique_ptr<SimulatedClient>> &clients() const { return m_clients; }

    /// Room names: the scenario's, then any other room a request reached, in order of creation.
    QStringList roomNames() const;
    /// The room's object, or null while it has not been constructed.
    DurableObject *roomObject(const QString &name) const;
    KvRoom *room(const QString &name) const;

    /// When the workloads stop. The run continues past it until in-flight work completes.
    SimTime workloadEnd() const { return m_workloadEnd; }
    /// The latest time the run continues to finish in-flight work after the workloads stop.
    SimTime drainLimit() const;
    /// True once the workloads have stopped and nothing is left to run.
    bool isFinished() const;
    /// Runs the whole scenario as fast as possible and returns the number of events run.
    quint64 runToEnd();

    /// Saves the KV store and every Durable Object of the rooms' namespace, with the storage
    /// and alarm of its confirmed writes, to a session file (sessionfile.h).
    Status saveSession(const QString &path) const;
    /// The session file the run started from; empty for none.
    const QString &sessionFile() const { return m_sessionFile; }
    /// The user's Worker script, or null when the scenario runs the built-in Worker.
    JsWorkerScript *script() const { return m_script; }
    /// The uncaught errors of the user's Worker script so far, grouped by place and text, with
    /// their virtual times and actors. Empty for the built-in Worker.
    const ScriptErrorLog &scriptErrors() const { return m_scriptErrors; }
    /// Returns a Worker module file as the script loaded it, by the name that stack frames give
    /// it ("worker.mjs", "lib/util.mjs"). A file the script did not load gives nothing.
    std::optional<QByteArray> scriptSource(const QString &fileName) const;
    /// How many Durable Objects the session file restored.
    int restoredObjectCount() const { return m_restoredObjects; }

    /// How a request reaches the Worker.
    enum class Route {
        Edge, ///< from a simulated client: one edge hop each way, sampled from `from`'s latency
        Direct, ///< from a real client: its real network already took its time
    };
    /// Sends a request from `from` through the Worker, recording request.start and request.end.
    Task<HttpResponse> request(QString actor, LocationId from, HttpRequest request,
                               Route route = Route::Edge);
    /// Starts a request and calls `done` with the response when it arrives.
    void sendRequest(QString actor, LocationId from, HttpRequest request,
                     std::function<void(const HttpResponse &)> done, Route route = Route::Edge);

    /// Adds a real client that the gateway is connecting. The world keeps it for the whole run,
    /// because the object's scheduled messages and closes may still refer to it.
    RealClient &addRealClient(const QString &room, LocationId location, const QString &peer);
    const std::vector<std::unique_ptr<RealClient>> &realClients() const { return m_realClients; }

    /// The one-way latency inside a location, for a client to reach its Worker.
    SimDuration edgeLatency(LocationId location);

private:
    explicit World(const Scenario &scenario, quint64 seed);
    Status build(const QString &sessionFile);
    /// Loads the scenario's Worker module and makes the rooms' class one of its exports.
    Status loadScript(DurableObjectClass &roomClass);
    Task<void> runWorkload(Scenario::Workload workload, LocationId location);
    HttpRequest workloadRequest(const Scenario::Workload &workload, Random &random, quint64 number);

    Scenario m_scenario;
    std::unique_ptr<Simulation> m_simulation;
    LocationMap m_locations;
    std::unique_ptr<KvNamespace> m_kv;
    std::unique_ptr<DurableObjectNamespace> m_rooms;
    std::unique_ptr<Worker> m_worker;
    JsWorkerScript *m_script = nullptr; ///< m_worker, when it is the user's script
    ScriptErrorLog m_scriptErrors;
    std::map<QString, QByteArray> m_scriptSources; ///< by module path, as scriptSource() returns them
    std::vector<std::unique_ptr<SimulatedClient>> m_clients;
    std::vector<std::unique_ptr<RealClient>> m_realClients;
    Metrics m_metrics;
    Random m_edgeRandom;
    SimTime m_workloadEnd = 0;
    QString m_sessionFile;
    int m_restoredObjects = 0;
};

/// Builds a request URL for the kv-room routes: http://roomscope.invalid/<route>?roomId=...
QUrl roomUrl(const QString &route, const QString &roomId,
             const QList<QPair<QString, QString>> &query = {});

} // namespace roomscope
