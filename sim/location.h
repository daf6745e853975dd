#pragma once

#include "random.h"
#include "simtime.h"

#include <QString>
#include <QStringList>

#include <vector>

namespace roomscope {

/// Index of a location in its LocationMap.
using LocationId = int;

/// Named data-centre locations (LHR, SJC, ...) and the one-way network latency between each pair.
/// A sampled latency is the base latency plus a uniform jitter of up to jitterPercent of it.
class LocationMap
{
public:
    /// One-way latency inside a location when the scenario sets none (client to the nearest
    /// edge and back into the same data centre).
    static constexpr SimDuration kDefaultLocalLatencyUs = milliseconds(2);
    /// One-way latency between two locations when the scenario sets none.
    static constexpr SimDuration kDefaultRemoteLatencyUs = milliseconds(80);

    LocationId add(const QString &name);
    LocationId find(const QString &name) const; ///< -1 when there is no such location
    const QString &name(LocationId id) const { return m_names[size_t(id)]; }
    int count() const { return int(m_names.size()); }
    QStringList names() const;

    void setLatency(LocationId a, LocationId b, SimDuration oneWay);
    SimDuration baseLatency(LocationId from, LocationId to) const;
    void setJitterPercent(int percent) { m_jitterPercent = percent; }
    int jitterPercent() const { return m_jitterPercent; }
    /// A latency sample for one message from `from` to `to`.
    SimDuration sampleLatency(LocationId from, LocationId to, Random &random) const;

private:
    std::vector<QString> m_names;
    std::vector<std::vector<SimDuration>> m_latency;
    int m_jitterPercent = 0;
};

} // namespace roomscope
