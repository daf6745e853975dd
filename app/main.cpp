#include "headlessrun.h"
#include "mainwindow.h"
#include "serve.h"
#include "simulationcontroller.h"
#include "workerflags.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QTextStream>

#include <cstdlib>
#include <optional>

namespace {

constexpr int kExitInvalidInput = 2;

/// The GUI's own command line, parsed before QApplication exists so that --help and --version
/// work without a display.
struct GuiOptions
{
    QString scenarioPath;
    std::optional<quint64> seed;
    std::optional<double> speed;
    // The bindings of a Worker module opened without a scenario; empty for the defaults.
    roomscope::WorkerOptions worker;
    bool run = false;
    bool platformGiven = false;
};

bool hasEnvironment(const char *name)
{
    return !qEnvironmentVariableIsEmpty(name);
}

/// Parses the arguments; returns an exit status when the program should stop here.
std::optional<int> parseGuiArguments(int argc, char *argv[], GuiOptions &options)
{
    QStringList arguments;
    for (int i = 0; i < argc; ++i)
        arguments << QString::fromLocal8Bit(argv[i]);

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Simulator and inspector for Cloudflare Durable Objects coordinating "
                       "through Workers KV.\n\nOpens the GUI on SCENARIO, or on the bundled "
                       "kv-room scenario when none is given. To run a scenario without a "
                       "display, use: roomscope run SCENARIO (see roomscope run --help); to "
                       "let real clients join it over loopback HTTP and WebSockets, use: "
                       "roomscope serve SCENARIO (see roomscope serve --help)."));
    parser.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
    const QCommandLineOption helpOption({ QStringLiteral("h"), QStringLiteral("help") },
        QStringLiteral("Show this help and exit."));
    const QCommandLineOption versionOption({ QStringLiteral("v"), QStringLiteral("version") },
        QStringLiteral("Show the version and exit."));
    const QCommandLineOption seedOption(QStringLiteral("seed"),
        QStringLiteral("Seed of the random streams (replaces the scenario's)."),
        QStringLiteral("N"));
    const QCommandLineOption speedOption(QStringLiteral("speed"),
        QStringLiteral("Virtual seconds per wall-clock second, such as 0.5 or 100, or max for as "
                       "fast as possible."),
        QStringLiteral("factor"));
    const QCommandLineOption runOption(QStringLiteral("run-on-open"),
        QStringLiteral("Start running as soon as the scenario is open."));
    const roomscope::WorkerFlags workerFlags;
    // Qt's own GUI options, accepted here so that QApplication can read them afterwards.
    QCommandLineOption platformOption(
        QStringLiteral("platform"), QStringLiteral("Qt platform plugin."), QStringLiteral("name"));
    QCommandLineOption styleOption(
        QStringLiteral("style"), QStringLiteral("Qt widget style."), QStringLiteral("name"));
    QCommandLineOption displayOption(
        QStringLiteral("display"), QStringLiteral("X display."), QStringLiteral("name"));
    for (QCommandLineOption *hidden : { &platformOption, &styleOption, &displayOption })
        hidden->setFlags(QCommandLineOption::HiddenFromHelp);
    parser.addOptions({ helpOption, versionOption, seedOption, speedOption, runOption,
        platformOption, styleOption, displayOption });
    workerFlags.addTo(parser);
    parser.addPositionalArgument(QStringLiteral("scenario"),
        QStringLiteral("The scenario JSON file, a wrangler configuration file (wrangler.jsonc, "
                       "wrangler.json or wrangler.toml), or a Worker module (.js, .mjs or .ts) "
                       "to open."),
        QStringLiteral("[scenario]"));

    QTextStream out(stdout);
    QTextStream err(stderr);
    if (!parser.parse(arguments)) {
        err << "roomscope: " << parser.errorText() << "\nTry roomscope --help.\n";
        return kExitInvalidInput;
    }
    if (parser.isSet(helpOption)) {
        // Without a QCoreApplication the parser cannot know the program's name.
        out << parser.helpText().replace(
            QStringLiteral("<executable_name>"), QStringLiteral("roomscope"));
        return 0;
    }
    if (parser.isSet(versionOption)) {
        out << "roomscope " << QCoreApplication::applicationVersion() << '\n';
        return 0;
    }
    const QStringList positional = parser.positionalArguments();
    if (positional.size() > 1) {
        err << "roomscope: give at most one scenario file; got " << positional.size() << ".\n";
        return kExitInvalidInput;
    }
    if (parser.isSet(seedOption)) {
        bool ok = false;
        options.seed = parser.value(seedOption).toULongLong(&ok);
        if (!ok) {
            err << "roomscope: invalid --seed \"" << parser.value(seedOption)
                << "\"; give a whole number such as 42.\n";
            return kExitInvalidInput;
        }
    }
    if (parser.isSet(speedOption)) {
        const QString text = parser.value(speedOption);
        bool ok = false;
        const double factor = text == QLatin1String("max")
            ? roomscope::SimulationController::kUnlimitedSpeed
            : text.toDouble(&ok);
        if (text != QLatin1String("max") && (!ok || !(factor > 0))) {
            err << "roomscope: invalid --speed \"" << text
                << "\"; give a positive factor such as 0.5 or 100, or max.\n";
            return kExitInvalidInput;
        }
        options.speed = factor;
    }
    const roomscope::Result<roomscope::WorkerOptions> worker = workerFlags.read(parser);
    if (!worker) {
        err << "roomscope: " << worker.error().message << '\n';
        return kExitInvalidInput;
    }
    options.worker = *worker;
    options.run = parser.isSet(runOption);
    options.scenarioPath = positional.value(0);
    options.platformGiven = parser.isSet(platformOption);
    return std::nullopt;
}

} // namespace

int main(int argc, char *argv[])
{
    if (argc > 1 && QByteArray(argv[1]) == "run") {
        QCoreApplication application(argc, argv);
        QCoreApplication::setApplicationName(QStringLiteral("roomscope"));
        return roomscope::runHeadless(QCoreApplication::arguments());
    }
    if (argc > 1 && QByteArray(argv[1]) == "serve") {
        QCoreApplication application(argc, argv);
        QCoreApplication::setApplicationName(QStringLiteral("roomscope"));
        QCoreApplication::setApplicationVersion(QStringLiteral(ROOMSCOPE_VERSION));
        return roomscope::runServe(QCoreApplication::arguments());
    }

    QCoreApplication::setApplicationName(QStringLiteral("roomscope"));
    QCoreApplication::setOrganizationName(QStringLiteral("Roomscope"));
    QCoreApplication::setApplicationVersion(QStringLiteral(ROOMSCOPE_VERSION));
    GuiOptions options;
    if (const std::optional<int> exitStatus = parseGuiArguments(argc, argv, options))
        return *exitStatus;

    // Without a display Qt would abort with a message about the xcb plugin, so print the
    // alternatives instead.
    if (!hasEnvironment("DISPLAY") && !hasEnvironment("WAYLAND_DISPLAY")
        && !hasEnvironment("QT_QPA_PLATFORM") && !options.platformGiven) {
        // Name the program as it was started, so that the printed commands run as they are.
        const QString program = QString::fromLocal8Bit(argv[0]);
        const QString scenario = options.scenarioPath.isEmpty()
            ? QStringLiteral("resources/scenarios/kv-room.json")
            : options.scenarioPath;
        QTextStream(stderr)
            << "roomscope: no display found (DISPLAY, WAYLAND_DISPLAY and QT_QPA_PLATFORM are "
               "unset), so the GUI cannot start.\n"
               "Run the scenario without the GUI:\n"
               "    " << program << " run " << scenario << "\n"
               "or start the GUI on a virtual X server:\n"
               "    xvfb-run -a -s \"-screen 0 1600x1000x24\" " << program << "\n"
               "or take a screenshot of it after 10 seconds of running (import is ImageMagick's):\n"
               "    xvfb-run -a -s \"-screen 0 1600x1000x24\" sh -c '" << program
            << " --run-on-open & sleep 10; import -window root roomscope.png; kill $!'\n";
        return kExitInvalidInput;
    }

    QApplication application(argc, argv);
    QApplication::setApplicationDisplayName(QStringLiteral("Roomscope"));
    roomscope::MainWindow window;
    window.show();
    if (options.speed)
        window.controller()->setSpeed(*options.speed);
    window.controller()->setWorkerOptions(options.worker);
    window.openScenario(options.scenarioPath.isEmpty()
            ? QString::fromLatin1(roomscope::MainWindow::kBundledScenario)
            : options.scenarioPath,
        options.seed, options.run);
    return application.exec();
}
