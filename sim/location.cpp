#include "location.h"

namespace roomscope {

LocationId LocationMap::add(const QString &name)
{
    Q_ASSERT(find(name) < 0);
    m_names.push_back(name);
    const size_t n = m_names.size();
    for (size_t i = 0; i + 1 < n; ++i)
        m_latency[i].push_back(kDefaultRemoteLatencyUs);
    m_latency.emplace_back(n, kDefaultRemoteLatencyUs);
    m_latency[n - 1][n - 1] = kDefaultLocalLatencyUs;
    return LocationId(n - 1);
}

LocationId LocationMap::find(const QString &name) const
{
    for (size_t i = 0; i < m_names.size(); ++i) {
        if (m_names[i] == name)
            return LocationId(i);
    }
    return -1;
}

QStringList LocationMap::names() const
{
    return QStringList(m_names.begin(), m_names.end());
}

void LocationMap::setLatency(LocationId a, LocationId b, SimDuration oneWay)
{
    m_latency[size_t(a)][size_t(b)] = oneWay;
    m_latency[size_t(b)][size_t(a)] = oneWay;
}

SimDuration LocationMap::baseLatency(LocationId from, LocationId to) const
{
    return m_latency[size_t(from)][size_t(to)];
}

SimDuration LocationMap::sampleLatency(LocationId from, LocationId to, Random &random) const
{
    const SimDuration base = baseLatency(from, to);
    if (m_jitterPercent <= 0 || base <= 0)
        return base;
    const SimDuration spread = base * m_jitterPercent / 100;
    return base + random.uniformInt(0, spread);
}

} // namespace roomscope
