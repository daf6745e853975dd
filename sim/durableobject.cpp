#include "durableobject.h"

#include "dolimits.h"
#include "durableobjectnamespace.h"

#include <algorithm>

namespace roomscope {

namespace {

constexpr SimDuration kOverloadWindow = seconds(10);

Error overloaded(const QString &message)
{
    Error error = Error::error(message);
    error.overloaded = true;
    return error;
}

qint64 epochMilliseconds(SimTime t)
{
    return t >= 0 ? t / kMicrosecondsPerMillisecond : -((-t + 999) / kMicrosecondsPerMillisecond);
}

} // namespace

// Default handlers, as a class that does not define them behaves.

Task<Result<QJsonValue>> DurableObjectBehaviour::call(QString method, QJsonArray)
{
    co_return Error::typeError(QStringLiteral("The RPC receiver does not implement the method \"%1\".")
                                       .arg(method));
}

Task<Status> DurableObjectBehaviour::alarm(AlarmInfo)
{
    co_return Done {};
}

Task<Status> DurableObjectBehaviour::webSocketMessage(std::shared_ptr<ServerWebSocket>,
                                                      WebSocketMessage)
{
    co_return Done {};
}

Task<Status> DurableObjectBehaviour::webSocketClose(std::shared_ptr<ServerWebSocket>, int,
                                                    QString, bool)
{
    co_return Done {};
}

Task<Status> DurableObjectBehaviour::webSocketError(std::shared_ptr<ServerWebSocket>, Error)
{
    co_return Done {};
}

QString objectStateName(ObjectState state)
{
    switch (state) {
    case ObjectState::Inactive:
        return QStringLiteral("inactive");
    case ObjectState::Active:
        return QStringLiteral("active");
    case ObjectState::IdleHibernatable:
        return QStringLiteral("idle, hibernatable");
    case ObjectState::IdleNonHibernatable:
        return QStringLiteral("idle, not hibernatable");
    case ObjectState::Hibernated:
        return QStringLiteral("hibernated");
    }
    return {};
}

/// One instance: the behaviour in memory and its context. Coroutines running the instance's
/// handlers hold it, so the behaviour outlives every frame that uses it.
struct DurableObject::Instance
{
    quint64 number = 0;
    bool alive = true;
    std::unique_ptr<DurableObjectState> context;
    std::unique_ptr<DurableObjectBehaviour> behaviour;
    std::vector<std::weak_ptr<StubConnection>> connections;
    std::vector<std::weak_ptr<Event>> delivered; ///< events handed to the behaviour
};

/// An inbound event waiting for, or passing through, the input gate.
struct DurableObject::Event
{
    EventKind kind = EventKind::Request;
    SimTime queuedAt = 0;
    qint64 bytes = 0;
    std::shared_ptr<StubConnection> connection;
    std::optional<QString> idName;
    HttpRequest request;
    QString method;
    QJsonArray arguments;
    std::shared_ptr<ServerWebSocket> socket;
    WebSocketMessage message;
    int code = 0;
    QString reason;
    bool wasClean = false;
    /// The instance it was delivered to, or the instance constructed for it.
    quint64 instance = 0;
    std::shared_ptr<Completion<Result<HttpResponse>>> response;
    std::shared_ptr<Completion<Result<QJsonValue>>> result;

    void fail(const Error &error)
    {
        if (response && !response->isResolved())
            response->resolve(error);
        if (result && !result->isResolved())
            result->resolve(error);
    }
};

DurableObject::DurableObject(DurableObjectNamespace &ns, DurableObjectId id, LocationId location)
    : m_namespace(ns)
    , m_id(std::move(id))
    , m_name(m_id.name().value_or(QString()))
    , m_location(location)
    , m_createdAt(ns.simulation().now())
    , m_random(ns.simulation().random(("object:" + m_id.toString()).toStdString()))
{
    m_actor = actorName();
    StorageLimits limits;
    limits.enforce = ns.settings().enforceStorageLimits;
    auto storage = DurableObjectStorage::create(ns.objectClass().backend, limits);
    // NOTE: opening an in-memory SQLite database fails only when memory runs out, which this
    // assertion does not handle in release builds.
    Q_ASSERT(storage.ok());
    m_storage = std::move(storage).value();
    m_history.push_back({ m_createdAt, ObjectState::Inactive, QStringLiteral("created") });
}

DurableObject::~DurableObject()
{
    *m_confirmCancelled = true;
    if (m_instance)
        m_instance->alive = false;
}

QString DurableObject::actorName() const
{
    if (!m_name.isEmpty())
        return QStringLiteral("room ") + m_name;
    return QStringLiteral("object ") + m_id.toString().left(12);
}

const DurableObjectSettings &DurableObject::settings() const
{
    return m_namespace.settings();
}

Simulation &DurableObject::simulation() const
{
    return m_namespace.simulation();
}

DurableObjectBehaviour *DurableObject::behaviour() const
{
    return m_instance ? m_instance->behaviour.get() : nullptr;
}

int DurableObject::heldOutputs() const
{
    return int(m_confirmWaiters.size() + m_heldSends.size());
}

bool DurableObject::inputGateOpen() const
{
    return m_inputLocks == 0 && m_blockingConcurrency == 0;
}

int DurableObject::openSocketCount() const
{
    return m_openSockets;
}

void DurableObject::addSocket(const std::shared_ptr<ServerWebSocket> &socket)
{
    m_sockets.push_back(socket);
    ++m_openSockets;
    if (socket->hibernatable)
        ++m_hibernatableSockets;
    else
        ++m_standardSockets;
}

void DurableObject::setSocketState(ServerWebSocket &socket, ServerWebSocket::State state)
{
    // The counters make accepting a socket and checking idleness independent of the number of
    // sockets, which matters for rooms with tens of thousands of them.
    const ServerWebSocket::State previous = std::exchange(socket.state, state);
    if (previous == state || !socket.accepted)
        return;
    if (previous == ServerWebSocket::State::Open)
        --m_openSockets;
    if (state == ServerWebSocket::State::Closed) {
        if (socket.hibernatable)
            --m_hibernatableSockets;
        else
            --m_standardSockets;
    }
}

SimDuration DurableObject::activeTime() const
{
    const bool billed = m_state == ObjectState::Active || m_state == ObjectState::IdleNonHibernatable;
    return m_activeTime + (billed ? simulation().now() - m_activeSince : 0);
}

void DurableObject::record(TraceKind kind, QString subject, qint64 n0, qint64 n1,
                           QByteArray value, qint64 n2)
{
    TraceEvent event;
    event.kind = kind;
    event.actor = m_actor;
    event.location = m_namespace.locations().name(m_location);
    event.subject = std::move(subject);
    event.numbers[0] = n0;
    event.numbers[1] = n1;
    event.numbers[2] = n2;
    event.value = std::move(value);
    simulation().record(std::move(event));
}

// ---------------------------------------------------------------------------------------------
// Lifecycle

void DurableObject::setState(ObjectState state, const QString &reason)
{
    if (state == m_state)
        return;
    const SimTime now = simulation().now();
    const auto billed = [](ObjectState s) {
        return s == ObjectState::Active || s == ObjectState::IdleNonHibernatable;
    };
    if (billed(m_state) && !billed(state))
        m_activeTime += now - m_activeSince;
    if (!billed(m_state) && billed(state))
        m_activeSince = now;
    const ObjectState previous = std::exchange(m_state, state);
    // Moving between active and idle happens around every event; the history and the trace
    // keep the steps that change what is in memory: construction, hibernation, eviction, reset.
    const auto inMemory = [](ObjectState s) {
        return s == ObjectState::Active || s == ObjectState::IdleHibernatable
                || s == ObjectState::IdleNonHibernatable;
    };
    if (inMemory(previous) && inMemory(state) && reason != QLatin1String("constructor")
        && reason != QLatin1String("constructor again"))
        return;
    m_history.push_back({ now, state, reason });
    record(TraceKind::ObjectState, objectStateName(state), qint64(m_instanceNumber), 0,
           reason.toUtf8());
}

void DurableObject::touch()
{
    ++m_idleGeneration;
    if (m_instance)
        setState(ObjectState::Active, m_state == ObjectState::Active ? QString() : QStringLiteral("event"));
}

void DurableObject::touchAndRecheck()
{
    touch();
    // Check idleness again once the coroutine that was woken has suspended or finished.
    simulation().scheduleAfter(0, [this, generation = m_idleGeneration] {
        if (generation == m_idleGeneration)
            scheduleIdleCheck();
    });
}

bool DurableObject::isHibernatable() const
{
    return m_pendingTimers == 0 && m_pendingIo == 0 && m_standardSockets == 0;
}

void DurableObject::scheduleIdleCheck()
{
    if (!m_instance || m_inFlight > 0 || !inputGateOpen() || !m_queue.empty())
        return;
    const quint64 generation = ++m_idleGeneration;
    const DurableObjectSettings &config = settings();
    if (isHibernatable()) {
        setState(ObjectState::IdleHibernatable, QStringLiteral("no events"));
        simulation().scheduleAfter(config.hibernateAfter,
                                   [this, generation] { idleCheck(generation); });
        return;
    }
    setState(ObjectState::IdleNonHibernatable, m_pendingTimers > 0 ? QStringLiteral("timer pending")
                                                  : m_pendingIo > 0 ? QStringLiteral("I/O pending")
                                                                    : QStringLiteral("standard WebSocket open"));
    // A standard WebSocket pins the object in memory for as long as it is connected.
    const bool pinned = m_standardSockets > 0;
    if (pinned || m_pendingIo > 0)
        return;
    const SimDuration delay = config.evictAfterMin
            + SimDuration(m_random.uniformInt(0, quint64(std::max<SimDuration>(
                                                     config.evictAfterMax - config.evictAfterMin, 0))));
    simulation().scheduleAfter(delay, [this, generation] { idleCheck(generation); });
}

void DurableObject::idleCheck(quint64 generation)
{
    if (generation != m_idleGeneration || !m_instance)
        return;
    if (m_state == ObjectState::IdleHibernatable)
        dropInstance(ObjectState::Hibernated, QStringLiteral("idle for %1")
                                                      .arg(formatDuration(settings().hibernateAfter)));
    else if (m_state == ObjectState::IdleNonHibernatable)
        dropInstance(ObjectState::Inactive, QStringLiteral("evicted after being idle"));
}

void DurableObject::dropInstance(ObjectState state, const QString &reason)
{
    if (m_instance) {
        m_instance->alive = false;
        m_instance.reset();
    }
    m_pendingTimers = 0;
    m_pendingIo = 0;
    ++m_idleGeneration;
    setState(state, reason);
}

bool DurableObject::hibernate()
{
    if (!m_instance || m_inFlight > 0 || !inputGateOpen() || !isHibernatable())
        return false;
    dropInstance(ObjectState::Hibernated, QStringLiteral("hibernated from the inspector"));
    return true;
}

bool DurableObject::evict()
{
    if (!m_instance || m_inFlight > 0 || !inputGateOpen() || m_pendingIo > 0)
        return false;
    closeAllSockets(1001, QStringLiteral("Durable Object evicted"));
    dropInstance(ObjectState::Inactive, QStringLiteral("evicted from the inspector"));
    return true;
}

bool DurableObject::ensureInstance(Event &creator)
{
    if (m_instance)
        return true;
    const bool fromCaller = creator.kind == EventKind::Request || creator.kind == EventKind::Call;
    const std::optional<QString> &idName = creator.idName;
    if (m_name.isEmpty() && idName && !idName->isEmpty()) {
        m_name = *idName;
        m_actor = actorName();
    }
    auto instance = std::make_shared<Instance>();
    instance->number = ++m_instanceNumber;
    // An alarm has no caller, so its instance gets the name the object is known by.
    std::optional<QString> name = idName;
    if (!fromCaller && !m_name.isEmpty())
        name = m_name;
    instance->context = std::make_unique<DurableObjectState>(
            *this, instance->number, DurableObjectId(m_id.bytes(), name));
    m_instance = instance;
    m_shuttingDown = false;
    ++m_constructorRuns;
    setState(ObjectState::Active, m_constructorRuns == 1 ? QStringLiteral("constructor")
                                                         : QStringLiteral("constructor again"));
    record(TraceKind::ObjectCreated, m_id.toString(), qint64(instance->number));
    creator.instance = instance->number;
    bindConnection(creator, *instance);
    instance->behaviour = m_namespace.objectClass().factory(*instance->context);
    // The constructor may have reset the object (a failing blockConcurrencyWhile runs later,
    // but ctx.abort() runs now).
    return m_instance == instance;
}

void DurableObject::failEvents(const Error &error, quint64 instance)
{
    std::deque<std::shared_ptr<Event>> keep;
    for (auto &event : m_queue) {
        const bool bound = (event->connection && event->connection->instance == instance)
                || event->instance == instance;
        if (bound) {
            m_queuedBytes -= event->bytes;
            event->fail(error);
        } else {
            keep.push_back(std::move(event));
        }
    }
    m_queue = std::move(keep);
}

void DurableObject::reset(const Error &cause)
{
    Error error = cause;
    error.durableObjectReset = true;
    const std::shared_ptr<Instance> instance = m_instance;
    m_storage->rollbackBatch();
    m_openBatch = 0;
    m_flushScheduled = false;
    m_batchWrites = 0;
    // Writes that were never confirmed are gone, and so are the messages they held back.
    m_confirmedBatch = m_lastBatch;
    m_gatedBatch = 0;
    m_heldSends.clear();
    *m_confirmCancelled = true;
    m_confirmCancelled = std::make_shared<bool>(false);
    const auto waiters = std::move(m_confirmWaiters);
    m_confirmWaiters.clear();

    if (instance) {
        for (const auto &weak : instance->connections) {
            if (const auto connection = weak.lock())
                connection->broken = error;
        }
        failEvents(error, instance->number);
        for (const auto &weak : instance->delivered) {
            if (const auto event = weak.lock())
                event->fail(error);
        }
    }
    closeAllSockets(1011, QStringLiteral("Durable Object reset"));
    m_inputLocks = 0;
    m_blockingConcurrency = 0;
    m_inFlight = 0;
    if (m_alarmRunning) {
        m_alarmRunning = false;
        alarmFinished(error, false);
    }
    record(TraceKind::ObjectReset, error.message);
    dropInstance(ObjectState::Inactive, QStringLiteral("reset: ") + error.message);

    // Coroutines waiting for a confirmation resume and see that their instance is gone.
    for (const auto &[batch, handle] : waiters)
        simulation().resumeAt(simulation().now(), handle);
    pump();
}

void DurableObject::shutdown()
{
    if (!m_instance)
        return;
    closeAllSockets(1001, QStringLiteral("Durable Object is shutting down"));
    m_shuttingDown = true;
    const std::shared_ptr<Instance> instance = m_instance;
    simulation().scheduleAfter(settings().shutdownGrace, [this, weak = std::weak_ptr(instance)] {
        const auto instance = weak.lock();
        if (instance && instance == m_instance && m_shuttingDown)
            reset(Error::error(doerrors::codeUpdated()));
    });
    if (m_inFlight == 0)
        dropInstance(ObjectState::Inactive, QStringLiteral("shut down"));
}

// ---------------------------------------------------------------------------------------------
// Events and the input gate

std::optional<Error> DurableObject::admit(qint64 bytes)
{
    const DurableObjectSettings &config = settings();
    if (config.maxQueuedEvents > 0 && int(m_queue.size()) >= config.maxQueuedEvents)
        return overloaded(doerrors::overloadedQueue());
    if (config.maxQueuedBytes > 0 && m_queuedBytes + bytes > config.maxQueuedBytes)
        return overloaded(doerrors::overloadedData());
    if (config.maxEventsPerWindow > 0) {
        const SimTime now = simulation().now();
        while (!m_recentEvents.empty() && m_recentEvents.front() <= now - kOverloadWindow)
            m_recentEvents.pop_front();
        if (int(m_recentEvents.size()) >= config.maxEventsPerWindow)
            return overloaded(doerrors::overloadedWindow());
        m_recentEvents.push_back(now);
    }
    return std::nullopt;
}

void DurableObject::enqueue(std::shared_ptr<Event> event)
{
    event->queuedAt = simulation().now();
    m_queuedBytes += event->bytes;
    m_queue.push_back(std::move(event));
    pump();
}

void DurableObject::unlockInput()
{
    Q_ASSERT(m_inputLocks > 0);
    if (--m_inputLocks == 0) {
        pump();
        scheduleIdleCheck();
    }
}

void DurableObject::pump()
{
    // Delivering an event runs its handler up to its first suspension, which may close the gate
    // again or reset the object; the loop rechecks the gate before every delivery.
    if (m_pumping)
        return;
    m_pumping = true;
    while (!m_queue.empty() && inputGateOpen()) {
        std::shared_ptr<Event> event = m_queue.front();
        // An event bound to an instance that is gone fails; the stub is broken.
        if (event->connection && event->connection->broken) {
            m_queue.pop_front();
            m_queuedBytes -= event->bytes;
            event->fail(*event->connection->broken);
            continue;
        }
        if (simulation().now() - event->queuedAt > settings().maxQueueWait) {
            m_queue.pop_front();
            m_queuedBytes -= event->bytes;
            event->fail(overloaded(doerrors::overloadedWait()));
            continue;
        }
        // A constructor that resets the object fails this event with the reset (ensureInstance()
        // binds the event to the new instance), so the loop does not construct again for it.
        if (!ensureInstance(*event))
            continue;
        if (!inputGateOpen())
            break; // the constructor called blockConcurrencyWhile()
        m_queue.pop_front();
        m_queuedBytes -= event->bytes;
        const std::shared_ptr<Instance> instance = m_instance;
        bindConnection(*event, *instance);
        event->instance = instance->number;
        std::erase_if(instance->delivered, [](const auto &weak) { return weak.expired(); });
        instance->delivered.push_back(event);
        ++m_inFlight;
        touch();
        if (event->kind == EventKind::Alarm)
            simulation().spawn(runAlarm(instance, std::move(event)));
        else
            simulation().spawn(runEvent(instance, std::move(event)));
    }
    m_pumping = false;
}

void DurableObject::bindConnection(const Event &event, Instance &instance)
{
    if (!event.connection || event.connection->instance == instance.number)
        return;
    event.connection->instance = instance.number;
    // Every Worker request brings a new stub, so drop the connections of stubs that are gone. A
    // reset has nothing to break in them, and the list would otherwise grow with each request.
    std::erase_if(instance.connections, [](const auto &weak) { return weak.expired(); });
    instance.connections.push_back(event.connection);
}

Task<void> DurableObject::runEvent(std::shared_ptr<Instance> instance, std::shared_ptr<Event> event)
{
    DurableObjectBehaviour &behaviour = *instance->behaviour;
    switch (event->kind) {
    case EventKind::Request: {
        ++m_requestsHandled;
        Result<HttpResponse> response = co_await behaviour.fetch(std::move(event->request));
        if (!instance->alive)
            break;
        if (!response)
            response = [&] {
                Error error = response.error();
                error.remote = true;
                return Result<HttpResponse>(error);
            }();
        // The output gate: the response leaves once the writes before it are durable.
        if (const Status confirmed = co_await waitConfirmed(m_gatedBatch); !confirmed) {
            event->fail(confirmed.error());
            break;
        }
        if (!event->response->isResolved())
            event->response->resolve(std::move(response));
        break;
    }
    case EventKind::Call: {
        ++m_requestsHandled;
        Result<QJsonValue> result = co_await behaviour.call(event->method, event->arguments);
        if (!instance->alive)
            break;
        if (!result) {
            Error error = result.error();
            error.remote = true;
            result = error;
        }
        if (const Status confirmed = co_await waitConfirmed(m_gatedBatch); !confirmed) {
            event->fail(confirmed.error());
            break;
        }
        if (!event->result->isResolved())
            event->result->resolve(std::move(result));
        break;
    }
    case EventKind::Message:
        ++m_messagesReceived;
        co_await behaviour.webSocketMessage(event->socket, std::move(event->message));
        break;
    case EventKind::Close:
        co_await behaviour.webSocketClose(event->socket, event->code, event->reason,
                                          event->wasClean);
        break;
    case EventKind::Error:
        co_await behaviour.webSocketError(event->socket, Error::error(event->reason));
        break;
    case EventKind::Alarm:
        break;
    }
    if (instance->alive)
        finishEvent(*instance);
}

void DurableObject::finishEvent(Instance &instance)
{
    if (&instance != m_instance.get())
        return;
    --m_inFlight;
    if (m_shuttingDown && m_inFlight == 0) {
        dropInstance(ObjectState::Inactive, QStringLiteral("shut down"));
        return;
    }
    pump();
    scheduleIdleCheck();
}

Task<Result<HttpResponse>> DurableObject::deliverRequest(HttpRequest request,
                                                         std::shared_ptr<StubConnection> connection,
                                                         DurableObjectId id)
{
    if (connection->broken)
        co_return *connection->broken;
    const qint64 bytes = request.body.size() + request.url.toEncoded().size();
    if (std::optional<Error> refused = admit(bytes)) {
        record(TraceKind::ObjectOverloaded, refused->message);
        co_return *refused;
    }
    auto event = std::make_shared<Event>();
    event->kind = EventKind::Request;
    event->bytes = bytes;
    event->connection = std::move(connection);
    event->idName = id.name();
    event->request = std::move(request);
    event->response = std::make_shared<Completion<Result<HttpResponse>>>(simulation());
    const auto response = event->response;
    enqueue(std::move(event));
    co_return co_await response->wait();
}

Task<Result<QJsonValue>> DurableObject::deliverCall(QString method, QJsonArray arguments,
                                                    std::shared_ptr<StubConnection> connection,
                                                    DurableObjectId id)
{
    if (connection->broken)
        co_return *connection->broken;
    if (std::optional<Error> refused = admit(method.size())) {
        record(TraceKind::ObjectOverloaded, refused->message);
        co_return *refused;
    }
    auto event = std::make_shared<Event>();
    event->kind = EventKind::Call;
    event->bytes = method.size();
    event->connection = std::move(connection);
    event->idName = id.name();
    event->method = std::move(method);
    event->arguments = std::move(arguments);
    event->result = std::make_shared<Completion<Result<QJsonValue>>>(simulation());
    const auto result = event->result;
    enqueue(std::move(event));
    co_return co_await result->wait();
}

// ---------------------------------------------------------------------------------------------
// Storage timing: latency, the input gate, batches and the output gate

std::optional<Error> DurableObject::storageBlocked(quint64 instance)
{
    // A coroutine of an instance that is gone must not touch its successor's storage.
    if (instance != 0 && (!m_instance || m_instance->number != instance))
        return Error::error(doerrors::storageNoLongerAccessible());
    if (m_shuttingDown) {
        // Any storage access during the shutdown grace period stops the object at once.
        const Error error = Error::error(doerrors::storageNoLongerAccessible());
        simulation().scheduleAfter(0, [this, error] {
            if (m_shuttingDown)
                reset(Error::error(doerrors::codeUpdated()));
        });
        return error;
    }
    return std::nullopt;
}

template<typename T>
Pending<T> DurableObject::completeLater(Result<T> result, SimDuration latency, bool lockInput)
{
    auto state = std::make_shared<typename Pending<T>::State>();
    if (lockInput)
        this->lockInput();
    // The input gate stays closed until the awaiting coroutine has run on to its next
    // suspension, so nothing else gets in between the completion and its continuation.
    const std::shared_ptr<bool> cancelled = m_confirmCancelled;
    simulation().scheduleAfter(latency, [this, state, result = std::move(result), lockInput,
                                         cancelled]() mutable {
        state->result.emplace(std::move(result));
        if (const std::coroutine_handle<> waiter = std::exchange(state->waiter, nullptr))
            waiter.resume();
        if (lockInput && !*cancelled)
            unlockInput();
    });
    return Pending<T>(std::move(state));
}

void DurableObject::noteWrite(bool gated)
{
    if (m_openBatch == 0) {
        m_openBatch = ++m_lastBatch;
        m_batchWrites = 0;
    }
    ++m_batchWrites;
    ++m_rowsWritten;
    if (gated)
        m_gatedBatch = m_openBatch;
    scheduleFlush();
}

void DurableObject::scheduleFlush()
{
    if (m_flushScheduled)
        return;
    m_flushScheduled = true;
    // The batch closes at the end of the current turn, so writes made with no await between
    // them commit together.
    simulation().scheduleAfter(0, [this, cancelled = m_confirmCancelled] {
        if (!*cancelled)
            flushBatch();
    });
}

void DurableObject::flushBatch()
{
    m_flushScheduled = false;
    if (m_openBatch == 0)
        return;
    if (m_storage->transactionDepth() > 0)
        return; // the transaction's end flushes the batch
    const quint64 batch = std::exchange(m_openBatch, 0);
    bool ok = true;
    if (std::exchange(m_failNextCommit, false)) {
        m_storage->rollbackBatch();
        ok = false;
    } else if (m_storage->hasOpenBatch()) {
        ok = m_storage->commitBatch().ok();
    }
    record(TraceKind::StorageCommit, ok ? QStringLiteral("committed") : QStringLiteral("failed"),
           qint64(batch), m_batchWrites);
    simulation().scheduleAfter(settings().storageCommitLatency,
                               [this, batch, ok, cancelled = m_confirmCancelled] {
                                   if (!*cancelled)
                                       confirmBatch(batch, ok);
                               });
}

void DurableObject::confirmBatch(quint64 batch, bool ok)
{
    if (!ok) {
        reset(Error::error(doerrors::storageWriteFailed(
                QStringLiteral("%1/batch-%2").arg(m_id.toString().left(12)).arg(batch))));
        return;
    }
    m_confirmedBatch = std::max(m_confirmedBatch, batch);
    pruneSnapshots();
    std::vector<std::coroutine_handle<>> ready;
    std::erase_if(m_confirmWaiters, [&](const auto &waiter) {
        if (waiter.first > m_confirmedBatch)
            return false;
        ready.push_back(waiter.second);
        return true;
    });
    releaseHeldSends();
    for (std::coroutine_handle<> handle : ready)
        handle.resume();
}

Task<Status> DurableObject::waitConfirmed(quint64 batch)
{
    const std::shared_ptr<bool> cancelled = m_confirmCancelled;
    if (batch > m_confirmedBatch) {
        struct Awaiter
        {
            DurableObject &object;
            quint64 batch;
            bool await_ready() const noexcept { return false; }
            void await_suspend(std::coroutine_handle<> handle)
            {
                object.m_confirmWaiters.emplace_back(batch, handle);
            }
            void await_resume() const noexcept { }
        };
        co_await Awaiter { *this, batch };
    }
    if (*cancelled)
        co_return Error::error(doerrors::instanceGone());
    co_return Done {};
}

// ---------------------------------------------------------------------------------------------
// Alarms

Status DurableObject::checkSetAlarm(qint64 scheduledTimeMs) const
{
    if (scheduledTimeMs <= 0)
        return Error::typeError(doerrors::alarmTimeNotPositive());
    const DurableObjectBehaviour *handler = behaviour();
    if (handler && !handler->hasAlarmHandler())
        return Error::typeError(doerrors::alarmHandlerMissing());
    return Done {};
}

void DurableObject::scheduleAlarm()
{
    const quint64 generation = ++m_alarmGeneration;
    if (!m_alarmMs || m_alarmRunning)
        return;
    const SimTime at = std::max(simulation().now(), *m_alarmMs * kMicrosecondsPerMillisecond);
    simulation().schedule(at, [this, generation] { alarmDue(generation); });
}

void DurableObject::alarmDue(quint64 generation)
{
    if (generation != m_alarmGeneration || !m_alarmMs || m_alarmRunning)
        return;
    auto event = std::make_shared<Event>();
    event->kind = EventKind::Alarm;
    m_alarmRunning = true;
    m_runningAlarmMs = m_alarmMs;
    enqueue(std::move(event));
}

bool DurableObject::fireAlarmNow()
{
    if (!m_alarmMs || m_alarmRunning)
        return false;
    m_alarmMs = epochMilliseconds(simulation().now());
    scheduleAlarm();
    return true;
}

// ---------------------------------------------------------------------------------------------
// Saved sessions

bool DurableObject::isStorageConfirmed() const
{
    return m_openBatch == 0 && !m_storage->hasOpenBatch() && m_confirmedBatch >= m_lastBatch;
}

std::optional<qint64> DurableObject::durableAlarm() const
{
    if (m_alarmRunning && !m_alarmChangedDuringRun)
        return m_runningAlarmMs;
    return m_alarmMs;
}

void DurableObject::snapshotBeforeWrite()
{
    // The snapshot taken before the open batch's first write covers its later writes too.
    if (m_openBatch != 0 || m_storage->hasOpenBatch())
        return;
    if (!m_snapshots.empty() && m_snapshots.back().batch == m_lastBatch) {
        // Nothing was written since that snapshot, but the runtime may have moved the alarm.
        m_snapshots.back().snapshot.alarmMs = durableAlarm();
        return;
    }
    pruneSnapshots();
    m_snapshots.push_back({ m_lastBatch, { m_storage->serialize(), durableAlarm() } });
}

void DurableObject::pruneSnapshots()
{
    if (isStorageConfirmed()) {
        m_snapshots.clear();
        return;
    }
    // confirmedSnapshot() takes the newest snapshot at or before the confirmed batch.
    const auto newestConfirmed = std::find_if(m_snapshots.rbegin(), m_snapshots.rend(),
                                              [this](const BatchSnapshot &taken) {
                                                  return taken.batch <= m_confirmedBatch;
                                              });
    if (newestConfirmed != m_snapshots.rend())
        m_snapshots.erase(m_snapshots.begin(), std::prev(newestConfirmed.base()));
}

DurableObjectSnapshot DurableObject::confirmedSnapshot() const
{
    if (isStorageConfirmed())
        return { m_storage->serialize(), durableAlarm() };
    for (auto taken = m_snapshots.rbegin(); taken != m_snapshots.rend(); ++taken) {
        if (taken->batch <= m_confirmedBatch)
            return taken->snapshot;
    }
    // NOTE: only writes that bypassed StorageApi (straight to storage()) get here, and then the
    // snapshot contains whatever they wrote, confirmed or not.
    return { m_storage->serialize(), durableAlarm() };
}

Status DurableObject::restore(std::unique_ptr<DurableObjectStorage> storage,
                              std::optional<qint64> alarmMs)
{
    if (m_constructorRuns > 0 || m_lastBatch > 0 || m_alarmMs) {
        return Error::error(QStringLiteral("Cannot restore Durable Object %1: it has run or has "
                                           "been written to. Restore objects before any event "
                                           "reaches them.")
                                    .arg(m_id.toString()));
    }
    if (storage->backend() != m_namespace.objectClass().backend) {
        return Error::error(QStringLiteral("Cannot restore Durable Object %1: its storage has "
                                           "another backend than class %2.")
                                    .arg(m_id.toString(), m_namespace.className()));
    }
    m_storage = std::move(storage);
    m_snapshots.clear();
    m_alarmMs = alarmMs;
    scheduleAlarm();
    return Done {};
}

Task<void> DurableObject::runAlarm(std::shared_ptr<Instance> instance, std::shared_ptr<Event>)
{
    const AlarmInfo info { m_alarmRetry, m_alarmRetry > 0 };
    const qint64 scheduled = m_alarmMs.value_or(0);
    // getAlarm() gives null while the handler runs, unless the handler sets a new alarm.
    m_alarmMs.reset();
    m_alarmChangedDuringRun = false;
    ++m_alarmRuns;
    record(TraceKind::AlarmRun, QStringLiteral("alarm"), info.retryCount, scheduled);
    const Status status = co_await instance->behaviour->alarm(info);
    if (!instance->alive)
        co_return;
    m_alarmRunning = false;
    alarmFinished(status, m_alarmChangedDuringRun);
    finishEvent(*instance);
}

void DurableObject::alarmFinished(const Status &status, bool changedDuringRun)
{
    if (status) {
        m_alarmRetry = 0;
        record(TraceKind::AlarmSet, QStringLiteral("completed"));
    } else if (!changedDuringRun && m_alarmRetry < settings().alarmMaxRetries) {
        // Retries back off exponentially from the base delay: 2 s, 4 s, 8 s, ...
        const SimDuration delay = settings().alarmRetryBase << m_alarmRetry;
        ++m_alarmRetry;
        m_alarmMs = epochMilliseconds(simulation().now() + delay);
        record(TraceKind::AlarmSet, QStringLiteral("retry"), m_alarmRetry, *m_alarmMs,
               status.error().toString().toUtf8());
    } else {
        m_alarmRetry = 0;
    }
    scheduleAlarm();
}

// ---------------------------------------------------------------------------------------------
// WebSockets

void DurableObject::sendToClient(const std::shared_ptr<ServerWebSocket> &socket,
                                 const QByteArray &message, bool binary)
{
    ++socket->messagesSent;
    socket->bytesSent += message.size();
    WebSocketClient *client = socket->client;
    const SimTime sentAt = simulation().now();
    const SimDuration latency = m_namespace.latency(m_location, client->location());
    const auto deliverText = [](void *target, const QByteArray &payload, qint64 sentTime) {
        static_cast<WebSocketClient *>(target)->messageReceived(payload, sentTime);
    };
    const auto deliverBinary = [](void *target, const QByteArray &payload, qint64 sentTime) {
        static_cast<WebSocketClient *>(target)->binaryMessageReceived(payload, sentTime);
    };
    simulation().scheduleCall(sentAt + latency, binary ? +deliverBinary : +deliverText, client,
                              message, sentAt);
}

void DurableObject::releaseHeldSends()
{
    while (!m_heldSends.empty() && m_heldSends.front().batch <= m_confirmedBatch) {
        HeldSend held = std::move(m_heldSends.front());
        m_heldSends.pop_front();
        if (held.socket->state != ServerWebSocket::State::Closed)
            sendToClient(held.socket, held.message, held.binary);
    }
}

void DurableObject::retireSocket(const std::shared_ptr<ServerWebSocket> &socket, int code,
                                 const QString &reason, bool clean)
{
    setSocketState(*socket, ServerWebSocket::State::Closed);
    socket->closeCode = code;
    socket->closeReason = reason;
    socket->attachment.reset();
    if (!m_closingAll)
        std::erase(m_sockets, socket);
    record(TraceKind::WsServerClose, socket->client->name(), qint64(socket->connection), code,
           reason.toUtf8(), clean ? 1 : 0);
}

void DurableObject::closeSocket(const std::shared_ptr<ServerWebSocket> &socket, int code,
                                const QString &reason, bool clean)
{
    if (socket->state == ServerWebSocket::State::Closed)
        return;
    retireSocket(socket, code, reason, clean);
    WebSocketClient *client = socket->client;
    simulation().scheduleAfter(m_namespace.latency(m_location, client->location()),
                               [client, code, reason] { client->closed(code, reason); });
}

void DurableObject::closeAllSockets(int code, const QString &reason)
{
    // Erasing each socket from the list as it closes would make closing N sockets O(N²).
    m_closingAll = true;
    for (const auto &socket : m_sockets)
        closeSocket(socket, code, reason, false);
    m_closingAll = false;
    m_sockets.clear();
}

void DurableObject::receiveMessage(const std::shared_ptr<ServerWebSocket> &socket,
                                   WebSocketMessage message)
{
    if (socket->state == ServerWebSocket::State::Closed || !socket->accepted
        || socket->clientSentClose || socket->serverSentClose)
        return;
    ++socket->messagesReceived;
    record(TraceKind::WsMessage, socket->client->name(), qint64(socket->connection),
           message.data.size(), message.binary ? QByteArray() : message.data.left(256),
           message.binary ? 1 : 0);
    socket->bytesReceived += message.data.size();
    if (message.data.size() > settings().maxMessageSize) {
        const QString reason =
                doerrors::messageTooLarge(message.data.size(), settings().maxMessageSize);
        closeSocket(socket, 1009, reason, false);
        auto event = std::make_shared<Event>();
        event->kind = EventKind::Error;
        event->socket = socket;
        event->reason = reason;
        if (!admit(0))
            enqueue(std::move(event));
        return;
    }
    // The runtime replies to an exact text match of the auto-response request itself, without
    // waking the object or delivering an event.
    if (socket->hibernatable && m_autoResponse && !message.binary
        && message.data == m_autoResponse->first.toUtf8()
        && socket->state == ServerWebSocket::State::Open) {
        socket->autoResponseAtMs = epochMilliseconds(simulation().now());
        // The reply keeps the socket's send order, so it waits behind earlier messages on this
        // socket that the output gate still holds.
        const QByteArray reply = m_autoResponse->second.toUtf8();
        const auto onSocket = [&](const HeldSend &held) { return held.socket == socket; };
        const auto lastHeld = std::find_if(m_heldSends.rbegin(), m_heldSends.rend(), onSocket);
        if (lastHeld != m_heldSends.rend())
            m_heldSends.push_back({ lastHeld->batch, socket, reply, false });
        else
            sendToClient(socket, reply, false);
        record(TraceKind::WsAutoResponse, socket->client->name(), qint64(socket->connection));
        return;
    }
    if (std::optional<Error> refused = admit(message.data.size())) {
        record(TraceKind::ObjectOverloaded, refused->message);
        closeSocket(socket, 1013, refused->message, false);
        return;
    }
    auto event = std::make_shared<Event>();
    event->kind = EventKind::Message;
    event->bytes = message.data.size();
    event->socket = socket;
    event->message = std::move(message);
    enqueue(std::move(event));
}

void DurableObject::receiveClose(const std::shared_ptr<ServerWebSocket> &socket, int code,
                                 QString reason)
{
    if (socket->state == ServerWebSocket::State::Closed)
        return;
    socket->clientSentClose = true;
    if (socket->serverSentClose) {
        // The client's Close frame completes a close that the server started.
        closeSocket(socket, socket->closeCode ? socket->closeCode : code, socket->closeReason, true);
        return;
    }
    if (settings().compatibility.webSocketAutoReplyToClose) {
        closeSocket(socket, code, reason, true);
    } else {
        // Before web_socket_auto_reply_to_close the socket stays CLOSING until the handler calls
        // close(). A client that gets no reply gives up with 1006.
        setSocketState(*socket, ServerWebSocket::State::Closing);
        socket->closeCode = code;
        socket->closeReason = reason;
        const std::weak_ptr<ServerWebSocket> weak = socket;
        simulation().scheduleAfter(settings().closeHandshakeTimeout, [this, weak] {
            if (const auto socket = weak.lock(); socket && !socket->serverSentClose)
                closeSocket(socket, 1006, QString(), false);
        });
    }
    if (!socket->accepted)
        return;
    auto event = std::make_shared<Event>();
    event->kind = EventKind::Close;
    event->socket = socket;
    event->code = code;
    event->reason = std::move(reason);
    event->wasClean = true;
    enqueue(std::move(event));
}

void DurableObject::receiveDisconnect(const std::shared_ptr<ServerWebSocket> &socket)
{
    if (socket->state == ServerWebSocket::State::Closed)
        return;
    const bool accepted = socket->accepted;
    // The client is gone, so nothing is sent to it.
    retireSocket(socket, 1006, QString(), false);
    if (!accepted)
        return;
    auto event = std::make_shared<Event>();
    event->kind = EventKind::Close;
    event->socket = socket;
    event->code = 1006;
    event->wasClean = false;
    enqueue(std::move(event));
}

// ---------------------------------------------------------------------------------------------
// StorageApi

namespace {

template<typename T>
Pending<T> rejected(const Error &error)
{
    return Pending<T>::ready(error);
}

} // namespace

#define ROOMSCOPE_STORAGE_GUARD(Type)                                                              \
    if (const std::optional<Error> blocked = m_object.storageBlocked(m_instance))                 \
        return rejected<Type>(*blocked);

Pending<std::optional<QByteArray>> StorageApi::get(const QString &key, StorageOptions options)
{
    ROOMSCOPE_STORAGE_GUARD(std::optional<QByteArray>)
    return m_object.completeLater(m_object.m_storage->get(key),
                                  m_object.settings().storageReadLatency, !options.allowConcurrency);
}

Pending<StorageEntries> StorageApi::get(const QStringList &keys, StorageOptions options)
{
    ROOMSCOPE_STORAGE_GUARD(StorageEntries)
    return m_object.completeLater(m_object.m_storage->get(keys),
                                  m_object.settings().storageReadLatency, !options.allowConcurrency);
}

Pending<Done> StorageApi::put(const QString &key, const std::optional<QByteArray> &value,
                              StorageOptions options)
{
    ROOMSCOPE_STORAGE_GUARD(Done)
    m_object.snapshotBeforeWrite();
    const Status status = m_object.m_storage->put(key, value);
    if (!status)
        return rejected<Done>(status.error());
    m_object.noteWrite(!options.allowUnconfirmed);
    return m_object.completeLater<Done>(Done {}, m_object.settings().storageWriteLatency, true);
}

Pending<Done> StorageApi::put(const StorageEntries &entries, StorageOptions options)
{
    ROOMSCOPE_STORAGE_GUARD(Done)
    m_object.snapshotBeforeWrite();
    const Status status = m_object.m_storage->put(entries);
    if (!status)
        return rejected<Done>(status.error());
    m_object.noteWrite(!options.allowUnconfirmed);
    return m_object.completeLater<Done>(Done {}, m_object.settings().storageWriteLatency, true);
}

Pending<bool> StorageApi::remove(const QString &key, StorageOptions options)
{
    ROOMSCOPE_STORAGE_GUARD(bool)
    m_object.snapshotBeforeWrite();
    Result<bool> removed = m_object.m_storage->remove(key);
    if (removed)
        m_object.noteWrite(!options.allowUnconfirmed);
    return m_object.completeLater(std::move(removed), m_object.settings().storageWriteLatency,
                                  true);
}

Pending<qint64> StorageApi::remove(const QStringList &keys, StorageOptions options)
{
    ROOMSCOPE_STORAGE_GUARD(qint64)
    m_object.snapshotBeforeWrite();
    Result<qint64> removed = m_object.m_storage->remove(keys);
    if (removed)
        m_object.noteWrite(!options.allowUnconfirmed);
    return m_object.completeLater(std::move(removed), m_object.settings().storageWriteLatency,
                                  true);
}

Pending<StorageEntries> StorageApi::list(const StorageListOptions &listOptions,
                                         StorageOptions options)
{
    ROOMSCOPE_STORAGE_GUARD(StorageEntries)
    return m_object.completeLater(m_object.m_storage->list(listOptions),
                                  m_object.settings().storageReadLatency, !options.allowConcurrency);
}

Pending<Done> StorageApi::deleteAll(StorageOptions options)
{
    ROOMSCOPE_STORAGE_GUARD(Done)
    m_object.snapshotBeforeWrite();
    const Status status = m_object.m_storage->deleteAll();
    if (!status)
        return rejected<Done>(status.error());
    m_object.noteWrite(!options.allowUnconfirmed);
    if (m_object.settings().compatibility.deleteAllDeletesAlarm && m_object.m_alarmMs) {
        m_object.m_alarmMs.reset();
        m_object.m_alarmChangedDuringRun = true;
        m_object.scheduleAlarm();
    }
    return m_object.completeLater<Done>(Done {}, m_object.settings().storageWriteLatency, true);
}

Pending<Done> StorageApi::sync()
{
    auto state = std::make_shared<Pending<Done>::State>();
    const quint64 batch = m_object.m_lastBatch;
    if (batch <= m_object.m_confirmedBatch) {
        state->result.emplace(Done {});
        return Pending<Done>(state);
    }
    m_object.simulation().spawn([](DurableObject &object, quint64 batch,
                                   std::shared_ptr<Pending<Done>::State> state) -> Task<void> {
        Status status = co_await object.waitConfirmed(batch);
        state->result.emplace(std::move(status));
        if (const std::coroutine_handle<> waiter = std::exchange(state->waiter, nullptr))
            waiter.resume();
    }(m_object, batch, state));
    return Pending<Done>(state);
}

Task<Result<QJsonValue>> StorageApi::transaction(
        std::function<Task<Result<QJsonValue>>(StorageTransaction &)> callback)
{
    if (const std::optional<Error> blocked = m_object.storageBlocked(m_instance))
        co_return *blocked;
    m_object.snapshotBeforeWrite();
    if (const Status begun = m_object.m_storage->beginTransaction(); !begun)
        co_return begun.error();
    StorageTransaction txn(*this);
    Result<QJsonValue> result = co_await callback(txn);
    if (!result || txn.isRolledBack()) {
        m_object.m_storage->rollbackTransaction();
    } else if (const Status committed = m_object.m_storage->commitTransaction(); !committed) {
        m_object.m_storage->rollbackTransaction();
        result = committed.error();
    }
    // flushBatch() skips a batch while a transaction is open, so the batch flushes now.
    if (m_object.m_storage->transactionDepth() == 0 && m_object.m_openBatch != 0)
        m_object.scheduleFlush();
    co_return result;
}

Result<QJsonValue> StorageApi::transactionSync(std::function<Result<QJsonValue>()> callback)
{
    if (const Status available = m_object.m_storage->checkTransactionSyncAvailable(); !available)
        return available.error();
    if (const std::optional<Error> blocked = m_object.storageBlocked(m_instance))
        return *blocked;
    m_object.snapshotBeforeWrite();
    if (const Status begun = m_object.m_storage->beginTransaction(); !begun)
        return begun.error();
    Result<QJsonValue> result = callback();
    if (!result) {
        m_object.m_storage->rollbackTransaction();
        return result;
    }
    if (const Status committed = m_object.m_storage->commitTransaction(); !committed) {
        m_object.m_storage->rollbackTransaction();
        return committed.error();
    }
    m_object.noteWrite(true);
    return result;
}

Result<SqlCursor> StorageApi::exec(const QString &query, const QVariantList &bindings)
{
    if (const std::optional<Error> blocked = m_object.storageBlocked(m_instance))
        return *blocked;
    m_object.snapshotBeforeWrite();
    Result<SqlCursor> cursor = m_object.m_storage->exec(query, bindings);
    if (cursor && (cursor->rowsWritten > 0 || m_object.m_storage->hasOpenBatch())) {
        m_object.noteWrite(true);
        // Billing counts the rows the statements wrote, not the call.
        m_object.m_rowsWritten += quint64(std::max<qint64>(cursor->rowsWritten, 1)) - 1;
    }
    return cursor;
}

qint64 StorageApi::databaseSize() const
{
    return m_object.m_storage->databaseSize();
}

Result<std::optional<QByteArray>> StorageApi::kvGet(const QString &key)
{
    if (const Status available = m_object.m_storage->checkSyncKvAvailable(); !available)
        return available.error();
    return m_object.m_storage->get(key);
}

Status StorageApi::kvPut(const QString &key, const std::optional<QByteArray> &value)
{
    if (const Status available = m_object.m_storage->checkSyncKvAvailable(); !available)
        return available;
    m_object.snapshotBeforeWrite();
    const Status status = m_object.m_storage->put(key, value);
    if (status)
        m_object.noteWrite(true);
    return status;
}

Result<bool> StorageApi::kvDelete(const QString &key)
{
    if (const Status available = m_object.m_storage->checkSyncKvAvailable(); !available)
        return available.error();
    m_object.snapshotBeforeWrite();
    Result<bool> removed = m_object.m_storage->remove(key);
    if (removed)
        m_object.noteWrite(true);
    return removed;
}

Result<StorageEntries> StorageApi::kvList(const StorageListOptions &listOptions)
{
    if (const Status available = m_object.m_storage->checkSyncKvAvailable(); !available)
        return available.error();
    return m_object.m_storage->list(listOptions);
}

Pending<std::optional<qint64>> StorageApi::getAlarm(StorageOptions options)
{
    ROOMSCOPE_STORAGE_GUARD(std::optional<qint64>)
    return m_object.completeLater<std::optional<qint64>>(
            m_object.m_alarmMs, m_object.settings().storageReadLatency, !options.allowConcurrency);
}

Pending<Done> StorageApi::setAlarm(qint64 scheduledTimeMs, StorageOptions options)
{
    ROOMSCOPE_STORAGE_GUARD(Done)
    if (const Status valid = m_object.checkSetAlarm(scheduledTimeMs); !valid)
        return rejected<Done>(valid.error());
    m_object.snapshotBeforeWrite();
    // workerd stores a time in the past as Date.now() (src/workerd/api/actor-state.c++,
    // DurableObjectStorageOperations::setAlarm), so getAlarm() then gives the time of the call.
    m_object.m_alarmMs = std::max(scheduledTimeMs, epochMilliseconds(m_object.simulation().now()));
    m_object.m_alarmChangedDuringRun = true;
    m_object.m_alarmRetry = 0;
    m_object.noteWrite(!options.allowUnconfirmed);
    m_object.record(TraceKind::AlarmSet, QStringLiteral("set"), 0, scheduledTimeMs);
    m_object.scheduleAlarm();
    return m_object.completeLater<Done>(Done {}, m_object.settings().storageWriteLatency, true);
}

Pending<Done> StorageApi::deleteAlarm(StorageOptions options)
{
    ROOMSCOPE_STORAGE_GUARD(Done)
    if (m_object.m_alarmMs || m_object.m_alarmRunning) {
        m_object.snapshotBeforeWrite();
        m_object.m_alarmMs.reset();
        m_object.m_alarmChangedDuringRun = true;
        m_object.m_alarmRetry = 0;
        m_object.noteWrite(!options.allowUnconfirmed);
        m_object.record(TraceKind::AlarmSet, QStringLiteral("deleted"));
        m_object.scheduleAlarm();
    }
    return m_object.completeLater<Done>(Done {}, m_object.settings().storageWriteLatency, true);
}

#undef ROOMSCOPE_STORAGE_GUARD

// StorageTransaction

template<typename T>
std::optional<Pending<T>> StorageTransaction::rejectIfRolledBack(QStringView operation) const
{
    if (!m_rolledBack)
        return std::nullopt;
    return Pending<T>::ready(DurableObjectStorage::rolledBackError(operation));
}

Pending<std::optional<QByteArray>> StorageTransaction::get(const QString &key)
{
    if (auto error = rejectIfRolledBack<std::optional<QByteArray>>(u"get()"))
        return *error;
    return m_storage.get(key);
}

Pending<Done> StorageTransaction::put(const QString &key, const std::optional<QByteArray> &value)
{
    if (auto error = rejectIfRolledBack<Done>(u"put()"))
        return *error;
    return m_storage.put(key, value);
}

Pending<bool> StorageTransaction::remove(const QString &key)
{
    if (auto error = rejectIfRolledBack<bool>(u"delete()"))
        return *error;
    return m_storage.remove(key);
}

Pending<StorageEntries> StorageTransaction::list(const StorageListOptions &options)
{
    if (auto error = rejectIfRolledBack<StorageEntries>(u"list()"))
        return *error;
    return m_storage.list(options);
}

Pending<Done> StorageTransaction::deleteAll()
{
    // No rolled-back check: workerd rejects deleteAll() on every transaction with `Cannot call
    // deleteAll() within a transaction`, which the storage returns while the transaction is open.
    return m_storage.deleteAll();
}

// ---------------------------------------------------------------------------------------------
// DurableObjectState

DurableObjectState::DurableObjectState(DurableObject &object, quint64 instance, DurableObjectId id)
    : m_object(object), m_instance(instance), m_id(std::move(id)), m_storage(object, instance)
{
}

Simulation &DurableObjectState::simulation()
{
    return m_object.simulation();
}

LocationId DurableObjectState::location() const
{
    return m_object.location();
}

QString DurableObjectState::actorName() const
{
    return m_object.actorName();
}

bool DurableObjectState::isCurrent() const
{
    return m_object.m_instance && m_object.m_instance->number == m_instance;
}

Pending<Done> DurableObjectState::blockConcurrencyWhile(std::function<Task<Status>()> callback)
{
    auto state = std::make_shared<Pending<Done>::State>();
    if (!isCurrent()) {
        state->result.emplace(Error::error(doerrors::instanceGone()));
        return Pending<Done>(state);
    }
    DurableObject &object = m_object;
    const std::shared_ptr<DurableObject::Instance> instance = object.m_instance;
    ++object.m_blockingConcurrency;
    auto finished = std::make_shared<bool>(false);

    // The timeout resets the object; the callback's later completion then changes nothing.
    // A callback that finishes in time cancels it, so it does not keep a run going.
    const quint64 timeout = object.simulation().scheduleCancellable(
            object.simulation().now() + object.settings().blockConcurrencyTimeout,
                                      [&object, weak = std::weak_ptr(instance), finished, state] {
                                          const auto instance = weak.lock();
                                          if (*finished || !instance || !instance->alive)
                                              return;
                                          *finished = true;
                                          Error error = overloaded(doerrors::blockConcurrencyTimeout());
                                          object.reset(error);
                                          state->result.emplace(error);
                                          if (auto waiter = std::exchange(state->waiter, nullptr))
                                              waiter.resume();
                                      });

    object.simulation().spawn([](DurableObject &object, std::shared_ptr<DurableObject::Instance> instance,
                                 std::function<Task<Status>()> callback,
                                 std::shared_ptr<bool> finished,
                                 std::shared_ptr<Pending<Done>::State> state,
                                 quint64 timeout) -> Task<void> {
        const Status status = co_await callback();
        if (*finished || !instance->alive)
            co_return;
        *finished = true;
        object.simulation().cancel(timeout);
        --object.m_blockingConcurrency;
        if (!status) {
            // A failing callback resets the object; the stubs that reached it stay broken.
            object.reset(status.error());
            state->result.emplace(status.error());
        } else {
            state->result.emplace(Done {});
        }
        if (const std::coroutine_handle<> waiter = std::exchange(state->waiter, nullptr))
            waiter.resume();
        if (instance->alive) {
            object.pump();
            object.scheduleIdleCheck();
        }
    }(object, instance, std::move(callback), finished, state, timeout));
    return Pending<Done>(state);
}

void DurableObjectState::abort(const QString &reason)
{
    if (!isCurrent())
        return;
    m_object.reset(Error::error(reason.isEmpty() ? doerrors::abortDefault() : reason));
}

void DurableObjectState::waitUntil(Task<void> task)
{
    if (!isCurrent())
        return;
    ++m_object.m_pendingIo;
    m_object.simulation().spawn([](DurableObject &object, std::shared_ptr<DurableObject::Instance> instance,
                                   Task<void> task) -> Task<void> {
        co_await task;
        if (instance->alive && instance == object.m_instance) {
            --object.m_pendingIo;
            object.scheduleIdleCheck();
        }
    }(m_object, m_object.m_instance, std::move(task)));
}

Task<bool> DurableObjectState::sleep(SimDuration delay)
{
    if (!isCurrent())
        co_return false;
    const std::shared_ptr<DurableObject::Instance> instance = m_object.m_instance;
    ++m_object.m_pendingTimers;
    co_await m_object.simulation().sleep(delay);
    if (!instance->alive || instance != m_object.m_instance)
        co_return false;
    --m_object.m_pendingTimers;
    m_object.touchAndRecheck();
    co_return true;
}

Task<Result<HttpResponse>> DurableObjectState::fetch(HttpRequest request, SimDuration latency)
{
    if (!isCurrent())
        co_return Error::error(doerrors::instanceGone());
    if (request.url.isRelative())
        co_return Error::typeError(QStringLiteral("Invalid URL: ") + request.url.toString());
    const std::shared_ptr<DurableObject::Instance> instance = m_object.m_instance;
    if (const Status gate = co_await m_object.waitConfirmed(m_object.m_gatedBatch); !gate)
        co_return gate.error();
    ++m_object.m_pendingIo;
    co_await m_object.simulation().sleep(latency);
    if (!instance->alive || instance != m_object.m_instance)
        co_return Error::error(doerrors::instanceGone());
    --m_object.m_pendingIo;
    m_object.touchAndRecheck();
    co_return HttpResponse::text(200, "ok\n");
}

Task<void> DurableObjectState::compute(SimDuration duration)
{
    if (!isCurrent())
        co_return;
    m_object.lockInput();
    const std::shared_ptr<bool> cancelled = m_object.m_confirmCancelled;
    co_await m_object.simulation().sleep(duration);
    if (!*cancelled && isCurrent())
        m_object.unlockInput();
}

Task<Status> DurableObjectState::waitForOutputGate()
{
    co_return co_await m_object.waitConfirmed(m_object.m_gatedBatch);
}

void DurableObjectState::beginIo()
{
    if (isCurrent())
        ++m_object.m_pendingIo;
}

void DurableObjectState::endIo()
{
    if (!isCurrent() || m_object.m_pendingIo == 0)
        return;
    --m_object.m_pendingIo;
    m_object.touchAndRecheck();
}

std::shared_ptr<ServerWebSocket> DurableObjectState::upgrade(const HttpRequest &request)
{
    if (request.header("Upgrade").compare("websocket", Qt::CaseInsensitive) != 0
        || !request.upgradeClient)
        return nullptr;
    auto socket = std::make_shared<ServerWebSocket>();
    socket->connection = m_object.simulation().nextId();
    socket->client = request.upgradeClient;
    socket->object = &m_object;
    return socket;
}

Status DurableObjectState::acceptWebSocket(const std::shared_ptr<ServerWebSocket> &socket,
                                           const QStringList &tags)
{
    if (socket->accepted && !socket->hibernatable)
        return Error::error(doerrors::acceptedViaAccept());
    if (socket->accepted)
        return Error::error(doerrors::pairAlreadyUsed());
    if (const Status valid = doerrors::checkTags(tags); !valid)
        return valid;
    const int hibernatable = m_object.m_hibernatableSockets;
    if (hibernatable >= m_object.settings().maxHibernatableSockets)
        return Error::error(doerrors::tooManySockets(m_object.settings().maxHibernatableSockets));
    QStringList unique;
    for (const QString &tag : tags) {
        if (!unique.contains(tag))
            unique.append(tag);
    }
    socket->tags = unique;
    socket->hibernatable = true;
    socket->accepted = true;
    socket->acceptedAt = m_object.simulation().now();
    m_object.addSocket(socket);
    m_object.record(TraceKind::WsAccept, socket->client->name(), qint64(socket->connection),
                    m_object.openSocketCount());
    return Done {};
}

Status DurableObjectState::accept(const std::shared_ptr<ServerWebSocket> &socket)
{
    if (socket->accepted)
        return Error::error(doerrors::pairAlreadyUsed());
    socket->accepted = true;
    socket->hibernatable = false;
    socket->acceptedAt = m_object.simulation().now();
    m_object.addSocket(socket);
    m_object.record(TraceKind::WsAccept, socket->client->name(), qint64(socket->connection),
                    m_object.openSocketCount());
    return Done {};
}

std::vector<std::shared_ptr<ServerWebSocket>> DurableObjectState::getWebSockets(const QString &tag) const
{
    std::vector<std::shared_ptr<ServerWebSocket>> sockets;
    for (const auto &socket : m_object.m_sockets) {
        if (!socket->hibernatable || socket->state == ServerWebSocket::State::Closed)
            continue;
        if (tag.isEmpty() || socket->tags.contains(tag))
            sockets.push_back(socket);
    }
    return sockets;
}

Status DurableObjectState::send(const std::shared_ptr<ServerWebSocket> &socket,
                                const QByteArray &message, bool binary)
{
    if (!socket->accepted)
        return Error::typeError(doerrors::sendBeforeAccept());
    if (socket->serverSentClose || socket->state == ServerWebSocket::State::Closed)
        return Error::typeError(doerrors::sendAfterClose());
    DurableObject &object = m_object;
    // The output gate: a message waits for the storage writes made before it.
    if (object.m_gatedBatch > object.m_confirmedBatch || !object.m_heldSends.empty()) {
        object.m_heldSends.push_back({ object.m_gatedBatch, socket, message, binary });
        return Done {};
    }
    object.sendToClient(socket, message, binary);
    return Done {};
}

Status DurableObjectState::close(const std::shared_ptr<ServerWebSocket> &socket, int code,
                                 const QString &reason)
{
    if (!socket->accepted)
        return Error::typeError(doerrors::sendBeforeAccept());
    if (const Status valid = doerrors::checkCloseCode(
                code, reason, m_object.settings().compatibility.webSocketCloseReasonByteLimit); !valid)
        return valid;
    if (socket->serverSentClose || socket->state == ServerWebSocket::State::Closed)
        return Done {};
    socket->serverSentClose = true;
    socket->closeCode = code;
    socket->closeReason = reason;
    if (socket->clientSentClose) {
        // This close answers the client's Close frame and completes the handshake.
        m_object.closeSocket(socket, socket->closeCode, reason, true);
        return Done {};
    }
    m_object.setSocketState(*socket, ServerWebSocket::State::Closing);
    WebSocketClient *client = socket->client;
    const SimDuration latency = m_object.m_namespace.latency(m_object.location(), client->location());
    DurableObject &object = m_object;
    const std::weak_ptr<ServerWebSocket> weak = socket;
    if (client->answersClose()) {
        // The client's answering Close frame arrives after a round trip.
        object.simulation().scheduleAfter(2 * latency, [&object, weak] {
            if (const auto socket = weak.lock())
                object.receiveClose(socket, socket->closeCode, socket->closeReason);
        });
    } else {
        object.simulation().scheduleAfter(object.settings().closeHandshakeTimeout, [&object, weak] {
            if (const auto socket = weak.lock())
                object.closeSocket(socket, 1006, QString(), false);
        });
    }
    return Done {};
}

Status DurableObjectState::serializeAttachment(ServerWebSocket &socket,
                                               const std::optional<QByteArray> &value)
{
    if (value && value->size() > doerrors::kMaxAttachmentBytes)
        return Error::error(doerrors::attachmentTooLarge(value->size()));
    socket.attachment = value;
    return Done {};
}

Status DurableObjectState::setWebSocketAutoResponse(
        const std::optional<std::pair<QString, QString>> &pair)
{
    if (pair) {
        if (const Status valid = doerrors::checkAutoResponse(pair->first, pair->second); !valid)
            return valid;
    }
    m_object.m_autoResponse = pair;
    return Done {};
}

std::optional<std::pair<QString, QString>> DurableObjectState::getWebSocketAutoResponse() const
{
    return m_object.m_autoResponse;
}

std::optional<qint64>
DurableObjectState::getWebSocketAutoResponseTimestamp(const ServerWebSocket &socket) const
{
    return socket.autoResponseAtMs;
}

Status DurableObjectState::setHibernatableWebSocketEventTimeout(std::optional<qint64> milliseconds)
{
    if (milliseconds && *milliseconds > doerrors::kMaxEventTimeoutMs)
        return Error::error(doerrors::eventTimeoutTooLarge());
    m_object.m_eventTimeoutMs = milliseconds;
    return Done {};
}

std::optional<qint64> DurableObjectState::hibernatableWebSocketEventTimeout() const
{
    return m_object.m_eventTimeoutMs;
}

} // namespace roomscope
