// Tests of the File menu's KV file actions in the main window: saving and opening sessions,
// importing and exporting `wrangler kv bulk put` JSON, and the read-only wrangler dev folder
// dialog. Each test calls the function that the menu action calls after its file dialog.

#include "inspectorpane.h"
#include "kvbrowsermodel.h"
#include "kvbrowserpane.h"
#include "kvbulkjson.h"
#include "mainwindow.h"
#include "messagebanner.h"
#include "modelroles.h"
#include "simulationcontroller.h"
#include "testfiles.h"
#include "wranglerkvdialog.h"
#include "wranglerkvmodel.h"

#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

#include <sqlite3.h>

#include <limits>

using namespace roomscope;
using namespace roomscope::testing;

namespace {

std::vector<KvEntry> liveEntries(const KvNamespace &kv)
{
    return kv.entries(QString(), QByteArray(), std::numeric_limits<int>::max());
}

QStringList modelKeys(const KvBrowserModel &model)
{
    QStringList keys;
    for (int row = 0; row < model.rowCount(); ++row)
        keys << model.keyAt(model.index(row, 0));
    return keys;
}

// The namespace ID and SQLite file name of a real `wrangler dev` folder, so that the fixture
// does not depend on the code under test to name its database.
const QString kNamespaceId = QStringLiteral("9f3105f5547642b693452f5f740f8e2c");
const QString kDatabaseFile
    = QStringLiteral("1115e4b153d0c8d8aef986f09e264166bf5aff6ffcdd65baafde1da11f460aa1.sqlite");
const QString kBlobA = QStringLiteral("aa") + QString(78, QLatin1Char('0'));
const QString kBlobB = QStringLiteral("bb") + QString(78, QLatin1Char('1'));

// Miniflare's KV table, the same fixture as tests/sim/tst_kvinterop.cpp builds.
const QByteArray kMiniflareSchema = R"sql(
CREATE TABLE IF NOT EXISTS _mf_entries (
  key TEXT PRIMARY KEY,
  blob_id TEXT NOT NULL,
  expiration INTEGER,
  metadata TEXT
);
)sql";

} // namespace

class KvFilesTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();

    void sessionSaveThenOpen();
    void sessionOpenMissingFile();
    void sessionReloadKeepsSessionKeys();
    void importBulkJson();
    void importInvalidChangesNothing();
    void importManyInvalidEntriesListsFirst();
    void exportParsesBackToEntries();
    void wranglerFolderListsKeys();
    void wranglerFolderMissing();

private:
    /// Writes the entries that session and export tests compare.
    void writeSampleEntries();

    QString m_scenarioPath;
    MainWindow *m_window = nullptr;
    QTemporaryDir *m_directory = nullptr;
};

void KvFilesTest::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    m_scenarioPath = qEnvironmentVariable("ROOMSCOPE_SOURCE_DIR")
        + QStringLiteral("/resources/scenarios/kv-room.json");
    QVERIFY2(QFile::exists(m_scenarioPath), qPrintable(m_scenarioPath));
}

void KvFilesTest::init()
{
    m_directory = new QTemporaryDir;
    QVERIFY(m_directory->isValid());
    m_window = new MainWindow;
    m_window->resize(1280, 900);
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window));
    QVERIFY(m_window->openScenario(m_scenarioPath));
}

void KvFilesTest::cleanup()
{
    delete m_window;
    m_window = nullptr;
    delete m_directory;
    m_directory = nullptr;
}

void KvFilesTest::writeSampleEntries()
{
    KvBrowserModel *model = m_window->kvBrowser()->model();
    KvPutOptions withBoth;
    withBoth.metadata = QByteArray(R"({"owner":"ops","n":2})");
    withBoth.expirationTtl = 3600;
    QVERIFY(model->writeEntry(QStringLiteral("config/theme"), "dark", withBoth).ok());
    KvPutOptions metadataOnly;
    metadataOnly.metadata = QByteArray("[1,2]");
    QVERIFY(model->writeEntry(QStringLiteral("config/limits"), "{\"max\":10}", metadataOnly).ok());
    QVERIFY(model->writeEntry(QStringLiteral("bin"), QByteArray("\x00\x01\xfe", 3)).ok());
}

void KvFilesTest::sessionSaveThenOpen()
{
    // Let the workloads write their own keys too, so that the session contains a run's state.
    m_window->controller()->advanceBy(seconds(6));
    writeSampleEntries();
    const KvNamespace &before = m_window->controller()->world()->kv();
    const std::vector<KvEntry> saved = liveEntries(before);
    QVERIFY(saved.size() > 3);
    const QStringList savedKeys = modelKeys(*m_window->kvBrowser()->model());
    QCOMPARE(savedKeys.size(), int(saved.size()));

    const QString session = m_directory->filePath(QStringLiteral("run.sqlite"));
    const QStringList savedRooms = m_window->controller()->world()->roomNames();
    QCOMPARE(m_window->controller()->world()->rooms().objects().size(), size_t(2));
    QVERIFY(m_window->saveSession(session));
    QVERIFY(m_window->banner()->isHidden());
    QCOMPARE(m_window->statusBar()->currentMessage(),
        QStringLiteral("Saved %1 KV keys and 2 Durable Objects to %2")
            .arg(saved.size())
            .arg(session));

    // A fresh run of the scenario starts with no keys, and opening the session brings them back.
    QVERIFY(m_window->openScenario(m_scenarioPath));
    QCOMPARE(m_window->controller()->world()->kv().keyCount(), 0);
    QVERIFY(m_window->openSession(session));
    QVERIFY(m_window->banner()->isHidden());
    QCOMPARE(m_window->controller()->kvStoreFile(), session);
    QCOMPARE(m_window->statusBar()->currentMessage(),
        QStringLiteral("Opened %1 with the %2 KV keys and 2 Durable Objects of %3. Press Space to "
                       "run.")
            .arg(m_scenarioPath)
            .arg(saved.size())
            .arg(session));
    // The rooms come back too, not constructed until an event reaches them.
    QCOMPARE(m_window->controller()->world()->roomNames(), savedRooms);
    for (const QString &room : savedRooms) {
        const DurableObject *object = m_window->controller()->world()->roomObject(room);
        QVERIFY(object);
        QCOMPARE(object->constructorRuns(), quint64(0));
    }

    const KvNamespace &after = m_window->controller()->world()->kv();
    QCOMPARE(liveEntries(after), saved);
    const KvBrowserModel *model = m_window->kvBrowser()->model();
    QCOMPARE(model->kvNamespace(), &after);
    QCOMPARE(modelKeys(*model), savedKeys);
    for (int row = 0; row < model->rowCount(); ++row) {
        const QModelIndex value = model->index(row, KvBrowserModel::ValueColumn);
        QCOMPARE(value.data(RawValueRole).toByteArray(), saved[size_t(row)].value);
        QCOMPARE(model->index(row, KvBrowserModel::VersionColumn).data().toLongLong(),
            saved[size_t(row)].version);
    }

    const QModelIndex theme = model->indexOfKey(QStringLiteral("config/theme"));
    QVERIFY(theme.isValid());
    const QString toolTip = theme.data(Qt::ToolTipRole).toString();
    const std::optional<KvEntry> themeEntry = after.centralEntry(QStringLiteral("config/theme"));
    QVERIFY(themeEntry);
    QCOMPARE(themeEntry->metadata, std::optional<QByteArray>(R"({"owner":"ops","n":2})"));
    QVERIFY(themeEntry->expiration.has_value());
    QCOMPARE(toolTip,
        QStringLiteral(
            "config/theme (12 bytes of UTF-8)\n%1\nMetadata: {\"owner\":\"ops\",\"n\":2}")
            .arg(formatExpirationCountdown(
                themeEntry->expiration, m_window->controller()->world()->simulation().now())));
    QVERIFY2(toolTip.contains(QLatin1String("Expires at")), qPrintable(toolTip));
    QCOMPARE(
        model->index(model->indexOfKey(QStringLiteral("bin")).row(), KvBrowserModel::ValueColumn)
            .data(RawValueRole)
            .toByteArray(),
        QByteArray("\x00\x01\xfe", 3));
}

void KvFilesTest::sessionOpenMissingFile()
{
    const World *before = m_window->controller()->world();
    const QString missing = m_directory->filePath(QStringLiteral("none.sqlite"));
    QVERIFY(!m_window->openSession(missing));
    QCOMPARE(m_window->controller()->world(), before);
    QVERIFY(m_window->banner()->isVisible());
    QCOMPARE(m_window->banner()->text(),
        QStringLiteral("Could not open the session file %1. The current run stays loaded.\n"
                       "The KV store %1 was not found.\n"
                       "Choose a .sqlite file that File > Save Session or roomscope run "
                       "--save-session wrote.")
            .arg(missing));

    // A file that is not a session names the file as well.
    const QString notSession = m_directory->filePath(QStringLiteral("notes.sqlite"));
    QVERIFY(writeFile(notSession, "plain text, not SQLite"));
    QVERIFY(!m_window->openSession(notSession));
    QCOMPARE(m_window->controller()->world(), before);
    QVERIFY2(m_window->banner()->text().startsWith(
                 QStringLiteral("Could not open the session file %1.").arg(notSession)),
        qPrintable(m_window->banner()->text()));
}

void KvFilesTest::sessionReloadKeepsSessionKeys()
{
    writeSampleEntries();
    const QString session = m_directory->filePath(QStringLiteral("keys.sqlite"));
    QVERIFY(m_window->saveSession(session));
    QVERIFY(m_window->openSession(session));
    QCOMPARE(m_window->controller()->world()->kv().keyCount(), 3);

    QVERIFY(m_window->controller()->reload().ok());
    QCOMPARE(m_window->controller()->world()->kv().keyCount(), 3);
    QCOMPARE(modelKeys(*m_window->kvBrowser()->model()),
        QStringList({ QStringLiteral("bin"), QStringLiteral("config/limits"),
            QStringLiteral("config/theme") }));

    // Opening a scenario file starts without the session again.
    QVERIFY(m_window->openScenario(m_scenarioPath));
    QCOMPARE(m_window->controller()->kvStoreFile(), QString());
    QCOMPARE(m_window->controller()->world()->kv().keyCount(), 0);
}

void KvFilesTest::importBulkJson()
{
    const QString path = m_directory->filePath(QStringLiteral("bulk.json"));
    QVERIFY(writeFile(path, R"([
  {"key": "flags/beta", "value": "on", "metadata": {"by": "ci"}},
  {"key": "blob", "value": "AAH+", "base64": true},
  {"key": "session/1", "value": "x", "expiration_ttl": 600}
])"));
    QVERIFY(m_window->importKvBulkJson(path));
    QVERIFY(m_window->banner()->isHidden());
    QCOMPARE(m_window->statusBar()->currentMessage(),
        QStringLiteral("Imported 3 KV keys from %1").arg(path));

    const KvBrowserModel *model = m_window->kvBrowser()->model();
    QCOMPARE(modelKeys(*model),
        QStringList(
            { QStringLiteral("blob"), QStringLiteral("flags/beta"), QStringLiteral("session/1") }));
    const KvNamespace &kv = m_window->controller()->world()->kv();
    QCOMPARE(kv.centralEntry(QStringLiteral("blob"))->value, QByteArray("\x00\x01\xfe", 3));
    QCOMPARE(kv.centralEntry(QStringLiteral("flags/beta"))->metadata,
        std::optional<QByteArray>(R"({"by":"ci"})"));
    const qint64 now = epochSeconds(m_window->controller()->world()->simulation().now());
    QCOMPARE(
        kv.centralEntry(QStringLiteral("session/1"))->expiration, std::optional<qint64>(now + 600));
    QCOMPARE(model
                 ->index(model->indexOfKey(QStringLiteral("flags/beta")).row(),
                     KvBrowserModel::ValueColumn)
                 .data(),
        QVariant(QStringLiteral("on")));
}

void KvFilesTest::importInvalidChangesNothing()
{
    writeSampleEntries();
    const std::vector<KvEntry> before = liveEntries(m_window->controller()->world()->kv());
    const QStringList rowsBefore = modelKeys(*m_window->kvBrowser()->model());

    const QString path = m_directory->filePath(QStringLiteral("invalid.json"));
    QVERIFY(writeFile(path, R"([
  {"key": "fine", "value": "1"},
  {"key": "short-ttl", "value": "2", "expiration_ttl": 10},
  {"key": "config/theme", "value": "overwritten"},
  {"key": "", "value": "3"}
])"));
    const qint64 now = epochSeconds(m_window->controller()->world()->simulation().now());
    const KvBulkParseResult expected = parseKvBulkJson(readFile(path), now);
    QCOMPARE(expected.errors.size(), 2);

    QVERIFY(!m_window->importKvBulkJson(path));
    QVERIFY(m_window->banner()->isVisible());
    QCOMPARE(m_window->banner()->text(),
        QStringLiteral("%1 has 2 invalid entries, so no key was imported. Fix them and import "
                       "again:\n  %2\n  %3")
            .arg(path, expected.errors.at(0), expected.errors.at(1)));
    QVERIFY2(expected.errors.at(0).startsWith(QLatin1String("entry 2 (key \"short-ttl\")")),
        qPrintable(expected.errors.at(0)));
    QVERIFY2(expected.errors.at(1).startsWith(QLatin1String("entry 4 ")),
        qPrintable(expected.errors.at(1)));
    QCOMPARE(m_window->statusBar()->currentMessage(),
        QStringLiteral("Nothing imported from %1").arg(path));

    QCOMPARE(liveEntries(m_window->controller()->world()->kv()), before);
    QCOMPARE(modelKeys(*m_window->kvBrowser()->model()), rowsBefore);

    // A file that does not exist changes nothing either.
    const QString missing = m_directory->filePath(QStringLiteral("missing.json"));
    QVERIFY(!m_window->importKvBulkJson(missing));
    QVERIFY2(m_window->banner()->text().startsWith(
                 QStringLiteral("Could not import %1, so no key was imported.\ncannot read %1: ")
                     .arg(missing)),
        qPrintable(m_window->banner()->text()));
    QCOMPARE(liveEntries(m_window->controller()->world()->kv()), before);
}

void KvFilesTest::importManyInvalidEntriesListsFirst()
{
    QByteArray json = "[";
    for (int i = 0; i < 25; ++i)
        json += QByteArray(i == 0 ? "" : ",") + R"({"key": "k)" + QByteArray::number(i)
            + R"(", "value": "v", "expiration_ttl": 1})";
    json += "]";
    const QString path = m_directory->filePath(QStringLiteral("many.json"));
    QVERIFY(writeFile(path, json));
    const qint64 now = epochSeconds(m_window->controller()->world()->simulation().now());
    const KvBulkParseResult expected = parseKvBulkJson(json, now);
    QCOMPARE(expected.errors.size(), 25);

    QVERIFY(!m_window->importKvBulkJson(path));
    const QStringList lines = m_window->banner()->text().split(QLatin1Char('\n'));
    QCOMPARE(lines.size(), 22);
    QCOMPARE(lines.first(),
        QStringLiteral("%1 has 25 invalid entries, so no key was imported. Fix them and import "
                       "again:")
            .arg(path));
    for (int i = 0; i < 20; ++i)
        QCOMPARE(lines.at(i + 1), QStringLiteral("  ") + expected.errors.at(i));
    QCOMPARE(lines.last(), QStringLiteral("  … and 5 more (the log lists every one)."));
    QCOMPARE(m_window->controller()->world()->kv().keyCount(), 0);
}

void KvFilesTest::exportParsesBackToEntries()
{
    m_window->controller()->advanceBy(seconds(6));
    writeSampleEntries();
    const World *world = m_window->controller()->world();
    const std::vector<KvEntry> entries = liveEntries(world->kv());
    QVERIFY(entries.size() > 3);

    const QString path = m_directory->filePath(QStringLiteral("export.json"));
    QVERIFY(m_window->exportKvBulkJson(path));
    QCOMPARE(m_window->statusBar()->currentMessage(),
        QStringLiteral("Exported %1 KV keys to %2").arg(entries.size()).arg(path));

    const QByteArray json = readFile(path);
    QCOMPARE(json, exportKvBulkJson(entries));
    const KvBulkParseResult parsed = parseKvBulkJson(json, epochSeconds(world->simulation().now()));
    QVERIFY2(parsed.ok(), qPrintable(parsed.errors.join(QLatin1Char('\n'))));
    QCOMPARE(parsed.entries.size(), entries.size());
    for (size_t i = 0; i < entries.size(); ++i) {
        QCOMPARE(parsed.entries[i].key, entries[i].key);
        QCOMPARE(parsed.entries[i].value, entries[i].value);
        QCOMPARE(parsed.entries[i].expiration, entries[i].expiration);
        QCOMPARE(parsed.entries[i].metadata.has_value(), entries[i].metadata.has_value());
        // The export sorts object members by name, so compare metadata as JSON.
        if (entries[i].metadata) {
            QCOMPARE(QJsonDocument::fromJson(*parsed.entries[i].metadata),
                QJsonDocument::fromJson(*entries[i].metadata));
        }
    }
    QCOMPARE(exportKvBulkJson(parsed.entries), json);

    // An export to a folder that does not exist shows the path in the banner.
    const QString unwritable = m_directory->filePath(QStringLiteral("no/such/folder/x.json"));
    QVERIFY(!m_window->exportKvBulkJson(unwritable));
    QVERIFY2(
        m_window->banner()->text().contains(unwritable), qPrintable(m_window->banner()->text()));
}

void KvFilesTest::wranglerFolderListsKeys()
{
    const QDir kvDir(m_directory->filePath(QStringLiteral("project/.wrangler/state/v3/kv")));
    const QString objectDir = kvDir.filePath(QStringLiteral("miniflare-KVNamespaceObject"));
    const QString blobs = kvDir.filePath(kNamespaceId + QStringLiteral("/blobs"));
    QVERIFY(QDir().mkpath(objectDir));
    QVERIFY(QDir().mkpath(blobs));
    QVERIFY(writeFile(QDir(blobs).filePath(kBlobA), "{\"mode\":\"dark\"}"));
    QVERIFY(writeFile(QDir(blobs).filePath(kBlobB), QByteArray("\x00\x01\xfe", 3)));
    const QByteArray rows = "INSERT INTO _mf_entries VALUES ('config/theme', '" + kBlobA.toLatin1()
        + "', 1798761600500, '{\"v\":2}');"
          "INSERT INTO _mf_entries VALUES ('bin', '"
        + kBlobB.toLatin1()
        + "', NULL, NULL);"
          "INSERT INTO _mf_entries VALUES ('ghost', 'cc00', NULL, NULL);";
    QCOMPARE(
        executeSql(QDir(objectDir).filePath(kDatabaseFile), kMiniflareSchema + rows), QString());
    const qint64 runKeys = m_window->controller()->world()->kv().keyCount();

    WranglerKvDialog *dialog = m_window->openWranglerFolder(m_directory->filePath("project"));
    QVERIFY(dialog);
    QVERIFY(m_window->banner()->isHidden());
    QCOMPARE(dialog->namespaceSelector()->count(), 1);
    QCOMPARE(dialog->namespaceSelector()->itemText(0), kNamespaceId);
    QCOMPARE(dialog->noteText(),
        QStringLiteral("2 keys, and 1 whose value file is missing (Miniflare reads them as "
                       "missing)"));

    const WranglerKvModel *model = dialog->model();
    QCOMPARE(model->rowCount(), 3);
    QCOMPARE(model->columnCount(), int(WranglerKvModel::ColumnCount));
    QCOMPARE(model->keyAt(model->index(0, 0)), QStringLiteral("bin"));
    QCOMPARE(model->keyAt(model->index(1, 0)), QStringLiteral("config/theme"));
    QCOMPARE(model->keyAt(model->index(2, 0)), QStringLiteral("ghost"));
    QCOMPARE(model->index(1, WranglerKvModel::ExpirationColumn).data().toString(),
        QStringLiteral("2027-01-01 00:00:00 UTC"));
    QCOMPARE(model->index(1, WranglerKvModel::MetadataColumn).data().toString(),
        QStringLiteral("{\"v\":2}"));
    QCOMPARE(model->index(2, WranglerKvModel::ValueColumn).data().toString(),
        QStringLiteral("(value file missing)"));
    QCOMPARE(model->index(2, WranglerKvModel::ValueColumn).data(HighlightRole).value<Highlight>(),
        Highlight::Warning);
    QCOMPARE(model->index(0, WranglerKvModel::ValueColumn).data(RawValueRole).toByteArray(),
        QByteArray("\x00\x01\xfe", 3));

    // Selecting a row shows its value in the dialog's inspector, marked read-only.
    QCOMPARE(
        dialog->inspector()->title(), QStringLiteral("Select a key to see its value (read-only)."));
    dialog->view()->setCurrentIndex(model->index(1, WranglerKvModel::KeyColumn));
    QCOMPARE(dialog->inspector()->text(), QStringLiteral("{\"mode\":\"dark\"}"));
    QCOMPARE(dialog->inspector()->title(),
        QStringLiteral("config/theme: value in the wrangler dev folder (read-only)"));

    // The run's own namespace is untouched.
    QCOMPARE(m_window->controller()->world()->kv().keyCount(), runKeys);
}

void KvFilesTest::wranglerFolderMissing()
{
    const QString empty = m_directory->filePath(QStringLiteral("empty"));
    QVERIFY(QDir().mkpath(empty));
    QVERIFY(!m_window->openWranglerFolder(empty));
    QVERIFY(m_window->banner()->isVisible());
    QVERIFY2(m_window->banner()->text().startsWith(
                 QStringLiteral("Could not open the wrangler dev KV folder.\n")),
        qPrintable(m_window->banner()->text()));
    QVERIFY2(m_window->banner()->text().contains(empty), qPrintable(m_window->banner()->text()));
}

QTEST_MAIN(KvFilesTest)
#include "tst_kvfiles.moc"
