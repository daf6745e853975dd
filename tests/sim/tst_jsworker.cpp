#include "js/jsworker.h"

#include "durableobject.h"
#include "simtasks.h"
#include "worldrequests.h"
#include "testfiles.h"
#include "world.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

using namespace roomscope;
using namespace roomscope::testing;

namespace {

QString sourcePath(const QString &relative)
{
    return qEnvironmentVariable("ROOMSCOPE_SOURCE_DIR") + QLatin1Char('/') + relative;
}

/// A world that serves a Worker module with a KV binding and ROOMS=Room.
std::unique_ptr<World> serveModule(const QString &path)
{
    Result<Scenario> scenario =
            Scenario::forWorkerModule(path, QStringLiteral("KV"), QStringLiteral("ROOMS=Room"), true);
    return createWorld(scenario);
}

/// Records the trace events of one kind as "subject | value" lines.
struct TraceLines
{
    QStringList lines;
    TraceLines(World &world, TraceKind kind)
    {
        world.simulation().trace().addSink([this, kind](const TraceEvent &event) {
            if (event.kind == kind)
                lines << event.subject + QStringLiteral(" | ") + QString::fromUtf8(event.value);
        });
    }
};

} // namespace

class JsWorkerTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void bundledWorkerRoutes();
    void defectsReportPlatformErrors_data();
    void defectsReportPlatformErrors();
    void consoleReachesTrace();
    void moduleWithoutClassIsRejected();
    void storageAndAlarm();
    void kvBulkReadsReturnMaps();
    void watchdogStopsLoop();
    void scenarioWithJavaScriptRoom();
    void javaScriptRoomMatchesBuiltInTrace();
    void worldsReplacedOneAfterAnother();
    void fetchReachesNoNetwork();
};

void JsWorkerTest::bundledWorkerRoutes()
{
    const std::unique_ptr<World> world =
            serveModule(sourcePath(QStringLiteral("resources/workers/kv-room/worker.mjs")));
    QCOMPARE(get(*world, QStringLiteral("/put?roomId=a&key=greeting&value=hello")).body, QByteArray("ok\n"));
    const HttpResponse read = get(*world, QStringLiteral("/get?roomId=a&key=greeting"));
    QCOMPARE(read.status, 200);
    QCOMPARE(read.body, QByteArray("hello"));
    QCOMPARE(get(*world, QStringLiteral("/get?roomId=a&key=missing")).status, 404);
    const HttpResponse missing = get(*world, QStringLiteral("/put?key=x"));
    QCOMPARE(missing.status, 400);
    QCOMPARE(missing.body, QByteArray("missing roomId\n"));
    QCOMPARE(QString::fromLatin1(get(*world, QStringLiteral("/id?roomId=a")).body),
             world->rooms().idFromName(QStringLiteral("a")).toString());
    const HttpResponse broadcast = get(*world, QStringLiteral("/broadcast?roomId=a&key=greeting"));
    QCOMPARE(broadcast.body, QByteArray("{\"failed\":0,\"sent\":0}"));
    QCOMPARE(broadcast.contentType, QByteArray("application/json"));
    QVERIFY(world->script());
    QCOMPARE(world->script()->errors().size(), size_t(0));
}

void JsWorkerTest::defectsReportPlatformErrors_data()
{
    QTest::addColumn<QByteArray>("module");
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("target");
    QTest::addColumn<QStringList>("traced");

    const QByteArray room = "export class Room extends DurableObject {\n"
                            "  async fetch(request) {\n"
                            "    await this.env.KV.put('key');\n"
                            "    return new Response('stored');\n"
                            "  }\n"
                            "}\n";
    const QByteArray header = "import { DurableObject } from 'cloudflare:workers';\n";
    QTest::newRow("undefined variable")
            << header + "export default { async fetch(request, env) {\n"
                        "  const roomIdParam = new URL(request.url).searchParams.get('roomId');\n"
                        "  return env.ROOMS.getByName(roomId).fetch(request);\n"
                        "} };\n" + room
            << 500 << QByteArray("ReferenceError: roomId is not defined\n") << "/?roomId=room-1"
            << QStringList { "fetch | ReferenceError: roomId is not defined (worker.mjs:4:3)" };
    QTest::newRow("no response")
            << header + "export default { async fetch(request, env) {\n"
                        "  if (new URL(request.url).searchParams.get('roomId')) return new Response('x');\n"
                        "} };\n" + room
            << 500
            << QByteArray("TypeError: Incorrect type for Promise: the Promise did not resolve to 'Response'.\n")
            << "/"
            << QStringList { "fetch | TypeError: Incorrect type for Promise: the Promise did not resolve to 'Response'. (worker.mjs:2:0)" };
    QTest::newRow("put without value")
            << header + "export default { async fetch(request, env) {\n"
                        "  return env.ROOMS.getByName('a').fetch(request);\n"
                        "} };\n" + room
            << 500
            << QByteArray("TypeError: Failed to execute 'put' on 'KvNamespace': parameter 2 is not of type 'string or JsObject'.\n")
            << "/?roomId=room-1"
            << QStringList { "Room.fetch | TypeError: Failed to execute 'put' on 'KvNamespace': parameter 2 is not of type 'string or JsObject'. (worker.mjs:7:23)" };
}

void JsWorkerTest::defectsReportPlatformErrors()
{
    QFETCH(QByteArray, module);
    QFETCH(int, status);
    QFETCH(QByteArray, body);
    QFETCH(QString, target);
    QFETCH(QStringList, traced);

    QTemporaryDir folder;
    QVERIFY(folder.isValid());
    const QString path = folder.filePath(QStringLiteral("worker.mjs"));
    QVERIFY(writeFile(path, module));
    const std::unique_ptr<World> world = serveModule(path);
    TraceLines errors(*world, TraceKind::ScriptError);
    const HttpResponse response = get(*world, target);
    QCOMPARE(response.status, status);
    QCOMPARE(response.body, body);
    QCOMPARE(errors.lines, traced);
}

void JsWorkerTest::consoleReachesTrace()
{
    QTemporaryDir folder;
    const QString path = folder.filePath(QStringLiteral("worker.mjs"));
    QVERIFY(writeFile(path, "import { DurableObject } from 'cloudflare:workers';\n"
                            "export class Room extends DurableObject {}\n"
                            "export default { fetch(request) {\n"
                            "  console.log('handling', new URL(request.url).pathname, { n: 1 });\n"
                            "  console.warn('careful');\n"
                            "  return new Response('done');\n"
                            "} };\n"));
    const std::unique_ptr<World> world = serveModule(path);
    TraceLines console(*world, TraceKind::Console);
    QCOMPARE(get(*world, QStringLiteral("/hello")).body, QByteArray("done"));
    QCOMPARE(console.lines, QStringList({ QStringLiteral("log | handling /hello { n: 1 }"),
                                          QStringLiteral("warn | careful") }));
}

void JsWorkerTest::moduleWithoutClassIsRejected()
{
    QTemporaryDir folder;
    const QString path = folder.filePath(QStringLiteral("worker.mjs"));
    const auto create = [&](const QString &objectsBinding) {
        Result<Scenario> scenario =
                Scenario::forWorkerModule(path, QStringLiteral("KV"), objectsBinding, true);
        if (!scenario)
            qFatal("%s", qPrintable(scenario.error().message));
        return World::create(*scenario);
    };

    // --do names a class that the module does not have.
    QVERIFY(writeFile(path, "export default { fetch() { return new Response('x'); } };\n"));
    Result<std::unique_ptr<World>> world = create(QStringLiteral("ROOMS=Room"));
    QVERIFY(!world.ok());
    QCOMPARE(world.error().message,
             QStringLiteral("%1 exports no class Room, which the ROOMS binding names: it exports "
                            "no class.").arg(path));

    // Without --do, a module without classes runs as a Worker without Durable Objects.
    world = create(QString());
    QVERIFY2(world.ok(), qPrintable(world ? QString() : world.error().message));
    QCOMPARE(get(**world, QStringLiteral("/")).body, QByteArray("x"));

    // A module with other classes names them and the flag that binds one.
    QVERIFY(writeFile(path, "import { DurableObject } from 'cloudflare:workers';\n"
                            "export class Lobby extends DurableObject {}\n"
                            "export class Arena extends DurableObject {}\n"
                            "export const version = 1;\n"
                            "export default { fetch() { return new Response('x'); } };\n"));
    world = create(QString());
    QVERIFY(!world.ok());
    QCOMPARE(world.error().message,
             QStringLiteral("%1 exports no class Room, which the ROOMS binding names: it exports "
                            "Arena, Lobby; to bind one, give --do ROOMS=Arena.").arg(path));
}

void JsWorkerTest::storageAndAlarm()
{
    QTemporaryDir folder;
    const QString path = folder.filePath(QStringLiteral("worker.mjs"));
    QVERIFY(writeFile(path, "import { DurableObject } from 'cloudflare:workers';\n"
                            "export class Room extends DurableObject {\n"
                            "  async fetch(request) {\n"
                            "    const route = new URL(request.url).pathname;\n"
                            "    if (route === '/count') {\n"
                            "      const count = ((await this.ctx.storage.get('count')) ?? 0) + 1;\n"
                            "      await this.ctx.storage.put('count', count);\n"
                            "      return new Response(String(count));\n"
                            "    }\n"
                            "    if (route === '/alarm') {\n"
                            "      await this.ctx.storage.setAlarm(Date.now() + 5000);\n"
                            "      return new Response(String(await this.ctx.storage.getAlarm()));\n"
                            "    }\n"
                            "    const all = await this.ctx.storage.list();\n"
                            "    return Response.json(Object.fromEntries(all));\n"
                            "  }\n"
                            "  async alarm(info) {\n"
                            "    await this.ctx.storage.put('alarm', { at: Date.now(), retry: info.retryCount });\n"
                            "  }\n"
                            "}\n"
                            "export default { fetch(request, env) { return env.ROOMS.getByName('r').fetch(request); } };\n"));
    const std::unique_ptr<World> world = serveModule(path);
    QCOMPARE(get(*world, QStringLiteral("/count")).body, QByteArray("1"));
    QCOMPARE(get(*world, QStringLiteral("/count")).body, QByteArray("2"));
    const SimTime start = world->simulation().now();
    const QByteArray alarmAt = get(*world, QStringLiteral("/alarm")).body;
    QCOMPARE(alarmAt.toLongLong(), start / 1000 + 5000);
    world->simulation().runUntil(world->simulation().now() + seconds(6));
    QCOMPARE(get(*world, QStringLiteral("/list")).body,
             QByteArray("{\"alarm\":{\"at\":") + alarmAt + QByteArray(",\"retry\":0},\"count\":2}"));
    QCOMPARE(world->script()->errors().size(), size_t(0));
}

void JsWorkerTest::kvBulkReadsReturnMaps()
{
    QTemporaryDir folder;
    const QString path = folder.filePath(QStringLiteral("worker.mjs"));
    QVERIFY(writeFile(path, "import { DurableObject } from 'cloudflare:workers';\n"
                            "export class Room extends DurableObject {}\n"
                            "const entries = (map) => (map instanceof Map ? [...map] : 'not a Map');\n"
                            "export default { async fetch(request, env) {\n"
                            "  await env.KV.put('a', '{\"n\":1}', { metadata: { tag: 'x' } });\n"
                            "  await env.KV.put('b', '\"two\"');\n"
                            "  const out = {};\n"
                            "  out.text = entries(await env.KV.get(['a', 'b', 'missing', 'a']));\n"
                            "  out.json = entries(await env.KV.get(['b', 'a'], 'json'));\n"
                            "  out.meta = entries(await env.KV.getWithMetadata(['a', 'b', 'missing'], { type: 'json' }));\n"
                            "  try { await env.KV.get(['a'], 'arrayBuffer'); } catch (e) { out.type = `${e.name}: ${e.message}`; }\n"
                            "  return Response.json(out);\n"
                            "} };\n"));
    const std::unique_ptr<World> world = serveModule(path);
    const HttpResponse response = get(*world, QStringLiteral("/"));
    QCOMPARE(response.status, 200);
    const QJsonObject out = QJsonDocument::fromJson(response.body).object();
    const auto compact = [&out](const char *name) {
        return QJsonDocument(out.value(QLatin1String(name)).toArray()).toJson(QJsonDocument::Compact);
    };
    // One entry per distinct key, in request order, and null for a missing key.
    QCOMPARE(compact("text"), QByteArray(R"([["a","{\"n\":1}"],["b","\"two\""],["missing",null]])"));
    QCOMPARE(compact("json"), QByteArray(R"([["b","two"],["a",{"n":1}]])"));
    QCOMPARE(compact("meta"),
             QByteArray(R"([["a",{"metadata":{"tag":"x"},"value":{"n":1}}],["b",{"metadata":null,"value":"two"}],["missing",null]])"));
    QCOMPARE(out.value(QStringLiteral("type")).toString(),
             QStringLiteral("Error: KV GET_BULK failed: 400 \"arrayBuffer\" is not a valid type. "
                            "Use \"json\" or \"text\""));
    QCOMPARE(world->script()->errors().size(), size_t(0));
}

void JsWorkerTest::watchdogStopsLoop()
{
    QTemporaryDir folder;
    const QString path = folder.filePath(QStringLiteral("worker.mjs"));
    QVERIFY(writeFile(path, "import { DurableObject } from 'cloudflare:workers';\n"
                            "export class Room extends DurableObject {\n"
                            "  fetch(request) {\n"
                            "    if (new URL(request.url).pathname === '/spin') for (;;) {}\n"
                            "    return new Response('alive');\n"
                            "  }\n"
                            "}\n"
                            "export default { fetch(request, env) { return env.ROOMS.getByName('r').fetch(request); } };\n"));
    const std::unique_ptr<World> world = serveModule(path);
    TraceLines errors(*world, TraceKind::ScriptError);
    const HttpResponse spun = get(*world, QStringLiteral("/spin"));
    QCOMPARE(spun.status, 500);
    QCOMPARE(spun.body, QByteArray("Error: Worker exceeded CPU time limit.\n"));
    QCOMPARE(errors.lines.first(), QStringLiteral("Room.fetch | Error: Worker exceeded CPU time limit."));
    // The object was reset, and a new instance handles the next request.
    QCOMPARE(get(*world, QStringLiteral("/")).body, QByteArray("alive"));
    DurableObject *object = world->roomObject(QStringLiteral("r"));
    QVERIFY(object);
    QCOMPARE(object->constructorRuns(), quint64(2));
}

void JsWorkerTest::scenarioWithJavaScriptRoom()
{
    QString digest;
    for (int run = 0; run < 2; ++run) {
        Result<Scenario> scenario = Scenario::load(sourcePath(QStringLiteral("resources/scenarios/kv-room-js.json")));
        QVERIFY2(scenario.ok(), qPrintable(scenario ? QString() : scenario.error().message));
        Result<std::unique_ptr<World>> created = World::create(*scenario);
        QVERIFY2(created.ok(), qPrintable(created ? QString() : created.error().message));
        World &world = **created;
        world.runToEnd();
        QCOMPARE(world.metrics().webSocketsAccepted, quint64(400));
        QCOMPARE(world.metrics().messagesDelivered, quint64(25000));
        QCOMPARE(world.script()->errors().size(), size_t(0));
        const QString hex = world.simulation().trace().digest().hex();
        if (run == 1)
            QCOMPARE(hex, digest);
        digest = hex;
    }
}

/// The kv-room scenario in the local profile, run once with the built-in room class and once
/// with the bundled JavaScript module of the same room: with one seed, both give the same trace.
/// Only the events that belong to one implementation are left out: the built-in class traces
/// its write queue and its broadcast as a whole, the module traces each ws.send() it makes.
void JsWorkerTest::javaScriptRoomMatchesBuiltInTrace()
{
    const auto traceOf = [](bool javaScript) {
        Result<Scenario> scenario = Scenario::load(sourcePath(QStringLiteral("resources/scenarios/kv-room.json")));
        if (!scenario)
            qFatal("%s", qPrintable(scenario.error().message));
        Scenario settings = std::move(scenario).value();
        if (!settings.applyProfile(QStringLiteral("local")))
            qFatal("the local profile does not apply");
        settings.duration = seconds(5);
        if (javaScript)
            settings.workerModule = sourcePath(QStringLiteral("resources/workers/kv-room/worker.mjs"));
        Result<std::unique_ptr<World>> created = World::create(settings);
        if (!created)
            qFatal("%s", qPrintable(created.error().message));
        World &world = **created;
        QStringList lines;
        const QSet<TraceKind> ownKinds { TraceKind::WriteQueued, TraceKind::WsBroadcast, TraceKind::WsSend };
        world.simulation().trace().addSink([&](const TraceEvent &event) {
            if (ownKinds.contains(event.kind))
                return;
            lines << QStringLiteral("%1 %2 %3 %4 %5 %6,%7,%8 %9")
                             .arg(event.time)
                             .arg(QLatin1String(traceKindInfo(event.kind).name), event.actor, event.location, event.subject)
                             .arg(event.numbers[0]).arg(event.numbers[1]).arg(event.numbers[2])
                             .arg(QString::fromUtf8(event.value));
        });
        world.runToEnd();
        return lines;
    };

    const QStringList builtIn = traceOf(false);
    const QStringList javaScript = traceOf(true);
    QCOMPARE(builtIn.size(), 2496);
    QCOMPARE(javaScript.size(), builtIn.size());
    for (qsizetype i = 0; i < builtIn.size(); ++i)
        QCOMPARE(javaScript.at(i), builtIn.at(i));
}

/// Worlds replaced one after another on one thread, as a reload in the GUI replaces them: each
/// new realm must run while the engine collects the realms of the worlds before it.
void JsWorkerTest::worldsReplacedOneAfterAnother()
{
    const QString module = sourcePath(QStringLiteral("resources/workers/kv-room/worker.mjs"));
    for (int world = 0; world < 10; ++world) {
        const std::unique_ptr<World> served = serveModule(module);
        int ok = 0;
        for (int request = 0; request < 4000; ++request) {
            const QString target = request % 2 == 0
                    ? QStringLiteral("/put?roomId=r%1&key=k&value=v%2").arg(request % 16).arg(request)
                    : QStringLiteral("/get?roomId=r%1&key=k").arg(request % 16);
            if (get(*served, target).status == 200)
                ++ok;
        }
        QCOMPARE(ok, 4000);
    }
}

void JsWorkerTest::fetchReachesNoNetwork()
{
    QTemporaryDir folder;
    const QString path = folder.filePath(QStringLiteral("worker.mjs"));
    QVERIFY(writeFile(path, "export default { async fetch() {\n"
                            "  try { await fetch('https://example.com/data'); return new Response('fetched'); }\n"
                            "  catch (error) { return new Response(`${error.name}: ${error.message}`); }\n"
                            "} };\n"));
    const std::unique_ptr<World> world = createWorld(
            Scenario::forWorkerModule(path, QStringLiteral("KV"), QString(), true));
    QCOMPARE(QString::fromUtf8(get(*world, QStringLiteral("/")).body),
             QStringLiteral("TypeError: fetch(\"https://example.com/data\") failed: scripts in "
                            "Roomscope reach no network. Call other Workers' routes through a "
                            "Durable Object stub, or answer the subrequest in your own code."));
}

QTEST_GUILESS_MAIN(JsWorkerTest)
#include "tst_jsworker.moc"
