// Session files, `wrangler kv bulk put` JSON and `wrangler dev` KV folders, against real SQLite
// files in temporary folders and the real roomscope binary.

#include "kvbulkjson.h"
#include "kvnamespace.h"
#include "kvstore.h"
#include "location.h"
#include "scenario.h"
#include "simulation.h"
#include "world.h"
#include "wranglerstate.h"
#include "roomscopeprocess.h"
#include "simtasks.h"
#include "testfiles.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <sqlite3.h>

#include <limits>

using namespace roomscope;
using namespace roomscope::testing;

namespace {

constexpr qint64 kNowSeconds = 1767225600; // 2026-01-01T00:00:00Z, kv-room.json's start
constexpr qint64 kYear2027 = 1798761600; // 2027-01-01T00:00:00Z

// A namespace in one location whose virtual clock is at kNowSeconds.
struct TestNamespace
{
    TestNamespace()
        : simulation(1, kNowSeconds * kMicrosecondsPerSecond)
    {
        locations.add(QStringLiteral("LHR"));
        auto created = KvNamespace::create(
            simulation, locations, QStringLiteral("KV"), KvSettings {}, QStringLiteral(":memory:"));
        if (created)
            kv = std::move(created).value();
        else
            qWarning("%s", qPrintable(created.error().message));
    }

    Simulation simulation;
    LocationMap locations;
    std::unique_ptr<KvNamespace> kv;
};

std::vector<KvEntry> allEntries(const KvStore &store)
{
    return store.list(QByteArray(), QByteArray(), std::numeric_limits<int>::max(), 0);
}

std::vector<KvEntry> liveEntries(const KvNamespace &kv)
{
    return kv.entries(QString(), QByteArray(), std::numeric_limits<int>::max());
}

// Entries as "key=hex(value) meta expiration" lines, so a failed comparison shows the difference.
QStringList describe(const std::vector<KvEntry> &entries, bool withVersion)
{
    QStringList lines;
    for (const KvEntry &entry : entries) {
        QString line = QString::fromUtf8(entry.key) + QLatin1Char('=')
            + QString::fromLatin1(entry.value.toHex());
        line += QStringLiteral(" meta=")
            + (entry.metadata ? QString::fromUtf8(*entry.metadata) : QStringLiteral("-"));
        line += QStringLiteral(" exp=")
            + (entry.expiration ? QString::number(*entry.expiration) : QStringLiteral("-"));
        if (withVersion)
            line += QStringLiteral(" v=") + QString::number(entry.version);
        lines << line;
    }
    return lines;
}

qint64 userVersion(const QString &path)
{
    sqlite3 *db = nullptr;
    qint64 version = -1;
    if (sqlite3_open_v2(path.toUtf8().constData(), &db, SQLITE_OPEN_READONLY, nullptr)
        == SQLITE_OK) {
        sqlite3_stmt *statement = nullptr;
        if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &statement, nullptr) == SQLITE_OK
            && sqlite3_step(statement) == SQLITE_ROW)
            version = sqlite3_column_int64(statement, 0);
        sqlite3_finalize(statement);
    }
    sqlite3_close(db);
    return version;
}

QByteArray allBytes()
{
    QByteArray bytes;
    for (int i = 0; i < 256; ++i)
        bytes.append(char(i));
    return bytes;
}

// Every file below `folder` with its size and modification time, to show nothing was written.
QStringList folderSnapshot(const QString &folder)
{
    QStringList lines;
    QDir dir(folder);
    const auto infos
        = dir.entryInfoList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden, QDir::Name);
    for (const QFileInfo &info : infos) {
        if (info.isDir()) {
            lines << info.fileName() + QLatin1Char('/');
            for (const QString &line : folderSnapshot(info.absoluteFilePath()))
                lines << info.fileName() + QLatin1Char('/') + line;
        } else {
            lines << QStringLiteral("%1 %2 %3")
                         .arg(info.fileName())
                         .arg(info.size())
                         .arg(info.lastModified().toMSecsSinceEpoch());
        }
    }
    return lines;
}

ProcessResult runRoomscope(const QStringList &arguments)
{
    return roomscope::testing::runRoomscope(QStringLiteral(ROOMSCOPE_BINARY), arguments);
}


// The namespace ID and SQLite file name of a real `wrangler dev` folder, so the fixture does
// not depend on the code under test to name its database.
const QString kRealNamespaceId = QStringLiteral("9f3105f5547642b693452f5f740f8e2c");
const QString kRealDatabaseFile
    = QStringLiteral("1115e4b153d0c8d8aef986f09e264166bf5aff6ffcdd65baafde1da11f460aa1.sqlite");
const QString kBlobA = QStringLiteral("aa") + QString(78, QLatin1Char('0'));
const QString kBlobB = QStringLiteral("bb") + QString(78, QLatin1Char('1'));

// Miniflare's KV table, as keyvalue.worker.ts creates it.
const QByteArray kMiniflareSchema = R"sql(
CREATE TABLE IF NOT EXISTS _mf_entries (
  key TEXT PRIMARY KEY,
  blob_id TEXT NOT NULL,
  expiration INTEGER,
  metadata TEXT
);
CREATE INDEX IF NOT EXISTS _mf_entries_expiration_idx ON _mf_entries(expiration);
)sql";

} // namespace

class TestKvInterop : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();

    void sessionRoundTrip();
    void sessionVersionContinues();
    void worldStartsFromSession();
    void sessionSchemaChecks_data();
    void sessionSchemaChecks();

    void bulkParse_data();
    void bulkParse();
    void bulkParseErrors_data();
    void bulkParseErrors();
    void importAllOrNothing();
    void exportFormat();
    void bulkRoundTrip();

    void wranglerFolder_data();
    void wranglerFolder();
    void wranglerFolderWithWal();
    void wranglerFolderMissing();

    void cliHelpListsOptions();
    void cliImportExportSession();
    void cliInvalidImportExitsTwo();
};

void TestKvInterop::initTestCase()
{
    QVERIFY2(!qEnvironmentVariableIsEmpty("ROOMSCOPE_SOURCE_DIR"),
        "ROOMSCOPE_SOURCE_DIR is not set: run the test with ctest, or set it to the source "
        "tree");
}

void TestKvInterop::sessionRoundTrip()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("session.sqlite"));

    auto store = KvStore::open(QStringLiteral(":memory:"));
    QVERIFY(store);
    const std::vector<KvEntry> written = {
        { "binary", allBytes(), std::nullopt, std::nullopt, 3 },
        { "empty", QByteArray(), QByteArray("null"), std::nullopt, 4 },
        { "text", "hello", QByteArray(R"({"b":1,"a":"x"})"), kYear2027, 7 },
        { QStringLiteral("ключ").toUtf8(), QByteArray(1, '\0'), std::nullopt, 1, 9 },
    };
    for (const KvEntry &entry : written)
        QVERIFY(store.value()->put(entry));
    QVERIFY(store.value()->saveTo(path));
    QCOMPARE(userVersion(path), qint64(KvStore::kSchemaVersion));

    // Restored into memory, the file is only read.
    auto restored = KvStore::open(QStringLiteral(":memory:"));
    QVERIFY(restored);
    const QByteArray fileBefore = readFile(path);
    const Status loaded = restored.value()->restoreFrom(path);
    QVERIFY2(loaded, qPrintable(loaded ? QString() : loaded.error().message));
    QCOMPARE(readFile(path), fileBefore);
    QCOMPARE(
        describe(allEntries(*restored.value()), true), describe(allEntries(*store.value()), true));
    QCOMPARE(restored.value()->count(), qint64(4));
    QCOMPARE(restored.value()->maxVersion(), qint64(9));
    QCOMPARE(restored.value()->find("binary")->value, allBytes());
    QCOMPARE(restored.value()->find("empty")->value, QByteArray(""));

    // Opened in place, the same file gives the same entries.
    auto opened = KvStore::open(path);
    QVERIFY(opened);
    QCOMPARE(
        describe(allEntries(*opened.value()), true), describe(allEntries(*store.value()), true));
}

void TestKvInterop::sessionVersionContinues()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("session.sqlite"));

    TestNamespace first;
    QVERIFY(first.kv);
    QVERIFY(first.kv->importEntries(
        { { "a", "1", std::nullopt, std::nullopt, 0 }, { "b", "2", std::nullopt, std::nullopt, 0 },
            { "c", "3", std::nullopt, std::nullopt, 0 } }));
    QCOMPARE(first.kv->centralEntry(QStringLiteral("c"))->version, qint64(3));
    QVERIFY(first.kv->saveStore(path));

    TestNamespace second;
    QVERIFY(second.kv);
    QVERIFY(second.kv->loadStore(path));
    QCOMPARE(second.kv->keyCount(), qint64(3));
    QCOMPARE(second.kv->centralEntry(QStringLiteral("b"))->value, QByteArray("2"));
    QVERIFY(second.kv->importEntries({ { "d", "4", std::nullopt, std::nullopt, 0 } }));
    QCOMPARE(second.kv->centralEntry(QStringLiteral("d"))->version, qint64(4));
}

void TestKvInterop::worldStartsFromSession()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("session.sqlite"));
    auto store = KvStore::open(path);
    QVERIFY(store);
    QVERIFY(store.value()->put(
        { "saved:key", "saved value", QByteArray("{\"n\":1}"), std::nullopt, 41 }));
    store.value().reset();

    Result<Scenario> scenario = Scenario::load(kvRoomPath());
    QVERIFY(scenario);
    auto world = World::create(*scenario, std::nullopt, path);
    QVERIFY2(world, qPrintable(world ? QString() : world.error().message));
    const std::optional<KvEntry> saved
        = world.value()->kv().centralEntry(QStringLiteral("saved:key"));
    QVERIFY(saved);
    QCOMPARE(saved->value, QByteArray("saved value"));
    QCOMPARE(saved->metadata, std::optional<QByteArray>("{\"n\":1}"));
    QCOMPARE(saved->version, qint64(41));

    auto missing
        = World::create(*scenario, std::nullopt, dir.filePath(QStringLiteral("nope.sqlite")));
    QVERIFY(!missing);
    QCOMPARE(missing.error().message,
        QStringLiteral("The KV store %1 was not found.")
            .arg(dir.filePath(QStringLiteral("nope.sqlite"))));
}

void TestKvInterop::sessionSchemaChecks_data()
{
    QTest::addColumn<QByteArray>("sql"); // run on a new SQLite file; empty writes a text file
    QTest::addColumn<QString>("error"); // %1 is the path; empty when the file loads

    const QString hint
        = QStringLiteral("Give a session file that `roomscope run --save-session` wrote.");
    const QByteArray table
        = "CREATE TABLE kv_entries (key BLOB PRIMARY KEY NOT NULL, value BLOB NOT NULL, "
          "metadata BLOB, expiration INTEGER, version INTEGER NOT NULL) WITHOUT ROWID;";
    QTest::newRow("current schema") << table + "PRAGMA user_version = 1;" << QString();
    QTest::newRow("store without schema version") << table << QString();
    QTest::newRow("schema version 2") << table + "PRAGMA user_version = 2;" << QString();
    QTest::newRow("newer schema")
        << table + "PRAGMA user_version = 3;"
        << QStringLiteral("The KV store %1 has schema version 3, but this Roomscope reads versions "
                          "up to 2. Open it with a newer Roomscope.");
    QTest::newRow("other application")
        << QByteArray("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);")
        << QStringLiteral("%1 is not a Roomscope KV store: it has no kv_entries table. ") + hint;
    QTest::newRow("other application with a version")
        << QByteArray("CREATE TABLE users (id INTEGER); PRAGMA user_version = 1;")
        << QStringLiteral("%1 is not a Roomscope KV store: it has no kv_entries table. ") + hint;
    QTest::newRow("empty database") << QByteArray("PRAGMA user_version = 0;")
                                    << QStringLiteral("%1 is not a Roomscope KV store: it has no "
                                                      "kv_entries table. ")
            + hint;
    QTest::newRow("not sqlite") << QByteArray()
                                << QStringLiteral(
                                       "Cannot read the KV store %1: file is not a database. ")
            + hint;
}

void TestKvInterop::sessionSchemaChecks()
{
    QFETCH(QByteArray, sql);
    QFETCH(QString, error);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("file.sqlite"));
    if (sql.isEmpty())
        QVERIFY(writeFile(path, QByteArrayLiteral("key,value\na,1\n").repeated(100)));
    else
        QCOMPARE(executeSql(path, sql), QString());

    const QByteArray fileBefore = readFile(path);

    auto store = KvStore::open(QStringLiteral(":memory:"));
    QVERIFY(store);
    const Status loaded = store.value()->restoreFrom(path);
    const Status saved = store.value()->saveTo(path);
    if (error.isEmpty()) {
        QVERIFY2(loaded, qPrintable(loaded ? QString() : loaded.error().message));
        QCOMPARE(store.value()->count(), qint64(0));
        QVERIFY2(saved, qPrintable(saved ? QString() : saved.error().message));
        return;
    }
    QVERIFY(!loaded);
    QCOMPARE(loaded.error().message, error.arg(path));

    // Saving over a file that is not a Roomscope store is rejected and leaves the file alone.
    // The one exception is an empty database, which contains no data to lose.
    if (sql == "PRAGMA user_version = 0;") {
        QVERIFY(saved);
        return;
    }
    QVERIFY(!saved);
    QCOMPARE(saved.error().message,
        QStringLiteral("Cannot save the KV store to %1: the file exists and is not a Roomscope "
                       "KV store. Choose another file name.")
            .arg(path));
    QCOMPARE(readFile(path), fileBefore);
}

void TestKvInterop::bulkParse_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QStringList>("entries"); // describe() lines

    QTest::newRow("key and value")
        << QByteArray(R"([{"key":"a","value":"1"}])") << QStringList { "a=31 meta=- exp=-" };
    QTest::newRow("unicode and empty value")
        << QByteArray(R"([{"key":"é/ü","value":"ü"},{"key":"e","value":""}])")
        << QStringList { "é/ü=c3bc meta=- exp=-", "e= meta=- exp=-" };
    QTest::newRow("metadata object sorted")
        << QByteArray(R"([{"key":"a","value":"1","metadata":{"z":1,"a":[true,null]}}])")
        << QStringList { R"(a=31 meta={"a":[true,null],"z":1} exp=-)" };
    QTest::newRow("metadata scalar") << QByteArray(R"([{"key":"a","value":"1","metadata":"v2"}])")
                                     << QStringList { R"(a=31 meta="v2" exp=-)" };
    QTest::newRow("metadata null") << QByteArray(R"([{"key":"a","value":"1","metadata":null}])")
                                   << QStringList { "a=31 meta=null exp=-" };
    QTest::newRow("expiration seconds")
        << QByteArray(R"([{"key":"a","value":"1","expiration":1798761600}])")
        << QStringList { "a=31 meta=- exp=1798761600" };
    QTest::newRow("expiration fraction rounds down")
        << QByteArray(R"([{"key":"a","value":"1","expiration":1798761600.9}])")
        << QStringList { "a=31 meta=- exp=1798761600" };
    QTest::newRow("expiration ISO UTC")
        << QByteArray(R"([{"key":"a","value":"1","expiration":"2027-01-01T00:00:00Z"}])")
        << QStringList { "a=31 meta=- exp=1798761600" };
    QTest::newRow("expiration ISO offset")
        << QByteArray(R"([{"key":"a","value":"1","expiration":"2027-01-01T01:00:00.000+01:00"}])")
        << QStringList { "a=31 meta=- exp=1798761600" };
    QTest::newRow("expiration ISO without zone is UTC")
        << QByteArray(R"([{"key":"a","value":"1","expiration":"2027-01-01T00:00:00"}])")
        << QStringList { "a=31 meta=- exp=1798761600" };
    QTest::newRow("ttl") << QByteArray(R"([{"key":"a","value":"1","expiration_ttl":60}])")
                         << QStringList { "a=31 meta=- exp=1767225660" };
    QTest::newRow("ttl wins over expiration")
        << QByteArray(R"([{"key":"a","value":"1","expiration":1798761600,"expiration_ttl":120}])")
        << QStringList { "a=31 meta=- exp=1767225720" };
    QTest::newRow("base64") << QByteArray(R"([{"key":"a","value":"AP8Q","base64":true}])")
                            << QStringList { "a=00ff10 meta=- exp=-" };
    QTest::newRow("base64 false keeps text")
        << QByteArray(R"([{"key":"a","value":"AP8Q","base64":false}])")
        << QStringList { "a=41503851 meta=- exp=-" };
    QTest::newRow("unknown field ignored")
        << QByteArray(R"([{"key":"a","value":"1","comment":"x"}])")
        << QStringList { "a=31 meta=- exp=-" };
    QTest::newRow("empty array") << QByteArray("[]") << QStringList {};
}

void TestKvInterop::bulkParse()
{
    QFETCH(QByteArray, json);
    QFETCH(QStringList, entries);
    const KvBulkParseResult parsed = parseKvBulkJson(json, kNowSeconds);
    QCOMPARE(parsed.errors, QStringList());
    QCOMPARE(describe(parsed.entries, false), entries);
}

void TestKvInterop::bulkParseErrors_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QStringList>("errors");

    const QByteArray longKey(513, 'k');
    QTest::newRow("ttl below 60")
        << QByteArray(R"([{"key":"a","value":"1","expiration_ttl":30}])")
        << QStringList {
               R"(entry 1 (key "a"): KV PUT failed: 400 Invalid expiration_ttl of 30. Expiration TTL must be at least 60.)"
           };
    QTest::newRow("expiration in the past")
        << QByteArray(R"([{"key":"a","value":"1","expiration":100}])")
        << QStringList {
               R"(entry 1 (key "a"): KV PUT failed: 400 Invalid expiration of 100. Please specify integer greater than the current number of seconds since the UNIX epoch.)"
           };
    QTest::newRow("expiration too soon")
        << QByteArray(R"([{"key":"a","value":"1","expiration":"2026-01-01T00:00:30Z"}])")
        << QStringList {
               R"(entry 1 (key "a"): KV PUT failed: 400 Invalid expiration of 1767225630. Expiration times must be at least 60 seconds in the future.)"
           };
    QTest::newRow("empty key") << QByteArray(R"([{"key":"","value":"1"}])")
                               << QStringList { R"(entry 1 (key ""): Key name cannot be empty.)" };
    QTest::newRow("dot key") << QByteArray(R"([{"key":"..","value":"1"}])")
                             << QStringList {
                                    R"(entry 1 (key ".."): ".." is not allowed as a key name.)"
                                };
    QTest::newRow("key too long")
        << QByteArray(R"([{"key":")" + longKey + R"(","value":"1"}])")
        << QStringList { QStringLiteral(
               "entry 1 (key \"%1\"): KV PUT failed: 414 UTF-8 encoded length "
               "of 513 exceeds key length limit of 512.")
                             .arg(QString::fromLatin1(longKey)) };
    QTest::newRow("metadata too large")
        << QByteArray(
               R"([{"key":"a","value":"1","metadata":{"m":")" + QByteArray(1023, 'x') + R"("}}])")
        << QStringList {
               R"(entry 1 (key "a"): KV PUT failed: 413 Metadata length of 1031 exceeds limit of 1024.)"
           };
    QTest::newRow("value too large")
        << QByteArray(R"([{"key":"a","value":"12345"}])")
        << QStringList {
               R"(entry 1 (key "a"): KV PUT failed: 413 Value length of 5 exceeds limit of 4.)"
           };
    QTest::newRow("missing key") << QByteArray(
        R"([{"value":"1"}])") << QStringList { R"(entry 1: "key" is missing or is not a string)" };
    QTest::newRow("number value")
        << QByteArray(R"([{"key":"a","value":1}])")
        << QStringList { R"(entry 1 (key "a"): "value" is missing or is not a string)" };
    QTest::newRow("not an object")
        << QByteArray(R"([{"key":"a","value":"1"},"b"])")
        << QStringList { R"(entry 2: is not an object with "key" and "value")" };
    QTest::newRow("invalid base64")
        << QByteArray(R"([{"key":"a","value":"not base64!","base64":true}])")
        << QStringList {
               R"(entry 1 (key "a"): "value" is not valid base64, but "base64" is true)"
           };
    QTest::newRow("base64 not boolean")
        << QByteArray(R"([{"key":"a","value":"AA==","base64":"yes"}])")
        << QStringList { R"(entry 1 (key "a"): "base64" is not true or false)" };
    QTest::newRow("invalid date")
        << QByteArray(R"([{"key":"a","value":"1","expiration":"next week"}])")
        << QStringList {
               R"(entry 1 (key "a"): "expiration" "next week" is not a number of epoch seconds or an ISO 8601 date such as "2027-01-01T00:00:00Z")"
           };
    QTest::newRow("ttl not a number")
        << QByteArray(R"([{"key":"a","value":"1","expiration_ttl":"60"}])")
        << QStringList { R"(entry 1 (key "a"): "expiration_ttl" is not a number of seconds)" };
    QTest::newRow("every bad entry reported")
        << QByteArray(
               R"([{"key":"ok","value":"1"},{"key":"a/b","value":"1","expiration_ttl":1},{"key":"c"}])")
        << QStringList {
               R"(entry 2 (key "a/b"): KV PUT failed: 400 Invalid expiration_ttl of 1. Expiration TTL must be at least 60.)",
               R"(entry 3 (key "c"): "value" is missing or is not a string)",
           };
    QTest::newRow("not an array")
        << QByteArray(R"({"key":"a","value":"1"})")
        << QStringList {
               R"(expected a JSON array of objects such as [{"key": "a", "value": "1"}])"
           };
    QTest::newRow("invalid JSON") << QByteArray(R"([{"key":"a",}])")
                                  << QStringList {
                                         "invalid JSON at line 1, column 14: object is missing "
                                         "after a comma"
                                     };
    // Qt's parser reports the position just past the token it rejects: the '{' is at column 3.
    QTest::newRow("invalid JSON on a later line")
        << QByteArray("[\n  {\"key\": \"a\", \"value\": \"1\"}\n  {\"key\": \"b\"}\n]")
        << QStringList { "invalid JSON at line 3, column 4: missing value separator" };
}

void TestKvInterop::bulkParseErrors()
{
    QFETCH(QByteArray, json);
    QFETCH(QStringList, errors);
    const KvBulkParseResult parsed = parseKvBulkJson(json, kNowSeconds, 4);
    QCOMPARE(parsed.errors, errors);
    QVERIFY(!parsed.ok());
    QCOMPARE(parsed.entries.size(), size_t(0));
}

void TestKvInterop::importAllOrNothing()
{
    TestNamespace test;
    QVERIFY(test.kv);
    QVERIFY(test.kv->importEntries({ { "keep", "old", std::nullopt, std::nullopt, 0 } }));
    const QStringList before = describe(liveEntries(*test.kv), true);

    // The file's third entry is invalid, so the parser returns no entries at all.
    const QByteArray json = R"([{"key":"keep","value":"new"},{"key":"x","value":"1"},)"
                            R"({"key":"y","value":"2","expiration_ttl":5}])";
    const KvBulkParseResult parsed = parseKvBulkJson(json, kNowSeconds);
    QCOMPARE(parsed.errors.size(), qsizetype(1));
    QVERIFY(parsed.entries.empty());

    // Entries given directly are checked again, and a bad third entry writes none of them.
    const Status imported = test.kv->importEntries({
        { "keep", "new", std::nullopt, std::nullopt, 0 },
        { "x", "1", std::nullopt, std::nullopt, 0 },
        { QByteArray(600, 'y'), "2", std::nullopt, std::nullopt, 0 },
    });
    QVERIFY(!imported);
    QCOMPARE(imported.error().message,
        QStringLiteral("entry 3 (key \"%1\"): KV PUT failed: 414 UTF-8 encoded length of 600 "
                       "exceeds key length limit of 512.")
            .arg(QString(600, QLatin1Char('y'))));
    QCOMPARE(describe(liveEntries(*test.kv), true), before);
    QCOMPARE(test.kv->keyCount(), qint64(1));

    // The version counter did not move either.
    QVERIFY(test.kv->importEntries({ { "x", "1", std::nullopt, std::nullopt, 0 } }));
    QCOMPARE(test.kv->centralEntry(QStringLiteral("x"))->version, qint64(2));
}

void TestKvInterop::exportFormat()
{
    TestNamespace test;
    QVERIFY(test.kv);
    QVERIFY(test.kv->importEntries({
        { "b", QByteArray("\x00\xff", 2), std::nullopt, std::nullopt, 0 },
        { "a", "he said \"hi\"\n", QByteArray(R"({"z":1,"a":[true,null]})"), kYear2027, 0 },
        { "expired", "gone", std::nullopt, kNowSeconds, 0 },
        { "B", "", QByteArray("\"note\""), std::nullopt, 0 },
        { QStringLiteral("é").toUtf8(), QStringLiteral("ü").toUtf8(), std::nullopt, std::nullopt,
            0 },
        { "bom", "\xEF\xBB\xBFtext", std::nullopt, std::nullopt, 0 },
        { "latin1", "caf\xE9", std::nullopt, std::nullopt, 0 },
    }));

    const QByteArray expected
        = "[\n"
          "  {\"key\":\"B\",\"value\":\"\",\"metadata\":\"note\"},\n"
          "  {\"key\":\"a\",\"value\":\"he said \\\"hi\\\"\\n\","
          "\"expiration\":1798761600,\"metadata\":{\"a\":[true,null],\"z\":1}},\n"
          "  {\"key\":\"b\",\"value\":\"AP8=\",\"base64\":true},\n"
          "  {\"key\":\"bom\",\"value\":\"\\ufefftext\"},\n"
          "  {\"key\":\"latin1\",\"value\":\"Y2Fm6Q==\",\"base64\":true},\n"
          "  {\"key\":\"\xC3\xA9\",\"value\":\"\xC3\xBC\"}\n"
          "]\n";
    const QByteArray actual = exportKvBulkJson(liveEntries(*test.kv));
    QCOMPARE(actual.split('\n'), expected.split('\n'));
    QCOMPARE(exportKvBulkJson({}), QByteArray("[]\n"));
}

void TestKvInterop::bulkRoundTrip()
{
    TestNamespace source;
    QVERIFY(source.kv);
    QVERIFY(source.kv->importEntries({
        { "binary", allBytes(), QByteArray("[1,2.5,\"x\"]"), std::nullopt, 0 },
        { "bom", "\xEF\xBB\xBF", std::nullopt, std::nullopt, 0 },
        { "cesu", "\xED\xA0\x80", std::nullopt, std::nullopt, 0 },
        { "control", QByteArray("\x01\t\x7f", 3), QByteArray("null"), kYear2027, 0 },
        { "emoji", QStringLiteral("😀 \\ / \"").toUtf8(), QByteArray(R"({"k":{"b":false,"a":-1}})"),
            std::nullopt, 0 },
        { "empty", "", std::nullopt, std::nullopt, 0 },
        { "nul", QByteArray("a\0b", 3), std::nullopt, std::nullopt, 0 },
    }));
    const std::vector<KvEntry> original = liveEntries(*source.kv);
    const QByteArray first = exportKvBulkJson(original);

    const KvBulkParseResult parsed = parseKvBulkJson(first, kNowSeconds);
    QCOMPARE(parsed.errors, QStringList());
    TestNamespace target;
    QVERIFY(target.kv);
    QVERIFY(target.kv->importEntries(parsed.entries));
    const std::vector<KvEntry> imported = liveEntries(*target.kv);

    // Metadata is compared as JSON because the export sorts object members.
    QCOMPARE(imported.size(), original.size());
    for (size_t i = 0; i < original.size(); ++i) {
        QCOMPARE(imported[i].key, original[i].key);
        QCOMPARE(imported[i].value, original[i].value);
        QCOMPARE(imported[i].expiration, original[i].expiration);
        QCOMPARE(imported[i].metadata.has_value(), original[i].metadata.has_value());
        if (original[i].metadata) {
            QCOMPARE(QJsonDocument::fromJson("[" + *imported[i].metadata + "]"),
                QJsonDocument::fromJson("[" + *original[i].metadata + "]"));
        }
    }
    QCOMPARE(exportKvBulkJson(imported), first);
}

void TestKvInterop::wranglerFolder_data()
{
    QTest::addColumn<QString>("openAt"); // relative to the project folder

    QTest::newRow("project folder") << QString();
    QTest::newRow(".wrangler") << QStringLiteral(".wrangler");
    QTest::newRow("state") << QStringLiteral(".wrangler/state");
    QTest::newRow("kv folder") << QStringLiteral(".wrangler/state/v3/kv");
}

void TestKvInterop::wranglerFolder()
{
    QFETCH(QString, openAt);
    QTemporaryDir project;
    QVERIFY(project.isValid());
    const QDir kvDir(project.filePath(QStringLiteral(".wrangler/state/v3/kv")));
    const QString objectDir = kvDir.filePath(QStringLiteral("miniflare-KVNamespaceObject"));
    const QString blobs = kvDir.filePath(kRealNamespaceId + QStringLiteral("/blobs"));
    QVERIFY(QDir().mkpath(objectDir));
    QVERIFY(QDir().mkpath(blobs));
    QVERIFY(writeFile(QDir(blobs).filePath(kBlobA), "dark"));
    QVERIFY(writeFile(QDir(blobs).filePath(kBlobB), QByteArray("\x00\x01\xfe", 3)));
    const QString database = QDir(objectDir).filePath(kRealDatabaseFile);
    const QByteArray rows = "INSERT INTO _mf_entries VALUES ('config/theme', '" + kBlobA.toLatin1()
        + "', 1798761600500, '{\"v\":2}');"
          "INSERT INTO _mf_entries VALUES ('bin', '"
        + kBlobB.toLatin1()
        + "', NULL, NULL);"
          "INSERT INTO _mf_entries VALUES ('ghost', 'cc00', NULL, NULL);"
          "INSERT INTO _mf_entries VALUES ('escape', '../../../x', NULL, NULL);";
    QCOMPARE(executeSql(database, kMiniflareSchema + rows), QString());
    // A database without a namespace folder, and the per-class file that is not a namespace.
    const QString orphan = QDir(objectDir).filePath(QString(64, QLatin1Char('e')) + ".sqlite");
    QCOMPARE(executeSql(orphan,
                 kMiniflareSchema + "INSERT INTO _mf_entries VALUES ('o', 'dd', 5000, NULL);"),
        QString());
    QCOMPARE(executeSql(QDir(objectDir).filePath(QStringLiteral("metadata.sqlite")),
                 "CREATE TABLE other (x);"),
        QString());
    const QStringList before = folderSnapshot(project.path());

    auto state = WranglerKvState::open(project.filePath(openAt));
    QVERIFY2(state, qPrintable(state ? QString() : state.error().message));
    QCOMPARE(QFileInfo(state->kvPath()).canonicalFilePath(),
        QFileInfo(kvDir.path()).canonicalFilePath());
    QCOMPARE(WranglerKvState::databaseFileName(kRealNamespaceId), kRealDatabaseFile);
    QCOMPARE(state->namespaces().size(), size_t(2));
    const WranglerKvNamespace &named = state->namespaces()[0];
    QCOMPARE(named.id, kRealNamespaceId);
    QCOMPARE(QFileInfo(named.databasePath).fileName(), kRealDatabaseFile);
    QCOMPARE(QFileInfo(named.blobsPath).canonicalFilePath(), QFileInfo(blobs).canonicalFilePath());
    const WranglerKvNamespace &unknown = state->namespaces()[1];
    QCOMPARE(unknown.id, QString());
    QCOMPARE(QFileInfo(unknown.databasePath).fileName(), QString(64, QLatin1Char('e')) + ".sqlite");
    QCOMPARE(unknown.blobsPath, QString());

    auto listing = WranglerKvState::read(named);
    QVERIFY2(listing, qPrintable(listing ? QString() : listing.error().message));
    QCOMPARE(describe(listing->entries, false),
        (QStringList {
            "bin=0001fe meta=- exp=-", R"(config/theme=6461726b meta={"v":2} exp=1798761600)" }));
    QCOMPARE(listing->keysWithoutBlob, (QStringList { "escape", "ghost" }));

    auto orphanListing = WranglerKvState::read(unknown);
    QVERIFY(orphanListing);
    QCOMPARE(orphanListing->entries.size(), size_t(0));
    QCOMPARE(orphanListing->keysWithoutBlob, QStringList { "o" });

    QCOMPARE(folderSnapshot(project.path()), before);
}

void TestKvInterop::wranglerFolderWithWal()
{
    QTemporaryDir persist;
    QVERIFY(persist.isValid());
    const QDir kvDir(persist.filePath(QStringLiteral("kv")));
    const QString objectDir = kvDir.filePath(QStringLiteral("miniflare-KVNamespaceObject"));
    const QString blobs = kvDir.filePath(kRealNamespaceId + QStringLiteral("/blobs"));
    QVERIFY(QDir().mkpath(objectDir));
    QVERIFY(QDir().mkpath(blobs));
    QVERIFY(writeFile(QDir(blobs).filePath(kBlobA), "in wal"));
    const QString database = QDir(objectDir).filePath(kRealDatabaseFile);

    // A writer that stays open keeps its rows in the -wal file, as a running `wrangler dev` does.
    sqlite3 *writer = nullptr;
    QCOMPARE(sqlite3_open(database.toUtf8().constData(), &writer), SQLITE_OK);
    const QByteArray sql = "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;"
        + kMiniflareSchema + "INSERT INTO _mf_entries VALUES ('live', '" + kBlobA.toLatin1()
        + "', NULL, NULL);";
    QCOMPARE(sqlite3_exec(writer, sql.constData(), nullptr, nullptr, nullptr), SQLITE_OK);
    QVERIFY(QFileInfo(database + "-wal").size() > 0);
    const QStringList before = folderSnapshot(persist.path());

    auto state = WranglerKvState::open(persist.path());
    QVERIFY2(state, qPrintable(state ? QString() : state.error().message));
    QCOMPARE(state->namespaces().size(), size_t(1));
    auto listing = WranglerKvState::read(state->namespaces()[0]);
    QVERIFY2(listing, qPrintable(listing ? QString() : listing.error().message));
    QCOMPARE(describe(listing->entries, false), QStringList { "live=696e2077616c meta=- exp=-" });
    QCOMPARE(folderSnapshot(persist.path()), before);
    sqlite3_close(writer);
}

void TestKvInterop::wranglerFolderMissing()
{
    QTemporaryDir project;
    QVERIFY(project.isValid());
    auto state = WranglerKvState::open(project.path());
    QVERIFY(!state);
    QCOMPARE(state.error().message,
        QStringLiteral("No wrangler dev KV data was found in %1: it has no "
                       ".wrangler/state/v3/kv/miniflare-KVNamespaceObject folder. Give the "
                       "project folder or the --persist-to folder of `wrangler dev`.")
            .arg(project.path()));
}

void TestKvInterop::cliHelpListsOptions()
{
    const ProcessResult help = runRoomscope({ QStringLiteral("--help") });
    QCOMPARE(help.exitCode, 0);
    QVERIFY(help.standardOutput.contains("--kv-import <FILE.json>"));
    QVERIFY(help.standardOutput.contains("--kv-export <FILE.json>"));
    QVERIFY(help.standardOutput.contains("--save-session <FILE.sqlite>"));
    QVERIFY(help.standardOutput.contains("--load-session <FILE.sqlite>"));
}

void TestKvInterop::cliImportExportSession()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString input = dir.filePath(QStringLiteral("input.json"));
    const QString exported = dir.filePath(QStringLiteral("export.json"));
    const QString session = dir.filePath(QStringLiteral("session.sqlite"));
    QVERIFY(writeFile(input, R"([
  {"key": "seed:a", "value": "alpha", "metadata": {"by": "test"}},
  {"key": "seed:b", "value": "AP8=", "base64": true, "expiration": "2100-01-01T00:00:00Z"},
  {"key": "seed:c", "value": "gamma", "expiration_ttl": 86400}
])"));

    const ProcessResult run = runRoomscope({ kvRoomPath(), QStringLiteral("--kv-import"), input,
        QStringLiteral("--kv-export"), exported, QStringLiteral("--save-session"), session });
    QCOMPARE(run.standardError, QByteArray());
    QCOMPARE(run.exitCode, 0);
    QVERIFY(run.standardOutput.contains(
        QStringLiteral("\n  KV input       3 entries imported from %1\n").arg(input).toUtf8()));

    // The run's own writes sit beside the imported keys, which it never touches.
    const QByteArray json = readFile(exported);
    const QByteArray seedLines
        = "  {\"key\":\"seed:a\",\"value\":\"alpha\",\"metadata\":{\"by\":\"test\"}},\n"
          "  {\"key\":\"seed:b\",\"value\":\"AP8=\",\"base64\":true,\"expiration\":4102444800},\n"
          "  {\"key\":\"seed:c\",\"value\":\"gamma\",\"expiration\":1767312000}";
    QVERIFY2(json.contains(seedLines), json.constData());
    const KvBulkParseResult parsed = parseKvBulkJson(json, kNowSeconds);
    QCOMPARE(parsed.errors, QStringList());
    QCOMPARE(parsed.entries.size(), size_t(6));

    // The session contains the same entries as the export.
    auto store = KvStore::open(QStringLiteral(":memory:"));
    QVERIFY(store);
    QVERIFY(store.value()->restoreFrom(session));
    QCOMPARE(exportKvBulkJson(allEntries(*store.value())), json);

    // A second run starts from the session and keeps the imported keys.
    const QString secondExport = dir.filePath(QStringLiteral("second.json"));
    const ProcessResult second = runRoomscope({ kvRoomPath(), QStringLiteral("--load-session"),
        session, QStringLiteral("--kv-export"), secondExport });
    QCOMPARE(second.standardError, QByteArray());
    QCOMPARE(second.exitCode, 0);
    QVERIFY(second.standardOutput.contains(
        QStringLiteral("\n  KV input       6 keys loaded from %1\n").arg(session).toUtf8()));
    QVERIFY(readFile(secondExport).contains(seedLines));
}

void TestKvInterop::cliInvalidImportExitsTwo()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString input = dir.filePath(QStringLiteral("input.json"));
    const QString session = dir.filePath(QStringLiteral("session.sqlite"));
    QVERIFY(writeFile(input, R"([{"key": "a", "value": "1"}, {"key": "b", "value": "2"},
 {"key": "a/b", "value": "3", "expiration_ttl": 10}])"));

    const ProcessResult run = runRoomscope({ kvRoomPath(), QStringLiteral("--kv-import"), input,
        QStringLiteral("--save-session"), session });
    QCOMPARE(run.exitCode, 2);
    QCOMPARE(run.standardOutput, QByteArray());
    QCOMPARE(QString::fromUtf8(run.standardError),
        QStringLiteral("roomscope run: %1 is invalid, so no entry was written:\n"
                       "  entry 3 (key \"a/b\"): KV PUT failed: 400 Invalid expiration_ttl of "
                       "10. Expiration TTL must be at least 60.\n")
            .arg(input));
    QVERIFY(!QFileInfo::exists(session));

    const ProcessResult missing = runRoomscope({ kvRoomPath(), QStringLiteral("--load-session"),
        dir.filePath(QStringLiteral("none.sqlite")) });
    QCOMPARE(missing.exitCode, 2);
    QCOMPARE(QString::fromUtf8(missing.standardError),
        QStringLiteral("roomscope run: The KV store %1 was not found.\n")
            .arg(dir.filePath(QStringLiteral("none.sqlite"))));
}

QTEST_GUILESS_MAIN(TestKvInterop)
#include "tst_kvinterop.moc"
