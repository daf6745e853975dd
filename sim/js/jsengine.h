#pragma once

// The only folder of Roomscope that includes SpiderMonkey's headers. Everything outside sim/js/
// reaches JavaScript through the classes declared in this folder, so that an engine upgrade
// touches nothing else.

#include "mozjs.h"

#include "result.h"

#include <QString>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <mutex>
#include <thread>

namespace roomscope::js {

/// A JavaScript exception as the platform reports it, with where it was thrown.
struct ScriptError
{
    QString name; ///< "TypeError", "ReferenceError", ...
    QString message;
    QString stack; ///< the `stack` property: one "function@file:line:column" frame per line
    QString fileName;
    int line = 0;
    int column = 0;
    /// True when the watchdog stopped the script; such an error cannot be caught in JavaScript.
    bool interrupted = false;

    /// "TypeError: message" as JavaScript prints it.
    QString toString() const;
    /// The error with its source position, such as "TypeError: x (worker.js:12:5)".
    QString toStringWithPosition() const;
    Error toError() const;
};

/// The clock and random source a realm reads, supplied by the simulation.
struct RealmHost
{
    /// Milliseconds since the Unix epoch in virtual time, for Date.now() and new Date().
    std::function<double()> nowMs;
    /// A uniform double in [0, 1), for Math.random().
    std::function<double()> random;
    /// Replaces the engine's watchdog limit while this realm's code runs; zero turns the
    /// watchdog off.
    std::optional<std::chrono::milliseconds> watchdogLimit;
};

/// The SpiderMonkey context of the calling thread, its promise job queue and its watchdog.
///
/// There is one engine per thread (SpiderMonkey allows one JSContext per thread). Promise jobs
/// do not run on their own: the simulation calls runJobs() at the points where the platform
/// would perform a microtask checkpoint, so user code runs in the same order on every run.
class Engine
{
public:
    /// The calling thread's engine, created on first use.
    static Engine &current();
    ~Engine();
    Engine(const Engine &) = delete;
    Engine &operator=(const Engine &) = delete;

    JSContext *context() const { return m_context; }

    /// Runs promise jobs until none is left; returns how many ran. A job that throws is reported
    /// through `onUncaught` (set by the caller) and does not stop the others.
    int runJobs();
    bool hasPendingJobs() const { return !m_jobs.empty(); }
    /// Drops the pending jobs of the realm whose global is `global`, before that realm goes away.
    void discardJobs(JSObject *global);
    std::function<void(const ScriptError &)> onUncaught;

    /// Stops any script that runs longer than `limit` of wall time with an uncatchable
    /// termination. Zero turns the watchdog off. The watchdog looks at the running script a few
    /// times per limit, so a script may run up to a quarter of the limit longer.
    void setWatchdogLimit(std::chrono::milliseconds limit);
    std::chrono::milliseconds watchdogLimit() const
    {
        return std::chrono::milliseconds(m_watchdogLimitMs.load(std::memory_order_relaxed));
    }

    /// Marks the start and end of a call into JavaScript, for the watchdog. Nested calls count
    /// as one. Use ScriptScope rather than calling these directly.
    void enterScript();
    void leaveScript();
    /// True when the last script was stopped by the watchdog (cleared by enterScript()).
    bool wasInterrupted() const { return m_interrupted; }

    /// The embedder's token for whose code runs now; for a Worker, which object and location.
    /// A promise job runs with the token that was current when it was queued, so code after an
    /// `await` runs on behalf of the caller that awaited.
    quint64 asyncContext() const { return m_asyncContext; }
    void setAsyncContext(quint64 context) { m_asyncContext = context; }

    /// The host of the realm whose code runs now, for the clock and Math.random.
    static RealmHost *currentHost();
    static void setCurrentHost(RealmHost *host);

    /// Takes the pending exception off the context and describes it.
    ScriptError takeException();

private:
    class JobQueue;
    Engine();
    void watchdogLoop();
    static bool interruptCallback(JSContext *context);

    JSContext *m_context = nullptr;
    std::unique_ptr<JobQueue> m_jobQueue;
    struct Job
    {
        Job(JSContext *context, JSObject *function, quint64 asyncContext)
            : function(context, function), asyncContext(asyncContext)
        {
        }
        JS::PersistentRooted<JSObject *> function;
        quint64 asyncContext;
    };
    std::deque<Job> m_jobs;
    quint64 m_asyncContext = 0;

    // The script thread and the watchdog thread share only atomics while scripts run, so that
    // entering and leaving a script costs no lock and no wake-up of the watchdog thread.
    std::atomic<qint64> m_watchdogLimitMs { 0 };
    int m_scriptDepth = 0;
    bool m_scriptWatched = false; ///< the outermost enterScript() advanced m_scriptEpoch
    bool m_interrupted = false;
    /// Advanced by each watched outermost enterScript() and leaveScript(): odd while a script runs.
    std::atomic<quint64> m_scriptEpoch { 0 };
    std::atomic<qint64> m_scriptStartNs { 0 }; ///< steady-clock start of the running script
    std::atomic<qint64> m_scriptLimitMs { 0 }; ///< the watchdog limit of the last watched script
    /// The epoch of the script that the watchdog asked to stop; zero when none.
    std::atomic<quint64> m_interruptEpoch { 0 };
    /// True while the watchdog thread sleeps until enterScript() or setWatchdogLimit() wakes it.
    std::atomic<bool> m_watchdogParked { false };
    std::mutex m_watchdogMutex;
    std::condition_variable m_watchdogWake;
    bool m_stopping = false;
    std::thread m_watchdog;
};

/// Sets the engine's async context for a scope and restores the previous one after it.
class AsyncContextScope
{
public:
    explicit AsyncContextScope(quint64 context) : m_previous(Engine::current().asyncContext())
    {
        Engine::current().setAsyncContext(context);
    }
    ~AsyncContextScope() { Engine::current().setAsyncContext(m_previous); }
    AsyncContextScope(const AsyncContextScope &) = delete;
    AsyncContextScope &operator=(const AsyncContextScope &) = delete;

private:
    quint64 m_previous;
};

/// Brackets a call into JavaScript for the watchdog.
class ScriptScope
{
public:
    ScriptScope() { Engine::current().enterScript(); }
    ~ScriptScope() { Engine::current().leaveScript(); }
    ScriptScope(const ScriptScope &) = delete;
    ScriptScope &operator=(const ScriptScope &) = delete;
};

/// Converts a JavaScript string value to a QString; non-strings are converted with ToString.
QString toQString(JSContext *context, JS::HandleValue value);
QString toQString(JSContext *context, JSString *string);
/// Creates a JavaScript string from a QString; null on failure (an exception is pending).
JSString *newString(JSContext *context, const QString &text);

} // namespace roomscope::js
