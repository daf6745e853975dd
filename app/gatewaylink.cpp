#include "gatewaylink.h"

#include "gateway.h"

namespace roomscope {

namespace {

/// Close codes with which QWebSocket itself ends a connection on bad input: a protocol error
/// (such as a reserved opcode or reserved bit), invalid UTF-8 in a text message, and a message
/// over the maximum size.
/// NOTE: Qt 6.4 accepts an unmasked frame from a client, although RFC 6455 (section 5.1)
/// requires a server to close the connection on one.
bool isProtocolFailure(int code)
{
    return code == QWebSocketProtocol::CloseCodeProtocolError
        || code == QWebSocketProtocol::CloseCodeWrongDatatype
        || code == QWebSocketProtocol::CloseCodeTooMuchData;
}

} // namespace

GatewayLink::GatewayLink(QWebSocket *socket, RealClient &client, Gateway &gateway, Deliver deliver)
    : m_socket(socket), m_client(client), m_gateway(gateway), m_deliver(std::move(deliver))
{
    m_socket->setParent(this);
    const GatewaySettings &settings = gateway.settings();
    m_socket->setMaxAllowedIncomingMessageSize(quint64(settings.maxMessageBytes));
    m_socket->setMaxAllowedIncomingFrameSize(quint64(settings.maxMessageBytes));
    m_lastPingMs = gateway.m_clock.elapsed();

    connect(m_socket, &QWebSocket::textMessageReceived, this, [this](const QString &message) {
        m_deliver([this, data = message.toUtf8()] { m_client.receiveMessage({ data, false }); });
    });
    connect(m_socket, &QWebSocket::binaryMessageReceived, this, [this](const QByteArray &message) {
        m_deliver([this, message] { m_client.receiveMessage({ message, true }); });
    });
    connect(m_socket, &QWebSocket::pong, this, [this](quint64, const QByteArray &payload) {
        m_pingOutstanding = false;
        m_client.logControlFrame(WebSocketFrame::Direction::FromClient, WebSocketFrame::Opcode::Pong,
                                 payload);
    });
    // QWebSocket emits aboutToClose() when a close starts: on the peer's Close frame, on a
    // frame it rejects, and on close(). A connection that just drops never emits it.
    connect(m_socket, &QWebSocket::aboutToClose, this, [this] { m_closeStarted = true; });
    connect(m_socket, &QWebSocket::disconnected, this, &GatewayLink::socketDisconnected);

    m_closeTimer.setSingleShot(true);
    m_closeTimer.setInterval(settings.closeTimeoutMs);
    connect(&m_closeTimer, &QTimer::timeout, this, [this] {
        // The peer did not finish the close handshake: end the TCP connection.
        m_socket->abort();
    });
}

GatewayLink::~GatewayLink() = default;

void GatewayLink::release()
{
    if (m_released)
        return;
    m_released = true;
    m_client.detach();
}

void GatewayLink::sendMessage(const QByteArray &message, bool binary)
{
    if (m_closing)
        return;
    qint64 queued = m_socket->bytesToWrite();
    const qint64 limit = m_gateway.settings().sendQueueLimitBytes;
    // Bytes in QTcpSocket's buffer may only be waiting for the event loop to write them, and
    // a frame's messages pile up there even for a fast client: hand them to the kernel first.
    if (queued > 0 && queued + message.size() > limit) {
        m_socket->flush();
        queued = m_socket->bytesToWrite();
    }
    // One message larger than the limit may still go to a client that has read everything.
    if (queued > 0 && queued + message.size() > limit) {
        drop(QWebSocketProtocol::CloseCodePolicyViolated,
             QStringLiteral("Roomscope gateway: over %1 bytes were waiting to be sent, so the "
                            "client reads too slowly.")
                     .arg(limit));
        return;
    }
    if (binary)
        m_socket->sendBinaryMessage(message);
    else
        m_socket->sendTextMessage(m_gateway.messageText(message));
}

void GatewayLink::close(int code, const QString &reason)
{
    if (m_closing)
        return;
    m_closing = true;
    m_socket->close(QWebSocketProtocol::CloseCode(code), reason);
    startCloseTimer();
}

void GatewayLink::drop(int code, const QString &reason)
{
    if (m_closing)
        return;
    m_closing = true;
    m_gateway.refuse(QStringLiteral("closed %1 (%2) with %3: %4")
                             .arg(m_client.name(), m_client.peer())
                             .arg(code)
                             .arg(reason));
    m_client.logControlFrame(WebSocketFrame::Direction::ToClient, WebSocketFrame::Opcode::Close,
                             reason.toUtf8());
    m_deliver([this, code, reason] { m_client.receiveDisconnect(code, reason); });
    m_socket->close(QWebSocketProtocol::CloseCode(code), reason);
    startCloseTimer();
}

void GatewayLink::abandon(int code, const QString &reason)
{
    m_closing = true;
    release();
    m_socket->close(QWebSocketProtocol::CloseCode(code), reason);
    m_socket->abort();
}

void GatewayLink::startCloseTimer()
{
    if (m_socket->state() != QAbstractSocket::UnconnectedState)
        m_closeTimer.start();
}

void GatewayLink::checkAlive(qint64 nowMs)
{
    if (m_closing)
        return;
    const GatewaySettings &settings = m_gateway.settings();
    if (m_pingOutstanding) {
        if (nowMs - m_pingSentMs >= settings.pingTimeoutMs) {
            drop(QWebSocketProtocol::CloseCodeGoingAway,
                 QStringLiteral("Roomscope gateway: no answer to a ping within %1 ms, so the "
                                "connection is treated as half-open.")
                         .arg(settings.pingTimeoutMs));
            // A half-open peer never replies to the Close frame either.
            m_socket->abort();
        }
        return;
    }
    if (nowMs - m_lastPingMs < settings.pingIntervalMs)
        return;
    const QByteArray payload = QByteArray::number(nowMs);
    m_lastPingMs = nowMs;
    m_pingSentMs = nowMs;
    m_pingOutstanding = true;
    m_client.logControlFrame(WebSocketFrame::Direction::ToClient, WebSocketFrame::Opcode::Ping,
                             payload);
    m_socket->ping(payload);
}

void GatewayLink::socketDisconnected()
{
    if (m_finished)
        return;
    m_finished = true;
    m_closeTimer.stop();
    if (!m_closing) {
        const int code = m_socket->closeCode();
        const QString reason = m_socket->closeReason();
        if (!m_closeStarted) {
            m_deliver([this] {
                m_client.receiveDisconnect(1006, QStringLiteral("the connection dropped"));
            });
        } else if (isProtocolFailure(code)) {
            // QWebSocket closed the connection itself on a frame it could not accept.
            m_gateway.refuse(QStringLiteral("closed %1 (%2) with %3: %4")
                                     .arg(m_client.name(), m_client.peer())
                                     .arg(code)
                                     .arg(reason));
            m_deliver([this, code, reason] { m_client.receiveDisconnect(code, reason); });
        } else {
            m_deliver([this, code, reason] { m_client.receiveClose(code, reason); });
        }
    }
    Q_EMIT finished();
}

} // namespace roomscope
