#include "serve.h"

#include "gateway.h"
#include "simulationcontroller.h"
#include "workerflags.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDateTime>
#include <QSocketNotifier>
#include <QTextStream>
#include <QTimer>

#include <csignal>
#include <sys/socket.h>
#include <unistd.h>

namespace roomscope {

namespace {

constexpr int kExitInvalidInput = 2;

/// The write end of the pipe that the signal handler wakes the event loop through.
int g_signalPipe[2] = { -1, -1 };

void onStopSignal(int)
{
    const char byte = 1;
    // write() is async-signal-safe; the event loop reads the byte and quits.
    [[maybe_unused]] const ssize_t written = ::write(g_signalPipe[1], &byte, 1);
}

/// Reads a positive whole number option; returns an error naming the option and the fix.
Result<qint64> positiveNumber(const QCommandLineParser &parser, const QCommandLineOption &option,
                              qint64 minimum, qint64 maximum)
{
    const QString text = parser.value(option);
    bool ok = false;
    const qint64 value = text.toLongLong(&ok);
    if (!ok || value < minimum || value > maximum)
        return Error::error(QStringLiteral("invalid --%1 \"%2\"; give a whole number from %3 to %4")
                                    .arg(option.names().constFirst(), text)
                                    .arg(minimum)
                                    .arg(maximum));
    return value;
}

void printLine(const QString &line)
{
    QTextStream(stderr) << QDateTime::currentDateTimeUtc().toString(QStringLiteral("HH:mm:ss.zzz"))
                        << ' ' << line << '\n';
}

} // namespace

Result<ServeOptions> parseServeArguments(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
            "Runs a scenario in real time behind a loopback HTTP and WebSocket gateway, so that "
            "real clients (curl, wscat, a browser) take part in the simulation. Stop it with "
            "Ctrl+C."));
    parser.addHelpOption();
    parser.addPositionalArgument(QStringLiteral("serve"), QStringLiteral("The serve command."));
    parser.addPositionalArgument(QStringLiteral("scenario"),
            QStringLiteral("The scenario JSON file, a wrangler configuration file "
                           "(wrangler.jsonc, wrangler.json or wrangler.toml), or a Worker module "
                           "(.js, .mjs or .ts)."));
    const QCommandLineOption portOption(QStringLiteral("port"),
            QStringLiteral("TCP port to listen on (default 8787; 0 picks a free port)."),
            QStringLiteral("P"));
    const QCommandLineOption listenOption(QStringLiteral("listen"),
            QStringLiteral("Address to listen on (default 127.0.0.1). A non-loopback address also "
                           "needs --allow-non-loopback."),
            QStringLiteral("ADDRESS"));
    const QCommandLineOption nonLoopbackOption(QStringLiteral("allow-non-loopback"),
            QStringLiteral("Allow --listen on an address that other machines can reach."));
    const QCommandLineOption originOption(QStringLiteral("allow-origin"),
            QStringLiteral("Accept requests from pages of this origin, such as "
                           "http://localhost:5173 (repeatable)."),
            QStringLiteral("ORIGIN"));
    const QCommandLineOption hostOption(QStringLiteral("allow-host"),
            QStringLiteral("Accept this host name in the Host header (repeatable)."),
            QStringLiteral("NAME"));
    const QCommandLineOption messageOption(QStringLiteral("max-message-size"),
            QStringLiteral("Largest WebSocket message a client may send, in bytes (default and "
                           "maximum 33554432, the platform's 32 MiB); larger ones close the "
                           "socket with 1009."),
            QStringLiteral("BYTES"));
    const QCommandLineOption queueOption(QStringLiteral("send-queue-limit"),
            QStringLiteral("Unsent bytes a client may fall behind by before it is closed with "
                           "1008 (default 8388608)."),
            QStringLiteral("BYTES"));
    const QCommandLineOption connectionsOption(QStringLiteral("max-connections"),
            QStringLiteral("TCP connections open at once; more get 503 (default 4096)."),
            QStringLiteral("N"));
    const QCommandLineOption pingOption(QStringLiteral("ping-interval"),
            QStringLiteral("Milliseconds between pings to each WebSocket client (default 30000)."),
            QStringLiteral("MS"));
    const QCommandLineOption pingTimeoutOption(QStringLiteral("ping-timeout"),
            QStringLiteral("Milliseconds a client may take to answer a ping before it is dropped "
                           "as half-open (default 10000)."),
            QStringLiteral("MS"));
    const QCommandLineOption idleOption(QStringLiteral("idle-timeout"),
            QStringLiteral("Milliseconds an HTTP connection may stay open without a request "
                           "(default 60000)."),
            QStringLiteral("MS"));
    const QCommandLineOption locationOption(QStringLiteral("client-location"),
            QStringLiteral("Scenario location that real clients join from (default: the first)."),
            QStringLiteral("NAME"));
    const QCommandLineOption profileOption(QStringLiteral("profile"),
            QStringLiteral("Platform settings: local (wrangler dev on one machine: local KV and "
                           "Durable Objects, no latency) or production. Replaces the scenario's own."),
            QStringLiteral("local|production"));
    const QCommandLineOption seedOption(QStringLiteral("seed"),
            QStringLiteral("Seed of the random streams (replaces the scenario's)."),
            QStringLiteral("N"));
    const QCommandLineOption exitOption(QStringLiteral("exit-after"),
            QStringLiteral("Stop after this many seconds of wall time (default: serve until "
                           "interrupted)."),
            QStringLiteral("SECONDS"));
    const WorkerFlags workerFlags;
    workerFlags.addTo(parser);
    parser.addOptions({ portOption, listenOption, nonLoopbackOption, originOption, hostOption,
                        messageOption, queueOption, connectionsOption, pingOption,
                        pingTimeoutOption, idleOption, locationOption, profileOption, seedOption,
                        exitOption });

    ServeOptions options;
    if (!parser.parse(arguments))
        return Error::error(parser.errorText());
    if (parser.isSet(QStringLiteral("help"))) {
        options.helpText = parser.helpText();
        return options;
    }
    const QStringList positional = parser.positionalArguments();
    if (positional.size() != 2)
        return Error::error(QStringLiteral(
                "give one scenario file, wrangler configuration file or Worker module, for "
                "example: roomscope serve resources/scenarios/kv-room.json"));
    options.scenarioPath = positional.at(1);
    const Result<WorkerOptions> worker = workerFlags.read(parser);
    if (!worker)
        return worker.error();
    options.worker = *worker;

    GatewaySettings &gateway = options.gateway;
    if (parser.isSet(portOption)) {
        const Result<qint64> port = positiveNumber(parser, portOption, 0, 65535);
        if (!port)
            return port.error();
        gateway.port = quint16(*port);
    }
    if (parser.isSet(listenOption)) {
        gateway.address = QHostAddress(parser.value(listenOption));
        if (gateway.address.isNull())
            return Error::error(QStringLiteral("invalid --listen \"%1\"; give an IP address such "
                                               "as 127.0.0.1 or ::1")
                                        .arg(parser.value(listenOption)));
    }
    gateway.allowNonLoopback = parser.isSet(nonLoopbackOption);
    gateway.allowedOrigins = parser.values(originOption);
    gateway.allowedHosts = parser.values(hostOption);
    const struct
    {
        const QCommandLineOption &option;
        qint64 minimum;
        qint64 maximum;
        std::function<void(qint64)> store;
    } numbers[] = {
        { messageOption, 1, GatewaySettings::kPlatformMaxMessageBytes,
          [&](qint64 v) { gateway.maxMessageBytes = v; } },
        { queueOption, 1024, qint64(1) << 32, [&](qint64 v) { gateway.sendQueueLimitBytes = v; } },
        { connectionsOption, 1, 1'000'000, [&](qint64 v) { gateway.maxConnections = int(v); } },
        { pingOption, 10, 86'400'000, [&](qint64 v) { gateway.pingIntervalMs = int(v); } },
        { pingTimeoutOption, 10, 86'400'000, [&](qint64 v) { gateway.pingTimeoutMs = int(v); } },
        { idleOption, 10, 86'400'000, [&](qint64 v) { gateway.httpIdleTimeoutMs = int(v); } },
        { exitOption, 1, 31'536'000, [&](qint64 v) { options.exitAfterSeconds = int(v); } },
    };
    for (const auto &number : numbers) {
        if (!parser.isSet(number.option))
            continue;
        const Result<qint64> value = positiveNumber(parser, number.option, number.minimum, number.maximum);
        if (!value)
            return value.error();
        number.store(*value);
    }
    gateway.clientLocation = parser.value(locationOption);
    if (parser.isSet(profileOption)) {
        options.profile = parser.value(profileOption);
        if (options.profile != QLatin1String("local") && options.profile != QLatin1String("production"))
            return Error::error(QStringLiteral("invalid --profile \"%1\"; give local or production")
                                        .arg(options.profile));
    }
    if (parser.isSet(seedOption)) {
        bool ok = false;
        options.seed = parser.value(seedOption).toULongLong(&ok);
        if (!ok)
            return Error::error(QStringLiteral("invalid --seed \"%1\"; give a whole number such as 42")
                                        .arg(parser.value(seedOption)));
    }
    return options;
}

int runServe(const QStringList &arguments)
{
    QTextStream err(stderr);
    const Result<ServeOptions> parsed = parseServeArguments(arguments);
    if (!parsed) {
        err << "roomscope serve: " << parsed.error().message << "\nTry roomscope serve --help.\n";
        return kExitInvalidInput;
    }
    const ServeOptions &options = *parsed;
    if (!options.helpText.isEmpty()) {
        QTextStream(stdout) << options.helpText;
        return 0;
    }

    SimulationController controller;
    controller.setProfileOverride(options.profile);
    controller.setWorkerOptions(options.worker);
    if (Status loaded = controller.load(options.scenarioPath, options.seed); !loaded) {
        err << "roomscope serve: " << loaded.error().message << '\n';
        return kExitInvalidInput;
    }
    World &world = *controller.world();
    if (!options.gateway.clientLocation.isEmpty()
        && world.locations().find(options.gateway.clientLocation) < 0) {
        err << "roomscope serve: invalid --client-location \"" << options.gateway.clientLocation
            << "\"; the scenario's locations are " << world.locations().names().join(QStringLiteral(", "))
            << '\n';
        return kExitInvalidInput;
    }

    Gateway gateway(controller, options.gateway);
    QObject::connect(&gateway, &Gateway::logMessage, &gateway, &printLine);
    const Result<QString> started = gateway.start();
    if (!started) {
        err << "roomscope serve: " << started.error().message << '\n';
        return kExitInvalidInput;
    }
    const Scenario &scenario = world.scenario();
    for (const QString &message : scenario.loadMessages)
        printLine(message);
    const QString clientLocation = options.gateway.clientLocation.isEmpty()
            ? world.locations().name(0)
            : options.gateway.clientLocation;
    printLine(QStringLiteral("Serving scenario %1 (%2), seed %3, profile %4; real clients join from %5")
                      .arg(scenario.name, options.scenarioPath)
                      .arg(world.simulation().seed())
                      .arg(scenario.durableObjectProfile, clientLocation));
    if (scenario.workerModule.isEmpty()) {
        printLine(QStringLiteral("Try: curl '%1/put?roomId=lobby&key=greeting&value=hello' and "
                                 "wscat -c '%2/ws?roomId=lobby'")
                          .arg(gateway.url(), QString(gateway.url()).replace(QLatin1String("http:"),
                                                                              QLatin1String("ws:"))));
    }
    // The Worker script's console lines and uncaught errors, which the GUI shows in its log.
    world.simulation().trace().addSink([](const TraceEvent &event) {
        if (event.kind == TraceKind::Console)
            printLine(QStringLiteral("console.%1: %2").arg(event.subject, QString::fromUtf8(event.value)));
        else if (event.kind == TraceKind::ScriptError)
            printLine(QStringLiteral("Uncaught in %1: %2").arg(event.subject, QString::fromUtf8(event.value)));
    });

    controller.setKeepRunning(true);
    controller.setSpeed(1.0);
    controller.run();

    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, g_signalPipe) != 0) {
        err << "roomscope serve: cannot create the signal pipe\n";
        return kExitInvalidInput;
    }
    QSocketNotifier notifier(g_signalPipe[0], QSocketNotifier::Read);
    QObject::connect(&notifier, &QSocketNotifier::activated, &notifier, [&] {
        char byte = 0;
        [[maybe_unused]] const ssize_t read = ::read(g_signalPipe[0], &byte, 1);
        printLine(QStringLiteral("Stopping on a signal"));
        QCoreApplication::quit();
    });
    std::signal(SIGINT, onStopSignal);
    std::signal(SIGTERM, onStopSignal);
    if (options.exitAfterSeconds > 0) {
        QTimer::singleShot(options.exitAfterSeconds * 1000, &gateway, [&] {
            printLine(QStringLiteral("Stopping after %1 s (--exit-after)").arg(options.exitAfterSeconds));
            QCoreApplication::quit();
        });
    }

    const int status = QCoreApplication::exec();
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    printLine(QStringLiteral("Requests and upgrades served: %1, refused: %2; virtual time %3")
                      .arg(gateway.requestsServed())
                      .arg(gateway.refusals())
                      .arg(formatInstant(controller.world()->simulation().now())));
    gateway.stop();
    ::close(g_signalPipe[0]);
    ::close(g_signalPipe[1]);
    return status;
}

} // namespace roomscope
