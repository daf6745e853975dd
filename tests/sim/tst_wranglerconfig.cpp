#include "wranglerconfig.h"

#include "durableobject.h"
#include "scenario.h"
#include "simtasks.h"
#include "worldrequests.h"
#include "testfiles.h"
#include "world.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
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

QString projectConfig()
{
    return sourcePath(QStringLiteral("tests/sim/wrangler-project/wrangler.jsonc"));
}

QString projectModule()
{
    return sourcePath(QStringLiteral("tests/sim/wrangler-project/worker.mjs"));
}

/// A temporary project folder for configuration files and the test Worker.
struct TempProject
{
    QTemporaryDir folder;

    QString path(const QString &name) const { return folder.filePath(name); }
    bool write(const QString &name, const QByteArray &content) const
    {
        return writeFile(path(name), content);
    }
    bool addWorker() const
    {
        return QFile::copy(projectModule(), path(QStringLiteral("worker.mjs")));
    }
};

} // namespace

class WranglerConfigTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void stripComments_data();
    void stripComments();
    void jsoncFields();
    void jsoncErrorNamesPosition_data();
    void jsoncErrorNamesPosition();
    void tomlFields();
    void tomlErrorNamesPosition_data();
    void tomlErrorNamesPosition();
    void storageBackend_data();
    void storageBackend();
    void exportsWithMigrationsRejected();
    void environmentSelected();
    void unknownEnvironmentRejected();
    void findFollowsWranglerOrder();
    void configPathsRecognised_data();
    void configPathsRecognised();
    void varsAndBindingsReachEnv();
    void sqliteMigrationAndNoKv();
    void moduleFindsConfig();
    void missingMainRejected();
    void absentMainRejected();
    void scriptNameRejected();
    void secondKvNamespaceRejected();
    void secondClassRejected();
    void classWithoutMigrationWarns();
    void flagsOverrideConfig();
    void typeScriptBundledWithEsbuild();
    void typeScriptWithoutEsbuildRejected();
    void cpuLimitStopsLoopSooner();
    void cpuLimitFromScenarioFile();
};

void WranglerConfigTest::stripComments_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QByteArray>("expected");

    QTest::newRow("line comment") << QByteArray("{\"a\": 1 // one\n}")
                                  << QByteArray("{\"a\": 1       \n}");
    QTest::newRow("block comment keeps line breaks")
        << QByteArray("{/* a\nb */\"a\": 1}") << QByteArray("{    \n    \"a\": 1}");
    QTest::newRow("markers inside a string")
        << QByteArray("{\"url\": \"http://x/*y*/\"}") << QByteArray("{\"url\": \"http://x/*y*/\"}");
    QTest::newRow("escaped quote in a string")
        << QByteArray("{\"a\": \"say \\\"//\\\" twice\"} // end")
        << QByteArray("{\"a\": \"say \\\"//\\\" twice\"}       ");
    QTest::newRow("trailing comma in an object")
        << QByteArray("{\"a\": 1,\n}") << QByteArray("{\"a\": 1 \n}");
    QTest::newRow("trailing comma in a list") << QByteArray("[1, 2, ]") << QByteArray("[1, 2  ]");
    QTest::newRow("comma before a comment and a bracket")
        << QByteArray("[1, // last\n]") << QByteArray("[1         \n]");
    QTest::newRow("comma inside a string stays")
        << QByteArray("[\"a,]\"]") << QByteArray("[\"a,]\"]");
    QTest::newRow("unterminated block comment")
        << QByteArray("{} /* open") << QByteArray("{}        ");
}

void WranglerConfigTest::stripComments()
{
    QFETCH(QByteArray, input);
    QFETCH(QByteArray, expected);
    QCOMPARE(stripJsonComments(input), expected);
}

void WranglerConfigTest::jsoncFields()
{
    const Result<WranglerConfig> config = WranglerConfig::load(projectConfig());
    QVERIFY2(config.ok(), config.ok() ? "" : qPrintable(config.error().message));

    QCOMPARE(config->path, projectConfig());
    QCOMPARE(config->name, QStringLiteral("counter-worker"));
    QCOMPARE(config->main, QStringLiteral("worker.mjs"));
    QCOMPARE(config->compatibilityDate, QStringLiteral("2026-03-01"));
    QCOMPARE(config->compatibilityFlags, QStringList { QStringLiteral("nodejs_compat") });
    QCOMPARE(config->kvNamespaces.size(), size_t(1));
    QCOMPARE(config->kvNamespaces[0].binding, QStringLiteral("CACHE"));
    QCOMPARE(config->kvNamespaces[0].id, QStringLiteral("0f2ac74b498b48028cb68387c421e279"));
    QCOMPARE(config->kvNamespaces[0].previewId, QStringLiteral("preview-1"));
    QCOMPARE(config->durableObjectBindings.size(), size_t(2));
    QCOMPARE(config->durableObjectBindings[0].name, QStringLiteral("COUNTERS"));
    QCOMPARE(config->durableObjectBindings[0].className, QStringLiteral("Counter"));
    QCOMPARE(config->durableObjectBindings[0].scriptName, QString());
    QCOMPARE(config->durableObjectBindings[1].name, QStringLiteral("SAME_COUNTERS"));
    QCOMPARE(config->migrations.size(), size_t(1));
    QCOMPARE(config->migrations[0].tag, QStringLiteral("v1"));
    QCOMPARE(config->migrations[0].newClasses, QStringList { QStringLiteral("Counter") });
    QCOMPARE(config->vars.size(), size_t(4));
    QCOMPARE(config->vars[0].first, QStringLiteral("DEBUG"));
    QCOMPARE(config->vars[0].second, QJsonValue(true));
    QCOMPARE(config->vars[1].first, QStringLiteral("GREETING"));
    QCOMPARE(config->vars[1].second,
             QJsonValue(QStringLiteral("hello // not a comment /* nor this */")));
    QCOMPARE(config->vars[2].second, QJsonValue(3));
    QCOMPARE(config->environments, QStringList());
}

void WranglerConfigTest::jsoncErrorNamesPosition_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QString>("expected");

    QTest::newRow("missing binding")
        << QByteArray("// comment\n{\n  \"kv_namespaces\": [\n    { \"id\": \"x\" },\n  ],\n}\n")
        << QStringLiteral("wrangler.jsonc:4:5: kv_namespaces[0]: missing field \"binding\" "
                          "(a string)");
    QTest::newRow("class name of the wrong type")
        << QByteArray("{\n  \"durable_objects\": { \"bindings\": [\n"
                      "    { \"name\": \"ROOMS\", \"class_name\": 7 }\n  ] }\n}\n")
        << QStringLiteral("wrangler.jsonc:3:38: durable_objects.bindings[0].class_name: "
                          "expected a non-empty string, found 7");
    QTest::newRow("invalid date")
        << QByteArray("{ /* c */ \"compatibility_date\": \"soon\" }")
        << QStringLiteral("wrangler.jsonc:1:33: compatibility_date: expected a date such as "
                          "\"2026-01-01\", found \"soon\"");
    QTest::newRow("unknown storage in exports")
        << QByteArray("{\n  \"exports\": {\n    \"Room\": { \"type\": \"durable-object\", "
                      "\"storage\": \"disk\" }\n  }\n}\n")
        << QStringLiteral("wrangler.jsonc:3:52: exports.Room.storage: expected \"sqlite\" or "
                          "\"legacy-kv\", found \"disk\"");
    QTest::newRow("syntax error after a comment")
        << QByteArray("{\n  // the name\n  \"name\": \"w\" \"main\": \"x\"\n}\n")
        << QStringLiteral("wrangler.jsonc:3:16: invalid JSON: unterminated object");
}

void WranglerConfigTest::jsoncErrorNamesPosition()
{
    QFETCH(QByteArray, text);
    QFETCH(QString, expected);
    const Result<WranglerConfig> config =
            WranglerConfig::parseJsonc(text, QStringLiteral("wrangler.jsonc"));
    QVERIFY(!config.ok());
    QCOMPARE(config.error().message, expected);
}

void WranglerConfigTest::tomlFields()
{
    const QByteArray text = "name = \"toml-worker\"\n"
                            "main = \"src/worker.js\"\n"
                            "compatibility_date = \"2026-02-01\"\n"
                            "compatibility_flags = [\"nodejs_compat\"]\n"
                            "\n"
                            "[[kv_namespaces]]\n"
                            "binding = \"KV\"\n"
                            "id = \"abc\"\n"
                            "\n"
                            "[[durable_objects.bindings]]\n"
                            "name = \"ROOMS\"\n"
                            "class_name = \"Room\"\n"
                            "\n"
                            "[[migrations]]\n"
                            "tag = \"v1\"\n"
                            "new_sqlite_classes = [\"Room\"]\n"
                            "\n"
                            "[[migrations]]\n"
                            "tag = \"v2\"\n"
                            "renamed_classes = [{ from = \"Room\", to = \"Chat\" }]\n"
                            "deleted_classes = [\"Old\"]\n"
                            "\n"
                            "[vars]\n"
                            "GREETING = \"hi\"\n"
                            "COUNT = 2\n"
                            "LIMITS = { max = 5 }\n";
    const Result<WranglerConfig> config =
            WranglerConfig::parseToml(text, QStringLiteral("wrangler.toml"));
    QVERIFY2(config.ok(), config.ok() ? "" : qPrintable(config.error().message));

    QCOMPARE(config->name, QStringLiteral("toml-worker"));
    QCOMPARE(config->main, QStringLiteral("src/worker.js"));
    QCOMPARE(config->compatibilityDate, QStringLiteral("2026-02-01"));
    QCOMPARE(config->compatibilityFlags, QStringList { QStringLiteral("nodejs_compat") });
    QCOMPARE(config->kvNamespaces.size(), size_t(1));
    QCOMPARE(config->kvNamespaces[0].binding, QStringLiteral("KV"));
    QCOMPARE(config->kvNamespaces[0].id, QStringLiteral("abc"));
    QCOMPARE(config->durableObjectBindings.size(), size_t(1));
    QCOMPARE(config->durableObjectBindings[0].className, QStringLiteral("Room"));
    QCOMPARE(config->migrations.size(), size_t(2));
    QCOMPARE(config->migrations[1].renamedClasses.size(), size_t(1));
    QCOMPARE(config->migrations[1].renamedClasses[0].first, QStringLiteral("Room"));
    QCOMPARE(config->migrations[1].renamedClasses[0].second, QStringLiteral("Chat"));
    QCOMPARE(config->migrations[1].deletedClasses, QStringList { QStringLiteral("Old") });
    QCOMPARE(config->storageBackend(QStringLiteral("Chat")), std::optional(StorageBackend::Sqlite));
    QCOMPARE(config->vars.size(), size_t(3));
    QCOMPARE(config->vars[0].first, QStringLiteral("COUNT"));
    QCOMPARE(config->vars[0].second, QJsonValue(2));
    QCOMPARE(config->vars[2].first, QStringLiteral("LIMITS"));
    QCOMPARE(config->vars[2].second, QJsonValue(QJsonObject { { QStringLiteral("max"), 5 } }));
}

void WranglerConfigTest::tomlErrorNamesPosition_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QString>("expected");

    QTest::newRow("missing class name")
        << QByteArray("name = \"w\"\n\n[[durable_objects.bindings]]\nname = \"ROOMS\"\n")
        << QStringLiteral("wrangler.toml:3:1: durable_objects.bindings[0]: missing field "
                          "\"class_name\" (a string)");
    QTest::newRow("main of the wrong type")
        << QByteArray("name = \"w\"\nmain = 5\n")
        << QStringLiteral("wrangler.toml:2:8: main: expected a non-empty string, found 5");
    QTest::newRow("unquoted date accepted, invalid flags rejected")
        << QByteArray("compatibility_date = 2026-01-01\ncompatibility_flags = [1]\n")
        << QStringLiteral("wrangler.toml:2:24: compatibility_flags[0]: expected a non-empty "
                          "string, found 1");
}

void WranglerConfigTest::tomlErrorNamesPosition()
{
    QFETCH(QByteArray, text);
    QFETCH(QString, expected);
    const Result<WranglerConfig> config =
            WranglerConfig::parseToml(text, QStringLiteral("wrangler.toml"));
    QVERIFY(!config.ok());
    QCOMPARE(config.error().message, expected);
}

void WranglerConfigTest::storageBackend_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("className");
    QTest::addColumn<int>("expected"); // -1 none, 0 SQLite, 1 key-value

    QTest::newRow("new_classes") << QByteArray(R"({"migrations": [{"tag": "v1", "new_classes": ["Room"]}]})")
                                 << QStringLiteral("Room") << 1;
    QTest::newRow("new_sqlite_classes")
        << QByteArray(R"({"migrations": [{"tag": "v1", "new_sqlite_classes": ["Room"]}]})")
        << QStringLiteral("Room") << 0;
    QTest::newRow("renamed class keeps key-value")
        << QByteArray(R"({"migrations": [{"tag": "v1", "new_classes": ["Room"]},
                         {"tag": "v2", "renamed_classes": [{"from": "Room", "to": "Chat"}]}]})")
        << QStringLiteral("Chat") << 1;
    QTest::newRow("old name after a rename")
        << QByteArray(R"({"migrations": [{"tag": "v1", "new_classes": ["Room"]},
                         {"tag": "v2", "renamed_classes": [{"from": "Room", "to": "Chat"}]}]})")
        << QStringLiteral("Room") << -1;
    QTest::newRow("deleted class")
        << QByteArray(R"({"migrations": [{"tag": "v1", "new_sqlite_classes": ["Room"]},
                         {"tag": "v2", "deleted_classes": ["Room"]}]})")
        << QStringLiteral("Room") << -1;
    QTest::newRow("no migration") << QByteArray("{}") << QStringLiteral("Room") << -1;
    QTest::newRow("exports sqlite")
        << QByteArray(R"({"exports": {"Room": {"type": "durable-object", "storage": "sqlite"}}})")
        << QStringLiteral("Room") << 0;
    QTest::newRow("exports legacy-kv")
        << QByteArray(R"({"exports": {"Room": {"type": "durable-object", "storage": "legacy-kv"}}})")
        << QStringLiteral("Room") << 1;
    QTest::newRow("exports deleted")
        << QByteArray(R"({"exports": {"Room": {"type": "durable-object", "state": "deleted"}}})")
        << QStringLiteral("Room") << -1;
}

void WranglerConfigTest::storageBackend()
{
    QFETCH(QByteArray, json);
    QFETCH(QString, className);
    QFETCH(int, expected);
    const Result<WranglerConfig> config = WranglerConfig::parseJsonc(json, QStringLiteral("w.json"));
    QVERIFY2(config.ok(), config.ok() ? "" : qPrintable(config.error().message));
    const std::optional<StorageBackend> backend = config->storageBackend(className);
    QCOMPARE(backend.has_value(), expected >= 0);
    if (backend)
        QCOMPARE(*backend, expected == 0 ? StorageBackend::Sqlite : StorageBackend::KeyValue);
}

void WranglerConfigTest::exportsWithMigrationsRejected()
{
    const QByteArray text = "{\n  \"migrations\": [{ \"tag\": \"v1\", \"new_sqlite_classes\": "
                            "[\"Room\"] }],\n  \"exports\": { \"Room\": { \"type\": "
                            "\"durable-object\" } }\n}\n";
    const Result<WranglerConfig> config =
            WranglerConfig::parseJsonc(text, QStringLiteral("wrangler.jsonc"));
    QVERIFY(!config.ok());
    QCOMPARE(config.error().message,
             QStringLiteral("wrangler.jsonc:3:14: exports: \"exports\" and \"migrations\" cannot "
                            "be combined: declare the Durable Object classes in one of them and "
                            "remove the other"));
}

void WranglerConfigTest::environmentSelected()
{
    const QByteArray text = R"({
  "name": "app",
  "main": "worker.mjs",
  "vars": { "STAGE": "top" },
  "kv_namespaces": [{ "binding": "CACHE", "id": "a" }],
  "env": {
    "staging": { "vars": { "STAGE": "staging" }, "compatibility_date": "2026-02-02" },
    "production": { "name": "app-live" }
  }
})";
    const Result<WranglerConfig> top = WranglerConfig::parseJsonc(text, QStringLiteral("w.jsonc"));
    QVERIFY(top.ok());
    QCOMPARE(top->environments, (QStringList { QStringLiteral("production"), QStringLiteral("staging") }));
    QCOMPARE(top->vars.at(0).second, QJsonValue(QStringLiteral("top")));

    const Result<WranglerConfig> staging =
            WranglerConfig::parseJsonc(text, QStringLiteral("w.jsonc"), QStringLiteral("staging"));
    QVERIFY2(staging.ok(), staging.ok() ? "" : qPrintable(staging.error().message));
    QCOMPARE(staging->environment, QStringLiteral("staging"));
    QCOMPARE(staging->name, QStringLiteral("app-staging"));
    QCOMPARE(staging->main, QStringLiteral("worker.mjs"));
    QCOMPARE(staging->compatibilityDate, QStringLiteral("2026-02-02"));
    QCOMPARE(staging->vars.at(0).second, QJsonValue(QStringLiteral("staging")));
    // Bindings are not inherited: the section declares no KV namespace.
    QCOMPARE(staging->kvNamespaces.size(), size_t(0));

    const Result<WranglerConfig> production = WranglerConfig::parseJsonc(
            text, QStringLiteral("w.jsonc"), QStringLiteral("production"));
    QVERIFY(production.ok());
    QCOMPARE(production->name, QStringLiteral("app-live"));
    QCOMPARE(production->vars.size(), size_t(0));
}

void WranglerConfigTest::unknownEnvironmentRejected()
{
    const Result<WranglerConfig> config = WranglerConfig::load(projectConfig(), QStringLiteral("qa"));
    QVERIFY(!config.ok());
    QCOMPARE(config.error().message,
             projectConfig() + QStringLiteral(": no environment \"qa\" (env.qa); the file "
                                              "declares no environments."));
}

void WranglerConfigTest::findFollowsWranglerOrder()
{
    TempProject project;
    QVERIFY(project.write(QStringLiteral("wrangler.json"), "{}"));
    QVERIFY(project.write(QStringLiteral("a/wrangler.jsonc"), "{}"));
    QVERIFY(project.write(QStringLiteral("a/b/wrangler.toml"), ""));
    const QString start = project.path(QStringLiteral("a/b"));

    // Each name is searched up to the root before the next name.
    QCOMPARE(WranglerConfig::find(start), project.path(QStringLiteral("wrangler.json")));
    QVERIFY(QFile::remove(project.path(QStringLiteral("wrangler.json"))));
    QCOMPARE(WranglerConfig::find(start), project.path(QStringLiteral("a/wrangler.jsonc")));
    QVERIFY(QFile::remove(project.path(QStringLiteral("a/wrangler.jsonc"))));
    QCOMPARE(WranglerConfig::find(start), project.path(QStringLiteral("a/b/wrangler.toml")));
    QVERIFY(QFile::remove(project.path(QStringLiteral("a/b/wrangler.toml"))));
    QCOMPARE(WranglerConfig::find(start), QString());
}

void WranglerConfigTest::configPathsRecognised_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<bool>("expected");
    QTest::newRow("wrangler.jsonc") << QStringLiteral("a/wrangler.jsonc") << true;
    QTest::newRow("wrangler.json") << QStringLiteral("wrangler.json") << true;
    QTest::newRow("wrangler.toml") << QStringLiteral("/x/wrangler.toml") << true;
    QTest::newRow("wrangler.staging.json") << QStringLiteral("wrangler.staging.json") << true;
    QTest::newRow("scenario json") << QStringLiteral("kv-room.json") << false;
    QTest::newRow("module") << QStringLiteral("worker.mjs") << false;
}

void WranglerConfigTest::configPathsRecognised()
{
    QFETCH(QString, path);
    QFETCH(bool, expected);
    QCOMPARE(WranglerConfig::isConfigPath(path), expected);
}

void WranglerConfigTest::varsAndBindingsReachEnv()
{
    const std::unique_ptr<World> world = createWorld(Scenario::forPath(projectConfig()));
    const Scenario &scenario = world->scenario();
    QCOMPARE(scenario.name, QStringLiteral("counter-worker"));
    QCOMPARE(scenario.kvBinding, QStringLiteral("CACHE"));
    QCOMPARE(scenario.roomsBinding, QStringLiteral("COUNTERS"));
    QCOMPARE(scenario.roomClassName, QStringLiteral("Counter"));
    QCOMPARE(scenario.extraRoomsBindings, QStringList { QStringLiteral("SAME_COUNTERS") });
    QCOMPARE(scenario.sqliteStorage, false);
    QCOMPARE(scenario.durableObjects.compatibilityDate, QDate(2026, 3, 1));
    QCOMPARE(scenario.durableObjectProfile, QStringLiteral("local"));
    QCOMPARE(scenario.loadMessages,
             QStringList { QStringLiteral("Using the configuration ") + projectConfig() });

    const HttpResponse env = get(*world, QStringLiteral("/env"));
    QCOMPARE(env.status, 200);
    QCOMPARE(env.body,
             QByteArray("{\"greeting\":\"hello // not a comment /* nor this */\",\"limit\":3,"
                        "\"debug\":true,\"nested\":{\"level\":\"deep\",\"list\":[1,2]},"
                        "\"kv\":\"object\",\"counters\":\"object\",\"sameCounters\":\"object\"}"));
    QCOMPARE(get(*world, QStringLiteral("/kv")).body, QByteArray("stored"));
    QCOMPARE(get(*world, QStringLiteral("/count")).body, QByteArray("1"));
    QCOMPARE(get(*world, QStringLiteral("/count")).body, QByteArray("2"));
}

void WranglerConfigTest::sqliteMigrationAndNoKv()
{
    TempProject project;
    QVERIFY(project.addWorker());
    QVERIFY(project.write(QStringLiteral("wrangler.json"), R"({
  "main": "worker.mjs",
  "durable_objects": { "bindings": [{ "name": "COUNTERS", "class_name": "Counter" }] },
  "migrations": [{ "tag": "v1", "new_sqlite_classes": ["Counter"] }]
})"));
    const std::unique_ptr<World> world =
            createWorld(Scenario::forPath(project.path(QStringLiteral("wrangler.json"))));
    QCOMPARE(world->scenario().sqliteStorage, true);
    QCOMPARE(world->scenario().workerBindsKv, false);
    QCOMPARE(get(*world, QStringLiteral("/count")).body, QByteArray("1"));
    QCOMPARE(get(*world, QStringLiteral("/env")).body,
             QByteArray("{\"kv\":\"undefined\",\"counters\":\"object\",\"sameCounters\":\"undefined\"}"));
}

void WranglerConfigTest::moduleFindsConfig()
{
    const Result<Scenario> scenario = Scenario::forPath(projectModule());
    QVERIFY2(scenario.ok(), scenario.ok() ? "" : qPrintable(scenario.error().message));
    QCOMPARE(scenario->workerModule, projectModule());
    QCOMPARE(scenario->kvBinding, QStringLiteral("CACHE"));
    QCOMPARE(scenario->loadMessages.value(0),
             QStringLiteral("Using the configuration ") + projectConfig());
}

void WranglerConfigTest::missingMainRejected()
{
    TempProject project;
    QVERIFY(project.write(QStringLiteral("wrangler.jsonc"), "{ \"main\": \"src/index.ts\" }"));
    const QString config = project.path(QStringLiteral("wrangler.jsonc"));
    const Result<Scenario> scenario = Scenario::forPath(config);
    QVERIFY(!scenario.ok());
    QCOMPARE(scenario.error().message,
             config + QStringLiteral(": \"main\" points to src/index.ts, which does not exist. "
                                     "Give the module path instead: roomscope run (or serve) "
                                     "path/to/worker.js --config wrangler.jsonc"));
}

void WranglerConfigTest::absentMainRejected()
{
    TempProject project;
    QVERIFY(project.write(QStringLiteral("wrangler.toml"), "name = \"w\"\n"));
    const QString config = project.path(QStringLiteral("wrangler.toml"));
    const Result<Scenario> scenario = Scenario::forPath(config);
    QVERIFY(!scenario.ok());
    QCOMPARE(scenario.error().message,
             config + QStringLiteral(": \"main\" is missing, so the Worker has no entry module. "
                                     "Add \"main\": \"src/index.js\" to the file, or give the "
                                     "module path: roomscope run (or serve) path/to/worker.js --config "
                                     "wrangler.toml"));
}

void WranglerConfigTest::scriptNameRejected()
{
    TempProject project;
    QVERIFY(project.addWorker());
    QVERIFY(project.write(QStringLiteral("wrangler.jsonc"), R"({
  "main": "worker.mjs",
  "durable_objects": { "bindings": [
    { "name": "COUNTERS", "class_name": "Counter" },
    { "name": "REMOTE", "class_name": "Counter", "script_name": "other-worker" }
  ] }
})"));
    const QString config = project.path(QStringLiteral("wrangler.jsonc"));
    const Result<Scenario> scenario = Scenario::forPath(config);
    QVERIFY(!scenario.ok());
    QCOMPARE(scenario.error().message,
             config + QStringLiteral(": durable_objects.bindings[1] (REMOTE) binds class Counter "
                                     "of the Worker \"other-worker\" (script_name), but Roomscope "
                                     "runs one Worker, so it can only bind classes that this "
                                     "Worker exports. Remove the binding, or serve that Worker "
                                     "on its own."));
}

void WranglerConfigTest::secondKvNamespaceRejected()
{
    TempProject project;
    QVERIFY(project.addWorker());
    QVERIFY(project.write(QStringLiteral("wrangler.jsonc"), R"({
  "main": "worker.mjs",
  "kv_namespaces": [{ "binding": "CACHE", "id": "a" }, { "binding": "USERS", "id": "b" }]
})"));
    const QString config = project.path(QStringLiteral("wrangler.jsonc"));
    const Result<Scenario> rejected = Scenario::forPath(config);
    QVERIFY(!rejected.ok());
    QCOMPARE(rejected.error().message,
             config + QStringLiteral(": kv_namespaces declares 2 namespaces (CACHE, USERS), and "
                                     "Roomscope simulates one KV namespace per Worker. Keep one "
                                     "in the file, or choose one with --kv BINDING."));

    WorkerOptions options;
    options.kvBinding = QStringLiteral("USERS");
    const Result<Scenario> chosen = Scenario::forPath(config, options);
    QVERIFY2(chosen.ok(), chosen.ok() ? "" : qPrintable(chosen.error().message));
    QCOMPARE(chosen->kvBinding, QStringLiteral("USERS"));
}

void WranglerConfigTest::secondClassRejected()
{
    TempProject project;
    QVERIFY(project.addWorker());
    QVERIFY(project.write(QStringLiteral("wrangler.jsonc"), R"({
  "main": "worker.mjs",
  "durable_objects": { "bindings": [
    { "name": "COUNTERS", "class_name": "Counter" },
    { "name": "CHATS", "class_name": "Chat" }
  ] }
})"));
    const QString config = project.path(QStringLiteral("wrangler.jsonc"));
    const Result<Scenario> scenario = Scenario::forPath(config);
    QVERIFY(!scenario.ok());
    QCOMPARE(scenario.error().message,
             config + QStringLiteral(": durable_objects.bindings binds 2 classes (COUNTERS → "
                                     "Counter, CHATS → Chat), and Roomscope simulates one "
                                     "Durable Object class per Worker. Keep the bindings of one "
                                     "class, or choose one with --do BINDING=Class."));
}

void WranglerConfigTest::classWithoutMigrationWarns()
{
    TempProject project;
    QVERIFY(project.addWorker());
    QVERIFY(project.write(QStringLiteral("wrangler.json"), R"({
  "main": "worker.mjs",
  "durable_objects": { "bindings": [{ "name": "COUNTERS", "class_name": "Counter" }] }
})"));
    const Result<Scenario> scenario =
            Scenario::forPath(project.path(QStringLiteral("worker.mjs")));
    QVERIFY2(scenario.ok(), scenario.ok() ? "" : qPrintable(scenario.error().message));
    QCOMPARE(scenario->sqliteStorage, true);
    QCOMPARE(scenario->loadMessages,
             (QStringList {
                     QStringLiteral("Using the configuration ")
                             + project.path(QStringLiteral("wrangler.json")),
                     QStringLiteral("Warning: wrangler.json declares no migration for the Durable "
                                    "Object class Counter, so Roomscope gives it SQLite storage, "
                                    "as new_sqlite_classes does. wrangler dev runs the class "
                                    "anyway, but deploying it needs a migration: add "
                                    "\"migrations\": [{ \"tag\": \"v1\", \"new_sqlite_classes\": "
                                    "[\"Counter\"] }] to the file.") }));
}

void WranglerConfigTest::flagsOverrideConfig()
{
    WorkerOptions options;
    options.configPath = projectConfig();
    options.kvBinding = QStringLiteral("STORE");
    options.objectsBinding = QStringLiteral("ROOMS=Counter");
    options.sqliteClass = true;
    options.cpuLimitMs = 250;
    const Result<Scenario> scenario = Scenario::forPath(projectModule(), options);
    QVERIFY2(scenario.ok(), scenario.ok() ? "" : qPrintable(scenario.error().message));
    QCOMPARE(scenario->kvBinding, QStringLiteral("STORE"));
    QCOMPARE(scenario->roomsBinding, QStringLiteral("ROOMS"));
    QCOMPARE(scenario->roomClassName, QStringLiteral("Counter"));
    QCOMPARE(scenario->extraRoomsBindings, QStringList());
    QCOMPARE(scenario->sqliteStorage, true);
    QCOMPARE(scenario->workerCpuLimitMs, 250);
    // The vars still come from the configuration.
    QCOMPARE(scenario->workerVars.size(), size_t(4));

    // A binding flag without --config turns the search off.
    WorkerOptions flagsOnly;
    flagsOnly.kvBinding = QStringLiteral("STORE");
    const Result<Scenario> alone = Scenario::forPath(projectModule(), flagsOnly);
    QVERIFY(alone.ok());
    QCOMPARE(alone->loadMessages, QStringList());
    QCOMPARE(alone->roomsBinding, QStringLiteral("ROOMS"));
    QCOMPARE(alone->roomClassName, QStringLiteral("Room"));
}

void WranglerConfigTest::typeScriptBundledWithEsbuild()
{
    const QString esbuild = QStringLiteral("/usr/bin/esbuild");
    if (!QFileInfo(esbuild).isExecutable())
        QSKIP("/usr/bin/esbuild is missing: install the esbuild package "
              "(packaging/install-deps.sh lists it)");
    TempProject project;
    const QString fixture = sourcePath(QStringLiteral("tests/sim/typescript-project/"));
    for (const QString &name : { QStringLiteral("wrangler.toml"), QStringLiteral("src/index.ts"),
                                 QStringLiteral("src/greeting.ts") })
        QVERIFY(project.write(name, readFile(fixture + name)));
    QVERIFY(QDir().mkpath(project.path(QStringLiteral("node_modules/.bin"))));
    QVERIFY(QFile::link(esbuild, project.path(QStringLiteral("node_modules/.bin/esbuild"))));

    Result<Scenario> scenario = Scenario::forPath(project.path(QStringLiteral("wrangler.toml")));
    QVERIFY2(scenario.ok(), scenario.ok() ? "" : qPrintable(scenario.error().message));
    QCOMPARE(scenario->workerEntry, project.path(QStringLiteral("src/index.ts")));
    QVERIFY(scenario->workerModule.endsWith(QLatin1String("/index.js")));
    QVERIFY(scenario->bundleFolder);
    QCOMPARE(scenario->workerBindsRooms, false);
    const QString bundleFolder = QFileInfo(scenario->workerModule).absolutePath();
    {
        const std::unique_ptr<World> world = createWorld(scenario);
        scenario = Error::error(QString());
        // The world's copy of the scenario keeps the bundle's folder.
        QVERIFY(QFileInfo::exists(bundleFolder));
        const HttpResponse response = get(*world, QStringLiteral("/ts"));
        QCOMPARE(response.status, 200);
        QCOMPARE(response.body, QByteArray("Hello TypeScript from /ts (25 characters)"));
        QCOMPARE(world->scenario().durableObjects.compatibilityDate, QDate(2026, 2, 1));
    }
    QVERIFY(!QFileInfo::exists(bundleFolder));
}

void WranglerConfigTest::typeScriptWithoutEsbuildRejected()
{
    TempProject project;
    QVERIFY(project.write(QStringLiteral("package.json"), "{}"));
    QVERIFY(project.write(QStringLiteral("src/index.ts"),
                          readFile(sourcePath(QStringLiteral("tests/sim/typescript-project/src/index.ts")))));
    const QString entry = project.path(QStringLiteral("src/index.ts"));
    WorkerOptions options;
    options.kvBinding = QStringLiteral("KV"); // no configuration search
    const Result<Scenario> scenario = Scenario::forPath(entry, options);
    QVERIFY(!scenario.ok());
    QCOMPARE(scenario.error().message,
             entry + QStringLiteral(" is TypeScript, which Roomscope bundles with the project's "
                                    "esbuild, but ") + project.path(QStringLiteral("src"))
                     + QStringLiteral(" has no node_modules/.bin/esbuild. Produce a JavaScript "
                                      "bundle with `npx wrangler deploy --dry-run --outdir dist`, "
                                      "then give the .js file in dist/ to Roomscope: roomscope "
                                      "serve dist/index.js"));
}

void WranglerConfigTest::cpuLimitStopsLoopSooner()
{
    TempProject project;
    QVERIFY(project.write(QStringLiteral("worker.mjs"),
                          "export default { fetch() { for (;;) {} } };\n"));
    WorkerOptions options;
    options.kvBinding = QStringLiteral("KV");
    options.cpuLimitMs = 100;
    Result<Scenario> scenario = Scenario::forPath(project.path(QStringLiteral("worker.mjs")), options);
    QVERIFY(scenario.ok());
    scenario.value().workerBindsRooms = false;
    const std::unique_ptr<World> world = createWorld(scenario);
    QElapsedTimer timer;
    timer.start();
    const HttpResponse response = get(*world, QStringLiteral("/"));
    const qint64 elapsedMs = timer.elapsed();
    QCOMPARE(response.status, 500);
    QCOMPARE(response.body, QByteArray("Error: Worker exceeded CPU time limit.\n"));
    // The default limit is 2000 ms; 100 ms stops the loop well before it.
    QVERIFY2(elapsedMs >= 100 && elapsedMs < 1500, qPrintable(QString::number(elapsedMs)));
}

void WranglerConfigTest::cpuLimitFromScenarioFile()
{
    const QByteArray json = R"({"name": "s", "locations": ["LHR"],
        "worker": {"module": "worker.mjs", "cpuLimitMs": 0}})";
    const Result<Scenario> off = Scenario::parse(json, QStringLiteral("s.json"));
    QVERIFY2(off.ok(), off.ok() ? "" : qPrintable(off.error().message));
    QCOMPARE(off->workerCpuLimitMs, 0);
    const Result<Scenario> fallback =
            Scenario::parse(R"({"name": "s", "locations": ["LHR"]})", QStringLiteral("s.json"));
    QCOMPARE(fallback->workerCpuLimitMs, 2000);
    const Result<Scenario> invalid = Scenario::parse(
            R"({"name": "s", "locations": ["LHR"], "worker": {"cpuLimitMs": -1}})",
            QStringLiteral("s.json"));
    QVERIFY(!invalid.ok());
    QCOMPARE(invalid.error().message,
             QStringLiteral("s.json:1:62: worker.cpuLimitMs: expected a whole number from 0 to "
                            "3600000, found -1"));
}

QTEST_GUILESS_MAIN(WranglerConfigTest)
#include "tst_wranglerconfig.moc"
