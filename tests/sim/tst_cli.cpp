#include "roomscopeprocess.h"
#include "testfiles.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

using roomscope::testing::kvRoomPath;
using roomscope::testing::ProcessResult;
using roomscope::testing::writeFile;

namespace {


/// A fixture under tests/sim, found through ROOMSCOPE_SOURCE_DIR.
QString fixturePath(const QString &relative)
{
    return qEnvironmentVariable("ROOMSCOPE_SOURCE_DIR") + QStringLiteral("/tests/sim/") + relative;
}

ProcessResult runRoomscope(const QStringList &arguments)
{
    return roomscope::testing::runRoomscope(QStringLiteral(ROOMSCOPE_BINARY), arguments);
}

// kv-room.json with its "expect" list replaced.
QByteArray kvRoomWithExpectations(const QJsonArray &expectations)
{
    QFile file(kvRoomPath());
    if (!file.open(QIODevice::ReadOnly))
        return {};
    QJsonObject root = QJsonDocument::fromJson(file.readAll()).object();
    root.insert(QStringLiteral("expect"), expectations);
    return QJsonDocument(root).toJson();
}

} // namespace

class TestCli : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void runTwiceSameReport();
    void otherSeedOtherReport();
    void jsonReport();
    void traceFileHasEveryEvent();
    void failingExpectationExitsOne();
    void invalidInputExitsTwo_data();
    void invalidInputExitsTwo();
    void wranglerConfigRuns();
    void moduleFindsConfigBeside();
    void configMissingMainExitsTwo();
    void invalidCpuLimitExitsTwo();
};

void TestCli::initTestCase()
{
    QVERIFY2(!qEnvironmentVariableIsEmpty("ROOMSCOPE_SOURCE_DIR"),
        "ROOMSCOPE_SOURCE_DIR is not set: run the test with ctest, or set it to the source "
        "tree");
}

void TestCli::runTwiceSameReport()
{
    const ProcessResult first = runRoomscope({ kvRoomPath() });
    const ProcessResult second = runRoomscope({ kvRoomPath() });

    QCOMPARE(first.exitCode, 0);
    QCOMPARE(second.exitCode, 0);
    QCOMPARE(first.standardError, QByteArray());
    QVERIFY(first.standardOutput.startsWith("Roomscope run of \"kv-room\", seed 1\n"));
    QVERIFY(first.standardOutput.endsWith("\nResult: passed\n"));
    QCOMPARE(second.standardOutput, first.standardOutput);
}

void TestCli::otherSeedOtherReport()
{
    const ProcessResult seed1
        = runRoomscope({ kvRoomPath(), QStringLiteral("--seed"), QStringLiteral("1") });
    const ProcessResult seed2
        = runRoomscope({ kvRoomPath(), QStringLiteral("--seed"), QStringLiteral("2") });

    QCOMPARE(seed1.exitCode, 0);
    QCOMPARE(seed2.exitCode, 0);
    QVERIFY(seed2.standardOutput.startsWith("Roomscope run of \"kv-room\", seed 2\n"));
    QVERIFY(seed1.standardOutput != seed2.standardOutput);

    static const QRegularExpression digest(QStringLiteral("trace digest ([0-9a-f]{16})"));
    const QRegularExpressionMatch match1 = digest.match(QString::fromUtf8(seed1.standardOutput));
    const QRegularExpressionMatch match2 = digest.match(QString::fromUtf8(seed2.standardOutput));
    QVERIFY(match1.hasMatch());
    QVERIFY(match2.hasMatch());
    QVERIFY(match1.captured(1) != match2.captured(1));
}

void TestCli::jsonReport()
{
    const ProcessResult text = runRoomscope({ kvRoomPath() });
    const ProcessResult json
        = runRoomscope({ kvRoomPath(), QStringLiteral("--report"), QStringLiteral("json") });
    QCOMPARE(json.exitCode, 0);

    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(json.standardOutput, &error);
    QCOMPARE(error.error, QJsonParseError::NoError);
    QVERIFY(document.isObject());
    const QJsonObject report = document.object();
    QCOMPARE(report.value(QStringLiteral("scenario")).toString(), QStringLiteral("kv-room"));
    QCOMPARE(report.value(QStringLiteral("seed")).toString(), QStringLiteral("1"));
    QCOMPARE(report.value(QStringLiteral("passed")).toBool(), true);
    const QJsonObject metrics = report.value(QStringLiteral("metrics")).toObject();
    QCOMPARE(metrics.value(QStringLiteral("ws.accepted")).toDouble(), 400.0);
    QCOMPARE(metrics.value(QStringLiteral("kv.writesRateLimited")).toDouble(), 0.0);
    // The text and JSON reports describe the same run.
    const QString digest = report.value(QStringLiteral("traceDigest")).toString();
    QCOMPARE(digest.size(), 16);
    QVERIFY(text.standardOutput.contains("trace digest " + digest.toLatin1() + '\n'));
}

void TestCli::traceFileHasEveryEvent()
{
    QTemporaryDir directory;
    QVERIFY(directory.isValid());
    const QString tracePath = directory.filePath(QStringLiteral("trace.jsonl"));

    const ProcessResult result = runRoomscope({ kvRoomPath(), QStringLiteral("--report"),
        QStringLiteral("json"), QStringLiteral("--trace"), tracePath });
    QCOMPARE(result.exitCode, 0);
    const QJsonObject report = QJsonDocument::fromJson(result.standardOutput).object();

    QFile trace(tracePath);
    QVERIFY(trace.open(QIODevice::ReadOnly));
    qint64 lines = 0;
    while (!trace.atEnd()) {
        const QByteArray line = trace.readLine();
        QVERIFY(line.endsWith('\n'));
        const QJsonObject event = QJsonDocument::fromJson(line).object();
        QCOMPARE(event.value(QStringLiteral("seq")).toDouble(), double(lines));
        ++lines;
    }
    QCOMPARE(double(lines), report.value(QStringLiteral("traceEvents")).toDouble());
}

void TestCli::failingExpectationExitsOne()
{
    QTemporaryDir directory;
    QVERIFY(directory.isValid());
    const QString path = directory.filePath(QStringLiteral("failing.json"));
    const QJsonArray expectations {
        QJsonObject { { QStringLiteral("metric"), QStringLiteral("ws.accepted") },
            { QStringLiteral("equals"), 399 } },
    };
    QVERIFY(writeFile(path, kvRoomWithExpectations(expectations)));

    const ProcessResult result = runRoomscope({ path });

    QCOMPARE(result.exitCode, 1);
    QCOMPARE(result.standardError, QByteArray());
    QVERIFY(result.standardOutput.contains("\n  FAIL  ws.accepted == 399 (actual 400)\n"));
    QVERIFY(result.standardOutput.endsWith("\nResult: FAILED; reproduce with --seed 1\n"));

    const ProcessResult shortened = runRoomscope({ path, QStringLiteral("--seed"),
                                                   QStringLiteral("3"), QStringLiteral("--duration"),
                                                   QStringLiteral("10s") });
    QCOMPARE(shortened.exitCode, 1);
    QVERIFY(shortened.standardOutput.endsWith(
        "\nResult: FAILED; reproduce with --seed 3 --duration 10s\n"));
}

void TestCli::invalidInputExitsTwo_data()
{
    QTest::addColumn<QByteArray>("scenario"); // written to a file named scenario.json
    QTest::addColumn<QStringList>("options");
    QTest::addColumn<QString>("expectedError"); // a pattern; FILE stands for the file's path

    // "soon" starts at line 4, column 15.
    QTest::newRow("invalid duration")
        << QByteArray("{\n  \"name\": \"broken\",\n  \"locations\": [\"LHR\"],\n"
                      "  \"duration\": \"soon\"\n}\n")
        << QStringList()
        << QStringLiteral("^roomscope run: FILE:4:15: duration: expected a duration of at "
                          "least .*, found \"soon\"\n$");
    QTest::newRow("JSON syntax error")
        << QByteArray("{\n  \"name\": \"broken\",\n  \"seed\": ,\n}\n") << QStringList()
        << QStringLiteral("^roomscope run: FILE:3:\\d+: invalid JSON: .+\n$");
    QTest::newRow("missing file") << QByteArray() << QStringList()
                                  << QStringLiteral("^roomscope run: FILE\\.missing: cannot open "
                                                    "the scenario file: .+\n$");
    QTest::newRow("invalid seed option")
        << QByteArray() << QStringList { QStringLiteral("--seed"), QStringLiteral("many") }
        << QStringLiteral("^roomscope run: invalid --seed \"many\"; .+\n$");
    QTest::newRow("invalid report option")
        << QByteArray() << QStringList { QStringLiteral("--report"), QStringLiteral("xml") }
        << QStringLiteral("^roomscope run: invalid --report \"xml\"; give text or json\n$");
}

void TestCli::invalidInputExitsTwo()
{
    QFETCH(QByteArray, scenario);
    QFETCH(QStringList, options);
    QFETCH(QString, expectedError);

    QTemporaryDir directory;
    QVERIFY(directory.isValid());
    QString path = directory.filePath(QStringLiteral("scenario.json"));
    if (!scenario.isEmpty())
        QVERIFY(writeFile(path, scenario));
    else if (options.isEmpty())
        path += QStringLiteral(".missing");
    else
        path = kvRoomPath();

    const ProcessResult result = runRoomscope(QStringList { path } + options);

    QCOMPARE(result.exitCode, 2);
    QCOMPARE(result.standardOutput, QByteArray());
    QString pattern = expectedError;
    const QString filePattern = QRegularExpression::escape(
        options.isEmpty() ? directory.filePath(QStringLiteral("scenario.json")) : kvRoomPath());
    pattern.replace(QStringLiteral("FILE"), filePattern);
    const QString error = QString::fromUtf8(result.standardError);
    QVERIFY2(QRegularExpression(pattern).match(error).hasMatch(), qPrintable(error));
}

void TestCli::wranglerConfigRuns()
{
    const QString config = fixturePath(QStringLiteral("wrangler-project/wrangler.jsonc"));
    const ProcessResult result = runRoomscope({ config });

    QCOMPARE(result.exitCode, 0);
    QCOMPARE(result.standardError,
             QStringLiteral("roomscope run: Using the configuration %1\n").arg(config).toUtf8());
    QVERIFY(result.standardOutput.startsWith("Roomscope run of \"counter-worker\", seed 1\n"));
    QVERIFY2(result.standardOutput.contains(
                     "  objects        class Counter (JavaScript, worker.mjs, KV storage), local "
                     "profile, compatibility date 2026-03-01\n"),
             result.standardOutput.constData());
}

void TestCli::moduleFindsConfigBeside()
{
    const QString module = fixturePath(QStringLiteral("wrangler-project/worker.mjs"));
    const QString config = fixturePath(QStringLiteral("wrangler-project/wrangler.jsonc"));

    const ProcessResult found = runRoomscope({ module });
    QCOMPARE(found.exitCode, 0);
    QCOMPARE(found.standardError,
             QStringLiteral("roomscope run: Using the configuration %1\n").arg(config).toUtf8());

    // A binding flag turns the search off, and --sqlite-class overrides the migration.
    const ProcessResult flagged = runRoomscope(
            { module, QStringLiteral("--do"), QStringLiteral("COUNTERS=Counter"),
              QStringLiteral("--sqlite-class"), QStringLiteral("Counter") });
    QCOMPARE(flagged.exitCode, 0);
    QCOMPARE(flagged.standardError, QByteArray());
    QVERIFY(flagged.standardOutput.contains("class Counter (JavaScript, worker.mjs, SQLite storage)"));

    const ProcessResult configured = runRoomscope(
            { module, QStringLiteral("--config"), config, QStringLiteral("--sqlite-class"),
              QStringLiteral("Counter") });
    QCOMPARE(configured.exitCode, 0);
    QVERIFY(configured.standardOutput.contains("SQLite storage), local profile, compatibility "
                                               "date 2026-03-01"));
}

void TestCli::configMissingMainExitsTwo()
{
    QTemporaryDir directory;
    QVERIFY(directory.isValid());
    const QString config = directory.filePath(QStringLiteral("wrangler.jsonc"));
    QVERIFY(writeFile(config, "{\n  // no such entry\n  \"main\": \"src/index.ts\",\n}\n"));

    const ProcessResult result = runRoomscope({ config });

    QCOMPARE(result.exitCode, 2);
    QCOMPARE(result.standardOutput, QByteArray());
    QCOMPARE(QString::fromUtf8(result.standardError),
             QStringLiteral("roomscope run: %1: \"main\" points to src/index.ts, which does not "
                            "exist. Give the module path instead: roomscope run (or serve) "
                            "path/to/worker.js --config wrangler.jsonc\n").arg(config));
}

void TestCli::invalidCpuLimitExitsTwo()
{
    const ProcessResult result = runRoomscope(
            { kvRoomPath(), QStringLiteral("--cpu-limit"), QStringLiteral("fast") });

    QCOMPARE(result.exitCode, 2);
    QCOMPARE(result.standardError,
             QByteArray("roomscope run: invalid --cpu-limit \"fast\"; give milliseconds from 0 "
                        "(no limit) to 3600000\n"));
}

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
