// Tests of the scenario parser: the bundled scenario, malformed scenarios with their exact
// messages, the duration and instant helpers, and JsonLocator positions.

#include "jsonlocator.h"
#include "report.h"
#include "scenario.h"
#include "simtime.h"

#include <QDir>
#include <QTemporaryDir>
#include <QTest>

#include <optional>

using namespace roomscope;

namespace QTest {
template<>
inline char *toString(const std::optional<qint64> &value)
{
    return value ? toString(*value) : qstrdup("nothing");
}
} // namespace QTest

namespace {

constexpr SimTime kJanuary2026 = seconds(1'767'225'600); // 2026-01-01T00:00:00Z

QString sourceDir()
{
    return qEnvironmentVariable("ROOMSCOPE_SOURCE_DIR");
}

/// A small valid scenario that leaves every optional field out.
const char kMinimal[] = R"json({
  "name": "minimal",
  "locations": ["LHR", "SJC"],
  "rooms": [ { "name": "lobby" } ],
  "workloads": [ { "room": "lobby", "every": "1s", "mix": { "get": 1 }, "keys": ["k"] } ]
})json";

} // namespace

class TestScenario : public QObject
{
    Q_OBJECT

private slots:
    void bundledKvRoomLoads();
    void minimalScenarioDefaults();
    void cacheTtlOf30sAccepted();
    void bundledDoLabLoads();
    void malformed_data();
    void malformed();
    void missingFile();
    void parseDuration_data();
    void parseDuration();
    void parseInstant_data();
    void parseInstant();
    void formatDuration_data();
    void formatDuration();
    void formatJsonPath_data();
    void formatJsonPath();
    void jsonLocator_data();
    void jsonLocator();
    void lineAndColumnPastEnd();
};

void TestScenario::bundledDoLabLoads()
{
    QVERIFY2(!sourceDir().isEmpty(), "ROOMSCOPE_SOURCE_DIR is not set; run the test with ctest");
    const Result<Scenario> loaded = Scenario::load(
        QDir(sourceDir()).filePath(QStringLiteral("resources/scenarios/do-lab.json")));
    QVERIFY2(loaded.ok(), qPrintable(loaded.ok() ? QString() : loaded.error().message));
    const Scenario &scenario = loaded.value();

    QCOMPARE(scenario.roomBehaviour, QStringLiteral("lab"));
    QVERIFY(scenario.sqliteStorage);
    QCOMPARE(scenario.durableObjectProfile, QStringLiteral("production"));
    QVERIFY(scenario.durableObjects.enforceStorageLimits);
    QCOMPARE(scenario.durableObjects.compatibilityDate, QDate(2026, 4, 7));
    QVERIFY(scenario.durableObjects.compatibility.webSocketAutoReplyToClose);
    QCOMPARE(scenario.durableObjects.hibernateAfter, seconds(10));
    QCOMPARE(scenario.workloads.size(), size_t(3));
    QCOMPARE(scenario.workloads[0].path, QStringLiteral("/count-memory"));
    QCOMPARE(scenario.workloads[0].burst, 10);
    QCOMPARE(scenario.workloads[2].path, QStringLiteral("/alarm?in=2s&fail=3"));
    QCOMPARE(scenario.workloads[2].burst, 1);
}

void TestScenario::bundledKvRoomLoads()
{
    QVERIFY2(!sourceDir().isEmpty(), "ROOMSCOPE_SOURCE_DIR is not set; run the test with ctest");
    const QString path =
        QDir(sourceDir()).filePath(QStringLiteral("resources/scenarios/kv-room.json"));
    const Result<Scenario> loaded = Scenario::load(path);
    QVERIFY2(loaded.ok(), qPrintable(loaded.ok() ? QString() : loaded.error().message));
    const Scenario &scenario = loaded.value();

    QCOMPARE(scenario.name, QStringLiteral("kv-room"));
    QVERIFY(scenario.description.startsWith(QStringLiteral("Two rooms in two locations.")));
    QCOMPARE(scenario.sourcePath, QFileInfo(path).absoluteFilePath());
    QCOMPARE(scenario.seed, quint64(1));
    QCOMPARE(scenario.start, kJanuary2026);
    QCOMPARE(scenario.duration, seconds(60));

    QCOMPARE(scenario.locations.size(), size_t(3));
    QCOMPARE(scenario.locations[0].name, QStringLiteral("LHR"));
    QCOMPARE(scenario.locations[1].name, QStringLiteral("SJC"));
    QCOMPARE(scenario.locations[2].name, QStringLiteral("NRT"));
    QCOMPARE(scenario.localLatency, milliseconds(2));
    QCOMPARE(scenario.jitterPercent, 10);
    QCOMPARE(scenario.latencies.size(), size_t(3));
    QCOMPARE(scenario.latencies[0].from, QStringLiteral("LHR"));
    QCOMPARE(scenario.latencies[0].to, QStringLiteral("SJC"));
    QCOMPARE(scenario.latencies[0].oneWay, milliseconds(70));
    QCOMPARE(scenario.latencies[1].to, QStringLiteral("NRT"));
    QCOMPARE(scenario.latencies[1].oneWay, milliseconds(110));
    QCOMPARE(scenario.latencies[2].from, QStringLiteral("SJC"));
    QCOMPARE(scenario.latencies[2].oneWay, milliseconds(55));

    QCOMPARE(scenario.kvBinding, QStringLiteral("KV"));
    QCOMPARE(scenario.kvCentralLocation, QStringLiteral("SJC"));
    QCOMPARE(scenario.kv.defaultCacheTtl, seconds(60));
    QCOMPARE(scenario.kv.readYourWrites, true);
    QCOMPARE(scenario.kv.writeRateLimit, WriteRateLimit::Strict);
    QCOMPARE(scenario.kv.cacheHitLatency, milliseconds(1));
    QCOMPARE(scenario.workerName, QStringLiteral("worker"));
    QCOMPARE(scenario.roomsBinding, QStringLiteral("ROOMS"));
    QCOMPARE(scenario.roomClassName, QStringLiteral("Room"));
    QCOMPARE(scenario.clientConnectSpread, seconds(2));

    QCOMPARE(scenario.rooms.size(), size_t(2));
    const Scenario::Room &lobby = scenario.rooms[0];
    QCOMPARE(lobby.name, QStringLiteral("lobby"));
    QCOMPARE(lobby.location, QStringLiteral("LHR"));
    QCOMPARE(lobby.clients.size(), size_t(2));
    QCOMPARE(lobby.clients[0].location, QStringLiteral("LHR"));
    QCOMPARE(lobby.clients[0].count, 120);
    QCOMPARE(lobby.clients[1].location, QStringLiteral("NRT"));
    QCOMPARE(lobby.clients[1].count, 80);
    const Scenario::Room &arena = scenario.rooms[1];
    QCOMPARE(arena.name, QStringLiteral("arena"));
    QCOMPARE(arena.location, QStringLiteral("SJC"));
    QCOMPARE(arena.clients.size(), size_t(2));
    QCOMPARE(arena.clients[0].count, 150);
    QCOMPARE(arena.clients[1].count, 50);
    for (const Scenario::Room &room : scenario.rooms) {
        int clients = 0;
        for (const Scenario::ClientGroup &group : room.clients)
            clients += group.count;
        QCOMPARE(clients, 200);
    }

    QCOMPARE(scenario.workloads.size(), size_t(5));
    const Scenario::Workload &writers = scenario.workloads[0];
    QCOMPARE(writers.name, QStringLiteral("lobby-writers"));
    QCOMPARE(writers.room, QStringLiteral("lobby"));
    QCOMPARE(writers.location, QStringLiteral("LHR"));
    QCOMPARE(writers.ratePerSecond, 4.0);
    QCOMPARE(writers.every, SimDuration(0));
    QCOMPARE(writers.startAfter, SimDuration(0));
    QCOMPARE(writers.putWeight, 3);
    QCOMPARE(writers.getWeight, 1);
    QCOMPARE(writers.broadcastWeight, 0);
    QCOMPARE(writers.keys, (QStringList { "lobby:state", "announcement" }));
    QCOMPARE(scenario.workloads[1].name, QStringLiteral("arena-writers"));
    QCOMPARE(scenario.workloads[1].location, QStringLiteral("SJC"));
    QCOMPARE(scenario.workloads[1].ratePerSecond, 2.0);
    const Scenario::Workload &broadcast = scenario.workloads[2];
    QCOMPARE(broadcast.name, QStringLiteral("lobby-broadcast"));
    QCOMPARE(broadcast.ratePerSecond, 0.0);
    QCOMPARE(broadcast.every, seconds(1));
    QCOMPARE(broadcast.startAfter, milliseconds(2500));
    QCOMPARE(broadcast.putWeight, 0);
    QCOMPARE(broadcast.getWeight, 0);
    QCOMPARE(broadcast.broadcastWeight, 1);
    QCOMPARE(broadcast.keys, QStringList { "lobby:state" });
    const Scenario::Workload &announcement = scenario.workloads[4];
    QCOMPARE(announcement.name, QStringLiteral("arena-announcement"));
    QCOMPARE(announcement.room, QStringLiteral("arena"));
    QCOMPARE(announcement.every, seconds(5));
    QCOMPARE(announcement.startAfter, seconds(3));
    QCOMPARE(announcement.keys, QStringList { "announcement" });

    QCOMPARE(scenario.expectations.size(), size_t(4));
    QCOMPARE(scenario.expectations[0].metric, QStringLiteral("kv.writesRateLimited"));
    QCOMPARE(scenario.expectations[0].equals, std::optional<double>(0));
    QCOMPARE(scenario.expectations[0].description(), QStringLiteral("kv.writesRateLimited == 0"));
    QCOMPARE(scenario.expectations[2].metric, QStringLiteral("ws.accepted"));
    QCOMPARE(scenario.expectations[2].equals, std::optional<double>(400));
    QCOMPARE(scenario.expectations[3].metric, QStringLiteral("ws.broadcasts"));
    QCOMPARE(scenario.expectations[3].min, std::optional<double>(100));
    QCOMPARE(scenario.expectations[3].max, std::optional<double>());
    QCOMPARE(scenario.expectations[3].description(), QStringLiteral("ws.broadcasts >= 100"));
}

void TestScenario::minimalScenarioDefaults()
{
    const Result<Scenario> parsed =
        Scenario::parse(QByteArray(kMinimal), QStringLiteral("min.json"));
    QVERIFY2(parsed.ok(), qPrintable(parsed.ok() ? QString() : parsed.error().message));
    const Scenario &scenario = parsed.value();

    QCOMPARE(scenario.name, QStringLiteral("minimal"));
    QCOMPARE(scenario.sourcePath, QStringLiteral("min.json"));
    QCOMPARE(scenario.seed, quint64(1));
    QCOMPARE(scenario.start, kJanuary2026);
    QCOMPARE(scenario.duration, seconds(60));
    QCOMPARE(scenario.localLatency, milliseconds(2));
    QCOMPARE(scenario.jitterPercent, 10);
    QCOMPARE(scenario.latencies.size(), size_t(0));
    QCOMPARE(scenario.kvBinding, QStringLiteral("KV"));
    QCOMPARE(scenario.kvCentralLocation, QString());
    QCOMPARE(scenario.kv.defaultCacheTtl, seconds(60));
    QCOMPARE(scenario.kv.readYourWrites, true);
    QCOMPARE(scenario.kv.writeRateLimit, WriteRateLimit::Strict);
    QCOMPARE(scenario.kv.maxValueBytes, qsizetype(26214400));
    QCOMPARE(scenario.rooms.size(), size_t(1));
    QCOMPARE(scenario.rooms[0].location, QString());
    QCOMPARE(scenario.rooms[0].clients.size(), size_t(0));
    QCOMPARE(scenario.workloads.size(), size_t(1));
    QCOMPARE(scenario.workloads[0].name, QStringLiteral("workload-1"));
    QCOMPARE(scenario.workloads[0].location, QStringLiteral("LHR"));
    QCOMPARE(scenario.workloads[0].every, seconds(1));
    QCOMPARE(scenario.workloads[0].getWeight, 1);
    QCOMPARE(scenario.expectations.size(), size_t(0));
}

void TestScenario::cacheTtlOf30sAccepted()
{
    QByteArray json(kMinimal);
    json.replace("\"locations\"", "\"kv\": { \"cacheTtl\": \"30s\", \"writeRateLimit\": \"off\", "
                                  "\"readYourWrites\": false },\n  \"locations\"");
    const Result<Scenario> parsed = Scenario::parse(json, QStringLiteral("ttl.json"));
    QVERIFY2(parsed.ok(), qPrintable(parsed.ok() ? QString() : parsed.error().message));
    QCOMPARE(parsed->kv.defaultCacheTtl, seconds(30));
    QCOMPARE(parsed->kv.writeRateLimit, WriteRateLimit::Off);
    QCOMPARE(parsed->kv.readYourWrites, false);
}

void TestScenario::malformed_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("message");

    // Each line and column is where the named value starts, counted in characters from 1. For
    // invalid JSON it is QJsonParseError's offset, which for a missing separator or value points
    // just past the character that failed, and at it for garbage after the document.
    QTest::newRow("invalid JSON")
        << QByteArray(R"json({
  "name": "t",
  "locations": ["LHR" "SJC"]
}
)json")
        << QStringLiteral("bad.json:3:24: invalid JSON: missing value separator");
    QTest::newRow("invalid JSON after multi-byte text")
        << QByteArray(R"json({"name": "café", "x": })json")
        << QStringLiteral("bad.json:1:24: invalid JSON: object is missing after a comma");
    QTest::newRow("garbage after the document")
        << QByteArray(R"json({"name": "é"} x)json")
        << QStringLiteral("bad.json:1:15: invalid JSON: garbage at the end of the document");
    QTest::newRow("empty file") << QByteArray()
                                << QStringLiteral("bad.json:1:1: invalid JSON: illegal value");
    // QJsonDocument stops at 1024 levels of nesting.
    QTest::newRow("too deeply nested")
        << QByteArray(100000, '[')
        << QStringLiteral("bad.json:1:1026: invalid JSON: too deeply nested document");
    QTest::newRow("top-level array")
        << QByteArray(R"json([1])json")
        << QStringLiteral("bad.json:1:1: (top level): expected an object { ... } holding the "
                          "scenario");
    QTest::newRow("missing name")
        << QByteArray(R"json({
  "locations": ["LHR"]
}
)json")
        << QStringLiteral("bad.json:1:1: (top level): missing field \"name\" (a string)");
    QTest::newRow("missing name after blank lines")
        << QByteArray(R"json(

  {
  "locations": ["LHR"]
}
)json")
        << QStringLiteral("bad.json:3:3: (top level): missing field \"name\" (a string)");
    QTest::newRow("name is a number")
        << QByteArray(R"json({
  "name": 5,
  "locations": ["LHR"]
}
)json")
        << QStringLiteral("bad.json:2:11: name: expected a non-empty string, found 5");
    QTest::newRow("unknown behaviour")
        << QByteArray(R"json({
  "name": "t",
  "locations": ["LHR"],
  "durableObjects": { "behaviour": "chat" }
}
)json")
        << QStringLiteral("bad.json:4:36: durableObjects.behaviour: expected \"kv-room\" or \"lab\", found \"chat\"");
    QTest::newRow("invalid compatibility date")
        << QByteArray(R"json({
  "name": "t",
  "locations": ["LHR"],
  "durableObjects": { "compatibilityDate": "2026-13-01" }
}
)json")
        << QStringLiteral("bad.json:4:44: durableObjects.compatibilityDate: expected a date such as \"2026-04-07\", found \"2026-13-01\"");
    QTest::newRow("eviction range reversed")
        << QByteArray(R"json({
  "name": "t",
  "locations": ["LHR"],
  "durableObjects": { "evictAfterMin": "90s", "evictAfterMax": "80s" }
}
)json")
        << QStringLiteral("bad.json:4:64: durableObjects.evictAfterMax: must be at least evictAfterMin (1 min 30 s); evictAfterMax is 1 min 20 s, so raise evictAfterMax as well");
    QTest::newRow("workload path without slash")
        << QByteArray(R"json({
  "name": "t",
  "locations": ["LHR"],
  "rooms": [{ "name": "a" }],
  "workloads": [{ "room": "a", "every": "1s", "path": "count" }]
}
)json")
        << QStringLiteral("bad.json:5:55: workloads[0].path: expected a path starting with \"/\", such as \"/count-storage\", found \"count\"");
    QTest::newRow("unknown field")
        << QByteArray(R"json({
  "name": "t",
  "locations": ["LHR"],
  "romos": []
}
)json")
        << QStringLiteral("bad.json:4:12: romos: unknown field \"romos\"; the fields allowed here "
                          "are $schema, name, description, seed, start, duration, locations, "
                          "latency, kv, worker, durableObjects, rooms, workloads, expect");
    QTest::newRow("missing locations")
        << QByteArray(R"json({
  "name": "t"
}
)json")
        << QStringLiteral("bad.json:1:1: (top level): missing field \"locations\" "
                          "(a list [ ... ])");
    QTest::newRow("empty locations")
        << QByteArray(R"json({
  "name": "t",
  "locations": []
}
)json")
        << QStringLiteral("bad.json:3:16: locations: list at least one location, "
                          "such as [\"LHR\"]");
    QTest::newRow("duplicate location")
        << QByteArray(R"json({
  "name": "t",
  "locations": ["LHR", "LHR"]
}
)json")
        << QStringLiteral("bad.json:3:24: locations[1]: location \"LHR\" is listed twice");
    QTest::newRow("bad start")
        << QByteArray(R"json({
  "name": "t",
  "locations": ["LHR", "SJC"],
  "start": "yesterday"
}
)json")
        << QStringLiteral("bad.json:4:12: start: expected an ISO 8601 instant with a zone, such "
                          "as \"2026-01-01T00:00:00Z\", found \"yesterday\"");
    QTest::newRow("description not a string")
        << QByteArray(R"json({
  "name": "t",
  "description": 42,
  "locations": ["LHR"]
}
)json")
        << QStringLiteral("bad.json:3:18: description: expected a string, found 42");
    QTest::newRow("duplicate workload name")
        << QByteArray(R"json({
  "name": "t",
  "locations": ["LHR"],
  "rooms": [ { "name": "lobby" } ],
  "workloads": [
    { "name": "w", "room": "lobby", "rate": 1, "mix": { "put": 1 }, "keys": ["k"] },
    { "name": "w", "room": "lobby", "rate": 2, "mix": { "get": 1 }, "keys": ["k"] }
  ]
}
)json")
        << QStringLiteral("bad.json:7:15: workloads[1].name: workload \"w\" is listed twice; give "
                          "each workload its own name");
    QTest::newRow("bad duration")
        << QByteArray(R"json({
  "name": "t",
  "locations": ["LHR", "SJC"],
  "duration": "5 parsecs"
}
)json")
        << QStringLiteral("bad.json:4:15: duration: expected a duration of at least 1.00 ms, such "
                          "as 30, \"250ms\", \"1.5s\" or \"2m\", found \"5 parsecs\"");
    QTest::newRow("negative duration")
        << QByteArray(R"json({
  "name": "t",
  "locations": ["LHR", "SJC"],
  "duration": -5
}
)json")
        << QStringLiteral("bad.json:4:15: duration: expected a duration of at least 1.00 ms, such "
                          "as 30, \"250ms\", \"1.5s\" or \"2m\", found -5");
    QTest::newRow("count is a string")
        << QByteArray(R"json({
  "name": "t",
  "locations": ["LHR", "SJC"],
  "rooms": [
    { "name": "lobby", "clients": [ { "location": "LHR", "count": "two" } ] }
  ]
}
)json")
        << QStringLiteral("bad.json:5:67: rooms[0].clients[0].count: expected a whole number from "
                          "0 to 1000000, found \"two\"");
    QTest::newRow("negative count")
        << QByteArray(R"json({
  "name": "t",
  "locations": ["LHR", "SJC"],
  "rooms": [
    { "name": "lobby", "clients": [ { "location": "LHR", "count": -1 } ] }
  ]
}
)json")
        << QStringLiteral("bad.json:5:67: rooms[0].clients[0].count: expected a whole number from "
                          "0 to 1000000, found -1");
    QTest::newRow("fractional count")
        << QByteArray(R"json({
  "name": "t",
  "locations": ["LHR", "SJC"],
  "rooms": [
    { "name": "lobby", "clients": [ { "location": "LHR", "count": 1.5 } ] }
  ]
}
)json")
        << QStringLiteral("bad.json:5:67: rooms[0].clients[0].count: expected a whole number from "
                          "0 to 1000000, found 1.5");
    QTest::newRow("unknown room location")
        << QByteArray(R"json({
  "name": "t",
  "locations": ["LHR", "SJC"],
  "rooms": [
    { "name": "lobby", "location": "AMS" }
  ]
}
)json")
        << QStringLiteral("bad.json:5:36: rooms[0].location: unknown location \"AMS\"; the "
                          "scenario's locations are LHR, SJC");
    QTest::newRow("unknown client location")
        << QByteArray(R"json({
  "name": "t",
  "locations": ["LHR", "SJC"],
  "rooms": [
    { "name": "lobby", "clients": [ { "location": "AMS", "count": 1 } ] }
  ]
}
)json")
        << QStringLiteral("bad.json:5:51: rooms[0].clients[0].location: unknown location \"AMS\"; "
                          "the scenario's locations are LHR, SJC");
    QTest::newRow("duplicate room")
        << QByteArray(R"json({
  "name": "t",
  "locations": ["LHR", "SJC"],
  "rooms": [
    { "name": "lobby" },
    { "name": "lobby" }
  ]
}
)json")
        << QStringLiteral("bad.json:6:15: rooms[1].name: room \"lobby\" is listed twice");
    QTest::newRow("rooms not a list")
        << QByteArray(R"json({
  "name": "t",
  "locations": ["LHR", "SJC"],
  "rooms": {}
}
)json")
        << QStringLiteral("bad.json:4:12: rooms: expected a list [ ... ], found an object");
    QTest::newRow("room not an object")
        << QByteArray(R"json({
  "name": "t",
  "locations": ["LHR", "SJC"],
  "rooms": [5]
}
)json")
        << QStringLiteral("bad.json:4:13: rooms[0]: expected an object { ... }, found 5");
    QTest::newRow("unknown latency location")
        << QByteArray(R"json({
  "name": "t",
  "locations": ["LHR", "SJC"],
  "latency": { "between": [ { "from": "LHR", "to": "FRA", "oneWay": "70ms" } ] }
}
)json")
        << QStringLiteral("bad.json:4:52: latency.between[0].to: unknown location \"FRA\"; the "
                          "scenario's locations are LHR, SJC");
    QTest::newRow("latency without oneWay")
        << QByteArray(R"json({
  "name": "t",
  "locations": ["LHR", "SJC"],
  "latency": { "between": [ { "from": "LHR", "to": "SJC" } ] }
}
)json")
        << QStringLiteral("bad.json:4:29: latency.between[0]: missing field \"oneWay\" (a "
                          "duration such as \"70ms\")");
    QTest::newRow("jitter above 100")
        << QByteArray(R"json({
  "name": "t",
  "locations": ["LHR", "SJC"],
  "latency": { "jitterPercent": 101 }
}
)json")
        << QStringLiteral("bad.json:4:33: latency.jitterPercent: expected a whole number from 0 "
                          "to 100, found 101");
    QTest::newRow("cacheTtl below 30 s")
        << QByteArray(R"json({
  "name": "t",
  "locations": ["LHR", "SJC"],
  "kv": { "cacheTtl": "10s" }
}
)json")
        << QStringLiteral("bad.json:4:23: kv.cacheTtl: expected a duration of at least 30.000 s, "
                          "such as 30, \"250ms\", \"1.5s\" or \"2m\", found \"10s\"");
    QTest::newRow("cacheTtl 29 as a number")
        << QByteArray(R"json({
  "name": "t",
  "locations": ["LHR", "SJC"],
  "kv": { "cacheTtl": 29 }
}
)json")
        << QStringLiteral("bad.json:4:23: kv.cacheTtl: expected a duration of at least 30.000 s, "
                          "such as 30, \"250ms\", \"1.5s\" or \"2m\", found 29");
    QTest::newRow("unknown writeRateLimit")
        << QByteArray(R"json({
  "name": "t",
  "locations": ["LHR", "SJC"],
  "kv": { "writeRateLimit": "sometimes" }
}
)json")
        << QStringLiteral("bad.json:4:29: kv.writeRateLimit: expected \"strict\", \"burst\" or "
                          "\"off\", found \"sometimes\"");
    QTest::newRow("rate and every")
        << QByteArray(R"json({
  "name": "t",
  "locations": ["LHR", "SJC"],
  "rooms": [
    { "name": "lobby", "location": "LHR", "clients": [ { "location": "LHR", "count": 2 } ] }
  ],
  "workloads": [
    { "room": "lobby", "rate": 1, "every": "1s", "mix": { "put": 1 }, "keys": ["k"] }
  ]
}
)json")
        << QStringLiteral("bad.json:8:5: workloads[0]: give either \"rate\" (requests per second, "
                          "random arrivals) or \"every\" (a fixed interval such as \"1s\"), not "
                          "both");
    QTest::newRow("neither rate nor every")
        << QByteArray(R"json({
  "name": "t",
  "locations": ["LHR", "SJC"],
  "rooms": [
    { "name": "lobby", "location": "LHR", "clients": [ { "location": "LHR", "count": 2 } ] }
  ],
  "workloads": [
    { "room": "lobby", "mix": { "put": 1 }, "keys": ["k"] }
  ]
}
)json")
        << QStringLiteral("bad.json:8:5: workloads[0]: missing \"rate\" (requests per second, "
                          "random arrivals) or \"every\" (a fixed interval such as \"1s\")");
    QTest::newRow("zero rate")
        << QByteArray(R"json({
  "name": "t",
  "locations": ["LHR", "SJC"],
  "rooms": [
    { "name": "lobby", "location": "LHR", "clients": [ { "location": "LHR", "count": 2 } ] }
  ],
  "workloads": [
    { "room": "lobby", "rate": 0, "mix": { "put": 1 }, "keys": ["k"] }
  ]
}
)json")
        << QStringLiteral("bad.json:8:32: workloads[0].rate: expected requests per second above 0 "
                          "and at most 1000000, found 0");
    QTest::newRow("empty mix")
        << QByteArray(R"json({
  "name": "t",
  "locations": ["LHR", "SJC"],
  "rooms": [
    { "name": "lobby", "location": "LHR", "clients": [ { "location": "LHR", "count": 2 } ] }
  ],
  "workloads": [
    { "room": "lobby", "rate": 1, "mix": {}, "keys": ["k"] }
  ]
}
)json")
        << QStringLiteral("bad.json:8:42: workloads[0].mix: give at least one route a weight "
                          "above 0");
    QTest::newRow("missing mix")
        << QByteArray(R"json({
  "name": "t",
  "locations": ["LHR", "SJC"],
  "rooms": [
    { "name": "lobby", "location": "LHR", "clients": [ { "location": "LHR", "count": 2 } ] }
  ],
  "workloads": [
    { "room": "lobby", "rate": 1, "keys": ["k"] }
  ]
}
)json")
        << QStringLiteral("bad.json:8:5: workloads[0]: missing field \"mix\", for example "
                          "{\"put\": 3, \"get\": 1, \"broadcast\": 0}");
    QTest::newRow("unknown room in workload")
        << QByteArray(R"json({
  "name": "t",
  "locations": ["LHR", "SJC"],
  "rooms": [
    { "name": "lobby", "location": "LHR", "clients": [ { "location": "LHR", "count": 2 } ] }
  ],
  "workloads": [
    { "room": "arena", "rate": 1, "mix": { "put": 1 }, "keys": ["k"] }
  ]
}
)json")
        << QStringLiteral("bad.json:8:15: workloads[0].room: unknown room \"arena\"; add it to "
                          "\"rooms\" first");
    QTest::newRow("negative startAfter")
        << QByteArray(R"json({
  "name": "t",
  "locations": ["LHR", "SJC"],
  "rooms": [
    { "name": "lobby", "location": "LHR", "clients": [ { "location": "LHR", "count": 2 } ] }
  ],
  "workloads": [
    { "room": "lobby", "rate": 1, "startAfter": "-1s", "mix": { "put": 1 }, "keys": ["k"] }
  ]
}
)json")
        << QStringLiteral("bad.json:8:49: workloads[0].startAfter: expected a duration, such as "
                          "30, \"250ms\", \"1.5s\" or \"2m\", found \"-1s\"");
    QTest::newRow("empty key")
        << QByteArray(R"json({
  "name": "t",
  "locations": ["LHR", "SJC"],
  "rooms": [
    { "name": "lobby", "location": "LHR", "clients": [ { "location": "LHR", "count": 2 } ] }
  ],
  "workloads": [
    { "room": "lobby", "rate": 1, "mix": { "put": 1 }, "keys": ["k", ""] }
  ]
}
)json")
        << QStringLiteral("bad.json:8:70: workloads[0].keys[1]: invalid KV key: Key name cannot "
                          "be empty.");
    QTest::newRow("dot key")
        << QByteArray(R"json({
  "name": "t",
  "locations": ["LHR", "SJC"],
  "rooms": [
    { "name": "lobby", "location": "LHR", "clients": [ { "location": "LHR", "count": 2 } ] }
  ],
  "workloads": [
    { "room": "lobby", "rate": 1, "mix": { "put": 1 }, "keys": ["."] }
  ]
}
)json")
        << QStringLiteral("bad.json:8:65: workloads[0].keys[0]: invalid KV key: \".\" is not "
                          "allowed as a key name.");
    QTest::newRow("key of 513 bytes")
        << QByteArray(R"json({
  "name": "t",
  "locations": ["LHR", "SJC"],
  "rooms": [
    { "name": "lobby", "location": "LHR", "clients": [ { "location": "LHR", "count": 2 } ] }
  ],
  "workloads": [
    { "room": "lobby", "rate": 1, "mix": { "put": 1 }, "keys": ["KEY513"] }
  ]
}
)json").replace("KEY513", QByteArray(513, 'x'))
        << QStringLiteral("bad.json:8:65: workloads[0].keys[0]: invalid KV key: KV PUT failed: "
                          "414 UTF-8 encoded length of 513 exceeds key length limit of 512.");
    QTest::newRow("unknown metric")
        << QByteArray(R"json({
  "name": "t",
  "locations": ["LHR", "SJC"],
  "rooms": [
    { "name": "lobby", "location": "LHR", "clients": [ { "location": "LHR", "count": 2 } ] }
  ],
  "expect": [ { "metric": "kv.stale", "equals": 0 } ]
}
)json")
        << QStringLiteral("bad.json:7:27: expect[0].metric: unknown metric \"kv.stale\"; the "
                          "metrics are %METRICS%, rooms.lobby.peakPendingWrites");
    QTest::newRow("expectation without bound")
        << QByteArray(R"json({
  "name": "t",
  "locations": ["LHR", "SJC"],
  "rooms": [
    { "name": "lobby", "location": "LHR", "clients": [ { "location": "LHR", "count": 2 } ] }
  ],
  "expect": [ { "metric": "kv.reads" } ]
}
)json")
        << QStringLiteral("bad.json:7:15: expect[0]: give \"equals\", \"min\" or \"max\" for the "
                          "metric");
}

void TestScenario::malformed()
{
    QFETCH(QByteArray, json);
    QFETCH(QString, message);

    const Result<Scenario> parsed = Scenario::parse(json, QStringLiteral("bad.json"));
    QVERIFY(!parsed.ok());
    QCOMPARE(parsed.error().kind, Error::Kind::Error);
    const QString metrics = reportMetricNames().join(QStringLiteral(", "));
    message.replace(QStringLiteral("%METRICS%"), metrics);
    QCOMPARE(parsed.error().message, message);
}

void TestScenario::missingFile()
{
    QTemporaryDir directory;
    QVERIFY(directory.isValid());
    const QString path = directory.filePath(QStringLiteral("absent.json"));
    const Result<Scenario> loaded = Scenario::load(path);
    QVERIFY(!loaded.ok());
    QCOMPARE(loaded.error().message,
             path + QStringLiteral(": cannot open the scenario file: No such file or directory"));
}

void TestScenario::parseDuration_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<std::optional<qint64>>("expected"); // microseconds

    const std::optional<qint64> invalid;
    QTest::newRow("whole seconds") << QStringLiteral("12") << std::optional<qint64>(12'000'000);
    QTest::newRow("fractional seconds") << QStringLiteral("0.5") << std::optional<qint64>(500'000);
    QTest::newRow("zero") << QStringLiteral("0") << std::optional<qint64>(0);
    QTest::newRow("microseconds") << QStringLiteral("250us") << std::optional<qint64>(250);
    QTest::newRow("micro sign") << QStringLiteral("250\u00B5s") << std::optional<qint64>(250);
    QTest::newRow("milliseconds") << QStringLiteral("20ms") << std::optional<qint64>(20'000);
    QTest::newRow("seconds") << QStringLiteral("1.5s") << std::optional<qint64>(1'500'000);
    QTest::newRow("minutes as m") << QStringLiteral("2m") << std::optional<qint64>(120'000'000);
    QTest::newRow("minutes as min") << QStringLiteral("2min") << std::optional<qint64>(120'000'000);
    QTest::newRow("hours") << QStringLiteral("1h") << std::optional<qint64>(3'600'000'000);
    QTest::newRow("spaces around") << QStringLiteral(" 3 s ") << std::optional<qint64>(3'000'000);
    QTest::newRow("half a microsecond rounds up")
        << QStringLiteral("0.5us") << std::optional<qint64>(1);
    QTest::newRow("empty") << QString() << invalid;
    QTest::newRow("unknown unit") << QStringLiteral("5 parsecs") << invalid;
    QTest::newRow("negative") << QStringLiteral("-1s") << invalid;
    QTest::newRow("exponent") << QStringLiteral("1e3") << invalid;
    QTest::newRow("unit only") << QStringLiteral("s") << invalid;
    QTest::newRow("no digit before the point") << QStringLiteral(".5s") << invalid;
    QTest::newRow("no digit after the point") << QStringLiteral("1.s") << invalid;
    QTest::newRow("two units") << QStringLiteral("1h 2m") << invalid;
    QTest::newRow("upper-case unit") << QStringLiteral("5S") << invalid;
    QTest::newRow("too large") << QStringLiteral("9999999999999h") << invalid;
}

void TestScenario::parseDuration()
{
    QFETCH(QString, text);
    QFETCH(std::optional<qint64>, expected);

    const std::optional<SimDuration> parsed = roomscope::parseDuration(text);
    QCOMPARE(parsed, expected);
}

void TestScenario::parseInstant_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<std::optional<qint64>>("expected"); // microseconds since the epoch

    const std::optional<qint64> invalid;
    QTest::newRow("UTC") << QStringLiteral("2026-01-01T00:00:00Z")
                         << std::optional<qint64>(kJanuary2026);
    QTest::newRow("milliseconds") << QStringLiteral("2026-01-01T00:00:01.250Z")
                                  << std::optional<qint64>(kJanuary2026 + milliseconds(1250));
    QTest::newRow("offset") << QStringLiteral("2026-01-01T01:00:00+01:00")
                            << std::optional<qint64>(kJanuary2026);
    QTest::newRow("epoch") << QStringLiteral("1970-01-01T00:00:00Z") << std::optional<qint64>(0);
    QTest::newRow("no zone") << QStringLiteral("2026-01-01T00:00:00") << invalid;
    QTest::newRow("month 13") << QStringLiteral("2026-13-01T00:00:00Z") << invalid;
    QTest::newRow("words") << QStringLiteral("yesterday") << invalid;
    QTest::newRow("empty") << QString() << invalid;
}

void TestScenario::parseInstant()
{
    QFETCH(QString, text);
    QFETCH(std::optional<qint64>, expected);

    const std::optional<SimTime> parsed = roomscope::parseInstant(text);
    QCOMPARE(parsed, expected);
    if (parsed)
        QCOMPARE(roomscope::parseInstant(formatInstant(*parsed)), parsed);
}

void TestScenario::formatDuration_data()
{
    QTest::addColumn<qint64>("duration");
    QTest::addColumn<QString>("text");

    QTest::newRow("zero") << qint64(0) << QStringLiteral("0 \u00B5s");
    QTest::newRow("850 us") << qint64(850) << QStringLiteral("850 \u00B5s");
    QTest::newRow("1 ms") << milliseconds(1) << QStringLiteral("1.00 ms");
    QTest::newRow("12.5 ms") << qint64(12'500) << QStringLiteral("12.5 ms");
    QTest::newRow("3.2 s") << milliseconds(3200) << QStringLiteral("3.200 s");
    QTest::newRow("30 s") << seconds(30) << QStringLiteral("30.000 s");
    QTest::newRow("2 min 5 s") << seconds(125) << QStringLiteral("2 min 5 s");
    QTest::newRow("1 h") << seconds(3600) << QStringLiteral("1 h 0 min");
    QTest::newRow("just under 1 s") << qint64(999'999) << QStringLiteral("1.000 s");
    QTest::newRow("just under 10 ms") << qint64(9'999) << QStringLiteral("10.0 ms");
    QTest::newRow("just under 1 min") << qint64(59'999'999) << QStringLiteral("1 min 0 s");
    QTest::newRow("negative") << qint64(-1500) << QStringLiteral("-1.50 ms");
}

void TestScenario::formatDuration()
{
    QFETCH(qint64, duration);
    QFETCH(QString, text);

    QCOMPARE(roomscope::formatDuration(duration), text);
}

void TestScenario::formatJsonPath_data()
{
    QTest::addColumn<JsonPath>("path");
    QTest::addColumn<QString>("text");

    QTest::newRow("empty") << JsonPath {} << QStringLiteral("(top level)");
    QTest::newRow("member") << JsonPath { QStringLiteral("name") } << QStringLiteral("name");
    QTest::newRow("nested")
        << JsonPath { QStringLiteral("rooms"), 1, QStringLiteral("clients"), 0,
                      QStringLiteral("count") }
        << QStringLiteral("rooms[1].clients[0].count");
    QTest::newRow("index first") << JsonPath { 0 } << QStringLiteral("[0]");
}

void TestScenario::formatJsonPath()
{
    QFETCH(JsonPath, path);
    QFETCH(QString, text);

    QCOMPARE(roomscope::formatJsonPath(path), text);
}

void TestScenario::jsonLocator_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<JsonPath>("path");
    QTest::addColumn<qsizetype>("offset"); // bytes
    QTest::addColumn<int>("line");
    QTest::addColumn<int>("column"); // characters

    QTest::newRow("two-byte character before")
        << QStringLiteral("{\"a\": \"\u00E9\", \"b\": 1}").toUtf8()
        << JsonPath { QStringLiteral("b") } << qsizetype(17) << 1 << 17;
    QTest::newRow("four-byte character in a key")
        << QStringLiteral("{\"\U0001D655\": \"x\", \"b\": [10, 20]}").toUtf8()
        << JsonPath { QStringLiteral("b"), 1 } << qsizetype(24) << 1 << 22;
    QTest::newRow("four-byte key found by name")
        << QStringLiteral("{\"\U0001D655\": \"x\", \"b\": [10, 20]}").toUtf8()
        << JsonPath { QStringLiteral("\U0001D655") } << qsizetype(9) << 1 << 7;
    QTest::newRow("nested on later lines")
        << QStringLiteral("{\n  \"rooms\": [\n    {\"name\": \"\u00FC\"},\n    {\"name\": "
                          "\"b\"}\n  ]\n}")
               .toUtf8()
        << JsonPath { QStringLiteral("rooms"), 1, QStringLiteral("name") } << qsizetype(48) << 4
        << 14;
    QTest::newRow("escaped quote in a key")
        << QByteArray(R"json({"a\"b": 1, "c": 2})json") << JsonPath { QStringLiteral("c") }
        << qsizetype(17) << 1 << 18;
    QTest::newRow("escaped key") << QByteArray(R"json({"\u00e9": 1, "x": 2})json")
                                 << JsonPath { QStringLiteral("\u00E9") } << qsizetype(11) << 1
                                 << 12;
    QTest::newRow("brackets inside a string")
        << QByteArray(R"json({"a": "[{", "b": 3})json") << JsonPath { QStringLiteral("b") }
        << qsizetype(17) << 1 << 18;
    QTest::newRow("CRLF line ends") << QByteArray("{\r\n  \"a\": 1\r\n}")
                                    << JsonPath { QStringLiteral("a") } << qsizetype(10) << 2
                                    << 8;
    QTest::newRow("missing member gives the enclosing object")
        << QByteArray("  {\"a\": {\"b\": 1}}")
        << JsonPath { QStringLiteral("a"), QStringLiteral("zzz") } << qsizetype(8) << 1 << 9;
    QTest::newRow("index past the end gives the array")
        << QByteArray("{\"a\": [1, 2]}") << JsonPath { QStringLiteral("a"), 5 } << qsizetype(6)
        << 1 << 7;
    QTest::newRow("index into an object gives the object")
        << QByteArray("{\"a\": {\"b\": 1}}") << JsonPath { QStringLiteral("a"), 0 }
        << qsizetype(6) << 1 << 7;
    QTest::newRow("top level after blank lines") << QByteArray("\n\n  {}") << JsonPath {}
                                                 << qsizetype(4) << 3 << 3;
}

void TestScenario::jsonLocator()
{
    QFETCH(QByteArray, json);
    QFETCH(JsonPath, path);
    QFETCH(qsizetype, offset);
    QFETCH(int, line);
    QFETCH(int, column);

    const JsonLocator locator(json);
    QCOMPARE(locator.offsetOf(path), offset);
    const auto [foundLine, foundColumn] = locator.lineAndColumn(offset);
    QCOMPARE(foundLine, line);
    QCOMPARE(foundColumn, column);
}

void TestScenario::lineAndColumnPastEnd()
{
    const JsonLocator locator(QByteArray("{\n}"));
    const auto [line, column] = locator.lineAndColumn(100);
    QCOMPARE(line, 2);
    QCOMPARE(column, 2);
}

QTEST_GUILESS_MAIN(TestScenario)
#include "tst_scenario.moc"
