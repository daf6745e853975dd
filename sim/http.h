#pragma once

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QUrl>

#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace roomscope {

/// The first value of the query parameter `name`, decoded as URLSearchParams decodes
/// application/x-www-form-urlencoded text: '+' is a space, then percent escapes are UTF-8 bytes.
std::optional<QString> searchParam(const QUrl &url, QStringView name);
/// Encodes a query parameter so that searchParam() returns exactly `value`, '%', '&' and '+' too.
QByteArray encodeSearchParam(const QString &value);

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
    /// The first value of a query parameter as URLSearchParams.get() returns it; empty when the
    /// parameter is missing.
    QString queryItem(QStringView name) const { return findQueryItem(name).value_or(QString()); }
    bool hasQueryItem(QStringView name) const { return findQueryItem(name).has_value(); }

private:
    using SearchParams = std::vector<std::pair<QString, QString>>;
    std::optional<QString> findQueryItem(QStringView name) const;
    /// The decoded query and the URL it was decoded from. A request passes through several
    /// handlers that each read its parameters, so decoding once saves most of that work.
    mutable std::shared_ptr<const std::pair<QUrl, SearchParams>> m_searchParams;
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
