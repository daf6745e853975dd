#pragma once

#include "simtime.h"

#include <QDate>
#include <QString>

namespace roomscope {

/// Behaviours that a Worker's compatibility date selects. Each flag is on from the date the
/// platform's compatibility-flags page gives for it.
struct CompatibilityFlags
{
    /// `delete_all_deletes_alarm`, from 2026-02-24: storage.deleteAll() also deletes the alarm.
    bool deleteAllDeletesAlarm = true;
    /// `web_socket_auto_reply_to_close`, from 2026-04-07: the runtime answers a client's Close
    /// frame itself. Before it, the socket stays CLOSING until the object calls close().
    bool webSocketAutoReplyToClose = true;
    /// `websocket_close_reason_byte_limit`, from 2026-03-03: close() rejects a reason longer
    /// than 123 bytes of UTF-8.
    bool webSocketCloseReasonByteLimit = true;

    static CompatibilityFlags forDate(QDate date);
};

/// The timers, thresholds and limits of a Durable Object namespace. Defaults are the
/// platform's published values; where the platform publishes none, the default says so.
struct DurableObjectSettings
{
    QDate compatibilityDate = QDate(2026, 4, 7);
    CompatibilityFlags compatibility = CompatibilityFlags::forDate(QDate(2026, 4, 7));

    // Lifecycle.
    SimDuration hibernateAfter = seconds(10); ///< idle time before a hibernatable object sleeps
    SimDuration evictAfterMin = seconds(70); ///< idle non-hibernatable objects are evicted
    SimDuration evictAfterMax = seconds(140); ///< after a uniform time in [min, max]
    SimDuration shutdownGrace = seconds(30); ///< in-flight requests' time after a shutdown
    SimDuration blockConcurrencyTimeout = seconds(30);

    // Storage. The platform publishes no latencies; these are estimates for one data centre.
    SimDuration storageReadLatency = 100; ///< an async storage read, 0.1 ms
    SimDuration storageWriteLatency = 0; ///< an awaited put() resolves once it is in the batch
    SimDuration storageCommitLatency = milliseconds(2); ///< until a batch is confirmed durable
    bool enforceStorageLimits = false; ///< §2.5 size limits: on in production, off locally

    // Alarms.
    SimDuration alarmRetryBase = seconds(2); ///< first retry delay; each retry doubles it
    int alarmMaxRetries = 6;

    // Overload. The platform does not publish its thresholds; these defaults are our own.
    int maxQueuedEvents = 1000; ///< "Too many requests queued."
    qint64 maxQueuedBytes = 64 * 1024 * 1024; ///< "Too much data queued."
    SimDuration maxQueueWait = seconds(30); ///< "Requests queued for too long."
    int maxEventsPerWindow = 0; ///< per 10 s, 0 for no limit: "Too many requests ... window."

    // WebSockets.
    int maxHibernatableSockets = 32768;
    qint64 maxMessageSize = 32 * 1024 * 1024; ///< received message; larger closes with 1009
    SimDuration closeHandshakeTimeout = seconds(30); ///< our estimate; then the client sees 1006
};

} // namespace roomscope
