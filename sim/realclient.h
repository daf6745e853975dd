#pragma once

#include "simulation.h"
#include "websocket.h"

#include <deque>
#include <memory>

namespace roomscope {

/// One WebSocket frame that crossed a real client's connection, as the Connections dock lists it.
struct WebSocketFrame
{
    enum class Direction : quint8 { ToClient, FromClient };
    enum class Opcode : quint8 { Text, Binary, Close, Ping, Pong };

    SimTime at = 0;
    Direction direction = Direction::ToClient;
    Opcode opcode = Opcode::Text;
    qint64 size = 0; ///< payload bytes
    QByteArray head; ///< the first kFramePreviewBytes of the payload
    int closeCode = 0; ///< for Close frames
};

/// The first bytes of a frame's payload that a real client's frame log keeps.
constexpr qsizetype kFramePreviewBytes = 256;
/// Frames a real client's log keeps while it is connected; older ones are dropped first.
constexpr qsizetype kFrameLogLength = 256;
/// Frames kept once the connection has closed, so that thousands of past clients stay cheap.
constexpr qsizetype kClosedFrameLogLength = 32;

/// A real WebSocket client that joined the simulation through the loopback gateway.
///
/// It is the client end the Durable Object talks to, like a simulated client, but its messages go
/// to a real socket: the gateway attaches a Link that carries them. What the client sends comes in
/// through the receive functions and reaches the object at once, since the real network has
/// already taken its time. Every frame in either direction is logged.
class RealClient : public WebSocketClient
{
public:
    enum class State : quint8 { Connecting, Open, Rejected, Closed };

    /// The gateway's side of the connection.
    class Link
    {
    public:
        virtual ~Link() = default;
        virtual void sendMessage(const QByteArray &message, bool binary) = 0;
        virtual void close(int code, const QString &reason) = 0;
    };

    RealClient(Simulation &simulation, QString name, QString room, LocationId location,
               QString locationName, QString peer);

    QString name() const override { return m_name; }
    LocationId location() const override { return m_location; }
    void opened(quint64 connection) override;
    void messageReceived(const QByteArray &message, SimTime sentAt) override;
    void binaryMessageReceived(const QByteArray &message, SimTime sentAt) override;
    void closed(int code, const QString &reason) override;

    /// Connects the real socket. Messages the object sent before it are passed on now.
    void attach(Link *link);
    /// Disconnects the real socket; nothing more is sent to it.
    void detach();
    /// The server's end, once the Worker returned 101 for the upgrade.
    void setServerSocket(std::shared_ptr<ServerWebSocket> socket);
    /// Marks the upgrade refused by the Worker with this HTTP status.
    void reject(int status);

    /// A message from the real client: it reaches the Durable Object now.
    void receiveMessage(WebSocketMessage message);
    /// A Close frame from the real client.
    void receiveClose(int code, const QString &reason);
    /// The real connection ended without a Close frame, or the gateway dropped it.
    void receiveDisconnect(int code, const QString &reason);
    /// Logs a control frame that the gateway exchanged without the object (ping and pong).
    void logControlFrame(WebSocketFrame::Direction direction, WebSocketFrame::Opcode opcode,
                         const QByteArray &payload);

    const QString &room() const { return m_room; }
    const QString &peer() const { return m_peer; }
    State state() const { return m_state; }
    int rejectedStatus() const { return m_rejectedStatus; }
    quint64 connection() const { return m_connection; }
    int closeCode() const { return m_closeCode; }
    const QString &closeReason() const { return m_closeReason; }
    quint64 messagesReceived() const { return m_messagesReceived; }
    quint64 bytesReceived() const { return m_bytesReceived; }
    quint64 messagesSent() const { return m_messagesSent; }
    quint64 bytesSent() const { return m_bytesSent; }
    const QByteArray &lastMessage() const { return m_lastMessage; }
    SimTime lastMessageAt() const { return m_lastMessageAt; }
    const std::deque<WebSocketFrame> &frames() const { return m_frames; }
    /// Frames logged so far, including those the log no longer keeps.
    quint64 framesLogged() const { return m_framesLogged; }

private:
    void deliver(const QByteArray &message, bool binary, SimTime sentAt);
    void logFrame(WebSocketFrame::Direction direction, WebSocketFrame::Opcode opcode,
                  const QByteArray &payload, qint64 size, int closeCode = 0);
    void recordClose(int code, const QString &reason);

    Simulation &m_simulation;
    QString m_name;
    QString m_room;
    LocationId m_location;
    QString m_locationName;
    QString m_peer;
    State m_state = State::Connecting;
    int m_rejectedStatus = 0;
    quint64 m_connection = 0;
    int m_closeCode = 0;
    QString m_closeReason;
    Link *m_link = nullptr;
    std::shared_ptr<ServerWebSocket> m_serverSocket;
    /// Messages the object sent before the real socket was attached.
    std::deque<WebSocketMessage> m_unsent;
    bool m_closePending = false;
    int m_pendingCloseCode = 0;
    QString m_pendingCloseReason;
    quint64 m_messagesReceived = 0;
    quint64 m_bytesReceived = 0;
    quint64 m_messagesSent = 0;
    quint64 m_bytesSent = 0;
    QByteArray m_lastMessage;
    SimTime m_lastMessageAt = 0;
    std::deque<WebSocketFrame> m_frames;
    quint64 m_framesLogged = 0;
};

} // namespace roomscope
