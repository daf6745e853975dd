#include "random.h"

#include <cmath>

namespace roomscope {

namespace {

quint64 splitMix64(quint64 x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

} // namespace

quint64 deriveSeed(quint64 seed, std::string_view component)
{
    quint64 hash = 0xCBF29CE484222325ull; // FNV-1a 64 offset basis
    for (char c : component) {
        hash ^= quint8(c);
        hash *= 0x100000001B3ull; // FNV-1a 64 prime
    }
    return splitMix64(seed ^ splitMix64(hash));
}

qint64 Random::uniformInt(qint64 low, qint64 high)
{
    Q_ASSERT(low <= high);
    const quint64 span = quint64(high) - quint64(low) + 1;
    if (span == 0) // the whole 64-bit range
        return qint64(next());
    // Rejection sampling removes the modulo bias.
    const quint64 limit = ~quint64(0) - (~quint64(0) % span);
    quint64 value = next();
    while (value >= limit)
        value = next();
    return qint64(quint64(low) + value % span);
}

bool Random::chance(quint64 numerator, quint64 denominator)
{
    Q_ASSERT(denominator > 0);
    if (numerator >= denominator)
        return true;
    return quint64(uniformInt(0, qint64(denominator) - 1)) < numerator;
}

double Random::uniform01()
{
    return double(next() >> 11) * 0x1.0p-53;
}

qint64 Random::exponential(qint64 mean)
{
    if (mean <= 0)
        return 0;
    // 1 - u is in (0, 1], so the logarithm is finite.
    const double sample = -std::log(1.0 - uniform01()) * double(mean);
    const double capped = std::min(sample, 50.0 * double(mean));
    return qint64(capped + 0.5);
}

} // namespace roomscope
