#pragma once

#include "location.h"
#include "simtime.h"

#include <QByteArray>
#include <QString>

namespace roomscope {

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
    virtual void closed(int code, const QString &reason) = 0;
};

/// The server end of an accepted WebSocket, kept by the Durable Object that accepted it.
struct ServerWebSocket
{
    enum class State { Open, Closed };

    quint64 connection = 0;
    WebSocketClient *client = nullptr;
    State state = State::Open;
    SimTime acceptedAt = 0;
    quint64 messagesSent = 0;
};

} // namespace roomscope
