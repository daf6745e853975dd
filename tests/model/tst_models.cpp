#include "connectionsmodel.h"
#include "eventlogfiltermodel.h"
#include "eventlogmodel.h"
#include "kvbrowsermodel.h"
#include "modelroles.h"
#include "pendingwritesmodel.h"
#include "roomsmodel.h"
#include "simulationcontroller.h"

#include <QAbstractItemModelTester>
#include <QSet>
#include <QSignalSpy>
#include <QTest>

using namespace roomscope;

class ModelsTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();

    void allModelsPassTesterDuringRun();
    void roomsBeforeFirstEvent();
    void roomsAfterRun();
    void kvAnnouncementStaleAtSjc();
    void kvWriteStaleAtOtherLocation();
    void pendingWritesDuringRun();
    void connectionsAfterRun();
    void eventLogContainsKinds();
    void eventLogKeepsNewestWithinCapacity();

private:
    /// Sends a request from a location and runs until its response arrives.
    HttpResponse request(const QString &location, const QString &route, const QString &room,
        const QList<QPair<QString, QString>> &query);
    QString cell(
        const QAbstractItemModel &model, int row, int column, int role = Qt::DisplayRole) const;

    QString m_scenarioPath;
    SimulationController *m_controller = nullptr;
};

void ModelsTest::initTestCase()
{
    m_scenarioPath = qEnvironmentVariable("ROOMSCOPE_SOURCE_DIR")
        + QStringLiteral("/resources/scenarios/kv-room.json");
    QVERIFY2(QFile::exists(m_scenarioPath), qPrintable(m_scenarioPath));
}

void ModelsTest::init()
{
    m_controller = new SimulationController(this);
    const Status loaded = m_controller->load(m_scenarioPath);
    QVERIFY2(loaded.ok(), loaded.ok() ? "" : qPrintable(loaded.error().message));
}

void ModelsTest::cleanup()
{
    delete m_controller;
    m_controller = nullptr;
}

QString ModelsTest::cell(const QAbstractItemModel &model, int row, int column, int role) const
{
    return model.data(model.index(row, column), role).toString();
}

HttpResponse ModelsTest::request(const QString &location, const QString &route, const QString &room,
    const QList<QPair<QString, QString>> &query)
{
    World *world = m_controller->world();
    HttpRequest request;
    request.url = roomUrl(route, room, query);
    std::optional<HttpResponse> response;
    m_controller->sendRequest(QStringLiteral("test"), world->locations().find(location), request,
        [&response](const HttpResponse &received) { response = received; });
    for (int i = 0; i < 100 && !response; ++i)
        m_controller->advanceBy(milliseconds(100));
    return response.value_or(HttpResponse::text(0, "no response within 10 s"));
}

void ModelsTest::allModelsPassTesterDuringRun()
{
    RoomsModel rooms(m_controller);
    KvBrowserModel kv;
    kv.setController(m_controller);
    PendingWritesModel pending(m_controller);
    ConnectionsModel connections(m_controller);
    EventLogModel log(m_controller);
    EventLogFilterModel filtered;
    filtered.setSourceModel(&log);
    filtered.setFilterText(QStringLiteral("!kind:ws.deliver"));
    QCOMPARE(filtered.filterState(), EventFilter::State::Valid);

    const auto mode = QAbstractItemModelTester::FailureReportingMode::QtTest;
    QAbstractItemModelTester roomsTester(&rooms, mode);
    QAbstractItemModelTester kvTester(&kv, mode);
    QAbstractItemModelTester pendingTester(&pending, mode);
    QAbstractItemModelTester connectionsTester(&connections, mode);
    QAbstractItemModelTester logTester(&log, mode);
    QAbstractItemModelTester filteredTester(&filtered, mode);

    int maxPending = 0;
    for (int frame = 0; frame < 48; ++frame) {
        m_controller->advanceBy(milliseconds(250));
        maxPending = std::max(maxPending, pending.rowCount());
        if (QTest::currentTestFailed())
            return;
    }
    QCOMPARE(rooms.rowCount(), 2);
    QCOMPARE(connections.rowCount(), 400);
    kv.refresh();
    QCOMPARE(kv.rowCount(), 3);
    QVERIFY(maxPending > 0);
    QCOMPARE(quint64(log.rowCount()), m_controller->world()->simulation().trace().eventCount());
    QVERIFY(filtered.rowCount() > 0);
    QVERIFY(filtered.rowCount() < log.rowCount());

    // A reload resets every model onto the new run.
    QVERIFY(m_controller->reload().ok());
    QCOMPARE(log.rowCount(), 0);
    QCOMPARE(rooms.rowCount(), 2);
    QCOMPARE(kv.rowCount(), 0);
}

void ModelsTest::roomsBeforeFirstEvent()
{
    RoomsModel rooms(m_controller);
    QCOMPARE(rooms.rowCount(), 2);
    QCOMPARE(rooms.columnCount(), int(RoomsModel::ColumnCount));
    QCOMPARE(cell(rooms, 0, RoomsModel::NameColumn), QStringLiteral("lobby"));
    QCOMPARE(cell(rooms, 1, RoomsModel::NameColumn), QStringLiteral("arena"));
    QCOMPARE(cell(rooms, 0, RoomsModel::StateColumn), QStringLiteral("not created"));
    QCOMPARE(cell(rooms, 0, RoomsModel::LocationColumn), QStringLiteral("LHR (hint)"));
    QCOMPARE(cell(rooms, 1, RoomsModel::LocationColumn), QStringLiteral("SJC (hint)"));
    QCOMPARE(cell(rooms, 0, RoomsModel::ClientsColumn), QStringLiteral("0"));

    const QString fullId
        = m_controller->world()->rooms().idFromName(QStringLiteral("lobby")).toString();
    QCOMPARE(fullId.size(), 64);
    QCOMPARE(cell(rooms, 0, RoomsModel::IdColumn, Qt::ToolTipRole), fullId);
    QCOMPARE(cell(rooms, 0, RoomsModel::IdColumn), fullId.left(12) + QStringLiteral("…"));
}

void ModelsTest::roomsAfterRun()
{
    RoomsModel rooms(m_controller);
    QSignalSpy resets(&rooms, &QAbstractItemModel::modelReset);
    m_controller->advanceBy(seconds(400));
    QVERIFY(m_controller->world()->isFinished());
    QCOMPARE(resets.count(), 0);

    QCOMPARE(rooms.rowCount(), 2);
    const QStringList locations = { QStringLiteral("LHR"), QStringLiteral("SJC") };
    for (int row = 0; row < 2; ++row) {
        const QString name = cell(rooms, row, RoomsModel::NameColumn);
        const DurableObject *object = m_controller->world()->roomObject(name);
        QVERIFY(object);
        QCOMPARE(cell(rooms, row, RoomsModel::LocationColumn), locations.at(row));
        QCOMPARE(cell(rooms, row, RoomsModel::StateColumn),
            RoomsModel::stateName(RoomsModel::roomState(object->state())));
        QVERIFY(object->state() != ObjectState::Active);
        QCOMPARE(cell(rooms, row, RoomsModel::ClientsColumn), QStringLiteral("200"));
        QCOMPARE(cell(rooms, row, RoomsModel::QueueDepthColumn), QStringLiteral("0"));
        QCOMPARE(rooms.data(rooms.index(row, RoomsModel::RequestsColumn)).toULongLong(),
            object->requestsHandled());
        QVERIFY(object->requestsHandled() > 200);
        const KvRoom *room = m_controller->world()->room(name);
        if (room)
            QCOMPARE(rooms.data(rooms.index(row, RoomsModel::PeakQueueColumn)).toInt(),
                room->peakPendingWrites());
        QVERIFY(rooms.data(rooms.index(row, RoomsModel::PeakQueueColumn)).toInt() >= 1);
    }
}

void ModelsTest::kvAnnouncementStaleAtSjc()
{
    KvBrowserModel kv;
    kv.setController(m_controller);
    const int sjcColumn = KvBrowserModel::FixedColumnCount
        + m_controller->world()->locations().find(QStringLiteral("SJC"));
    QCOMPARE(kv.headerData(sjcColumn, Qt::Horizontal).toString(), QStringLiteral("SJC"));

    bool sawStale = false;
    QString staleToolTip;
    for (int frame = 0; frame < 240 && !sawStale; ++frame) {
        m_controller->advanceBy(milliseconds(250));
        kv.refresh();
        for (int row = 0; row < kv.rowCount(); ++row) {
            if (cell(kv, row, KvBrowserModel::KeyColumn) != QLatin1String("announcement"))
                continue;
            const QModelIndex index = kv.index(row, sjcColumn);
            if (index.data(StaleRole).toBool()) {
                sawStale = true;
                staleToolTip = index.data(Qt::ToolTipRole).toString();
                QVERIFY(index.data(CachedRole).toBool());
                QCOMPARE(index.data(HighlightRole).value<Highlight>(), Highlight::Warning);
                QVERIFY(index.data().toString() != cell(kv, row, KvBrowserModel::ValueColumn));
            }
        }
    }
    QVERIFY2(sawStale, "the announcement key was never stale at SJC within 60 s");
    QVERIFY2(staleToolTip.contains(QLatin1String("Stale")), qPrintable(staleToolTip));
    QVERIFY2(staleToolTip.contains(QLatin1String("SJC sees the current central value from t+")),
        qPrintable(staleToolTip));
}

void ModelsTest::kvWriteStaleAtOtherLocation()
{
    KvBrowserModel kv;
    kv.setController(m_controller);
    const LocationMap &locations = m_controller->world()->locations();
    const int lhr = KvBrowserModel::FixedColumnCount + locations.find(QStringLiteral("LHR"));
    const int sjc = KvBrowserModel::FixedColumnCount + locations.find(QStringLiteral("SJC"));
    const int nrt = KvBrowserModel::FixedColumnCount + locations.find(QStringLiteral("NRT"));
    const QString key = QStringLiteral("probe");

    // The lobby (LHR) writes, the arena (SJC) reads and caches, then the lobby writes again.
    QCOMPARE(request(QStringLiteral("LHR"), QStringLiteral("put"), QStringLiteral("lobby"),
                 { { QStringLiteral("key"), key },
                     { QStringLiteral("value"), QStringLiteral("first") } })
                 .status,
        200);
    const HttpResponse read = request(QStringLiteral("SJC"), QStringLiteral("get"),
        QStringLiteral("arena"), { { QStringLiteral("key"), key } });
    QCOMPARE(read.status, 200);
    QCOMPARE(read.body, QByteArray("first"));
    QCOMPARE(request(QStringLiteral("LHR"), QStringLiteral("put"), QStringLiteral("lobby"),
                 { { QStringLiteral("key"), key },
                     { QStringLiteral("value"), QStringLiteral("second") } })
                 .status,
        200);

    kv.refresh();
    int row = -1;
    for (int i = 0; i < kv.rowCount(); ++i) {
        if (cell(kv, i, KvBrowserModel::KeyColumn) == key)
            row = i;
    }
    QVERIFY(row >= 0);
    QCOMPARE(cell(kv, row, KvBrowserModel::ValueColumn), QStringLiteral("second"));
    QCOMPARE(kv.index(row, KvBrowserModel::ValueColumn).data(RawValueRole).toByteArray(),
        QByteArray("second"));

    QCOMPARE(cell(kv, row, lhr), QStringLiteral("second"));
    QCOMPARE(kv.index(row, lhr).data(CachedRole).toBool(), true);
    QCOMPARE(kv.index(row, lhr).data(StaleRole).toBool(), false);

    QCOMPARE(cell(kv, row, sjc), QStringLiteral("first"));
    QCOMPARE(kv.index(row, sjc).data(CachedRole).toBool(), true);
    QCOMPARE(kv.index(row, sjc).data(StaleRole).toBool(), true);
    QCOMPARE(kv.index(row, sjc).data(RawValueRole).toByteArray(), QByteArray("first"));

    QCOMPARE(cell(kv, row, nrt), QStringLiteral("second"));
    QCOMPARE(kv.index(row, nrt).data(CachedRole).toBool(), false);
    QCOMPARE(kv.index(row, nrt).data(StaleRole).toBool(), false);
    QVERIFY(cell(kv, row, nrt, Qt::ToolTipRole).startsWith(QLatin1String("Not cached at NRT")));
}

void ModelsTest::pendingWritesDuringRun()
{
    PendingWritesModel pending(m_controller);
    QSet<QString> states;
    QSet<QString> rooms;
    int merged = 0;
    for (int frame = 0; frame < 200; ++frame) {
        m_controller->advanceBy(milliseconds(50));
        for (int row = 0; row < pending.rowCount(); ++row) {
            states << cell(pending, row, PendingWritesModel::StateColumn);
            rooms << cell(pending, row, PendingWritesModel::RoomColumn);
            merged = std::max(
                merged, pending.data(pending.index(row, PendingWritesModel::MergedColumn)).toInt());
            const QString key = cell(pending, row, PendingWritesModel::KeyColumn);
            const QString value = cell(pending, row, PendingWritesModel::ValueColumn);
            QVERIFY2(value.contains(QLatin1String("-writers#")), qPrintable(value));
            QVERIFY(!key.isEmpty());
        }
    }
    QCOMPARE(states, (QSet<QString> { QStringLiteral("waiting"), QStringLiteral("in flight") }));
    QCOMPARE(rooms, (QSet<QString> { QStringLiteral("lobby"), QStringLiteral("arena") }));

    // The model shows exactly what the rooms queue.
    int queued = 0;
    for (const QString &name : m_controller->world()->roomNames())
        if (const KvRoom *room = m_controller->world()->room(name))
            queued += int(room->pendingWrites().size());
    QCOMPARE(pending.rowCount(), queued);
}

void ModelsTest::connectionsAfterRun()
{
    ConnectionsModel connections(m_controller);
    m_controller->advanceBy(seconds(400));
    QCOMPARE(connections.rowCount(), 400);
    quint64 delivered = 0;
    for (int row = 0; row < connections.rowCount(); ++row) {
        const QString client = cell(connections, row, ConnectionsModel::ClientColumn);
        QCOMPARE(cell(connections, row, ConnectionsModel::StateColumn), QStringLiteral("open"));
        QVERIFY(client.startsWith(cell(connections, row, ConnectionsModel::RoomColumn)
            + QLatin1Char('/') + cell(connections, row, ConnectionsModel::LocationColumn)
            + QLatin1Char('/')));
        const quint64 messages
            = connections.data(connections.index(row, ConnectionsModel::MessagesColumn))
                  .toULongLong();
        QVERIFY(messages > 50);
        delivered += messages;
    }
    QCOMPARE(delivered, m_controller->world()->metrics().messagesDelivered);
    QCOMPARE(cell(connections, 0, ConnectionsModel::ClientColumn), QStringLiteral("lobby/LHR/1"));
    QCOMPARE(
        cell(connections, 399, ConnectionsModel::ClientColumn), QStringLiteral("arena/NRT/50"));
}

void ModelsTest::eventLogContainsKinds()
{
    EventLogModel log(m_controller);
    m_controller->advanceBy(seconds(6));
    QSet<QString> kinds;
    for (int row = 0; row < log.rowCount(); ++row) {
        kinds << cell(log, row, EventLogModel::KindColumn);
        QCOMPARE(log.index(row, 0).data(TraceEventRole).value<TraceEvent>().sequence, quint64(row));
    }
    const QStringList expected = { "request.start", "request.end", "object.create", "kv.get",
        "kv.put", "write.queued", "ws.connect", "ws.accept", "ws.broadcast", "ws.deliver" };
    for (const QString &kind : expected)
        QVERIFY2(kinds.contains(kind), qPrintable(kind));

    const TraceEvent first = log.event(0);
    QCOMPARE(cell(log, 0, EventLogModel::TimeColumn), formatOffset(first.time, log.start()));
    QCOMPARE(cell(log, 0, EventLogModel::DetailsColumn), first.detailsText());
    QCOMPARE(cell(log, 0, EventLogModel::ActorColumn), first.actor);
}

void ModelsTest::eventLogKeepsNewestWithinCapacity()
{
    EventLogModel log(m_controller);
    log.setCapacity(1000);
    QAbstractItemModelTester tester(&log, QAbstractItemModelTester::FailureReportingMode::QtTest);
    for (int frame = 0; frame < 20; ++frame)
        m_controller->advanceBy(milliseconds(250));
    const quint64 total = m_controller->world()->simulation().trace().eventCount();
    QVERIFY(total > 2000);
    QVERIFY(log.rowCount() <= 1000);
    QCOMPARE(log.droppedCount() + quint64(log.rowCount()), total);
    QCOMPARE(log.event(log.rowCount() - 1).sequence, total - 1);
    for (int row = 1; row < log.rowCount(); ++row)
        QCOMPARE(log.event(row).sequence, log.event(row - 1).sequence + 1);
}

QTEST_GUILESS_MAIN(ModelsTest)
#include "tst_models.moc"
