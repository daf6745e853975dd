#pragma once

#include "random.h"
#include "simtime.h"
#include "task.h"
#include "trace.h"

#include <coroutine>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace roomscope {

/// The simulated world's clock and scheduler. Events run in (time, sequence) order: two events
/// at one instant run in the order they were scheduled. Time jumps to the next event; nothing
/// here reads the wall clock, so one seed and one scenario always give the same run.
class Simulation
{
public:
    Simulation(quint64 seed, SimTime start);
    ~Simulation();
    Simulation(const Simulation &) = delete;
    Simulation &operator=(const Simulation &) = delete;

    SimTime now() const { return m_now; }
    SimTime start() const { return m_start; }
    quint64 seed() const { return m_seed; }

    /// A random stream for one component, independent of every other component's stream.
    Random random(std::string_view component) const { return Random(deriveSeed(m_seed, component)); }
    /// A fresh identifier, unique within this simulation (request and connection numbers).
    quint64 nextId() { return ++m_lastId; }

    Trace &trace() { return m_trace; }
    const Trace &trace() const { return m_trace; }
    /// Records a trace event at the current time.
    void record(TraceEvent &&event);

    void schedule(SimTime at, std::function<void()> action);
    void scheduleAfter(SimDuration delay, std::function<void()> action)
    {
        schedule(m_now + delay, std::move(action));
    }
    void resumeAt(SimTime at, std::coroutine_handle<> handle);
    /// Like schedule(), but returns an identifier that cancel() takes.
    quint64 scheduleCancellable(SimTime at, std::function<void()> action);
    /// Removes an event scheduled with scheduleCancellable() that has not run yet, so that it
    /// neither runs nor keeps the run going. Returns false when it already ran or was cancelled.
    bool cancel(quint64 event);

    /// A function that an event calls with its target, payload and number.
    using PayloadCall = void (*)(void *target, const QByteArray &payload, qint64 number);
    /// Schedules `call(target, payload, number)`. Unlike schedule(), it allocates nothing, which
    /// matters for the one event per message that a broadcast to thousands of sockets makes.
    void scheduleCall(SimTime at, PayloadCall call, void *target, QByteArray payload, qint64 number);

    /// Starts a task that runs on its own; it is destroyed with the simulation if still pending.
    void spawn(Task<void> task);

    /// An awaitable that resumes the coroutine after a delay of virtual time.
    auto sleep(SimDuration delay)
    {
        struct Awaiter
        {
            Simulation &simulation;
            SimTime at;
            bool await_ready() const noexcept { return false; }
            void await_suspend(std::coroutine_handle<> handle) { simulation.resumeAt(at, handle); }
            void await_resume() const noexcept { }
        };
        return Awaiter { *this, m_now + std::max<SimDuration>(delay, 0) };
    }
    auto sleepUntil(SimTime at) { return sleep(at - m_now); }

    /// Runs the next event; returns false when there is none.
    bool step();
    /// Runs every event due at or before `limit`, then sets the clock to `limit`.
    /// Returns the number of events run.
    quint64 runUntil(SimTime limit);
    /// Like runUntil(), but stops after `maxEvents` events, leaving the clock at the last event.
    quint64 runUntil(SimTime limit, quint64 maxEvents);

    bool hasPendingEvents() const { return !m_queue.empty(); }
    std::optional<SimTime> nextEventTime() const;
    qsizetype pendingEventCount() const { return qsizetype(m_queue.size()); }
    quint64 dispatchedEventCount() const { return m_dispatched; }

private:
    /// The work of a pending event: a coroutine to resume, a payload call, or else an action.
    struct Event
    {
        std::coroutine_handle<> handle;
        std::function<void()> action;
        PayloadCall call = nullptr;
        void *target = nullptr;
        QByteArray payload;
        qint64 number = 0;
    };
    /// A heap entry. It is small and trivially copyable, so sifting it through the heap costs a
    /// few word moves. The event itself stays in its slot in m_events.
    struct QueueEntry
    {
        SimTime at;
        quint64 sequence;
        quint32 slot; ///< index into m_events
    };
    struct Later
    {
        bool operator()(const QueueEntry &a, const QueueEntry &b) const
        {
            return a.at != b.at ? a.at > b.at : a.sequence > b.sequence;
        }
    };
    quint64 push(SimTime at, Event event);
    void dispatchNext();

    quint64 m_seed;
    SimTime m_start;
    SimTime m_now;
    quint64 m_nextSequence = 0;
    quint64 m_dispatched = 0;
    quint64 m_lastId = 0;
    std::vector<QueueEntry> m_queue; // a binary heap ordered by Later
    std::vector<Event> m_events; // slots that m_queue refers to; free ones are in m_freeSlots
    std::vector<quint32> m_freeSlots;
    Trace m_trace;
    std::unordered_set<void *> m_liveTasks; // detached coroutine frames, destroyed with us
};

/// A value that several coroutines can await; all resume, in the order they began waiting,
/// as events at the instant it is resolved. Share it with std::shared_ptr.
template<typename T>
class Completion
{
public:
    explicit Completion(Simulation &simulation) : m_simulation(simulation) { }

    bool isResolved() const { return m_value.has_value(); }
    const T &value() const { return *m_value; }

    void resolve(T value)
    {
        Q_ASSERT(!m_value);
        m_value.emplace(std::move(value));
        for (std::coroutine_handle<> waiter : m_waiters)
            m_simulation.resumeAt(m_simulation.now(), waiter);
        m_waiters.clear();
    }

    auto wait()
    {
        struct Awaiter
        {
            Completion &completion;
            bool await_ready() const noexcept { return completion.isResolved(); }
            void await_suspend(std::coroutine_handle<> handle) { completion.m_waiters.push_back(handle); }
            T await_resume() const { return completion.value(); }
        };
        return Awaiter { *this };
    }

private:
    Simulation &m_simulation;
    std::optional<T> m_value;
    std::vector<std::coroutine_handle<>> m_waiters;
};

} // namespace roomscope
