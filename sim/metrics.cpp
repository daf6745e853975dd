#include "metrics.h"

#include <algorithm>
#include <cmath>

namespace roomscope {

void Metrics::observe(const TraceEvent &event)
{
    switch (event.kind) {
    case TraceKind::RequestEnd:
        ++requests;
        if (event.numbers[1] >= 400)
            ++requestsFailed;
        ++responsesByStatus[int(event.numbers[1])];
        requestLatenciesUs.push_back(event.numbers[2]);
        if (event.actor.startsWith(QLatin1String("workload "))) {
            BodyCounts &counts = workloadBodies[event.actor];
            const QByteArray body = QByteArray::number(event.numbers[1]) + ' ' + event.value.trimmed();
            auto found = std::find_if(counts.bodies.begin(), counts.bodies.end(),
                                      [&](const auto &entry) { return entry.first == body; });
            if (found != counts.bodies.end())
                ++found->second;
            else if (counts.bodies.size() < kMaxDistinctBodies)
                counts.bodies.emplace_back(body, 1);
            else
                ++counts.other;
        }
        break;
    case TraceKind::KvGet:
        ++kvReads;
        kvReadsFromCentral += event.numbers[0] ? 1 : 0;
        kvStaleReads += event.numbers[1] ? 1 : 0;
        break;
    case TraceKind::KvPut:
        if (event.numbers[0] == 429)
            ++kvWritesRateLimited;
        else
            ++kvWrites;
        break;
    case TraceKind::KvDelete:
        if (event.numbers[0] == 429)
            ++kvWritesRateLimited;
        else
            ++kvDeletes;
        break;
    case TraceKind::ObjectCreated:
        ++objectsCreated;
        break;
    case TraceKind::WriteQueued: {
        int &peak = peakPendingWrites[event.actor];
        peak = std::max(peak, int(event.numbers[0]));
        break;
    }
    case TraceKind::WsAccept:
        ++webSocketsAccepted;
        break;
    case TraceKind::WsBroadcast:
        ++broadcasts;
        messagesSent += quint64(event.numbers[0]);
        break;
    case TraceKind::WsSend:
        ++messagesSent;
        break;
    case TraceKind::WsDeliver:
        ++messagesDelivered;
        break;
    case TraceKind::RequestStart:
    case TraceKind::WsConnect:
    case TraceKind::WsClose:
    case TraceKind::ObjectState:
        if (event.subject == QLatin1String("hibernated"))
            ++hibernations;
        else if (event.subject == QLatin1String("inactive") && event.value.startsWith("evicted"))
            ++evictions;
        break;
    case TraceKind::ObjectReset:
        ++objectResets;
        break;
    case TraceKind::ObjectOverloaded:
        ++overloadRejections;
        break;
    case TraceKind::StorageCommit:
        if (event.subject == QLatin1String("failed"))
            ++storageCommitFailures;
        else
            ++storageCommits;
        break;
    case TraceKind::AlarmSet:
        if (event.subject == QLatin1String("retry"))
            ++alarmRetries;
        break;
    case TraceKind::AlarmRun:
        ++alarmRuns;
        break;
    case TraceKind::WsMessage:
    case TraceKind::WsAutoResponse:
    case TraceKind::WsServerClose:
    case TraceKind::Gateway:
    case TraceKind::Console:
    case TraceKind::ScriptError:
    case TraceKind::Count:
        break;
    }
}

qint64 Metrics::latencyPercentileUs(double percent) const
{
    if (requestLatenciesUs.empty())
        return 0;
    std::vector<qint64> sorted = requestLatenciesUs;
    std::sort(sorted.begin(), sorted.end());
    const double rank = std::ceil(percent / 100.0 * double(sorted.size()));
    const size_t index = size_t(std::clamp(rank, 1.0, double(sorted.size()))) - 1;
    return sorted[index];
}

} // namespace roomscope
