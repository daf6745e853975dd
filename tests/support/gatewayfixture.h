#pragma once

// A bundled scenario running in real time behind a real loopback gateway, and real HTTP and
// WebSocket clients for it, for the gateway's test suites. Every client connects to 127.0.0.1.

#include "gateway.h"
#include "simulationcontroller.h"
#include "tracesubscription.h"

#include <QByteArray>
#include <QCoreApplication>
#include <QCryptographicHash>
#include <QHostAddress>
#include <QRandomGenerator>
#include <QTcpSocket>
#include <QTest>
#include <QUrl>
#include <QWebSocket>
#include <QtEndian>

#include <algorithm>
#include <memory>
#include <optional>
#include <vector>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace roomscope::testing {

/// The maximum time one wait in the gateway suites may take, in milliseconds.
constexpr int kWaitMs = 10'000;

/// A scenario file of resources/scenarios, found through ROOMSCOPE_SOURCE_DIR (CTest sets it).
inline QString bundledScenarioPath(const QString &fileName)
{
    return qEnvironmentVariable("ROOMSCOPE_SOURCE_DIR") + QStringLiteral("/resources/scenarios/")
        + fileName;
}

/// One HTTP response as a client reads it off the wire.
struct HttpReply
{
    int status = 0;
    QByteArray statusLine; ///< such as "HTTP/1.1 200 OK"
    QList<QPair<QByteArray, QByteArray>> headers; ///< names in lower case, in the order sent
    QByteArray body;

    /// The value of the first header with this lower-case name, or an empty array.
    QByteArray header(const QByteArray &name) const
    {
        for (const auto &[headerName, value] : headers) {
            if (headerName == name)
                return value;
        }
        return {};
    }
};

/// Takes one complete response (the gateway always sends Content-Length) off the front of
/// `buffer`. Returns nothing while the response is still incomplete.
inline std::optional<HttpReply> takeHttpReply(QByteArray &buffer)
{
    const qsizetype headEnd = buffer.indexOf("\r\n\r\n");
    if (headEnd < 0)
        return std::nullopt;
    HttpReply reply;
    const QList<QByteArray> lines = buffer.left(headEnd).split('\n');
    reply.statusLine = lines.constFirst().trimmed();
    const QList<QByteArray> statusParts = reply.statusLine.split(' ');
    reply.status = statusParts.size() > 1 ? statusParts.at(1).toInt() : 0;
    qint64 contentLength = 0;
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const qsizetype colon = lines.at(i).indexOf(':');
        if (colon < 0)
            continue;
        const QByteArray name = lines.at(i).left(colon).trimmed().toLower();
        const QByteArray value = lines.at(i).mid(colon + 1).trimmed();
        reply.headers.append({ name, value });
        if (name == "content-length")
            contentLength = value.toLongLong();
    }
    const qsizetype total = headEnd + 4 + contentLength;
    if (buffer.size() < total)
        return std::nullopt;
    reply.body = buffer.mid(headEnd + 4, contentLength);
    buffer.remove(0, total);
    return reply;
}

/// The bytes of an HTTP/1.1 request. `headers` are whole lines without CRLF, Host among them;
/// a non-empty body gets its Content-Length.
inline QByteArray httpRequestBytes(const QByteArray &method, const QByteArray &target,
                                   const QByteArrayList &headers, const QByteArray &body = {})
{
    QByteArray bytes = method + ' ' + target + " HTTP/1.1\r\n";
    for (const QByteArray &header : headers)
        bytes += header + "\r\n";
    if (!body.isEmpty())
        bytes += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    bytes += "\r\n" + body;
    return bytes;
}

/// A raw HTTP/1.1 client on one TCP connection, which may carry several requests (keep-alive).
class HttpClient
{
public:
    HttpClient()
    {
        QObject::connect(&m_socket, &QTcpSocket::readyRead, &m_socket,
                         [this] { m_received += m_socket.readAll(); });
    }

    /// Connects to 127.0.0.1:port; returns false when the connection fails or times out.
    bool connectTo(quint16 port)
    {
        m_socket.connectToHost(QHostAddress(QHostAddress::LocalHost), port);
        const bool connected = QTest::qWaitFor(
                [this] { return m_socket.state() == QAbstractSocket::ConnectedState; }, kWaitMs);
        m_localPort = m_socket.localPort();
        return connected;
    }
    void send(const QByteArray &bytes) { m_socket.write(bytes); }

    /// Waits for `count` responses; returns those that arrived, in order.
    std::vector<HttpReply> waitForReplies(int count, int timeoutMs = kWaitMs)
    {
        std::vector<HttpReply> replies;
        // The caller checks how many arrived.
        [[maybe_unused]] const bool all = QTest::qWaitFor(
                [&] {
                    while (std::optional<HttpReply> reply = takeHttpReply(m_received))
                        replies.push_back(std::move(*reply));
                    return int(replies.size()) >= count;
                },
                timeoutMs);
        return replies;
    }
    /// Waits for one response; returns nothing when none came within the wait.
    std::optional<HttpReply> waitForReply(int timeoutMs = kWaitMs)
    {
        std::vector<HttpReply> replies = waitForReplies(1, timeoutMs);
        if (replies.empty())
            return std::nullopt;
        return std::move(replies.front());
    }
    /// Waits until the server closes the connection; returns false when it stays open.
    bool waitForDisconnected(int timeoutMs = kWaitMs)
    {
        return QTest::qWaitFor(
                [this] { return m_socket.state() == QAbstractSocket::UnconnectedState; },
                timeoutMs);
    }

    QTcpSocket &socket() { return m_socket; }
    /// The client's port, which the gateway names it by; it stays known after a disconnect.
    quint16 localPort() const { return m_localPort; }
    /// Bytes received and not yet taken as a response.
    const QByteArray &unparsed() const { return m_received; }

private:
    QTcpSocket m_socket;
    QByteArray m_received;
    quint16 m_localPort = 0;
};

/// A WebSocket client written by hand on a bare TCP socket, for what QWebSocket never does:
/// leaving pings unanswered, not reading, and sending malformed frames.
class RawWebSocket
{
public:
    struct Frame
    {
        int opcode = 0;
        QByteArray payload;

        /// The status code of a Close frame, or 1005 (no status) for an empty one.
        int closeCode() const
        {
            return payload.size() >= 2 ? qFromBigEndian<quint16>(payload.constData()) : 1005;
        }
        QString closeReason() const { return QString::fromUtf8(payload.mid(2)); }
    };

    static constexpr int kOpcodeText = 0x1;
    static constexpr int kOpcodeClose = 0x8;
    static constexpr int kOpcodePing = 0x9;

    RawWebSocket()
    {
        QObject::connect(&m_socket, &QTcpSocket::readyRead, &m_socket, [this] {
            if (!m_paused)
                m_received += m_socket.readAll();
        });
    }

    /// Connects to 127.0.0.1:port and completes the opening handshake for `target`, such as
    /// "/ws?roomId=lobby". A positive `receiveBufferBytes` sets the kernel's receive buffer
    /// (SO_RCVBUF) before connecting, so that a client that stops reading soon stops the
    /// server's writes. Returns an error text, empty on success.
    QString open(quint16 port, const QByteArray &target, int receiveBufferBytes = 0)
    {
        if (receiveBufferBytes > 0) {
            const QString connected = connectWithReceiveBuffer(port, receiveBufferBytes);
            if (!connected.isEmpty())
                return connected;
        } else {
            m_socket.connectToHost(QHostAddress(QHostAddress::LocalHost), port);
            if (!QTest::qWaitFor(
                        [this] { return m_socket.state() == QAbstractSocket::ConnectedState; },
                        kWaitMs))
                return QStringLiteral("the TCP connection did not open: ") + m_socket.errorString();
        }
        const QByteArray key = QByteArray::number(QRandomGenerator::global()->generate64()).toBase64();
        m_socket.write(httpRequestBytes("GET", target,
                                        { "Host: 127.0.0.1:" + QByteArray::number(port),
                                          "Upgrade: websocket", "Connection: Upgrade",
                                          "Sec-WebSocket-Key: " + key,
                                          "Sec-WebSocket-Version: 13" }));
        if (!QTest::qWaitFor([this] { return m_received.contains("\r\n\r\n"); }, kWaitMs))
            return QStringLiteral("no handshake response; received \"%1\"")
                    .arg(QString::fromLatin1(m_received));
        const qsizetype headEnd = m_received.indexOf("\r\n\r\n");
        const QByteArray head = m_received.left(headEnd);
        m_received.remove(0, headEnd + 4);
        if (!head.startsWith("HTTP/1.1 101"))
            return QStringLiteral("the handshake was answered with \"%1\"").arg(QString::fromLatin1(head));
        // RFC 6455, section 4.2.2: the accept value is base64(SHA-1(key + the protocol's GUID)).
        const QByteArray accept = QCryptographicHash::hash(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11",
                                                           QCryptographicHash::Sha1)
                                          .toBase64();
        if (!head.toLower().contains("sec-websocket-accept: " + accept.toLower()))
            return QStringLiteral("the handshake response lacks Sec-WebSocket-Accept %1: \"%2\"")
                    .arg(QString::fromLatin1(accept), QString::fromLatin1(head));
        return {};
    }

    /// Sends one frame: `firstByte` contains FIN, the reserved bits and the opcode. A client must
    /// mask its frames; `masked` false breaks that rule on purpose.
    void sendFrame(quint8 firstByte, const QByteArray &payload, bool masked = true)
    {
        QByteArray frame;
        frame.append(char(firstByte));
        const quint8 maskBit = masked ? 0x80 : 0x00;
        if (payload.size() < 126) {
            frame.append(char(maskBit | quint8(payload.size())));
        } else {
            frame.append(char(maskBit | 126));
            const quint16 length = qToBigEndian(quint16(payload.size()));
            frame.append(reinterpret_cast<const char *>(&length), 2);
        }
        QByteArray data = payload;
        if (masked) {
            const char mask[4] = { 0x12, 0x34, 0x56, 0x78 };
            frame.append(mask, 4);
            for (qsizetype i = 0; i < data.size(); ++i)
                data[i] = char(data.at(i) ^ mask[i % 4]);
        }
        frame.append(data);
        m_socket.write(frame);
    }

    /// Stops taking bytes off the socket: Qt's buffer keeps one byte and the kernel's fills up.
    void pauseReading()
    {
        m_paused = true;
        m_socket.setReadBufferSize(1);
    }
    /// Reads again, with a larger kernel buffer: a window smaller than the loopback MSS
    /// (64 KiB) would make the sender wait for window updates.
    void resumeReading()
    {
        m_paused = false;
        m_socket.setSocketOption(QAbstractSocket::ReceiveBufferSizeSocketOption, 1024 * 1024);
        m_socket.setReadBufferSize(0);
        m_received += m_socket.readAll();
    }

    /// Every complete frame received so far, in order; the frames are taken off the buffer.
    std::vector<Frame> takeFrames()
    {
        std::vector<Frame> frames;
        for (;;) {
            if (m_received.size() < 2)
                break;
            const quint8 first = quint8(m_received.at(0));
            const quint8 second = quint8(m_received.at(1));
            qsizetype offset = 2;
            quint64 length = second & 0x7F;
            if (length == 126) {
                if (m_received.size() < 4)
                    break;
                length = qFromBigEndian<quint16>(m_received.constData() + 2);
                offset = 4;
            } else if (length == 127) {
                if (m_received.size() < 10)
                    break;
                length = qFromBigEndian<quint64>(m_received.constData() + 2);
                offset = 10;
            }
            const bool masked = second & 0x80;
            const qsizetype payloadStart = offset + (masked ? 4 : 0);
            if (quint64(m_received.size()) < quint64(payloadStart) + length)
                break;
            Frame frame;
            frame.opcode = first & 0x0F;
            frame.payload = m_received.mid(payloadStart, qsizetype(length));
            if (masked) {
                for (qsizetype i = 0; i < frame.payload.size(); ++i)
                    frame.payload[i] = char(frame.payload.at(i) ^ m_received.at(offset + i % 4));
            }
            m_received.remove(0, payloadStart + qsizetype(length));
            frames.push_back(std::move(frame));
        }
        return frames;
    }

    /// Waits for a frame with `opcode`, collecting every frame before it into `skipped`.
    std::optional<Frame> waitForFrame(int opcode, std::vector<Frame> *skipped = nullptr,
                                      int timeoutMs = kWaitMs)
    {
        std::optional<Frame> found;
        [[maybe_unused]] const bool arrived = QTest::qWaitFor(
                [&] {
                    for (Frame &frame : takeFrames()) {
                        if (found)
                            continue;
                        if (frame.opcode == opcode)
                            found = std::move(frame);
                        else if (skipped)
                            skipped->push_back(std::move(frame));
                    }
                    return found.has_value();
                },
                timeoutMs);
        return found;
    }

    bool waitForDisconnected(int timeoutMs = kWaitMs)
    {
        return QTest::qWaitFor(
                [this] { return m_socket.state() == QAbstractSocket::UnconnectedState; },
                timeoutMs);
    }

    QTcpSocket &socket() { return m_socket; }

private:
    QString connectWithReceiveBuffer(quint16 port, int receiveBufferBytes)
    {
        const int descriptor = ::socket(AF_INET, SOCK_STREAM, 0);
        if (descriptor < 0)
            return QStringLiteral("socket() failed");
        ::setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &receiveBufferBytes,
                     sizeof receiveBufferBytes);
        sockaddr_in address {};
        address.sin_family = AF_INET;
        address.sin_port = qToBigEndian(port);
        address.sin_addr.s_addr = qToBigEndian(quint32(INADDR_LOOPBACK));
        // The kernel completes a loopback connection to a listening socket without the server
        // calling accept(), so this blocking connect() returns at once.
        if (::connect(descriptor, reinterpret_cast<const sockaddr *>(&address), sizeof address) != 0) {
            ::close(descriptor);
            return QStringLiteral("connect() to port %1 failed").arg(port);
        }
        if (!m_socket.setSocketDescriptor(descriptor))
            return QStringLiteral("QTcpSocket did not take the descriptor: ") + m_socket.errorString();
        return {};
    }

    QTcpSocket m_socket;
    QByteArray m_received;
    bool m_paused = false;
};

/// A QWebSocket client that keeps every text message it receives and how its connection ended.
class TestWebSocket
{
public:
    /// A non-empty `origin` is sent as the Origin header of the opening handshake.
    explicit TestWebSocket(const QString &origin = {}) : socket(origin)
    {
        QObject::connect(&socket, &QWebSocket::connected, &socket, [this] { wasConnected = true; });
        QObject::connect(&socket, &QWebSocket::disconnected, &socket, [this] { disconnected = true; });
#if QT_VERSION >= QT_VERSION_CHECK(6, 5, 0)
        QObject::connect(&socket, &QWebSocket::errorOccurred, &socket,
                         [this](QAbstractSocket::SocketError) { ++errors; });
#else
        QObject::connect(&socket, qOverload<QAbstractSocket::SocketError>(&QWebSocket::error),
                         &socket, [this](QAbstractSocket::SocketError) { ++errors; });
#endif
        QObject::connect(&socket, &QWebSocket::textMessageReceived, &socket,
                         [this](const QString &message) { messages << message; });
    }

    bool isOpen() const { return socket.state() == QAbstractSocket::ConnectedState; }
    /// True once the handshake succeeded or failed.
    bool isSettled() const { return wasConnected || disconnected || errors > 0; }

    QWebSocket socket;
    QStringList messages;
    bool wasConnected = false;
    bool disconnected = false;
    int errors = 0;
};

using TestWebSockets = std::vector<std::unique_ptr<TestWebSocket>>;

inline int openCount(const TestWebSockets &sockets)
{
    return int(std::count_if(sockets.begin(), sockets.end(),
                             [](const auto &socket) { return socket->isOpen(); }));
}

/// The trace events of some kinds, recorded from one world's trace.
class TraceRecorder
{
public:
    TraceRecorder(World &world, std::initializer_list<TraceKind> kinds) : m_kinds(kinds)
    {
        m_subscription.subscribe(world.simulation().trace(), [this](const TraceEvent &event) {
            if (m_kinds.contains(event.kind))
                events.push_back(event);
        });
    }
    /// Stops recording; call it before the world goes away.
    void stop() { m_subscription.reset(); }

    std::vector<TraceEvent> events;

private:
    QList<TraceKind> m_kinds;
    TraceSubscription m_subscription;
};

/// A bundled scenario run in real time with keep-running on, behind a Gateway on a free
/// loopback port, as `roomscope serve` runs it. Records the trace events of kind "gateway".
class GatewayFixture
{
public:
    /// `settings` as given, except that the gateway always listens on 127.0.0.1 port 0.
    explicit GatewayFixture(GatewaySettings settings = {}) : m_settings(std::move(settings))
    {
        m_settings.address = QHostAddress(QHostAddress::LocalHost);
        m_settings.port = 0;
        m_connections << QObject::connect(&controller, &SimulationController::worldAboutToChange,
                                          &controller, [this] { m_subscription.reset(); });
        m_connections << QObject::connect(&controller, &SimulationController::worldChanged,
                                          &controller, [this] { subscribe(); });
    }
    ~GatewayFixture()
    {
        // The gateway logs its stop into the world's trace, so it goes while the world exists.
        gateway.reset();
        m_subscription.reset();
        for (const QMetaObject::Connection &connection : m_connections)
            QObject::disconnect(connection);
        QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
    }
    GatewayFixture(const GatewayFixture &) = delete;
    GatewayFixture &operator=(const GatewayFixture &) = delete;

    /// Loads resources/scenarios/`scenarioFile`, runs it in real time past its end and starts
    /// the gateway. Returns the error text, empty on success.
    QString start(const QString &scenarioFile)
    {
        return startScenario(bundledScenarioPath(scenarioFile));
    }
    /// start() for a scenario file anywhere.
    QString startScenario(const QString &path)
    {
        if (Status loaded = controller.load(path); !loaded)
            return loaded.error().message;
        controller.setKeepRunning(true);
        controller.setSpeed(1.0);
        if (!controller.run())
            return QStringLiteral("the controller did not start running");
        gateway = std::make_unique<Gateway>(controller, m_settings);
        const Result<QString> started = gateway->start();
        if (!started)
            return started.error().message;
        return {};
    }

    World &world() const { return *controller.world(); }
    quint16 port() const { return gateway->port(); }
    QByteArray portText() const { return QByteArray::number(port()); }
    /// The Host header line a client of the gateway sends.
    QByteArray hostHeader() const { return "Host: 127.0.0.1:" + portText(); }
    QUrl webSocketUrl(const QString &room) const
    {
        return QUrl(QStringLiteral("ws://127.0.0.1:%1/ws?roomId=%2").arg(port()).arg(room));
    }

    /// A GET request for `target` with the gateway's own Host and `headers` after it.
    QByteArray get(const QByteArray &target, const QByteArrayList &headers = {}) const
    {
        return httpRequestBytes("GET", target, QByteArrayList { hostHeader() } + headers);
    }
    /// Sends `request` on a new connection and waits for its response.
    std::optional<HttpReply> fetch(const QByteArray &request) const
    {
        HttpClient client;
        if (!client.connectTo(port()))
            return std::nullopt;
        client.send(request);
        return client.waitForReply();
    }

    /// Opens `count` QWebSockets to `room` and waits until each has opened or failed; count
    /// the open ones with openCount().
    TestWebSockets openWebSockets(const QString &room, int count, const QString &origin = {}) const
    {
        TestWebSockets sockets;
        sockets.reserve(size_t(count));
        for (int i = 0; i < count; ++i) {
            sockets.push_back(std::make_unique<TestWebSocket>(origin));
            sockets.back()->socket.open(webSocketUrl(room));
        }
        [[maybe_unused]] const bool settled = QTest::qWaitFor(
                [&] {
                    return std::all_of(sockets.begin(), sockets.end(),
                                       [](const auto &socket) { return socket->isSettled(); });
                },
                kWaitMs);
        return sockets;
    }

    /// The world's real clients in `room` that are in `state`.
    int realClientCount(const QString &room, RealClient::State state) const
    {
        int count = 0;
        for (const auto &client : world().realClients()) {
            if (client->room() == room && client->state() == state)
                ++count;
        }
        return count;
    }
    /// The real client whose peer is 127.0.0.1:`localPort`, or null.
    RealClient *realClientAt(quint16 localPort) const
    {
        const QString peer = QStringLiteral("127.0.0.1:%1").arg(localPort);
        for (const auto &client : world().realClients()) {
            if (client->peer() == peer)
                return client.get();
        }
        return nullptr;
    }

    /// The trace events of kind "gateway" recorded so far, across reloads.
    const std::vector<TraceEvent> &gatewayEvents() const { return m_gatewayEvents; }
    /// The details of the traced "gateway" events with this subject ("refused", "idle", ...).
    QStringList tracedDetails(const QString &subject) const
    {
        QStringList details;
        for (const TraceEvent &event : m_gatewayEvents) {
            if (event.subject == subject)
                details << QString::fromUtf8(event.value);
        }
        return details;
    }
    /// The gateway's log lines that start with `prefix`.
    QStringList loggedLines(const QString &prefix) const
    {
        QStringList lines;
        for (const QString &line : gateway->recentLog()) {
            if (line.startsWith(prefix))
                lines << line;
        }
        return lines;
    }

    SimulationController controller;
    std::unique_ptr<Gateway> gateway; ///< null until start()

private:
    void subscribe()
    {
        if (!controller.world())
            return;
        m_subscription.subscribe(controller.world()->simulation().trace(),
                                 [this](const TraceEvent &event) {
                                     if (event.kind == TraceKind::Gateway)
                                         m_gatewayEvents.push_back(event);
                                 });
    }

    GatewaySettings m_settings;
    QList<QMetaObject::Connection> m_connections;
    std::vector<TraceEvent> m_gatewayEvents;
    TraceSubscription m_subscription;
};

} // namespace roomscope::testing
