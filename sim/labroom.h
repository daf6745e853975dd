#pragma once

#include "durableobject.h"

namespace roomscope {

/// The built-in `lab` Durable Object class: small routes that each show one rule of the
/// platform, for demonstrations in the GUI and for tests.
///
/// - `/count-memory`: reads an in-memory counter, awaits an outbound fetch, then writes the
///   counter plus one. Concurrent requests interleave at the fetch and lose updates.
/// - `/count-storage`: the same increment through storage; the input gate keeps it atomic.
/// - `/count-fetch-between`: storage get, fetch, put: loses updates; with `?block` the body runs
///   inside blockConcurrencyWhile and does not.
/// - `/alarm?in=5s&fail=N`: sets the alarm; the handler fails its first N runs, so the retries
///   and their backoff show.
/// - `/ws?tag=T`: accepts a hibernatable WebSocket; a message is sent on to every socket. The
///   auto-response answers "ping" with "pong" without waking the object.
/// - `/state`: the in-memory and stored counters as JSON; `/put?key=&value=`, `/get?key=` and
///   `/sql?q=` reach storage directly.
class LabRoom : public DurableObjectBehaviour
{
public:
    explicit LabRoom(DurableObjectState &ctx);

    Task<Result<HttpResponse>> fetch(HttpRequest request) override;
    bool hasAlarmHandler() const override { return true; }
    Task<Status> alarm(AlarmInfo info) override;
    Task<Status> webSocketMessage(std::shared_ptr<ServerWebSocket> socket,
                                  WebSocketMessage message) override;
    Task<Status> webSocketClose(std::shared_ptr<ServerWebSocket> socket, int code, QString reason,
                                bool wasClean) override;
    std::vector<std::pair<QString, QString>> memoryState() const override;

    /// The latency of the outbound fetch that `/count-memory` and `/count-fetch-between` await.
    static constexpr SimDuration kUpstreamLatency = milliseconds(50);

private:
    Task<Result<HttpResponse>> countInMemory();
    Task<Result<HttpResponse>> countInStorage();
    Task<Result<HttpResponse>> countAroundFetch(bool block);
    Task<Result<int>> incrementAroundFetch();
    Task<Result<HttpResponse>> setAlarm(const HttpRequest &request);
    Task<Result<HttpResponse>> state();
    HttpResponse acceptWebSocket(const HttpRequest &request);
    Result<HttpResponse> runSql(const HttpRequest &request);

    DurableObjectState &m_ctx;
    SimTime m_constructedAt;
    int m_count = 0;
    quint64 m_messages = 0;
};

} // namespace roomscope
