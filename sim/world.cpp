#include "world.h"

#include "js/jsworker.h"
#include "labroom.h"
#include "sessionfile.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <map>

namespace roomscope {

namespace {

/// How long the run may continue after the workloads stop, to finish queued writes and
/// deliver messages already sent.
constexpr SimDuration kDrainLimit = seconds(300);

} // namespace

QUrl roomUrl(const QString &route, const QString &roomId,
             const QList<QPair<QString, QString>> &query)
{
    // .invalid is reserved (RFC 2606): the simulated Worker never resolves this host.
    QUrl url(QStringLiteral("http://roomscope.invalid/") + route);
    QByteArray encoded = "roomId=" + encodeSearchParam(roomId);
    for (const auto &[name, value] : query)
        encoded += '&' + encodeSearchParam(name) + '=' + encodeSearchParam(value);
    url.setQuery(QString::fromLatin1(encoded), QUrl::StrictMode);
    return url;
}

SimulatedClient::SimulatedClient(World &world, QString name, QString room, LocationId location)
    : m_world(world), m_name(std::move(name)), m_room(std::move(room)), m_location(location)
{
}

Task<void> SimulatedClient::connect()
{
    m_state = State::Connecting;
    HttpRequest upgrade;
    upgrade.url = roomUrl(QStringLiteral("ws"), m_room);
    upgrade.headers.append(qMakePair(QByteArray("Upgrade"), QByteArray("websocket")));
    upgrade.upgradeClient = this;

    TraceEvent event;
    event.kind = TraceKind::WsConnect;
    event.actor = m_name;
    event.location = m_world.locations().name(m_location);
    event.subject = m_room;
    m_world.simulation().record(std::move(event));

    const HttpResponse response = co_await m_world.request(m_name, m_location, std::move(upgrade));
    if (response.status == 101 && response.webSocket)
        opened(response.webSocket->connection);
    else
        m_state = State::Rejected;
}

void SimulatedClient::opened(quint64 connection)
{
    m_state = State::Open;
    m_connection = connection;
}

void SimulatedClient::messageReceived(const QByteArray &message, SimTime sentAt)
{
    Simulation &simulation = m_world.simulation();
    ++m_messagesReceived;
    m_bytesReceived += quint64(message.size());
    m_lastMessage = message;
    m_lastMessageAt = simulation.now();

    TraceEvent event;
    event.kind = TraceKind::WsDeliver;
    event.actor = m_name;
    event.location = m_world.locations().name(m_location);
    event.subject = m_room;
    event.numbers[0] = qint64(m_connection);
    event.numbers[1] = message.size();
    event.numbers[2] = simulation.now() - sentAt;
    event.value = message;
    simulation.record(std::move(event));
}

void SimulatedClient::closed(int code, const QString &reason)
{
    m_state = State::Closed;
    TraceEvent event;
    event.kind = TraceKind::WsClose;
    event.actor = m_name;
    event.location = m_world.locations().name(m_location);
    event.subject = m_room;
    event.numbers[0] = qint64(m_connection);
    event.numbers[1] = code;
    event.value = reason.toUtf8();
    m_world.simulation().record(std::move(event));
}

World::World(const Scenario &scenario, quint64 seed)
    : m_scenario(scenario)
    , m_simulation(std::make_unique<Simulation>(seed, scenario.start))
    , m_edgeRandom(m_simulation->random("edge"))
{
}

World::~World()
{
    // Coroutine frames refer to the namespaces and clients, so they go first. The objects'
    // instances refer to the Worker script's realm, so they go before the script.
    m_simulation.reset();
    m_rooms.reset();
}

Result<std::unique_ptr<World>> World::create(const Scenario &scenario, std::optional<quint64> seed,
                                             const QString &sessionFile)
{
    std::unique_ptr<World> world(new World(scenario, seed.value_or(scenario.seed)));
    if (Status built = world->build(sessionFile); !built)
        return built.error();
    return world;
}

Status World::build(const QString &sessionFile)
{
    for (const Scenario::Location &location : m_scenario.locations)
        m_locations.add(location.name);
    for (LocationId id = 0; id < m_locations.count(); ++id)
        m_locations.setLatency(id, id, m_scenario.localLatency);
    for (const Scenario::Latency &latency : m_scenario.latencies)
        m_locations.setLatency(m_locations.find(latency.from), m_locations.find(latency.to),
                               latency.oneWay);
    m_locations.setJitterPercent(m_scenario.jitterPercent);

    KvSettings kvSettings = m_scenario.kv;
    kvSettings.centralLocation = m_scenario.kvCentralLocation.isEmpty()
        ? 0
        : m_locations.find(m_scenario.kvCentralLocation);
    auto kv = KvNamespace::create(*m_simulation, m_locations, m_scenario.kvBinding, kvSettings,
                                  QStringLiteral(":memory:"));
    if (!kv)
        return kv.error();
    m_kv = std::move(kv).value();
    if (!sessionFile.isEmpty()) {
        if (Status loaded = m_kv->loadStore(sessionFile); !loaded)
            return loaded.error();
    }

    DurableObjectClass roomClass;
    roomClass.name = m_scenario.roomClassName;
    roomClass.backend = m_scenario.sqliteStorage ? StorageBackend::Sqlite : StorageBackend::KeyValue;
    if (!m_scenario.workerModule.isEmpty()) {
        if (Status loaded = loadScript(roomClass); !loaded)
            return loaded.error();
    } else if (m_scenario.roomBehaviour == QLatin1String("lab")) {
        roomClass.factory = [](DurableObjectState &ctx) { return std::make_unique<LabRoom>(ctx); };
    } else {
        roomClass.factory = [this](DurableObjectState &ctx) {
            return std::make_unique<KvRoom>(ctx, m_locations, *m_kv);
        };
    }
    m_rooms = std::make_unique<DurableObjectNamespace>(
        *m_simulation, m_locations, m_scenario.roomsBinding, std::move(roomClass),
        m_scenario.workerName + QLatin1Char('-') + m_scenario.roomClassName,
        m_scenario.durableObjects);
    m_rooms->setLocal(m_scenario.durableObjectProfile == QLatin1String("local"));
    if (!sessionFile.isEmpty()) {
        const Result<int> restored = session::restoreObjects(sessionFile, *m_rooms);
        if (!restored)
            return restored.error();
        m_sessionFile = sessionFile;
        m_restoredObjects = *restored;
    }
    if (m_script) {
        JsBindings bindings;
        if (m_scenario.workerBindsKv)
            bindings.kv.push_back({ m_scenario.kvBinding, m_kv.get() });
        if (m_scenario.workerBindsRooms) {
            bindings.durableObjects.push_back({ m_scenario.roomsBinding, m_rooms.get() });
            // Bindings of one class share its namespace, as on the platform.
            for (const QString &name : m_scenario.extraRoomsBindings)
                bindings.durableObjects.push_back({ name, m_rooms.get() });
        }
        bindings.vars = m_scenario.workerVars;
        if (Status bound = m_script->bind(bindings); !bound)
            return bound.error();
    } else {
        m_worker = std::make_unique<KvRoomWorker>(*m_rooms);
    }
    m_simulation->trace().addSink([this](const TraceEvent &event) { m_metrics.observe(event); });

    m_workloadEnd = m_scenario.start + m_scenario.duration;
    Random connectRandom = m_simulation->random("clients");
    for (const Scenario::Room &room : m_scenario.rooms) {
        if (!room.location.isEmpty())
            m_rooms->setLocationHint(m_rooms->idFromName(room.name), m_locations.find(room.location));
        // Clients are numbered per room and location, across groups in the same location.
        std::map<QString, int> numbers;
        for (const Scenario::ClientGroup &group : room.clients) {
            const LocationId location = m_locations.find(group.location);
            for (int i = 0; i < group.count; ++i) {
                const int number = ++numbers[group.location];
                const QString name = QStringLiteral("%1/%2/%3").arg(room.name, group.location).arg(number);
                auto client = std::make_unique<SimulatedClient>(*this, name, room.name, location);
                SimulatedClient *raw = client.get();
                m_clients.push_back(std::move(client));
                const SimDuration delay =
                    connectRandom.uniformInt(0, std::max<SimDuration>(m_scenario.clientConnectSpread, 0));
                m_simulation->schedule(m_scenario.start + delay,
                                       [this, raw] { m_simulation->spawn(raw->connect()); });
            }
        }
    }
    for (const Scenario::Workload &workload : m_scenario.workloads)
        m_simulation->spawn(runWorkload(workload, m_locations.find(workload.location)));
    return Done {};
}

Status World::loadScript(DurableObjectClass &roomClass)
{
    const QFileInfo scenarioFile(m_scenario.sourcePath);
    const QString modulePath = QFileInfo(m_scenario.workerModule).isAbsolute()
            ? m_scenario.workerModule
            : scenarioFile.dir().filePath(m_scenario.workerModule);
    QFile file(modulePath);
    if (!file.open(QIODevice::ReadOnly))
        return Error::error(QStringLiteral("Cannot read the Worker module %1: %2.")
                                    .arg(modulePath, file.errorString()));
    // Imports resolve within the module's folder; scripts reach no other file.
    const QDir folder = QFileInfo(modulePath).dir();
    const QString entryName = QFileInfo(modulePath).fileName();
    auto loader = [this, folder](const QString &path) -> std::optional<QByteArray> {
        const QString cleaned = QDir::cleanPath(path);
        if (cleaned.startsWith(QLatin1String("../")) || QDir::isAbsolutePath(cleaned))
            return std::nullopt;
        QFile imported(folder.filePath(cleaned));
        if (!imported.open(QIODevice::ReadOnly))
            return std::nullopt;
        const QByteArray source = imported.readAll();
        m_scriptSources[path] = source;
        return source;
    };
    const QByteArray entrySource = file.readAll();
    m_scriptSources[entryName] = entrySource;
    Result<std::unique_ptr<JsWorkerScript>> script =
            JsWorkerScript::load(*m_simulation, entryName, entrySource, loader,
                                 std::chrono::milliseconds(m_scenario.workerCpuLimitMs));
    if (!script)
        return Error::error(QStringLiteral("%1: %2").arg(modulePath, script.error().message));
    m_script = script->get();
    if (m_scenario.workerBindsRooms && !m_script->exportsClass(m_scenario.roomClassName)) {
        const QStringList classes = m_script->exportedClasses();
        if (m_scenario.workerRoomsByDefault && classes.isEmpty()) {
            // A Worker without Durable Objects: nothing names a class, and the module has none.
            m_scenario.workerBindsRooms = false;
        } else {
            const QString exported = classes.isEmpty()
                    ? QStringLiteral("it exports no class")
                    : QStringLiteral("it exports %1; to bind one, give --do %2=%3")
                              .arg(classes.join(QStringLiteral(", ")), m_scenario.roomsBinding,
                                   classes.constFirst());
            return Error::error(QStringLiteral("%1 exports no class %2, which the %3 binding "
                                               "names: %4.")
                                        .arg(modulePath, m_scenario.roomClassName,
                                             m_scenario.roomsBinding, exported));
        }
    }
    roomClass.factory = m_script->objectFactory(m_scenario.roomClassName);
    m_script->setConsoleSink([this](const QString &level, const QString &text) {
        TraceEvent event;
        event.kind = TraceKind::Console;
        event.actor = QStringLiteral("script");
        event.subject = level;
        event.value = text.toUtf8();
        m_simulation->record(std::move(event));
    });
    m_script->setErrorSink([this](const JsScriptError &error) {
        // The log keeps what the trace event leaves out (the actor and the stack), outside the
        // trace so that the trace digest stays as it was.
        m_scriptErrors.add(m_simulation->now(), error);
        TraceEvent event;
        event.kind = TraceKind::ScriptError;
        event.actor = QStringLiteral("script");
        event.subject = error.where;
        event.numbers[0] = error.line;
        event.numbers[1] = error.column;
        event.value = (error.fileName.isEmpty()
                               ? error.text
                               : QStringLiteral("%1 (%2:%3:%4)").arg(error.text, error.fileName).arg(error.line).arg(error.column))
                              .toUtf8();
        m_simulation->record(std::move(event));
    });
    m_worker = std::move(script).value();
    return Done {};
}

std::optional<QByteArray> World::scriptSource(const QString &fileName) const
{
    const auto found = m_scriptSources.find(fileName);
    if (found == m_scriptSources.end())
        return std::nullopt;
    return found->second;
}

QStringList World::roomNames() const
{
    QStringList names;
    for (const Scenario::Room &room : m_scenario.rooms)
        names << room.name;
    for (const DurableObject *object : m_rooms->objects()) {
        if (!object->name().isEmpty() && !names.contains(object->name()))
            names << object->name();
    }
    return names;
}

DurableObject *World::roomObject(const QString &name) const
{
    return m_rooms->find(m_rooms->idFromName(name));
}

KvRoom *World::room(const QString &name) const
{
    DurableObject *object = roomObject(name);
    // Null for a room of another class, such as the lab class.
    return object ? dynamic_cast<KvRoom *>(object->behaviour()) : nullptr;
}

SimTime World::drainLimit() const
{
    return m_workloadEnd + kDrainLimit;
}

bool World::isFinished() const
{
    return m_simulation->now() >= m_workloadEnd
        && (!m_simulation->hasPendingEvents() || m_simulation->now() >= drainLimit());
}

quint64 World::runToEnd()
{
    quint64 events = m_simulation->runUntil(m_workloadEnd);
    // Finish what is in flight: queued writes, responses and messages already sent.
    while (m_simulation->hasPendingEvents() && *m_simulation->nextEventTime() <= drainLimit()) {
        m_simulation->step();
        ++events;
    }
    return events;
}

Status World::saveSession(const QString &path) const
{
    return session::save(path, *m_kv, *m_rooms);
}

SimDuration World::edgeLatency(LocationId location)
{
    return m_locations.sampleLatency(location, location, m_edgeRandom);
}

RealClient &World::addRealClient(const QString &room, LocationId location, const QString &peer)
{
    const QString name = QStringLiteral("real/%1").arg(m_realClients.size() + 1);
    m_realClients.push_back(std::make_unique<RealClient>(*m_simulation, name, room, location,
                                                         m_locations.name(location), peer));
    RealClient &client = *m_realClients.back();

    TraceEvent event;
    event.kind = TraceKind::WsConnect;
    event.actor = name;
    event.location = m_locations.name(location);
    event.subject = room;
    m_simulation->record(std::move(event));
    return client;
}

Task<HttpResponse> World::request(QString actor, LocationId from, HttpRequest request, Route route)
{
    const quint64 id = m_simulation->nextId();
    const QString roomId = request.queryItem(QStringLiteral("roomId"));
    const SimTime sentAt = m_simulation->now();
    {
        TraceEvent event;
        event.kind = TraceKind::RequestStart;
        event.actor = actor;
        event.location = m_locations.name(from);
        event.subject = roomId;
        event.numbers[0] = qint64(id);
        event.value = request.method + ' ' + request.url.path(QUrl::FullyEncoded).toUtf8() + '?'
            + request.url.query(QUrl::FullyEncoded).toUtf8();
        m_simulation->record(std::move(event));
    }

    if (route == Route::Edge)
        co_await m_simulation->sleep(edgeLatency(from));
    HttpResponse response = co_await m_worker->fetch(from, std::move(request));
    if (route == Route::Edge)
        co_await m_simulation->sleep(edgeLatency(from));

    TraceEvent event;
    event.kind = TraceKind::RequestEnd;
    event.actor = actor;
    event.location = m_locations.name(from);
    event.subject = roomId;
    event.numbers[0] = qint64(id);
    event.numbers[1] = response.status;
    event.numbers[2] = m_simulation->now() - sentAt;
    // The trace keeps the first 200 bytes of a body; "…" marks a body that was longer.
    event.value = response.body.size() > 200 ? response.body.left(200) + "…" : response.body;
    m_simulation->record(std::move(event));
    co_return response;
}

void World::sendRequest(QString actor, LocationId from, HttpRequest request,
                        std::function<void(const HttpResponse &)> done, Route route)
{
    auto run = [](World *world, QString actor, LocationId from, HttpRequest request,
                  std::function<void(const HttpResponse &)> done, Route route) -> Task<void> {
        const HttpResponse response =
                co_await world->request(actor, from, std::move(request), route);
        if (done)
            done(response);
    };
    m_simulation->spawn(
            run(this, std::move(actor), from, std::move(request), std::move(done), route));
}

HttpRequest World::workloadRequest(const Scenario::Workload &workload, Random &random,
                                   quint64 number)
{
    if (!workload.path.isEmpty()) {
        // "/count-memory?block" becomes /count-memory?roomId=<room>&block.
        const qsizetype question = workload.path.indexOf(QLatin1Char('?'));
        const QString route = workload.path.mid(1, question < 0 ? -1 : question - 1);
        HttpRequest request;
        request.url = roomUrl(route, workload.room);
        if (question >= 0)
            request.url.setQuery(request.url.query(QUrl::FullyEncoded) + QLatin1Char('&')
                                         + workload.path.mid(question + 1),
                                 QUrl::TolerantMode);
        return request;
    }
    const int weights[] = { workload.putWeight, workload.getWeight, workload.broadcastWeight };
    const int route = random.weightedIndex(weights);
    const QString key = workload.keys.at(random.uniformInt(0, workload.keys.size() - 1));
    HttpRequest request;
    if (route == 0) {
        const QString value = QStringLiteral("%1#%2").arg(workload.name).arg(number);
        request.url = roomUrl(QStringLiteral("put"), workload.room,
                              { { QStringLiteral("key"), key }, { QStringLiteral("value"), value } });
    } else {
        request.url = roomUrl(route == 1 ? QStringLiteral("get") : QStringLiteral("broadcast"),
                              workload.room, { { QStringLiteral("key"), key } });
    }
    return request;
}

Task<void> World::runWorkload(Scenario::Workload workload, LocationId location)
{
    Random random = m_simulation->random(("workload:" + workload.name).toStdString());
    const QString actor = QStringLiteral("workload ") + workload.name;
    co_await m_simulation->sleep(workload.startAfter);
    for (quint64 number = 1;; ++number) {
        const SimDuration gap = workload.every > 0
            ? workload.every
            : random.exponential(qint64(double(kMicrosecondsPerSecond) / workload.ratePerSecond));
        if (m_simulation->now() + gap >= m_workloadEnd)
            co_return;
        co_await m_simulation->sleep(gap);
        // Open-loop load: the next request does not wait for this one's response.
        for (int i = 0; i < workload.burst; ++i)
            sendRequest(actor, location, workloadRequest(workload, random, number), nullptr);
    }
}

} // namespace roomscope
