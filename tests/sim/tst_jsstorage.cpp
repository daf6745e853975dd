// The storage, ctx and WebSocket APIs of a JavaScript Durable Object, run through the real
// SpiderMonkey engine and the real SQLite storage. The cases cover sql.exec() and its cursor,
// storage.kv, transactions, stored values and blockConcurrencyWhile(). They also cover WebSocket
// attachments, tags and auto-responses, the standard WebSocket API and a WorkerEntrypoint.

#include "js/jsworker.h"

#include "durableobject.h"
#include "simtasks.h"
#include "testfiles.h"
#include "world.h"

#include <QTemporaryDir>
#include <QTest>

using namespace roomscope;
using namespace roomscope::testing;

namespace {

/// A module whose Room runs the route named by the request path, one of the functions in
/// `routes`, called with ctx and the request. It responds with the JSON of the route's result,
/// or with status 500 and "Name: message" when the route throws. The Worker sends every request
/// to the room "r".
QByteArray roomModule(const QByteArray &routes, const QByteArray &constructorBody = {})
{
    return "import { DurableObject } from 'cloudflare:workers';\n"
           "const routes = {\n" + routes + "};\n"
           "export class Room extends DurableObject {\n"
           "  constructor(ctx, env) {\n"
           "    super(ctx, env);\n" + constructorBody + "  }\n"
           "  async fetch(request) {\n"
           "    const route = routes[new URL(request.url).pathname.slice(1)];\n"
           "    try {\n"
           "      return Response.json(await route.call(this, this.ctx, request));\n"
           "    } catch (error) {\n"
           "      return new Response(`${error.name}: ${error.message}`, { status: 500 });\n"
           "    }\n"
           "  }\n"
           "}\n"
           "export default { fetch(request, env) { return env.ROOMS.getByName('r').fetch(request); } };\n";
}

/// A world serving `module` with ROOMS=Room, SQLite-backed when `sqlite` is set.
struct ModuleWorld
{
    QTemporaryDir folder;
    std::unique_ptr<World> world;

    ModuleWorld(const QByteArray &module, bool sqlite = true)
    {
        const QString path = folder.filePath(QStringLiteral("worker.mjs"));
        if (!writeFile(path, module))
            qFatal("cannot write %s", qPrintable(path));
        Result<Scenario> scenario = Scenario::forWorkerModule(path, QStringLiteral("KV"),
                                                              QStringLiteral("ROOMS=Room"), sqlite);
        if (!scenario)
            qFatal("%s", qPrintable(scenario.error().message));
        Result<std::unique_ptr<World>> created = World::create(*scenario);
        if (!created)
            qFatal("%s", qPrintable(created.error().message));
        world = std::move(created).value();
    }

    HttpResponse get(const QString &path, WebSocketClient *upgradeClient = nullptr)
    {
        HttpRequest request;
        request.url = QUrl(QStringLiteral("http://127.0.0.1:8787/") + path);
        if (upgradeClient) {
            request.headers.append({ QByteArray("Upgrade"), QByteArray("websocket") });
            request.upgradeClient = upgradeClient;
        }
        return runTask(world->simulation(), world->request(QStringLiteral("test"), 0, request));
    }

    /// The body of the response to `path`, which must have status 200.
    QByteArray ok(const QString &path)
    {
        const HttpResponse response = get(path);
        if (response.status != 200)
            qWarning("%s: %d %s", qPrintable(path), response.status, response.body.constData());
        return response.body;
    }

    void runFor(SimDuration duration) { world->simulation().runUntil(world->simulation().now() + duration); }

    QStringList errors() const
    {
        QStringList lines;
        for (const JsScriptError &error : world->script()->errors())
            lines << error.where + QStringLiteral(" | ") + error.text;
        return lines;
    }
};

/// The client end of a WebSocket that records what the object sends.
class RecordingClient : public WebSocketClient
{
public:
    QString name() const override { return QStringLiteral("client"); }
    LocationId location() const override { return 0; }
    void opened(quint64) override { }
    void messageReceived(const QByteArray &message, SimTime) override { messages << QString::fromUtf8(message); }
    void closed(int code, const QString &reason) override { closes << QStringLiteral("%1 %2").arg(code).arg(reason); }

    /// Delivers a text message to the object at once.
    void send(const QString &text) { socket->object->receiveMessage(socket, { text.toUtf8(), false }); }
    /// Delivers a Close frame to the object at once.
    void close(int code, const QString &reason) { socket->object->receiveClose(socket, code, reason); }

    std::shared_ptr<ServerWebSocket> socket;
    QStringList messages;
    QStringList closes;
};

} // namespace

class JsStorageTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void sqlCursor();
    void sqlValues();
    void sqlErrors();
    void sqlOnKeyValueClass();
    void syncKv();
    void transactionCommitsAndRollsBack();
    void transactionErrors();
    void transactionSync();
    void storageSync();
    void storedValuesRoundTrip();
    void storedValuesStayReadable();
    void blockConcurrencyWhileInConstructor();
    void blockConcurrencyWhileFailureResets();
    void blockConcurrencyWhileFailsConstructor();
    void webSocketTagsAndAttachments();
    void webSocketAutoResponse();
    void webSocketStandardApi();
    void workerEntrypointDefaultExport();
};

void JsStorageTest::sqlCursor()
{
    ModuleWorld run(roomModule(
            "  setup(ctx) {\n"
            "    const sql = ctx.storage.sql;\n"
            "    sql.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)');\n"
            "    const insert = sql.exec('INSERT INTO t (id, name) VALUES (?, ?), (?, ?), (?, ?)', 1, 'a', 2, 'b', 3, 'c');\n"
            "    return { written: insert.rowsWritten, columns: insert.columnNames };\n"
            "  },\n"
            "  all(ctx) {\n"
            "    const cursor = ctx.storage.sql.exec('SELECT id, name FROM t ORDER BY id');\n"
            "    return { columns: cursor.columnNames, rows: cursor.toArray(), read: cursor.rowsRead, rest: cursor.toArray() };\n"
            "  },\n"
            "  walk(ctx) {\n"
            "    const cursor = ctx.storage.sql.exec('SELECT name FROM t ORDER BY id');\n"
            "    const first = cursor.next();\n"
            "    const names = [];\n"
            "    for (const row of cursor) names.push(row.name);\n"
            "    return { first, names, end: cursor.next() };\n"
            "  },\n"
            "  raw(ctx) {\n"
            "    const raw = ctx.storage.sql.exec('SELECT id, name FROM t WHERE id > ? ORDER BY id', 1).raw();\n"
            "    return { first: raw.next().value, rest: raw.toArray(), spread: [...ctx.storage.sql.exec('SELECT id FROM t').raw()] };\n"
            "  },\n"
            "  one(ctx) { return ctx.storage.sql.exec('SELECT name FROM t WHERE id = ?', 2).one(); },\n"
            "  several(ctx) {\n"
            "    return ctx.storage.sql.exec(\"UPDATE t SET name = 'z' WHERE id = 3; SELECT count(*) AS n FROM t\").one();\n"
            "  },\n"
            "  size(ctx) { return ctx.storage.sql.databaseSize; },\n"));
    QCOMPARE(run.ok(QStringLiteral("setup")), QByteArray("{\"written\":3,\"columns\":[]}"));
    QCOMPARE(run.ok(QStringLiteral("all")),
             QByteArray("{\"columns\":[\"id\",\"name\"],\"rows\":[{\"id\":1,\"name\":\"a\"},{\"id\":2,\"name\":\"b\"},"
                        "{\"id\":3,\"name\":\"c\"}],\"read\":3,\"rest\":[]}"));
    QCOMPARE(run.ok(QStringLiteral("walk")),
             QByteArray("{\"first\":{\"done\":false,\"value\":{\"name\":\"a\"}},\"names\":[\"b\",\"c\"],\"end\":{\"done\":true}}"));
    QCOMPARE(run.ok(QStringLiteral("raw")), QByteArray("{\"first\":[2,\"b\"],\"rest\":[[3,\"c\"]],\"spread\":[[1],[2],[3]]}"));
    QCOMPARE(run.ok(QStringLiteral("one")), QByteArray("{\"name\":\"b\"}"));
    QCOMPARE(run.ok(QStringLiteral("several")), QByteArray("{\"n\":3}"));
    DurableObject *object = run.world->roomObject(QStringLiteral("r"));
    QVERIFY(object);
    const qint64 size = object->storage().databaseSize();
    QVERIFY(size > 0);
    QCOMPARE(run.ok(QStringLiteral("size")), QByteArray::number(size));
    QCOMPARE(run.errors(), QStringList());
}

void JsStorageTest::sqlValues()
{
    ModuleWorld run(roomModule(
            "  roundTrip(ctx) {\n"
            "    const sql = ctx.storage.sql;\n"
            "    sql.exec('CREATE TABLE v (n, r, s, b, z)');\n"
            "    sql.exec('INSERT INTO v VALUES (?, ?, ?, ?, ?)', 42, 1.5, 'text', new Uint8Array([1, 2, 255]).buffer, null);\n"
            "    sql.exec('INSERT INTO v VALUES (?, ?, ?, ?, ?)', -7, 0.25, '', new Uint16Array([258]), undefined);\n"
            "    return sql.exec('SELECT * FROM v').toArray().map((row) => ({\n"
            "      ...row, b: row.b instanceof ArrayBuffer ? [...new Uint8Array(row.b)] : row.b }));\n"
            "  },\n"
            "  types(ctx) {\n"
            "    return ctx.storage.sql.exec(\"SELECT typeof(?) AS number, typeof(?) AS text, typeof(?) AS blob, typeof(?) AS absent, 9007199254740993 AS big\",\n"
            "                                3, 'x', new ArrayBuffer(2), null).one();\n"
            "  },\n"));
    QCOMPARE(run.ok(QStringLiteral("roundTrip")),
             QByteArray("[{\"n\":42,\"r\":1.5,\"s\":\"text\",\"b\":[1,2,255],\"z\":null},"
                        "{\"n\":-7,\"r\":0.25,\"s\":\"\",\"b\":[2,1],\"z\":null}]"));
    // workerd binds a JavaScript number as a REAL, and an INTEGER result becomes a number.
    QCOMPARE(run.ok(QStringLiteral("types")),
             QByteArray("{\"number\":\"real\",\"text\":\"text\",\"blob\":\"blob\",\"absent\":\"null\",\"big\":9007199254740992}"));
}

void JsStorageTest::sqlErrors()
{
    ModuleWorld run(roomModule(
            "  syntax(ctx) { ctx.storage.sql.exec('SELEC 1'); return 'ran'; },\n"
            "  begin(ctx) { ctx.storage.sql.exec('BEGIN TRANSACTION'); return 'ran'; },\n"
            "  savepoint(ctx) { ctx.storage.sql.exec('SAVEPOINT s'); return 'ran'; },\n"
            "  none(ctx) { return ctx.storage.sql.exec('SELECT 1 WHERE 0').one(); },\n"
            "  many(ctx) { return ctx.storage.sql.exec('SELECT 1 UNION ALL SELECT 2').one(); },\n"
            "  boolean(ctx) { return ctx.storage.sql.exec('SELECT ?', true).one(); },\n"
            "  bindings(ctx) { return ctx.storage.sql.exec('SELECT ?, ?', 1).one(); },\n"));
    const auto failure = [&](const QString &path) {
        const HttpResponse response = run.get(path);
        return QString::number(response.status) + QLatin1Char(' ') + QString::fromUtf8(response.body);
    };
    QCOMPARE(failure(QStringLiteral("syntax")), QStringLiteral("500 Error: near \"SELEC\": syntax error at offset 0: SQLITE_ERROR"));
    const QString transactionText = QStringLiteral(
            "500 Error: To execute a transaction, please use the state.storage.transaction() or "
            "state.storage.transactionSync() APIs instead of the SQL BEGIN TRANSACTION or SAVEPOINT "
            "statements. The JavaScript API is safer because it will automatically roll back on "
            "exceptions, and because it interacts correctly with Durable Objects' automatic atomic "
            "write coalescing.");
    QCOMPARE(failure(QStringLiteral("begin")), transactionText);
    QCOMPARE(failure(QStringLiteral("savepoint")), transactionText);
    // The cursor's texts match those of the C++ SqlCursor::one().
    QCOMPARE(failure(QStringLiteral("none")), QStringLiteral("500 Error: ") + SqlCursor().one().error().message);
    SqlCursor two;
    two.rows = { QVariantList { 1 }, QVariantList { 2 } };
    QCOMPARE(failure(QStringLiteral("many")), QStringLiteral("500 Error: ") + two.one().error().message);
    QCOMPARE(failure(QStringLiteral("boolean")),
             QStringLiteral("500 TypeError: SQL binding 1 is a boolean; expected null, a number, a string or an ArrayBuffer."));
    QCOMPARE(failure(QStringLiteral("bindings")), QStringLiteral("500 Error: Wrong number of parameter bindings for SQL query."));
}

void JsStorageTest::sqlOnKeyValueClass()
{
    ModuleWorld run(roomModule(
            "  sql(ctx) { return ctx.storage.sql.exec('SELECT 1').toArray(); },\n"
            "  kv(ctx) { return ctx.storage.kv.get('a'); },\n"
            "  sync(ctx) { return ctx.storage.transactionSync(() => 1); },\n"),
                    false);
    const HttpResponse sql = run.get(QStringLiteral("sql"));
    QCOMPARE(sql.status, 500);
    QCOMPARE(sql.body,
             QByteArray("Error: SQL is not enabled for this Durable Object class. To enable it, change `new_classes` to "
                        "`new_sqlite_classes` within the 'migrations' field in your wrangler.jsonc or wrangler.toml "
                        "file. If using workerd directly,set `enableSql = true` in your workerd config for the "
                        "class. Note that this change cannot be made after the class is already deployed to "
                        "production."));
    const HttpResponse kv = run.get(QStringLiteral("kv"));
    QCOMPARE(kv.status, 500);
    QVERIFY2(kv.body.startsWith("Error: The storage.kv (synchronous KV) API is only available for SQLite-backed Durable Objects, "
                                "but this object's namespace is not declared to use SQLite."),
             kv.body.constData());
    QCOMPARE(run.get(QStringLiteral("sync")).body, QByteArray("Error: Durable Object is not backed by SQL."));
}

void JsStorageTest::syncKv()
{
    ModuleWorld run(roomModule(
            "  write(ctx) {\n"
            "    ctx.storage.kv.put('b', { n: 2 });\n"
            "    ctx.storage.kv.put('a', 'one');\n"
            "    ctx.storage.kv.put('c', [3]);\n"
            "    return { a: ctx.storage.kv.get('a'), missing: ctx.storage.kv.get('x') === undefined };\n"
            "  },\n"
            "  list(ctx) { return [...ctx.storage.kv.list()]; },\n"
            "  range(ctx) { return [...ctx.storage.kv.list({ start: 'b', limit: 1 })]; },\n"
            "  remove(ctx) { return [ctx.storage.kv.delete('a'), ctx.storage.kv.delete('a')]; },\n"
            "  async viaAsync(ctx) { return Object.fromEntries(await ctx.storage.list()); },\n"));
    QCOMPARE(run.ok(QStringLiteral("write")), QByteArray("{\"a\":\"one\",\"missing\":true}"));
    QCOMPARE(run.ok(QStringLiteral("list")), QByteArray("[[\"a\",\"one\"],[\"b\",{\"n\":2}],[\"c\",[3]]]"));
    QCOMPARE(run.ok(QStringLiteral("range")), QByteArray("[[\"b\",{\"n\":2}]]"));
    QCOMPARE(run.ok(QStringLiteral("remove")), QByteArray("[true,false]"));
    // The asynchronous API reads the same table.
    QCOMPARE(run.ok(QStringLiteral("viaAsync")), QByteArray("{\"b\":{\"n\":2},\"c\":[3]}"));
    QCOMPARE(run.errors(), QStringList());
}

void JsStorageTest::transactionCommitsAndRollsBack()
{
    ModuleWorld run(roomModule(
            "  async commit(ctx) {\n"
            "    return await ctx.storage.transaction(async (txn) => {\n"
            "      await txn.put('a', 1);\n"
            "      await txn.put({ b: 2, c: 3 });\n"
            "      await txn.delete('c');\n"
            "      return { seen: await txn.get('a'), listed: Object.fromEntries(await txn.list()) };\n"
            "    });\n"
            "  },\n"
            "  async thrown(ctx) {\n"
            "    const marker = new RangeError('stop here');\n"
            "    try {\n"
            "      await ctx.storage.transaction(async (txn) => { await txn.put('a', 'changed'); throw marker; });\n"
            "    } catch (error) {\n"
            "      return { same: error === marker, a: await ctx.storage.get('a') };\n"
            "    }\n"
            "    return 'no error';\n"
            "  },\n"
            "  async rolledBack(ctx) {\n"
            "    let late;\n"
            "    const value = await ctx.storage.transaction(async (txn) => {\n"
            "      await txn.put('b', 'changed');\n"
            "      txn.rollback();\n"
            "      late = await txn.get('b').catch((error) => `${error.name}: ${error.message}`);\n"
            "      return 'returned';\n"
            "    });\n"
            "    return { value, late, b: await ctx.storage.get('b') };\n"
            "  },\n"
            "  async all(ctx) { return Object.fromEntries(await ctx.storage.list()); },\n"));
    QCOMPARE(run.ok(QStringLiteral("commit")), QByteArray("{\"seen\":1,\"listed\":{\"a\":1,\"b\":2}}"));
    QCOMPARE(run.ok(QStringLiteral("thrown")), QByteArray("{\"same\":true,\"a\":1}"));
    QCOMPARE(run.ok(QStringLiteral("rolledBack")),
             QByteArray("{\"value\":\"returned\",\"late\":\"Error: Cannot get() on rolled back transaction\",\"b\":2}"));
    QCOMPARE(run.ok(QStringLiteral("all")), QByteArray("{\"a\":1,\"b\":2}"));
}

void JsStorageTest::transactionErrors()
{
    ModuleWorld run(roomModule(
            "  async deleteAll(ctx) {\n"
            "    return await ctx.storage.transaction((txn) => txn.deleteAll());\n"
            "  },\n"
            "  async escaped(ctx) {\n"
            "    let kept;\n"
            "    await ctx.storage.transaction(async (txn) => { kept = txn; });\n"
            "    return await kept.put('x', 1);\n"
            "  },\n"
            "  async rollbackTwice(ctx) {\n"
            "    return await ctx.storage.transaction(async (txn) => { txn.rollback(); txn.rollback(); });\n"
            "  },\n"));
    QCOMPARE(run.get(QStringLiteral("deleteAll")).body, QByteArray("Error: Cannot call deleteAll() within a transaction"));
    QCOMPARE(run.get(QStringLiteral("escaped")).body,
             QByteArray("Error: Cannot call put() on transaction that has already committed: did you move `txn` outside of the closure?"));
    QCOMPARE(run.get(QStringLiteral("rollbackTwice")).body, QByteArray("Error: Cannot rollback() on rolled back transaction"));
}

void JsStorageTest::transactionSync()
{
    ModuleWorld run(roomModule(
            "  setup(ctx) {\n"
            "    ctx.storage.sql.exec('CREATE TABLE t (n INTEGER)');\n"
            "    return ctx.storage.transactionSync(() => {\n"
            "      ctx.storage.sql.exec('INSERT INTO t VALUES (1), (2)');\n"
            "      return ctx.storage.sql.exec('SELECT sum(n) AS total FROM t').one().total;\n"
            "    });\n"
            "  },\n"
            "  thrown(ctx) {\n"
            "    try {\n"
            "      ctx.storage.transactionSync(() => {\n"
            "        ctx.storage.sql.exec('INSERT INTO t VALUES (100)');\n"
            "        ctx.storage.kv.put('k', 'v');\n"
            "        throw new TypeError('undo');\n"
            "      });\n"
            "    } catch (error) {\n"
            "      return [error.name, error.message, ctx.storage.sql.exec('SELECT count(*) AS n FROM t').one().n,\n"
            "              ctx.storage.kv.get('k') ?? 'absent'];\n"
            "    }\n"
            "  },\n"));
    QCOMPARE(run.ok(QStringLiteral("setup")), QByteArray("3"));
    QCOMPARE(run.ok(QStringLiteral("thrown")), QByteArray("[\"TypeError\",\"undo\",2,\"absent\"]"));
}

void JsStorageTest::storageSync()
{
    ModuleWorld run(roomModule(
            "  async write(ctx) {\n"
            "    ctx.storage.put('a', 1);\n"
            "    const result = await ctx.storage.sync();\n"
            "    return [result === undefined, await ctx.storage.get('a')];\n"
            "  },\n"));
    QCOMPARE(run.ok(QStringLiteral("write")), QByteArray("[true,1]"));
    DurableObject *object = run.world->roomObject(QStringLiteral("r"));
    QVERIFY(object);
    QCOMPARE(object->confirmedBatch(), object->lastBatch());
}

void JsStorageTest::storedValuesRoundTrip()
{
    ModuleWorld run(roomModule(
            "  async store(ctx) {\n"
            "    const shared = { n: 1 };\n"
            "    const cycle = { name: 'loop', shared };\n"
            "    cycle.self = cycle;\n"
            "    const bytes = new Uint16Array([1, 65535]);\n"
            "    await ctx.storage.put({\n"
            "      map: new Map([['k', new Set([1, 'two'])], [3, [shared, shared]]]),\n"
            "      date: new Date(1700000000123), bad: new Date(NaN), big: 2n ** 70n,\n"
            "      numbers: [NaN, -0, Infinity, -Infinity, undefined, , 5],\n"
            "      buffers: { bytes, raw: new Uint8Array([9, 8]).buffer, view: new DataView(new ArrayBuffer(3)) },\n"
            "      regexp: /a+b/gi, error: new RangeError('too far'), cycle,\n"
            "      tagged: { $structured: 1 }, plain: { list: [1, 'x', null, true], nested: { a: 1.5 } },\n"
            "    });\n"
            "    ctx.storage.kv.put('kvMap', new Map([[1, 2]]));\n"
            "    return 'stored';\n"
            "  },\n"
            "  async check(ctx) {\n"
            "    const v = Object.fromEntries(await ctx.storage.list());\n"
            "    const [[firstKey, set], [secondKey, pair]] = [...v.map];\n"
            "    return {\n"
            "      map: [v.map instanceof Map, firstKey, set instanceof Set, [...set], secondKey, pair[0] === pair[1], pair[0].n],\n"
            "      date: [v.date instanceof Date, v.date.getTime(), Number.isNaN(v.bad.getTime())],\n"
            "      big: [typeof v.big, String(v.big)],\n"
            "      numbers: [Number.isNaN(v.numbers[0]), Object.is(v.numbers[1], -0), String(v.numbers[2]), String(v.numbers[3]),\n"
            "                4 in v.numbers, v.numbers[4] === undefined, 5 in v.numbers, v.numbers[6]],\n"
            "      buffers: [v.buffers.bytes instanceof Uint16Array, [...v.buffers.bytes], v.buffers.raw instanceof ArrayBuffer,\n"
            "                [...new Uint8Array(v.buffers.raw)], v.buffers.view instanceof DataView, v.buffers.view.byteLength],\n"
            "      regexp: [v.regexp instanceof RegExp, v.regexp.source, v.regexp.flags],\n"
            "      error: [v.error instanceof RangeError, v.error.message],\n"
            "      cycle: [v.cycle.self === v.cycle, v.cycle.name, v.cycle.shared.n],\n"
            "      tagged: v.tagged, plain: v.plain,\n"
            "      kv: [...ctx.storage.kv.get('kvMap')],\n"
            "    };\n"
            "  },\n"
            "  async undefinedValue(ctx) { await ctx.storage.put('u', undefined); return 'stored'; },\n"
            "  async symbol(ctx) { await ctx.storage.put('s', Symbol('x')); return 'stored'; },\n"));
    QCOMPARE(run.ok(QStringLiteral("store")), QByteArray("\"stored\""));
    QCOMPARE(run.ok(QStringLiteral("check")),
             QByteArray("{\"map\":[true,\"k\",true,[1,\"two\"],3,true,1],"
                        "\"date\":[true,1700000000123,true],"
                        "\"big\":[\"bigint\",\"1180591620717411303424\"],"
                        "\"numbers\":[true,true,\"Infinity\",\"-Infinity\",true,true,false,5],"
                        "\"buffers\":[true,[1,65535],true,[9,8],true,3],"
                        "\"regexp\":[true,\"a+b\",\"gi\"],"
                        "\"error\":[true,\"too far\"],"
                        "\"cycle\":[true,\"loop\",1],"
                        "\"tagged\":{\"$structured\":1},"
                        "\"plain\":{\"list\":[1,\"x\",null,true],\"nested\":{\"a\":1.5}},"
                        "\"kv\":[[1,2]]}"));
    QCOMPARE(run.get(QStringLiteral("undefinedValue")).body, QByteArray("TypeError: put() called with undefined value."));
    QCOMPARE(run.get(QStringLiteral("symbol")).body, QByteArray("DataCloneError: Symbol(x) could not be cloned."));
    QCOMPARE(run.errors(), QStringList());
}

void JsStorageTest::storedValuesStayReadable()
{
    ModuleWorld run(roomModule(
            "  async store(ctx) {\n"
            "    await ctx.storage.put({ plain: { a: [1, 'x'] }, when: new Date(5) });\n"
            "    return 'stored';\n"
            "  },\n"));
    QCOMPARE(run.ok(QStringLiteral("store")), QByteArray("\"stored\""));
    DurableObject *object = run.world->roomObject(QStringLiteral("r"));
    QVERIFY(object);
    // A value that JSON represents exactly is stored as its JSON; others are tagged JSON.
    QCOMPARE(object->storage().get(QStringLiteral("plain")).value(), std::optional<QByteArray>("{\"a\":[1,\"x\"]}"));
    QCOMPARE(object->storage().get(QStringLiteral("when")).value(),
             std::optional<QByteArray>("{\"$structured\":{\"$\":\"Date\",\"id\":0,\"time\":5}}"));
}

void JsStorageTest::blockConcurrencyWhileInConstructor()
{
    // The constructor's callback waits 50 ms of virtual time; the request must not run before
    // it finishes, and the promise gives the callback's value.
    ModuleWorld run(roomModule(
            "  state() { return { loaded: this.loaded, value: this.value, order: this.order }; },\n",
            "    this.order = [];\n"
            "    this.loaded = ctx.blockConcurrencyWhile(async () => {\n"
            "      await new Promise((resolve) => setTimeout(resolve, 50));\n"
            "      this.order.push('initialised');\n"
            "      return (await ctx.storage.get('count')) ?? 41;\n"
            "    }).then((value) => { this.value = value + 1; return 'done'; });\n"
            "    this.order.push('constructed');\n"));
    QCOMPARE(run.ok(QStringLiteral("state")),
             QByteArray("{\"loaded\":{},\"value\":42,\"order\":[\"constructed\",\"initialised\"]}"));
    QCOMPARE(run.errors(), QStringList());
}

void JsStorageTest::blockConcurrencyWhileFailureResets()
{
    ModuleWorld run(roomModule(
            "  async fail(ctx) {\n"
            "    await ctx.blockConcurrencyWhile(async () => { throw new Error('cannot load'); });\n"
            "    return 'unblocked';\n"
            "  },\n"
            "  hello() { return 'hello'; },\n"));
    const HttpResponse failed = run.get(QStringLiteral("fail"));
    QCOMPARE(failed.status, 500);
    QCOMPARE(failed.body, QByteArray("Error: cannot load\n"));
    QCOMPARE(run.errors(), QStringList { QStringLiteral("Room.blockConcurrencyWhile | Error: cannot load") });
    // The failure reset the object, so a new instance serves the next request.
    QCOMPARE(run.ok(QStringLiteral("hello")), QByteArray("\"hello\""));
    DurableObject *object = run.world->roomObject(QStringLiteral("r"));
    QVERIFY(object);
    QCOMPARE(object->constructorRuns(), quint64(2));
}

void JsStorageTest::blockConcurrencyWhileFailsConstructor()
{
    // A constructor whose callback throws resets the new instance. The request that created it
    // fails with the callback's error, and the next request (a new stub) constructs again.
    ModuleWorld run(roomModule(
            "  hello() { return 'hello'; },\n",
            "    ctx.blockConcurrencyWhile(async () => { throw new Error('cannot load'); });\n"));
    for (int request = 1; request <= 2; ++request) {
        const HttpResponse failed = run.get(QStringLiteral("hello"));
        QCOMPARE(failed.status, 500);
        QCOMPARE(failed.body, QByteArray("Error: cannot load\n"));
        DurableObject *object = run.world->roomObject(QStringLiteral("r"));
        QVERIFY(object);
        QCOMPARE(object->constructorRuns(), quint64(request));
    }
    QCOMPARE(run.errors().size(), 2);
    QCOMPARE(run.errors().constFirst(), QStringLiteral("Room.blockConcurrencyWhile | Error: cannot load"));
}

void JsStorageTest::webSocketTagsAndAttachments()
{
    ModuleWorld run(roomModule(
            "  connect(ctx, request) {\n"
            "    const [client, server] = Object.values(new WebSocketPair());\n"
            "    ctx.acceptWebSocket(server, ['red', 'blue', 'red']);\n"
            "    server.serializeAttachment({ user: 'ann', joined: 5, seen: new Set([1]) });\n"
            "    return 'unreachable';\n"
            "  },\n"
            "  inspect(ctx) {\n"
            "    const [ws] = ctx.getWebSockets('blue');\n"
            "    return { tags: ctx.getTags(ws), attachment: ws.deserializeAttachment(),\n"
            "             red: ctx.getWebSockets('red').length, green: ctx.getWebSockets('green').length };\n"
            "  },\n"
            "  clear(ctx) {\n"
            "    const [ws] = ctx.getWebSockets();\n"
            "    ws.serializeAttachment(null);\n"
            "    return ws.deserializeAttachment();\n"
            "  },\n"
            "  large(ctx) { ctx.getWebSockets()[0].serializeAttachment('x'.repeat(16400)); return 'stored'; },\n"
            "  fn(ctx) { ctx.getWebSockets()[0].serializeAttachment({ f() {} }); return 'stored'; },\n"
            "  tooManyTags(ctx) {\n"
            "    const [, server] = Object.values(new WebSocketPair());\n"
            "    ctx.acceptWebSocket(server, ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11']);\n"
            "  },\n"));
    // The route returns JSON rather than a 101, so the test checks the socket the object kept.
    RecordingClient client;
    run.get(QStringLiteral("connect"), &client);
    QCOMPARE(run.ok(QStringLiteral("inspect")),
             QByteArray("{\"tags\":[\"red\",\"blue\"],\"attachment\":{\"user\":\"ann\",\"joined\":5,\"seen\":{}},\"red\":1,\"green\":0}"));
    DurableObject *object = run.world->roomObject(QStringLiteral("r"));
    QVERIFY(object);
    // The attachment survives hibernation, which drops the instance.
    QVERIFY(object->hibernate());
    QCOMPARE(run.ok(QStringLiteral("inspect")),
             QByteArray("{\"tags\":[\"red\",\"blue\"],\"attachment\":{\"user\":\"ann\",\"joined\":5,\"seen\":{}},\"red\":1,\"green\":0}"));
    QCOMPARE(object->constructorRuns(), quint64(2));
    QCOMPARE(run.get(QStringLiteral("large")).body,
             QByteArray("Error: A WebSocket 'attachment' cannot be larger than 16384 bytes.'attachment' was 16402 bytes."));
    QCOMPARE(run.get(QStringLiteral("fn")).body, QByteArray("DataCloneError: f() {} could not be cloned."));
    QCOMPARE(run.ok(QStringLiteral("clear")), QByteArray("null"));
    RecordingClient tagged;
    QCOMPARE(run.get(QStringLiteral("tooManyTags"), &tagged).body, QByteArray("Error: a Hibernatable WebSocket cannot have more than 10 tags"));
}

void JsStorageTest::webSocketAutoResponse()
{
    ModuleWorld run(
            "import { DurableObject } from 'cloudflare:workers';\n"
            "export class Room extends DurableObject {\n"
            "  fetch(request) {\n"
            "    const route = new URL(request.url).pathname;\n"
            "    if (route === '/state') {\n"
            "      const pair = this.ctx.getWebSocketAutoResponse();\n"
            "      const at = this.ctx.getWebSocketAutoResponseTimestamp(this.ctx.getWebSockets()[0]);\n"
            "      return Response.json({ request: pair.request, response: pair.response, at: at && at.getTime(),\n"
            "                             timeout: this.ctx.getHibernatableWebSocketEventTimeout() });\n"
            "    }\n"
            "    if (route === '/long') {\n"
            "      try { this.ctx.setHibernatableWebSocketEventTimeout(604800001); } catch (error) { return new Response(error.message); }\n"
            "    }\n"
            "    const { 0: client, 1: server } = new WebSocketPair();\n"
            "    this.ctx.acceptWebSocket(server);\n"
            "    this.ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('ping', 'pong'));\n"
            "    this.ctx.setHibernatableWebSocketEventTimeout(5000);\n"
            "    return new Response(null, { status: 101, webSocket: client });\n"
            "  }\n"
            "  webSocketMessage(ws, message) { ws.send(`echo ${message}`); }\n"
            "}\n"
            "export default { fetch(request, env) { return env.ROOMS.getByName('r').fetch(request); } };\n");
    RecordingClient client;
    const HttpResponse upgraded = run.get(QStringLiteral("connect"), &client);
    QCOMPARE(upgraded.status, 101);
    QVERIFY(upgraded.webSocket);
    client.socket = upgraded.webSocket;
    client.send(QStringLiteral("ping"));
    const qint64 pingedAt = run.world->simulation().now() / 1000;
    client.send(QStringLiteral("hello"));
    run.runFor(seconds(1));
    QCOMPARE(client.messages, QStringList({ QStringLiteral("pong"), QStringLiteral("echo hello") }));
    QCOMPARE(run.ok(QStringLiteral("state")),
             QByteArray("{\"request\":\"ping\",\"response\":\"pong\",\"at\":") + QByteArray::number(pingedAt)
                     + QByteArray(",\"timeout\":5000}"));
    QCOMPARE(run.get(QStringLiteral("long")).body, QByteArray("Event timeout should not exceed 604800000 ms."));
    QCOMPARE(run.errors(), QStringList());
}

void JsStorageTest::webSocketStandardApi()
{
    ModuleWorld run(
            "import { DurableObject } from 'cloudflare:workers';\n"
            "export class Room extends DurableObject {\n"
            "  fetch(request) {\n"
            "    const route = new URL(request.url).pathname;\n"
            "    if (route === '/log') return Response.json(this.log);\n"
            "    const [client, server] = Object.values(new WebSocketPair());\n"
            "    server.accept();\n"
            "    this.log = [];\n"
            "    server.addEventListener('message', (event) => {\n"
            "      this.log.push(`message ${event.data}`);\n"
            "      server.send(`echo ${event.data}`);\n"
            "    });\n"
            "    server.addEventListener('close', (event) => this.log.push(`close ${event.code} ${event.reason} ${event.wasClean}`));\n"
            "    try { this.ctx.acceptWebSocket(server); } catch (error) { this.log.push(error.message); }\n"
            "    return new Response(null, { status: 101, webSocket: client });\n"
            "  }\n"
            "  webSocketMessage() { this.log.push('handler called'); }\n"
            "}\n"
            "export default { fetch(request, env) { return env.ROOMS.getByName('r').fetch(request); } };\n");
    RecordingClient client;
    const HttpResponse upgraded = run.get(QStringLiteral("connect"), &client);
    QCOMPARE(upgraded.status, 101);
    QVERIFY(upgraded.webSocket);
    client.socket = upgraded.webSocket;
    QVERIFY(!client.socket->hibernatable);
    client.send(QStringLiteral("hi"));
    run.runFor(seconds(1));
    client.send(QStringLiteral("bye"));
    run.runFor(seconds(1));
    client.close(4001, QStringLiteral("client done"));
    run.runFor(seconds(1));
    QCOMPARE(client.messages, QStringList({ QStringLiteral("echo hi"), QStringLiteral("echo bye") }));
    QCOMPARE(run.ok(QStringLiteral("log")),
             QByteArray("[\"Cannot call `acceptWebSocket()` if the WebSocket was already accepted via `accept()`\","
                        "\"message hi\",\"message bye\",\"close 4001 client done true\"]"));
    QCOMPARE(client.closes, QStringList { QStringLiteral("4001 client done") });
    // A standard WebSocket keeps the object in memory while it is open.
    DurableObject *object = run.world->roomObject(QStringLiteral("r"));
    QVERIFY(object);
    QCOMPARE(object->constructorRuns(), quint64(1));
    QCOMPARE(run.errors(), QStringList());
}

void JsStorageTest::workerEntrypointDefaultExport()
{
    ModuleWorld run(
            "import { DurableObject, WorkerEntrypoint } from 'cloudflare:workers';\n"
            "export class Room extends DurableObject {\n"
            "  fetch(request) { return new Response(`room ${this.ctx.id.name}`); }\n"
            "}\n"
            "let instances = 0;\n"
            "export default class extends WorkerEntrypoint {\n"
            "  constructor(ctx, env) { super(ctx, env); instances += 1; }\n"
            "  async fetch(request, extra) {\n"
            "    if (new URL(request.url).pathname === '/room') return this.env.ROOMS.getByName('lobby').fetch(request);\n"
            "    return Response.json({ instances, arguments: arguments.length, ctx: typeof this.ctx, env: Object.keys(this.env) });\n"
            "  }\n"
            "}\n");
    QCOMPARE(run.ok(QStringLiteral("room")), QByteArray("room lobby"));
    QCOMPARE(run.ok(QStringLiteral("info")),
             QByteArray("{\"instances\":2,\"arguments\":1,\"ctx\":\"object\",\"env\":[\"KV\",\"ROOMS\"]}"));
    QCOMPARE(run.errors(), QStringList());
}

QTEST_GUILESS_MAIN(JsStorageTest)
#include "tst_jsstorage.moc"
