#include "jsengine.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <mutex>

namespace roomscope::js {

namespace {

thread_local RealmHost *t_currentHost = nullptr;

/// The build ID that keys SpiderMonkey's self-hosted code cache. Without one, using the cache
/// crashes the process.
bool buildId(JS::BuildIdCharVector *id)
{
    static const char kId[] = "roomscope-mozjs-102";
    return id->append(kId, sizeof(kId) - 1);
}

/// Virtual time for Date.now() and new Date(), in place of gettimeofday().
double virtualClock(double, JSContext *)
{
    RealmHost *host = t_currentHost;
    // Microseconds, as the engine's clock reads them.
    return host && host->nowMs ? host->nowMs() * 1000.0 : 0.0;
}

void initProcess()
{
    static std::once_flag once;
    std::call_once(once, [] {
        JS::SetProcessBuildIdOp(buildId);
        if (!JS_Init())
            qFatal("SpiderMonkey failed to initialize (JS_Init)");
        JS::SetReduceMicrosecondTimePrecisionCallback(virtualClock);
        // Engines are thread_local and go first at exit, so shutting down afterwards is safe.
        std::atexit([] { JS_ShutDown(); });
    });
}

QString propertyText(JSContext *context, JS::HandleObject object, const char *name)
{
    JS::RootedValue value(context);
    if (!JS_GetProperty(context, object, name, &value) || value.isUndefined())
        return {};
    return toQString(context, value);
}

} // namespace

QString ScriptError::toString() const
{
    return message.isEmpty() ? name : name + QStringLiteral(": ") + message;
}

QString ScriptError::toStringWithPosition() const
{
    if (fileName.isEmpty())
        return toString();
    return QStringLiteral("%1 (%2:%3:%4)").arg(toString(), fileName).arg(line).arg(column);
}

Error ScriptError::toError() const
{
    Error error = Error::error(message);
    if (name == QLatin1String("TypeError"))
        error.kind = Error::Kind::TypeError;
    else if (name == QLatin1String("RangeError"))
        error.kind = Error::Kind::RangeError;
    else if (name == QLatin1String("SyntaxError"))
        error.kind = Error::Kind::SyntaxError;
    else if (name == QLatin1String("ReferenceError"))
        error.kind = Error::Kind::ReferenceError;
    return error;
}

/// Promise jobs wait in the engine's queue until the simulation runs them.
class Engine::JobQueue : public JS::JobQueue
{
public:
    explicit JobQueue(Engine &engine) : m_engine(engine) { }

    JSObject *getIncumbentGlobal(JSContext *context) override
    {
        return JS::CurrentGlobalOrNull(context);
    }
    bool enqueuePromiseJob(JSContext *context, JS::HandleObject, JS::HandleObject job,
                           JS::HandleObject, JS::HandleObject) override
    {
        m_engine.m_jobs.emplace_back(context, job, m_engine.m_asyncContext);
        return true;
    }
    void runJobs(JSContext *) override { m_engine.runJobs(); }
    bool empty() const override { return m_engine.m_jobs.empty(); }

private:
    class Saved : public SavedJobQueue
    {
    public:
        explicit Saved(Engine &engine) : m_engine(engine), m_jobs(std::move(engine.m_jobs))
        {
            engine.m_jobs.clear();
        }
        ~Saved() override { m_engine.m_jobs = std::move(m_jobs); }

    private:
        Engine &m_engine;
        std::deque<Job> m_jobs;
    };
    ::js::UniquePtr<SavedJobQueue> saveJobQueue(JSContext *) override
    {
        return ::js::UniquePtr<SavedJobQueue>(js_new<Saved>(m_engine));
    }

    Engine &m_engine;
};

Engine &Engine::current()
{
    thread_local std::unique_ptr<Engine> engine(new Engine);
    return *engine;
}

Engine::Engine()
{
    initProcess();
    m_context = JS_NewContext(JS::DefaultHeapMaxBytes);
    if (!m_context)
        qFatal("SpiderMonkey failed to create a context (JS_NewContext)");
    if (!JS::InitSelfHostedCode(m_context))
        qFatal("SpiderMonkey failed to initialize its self-hosted code");
    m_jobQueue = std::make_unique<JobQueue>(*this);
    JS::SetJobQueue(m_context, m_jobQueue.get());
    JS_SetContextPrivate(m_context, this);
    JS_AddInterruptCallback(m_context, &Engine::interruptCallback);
    m_watchdog = std::thread([this] { watchdogLoop(); });
}

Engine::~Engine()
{
    {
        std::lock_guard lock(m_watchdogMutex);
        m_stopping = true;
    }
    m_watchdogWake.notify_all();
    m_watchdog.join();
    m_jobs.clear();
    JS_DestroyContext(m_context);
}

void Engine::discardJobs(JSObject *global)
{
    JS::Realm *realm = JS::GetObjectRealmOrNull(global);
    std::erase_if(m_jobs, [realm](const Job &job) {
        return JS::GetObjectRealmOrNull(job.function) == realm;
    });
}

int Engine::runJobs()
{
    int ran = 0;
    JS::RootedObject job(m_context);
    JS::RootedValue result(m_context);
    const quint64 outerContext = m_asyncContext;
    while (!m_jobs.empty()) {
        job = m_jobs.front().function;
        m_asyncContext = m_jobs.front().asyncContext;
        m_jobs.pop_front();
        ++ran;
        JSAutoRealm realm(m_context, job);
        ScriptScope scope;
        if (!JS::Call(m_context, JS::UndefinedHandleValue, job, JS::HandleValueArray::empty(),
                      &result)) {
            const ScriptError error = takeException();
            if (onUncaught)
                onUncaught(error);
        }
    }
    m_asyncContext = outerContext;
    return ran;
}

namespace {

qint64 steadyNanoseconds()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::steady_clock::now().time_since_epoch())
            .count();
}

/// Ticks without any script after which the watchdog thread parks until the next script.
constexpr int kQuietTicksBeforeParking = 4;

} // namespace

void Engine::setWatchdogLimit(std::chrono::milliseconds limit)
{
    m_watchdogLimitMs.store(limit.count());
    std::lock_guard lock(m_watchdogMutex);
    m_watchdogWake.notify_all();
}

void Engine::enterScript()
{
    if (m_scriptDepth++ > 0)
        return;
    m_interrupted = false;
    const RealmHost *host = currentHost();
    const qint64 limitMs = host && host->watchdogLimit ? host->watchdogLimit->count()
                                                        : m_watchdogLimitMs.load(std::memory_order_relaxed);
    m_scriptWatched = limitMs > 0;
    if (!m_scriptWatched)
        return;
    m_scriptLimitMs.store(limitMs, std::memory_order_relaxed);
    m_scriptStartNs.store(steadyNanoseconds(), std::memory_order_relaxed);
    // Sequentially consistent, paired with the watchdog's store of m_watchdogParked and its
    // load of m_scriptEpoch. Either this thread reads that the watchdog parked and wakes it, or
    // the watchdog reads that this script runs and does not park.
    m_scriptEpoch.fetch_add(1);
    if (m_watchdogParked.load()) {
        std::lock_guard lock(m_watchdogMutex);
        m_watchdogWake.notify_all();
    }
}

void Engine::leaveScript()
{
    if (--m_scriptDepth > 0)
        return;
    if (m_scriptWatched)
        m_scriptEpoch.fetch_add(1);
    m_scriptWatched = false;
}

void Engine::watchdogLoop()
{
    std::unique_lock lock(m_watchdogMutex);
    quint64 lastEpoch = m_scriptEpoch.load();
    int quietTicks = 0;
    while (!m_stopping) {
        const qint64 limitMs = m_scriptLimitMs.load();
        if (limitMs <= 0 || quietTicks >= kQuietTicksBeforeParking) {
            m_watchdogParked.store(true);
            if ((m_scriptEpoch.load() & 1) == 0)
                m_watchdogWake.wait(lock);
            m_watchdogParked.store(false);
            quietTicks = 0;
            lastEpoch = m_scriptEpoch.load();
            continue;
        }
        const qint64 tickMs = std::clamp<qint64>(limitMs / 4, 1, 250);
        m_watchdogWake.wait_for(lock, std::chrono::milliseconds(tickMs));
        if (m_stopping)
            break;
        const quint64 epoch = m_scriptEpoch.load();
        if ((epoch & 1) == 0) {
            quietTicks = epoch == lastEpoch ? quietTicks + 1 : 0;
            lastEpoch = epoch;
            continue;
        }
        quietTicks = 0;
        lastEpoch = epoch;
        const qint64 startNs = m_scriptStartNs.load();
        if (m_scriptEpoch.load() != epoch || m_interruptEpoch.load() == epoch)
            continue;
        if (steadyNanoseconds() - startNs > limitMs * 1'000'000) {
            m_interruptEpoch.store(epoch);
            JS_RequestInterruptCallback(m_context);
        }
    }
}

bool Engine::interruptCallback(JSContext *context)
{
    auto *engine = static_cast<Engine *>(JS_GetContextPrivate(context));
    const quint64 requested = engine->m_interruptEpoch.load();
    // A request for a script that has finished since must not stop the one running now.
    if (requested == 0 || requested != engine->m_scriptEpoch.load())
        return true;
    engine->m_interruptEpoch.store(0);
    engine->m_interrupted = true;
    return false; // terminates the running script; no exception is pending afterwards
}

RealmHost *Engine::currentHost()
{
    return t_currentHost;
}

void Engine::setCurrentHost(RealmHost *host)
{
    t_currentHost = host;
}

ScriptError Engine::takeException()
{
    ScriptError error;
    if (!JS_IsExceptionPending(m_context)) {
        error.interrupted = m_interrupted;
        error.name = QStringLiteral("Error");
        // NOTE: the text users report from wrangler tail; workerd's source was not checked.
        error.message = m_interrupted
                ? QStringLiteral("Worker exceeded CPU time limit.")
                : QStringLiteral("The script was terminated.");
        return error;
    }
    JS::ExceptionStack stack(m_context);
    if (!JS::StealPendingExceptionStack(m_context, &stack)) {
        error.name = QStringLiteral("Error");
        error.message = QStringLiteral("The exception could not be read.");
        return error;
    }
    JS::RootedValue exception(m_context, stack.exception());
    if (exception.isObject()) {
        JS::RootedObject object(m_context, &exception.toObject());
        error.name = propertyText(m_context, object, "name");
        error.message = propertyText(m_context, object, "message");
        error.stack = propertyText(m_context, object, "stack");
    }
    JS::ErrorReportBuilder report(m_context);
    if (report.init(m_context, stack, JS::ErrorReportBuilder::NoSideEffects) && report.report()) {
        const JSErrorReport *details = report.report();
        if (details->filename)
            error.fileName = QString::fromUtf8(details->filename);
        error.line = int(details->lineno);
        error.column = int(details->column);
        if (!exception.isObject()) {
            // A thrown primitive, such as `throw "boom"`.
            error.name = QStringLiteral("Error");
            error.message = QString::fromUtf8(report.toStringResult().c_str());
            error.message.remove(QStringLiteral("uncaught exception: "));
        }
    }
    if (error.name.isEmpty())
        error.name = QStringLiteral("Error");
    JS_ClearPendingException(m_context);
    return error;
}

QString toQString(JSContext *context, JSString *string)
{
    if (!string)
        return {};
    JS::RootedString rooted(context, string);
    JS::UniqueChars utf8 = JS_EncodeStringToUTF8(context, rooted);
    return utf8 ? QString::fromUtf8(utf8.get()) : QString();
}

QString toQString(JSContext *context, JS::HandleValue value)
{
    if (value.isString())
        return toQString(context, value.toString());
    JSString *string = JS::ToString(context, value);
    if (!string) {
        JS_ClearPendingException(context);
        return {};
    }
    return toQString(context, string);
}

JSString *newString(JSContext *context, const QString &text)
{
    return JS_NewUCStringCopyN(context, reinterpret_cast<const char16_t *>(text.utf16()),
                               size_t(text.size()));
}

} // namespace roomscope::js
