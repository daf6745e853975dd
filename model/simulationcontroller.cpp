#include "simulationcontroller.h"

#include <QLoggingCategory>
#include <QScopedValueRollback>

#include <cmath>

Q_LOGGING_CATEGORY(lcController, "roomscope.model.controller", QtWarningMsg)

namespace roomscope {

namespace {

/// Events run between two reads of the wall clock; a read costs more than a typical event.
constexpr int kEventsPerClockCheck = 64;
/// A gap between frames longer than this means the event loop was blocked, for example by a
/// modal dialog or a suspended machine. Virtual time does not jump forward over the gap.
constexpr qint64 kStallNs = 250'000'000;
/// Frames in a row that must reach their target before the behind indicator clears, so that it
/// does not flicker when every other frame is late.
constexpr int kOnTimeFramesToClearBehind = 30;
/// The window over which eventsPerSecond() and achievedSpeed() are measured.
constexpr qint64 kRateWindowNs = 1'000'000'000;

} // namespace

SimulationController::SimulationController(QObject *parent)
    : QObject(parent)
{
    m_frameTimer.setInterval(kFrameIntervalMs);
    m_frameTimer.setTimerType(Qt::PreciseTimer);
    connect(&m_frameTimer, &QTimer::timeout, this, &SimulationController::frame);
    m_wakeTimer.setSingleShot(true);
    m_wakeTimer.setTimerType(Qt::PreciseTimer);
    connect(&m_wakeTimer, &QTimer::timeout, this, &SimulationController::wake);
    m_wallClock.start();
}

SimulationController::~SimulationController()
{
    m_frameTimer.stop();
    // Models subscribe to the world's trace; they let go of it on worldAboutToChange().
    if (m_world)
        replaceWorld(nullptr);
}

Status SimulationController::load(
    const QString &path, std::optional<quint64> seed, const QString &kvStoreFile)
{
    Result<Scenario> scenario = Scenario::forPath(path, m_workerOptions);
    if (!scenario) {
        qCInfo(lcController) << "cannot load scenario" << path << ":"
                                << scenario.error().message;
        return scenario.error();
    }
    if (!m_profileOverride.isEmpty()) {
        if (Status applied = scenario.value().applyProfile(m_profileOverride); !applied)
            return applied.error();
    }
    Result<std::unique_ptr<World>> world = World::create(*scenario, seed, kvStoreFile);
    if (!world) {
        qCInfo(lcController) << "cannot build a run of" << path << "with session file"
                                << kvStoreFile << ":" << world.error().message;
        return world.error();
    }
    m_scenarioPath = path;
    m_kvStoreFile = kvStoreFile;
    m_seedOverride = seed;
    replaceWorld(std::move(world).value());
    qCInfo(lcController) << "loaded scenario" << path << "seed" << m_world->simulation().seed();
    return Done {};
}

Status SimulationController::reload()
{
    if (m_scenarioPath.isEmpty())
        return Error::error(
            QStringLiteral("No scenario is loaded, so there is nothing to reload."));
    return load(m_scenarioPath, m_seedOverride, m_kvStoreFile);
}

Status SimulationController::openSession(const QString &kvStoreFile)
{
    if (m_scenarioPath.isEmpty())
        return Error::error(QStringLiteral(
            "No scenario is loaded. Open a scenario first, then open the session file."));
    return load(m_scenarioPath, m_seedOverride, kvStoreFile);
}

void SimulationController::replaceWorld(std::unique_ptr<World> world)
{
    setRunning(false);
    m_runPastEnd = false;
    setBehind(false);
    m_rateSamples.clear();
    Q_EMIT worldAboutToChange();
    m_world = std::move(world);
    Q_EMIT worldChanged();
    updateRunState();
}

SimulationController::RunState SimulationController::runState() const
{
    if (!m_world)
        return RunState::Empty;
    if (m_running)
        return RunState::Running;
    return m_world->isFinished() ? RunState::Finished : RunState::Paused;
}

bool SimulationController::canRun() const
{
    return m_world
        && (m_keepRunning || !m_world->isFinished() || m_world->simulation().hasPendingEvents());
}

void SimulationController::setFrameBudgetMs(int milliseconds)
{
    m_frameBudgetNs = qint64(std::max(milliseconds, 1)) * 1'000'000;
}

bool SimulationController::run()
{
    if (!m_world || m_running || !canRun())
        return false;
    m_runPastEnd = m_world->isFinished();
    anchorClock();
    m_lastFrameNs = m_wallClock.nsecsElapsed();
    m_rateSamples.clear();
    m_onTimeFrames = 0;
    setRunning(true);
    return true;
}

void SimulationController::pause()
{
    setRunning(false);
}

void SimulationController::toggleRun()
{
    if (m_running)
        pause();
    else
        run();
}

bool SimulationController::step()
{
    if (!m_world)
        return false;
    pause();
    // Many events (a message's network hop, a coroutine resuming after a storage read) leave
    // nothing in the trace, so a step runs on to the next event that does, or a bounded number.
    Simulation &simulation = m_world->simulation();
    const QScopedValueRollback dispatching(m_dispatching, true);
    const quint64 traced = simulation.trace().eventCount();
    if (!simulation.step())
        return false;
    for (int i = 1; i < kMaxEventsPerStep && simulation.trace().eventCount() == traced; ++i) {
        if (!simulation.step())
            break;
    }
    Q_EMIT advanced();
    updateRunState();
    return true;
}

quint64 SimulationController::advanceBy(SimDuration duration)
{
    if (!m_world)
        return 0;
    Simulation &simulation = m_world->simulation();
    const QScopedValueRollback dispatching(m_dispatching, true);
    const quint64 events
        = simulation.runUntil(simulation.now() + std::max<SimDuration>(duration, 0));
    Q_EMIT advanced();
    updateRunState();
    return events;
}

void SimulationController::sendRequest(const QString &actor, LocationId from, HttpRequest request,
    std::function<void(const HttpResponse &)> done)
{
    if (!m_world)
        return;
    m_world->sendRequest(actor, from, std::move(request), std::move(done));
    Q_EMIT advanced();
    updateRunState();
}

void SimulationController::deliverExternal(const std::function<void()> &action)
{
    if (!m_world)
        return;
    // Called from inside an event (a gateway guard reacting to a message the simulation sends):
    // the events that `action` makes due run in the loop that is already running.
    if (m_dispatching) {
        action();
        return;
    }
    Simulation &simulation = m_world->simulation();
    const bool realTime = m_running && !std::isinf(m_speed);
    const qint64 deadlineNs = m_wallClock.nsecsElapsed() + m_frameBudgetNs;
    if (realTime) {
        const SimTime target = realTimeTarget();
        if (runEvents(target, deadlineNs) && target > simulation.now())
            simulation.runUntil(target);
    }
    action();
    if (!m_running) {
        Q_EMIT advanced();
        updateRunState();
        return;
    }
    if (realTime)
        runEvents(simulation.now(), deadlineNs);
    armWake();
}

void SimulationController::setKeepRunning(bool keep)
{
    m_keepRunning = keep;
    updateRunState();
}

void SimulationController::wake()
{
    if (!m_world || !m_running || std::isinf(m_speed))
        return;
    Simulation &simulation = m_world->simulation();
    SimTime target = realTimeTarget();
    if (!runsPastEnd())
        target = std::min(target, m_world->drainLimit());
    if (runEvents(target, m_wallClock.nsecsElapsed() + m_frameBudgetNs) && target > simulation.now())
        simulation.runUntil(target);
    armWake();
}

void SimulationController::armWake()
{
    if (!m_world || !m_running || std::isinf(m_speed))
        return;
    const std::optional<SimTime> next = m_world->simulation().nextEventTime();
    if (!next)
        return;
    const double waitMs = double(*next - realTimeTarget()) / 1000.0 / m_speed;
    // Events due before the next frame would otherwise wait up to a frame interval.
    if (waitMs < kFrameIntervalMs)
        m_wakeTimer.start(std::max(0, int(std::ceil(waitMs))));
}

void SimulationController::notifyWorldEdited()
{
    if (!m_world)
        return;
    Q_EMIT advanced();
    updateRunState();
}

void SimulationController::setSpeed(double factor)
{
    if (!(factor > 0) || factor == m_speed)
        return;
    m_speed = factor;
    anchorClock();
    m_onTimeFrames = 0;
    setBehind(false);
    m_rateSamples.clear();
    Q_EMIT speedChanged(factor);
}

double SimulationController::eventsPerSecond() const
{
    if (m_rateSamples.size() < 2)
        return 0;
    const RateSample &first = m_rateSamples.front();
    const RateSample &last = m_rateSamples.back();
    return double(last.events - first.events) * 1e9 / double(last.wallNs - first.wallNs);
}

double SimulationController::achievedSpeed() const
{
    if (m_rateSamples.size() < 2)
        return 0;
    const RateSample &first = m_rateSamples.front();
    const RateSample &last = m_rateSamples.back();
    return double(last.virtualTime - first.virtualTime) * 1e3 / double(last.wallNs - first.wallNs);
}

void SimulationController::frame()
{
    if (!m_world || !m_running)
        return;
    const qint64 frameStartNs = m_wallClock.nsecsElapsed();
    if (frameStartNs - m_lastFrameNs > kStallNs)
        m_anchorWallNs += frameStartNs - m_lastFrameNs - qint64(kFrameIntervalMs) * 1'000'000;
    m_lastFrameNs = frameStartNs;

    const qint64 deadlineNs = frameStartNs + m_frameBudgetNs;
    if (std::isinf(m_speed))
        runUnlimitedFrame(deadlineNs);
    else
        runRealTimeFrame(deadlineNs);
    recordRateSample();
    stopAtEnd();
    Q_EMIT advanced();
}

void SimulationController::runRealTimeFrame(qint64 deadlineNs)
{
    Simulation &simulation = m_world->simulation();
    SimTime target = realTimeTarget();
    if (!runsPastEnd())
        target = std::min(target, m_world->drainLimit());
    if (runEvents(target, deadlineNs)) {
        if (target > simulation.now())
            simulation.runUntil(target);
        noteFrame(true);
        armWake();
        return;
    }
    // The target moved away faster than events could run. Follow the wall clock from here
    // instead of racing to catch up later.
    anchorClock();
    noteFrame(false);
}

void SimulationController::runUnlimitedFrame(qint64 deadlineNs)
{
    Simulation &simulation = m_world->simulation();
    const SimTime limit
        = runsPastEnd() ? std::numeric_limits<SimTime>::max() : m_world->drainLimit();
    const bool drained = runEvents(limit, deadlineNs);
    // With nothing scheduled before the workloads end, jump there rather than to the drain limit.
    if (drained && !runsPastEnd() && simulation.now() < m_world->workloadEnd())
        simulation.runUntil(m_world->workloadEnd());
    noteFrame(true);
}

bool SimulationController::runEvents(SimTime limit, qint64 deadlineNs)
{
    Simulation &simulation = m_world->simulation();
    const QScopedValueRollback dispatching(m_dispatching, true);
    for (;;) {
        for (int i = 0; i < kEventsPerClockCheck; ++i) {
            const std::optional<SimTime> next = simulation.nextEventTime();
            if (!next || *next > limit)
                return true;
            simulation.step();
        }
        if (m_wallClock.nsecsElapsed() >= deadlineNs)
            return false;
    }
}

void SimulationController::stopAtEnd()
{
    if (m_keepRunning)
        return;
    if (m_runPastEnd) {
        if (!m_world->simulation().hasPendingEvents())
            setRunning(false);
        return;
    }
    if (m_world->isFinished()) {
        setRunning(false);
        qCInfo(lcController) << "run finished at" << formatInstant(m_world->simulation().now());
        Q_EMIT finished();
    }
}

SimTime SimulationController::realTimeTarget() const
{
    const double elapsedUs = double(m_wallClock.nsecsElapsed() - m_anchorWallNs) / 1000.0;
    return m_anchorVirtual + SimDuration(elapsedUs * m_speed);
}

void SimulationController::anchorClock()
{
    m_anchorVirtual = m_world ? m_world->simulation().now() : 0;
    m_anchorWallNs = m_wallClock.nsecsElapsed();
}

void SimulationController::noteFrame(bool onTime)
{
    if (!onTime) {
        m_onTimeFrames = 0;
        setBehind(true);
    } else if (++m_onTimeFrames >= kOnTimeFramesToClearBehind) {
        setBehind(false);
    }
}

void SimulationController::recordRateSample()
{
    const Simulation &simulation = m_world->simulation();
    const qint64 nowNs = m_wallClock.nsecsElapsed();
    m_rateSamples.push_back({ nowNs, simulation.dispatchedEventCount(), simulation.now() });
    while (m_rateSamples.size() > 2 && nowNs - m_rateSamples.front().wallNs > kRateWindowNs)
        m_rateSamples.pop_front();
}

void SimulationController::setBehind(bool behind)
{
    if (behind == m_behind)
        return;
    m_behind = behind;
    qCDebug(lcController) << (behind ? "behind the real-time target"
                                     : "back on the real-time target");
    Q_EMIT behindChanged(behind);
}

void SimulationController::setRunning(bool running)
{
    if (running == m_running)
        return;
    m_running = running;
    if (running) {
        m_frameTimer.start();
    } else {
        m_frameTimer.stop();
        m_wakeTimer.stop();
        m_rateSamples.clear();
        setBehind(false);
    }
    updateRunState();
}

void SimulationController::updateRunState()
{
    const RunState state = runState();
    if (state == m_lastRunState)
        return;
    m_lastRunState = state;
    Q_EMIT runStateChanged(state);
}

} // namespace roomscope
