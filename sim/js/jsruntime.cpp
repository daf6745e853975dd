#include "jsruntime.h"

#include <QFile>
#include <QStringDecoder>
#include <QUrl>

namespace roomscope::js {

namespace {

/// Schemes whose URLs have a host and a path that starts with "/", as the URL Standard lists them.
bool isSpecialScheme(const QString &scheme)
{
    return scheme == QLatin1String("http") || scheme == QLatin1String("https")
        || scheme == QLatin1String("ws") || scheme == QLatin1String("wss")
        || scheme == QLatin1String("ftp") || scheme == QLatin1String("file");
}

int defaultPort(const QString &scheme)
{
    if (scheme == QLatin1String("http") || scheme == QLatin1String("ws"))
        return 80;
    if (scheme == QLatin1String("https") || scheme == QLatin1String("wss"))
        return 443;
    if (scheme == QLatin1String("ftp"))
        return 21;
    return -1;
}

bool setString(JSContext *context, JS::HandleObject object, const char *name, const QString &text)
{
    JS::RootedString string(context, newString(context, text));
    return string && JS_DefineProperty(context, object, name, string, JSPROP_ENUMERATE);
}

} // namespace

JSObject *newBytes(JSContext *context, const QByteArray &bytes)
{
    JS::RootedObject array(context, JS_NewUint8Array(context, size_t(bytes.size())));
    if (!array)
        return nullptr;
    JS::AutoCheckCannotGC nogc;
    bool shared = false;
    auto *data = static_cast<char *>(JS_GetArrayBufferViewData(array, &shared, nogc));
    std::copy(bytes.cbegin(), bytes.cend(), data);
    return array;
}

QByteArray viewBytes(JSObject *view)
{
    JS::AutoCheckCannotGC nogc;
    bool shared = false;
    const auto *data = static_cast<const char *>(JS_GetArrayBufferViewData(view, &shared, nogc));
    return QByteArray(data, qsizetype(JS_GetArrayBufferViewByteLength(view)));
}

std::optional<UrlParts> parseUrl(const QString &input, const QString &base)
{
    const QString trimmed = input.trimmed();
    QUrl url(trimmed, QUrl::StrictMode);
    if (!base.isNull()) {
        const QUrl baseUrl(base.trimmed(), QUrl::StrictMode);
        if (!baseUrl.isValid() || baseUrl.scheme().isEmpty())
            return std::nullopt;
        url = baseUrl.resolved(QUrl(trimmed, QUrl::TolerantMode));
    }
    if (!url.isValid() || url.scheme().isEmpty())
        return std::nullopt;
    const QString scheme = url.scheme().toLower();
    if (isSpecialScheme(scheme) && scheme != QLatin1String("file") && url.host().isEmpty())
        return std::nullopt;
    if (url.port() == defaultPort(scheme))
        url.setPort(-1);
    if (isSpecialScheme(scheme) && url.path().isEmpty())
        url.setPath(QStringLiteral("/"));

    UrlParts parts;
    parts.protocol = scheme + QLatin1Char(':');
    parts.username = url.userName(QUrl::FullyEncoded);
    parts.password = url.password(QUrl::FullyEncoded);
    parts.hostname = url.host(QUrl::FullyEncoded);
    if (parts.hostname.contains(QLatin1Char(':')))
        parts.hostname = QLatin1Char('[') + parts.hostname + QLatin1Char(']');
    parts.port = url.port() < 0 ? QString() : QString::number(url.port());
    parts.host = parts.port.isEmpty() ? parts.hostname : parts.hostname + QLatin1Char(':') + parts.port;
    parts.pathname = url.path(QUrl::FullyEncoded);
    parts.search = url.hasQuery() && !url.query().isEmpty()
            ? QLatin1Char('?') + url.query(QUrl::FullyEncoded)
            : QString();
    parts.hash = url.hasFragment() && !url.fragment().isEmpty()
            ? QLatin1Char('#') + url.fragment(QUrl::FullyEncoded)
            : QString();
    parts.origin = defaultPort(scheme) > 0 ? parts.protocol + QStringLiteral("//") + parts.host
                                           : QStringLiteral("null");
    const QString userinfo = parts.username.isEmpty()
            ? QString()
            : parts.username + (parts.password.isEmpty() ? QString() : QLatin1Char(':') + parts.password)
                    + QLatin1Char('@');
    parts.href = parts.protocol
            + (parts.hostname.isEmpty() && !isSpecialScheme(scheme) ? QString() : QStringLiteral("//"))
            + userinfo + parts.host + parts.pathname + parts.search + parts.hash;
    return parts;
}

/// The host functions that runtime.js receives. Each reads its Runtime from the current realm.
struct RuntimeNatives
{
    static bool utf8Encode(JSContext *context, unsigned argc, JS::Value *vp)
    {
        JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
        const QString text = toQString(context, args.get(0));
        JSObject *bytes = newBytes(context, text.toUtf8());
        if (!bytes)
            return false;
        args.rval().setObject(*bytes);
        return true;
    }

    static bool utf8Decode(JSContext *context, unsigned argc, JS::Value *vp)
    {
        JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
        if (!args.get(0).isObject() || !JS_IsArrayBufferViewObject(&args.get(0).toObject())) {
            JS_ReportErrorUTF8(context, "utf8Decode expects an ArrayBufferView");
            return false;
        }
        const QByteArray bytes = viewBytes(&args.get(0).toObject());
        QStringDecoder decoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
        const QString text = decoder.decode(bytes);
        if (JS::ToBoolean(args.get(1)) && decoder.hasError()) {
            args.rval().setNull();
            return true;
        }
        JSString *string = newString(context, text);
        if (!string)
            return false;
        args.rval().setString(string);
        return true;
    }

    static bool percentDecode(JSContext *context, unsigned argc, JS::Value *vp)
    {
        JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
        const QByteArray encoded = toQString(context, args.get(0)).toUtf8();
        JSString *string = newString(context, QString::fromUtf8(QByteArray::fromPercentEncoding(encoded)));
        if (!string)
            return false;
        args.rval().setString(string);
        return true;
    }

    static bool parseUrl(JSContext *context, unsigned argc, JS::Value *vp)
    {
        JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
        const QString input = toQString(context, args.get(0));
        const QString base = args.get(1).isNullOrUndefined() ? QString() : toQString(context, args.get(1));
        const std::optional<UrlParts> parts = js::parseUrl(input, base);
        if (!parts) {
            args.rval().setNull();
            return true;
        }
        JS::RootedObject object(context, JS_NewPlainObject(context));
        if (!object)
            return false;
        const QString userinfo = parts->username.isEmpty()
                ? QString()
                : parts->username
                        + (parts->password.isEmpty() ? QString() : QLatin1Char(':') + parts->password)
                        + QLatin1Char('@');
        const bool ok = setString(context, object, "href", parts->href)
                && setString(context, object, "origin", parts->origin)
                && setString(context, object, "protocol", parts->protocol)
                && setString(context, object, "username", parts->username)
                && setString(context, object, "password", parts->password)
                && setString(context, object, "userinfo", userinfo)
                && setString(context, object, "host", parts->host)
                && setString(context, object, "hostname", parts->hostname)
                && setString(context, object, "port", parts->port)
                && setString(context, object, "pathname", parts->pathname)
                && setString(context, object, "search", parts->search)
                && setString(context, object, "hash", parts->hash);
        if (!ok)
            return false;
        args.rval().setObject(*object);
        return true;
    }

    static bool log(JSContext *context, unsigned argc, JS::Value *vp)
    {
        JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
        Runtime *runtime = Runtime::current(context);
        if (runtime && runtime->m_console)
            runtime->m_console(toQString(context, args.get(0)), toQString(context, args.get(1)));
        args.rval().setUndefined();
        return true;
    }

    static bool randomBytes(JSContext *context, unsigned argc, JS::Value *vp)
    {
        JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
        Runtime *runtime = Runtime::current(context);
        int32_t count = 0;
        if (!JS::ToInt32(context, args.get(0), &count))
            return false;
        QByteArray bytes(std::max(count, 0), Qt::Uninitialized);
        for (qsizetype i = 0; i < bytes.size(); ++i)
            bytes[i] = char(runtime->m_random.next() & 0xff);
        JSObject *array = newBytes(context, bytes);
        if (!array)
            return false;
        args.rval().setObject(*array);
        return true;
    }

    static bool setTimer(JSContext *context, unsigned argc, JS::Value *vp)
    {
        JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
        Runtime *runtime = Runtime::current(context);
        if (!args.get(0).isObject() || !JS::IsCallable(&args.get(0).toObject())) {
            JS_ReportErrorUTF8(context, "setTimer expects a function");
            return false;
        }
        double delayMs = 0;
        if (!JS::ToNumber(context, args.get(1), &delayMs))
            return false;
        JS::RootedObject callback(context, &args.get(0).toObject());
        args.rval().setNumber(double(runtime->startTimer(callback, delayMs)));
        return true;
    }

    static bool clearTimer(JSContext *context, unsigned argc, JS::Value *vp)
    {
        JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
        Runtime *runtime = Runtime::current(context);
        double id = 0;
        if (!JS::ToNumber(context, args.get(0), &id))
            return false;
        runtime->clearTimer(quint64(id));
        args.rval().setUndefined();
        return true;
    }
};

Runtime::Runtime(Simulation &simulation, Random random)
    : m_simulation(simulation), m_random(std::move(random))
{
    RealmHost host;
    host.nowMs = [this] { return double(m_simulation.now()) / double(kMicrosecondsPerMillisecond); };
    host.random = [this] { return m_random.uniform01(); };
    m_realm = std::make_unique<Realm>(std::move(host));
    m_realm->setEmbedder(this);

    QFile file(QStringLiteral(":/js/runtime.js"));
    if (!file.open(QIODevice::ReadOnly))
        qFatal("The runtime API script :/js/runtime.js is missing from the build");
    const QByteArray source = file.readAll();

    JSContext *context = m_realm->context();
    RealmScope scope(*m_realm);
    ScriptScope running;
    JS::CompileOptions options(context);
    options.setFileAndLine("roomscope:runtime.js", 1);
    JS::SourceText<mozilla::Utf8Unit> text;
    JS::RootedValue installer(context);
    if (!text.init(context, source.constData(), size_t(source.size()), JS::SourceOwnership::Borrowed)
        || !JS::Evaluate(context, options, text, &installer) || !installer.isObject())
        qFatal("runtime.js failed to compile: %s",
               qPrintable(Engine::current().takeException().toStringWithPosition()));

    JS::RootedObject natives(context, JS_NewPlainObject(context));
    const JSFunctionSpec functions[] = {
        JS_FN("utf8Encode", RuntimeNatives::utf8Encode, 1, 0),
        JS_FN("utf8Decode", RuntimeNatives::utf8Decode, 2, 0),
        JS_FN("percentDecode", RuntimeNatives::percentDecode, 1, 0),
        JS_FN("parseUrl", RuntimeNatives::parseUrl, 2, 0),
        JS_FN("log", RuntimeNatives::log, 2, 0),
        JS_FN("randomBytes", RuntimeNatives::randomBytes, 1, 0),
        JS_FN("setTimer", RuntimeNatives::setTimer, 2, 0),
        JS_FN("clearTimer", RuntimeNatives::clearTimer, 1, 0),
        JS_FS_END,
    };
    if (!natives || !JS_DefineFunctions(context, natives, functions))
        qFatal("Defining the runtime's host functions failed");
    JS::RootedValueArray<1> arguments(context);
    arguments[0].setObject(*natives);
    JS::RootedValue result(context);
    if (!JS::Call(context, JS::UndefinedHandleValue, installer, arguments, &result))
        qFatal("runtime.js failed to install: %s",
               qPrintable(Engine::current().takeException().toStringWithPosition()));
}

Runtime::~Runtime()
{
    for (auto &[id, timer] : m_timers)
        m_simulation.cancel(timer.event);
    m_timers.clear();
}

Runtime *Runtime::current(JSContext *context)
{
    Realm *realm = Realm::current(context);
    return realm ? static_cast<Runtime *>(realm->embedder()) : nullptr;
}

void Runtime::runJobs()
{
    RealmScope scope(*m_realm);
    Engine::current().runJobs();
}

quint64 Runtime::startTimer(JS::HandleObject callback, double delayMs)
{
    const quint64 id = ++m_lastTimer;
    // Timers fire in virtual time; a negative or NaN delay runs as soon as possible.
    const SimDuration delay = std::isfinite(delayMs) && delayMs > 0
            ? SimDuration(delayMs * double(kMicrosecondsPerMillisecond))
            : 0;
    Timer &timer = m_timers[id];
    timer.callback.init(m_realm->context(), callback);
    timer.asyncContext = Engine::current().asyncContext();
    timer.event = m_simulation.scheduleCancellable(m_simulation.now() + delay,
                                                   [this, id] { fireTimer(id); });
    return id;
}

void Runtime::fireTimer(quint64 id)
{
    const auto found = m_timers.find(id);
    if (found == m_timers.end())
        return;
    JSContext *context = m_realm->context();
    RealmScope scope(*m_realm);
    JS::RootedObject callback(context, found->second.callback);
    AsyncContextScope asyncContext(found->second.asyncContext);
    m_timers.erase(found);
    {
        ScriptScope running;
        JS::RootedValue result(context);
        JS::RootedValue function(context, JS::ObjectValue(*callback));
        if (!JS::Call(context, JS::UndefinedHandleValue, function, JS::HandleValueArray::empty(),
                      &result)) {
            const ScriptError error = Engine::current().takeException();
            if (Engine::current().onUncaught)
                Engine::current().onUncaught(error);
        }
    }
    Engine::current().runJobs();
}

void Runtime::clearTimer(quint64 id)
{
    const auto found = m_timers.find(id);
    if (found == m_timers.end())
        return;
    m_simulation.cancel(found->second.event);
    m_timers.erase(found);
}

} // namespace roomscope::js
