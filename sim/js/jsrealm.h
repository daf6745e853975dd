#pragma once

#include "jsengine.h"

#include <QHash>

#include <map>
#include <optional>

namespace roomscope::js {

/// One Worker script's global object and the ES modules loaded into it. The platform runs a
/// Worker and its Durable Object classes in one isolate, so they share one realm.
class Realm
{
public:
    /// Returns the source of a module that a Worker imports, by its resolved path, or nothing
    /// when there is no such module.
    using ModuleLoader = std::function<std::optional<QByteArray>(const QString &path)>;

    explicit Realm(RealmHost host);
    ~Realm();
    Realm(const Realm &) = delete;
    Realm &operator=(const Realm &) = delete;

    /// The realm whose global object is current on the context.
    static Realm *current(JSContext *context);

    JSContext *context() const { return m_context; }
    /// An object of the embedder's, such as the Runtime that owns the realm.
    void setEmbedder(void *embedder) { m_embedder = embedder; }
    void *embedder() const { return m_embedder; }
    JSObject *global() const { return m_global; }
    RealmHost &host() { return m_host; }

    /// Registers a module that `import ... from specifier` gets, compiled from `source` on first
    /// import. Built-in modules such as "cloudflare:workers" are registered this way.
    void addBuiltinModule(const QString &specifier, QByteArray source);
    /// Runs a classic script in the global scope, such as the runtime's own API definitions.
    Status evaluateScript(const QString &fileName, const QByteArray &source);
    /// Compiles, links and evaluates the entry module `path` and what it imports, then runs
    /// pending promise jobs. Returns the module's namespace object (its exports), which the
    /// module keeps alive; root it before anything can collect garbage.
    Result<JSObject *> loadModule(const QString &path, const QByteArray &source,
                                  ModuleLoader loader);

    /// The last error of a failed load, with its source position.
    const std::optional<ScriptError> &lastError() const { return m_lastError; }

private:
    static JSObject *resolveHook(JSContext *context, JS::HandleValue referencingPrivate,
                                 JS::HandleObject moduleRequest);
    JSObject *resolve(const QString &referencingPath, const QString &specifier);
    JSObject *compileModule(const QString &path, const QByteArray &source);
    Error failure();

    JSContext *m_context;
    RealmHost m_host;
    JS::PersistentRooted<JSObject *> m_global;
    std::map<QString, JS::PersistentRooted<JSObject *>> m_modules;
    QHash<QString, QByteArray> m_builtinSources;
    ModuleLoader m_loader;
    std::optional<ScriptError> m_lastError;
    void *m_embedder = nullptr;
};

/// Makes a realm current for the clock and Math.random and enters its compartment.
class RealmScope
{
public:
    explicit RealmScope(Realm &realm);
    ~RealmScope();

private:
    JSAutoRealm m_autoRealm;
    RealmHost *m_previousHost;
};

/// Resolves a module specifier against the path of the module that imports it: "./a.js" and
/// "../b.mjs" are relative to its folder; other specifiers stay as they are.
QString resolveModulePath(const QString &referencingPath, const QString &specifier);

} // namespace roomscope::js
