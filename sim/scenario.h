#pragma once

#include "dosettings.h"
#include "kvnamespace.h"
#include "result.h"
#include "simtime.h"

#include <QJsonValue>
#include <QString>
#include <QStringList>

#include <memory>
#include <optional>
#include <vector>

class QTemporaryDir;

namespace roomscope {

/// The command-line flags that choose and bind a Worker: `--config`, `--env`, `--kv`, `--do`,
/// `--sqlite-class` and `--cpu-limit`. Flags override what a configuration file declares.
struct WorkerOptions
{
    QString configPath; ///< a wrangler configuration file; empty searches beside the module
    QString environment; ///< an `env.<name>` section of the configuration file
    QString kvBinding; ///< the KV namespace binding's name
    QString objectsBinding; ///< "BINDING=Class"
    bool sqliteClass = false; ///< the class is SQLite-backed
    std::optional<int> cpuLimitMs; ///< the script watchdog's limit; 0 turns it off

    /// True when a binding flag is set, which turns off the search for a configuration file.
    bool bindsByFlags() const
    {
        return !kvBinding.isEmpty() || !objectsBinding.isEmpty() || sqliteClass;
    }
};

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
    /// The module the user gave when `workerModule` is a bundle built from it, such as a
    /// TypeScript entry; empty otherwise.
    QString workerEntry;
    /// The temporary folder that contains the bundle. Copies of the scenario share it, so it
    /// lives as long as the run that loaded it.
    std::shared_ptr<QTemporaryDir> bundleFolder;
    /// Whether `env` carries the KV namespace binding (`kvBinding`) and the Durable Object
    /// binding (`roomsBinding`). A Worker's configuration may declare neither.
    bool workerBindsKv = true;
    bool workerBindsRooms = true;
    /// The rooms' binding is the default one, not named by a flag or a configuration, so a
    /// module that does not export its class runs without a Durable Object binding.
    bool workerRoomsByDefault = false;
    /// More binding names for the rooms' class, as when a configuration binds one class twice.
    QStringList extraRoomsBindings;
    /// How long one call into the Worker's JavaScript may run in wall time before the
    /// watchdog stops it (`worker.cpuLimitMs`); 0 turns the watchdog off.
    int workerCpuLimitMs = 2000;
    /// Lines for the user about how the scenario was made: the configuration file used and
    /// its warnings. Printed by `roomscope run` and `serve`, shown in the GUI's status bar.
    QStringList loadMessages;
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

    /// A scenario that serves the Worker of a wrangler configuration file, as `wrangler dev`
    /// does: the entry module is `moduleOverride`, or else the file's `main`, relative to the
    /// file's folder. Bindings, vars and the compatibility date come from the file, and the
    /// binding flags in `options` override them. A TypeScript entry is bundled with the
    /// project's esbuild.
    static Result<Scenario> forWranglerConfig(const QString &configPath,
                                              const QString &moduleOverride,
                                              const WorkerOptions &options = {});
    /// The scenario for a path given on the command line or opened in the GUI: a scenario
    /// file, a wrangler configuration file (WranglerConfig::isConfigPath()), or a Worker module
    /// (.js, .mjs, .ts or .mts). A module given without a binding flag or `--config` uses the
    /// configuration file that WranglerConfig::find() finds from its folder, if any.
    static Result<Scenario> forPath(const QString &path, const WorkerOptions &options = {});

    /// Reads and checks a scenario file. Errors name the file, line, column and field.
    static Result<Scenario> load(const QString &path);
    /// Parses scenario JSON; `sourceName` is the file name used in error messages.
    static Result<Scenario> parse(const QByteArray &json, const QString &sourceName);
};

} // namespace roomscope
