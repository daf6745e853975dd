#include "jsruntime.h"

#include "jsworker.h"

#include "durableobject.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <coroutine>
#include <map>
#include <unordered_map>

namespace roomscope {

using namespace js;

namespace {

/// The platform's error when a fetch handler's promise does not resolve to a Response.
const QString kNotAResponse = QStringLiteral(
        "Incorrect type for Promise: the Promise did not resolve to 'Response'.");

/// Parses JSON text into a JavaScript value, as JSON.parse() does.
bool parseJsonText(JSContext *cx, const QString &text, JS::MutableHandleValue value)
{
    return JS_ParseJSON(cx, reinterpret_cast<const char16_t *>(text.utf16()), uint32_t(text.size()),
                        value);
}

QByteArray readResource(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        qFatal("%s is missing from the build", qPrintable(path));
    return file.readAll();
}

/// How long one call into a Worker script may run in wall time before the watchdog stops it.
/// NOTE: the platform limits CPU time per request (30 s by default). This limit is wall time
/// on the host, kept short so that a looping script does not stall the GUI.
constexpr std::chrono::milliseconds kDefaultWatchdogLimit { 2000 };

/// A settled JavaScript value held across coroutine suspensions.
using HeldValue = std::shared_ptr<JS::PersistentRooted<JS::Value>>;

} // namespace

/// One JavaScript Durable Object instance: the user's class, constructed with ctx and env.
class JsObject;

class JsWorkerScript::Private
{
public:
    explicit Private(Simulation &simulation)
        : simulation(simulation), runtime(simulation, simulation.random("javascript"))
    {
    }

    Simulation &simulation;
    Runtime runtime;
    JS::PersistentRooted<JSObject *> exports;
    JS::PersistentRooted<JSObject *> env;
    JS::PersistentRooted<JSObject *> constructors; ///< what bindings.js returned
    JsBindings bindings;
    std::vector<JsScriptError> errors;
    std::function<void(const QString &, const QString &)> console;
    std::function<void(const JsScriptError &)> errorSink;
    /// The engine's async context of each pending host promise when it was made, so that the
    /// code after `await` on it runs on behalf of the caller that made it.
    std::unordered_map<const void *, quint64> promiseContexts;

    /// Packs whose code runs, for the engine's async context: an object's number (0 for the
    /// Worker's own handlers) and the location it runs in.
    static quint64 callerContext(int object, LocationId location)
    {
        return (quint64(quint32(object)) << 32) | quint32(location);
    }
    static LocationId callerLocation()
    {
        return LocationId(quint32(Engine::current().asyncContext()));
    }
    static int callerObject() { return int(Engine::current().asyncContext() >> 32); }

    // Promise settlements that coroutines wait for, by number.
    struct Settlement
    {
        bool done = false;
        bool fulfilled = false;
        HeldValue value;
        std::coroutine_handle<> waiter;
    };
    std::map<quint64, std::shared_ptr<Settlement>> settlements;
    quint64 lastSettlement = 0;

    // WebSocket ends by handle.
    struct SocketEnd
    {
        std::shared_ptr<ServerWebSocket> socket; ///< set once the server end is accepted
        quint64 peer = 0; ///< the other end of a WebSocketPair
        bool server = false;
    };
    std::map<quint64, SocketEnd> sockets;
    std::map<const ServerWebSocket *, quint64> handlesBySocket;
    quint64 lastSocket = 0;

    std::map<int, JsObject *> objects;
    int lastObject = 0;
    /// The transactions whose storage.transaction() callback is running, by number.
    std::map<quint64, StorageTransaction *> transactions;
    quint64 lastTransaction = 0;
    /// The real or simulated client of the upgrade request the Worker is handling.
    WebSocketClient *currentUpgradeClient = nullptr;

    static Private *current(JSContext *context);

    JSContext *context() { return runtime.realm().context(); }
    JSObject *global() { return runtime.realm().global(); }
    /// Records an uncaught error; `actor` defaults to the caller whose code runs now.
    void recordError(const QString &where, const ScriptError &error, const QString &actor = {});
    /// The trace actor of the code that runs now: its object, or the Worker.
    QString callerActor() const;
    /// Runs jobs and resumes coroutines whose promises settled.
    void settle();
    /// A new JavaScript error object of class `name` with `message`.
    JS::Value makeError(const Error &error);
    JSObject *newPromise(HeldValue &resolveLater);
    void resolveLater(const HeldValue &promise, const std::function<bool(JS::MutableHandleValue)> &value);
    quint64 takePromiseContext(const HeldValue &promise);
    void rejectLater(const HeldValue &promise, const Error &error);
    quint64 handleFor(const std::shared_ptr<ServerWebSocket> &socket);

    // Conversions between the simulation's HTTP types and Request and Response.
    JSObject *toRequest(const HttpRequest &request);
    Result<HttpResponse> toResponse(JS::HandleValue value, std::shared_ptr<ServerWebSocket> upgraded);
    HttpRequest fromRequest(JS::HandleObject request);

    /// The outcome of awaiting a value: the fulfilled value, or the rejection reason.
    struct Settled
    {
        bool fulfilled = true;
        HeldValue value;
    };
    /// Awaits a value that may be a promise, as `await value` does.
    struct Awaiter
    {
        Private &d;
        HeldValue value;
        std::shared_ptr<Settlement> settlement;
        quint64 id = 0;

        bool await_ready();
        void await_suspend(std::coroutine_handle<> handle) { settlement->waiter = handle; }
        Settled await_resume()
        {
            if (!settlement)
                return { true, value };
            return { settlement->fulfilled, settlement->value };
        }
        ~Awaiter()
        {
            if (id)
                d.settlements.erase(id);
        }
    };
    Awaiter awaitValue(JS::HandleValue value) { return Awaiter { *this, hold(value), nullptr }; }
    /// Like awaitValue(), for a value held outside the stack, so that no Rooted lives across
    /// the suspension (SpiderMonkey's stack roots must be destroyed in reverse order).
    Awaiter awaitHeld(HeldValue value) { return Awaiter { *this, std::move(value), nullptr }; }
    HeldValue hold(JS::HandleValue value)
    {
        return std::make_shared<JS::PersistentRooted<JS::Value>>(context(), value);
    }
    Error errorFromValue(JS::HandleValue value, const QString &where, const QString &actor = {});
    /// Calls a function that a host function kept, from a coroutine outside any native call,
    /// with an optional number argument. An exception is recorded under `where`.
    Result<HeldValue> callHeld(const HeldValue &function, std::optional<double> argument,
                               const QString &where);
};

JsWorkerScript::Private *JsWorkerScript::Private::current(JSContext *context)
{
    Runtime *runtime = Runtime::current(context);
    return runtime ? static_cast<Private *>(runtime->owner()) : nullptr;
}

void JsWorkerScript::Private::recordError(const QString &where, const ScriptError &error,
                                          const QString &actor)
{
    JsScriptError recorded { where, error.toString(), error.stack, error.fileName, error.line,
                             error.column, actor.isEmpty() ? callerActor() : actor };
    // An error that the runtime's own code raised, such as a binding's argument check, is
    // reported at the user's line that called it: the first frame outside roomscope: files.
    // An error that the host raised, such as a handler's result of the wrong type, has no
    // position of its own and takes its stack's first frame.
    if (recorded.fileName.isEmpty() || recorded.fileName.startsWith(QLatin1String("roomscope:"))) {
        for (const QString &frame : error.stack.split(QLatin1Char('\n'), Qt::SkipEmptyParts)) {
            const qsizetype at = frame.indexOf(QLatin1Char('@'));
            const QString location = frame.mid(at + 1);
            const QStringList parts = location.split(QLatin1Char(':'));
            if (location.startsWith(QLatin1String("roomscope:")) || parts.size() < 3)
                continue;
            recorded.fileName = parts.mid(0, parts.size() - 2).join(QLatin1Char(':'));
            recorded.line = parts.at(parts.size() - 2).toInt();
            recorded.column = parts.at(parts.size() - 1).toInt();
            break;
        }
    }
    errors.push_back(recorded);
    if (errorSink)
        errorSink(errors.back());
}

void JsWorkerScript::Private::settle()
{
    runtime.runJobs();
}

JS::Value JsWorkerScript::Private::makeError(const Error &error)
{
    JSContext *cx = context();
    JS::RootedObject globalObject(cx, global());
    JS::RootedValue constructor(cx);
    JS_GetProperty(cx, globalObject, error.name().toUtf8().constData(), &constructor);
    if (!constructor.isObject())
        JS_GetProperty(cx, globalObject, "Error", &constructor);
    JS::RootedValueArray<1> arguments(cx);
    arguments[0].setString(newString(cx, error.message));
    JS::RootedObject object(cx);
    if (!JS::Construct(cx, constructor, arguments, &object)) {
        JS_ClearPendingException(cx);
        return JS::UndefinedValue();
    }
    const auto flag = [&](const char *name, bool set) {
        if (set)
            JS_DefineProperty(cx, object, name, JS::TrueHandleValue, JSPROP_ENUMERATE);
    };
    flag("remote", error.remote);
    flag("overloaded", error.overloaded);
    flag("retryable", error.retryable);
    flag("durableObjectReset", error.durableObjectReset);
    return JS::ObjectValue(*object);
}

JSObject *JsWorkerScript::Private::newPromise(HeldValue &holder)
{
    JSContext *cx = context();
    // A new promise records the stack that allocated it, for async stack traces. For a host
    // promise that stack is the binding call, which the awaiting code's own stack shows already,
    // and capturing it cost a fifth of each KV await.
    JS::ContextOptionsRef(cx).setAsyncStack(false);
    JS::RootedObject promise(cx, JS::NewPromiseObject(cx, nullptr));
    JS::ContextOptionsRef(cx).setAsyncStack(true);
    if (!promise)
        return nullptr;
    JS::RootedValue value(cx, JS::ObjectValue(*promise));
    holder = hold(value);
    promiseContexts[holder.get()] = Engine::current().asyncContext();
    return promise;
}

void JsWorkerScript::Private::resolveLater(const HeldValue &promise,
                                           const std::function<bool(JS::MutableHandleValue)> &make)
{
    JSContext *cx = context();
    RealmScope scope(runtime.realm());
    AsyncContextScope caller(takePromiseContext(promise));
    JS::RootedObject promiseObject(cx, &promise->get().toObject());
    JS::RootedValue value(cx);
    if (!make(&value)) {
        JS::RootedValue exception(cx);
        JS_GetPendingException(cx, &exception);
        JS_ClearPendingException(cx);
        JS::RejectPromise(cx, promiseObject, exception);
    } else {
        JS::ResolvePromise(cx, promiseObject, value);
    }
    settle();
}

quint64 JsWorkerScript::Private::takePromiseContext(const HeldValue &promise)
{
    const auto found = promiseContexts.find(promise.get());
    if (found == promiseContexts.end())
        return Engine::current().asyncContext();
    const quint64 context = found->second;
    promiseContexts.erase(found);
    return context;
}

void JsWorkerScript::Private::rejectLater(const HeldValue &promise, const Error &error)
{
    JSContext *cx = context();
    RealmScope scope(runtime.realm());
    AsyncContextScope caller(takePromiseContext(promise));
    JS::RootedObject promiseObject(cx, &promise->get().toObject());
    JS::RootedValue value(cx, makeError(error));
    JS::RejectPromise(cx, promiseObject, value);
    settle();
}

Error JsWorkerScript::Private::errorFromValue(JS::HandleValue value, const QString &where,
                                              const QString &actor)
{
    JSContext *cx = context();
    // An error that came from a Durable Object was recorded where it was thrown.
    bool remote = false;
    if (value.isObject()) {
        JS::RootedObject object(cx, &value.toObject());
        JS::RootedValue flag(cx);
        remote = JS_GetProperty(cx, object, "remote", &flag) && flag.isTrue();
    }
    JS_SetPendingException(cx, value);
    const ScriptError error = Engine::current().takeException();
    if (!remote)
        recordError(where, error, actor);
    Error converted = error.toError();
    converted.message = error.message;
    converted.remote = true;
    return converted;
}

Result<HeldValue> JsWorkerScript::Private::callHeld(const HeldValue &function,
                                                   std::optional<double> argument,
                                                   const QString &where)
{
    JSContext *cx = context();
    RealmScope scope(runtime.realm());
    ScriptScope running;
    JS::RootedValue callee(cx, function->get());
    JS::RootedValueArray<1> arguments(cx);
    if (argument)
        arguments[0].setNumber(*argument);
    JS::RootedValue value(cx);
    const JS::HandleValueArray passed = argument ? JS::HandleValueArray(arguments)
                                                 : JS::HandleValueArray::empty();
    if (!JS::Call(cx, JS::UndefinedHandleValue, callee, passed, &value)) {
        const ScriptError error = Engine::current().takeException();
        recordError(where, error);
        Error converted = error.toError();
        converted.message = error.message;
        return converted;
    }
    return hold(value);
}

namespace {

bool settledNative(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    JsWorkerScript::Private *d = JsWorkerScript::Private::current(cx);
    JSObject *callee = &args.callee();
    const quint64 id = quint64(::js::GetFunctionNativeReserved(callee, 0).toNumber());
    const bool fulfilled = ::js::GetFunctionNativeReserved(callee, 1).toBoolean();
    args.rval().setUndefined();
    if (!d)
        return true;
    const auto found = d->settlements.find(id);
    if (found == d->settlements.end())
        return true;
    const auto settlement = found->second;
    settlement->done = true;
    settlement->fulfilled = fulfilled;
    settlement->value = d->hold(args.get(0));
    if (settlement->waiter) {
        const std::coroutine_handle<> waiter = settlement->waiter;
        settlement->waiter = nullptr;
        d->simulation.resumeAt(d->simulation.now(), waiter);
    }
    return true;
}

} // namespace

bool JsWorkerScript::Private::Awaiter::await_ready()
{
    JSContext *cx = d.context();
    if (!value->get().isObject())
        return true;
    RealmScope scope(d.runtime.realm());
    JS::RootedObject object(cx, &value->get().toObject());
    if (!JS::IsPromiseObject(object))
        return true;
    id = ++d.lastSettlement;
    settlement = std::make_shared<Settlement>();
    d.settlements[id] = settlement;
    JS::RootedObject onFulfilled(cx, JS_GetFunctionObject(::js::NewFunctionWithReserved(cx, settledNative, 1, 0, "fulfilled")));
    JS::RootedObject onRejected(cx, JS_GetFunctionObject(::js::NewFunctionWithReserved(cx, settledNative, 1, 0, "rejected")));
    ::js::SetFunctionNativeReserved(onFulfilled, 0, JS::NumberValue(double(id)));
    ::js::SetFunctionNativeReserved(onFulfilled, 1, JS::TrueValue());
    ::js::SetFunctionNativeReserved(onRejected, 0, JS::NumberValue(double(id)));
    ::js::SetFunctionNativeReserved(onRejected, 1, JS::FalseValue());
    JS::AddPromiseReactions(cx, object, onFulfilled, onRejected);
    d.settle();
    return settlement->done;
}


// ---------------------------------------------------------------------------------------------
// Request and Response

namespace {

bool isInstance(JSContext *cx, JS::HandleObject global, const char *constructorName,
                JS::HandleValue value)
{
    if (!value.isObject())
        return false;
    JS::RootedValue constructor(cx);
    if (!JS_GetProperty(cx, global, constructorName, &constructor) || !constructor.isObject())
        return false;
    JS::RootedObject constructorObject(cx, &constructor.toObject());
    bool result = false;
    return JS_HasInstance(cx, constructorObject, value, &result) && result;
}

QString stringProperty(JSContext *cx, JS::HandleObject object, const char *name)
{
    JS::RootedValue value(cx);
    if (!JS_GetProperty(cx, object, name, &value) || value.isNullOrUndefined())
        return {};
    return toQString(cx, value);
}

} // namespace

JSObject *JsWorkerScript::Private::toRequest(const HttpRequest &request)
{
    JSContext *cx = context();
    JS::RootedObject globalObject(cx, global());
    JS::RootedObject init(cx, JS_NewPlainObject(cx));
    JS::RootedString method(cx, newString(cx, QString::fromLatin1(request.method)));
    JS_DefineProperty(cx, init, "method", method, JSPROP_ENUMERATE);
    JS::RootedObject headers(cx, JS::NewArrayObject(cx, 0));
    uint32_t index = 0;
    for (const auto &[name, value] : request.headers) {
        JS::RootedObject pair(cx, JS::NewArrayObject(cx, 2));
        JS::RootedString key(cx, newString(cx, QString::fromLatin1(name)));
        JS::RootedString text(cx, newString(cx, QString::fromLatin1(value)));
        JS_DefineElement(cx, pair, 0, key, JSPROP_ENUMERATE);
        JS_DefineElement(cx, pair, 1, text, JSPROP_ENUMERATE);
        JS_DefineElement(cx, headers, index++, pair, JSPROP_ENUMERATE);
    }
    JS_DefineProperty(cx, init, "headers", headers, JSPROP_ENUMERATE);
    if (!request.body.isEmpty() && request.method != "GET" && request.method != "HEAD") {
        JS::RootedObject body(cx, newBytes(cx, request.body));
        JS_DefineProperty(cx, init, "body", body, JSPROP_ENUMERATE);
    }
    JS::RootedValue constructor(cx);
    JS_GetProperty(cx, globalObject, "Request", &constructor);
    JS::RootedValueArray<2> arguments(cx);
    arguments[0].setString(newString(cx, request.url.toString(QUrl::FullyEncoded)));
    arguments[1].setObject(*init);
    JS::RootedObject result(cx);
    if (!JS::Construct(cx, constructor, arguments, &result))
        return nullptr;
    return result;
}

HttpRequest JsWorkerScript::Private::fromRequest(JS::HandleObject request)
{
    JSContext *cx = context();
    HttpRequest converted;
    converted.method = stringProperty(cx, request, "method").toLatin1();
    converted.url = QUrl(stringProperty(cx, request, "url"), QUrl::TolerantMode);
    JS::RootedValue headers(cx);
    JS_GetProperty(cx, request, "headers", &headers);
    if (headers.isObject()) {
        JS::RootedObject headersObject(cx, &headers.toObject());
        // bindings.js flattens the Headers into [name, value, name, value, ...].
        JS::RootedObject helpers(cx, constructors);
        JS::RootedValueArray<1> arguments(cx);
        arguments[0].set(headers);
        JS::RootedValue entries(cx);
        if (JS_CallFunctionName(cx, helpers, "headerList", arguments, &entries)
            && entries.isObject()) {
            JS::RootedObject list(cx, &entries.toObject());
            uint32_t length = 0;
            JS::GetArrayLength(cx, list, &length);
            for (uint32_t i = 0; i + 1 < length; i += 2) {
                JS::RootedValue name(cx);
                JS::RootedValue value(cx);
                JS_GetElement(cx, list, i, &name);
                JS_GetElement(cx, list, i + 1, &value);
                converted.headers.append({ toQString(cx, name).toLatin1(), toQString(cx, value).toUtf8() });
            }
        } else {
            JS_ClearPendingException(cx);
        }
    }
    JS::RootedValue bytes(cx);
    JS_GetProperty(cx, request, "_bytes", &bytes);
    if (bytes.isObject() && JS_IsArrayBufferViewObject(&bytes.toObject()))
        converted.body = viewBytes(&bytes.toObject());
    return converted;
}

Result<HttpResponse> JsWorkerScript::Private::toResponse(JS::HandleValue value,
                                                         std::shared_ptr<ServerWebSocket> upgraded)
{
    JSContext *cx = context();
    JS::RootedObject globalObject(cx, global());
    if (!isInstance(cx, globalObject, "Response", value))
        return Error::typeError(kNotAResponse);
    JS::RootedObject response(cx, &value.toObject());
    HttpResponse converted;
    JS::RootedValue status(cx);
    JS_GetProperty(cx, response, "status", &status);
    converted.status = status.isNumber() ? int(status.toNumber()) : 500;
    JS::RootedValue headers(cx);
    JS_GetProperty(cx, response, "headers", &headers);
    if (headers.isObject()) {
        JS::RootedObject headersObject(cx, &headers.toObject());
        JS::RootedValueArray<1> arguments(cx);
        arguments[0].setString(newString(cx, QStringLiteral("content-type")));
        JS::RootedValue type(cx);
        if (JS_CallFunctionName(cx, headersObject, "get", arguments, &type))
            converted.contentType = type.isString() ? toQString(cx, type).toUtf8() : QByteArray();
        else
            JS_ClearPendingException(cx);
    }
    JS::RootedValue bytes(cx);
    JS_GetProperty(cx, response, "_bytes", &bytes);
    if (bytes.isObject() && JS_IsArrayBufferViewObject(&bytes.toObject()))
        converted.body = viewBytes(&bytes.toObject());
    JS::RootedValue webSocket(cx);
    JS_GetProperty(cx, response, "webSocket", &webSocket);
    if (converted.status == 101 && webSocket.isObject()) {
        JS::RootedObject socketObject(cx, &webSocket.toObject());
        JS::RootedValue handle(cx);
        JS_GetProperty(cx, socketObject, "_handle", &handle);
        const auto end = sockets.find(quint64(handle.isNumber() ? handle.toNumber() : 0));
        if (end != sockets.end()) {
            const auto peer = sockets.find(end->second.peer);
            converted.webSocket = peer != sockets.end() && peer->second.socket ? peer->second.socket
                                                                              : upgraded;
        }
    }
    return converted;
}

quint64 JsWorkerScript::Private::handleFor(const std::shared_ptr<ServerWebSocket> &socket)
{
    const auto found = handlesBySocket.find(socket.get());
    if (found != handlesBySocket.end())
        return found->second;
    const quint64 handle = ++lastSocket;
    sockets[handle] = { socket, 0, true };
    handlesBySocket[socket.get()] = handle;
    return handle;
}


// ---------------------------------------------------------------------------------------------
// Durable Object instances

class JsObject : public DurableObjectBehaviour
{
public:
    JsObject(JsWorkerScript::Private &d, DurableObjectState &ctx, const QString &className);
    ~JsObject() override;

    Task<Result<HttpResponse>> fetch(HttpRequest request) override;
    Task<Result<QJsonValue>> call(QString method, QJsonArray arguments) override;
    Task<Status> webSocketMessage(std::shared_ptr<ServerWebSocket> socket,
                                  WebSocketMessage message) override;
    Task<Status> webSocketClose(std::shared_ptr<ServerWebSocket> socket, int code, QString reason,
                                bool wasClean) override;
    Task<Status> webSocketError(std::shared_ptr<ServerWebSocket> socket, Error error) override;
    bool hasAlarmHandler() const override;
    Task<Status> alarm(AlarmInfo info) override;

    DurableObjectState &ctx() { return m_ctx; }
    /// The server end that the request being handled asked for, for ctx.acceptWebSocket().
    std::shared_ptr<ServerWebSocket> pendingUpgrade;
    bool constructed() const { return m_constructed; }
    const QString &className() const { return m_className; }

private:
    /// Dispatches an event of a socket accepted with ws.accept() to its listeners; `fill`
    /// adds the event's fields.
    Status dispatchToListeners(quint64 handle, const char *type,
                               const std::function<bool(JSContext *, JS::HandleObject)> &fill);

    /// Calls instance[method](...arguments) and awaits the result.
    Task<Result<HeldValue>> invoke(const char *method, std::function<bool(JS::MutableHandleValueVector)> arguments, bool optional);

    JsWorkerScript::Private &d;
    DurableObjectState &m_ctx;
    QString m_className;
    int m_number;
    JS::PersistentRooted<JSObject *> m_instance;
    JS::PersistentRooted<JSObject *> m_state; ///< the JavaScript ctx
    bool m_constructed = false;
};

JsObject::JsObject(JsWorkerScript::Private &d, DurableObjectState &ctx, const QString &className)
    : d(d), m_ctx(ctx), m_className(className), m_number(++d.lastObject)
{
    d.objects[m_number] = this;
    JSContext *cx = d.context();
    RealmScope scope(d.runtime.realm());
    ScriptScope running;
    AsyncContextScope caller(JsWorkerScript::Private::callerContext(m_number, ctx.location()));

    // ctx.id carries the name the object was reached by, as the platform's does.
    JS::RootedObject helpers(cx, d.constructors);
    JS::RootedValue idConstructor(cx);
    JS_GetProperty(cx, helpers, "DurableObjectId", &idConstructor);
    JS::RootedValueArray<2> idArguments(cx);
    idArguments[0].setString(newString(cx, ctx.id().toString()));
    if (ctx.id().name())
        idArguments[1].setString(newString(cx, *ctx.id().name()));
    JS::RootedObject id(cx);
    JS::RootedValue stateConstructor(cx);
    JS_GetProperty(cx, helpers, "DurableObjectState", &stateConstructor);
    JS::RootedObject state(cx);
    JS::RootedValueArray<2> stateArguments(cx);
    JS::RootedValue classValue(cx);
    JS::RootedObject exports(cx, d.exports);
    JS::RootedObject instance(cx);
    bool ok = JS::Construct(cx, idConstructor, idArguments, &id);
    if (ok) {
        stateArguments[0].setInt32(m_number);
        stateArguments[1].setObject(*id);
        ok = JS::Construct(cx, stateConstructor, stateArguments, &state);
    }
    if (ok) {
        m_state.init(cx, state);
        ok = JS_GetProperty(cx, exports, className.toUtf8().constData(), &classValue);
    }
    if (ok) {
        JS::RootedValueArray<2> arguments(cx);
        arguments[0].setObject(*state);
        arguments[1].setObject(*d.env);
        ok = JS::Construct(cx, classValue, arguments, &instance);
    }
    if (ok) {
        m_instance.init(cx, instance);
        m_constructed = true;
    } else {
        d.recordError(className + QStringLiteral(" constructor"), Engine::current().takeException(),
                      ctx.actorName());
    }
    d.settle();
}

QString JsWorkerScript::Private::callerActor() const
{
    const auto found = objects.find(callerObject());
    return found == objects.end() ? QStringLiteral("worker") : found->second->ctx().actorName();
}

JsObject::~JsObject()
{
    d.objects.erase(m_number);
}

Task<Result<HeldValue>> JsObject::invoke(const char *method,
                                         std::function<bool(JS::MutableHandleValueVector)> arguments,
                                         bool optional)
{
    if (!m_constructed)
        co_return Error::error(QStringLiteral("The %1 constructor threw, so the object cannot run %2.")
                                       .arg(m_className, QString::fromLatin1(method)));
    JSContext *cx = d.context();
    HeldValue result;
    {
        RealmScope scope(d.runtime.realm());
        ScriptScope running;
        AsyncContextScope caller(JsWorkerScript::Private::callerContext(m_number, m_ctx.location()));
        JS::RootedObject instance(cx, m_instance);
        JS::RootedValue function(cx);
        if (!JS_GetProperty(cx, instance, method, &function)) {
            co_return d.errorFromValue(JS::UndefinedHandleValue, m_className + QLatin1Char('.') + QLatin1String(method),
                                       m_ctx.actorName());
        }
        if (!function.isObject() || !JS::IsCallable(&function.toObject())) {
            if (optional) {
                JS::RootedValue undefined(cx);
                co_return d.hold(undefined);
            }
            co_return Error::typeError(QStringLiteral("%1 has no %2() handler.").arg(m_className, QString::fromLatin1(method)));
        }
        JS::RootedValueVector values(cx);
        if (!arguments(&values))
            co_return Error::error(QStringLiteral("Converting the arguments of %1 failed.").arg(QString::fromLatin1(method)));
        JS::RootedValue value(cx);
        if (!JS::Call(cx, instance, function, JS::HandleValueArray(values), &value)) {
            const ScriptError error = Engine::current().takeException();
            d.recordError(m_className + QLatin1Char('.') + QLatin1String(method), error,
                          m_ctx.actorName());
            Error converted = error.toError();
            converted.message = error.message;
            converted.remote = true;
            // A script stopped in the middle may have left the instance half updated, so the
            // object resets, as the platform resets an object that exceeds its CPU limit.
            if (error.interrupted)
                m_ctx.abort(error.message);
            co_return converted;
        }
        result = d.hold(value);
    }
    const JsWorkerScript::Private::Settled settled = co_await d.awaitHeld(result);
    if (!settled.fulfilled) {
        JS::RootedValue reason(cx, settled.value->get());
        RealmScope scope(d.runtime.realm());
        co_return d.errorFromValue(reason, m_className + QLatin1Char('.') + QLatin1String(method),
                                   m_ctx.actorName());
    }
    co_return settled.value;
}

Task<Result<HttpResponse>> JsObject::fetch(HttpRequest request)
{
    pendingUpgrade = request.upgradeClient ? m_ctx.upgrade(request) : nullptr;
    const std::shared_ptr<ServerWebSocket> upgraded = pendingUpgrade;
    JsWorkerScript::Private &script = d;
    // Named, because GCC 12.2 destroys a capturing lambda temporary in a co_await twice.
    const std::function<bool(JS::MutableHandleValueVector)> arguments =
            [&script, &request](JS::MutableHandleValueVector values) {
                JSObject *jsRequest = script.toRequest(request);
                return jsRequest && values.append(JS::ObjectValue(*jsRequest));
            };
    const Result<HeldValue> result = co_await invoke("fetch", arguments, false);
    pendingUpgrade = nullptr;
    if (!result)
        co_return result.error();
    RealmScope scope(d.runtime.realm());
    JS::RootedValue value(d.context(), (*result)->get());
    co_return d.toResponse(value, upgraded);
}

Task<Result<QJsonValue>> JsObject::call(QString method, QJsonArray arguments)
{
    JsWorkerScript::Private &script = d;
    const QByteArray name = method.toUtf8();
    const std::function<bool(JS::MutableHandleValueVector)> convert = [&script, &arguments](JS::MutableHandleValueVector values) {
        JSContext *cx = script.context();
        for (const QJsonValue &argument : arguments) {
            const QString text = QString::fromUtf8(QJsonDocument(QJsonArray { argument }).toJson(QJsonDocument::Compact));
            JS::RootedValue parsed(cx);
            if (!parseJsonText(cx, text, &parsed))
                return false;
            JS::RootedObject array(cx, &parsed.toObject());
            JS::RootedValue element(cx);
            JS_GetElement(cx, array, 0, &element);
            if (!values.append(element))
                return false;
        }
        return true;
    };
    const Result<HeldValue> result = co_await invoke(name.constData(), convert, false);
    if (!result)
        co_return result.error();
    RealmScope scope(d.runtime.realm());
    JSContext *cx = d.context();
    JS::RootedValue value(cx, (*result)->get());
    if (value.isUndefined())
        co_return QJsonValue();
    JS::RootedObject globalObject(cx, d.global());
    JS::RootedValue jsonObject(cx);
    JS_GetProperty(cx, globalObject, "JSON", &jsonObject);
    JS::RootedObject jsonNamespace(cx, &jsonObject.toObject());
    JS::RootedValueArray<1> stringifyArguments(cx);
    stringifyArguments[0].set(value);
    JS::RootedValue text(cx);
    if (!JS_CallFunctionName(cx, jsonNamespace, "stringify", stringifyArguments, &text))
        co_return d.errorFromValue(JS::UndefinedHandleValue, m_className + QLatin1Char('.') + method,
                                   m_ctx.actorName());
    const QByteArray wrapped = "[" + toQString(cx, text).toUtf8() + "]";
    co_return QJsonDocument::fromJson(wrapped).array().at(0);
}

Status JsObject::dispatchToListeners(quint64 handle, const char *type,
                                     const std::function<bool(JSContext *, JS::HandleObject)> &fill)
{
    const QString where = m_className + QStringLiteral(".WebSocket ") + QLatin1String(type) + QStringLiteral(" listener");
    if (!m_constructed)
        return Error::error(QStringLiteral("The %1 constructor threw, so the object cannot run %2.").arg(m_className, where));
    JSContext *cx = d.context();
    RealmScope scope(d.runtime.realm());
    ScriptScope running;
    AsyncContextScope caller(JsWorkerScript::Private::callerContext(m_number, m_ctx.location()));
    JS::RootedObject helpers(cx, d.constructors);
    JS::RootedObject event(cx, JS_NewPlainObject(cx));
    JS::RootedValueArray<3> arguments(cx);
    arguments[0].setNumber(double(handle));
    arguments[1].setString(newString(cx, QString::fromLatin1(type)));
    JS::RootedValue ignored(cx);
    if (!event || !fill(cx, event)) {
        JS_ClearPendingException(cx);
        return Error::error(QStringLiteral("Converting the %1 event failed.").arg(QLatin1String(type)));
    }
    arguments[2].setObject(*event);
    if (!JS_CallFunctionName(cx, helpers, "dispatchSocketEvent", arguments, &ignored)) {
        const ScriptError error = Engine::current().takeException();
        d.recordError(where, error);
        if (error.interrupted)
            m_ctx.abort(error.message);
        Error converted = error.toError();
        converted.message = error.message;
        converted.remote = true;
        return converted;
    }
    d.settle();
    return Done {};
}

Task<Status> JsObject::webSocketMessage(std::shared_ptr<ServerWebSocket> socket, WebSocketMessage message)
{
    JsWorkerScript::Private &script = d;
    const quint64 handle = d.handleFor(socket);
    if (!socket->hibernatable) {
        const std::function<bool(JSContext *, JS::HandleObject)> fill = [&message](JSContext *cx, JS::HandleObject event) {
            JS::RootedValue data(cx);
            if (message.binary) {
                JS::RootedObject bytes(cx, newBytes(cx, message.data));
                if (!bytes || !JS_GetProperty(cx, bytes, "buffer", &data))
                    return false;
            } else {
                data.setString(newString(cx, QString::fromUtf8(message.data)));
            }
            return JS_DefineProperty(cx, event, "data", data, JSPROP_ENUMERATE);
        };
        co_return dispatchToListeners(handle, "message", fill);
    }
    JS::PersistentRooted<JSObject *> &state = m_state;
    const std::function<bool(JS::MutableHandleValueVector)> convert = [&script, &state, handle, &message](JS::MutableHandleValueVector values) {
        JSContext *cx = script.context();
        JS::RootedObject ctx(cx, state);
        JS::RootedValueArray<1> handleArgument(cx);
        handleArgument[0].setNumber(double(handle));
        JS::RootedValue ws(cx);
        if (!JS_CallFunctionName(cx, ctx, "_socket", handleArgument, &ws))
            return false;
        JS::RootedValue data(cx);
        if (message.binary) {
            JS::RootedObject bytes(cx, newBytes(cx, message.data));
            JS::RootedValue buffer(cx);
            JS_GetProperty(cx, bytes, "buffer", &buffer);
            data.set(buffer);
        } else {
            data.setString(newString(cx, QString::fromUtf8(message.data)));
        }
        return values.append(ws) && values.append(data);
    };
    const Result<HeldValue> result = co_await invoke("webSocketMessage", convert, true);
    if (!result)
        co_return result.error();
    co_return Done {};
}

Task<Status> JsObject::webSocketClose(std::shared_ptr<ServerWebSocket> socket, int code, QString reason, bool wasClean)
{
    JsWorkerScript::Private &script = d;
    const quint64 handle = d.handleFor(socket);
    if (!socket->hibernatable) {
        const std::function<bool(JSContext *, JS::HandleObject)> fill = [code, &reason, wasClean](JSContext *cx, JS::HandleObject event) {
            JS::RootedString text(cx, newString(cx, reason));
            return text && JS_DefineProperty(cx, event, "code", code, JSPROP_ENUMERATE)
                && JS_DefineProperty(cx, event, "reason", text, JSPROP_ENUMERATE)
                && JS_DefineProperty(cx, event, "wasClean", wasClean ? JS::TrueHandleValue : JS::FalseHandleValue, JSPROP_ENUMERATE);
        };
        co_return dispatchToListeners(handle, "close", fill);
    }
    JS::PersistentRooted<JSObject *> &state = m_state;
    const std::function<bool(JS::MutableHandleValueVector)> convert = [&script, &state, handle, code, &reason, wasClean](JS::MutableHandleValueVector values) {
        JSContext *cx = script.context();
        JS::RootedObject ctx(cx, state);
        JS::RootedValueArray<1> handleArgument(cx);
        handleArgument[0].setNumber(double(handle));
        JS::RootedValue ws(cx);
        if (!JS_CallFunctionName(cx, ctx, "_socket", handleArgument, &ws))
            return false;
        return values.append(ws) && values.append(JS::Int32Value(code))
            && values.append(JS::StringValue(newString(cx, reason))) && values.append(JS::BooleanValue(wasClean));
    };
    const Result<HeldValue> result = co_await invoke("webSocketClose", convert, true);
    if (!result)
        co_return result.error();
    co_return Done {};
}

Task<Status> JsObject::webSocketError(std::shared_ptr<ServerWebSocket> socket, Error error)
{
    JsWorkerScript::Private &script = d;
    const quint64 handle = d.handleFor(socket);
    if (!socket->hibernatable) {
        const std::function<bool(JSContext *, JS::HandleObject)> fill = [&script, &error](JSContext *cx, JS::HandleObject event) {
            JS::RootedValue converted(cx, script.makeError(error));
            JS::RootedString message(cx, newString(cx, error.message));
            return message && JS_DefineProperty(cx, event, "error", converted, JSPROP_ENUMERATE)
                && JS_DefineProperty(cx, event, "message", message, JSPROP_ENUMERATE);
        };
        co_return dispatchToListeners(handle, "error", fill);
    }
    JS::PersistentRooted<JSObject *> &state = m_state;
    const std::function<bool(JS::MutableHandleValueVector)> convert = [&script, &state, handle, &error](JS::MutableHandleValueVector values) {
        JSContext *cx = script.context();
        JS::RootedObject ctx(cx, state);
        JS::RootedValueArray<1> handleArgument(cx);
        handleArgument[0].setNumber(double(handle));
        JS::RootedValue ws(cx);
        if (!JS_CallFunctionName(cx, ctx, "_socket", handleArgument, &ws))
            return false;
        JS::RootedValue converted(cx, script.makeError(error));
        return values.append(ws) && values.append(converted);
    };
    const Result<HeldValue> result = co_await invoke("webSocketError", convert, true);
    if (!result)
        co_return result.error();
    co_return Done {};
}


bool JsObject::hasAlarmHandler() const
{
    if (!m_constructed)
        return false;
    JSContext *cx = d.context();
    RealmScope scope(d.runtime.realm());
    JS::RootedObject instance(cx, m_instance);
    JS::RootedValue handler(cx);
    return JS_GetProperty(cx, instance, "alarm", &handler) && handler.isObject()
        && JS::IsCallable(&handler.toObject());
}

Task<Status> JsObject::alarm(AlarmInfo info)
{
    JsWorkerScript::Private &script = d;
    const std::function<bool(JS::MutableHandleValueVector)> convert = [&script, info](JS::MutableHandleValueVector values) {
        JSContext *cx = script.context();
        JS::RootedObject details(cx, JS_NewPlainObject(cx));
        JS_DefineProperty(cx, details, "retryCount", info.retryCount, JSPROP_ENUMERATE);
        JS_DefineProperty(cx, details, "isRetry", info.isRetry ? JS::TrueHandleValue : JS::FalseHandleValue, JSPROP_ENUMERATE);
        return values.append(JS::ObjectValue(*details));
    };
    const Result<HeldValue> result = co_await invoke("alarm", convert, false);
    if (!result)
        co_return result.error();
    co_return Done {};
}

// ---------------------------------------------------------------------------------------------
// Host functions of bindings.js

namespace {

using Private = JsWorkerScript::Private;

KvNamespace *kvBinding(Private &d, JS::HandleValue index)
{
    const int i = index.isNumber() ? int(index.toNumber()) : -1;
    return i >= 0 && i < int(d.bindings.kv.size()) ? d.bindings.kv[size_t(i)].kv : nullptr;
}

DurableObjectNamespace *objectsBinding(Private &d, JS::HandleValue index)
{
    const int i = index.isNumber() ? int(index.toNumber()) : -1;
    return i >= 0 && i < int(d.bindings.durableObjects.size())
            ? d.bindings.durableObjects[size_t(i)].objects
            : nullptr;
}

JsObject *objectOf(Private &d, JS::HandleValue number)
{
    const auto found = d.objects.find(number.isNumber() ? int(number.toNumber()) : -1);
    return found == d.objects.end() ? nullptr : found->second;
}

/// Throws `error` as the JavaScript error of its kind; returns false for the native to return.
bool throwError(JSContext *cx, Private &d, const Error &error)
{
    JS::RootedValue value(cx, d.makeError(error));
    JS_SetPendingException(cx, value);
    return false;
}

/// Returns a new promise from a native and runs `task` to settle it.
bool returnPromise(JSContext *cx, Private &d, JS::CallArgs &args, HeldValue &promise)
{
    JSObject *object = d.newPromise(promise);
    if (!object)
        return false;
    args.rval().setObject(*object);
    return true;
}

Task<void> kvGetTask(Private *d, HeldValue promise, KvNamespace *kv, QString actor,
                     LocationId from, QString key, KvGetOptions options, bool withMetadata)
{
    const Result<KvReadResult> read = co_await kv->get(actor, from, key, options);
    if (!read) {
        d->rejectLater(promise, read.error());
        co_return;
    }
    const QString type = options.type;
    d->resolveLater(promise, [&](JS::MutableHandleValue result) {
        JSContext *cx = d->context();
        JS::RootedValue value(cx, JS::NullValue());
        if (read->value) {
            if (type == QLatin1String("json")) {
                const QString text = QString::fromUtf8(*read->value);
                if (!parseJsonText(cx, text, &value))
                    return false;
            } else if (type == QLatin1String("arrayBuffer") || type == QLatin1String("stream")) {
                // NOTE: "stream" gives an ArrayBuffer: the runtime has no ReadableStream yet.
                JS::RootedObject bytes(cx, newBytes(cx, *read->value));
                JS_GetProperty(cx, bytes, "buffer", &value);
            } else {
                value.setString(newString(cx, QString::fromUtf8(*read->value)));
            }
        }
        if (!withMetadata) {
            result.set(value);
            return true;
        }
        JS::RootedObject object(cx, JS_NewPlainObject(cx));
        JS_DefineProperty(cx, object, "value", value, JSPROP_ENUMERATE);
        JS::RootedValue metadata(cx, JS::NullValue());
        if (read->metadata) {
            const QString text = QString::fromUtf8(*read->metadata);
            if (!parseJsonText(cx, text, &metadata))
                return false;
        }
        JS_DefineProperty(cx, object, "metadata", metadata, JSPROP_ENUMERATE);
        JS_DefineProperty(cx, object, "cacheStatus", JS::NullHandleValue, JSPROP_ENUMERATE);
        result.setObject(*object);
        return true;
    });
}

/// Settles the promise of get(keys) or getWithMetadata(keys) with a Map that has one entry per
/// distinct key, in request order. A missing key maps to null, and with metadata a present key
/// maps to {value, metadata}.
Task<void> kvGetBulkTask(Private *d, HeldValue promise, KvNamespace *kv, QString actor,
                         LocationId from, QStringList keys, KvBulkGetOptions options)
{
    const Result<std::vector<KvBulkEntry>> read = co_await kv->getBulk(actor, from, keys, options);
    if (!read) {
        d->rejectLater(promise, read.error());
        co_return;
    }
    const bool json = options.type == QLatin1String("json");
    const bool withMetadata = options.withMetadata;
    d->resolveLater(promise, [&](JS::MutableHandleValue result) {
        JSContext *cx = d->context();
        JS::RootedObject map(cx, JS::NewMapObject(cx));
        if (!map)
            return false;
        for (const KvBulkEntry &entry : *read) {
            JS::RootedValue key(cx, JS::StringValue(newString(cx, entry.key)));
            JS::RootedValue value(cx, JS::NullValue());
            if (entry.value) {
                if (json) {
                    if (!parseJsonText(cx, QString::fromUtf8(*entry.value), &value))
                        return false;
                } else {
                    value.setString(newString(cx, QString::fromUtf8(*entry.value)));
                }
            }
            if (withMetadata && entry.value) {
                JS::RootedObject pair(cx, JS_NewPlainObject(cx));
                JS::RootedValue metadata(cx, JS::NullValue());
                if (entry.metadata && !parseJsonText(cx, QString::fromUtf8(*entry.metadata), &metadata))
                    return false;
                JS_DefineProperty(cx, pair, "value", value, JSPROP_ENUMERATE);
                JS_DefineProperty(cx, pair, "metadata", metadata, JSPROP_ENUMERATE);
                value.setObject(*pair);
            }
            if (!JS::MapSet(cx, map, key, value))
                return false;
        }
        result.setObject(*map);
        return true;
    });
}

Task<void> kvStatusTask(Private *d, HeldValue promise, Task<Status> operation)
{
    const Status status = co_await std::move(operation);
    if (!status) {
        d->rejectLater(promise, status.error());
        co_return;
    }
    d->resolveLater(promise, [](JS::MutableHandleValue result) {
        result.setUndefined();
        return true;
    });
}

Task<void> kvListTask(Private *d, HeldValue promise, KvNamespace *kv, QString actor,
                      LocationId from, KvListOptions options)
{
    const Result<KvListResult> listed = co_await kv->list(actor, from, options);
    if (!listed) {
        d->rejectLater(promise, listed.error());
        co_return;
    }
    d->resolveLater(promise, [&](JS::MutableHandleValue result) {
        JSContext *cx = d->context();
        JS::RootedObject keys(cx, JS::NewArrayObject(cx, 0));
        uint32_t index = 0;
        for (const KvListKey &key : listed->keys) {
            JS::RootedObject entry(cx, JS_NewPlainObject(cx));
            JS::RootedString name(cx, newString(cx, key.name));
            JS_DefineProperty(cx, entry, "name", name, JSPROP_ENUMERATE);
            if (key.expiration)
                JS_DefineProperty(cx, entry, "expiration", double(*key.expiration), JSPROP_ENUMERATE);
            if (key.metadata) {
                const QString text = QString::fromUtf8(*key.metadata);
                JS::RootedValue metadata(cx);
                if (!parseJsonText(cx, text, &metadata))
                    return false;
                JS_DefineProperty(cx, entry, "metadata", metadata, JSPROP_ENUMERATE);
            }
            JS_DefineElement(cx, keys, index++, entry, JSPROP_ENUMERATE);
        }
        JS::RootedObject object(cx, JS_NewPlainObject(cx));
        JS_DefineProperty(cx, object, "keys", keys, JSPROP_ENUMERATE);
        JS_DefineProperty(cx, object, "list_complete", listed->listComplete ? JS::TrueHandleValue : JS::FalseHandleValue, JSPROP_ENUMERATE);
        if (!listed->listComplete) {
            JS::RootedString cursor(cx, newString(cx, listed->cursor));
            JS_DefineProperty(cx, object, "cursor", cursor, JSPROP_ENUMERATE);
        }
        JS_DefineProperty(cx, object, "cacheStatus", JS::NullHandleValue, JSPROP_ENUMERATE);
        result.setObject(*object);
        return true;
    });
}

std::optional<double> optionalNumber(JS::HandleValue value)
{
    return value.isNumber() ? std::optional<double>(value.toNumber()) : std::nullopt;
}

QString actorFor(Private &d)
{
    return d.callerActor();
}

bool kvGet(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    Private &d = *Private::current(cx);
    KvNamespace *kv = kvBinding(d, args.get(0));
    if (!kv)
        return throwError(cx, d, Error::error(QStringLiteral("Unknown KV binding.")));
    if (args.get(1).isObject()) {
        // get(keys) and getWithMetadata(keys): bindings.js has turned every key into a string.
        JS::RootedObject array(cx, &args.get(1).toObject());
        uint32_t length = 0;
        if (!JS::GetArrayLength(cx, array, &length))
            return false;
        QStringList keys;
        for (uint32_t i = 0; i < length; ++i) {
            JS::RootedValue key(cx);
            if (!JS_GetElement(cx, array, i, &key))
                return false;
            keys << toQString(cx, key);
        }
        KvBulkGetOptions bulkOptions;
        bulkOptions.type = toQString(cx, args.get(2));
        bulkOptions.cacheTtl = optionalNumber(args.get(3));
        bulkOptions.withMetadata = JS::ToBoolean(args.get(4));
        HeldValue promise;
        if (!returnPromise(cx, d, args, promise))
            return false;
        d.simulation.spawn(kvGetBulkTask(&d, promise, kv, actorFor(d), d.callerLocation(), keys,
                                         bulkOptions));
        return true;
    }
    KvGetOptions options;
    options.type = toQString(cx, args.get(2));
    options.cacheTtl = optionalNumber(args.get(3));
    HeldValue promise;
    if (!returnPromise(cx, d, args, promise))
        return false;
    d.simulation.spawn(kvGetTask(&d, promise, kv, actorFor(d), d.callerLocation(),
                                 toQString(cx, args.get(1)), options, JS::ToBoolean(args.get(4))));
    return true;
}

bool kvPut(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    Private &d = *Private::current(cx);
    KvNamespace *kv = kvBinding(d, args.get(0));
    if (!kv)
        return throwError(cx, d, Error::error(QStringLiteral("Unknown KV binding.")));
    const QByteArray value = args.get(2).isString()
            ? toQString(cx, args.get(2)).toUtf8()
            : (args.get(2).isObject() && JS_IsArrayBufferViewObject(&args.get(2).toObject())
                       ? viewBytes(&args.get(2).toObject())
                       : QByteArray());
    KvPutOptions options;
    options.expiration = optionalNumber(args.get(3));
    options.expirationTtl = optionalNumber(args.get(4));
    if (args.get(5).isString())
        options.metadata = toQString(cx, args.get(5)).toUtf8();
    HeldValue promise;
    if (!returnPromise(cx, d, args, promise))
        return false;
    d.simulation.spawn(kvStatusTask(&d, promise, kv->put(actorFor(d), d.callerLocation(),
                                                         toQString(cx, args.get(1)), value, options)));
    return true;
}

bool kvDelete(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    Private &d = *Private::current(cx);
    KvNamespace *kv = kvBinding(d, args.get(0));
    if (!kv)
        return throwError(cx, d, Error::error(QStringLiteral("Unknown KV binding.")));
    HeldValue promise;
    if (!returnPromise(cx, d, args, promise))
        return false;
    d.simulation.spawn(kvStatusTask(&d, promise, kv->remove(actorFor(d), d.callerLocation(), toQString(cx, args.get(1)))));
    return true;
}

bool kvList(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    Private &d = *Private::current(cx);
    KvNamespace *kv = kvBinding(d, args.get(0));
    if (!kv)
        return throwError(cx, d, Error::error(QStringLiteral("Unknown KV binding.")));
    KvListOptions options;
    options.prefix = toQString(cx, args.get(1));
    options.limit = optionalNumber(args.get(2));
    options.cursor = toQString(cx, args.get(3));
    HeldValue promise;
    if (!returnPromise(cx, d, args, promise))
        return false;
    d.simulation.spawn(kvListTask(&d, promise, kv, actorFor(d), d.callerLocation(), options));
    return true;
}

bool returnString(JSContext *cx, JS::CallArgs &args, const QString &text)
{
    JSString *string = newString(cx, text);
    if (!string)
        return false;
    args.rval().setString(string);
    return true;
}

bool doIdFromName(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    Private &d = *Private::current(cx);
    DurableObjectNamespace *objects = objectsBinding(d, args.get(0));
    if (!objects)
        return throwError(cx, d, Error::error(QStringLiteral("Unknown Durable Object binding.")));
    return returnString(cx, args, objects->idFromName(toQString(cx, args.get(1))).toString());
}

bool doIdFromString(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    Private &d = *Private::current(cx);
    DurableObjectNamespace *objects = objectsBinding(d, args.get(0));
    if (!objects)
        return throwError(cx, d, Error::error(QStringLiteral("Unknown Durable Object binding.")));
    const Result<DurableObjectId> id = objects->idFromString(toQString(cx, args.get(1)));
    if (!id)
        return throwError(cx, d, id.error());
    return returnString(cx, args, id->toString());
}

bool doNewUniqueId(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    Private &d = *Private::current(cx);
    DurableObjectNamespace *objects = objectsBinding(d, args.get(0));
    if (!objects)
        return throwError(cx, d, Error::error(QStringLiteral("Unknown Durable Object binding.")));
    const Result<DurableObjectId> id = objects->newUniqueId(toQString(cx, args.get(1)));
    if (!id)
        return throwError(cx, d, id.error());
    return returnString(cx, args, id->toString());
}

/// The ID a stub call addresses: from its hex string, with the name it was made from.
Result<DurableObjectId> stubId(JSContext *cx, DurableObjectNamespace &objects, JS::HandleValue hex,
                               JS::HandleValue name)
{
    if (name.isString())
        return objects.idFromName(toQString(cx, name));
    return objects.idFromString(toQString(cx, hex));
}

/// The stub that a stub.fetch() or RPC call addresses: arguments 0 to 2 are the binding's
/// index, the ID's hex string and the name the ID was made from.
Result<DurableObjectStub> stubOf(JSContext *cx, Private &d, const JS::CallArgs &args)
{
    DurableObjectNamespace *objects = objectsBinding(d, args.get(0));
    if (!objects)
        return Error::error(QStringLiteral("Unknown Durable Object binding."));
    const Result<DurableObjectId> id = stubId(cx, *objects, args.get(1), args.get(2));
    if (!id)
        return id.error();
    return objects->get(*id, d.callerLocation());
}

Task<void> stubFetchTask(Private *d, HeldValue promise, DurableObjectStub stub, HttpRequest request)
{
    const Result<HttpResponse> response = co_await stub.fetch(std::move(request));
    if (!response) {
        d->rejectLater(promise, response.error());
        co_return;
    }
    d->resolveLater(promise, [&](JS::MutableHandleValue result) {
        JSContext *cx = d->context();
        JS::RootedObject globalObject(cx, d->global());
        JS::RootedObject init(cx, JS_NewPlainObject(cx));
        JS_DefineProperty(cx, init, "status", response->status, JSPROP_ENUMERATE);
        if (!response->contentType.isEmpty()) {
            JS::RootedObject headers(cx, JS_NewPlainObject(cx));
            JS::RootedString type(cx, newString(cx, QString::fromLatin1(response->contentType)));
            JS_DefineProperty(cx, headers, "content-type", type, JSPROP_ENUMERATE);
            JS_DefineProperty(cx, init, "headers", headers, JSPROP_ENUMERATE);
        }
        JS::RootedValue body(cx, JS::NullValue());
        if (response->webSocket) {
            // A 101 from the object: the Worker passes the client end on to its caller.
            const quint64 client = ++d->lastSocket;
            d->sockets[client] = { nullptr, 0, false };
            const quint64 server = d->handleFor(response->webSocket);
            d->sockets[client].peer = server;
            JS::RootedObject helpers(cx, d->constructors);
            JS::RootedValue constructor(cx);
            JS_GetProperty(cx, helpers, "WebSocket", &constructor);
            JS::RootedValueArray<1> arguments(cx);
            arguments[0].setNumber(double(client));
            JS::RootedObject webSocket(cx);
            if (!JS::Construct(cx, constructor, arguments, &webSocket))
                return false;
            JS_DefineProperty(cx, init, "webSocket", webSocket, JSPROP_ENUMERATE);
        } else if (!response->body.isEmpty()) {
            body.setObject(*newBytes(cx, response->body));
        }
        JS::RootedValue constructor(cx);
        JS_GetProperty(cx, globalObject, "Response", &constructor);
        JS::RootedValueArray<2> arguments(cx);
        arguments[0].set(body);
        arguments[1].setObject(*init);
        JS::RootedObject object(cx);
        if (!JS::Construct(cx, constructor, arguments, &object))
            return false;
        result.setObject(*object);
        return true;
    });
}

bool stubFetch(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    Private &d = *Private::current(cx);
    const Result<DurableObjectStub> stub = stubOf(cx, d, args);
    if (!stub)
        return throwError(cx, d, stub.error());
    if (!args.get(3).isObject())
        return throwError(cx, d, Error::typeError(QStringLiteral("stub.fetch() expects a Request.")));
    JS::RootedObject requestObject(cx, &args.get(3).toObject());
    HttpRequest request = d.fromRequest(requestObject);
    // The upgrade of the request being served passes on to the object, with its client end.
    if (request.header("upgrade").compare("websocket", Qt::CaseInsensitive) == 0)
        request.upgradeClient = d.currentUpgradeClient;
    HeldValue promise;
    if (!returnPromise(cx, d, args, promise))
        return false;
    d.simulation.spawn(stubFetchTask(&d, promise, *stub, std::move(request)));
    return true;
}

Task<void> stubCallTask(Private *d, HeldValue promise, DurableObjectStub stub, QString method,
                        QJsonArray arguments)
{
    const Result<QJsonValue> result = co_await stub.call(method, arguments);
    if (!result) {
        d->rejectLater(promise, result.error());
        co_return;
    }
    d->resolveLater(promise, [&](JS::MutableHandleValue value) {
        JSContext *cx = d->context();
        const QString text = QString::fromUtf8(QJsonDocument(QJsonArray { *result }).toJson(QJsonDocument::Compact));
        JS::RootedValue parsed(cx);
        if (!parseJsonText(cx, text, &parsed))
            return false;
        JS::RootedObject array(cx, &parsed.toObject());
        return JS_GetElement(cx, array, 0, value);
    });
}

bool stubCall(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    Private &d = *Private::current(cx);
    const Result<DurableObjectStub> stub = stubOf(cx, d, args);
    if (!stub)
        return throwError(cx, d, stub.error());
    const QJsonArray arguments = QJsonDocument::fromJson(toQString(cx, args.get(4)).toUtf8()).array();
    HeldValue promise;
    if (!returnPromise(cx, d, args, promise))
        return false;
    d.simulation.spawn(stubCallTask(&d, promise, *stub, toQString(cx, args.get(3)), arguments));
    return true;
}

bool wsNewPair(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    Private &d = *Private::current(cx);
    const quint64 client = ++d.lastSocket;
    const quint64 server = ++d.lastSocket;
    d.sockets[client] = { nullptr, server, false };
    d.sockets[server] = { nullptr, client, true };
    JS::RootedObject pair(cx, JS::NewArrayObject(cx, 2));
    JS_DefineElement(cx, pair, 0, double(client), JSPROP_ENUMERATE);
    JS_DefineElement(cx, pair, 1, double(server), JSPROP_ENUMERATE);
    args.rval().setObject(*pair);
    return true;
}

Private::SocketEnd *socketEnd(Private &d, JS::HandleValue handle)
{
    const auto found = d.sockets.find(handle.isNumber() ? quint64(handle.toNumber()) : 0);
    return found == d.sockets.end() ? nullptr : &found->second;
}

bool ctxAcceptWebSocket(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    Private &d = *Private::current(cx);
    JsObject *object = objectOf(d, args.get(0));
    Private::SocketEnd *end = socketEnd(d, args.get(1));
    if (!object || !end)
        return throwError(cx, d, Error::typeError(QStringLiteral("Failed to execute 'acceptWebSocket' on 'DurableObjectState': parameter 1 is not of type 'WebSocket'.")));
    if (!end->socket) {
        if (!object->pendingUpgrade)
            return throwError(cx, d, Error::error(QStringLiteral("Roomscope can only accept the server end of a WebSocketPair while the object handles the upgrade request that asked for it.")));
        end->socket = object->pendingUpgrade;
        d.handlesBySocket[end->socket.get()] = quint64(args.get(1).toNumber());
    }
    QStringList tags;
    if (args.get(2).isObject()) {
        JS::RootedObject list(cx, &args.get(2).toObject());
        uint32_t length = 0;
        JS::GetArrayLength(cx, list, &length);
        for (uint32_t i = 0; i < length; ++i) {
            JS::RootedValue tag(cx);
            JS_GetElement(cx, list, i, &tag);
            tags << toQString(cx, tag);
        }
    }
    if (const Status accepted = object->ctx().acceptWebSocket(end->socket, tags); !accepted)
        return throwError(cx, d, accepted.error());
    args.rval().setUndefined();
    return true;
}

bool ctxGetWebSockets(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    Private &d = *Private::current(cx);
    JsObject *object = objectOf(d, args.get(0));
    if (!object)
        return throwError(cx, d, Error::error(QStringLiteral("This ctx belongs to an instance that is gone.")));
    const QString tag = args.get(1).isString() ? toQString(cx, args.get(1)) : QString();
    JS::RootedObject list(cx, JS::NewArrayObject(cx, 0));
    uint32_t index = 0;
    for (const std::shared_ptr<ServerWebSocket> &socket : object->ctx().getWebSockets(tag))
        JS_DefineElement(cx, list, index++, double(d.handleFor(socket)), JSPROP_ENUMERATE);
    args.rval().setObject(*list);
    return true;
}

bool wsSend(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    Private &d = *Private::current(cx);
    Private::SocketEnd *end = socketEnd(d, args.get(0));
    if (!end || !end->socket || !end->socket->object)
        return throwError(cx, d, Error::typeError(QStringLiteral("Failed to execute 'send' on 'WebSocket': The WebSocket has not been accepted.")));
    const bool binary = JS::ToBoolean(args.get(2));
    const QByteArray data = binary && args.get(1).isObject()
            ? viewBytes(&args.get(1).toObject())
            : toQString(cx, args.get(1)).toUtf8();
    auto *owner = dynamic_cast<JsObject *>(end->socket->object->behaviour());
    if (!owner)
        return throwError(cx, d, Error::error(QStringLiteral("The object that accepted this WebSocket is not in memory.")));
    if (const Status sent = owner->ctx().send(end->socket, data, binary); !sent)
        return throwError(cx, d, sent.error());
    // Traced so that the report counts a JavaScript room's messages as sent, as it counts a
    // built-in room's broadcasts.
    TraceEvent event;
    event.kind = TraceKind::WsSend;
    event.actor = owner->ctx().actorName();
    event.subject = end->socket->client->name();
    event.numbers[0] = qint64(end->socket->connection);
    event.numbers[1] = data.size();
    d.simulation.record(std::move(event));
    args.rval().setUndefined();
    return true;
}

bool wsClose(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    Private &d = *Private::current(cx);
    Private::SocketEnd *end = socketEnd(d, args.get(0));
    if (!end || !end->socket || !end->socket->object) {
        args.rval().setUndefined();
        return true;
    }
    if (auto *owner = dynamic_cast<JsObject *>(end->socket->object->behaviour())) {
        int32_t code = 1000;
        if (!JS::ToInt32(cx, args.get(1), &code))
            return false;
        if (const Status closed = owner->ctx().close(end->socket, code, toQString(cx, args.get(2))); !closed)
            return throwError(cx, d, closed.error());
    }
    args.rval().setUndefined();
    return true;
}

bool wsReadyState(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    Private &d = *Private::current(cx);
    Private::SocketEnd *end = socketEnd(d, args.get(0));
    int state = 0;
    if (end && end->socket) {
        switch (end->socket->state) {
        case ServerWebSocket::State::Open: state = 1; break;
        case ServerWebSocket::State::Closing: state = 2; break;
        case ServerWebSocket::State::Closed: state = 3; break;
        }
    }
    args.rval().setInt32(state);
    return true;
}

/// The object whose code runs now, when it serves an upgrade request that no WebSocketPair end
/// has claimed yet.
JsObject *upgradingObject(Private &d)
{
    const auto found = d.objects.find(Private::callerObject());
    if (found == d.objects.end())
        return nullptr;
    JsObject *object = found->second;
    if (!object->pendingUpgrade || d.handlesBySocket.count(object->pendingUpgrade.get()))
        return nullptr;
    return object;
}

bool wsAccept(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    Private &d = *Private::current(cx);
    Private::SocketEnd *end = socketEnd(d, args.get(0));
    if (!end || !end->server)
        return throwError(cx, d, Error::typeError(QStringLiteral("Roomscope can only accept the server end of a WebSocketPair, the second socket.")));
    if (end->socket) {
        auto *owner = end->socket->object ? dynamic_cast<JsObject *>(end->socket->object->behaviour()) : nullptr;
        if (!owner)
            return throwError(cx, d, Error::error(QStringLiteral("The object that accepted this WebSocket is not in memory.")));
        if (const Status accepted = owner->ctx().accept(end->socket); !accepted)
            return throwError(cx, d, accepted.error());
        args.rval().setUndefined();
        return true;
    }
    JsObject *object = upgradingObject(d);
    if (!object)
        return throwError(cx, d, Error::error(QStringLiteral("Roomscope can only accept the server end of a WebSocketPair in a Durable Object while it handles the upgrade request that asked for it.")));
    if (const Status accepted = object->ctx().accept(object->pendingUpgrade); !accepted)
        return throwError(cx, d, accepted.error());
    end->socket = object->pendingUpgrade;
    d.handlesBySocket[end->socket.get()] = quint64(args.get(0).toNumber());
    args.rval().setUndefined();
    return true;
}

/// Decodes a stored value, a storage value or a WebSocket attachment, with the bindings'
/// decodeStoredValue(); undefined for a missing value.
bool decodeStored(JSContext *cx, const std::optional<QByteArray> &json, JS::MutableHandleValue value)
{
    if (!json) {
        value.setUndefined();
        return true;
    }
    Private &d = *Private::current(cx);
    JS::RootedObject helpers(cx, d.constructors);
    JS::RootedValueArray<1> arguments(cx);
    JSString *text = newString(cx, QString::fromUtf8(*json));
    if (!text)
        return false;
    arguments[0].setString(text);
    return JS_CallFunctionName(cx, helpers, "decodeStoredValue", arguments, value);
}

/// Builds a Map from storage entries whose values are stored values.
bool entriesMap(JSContext *cx, const StorageEntries &entries, JS::MutableHandleValue result)
{
    JS::RootedObject map(cx, JS::NewMapObject(cx));
    if (!map)
        return false;
    for (const auto &[key, value] : entries) {
        JS::RootedValue keyValue(cx, JS::StringValue(newString(cx, key)));
        JS::RootedValue parsed(cx);
        if (!decodeStored(cx, value, &parsed) || !JS::MapSet(cx, map, keyValue, parsed))
            return false;
    }
    result.setObject(*map);
    return true;
}

/// Converts a storage write's Done into undefined, as the write's promise resolves.
bool undefinedResult(JSContext *, const Done &, JS::MutableHandleValue result)
{
    result.setUndefined();
    return true;
}

template<typename T>
Task<void> storageTask(Private *d, HeldValue promise, Pending<T> pending,
                       std::function<bool(JSContext *, const T &, JS::MutableHandleValue)> convert)
{
    const Result<T> result = co_await pending;
    if (!result) {
        d->rejectLater(promise, result.error());
        co_return;
    }
    d->resolveLater(promise, [&](JS::MutableHandleValue value) {
        return convert(d->context(), *result, value);
    });
}

/// Settles `promise` with the result of a storage operation, converted by `convert`, or
/// rejects it with the operation's error.
template<typename T>
void settleLater(Private &d, const HeldValue &promise, Pending<T> pending,
                 std::function<bool(JSContext *, const T &, JS::MutableHandleValue)> convert)
{
    d.simulation.spawn(storageTask<T>(&d, promise, std::move(pending), std::move(convert)));
}

/// Settles `promise` with undefined once the operation succeeds.
void settleUndefinedLater(Private &d, const HeldValue &promise, Pending<Done> pending)
{
    settleLater<Done>(d, promise, std::move(pending), undefinedResult);
}

QStringList stringList(JSContext *cx, JS::HandleValue value)
{
    QStringList list;
    if (!value.isObject())
        return list;
    JS::RootedObject array(cx, &value.toObject());
    uint32_t length = 0;
    JS::GetArrayLength(cx, array, &length);
    for (uint32_t i = 0; i < length; ++i) {
        JS::RootedValue element(cx);
        JS_GetElement(cx, array, i, &element);
        list << toQString(cx, element);
    }
    return list;
}

JsObject *requireObject(JSContext *cx, Private &d, JS::HandleValue number)
{
    JsObject *object = objectOf(d, number);
    if (!object)
        throwError(cx, d, Error::error(QStringLiteral("This ctx belongs to an instance that is no longer in memory.")));
    return object;
}

bool storageGet(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    Private &d = *Private::current(cx);
    JsObject *object = requireObject(cx, d, args.get(0));
    if (!object)
        return false;
    HeldValue promise;
    if (!returnPromise(cx, d, args, promise))
        return false;
    if (args.get(1).isObject()) {
        settleLater<StorageEntries>(d, promise, object->ctx().storage().get(stringList(cx, args.get(1))), entriesMap);
    } else {
        const std::function<bool(JSContext *, const std::optional<QByteArray> &, JS::MutableHandleValue)> convert =
                [](JSContext *context, const std::optional<QByteArray> &value, JS::MutableHandleValue result) {
                    return decodeStored(context, value, result);
                };
        settleLater<std::optional<QByteArray>>(d, promise, object->ctx().storage().get(toQString(cx, args.get(1))), convert);
    }
    return true;
}

bool storagePut(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    Private &d = *Private::current(cx);
    JsObject *object = requireObject(cx, d, args.get(0));
    if (!object)
        return false;
    HeldValue promise;
    if (!returnPromise(cx, d, args, promise))
        return false;
    // An undefined value reaches the storage as a missing one, which it rejects as the platform does.
    std::optional<QByteArray> value;
    if (!args.get(2).isUndefined())
        value = toQString(cx, args.get(2)).toUtf8();
    settleUndefinedLater(d, promise, object->ctx().storage().put(toQString(cx, args.get(1)), value));
    return true;
}

bool storagePutEntries(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    Private &d = *Private::current(cx);
    JsObject *object = requireObject(cx, d, args.get(0));
    if (!object)
        return false;
    const QJsonObject entries = QJsonDocument::fromJson(toQString(cx, args.get(1)).toUtf8()).object();
    StorageEntries list;
    for (auto it = entries.begin(); it != entries.end(); ++it)
        list.emplace_back(it.key(), it.value().toString().toUtf8());
    HeldValue promise;
    if (!returnPromise(cx, d, args, promise))
        return false;
    settleUndefinedLater(d, promise, object->ctx().storage().put(list));
    return true;
}

bool storageDelete(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    Private &d = *Private::current(cx);
    JsObject *object = requireObject(cx, d, args.get(0));
    if (!object)
        return false;
    HeldValue promise;
    if (!returnPromise(cx, d, args, promise))
        return false;
    if (args.get(1).isObject()) {
        const std::function<bool(JSContext *, const qint64 &, JS::MutableHandleValue)> convert =
                [](JSContext *, const qint64 &count, JS::MutableHandleValue result) {
                    result.setNumber(double(count));
                    return true;
                };
        settleLater<qint64>(d, promise, object->ctx().storage().remove(stringList(cx, args.get(1))), convert);
    } else {
        const std::function<bool(JSContext *, const bool &, JS::MutableHandleValue)> convert =
                [](JSContext *, const bool &deleted, JS::MutableHandleValue result) {
                    result.setBoolean(deleted);
                    return true;
                };
        settleLater<bool>(d, promise, object->ctx().storage().remove(toQString(cx, args.get(1))), convert);
    }
    return true;
}

/// The options of list() from their JSON form.
StorageListOptions listOptionsFromJson(const QJsonObject &json)
{
    StorageListOptions options;
    const auto text = [&](const char *name) -> std::optional<QString> {
        const QJsonValue value = json.value(QLatin1String(name));
        return value.isString() ? std::optional<QString>(value.toString()) : std::nullopt;
    };
    options.start = text("start");
    options.startAfter = text("startAfter");
    options.end = text("end");
    options.prefix = text("prefix");
    options.reverse = json.value(QLatin1String("reverse")).toBool();
    if (json.value(QLatin1String("limit")).isDouble())
        options.limit = qint64(json.value(QLatin1String("limit")).toDouble());
    return options;
}

bool storageList(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    Private &d = *Private::current(cx);
    JsObject *object = requireObject(cx, d, args.get(0));
    if (!object)
        return false;
    const QJsonObject json = QJsonDocument::fromJson(toQString(cx, args.get(1)).toUtf8()).object();
    const StorageListOptions options = listOptionsFromJson(json);
    HeldValue promise;
    if (!returnPromise(cx, d, args, promise))
        return false;
    settleLater<StorageEntries>(d, promise, object->ctx().storage().list(options), entriesMap);
    return true;
}

bool storageDeleteAll(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    Private &d = *Private::current(cx);
    JsObject *object = requireObject(cx, d, args.get(0));
    if (!object)
        return false;
    HeldValue promise;
    if (!returnPromise(cx, d, args, promise))
        return false;
    settleUndefinedLater(d, promise, object->ctx().storage().deleteAll());
    return true;
}

bool storageGetAlarm(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    Private &d = *Private::current(cx);
    JsObject *object = requireObject(cx, d, args.get(0));
    if (!object)
        return false;
    HeldValue promise;
    if (!returnPromise(cx, d, args, promise))
        return false;
    const std::function<bool(JSContext *, const std::optional<qint64> &, JS::MutableHandleValue)> convert =
            [](JSContext *, const std::optional<qint64> &time, JS::MutableHandleValue result) {
                if (time)
                    result.setNumber(double(*time));
                else
                    result.setNull();
                return true;
            };
    settleLater<std::optional<qint64>>(d, promise, object->ctx().storage().getAlarm(), convert);
    return true;
}

bool storageSetAlarm(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    Private &d = *Private::current(cx);
    JsObject *object = requireObject(cx, d, args.get(0));
    if (!object)
        return false;
    double time = 0;
    if (!JS::ToNumber(cx, args.get(1), &time))
        return false;
    HeldValue promise;
    if (!returnPromise(cx, d, args, promise))
        return false;
    settleUndefinedLater(d, promise, object->ctx().storage().setAlarm(qint64(time)));
    return true;
}

bool storageDeleteAlarm(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    Private &d = *Private::current(cx);
    JsObject *object = requireObject(cx, d, args.get(0));
    if (!object)
        return false;
    HeldValue promise;
    if (!returnPromise(cx, d, args, promise))
        return false;
    settleUndefinedLater(d, promise, object->ctx().storage().deleteAlarm());
    return true;
}

Task<void> waitForPromise(Private *d, HeldValue promise)
{
    co_await d->awaitHeld(promise);
}

bool ctxWaitUntil(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    Private &d = *Private::current(cx);
    JsObject *object = requireObject(cx, d, args.get(0));
    if (!object)
        return false;
    object->ctx().waitUntil(waitForPromise(&d, d.hold(args.get(1))));
    args.rval().setUndefined();
    return true;
}

bool ctxAbort(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    Private &d = *Private::current(cx);
    JsObject *object = requireObject(cx, d, args.get(0));
    if (!object)
        return false;
    object->ctx().abort(toQString(cx, args.get(1)));
    args.rval().setUndefined();
    return true;
}

/// The definition of the default export's handler `method` as a stack frame,
/// "fetch@worker.mjs:6:0", or an empty string when it is not a scripted function. SpiderMonkey
/// 102 has no public API for a function's column, so the column is 0.
QString handlerFrame(JSContext *cx, JS::HandleObject exports, const char *method)
{
    JS::RootedValue defaultExport(cx);
    JS::RootedValue handler(cx);
    if (!JS_GetProperty(cx, exports, "default", &defaultExport) || !defaultExport.isObject()
        || !JS_GetProperty(cx, JS::RootedObject(cx, &defaultExport.toObject()), method, &handler)
        || !handler.isObject()) {
        JS_ClearPendingException(cx);
        return {};
    }
    JS::RootedFunction function(cx, JS_GetObjectFunction(&handler.toObject()));
    JSScript *script = function ? JS_GetFunctionScript(cx, function) : nullptr;
    if (!script) {
        JS_ClearPendingException(cx);
        return {};
    }
    return QStringLiteral("%1@%2:%3:0")
            .arg(QLatin1String(method), QString::fromUtf8(JS_GetScriptFilename(script)))
            .arg(JS_GetScriptBaseLineNumber(cx, script));
}

bool storageSync(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    Private &d = *Private::current(cx);
    JsObject *object = requireObject(cx, d, args.get(0));
    if (!object)
        return false;
    HeldValue promise;
    if (!returnPromise(cx, d, args, promise))
        return false;
    settleUndefinedLater(d, promise, object->ctx().storage().sync());
    return true;
}

// ---- storage.transaction() and transactionSync()

/// Runs the bindings' wrapper of a transaction() callback with the transaction's number, which
/// its txn methods pass to txnCheck() and txnRollback(). The wrapper keeps the callback's value
/// and error, so only success or failure reaches the storage, which commits or rolls back.
Task<Result<QJsonValue>> runTransactionCallback(Private *d, HeldValue callback, QString where,
                                                StorageTransaction *txn)
{
    const quint64 id = ++d->lastTransaction;
    d->transactions[id] = txn;
    const Result<HeldValue> returned = d->callHeld(callback, double(id), where);
    if (!returned) {
        d->transactions.erase(id);
        co_return returned.error();
    }
    const Private::Settled settled = co_await d->awaitHeld(*returned);
    d->transactions.erase(id);
    if (!settled.fulfilled)
        co_return Error::error(QStringLiteral("The transaction callback failed."));
    co_return QJsonValue();
}

Task<void> transactionTask(Private *d, HeldValue promise, StorageApi *storage, HeldValue callback,
                           QString where)
{
    // Named, because GCC 12.2 destroys a capturing lambda temporary in a co_await twice.
    const std::function<Task<Result<QJsonValue>>(StorageTransaction &)> body =
            [d, callback, where](StorageTransaction &txn) {
                return runTransactionCallback(d, callback, where, &txn);
            };
    const Result<QJsonValue> result = co_await storage->transaction(body);
    if (!result) {
        d->rejectLater(promise, result.error());
        co_return;
    }
    d->resolveLater(promise, [](JS::MutableHandleValue value) {
        value.setUndefined();
        return true;
    });
}

bool storageTransaction(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    Private &d = *Private::current(cx);
    JsObject *object = requireObject(cx, d, args.get(0));
    if (!object)
        return false;
    const HeldValue callback = d.hold(args.get(1));
    HeldValue promise;
    if (!returnPromise(cx, d, args, promise))
        return false;
    d.simulation.spawn(transactionTask(&d, promise, &object->ctx().storage(), callback,
                                       object->className() + QStringLiteral(".transaction")));
    return true;
}

/// txnCheck(transaction, operation, rejectRolledBack): throws the platform's error for an
/// operation on a transaction whose callback has finished, or that was rolled back.
bool txnCheck(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    Private &d = *Private::current(cx);
    const QString operation = toQString(cx, args.get(1));
    const auto found = d.transactions.find(args.get(0).isNumber() ? quint64(args.get(0).toNumber()) : 0);
    if (found == d.transactions.end())
        return throwError(cx, d, DurableObjectStorage::committedError(operation));
    if (JS::ToBoolean(args.get(2)) && found->second->isRolledBack())
        return throwError(cx, d, DurableObjectStorage::rolledBackError(operation));
    args.rval().setUndefined();
    return true;
}

bool txnRollback(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    Private &d = *Private::current(cx);
    const auto found = d.transactions.find(args.get(0).isNumber() ? quint64(args.get(0).toNumber()) : 0);
    if (found != d.transactions.end())
        found->second->rollback();
    args.rval().setUndefined();
    return true;
}

bool storageTransactionSync(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    Private &d = *Private::current(cx);
    JsObject *object = requireObject(cx, d, args.get(0));
    if (!object)
        return false;
    JS::RootedValue callback(cx, args.get(1));
    JS::RootedValue returned(cx);
    JS::RootedValue exception(cx);
    bool threw = false;
    bool uncatchable = false;
    const std::function<Result<QJsonValue>()> body = [&]() -> Result<QJsonValue> {
        if (JS::Call(cx, JS::UndefinedHandleValue, callback, JS::HandleValueArray::empty(), &returned))
            return QJsonValue();
        threw = true;
        // The watchdog's interrupt leaves no exception to rethrow.
        uncatchable = !JS_GetPendingException(cx, &exception);
        JS_ClearPendingException(cx);
        return Error::error(QStringLiteral("The transactionSync() callback threw."));
    };
    const Result<QJsonValue> result = object->ctx().storage().transactionSync(body);
    if (uncatchable)
        return false;
    if (threw) {
        JS_SetPendingException(cx, exception);
        return false;
    }
    if (!result)
        return throwError(cx, d, result.error());
    args.rval().set(returned);
    return true;
}

// ---- storage.sql

/// Converts a binding of sql.exec() to the storage's QVariant: null, a number (bound as a
/// double, as workerd binds a JavaScript number), a string or bytes.
bool sqlBinding(JSContext *cx, Private &d, JS::HandleValue value, int index, QVariant &converted)
{
    if (value.isNullOrUndefined()) {
        converted = QVariant();
    } else if (value.isNumber()) {
        converted = value.toNumber();
    } else if (value.isString()) {
        converted = toQString(cx, value);
    } else if (value.isObject() && JS_IsArrayBufferViewObject(&value.toObject())) {
        converted = viewBytes(&value.toObject());
    } else {
        const char *type = value.isBoolean() ? "boolean" : value.isBigInt() ? "bigint" : value.isSymbol() ? "symbol" : "object";
        return throwError(cx, d, Error::typeError(QStringLiteral("SQL binding %1 is a %2; expected null, a number, a string or an ArrayBuffer.")
                                                          .arg(index).arg(QLatin1String(type))));
    }
    return true;
}

/// Converts a value that SQLite returned: null, a number (an INTEGER too), a string or an
/// ArrayBuffer for a BLOB.
bool sqlValue(JSContext *cx, const QVariant &value, JS::MutableHandleValue result)
{
    switch (value.typeId()) {
    case QMetaType::UnknownType:
    case QMetaType::Nullptr:
        result.setNull();
        return true;
    case QMetaType::QString: {
        JSString *string = newString(cx, value.toString());
        if (!string)
            return false;
        result.setString(string);
        return true;
    }
    case QMetaType::QByteArray: {
        JS::RootedObject bytes(cx, newBytes(cx, value.toByteArray()));
        return bytes && JS_GetProperty(cx, bytes, "buffer", result);
    }
    default:
        // NOTE: an INTEGER above 2^53 loses precision here.
        result.setNumber(value.toDouble());
        return true;
    }
}

/// sqlExec(object, query, bindings): runs the statements now and returns
/// {columns, rows, rowsRead, rowsWritten}, each row an array of values.
bool sqlExec(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    Private &d = *Private::current(cx);
    JsObject *object = requireObject(cx, d, args.get(0));
    if (!object)
        return false;
    QVariantList bindings;
    if (args.get(2).isObject()) {
        JS::RootedObject list(cx, &args.get(2).toObject());
        uint32_t length = 0;
        if (!JS::GetArrayLength(cx, list, &length))
            return false;
        for (uint32_t i = 0; i < length; ++i) {
            JS::RootedValue element(cx);
            QVariant converted;
            if (!JS_GetElement(cx, list, i, &element) || !sqlBinding(cx, d, element, int(i) + 1, converted))
                return false;
            bindings.append(converted);
        }
    }
    const Result<SqlCursor> cursor = object->ctx().storage().exec(toQString(cx, args.get(1)), bindings);
    if (!cursor)
        return throwError(cx, d, cursor.error());
    JS::RootedObject columns(cx, JS::NewArrayObject(cx, 0));
    JS::RootedObject rows(cx, JS::NewArrayObject(cx, 0));
    JS::RootedObject result(cx, JS_NewPlainObject(cx));
    if (!columns || !rows || !result)
        return false;
    for (qsizetype i = 0; i < cursor->columnNames.size(); ++i) {
        JS::RootedString name(cx, newString(cx, cursor->columnNames.at(i)));
        if (!name || !JS_DefineElement(cx, columns, uint32_t(i), name, JSPROP_ENUMERATE))
            return false;
    }
    uint32_t rowIndex = 0;
    for (const QVariantList &row : cursor->rows) {
        JS::RootedObject values(cx, JS::NewArrayObject(cx, 0));
        if (!values)
            return false;
        for (qsizetype i = 0; i < row.size(); ++i) {
            JS::RootedValue value(cx);
            if (!sqlValue(cx, row.at(i), &value) || !JS_DefineElement(cx, values, uint32_t(i), value, JSPROP_ENUMERATE))
                return false;
        }
        if (!JS_DefineElement(cx, rows, rowIndex++, values, JSPROP_ENUMERATE))
            return false;
    }
    if (!JS_DefineProperty(cx, result, "columns", columns, JSPROP_ENUMERATE)
        || !JS_DefineProperty(cx, result, "rows", rows, JSPROP_ENUMERATE)
        || !JS_DefineProperty(cx, result, "rowsRead", double(cursor->rowsRead), JSPROP_ENUMERATE)
        || !JS_DefineProperty(cx, result, "rowsWritten", double(cursor->rowsWritten), JSPROP_ENUMERATE))
        return false;
    args.rval().setObject(*result);
    return true;
}

bool sqlDatabaseSize(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    Private &d = *Private::current(cx);
    JsObject *object = requireObject(cx, d, args.get(0));
    if (!object)
        return false;
    args.rval().setNumber(double(object->ctx().storage().databaseSize()));
    return true;
}

// ---- storage.kv

bool kvSyncGet(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    Private &d = *Private::current(cx);
    JsObject *object = requireObject(cx, d, args.get(0));
    if (!object)
        return false;
    const Result<std::optional<QByteArray>> value = object->ctx().storage().kvGet(toQString(cx, args.get(1)));
    if (!value)
        return throwError(cx, d, value.error());
    return decodeStored(cx, *value, args.rval());
}

bool kvSyncPut(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    Private &d = *Private::current(cx);
    JsObject *object = requireObject(cx, d, args.get(0));
    if (!object)
        return false;
    const Status stored = object->ctx().storage().kvPut(toQString(cx, args.get(1)), toQString(cx, args.get(2)).toUtf8());
    if (!stored)
        return throwError(cx, d, stored.error());
    args.rval().setUndefined();
    return true;
}

bool kvSyncDelete(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    Private &d = *Private::current(cx);
    JsObject *object = requireObject(cx, d, args.get(0));
    if (!object)
        return false;
    const Result<bool> deleted = object->ctx().storage().kvDelete(toQString(cx, args.get(1)));
    if (!deleted)
        return throwError(cx, d, deleted.error());
    args.rval().setBoolean(*deleted);
    return true;
}

/// kvSyncList(object, options as JSON): the entries as an array of [key, value] pairs.
bool kvSyncList(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    Private &d = *Private::current(cx);
    JsObject *object = requireObject(cx, d, args.get(0));
    if (!object)
        return false;
    const QJsonObject json = QJsonDocument::fromJson(toQString(cx, args.get(1)).toUtf8()).object();
    const Result<StorageEntries> entries = object->ctx().storage().kvList(listOptionsFromJson(json));
    if (!entries)
        return throwError(cx, d, entries.error());
    JS::RootedObject list(cx, JS::NewArrayObject(cx, 0));
    if (!list)
        return false;
    uint32_t index = 0;
    for (const auto &[key, value] : *entries) {
        JS::RootedObject pair(cx, JS::NewArrayObject(cx, 0));
        JS::RootedString name(cx, newString(cx, key));
        JS::RootedValue decoded(cx);
        if (!pair || !name || !decodeStored(cx, value, &decoded)
            || !JS_DefineElement(cx, pair, 0, name, JSPROP_ENUMERATE)
            || !JS_DefineElement(cx, pair, 1, decoded, JSPROP_ENUMERATE)
            || !JS_DefineElement(cx, list, index++, pair, JSPROP_ENUMERATE))
            return false;
    }
    args.rval().setObject(*list);
    return true;
}

// ---- ctx

/// Runs the bindings' wrapper of a blockConcurrencyWhile() callback and awaits it. A rejection
/// becomes the error that resets the object.
Task<Status> runBlockingCallback(Private *d, HeldValue callback, QString where)
{
    const Result<HeldValue> returned = d->callHeld(callback, std::nullopt, where);
    if (!returned)
        co_return returned.error();
    const Private::Settled settled = co_await d->awaitHeld(*returned);
    if (settled.fulfilled)
        co_return Done {};
    RealmScope scope(d->runtime.realm());
    JS::RootedValue reason(d->context(), settled.value->get());
    co_return d->errorFromValue(reason, where);
}

bool ctxBlockConcurrencyWhile(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    Private &d = *Private::current(cx);
    JsObject *object = requireObject(cx, d, args.get(0));
    if (!object)
        return false;
    Private *script = &d;
    const HeldValue callback = d.hold(args.get(1));
    const QString where = object->className() + QStringLiteral(".blockConcurrencyWhile");
    HeldValue promise;
    if (!returnPromise(cx, d, args, promise))
        return false;
    const std::function<Task<Status>()> body = [script, callback, where] {
        return runBlockingCallback(script, callback, where);
    };
    settleUndefinedLater(d, promise, object->ctx().blockConcurrencyWhile(body));
    return true;
}

/// The server end of a socket that this object accepted, or null with an exception pending.
std::shared_ptr<ServerWebSocket> acceptedSocket(JSContext *cx, Private &d, JS::HandleValue handle, const char *method)
{
    Private::SocketEnd *end = socketEnd(d, handle);
    if (!end || !end->socket) {
        throwError(cx, d, Error::typeError(QStringLiteral("Failed to execute '%1' on 'DurableObjectState': the WebSocket has not been accepted.").arg(QLatin1String(method))));
        return nullptr;
    }
    return end->socket;
}

bool ctxGetTags(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    Private &d = *Private::current(cx);
    JsObject *object = requireObject(cx, d, args.get(0));
    if (!object)
        return false;
    const std::shared_ptr<ServerWebSocket> socket = acceptedSocket(cx, d, args.get(1), "getTags");
    if (!socket)
        return false;
    JS::RootedObject list(cx, JS::NewArrayObject(cx, 0));
    if (!list)
        return false;
    uint32_t index = 0;
    for (const QString &tag : object->ctx().getTags(*socket)) {
        JS::RootedString text(cx, newString(cx, tag));
        if (!text || !JS_DefineElement(cx, list, index++, text, JSPROP_ENUMERATE))
            return false;
    }
    args.rval().setObject(*list);
    return true;
}

bool ctxSetAutoResponse(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    Private &d = *Private::current(cx);
    JsObject *object = requireObject(cx, d, args.get(0));
    if (!object)
        return false;
    std::optional<std::pair<QString, QString>> pair;
    if (args.get(1).isString())
        pair.emplace(toQString(cx, args.get(1)), toQString(cx, args.get(2)));
    if (const Status set = object->ctx().setWebSocketAutoResponse(pair); !set)
        return throwError(cx, d, set.error());
    args.rval().setUndefined();
    return true;
}

bool ctxGetAutoResponse(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    Private &d = *Private::current(cx);
    JsObject *object = requireObject(cx, d, args.get(0));
    if (!object)
        return false;
    const std::optional<std::pair<QString, QString>> pair = object->ctx().getWebSocketAutoResponse();
    if (!pair) {
        args.rval().setNull();
        return true;
    }
    JS::RootedObject list(cx, JS::NewArrayObject(cx, 0));
    JS::RootedString request(cx, newString(cx, pair->first));
    JS::RootedString response(cx, newString(cx, pair->second));
    if (!list || !request || !response || !JS_DefineElement(cx, list, 0, request, JSPROP_ENUMERATE)
        || !JS_DefineElement(cx, list, 1, response, JSPROP_ENUMERATE))
        return false;
    args.rval().setObject(*list);
    return true;
}

bool ctxGetAutoResponseTimestamp(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    Private &d = *Private::current(cx);
    JsObject *object = requireObject(cx, d, args.get(0));
    if (!object)
        return false;
    const std::shared_ptr<ServerWebSocket> socket = acceptedSocket(cx, d, args.get(1), "getWebSocketAutoResponseTimestamp");
    if (!socket)
        return false;
    const std::optional<qint64> time = object->ctx().getWebSocketAutoResponseTimestamp(*socket);
    if (time)
        args.rval().setNumber(double(*time));
    else
        args.rval().setNull();
    return true;
}

bool ctxSetEventTimeout(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    Private &d = *Private::current(cx);
    JsObject *object = requireObject(cx, d, args.get(0));
    if (!object)
        return false;
    std::optional<qint64> timeout;
    if (args.get(1).isNumber())
        timeout = qint64(args.get(1).toNumber());
    if (const Status set = object->ctx().setHibernatableWebSocketEventTimeout(timeout); !set)
        return throwError(cx, d, set.error());
    args.rval().setUndefined();
    return true;
}

bool ctxGetEventTimeout(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    Private &d = *Private::current(cx);
    JsObject *object = requireObject(cx, d, args.get(0));
    if (!object)
        return false;
    const std::optional<qint64> timeout = object->ctx().hibernatableWebSocketEventTimeout();
    if (timeout)
        args.rval().setNumber(double(*timeout));
    else
        args.rval().setNull();
    return true;
}

// ---- WebSocket attachments

/// wsSetAttachment(handle, encoded value or undefined).
bool wsSetAttachment(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    Private &d = *Private::current(cx);
    Private::SocketEnd *end = socketEnd(d, args.get(0));
    if (!end || !end->socket || !end->socket->object)
        return throwError(cx, d, Error::typeError(QStringLiteral("Failed to execute 'serializeAttachment' on 'WebSocket': The WebSocket has not been accepted.")));
    auto *owner = dynamic_cast<JsObject *>(end->socket->object->behaviour());
    if (!owner)
        return throwError(cx, d, Error::error(QStringLiteral("The object that accepted this WebSocket is not in memory.")));
    std::optional<QByteArray> value;
    if (!args.get(1).isUndefined())
        value = toQString(cx, args.get(1)).toUtf8();
    if (const Status stored = owner->ctx().serializeAttachment(*end->socket, value); !stored)
        return throwError(cx, d, stored.error());
    args.rval().setUndefined();
    return true;
}

/// wsGetAttachment(handle): the decoded attachment, or null when there is none.
bool wsGetAttachment(JSContext *cx, unsigned argc, JS::Value *vp)
{
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    Private &d = *Private::current(cx);
    Private::SocketEnd *end = socketEnd(d, args.get(0));
    if (!end || !end->socket || !end->socket->attachment) {
        args.rval().setNull();
        return true;
    }
    return decodeStored(cx, end->socket->attachment, args.rval());
}

} // namespace


// ---------------------------------------------------------------------------------------------
// JsWorkerScript

JsWorkerScript::JsWorkerScript(std::unique_ptr<Private> d) : d(std::move(d)) { }

JsWorkerScript::~JsWorkerScript() = default;

Result<std::unique_ptr<JsWorkerScript>> JsWorkerScript::load(Simulation &simulation,
                                                             const QString &entryPath,
                                                             const QByteArray &source,
                                                             ModuleLoader loader,
                                                             std::optional<std::chrono::milliseconds> watchdogLimit)
{
    auto d = std::make_unique<Private>(simulation);
    d->runtime.setOwner(d.get());
    Realm &realm = d->runtime.realm();
    // A runaway script would otherwise stop the whole simulation.
    realm.host().watchdogLimit = watchdogLimit.value_or(kDefaultWatchdogLimit);
    JSContext *cx = realm.context();
    {
        RealmScope scope(realm);
        ScriptScope running;
        const QByteArray bindingsSource = readResource(QStringLiteral(":/js/bindings.js"));
        JS::CompileOptions options(cx);
        options.setFileAndLine("roomscope:bindings.js", 1);
        JS::SourceText<mozilla::Utf8Unit> text;
        JS::RootedValue installer(cx);
        if (!text.init(cx, bindingsSource.constData(), size_t(bindingsSource.size()), JS::SourceOwnership::Borrowed)
            || !JS::Evaluate(cx, options, text, &installer))
            return Engine::current().takeException().toError();
        JS::RootedObject natives(cx, JS_NewPlainObject(cx));
        const JSFunctionSpec functions[] = {
            JS_FN("kvGet", kvGet, 5, 0),
            JS_FN("kvPut", kvPut, 6, 0),
            JS_FN("kvDelete", kvDelete, 2, 0),
            JS_FN("kvList", kvList, 4, 0),
            JS_FN("doIdFromName", doIdFromName, 2, 0),
            JS_FN("doIdFromString", doIdFromString, 2, 0),
            JS_FN("doNewUniqueId", doNewUniqueId, 2, 0),
            JS_FN("stubFetch", stubFetch, 4, 0),
            JS_FN("stubCall", stubCall, 5, 0),
            JS_FN("wsNewPair", wsNewPair, 0, 0),
            JS_FN("wsAccept", wsAccept, 1, 0),
            JS_FN("wsSend", wsSend, 3, 0),
            JS_FN("wsClose", wsClose, 3, 0),
            JS_FN("wsReadyState", wsReadyState, 1, 0),
            JS_FN("ctxAcceptWebSocket", ctxAcceptWebSocket, 3, 0),
            JS_FN("ctxGetWebSockets", ctxGetWebSockets, 2, 0),
            JS_FN("ctxWaitUntil", ctxWaitUntil, 2, 0),
            JS_FN("ctxAbort", ctxAbort, 2, 0),
            JS_FN("storageGet", storageGet, 2, 0),
            JS_FN("storagePut", storagePut, 3, 0),
            JS_FN("storagePutEntries", storagePutEntries, 2, 0),
            JS_FN("storageDelete", storageDelete, 2, 0),
            JS_FN("storageList", storageList, 2, 0),
            JS_FN("storageDeleteAll", storageDeleteAll, 1, 0),
            JS_FN("storageGetAlarm", storageGetAlarm, 1, 0),
            JS_FN("storageSetAlarm", storageSetAlarm, 2, 0),
            JS_FN("storageDeleteAlarm", storageDeleteAlarm, 1, 0),
            JS_FN("storageSync", storageSync, 1, 0),
            JS_FN("storageTransaction", storageTransaction, 2, 0),
            JS_FN("storageTransactionSync", storageTransactionSync, 2, 0),
            JS_FN("txnCheck", txnCheck, 3, 0),
            JS_FN("txnRollback", txnRollback, 1, 0),
            JS_FN("sqlExec", sqlExec, 3, 0),
            JS_FN("sqlDatabaseSize", sqlDatabaseSize, 1, 0),
            JS_FN("kvSyncGet", kvSyncGet, 2, 0),
            JS_FN("kvSyncPut", kvSyncPut, 3, 0),
            JS_FN("kvSyncDelete", kvSyncDelete, 2, 0),
            JS_FN("kvSyncList", kvSyncList, 2, 0),
            JS_FN("ctxBlockConcurrencyWhile", ctxBlockConcurrencyWhile, 2, 0),
            JS_FN("ctxGetTags", ctxGetTags, 2, 0),
            JS_FN("ctxSetAutoResponse", ctxSetAutoResponse, 3, 0),
            JS_FN("ctxGetAutoResponse", ctxGetAutoResponse, 1, 0),
            JS_FN("ctxGetAutoResponseTimestamp", ctxGetAutoResponseTimestamp, 2, 0),
            JS_FN("ctxSetEventTimeout", ctxSetEventTimeout, 2, 0),
            JS_FN("ctxGetEventTimeout", ctxGetEventTimeout, 1, 0),
            JS_FN("wsSetAttachment", wsSetAttachment, 2, 0),
            JS_FN("wsGetAttachment", wsGetAttachment, 1, 0),
            JS_FS_END,
        };
        if (!natives || !JS_DefineFunctions(cx, natives, functions))
            return Engine::current().takeException().toError();
        JS::RootedValueArray<1> arguments(cx);
        arguments[0].setObject(*natives);
        JS::RootedValue constructors(cx);
        if (!JS::Call(cx, JS::UndefinedHandleValue, installer, arguments, &constructors) || !constructors.isObject())
            return Engine::current().takeException().toError();
        d->constructors.init(cx, &constructors.toObject());
    }
    realm.addBuiltinModule(QStringLiteral("cloudflare:workers"),
                           readResource(QStringLiteral(":/js/cloudflare-workers.js")));
    const Result<JSObject *> exports = realm.loadModule(entryPath, source, std::move(loader));
    if (!exports)
        return exports.error();
    d->exports.init(cx, *exports);
    return std::unique_ptr<JsWorkerScript>(new JsWorkerScript(std::move(d)));
}

bool JsWorkerScript::exportsClass(const QString &name) const
{
    JSContext *cx = d->context();
    RealmScope scope(d->runtime.realm());
    JS::RootedObject exports(cx, d->exports);
    JS::RootedValue value(cx);
    return JS_GetProperty(cx, exports, name.toUtf8().constData(), &value) && value.isObject()
        && JS::IsConstructor(&value.toObject());
}

QStringList JsWorkerScript::exportedClasses() const
{
    JSContext *cx = d->context();
    RealmScope scope(d->runtime.realm());
    JS::RootedObject exports(cx, d->exports);
    JS::Rooted<JS::IdVector> ids(cx, JS::IdVector(cx));
    QStringList names;
    if (!JS_Enumerate(cx, exports, &ids)) {
        JS_ClearPendingException(cx);
        return names;
    }
    for (size_t i = 0; i < ids.length(); ++i) {
        JS::RootedValue key(cx);
        JS::RootedValue value(cx);
        if (!ids[i].isString() || !JS_IdToValue(cx, ids[i], &key)
            || !JS_GetPropertyById(cx, exports, ids[i], &value)) {
            JS_ClearPendingException(cx);
            continue;
        }
        const QString name = toQString(cx, key);
        if (name != QLatin1String("default") && value.isObject() && JS::IsConstructor(&value.toObject()))
            names << name;
    }
    names.sort();
    return names;
}

BehaviourFactory JsWorkerScript::objectFactory(const QString &className)
{
    Private *script = d.get();
    return [script, className](DurableObjectState &ctx) {
        return std::make_unique<JsObject>(*script, ctx, className);
    };
}

Status JsWorkerScript::bind(const JsBindings &bindings)
{
    d->bindings = bindings;
    JSContext *cx = d->context();
    RealmScope scope(d->runtime.realm());
    JS::RootedObject env(cx, JS_NewPlainObject(cx));
    JS::RootedObject helpers(cx, d->constructors);
    const auto construct = [&](const char *constructorName, int index, const QString &name) {
        JS::RootedValue constructor(cx);
        JS_GetProperty(cx, helpers, constructorName, &constructor);
        JS::RootedValueArray<1> arguments(cx);
        arguments[0].setInt32(index);
        JS::RootedObject object(cx);
        return JS::Construct(cx, constructor, arguments, &object)
            && JS_DefineProperty(cx, env, name.toUtf8().constData(), object, JSPROP_ENUMERATE);
    };
    for (size_t i = 0; i < bindings.kv.size(); ++i) {
        if (!construct("KvNamespace", int(i), bindings.kv[i].name))
            return Engine::current().takeException().toError();
    }
    for (size_t i = 0; i < bindings.durableObjects.size(); ++i) {
        if (!construct("DurableObjectNamespace", int(i), bindings.durableObjects[i].name))
            return Engine::current().takeException().toError();
    }
    for (const auto &[name, value] : bindings.vars) {
        const QString text = QString::fromUtf8(QJsonDocument(QJsonArray { value }).toJson(QJsonDocument::Compact));
        JS::RootedValue parsed(cx);
        if (!parseJsonText(cx, text, &parsed))
            return Engine::current().takeException().toError();
        JS::RootedObject array(cx, &parsed.toObject());
        JS::RootedValue element(cx);
        JS_GetElement(cx, array, 0, &element);
        JS_DefineProperty(cx, env, name.toUtf8().constData(), element, JSPROP_ENUMERATE);
    }
    d->env.init(cx, env);
    return Done {};
}

Task<HttpResponse> JsWorkerScript::fetch(LocationId location, HttpRequest request)
{
    Private &script = *d;
    HeldValue result;
    {
        JSContext *cx = script.context();
        RealmScope scope(script.runtime.realm());
        ScriptScope running;
        AsyncContextScope caller(Private::callerContext(0, location));
        script.currentUpgradeClient = request.upgradeClient;
        JS::RootedObject exports(cx, script.exports);
        JS::RootedValue defaultExport(cx);
        JS::RootedObject context(cx, JS_NewPlainObject(cx));
        JS::RootedObject thisObject(cx);
        JS::RootedValue handler(cx);
        JS::RootedValue value(cx);
        bool called = JS_GetProperty(cx, exports, "default", &defaultExport);
        // A class default export, such as one extending WorkerEntrypoint, gets an instance per
        // request, constructed with ctx and env, whose fetch(request) handles it.
        const bool entrypoint = called && defaultExport.isObject() && JS::IsConstructor(&defaultExport.toObject());
        if (entrypoint) {
            JS::RootedValueArray<2> constructorArguments(cx);
            constructorArguments[0].setObject(*context);
            constructorArguments[1].setObject(*script.env);
            called = JS::Construct(cx, defaultExport, constructorArguments, &thisObject);
        } else if (called && defaultExport.isObject()) {
            thisObject = &defaultExport.toObject();
        }
        if (called && thisObject && (!JS_GetProperty(cx, thisObject, "fetch", &handler) || !handler.isObject())) {
            JS_ClearPendingException(cx);
            co_return HttpResponse::text(500, "Error: the Worker has no default export with a fetch handler.\n");
        }
        if (called && !thisObject) {
            co_return HttpResponse::text(500, "Error: the Worker has no default export with a fetch handler.\n");
        }
        if (called) {
            JS::RootedObject requestObject(cx, script.toRequest(request));
            JS::RootedValueArray<3> arguments(cx);
            arguments[0].setObject(*requestObject);
            arguments[1].setObject(*script.env);
            arguments[2].setObject(*context);
            const JS::HandleValueArray passed = entrypoint ? JS::HandleValueArray::subarray(arguments, 0, 1)
                                                           : JS::HandleValueArray(arguments);
            called = JS::Call(cx, thisObject, handler, passed, &value);
        }
        script.currentUpgradeClient = nullptr;
        if (!called) {
            const ScriptError error = Engine::current().takeException();
            script.recordError(QStringLiteral("fetch"), error);
            co_return HttpResponse::text(500, (error.toString() + QLatin1Char('\n')).toUtf8());
        }
        result = script.hold(value);
    }
    const Private::Settled settled = co_await script.awaitHeld(result);
    JSContext *cx = script.context();
    RealmScope scope(script.runtime.realm());
    JS::RootedValue value(cx, settled.value->get());
    if (!settled.fulfilled) {
        const Error error = script.errorFromValue(value, QStringLiteral("fetch"));
        co_return HttpResponse::text(500, (error.name() + QStringLiteral(": ") + error.message
                                           + QLatin1Char('\n')).toUtf8());
    }
    const Result<HttpResponse> response = script.toResponse(value, nullptr);
    if (!response) {
        ScriptError error;
        error.name = response.error().name();
        error.message = response.error().message;
        error.stack = handlerFrame(cx, JS::RootedObject(cx, script.exports), "fetch");
        script.recordError(QStringLiteral("fetch"), error);
        co_return HttpResponse::text(500, (response.error().toString() + QLatin1Char('\n')).toUtf8());
    }
    co_return *response;
}

const std::vector<JsScriptError> &JsWorkerScript::errors() const
{
    return d->errors;
}

void JsWorkerScript::setErrorSink(std::function<void(const JsScriptError &)> sink)
{
    d->errorSink = std::move(sink);
}

qint64 JsWorkerScript::collectGarbage()
{
    JSContext *cx = Engine::current().context();
    JS_GC(cx, JS::GCReason::API);
    return qint64(JS_GetGCParameter(cx, JSGC_BYTES));
}

void JsWorkerScript::setConsoleSink(std::function<void(const QString &, const QString &)> sink)
{
    d->console = sink;
    d->runtime.setConsoleSink(std::move(sink));
}

} // namespace roomscope
