#pragma once

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QUrl>
#include <QUrlQuery>

#include <memory>

namespace roomscope {

class WebSocketClient;
struct ServerWebSocket;

/// A request as a Worker's fetch handler receives it.
struct HttpRequest
{
    QByteArray method = "GET";
    QUrl url;
    QList<QPair<QByteArray, QByteArray>> headers;
    QByteArray body;
    /// For a WebSocket upgrade: the client end that the accepted socket will talk to.
    WebSocketClient *upgradeClient = nullptr;

    /// The first header with this name, compared without case; empty when there is none.
    QByteArray header(QByteArrayView name) const
    {
        for (const auto &[key, value] : headers) {
            if (QByteArrayView(key).compare(name, Qt::CaseInsensitive) == 0)
                return value;
        }
        return {};
    }
    QString queryItem(const QString &name) const
    {
        return QUrlQuery(url).queryItemValue(name, QUrl::FullyDecoded);
    }
    bool hasQueryItem(const QString &name) const { return QUrlQuery(url).hasQueryItem(name); }
};

struct HttpResponse
{
    int status = 200;
    QByteArray body;
    QByteArray contentType = "text/plain;charset=UTF-8";
    /// The server end of an accepted WebSocket (status 101).
    std::shared_ptr<ServerWebSocket> webSocket;

    static HttpResponse text(int status, QByteArray body)
    {
        HttpResponse response;
        response.status = status;
        response.body = std::move(body);
        return response;
    }
    static HttpResponse json(QByteArray body)
    {
        HttpResponse response;
        response.body = std::move(body);
        response.contentType = "application/json";
        return response;
    }
};

} // namespace roomscope
