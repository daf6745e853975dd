#pragma once

#include <QString>
#include <QtGlobal>

#include <optional>

namespace roomscope {

/// Virtual time: integer microseconds since the Unix epoch. Nothing in sim/ reads the wall clock.
using SimTime = qint64;
/// A span of virtual time in microseconds.
using SimDuration = qint64;

constexpr SimDuration kMicrosecondsPerMillisecond = 1'000;
constexpr SimDuration kMicrosecondsPerSecond = 1'000'000;

constexpr SimDuration milliseconds(qint64 ms) { return ms * kMicrosecondsPerMillisecond; }
constexpr SimDuration seconds(qint64 s) { return s * kMicrosecondsPerSecond; }

/// Whole seconds since the epoch, rounded down, as KV expirations count them.
constexpr qint64 epochSeconds(SimTime t)
{
    return t >= 0 ? t / kMicrosecondsPerSecond : -((-t + kMicrosecondsPerSecond - 1) / kMicrosecondsPerSecond);
}

/// Formats an instant as ISO 8601 UTC with milliseconds, for example 2026-01-01T00:00:01.250Z.
QString formatInstant(SimTime t);
/// Formats a duration for people: "850 µs", "12.5 ms", "3.200 s", "2 min 5 s".
QString formatDuration(SimDuration d);
/// Formats a time relative to a start instant as seconds with millisecond precision: "12.345".
QString formatOffset(SimTime t, SimTime start);

/// Parses a duration written as a number of seconds (12, 0.5) or with a unit:
/// "250us", "20ms", "1.5s", "2m", "1h". Returns nothing when the text does not parse.
std::optional<SimDuration> parseDuration(const QString &text);
/// Parses an ISO 8601 instant with a zone designator, such as 2026-01-01T00:00:00Z.
std::optional<SimTime> parseInstant(const QString &text);

} // namespace roomscope
