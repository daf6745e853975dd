#pragma once

#include "simtime.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>

#include <functional>
#include <vector>

namespace roomscope {

/// The kind of a trace event. Each kind gives its own meaning to the event's subject, numbers
/// and value; traceKindInfo() names them for display, JSON and the report.
enum class TraceKind : quint8 {
    RequestStart, ///< actor sent a request to a room; value is the method and target
    RequestEnd, ///< the response reached the actor
    ObjectCreated, ///< a room's Durable Object was constructed in a location
    KvGet, ///< a KV read served from a location's cache or the central store
    KvPut, ///< a KV write reached the central store, accepted or rejected
    KvDelete, ///< a KV delete reached the central store
    WriteQueued, ///< a room queued a KV write, or merged it into a queued write to the same key
    WsConnect, ///< a client asked a room to open a WebSocket
    WsAccept, ///< the room accepted the WebSocket
    WsBroadcast, ///< the room sent one value to every socket it holds
    WsDeliver, ///< a message reached a client
    WsClose, ///< a WebSocket closed
    ObjectState, ///< a Durable Object's lifecycle state changed
    ObjectReset, ///< a Durable Object was reset; in-flight calls fail with the error
    ObjectOverloaded, ///< a Durable Object rejected an event with an overload error
    StorageCommit, ///< a batch of a Durable Object's storage writes committed or failed
    AlarmSet, ///< an alarm was set, deleted, rescheduled for a retry, or completed by a run
    AlarmRun, ///< an alarm handler started
    WsMessage, ///< a message from a client reached a Durable Object
    WsAutoResponse, ///< the runtime answered a message with the auto-response
    WsServerClose, ///< a Durable Object's end of a WebSocket closed
    /// The loopback gateway started or stopped, or refused a real client; value is the reason
    Gateway,
    Console, ///< the user's Worker script called console.*; value is the text
    ScriptError, ///< the user's Worker script threw; value is the error with its source line
    WsSend, ///< the user's Worker script sent a message on a WebSocket (ws.send())
    Count
};

/// Names of an event kind and of the fields it uses; an empty label means the field is unused.
struct TraceKindInfo
{
    const char *name; ///< dotted name, as in "kv.put"
    const char *subject;
    const char *numbers[3];
    const char *value;
};
const TraceKindInfo &traceKindInfo(TraceKind kind);
/// Looks a kind up by its dotted name; returns TraceKind::Count when there is none.
TraceKind traceKindFromName(QStringView name);

/// One structured trace event. Strings are implicitly shared, so recording is cheap.
struct TraceEvent
{
    SimTime time = 0;
    quint64 sequence = 0; ///< order of recording, unique within a run
    TraceKind kind = TraceKind::Count;
    QString actor; ///< who acted: "room lobby", "client lobby/LHR/17", "workload writers"
    QString location; ///< the location where it happened
    QString subject;
    qint64 numbers[3] = { 0, 0, 0 };
    QByteArray value;

    /// The fields as JSON, with the kind's own field names.
    QJsonObject toJson() const;
    /// A one-line "name=value" summary of the subject, numbers and value.
    QString detailsText(int maxValueChars = 80) const;
};

/// A 64-bit digest of a trace that two runs compare to prove they were identical. It is our own
/// mixing function, not qHash(), whose result depends on the CPU and a per-process seed.
class TraceDigest
{
public:
    void add(const TraceEvent &event);
    quint64 value() const { return m_state; }
    QString hex() const;

private:
    // Defined here so that it is inlined into add() and addBytes(): it runs several times for
    // every trace event.
    void addWord(quint64 word)
    {
        // Multiply-rotate mixing in the manner of FxHash and wyhash: fast, and it spreads every
        // input bit. A collision matters only for two runs that differ, which is all it detects.
        m_state = (m_state ^ word) * 0x9E3779B97F4A7C15ull;
        m_state = (m_state << 29) | (m_state >> 35);
    }
    void addBytes(const void *data, qsizetype size);

    quint64 m_state = 0x6A09E667F3BCC908ull;
};

/// The stream of trace events of one simulation. Sinks see every event in order; the trace
/// itself keeps only the digest and the count, so a long run does not grow in memory.
class Trace
{
public:
    using Sink = std::function<void(const TraceEvent &)>;

    void record(TraceEvent &&event);
    /// Adds a sink; returns its index for removeSink().
    int addSink(Sink sink);
    void removeSink(int index);

    quint64 eventCount() const { return m_count; }
    const TraceDigest &digest() const { return m_digest; }

private:
    std::vector<Sink> m_sinks;
    TraceDigest m_digest;
    quint64 m_count = 0;
};

} // namespace roomscope
