#include "labroom.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace roomscope {

namespace {

const QString kStoredCount = QStringLiteral("count");
const QString kAlarmFailuresLeft = QStringLiteral("alarm.failuresLeft");
const QString kAlarmRuns = QStringLiteral("alarm.runs");

int storedInt(const Result<std::optional<QByteArray>> &value)
{
    return value.ok() && value.value() ? value.value()->toInt() : 0;
}

HttpRequest upstreamRequest()
{
    HttpRequest request;
    request.url = QUrl(QStringLiteral("https://upstream.invalid/"));
    return request;
}

HttpResponse jsonResponse(const QJsonObject &object)
{
    return HttpResponse::json(QJsonDocument(object).toJson(QJsonDocument::Compact));
}

} // namespace

LabRoom::LabRoom(DurableObjectState &ctx) : m_ctx(ctx), m_constructedAt(ctx.simulation().now())
{
    // Answered by the runtime itself, even while the object hibernates.
    const Status set = m_ctx.setWebSocketAutoResponse(
            std::pair(QStringLiteral("ping"), QStringLiteral("pong")));
    Q_ASSERT(set.ok());
}

std::vector<std::pair<QString, QString>> LabRoom::memoryState() const
{
    return {
        { QStringLiteral("count"), QString::number(m_count) },
        { QStringLiteral("messages seen"), QString::number(m_messages) },
        { QStringLiteral("constructed at"), formatInstant(m_constructedAt) },
        { QStringLiteral("instance"), QString::number(m_ctx.instance()) },
    };
}

Task<Result<HttpResponse>> LabRoom::fetch(HttpRequest request)
{
    const QString path = request.url.path();
    if (path == QLatin1String("/count-memory"))
        co_return co_await countInMemory();
    if (path == QLatin1String("/count-storage"))
        co_return co_await countInStorage();
    if (path == QLatin1String("/count-fetch-between"))
        co_return co_await countAroundFetch(request.hasQueryItem(u"block"));
    if (path == QLatin1String("/alarm"))
        co_return co_await setAlarm(request);
    if (path == QLatin1String("/ws"))
        co_return acceptWebSocket(request);
    if (path == QLatin1String("/state"))
        co_return co_await state();
    if (path == QLatin1String("/put")) {
        const Result<Done> put = co_await m_ctx.storage().put(request.queryItem(u"key"),
                                                              request.queryItem(u"value").toUtf8());
        if (!put)
            co_return put.error();
        co_return HttpResponse::text(200, "ok\n");
    }
    if (path == QLatin1String("/get")) {
        const auto value = co_await m_ctx.storage().get(request.queryItem(u"key"));
        if (!value)
            co_return value.error();
        if (!value.value())
            co_return HttpResponse::text(404, "not found\n");
        co_return HttpResponse::text(200, *value.value());
    }
    if (path == QLatin1String("/sql"))
        co_return runSql(request);
    if (path == QLatin1String("/broadcast")) {
        const QByteArray message = request.queryItem(u"message").toUtf8();
        int sent = 0;
        for (const auto &socket : m_ctx.getWebSockets(request.queryItem(u"tag")))
            sent += m_ctx.send(socket, message).ok() ? 1 : 0;
        co_return HttpResponse::json(QByteArray("{\"sent\":") + QByteArray::number(sent) + '}');
    }
    co_return HttpResponse::text(404, "not found\n");
}

Task<Result<HttpResponse>> LabRoom::countInMemory()
{
    // The fetch is not a storage operation, so other requests run while it is in flight and
    // read the same old value.
    const int seen = m_count;
    const Result<HttpResponse> upstream = co_await m_ctx.fetch(upstreamRequest(), kUpstreamLatency);
    if (!upstream)
        co_return upstream.error();
    m_count = seen + 1;
    co_return HttpResponse::text(200, QByteArray::number(m_count));
}

Task<Result<HttpResponse>> LabRoom::countInStorage()
{
    const auto value = co_await m_ctx.storage().get(kStoredCount);
    if (!value)
        co_return value.error();
    const int next = storedInt(value) + 1;
    const Result<Done> put = co_await m_ctx.storage().put(kStoredCount, QByteArray::number(next));
    if (!put)
        co_return put.error();
    co_return HttpResponse::text(200, QByteArray::number(next));
}

Task<Result<int>> LabRoom::incrementAroundFetch()
{
    const auto value = co_await m_ctx.storage().get(kStoredCount);
    if (!value)
        co_return value.error();
    const Result<HttpResponse> upstream = co_await m_ctx.fetch(upstreamRequest(), kUpstreamLatency);
    if (!upstream)
        co_return upstream.error();
    const int next = storedInt(value) + 1;
    const Result<Done> put = co_await m_ctx.storage().put(kStoredCount, QByteArray::number(next));
    if (!put)
        co_return put.error();
    co_return next;
}

Task<Result<HttpResponse>> LabRoom::countAroundFetch(bool block)
{
    if (!block) {
        const Result<int> next = co_await incrementAroundFetch();
        if (!next)
            co_return next.error();
        co_return HttpResponse::text(200, QByteArray::number(next.value()));
    }
    auto next = std::make_shared<std::optional<Result<int>>>();
    // A named callback: GCC 12.2 destroys a capturing lambda twice when it is a temporary
    // inside a co_await expression.
    std::function<Task<Status>()> body = [this, next]() -> Task<Status> {
        next->emplace(co_await incrementAroundFetch());
        if (!next->value())
            co_return next->value().error();
        co_return Done {};
    };
    const Result<Done> blocked = co_await m_ctx.blockConcurrencyWhile(std::move(body));
    if (!blocked)
        co_return blocked.error();
    co_return HttpResponse::text(200, QByteArray::number(next->value().value()));
}

Task<Result<HttpResponse>> LabRoom::setAlarm(const HttpRequest &request)
{
    const std::optional<SimDuration> delay =
            request.hasQueryItem(u"in") ? parseDuration(request.queryItem(u"in")) : seconds(5);
    if (!delay)
        co_return HttpResponse::text(400, "invalid \"in\": give a duration such as 5s or 250ms\n");
    const int failures = request.queryItem(u"fail").toInt();
    m_ctx.storage().put(kAlarmFailuresLeft, QByteArray::number(failures));
    const qint64 at = (m_ctx.simulation().now() + *delay) / kMicrosecondsPerMillisecond;
    const Result<Done> set = co_await m_ctx.storage().setAlarm(at);
    if (!set)
        co_return set.error();
    co_return jsonResponse({ { QStringLiteral("alarm"), double(at) },
                             { QStringLiteral("failFirst"), failures } });
}

Task<Status> LabRoom::alarm(AlarmInfo info)
{
    const int runs = storedInt(co_await m_ctx.storage().get(kAlarmRuns)) + 1;
    m_ctx.storage().put(kAlarmRuns, QByteArray::number(runs));
    const int failuresLeft = storedInt(co_await m_ctx.storage().get(kAlarmFailuresLeft));
    if (failuresLeft > 0) {
        m_ctx.storage().put(kAlarmFailuresLeft, QByteArray::number(failuresLeft - 1));
        co_return Error::error(QStringLiteral("alarm failed on purpose (retryCount %1, failures "
                                              "left after this one: %2)")
                                       .arg(info.retryCount)
                                       .arg(failuresLeft - 1));
    }
    co_return Done {};
}

HttpResponse LabRoom::acceptWebSocket(const HttpRequest &request)
{
    const std::shared_ptr<ServerWebSocket> socket = m_ctx.upgrade(request);
    if (!socket)
        return HttpResponse::text(426, "expected Upgrade: websocket\n");
    QStringList tags;
    if (request.hasQueryItem(u"tag"))
        tags << request.queryItem(u"tag");
    if (const Status accepted = m_ctx.acceptWebSocket(socket, tags); !accepted)
        return HttpResponse::text(400, accepted.error().toString().toUtf8() + '\n');
    HttpResponse response;
    response.status = 101;
    response.webSocket = socket;
    return response;
}

Task<Status> LabRoom::webSocketMessage(std::shared_ptr<ServerWebSocket> socket,
                                       WebSocketMessage message)
{
    ++m_messages;
    Q_UNUSED(socket);
    for (const auto &peer : m_ctx.getWebSockets()) {
        if (peer->state == ServerWebSocket::State::Open)
            m_ctx.send(peer, message.data, message.binary);
    }
    co_return Done {};
}

Task<Status> LabRoom::webSocketClose(std::shared_ptr<ServerWebSocket> socket, int code, QString reason,
                                     bool)
{
    // Before web_socket_auto_reply_to_close the object must answer the client's Close itself.
    if (socket->state != ServerWebSocket::State::Closed && code != 1005 && code != 1006)
        m_ctx.close(socket, code, reason);
    co_return Done {};
}

Task<Result<HttpResponse>> LabRoom::state()
{
    const int stored = storedInt(co_await m_ctx.storage().get(kStoredCount));
    const auto alarm = co_await m_ctx.storage().getAlarm();
    QJsonObject body {
        { QStringLiteral("instance"), double(m_ctx.instance()) },
        { QStringLiteral("memoryCount"), m_count },
        { QStringLiteral("storedCount"), stored },
        { QStringLiteral("sockets"), int(m_ctx.getWebSockets().size()) },
    };
    body.insert(QStringLiteral("alarm"), alarm.ok() && alarm.value() ? QJsonValue(double(*alarm.value()))
                                                                      : QJsonValue());
    co_return jsonResponse(body);
}

Result<HttpResponse> LabRoom::runSql(const HttpRequest &request)
{
    const Result<SqlCursor> cursor = m_ctx.storage().exec(request.queryItem(u"q"));
    if (!cursor)
        return cursor.error();
    QJsonArray rows;
    for (const QVariantList &row : cursor->rows) {
        QJsonArray cells;
        for (const QVariant &cell : row)
            cells.append(QJsonValue::fromVariant(cell));
        rows.append(cells);
    }
    return jsonResponse({ { QStringLiteral("columns"), QJsonArray::fromStringList(cursor->columnNames) },
                          { QStringLiteral("rows"), rows },
                          { QStringLiteral("rowsRead"), double(cursor->rowsRead) },
                          { QStringLiteral("rowsWritten"), double(cursor->rowsWritten) } });
}

} // namespace roomscope
