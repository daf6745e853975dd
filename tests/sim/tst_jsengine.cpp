#include "js/jsrealm.h"

#include <QTest>


#include <map>

using namespace roomscope;
using namespace roomscope::js;

namespace {

/// A realm whose clock and Math.random the test sets.
struct TestRealm
{
    double nowMs = 1'767'225'600'000.0; // 2026-01-01T00:00:00Z
    double nextRandom = 0.25;
    Realm realm { RealmHost { [this] { return nowMs; }, [this] { return nextRandom; } } };
};

/// Evaluates `expression` in the realm and returns it as text.
QString evaluate(Realm &realm, const QString &expression)
{
    const QString script = QStringLiteral("globalThis.__result = String(%1);").arg(expression);
    const Status evaluated = realm.evaluateScript(QStringLiteral("test.js"), script.toUtf8());
    if (!evaluated)
        return QStringLiteral("error: ") + evaluated.error().message;
    RealmScope scope(realm);
    JSContext *context = realm.context();
    JS::RootedObject global(context, realm.global());
    JS::RootedValue value(context);
    JS_GetProperty(context, global, "__result", &value);
    return toQString(context, value);
}

/// Calls exports[name]() on a loaded module and returns the call's result as text.
QString callExport(Realm &realm, JS::HandleObject exports, const char *name)
{
    RealmScope scope(realm);
    ScriptScope running;
    JSContext *context = realm.context();
    JS::RootedValue function(context);
    JS_GetProperty(context, exports, name, &function);
    JS::RootedValue result(context);
    if (!JS::Call(context, JS::UndefinedHandleValue, function, JS::HandleValueArray::empty(),
                  &result))
        return QStringLiteral("error: ") + Engine::current().takeException().toStringWithPosition();
    return toQString(context, result);
}

} // namespace

class JsEngineTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void evaluatesModernSyntax();
    void dateReadsVirtualTime();
    void mathRandomReadsHost();
    void weakRefsAreOff();
    void moduleExportsAndImports();
    void builtinModuleResolves();
    void missingImportNamesModule();
    void syntaxErrorNamesLine();
    void promiseJobsWaitForRunJobs();
    void hostPromiseResumesAsyncFunction();
    void watchdogStopsRunawayScript();
    void resolveModulePathTable_data();
    void resolveModulePathTable();
};

void JsEngineTest::evaluatesModernSyntax()
{
    TestRealm test;
    QCOMPARE(evaluate(test.realm, QStringLiteral("[1, [2, [3]]].flat(2).join('+')")),
             QStringLiteral("1+2+3"));
    QCOMPARE(evaluate(test.realm, QStringLiteral("(({a, ...rest}) => Object.keys(rest).join())({a: 1, b: 2, c: 3})")),
             QStringLiteral("b,c"));
    QCOMPARE(evaluate(test.realm, QStringLiteral("2n ** 70n")),
             QStringLiteral("1180591620717411303424"));
    QCOMPARE(evaluate(test.realm, QStringLiteral("typeof class { #x = 1; get x() { return this.#x; } }")),
             QStringLiteral("function"));
}

void JsEngineTest::dateReadsVirtualTime()
{
    TestRealm test;
    QCOMPARE(evaluate(test.realm, QStringLiteral("Date.now()")), QStringLiteral("1767225600000"));
    test.nowMs += 1500;
    QCOMPARE(evaluate(test.realm, QStringLiteral("new Date().toISOString()")),
             QStringLiteral("2026-01-01T00:00:01.500Z"));
}

void JsEngineTest::mathRandomReadsHost()
{
    TestRealm test;
    QCOMPARE(evaluate(test.realm, QStringLiteral("Math.random()")), QStringLiteral("0.25"));
    test.nextRandom = 0.75;
    QCOMPARE(evaluate(test.realm, QStringLiteral("Math.random()")), QStringLiteral("0.75"));
}

void JsEngineTest::weakRefsAreOff()
{
    TestRealm test;
    QCOMPARE(evaluate(test.realm, QStringLiteral("typeof WeakRef")), QStringLiteral("undefined"));
    QCOMPARE(evaluate(test.realm, QStringLiteral("typeof FinalizationRegistry")),
             QStringLiteral("undefined"));
}

void JsEngineTest::moduleExportsAndImports()
{
    TestRealm test;
    const std::map<QString, QByteArray> files {
        { QStringLiteral("src/lib/greet.js"), "export function greet(n) { return `hello ${n}`; }" },
    };
    const auto loader = [&](const QString &path) -> std::optional<QByteArray> {
        const auto found = files.find(path);
        return found == files.end() ? std::nullopt : std::optional(found->second);
    };
    const Result<JSObject *> loaded = test.realm.loadModule(
            QStringLiteral("src/index.js"),
            "import { greet } from './lib/greet.js';\n"
            "export default { hello() { return greet('room'); } };\n"
            "export function answer() { return 42; }\n",
            loader);
    QVERIFY2(loaded.ok(), qPrintable(loaded ? QString() : loaded.error().message));
    RealmScope scope(test.realm);
    JS::RootedObject exports(test.realm.context(), *loaded);
    QCOMPARE(callExport(test.realm, exports, "answer"), QStringLiteral("42"));
    JS::RootedValue defaultExport(test.realm.context());
    JS_GetProperty(test.realm.context(), exports, "default", &defaultExport);
    QVERIFY(defaultExport.isObject());
    JS::RootedObject object(test.realm.context(), &defaultExport.toObject());
    QCOMPARE(callExport(test.realm, object, "hello"), QStringLiteral("hello room"));
}

void JsEngineTest::builtinModuleResolves()
{
    TestRealm test;
    test.realm.addBuiltinModule(QStringLiteral("cloudflare:workers"),
                                "export class DurableObject { constructor(ctx, env) { this.ctx = ctx; this.env = env; } }");
    const Result<JSObject *> loaded = test.realm.loadModule(
            QStringLiteral("worker.js"),
            "import { DurableObject } from 'cloudflare:workers';\n"
            "export class Room extends DurableObject {}\n"
            "export function check() { const r = new Room('c', 'e'); return r.ctx + r.env; }\n",
            nullptr);
    QVERIFY2(loaded.ok(), qPrintable(loaded ? QString() : loaded.error().message));
    RealmScope scope(test.realm);
    JS::RootedObject exports(test.realm.context(), *loaded);
    QCOMPARE(callExport(test.realm, exports, "check"), QStringLiteral("ce"));
}

void JsEngineTest::missingImportNamesModule()
{
    TestRealm test;
    const Result<JSObject *> loaded = test.realm.loadModule(
            QStringLiteral("worker.js"), "import { x } from './missing.js';\nexport default {};\n",
            [](const QString &) { return std::nullopt; });
    QVERIFY(!loaded.ok());
    QCOMPARE(loaded.error().message,
             QStringLiteral("Error: No such module \"./missing.js\", imported from worker.js."));
}

void JsEngineTest::syntaxErrorNamesLine()
{
    TestRealm test;
    const Result<JSObject *> loaded = test.realm.loadModule(
            QStringLiteral("worker.js"), "export default {\n  fetch( {\n};\n", nullptr);
    QVERIFY(!loaded.ok());
    QVERIFY(test.realm.lastError().has_value());
    QCOMPARE(test.realm.lastError()->name, QStringLiteral("SyntaxError"));
    QCOMPARE(test.realm.lastError()->fileName, QStringLiteral("worker.js"));
    QCOMPARE(test.realm.lastError()->line, 3);
}

void JsEngineTest::promiseJobsWaitForRunJobs()
{
    TestRealm test;
    QCOMPARE(evaluate(test.realm, QStringLiteral("(globalThis.order = [], Promise.resolve().then(() => order.push('job')), order.push('sync'), order.join())")),
             QStringLiteral("sync"));
    QVERIFY(Engine::current().hasPendingJobs());
    QCOMPARE(Engine::current().runJobs(), 1);
    QCOMPARE(evaluate(test.realm, QStringLiteral("order.join()")), QStringLiteral("sync,job"));
}

void JsEngineTest::hostPromiseResumesAsyncFunction()
{
    TestRealm test;
    JSContext *context = test.realm.context();
    QVERIFY(test.realm.evaluateScript(QStringLiteral("test.js"),
                                      "globalThis.log = [];\n"
                                      "globalThis.waitFor = async (p) => { log.push('before'); const v = await p; log.push('got ' + v); };\n")
                    .ok());
    RealmScope scope(test.realm);
    JS::RootedObject promise(context, JS::NewPromiseObject(context, nullptr));
    QVERIFY(promise);
    JS::RootedObject global(context, test.realm.global());
    JS::RootedValueArray<1> args(context);
    args[0].setObject(*promise);
    JS::RootedValue result(context);
    QVERIFY(JS_CallFunctionName(context, global, "waitFor", args, &result));
    Engine::current().runJobs();
    QCOMPARE(evaluate(test.realm, QStringLiteral("log.join()")), QStringLiteral("before"));
    JS::RootedValue value(context, JS::Int32Value(7));
    QVERIFY(JS::ResolvePromise(context, promise, value));
    Engine::current().runJobs();
    QCOMPARE(evaluate(test.realm, QStringLiteral("log.join()")), QStringLiteral("before,got 7"));
}

void JsEngineTest::watchdogStopsRunawayScript()
{
    TestRealm test;
    Engine::current().setWatchdogLimit(std::chrono::milliseconds(100));
    const Status run = test.realm.evaluateScript(QStringLiteral("loop.js"), "for (;;) {}\n");
    Engine::current().setWatchdogLimit(std::chrono::milliseconds(0));
    QVERIFY(!run.ok());
    QCOMPARE(run.error().message, QStringLiteral("Error: Worker exceeded CPU time limit."));
    QVERIFY(test.realm.lastError()->interrupted);
    // The context stays usable.
    QCOMPARE(evaluate(test.realm, QStringLiteral("1 + 1")), QStringLiteral("2"));
}

void JsEngineTest::resolveModulePathTable_data()
{
    QTest::addColumn<QString>("referencing");
    QTest::addColumn<QString>("specifier");
    QTest::addColumn<QString>("expected");
    QTest::newRow("sibling") << "src/index.js" << "./a.js" << "src/a.js";
    QTest::newRow("parent") << "src/lib/x.js" << "../a.js" << "src/a.js";
    QTest::newRow("top level") << "index.js" << "./a.js" << "a.js";
    QTest::newRow("builtin") << "src/index.js" << "cloudflare:workers" << "cloudflare:workers";
}

void JsEngineTest::resolveModulePathTable()
{
    QFETCH(QString, referencing);
    QFETCH(QString, specifier);
    QFETCH(QString, expected);
    QCOMPARE(resolveModulePath(referencing, specifier), expected);
}

QTEST_GUILESS_MAIN(JsEngineTest)
#include "tst_jsengine.moc"
