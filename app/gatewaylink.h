#pragma once

#include "realclient.h"

#include <QObject>
#include <QPointer>
#include <QTimer>
#include <QWebSocket>

#include <functional>

namespace roomscope {

class Gateway;

/// One real WebSocket client's connection: carries the object's messages and closes to the
/// QWebSocket and the client's messages, closes and pongs back to its RealClient, through the
/// controller so that each reaches the simulation at the wall clock's instant.
class GatewayLink : public QObject, public RealClient::Link
{
    Q_OBJECT

public:
    /// Runs a function at the simulation's current instant (SimulationController::deliverExternal).
    using Deliver = std::function<void(const std::function<void()> &)>;

    GatewayLink(QWebSocket *socket, RealClient &client, Gateway &gateway, Deliver deliver);
    ~GatewayLink() override;

    void sendMessage(const QByteArray &message, bool binary) override;
    void close(int code, const QString &reason) override;

    RealClient &client() const { return m_client; }
    QWebSocket *socket() const { return m_socket; }
    /// Sends a ping when none is outstanding and the interval has passed, and drops the
    /// connection when a ping went unanswered for the timeout. `nowMs` is the gateway's clock.
    void checkAlive(qint64 nowMs);
    /// Ends the connection at once without telling the object (the world is going away).
    void abandon(int code, const QString &reason);
    /// Disconnects the link from its client for good; the client may be destroyed after this.
    void release();

Q_SIGNALS:
    /// The connection is over; the gateway deletes the link.
    void finished();

private:
    /// Closes the connection from the gateway's side for a guard, telling the object that the
    /// client went away.
    void drop(int code, const QString &reason);
    void socketDisconnected();
    void startCloseTimer();

    QWebSocket *m_socket;
    RealClient &m_client;
    Gateway &m_gateway;
    Deliver m_deliver;
    QTimer m_closeTimer;
    bool m_closing = false; ///< the gateway or the object started the close
    bool m_closeStarted = false; ///< QWebSocket began a close handshake
    bool m_finished = false;
    bool m_released = false;
    qint64 m_lastPingMs = 0;
    bool m_pingOutstanding = false;
    qint64 m_pingSentMs = 0;
};

} // namespace roomscope
