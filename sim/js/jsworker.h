#pragma once

#include "durableobjectnamespace.h"
#include "kvnamespace.h"
#include "worker.h"

#include <QJsonValue>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

namespace roomscope {

class World;

/// The bindings a Worker script's `env` carries, as wrangler's configuration declares them.
struct JsBindings
{
    struct Kv
    {
        QString name;
        KvNamespace *kv = nullptr;
    };
    struct Objects
    {
        QString name;
        DurableObjectNamespace *objects = nullptr;
    };
    std::vector<Kv> kv;
    std::vector<Objects> durableObjects;
    std::vector<std::pair<QString, QJsonValue>> vars;
};

/// A JavaScript error raised by the user's code, as the GUI and the report list it.
struct JsScriptError
{
    QString where; ///< "fetch", "Room.fetch", "webSocketMessage", "module evaluation", ...
    QString text; ///< "TypeError: message"
    /// SpiderMonkey's `stack` text, one "function@file:line:column" frame per line. An error
    /// that the runtime raised after a handler returned has the handler's definition as its
    /// only frame, such as "fetch@worker.mjs:6:0".
    QString stack;
    QString fileName;
    int line = 0;
    int column = 0;
    QString actor = QStringLiteral("worker"); ///< the Worker, or the object the handler ran in: "room lobby"
};

/// The user's Worker module, run by the embedded JavaScript engine: its default export's fetch
/// handler serves requests, and its exported classes are Durable Object classes whose instances
/// run in the same realm, as the platform runs them in one isolate.
class JsWorkerScript : public Worker
{
public:
    /// Returns the source of an imported file by its path relative to the entry module's
    /// folder, or nothing when there is none.
    using ModuleLoader = std::function<std::optional<QByteArray>(const QString &path)>;

    /// Loads and evaluates the entry module. Errors name the file, line and column.
    /// `watchdogLimit` is the wall time one call into the script may run, the module's
    /// evaluation included (default 2 s); zero turns the watchdog off.
    static Result<std::unique_ptr<JsWorkerScript>> load(
            Simulation &simulation, const QString &entryPath, const QByteArray &source,
            ModuleLoader loader,
            std::optional<std::chrono::milliseconds> watchdogLimit = std::nullopt);
    ~JsWorkerScript() override;

    /// True when the module exports a class of this name.
    bool exportsClass(const QString &name) const;
    /// The names of the module's exports that are classes (constructors), sorted.
    QStringList exportedClasses() const;
    /// The constructor of instances of the exported class `name`, for a Durable Object class.
    BehaviourFactory objectFactory(const QString &className);
    /// Builds `env` from the bindings; call once, after the namespaces exist.
    Status bind(const JsBindings &bindings);

    Task<HttpResponse> fetch(LocationId location, HttpRequest request) override;

    /// Uncaught errors so far, oldest first, with their source positions.
    const std::vector<JsScriptError> &errors() const;
    /// Receives the lines the script prints with console.*: the level and the text.
    void setConsoleSink(std::function<void(const QString &level, const QString &text)> sink);
    /// Receives each uncaught error as it happens.
    void setErrorSink(std::function<void(const JsScriptError &error)> sink);

    /// Runs a full garbage collection of the engine's heap and returns the heap's size in bytes
    /// afterwards, for memory measurements.
    qint64 collectGarbage();

    class Private;

private:
    explicit JsWorkerScript(std::unique_ptr<Private> d);
    std::unique_ptr<Private> d;
};

} // namespace roomscope
