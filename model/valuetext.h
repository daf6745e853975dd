#pragma once

#include "simtime.h"

#include <QByteArray>
#include <QString>

namespace roomscope {

/// Formats an instant for the clock display: "2026-01-01 00:00:12.345 UTC".
QString formatClock(SimTime t);
/// Formats a time as seconds since the start of the run, with a unit: "t+12.345 s".
QString formatRunOffset(SimTime t, SimTime start);
/// A one-line preview of a value for a table cell: UTF-8 text with line breaks and tabs shown as
/// escapes, cut to `maxChars` with an ellipsis, or a byte count and hex prefix for binary data.
QString previewValue(const QByteArray &value, int maxChars = 80);

} // namespace roomscope
