// `roomscope serve`: the parser's errors with their exact texts, and the real executable serving
// gateway-local.json on a free loopback port to real HTTP and WebSocket clients until a signal
// or --exit-after stops it.

#include "gatewayfixture.h"
#include "serve.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkProxy>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

using namespace roomscope;
using namespace roomscope::testing;

namespace {

QString gatewayLocalPath()
{
    return bundledScenarioPath(QStringLiteral("gateway-local.json"));
}

/// `roomscope serve` started as a child process, with its standard error collected as it comes.
class ServeProcess
{
public:
    ServeProcess()
    {
        QObject::connect(&process, &QProcess::readyReadStandardError, &process,
                         [this] { standardError += process.readAllStandardError(); });
    }
    ~ServeProcess()
    {
        if (process.state() != QProcess::NotRunning) {
            process.kill();
            process.waitForFinished(kWaitMs);
        }
    }

    /// Starts `roomscope serve ARGUMENTS` and waits for the line that names the URL. Returns the
    /// port it listens on, or 0 when it exited or never printed the line.
    quint16 start(const QStringList &arguments)
    {
        process.start(QStringLiteral(ROOMSCOPE_BINARY), QStringList { QStringLiteral("serve") } + arguments);
        const QRegularExpression listening(
                QStringLiteral("Gateway listening on http://127\\.0\\.0\\.1:(\\d+) "));
        QRegularExpressionMatch match;
        const bool found = QTest::qWaitFor(
                [&] {
                    match = listening.match(QString::fromUtf8(standardError));
                    return match.hasMatch() || process.state() == QProcess::NotRunning;
                },
                kWaitMs);
        return found && match.hasMatch() ? quint16(match.captured(1).toUInt()) : 0;
    }

    /// Waits for the process to exit; returns its exit code, or -1 when it crashed or is still
    /// running after the wait.
    int waitForExit()
    {
        const bool exited = QTest::qWaitFor(
                [this] { return process.state() == QProcess::NotRunning; }, kWaitMs);
        if (!exited || process.exitStatus() != QProcess::NormalExit)
            return -1;
        standardError += process.readAllStandardError();
        return process.exitCode();
    }

    QProcess process;
    QByteArray standardError;
};

/// Runs `roomscope serve ARGUMENTS` to its end, for arguments that make it exit at once.
std::pair<int, QByteArray> runToExit(const QStringList &arguments)
{
    QProcess process;
    process.start(QStringLiteral(ROOMSCOPE_BINARY), QStringList { QStringLiteral("serve") } + arguments);
    if (!process.waitForFinished(kWaitMs)) {
        process.kill();
        process.waitForFinished(kWaitMs);
        return { -1, {} };
    }
    return { process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1,
             process.readAllStandardError() + process.readAllStandardOutput() };
}

} // namespace

class ServeTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();

    void parseErrors_data();
    void parseErrors();
    void parseDefaults();
    void parseEveryOption();
    void parseHelp();

    void servesRealClients();
    void exitAfterStops();
    void invalidInputExitsTwo_data();
    void invalidInputExitsTwo();
    void portInUseExitsTwo();
};

void ServeTest::initTestCase()
{
    QVERIFY2(!qEnvironmentVariableIsEmpty("ROOMSCOPE_SOURCE_DIR"),
             "ROOMSCOPE_SOURCE_DIR is not set: run the test with ctest, or set it to the source "
             "tree");
    QNetworkProxy::setApplicationProxy(QNetworkProxy::NoProxy);
}

void ServeTest::parseErrors_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("error");

    const QString scenario = QStringLiteral("scenario.json");
    const QString oneScenario = QStringLiteral(
            "give one scenario file, wrangler configuration file or Worker module, for example: "
            "roomscope serve resources/scenarios/kv-room.json");
    const auto range = [](const QString &option, const QString &value, const QString &from,
                          const QString &to) {
        return QStringLiteral("invalid --%1 \"%2\"; give a whole number from %3 to %4")
                .arg(option, value, from, to);
    };
    QTest::newRow("no scenario") << QStringList() << oneScenario;
    QTest::newRow("two scenarios") << QStringList({ scenario, scenario }) << oneScenario;
    QTest::newRow("unknown option") << QStringList({ scenario, QStringLiteral("--bogus") })
                                    << QStringLiteral("Unknown option 'bogus'.");
    QTest::newRow("missing value") << QStringList({ scenario, QStringLiteral("--port") })
                                   << QStringLiteral("Missing value after '--port'.");
    QTest::newRow("port too large")
            << QStringList({ scenario, QStringLiteral("--port"), QStringLiteral("70000") })
            << range(QStringLiteral("port"), QStringLiteral("70000"), QStringLiteral("0"),
                     QStringLiteral("65535"));
    QTest::newRow("negative port")
            << QStringList({ scenario, QStringLiteral("--port"), QStringLiteral("-1") })
            << range(QStringLiteral("port"), QStringLiteral("-1"), QStringLiteral("0"),
                     QStringLiteral("65535"));
    QTest::newRow("port not a number")
            << QStringList({ scenario, QStringLiteral("--port"), QStringLiteral("http") })
            << range(QStringLiteral("port"), QStringLiteral("http"), QStringLiteral("0"),
                     QStringLiteral("65535"));
    QTest::newRow("listen on a name")
            << QStringList({ scenario, QStringLiteral("--listen"), QStringLiteral("localhost") })
            << QStringLiteral("invalid --listen \"localhost\"; give an IP address such as 127.0.0.1 "
                              "or ::1");
    QTest::newRow("message size 0")
            << QStringList({ scenario, QStringLiteral("--max-message-size"), QStringLiteral("0") })
            << range(QStringLiteral("max-message-size"), QStringLiteral("0"), QStringLiteral("1"),
                     QStringLiteral("33554432"));
    QTest::newRow("message size over 32 MiB")
            << QStringList({ scenario, QStringLiteral("--max-message-size"),
                             QStringLiteral("33554433") })
            << range(QStringLiteral("max-message-size"), QStringLiteral("33554433"),
                     QStringLiteral("1"), QStringLiteral("33554432"));
    QTest::newRow("send queue under 1 KiB")
            << QStringList({ scenario, QStringLiteral("--send-queue-limit"), QStringLiteral("1023") })
            << range(QStringLiteral("send-queue-limit"), QStringLiteral("1023"),
                     QStringLiteral("1024"), QStringLiteral("4294967296"));
    QTest::newRow("no connections")
            << QStringList({ scenario, QStringLiteral("--max-connections"), QStringLiteral("0") })
            << range(QStringLiteral("max-connections"), QStringLiteral("0"), QStringLiteral("1"),
                     QStringLiteral("1000000"));
    QTest::newRow("ping interval 9 ms")
            << QStringList({ scenario, QStringLiteral("--ping-interval"), QStringLiteral("9") })
            << range(QStringLiteral("ping-interval"), QStringLiteral("9"), QStringLiteral("10"),
                     QStringLiteral("86400000"));
    QTest::newRow("ping timeout 0")
            << QStringList({ scenario, QStringLiteral("--ping-timeout"), QStringLiteral("0") })
            << range(QStringLiteral("ping-timeout"), QStringLiteral("0"), QStringLiteral("10"),
                     QStringLiteral("86400000"));
    QTest::newRow("idle timeout too long")
            << QStringList({ scenario, QStringLiteral("--idle-timeout"), QStringLiteral("86400001") })
            << range(QStringLiteral("idle-timeout"), QStringLiteral("86400001"),
                     QStringLiteral("10"), QStringLiteral("86400000"));
    QTest::newRow("exit after 0 s")
            << QStringList({ scenario, QStringLiteral("--exit-after"), QStringLiteral("0") })
            << range(QStringLiteral("exit-after"), QStringLiteral("0"), QStringLiteral("1"),
                     QStringLiteral("31536000"));
    QTest::newRow("unknown profile")
            << QStringList({ scenario, QStringLiteral("--profile"), QStringLiteral("staging") })
            << QStringLiteral("invalid --profile \"staging\"; give local or production");
    QTest::newRow("seed not a number")
            << QStringList({ scenario, QStringLiteral("--seed"), QStringLiteral("abc") })
            << QStringLiteral("invalid --seed \"abc\"; give a whole number such as 42");
}

void ServeTest::parseErrors()
{
    QFETCH(QStringList, arguments);
    QFETCH(QString, error);

    const Result<ServeOptions> parsed = parseServeArguments(
            QStringList({ QStringLiteral("roomscope"), QStringLiteral("serve") }) + arguments);
    QVERIFY(!parsed.ok());
    QCOMPARE(parsed.error().message, error);
}

void ServeTest::parseDefaults()
{
    const Result<ServeOptions> parsed = parseServeArguments(
            { QStringLiteral("roomscope"), QStringLiteral("serve"), QStringLiteral("kv-room.json") });
    QVERIFY(parsed.ok());
    QCOMPARE(parsed->scenarioPath, QStringLiteral("kv-room.json"));
    QVERIFY(!parsed->seed);
    QCOMPARE(parsed->profile, QString());
    QCOMPARE(parsed->exitAfterSeconds, 0);
    QCOMPARE(parsed->helpText, QString());
    const GatewaySettings &gateway = parsed->gateway;
    QCOMPARE(gateway.address, QHostAddress(QHostAddress::LocalHost));
    QCOMPARE(gateway.port, quint16(8787));
    QVERIFY(!gateway.allowNonLoopback);
    QCOMPARE(gateway.allowedOrigins, QStringList());
    QCOMPARE(gateway.allowedHosts, QStringList());
    QCOMPARE(gateway.maxMessageBytes, qint64(32 * 1024 * 1024));
    QCOMPARE(gateway.sendQueueLimitBytes, qint64(8 * 1024 * 1024));
    QCOMPARE(gateway.maxConnections, 4096);
    QCOMPARE(gateway.pingIntervalMs, 30'000);
    QCOMPARE(gateway.pingTimeoutMs, 10'000);
    QCOMPARE(gateway.httpIdleTimeoutMs, 60'000);
    QCOMPARE(gateway.clientLocation, QString());
}

void ServeTest::parseEveryOption()
{
    const Result<ServeOptions> parsed = parseServeArguments({
            QStringLiteral("roomscope"), QStringLiteral("serve"), QStringLiteral("kv-room.json"),
            QStringLiteral("--port"), QStringLiteral("0"),
            QStringLiteral("--listen"), QStringLiteral("::1"),
            QStringLiteral("--allow-non-loopback"),
            QStringLiteral("--allow-origin"), QStringLiteral("http://localhost:5173"),
            QStringLiteral("--allow-origin"), QStringLiteral("http://localhost:3000"),
            QStringLiteral("--allow-host"), QStringLiteral("dev.test"),
            QStringLiteral("--max-message-size"), QStringLiteral("1024"),
            QStringLiteral("--send-queue-limit"), QStringLiteral("65536"),
            QStringLiteral("--max-connections"), QStringLiteral("3"),
            QStringLiteral("--ping-interval"), QStringLiteral("100"),
            QStringLiteral("--ping-timeout"), QStringLiteral("300"),
            QStringLiteral("--idle-timeout"), QStringLiteral("600"),
            QStringLiteral("--client-location"), QStringLiteral("NRT"),
            QStringLiteral("--profile"), QStringLiteral("production"),
            QStringLiteral("--seed"), QStringLiteral("42"),
            QStringLiteral("--exit-after"), QStringLiteral("5"),
    });
    QVERIFY(parsed.ok());
    QCOMPARE(parsed->scenarioPath, QStringLiteral("kv-room.json"));
    QCOMPARE(parsed->seed, std::optional<quint64>(42));
    QCOMPARE(parsed->profile, QStringLiteral("production"));
    QCOMPARE(parsed->exitAfterSeconds, 5);
    const GatewaySettings &gateway = parsed->gateway;
    QCOMPARE(gateway.address, QHostAddress(QHostAddress::LocalHostIPv6));
    QCOMPARE(gateway.port, quint16(0));
    QVERIFY(gateway.allowNonLoopback);
    QCOMPARE(gateway.allowedOrigins, QStringList({ QStringLiteral("http://localhost:5173"),
                                                   QStringLiteral("http://localhost:3000") }));
    QCOMPARE(gateway.allowedHosts, QStringList({ QStringLiteral("dev.test") }));
    QCOMPARE(gateway.maxMessageBytes, qint64(1024));
    QCOMPARE(gateway.sendQueueLimitBytes, qint64(65536));
    QCOMPARE(gateway.maxConnections, 3);
    QCOMPARE(gateway.pingIntervalMs, 100);
    QCOMPARE(gateway.pingTimeoutMs, 300);
    QCOMPARE(gateway.httpIdleTimeoutMs, 600);
    QCOMPARE(gateway.clientLocation, QStringLiteral("NRT"));
}

void ServeTest::parseHelp()
{
    const Result<ServeOptions> parsed = parseServeArguments(
            { QStringLiteral("roomscope"), QStringLiteral("serve"), QStringLiteral("--help") });
    QVERIFY(parsed.ok());
    for (const char *option : { "--port", "--listen", "--allow-non-loopback", "--allow-origin",
                                "--allow-host", "--max-message-size", "--send-queue-limit",
                                "--max-connections", "--ping-interval", "--ping-timeout",
                                "--idle-timeout", "--client-location", "--profile", "--seed",
                                "--exit-after" })
        QVERIFY2(parsed->helpText.contains(QLatin1String(option)), option);

    const auto [exitCode, output] = runToExit({ QStringLiteral("--help") });
    QCOMPARE(exitCode, 0);
    // The usage line names the program, which differs; the rest is the same text.
    const QString printed = QString::fromUtf8(output);
    QVERIFY(printed.startsWith(QStringLiteral("Usage: %1 [options] serve scenario\n")
                                       .arg(QStringLiteral(ROOMSCOPE_BINARY))));
    QCOMPARE(printed.mid(printed.indexOf(QLatin1Char('\n'))),
             parsed->helpText.mid(parsed->helpText.indexOf(QLatin1Char('\n'))));
}

void ServeTest::servesRealClients()
{
    ServeProcess serve;
    const quint16 port = serve.start({ gatewayLocalPath(), QStringLiteral("--port"), QStringLiteral("0") });
    QVERIFY2(port > 0, serve.standardError.constData());
    QVERIFY(port != GatewaySettings::kDefaultPort);
    const QByteArray host = "Host: 127.0.0.1:" + QByteArray::number(port);
    QVERIFY(serve.standardError.contains(
            "Serving scenario gateway-local (" + gatewayLocalPath().toUtf8()
            + "), seed 1, profile local; real clients join from local\n"));

    TestWebSocket member;
    member.socket.open(QUrl(QStringLiteral("ws://127.0.0.1:%1/ws?roomId=lobby").arg(port)));
    QTRY_VERIFY_WITH_TIMEOUT(member.isSettled(), kWaitMs);
    QVERIFY(member.isOpen());

    HttpClient client;
    QVERIFY(client.connectTo(port));
    client.send(httpRequestBytes("GET", "/put?roomId=lobby&key=greeting&value=hello", { host })
                + httpRequestBytes("GET", "/broadcast?roomId=lobby&key=greeting", { host })
                + httpRequestBytes("GET", "/__roomscope/status", { host })
                + httpRequestBytes("GET", "/id?roomId=lobby", { "Host: elsewhere.example" }));
    const std::vector<HttpReply> replies = client.waitForReplies(4);
    QCOMPARE(replies.size(), size_t(4));
    QCOMPARE(replies[0].body, QByteArray("ok\n"));
    QCOMPARE(replies[1].body, QByteArray(R"({"failed":0,"sent":1})"));
    const QJsonObject status = QJsonDocument::fromJson(replies[2].body).object();
    QCOMPARE(status.value(QStringLiteral("scenario")).toString(), QStringLiteral("gateway-local"));
    QCOMPARE(status.value(QStringLiteral("webSockets")).toInt(), 1);
    QCOMPARE(status.value(QStringLiteral("requests")).toInt(), 3);
    QCOMPARE(replies[3].status, 403);
    QTRY_COMPARE_WITH_TIMEOUT(member.messages, QStringList({ QStringLiteral("hello") }), kWaitMs);

    // The refusal is printed as it happens.
    QTRY_VERIFY_WITH_TIMEOUT(serve.standardError.contains(
                                     " refused GET /id from 127.0.0.1:"
                                     + QByteArray::number(client.localPort())
                                     + ": Host \"elsewhere.example\" is not this gateway's address"),
                             kWaitMs);

    QCOMPARE(::kill(pid_t(serve.process.processId()), SIGTERM), 0);
    QCOMPARE(serve.waitForExit(), 0);
    QTRY_VERIFY_WITH_TIMEOUT(member.disconnected, kWaitMs);
    QCOMPARE(member.socket.closeCode(), QWebSocketProtocol::CloseCodeGoingAway);
    QCOMPARE(member.socket.closeReason(), QStringLiteral("The gateway stopped."));
    const QString printed = QString::fromUtf8(serve.standardError);
    QVERIFY2(printed.contains(QLatin1String(" Stopping on a signal\n")), qPrintable(printed));
    QVERIFY2(QRegularExpression(QStringLiteral(" Requests and upgrades served: 3, refused: 1; virtual "
                                               "time 2026-01-01T00:00:\\d\\d\\.\\d{3}Z\n"))
                     .match(printed)
                     .hasMatch(),
             qPrintable(printed));
    QVERIFY2(printed.endsWith(QStringLiteral(" Gateway on http://127.0.0.1:%1 stopped\n").arg(port)),
             qPrintable(printed));
}

void ServeTest::exitAfterStops()
{
    ServeProcess serve;
    const quint16 port = serve.start({ gatewayLocalPath(), QStringLiteral("--port"), QStringLiteral("0"),
                                       QStringLiteral("--exit-after"), QStringLiteral("1") });
    QVERIFY2(port > 0, serve.standardError.constData());
    QCOMPARE(serve.waitForExit(), 0);
    const QString printed = QString::fromUtf8(serve.standardError);
    QVERIFY2(printed.contains(QLatin1String(" Stopping after 1 s (--exit-after)\n")), qPrintable(printed));
    QVERIFY2(printed.contains(QLatin1String(" Requests and upgrades served: 0, refused: 0; virtual time ")),
             qPrintable(printed));

    // Nothing listens on the port any more.
    QTcpSocket probe;
    probe.connectToHost(QHostAddress(QHostAddress::LocalHost), port);
    QTRY_COMPARE_WITH_TIMEOUT(probe.state(), QAbstractSocket::UnconnectedState, kWaitMs);
    QCOMPARE(probe.error(), QAbstractSocket::ConnectionRefusedError);
}

void ServeTest::invalidInputExitsTwo_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("output");

    const QString scenario = gatewayLocalPath();
    const QString tryHelp = QStringLiteral("\nTry roomscope serve --help.\n");
    QTest::newRow("no scenario")
            << QStringList()
            << QStringLiteral("roomscope serve: give one scenario file, wrangler configuration "
                              "file or Worker module, for example: roomscope serve "
                              "resources/scenarios/kv-room.json")
                    + tryHelp;
    QTest::newRow("port too large")
            << QStringList({ scenario, QStringLiteral("--port"), QStringLiteral("70000") })
            << QStringLiteral("roomscope serve: invalid --port \"70000\"; give a whole number "
                              "from 0 to 65535")
                    + tryHelp;
    QTest::newRow("non-loopback address")
            << QStringList({ scenario, QStringLiteral("--port"), QStringLiteral("0"),
                             QStringLiteral("--listen"), QStringLiteral("0.0.0.0") })
            << QStringLiteral("roomscope serve: Refusing to listen on 0.0.0.0: it is not a "
                              "loopback address, so other machines could reach the simulation. "
                              "Listen on 127.0.0.1 (the default) or ::1, or add "
                              "--allow-non-loopback to accept the risk.\n");
    QTest::newRow("unknown location")
            << QStringList({ scenario, QStringLiteral("--port"), QStringLiteral("0"),
                             QStringLiteral("--client-location"), QStringLiteral("Mars") })
            << QStringLiteral("roomscope serve: invalid --client-location \"Mars\"; the "
                              "scenario's locations are local\n");
}

void ServeTest::invalidInputExitsTwo()
{
    QFETCH(QStringList, arguments);
    QFETCH(QString, output);

    const auto [exitCode, printed] = runToExit(arguments);
    QCOMPARE(exitCode, 2);
    QCOMPARE(QString::fromUtf8(printed), output);
}

void ServeTest::portInUseExitsTwo()
{
    ServeProcess first;
    const quint16 port = first.start({ gatewayLocalPath(), QStringLiteral("--port"), QStringLiteral("0") });
    QVERIFY2(port > 0, first.standardError.constData());

    const auto [exitCode, printed] =
            runToExit({ gatewayLocalPath(), QStringLiteral("--port"), QString::number(port) });
    QCOMPARE(exitCode, 2);
    const QString text = QString::fromUtf8(printed);
    QVERIFY2(text.startsWith(QStringLiteral("roomscope serve: Cannot listen on 127.0.0.1 port %1: ")
                                     .arg(port)),
             qPrintable(text));
    QVERIFY2(text.endsWith(QLatin1String(". Choose another port with --port, or 0 for any free port.\n")),
             qPrintable(text));

    // The first server is unaffected.
    const std::optional<HttpReply> reply = [&] {
        HttpClient client;
        std::optional<HttpReply> answer;
        if (client.connectTo(port)) {
            client.send(httpRequestBytes("GET", "/id?roomId=lobby",
                                         { "Host: localhost:" + QByteArray::number(port) }));
            answer = client.waitForReply();
        }
        return answer;
    }();
    QVERIFY(reply);
    QCOMPARE(reply->status, 200);
    QCOMPARE(reply->body.size(), 64);

    QCOMPARE(::kill(pid_t(first.process.processId()), SIGTERM), 0);
    QCOMPARE(first.waitForExit(), 0);
}

QTEST_GUILESS_MAIN(ServeTest)
#include "tst_serve.moc"
