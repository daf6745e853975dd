#pragma once

#include "processinfo.h"

#include "scenario.h"

#include <QJsonObject>
#include <QTextStream>

#include <vector>

namespace roomscope::bench {

/// The simulation should dispatch events at no less than this fraction of the bare loop's rate.
constexpr double kTargetRatio = 0.25;
/// The peak resident memory that one simulated client may add, in bytes.
constexpr double kTargetBytesPerClient = 2048;

/// Wall-clock times of the repeated runs of one timed phase, in seconds.
struct Timing
{
    std::vector<double> seconds;

    double best() const;
    double median() const;
};

/// The figures of the event-rate phases.
struct SpeedResult
{
    quint64 events = 0; ///< events dispatched by one run of the scenario
    quint64 traceEvents = 0;
    Timing simulation;
    Timing bareLoop;
    double averagePending = 0; ///< pending events before each dispatch, averaged over the run
    qsizetype peakPending = 0;
    qsizetype bareLoopPending = 0; ///< the queue size that the bare loop keeps
    QString traceDigest;
    bool digestsIdentical = true; ///< every run gave the sampling run's digest and event count
    quint64 bareLoopChecksum = 0;

    /// The simulation's event rate divided by the bare loop's, both from their median times.
    double ratio() const { return bareLoop.median() / simulation.median(); }
};

/// The standard output stream that the table and the JSON line go to.
QTextStream &out();

void printMachine(const MachineInfo &machine, const Scenario &scenario, SimDuration duration);
void printSpeed(const SpeedResult &speed);
/// Prints the memory figures that measureMemory() in bench_sim.cpp returns, one row each.
void printMemory(const std::vector<QJsonObject> &memory);
QJsonObject speedJson(const SpeedResult &speed);

} // namespace roomscope::bench
