// Durable Objects in session files: snapshots of confirmed writes, saving and loading them with
// a World against real SQLite files, the errors of invalid files, and the real roomscope binary.

#include "dofixture.h"
#include "durableobjectnamespace.h"
#include "kvstore.h"
#include "report.h"
#include "roomscopeprocess.h"
#include "scenario.h"
#include "sessionfile.h"
#include "simtasks.h"
#include "testfiles.h"
#include "world.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include <sqlite3.h>

using namespace roomscope;
using namespace roomscope::testing;

namespace {

constexpr qint64 kStartMs = 1'767'225'600'000; // 2026-01-01T00:00:00Z, kv-room.json's start
const QString kSessionHint
    = QStringLiteral("Give a session file that `roomscope run --save-session` wrote.");

/// The bundled kv-room scenario without clients and workloads, so that only what a test does
/// happens in its World.
Scenario quietKvRoom()
{
    Result<Scenario> scenario = Scenario::load(kvRoomPath());
    if (!scenario)
        qFatal("cannot load kv-room.json: %s", qPrintable(scenario.error().message));
    Scenario quiet = scenario.value();
    quiet.workloads.clear();
    for (Scenario::Room &room : quiet.rooms)
        room.clients.clear();
    return quiet;
}

std::unique_ptr<World> createWorld(const Scenario &scenario, const QString &session = {})
{
    Result<std::unique_ptr<World>> world = World::create(scenario, std::nullopt, session);
    if (!world)
        qFatal("cannot create the world: %s", qPrintable(world.error().message));
    return std::move(world).value();
}

DurableObject &roomObject(World &world, const QString &name, const QString &location)
{
    DurableObjectNamespace &rooms = world.rooms();
    return rooms.object(rooms.idFromName(name), world.locations().find(location));
}

/// Runs every event due within `duration` from now.
void advance(Simulation &simulation, SimDuration duration)
{
    simulation.runUntil(simulation.now() + duration);
}

/// The KV-style entries of a storage as "key=value" lines.
QStringList entryLines(DurableObjectStorage &storage)
{
    QStringList lines;
    const Result<StorageEntries> entries = storage.list({});
    if (!entries)
        return { entries.error().message };
    for (const auto &[key, value] : *entries)
        lines << key + QLatin1Char('=') + QString::fromUtf8(value);
    return lines;
}

/// The rows of a read-only query as "a|b" lines.
QStringList queryLines(DurableObjectStorage &storage, const QString &query)
{
    const Result<SqlCursor> cursor = storage.inspect(query);
    if (!cursor)
        return { cursor.error().message };
    QStringList lines;
    for (const QVariantList &row : cursor->rows) {
        QStringList values;
        for (const QVariant &value : row)
            values << value.toString();
        lines << values.join(QLatin1Char('|'));
    }
    return lines;
}

/// The entries stored in a snapshot's database image.
QStringList snapshotEntries(const DurableObjectSnapshot &snapshot)
{
    auto storage = DurableObjectStorage::deserialize(StorageBackend::Sqlite, {}, snapshot.storage);
    if (!storage)
        return { storage.error().message };
    return entryLines(*storage.value());
}

/// Rows of a query on an SQLite file as "a|b" lines, with "NULL" for NULL.
QStringList fileRows(const QString &path, const QByteArray &sql)
{
    sqlite3 *db = nullptr;
    QStringList rows;
    if (sqlite3_open_v2(path.toUtf8().constData(), &db, SQLITE_OPEN_READONLY, nullptr)
        != SQLITE_OK) {
        rows << QString::fromUtf8(sqlite3_errmsg(db));
        sqlite3_close(db);
        return rows;
    }
    sqlite3_stmt *statement = nullptr;
    if (sqlite3_prepare_v2(db, sql.constData(), -1, &statement, nullptr) != SQLITE_OK)
        rows << QString::fromUtf8(sqlite3_errmsg(db));
    while (statement && sqlite3_step(statement) == SQLITE_ROW) {
        QStringList values;
        for (int column = 0; column < sqlite3_column_count(statement); ++column) {
            const auto *text
                = reinterpret_cast<const char *>(sqlite3_column_text(statement, column));
            values << (text ? QString::fromUtf8(text) : QStringLiteral("NULL"));
        }
        rows << values.join(QLatin1Char('|'));
    }
    sqlite3_finalize(statement);
    sqlite3_close(db);
    return rows;
}

/// A database image with two KV-style entries and a `scores` table, as an object's storage
/// would serialize it after the commit.
QByteArray sampleImage()
{
    auto storage = DurableObjectStorage::create(StorageBackend::Sqlite, {});
    if (!storage)
        qFatal("cannot create storage: %s", qPrintable(storage.error().message));
    DurableObjectStorage &db = *storage.value();
    if (!db.put(QStringLiteral("motd"), QByteArray("hello")) || !db.put(QStringLiteral("n"), "7")
        || !db.exec(QStringLiteral("CREATE TABLE scores (player TEXT PRIMARY KEY, points INTEGER);"
                                   "INSERT INTO scores VALUES ('ann', 3), ('bob', 5)"))
        || !db.commitBatch())
        qFatal("cannot write the sample storage");
    return db.serialize();
}

ProcessResult runRoomscope(const QStringList &arguments)
{
    return roomscope::testing::runRoomscope(QStringLiteral(ROOMSCOPE_BINARY), arguments);
}

/// An object whose alarm handler takes one second, to save a session while it runs.
class SlowAlarmObject : public DurableObjectBehaviour
{
public:
    explicit SlowAlarmObject(DurableObjectState &ctx)
        : m_ctx(ctx)
    {
    }

    Task<Result<HttpResponse>> fetch(HttpRequest) override
    {
        co_return HttpResponse::text(200, "ok");
    }
    bool hasAlarmHandler() const override { return true; }
    Task<Status> alarm(AlarmInfo) override
    {
        co_await m_ctx.sleep(seconds(1));
        co_return Done {};
    }

private:
    DurableObjectState &m_ctx;
};

BehaviourFactory slowAlarmFactory()
{
    return [](DurableObjectState &ctx) { return std::make_unique<SlowAlarmObject>(ctx); };
}

} // namespace

class DoSessionTest : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();

    void snapshotLeavesOutUnconfirmedWrites();
    void snapshotKeepsRunningAlarm();
    void restoreRejectsUsedObject();
    void keyValueBackendRoundTrip();

    void sessionRoundTrip();
    void sessionLeavesOutUnconfirmedWrites_data();
    void sessionLeavesOutUnconfirmedWrites();
    void pastAlarmFiresAtLoad();
    void restoredObjectKeepsLocation();
    void saveReplacesObjects();
    void olderSessionLoads_data();
    void olderSessionLoads();
    void invalidObjectRows_data();
    void invalidObjectRows();
    void reportCountsRestoredObjects();

    void cliRoundTrip();
};

void DoSessionTest::initTestCase()
{
    QVERIFY2(!qEnvironmentVariableIsEmpty("ROOMSCOPE_SOURCE_DIR"),
        "ROOMSCOPE_SOURCE_DIR is not set: run the test with ctest, or set it to the source "
        "tree");
}

void DoSessionTest::snapshotLeavesOutUnconfirmedWrites()
{
    DurableObjectSettings settings;
    settings.storageCommitLatency = milliseconds(30);
    DurableObjectFixture fixture(slowAlarmFactory(), StorageBackend::Sqlite, settings);
    DurableObject &object = fixture.object(QStringLiteral("vault"));
    StorageApi storage(object, 0);
    Simulation &simulation = fixture.simulation;
    const qint64 startMs = simulation.now() / kMicrosecondsPerMillisecond;

    // Batch 1 commits at once and is confirmed 30 ms later.
    storage.put(QStringLiteral("a"), QByteArray("1"));
    QCOMPARE(snapshotEntries(object.confirmedSnapshot()), QStringList());
    advance(simulation, milliseconds(30));
    QCOMPARE(object.confirmedBatch(), quint64(1));
    QCOMPARE(snapshotEntries(object.confirmedSnapshot()), QStringList { "a=1" });

    // Batch 2 commits at once. Batch 3, 10 ms later, sets the alarm too.
    storage.put(QStringLiteral("b"), QByteArray("2"));
    advance(simulation, milliseconds(10));
    storage.put(QStringLiteral("c"), QByteArray("3"));
    storage.setAlarm(startMs + 60'000);
    QCOMPARE(object.lastBatch(), quint64(3));
    QCOMPARE(object.storage().get(QStringLiteral("c")).value(), std::optional<QByteArray>("3"));
    DurableObjectSnapshot snapshot = object.confirmedSnapshot();
    QCOMPARE(snapshotEntries(snapshot), QStringList { "a=1" });
    QCOMPARE(snapshot.alarmMs, std::nullopt);

    // Batch 3 is committed but not confirmed.
    advance(simulation, 0);
    QVERIFY(!object.storage().hasOpenBatch());
    QCOMPARE(snapshotEntries(object.confirmedSnapshot()), QStringList { "a=1" });

    // Batch 2 is confirmed at 30 ms after its commit, batch 3 10 ms later.
    advance(simulation, milliseconds(20));
    QCOMPARE(object.confirmedBatch(), quint64(2));
    snapshot = object.confirmedSnapshot();
    QCOMPARE(snapshotEntries(snapshot), (QStringList { "a=1", "b=2" }));
    QCOMPARE(snapshot.alarmMs, std::nullopt);
    advance(simulation, milliseconds(10));
    QCOMPARE(object.confirmedBatch(), quint64(3));
    snapshot = object.confirmedSnapshot();
    QCOMPARE(snapshotEntries(snapshot), (QStringList { "a=1", "b=2", "c=3" }));
    QCOMPARE(snapshot.alarmMs, std::optional<qint64>(startMs + 60'000));
}

void DoSessionTest::snapshotKeepsRunningAlarm()
{
    DurableObjectFixture fixture(slowAlarmFactory());
    DurableObject &object = fixture.object(QStringLiteral("vault"));
    Simulation &simulation = fixture.simulation;
    const qint64 alarmMs = simulation.now() / kMicrosecondsPerMillisecond + 5'000;
    StorageApi(object, 0).setAlarm(alarmMs);
    advance(simulation, seconds(1));
    QCOMPARE(object.confirmedSnapshot().alarmMs, std::optional<qint64>(alarmMs));

    // While the handler runs, getAlarm() gives null, but a restart would run the alarm again.
    advance(simulation, seconds(4) + milliseconds(500));
    QVERIFY(object.isAlarmRunning());
    QCOMPARE(object.alarmTimeMs(), std::nullopt);
    QCOMPARE(object.confirmedSnapshot().alarmMs, std::optional<qint64>(alarmMs));

    advance(simulation, seconds(1));
    QVERIFY(!object.isAlarmRunning());
    QCOMPARE(object.alarmRuns(), quint64(1));
    QCOMPARE(object.confirmedSnapshot().alarmMs, std::nullopt);
}

void DoSessionTest::restoreRejectsUsedObject()
{
    DurableObjectFixture fixture(slowAlarmFactory());
    DurableObjectNamespace &ns = *fixture.ns;
    const DurableObjectId id = ns.idFromName(QStringLiteral("vault"));
    DurableObjectSnapshot snapshot { sampleImage(), kStartMs + 1'000 };

    const Result<DurableObject *> restored = ns.restoreObject(id, fixture.sjc, snapshot);
    QVERIFY2(restored, qPrintable(restored ? QString() : restored.error().message));
    QCOMPARE(restored.value()->location(), fixture.sjc);
    QCOMPARE(restored.value()->name(), QStringLiteral("vault"));
    QCOMPARE(restored.value()->constructorRuns(), quint64(0));
    QCOMPARE(entryLines(restored.value()->storage()), (QStringList { "motd=hello", "n=7" }));

    const Result<DurableObject *> again = ns.restoreObject(id, fixture.sjc, snapshot);
    QVERIFY(!again);
    QCOMPARE(again.error().message,
        QStringLiteral("Durable Object %1 exists already, so it cannot be restored.")
            .arg(id.toString()));

    const DurableObjectId other = ns.idFromName(QStringLiteral("other"));
    const Result<DurableObject *> nowhere = ns.restoreObject(other, 7, snapshot);
    QVERIFY(!nowhere);
    QCOMPARE(nowhere.error().message,
        QStringLiteral("Cannot restore Durable Object %1: location 7 does not exist.")
            .arg(other.toString()));
    QCOMPARE(ns.find(other), nullptr);

    // An object that was written to cannot be restored, nor one with storage of a backend
    // other than its class's.
    DurableObject &used = fixture.object(QStringLiteral("used"));
    StorageApi(used, 0).put(QStringLiteral("k"), QByteArray("v"));
    auto storage = DurableObjectStorage::deserialize(StorageBackend::Sqlite, {}, sampleImage());
    QVERIFY(storage);
    const Status overwritten = used.restore(std::move(storage).value(), std::nullopt);
    QVERIFY(!overwritten);
    QCOMPARE(overwritten.error().message,
        QStringLiteral("Cannot restore Durable Object %1: it has run or has been written to. "
                       "Restore objects before any event reaches them.")
            .arg(used.id().toString()));
    DurableObject &fresh = fixture.object(QStringLiteral("fresh"));
    auto keyValue = DurableObjectStorage::create(StorageBackend::KeyValue, {});
    QVERIFY(keyValue);
    const Status mismatched = fresh.restore(std::move(keyValue).value(), std::nullopt);
    QVERIFY(!mismatched);
    QCOMPARE(mismatched.error().message,
        QStringLiteral("Cannot restore Durable Object %1: its storage has another backend than "
                       "class Room.")
            .arg(fresh.id().toString()));
}

void DoSessionTest::keyValueBackendRoundTrip()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("session.sqlite"));

    DurableObjectFixture saving(slowAlarmFactory(), StorageBackend::KeyValue);
    auto kv = KvNamespace::create(saving.simulation, saving.locations, QStringLiteral("KV"),
        KvSettings {}, QStringLiteral(":memory:"));
    QVERIFY(kv);
    DurableObject &vault = saving.object(QStringLiteral("vault"));
    StorageApi(vault, 0).put(
        { { QStringLiteral("a"), QByteArray("1") }, { QStringLiteral("b"), QByteArray("2") } });
    advance(saving.simulation, seconds(1));
    QVERIFY(session::save(path, *kv.value(), *saving.ns));
    QCOMPARE(fileRows(path, "SELECT class, name, location, backend FROM durable_objects"),
        QStringList { "Room|vault|LHR|key-value" });

    DurableObjectFixture loading(slowAlarmFactory(), StorageBackend::KeyValue);
    const Result<int> restored = session::restoreObjects(path, *loading.ns);
    QVERIFY2(restored, qPrintable(restored ? QString() : restored.error().message));
    QCOMPARE(*restored, 1);
    DurableObject *object = loading.ns->find(loading.ns->idFromName(QStringLiteral("vault")));
    QVERIFY(object);
    QCOMPARE(object->storage().backend(), StorageBackend::KeyValue);
    QCOMPARE(entryLines(object->storage()), (QStringList { "a=1", "b=2" }));

    // An SQLite-backed class does not take the objects of a KV-backed one.
    DurableObjectFixture sqlite(slowAlarmFactory(), StorageBackend::Sqlite);
    const Result<int> mismatched = session::restoreObjects(path, *sqlite.ns);
    QVERIFY(!mismatched);
    QCOMPARE(mismatched.error().message,
        QStringLiteral("Cannot load the session file %1: Durable Object \"vault\" (ID %2) is "
                       "KV-backed, but class \"Room\" of this scenario is SQLite-backed. Open "
                       "the session with a scenario whose class has the same storage backend.")
            .arg(path, vault.id().toString()));
    QCOMPARE(sqlite.ns->objects().size(), size_t(0));
}

void DoSessionTest::sessionRoundTrip()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("session.sqlite"));
    const Scenario scenario = quietKvRoom();
    const qint64 alarmMs = kStartMs + 300'000;

    auto saving = createWorld(scenario);
    DurableObject &vault = roomObject(*saving, QStringLiteral("vault"), QStringLiteral("NRT"));
    StorageApi storage(vault, 0);
    storage.put({ { QStringLiteral("motd"), QByteArray("hello") },
        { QStringLiteral("bytes"), QByteArray("\x00\xff", 2) } });
    QVERIFY(
        storage.exec(QStringLiteral("CREATE TABLE scores (player TEXT PRIMARY KEY, points INTEGER);"
                                    "INSERT INTO scores VALUES ('ann', 3), ('bob', 5)")));
    storage.setAlarm(alarmMs);
    const DurableObjectId uniqueId = saving->rooms().newUniqueId().value();
    DurableObject &unnamed
        = saving->rooms().object(uniqueId, saving->locations().find(QStringLiteral("SJC")));
    StorageApi(unnamed, 0).put(QStringLiteral("owner"), QByteArray("nobody"));
    roomObject(*saving, QStringLiteral("lobby"), QStringLiteral("SJC"));
    advance(saving->simulation(), seconds(1));
    QVERIFY(saving->saveSession(path));
    QCOMPARE(fileRows(path, "PRAGMA user_version"), QStringList { "2" });
    QCOMPARE(fileRows(path,
                 "SELECT class, name, location, backend, alarm, length(storage) > 0 "
                 "FROM durable_objects ORDER BY name"),
        (QStringList { "Room|NULL|SJC|sqlite|NULL|1", "Room|lobby|LHR|sqlite|NULL|0",
            QStringLiteral("Room|vault|NRT|sqlite|%1|1").arg(alarmMs) }));

    const QByteArray fileBefore = readFile(path);
    auto loaded = createWorld(scenario, path);
    QCOMPARE(readFile(path), fileBefore);
    QCOMPARE(loaded->restoredObjectCount(), 3);
    QCOMPARE(loaded->sessionFile(), path);
    QCOMPARE(loaded->rooms().objects().size(), size_t(3));

    DurableObject *restored = loaded->roomObject(QStringLiteral("vault"));
    QVERIFY(restored);
    QCOMPARE(restored->name(), QStringLiteral("vault"));
    QCOMPARE(loaded->locations().name(restored->location()), QStringLiteral("NRT"));
    QCOMPARE(restored->state(), ObjectState::Inactive);
    QCOMPARE(restored->constructorRuns(), quint64(0));
    QCOMPARE(restored->alarmTimeMs(), std::optional<qint64>(alarmMs));
    QCOMPARE(entryLines(restored->storage()),
        (QStringList { QStringLiteral("bytes=") + QString::fromUtf8(QByteArray("\x00\xff", 2)),
            "motd=hello" }));
    QCOMPARE(restored->storage().get(QStringLiteral("bytes")).value(),
        std::optional<QByteArray>(QByteArray("\x00\xff", 2)));
    QCOMPARE(queryLines(restored->storage(), QStringLiteral("SELECT * FROM scores ORDER BY 1")),
        (QStringList { "ann|3", "bob|5" }));
    QCOMPARE(restored->storage().tableNames(), (QStringList { "_cf_KV", "scores" }));

    DurableObject *restoredUnique = loaded->rooms().find(uniqueId);
    QVERIFY(restoredUnique);
    QCOMPARE(restoredUnique->name(), QString());
    QCOMPARE(entryLines(restoredUnique->storage()), QStringList { "owner=nobody" });
    // The lobby was saved where the scenario's location hint placed it.
    QCOMPARE(loaded->locations().name(loaded->roomObject(QStringLiteral("lobby"))->location()),
        QStringLiteral("LHR"));

    // The alarm fires at its time and constructs the object to run its handler.
    Simulation &simulation = loaded->simulation();
    while (restored->alarmRuns() == 0 && simulation.step()) { }
    QCOMPARE(restored->alarmRuns(), quint64(1));
    QCOMPARE(simulation.now(), alarmMs * kMicrosecondsPerMillisecond);
    QCOMPARE(restored->constructorRuns(), quint64(1));
    advance(simulation, seconds(1));
    QCOMPARE(restored->alarmTimeMs(), std::nullopt);
    QCOMPARE(queryLines(restored->storage(), QStringLiteral("SELECT count(*) FROM scores")),
        QStringList { "2" });
}

void DoSessionTest::sessionLeavesOutUnconfirmedWrites_data()
{
    QTest::addColumn<SimDuration>("waited"); // after the second write, before the save
    QTest::addColumn<QStringList>("entries");
    QTest::addColumn<QStringList>("scores");

    // The first write is confirmed; the second sets "motd" again and adds a row to scores.
    const QStringList before { "motd=hello" };
    const QStringList after { "motd=bye" };
    QTest::newRow("batch open") << SimDuration(-1) << before << QStringList { "ann|3" };
    QTest::newRow("committed, not confirmed")
        << SimDuration(0) << before << QStringList { "ann|3" };
    QTest::newRow("1 ms before the confirmation")
        << milliseconds(1) << before << QStringList { "ann|3" };
    QTest::newRow("confirmed") << milliseconds(2) << after << QStringList { "ann|3", "bob|5" };
}

void DoSessionTest::sessionLeavesOutUnconfirmedWrites()
{
    QFETCH(SimDuration, waited);
    QFETCH(QStringList, entries);
    QFETCH(QStringList, scores);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("session.sqlite"));
    const Scenario scenario = quietKvRoom();

    auto saving = createWorld(scenario);
    QCOMPARE(saving->rooms().settings().storageCommitLatency, milliseconds(2));
    DurableObject &vault = roomObject(*saving, QStringLiteral("vault"), QStringLiteral("LHR"));
    StorageApi storage(vault, 0);
    storage.put(QStringLiteral("motd"), QByteArray("hello"));
    QVERIFY(storage.exec(QStringLiteral("CREATE TABLE scores (player TEXT, points INTEGER);"
                                        "INSERT INTO scores VALUES ('ann', 3)")));
    advance(saving->simulation(), seconds(1));

    storage.put(QStringLiteral("motd"), QByteArray("bye"));
    QVERIFY(storage.exec(QStringLiteral("INSERT INTO scores VALUES ('bob', 5)")));
    if (waited >= 0)
        advance(saving->simulation(), waited);
    QVERIFY(saving->saveSession(path));

    auto loaded = createWorld(scenario, path);
    DurableObject *restored = loaded->roomObject(QStringLiteral("vault"));
    QVERIFY(restored);
    QCOMPARE(entryLines(restored->storage()), entries);
    QCOMPARE(
        queryLines(restored->storage(), QStringLiteral("SELECT * FROM scores ORDER BY 1")), scores);
}

void DoSessionTest::pastAlarmFiresAtLoad()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("session.sqlite"));
    Scenario scenario = quietKvRoom();
    const qint64 alarmMs = kStartMs + 300'000;

    auto saving = createWorld(scenario);
    StorageApi(roomObject(*saving, QStringLiteral("vault"), QStringLiteral("LHR")), 0)
        .setAlarm(alarmMs);
    advance(saving->simulation(), seconds(1));
    QVERIFY(saving->saveSession(path));

    // The next run starts 10 minutes later: the alarm is 5 minutes overdue and fires at once.
    scenario.start = scenario.start + seconds(600);
    auto loaded = createWorld(scenario, path);
    DurableObject *restored = loaded->roomObject(QStringLiteral("vault"));
    QVERIFY(restored);
    QCOMPARE(restored->alarmTimeMs(), std::optional<qint64>(alarmMs));
    Simulation &simulation = loaded->simulation();
    while (restored->alarmRuns() == 0 && simulation.step()) { }
    QCOMPARE(restored->alarmRuns(), quint64(1));
    QCOMPARE(simulation.now(), scenario.start);
    advance(simulation, seconds(1));
    QCOMPARE(restored->alarmTimeMs(), std::nullopt);
}

void DoSessionTest::restoredObjectKeepsLocation()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("session.sqlite"));
    const Scenario scenario = quietKvRoom();

    // The scenario places "lobby" in LHR, but the saved object is in NRT.
    auto saving = createWorld(scenario);
    DurableObjectNamespace &rooms = saving->rooms();
    const DurableObjectSnapshot snapshot { sampleImage(), std::nullopt };
    QVERIFY(rooms.restoreObject(rooms.idFromName(QStringLiteral("lobby")),
        saving->locations().find(QStringLiteral("NRT")), snapshot));
    QVERIFY(saving->saveSession(path));

    auto loaded = createWorld(scenario, path);
    DurableObject *lobby = loaded->roomObject(QStringLiteral("lobby"));
    QVERIFY(lobby);
    advance(loaded->simulation(), seconds(60));
    QCOMPARE(lobby->constructorRuns(), quint64(0));
    QVERIFY(!lobby->isInMemory());

    // The first request constructs it where it was saved.
    HttpRequest request;
    request.url = roomUrl(QStringLiteral("id"), QStringLiteral("lobby"));
    const HttpResponse response = runTask(loaded->simulation(),
        loaded->request(
            QStringLiteral("test"), loaded->locations().find(QStringLiteral("LHR")), request));
    QCOMPARE(response.status, 200);
    QCOMPARE(lobby->constructorRuns(), quint64(1));
    QCOMPARE(loaded->locations().name(lobby->location()), QStringLiteral("NRT"));
    QCOMPARE(entryLines(lobby->storage()), (QStringList { "motd=hello", "n=7" }));
}

void DoSessionTest::saveReplacesObjects()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("session.sqlite"));
    const Scenario scenario = quietKvRoom();

    auto first = createWorld(scenario);
    roomObject(*first, QStringLiteral("one"), QStringLiteral("LHR"));
    roomObject(*first, QStringLiteral("two"), QStringLiteral("SJC"));
    QVERIFY(first->saveSession(path));
    QCOMPARE(fileRows(path, "SELECT name FROM durable_objects ORDER BY name"),
        (QStringList { "one", "two" }));

    auto second = createWorld(scenario, path);
    roomObject(*second, QStringLiteral("three"), QStringLiteral("NRT"));
    QVERIFY(second->saveSession(path));
    QCOMPARE(fileRows(path, "SELECT name FROM durable_objects ORDER BY name"),
        (QStringList { "one", "three", "two" }));

    // A world with no objects saves an empty table.
    auto empty = createWorld(scenario);
    QVERIFY(empty->saveSession(path));
    QCOMPARE(fileRows(path, "SELECT count(*) FROM durable_objects"), QStringList { "0" });
    QCOMPARE(createWorld(scenario, path)->restoredObjectCount(), 0);
}

void DoSessionTest::olderSessionLoads_data()
{
    QTest::addColumn<QByteArray>("version"); // the PRAGMA user_version statement, if any

    QTest::newRow("schema version 1") << QByteArray("PRAGMA user_version = 1;");
    QTest::newRow("no schema version") << QByteArray();
}

void DoSessionTest::olderSessionLoads()
{
    QFETCH(QByteArray, version);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("old.sqlite"));
    QCOMPARE(executeSql(path,
                 "CREATE TABLE kv_entries (key BLOB PRIMARY KEY NOT NULL, value BLOB NOT NULL, "
                 "metadata BLOB, expiration INTEGER, version INTEGER NOT NULL) WITHOUT ROWID;"
                 "INSERT INTO kv_entries VALUES (CAST('saved' AS BLOB), CAST('v' AS BLOB), "
                 "NULL, NULL, 12);"
                     + version),
        QString());

    const Scenario scenario = quietKvRoom();
    auto loaded = createWorld(scenario, path);
    QCOMPARE(loaded->restoredObjectCount(), 0);
    QCOMPARE(loaded->rooms().objects().size(), size_t(0));
    const std::optional<KvEntry> saved = loaded->kv().centralEntry(QStringLiteral("saved"));
    QVERIFY(saved);
    QCOMPARE(saved->value, QByteArray("v"));
    QCOMPARE(saved->version, qint64(12));

    // Saved again, it is a current session with its objects.
    roomObject(*loaded, QStringLiteral("vault"), QStringLiteral("LHR"));
    const QString again = dir.filePath(QStringLiteral("new.sqlite"));
    QVERIFY(loaded->saveSession(again));
    QCOMPARE(fileRows(again, "PRAGMA user_version"), QStringList { "2" });
    QCOMPARE(fileRows(again, "SELECT name FROM durable_objects"), QStringList { "vault" });
    QCOMPARE(fileRows(again, "SELECT CAST(key AS TEXT), version FROM kv_entries"),
        QStringList { "saved|12" });
}

void DoSessionTest::invalidObjectRows_data()
{
    QTest::addColumn<QByteArray>("sql"); // run on a saved session with the object "vault"
    QTest::addColumn<QString>("problem"); // %1 is the file, %2 the ID of "vault"

    const QString load = QStringLiteral("Cannot load the session file %1: ");
    const QString vault = QStringLiteral("\"vault\" (ID %2)");
    const QString sameScenario
        = QStringLiteral(" Open the session with the scenario that saved it.");
    QTest::newRow("not an SQLite image")
        << QByteArray("UPDATE durable_objects SET storage = CAST('not a database image, just "
                      "text that is long enough to look like a header' AS BLOB)")
        << load + QStringLiteral("Durable Object ") + vault
            + QStringLiteral(" cannot be restored. Cannot load the storage image: file is not a "
                             "database: SQLITE_NOTADB. ")
            + kSessionHint;
    const QString malformed = load + QStringLiteral("Durable Object ") + vault
        + QStringLiteral(" cannot be restored. Cannot load the storage image: database disk image "
                         "is malformed: SQLITE_CORRUPT. ")
        + kSessionHint;
    // Page 1 of the image is the schema, page 2 the _cf_KV table.
    QTest::newRow("truncated image")
        << QByteArray("UPDATE durable_objects SET storage = substr(storage, 1, 4096)") << malformed;
    QTest::newRow("damaged page") << QByteArray(
        "UPDATE durable_objects SET storage = CAST(substr(storage, 1, 4096) || "
        "x'ff' || substr(storage, 4098) AS BLOB)")
                                  << malformed;
    QTest::newRow("unknown location") << QByteArray("UPDATE durable_objects SET location = 'AMS'")
                                      << load + QStringLiteral("Durable Object ") + vault
            + QStringLiteral(" is in location \"AMS\", which this scenario does not have. Add the "
                             "location to the scenario, or open the session with the scenario "
                             "that saved it.");
    QTest::newRow("other class") << QByteArray("UPDATE durable_objects SET class = 'Chat'")
                                 << load
            + QStringLiteral("it contains Durable Objects of class \"Chat\", but the class of this "
                             "scenario is \"Room\".")
            + sameScenario;
    QTest::newRow("ID of another namespace")
        << QByteArray("UPDATE durable_objects SET id = lower(hex(zeroblob(32)))")
        << load + QStringLiteral("the ID of Durable Object \"vault\" (ID ")
            + QString(64, QLatin1Char('0'))
            + QStringLiteral(") is not an ID of this scenario's namespace (Durable Object ID is "
                             "not valid for this namespace.).")
            + sameScenario + QStringLiteral(" IDs depend on the Worker name and the class name.");
    QTest::newRow("malformed ID") << QByteArray("UPDATE durable_objects SET id = 'vault-id'")
                                  << load
            + QStringLiteral("the ID of Durable Object \"vault\" (ID vault-id) is not an ID of "
                             "this scenario's namespace (Invalid Durable Object ID: must be 64 "
                             "hex digits).")
            + sameScenario + QStringLiteral(" IDs depend on the Worker name and the class name.");
    QTest::newRow("name of another ID") << QByteArray("UPDATE durable_objects SET name = 'lobby'")
                                        << load
            + QStringLiteral("this scenario's namespace derives another ID than %2 from the name "
                             "\"lobby\".")
            + sameScenario;
    QTest::newRow("KV-backed object")
        << QByteArray("UPDATE durable_objects SET backend = 'key-value'")
        << load + QStringLiteral("Durable Object ") + vault
            + QStringLiteral(" is KV-backed, but class \"Room\" of this scenario is SQLite-backed. "
                             "Open the session with a scenario whose class has the same storage "
                             "backend.");
    QTest::newRow("unknown backend") << QByteArray("UPDATE durable_objects SET backend = 'disk'")
                                     << load + QStringLiteral("the row of Durable Object ") + vault
            + QStringLiteral(" is invalid: its backend is \"disk\", not \"sqlite\" or "
                             "\"key-value\". ")
            + kSessionHint;
    QTest::newRow("alarm at zero") << QByteArray("UPDATE durable_objects SET alarm = 0")
                                   << load + QStringLiteral("the row of Durable Object ") + vault
            + QStringLiteral(" is invalid: its alarm time 0 is not positive. ") + kSessionHint;
    QTest::newRow("alarm as text") << QByteArray("UPDATE durable_objects SET alarm = 'tomorrow'")
                                   << load + QStringLiteral("the row of Durable Object ") + vault
            + QStringLiteral(" is invalid: its alarm is not an integer of epoch milliseconds. ")
            + kSessionHint;
    QTest::newRow("storage as text") << QByteArray("UPDATE durable_objects SET storage = 'hello'")
                                     << load + QStringLiteral("the row of Durable Object ") + vault
            + QStringLiteral(" is invalid: its storage is not a BLOB. ") + kSessionHint;
    QTest::newRow("missing column") << QByteArray("ALTER TABLE durable_objects DROP COLUMN alarm")
                                    << load
            + QStringLiteral("its durable_objects table cannot be read: no such column: alarm. ")
            + kSessionHint;
    QTest::newRow("newer schema")
        << QByteArray("PRAGMA user_version = 3")
        << QStringLiteral("The KV store %1 has schema version 3, but this Roomscope reads "
                          "versions up to 2. Open it with a newer Roomscope.");
}

void DoSessionTest::invalidObjectRows()
{
    QFETCH(QByteArray, sql);
    QFETCH(QString, problem);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("session.sqlite"));
    const Scenario scenario = quietKvRoom();

    auto saving = createWorld(scenario);
    DurableObject &vault = roomObject(*saving, QStringLiteral("vault"), QStringLiteral("LHR"));
    StorageApi storage(vault, 0);
    storage.put(QStringLiteral("motd"), QByteArray("hello"));
    QVERIFY(storage.exec(QStringLiteral("CREATE TABLE a (x); CREATE TABLE b (y);")));
    advance(saving->simulation(), seconds(1));
    QVERIFY(saving->saveSession(path));
    QCOMPARE(executeSql(path, sql), QString());

    const Result<std::unique_ptr<World>> loaded = World::create(scenario, std::nullopt, path);
    QVERIFY(!loaded);
    QString expected = problem;
    expected.replace(QStringLiteral("%1"), path)
        .replace(QStringLiteral("%2"), vault.id().toString());
    QCOMPARE(loaded.error().message, expected);
}

void DoSessionTest::reportCountsRestoredObjects()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("session.sqlite"));
    const Scenario scenario = quietKvRoom();

    auto saving = createWorld(scenario);
    roomObject(*saving, QStringLiteral("one"), QStringLiteral("LHR"));
    QVERIFY(saving->saveSession(path));
    const Report one = buildReport(*createWorld(scenario, path));
    QCOMPARE(
        one.objectInputs, QStringList { QStringLiteral("1 Durable Object loaded from ") + path });
    QVERIFY2(one.toText().contains(
                 QStringLiteral("\n  DO input       1 Durable Object loaded from %1\n").arg(path)),
        qPrintable(one.toText()));

    roomObject(*saving, QStringLiteral("two"), QStringLiteral("LHR"));
    QVERIFY(saving->saveSession(path));
    const Report two = buildReport(*createWorld(scenario, path));
    QCOMPARE(two.toJson().value(QStringLiteral("objectInputs")).toArray().first().toString(),
        QStringLiteral("2 Durable Objects loaded from ") + path);

    QCOMPARE(buildReport(*createWorld(scenario)).objectInputs, QStringList());
}

void DoSessionTest::cliRoundTrip()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString first = dir.filePath(QStringLiteral("first.sqlite"));
    const QString second = dir.filePath(QStringLiteral("second.sqlite"));
    const QString trace = dir.filePath(QStringLiteral("trace.jsonl"));

    // The kv-room workloads reach both rooms, whose class keeps nothing in storage.
    const ProcessResult saved
        = runRoomscope({ kvRoomPath(), QStringLiteral("--save-session"), first });
    QCOMPARE(saved.standardError, QByteArray());
    QCOMPARE(saved.exitCode, 0);
    QCOMPARE(fileRows(first,
                 "SELECT name, location, backend, alarm, length(storage) FROM durable_objects "
                 "ORDER BY name"),
        (QStringList { "arena|SJC|sqlite|NULL|0", "lobby|LHR|sqlite|NULL|0" }));

    // Give the lobby stored data and an alarm due 1 s into the next run, as an object of
    // another class would have left them.
    const QByteArray image = sampleImage();
    QCOMPARE(
        executeSql(first,
            QByteArray("UPDATE durable_objects SET storage = X'") + image.toHex()
                + "', alarm = " + QByteArray::number(kStartMs + 1'000) + " WHERE name = 'lobby'"),
        QString());

    const ProcessResult loaded = runRoomscope({ kvRoomPath(), QStringLiteral("--load-session"),
        first, QStringLiteral("--save-session"), second, QStringLiteral("--trace"), trace });
    QCOMPARE(loaded.standardError, QByteArray());
    QCOMPARE(loaded.exitCode, 0);
    QVERIFY2(loaded.standardOutput.contains(
                 QStringLiteral("\n  DO input       2 Durable Objects loaded from %1\n")
                     .arg(first)
                     .toUtf8()),
        loaded.standardOutput.constData());

    // The alarm ran in the lobby at 1 s.
    QStringList alarmRuns;
    for (const QByteArray &line : readFile(trace).split('\n')) {
        const QJsonObject event = QJsonDocument::fromJson(line).object();
        if (event.value(QStringLiteral("kind")).toString() != QLatin1String("alarm.run"))
            continue;
        alarmRuns << QStringLiteral("%1 at %2 for %3")
                         .arg(event.value(QStringLiteral("actor")).toString())
                         .arg(qint64(event.value(QStringLiteral("time")).toDouble()))
                         .arg(qint64(event.value(QStringLiteral("scheduledMs")).toDouble()));
    }
    QCOMPARE(alarmRuns,
        QStringList { QStringLiteral("room lobby at %1 for %2")
                          .arg((kStartMs + 1'000) * kMicrosecondsPerMillisecond)
                          .arg(kStartMs + 1'000) });

    // The second session has the lobby's storage image unchanged and its alarm gone.
    QCOMPARE(fileRows(second,
                 "SELECT name, alarm, hex(storage) = '" + image.toHex().toUpper()
                     + "' FROM durable_objects ORDER BY name"),
        (QStringList { "arena|NULL|0", "lobby|NULL|1" }));
    const QStringList imageRows
        = fileRows(second, "SELECT hex(storage) FROM durable_objects WHERE name = 'lobby'");
    QCOMPARE(imageRows.size(), 1);
    const DurableObjectSnapshot secondLobby { QByteArray::fromHex(imageRows.first().toLatin1()),
        std::nullopt };
    QCOMPARE(snapshotEntries(secondLobby), (QStringList { "motd=hello", "n=7" }));

    // A corrupt image stops the run before it starts, with the file and the fix.
    QCOMPARE(executeSql(second, "UPDATE durable_objects SET storage = X'00' WHERE name = 'arena'"),
        QString());
    const QStringList arenaId
        = fileRows(second, "SELECT id FROM durable_objects WHERE name = 'arena'");
    QCOMPARE(arenaId.size(), 1);
    const ProcessResult corrupt
        = runRoomscope({ kvRoomPath(), QStringLiteral("--load-session"), second });
    QCOMPARE(corrupt.exitCode, 2);
    QCOMPARE(corrupt.standardOutput, QByteArray());
    QCOMPARE(QString::fromUtf8(corrupt.standardError),
        QStringLiteral("roomscope run: Cannot load the session file %1: Durable Object \"arena\" "
                       "(ID %2) cannot be restored. Cannot load the storage image: file is not a "
                       "database: SQLITE_NOTADB. ")
                .arg(second, arenaId.first())
            + kSessionHint + QLatin1Char('\n'));
}

QTEST_GUILESS_MAIN(DoSessionTest)
#include "tst_dosession.moc"
