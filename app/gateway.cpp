#include "gateway.h"

#include "gatewaylink.h"
#include "simulationcontroller.h"

#include <QAbstractHttpServer>
#include <QFile>
#include <QHttpServerRequest>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QTcpServer>
#include <QTcpSocket>
#include <QWebSocket>

#include <cerrno>
#include <utility>
#include <vector>

#include <sys/socket.h>

Q_LOGGING_CATEGORY(lcGateway, "roomscope.app.gateway", QtWarningMsg)

namespace roomscope {

namespace {

/// Connections waiting in the kernel for accept(). QTcpServer's default of 50 makes a burst of
/// a thousand WebSocket connections stall on SYN retransmits.
constexpr int kListenBacklog = 1024;
/// How often the gateway checks for idle HTTP connections and unanswered pings.
constexpr int kSweepIntervalMs = 250;

QByteArray reasonPhrase(int status)
{
    switch (status) {
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return {};
    }
}

QByteArray methodName(QHttpServerRequest::Method method)
{
    switch (method) {
    case QHttpServerRequest::Method::Get: return "GET";
    case QHttpServerRequest::Method::Put: return "PUT";
    case QHttpServerRequest::Method::Delete: return "DELETE";
    case QHttpServerRequest::Method::Post: return "POST";
    case QHttpServerRequest::Method::Head: return "HEAD";
    case QHttpServerRequest::Method::Options: return "OPTIONS";
    case QHttpServerRequest::Method::Patch: return "PATCH";
    case QHttpServerRequest::Method::Connect: return "CONNECT";
    case QHttpServerRequest::Method::Trace: return "TRACE";
    default: return "GET";
    }
}

QString peerName(const QTcpSocket *socket)
{
    const QHostAddress address = socket->peerAddress();
    const QString host = address.protocol() == QAbstractSocket::IPv6Protocol
            ? QLatin1Char('[') + address.toString() + QLatin1Char(']')
            : address.toString();
    return host + QLatin1Char(':') + QString::number(socket->peerPort());
}

/// Bytes a socket collects in a write batch before it sends them anyway.
constexpr qsizetype kWriteBatchLimit = 64 * 1024;

class GatewaySocket;
/// Sockets with bytes in the current write batch, in the order of their first write.
std::vector<QPointer<GatewaySocket>> g_batchedSockets;
/// The nesting depth of WriteBatch objects. Writes are collected while it is above zero.
int g_writeBatchDepth = 0;

/// A TCP socket that sends written bytes to the kernel at once, and collects them while a
/// WriteBatch exists.
///
/// A plain QTcpSocket buffers every write, enables its write notifier, and writes in a later
/// pass of the event loop, which disables the notifier again. GLib's event dispatcher walks
/// the list of every registered socket notifier on each of those changes, so a broadcast to
/// 1,000 sockets cost thousands of walks of a 1,000-entry list before the last client got the
/// message. Sending at once, as an unbuffered QTcpSocket does, needs no notifier (Qt 6.4's
/// setSocketDescriptor() ignores QIODevice::Unbuffered). Bytes that the kernel does not take go
/// to QTcpSocket's buffer as before, so bytesToWrite() counts the bytes that a slow client has
/// not taken, and QTcpSocket reports any error.
class GatewaySocket : public QTcpSocket
{
public:
    using QTcpSocket::QTcpSocket;

    /// Sends the bytes collected in the current write batch.
    void sendBatch()
    {
        if (m_batch.isEmpty())
            return;
        const QByteArray batch = std::exchange(m_batch, QByteArray());
        sendNow(batch.constData(), batch.size());
    }

    void close() override
    {
        sendBatch();
        QTcpSocket::close();
    }

    void disconnectFromHost() override
    {
        sendBatch();
        QTcpSocket::disconnectFromHost();
    }

protected:
    qint64 writeData(const char *data, qint64 size) override
    {
        if (g_writeBatchDepth == 0 || state() != ConnectedState)
            return sendNow(data, size);
        if (m_batch.isEmpty())
            g_batchedSockets.emplace_back(this);
        m_batch.append(data, size);
        if (m_batch.size() >= kWriteBatchLimit)
            sendBatch();
        return size;
    }

private:
    qint64 sendNow(const char *data, qint64 size)
    {
        // Bytes still in QTcpSocket's buffer go first, so new ones queue behind them.
        if (size > 0 && state() == ConnectedState && QTcpSocket::bytesToWrite() == 0) {
            ssize_t sent = 0;
            do {
                sent = ::send(int(socketDescriptor()), data, size_t(size),
                              MSG_NOSIGNAL | MSG_DONTWAIT);
            } while (sent < 0 && errno == EINTR);
            if (sent == size)
                return size;
            // QTcpSocket buffers what a full kernel buffer did not take, and reports errors.
            if (sent > 0) {
                const qint64 buffered = QTcpSocket::writeData(data + sent, size - sent);
                return buffered < 0 ? buffered : sent + buffered;
            }
        }
        return QTcpSocket::writeData(data, size);
    }

    QByteArray m_batch;
};

/// Collects the writes to every GatewaySocket while it exists, and sends each socket's bytes
/// together when the outermost batch ends. QWebSocket writes a frame's header and payload
/// separately, so without a batch each message of a broadcast costs two send() calls.
class WriteBatch
{
public:
    WriteBatch() { ++g_writeBatchDepth; }
    ~WriteBatch()
    {
        if (--g_writeBatchDepth > 0)
            return;
        const std::vector<QPointer<GatewaySocket>> sockets = std::exchange(g_batchedSockets, {});
        for (const QPointer<GatewaySocket> &socket : sockets) {
            if (socket)
                socket->sendBatch();
        }
    }
    Q_DISABLE_COPY_MOVE(WriteBatch)
};

} // namespace

QByteArray httpResponseBytes(int status, const QByteArray &contentType, const QByteArray &body,
                             bool close)
{
    QByteArray bytes;
    bytes.reserve(160 + body.size());
    bytes += "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase(status) + "\r\n";
    if (!contentType.isEmpty())
        bytes += "Content-Type: " + contentType + "\r\n";
    bytes += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    bytes += close ? "Connection: close\r\n" : "Connection: keep-alive\r\n";
    bytes += "\r\n";
    bytes += body;
    return bytes;
}

/// Accepts TCP connections with a deep backlog and turns away those over the connection cap
/// before the HTTP server reads them.
class GatewayListener : public QTcpServer
{
public:
    GatewayListener(Gateway &gateway) : m_gateway(gateway) { setListenBacklogSize(kListenBacklog); }

protected:
    void incomingConnection(qintptr descriptor) override
    {
        auto *socket = new GatewaySocket(this);
        if (!socket->setSocketDescriptor(descriptor)) {
            delete socket;
            return;
        }
        if (m_gateway.openConnections() >= m_gateway.m_settings.maxConnections) {
            const QString reason = QStringLiteral(
                    "Roomscope gateway: %1 connections are open, the limit set by "
                    "--max-connections. Close some, or raise the limit.")
                    .arg(m_gateway.m_settings.maxConnections);
            m_gateway.refuse(QStringLiteral("refused a connection from %1: %2")
                                     .arg(peerName(socket), reason));
            // The response usually leaves at once, and then disconnectFromHost() emits
            // disconnected() before it returns.
            connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
            socket->write(httpResponseBytes(503, "text/plain;charset=UTF-8",
                                            reason.toUtf8() + '\n', true));
            socket->disconnectFromHost();
            return;
        }
        // QWebSocket writes a frame's header and payload separately outside a write batch, and
        // Nagle's algorithm would hold the payload back until the peer acknowledged the header.
        socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
        m_gateway.acceptConnection(socket);
        addPendingConnection(socket);
    }

private:
    Gateway &m_gateway;
};

/// The HTTP server: hands every parsed request to the gateway.
class GatewayHttpServer : public QAbstractHttpServer
{
public:
    GatewayHttpServer(Gateway &gateway) : m_gateway(gateway) { }

protected:
    bool handleRequest(const QHttpServerRequest &request, QTcpSocket *socket) override
    {
        return m_gateway.handleRequest(request, socket);
    }
    void missingHandler(const QHttpServerRequest &, QTcpSocket *) override
    {
        // Only a rejected upgrade gets here, and the gateway has already written its response.
    }

private:
    Gateway &m_gateway;
};

Gateway::Gateway(SimulationController &controller, GatewaySettings settings, QObject *parent)
    : QObject(parent), m_controller(controller), m_settings(std::move(settings))
{
    m_clock.start();
    m_sweepTimer.setInterval(kSweepIntervalMs);
    connect(&m_sweepTimer, &QTimer::timeout, this, &Gateway::sweep);
    connect(&m_controller, &SimulationController::worldAboutToChange, this, [this] {
        dropEverything(QWebSocketProtocol::CloseCodeGoingAway,
                       QStringLiteral("The simulation was reloaded."));
    });
}

Gateway::~Gateway()
{
    stop();
}

Result<QString> Gateway::start()
{
    if (isListening())
        return QString();
    const Result<QString> checked = m_settings.checkAddress();
    if (!checked)
        return checked;
    // QtHttpServer logs a warning for every upgrade that handleRequest() rejects; the gateway logs its
    // own refusals with their reasons instead.
    QLoggingCategory::setFilterRules(QStringLiteral("qt.httpserver.warning=false"));

    auto listener = std::make_unique<GatewayListener>(*this);
    if (!listener->listen(m_settings.address, m_settings.port))
        return Error::error(QStringLiteral("Cannot listen on %1 port %2: %3. Choose another port "
                                           "with --port, or 0 for any free port.")
                                    .arg(m_settings.address.toString())
                                    .arg(m_settings.port)
                                    .arg(listener->errorString()));
    m_server = new GatewayHttpServer(*this);
    m_server->setParent(this);
    m_listener = listener.release();
    m_server->bind(m_listener);
    connect(m_server, &QAbstractHttpServer::newWebSocketConnection, this, &Gateway::takeWebSockets);
    m_sweepTimer.start();
    if (!checked->isEmpty())
        log(QStringLiteral("warning"), *checked);
    log(QStringLiteral("listening"),
        QStringLiteral("Gateway listening on %1 (demo page %1%2)").arg(url(), QLatin1String(kOwnPathPrefix)));
    Q_EMIT statusChanged();
    return checked;
}

void Gateway::stop()
{
    if (!m_server)
        return;
    // The run goes on without the real clients, so their objects see their sockets close.
    const QString reason = QStringLiteral("The gateway stopped.");
    std::vector<RealClient *> clients;
    for (const auto &[link, owned] : m_links)
        clients.push_back(&owned->client());
    for (const auto &[peer, upgrade] : m_pendingUpgrades)
        clients.push_back(upgrade->client);
    if (!clients.empty()) {
        m_controller.deliverExternal([&] {
            for (RealClient *client : clients)
                client->receiveDisconnect(QWebSocketProtocol::CloseCodeGoingAway, reason);
        });
    }
    dropEverything(QWebSocketProtocol::CloseCodeGoingAway, reason);
    m_sweepTimer.stop();
    log(QStringLiteral("stopped"), QStringLiteral("Gateway on %1 stopped").arg(url()));
    for (auto &[socket, connection] : m_connections) {
        if (connection.socket)
            connection.socket->abort();
    }
    m_connections.clear();
    m_pendingUpgrades.clear();
    delete m_server; // it owns the listener, whose children are the sockets
    m_server = nullptr;
    m_listener = nullptr;
    Q_EMIT statusChanged();
}

bool Gateway::isListening() const
{
    return m_listener && m_listener->isListening();
}

quint16 Gateway::port() const
{
    return m_listener ? m_listener->serverPort() : 0;
}

QString Gateway::url() const
{
    return m_settings.ownOrigin(port());
}

void Gateway::acceptConnection(QTcpSocket *socket)
{
    Connection &connection = m_connections[socket];
    connection.socket = socket;
    connection.peer = peerName(socket);
    connection.lastActivityMs = m_clock.elapsed();
    connect(socket, &QTcpSocket::readyRead, this, [this, socket] {
        if (Connection *found = connectionFor(socket))
            found->lastActivityMs = m_clock.elapsed();
    });
    connect(socket, &QObject::destroyed, this, [this, socket] {
        m_connections.erase(socket);
        Q_EMIT statusChanged();
    });
    Q_EMIT statusChanged();
}

Gateway::Connection *Gateway::connectionFor(QTcpSocket *socket)
{
    const auto found = m_connections.find(socket);
    return found == m_connections.end() ? nullptr : &found->second;
}

std::optional<QString> Gateway::checkHeaders(const QHttpServerRequest &request) const
{
    if (auto refused = checkHostHeader(m_settings, port(), request.value("host")))
        return refused;
    return checkOriginHeader(m_settings, port(), request.value("origin"));
}

bool Gateway::handleRequest(const QHttpServerRequest &request, QTcpSocket *socket)
{
    Connection *connection = connectionFor(socket);
    if (!connection)
        return false;
    connection->lastActivityMs = m_clock.elapsed();
    const bool upgrade =
            request.value("upgrade").compare("websocket", Qt::CaseInsensitive) == 0;
    if (const std::optional<QString> refused = checkHeaders(request)) {
        refuse(QStringLiteral("refused %1 %2 from %3: %4")
                       .arg(QString::fromLatin1(methodName(request.method())),
                            request.url().path(), connection->peer, *refused));
        const quint64 slot = reserveResponse(*connection);
        connection->closeAfterResponse = true;
        respond(socket, slot,
                httpResponseBytes(403, "text/plain;charset=UTF-8",
                                  "Roomscope gateway: " + refused->toUtf8() + '\n', true));
        return !upgrade;
    }
    if (upgrade)
        return handleUpgrade(request, socket, *connection);

    if (request.value("connection").compare("close", Qt::CaseInsensitive) == 0)
        connection->closeAfterResponse = true;
    if (request.url().path().startsWith(QLatin1String(kOwnPathPrefix))) {
        handleOwnPage(request, *connection);
        return true;
    }
    World *world = m_controller.world();
    const quint64 slot = reserveResponse(*connection);
    if (!world) {
        respond(socket, slot,
                httpResponseBytes(503, "text/plain;charset=UTF-8",
                                  "Roomscope gateway: no scenario is loaded.\n", false));
        return true;
    }
    ++m_requestsServed;
    const QPointer<QTcpSocket> target = socket;
    const QPointer<Gateway> self = this;
    const HttpRequest workerRequest = this->workerRequest(request);
    const LocationId location = clientLocation(*world);
    const QString actor = QStringLiteral("http ") + connection->peer;
    // Without simulated latency the Worker responds within deliverExternal(), so the response and
    // every message that the request made leave with one send() per socket.
    const WriteBatch batch;
    m_controller.deliverExternal([&] {
        world->sendRequest(actor, location, workerRequest,
                           [self, target, slot](const HttpResponse &response) {
                               if (!self || !target)
                                   return;
                               self->respond(target, slot,
                                             httpResponseBytes(response.status, response.contentType,
                                                               response.body, false));
                           },
                           World::Route::Direct);
    });
    return true;
}

HttpRequest Gateway::workerRequest(const QHttpServerRequest &request) const
{
    HttpRequest converted;
    converted.method = methodName(request.method());
    QUrl target(url());
    target.setPath(request.url().path(QUrl::FullyEncoded), QUrl::TolerantMode);
    target.setQuery(request.url().query(QUrl::FullyEncoded), QUrl::TolerantMode);
    converted.url = target;
    converted.headers = request.headers();
    converted.body = request.body();
    return converted;
}

LocationId Gateway::clientLocation(const World &world) const
{
    const LocationId named = world.locations().find(m_settings.clientLocation);
    return named >= 0 ? named : 0;
}

bool Gateway::handleUpgrade(const QHttpServerRequest &request, QTcpSocket *socket,
                            Connection &connection)
{
    World *world = m_controller.world();
    if (!world) {
        const quint64 slot = reserveResponse(connection);
        connection.closeAfterResponse = true;
        respond(socket, slot,
                httpResponseBytes(503, "text/plain;charset=UTF-8",
                                  "Roomscope gateway: no scenario is loaded.\n", true));
        return false;
    }
    HttpRequest upgradeRequest = workerRequest(request);
    const LocationId location = clientLocation(*world);
    RealClient &client = world->addRealClient(upgradeRequest.queryItem(QStringLiteral("roomId")),
                                              location, connection.peer);
    upgradeRequest.upgradeClient = &client;
    auto upgrade = std::make_shared<Upgrade>();
    upgrade->client = &client;
    const QPointer<Gateway> self = this;
    ++m_requestsServed;
    m_controller.deliverExternal([&] {
        world->sendRequest(QStringLiteral("ws ") + connection.peer, location, upgradeRequest,
                           [self, upgrade](const HttpResponse &response) {
                               if (self)
                                   self->upgradeAnswered(upgrade, response);
                           },
                           World::Route::Direct);
    });

    // The Worker answered at once, as it does without simulated latency: refuse with its own
    // response, or let the WebSocket handshake go ahead.
    if (upgrade->answer && upgrade->answer->status != 101) {
        const quint64 slot = reserveResponse(connection);
        connection.closeAfterResponse = true;
        respond(socket, slot,
                httpResponseBytes(upgrade->answer->status, upgrade->answer->contentType,
                                  upgrade->answer->body, true));
        return false;
    }
    // Otherwise the handshake completes now and a later refusal closes the socket (see
    // upgradeAnswered()).
    // QAbstractHttpServer disconnects every signal of the socket before the handshake, so the
    // connection's entry is removed when the QWebSocket arrives, or by sweep() if it never does.
    connection.upgraded = true;
    upgrade->socket = socket;
    m_pendingUpgrades[connection.peer] = upgrade;
    return true;
}

void Gateway::upgradeAnswered(const std::shared_ptr<Upgrade> &upgrade, const HttpResponse &response)
{
    upgrade->answer = response;
    if (response.status == 101 && response.webSocket) {
        upgrade->client->setServerSocket(response.webSocket);
        return;
    }
    upgrade->client->reject(response.status);
    if (upgrade->link) {
        // NOTE: the handshake has finished before a Worker with simulated latency answered, so
        // a refusal reaches the client as a close instead of the HTTP response.
        upgrade->link->close(QWebSocketProtocol::CloseCodeBadOperation,
                             QStringLiteral("The Worker answered the upgrade with %1: %2")
                                     .arg(response.status)
                                     .arg(QString::fromUtf8(response.body.trimmed().left(100))));
    }
}

void Gateway::takeWebSockets()
{
    while (m_server && m_server->hasPendingWebSocketConnections()) {
        std::unique_ptr<QWebSocket> socket = m_server->nextPendingWebSocketConnection();
        if (!socket)
            break;
        QString peer = socket->peerAddress().toString();
        if (socket->peerAddress().protocol() == QAbstractSocket::IPv6Protocol)
            peer = QLatin1Char('[') + peer + QLatin1Char(']');
        peer += QLatin1Char(':') + QString::number(socket->peerPort());
        const auto found = m_pendingUpgrades.find(peer);
        if (found == m_pendingUpgrades.end()) {
            socket->close(QWebSocketProtocol::CloseCodeBadOperation,
                          QStringLiteral("Roomscope gateway: no upgrade is pending for %1").arg(peer));
            socket.release()->deleteLater();
            continue;
        }
        const std::shared_ptr<Upgrade> upgrade = found->second;
        m_pendingUpgrades.erase(found);
        m_connections.erase(upgrade->socket);

        const QPointer<Gateway> self = this;
        auto deliver = [self](const std::function<void()> &action) {
            if (!self)
                return;
            const WriteBatch batch;
            self->m_controller.deliverExternal(action);
        };
        auto link = std::make_unique<GatewayLink>(socket.release(), *upgrade->client, *this, deliver);
        GatewayLink *raw = link.get();
        upgrade->link = raw;
        connect(raw, &GatewayLink::finished, this, [this, raw] { linkClosed(raw); });
        m_links.emplace(raw, std::move(link));
        {
            const WriteBatch batch;
            m_controller.deliverExternal([&] { upgrade->client->attach(raw); });
        }
        if (upgrade->answer && upgrade->answer->status != 101)
            upgradeAnswered(upgrade, *upgrade->answer);
        Q_EMIT statusChanged();
    }
}

void Gateway::linkClosed(GatewayLink *link)
{
    const auto found = m_links.find(link);
    if (found == m_links.end())
        return;
    link->release();
    found->second.release()->deleteLater();
    m_links.erase(found);
    Q_EMIT statusChanged();
}

quint64 Gateway::reserveResponse(Connection &connection)
{
    connection.responses.emplace_back();
    return connection.firstSlot + connection.responses.size() - 1;
}

void Gateway::respond(QTcpSocket *socket, quint64 slot, QByteArray response)
{
    Connection *connection = connectionFor(socket);
    if (!connection || slot < connection->firstSlot)
        return;
    connection->responses[size_t(slot - connection->firstSlot)] = std::move(response);
    flushResponses(*connection);
}

void Gateway::flushResponses(Connection &connection)
{
    QTcpSocket *socket = connection.socket;
    if (!socket)
        return;
    while (!connection.responses.empty() && connection.responses.front()) {
        socket->write(*connection.responses.front());
        connection.responses.pop_front();
        ++connection.firstSlot;
    }
    connection.lastActivityMs = m_clock.elapsed();
    if (connection.responses.empty() && connection.closeAfterResponse)
        socket->disconnectFromHost();
}

void Gateway::handleOwnPage(const QHttpServerRequest &request, Connection &connection)
{
    const quint64 slot = reserveResponse(connection);
    const QString path = request.url().path();
    QTcpSocket *socket = connection.socket;
    if (path == QLatin1String(kOwnPathPrefix) || path == QLatin1String("/__roomscope/demo")) {
        QFile page(QStringLiteral(":/gateway/demo.html"));
        page.open(QIODevice::ReadOnly);
        respond(socket, slot, httpResponseBytes(200, "text/html;charset=UTF-8", page.readAll(), false));
        return;
    }
    if (path == QLatin1String("/__roomscope/status")) {
        QJsonObject status;
        status.insert(QStringLiteral("url"), url());
        status.insert(QStringLiteral("connections"), openConnections());
        status.insert(QStringLiteral("webSockets"), openWebSockets());
        status.insert(QStringLiteral("requests"), qint64(m_requestsServed));
        status.insert(QStringLiteral("refusals"), qint64(m_refusals));
        if (const World *world = m_controller.world()) {
            status.insert(QStringLiteral("scenario"), world->scenario().name);
            status.insert(QStringLiteral("rooms"), QJsonArray::fromStringList(world->roomNames()));
            status.insert(QStringLiteral("virtualTime"), formatInstant(world->simulation().now()));
        }
        respond(socket, slot, httpResponseBytes(200, "application/json",
                                                QJsonDocument(status).toJson(QJsonDocument::Compact),
                                                false));
        return;
    }
    respond(socket, slot,
            httpResponseBytes(404, "text/plain;charset=UTF-8",
                              "Roomscope gateway: no page at " + path.toUtf8()
                                      + "; the demo page is at /__roomscope/.\n",
                              false));
}

const QString &Gateway::messageText(const QByteArray &message)
{
    if (!message.isSharedWith(m_lastMessage) || m_lastMessage.isNull()) {
        m_lastMessage = message;
        m_lastMessageText = QString::fromUtf8(message);
    }
    return m_lastMessageText;
}

void Gateway::refuse(const QString &reason)
{
    ++m_refusals;
    log(QStringLiteral("refused"), reason);
}

void Gateway::log(const QString &event, const QString &detail, int status)
{
    qCInfo(lcGateway).noquote() << detail;
    m_log.push_back(detail);
    while (qsizetype(m_log.size()) > kLogLength)
        m_log.pop_front();
    if (World *world = m_controller.world()) {
        TraceEvent traced;
        traced.kind = TraceKind::Gateway;
        traced.actor = QStringLiteral("gateway");
        traced.subject = event;
        traced.numbers[0] = port();
        traced.numbers[1] = status;
        traced.value = detail.toUtf8();
        world->simulation().record(std::move(traced));
    }
    Q_EMIT logMessage(detail);
}

void Gateway::sweep()
{
    const qint64 now = m_clock.elapsed();
    std::vector<GatewayLink *> links;
    links.reserve(m_links.size());
    for (const auto &[link, owned] : m_links)
        links.push_back(link);
    for (GatewayLink *link : links)
        link->checkAlive(now);

    forgetFailedHandshakes();
    std::vector<QTcpSocket *> idle;
    for (const auto &[socket, connection] : m_connections) {
        if (!connection.upgraded && connection.responses.empty() && connection.socket
            && now - connection.lastActivityMs >= m_settings.httpIdleTimeoutMs)
            idle.push_back(socket);
    }
    for (QTcpSocket *socket : idle) {
        log(QStringLiteral("idle"),
            QStringLiteral("closed the HTTP connection from %1 after %2 ms without a request")
                    .arg(m_connections[socket].peer)
                    .arg(m_settings.httpIdleTimeoutMs));
        socket->disconnectFromHost();
        m_connections[socket].lastActivityMs = now;
    }
}

void Gateway::forgetFailedHandshakes()
{
    for (auto it = m_connections.begin(); it != m_connections.end();) {
        if (it->second.socket) {
            ++it;
            continue;
        }
        const auto pending = m_pendingUpgrades.find(it->second.peer);
        if (pending != m_pendingUpgrades.end()) {
            RealClient *client = pending->second->client;
            log(QStringLiteral("handshake"),
                QStringLiteral("the WebSocket handshake with %1 failed").arg(it->second.peer));
            m_controller.deliverExternal([client] {
                client->receiveDisconnect(1006, QStringLiteral("the WebSocket handshake failed"));
            });
            m_pendingUpgrades.erase(pending);
        }
        it = m_connections.erase(it);
    }
}

void Gateway::dropEverything(int closeCode, const QString &reason)
{
    // Aborting a socket finishes its link at once, so the links leave m_links first.
    std::map<GatewayLink *, std::unique_ptr<GatewayLink>> links = std::move(m_links);
    m_links.clear();
    for (auto &[link, owned] : links) {
        owned->abandon(closeCode, reason);
        owned.release()->deleteLater();
    }
    m_pendingUpgrades.clear();
    // Requests in flight belong to the old world, which never answers them now.
    for (auto &[socket, connection] : m_connections) {
        bool waiting = false;
        for (std::optional<QByteArray> &response : connection.responses) {
            if (!response) {
                response = httpResponseBytes(503, "text/plain;charset=UTF-8",
                                             "Roomscope gateway: " + reason.toUtf8() + '\n', true);
                waiting = true;
            }
        }
        if (waiting) {
            connection.closeAfterResponse = true;
            flushResponses(connection);
        }
    }
    Q_EMIT statusChanged();
}

} // namespace roomscope
