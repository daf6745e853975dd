#pragma once

#include "result.h"

#include <QHostAddress>
#include <QString>
#include <QStringList>

#include <optional>

namespace roomscope {

/// What the loopback gateway listens on and how it guards itself. Each field is a command-line
/// option of `roomscope serve` (named in its comment).
struct GatewaySettings
{
    static constexpr quint16 kDefaultPort = 8787; ///< the port `wrangler dev` uses
    /// The platform's limit on a received WebSocket message (32 MiB, Cloudflare's limits page).
    static constexpr qint64 kPlatformMaxMessageBytes = 32 * 1024 * 1024;

    QHostAddress address = QHostAddress(QHostAddress::LocalHost); ///< --listen
    quint16 port = kDefaultPort; ///< --port; 0 picks a free port
    /// --allow-non-loopback: without it, only a loopback address may be listened on.
    bool allowNonLoopback = false;
    /// --allow-origin: origins besides the gateway's own that browsers may call it from.
    QStringList allowedOrigins;
    /// --allow-host: host names besides localhost and the listen address that Host may name.
    QStringList allowedHosts;
    /// --max-message-size: a larger message from a client closes its socket with 1009.
    qint64 maxMessageBytes = kPlatformMaxMessageBytes;
    /// --send-queue-limit: a client whose unsent bytes would pass this is closed with 1008.
    qint64 sendQueueLimitBytes = 8 * 1024 * 1024;
    /// --max-connections: TCP connections open at once, HTTP and WebSocket together.
    int maxConnections = 4096;
    /// --ping-interval: how often an idle WebSocket is pinged, in milliseconds.
    int pingIntervalMs = 30'000;
    /// --ping-timeout: a WebSocket that answers no ping within this is dropped as half-open.
    int pingTimeoutMs = 10'000;
    /// --idle-timeout: an HTTP connection with no request in progress is closed after this.
    int httpIdleTimeoutMs = 60'000;
    /// How long a closing WebSocket may take to finish the close handshake before the gateway
    /// aborts its connection.
    int closeTimeoutMs = 5'000;
    /// --client-location: the scenario location that real clients join from; empty means the
    /// scenario's first location.
    QString clientLocation;

    /// The checks on the listen address: a non-loopback address needs allowNonLoopback. Returns
    /// the warning to print for an allowed non-loopback address, or an empty string.
    Result<QString> checkAddress() const;
    /// The gateway's own origin for a port, as a browser names it: http://127.0.0.1:8787.
    QString ownOrigin(quint16 listeningPort) const;
};

/// Why a request must be refused for its Host header, or nothing when the header is acceptable.
/// `host` is the header's value; an empty value (an HTTP/1.0 client) is acceptable.
std::optional<QString> checkHostHeader(const GatewaySettings &settings, quint16 listeningPort,
                                       const QByteArray &host);
/// Why a request must be refused for its Origin header, or nothing when there is none or it is
/// the gateway's own or an allowed origin.
std::optional<QString> checkOriginHeader(const GatewaySettings &settings, quint16 listeningPort,
                                         const QByteArray &origin);

} // namespace roomscope
