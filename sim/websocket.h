#pragma once

#include "location.h"
#include "simtime.h"

#include <QByteArray>
#include <QString>
#include <QStringList>

#include <optional>

namespace roomscope {

class DurableObject;

/// One WebSocket message: text (UTF-8) or binary.
struct WebSocketMessage
{
    QByteArray data;
    bool binary = false;
};

/// The client end of a WebSocket: a simulated client, or later a real one from the gateway.
class WebSocketClient
{
public:
    virtual ~WebSocketClient() = default;
    virtual QString name() const = 0;
    virtual LocationId location() const = 0;
    /// Called when the server accepted the socket (the 101 response arrived).
    virtual void opened(quint64 connection) = 0;
    /// Called when a message from the server arrives.
    virtual void messageReceived(const QByteArray &message, SimTime sentAt) = 0;
    /// Called when a binary message from the server arrives. Clients that do not tell text from
    /// binary leave it to messageReceived().
    virtual void binaryMessageReceived(const QByteArray &message, SimTime sentAt)
    {
        messageReceived(message, sentAt);
    }
    /// Called when the connection has closed with this code, 1006 when it ended abnormally.
    virtual void closed(int code, const QString &reason) = 0;
    /// Whether the client answers a server's Close frame, as RFC 6455 asks. A client that does
    /// not leaves the server's socket CLOSING until the close handshake times out.
    virtual bool answersClose() const { return true; }
};

/// The server end of a WebSocket. The Durable Object that accepted it keeps it; a hibernatable
/// socket, its tags and its attachment survive hibernation, and everything is lost on close.
struct ServerWebSocket
{
    enum class State { Open, Closing, Closed };

    quint64 connection = 0;
    WebSocketClient *client = nullptr;
    DurableObject *object = nullptr; ///< the object it was offered to or accepted by
    State state = State::Open;
    bool accepted = false;
    bool hibernatable = false; ///< accepted with ctx.acceptWebSocket() rather than accept()
    QStringList tags;
    std::optional<QByteArray> attachment; ///< serialized, at most 16,384 bytes
    std::optional<qint64> autoResponseAtMs; ///< epoch ms of the last auto-response
    SimTime acceptedAt = 0;
    bool serverSentClose = false;
    bool clientSentClose = false;
    int closeCode = 0;
    QString closeReason;
    quint64 messagesSent = 0;
    quint64 messagesReceived = 0;
    qint64 bytesSent = 0;
    qint64 bytesReceived = 0;
};

} // namespace roomscope
