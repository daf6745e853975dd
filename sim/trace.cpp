#include "trace.h"

#include <QJsonValue>

#include <array>
#include <cstring>

namespace roomscope {

namespace {

constexpr std::array<TraceKindInfo, size_t(TraceKind::Count)> kKindInfo = { {
    { "request.start", "room", { "request", nullptr, nullptr }, "target" },
    { "request.end", "room", { "request", "status", "latencyUs" }, "body" },
    { "object.create", "objectId", { nullptr, nullptr, nullptr }, nullptr },
    { "kv.get", "key", { "fromCentral", "stale", "version" }, "value" },
    { "kv.put", "key", { "status", "version", "latencyUs" }, "value" },
    { "kv.delete", "key", { "status", "version", "latencyUs" }, nullptr },
    { "write.queued", "key", { "queueDepth", "coalesced", nullptr }, "value" },
    { "ws.connect", "room", { "connection", nullptr, nullptr }, nullptr },
    { "ws.accept", "client", { "connection", "sockets", nullptr }, nullptr },
    { "ws.broadcast", "key", { "sockets", "bytes", nullptr }, "value" },
    { "ws.deliver", "room", { "connection", "bytes", "latencyUs" }, "value" },
    { "ws.close", "room", { "connection", "code", nullptr }, "reason" },
    { "object.state", "state", { "instance", nullptr, nullptr }, "reason" },
    { "object.reset", "error", { nullptr, nullptr, nullptr }, nullptr },
    { "object.overloaded", "error", { nullptr, nullptr, nullptr }, nullptr },
    { "storage.commit", "outcome", { "batch", "writes", nullptr }, nullptr },
    { "alarm.set", "action", { "retryCount", "timeMs", nullptr }, "error" },
    { "alarm.run", "handler", { "retryCount", "scheduledMs", nullptr }, nullptr },
    { "ws.message", "client", { "connection", "bytes", "binary" }, "value" },
    { "ws.auto-response", "client", { "connection", nullptr, nullptr }, nullptr },
    { "ws.server-close", "client", { "connection", "code", "clean" }, "reason" },
    { "gateway", "event", { "port", "status", nullptr }, "detail" },
    { "console", "level", { nullptr, nullptr, nullptr }, "text" },
    { "script.error", "handler", { "line", "column", nullptr }, "error" },
    { "ws.send", "client", { "connection", "bytes", nullptr }, nullptr },
} };

QString valueText(const QByteArray &value, int maxChars)
{
    QString text = QString::fromUtf8(value);
    if (maxChars > 0 && text.size() > maxChars)
        text = text.left(maxChars) + QStringLiteral("…");
    return text;
}

} // namespace

const TraceKindInfo &traceKindInfo(TraceKind kind)
{
    Q_ASSERT(kind < TraceKind::Count);
    return kKindInfo[size_t(kind)];
}

TraceKind traceKindFromName(QStringView name)
{
    for (size_t i = 0; i < kKindInfo.size(); ++i) {
        if (name == QLatin1String(kKindInfo[i].name))
            return TraceKind(i);
    }
    return TraceKind::Count;
}

QJsonObject TraceEvent::toJson() const
{
    const TraceKindInfo &info = traceKindInfo(kind);
    QJsonObject object {
        { QStringLiteral("time"), double(time) },
        { QStringLiteral("seq"), double(sequence) },
        { QStringLiteral("kind"), QLatin1String(info.name) },
        { QStringLiteral("actor"), actor },
        { QStringLiteral("location"), location },
    };
    if (info.subject)
        object.insert(QLatin1String(info.subject), subject);
    for (int i = 0; i < 3; ++i) {
        if (info.numbers[i])
            object.insert(QLatin1String(info.numbers[i]), double(numbers[i]));
    }
    if (info.value)
        object.insert(QLatin1String(info.value), QString::fromUtf8(value));
    return object;
}

QString TraceEvent::detailsText(int maxValueChars) const
{
    const TraceKindInfo &info = traceKindInfo(kind);
    QStringList parts;
    if (info.subject)
        parts << QStringLiteral("%1=%2").arg(QLatin1String(info.subject), subject);
    for (int i = 0; i < 3; ++i) {
        if (info.numbers[i])
            parts << QStringLiteral("%1=%2").arg(QLatin1String(info.numbers[i])).arg(numbers[i]);
    }
    if (info.value && !value.isEmpty())
        parts << QStringLiteral("%1=%2").arg(QLatin1String(info.value),
                                             valueText(value, maxValueChars));
    return parts.join(QLatin1Char(' '));
}

void TraceDigest::addBytes(const void *data, qsizetype size)
{
    const auto *bytes = static_cast<const unsigned char *>(data);
    addWord(quint64(size));
    while (size >= 8) {
        quint64 word;
        std::memcpy(&word, bytes, 8);
        addWord(word);
        bytes += 8;
        size -= 8;
    }
    if (size > 0) {
        // The word that a memcpy of the last 1 to 7 bytes into a zeroed word gives, assembled
        // from fixed-size copies: a variable-size memcpy is a libc call.
        quint64 word = 0;
#if Q_BYTE_ORDER == Q_LITTLE_ENDIAN
        int shift = 0;
        if (size & 4) {
            quint32 part;
            std::memcpy(&part, bytes, 4);
            word |= quint64(part);
            bytes += 4;
            shift = 32;
        }
        if (size & 2) {
            quint16 part;
            std::memcpy(&part, bytes, 2);
            word |= quint64(part) << shift;
            bytes += 2;
            shift += 16;
        }
        if (size & 1)
            word |= quint64(*bytes) << shift;
#else
        for (qsizetype i = 0; i < size; ++i)
            word |= quint64(bytes[i]) << (8 * (7 - i));
#endif
        addWord(word);
    }
}

void TraceDigest::add(const TraceEvent &event)
{
    addWord(quint64(event.time));
    addWord(quint64(event.kind));
    addBytes(event.actor.constData(), event.actor.size() * 2);
    addBytes(event.location.constData(), event.location.size() * 2);
    addBytes(event.subject.constData(), event.subject.size() * 2);
    for (qint64 number : event.numbers)
        addWord(quint64(number));
    addBytes(event.value.constData(), event.value.size());
}

QString TraceDigest::hex() const
{
    return QStringLiteral("%1").arg(m_state, 16, 16, QLatin1Char('0'));
}

void Trace::record(TraceEvent &&event)
{
    event.sequence = m_count++;
    m_digest.add(event);
    for (const Sink &sink : m_sinks) {
        if (sink)
            sink(event);
    }
}

int Trace::addSink(Sink sink)
{
    m_sinks.push_back(std::move(sink));
    return int(m_sinks.size()) - 1;
}

void Trace::removeSink(int index)
{
    if (index >= 0 && index < int(m_sinks.size()))
        m_sinks[size_t(index)] = nullptr;
}

} // namespace roomscope
