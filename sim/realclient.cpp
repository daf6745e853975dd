#include "realclient.h"

#include "durableobject.h"

namespace roomscope {

RealClient::RealClient(Simulation &simulation, QString name, QString room, LocationId location,
                       QString locationName, QString peer)
    : m_simulation(simulation)
    , m_name(std::move(name))
    , m_room(std::move(room))
    , m_location(location)
    , m_locationName(std::move(locationName))
    , m_peer(std::move(peer))
{
}

void RealClient::opened(quint64 connection)
{
    m_state = State::Open;
    m_connection = connection;
}

void RealClient::setServerSocket(std::shared_ptr<ServerWebSocket> socket)
{
    m_serverSocket = std::move(socket);
    opened(m_serverSocket->connection);
}

void RealClient::reject(int status)
{
    m_state = State::Rejected;
    m_rejectedStatus = status;
}

void RealClient::messageReceived(const QByteArray &message, SimTime sentAt)
{
    deliver(message, false, sentAt);
}

void RealClient::binaryMessageReceived(const QByteArray &message, SimTime sentAt)
{
    deliver(message, true, sentAt);
}

void RealClient::deliver(const QByteArray &message, bool binary, SimTime sentAt)
{
    if (m_state == State::Closed)
        return;
    ++m_messagesReceived;
    m_bytesReceived += quint64(message.size());
    m_lastMessage = message;
    m_lastMessageAt = m_simulation.now();
    logFrame(WebSocketFrame::Direction::ToClient,
             binary ? WebSocketFrame::Opcode::Binary : WebSocketFrame::Opcode::Text, message,
             message.size());

    TraceEvent event;
    event.kind = TraceKind::WsDeliver;
    event.actor = m_name;
    event.location = m_locationName;
    event.subject = m_room;
    event.numbers[0] = qint64(m_connection);
    event.numbers[1] = message.size();
    event.numbers[2] = m_simulation.now() - sentAt;
    event.value = message;
    m_simulation.record(std::move(event));

    if (m_link)
        m_link->sendMessage(message, binary);
    else
        m_unsent.push_back({ message, binary });
}

void RealClient::closed(int code, const QString &reason)
{
    if (m_state == State::Closed)
        return;
    logFrame(WebSocketFrame::Direction::ToClient, WebSocketFrame::Opcode::Close, reason.toUtf8(),
             2 + reason.toUtf8().size(), code);
    recordClose(code, reason);
    if (m_link) {
        m_link->close(code, reason);
    } else {
        m_closePending = true;
        m_pendingCloseCode = code;
        m_pendingCloseReason = reason;
    }
}

void RealClient::attach(Link *link)
{
    m_link = link;
    while (m_link && !m_unsent.empty()) {
        const WebSocketMessage message = std::move(m_unsent.front());
        m_unsent.pop_front();
        m_link->sendMessage(message.data, message.binary);
    }
    if (m_link && m_closePending) {
        m_closePending = false;
        m_link->close(m_pendingCloseCode, m_pendingCloseReason);
    }
}

void RealClient::detach()
{
    m_link = nullptr;
    m_unsent.clear();
}

void RealClient::receiveMessage(WebSocketMessage message)
{
    ++m_messagesSent;
    m_bytesSent += quint64(message.data.size());
    logFrame(WebSocketFrame::Direction::FromClient,
             message.binary ? WebSocketFrame::Opcode::Binary : WebSocketFrame::Opcode::Text,
             message.data, message.data.size());
    if (m_serverSocket && m_serverSocket->object)
        m_serverSocket->object->receiveMessage(m_serverSocket, std::move(message));
}

void RealClient::receiveClose(int code, const QString &reason)
{
    logFrame(WebSocketFrame::Direction::FromClient, WebSocketFrame::Opcode::Close,
             reason.toUtf8(), 2 + reason.toUtf8().size(), code);
    if (m_serverSocket && m_serverSocket->object)
        m_serverSocket->object->receiveClose(m_serverSocket, code, reason);
    // QWebSocket replies to the Close frame itself, so the connection is over for the client.
    recordClose(code, reason);
}

void RealClient::receiveDisconnect(int code, const QString &reason)
{
    if (m_serverSocket && m_serverSocket->object)
        m_serverSocket->object->receiveDisconnect(m_serverSocket);
    recordClose(code, reason);
}

void RealClient::logControlFrame(WebSocketFrame::Direction direction,
                                 WebSocketFrame::Opcode opcode, const QByteArray &payload)
{
    logFrame(direction, opcode, payload, payload.size());
}

void RealClient::logFrame(WebSocketFrame::Direction direction, WebSocketFrame::Opcode opcode,
                          const QByteArray &payload, qint64 size, int closeCode)
{
    ++m_framesLogged;
    const qsizetype limit = m_state == State::Closed ? kClosedFrameLogLength : kFrameLogLength;
    while (qsizetype(m_frames.size()) >= limit)
        m_frames.pop_front();
    m_frames.push_back({ m_simulation.now(), direction, opcode, size,
                         payload.left(kFramePreviewBytes), closeCode });
}

void RealClient::recordClose(int code, const QString &reason)
{
    if (m_state == State::Closed)
        return;
    m_state = State::Closed;
    m_closeCode = code;
    m_closeReason = reason;
    while (qsizetype(m_frames.size()) > kClosedFrameLogLength)
        m_frames.pop_front();

    TraceEvent event;
    event.kind = TraceKind::WsClose;
    event.actor = m_name;
    event.location = m_locationName;
    event.subject = m_room;
    event.numbers[0] = qint64(m_connection);
    event.numbers[1] = code;
    event.value = reason.toUtf8();
    m_simulation.record(std::move(event));
}

} // namespace roomscope
