#pragma once

#include "jsrealm.h"

#include "random.h"
#include "simulation.h"

#include <QByteArray>

#include <map>

namespace roomscope::js {

/// A realm with the Workers runtime APIs installed: TextEncoder, TextDecoder, atob, btoa, URL,
/// URLSearchParams, Headers, Request, Response, console, structuredClone, crypto, and timers.
///
/// Everything they need from outside comes from the simulation: Date.now() and new Date() read
/// virtual time, Math.random() and crypto read the simulation's seeded stream, timers are
/// simulation events, and console lines go to `onConsole`.
class Runtime
{
public:
    /// One console call: its level ("log", "warn", "error", ...) and its formatted text.
    using ConsoleSink = std::function<void(const QString &level, const QString &text)>;

    Runtime(Simulation &simulation, Random random);
    ~Runtime();
    Runtime(const Runtime &) = delete;
    Runtime &operator=(const Runtime &) = delete;

    Realm &realm() { return *m_realm; }
    Simulation &simulation() { return m_simulation; }
    void setConsoleSink(ConsoleSink sink) { m_console = std::move(sink); }
    /// An object of the embedder's that natives reach through current(), such as the script.
    void setOwner(void *owner) { m_owner = owner; }
    void *owner() const { return m_owner; }

    /// The runtime whose realm is current on the context.
    static Runtime *current(JSContext *context);

    /// Runs the promise jobs that are pending, as a microtask checkpoint does.
    void runJobs();
    /// Timers that are scheduled and not yet fired or cleared.
    int pendingTimers() const { return int(m_timers.size()); }

private:
    friend struct RuntimeNatives;

    quint64 startTimer(JS::HandleObject callback, double delayMs);
    void fireTimer(quint64 id);
    void clearTimer(quint64 id);

    Simulation &m_simulation;
    Random m_random;
    std::unique_ptr<Realm> m_realm;
    ConsoleSink m_console;
    void *m_owner = nullptr;
    struct Timer
    {
        JS::PersistentRooted<JSObject *> callback;
        quint64 event = 0;
        quint64 asyncContext = 0; ///< the engine's async context when the timer was set
    };
    std::map<quint64, Timer> m_timers;
    quint64 m_lastTimer = 0;
};

/// The WHATWG URL parts of `input` resolved against `base` (empty for none), or nothing when the
/// URL is invalid: href, origin, protocol, username, password, host, hostname, port, pathname,
/// search and hash, as the URL class returns them.
struct UrlParts
{
    QString href, origin, protocol, username, password, host, hostname, port, pathname, search, hash;
};
std::optional<UrlParts> parseUrl(const QString &input, const QString &base);

/// A new Uint8Array holding a copy of `bytes`; null on failure (an exception is pending).
JSObject *newBytes(JSContext *context, const QByteArray &bytes);
/// A copy of the bytes an ArrayBufferView (a typed array or a DataView) covers.
QByteArray viewBytes(JSObject *view);

} // namespace roomscope::js
