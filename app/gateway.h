#pragma once

#include "gatewaysettings.h"
#include "result.h"
#include "world.h"

#include <QElapsedTimer>
#include <QObject>
#include <QPointer>
#include <QTimer>

#include <deque>
#include <map>
#include <memory>
#include <optional>

class QHttpServerRequest;
class QTcpSocket;
class QWebSocket;

namespace roomscope {

class GatewayHttpServer;
class GatewayListener;
class GatewayLink;
class SimulationController;

/// The loopback gateway: an HTTP server with WebSocket upgrades on one port that puts real
/// clients (curl, wscat, a browser page) into the controller's running simulation.
///
/// Every HTTP request and upgrade goes through the scenario's Worker as a simulated request does,
/// at the wall clock's instant. A real client's own network replaces the simulated edge hop. The
/// gateway also serves a demo page at /__roomscope/ and its status at /__roomscope/status.
///
/// Guards, each refusal logged with its reason: the Host and Origin checks against DNS
/// rebinding and cross-site pages (403), a cap on open connections (503), a maximum message
/// size (close 1009), a cap on each client's unsent bytes (close 1008: the slow consumer is
/// dropped, never the broadcast slowed), pings that find half-open sockets, and an idle timeout
/// for HTTP connections. A malformed frame closes only its own connection.
class Gateway : public QObject
{
    Q_OBJECT

public:
    /// The path prefix of the gateway's own pages, which never reach the Worker.
    static constexpr const char *kOwnPathPrefix = "/__roomscope/";

    Gateway(SimulationController &controller, GatewaySettings settings, QObject *parent = nullptr);
    ~Gateway() override;

    /// Starts listening. Returns the warning to show for a non-loopback address (usually empty),
    /// or an error naming the address or port and the fix.
    Result<QString> start();
    /// Closes every connection and stops listening.
    void stop();

    bool isListening() const;
    quint16 port() const;
    /// The base URL real clients use, such as http://127.0.0.1:8787.
    QString url() const;
    const GatewaySettings &settings() const { return m_settings; }
    /// TCP connections open now, HTTP and WebSocket.
    int openConnections() const { return int(m_connections.size() + m_links.size()); }
    /// Real WebSocket clients connected now.
    int openWebSockets() const { return int(m_links.size()); }
    quint64 requestsServed() const { return m_requestsServed; }
    quint64 refusals() const { return m_refusals; }
    /// The most recent log lines, oldest first (at most kLogLength).
    const std::deque<QString> &recentLog() const { return m_log; }
    static constexpr qsizetype kLogLength = 200;

Q_SIGNALS:
    /// A line for the log: the gateway started or stopped, or refused something, and why.
    void logMessage(const QString &line);
    /// The number of connections or clients changed.
    void statusChanged();

private:
    friend class GatewayHttpServer;
    friend class GatewayListener;
    friend class GatewayLink;

    /// One TCP connection and the responses it waits for, in request order.
    struct Connection
    {
        QPointer<QTcpSocket> socket;
        QString peer;
        std::deque<std::optional<QByteArray>> responses;
        quint64 firstSlot = 0; ///< the number of the response at the front of `responses`
        qint64 lastActivityMs = 0;
        bool closeAfterResponse = false;
        bool upgraded = false;
    };
    /// A WebSocket upgrade on its way through the Worker.
    struct Upgrade
    {
        RealClient *client = nullptr;
        QTcpSocket *socket = nullptr; ///< the key of its connection in m_connections
        std::optional<HttpResponse> answer;
        QPointer<GatewayLink> link;
    };

    void acceptConnection(QTcpSocket *socket);
    bool handleRequest(const QHttpServerRequest &request, QTcpSocket *socket);
    bool handleUpgrade(const QHttpServerRequest &request, QTcpSocket *socket, Connection &connection);
    void handleOwnPage(const QHttpServerRequest &request, Connection &connection);
    void takeWebSockets();
    void upgradeAnswered(const std::shared_ptr<Upgrade> &upgrade, const HttpResponse &response);
    /// A refusal reason for the request's Host and Origin headers, or nothing.
    std::optional<QString> checkHeaders(const QHttpServerRequest &request) const;
    HttpRequest workerRequest(const QHttpServerRequest &request) const;
    LocationId clientLocation(const World &world) const;

    /// Reserves the next response slot of a connection; fill it with respond().
    quint64 reserveResponse(Connection &connection);
    void respond(QTcpSocket *socket, quint64 slot, QByteArray response);
    void flushResponses(Connection &connection);
    Connection *connectionFor(QTcpSocket *socket);

    void refuse(const QString &reason);
    /// The text of a message for QWebSocket::sendTextMessage(). A broadcast sends one shared
    /// QByteArray to every socket, so the last conversion is kept and reused.
    const QString &messageText(const QByteArray &message);
    void log(const QString &event, const QString &detail, int status = 0);
    void sweep();
    /// Removes connections whose socket is gone without becoming a WebSocket, and tells the
    /// object that their client went away.
    void forgetFailedHandshakes();
    void dropEverything(int closeCode, const QString &reason);
    void linkClosed(GatewayLink *link);

    SimulationController &m_controller;
    GatewaySettings m_settings;
    GatewayHttpServer *m_server = nullptr;
    GatewayListener *m_listener = nullptr;
    std::map<QTcpSocket *, Connection> m_connections;
    /// Upgrades that the HTTP server handed to its WebSocket server, by the client's address.
    std::map<QString, std::shared_ptr<Upgrade>> m_pendingUpgrades;
    std::map<GatewayLink *, std::unique_ptr<GatewayLink>> m_links;
    QTimer m_sweepTimer;
    QElapsedTimer m_clock;
    quint64 m_requestsServed = 0;
    quint64 m_refusals = 0;
    std::deque<QString> m_log;
    QByteArray m_lastMessage;
    QString m_lastMessageText;
};

/// The HTTP/1.1 response bytes for a status, a content type and a body.
QByteArray httpResponseBytes(int status, const QByteArray &contentType, const QByteArray &body,
                             bool close);

} // namespace roomscope
