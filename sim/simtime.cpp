#include "simtime.h"

#include <QDateTime>
#include <QRegularExpression>


namespace roomscope {

QString formatInstant(SimTime t)
{
    // QDateTime is used only to format a given number; it never reads the clock here.
    const qint64 ms = t >= 0 ? t / 1000 : -((-t + 999) / 1000);
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODateWithMs);
}

QString formatDuration(SimDuration d)
{
    const bool negative = d < 0;
    const qint64 us = negative ? -d : d;
    QString text;
    // Each unit's upper bound is the first value that would round up to the next unit.
    if (us < 1000) {
        text = QStringLiteral("%1 µs").arg(us);
    } else if (us < 999'950) {
        text = QStringLiteral("%1 ms").arg(double(us) / 1000.0, 0, 'f', us < 9'995 ? 2 : 1);
    } else if (us < 59'999'500) {
        text = QStringLiteral("%1 s").arg(double(us) / 1e6, 0, 'f', 3);
    } else {
        const qint64 totalSeconds = (us + kMicrosecondsPerSecond / 2) / kMicrosecondsPerSecond;
        if (totalSeconds < 3600)
            text = QStringLiteral("%1 min %2 s").arg(totalSeconds / 60).arg(totalSeconds % 60);
        else
            text = QStringLiteral("%1 h %2 min").arg(totalSeconds / 3600).arg(totalSeconds / 60 % 60);
    }
    return negative ? QStringLiteral("-") + text : text;
}

QString formatOffset(SimTime t, SimTime start)
{
    const qint64 delta = t - start;
    const qint64 whole = delta / kMicrosecondsPerSecond;
    const qint64 ms = (delta % kMicrosecondsPerSecond) / 1000;
    return QStringLiteral("%1.%2").arg(whole).arg(ms < 0 ? -ms : ms, 3, 10, QLatin1Char('0'));
}

std::optional<SimDuration> parseDuration(const QString &text)
{
    static const QRegularExpression pattern(
        QStringLiteral(R"(^\s*(\d+(?:\.\d+)?)\s*(us|µs|ms|s|m|min|h)?\s*$)"));
    const QRegularExpressionMatch match = pattern.match(text);
    if (!match.hasMatch())
        return std::nullopt;
    bool ok = false;
    const double amount = match.captured(1).toDouble(&ok);
    if (!ok)
        return std::nullopt;
    const QString unit = match.captured(2);
    double scale = double(kMicrosecondsPerSecond);
    if (unit == QLatin1String("us") || unit == QStringLiteral("µs"))
        scale = 1;
    else if (unit == QLatin1String("ms"))
        scale = 1000;
    else if (unit == QLatin1String("m") || unit == QLatin1String("min"))
        scale = 60.0 * kMicrosecondsPerSecond;
    else if (unit == QLatin1String("h"))
        scale = 3600.0 * kMicrosecondsPerSecond;
    const double us = amount * scale;
    if (us > 9.0e18)
        return std::nullopt;
    return SimDuration(us + 0.5);
}

std::optional<SimTime> parseInstant(const QString &text)
{
    const QDateTime parsed = QDateTime::fromString(text, Qt::ISODateWithMs);
    if (!parsed.isValid() || parsed.timeSpec() == Qt::LocalTime)
        return std::nullopt;
    return parsed.toMSecsSinceEpoch() * kMicrosecondsPerMillisecond;
}

} // namespace roomscope
