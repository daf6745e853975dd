#pragma once

#include "dosettings.h"
#include "kvnamespace.h"
#include "result.h"
#include "simtime.h"

#include <QJsonValue>
#include <QString>
#include <QStringList>

#include <optional>
#include <vector>

namespace roomscope {

/// A scenario file's content, checked and with every default filled in. The format is described
/// in docs/scenario-format.md.
struct Scenario
{
    struct Location
    {
        QString name;
    };
    struct Latency
    {
        QString from;
        QString to;
        SimDuration oneWay = 0;
    };
    struct ClientGroup
    {
        QString location;
        int count = 0;
    };
    struct Room
    {
        QString name;
        QString location; ///< location hint; empty places the room near its first caller
        std::vector<ClientGroup> clients;
    };
    enum class Route { Put, Get, Broadcast };
    struct Workload
    {
        QString name;
        QString room;
        QString location; ///< where the requests come from
        double ratePerSecond = 0; ///< Poisson arrivals; 0 when `every` is used
        SimDuration every = 0; ///< fixed interval; 0 when `rate` is used
        SimDuration startAfter = 0;
        int putWeight = 0;
        int getWeight = 0;
        int broadcastWeight = 0;
        QStringList keys;
        /// A fixed route instead of the put/get/broadcast mix: "/count-memory?block". Empty for
        /// the mix.
        QString path;
        /// Requests sent at the same instant at each arrival, to show concurrency.
        int burst = 1;
    };
    struct Expectation
    {
        QString metric;
        std::optional<double> equals;
        std::optional<double> min;
        std::optional<double> max;
        QString description() const;
    };

    QString name;
    QString description;
    QString sourcePath;
    quint64 seed = 1;
    SimTime start = 0;
    SimDuration duration = seconds(60);
    std::vector<Location> locations;
    std::vector<Latency> latencies;
    SimDuration localLatency = milliseconds(2);
    int jitterPercent = 10;
    QString workerName = QStringLiteral("worker");
    QString kvBinding = QStringLiteral("KV");
    QString kvCentralLocation; ///< empty means the first location
    KvSettings kv;
    QString roomsBinding = QStringLiteral("ROOMS");
    QString roomClassName = QStringLiteral("Room");
    /// The user's Worker module (an ES module in JavaScript), relative to the scenario file or
    /// absolute; empty runs the built-in Worker and room class (`durableObjects.behaviour`).
    QString workerModule;
    /// The Worker's `vars`: plain values on `env`.
    std::vector<std::pair<QString, QJsonValue>> workerVars;
    /// The built-in Durable Object class that runs the rooms: "kv-room" or "lab".
    QString roomBehaviour = QStringLiteral("kv-room");
    /// Whether the rooms' class is SQLite-backed (`new_sqlite_classes`) or KV-backed.
    bool sqliteStorage = true;
    /// "production" or "local": local development leaves storage limits unchecked and
    /// ignores location hints and jurisdictions.
    QString durableObjectProfile = QStringLiteral("production");
    DurableObjectSettings durableObjects;
    SimDuration clientConnectSpread = seconds(2);
    std::vector<Room> rooms;
    std::vector<Workload> workloads;
    std::vector<Expectation> expectations;

    /// Replaces the scenario's platform settings with a profile's, as `--profile` does:
    /// "local" is `wrangler dev` on one machine (local KV and Durable Objects, no network or
    /// storage latency), "production" the platform's documented defaults. Returns an error
    /// naming the profile for any other name.
    Status applyProfile(const QString &profile);

    /// A scenario that serves a Worker module on one machine, as `wrangler dev` does: one
    /// location, the local profile, and bindings given as command-line flags. `kvBinding` may be
    /// empty; `objectsBinding` is "BINDING=Class" or empty.
    static Result<Scenario> forWorkerModule(const QString &modulePath, const QString &kvBinding,
                                            const QString &objectsBinding, bool sqliteClass);

    /// Reads and checks a scenario file. Errors name the file, line, column and field.
    static Result<Scenario> load(const QString &path);
    /// Parses scenario JSON; `sourceName` is the file name used in error messages.
    static Result<Scenario> parse(const QByteArray &json, const QString &sourceName);
};

} // namespace roomscope
