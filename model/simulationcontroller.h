#pragma once

#include "result.h"
#include "world.h"

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

#include <deque>
#include <functional>
#include <limits>
#include <memory>
#include <optional>

namespace roomscope {

/// Owns the current run (a World built from a scenario file) and drives it from a frame timer.
///
/// In real-time mode virtual time follows the wall clock times the speed factor; at
/// kUnlimitedSpeed it runs events as fast as the frame budget allows. Either way a frame spends
/// at most the frame budget of wall time on events, so the GUI stays responsive, and emits
/// advanced() once. When a frame cannot reach the real-time target within its budget the
/// controller reports that it is behind and drops the debt rather than trying to catch up.
class SimulationController : public QObject
{
    Q_OBJECT

public:
    enum class RunState {
        Empty, ///< no scenario is loaded
        Paused,
        Running,
        Finished, ///< the workloads stopped and in-flight work completed
    };
    Q_ENUM(RunState)

    /// The speed factor that runs events as fast as possible instead of following the wall clock.
    static constexpr double kUnlimitedSpeed = std::numeric_limits<double>::infinity();
    static constexpr int kFrameIntervalMs = 16; // about 60 frames per second
    static constexpr int kDefaultFrameBudgetMs = 10;

    explicit SimulationController(QObject *parent = nullptr);
    ~SimulationController() override;

    /// Loads a scenario file (a ":/" resource path works too) and starts a new run, paused.
    /// A non-empty `kvStoreFile` is a session file (World::saveSession()) whose KV entries and
    /// Durable Objects the run starts with; the file is only read. On failure the current run
    /// stays, and the error names the file, line, column and field.
    Status load(const QString &path, std::optional<quint64> seed = std::nullopt,
        const QString &kvStoreFile = {});
    /// Loads the current scenario file again, restarting the run with the same seed override
    /// and the same session file.
    Status reload();
    /// Restarts the current scenario with its seed override, starting from the KV entries and
    /// Durable Objects of the session file `kvStoreFile`.
    Status openSession(const QString &kvStoreFile);

    /// Makes load() apply a platform profile ("local" or "production") to every scenario it
    /// loads, as `--profile` does (Scenario::applyProfile); empty keeps each scenario's own.
    void setProfileOverride(const QString &profile) { m_profileOverride = profile; }
    const QString &profileOverride() const { return m_profileOverride; }
    /// The flags that load() applies to a Worker module or a wrangler configuration file
    /// (Scenario::forPath()): its configuration file, bindings and script watchdog limit.
    void setWorkerOptions(const WorkerOptions &options) { m_workerOptions = options; }

    World *world() const { return m_world.get(); }
    const QString &scenarioPath() const { return m_scenarioPath; }
    /// The session file the current run started from; empty for none.
    const QString &kvStoreFile() const { return m_kvStoreFile; }
    RunState runState() const;
    bool isRunning() const { return m_running; }
    /// False when the run finished and nothing is left to run (a request sent after the end
    /// makes it true again).
    bool canRun() const;
    double speed() const { return m_speed; }
    /// True while recent frames could not keep up with the real-time target.
    bool isBehind() const { return m_behind; }
    /// Simulated events run per second of wall time, over about the last second while running.
    double eventsPerSecond() const;
    /// Virtual seconds run per second of wall time, over about the last second while running.
    double achievedSpeed() const;
    /// Sets the wall time a frame may spend running events.
    void setFrameBudgetMs(int milliseconds);

    /// Runs every event due within `duration` of virtual time at once, whatever the speed, and
    /// emits advanced(). Returns the number of events run.
    quint64 advanceBy(SimDuration duration);
    /// Sends a request through the Worker (World::sendRequest) and emits advanced(), so that
    /// views show request.start even while paused.
    void sendRequest(const QString &actor, LocationId from, HttpRequest request,
        std::function<void(const HttpResponse &)> done);
    /// Runs `action`, which puts something from outside into the world (a real client's request
    /// or message), at the current instant. While running in real time, the clock first moves
    /// to the wall clock's instant and every event that `action` makes due at once runs before
    /// this returns; a timer then wakes for the next event instead of waiting for a frame.
    /// While paused, `action` runs at the paused instant and its events wait for run() or step().
    void deliverExternal(const std::function<void()> &action);
    /// Keeps the run going past its end, as serving real clients needs: the controller does not
    /// pause when the workloads finish, and virtual time follows the wall clock.
    void setKeepRunning(bool keep);
    bool keepsRunning() const { return m_keepRunning; }

    /// Emits advanced() after a change made to the world outside its event queue, such as a
    /// room inspector action, so that every view shows it while the run is paused.
    void notifyWorldEdited();

    /// The most events one step() runs while looking for one that records a trace event.
    static constexpr int kMaxEventsPerStep = 100'000;

public Q_SLOTS:
    /// Starts the frame timer; returns false when there is no run or nothing left to run.
    bool run();
    void pause();
    void toggleRun();
    /// Pauses and runs events up to and including the next one that records a trace event (at
    /// most kMaxEventsPerStep); returns false when no event is pending.
    bool step();
    /// Sets the speed factor: virtual seconds per wall second, or kUnlimitedSpeed.
    void setSpeed(double factor);

Q_SIGNALS:
    void worldAboutToChange();
    void worldChanged();
    /// Emitted once per frame that changed the simulation, and after step(), advanceBy() and
    /// sendRequest(); never once per simulated event.
    void advanced();
    void runStateChanged(roomscope::SimulationController::RunState state);
    void speedChanged(double factor);
    void behindChanged(bool behind);
    /// Emitted when a run reaches its end and the controller pauses it.
    void finished();

private:
    struct RateSample
    {
        qint64 wallNs;
        quint64 events;
        SimTime virtualTime;
    };

    void frame();
    /// Runs the events that have become due since the last frame, for the wake timer.
    void wake();
    /// Starts the wake timer when the next event is due before the next frame.
    void armWake();
    /// True when the run goes on past the end of the workloads.
    bool runsPastEnd() const { return m_runPastEnd || m_keepRunning; }
    /// Runs events due at or before `limit` until the wall clock passes `deadlineNs`; returns
    /// true when no event due by `limit` is left.
    bool runEvents(SimTime limit, qint64 deadlineNs);
    void runRealTimeFrame(qint64 deadlineNs);
    void runUnlimitedFrame(qint64 deadlineNs);
    void stopAtEnd();
    SimTime realTimeTarget() const;
    void anchorClock();
    void noteFrame(bool onTime);
    void recordRateSample();
    void setBehind(bool behind);
    void setRunning(bool running);
    void updateRunState();
    void replaceWorld(std::unique_ptr<World> world);

    std::unique_ptr<World> m_world;
    QString m_scenarioPath;
    QString m_kvStoreFile;
    std::optional<quint64> m_seedOverride;
    QString m_profileOverride;
    WorkerOptions m_workerOptions;
    QTimer m_frameTimer;
    QTimer m_wakeTimer;
    bool m_keepRunning = false;
    bool m_dispatching = false; ///< runEvents() is running simulation events
    QElapsedTimer m_wallClock;
    qint64 m_frameBudgetNs = qint64(kDefaultFrameBudgetMs) * 1'000'000;
    double m_speed = 1.0;
    bool m_running = false;
    bool m_runPastEnd = false; ///< running requests sent after the run finished
    bool m_behind = false;
    int m_onTimeFrames = 0;
    SimTime m_anchorVirtual = 0;
    qint64 m_anchorWallNs = 0;
    qint64 m_lastFrameNs = 0;
    std::deque<RateSample> m_rateSamples;
    RunState m_lastRunState = RunState::Empty;
};

} // namespace roomscope
