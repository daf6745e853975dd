#pragma once

#include "scenario.h"

namespace roomscope::bench {

/// How to scale a scenario for the benchmark.
struct ScaleOptions
{
    int rooms = 10;
    int clientsPerRoom = 1000;
    SimDuration duration = seconds(60);
    /// Keep the workloads; false gives the clients-only configuration of the memory figure.
    bool withWorkloads = true;
};

/// Builds a larger copy of a kv-room-like scenario. The copy keeps the base scenario's seed,
/// start, locations, latencies, KV and Worker settings, and replaces its rooms, workloads and
/// expectations. Room i is named "room-NN" (from 01) and placed in location i modulo the
/// location count. It gets `clientsPerRoom` clients spread evenly over all locations. It also
/// gets a writer workload shaped like the base scenario's first workload with a put weight, and
/// a broadcast every second shaped like its first broadcast-only workload. Both send from the
/// room's own location, and their keys are the template keys prefixed with "<room>:", so each
/// room is the only writer of its keys. Fails when the base scenario has no such workloads.
Result<Scenario> scaleScenario(const Scenario &base, const ScaleOptions &options);

/// The number of simulated clients in a scenario.
qint64 clientCount(const Scenario &scenario);

} // namespace roomscope::bench
