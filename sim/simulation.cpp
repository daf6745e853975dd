#include "simulation.h"

#include <algorithm>

namespace roomscope {

namespace {

// Resumes at once and returns the address of the awaiting coroutine's own frame.
struct OwnFrame
{
    void *address = nullptr;
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> handle) noexcept
    {
        address = handle.address();
        return false;
    }
    void *await_resume() const noexcept { return address; }
};

// Runs a spawned task inside a frame that stays in the live set until the task finishes.
Task<void> tracked(Task<void> task, std::unordered_set<void *> *live)
{
    void *self = co_await OwnFrame {};
    live->insert(self);
    co_await task;
    live->erase(self);
}

} // namespace

Simulation::Simulation(quint64 seed, SimTime start) : m_seed(seed), m_start(start), m_now(start) { }

Simulation::~Simulation()
{
    // Pending events may hold handles into frames destroyed below, so drop them first.
    m_queue.clear();
    m_events.clear();
    m_freeSlots.clear();
    const std::vector<void *> live(m_liveTasks.begin(), m_liveTasks.end());
    m_liveTasks.clear();
    for (void *address : live)
        std::coroutine_handle<>::from_address(address).destroy();
}

void Simulation::record(TraceEvent &&event)
{
    event.time = m_now;
    m_trace.record(std::move(event));
}

quint64 Simulation::push(SimTime at, Event event)
{
    quint32 slot;
    if (m_freeSlots.empty()) {
        slot = quint32(m_events.size());
        m_events.push_back(std::move(event));
    } else {
        slot = m_freeSlots.back();
        m_freeSlots.pop_back();
        m_events[slot] = std::move(event);
    }
    const quint64 sequence = m_nextSequence++;
    m_queue.push_back(QueueEntry { at, sequence, slot });
    std::push_heap(m_queue.begin(), m_queue.end(), Later());
    return sequence;
}

quint64 Simulation::scheduleCancellable(SimTime at, std::function<void()> action)
{
    Q_ASSERT(at >= m_now);
    Event event;
    event.action = std::move(action);
    return push(std::max(at, m_now), std::move(event));
}

bool Simulation::cancel(quint64 event)
{
    // A linear search and a rebuilt heap: cancelling is rare (a timeout that is no longer
    // needed), and this keeps the heap entries small for the common path.
    const auto found = std::find_if(m_queue.begin(), m_queue.end(),
                                    [event](const QueueEntry &entry) { return entry.sequence == event; });
    if (found == m_queue.end())
        return false;
    const quint32 slot = found->slot;
    m_queue.erase(found);
    std::make_heap(m_queue.begin(), m_queue.end(), Later());
    m_events[slot] = Event {};
    m_freeSlots.push_back(slot);
    return true;
}

void Simulation::schedule(SimTime at, std::function<void()> action)
{
    Q_ASSERT(at >= m_now);
    Event event;
    event.action = std::move(action);
    push(std::max(at, m_now), std::move(event));
}

void Simulation::resumeAt(SimTime at, std::coroutine_handle<> handle)
{
    Q_ASSERT(at >= m_now);
    Event event;
    event.handle = handle;
    push(std::max(at, m_now), std::move(event));
}

void Simulation::scheduleCall(SimTime at, PayloadCall call, void *target, QByteArray payload,
                              qint64 number)
{
    Q_ASSERT(at >= m_now);
    push(std::max(at, m_now), Event { {}, {}, call, target, std::move(payload), number });
}

void Simulation::spawn(Task<void> task)
{
    auto handle = tracked(std::move(task), &m_liveTasks).release();
    handle.promise().detached = true;
    handle.resume();
}

std::optional<SimTime> Simulation::nextEventTime() const
{
    if (m_queue.empty())
        return std::nullopt;
    return m_queue.front().at;
}

void Simulation::dispatchNext()
{
    std::pop_heap(m_queue.begin(), m_queue.end(), Later());
    const QueueEntry entry = m_queue.back();
    m_queue.pop_back();
    // Take the event out of its slot before running it, because it may schedule events that
    // reuse the slot or grow m_events.
    Event event = std::move(m_events[entry.slot]);
    m_events[entry.slot].action = nullptr;
    m_freeSlots.push_back(entry.slot);
    m_now = entry.at;
    ++m_dispatched;
    if (event.handle)
        event.handle.resume();
    else if (event.call)
        event.call(event.target, event.payload, event.number);
    else
        event.action();
}

bool Simulation::step()
{
    if (m_queue.empty())
        return false;
    dispatchNext();
    return true;
}

quint64 Simulation::runUntil(SimTime limit)
{
    quint64 count = 0;
    while (!m_queue.empty() && m_queue.front().at <= limit) {
        dispatchNext();
        ++count;
    }
    if (limit > m_now)
        m_now = limit;
    return count;
}

quint64 Simulation::runUntil(SimTime limit, quint64 maxEvents)
{
    quint64 count = 0;
    while (count < maxEvents && !m_queue.empty() && m_queue.front().at <= limit) {
        dispatchNext();
        ++count;
    }
    if (count < maxEvents && limit > m_now)
        m_now = limit;
    return count;
}

} // namespace roomscope
