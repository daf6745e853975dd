// Tests of the KV browser's models: KvBrowserModel in flat and tree modes, paging over a large
// namespace, the prefix filter, edits through the browser and their stale location columns,
// bulk delete by prefix, KvHistoryModel, and the expiration countdown text.
//
// Three locations without jitter: the central store in SJC, LHR 70 ms and NRT 55 ms from it.

#include "kvbrowsermodel.h"
#include "kvhistorymodel.h"
#include "modelroles.h"
#include "simulationcontroller.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

#include <memory>
#include <optional>

using namespace roomscope;

namespace {

constexpr LocationId kSjc = 0;
constexpr LocationId kLhr = 1;
constexpr LocationId kNrt = 2;
constexpr SimTime kStart = seconds(1'000'000);
constexpr auto kTesterMode = QAbstractItemModelTester::FailureReportingMode::QtTest;

template<typename T> Task<void> storeResult(Task<T> task, std::shared_ptr<std::optional<T>> result)
{
    result->emplace(co_await task);
}

/// A KV namespace over SJC, LHR and NRT that browser models attach to.
class BrowserWorld
{
public:
    BrowserWorld()
        : m_simulation(1, kStart)
    {
        m_locations.add(QStringLiteral("SJC"));
        m_locations.add(QStringLiteral("LHR"));
        m_locations.add(QStringLiteral("NRT"));
        m_locations.setLatency(kSjc, kLhr, milliseconds(70));
        m_locations.setLatency(kSjc, kNrt, milliseconds(55));
        m_locations.setJitterPercent(0);
        KvSettings settings;
        settings.centralLocation = kSjc;
        auto created = KvNamespace::create(
            m_simulation, m_locations, QStringLiteral("KV"), settings, QStringLiteral(":memory:"));
        if (!created)
            qFatal("cannot create the KV namespace: %s", qPrintable(created.error().message));
        m_kv = std::move(created).value();
    }

    Simulation &simulation() { return m_simulation; }
    const LocationMap &locations() const { return m_locations; }
    KvNamespace &kv() { return *m_kv; }

    void attach(KvBrowserModel &model)
    {
        model.setNamespace(m_kv.get(), &m_locations, &m_simulation);
    }

    void write(const QString &key, const QByteArray &value)
    {
        if (Status written = m_kv->writeEntry(key, value); !written)
            qFatal("writeEntry failed: %s", qPrintable(written.error().message));
    }

    template<typename T> T finish(Task<T> task)
    {
        auto result = std::make_shared<std::optional<T>>();
        m_simulation.spawn(storeResult(std::move(task), result));
        while (!*result && m_simulation.step()) { }
        if (!*result)
            qFatal("a KV call never finished");
        return std::move(**result);
    }

    void get(LocationId from, const QString &key)
    {
        if (!finish(m_kv->get(QStringLiteral("test"), from, key)))
            qFatal("get failed");
    }

    /// Writes `count` keys "key:000000", "key:000001", ... in one untraced import.
    void importKeys(int count)
    {
        std::vector<KvEntry> entries;
        entries.reserve(size_t(count));
        for (int i = 0; i < count; ++i)
            entries.push_back({ keyName(i).toUtf8(), "v", std::nullopt, std::nullopt, 0 });
        if (Status imported = m_kv->importEntries(entries); !imported)
            qFatal("importEntries failed: %s", qPrintable(imported.error().message));
    }

    static QString keyName(int i)
    {
        return QStringLiteral("key:%1").arg(i, 6, 10, QLatin1Char('0'));
    }

    Status put(LocationId from, const QString &key, const QByteArray &value)
    {
        return finish(m_kv->put(QStringLiteral("worker"), from, key, value));
    }

private:
    Simulation m_simulation;
    LocationMap m_locations;
    std::unique_ptr<KvNamespace> m_kv;
};

void writeRoomKeys(BrowserWorld &world)
{
    world.write(QStringLiteral("room:1:state"), "open");
    world.write(QStringLiteral("room:1:score"), "12");
    world.write(QStringLiteral("room:2:state"), "closed");
    world.write(QStringLiteral("config"), "{\"rooms\":2}");
}

QString text(const QAbstractItemModel &model, const QModelIndex &index, int role = Qt::DisplayRole)
{
    return model.data(index, role).toString();
}

QStringList columnTexts(
    const QAbstractItemModel &model, const QModelIndex &parent = {}, int column = 0)
{
    QStringList texts;
    for (int row = 0; row < model.rowCount(parent); ++row)
        texts << text(model, model.index(row, column, parent));
    return texts;
}

} // namespace

class KvBrowserTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void flatRows();
    void treeRows();
    void treeWithSlashDelimiter();
    void prefixFilter_data();
    void prefixFilter();
    void pagingLargeNamespace();
    void pagingLargeGroup();
    void editMakesOtherLocationsStale();
    void refreshInsertsAndRemovesRows();
    void bulkDeleteByPrefix();
    void historyListsWritesInOrder();
    void visibleRefreshTouchesWindowOnly();
    void writeBeyondLoadedRowsAppearsWhenPaged();
    void deleteRemovesRow_data();
    void deleteRemovesRow();
    void manyWritesRefreshEveryRow();
    void countdownText();
    void followsControllerDuringRun();
};

void KvBrowserTest::flatRows()
{
    BrowserWorld world;
    writeRoomKeys(world);
    KvBrowserModel model;
    world.attach(model);
    QAbstractItemModelTester tester(&model, kTesterMode);

    QCOMPARE(model.columnCount(), 6);
    QCOMPARE(model.headerData(3, Qt::Horizontal).toString(), QStringLiteral("SJC"));
    QCOMPARE(model.headerData(5, Qt::Horizontal).toString(), QStringLiteral("NRT"));
    QCOMPARE(columnTexts(model),
        QStringList({ QStringLiteral("config"), QStringLiteral("room:1:score"),
            QStringLiteral("room:1:state"), QStringLiteral("room:2:state") }));
    QCOMPARE(columnTexts(model, {}, KvBrowserModel::ValueColumn),
        QStringList({ QStringLiteral("{\"rooms\":2}"), QStringLiteral("12"), QStringLiteral("open"),
            QStringLiteral("closed") }));
    QCOMPARE(columnTexts(model, {}, KvBrowserModel::VersionColumn),
        QStringList({ QStringLiteral("4"), QStringLiteral("2"), QStringLiteral("1"),
            QStringLiteral("3") }));
    QVERIFY(!model.hasChildren(model.index(0, 0)));
    QVERIFY(!model.canFetchMore({}));
    QCOMPARE(model.keyAt(model.index(1, 0)), QStringLiteral("room:1:score"));
    QCOMPARE(model.indexOfKey(QStringLiteral("room:2:state")), model.index(3, 0));
    QVERIFY(!model.indexOfKey(QStringLiteral("room:3")).isValid());
}

void KvBrowserTest::treeRows()
{
    BrowserWorld world;
    writeRoomKeys(world);
    world.write(QStringLiteral("room:10"), "ten");
    KvBrowserModel model;
    world.attach(model);
    model.setTreeMode(true);
    // Attached after the setup: the Qt 6.4 tester runs its checks, which call fetchMore(),
    // while a model reset is still in flight, and then reports the insertion as nested.
    QAbstractItemModelTester tester(&model, kTesterMode);

    QCOMPARE(
        columnTexts(model), QStringList({ QStringLiteral("config"), QStringLiteral("room:") }));
    const QModelIndex room = model.index(1, 0);
    QVERIFY(model.hasChildren(room));
    QCOMPARE(model.groupPrefixAt(room), QStringLiteral("room:"));
    QCOMPARE(model.keyAt(room), QString());
    QCOMPARE(text(model, model.index(1, KvBrowserModel::ValueColumn)), QString());
    if (model.canFetchMore(room))
        model.fetchMore(room);
    // "room:10" sorts before "room:1:" because '0' is 0x30 and ':' is 0x3A.
    QCOMPARE(columnTexts(model, room),
        QStringList({ QStringLiteral("10"), QStringLiteral("1:"), QStringLiteral("2:") }));
    QVERIFY(!model.hasChildren(model.index(0, 0, room)));
    QCOMPARE(model.keyAt(model.index(0, 0, room)), QStringLiteral("room:10"));

    const QModelIndex roomOne = model.index(1, 0, room);
    if (model.canFetchMore(roomOne))
        model.fetchMore(roomOne);
    QCOMPARE(columnTexts(model, roomOne),
        QStringList({ QStringLiteral("score"), QStringLiteral("state") }));
    QCOMPARE(
        text(model, model.index(1, KvBrowserModel::ValueColumn, roomOne)), QStringLiteral("open"));
    QCOMPARE(model.keyAt(model.index(1, 0, roomOne)), QStringLiteral("room:1:state"));
    QCOMPARE(model.indexOfKey(QStringLiteral("room:1:state")), model.index(1, 0, roomOne));
    QCOMPARE(model.parent(model.index(1, 0, roomOne)), roomOne);
    // The tester has fetched the first page under every group, "2:" included.
    QCOMPARE(model.loadedRowCount(), 8);
}

void KvBrowserTest::treeWithSlashDelimiter()
{
    BrowserWorld world;
    writeRoomKeys(world);
    world.write(QStringLiteral("assets/img/logo.png"), "png");
    KvBrowserModel model;
    world.attach(model);
    model.setTreeMode(true);
    model.setDelimiter(QStringLiteral("/"));
    QAbstractItemModelTester tester(&model, kTesterMode);

    QCOMPARE(columnTexts(model),
        QStringList(
            { QStringLiteral("assets/"), QStringLiteral("config"), QStringLiteral("room:1:score"),
                QStringLiteral("room:1:state"), QStringLiteral("room:2:state") }));
}

void KvBrowserTest::prefixFilter_data()
{
    QTest::addColumn<bool>("tree");
    QTest::addColumn<QString>("prefix");
    QTest::addColumn<QStringList>("rows");

    QTest::newRow("flat room:1:") << false << QStringLiteral("room:1:")
                                  << QStringList({ QStringLiteral("room:1:score"),
                                         QStringLiteral("room:1:state") });
    QTest::newRow("flat c") << false << QStringLiteral("c")
                            << QStringList({ QStringLiteral("config") });
    QTest::newRow("flat none") << false << QStringLiteral("zzz") << QStringList();
    QTest::newRow("tree room:") << true << QStringLiteral("room:")
                                << QStringList({ QStringLiteral("1:"), QStringLiteral("2:") });
    QTest::newRow("tree room:1") << true << QStringLiteral("room:1")
                                 << QStringList({ QStringLiteral(":") });
}

void KvBrowserTest::prefixFilter()
{
    QFETCH(bool, tree);
    QFETCH(QString, prefix);
    QFETCH(QStringList, rows);

    BrowserWorld world;
    writeRoomKeys(world);
    KvBrowserModel model;
    world.attach(model);
    model.setTreeMode(tree);
    model.setPrefix(prefix);
    QAbstractItemModelTester tester(&model, kTesterMode);

    QCOMPARE(model.prefix(), prefix);
    QCOMPARE(columnTexts(model), rows);
}

void KvBrowserTest::pagingLargeNamespace()
{
    constexpr int kKeys = 200'000;
    BrowserWorld world;
    for (int i = 0; i < kKeys; ++i)
        world.write(QStringLiteral("key:%1").arg(i, 6, 10, QLatin1Char('0')), "v");
    KvBrowserModel model;
    world.attach(model);

    QCOMPARE(model.rowCount(), KvBrowserModel::kPageSize);
    QCOMPARE(model.loadedRowCount(), KvBrowserModel::kPageSize);
    QVERIFY(model.canFetchMore({}));
    QCOMPARE(text(model, model.index(999, 0)), QStringLiteral("key:000999"));

    model.fetchMore({});
    QCOMPARE(model.rowCount(), 2 * KvBrowserModel::kPageSize);
    QCOMPARE(text(model, model.index(1000, 0)), QStringLiteral("key:001000"));

    int fetches = 1;
    while (model.canFetchMore({})) {
        model.fetchMore({});
        ++fetches;
    }
    QCOMPARE(fetches, kKeys / KvBrowserModel::kPageSize - 1);
    QCOMPARE(model.rowCount(), kKeys);
    QCOMPARE(text(model, model.index(kKeys - 1, 0)), QStringLiteral("key:199999"));
    QCOMPARE(
        text(model, model.index(kKeys - 1, KvBrowserModel::VersionColumn)), QString::number(kKeys));
    QCOMPARE(model.countKeys(QStringLiteral("key:1")), 100'000);
}

void KvBrowserTest::pagingLargeGroup()
{
    constexpr int kKeys = 5'000;
    BrowserWorld world;
    for (int i = 0; i < kKeys; ++i)
        world.write(QStringLiteral("user:%1").arg(i, 5, 10, QLatin1Char('0')), "v");
    world.write(QStringLiteral("zone"), "z");
    KvBrowserModel model;
    world.attach(model);
    model.setTreeMode(true);
    QAbstractItemModelTester tester(&model, kTesterMode);

    QCOMPARE(columnTexts(model), QStringList({ QStringLiteral("user:"), QStringLiteral("zone") }));
    const QModelIndex users = model.index(0, 0);
    QVERIFY(model.canFetchMore(users));
    // The tester may have fetched the first page under each group, so count from what is loaded.
    const int loaded = model.rowCount(users);
    model.fetchMore(users);
    QCOMPARE(model.rowCount(users), loaded + KvBrowserModel::kPageSize);
    QCOMPARE(model.loadedRowCount(), 2 + loaded + KvBrowserModel::kPageSize);
    while (model.canFetchMore(users))
        model.fetchMore(users);
    QCOMPARE(model.rowCount(users), kKeys);
    QCOMPARE(text(model, model.index(kKeys - 1, 0, users)), QStringLiteral("04999"));
}

void KvBrowserTest::editMakesOtherLocationsStale()
{
    BrowserWorld world;
    world.write(QStringLiteral("k"), "old");
    world.get(kLhr, QStringLiteral("k"));
    const SimTime cachedAt = world.simulation().now();
    KvBrowserModel model;
    world.attach(model);
    QAbstractItemModelTester tester(&model, kTesterMode);

    const int lhrColumn = KvBrowserModel::FixedColumnCount + kLhr;
    const int nrtColumn = KvBrowserModel::FixedColumnCount + kNrt;
    QCOMPARE(model.data(model.index(0, lhrColumn), StaleRole).toBool(), false);

    QVERIFY(model.writeEntry(QStringLiteral("k"), "new").ok());

    QCOMPARE(world.kv().centralEntry(QStringLiteral("k"))->value, QByteArray("new"));
    QCOMPARE(text(model, model.index(0, KvBrowserModel::ValueColumn)), QStringLiteral("new"));
    QCOMPARE(text(model, model.index(0, KvBrowserModel::VersionColumn)), QStringLiteral("2"));
    const QModelIndex lhr = model.index(0, lhrColumn);
    QCOMPARE(text(model, lhr), QStringLiteral("old"));
    QCOMPARE(model.data(lhr, StaleRole).toBool(), true);
    QCOMPARE(model.data(lhr, CachedRole).toBool(), true);
    QCOMPARE(model.data(lhr, HighlightRole).value<Highlight>(), Highlight::Warning);
    QCOMPARE(cachedAt - kStart, milliseconds(140));
    world.simulation().runUntil(cachedAt + seconds(30));
    model.refresh();
    QCOMPARE(text(model, lhr), QStringLiteral("old"));
    QCOMPARE(text(model, lhr, Qt::ToolTipRole),
        QStringLiteral("LHR has version 1 cached.\n"
                       "Stale: the central store has version 2.\n"
                       "LHR sees the current central value from t+60.140 s (in 30.000 s), "
                       "when its cache entry lapses."));

    const QModelIndex nrt = model.index(0, nrtColumn);
    QCOMPARE(text(model, nrt), QStringLiteral("new"));
    QCOMPARE(model.data(nrt, StaleRole).toBool(), false);
    QCOMPARE(text(model, nrt, Qt::ToolTipRole),
        QStringLiteral("Not cached at NRT: a read there now fetches the central value "
                       "(version 2)."));

    // Once LHR's entry lapses, LHR reads the central value.
    world.simulation().runUntil(cachedAt + seconds(60));
    model.refresh();
    QCOMPARE(text(model, lhr), QStringLiteral("new"));
    QCOMPARE(model.data(lhr, StaleRole).toBool(), false);
}

void KvBrowserTest::refreshInsertsAndRemovesRows()
{
    BrowserWorld world;
    writeRoomKeys(world);
    KvBrowserModel model;
    world.attach(model);
    model.setTreeMode(true);
    QAbstractItemModelTester tester(&model, kTesterMode);
    const QModelIndex room = model.index(1, 0);
    model.fetchMore(room);
    QCOMPARE(model.rowCount(room), 2);

    QVERIFY(model.writeEntry(QStringLiteral("room:3:state"), "new").ok());
    QVERIFY(model.writeEntry(QStringLiteral("a"), "first").ok());
    QVERIFY(model.deleteEntry(QStringLiteral("room:2:state")).ok());

    QCOMPARE(columnTexts(model),
        QStringList({ QStringLiteral("a"), QStringLiteral("config"), QStringLiteral("room:") }));
    const QModelIndex movedRoom = model.index(2, 0);
    QCOMPARE(
        columnTexts(model, movedRoom), QStringList({ QStringLiteral("1:"), QStringLiteral("3:") }));
}

void KvBrowserTest::bulkDeleteByPrefix()
{
    BrowserWorld world;
    writeRoomKeys(world);
    world.write(QStringLiteral("room:10:state"), "x");
    KvBrowserModel model;
    world.attach(model);
    QAbstractItemModelTester tester(&model, kTesterMode);

    QCOMPARE(model.countKeys(QStringLiteral("room:1:")), 2);
    const Result<qint64> deleted = model.deleteByPrefix(QStringLiteral("room:1:"));
    QVERIFY(deleted.ok());
    QCOMPARE(*deleted, 2);
    QCOMPARE(columnTexts(model),
        QStringList({ QStringLiteral("config"), QStringLiteral("room:10:state"),
            QStringLiteral("room:2:state") }));
    QCOMPARE(world.kv().keyCount(), 3);
    QCOMPARE(model.countKeys(QStringLiteral("room:1:")), 0);
}

void KvBrowserTest::historyListsWritesInOrder()
{
    BrowserWorld world;
    KvHistoryModel history;
    QAbstractItemModelTester tester(&history, kTesterMode);
    history.setSimulation(&world.simulation());
    history.setKey(QStringLiteral("k"));
    QCOMPARE(history.rowCount(), 0);

    QVERIFY(world.put(kLhr, QStringLiteral("k"), "a").ok());
    QVERIFY(!world.put(kNrt, QStringLiteral("k"), "b").ok());
    QVERIFY(world.put(kSjc, QStringLiteral("other"), "x").ok());
    world.simulation().runUntil(world.simulation().now() + seconds(2));
    world.write(QStringLiteral("k"), "c");
    QVERIFY(world.kv().deleteEntry(QStringLiteral("k")).ok());

    QCOMPARE(history.rowCount(), 4);
    const auto row = [&history](int r) {
        QStringList cells;
        for (int c = 0; c < KvHistoryModel::ColumnCount; ++c)
            cells << history.data(history.index(r, c)).toString();
        return cells;
    };
    QCOMPARE(row(0),
        QStringList({ QStringLiteral("t+0.070 s"), QStringLiteral("worker"), QStringLiteral("LHR"),
            QStringLiteral("put"), QStringLiteral("a"), QStringLiteral("accepted, version 1") }));
    QCOMPARE(row(1),
        QStringList({ QStringLiteral("t+0.195 s"), QStringLiteral("worker"), QStringLiteral("NRT"),
            QStringLiteral("put"), QStringLiteral("b"), QStringLiteral("429 Too Many Requests") }));
    QCOMPARE(history.data(history.index(1, 0), HighlightRole).value<Highlight>(), Highlight::Error);
    QCOMPARE(row(2).mid(1),
        QStringList({ QStringLiteral("inspector"), QStringLiteral("SJC"), QStringLiteral("put"),
            QStringLiteral("c"), QStringLiteral("accepted, version 3") }));
    QCOMPARE(row(3).mid(1),
        QStringList({ QStringLiteral("inspector"), QStringLiteral("SJC"), QStringLiteral("delete"),
            QString(), QStringLiteral("accepted, version 4") }));

    history.setKey(QStringLiteral("other"));
    QCOMPARE(history.rowCount(), 1);
    history.setKey(QStringLiteral("never written"));
    QCOMPARE(history.rowCount(), 0);
}

void KvBrowserTest::visibleRefreshTouchesWindowOnly()
{
    constexpr int kKeys = 200'000;
    BrowserWorld world;
    world.importKeys(kKeys);
    KvBrowserModel model;
    world.attach(model);
    while (model.canFetchMore({}))
        model.fetchMore({});
    QCOMPARE(model.loadedRowCount(), kKeys);

    QModelIndexList window;
    for (int row = 100'000; row < 100'050; ++row)
        window << model.index(row, 0);
    model.setVisibleRows(window);
    // Untraced imports: one inside the window, one far above it.
    const std::vector<KvEntry> imported {
        { "key:000010+", "above", std::nullopt, std::nullopt, 0 },
        { "key:100010+", "inside", std::nullopt, std::nullopt, 0 },
    };
    QVERIFY(world.kv().importEntries(imported).ok());
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    model.refreshVisible();

    QCOMPARE(model.lastRefreshedRowCount(), 51);
    QCOMPARE(changed.count(), 1);
    const QModelIndex topLeft = changed.at(0).at(0).toModelIndex();
    const QModelIndex bottomRight = changed.at(0).at(1).toModelIndex();
    QCOMPARE(topLeft.row(), 100'000);
    QCOMPARE(bottomRight.row(), 100'050);
    QCOMPARE(model.loadedRowCount(), kKeys + 1);
    QCOMPARE(text(model, model.index(100'011, 0)), QStringLiteral("key:100010+"));
    QCOMPARE(
        text(model, model.index(100'011, KvBrowserModel::ValueColumn)), QStringLiteral("inside"));
    QVERIFY(!model.indexOfKey(QStringLiteral("key:000010+")).isValid());

    // A full refresh picks up the import above the window too.
    model.refresh();
    QCOMPARE(model.loadedRowCount(), kKeys + 2);
    QCOMPARE(text(model, model.index(11, 0)), QStringLiteral("key:000010+"));
}

void KvBrowserTest::writeBeyondLoadedRowsAppearsWhenPaged()
{
    BrowserWorld world;
    world.importKeys(5'000);
    KvBrowserModel model;
    world.attach(model);
    // No QAbstractItemModelTester here: it would fetch every page.
    QCOMPARE(model.rowCount(), KvBrowserModel::kPageSize);

    world.write(QStringLiteral("key:004500+"), "late");
    world.write(QStringLiteral("key:000500+"), "early");
    model.refreshVisible();
    // The key inside the loaded rows appears now, the other one once its page is fetched.
    QCOMPARE(model.rowCount(), KvBrowserModel::kPageSize + 1);
    QCOMPARE(text(model, model.index(501, 0)), QStringLiteral("key:000500+"));
    QVERIFY(!model.indexOfKey(QStringLiteral("key:004500+")).isValid());

    while (model.canFetchMore({}))
        model.fetchMore({});
    QCOMPARE(model.rowCount(), 5'002);
    QCOMPARE(text(model, model.index(4'502, 0)), QStringLiteral("key:004500+"));
    QCOMPARE(text(model, model.index(4'502, KvBrowserModel::ValueColumn)), QStringLiteral("late"));
    QCOMPARE(text(model, model.index(5'001, 0)), QStringLiteral("key:004999"));
}

void KvBrowserTest::deleteRemovesRow_data()
{
    QTest::addColumn<bool>("tree");
    QTest::addColumn<QString>("deletedKey");
    QTest::addColumn<QStringList>("rootRows");
    QTest::addColumn<QStringList>("roomRows");

    QTest::newRow("flat, outside the visible rows")
        << false << QStringLiteral("room:2:state")
        << QStringList({ QStringLiteral("config"), QStringLiteral("room:1:score"),
               QStringLiteral("room:1:state") })
        << QStringList();
    QTest::newRow("tree, last key of a group")
        << true << QStringLiteral("room:2:state")
        << QStringList({ QStringLiteral("config"), QStringLiteral("room:") })
        << QStringList({ QStringLiteral("1:") });
    QTest::newRow("tree, one key of a group")
        << true << QStringLiteral("room:1:score")
        << QStringList({ QStringLiteral("config"), QStringLiteral("room:") })
        << QStringList({ QStringLiteral("1:"), QStringLiteral("2:") });
}

void KvBrowserTest::deleteRemovesRow()
{
    QFETCH(bool, tree);
    QFETCH(QString, deletedKey);
    QFETCH(QStringList, rootRows);
    QFETCH(QStringList, roomRows);

    BrowserWorld world;
    writeRoomKeys(world);
    KvBrowserModel model;
    world.attach(model);
    model.setTreeMode(tree);
    QAbstractItemModelTester tester(&model, kTesterMode);
    const QModelIndex room = tree ? model.index(1, 0) : QModelIndex();
    if (tree) {
        model.fetchMore(room);
        model.fetchMore(model.index(0, 0, room));
    }
    // Only the first row is visible, so the delete is picked up from its trace event alone.
    model.setVisibleRows({ model.index(0, 0) });

    QVERIFY(world.kv().deleteEntry(deletedKey).ok());
    model.refreshVisible();

    QCOMPARE(columnTexts(model), rootRows);
    if (tree)
        QCOMPARE(columnTexts(model, model.index(1, 0)), roomRows);
    QVERIFY(!model.indexOfKey(deletedKey).isValid());
    if (!tree)
        QCOMPARE(model.loadedRowCount(), 3);
}

void KvBrowserTest::manyWritesRefreshEveryRow()
{
    constexpr int kKeys = 3 * KvBrowserModel::kMaxTrackedWrites;
    BrowserWorld world;
    world.importKeys(kKeys);
    KvBrowserModel model;
    world.attach(model);
    while (model.canFetchMore({}))
        model.fetchMore({});
    model.setVisibleRows({ model.index(0, 0) });

    // One write plus 10,000 deletes: more written keys than the model tracks between frames.
    world.write(QStringLiteral("key:000001+"), "v");
    const Result<qint64> deleted = model.deleteByPrefix(QStringLiteral("key:01"));
    QVERIFY(deleted.ok());
    QCOMPARE(*deleted, 10'000);
    QCOMPARE(model.loadedRowCount(), kKeys - 10'000 + 1);
    QCOMPARE(model.lastRefreshedRowCount(), kKeys - 10'000 + 1);
    QCOMPARE(text(model, model.index(2, 0)), QStringLiteral("key:000001+"));
    QCOMPARE(text(model, model.index(10'001, 0)), QStringLiteral("key:020000"));
}

void KvBrowserTest::countdownText()
{
    const qint64 expiration = epochSeconds(kStart) + 150;
    QCOMPARE(formatExpirationCountdown(std::nullopt, kStart), QStringLiteral("No expiration"));
    QCOMPARE(formatExpirationCountdown(expiration, kStart),
        QStringLiteral("Expires at 1970-01-12 13:49:10.000 UTC, in 2 min 30 s"));
    QCOMPARE(formatExpirationCountdown(expiration, kStart + seconds(120) + milliseconds(500)),
        QStringLiteral("Expires at 1970-01-12 13:49:10.000 UTC, in 29.500 s"));
    QCOMPARE(formatExpirationCountdown(expiration, kStart + seconds(150)),
        QStringLiteral("Expired at 1970-01-12 13:49:10.000 UTC"));
}

void KvBrowserTest::followsControllerDuringRun()
{
    SimulationController controller;
    const QString path = qEnvironmentVariable("ROOMSCOPE_SOURCE_DIR")
        + QStringLiteral("/resources/scenarios/kv-room.json");
    const Status loaded = controller.load(path);
    QVERIFY2(loaded.ok(), loaded.ok() ? "" : qPrintable(loaded.error().message));
    KvBrowserModel browser;
    KvHistoryModel history;
    browser.setTreeMode(true);
    browser.setController(&controller);
    history.setController(&controller);
    QAbstractItemModelTester browserTester(&browser, kTesterMode);
    QAbstractItemModelTester historyTester(&history, kTesterMode);

    for (int i = 0; i < 30; ++i)
        controller.advanceBy(seconds(1));
    browser.refresh();
    const qint64 keys = controller.world()->kv().keyCount();
    QVERIFY(keys > 0);
    QCOMPARE(browser.countKeys({}), keys);
    QVERIFY(browser.rowCount() > 0);

    QVERIFY(controller.reload().ok());
    QCOMPARE(browser.kvNamespace(), &controller.world()->kv());
}

QTEST_MAIN(KvBrowserTest)
#include "tst_kvbrowser.moc"
