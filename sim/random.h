#pragma once

#include <QtGlobal>

#include <random>
#include <string_view>

namespace roomscope {

/// Derives a component's seed from the simulation seed and the component's name, so that adding
/// a component does not shift the random streams of the others.
quint64 deriveSeed(quint64 seed, std::string_view component);

/// A seeded random stream. The helpers are our own, because the std distributions give
/// different sequences on different standard libraries and one seed must give one run everywhere.
class Random
{
public:
    explicit Random(quint64 seed = 0) : m_engine(seed) { }

    quint64 next() { return m_engine(); }
    /// A uniform integer in [low, high], both inclusive.
    qint64 uniformInt(qint64 low, qint64 high);
    /// True with probability numerator / denominator.
    bool chance(quint64 numerator, quint64 denominator);
    /// A uniform double in [0, 1) with 53 random bits.
    double uniform01();
    /// An exponentially distributed duration with the given mean, rounded to whole units and
    /// capped at 50 times the mean.
    qint64 exponential(qint64 mean);
    /// Picks an index with probability proportional to its weight; weights must not all be zero.
    template<typename Range>
    int weightedIndex(const Range &weights);

private:
    std::mt19937_64 m_engine;
};

template<typename Range>
int Random::weightedIndex(const Range &weights)
{
    quint64 total = 0;
    for (auto w : weights)
        total += quint64(w);
    Q_ASSERT(total > 0);
    quint64 pick = quint64(uniformInt(0, qint64(total) - 1));
    int index = 0;
    for (auto w : weights) {
        if (pick < quint64(w))
            return index;
        pick -= quint64(w);
        ++index;
    }
    return index - 1;
}

} // namespace roomscope
