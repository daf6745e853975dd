#pragma once

#include "durableobjectnamespace.h"
#include "kvnamespace.h"
#include "websocket.h"
#include "worker.h"

#include <deque>
#include <map>
#include <memory>
#include <vector>

namespace roomscope {

/// A KV write that a room has queued and not yet completed.
struct PendingWrite
{
    QString key;
    QByteArray value;
    SimTime queuedAt = 0;
    int merged = 0; ///< later writes to the key folded into this one before it was sent
    bool inFlight = false; ///< sent to KV, waiting for the acknowledgement
    std::shared_ptr<Completion<Status>> done;
    /// The invocation of the request that queued the write, which the put counts toward.
    std::shared_ptr<KvInvocation> invocation;
};

/// The built-in `kv-room` Durable Object class: the room pattern written in C++ with the same
/// routes as the reference Worker (`/put`, `/get`, `/broadcast`, `/ws`, `/id`, `/count`).
///
/// Its KV writes go through one queue with one write in flight at a time. A key is written again
/// only once the same-key interval has passed since its previous write completed, so the room
/// itself never provokes a 429; when the namespace does not rate-limit writes (the local
/// profile), writes go out back to back. A write queued while an earlier write to the same key is still
/// waiting replaces that write's value (last value wins) and completes with it.
///
/// Sockets are accepted with the hibernation API, so the room hibernates once its queue is empty
/// and it has been idle for the hibernation delay; the queue and pacing state are in memory.
class KvRoom : public DurableObjectBehaviour
{
public:
    KvRoom(DurableObjectState &ctx, const LocationMap &locations, KvNamespace &kv);

    Task<Result<HttpResponse>> fetch(HttpRequest request) override;
    std::vector<std::pair<QString, QString>> memoryState() const override;

    const std::deque<PendingWrite> &pendingWrites() const { return m_queue; }
    int peakPendingWrites() const { return m_peakPending; }
    /// When the key may next be written, or the past when it may be written now.
    SimTime nextWriteAllowedAt(const QString &key) const;

private:
    // Each request to the room is one Worker invocation for the KV limit on operations.
    Task<HttpResponse> put(const HttpRequest &request, std::shared_ptr<KvInvocation> invocation);
    Task<HttpResponse> get(const HttpRequest &request, KvInvocation *invocation);
    Task<HttpResponse> broadcast(const HttpRequest &request, KvInvocation *invocation);
    HttpResponse acceptWebSocket(const HttpRequest &request);
    Task<void> drainWriteQueue();
    /// The index of the first queued write whose key may be written now, or -1.
    qsizetype nextWritable() const;

    DurableObjectState &m_ctx;
    Simulation &m_simulation;
    const LocationMap &m_locations;
    KvNamespace &m_kv;
    QString m_actor;
    std::deque<PendingWrite> m_queue;
    std::map<QString, SimTime> m_lastWriteDoneAt;
    bool m_draining = false;
    int m_peakPending = 0;
};

/// The Worker in front of the rooms: reads `?roomId=`, gets the room's stub with
/// `env.ROOMS.getByName(roomId)` and forwards the request, as the reference Worker does.
class KvRoomWorker : public Worker
{
public:
    explicit KvRoomWorker(DurableObjectNamespace &rooms) : m_rooms(rooms) { }

    Task<HttpResponse> fetch(LocationId location, HttpRequest request) override;

private:
    DurableObjectNamespace &m_rooms;
    /// IDs by room name. idFromName() computes two HMAC-SHA256s and a name's ID never changes,
    /// so each is computed once. The map is cleared when it reaches kMaxCachedRoomIds entries.
    std::map<QString, DurableObjectId> m_roomIds;
    static constexpr size_t kMaxCachedRoomIds = 4096;
};

} // namespace roomscope
