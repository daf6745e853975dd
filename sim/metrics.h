#pragma once

#include "trace.h"

#include <QString>

#include <map>
#include <vector>

namespace roomscope {

/// Counters and latency samples computed from the trace as it is recorded.
class Metrics
{
public:
    void observe(const TraceEvent &event);

    quint64 requests = 0;
    quint64 requestsFailed = 0; ///< responses with status 400 or above
    std::map<int, quint64> responsesByStatus; ///< completed requests by response status
    quint64 kvReads = 0;
    quint64 kvReadsFromCentral = 0;
    quint64 kvStaleReads = 0;
    quint64 kvWrites = 0; ///< accepted writes
    quint64 kvWritesRateLimited = 0; ///< writes rejected with 429
    quint64 kvDeletes = 0;
    quint64 objectsCreated = 0; ///< constructor runs, a run after hibernation included
    quint64 hibernations = 0;
    quint64 evictions = 0;
    quint64 objectResets = 0;
    quint64 overloadRejections = 0;
    quint64 alarmRuns = 0;
    quint64 alarmRetries = 0; ///< failed runs rescheduled with backoff
    quint64 storageCommits = 0;
    quint64 storageCommitFailures = 0;
    quint64 webSocketsAccepted = 0;
    quint64 broadcasts = 0;
    /// The sum over broadcasts of the sockets each was sent to, plus a script's ws.send() calls.
    quint64 messagesSent = 0;
    quint64 messagesDelivered = 0;
    std::map<QString, int> peakPendingWrites; ///< by room actor name
    std::vector<qint64> requestLatenciesUs; ///< one per completed request, in completion order
    /// Distinct response bodies by workload actor, in order of first appearance, with their
    /// counts. At most kMaxDistinctBodies per workload; later distinct bodies count in `other`.
    struct BodyCounts
    {
        std::vector<std::pair<QByteArray, quint64>> bodies;
        quint64 other = 0;
    };
    std::map<QString, BodyCounts> workloadBodies;
    static constexpr size_t kMaxDistinctBodies = 8;

    /// The latency below which `percent` of requests completed (nearest-rank), in µs.
    qint64 latencyPercentileUs(double percent) const;
};

} // namespace roomscope
