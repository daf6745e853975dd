#include "js/jsworker.h"

#include "report.h"
#include "scripterrorfixture.h"
#include "simtasks.h"
#include "worldrequests.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

using namespace roomscope;
using namespace roomscope::testing;

namespace {

std::unique_ptr<World> serveModule(const QString &path)
{
    Result<Scenario> scenario = Scenario::forWorkerModule(
            path, QStringLiteral("KV"), QStringLiteral("ROOMS=Room"), false);
    return createWorld(scenario);
}

} // namespace

class ScriptErrorsTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parseStack_data();
    void parseStack();
    void sourceLine();
    void defectsKeepActorAndStack();
    void repeatsBecomeOneGroup();
    void actorsAreCounted();
    void reportListsErrors();
    void sourcesAreKept();
};

void ScriptErrorsTest::parseStack_data()
{
    QTest::addColumn<QString>("stack");
    QTest::addColumn<QStringList>("frames");

    QTest::newRow("runtime frames dropped")
            << "typeError@roomscope:bindings.js:7:34\nput@roomscope:bindings.js:96:31\n"
               "store@lib/store.mjs:3:12\nfetch@worker.mjs:18:11\n"
            << QStringList { "store (lib/store.mjs:3:12)", "fetch (worker.mjs:18:11)" };
    QTest::newRow("async and anonymous")
            << "async*handle@worker.mjs:4:9\n@worker.mjs:20:1\n"
            << QStringList { "async handle (worker.mjs:4:9)", "(anonymous) (worker.mjs:20:1)" };
    QTest::newRow("unknown column")
            << "fetch@worker.mjs:5:0" << QStringList { "fetch (worker.mjs:5)" };
    QTest::newRow("file name with @ and :")
            << "f@node_modules/@scope/a:b.mjs:2:3" << QStringList { "f (node_modules/@scope/a:b.mjs:2:3)" };
    QTest::newRow("no position") << "f@worker.mjs\nnot a frame\n" << QStringList {};
    QTest::newRow("empty") << QString() << QStringList {};
}

void ScriptErrorsTest::parseStack()
{
    QFETCH(QString, stack);
    QFETCH(QStringList, frames);

    QStringList parsed;
    for (const ScriptStackFrame &frame : parseScriptStack(stack))
        parsed << frame.toString();
    QCOMPARE(parsed, frames);
}

void ScriptErrorsTest::sourceLine()
{
    const QByteArray source = "first\r\nsecond\n\nfourth";
    QCOMPARE(sourceLineText(source, 1), QStringLiteral("first"));
    QCOMPARE(sourceLineText(source, 2), QStringLiteral("second"));
    QCOMPARE(sourceLineText(source, 3), QString());
    QCOMPARE(sourceLineText(source, 4), QStringLiteral("fourth"));
    QCOMPARE(sourceLineText(source, 5), QString());
    QCOMPARE(sourceLineText(source, 0), QString());
}

void ScriptErrorsTest::defectsKeepActorAndStack()
{
    QTemporaryDir folder;
    QVERIFY(folder.isValid());
    const std::unique_ptr<World> world = serveModule(writeDefectiveWorker(folder.path()));
    const SimTime start = world->simulation().now();
    QCOMPARE(get(*world, QStringLiteral("/?roomId=room-1")).status, 500);
    world->simulation().runUntil(start + milliseconds(250));
    QCOMPARE(get(*world, QStringLiteral("/")).status, 500);
    QCOMPARE(get(*world, QStringLiteral("/direct")).status, 500);

    const std::vector<ScriptErrorGroup> &groups = world->scriptErrors().groups();
    QCOMPARE(groups.size(), size_t(3));
    QCOMPARE(world->scriptErrors().occurrenceCount(), quint64(3));

    const ScriptErrorGroup &reference = groups[0];
    QCOMPARE(reference.where, QStringLiteral("fetch"));
    QCOMPARE(reference.firstActor, QStringLiteral("worker"));
    QCOMPARE(reference.text, QStringLiteral("ReferenceError: roomId is not defined"));
    QCOMPARE(reference.position(), QStringLiteral("worker.mjs:9:66"));
    QCOMPARE(reference.frames.size(), size_t(1));
    QCOMPARE(reference.frames[0].toString(), QStringLiteral("fetch (worker.mjs:9:66)"));
    QCOMPARE(reference.firstTime, start);
    QCOMPARE(reference.count, quint64(1));

    // The handler returned undefined: no frame threw, so the position is the handler's line.
    const ScriptErrorGroup &noResponse = groups[1];
    QCOMPARE(noResponse.where, QStringLiteral("fetch"));
    QCOMPARE(noResponse.text, QStringLiteral("TypeError: Incorrect type for Promise: the Promise "
                                             "did not resolve to 'Response'."));
    QCOMPARE(noResponse.position(), QStringLiteral("worker.mjs:5"));
    QCOMPARE(noResponse.frames.size(), size_t(1));
    QCOMPARE(noResponse.frames[0].toString(), QStringLiteral("fetch (worker.mjs:5)"));
    QCOMPARE(noResponse.firstTime, start + milliseconds(250));

    const ScriptErrorGroup &put = groups[2];
    QCOMPARE(put.where, QStringLiteral("Room.fetch"));
    QCOMPARE(put.firstActor, QStringLiteral("room room-1"));
    QCOMPARE(put.actorsText(), QStringLiteral("room room-1"));
    QCOMPARE(put.text, QStringLiteral("TypeError: Failed to execute 'put' on 'KvNamespace': "
                                      "parameter 2 is not of type 'string or JsObject'."));
    QCOMPARE(put.position(), QStringLiteral("lib/store.mjs:3:12"));
    QCOMPARE(put.frames.size(), size_t(2));
    QCOMPARE(put.frames[0].toString(), QStringLiteral("store (lib/store.mjs:3:12)"));
    QCOMPARE(put.frames[1].toString(), QStringLiteral("fetch (worker.mjs:18:11)"));
}

void ScriptErrorsTest::repeatsBecomeOneGroup()
{
    QTemporaryDir folder;
    QVERIFY(folder.isValid());
    const std::unique_ptr<World> world = serveModule(writeDefectiveWorker(folder.path()));
    const SimTime start = world->simulation().now();
    constexpr int kRepeats = 1000;
    for (int i = 0; i < kRepeats; ++i) {
        world->simulation().runUntil(start + milliseconds(10) * i);
        QCOMPARE(get(*world, QStringLiteral("/")).status, 500);
    }
    const std::vector<ScriptErrorGroup> &groups = world->scriptErrors().groups();
    QCOMPARE(groups.size(), size_t(1));
    QCOMPARE(groups[0].count, quint64(kRepeats));
    QCOMPARE(groups[0].firstTime, start);
    QCOMPARE(groups[0].lastTime, start + milliseconds(10) * (kRepeats - 1));
    QCOMPARE(world->scriptErrors().occurrenceCount(), quint64(kRepeats));
}

void ScriptErrorsTest::actorsAreCounted()
{
    QTemporaryDir folder;
    QVERIFY(folder.isValid());
    const QString path = folder.filePath(QStringLiteral("worker.mjs"));
    QVERIFY(writeFile(path, "import { DurableObject } from 'cloudflare:workers';\n"
                            "export class Room extends DurableObject {\n"
                            "  fetch() { throw new RangeError('full'); }\n"
                            "}\n"
                            "export default { fetch(request, env) {\n"
                            "  const room = new URL(request.url).searchParams.get('roomId');\n"
                            "  return env.ROOMS.getByName(room).fetch(request);\n"
                            "} };\n"));
    const std::unique_ptr<World> world = serveModule(path);
    for (const char *room : { "a", "b", "a", "c" })
        QCOMPARE(get(*world, QStringLiteral("/?roomId=") + QLatin1String(room)).status, 500);
    const std::vector<ScriptErrorGroup> &groups = world->scriptErrors().groups();
    QCOMPARE(groups.size(), size_t(1));
    QCOMPARE(groups[0].count, quint64(4));
    QCOMPARE(groups[0].actorCount, 3);
    QCOMPARE(groups[0].firstActor, QStringLiteral("room a"));
    QCOMPARE(groups[0].lastActor, QStringLiteral("room c"));
    QCOMPARE(groups[0].actorsText(), QStringLiteral("room a and 2 others"));
    QCOMPARE(groups[0].position(), QStringLiteral("worker.mjs:3:19"));
}

void ScriptErrorsTest::reportListsErrors()
{
    QTemporaryDir folder;
    QVERIFY(folder.isValid());
    const std::unique_ptr<World> world = serveModule(writeDefectiveWorker(folder.path()));
    const SimTime start = world->simulation().now();
    get(*world, QStringLiteral("/?roomId=room-1"));
    for (int i = 0; i < 3; ++i) {
        world->simulation().runUntil(start + milliseconds(500) * (i + 1));
        get(*world, QStringLiteral("/direct"));
    }
    const QString text = buildReport(*world).toText();
    const QString expected = QStringLiteral(
            "Script errors    4 (2 distinct)\n"
            "  fetch in worker, once at 0.000 s\n"
            "    ReferenceError: roomId is not defined\n"
            "    worker.mjs:9:66 | return env.ROOMS.getByName(roomIdParam).fetch(`http://do/${roomId}`);\n"
            "      at fetch (worker.mjs:9:66)\n"
            "  Room.fetch in room room-1, 3 times from 0.500 s to 1.500 s\n"
            "    TypeError: Failed to execute 'put' on 'KvNamespace': parameter 2 is not of type "
            "'string or JsObject'.\n"
            "    lib/store.mjs:3:12 | await kv.put(key);\n"
            "      at store (lib/store.mjs:3:12)\n"
            "      at fetch (worker.mjs:18:11)\n\n");
    QVERIFY2(text.contains(expected), qPrintable(text));

    const QJsonObject json = buildReport(*world).toJson();
    QCOMPARE(json.value(QStringLiteral("metrics")).toObject().value(QStringLiteral("script.errors")).toDouble(), 4.0);
    const QJsonArray errors = json.value(QStringLiteral("scriptErrors")).toArray();
    QCOMPARE(errors.size(), 2);
    const QJsonObject put = errors.at(1).toObject();
    QCOMPARE(put.value(QStringLiteral("file")).toString(), QStringLiteral("lib/store.mjs"));
    QCOMPARE(put.value(QStringLiteral("line")).toInt(), 3);
    QCOMPARE(put.value(QStringLiteral("column")).toInt(), 12);
    QCOMPARE(put.value(QStringLiteral("count")).toInt(), 3);
    QCOMPARE(put.value(QStringLiteral("sourceLine")).toString(), QStringLiteral("await kv.put(key);"));
    QCOMPARE(put.value(QStringLiteral("stack")).toArray().size(), 2);
}

void ScriptErrorsTest::sourcesAreKept()
{
    QTemporaryDir folder;
    QVERIFY(folder.isValid());
    const std::unique_ptr<World> world = serveModule(writeDefectiveWorker(folder.path()));
    QCOMPARE(world->scriptSource(QStringLiteral("worker.mjs")), std::optional(kDefectiveWorker));
    QCOMPARE(world->scriptSource(QStringLiteral("lib/store.mjs")), std::optional(kDefectiveWorkerStore));
    QVERIFY(!world->scriptSource(QStringLiteral("missing.mjs")));
}

QTEST_GUILESS_MAIN(ScriptErrorsTest)
#include "tst_scripterrors.moc"
