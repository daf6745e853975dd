#pragma once

#include "scripterrors.h"
#include "simtime.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <map>
#include <vector>

namespace roomscope {

class World;

/// Prices in USD from Cloudflare's Workers Paid plan as published in 2026 (Workers KV and
/// Durable Objects pricing pages). Every figure can be changed.
struct PriceTable
{
    double kvReadsPerMillion = 0.50;
    double kvWritesPerMillion = 5.00;
    double kvDeletesPerMillion = 5.00;
    double doRequestsPerMillion = 0.15;
    double doGbSecondsPerMillion = 12.50;
    double doMemoryGb = 0.128; ///< duration is billed as wall time times 128 MB
    int webSocketMessagesPerRequest = 20; ///< incoming WebSocket messages bill at 20:1

    double kvReadsIncludedPerMonth = 10e6;
    double kvWritesIncludedPerMonth = 1e6;
    double kvDeletesIncludedPerMonth = 1e6;
    double doRequestsIncludedPerMonth = 1e6;
    double doGbSecondsIncludedPerMonth = 400'000;
    double monthlyMinimum = 5.00; ///< the Workers Paid plan's minimum charge
};

/// The estimated cost of a run's usage.
struct CostEstimate
{
    double kvReadsUsd = 0; ///< at the per-million price, before any included allowance
    double kvWritesUsd = 0;
    double kvDeletesUsd = 0;
    double doRequestsUsd = 0;
    double doDurationUsd = 0;
    double runUsd = 0; ///< the sum of the above
    /// The run's usage rate sustained for 30 days, less the monthly allowances, plus the minimum.
    double monthlyUsd = 0;
    double doRequests = 0; ///< billable requests (WebSocket upgrades included)
    double doGbSeconds = 0;
};

CostEstimate estimateCost(double kvReads, double kvWrites, double kvDeletes, double doRequests,
                          double doActiveSeconds, SimDuration runDuration,
                          const PriceTable &prices = {});

/// The report of a run as `roomscope run` prints it: figures, rooms and expectation results.
struct Report
{
    /// The responses of a workload that sends one fixed path: each distinct status and body.
    struct PathWorkload
    {
        QString name;
        QString path;
        std::vector<std::pair<QByteArray, quint64>> responses; ///< "200 1" and its count
        quint64 otherResponses = 0;
    };
    std::vector<PathWorkload> pathWorkloads;

    struct Room
    {
        QString name;
        QString id;
        QString location;
        int peakPendingWrites = 0;
        int sockets = 0;
        quint64 requests = 0;
    };
    struct ExpectationResult
    {
        QString description;
        double actual = 0;
        bool known = true; ///< false when the metric does not exist
        bool passed = false;
    };

    /// A group of the Worker script's uncaught errors, with the source line it points at.
    struct ScriptError
    {
        ScriptErrorGroup group;
        QString sourceLine; ///< the module's line at the group's position, without indentation
    };

    QString scenario;
    quint64 seed = 0;
    SimTime start = 0;
    SimDuration duration = 0; ///< how long the workloads ran
    SimTime end = 0; ///< when the run stopped, after in-flight work finished
    quint64 events = 0;
    quint64 traceEvents = 0;
    QString traceDigest;
    std::map<QString, double> values; ///< every metric by name, as expectations refer to them
    std::map<int, quint64> responsesByStatus;
    /// The KV consistency settings the run used, in one line for people.
    QString objectSettings; ///< the Durable Object class, backend, profile and compatibility date
    QString kvSettings;
    bool freePlan = false;
    /// The sources of the KV entries present before the run, such as "4 entries imported from
    /// bulk.json".
    QStringList kvInputs;
    /// The sources of the Durable Objects present before the run, such as "2 Durable Objects
    /// loaded from run.sqlite".
    QStringList objectInputs;
    /// Command-line options that changed the scenario (such as "--duration 10s"); the failure
    /// line repeats them so that the printed command reproduces the run.
    QStringList overrides;
    std::vector<Room> rooms;
    CostEstimate cost;
    std::vector<ExpectationResult> expectations;
    /// True when the run's Worker is the user's JavaScript, so that the report lists its errors.
    bool javaScriptWorker = false;
    std::vector<ScriptError> scriptErrors; ///< in order of first occurrence

    bool passed() const;
    QString toText() const;
    QJsonObject toJson() const;

private:
    /// The "Script errors" section of toText().
    QStringList scriptErrorLines() const;
    QJsonArray scriptErrorsJson() const;
};

Report buildReport(const World &world);

/// The metric names a scenario's expectations may use; rooms add "rooms.<name>.peakPendingWrites".
QStringList reportMetricNames();

} // namespace roomscope
