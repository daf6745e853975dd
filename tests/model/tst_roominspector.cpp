#include "modelroles.h"
#include "roominspector.h"
#include "roompropertiesmodel.h"
#include "roomtablemodels.h"
#include "simulationcontroller.h"
#include "sqlresultmodel.h"
#include "valuetext.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

using namespace roomscope;

/// The room inspector's models over the bundled do-lab scenario. It runs one room of the lab
/// class with 10 hibernatable WebSockets. A lost-update burst comes every 25 s and an input-gate
/// burst a second later, and every 40 s an alarm is set that fails its first 3 runs.
class RoomInspectorTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();

    void modelsPassTesterDuringRun();
    void summaryBeforeAndAfterConstruction();
    void historyAfterRun();
    void lifecyclePropertiesAfterRun();
    void memoryAndStorageAroundHibernation();
    void alarmAfterRun();
    void socketsAfterRun();
    void gatesDuringLostUpdateBurst();
    void gatesWhileStorageReadsQueue();
    void hibernateAndEvictFailWhileBusy();
    void hibernateDropsMemoryKeepsStorage();
    void evictClosesSockets();
    void resetFailsInFlightRequests();
    void shutdownWithoutRequestsDropsInstance();
    void fireAlarmNowRunsHandler();
    void failNextCommitResetsObject();
    void actionsUnavailableBeforeConstruction();
    void queryShowsRowsAndErrors();
    void roomFollowsNewRun();

private:
    /// Sends `count` identical requests to the lab room from LHR at the current instant.
    void sendConcurrent(const QString &path, int count, QList<HttpResponse> *responses);
    QString cell(
        const QAbstractItemModel &model, int row, int column, int role = Qt::DisplayRole) const;
    /// The display text of every row of `column`.
    QStringList columnTexts(const QAbstractItemModel &model, int column) const;
    SimTime start() const { return m_controller->world()->simulation().start(); }

    QString m_scenarioPath;
    SimulationController *m_controller = nullptr;
    RoomInspector *m_inspector = nullptr;
};

void RoomInspectorTest::initTestCase()
{
    m_scenarioPath = qEnvironmentVariable("ROOMSCOPE_SOURCE_DIR")
        + QStringLiteral("/resources/scenarios/do-lab.json");
    QVERIFY2(QFile::exists(m_scenarioPath), qPrintable(m_scenarioPath));
}

void RoomInspectorTest::init()
{
    m_controller = new SimulationController(this);
    const Status loaded = m_controller->load(m_scenarioPath);
    QVERIFY2(loaded.ok(), loaded.ok() ? "" : qPrintable(loaded.error().message));
    m_inspector = new RoomInspector(m_controller, this);
    QCOMPARE(m_inspector->room(), QStringLiteral("lab"));
}

void RoomInspectorTest::cleanup()
{
    delete m_inspector;
    m_inspector = nullptr;
    delete m_controller;
    m_controller = nullptr;
}

QString RoomInspectorTest::cell(
    const QAbstractItemModel &model, int row, int column, int role) const
{
    return model.data(model.index(row, column), role).toString();
}

QStringList RoomInspectorTest::columnTexts(const QAbstractItemModel &model, int column) const
{
    QStringList texts;
    for (int row = 0; row < model.rowCount(); ++row)
        texts << cell(model, row, column);
    return texts;
}

void RoomInspectorTest::sendConcurrent(
    const QString &path, int count, QList<HttpResponse> *responses)
{
    World *world = m_controller->world();
    HttpRequest request;
    request.url = roomUrl(path, QStringLiteral("lab"));
    for (int i = 0; i < count; ++i) {
        m_controller->sendRequest(QStringLiteral("test"), world->locations().find("LHR"), request,
            [responses](const HttpResponse &response) { responses->append(response); });
    }
}

void RoomInspectorTest::modelsPassTesterDuringRun()
{
    const auto mode = QAbstractItemModelTester::FailureReportingMode::QtTest;
    QList<QAbstractItemModel *> models
        = { m_inspector->history(), m_inspector->lifecycle(), m_inspector->memory(),
              m_inspector->storage(), m_inspector->queryResult(), m_inspector->alarmEvents(),
              m_inspector->alarm(), m_inspector->sockets(), m_inspector->gates() };
    std::vector<std::unique_ptr<QAbstractItemModelTester>> testers;
    for (QAbstractItemModel *model : models)
        testers.push_back(std::make_unique<QAbstractItemModelTester>(model, mode));

    // Frames of 100 ms through the whole run, with a query and a room switch on the way.
    for (int frame = 0; frame < 1100; ++frame) {
        m_controller->advanceBy(milliseconds(100));
        if (frame == 300)
            QVERIFY(m_inspector->runQuery(QStringLiteral("SELECT * FROM _cf_KV")).ok());
        if (frame == 500)
            m_inspector->setRoom(QStringLiteral("nobody"));
        if (frame == 520)
            m_inspector->setRoom(QStringLiteral("lab"));
        if (QTest::currentTestFailed())
            return;
    }
    QVERIFY(m_controller->world()->isFinished());
    QCOMPARE(m_inspector->history()->rowCount(), 9);
    QCOMPARE(m_inspector->sockets()->rowCount(), 10);
    QCOMPARE(m_inspector->alarmEvents()->rowCount(), 18);

    // A reload resets every model onto the new run, the room stays selected.
    QVERIFY(m_controller->reload().ok());
    QCOMPARE(m_inspector->room(), QStringLiteral("lab"));
    QCOMPARE(m_inspector->history()->rowCount(), 0);
    QCOMPARE(m_inspector->alarmEvents()->rowCount(), 0);
    QCOMPARE(m_inspector->queryResult()->rowCount(), 0);
    m_controller->advanceBy(seconds(1));
    QCOMPARE(m_inspector->history()->rowCount(), 2);
}

void RoomInspectorTest::summaryBeforeAndAfterConstruction()
{
    const QString id = m_controller->world()->rooms().idFromName(QStringLiteral("lab")).toString();
    RoomInspector::Summary before = m_inspector->summary();
    QCOMPARE(before.room, QStringLiteral("lab"));
    QCOMPARE(before.id, id);
    QCOMPARE(before.id.size(), 64);
    QCOMPARE(before.location, QStringLiteral("LHR (hint)"));
    QCOMPARE(before.className, QStringLiteral("Lab"));
    QCOMPARE(before.backend, QStringLiteral("SQLite"));
    QCOMPARE(before.state, QStringLiteral("not created"));
    QCOMPARE(before.instance, QStringLiteral("no instance yet"));
    QCOMPARE(before.compatibilityDate, QStringLiteral("2026-04-07"));
    QCOMPARE(before.exists, false);
    QCOMPARE(m_inspector->lifecycle()->rowCount(), 0);

    m_controller->advanceBy(seconds(27));
    const RoomInspector::Summary after = m_inspector->summary();
    QCOMPARE(after.exists, true);
    QCOMPARE(after.id, id);
    QCOMPARE(after.location, QStringLiteral("LHR"));
    QCOMPARE(after.state, QStringLiteral("idle, hibernatable"));
    QCOMPARE(after.stateColor, objectStateColor(ObjectState::IdleHibernatable));
    QCOMPARE(after.instance, QStringLiteral("instance 2 · constructor runs 2"));
}

void RoomInspectorTest::historyAfterRun()
{
    m_controller->advanceBy(seconds(110));
    const LifecycleHistoryModel &history = *m_inspector->history();
    QCOMPARE(history.columnCount(), int(LifecycleHistoryModel::ColumnCount));
    QCOMPARE(history.headerData(LifecycleHistoryModel::ReasonColumn, Qt::Horizontal).toString(),
        QStringLiteral("Reason"));

    // The first client's upgrade creates the object, and its constructor runs as it arrives.
    // Each hibernation follows 10 s without events, and the next burst or alarm request
    // constructs it again.
    const QStringList times = { "t+0.086 s", "t+0.088 s", "t+10.935 s", "t+25.004 s", "t+36.007 s",
        "t+40.004 s", "t+66.004 s", "t+75.004 s", "t+106.004 s" };
    const QStringList states = { "inactive", "active", "hibernated", "active", "hibernated",
        "active", "hibernated", "active", "hibernated" };
    const QStringList reasons
        = { "created", "constructor", "idle for 10.000 s", "constructor again", "idle for 10.000 s",
              "constructor again", "idle for 10.000 s", "constructor again", "idle for 10.000 s" };
    QCOMPARE(columnTexts(history, LifecycleHistoryModel::TimeColumn), times);
    QCOMPARE(columnTexts(history, LifecycleHistoryModel::StateColumn), states);
    QCOMPARE(columnTexts(history, LifecycleHistoryModel::ReasonColumn), reasons);
    QCOMPARE(history.index(2, LifecycleHistoryModel::StateColumn)
                 .data(Qt::DecorationRole)
                 .value<QColor>(),
        objectStateColor(ObjectState::Hibernated));
    QCOMPARE(cell(history, 2, LifecycleHistoryModel::TimeColumn, Qt::ToolTipRole),
        QStringLiteral("2026-01-01 00:00:10.935 UTC"));
}

void RoomInspectorTest::lifecyclePropertiesAfterRun()
{
    m_controller->advanceBy(seconds(110));
    const RoomPropertiesModel &lifecycle = *m_inspector->lifecycle();
    QCOMPARE(lifecycle.value(QStringLiteral("State")), QStringLiteral("hibernated"));
    QCOMPARE(lifecycle.value(QStringLiteral("Hibernates after")), QStringLiteral("10.000 s idle"));
    QCOMPARE(lifecycle.value(QStringLiteral("Evicted after")),
        QStringLiteral("1 min 10 s to 2 min 20 s idle"));
    QCOMPARE(lifecycle.value(QStringLiteral("Shutdown grace")), QStringLiteral("30.000 s"));
    QCOMPARE(lifecycle.value(QStringLiteral("blockConcurrencyWhile timeout")),
        QStringLiteral("30.000 s"));
    QCOMPARE(lifecycle.value(QStringLiteral("Keeps it awake")), QStringLiteral("not in memory"));
    QCOMPARE(lifecycle.value(QStringLiteral("Requests handled")), QStringLiteral("72"));
    QCOMPARE(lifecycle.value(QStringLiteral("Created")), QStringLiteral("t+0.086 s"));
    QCOMPARE(lifecycle.value(QStringLiteral("no such property")), QString());
}

void RoomInspectorTest::memoryAndStorageAroundHibernation()
{
    // After the first bursts: ten /count-memory requests all read 0 and wrote 1, ten
    // /count-storage requests counted 1 to 10.
    m_controller->advanceBy(seconds(27));
    const MemoryStateModel &memory = *m_inspector->memory();
    const StorageEntriesModel &storage = *m_inspector->storage();
    QCOMPARE(columnTexts(memory, MemoryStateModel::FieldColumn),
        (QStringList { "count", "messages seen", "constructed at", "instance" }));
    QCOMPARE(columnTexts(memory, MemoryStateModel::ValueColumn),
        (QStringList { "1", "0", "2026-01-01T00:00:25.004Z", "2" }));
    QCOMPARE(columnTexts(storage, StorageEntriesModel::KeyColumn), QStringList { "count" });
    QCOMPARE(storage.valueText(QStringLiteral("count")), QStringLiteral("10"));
    QCOMPARE(cell(storage, 0, StorageEntriesModel::SizeColumn), QStringLiteral("2"));
    QCOMPARE(storage.index(0, StorageEntriesModel::ValueColumn).data(RawValueRole).toByteArray(),
        QByteArray("10"));
    QCOMPARE(storage.isTruncated(), false);
    QCOMPARE(storage.listError(), QString());

    // 10 s after the last event the room hibernates: the in-memory count is gone, the stored
    // one stays.
    m_controller->advanceBy(seconds(10));
    QCOMPARE(m_controller->world()->roomObject("lab")->state(), ObjectState::Hibernated);
    QCOMPARE(memory.rowCount(), 0);
    QCOMPARE(storage.valueText(QStringLiteral("count")), QStringLiteral("10"));

    // The alarm request at 40 s constructs instance 3, whose count starts from 0 again. So the
    // next bursts, at 50 s and 51 s, give 1 in memory and 20 in storage.
    m_controller->advanceBy(seconds(15));
    QCOMPARE(columnTexts(memory, MemoryStateModel::ValueColumn),
        (QStringList { "1", "0", "2026-01-01T00:00:40.004Z", "3" }));
    QCOMPARE(storage.valueText(QStringLiteral("count")), QStringLiteral("20"));
    QCOMPARE(columnTexts(storage, StorageEntriesModel::KeyColumn),
        (QStringList { "alarm.failuresLeft", "alarm.runs", "count" }));
}

void RoomInspectorTest::alarmAfterRun()
{
    m_controller->advanceBy(seconds(110));
    const RoomPropertiesModel &alarm = *m_inspector->alarm();
    QCOMPARE(alarm.value(QStringLiteral("Alarm")), QStringLiteral("not set"));
    QCOMPARE(alarm.value(QStringLiteral("Handler running")), QStringLiteral("no"));
    QCOMPARE(alarm.value(QStringLiteral("retryCount")), QStringLiteral("0"));
    QCOMPARE(alarm.value(QStringLiteral("Runs")), QStringLiteral("8"));
    QCOMPARE(alarm.value(QStringLiteral("Retry policy")),
        QStringLiteral("up to 6 retries, the first after 2.000 s, each doubling the delay"));
    QCOMPARE(m_inspector->storage()->valueText(QStringLiteral("alarm.runs")), QStringLiteral("8"));

    // Each request sets the alarm 2 s ahead. The first 3 runs fail, and the retries follow
    // 2 s, 4 s and 8 s after each failure.
    const AlarmEventsModel &events = *m_inspector->alarmEvents();
    QCOMPARE(events.rowCount(), 18);
    const QStringList firstCycle = columnTexts(events, AlarmEventsModel::EventColumn).mid(0, 8);
    QCOMPARE(firstCycle,
        (QStringList { "set", "run", "retry scheduled", "run (retry)", "retry scheduled",
            "run (retry)", "retry scheduled", "run (retry)" }));
    QCOMPARE(columnTexts(events, AlarmEventsModel::TimeColumn).mid(0, 8),
        (QStringList { "t+40.004 s", "t+42.004 s", "t+42.004 s", "t+44.004 s", "t+44.004 s",
            "t+48.004 s", "t+48.004 s", "t+56.004 s" }));
    QCOMPARE(columnTexts(events, AlarmEventsModel::RetryCountColumn).mid(0, 8),
        (QStringList { "", "0", "1", "1", "2", "2", "3", "3" }));
    QCOMPARE(columnTexts(events, AlarmEventsModel::ScheduledColumn).mid(0, 8),
        (QStringList { "t+42.004 s", "t+42.004 s", "t+44.004 s", "t+44.004 s", "t+48.004 s",
            "t+48.004 s", "t+56.004 s", "t+56.004 s" }));
    QCOMPARE(cell(events, 2, AlarmEventsModel::ErrorColumn),
        QStringLiteral("Error: alarm failed on purpose (retryCount 0, failures left after this one: 2)"));
    QCOMPARE(cell(events, 6, AlarmEventsModel::ErrorColumn),
        QStringLiteral("Error: alarm failed on purpose (retryCount 2, failures left after this one: 0)"));
    QCOMPARE(cell(events, 1, AlarmEventsModel::ErrorColumn), QString());
    QCOMPARE(events.index(2, 0).data(HighlightRole).value<Highlight>(), Highlight::Warning);
    QCOMPARE(events.index(1, 0).data(HighlightRole).value<Highlight>(), Highlight::None);
    // The fourth run succeeds, which clears the alarm.
    QCOMPARE(cell(events, 8, AlarmEventsModel::EventColumn), QStringLiteral("completed"));
    QCOMPARE(cell(events, 8, AlarmEventsModel::TimeColumn), QStringLiteral("t+56.004 s"));
    QCOMPARE(cell(events, 8, AlarmEventsModel::ScheduledColumn), QString());
    QCOMPARE(cell(events, 9, AlarmEventsModel::TimeColumn), QStringLiteral("t+80.004 s"));
    QCOMPARE(cell(events, 16, AlarmEventsModel::EventColumn), QStringLiteral("run (retry)"));
    QCOMPARE(cell(events, 17, AlarmEventsModel::EventColumn), QStringLiteral("completed"));
}

void RoomInspectorTest::socketsAfterRun()
{
    m_controller->advanceBy(seconds(110));
    const ServerSocketsModel &sockets = *m_inspector->sockets();
    QCOMPARE(sockets.rowCount(), 10);
    QCOMPARE(sockets.columnCount(), int(ServerSocketsModel::ColumnCount));
    QSet<QString> clients;
    for (int row = 0; row < sockets.rowCount(); ++row) {
        clients << cell(sockets, row, ServerSocketsModel::ClientColumn);
        QCOMPARE(cell(sockets, row, ServerSocketsModel::StateColumn), QStringLiteral("Open"));
        QCOMPARE(cell(sockets, row, ServerSocketsModel::ApiColumn), QStringLiteral("hibernatable"));
        QCOMPARE(cell(sockets, row, ServerSocketsModel::TagsColumn), QString());
        QCOMPARE(cell(sockets, row, ServerSocketsModel::AttachmentColumn), QString());
        QCOMPARE(cell(sockets, row, ServerSocketsModel::AutoResponseColumn), QString());
        QCOMPARE(cell(sockets, row, ServerSocketsModel::MessagesInColumn), QStringLiteral("0"));
        QCOMPARE(cell(sockets, row, ServerSocketsModel::MessagesOutColumn), QStringLiteral("0"));
        QVERIFY(cell(sockets, row, ServerSocketsModel::ConnectionColumn).toULongLong() > 0);
    }
    QSet<QString> expected;
    for (const QString location : { "LHR", "SJC" }) {
        for (int number = 1; number <= 5; ++number)
            expected << QStringLiteral("lab/%1/%2").arg(location).arg(number);
    }
    QCOMPARE(clients, expected);
}

void RoomInspectorTest::gatesDuringLostUpdateBurst()
{
    // The lost-update burst starts at 25 s: the ten /count-memory requests reach the room,
    // read count 0 and all await the 50 ms upstream fetch at once, because a fetch does not
    // close the input gate.
    m_controller->advanceBy(seconds(25) + milliseconds(20));
    const RoomPropertiesModel &gates = *m_inspector->gates();
    QCOMPARE(gates.value(QStringLiteral("Input gate")), QStringLiteral("open"));
    QCOMPARE(gates.value(QStringLiteral("Queued events")), QStringLiteral("0"));
    QCOMPARE(gates.value(QStringLiteral("Events in flight")), QStringLiteral("10"));
    QCOMPARE(gates.value(QStringLiteral("Input locks")), QStringLiteral("0"));
    QCOMPARE(gates.value(QStringLiteral("blockConcurrencyWhile")), QStringLiteral("not running"));
    QCOMPARE(gates.value(QStringLiteral("Pending I/O")), QStringLiteral("10"));
    QCOMPARE(gates.value(QStringLiteral("Next storage commit")), QStringLiteral("normal"));
    QCOMPARE(m_inspector->lifecycle()->value(QStringLiteral("Keeps it awake")),
        QStringLiteral("10 events in flight, 10 outbound I/O operations"));
    QCOMPARE(m_inspector->summary().state, QStringLiteral("active"));
}

void RoomInspectorTest::gatesWhileStorageReadsQueue()
{
    // At 26.004 s ten /count-storage requests arrive together. The first one's storage read
    // closes the input gate, so the other nine wait in the queue until it completes.
    m_controller->advanceBy(seconds(26));
    const RoomPropertiesModel &gates = *m_inspector->gates();
    int steps = 0;
    while (gates.value(QStringLiteral("Queued events")) != QLatin1String("9") && steps < 200) {
        QVERIFY(m_controller->step());
        ++steps;
    }
    QCOMPARE(gates.value(QStringLiteral("Queued events")), QStringLiteral("9"));
    QCOMPARE(formatRunOffset(m_controller->world()->simulation().now(), start()),
        QStringLiteral("t+26.004 s"));
    QCOMPARE(gates.value(QStringLiteral("Input gate")), QStringLiteral("closed"));
    QCOMPARE(gates.value(QStringLiteral("Input locks")), QStringLiteral("1"));
    QCOMPARE(gates.value(QStringLiteral("Events in flight")), QStringLiteral("1"));
    QCOMPARE(
        gates.index(0, RoomPropertiesModel::ValueColumn).data(HighlightRole).value<Highlight>(),
        Highlight::Warning);
    QCOMPARE(m_inspector->lifecycle()->value(QStringLiteral("Keeps it awake")),
        QStringLiteral("1 event in flight, 9 queued events"));

    // Once the burst is done, every batch is confirmed and the gate is open again.
    m_controller->advanceBy(seconds(1));
    QCOMPARE(gates.value(QStringLiteral("Input gate")), QStringLiteral("open"));
    QCOMPARE(gates.value(QStringLiteral("Queued events")), QStringLiteral("0"));
    QCOMPARE(gates.value(QStringLiteral("Held outputs")), QStringLiteral("0"));
    QCOMPARE(gates.value(QStringLiteral("Last batch")), QStringLiteral("10"));
    QCOMPARE(gates.value(QStringLiteral("Confirmed batch")), QStringLiteral("10"));
    QCOMPARE(m_inspector->storage()->valueText(QStringLiteral("count")), QStringLiteral("10"));
}

void RoomInspectorTest::hibernateAndEvictFailWhileBusy()
{
    m_controller->advanceBy(seconds(25) + milliseconds(20));
    QVERIFY(m_inspector->isAvailable(RoomInspector::Action::Hibernate));
    const Result<QString> hibernated = m_inspector->trigger(RoomInspector::Action::Hibernate);
    QVERIFY(!hibernated.ok());
    QCOMPARE(hibernated.error().message,
        QStringLiteral("Could not hibernate room lab: 10 events in flight, 10 outbound I/O "
                       "operations."));
    const Result<QString> evicted = m_inspector->trigger(RoomInspector::Action::Evict);
    QVERIFY(!evicted.ok());
    QCOMPARE(evicted.error().message,
        QStringLiteral("Could not evict room lab: 10 events in flight, 10 outbound I/O "
                       "operations."));
    QCOMPARE(m_controller->world()->roomObject("lab")->state(), ObjectState::Active);
    QCOMPARE(m_inspector->memory()->rowCount(), 4);
}

void RoomInspectorTest::hibernateDropsMemoryKeepsStorage()
{
    m_controller->advanceBy(seconds(27));
    QSignalSpy advanced(m_controller, &SimulationController::advanced);
    const Result<QString> hibernated = m_inspector->trigger(RoomInspector::Action::Hibernate);
    QVERIFY(hibernated.ok());
    QCOMPARE(hibernated.value(),
        QStringLiteral("Hibernated room lab: its in-memory fields are gone, and the next event "
                       "runs the constructor again."));
    // The views refresh at once, without a frame.
    QCOMPARE(advanced.count(), 1);
    QCOMPARE(m_inspector->summary().state, QStringLiteral("hibernated"));
    QCOMPARE(m_inspector->memory()->rowCount(), 0);
    QCOMPARE(m_inspector->storage()->valueText(QStringLiteral("count")), QStringLiteral("10"));
    QCOMPARE(m_inspector->sockets()->rowCount(), 10);
    const LifecycleHistoryModel &history = *m_inspector->history();
    QCOMPARE(cell(history, history.rowCount() - 1, LifecycleHistoryModel::ReasonColumn),
        QStringLiteral("hibernated from the inspector"));
    QCOMPARE(cell(history, history.rowCount() - 1, LifecycleHistoryModel::TimeColumn),
        QStringLiteral("t+27.000 s"));
    QVERIFY(!m_inspector->isAvailable(RoomInspector::Action::Hibernate));
    QVERIFY(!m_inspector->isAvailable(RoomInspector::Action::Evict));
    QVERIFY(m_inspector->isAvailable(RoomInspector::Action::Reset));

    const Result<QString> again = m_inspector->trigger(RoomInspector::Action::Hibernate);
    QVERIFY(!again.ok());
    QCOMPARE(again.error().message,
        QStringLiteral("Could not hibernate room lab: it is not in memory."));

    // The next request constructs instance 3, whose in-memory count starts over.
    QList<HttpResponse> responses;
    sendConcurrent(QStringLiteral("count-memory"), 1, &responses);
    m_controller->advanceBy(seconds(1));
    QCOMPARE(responses.size(), 1);
    QCOMPARE(responses.first().body, QByteArray("1"));
    QCOMPARE(m_inspector->summary().instance, QStringLiteral("instance 3 · constructor runs 3"));
}

void RoomInspectorTest::evictClosesSockets()
{
    m_controller->advanceBy(seconds(27));
    const Result<QString> evicted = m_inspector->trigger(RoomInspector::Action::Evict);
    QVERIFY(evicted.ok());
    QCOMPARE(evicted.value(),
        QStringLiteral("Evicted room lab: its WebSockets closed and its in-memory fields are "
                       "gone."));
    QCOMPARE(m_inspector->summary().state, QStringLiteral("inactive"));
    QCOMPARE(m_inspector->sockets()->rowCount(), 0);
    QCOMPARE(m_inspector->memory()->rowCount(), 0);
    QCOMPARE(m_inspector->storage()->valueText(QStringLiteral("count")), QStringLiteral("10"));
    const LifecycleHistoryModel &history = *m_inspector->history();
    QCOMPARE(cell(history, history.rowCount() - 1, LifecycleHistoryModel::StateColumn),
        QStringLiteral("inactive"));
    QCOMPARE(cell(history, history.rowCount() - 1, LifecycleHistoryModel::ReasonColumn),
        QStringLiteral("evicted from the inspector"));
    // Nothing is left to reset: no instance and no socket.
    QVERIFY(!m_inspector->isAvailable(RoomInspector::Action::Reset));
    QVERIFY(!m_inspector->isAvailable(RoomInspector::Action::Shutdown));
}

void RoomInspectorTest::resetFailsInFlightRequests()
{
    m_controller->advanceBy(seconds(27));
    QList<HttpResponse> responses;
    sendConcurrent(QStringLiteral("count-memory"), 3, &responses);
    m_controller->advanceBy(milliseconds(20));
    QCOMPARE(m_inspector->gates()->value(QStringLiteral("Events in flight")), QStringLiteral("3"));

    const Result<QString> reset = m_inspector->trigger(RoomInspector::Action::Reset);
    QVERIFY(reset.ok());
    QCOMPARE(reset.value(),
        QStringLiteral("Reset room lab: in-flight requests failed and its WebSockets closed."));
    m_controller->advanceBy(seconds(1));
    QCOMPARE(responses.size(), 3);
    for (const HttpResponse &response : responses) {
        QCOMPARE(response.status, 500);
        QVERIFY2(response.body.contains("Durable Object reset from the Roomscope inspector."),
            response.body.constData());
    }
    QCOMPARE(m_inspector->summary().state, QStringLiteral("inactive"));
    QCOMPARE(m_inspector->sockets()->rowCount(), 0);
    const LifecycleHistoryModel &history = *m_inspector->history();
    QCOMPARE(cell(history, history.rowCount() - 1, LifecycleHistoryModel::ReasonColumn),
        QStringLiteral("reset: Durable Object reset from the Roomscope inspector."));
    QCOMPARE(m_inspector->storage()->valueText(QStringLiteral("count")), QStringLiteral("10"));
}

void RoomInspectorTest::shutdownWithoutRequestsDropsInstance()
{
    m_controller->advanceBy(seconds(27));
    const Result<QString> shutdown = m_inspector->trigger(RoomInspector::Action::Shutdown);
    QVERIFY(shutdown.ok());
    QCOMPARE(shutdown.value(),
        QStringLiteral("Shut down room lab: its WebSockets closed and its in-memory fields are "
                       "gone."));
    QCOMPARE(m_inspector->summary().state, QStringLiteral("inactive"));
    QCOMPARE(m_inspector->sockets()->rowCount(), 0);
    const LifecycleHistoryModel &history = *m_inspector->history();
    QCOMPARE(cell(history, history.rowCount() - 1, LifecycleHistoryModel::ReasonColumn),
        QStringLiteral("shut down"));
}

void RoomInspectorTest::fireAlarmNowRunsHandler()
{
    // The alarm request at 40 s sets the alarm for 42.004 s.
    m_controller->advanceBy(seconds(41));
    QCOMPARE(m_inspector->alarm()->value(QStringLiteral("Alarm")),
        QStringLiteral("t+42.004 s (in 1.004 s)"));
    QVERIFY(m_inspector->isAvailable(RoomInspector::Action::FireAlarm));
    const Result<QString> fired = m_inspector->trigger(RoomInspector::Action::FireAlarm);
    QVERIFY(fired.ok());
    QCOMPARE(fired.value(),
        QStringLiteral("The alarm of room lab is due now. Run or step the simulation to run its "
                       "handler."));
    QCOMPARE(m_inspector->alarm()->value(QStringLiteral("Alarm")),
        QStringLiteral("t+41.000 s (in 0 µs)"));

    m_controller->advanceBy(milliseconds(100));
    const AlarmEventsModel &events = *m_inspector->alarmEvents();
    QCOMPARE(cell(events, 1, AlarmEventsModel::EventColumn), QStringLiteral("run"));
    QCOMPARE(cell(events, 1, AlarmEventsModel::TimeColumn), QStringLiteral("t+41.000 s"));
    QCOMPARE(cell(events, 2, AlarmEventsModel::EventColumn), QStringLiteral("retry scheduled"));
    QCOMPARE(cell(events, 2, AlarmEventsModel::ScheduledColumn), QStringLiteral("t+43.000 s"));
    QCOMPARE(m_inspector->alarm()->value(QStringLiteral("Runs")), QStringLiteral("1"));
    QCOMPARE(m_inspector->alarm()->value(QStringLiteral("retryCount")), QStringLiteral("1"));

    // Without an alarm, the action is unavailable and its error gives the reason.
    m_controller->advanceBy(seconds(20));
    QCOMPARE(m_inspector->alarm()->value(QStringLiteral("Alarm")), QStringLiteral("not set"));
    QVERIFY(!m_inspector->isAvailable(RoomInspector::Action::FireAlarm));
    const Result<QString> none = m_inspector->trigger(RoomInspector::Action::FireAlarm);
    QVERIFY(!none.ok());
    QCOMPARE(none.error().message,
        QStringLiteral("Could not fire the alarm of room lab: no alarm is set."));
}

void RoomInspectorTest::failNextCommitResetsObject()
{
    m_controller->advanceBy(seconds(27));
    QVERIFY(m_inspector->isAvailable(RoomInspector::Action::FailNextCommit));
    const Result<QString> armed = m_inspector->trigger(RoomInspector::Action::FailNextCommit);
    QVERIFY(armed.ok());
    QCOMPARE(armed.value(),
        QStringLiteral("The next storage commit of room lab fails, which resets the object."));
    QCOMPARE(m_inspector->gates()->value(QStringLiteral("Next storage commit")),
        QStringLiteral("fails (injected)"));
    QVERIFY(!m_inspector->isAvailable(RoomInspector::Action::FailNextCommit));

    // The next /count-storage write fails to commit: the object resets, the response is an
    // error, and the stored count keeps its confirmed value.
    QList<HttpResponse> responses;
    sendConcurrent(QStringLiteral("count-storage"), 1, &responses);
    m_controller->advanceBy(seconds(1));
    QCOMPARE(responses.size(), 1);
    QCOMPARE(responses.first().status, 500);
    QCOMPARE(m_inspector->gates()->value(QStringLiteral("Next storage commit")),
        QStringLiteral("normal"));
    QCOMPARE(m_inspector->summary().state, QStringLiteral("inactive"));
    QCOMPARE(m_inspector->storage()->valueText(QStringLiteral("count")), QStringLiteral("10"));
    const LifecycleHistoryModel &history = *m_inspector->history();
    QVERIFY2(cell(history, history.rowCount() - 1, LifecycleHistoryModel::ReasonColumn)
                 .startsWith(QLatin1String("reset: ")),
        qPrintable(cell(history, history.rowCount() - 1, LifecycleHistoryModel::ReasonColumn)));
}

void RoomInspectorTest::actionsUnavailableBeforeConstruction()
{
    using Action = RoomInspector::Action;
    for (Action action : { Action::Hibernate, Action::Evict, Action::Reset, Action::Shutdown,
             Action::FireAlarm, Action::FailNextCommit }) {
        QVERIFY(!m_inspector->isAvailable(action));
        QVERIFY(!RoomInspector::actionToolTip(action).isEmpty());
        const Result<QString> outcome = m_inspector->trigger(action);
        QVERIFY(!outcome.ok());
        QCOMPARE(outcome.error().message,
            QStringLiteral("Room lab has no Durable Object yet. Send it a request first."));
    }
}

void RoomInspectorTest::queryShowsRowsAndErrors()
{
    const Result<QString> early = m_inspector->runQuery(QStringLiteral("SELECT 1"));
    QVERIFY(!early.ok());
    QCOMPARE(early.error().message,
        QStringLiteral("Room lab has no Durable Object yet, so it has no database. Send it a "
                       "request first."));

    m_controller->advanceBy(seconds(27));
    QCOMPARE(m_inspector->tableNames(), QStringList { "_cf_KV" });
    const Result<QString> rows
        = m_inspector->runQuery(QStringLiteral("SELECT key, value, length(value) AS bytes FROM "
                                               "_cf_KV ORDER BY key"));
    QVERIFY2(rows.ok(), rows.ok() ? "" : qPrintable(rows.error().message));
    QCOMPARE(rows.value(), QStringLiteral("1 row"));
    const SqlResultModel &result = *m_inspector->queryResult();
    QCOMPARE(result.columnCount(), 3);
    QCOMPARE(result.headerData(0, Qt::Horizontal).toString(), QStringLiteral("key"));
    QCOMPARE(result.headerData(2, Qt::Horizontal).toString(), QStringLiteral("bytes"));
    QCOMPARE(result.rowCount(), 1);
    QCOMPARE(cell(result, 0, 0), QStringLiteral("count"));
    QCOMPARE(cell(result, 0, 1), QStringLiteral("10"));
    QCOMPARE(result.index(0, 1).data(RawValueRole).toByteArray(), QByteArray("10"));
    QCOMPARE(cell(result, 0, 2), QStringLiteral("2"));

    const Result<QString> nulls = m_inspector->runQuery(QStringLiteral("SELECT NULL AS empty"));
    QVERIFY(nulls.ok());
    QCOMPARE(cell(result, 0, 0), QStringLiteral("NULL"));

    // The inspector's SQL is read-only: a write is rejected and changes nothing.
    const Result<QString> write = m_inspector->runQuery(QStringLiteral("DELETE FROM _cf_KV"));
    QVERIFY(!write.ok());
    QCOMPARE(write.error().message,
        QStringLiteral("The storage inspector runs read-only statements only."));
    QCOMPARE(result.rowCount(), 0);
    QCOMPARE(result.columnCount(), 0);
    QCOMPARE(m_inspector->storage()->valueText(QStringLiteral("count")), QStringLiteral("10"));

    const Result<QString> syntax = m_inspector->runQuery(QStringLiteral("SELEC 1"));
    QVERIFY(!syntax.ok());
    QCOMPARE(syntax.error().message,
        QStringLiteral("near \"SELEC\": syntax error at offset 0: SQLITE_ERROR"));
}

void RoomInspectorTest::roomFollowsNewRun()
{
    QSignalSpy changed(m_inspector, &RoomInspector::roomChanged);
    m_inspector->setRoom(QStringLiteral("elsewhere"));
    QCOMPARE(changed.count(), 1);
    QCOMPARE(m_inspector->summary().location, QString());
    QCOMPARE(m_inspector->summary().state, QStringLiteral("not created"));
    QCOMPARE(m_inspector->object(), nullptr);

    // A run without that room selects its first room.
    QVERIFY(m_controller->reload().ok());
    QCOMPARE(m_inspector->room(), QStringLiteral("lab"));
    QCOMPARE(changed.count(), 2);

    const QString kvRoom = qEnvironmentVariable("ROOMSCOPE_SOURCE_DIR")
        + QStringLiteral("/resources/scenarios/kv-room.json");
    QVERIFY(m_controller->load(kvRoom).ok());
    QCOMPARE(m_inspector->room(), QStringLiteral("lobby"));
    QCOMPARE(m_inspector->summary().className, QStringLiteral("Room"));
}

QTEST_GUILESS_MAIN(RoomInspectorTest)
#include "tst_roominspector.moc"
