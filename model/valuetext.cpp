#include "valuetext.h"

#include <QDateTime>
#include <QStringDecoder>

namespace roomscope {

QString formatClock(SimTime t)
{
    const qint64 ms = t >= 0 ? t / 1000 : -((-t + 999) / 1000);
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC)
               .toString(QStringLiteral("yyyy-MM-dd HH:mm:ss.zzz"))
        + QStringLiteral(" UTC");
}

QString formatRunOffset(SimTime t, SimTime start)
{
    return QStringLiteral("t+%1 s").arg(formatOffset(t, start));
}

QString previewValue(const QByteArray &value, int maxChars)
{
    QStringDecoder decoder(QStringDecoder::Utf8);
    QString text = decoder.decode(value);
    if (decoder.hasError()) {
        constexpr int kHexPreviewBytes = 16;
        QString hex = QString::fromLatin1(value.left(kHexPreviewBytes).toHex(' '));
        if (value.size() > kHexPreviewBytes)
            hex += QStringLiteral(" …");
        return QStringLiteral("(%1 bytes, binary) %2").arg(value.size()).arg(hex);
    }
    if (maxChars > 0 && text.size() > maxChars)
        text = text.left(maxChars) + QStringLiteral("…");
    text.replace(QLatin1Char('\n'), QStringLiteral("\\n"));
    text.replace(QLatin1Char('\r'), QStringLiteral("\\r"));
    text.replace(QLatin1Char('\t'), QStringLiteral("\\t"));
    return text;
}

} // namespace roomscope
