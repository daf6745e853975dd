#include "kvroom.h"

#include <QJsonDocument>
#include <QJsonObject>

namespace roomscope {

KvRoom::KvRoom(DurableObjectState &ctx, const LocationMap &locations, KvNamespace &kv)
    : m_ctx(ctx)
    , m_simulation(ctx.simulation())
    , m_locations(locations)
    , m_kv(kv)
    , m_actor(ctx.actorName())
{
}

std::vector<std::pair<QString, QString>> KvRoom::memoryState() const
{
    std::vector<std::pair<QString, QString>> fields;
    fields.emplace_back(QStringLiteral("queued writes"), QString::number(m_queue.size()));
    fields.emplace_back(QStringLiteral("peak queued writes"), QString::number(m_peakPending));
    fields.emplace_back(QStringLiteral("keys paced"), QString::number(m_lastWriteDoneAt.size()));
    for (const auto &[key, at] : m_lastWriteDoneAt)
        fields.emplace_back(QStringLiteral("last write of ") + key, formatInstant(at));
    return fields;
}

Task<Result<HttpResponse>> KvRoom::fetch(HttpRequest request)
{
    const QString path = request.url.path();
    const auto invocation = std::make_shared<KvInvocation>();
    if (path == QLatin1String("/put"))
        co_return co_await put(request, invocation);
    if (path == QLatin1String("/get"))
        co_return co_await get(request, invocation.get());
    if (path == QLatin1String("/broadcast"))
        co_return co_await broadcast(request, invocation.get());
    if (path == QLatin1String("/ws"))
        co_return acceptWebSocket(request);
    if (path == QLatin1String("/id"))
        co_return HttpResponse::text(200, m_ctx.id().toString().toLatin1());
    if (path == QLatin1String("/count"))
        co_return HttpResponse::text(200, QByteArray::number(qsizetype(m_ctx.getWebSockets().size())));
    co_return HttpResponse::text(404, "not found\n");
}

Task<HttpResponse> KvRoom::put(const HttpRequest &request,
                               std::shared_ptr<KvInvocation> invocation)
{
    const QString key = request.queryItem(QStringLiteral("key"));
    const QByteArray value = request.queryItem(QStringLiteral("value")).toUtf8();

    std::shared_ptr<Completion<Status>> done;
    bool coalesced = false;
    for (PendingWrite &pending : m_queue) {
        if (!pending.inFlight && pending.key == key) {
            pending.value = value;
            ++pending.merged;
            done = pending.done;
            coalesced = true;
            break;
        }
    }
    if (!done) {
        done = std::make_shared<Completion<Status>>(m_simulation);
        m_queue.push_back({ key, value, m_simulation.now(), 0, false, done, invocation });
        m_peakPending = std::max(m_peakPending, int(m_queue.size()));
    }

    TraceEvent event;
    event.kind = TraceKind::WriteQueued;
    event.actor = m_actor;
    event.location = m_locations.name(m_ctx.location());
    event.subject = key;
    event.numbers[0] = qint64(m_queue.size());
    event.numbers[1] = coalesced ? 1 : 0;
    event.value = value;
    m_simulation.record(std::move(event));

    if (!m_draining) {
        m_draining = true;
        m_ctx.waitUntil(drainWriteQueue());
    }
    const Status status = co_await done->wait();
    if (!status)
        co_return HttpResponse::text(500, "error: " + status.error().message.toUtf8() + "\n");
    co_return HttpResponse::text(200, "ok\n");
}

SimTime KvRoom::nextWriteAllowedAt(const QString &key) const
{
    const auto it = m_lastWriteDoneAt.find(key);
    // A namespace that never rate-limits (local development) needs no pacing.
    if (it == m_lastWriteDoneAt.end() || m_kv.settings().writeRateLimit == WriteRateLimit::Off)
        return m_simulation.start();
    return it->second + m_kv.settings().sameKeyWriteInterval;
}

qsizetype KvRoom::nextWritable() const
{
    for (qsizetype i = 0; i < qsizetype(m_queue.size()); ++i) {
        if (nextWriteAllowedAt(m_queue[size_t(i)].key) <= m_simulation.now())
            return i;
    }
    return -1;
}

Task<void> KvRoom::drainWriteQueue()
{
    while (!m_queue.empty()) {
        const qsizetype index = nextWritable();
        if (index < 0) {
            SimTime wakeAt = nextWriteAllowedAt(m_queue.front().key);
            for (const PendingWrite &pending : m_queue)
                wakeAt = std::min(wakeAt, nextWriteAllowedAt(pending.key));
            // Awaited in a statement of its own, because GCC 12.2 miscompiles a co_await in a
            // while condition and the same form in an if condition is untested.
            const bool stillRunning = co_await m_ctx.sleep(wakeAt - m_simulation.now());
            if (!stillRunning)
                co_return;
            continue;
        }
        // Keep the write in the queue while it is in flight, so the inspector shows it, and
        // move it to the front so that the queue reads in the order writes are sent.
        if (index > 0) {
            PendingWrite chosen = std::move(m_queue[size_t(index)]);
            m_queue.erase(m_queue.begin() + index);
            m_queue.push_front(std::move(chosen));
        }
        PendingWrite &write = m_queue.front();
        write.inFlight = true;
        // A KV write from an object waits for the storage writes before it (the output gate).
        if (const Status gate = co_await m_ctx.waitForOutputGate(); !gate)
            co_return;
        const Status status = co_await m_kv.put(m_actor, m_ctx.location(), m_queue.front().key,
                                                m_queue.front().value, {},
                                                m_queue.front().invocation.get());
        // Pace from the acknowledgement: the next write to the key then reaches the central
        // store more than the same-key interval after this one did.
        m_lastWriteDoneAt[m_queue.front().key] = m_simulation.now();
        const std::shared_ptr<Completion<Status>> done = m_queue.front().done;
        m_queue.pop_front();
        done->resolve(status);
    }
    m_draining = false;
}

Task<HttpResponse> KvRoom::get(const HttpRequest &request, KvInvocation *invocation)
{
    const Result<KvReadResult> read = co_await m_kv.get(
        m_actor, m_ctx.location(), request.queryItem(QStringLiteral("key")), {}, invocation);
    if (!read)
        co_return HttpResponse::text(500, "error: " + read.error().message.toUtf8() + "\n");
    if (!read->value)
        co_return HttpResponse::text(404, "not found\n");
    co_return HttpResponse::text(200, *read->value);
}

Task<HttpResponse> KvRoom::broadcast(const HttpRequest &request, KvInvocation *invocation)
{
    const QString key = request.queryItem(QStringLiteral("key"));
    // One KV read per broadcast, however many sockets receive it.
    const Result<KvReadResult> read =
        co_await m_kv.get(m_actor, m_ctx.location(), key, {}, invocation);
    if (!read)
        co_return HttpResponse::text(500, "error: " + read.error().message.toUtf8() + "\n");
    if (!read->value)
        co_return HttpResponse::text(404, "not found\n");

    const QByteArray message = *read->value;
    int sent = 0;
    for (const std::shared_ptr<ServerWebSocket> &socket : m_ctx.getWebSockets()) {
        if (socket->state == ServerWebSocket::State::Open && m_ctx.send(socket, message).ok())
            ++sent;
    }
    TraceEvent event;
    event.kind = TraceKind::WsBroadcast;
    event.actor = m_actor;
    event.location = m_locations.name(m_ctx.location());
    event.subject = key;
    event.numbers[0] = sent;
    event.numbers[1] = message.size();
    event.value = message;
    m_simulation.record(std::move(event));

    const QJsonObject body { { QStringLiteral("sent"), sent }, { QStringLiteral("failed"), 0 } };
    co_return HttpResponse::json(QJsonDocument(body).toJson(QJsonDocument::Compact));
}

HttpResponse KvRoom::acceptWebSocket(const HttpRequest &request)
{
    const std::shared_ptr<ServerWebSocket> socket = m_ctx.upgrade(request);
    if (!socket)
        return HttpResponse::text(426, "expected Upgrade: websocket\n");
    if (const Status accepted = m_ctx.acceptWebSocket(socket); !accepted)
        return HttpResponse::text(500, accepted.error().toString().toUtf8() + '\n');
    HttpResponse response;
    response.status = 101;
    response.webSocket = socket;
    return response;
}

Task<HttpResponse> KvRoomWorker::fetch(LocationId location, HttpRequest request)
{
    const QString roomId = request.queryItem(QStringLiteral("roomId"));
    if (roomId.isEmpty())
        co_return HttpResponse::text(400, "missing roomId\n");
    auto cached = m_roomIds.find(roomId);
    if (cached == m_roomIds.end()) {
        if (m_roomIds.size() >= kMaxCachedRoomIds)
            m_roomIds.clear();
        cached = m_roomIds.emplace(roomId, m_rooms.idFromName(roomId)).first;
    }
    const DurableObjectId id = cached->second;
    co_return co_await m_rooms.fetch(location, id, std::move(request));
}

} // namespace roomscope
