#pragma once

#include "dosettings.h"
#include "dostorage.h"
#include "durableobjectid.h"
#include "http.h"
#include "location.h"
#include "result.h"
#include "simulation.h"
#include "task.h"
#include "websocket.h"

#include <QJsonArray>
#include <QJsonValue>
#include <QString>

#include <coroutine>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace roomscope {

class DurableObject;
class DurableObjectNamespace;
class DurableObjectState;

/// The argument of the alarm handler: `alarm({retryCount, isRetry})`.
struct AlarmInfo
{
    int retryCount = 0;
    bool isRetry = false;
};

/// The behaviour of a Durable Object class: the C++ counterpart of a class extending
/// DurableObject. One instance lives from its constructor to a hibernation, an eviction or a
/// reset; the object's storage, alarm and hibernatable sockets outlive it. Handlers report a
/// thrown exception by returning an Error, which reaches the caller with `remote` set.
class DurableObjectBehaviour
{
public:
    virtual ~DurableObjectBehaviour() = default;

    virtual Task<Result<HttpResponse>> fetch(HttpRequest request) = 0;
    /// An RPC method call on a stub: `await stub.method(...arguments)`.
    virtual Task<Result<QJsonValue>> call(QString method, QJsonArray arguments);
    virtual bool hasAlarmHandler() const { return false; }
    virtual Task<Status> alarm(AlarmInfo info);
    virtual Task<Status> webSocketMessage(std::shared_ptr<ServerWebSocket> socket,
                                          WebSocketMessage message);
    virtual Task<Status> webSocketClose(std::shared_ptr<ServerWebSocket> socket, int code,
                                        QString reason, bool wasClean);
    virtual Task<Status> webSocketError(std::shared_ptr<ServerWebSocket> socket, Error error);
    /// The instance's in-memory fields as (name, value) text, which a hibernation, eviction or
    /// reset loses. The room inspector shows them beside the durable state.
    virtual std::vector<std::pair<QString, QString>> memoryState() const { return {}; }
};

/// Creates the behaviour of a new instance: the class's constructor. It may call
/// `ctx.blockConcurrencyWhile()` to hold back events until its initialisation finishes.
using BehaviourFactory = std::function<std::unique_ptr<DurableObjectBehaviour>(DurableObjectState &)>;

/// An operation that started when it was called, as a JavaScript promise does; awaiting it
/// gives its result. A storage operation that is never awaited still takes effect.
template<typename T>
class Pending
{
public:
    struct State
    {
        std::optional<Result<T>> result;
        std::coroutine_handle<> waiter;
    };

    explicit Pending(std::shared_ptr<State> state) : m_state(std::move(state)) { }
    static Pending ready(Result<T> result)
    {
        auto state = std::make_shared<State>();
        state->result.emplace(std::move(result));
        return Pending(std::move(state));
    }

    bool isDone() const { return m_state->result.has_value(); }
    bool await_ready() const noexcept { return m_state->result.has_value(); }
    void await_suspend(std::coroutine_handle<> handle) { m_state->waiter = handle; }
    Result<T> await_resume() { return std::move(*m_state->result); }

private:
    std::shared_ptr<State> m_state;
};

/// Options of a storage read or write (`{allowConcurrency, allowUnconfirmed}`).
struct StorageOptions
{
    bool allowConcurrency = false; ///< reads: do not close the input gate
    bool allowUnconfirmed = false; ///< writes: do not hold outgoing messages for this write
};

class StorageTransaction;

/// `ctx.storage`: the object's storage with the platform's timing. Reads close the input gate
/// until they complete; writes go into the current batch at once, and outgoing messages wait
/// until the batches before them are confirmed durable (the output gate).
class StorageApi
{
public:
    /// The storage API of one instance; `instance` 0 stands for the runtime itself.
    StorageApi(DurableObject &object, quint64 instance) : m_object(object), m_instance(instance) { }

    Pending<std::optional<QByteArray>> get(const QString &key, StorageOptions options = {});
    Pending<StorageEntries> get(const QStringList &keys, StorageOptions options = {});
    Pending<Done> put(const QString &key, const std::optional<QByteArray> &value,
                      StorageOptions options = {});
    Pending<Done> put(const StorageEntries &entries, StorageOptions options = {});
    Pending<bool> remove(const QString &key, StorageOptions options = {});
    Pending<qint64> remove(const QStringList &keys, StorageOptions options = {});
    Pending<StorageEntries> list(const StorageListOptions &listOptions = {},
                                 StorageOptions options = {});
    Pending<Done> deleteAll(StorageOptions options = {});
    /// Resolves when every write made so far is confirmed durable.
    Pending<Done> sync();

    /// `transaction(async txn => ...)`: the callback's writes apply together, or not at all if
    /// it returns an Error or calls txn.rollback().
    Task<Result<QJsonValue>> transaction(
            std::function<Task<Result<QJsonValue>>(StorageTransaction &)> callback);
    /// `transactionSync(fn)`, SQLite-backed classes only.
    Result<QJsonValue> transactionSync(std::function<Result<QJsonValue>()> callback);

    /// `sql.exec(query, ...bindings)`: synchronous, SQLite-backed classes only.
    Result<SqlCursor> exec(const QString &query, const QVariantList &bindings = {});
    qint64 databaseSize() const;

    // `storage.kv.*`: the synchronous KV API of SQLite-backed classes.
    Result<std::optional<QByteArray>> kvGet(const QString &key);
    Status kvPut(const QString &key, const std::optional<QByteArray> &value);
    Result<bool> kvDelete(const QString &key);
    Result<StorageEntries> kvList(const StorageListOptions &listOptions = {});

    Pending<std::optional<qint64>> getAlarm(StorageOptions options = {});
    /// Sets the alarm to an epoch time in milliseconds, replacing any earlier one.
    Pending<Done> setAlarm(qint64 scheduledTimeMs, StorageOptions options = {});
    Pending<Done> deleteAlarm(StorageOptions options = {});

private:
    DurableObject &m_object;
    quint64 m_instance;
};

/// The `txn` of storage.transaction(): the storage API inside one transaction.
class StorageTransaction
{
public:
    explicit StorageTransaction(StorageApi &storage) : m_storage(storage) { }

    Pending<std::optional<QByteArray>> get(const QString &key);
    Pending<Done> put(const QString &key, const std::optional<QByteArray> &value);
    Pending<bool> remove(const QString &key);
    Pending<StorageEntries> list(const StorageListOptions &options = {});
    Pending<Done> deleteAll();
    /// Discards the transaction's writes; later calls on it fail.
    void rollback() { m_rolledBack = true; }
    bool isRolledBack() const { return m_rolledBack; }

private:
    template<typename T>
    std::optional<Pending<T>> rejectIfRolledBack(QStringView operation) const;

    StorageApi &m_storage;
    bool m_rolledBack = false;
};

/// `ctx`, the DurableObjectState that an instance receives: its ID, storage, WebSockets,
/// concurrency control and outbound I/O. A context belongs to one instance; once that instance
/// is gone, every operation on it fails and its timers return false.
class DurableObjectState
{
public:
    DurableObjectState(DurableObject &object, quint64 instance, DurableObjectId id);

    /// `ctx.id`. Its name is set when the event that constructed the instance came through an
    /// ID made from a name; an ID from idFromString() or newUniqueId() has none.
    const DurableObjectId &id() const { return m_id; }
    StorageApi &storage() { return m_storage; }
    Simulation &simulation();
    LocationId location() const;
    /// The object's name in the trace and the inspector: "room lobby" or "object 1a2b…".
    QString actorName() const;
    /// The number of this instance: 1 for the first constructor run, 2 after a reset, ...
    quint64 instance() const { return m_instance; }
    bool isCurrent() const;

    /// Runs `callback` while no other event is delivered. It fails, and the object resets, if
    /// the callback returns an Error or runs past the timeout (30 s by default).
    Pending<Done> blockConcurrencyWhile(std::function<Task<Status>()> callback);
    /// `ctx.abort(reason)`: resets the object now.
    void abort(const QString &reason);
    /// `ctx.waitUntil(task)`: runs a task that keeps the object in memory until it finishes.
    void waitUntil(Task<void> task);

    /// `setTimeout` in virtual time: waits, keeping the object from hibernating. Returns false
    /// when the instance is gone by then (evicted or reset), so the caller can stop.
    Task<bool> sleep(SimDuration delay);
    /// Sends an outbound subrequest (`await fetch(upstream)`) that returns after `latency`. It
    /// is not a storage operation, so other events can run while it is in flight.
    Task<Result<HttpResponse>> fetch(HttpRequest request, SimDuration latency);
    /// Runs host CPU work of `duration`, which occupies the object's thread.
    Task<void> compute(SimDuration duration);
    /// Waits until storage writes made so far are durable; a KV put from an object waits so.
    Task<Status> waitForOutputGate();

    /// Keeps the object from hibernating while an outbound operation (a KV call, an RPC to
    /// another object) is in flight. End it with endIo().
    void beginIo();
    void endIo();

    // WebSockets: the hibernation API and the standard API.
    /// The server end of the socket a WebSocket upgrade request asks for, or null when the
    /// request is not an upgrade.
    std::shared_ptr<ServerWebSocket> upgrade(const HttpRequest &request);
    Status acceptWebSocket(const std::shared_ptr<ServerWebSocket> &socket,
                           const QStringList &tags = {});
    /// `ws.accept()`: the standard API, which keeps the object in memory.
    Status accept(const std::shared_ptr<ServerWebSocket> &socket);
    std::vector<std::shared_ptr<ServerWebSocket>> getWebSockets(const QString &tag = {}) const;
    QStringList getTags(const ServerWebSocket &socket) const { return socket.tags; }
    Status send(const std::shared_ptr<ServerWebSocket> &socket, const QByteArray &message,
                bool binary = false);
    Status close(const std::shared_ptr<ServerWebSocket> &socket, int code = 1000,
                 const QString &reason = {});
    Status serializeAttachment(ServerWebSocket &socket, const std::optional<QByteArray> &value);
    std::optional<QByteArray> deserializeAttachment(const ServerWebSocket &socket) const
    {
        return socket.attachment;
    }
    Status setWebSocketAutoResponse(const std::optional<std::pair<QString, QString>> &pair);
    std::optional<std::pair<QString, QString>> getWebSocketAutoResponse() const;
    /// Epoch milliseconds of the last auto-response on the socket, if any.
    std::optional<qint64> getWebSocketAutoResponseTimestamp(const ServerWebSocket &socket) const;
    Status setHibernatableWebSocketEventTimeout(std::optional<qint64> milliseconds);
    /// The timeout that setHibernatableWebSocketEventTimeout() set, if any.
    std::optional<qint64> hibernatableWebSocketEventTimeout() const;

private:
    DurableObject &m_object;
    quint64 m_instance;
    DurableObjectId m_id;
    StorageApi m_storage;
};

/// A lifecycle state, as the platform's lifecycle page names them.
enum class ObjectState {
    Inactive, ///< no instance in memory: never constructed, evicted, reset or shut down
    Active, ///< handling an event, or waiting on its I/O
    IdleHibernatable, ///< nothing to do and nothing that keeps it awake
    IdleNonHibernatable, ///< nothing to do, but a timer, I/O or a standard WebSocket keeps it
    Hibernated, ///< in-memory state dropped; hibernatable WebSockets stay connected
};
QString objectStateName(ObjectState state);

/// One step of an object's lifecycle history.
struct LifecycleChange
{
    SimTime at = 0;
    ObjectState state = ObjectState::Inactive;
    QString reason;
};

/// The durable state of a Durable Object as a saved session keeps it.
struct DurableObjectSnapshot
{
    QByteArray storage; ///< DurableObjectStorage::serialize(); empty for a database with no pages
    std::optional<qint64> alarmMs; ///< the pending alarm, epoch milliseconds
};

/// A stub's connection: the instance it reached and, once that instance was reset, the error
/// every later call through the stub fails with.
struct StubConnection
{
    quint64 instance = 0; ///< 0 until the first call reaches the object
    std::optional<Error> broken;
};

/// A Durable Object: its identity, durable storage, alarm and sockets, and the instance (the
/// behaviour in memory) that handles its events one at a time through the input gate.
class DurableObject
{
public:
    DurableObject(DurableObjectNamespace &ns, DurableObjectId id, LocationId location);
    ~DurableObject();
    DurableObject(const DurableObject &) = delete;
    DurableObject &operator=(const DurableObject &) = delete;

    DurableObjectNamespace &objectNamespace() const { return m_namespace; }
    const DurableObjectId &id() const { return m_id; }
    /// The name it was reached by, empty for unique IDs and names longer than 1,024 bytes.
    const QString &name() const { return m_name; }
    LocationId location() const { return m_location; }
    /// "room lobby" for a named object, else the first 12 hex digits of its ID.
    QString actorName() const;
    SimTime createdAt() const { return m_createdAt; }
    const DurableObjectSettings &settings() const;
    Simulation &simulation() const;

    // Lifecycle.
    ObjectState state() const { return m_state; }
    const std::vector<LifecycleChange> &history() const { return m_history; }
    /// The behaviour in memory, or null while hibernated or inactive.
    DurableObjectBehaviour *behaviour() const;
    quint64 instanceNumber() const { return m_instanceNumber; }
    quint64 constructorRuns() const { return m_constructorRuns; }
    bool isInMemory() const { return m_instance != nullptr; }

    // Storage.
    DurableObjectStorage &storage() { return *m_storage; }
    const DurableObjectStorage &storage() const { return *m_storage; }
    quint64 confirmedBatch() const { return m_confirmedBatch; }
    quint64 lastBatch() const { return m_lastBatch; }
    /// Makes the next storage commit fail, as a disk or replication fault would.
    void injectStorageFailure() { m_failNextCommit = true; }
    /// Whether injectStorageFailure() is waiting for the next commit.
    bool isStorageFailureInjected() const { return m_failNextCommit; }

    // Gates and queue.
    int inputLocks() const { return m_inputLocks; }
    bool isBlockingConcurrency() const { return m_blockingConcurrency > 0; }
    int queuedEvents() const { return int(m_queue.size()); }
    int eventsInFlight() const { return m_inFlight; }
    int heldOutputs() const;
    int pendingTimers() const { return m_pendingTimers; }
    int pendingIo() const { return m_pendingIo; }
    /// Whether the input gate delivers the next queued event now.
    bool inputGateOpen() const;

    // Alarm.
    std::optional<qint64> alarmTimeMs() const { return m_alarmMs; }
    bool isAlarmRunning() const { return m_alarmRunning; }
    int alarmRetryCount() const { return m_alarmRetry; }
    quint64 alarmRuns() const { return m_alarmRuns; }

    // WebSockets.
    const std::vector<std::shared_ptr<ServerWebSocket>> &sockets() const { return m_sockets; }
    int openSocketCount() const;
    std::optional<std::pair<QString, QString>> autoResponse() const { return m_autoResponse; }

    // Counters for metrics and billing.
    quint64 requestsHandled() const { return m_requestsHandled; }
    quint64 messagesReceived() const { return m_messagesReceived; }
    SimDuration activeTime() const;
    quint64 rowsWritten() const { return m_rowsWritten; }

    // Inbound events. Each waits in the queue until the input gate delivers it.
    /// `id` is the caller's ID: a new instance's `ctx.id` carries its name, if it has one.
    Task<Result<HttpResponse>> deliverRequest(HttpRequest request,
                                              std::shared_ptr<StubConnection> connection,
                                              DurableObjectId id);
    Task<Result<QJsonValue>> deliverCall(QString method, QJsonArray arguments,
                                         std::shared_ptr<StubConnection> connection,
                                         DurableObjectId id);
    /// A message from the client end of a socket, arriving now.
    void receiveMessage(const std::shared_ptr<ServerWebSocket> &socket, WebSocketMessage message);
    /// A Close frame from the client, arriving now.
    void receiveClose(const std::shared_ptr<ServerWebSocket> &socket, int code, QString reason);
    /// The client's connection dropped without a Close frame.
    void receiveDisconnect(const std::shared_ptr<ServerWebSocket> &socket);

    // Actions for the room inspector and for fault injection.
    /// Drops the instance if nothing is running, as the idle timer would. Returns false if busy.
    bool hibernate();
    bool evict();
    /// Resets the object: in-flight calls fail with `error`, sockets close, memory is lost.
    void reset(const Error &error);
    /// Shuts the object down as a deploy does: sockets close at once, in-flight requests get
    /// the grace period, and any storage access during it resets the object.
    void shutdown();
    /// Runs the pending alarm now; returns false if none is set.
    bool fireAlarmNow();

    // Saved sessions.
    /// The storage and alarm as of the last confirmed write. Writes whose batch is not
    /// confirmed yet are left out. An alarm that is running counts as pending until its handler
    /// succeeds.
    DurableObjectSnapshot confirmedSnapshot() const;
    /// Replaces the storage and alarm of an object that has had no instance and no write, as
    /// a saved session restores it, and schedules the alarm. An alarm whose time has passed
    /// fires at once. The storage must have the class's backend.
    Status restore(std::unique_ptr<DurableObjectStorage> storage, std::optional<qint64> alarmMs);

private:
    friend class StorageApi;
    friend class StorageTransaction;
    friend class DurableObjectState;

    struct Instance;
    struct Event;
    enum class EventKind { Request, Call, Alarm, Message, Close, Error };

    // Events and the input gate.
    std::optional<Error> admit(qint64 bytes);
    void enqueue(std::shared_ptr<Event> event);
    void pump();
    /// Ties the stub that sent `event` to `instance`, so that a reset of the instance breaks it.
    void bindConnection(const Event &event, Instance &instance);
    Task<void> runEvent(std::shared_ptr<Instance> instance, std::shared_ptr<Event> event);
    Task<void> runAlarm(std::shared_ptr<Instance> instance, std::shared_ptr<Event> event);
    void finishEvent(Instance &instance);
    /// Constructs an instance if none is in memory, for `creator`, which then belongs to it:
    /// a constructor that resets the object fails the event and breaks its stub.
    bool ensureInstance(Event &creator);
    void lockInput() { ++m_inputLocks; }
    void unlockInput();

    // Storage timing.
    template<typename T>
    Pending<T> completeLater(Result<T> result, SimDuration latency, bool lockInput);
    /// Records that a write entered the batch and schedules the batch's flush.
    void noteWrite(bool gated);
    void scheduleFlush();
    void flushBatch();
    void confirmBatch(quint64 batch, bool ok);
    /// An Error for storage access while shutting down or after a reset, else nothing.
    std::optional<Error> storageBlocked(quint64 instance);
    Task<Status> waitConfirmed(quint64 batch);

    // Lifecycle.
    void setState(ObjectState state, const QString &reason);
    void touch();
    void touchAndRecheck();
    void scheduleIdleCheck();
    void idleCheck(quint64 generation);
    bool isHibernatable() const;
    void dropInstance(ObjectState state, const QString &reason);
    void failEvents(const Error &error, quint64 instance);

    // Saved sessions.
    /// Keeps a snapshot of the state before the first write of a batch, for
    /// confirmedSnapshot(). StorageApi calls it before every write.
    void snapshotBeforeWrite();
    /// Drops the snapshots that confirmedSnapshot() no longer needs.
    void pruneSnapshots();
    /// True when every write is committed and confirmed and no batch is collecting writes.
    bool isStorageConfirmed() const;
    /// The alarm as a restart would find it: a running alarm stays set until its handler
    /// succeeds, unless the handler set or deleted the alarm.
    std::optional<qint64> durableAlarm() const;

    // Alarms.
    Status checkSetAlarm(qint64 scheduledTimeMs) const;
    void scheduleAlarm();
    void alarmDue(quint64 generation);
    void alarmFinished(const Status &status, bool deletedDuringRun);

    // WebSockets.
    void sendToClient(const std::shared_ptr<ServerWebSocket> &socket, const QByteArray &message,
                      bool binary);
    void closeSocket(const std::shared_ptr<ServerWebSocket> &socket, int code,
                     const QString &reason, bool clean);
    void closeAllSockets(int code, const QString &reason);
    /// Marks a socket closed and drops it from the object, without telling the client.
    void retireSocket(const std::shared_ptr<ServerWebSocket> &socket, int code,
                      const QString &reason, bool clean);
    void addSocket(const std::shared_ptr<ServerWebSocket> &socket);
    void setSocketState(ServerWebSocket &socket, ServerWebSocket::State state);
    void releaseHeldSends();

    void record(TraceKind kind, QString subject, qint64 n0 = 0, qint64 n1 = 0,
                QByteArray value = {}, qint64 n2 = 0);

    DurableObjectNamespace &m_namespace;
    DurableObjectId m_id;
    QString m_name;
    QString m_actor;
    LocationId m_location;
    SimTime m_createdAt;
    Random m_random;

    ObjectState m_state = ObjectState::Inactive;
    std::vector<LifecycleChange> m_history;
    SimTime m_activeSince = 0;
    SimDuration m_activeTime = 0;
    quint64 m_idleGeneration = 0;

    std::shared_ptr<Instance> m_instance;
    quint64 m_instanceNumber = 0;
    quint64 m_constructorRuns = 0;
    bool m_shuttingDown = false;

    std::deque<std::shared_ptr<Event>> m_queue;
    qint64 m_queuedBytes = 0;
    std::deque<SimTime> m_recentEvents; ///< delivery times within the last 10 s
    int m_inputLocks = 0;
    int m_blockingConcurrency = 0;
    int m_inFlight = 0;
    int m_pendingTimers = 0;
    int m_pendingIo = 0;
    bool m_pumping = false;

    std::unique_ptr<DurableObjectStorage> m_storage;
    quint64 m_lastBatch = 0; ///< number of the newest batch, open or committed
    quint64 m_openBatch = 0; ///< the batch collecting writes now, 0 if none
    quint64 m_gatedBatch = 0; ///< the newest batch that outgoing messages must wait for
    quint64 m_confirmedBatch = 0;
    int m_batchWrites = 0;
    bool m_flushScheduled = false;
    bool m_failNextCommit = false;
    std::vector<std::pair<quint64, std::coroutine_handle<>>> m_confirmWaiters;
    std::shared_ptr<bool> m_confirmCancelled = std::make_shared<bool>(false);

    /// Snapshots of the state after every batch up to `batch` committed, each taken before the
    /// first write of the next batch. A confirmation that leaves no write unconfirmed clears
    /// them.
    struct BatchSnapshot
    {
        quint64 batch;
        DurableObjectSnapshot snapshot;
    };
    std::vector<BatchSnapshot> m_snapshots;

    std::optional<qint64> m_alarmMs;
    std::optional<qint64> m_runningAlarmMs; ///< the scheduled time of the alarm that is running
    quint64 m_alarmGeneration = 0;
    bool m_alarmRunning = false;
    bool m_alarmChangedDuringRun = false;
    int m_alarmRetry = 0;
    quint64 m_alarmRuns = 0;

    std::vector<std::shared_ptr<ServerWebSocket>> m_sockets;
    int m_openSockets = 0; ///< accepted sockets in state Open
    int m_hibernatableSockets = 0; ///< accepted with acceptWebSocket() and not closed
    int m_standardSockets = 0; ///< accepted with accept() and not closed
    bool m_closingAll = false;
    std::optional<std::pair<QString, QString>> m_autoResponse;
    std::optional<qint64> m_eventTimeoutMs;
    struct HeldSend
    {
        quint64 batch;
        std::shared_ptr<ServerWebSocket> socket;
        QByteArray message;
        bool binary;
    };
    std::deque<HeldSend> m_heldSends;

    quint64 m_requestsHandled = 0;
    quint64 m_messagesReceived = 0;
    quint64 m_rowsWritten = 0;
};

} // namespace roomscope
