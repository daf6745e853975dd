#include "benchoutput.h"

#include "scaledscenario.h"

#include <QLocale>

#include <algorithm>

namespace roomscope::bench {

namespace {

QString number(double value, int decimals = 0)
{
    static const QLocale english(QLocale::English, QLocale::UnitedStates);
    return english.toString(value, 'f', decimals);
}

} // namespace

double Timing::best() const
{
    return *std::min_element(seconds.begin(), seconds.end());
}

double Timing::median() const
{
    std::vector<double> sorted = seconds;
    std::sort(sorted.begin(), sorted.end());
    const size_t middle = sorted.size() / 2;
    return sorted.size() % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

QTextStream &out()
{
    static QTextStream stream(stdout);
    return stream;
}

void printMachine(const MachineInfo &machine, const Scenario &scenario, SimDuration duration)
{
    out() << "Roomscope simulator benchmark\n";
    out() << "  machine   " << machine.cpuModel << ", " << machine.cpus << " CPUs, "
          << machine.kernel << '\n';
    out() << "  build     " << machine.buildType << ", " << machine.compiler << ", Qt "
          << machine.qtVersion << '\n';
    out() << "  scenario  " << scenario.name << " (" << number(double(clientCount(scenario)))
          << " clients), workloads for " << formatDuration(duration)
          << " of virtual time, then in-flight work; seed " << scenario.seed << "\n\n";
}

void printSpeed(const SpeedResult &speed)
{
    const double ratio = speed.ratio();
    const size_t runs = speed.simulation.seconds.size();
    out() << "Event rate (median of " << runs << (runs == 1 ? " run" : " runs")
          << ", best in brackets)\n";
    out() << QStringLiteral("  %1 %2 %3 %4\n")
                 .arg(QStringLiteral("phase"), -24)
                 .arg(QStringLiteral("events"), 12)
                 .arg(QStringLiteral("wall time"), 18)
                 .arg(QStringLiteral("events/s"), 24);
    const auto row = [&](const QString &name, const Timing &timing) {
        out() << QStringLiteral("  %1 %2 %3 %4\n")
                     .arg(name, -24)
                     .arg(number(double(speed.events)), 12)
                     .arg(QStringLiteral("%1 s (%2 s)")
                              .arg(timing.median(), 0, 'f', 3)
                              .arg(timing.best(), 0, 'f', 3),
                         18)
                     .arg(QStringLiteral("%1 (%2)")
                              .arg(number(double(speed.events) / timing.median()))
                              .arg(number(double(speed.events) / timing.best())),
                         24);
    };
    row(QStringLiteral("simulation"), speed.simulation);
    row(QStringLiteral("bare priority_queue"), speed.bareLoop);
    out() << QStringLiteral("  simulation / bare loop: %1% (target at least %2%: %3)\n")
                 .arg(ratio * 100, 0, 'f', 1)
                 .arg(kTargetRatio * 100, 0, 'f', 0)
                 .arg(ratio >= kTargetRatio ? QStringLiteral("met") : QStringLiteral("NOT met"));
    out() << QStringLiteral("  pending events before each dispatch: average %1, peak %2; the bare "
                            "loop holds %3\n")
                 .arg(number(speed.averagePending, 1), number(double(speed.peakPending)),
                     number(double(speed.bareLoopPending)));
    out() << QStringLiteral("  %1 trace events, digest %2, %3 in the sampling run and every "
                            "timed run\n\n")
                 .arg(number(double(speed.traceEvents)), speed.traceDigest,
                     speed.digestsIdentical ? QStringLiteral("identical")
                                            : QStringLiteral("NOT identical"));
}

void printMemory(const std::vector<QJsonObject> &memory)
{
    out() << "Peak memory per client (each configuration in a fresh process)\n";
    out() << QStringLiteral("  %1 %2 %3 %4 %5 %6\n")
                 .arg(QStringLiteral("configuration"), -14)
                 .arg(QStringLiteral("clients"), 8)
                 .arg(QStringLiteral("VmHWM before"), 14)
                 .arg(QStringLiteral("after build"), 13)
                 .arg(QStringLiteral("after run"), 13)
                 .arg(QStringLiteral("growth/client"), 15);
    bool met = true;
    for (const QJsonObject &figures : memory) {
        const double perClient = figures.value(QStringLiteral("bytesPerClient")).toDouble();
        met = met && perClient <= kTargetBytesPerClient;
        const auto kib = [&](const char *field) {
            return number(figures.value(QLatin1String(field)).toDouble()) + QStringLiteral(" KiB");
        };
        out() << QStringLiteral("  %1 %2 %3 %4 %5 %6\n")
                     .arg(figures.value(QStringLiteral("configuration")).toString(), -14)
                     .arg(number(figures.value(QStringLiteral("clients")).toDouble()), 8)
                     .arg(kib("vmHwmBeforeKiB"), 14)
                     .arg(kib("vmHwmAfterBuildKiB"), 13)
                     .arg(kib("vmHwmAfterRunKiB"), 13)
                     .arg(number(perClient) + QStringLiteral(" B"), 15);
    }
    out() << QStringLiteral("  target at most %1 B per client: %2\n")
                 .arg(kTargetBytesPerClient)
                 .arg(met ? QStringLiteral("met") : QStringLiteral("NOT met"));
    out() << "  method: growth of VmHWM (/proc/self/status) from just before World::create() to\n"
             "  the end of World::runToEnd(), divided by the clients. The scenario is loaded\n"
             "  before the first reading. \"clients-only\" has the same rooms and clients and no\n"
             "  workloads, so it shows the cost of connected clients without message fan-out.\n\n";
}

QJsonObject speedJson(const SpeedResult &speed)
{
    const auto timing = [&](const Timing &t) {
        return QJsonObject {
            { QStringLiteral("runs"), int(t.seconds.size()) },
            { QStringLiteral("medianSeconds"), t.median() },
            { QStringLiteral("bestSeconds"), t.best() },
            { QStringLiteral("eventsPerSecond"), double(speed.events) / t.median() },
        };
    };
    const double ratio = speed.ratio();
    return QJsonObject {
        { QStringLiteral("events"), double(speed.events) },
        { QStringLiteral("simulation"), timing(speed.simulation) },
        { QStringLiteral("bareLoop"), timing(speed.bareLoop) },
        { QStringLiteral("ratio"), ratio },
        { QStringLiteral("ratioTargetMet"), ratio >= kTargetRatio },
        { QStringLiteral("averagePending"), speed.averagePending },
        { QStringLiteral("peakPending"), double(speed.peakPending) },
        { QStringLiteral("bareLoopPending"), double(speed.bareLoopPending) },
        { QStringLiteral("traceEvents"), double(speed.traceEvents) },
        { QStringLiteral("traceDigest"), speed.traceDigest },
        { QStringLiteral("digestsIdentical"), speed.digestsIdentical },
        { QStringLiteral("bareLoopChecksum"), QString::number(speed.bareLoopChecksum, 16) },
    };
}

} // namespace roomscope::bench
