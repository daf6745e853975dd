#include "eventfilter.h"
#include "eventlogfiltermodel.h"
#include "eventlogmodel.h"
#include "modelroles.h"
#include "simulationcontroller.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

using namespace roomscope;

Q_DECLARE_METATYPE(roomscope::EventFilter::State)

class EventFilterTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parse_data();
    void parse();
    void matches_data();
    void matches();
    void proxyOnRun();
    void proxyKeepsFilterWhenInvalid();

private:
    static TraceEvent event(TraceKind kind, const QString &actor, const QString &location,
        const QString &subject, qint64 first = 0, const QByteArray &value = {});
};

TraceEvent EventFilterTest::event(TraceKind kind, const QString &actor, const QString &location,
    const QString &subject, qint64 first, const QByteArray &value)
{
    TraceEvent event;
    event.time = seconds(12) + milliseconds(345);
    event.kind = kind;
    event.actor = actor;
    event.location = location;
    event.subject = subject;
    event.numbers[0] = first;
    event.value = value;
    return event;
}

void EventFilterTest::parse_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<EventFilter::State>("state");
    QTest::addColumn<QString>("errorPart");

    QTest::newRow("empty") << "" << EventFilter::State::Empty << "";
    QTest::newRow("spaces only") << "   " << EventFilter::State::Empty << "";
    QTest::newRow("free text") << "lobby" << EventFilter::State::Valid << "";
    QTest::newRow("exact kind") << "kind:kv.put" << EventFilter::State::Valid << "";
    QTest::newRow("kind family") << "kind:ws" << EventFilter::State::Valid << "";
    QTest::newRow("field name in capitals") << "KIND:kv.get" << EventFilter::State::Valid << "";
    QTest::newRow("unknown kind") << "kind:kv.pt" << EventFilter::State::Invalid
                                  << "Unknown event kind \"kv.pt\"";
    QTest::newRow("empty kind") << "kind:" << EventFilter::State::Invalid << "kind: needs a value";
    QTest::newRow("empty room") << "room:" << EventFilter::State::Invalid << "room: needs a value";
    QTest::newRow("negated term") << "!kind:ws.deliver" << EventFilter::State::Valid << "";
    QTest::newRow("lone negation")
        << "kind:kv ! " << EventFilter::State::Invalid << "negates nothing";
    QTest::newRow("quoted actor") << "actor:\"workload lobby-writers\"" << EventFilter::State::Valid
                                  << "";
    QTest::newRow("open quote") << "actor:\"workload" << EventFilter::State::Invalid
                                << "column 7 is not closed";
    QTest::newRow("key with colon is text") << "lobby:state" << EventFilter::State::Valid << "";
}

void EventFilterTest::parse()
{
    QFETCH(QString, text);
    QFETCH(EventFilter::State, state);
    QFETCH(QString, errorPart);

    const EventFilter filter = EventFilter::parse(text);
    QCOMPARE(filter.state(), state);
    if (errorPart.isEmpty())
        QVERIFY2(filter.errorMessage().isEmpty(), qPrintable(filter.errorMessage()));
    else
        QVERIFY2(filter.errorMessage().contains(errorPart), qPrintable(filter.errorMessage()));
}

void EventFilterTest::matches_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<TraceEvent>("event");
    QTest::addColumn<bool>("expected");

    const TraceEvent put
        = event(TraceKind::KvPut, "room lobby", "LHR", "announcement", 200, "lobby-writers#7");
    const TraceEvent deliver = event(TraceKind::WsDeliver, "lobby/NRT/3", "NRT", "lobby", 17, "x");
    const TraceEvent requestToArena
        = event(TraceKind::RequestStart, "workload arena-writers", "SJC", "arena");

    QTest::newRow("kind exact match") << "kind:kv.put" << put << true;
    QTest::newRow("kind exact mismatch") << "kind:kv.get" << put << false;
    QTest::newRow("kind family match") << "kind:kv" << put << true;
    QTest::newRow("kind family mismatch") << "kind:ws" << put << false;
    QTest::newRow("actor substring any case") << "actor:LOBBY" << put << true;
    QTest::newRow("actor mismatch") << "actor:arena" << put << false;
    QTest::newRow("room by object actor") << "room:lobby" << put << true;
    QTest::newRow("room by client actor") << "room:lobby" << deliver << true;
    QTest::newRow("room by request subject") << "room:arena" << requestToArena << true;
    QTest::newRow("room is exact") << "room:lob" << put << false;
    QTest::newRow("location any case") << "location:lhr" << put << true;
    QTest::newRow("location alias") << "loc:NRT" << deliver << true;
    QTest::newRow("location mismatch") << "location:SJC" << put << false;
    QTest::newRow("key on kv event") << "key:announcement" << put << true;
    QTest::newRow("key ignores room subject") << "key:lobby" << deliver << false;
    QTest::newRow("text in details") << "writers#7" << put << true;
    QTest::newRow("text in time column") << "12.345" << put << true;
    QTest::newRow("text absent") << "nothing-like-this" << put << false;
    QTest::newRow("negated kind hides") << "!kind:ws.deliver" << deliver << false;
    QTest::newRow("negated kind keeps") << "!kind:ws.deliver" << put << true;
    QTest::newRow("all terms must match") << "kind:kv.put location:SJC" << put << false;
    QTest::newRow("two matching terms") << "kind:kv.put actor:lobby" << put << true;
    QTest::newRow("quoted text with space") << "actor:\"workload arena\"" << requestToArena << true;
    QTest::newRow("invalid filter matches all") << "kind:nope" << put << true;
}

void EventFilterTest::matches()
{
    QFETCH(QString, text);
    QFETCH(TraceEvent, event);
    QFETCH(bool, expected);
    QCOMPARE(EventFilter::parse(text).matches(event, 0), expected);
}

void EventFilterTest::proxyOnRun()
{
    SimulationController controller;
    QVERIFY(controller
                .load(qEnvironmentVariable("ROOMSCOPE_SOURCE_DIR")
                    + QStringLiteral("/resources/scenarios/kv-room.json"))
                .ok());
    EventLogModel log(&controller);
    EventLogFilterModel proxy;
    proxy.setSourceModel(&log);
    QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    controller.advanceBy(seconds(5));

    int puts = 0;
    int delivers = 0;
    for (int row = 0; row < log.rowCount(); ++row) {
        puts += log.event(row).kind == TraceKind::KvPut ? 1 : 0;
        delivers += log.event(row).kind == TraceKind::WsDeliver ? 1 : 0;
    }
    QVERIFY(puts > 0);
    QVERIFY(delivers > 0);

    proxy.setFilterText(QStringLiteral("kind:kv.put"));
    QCOMPARE(proxy.rowCount(), puts);
    for (int row = 0; row < proxy.rowCount(); ++row)
        QCOMPARE(proxy.index(row, EventLogModel::KindColumn).data().toString(),
            QStringLiteral("kv.put"));

    proxy.setFilterText(QStringLiteral("!kind:ws.deliver"));
    QCOMPARE(proxy.rowCount(), log.rowCount() - delivers);

    // Rows that arrive later are filtered too.
    const int before = proxy.rowCount();
    controller.advanceBy(seconds(2));
    QVERIFY(proxy.rowCount() > before);
    for (int row = 0; row < proxy.rowCount(); ++row)
        QVERIFY(proxy.index(row, EventLogModel::KindColumn).data().toString()
            != QLatin1String("ws.deliver"));

    proxy.setFilterText(QString());
    QCOMPARE(proxy.filterState(), EventFilter::State::Empty);
    QCOMPARE(proxy.rowCount(), log.rowCount());
}

void EventFilterTest::proxyKeepsFilterWhenInvalid()
{
    SimulationController controller;
    QVERIFY(controller
                .load(qEnvironmentVariable("ROOMSCOPE_SOURCE_DIR")
                    + QStringLiteral("/resources/scenarios/kv-room.json"))
                .ok());
    EventLogModel log(&controller);
    EventLogFilterModel proxy;
    proxy.setSourceModel(&log);
    controller.advanceBy(seconds(4));
    QSignalSpy states(&proxy, &EventLogFilterModel::filterStateChanged);

    proxy.setFilterText(QStringLiteral("room:arena"));
    const int arenaRows = proxy.rowCount();
    QVERIFY(arenaRows > 0);
    QVERIFY(arenaRows < log.rowCount());
    QCOMPARE(states.count(), 1);
    QCOMPARE(states.at(0).at(0).value<EventFilter::State>(), EventFilter::State::Valid);

    proxy.setFilterText(QStringLiteral("room:arena kind:kv.pt"));
    QCOMPARE(proxy.filterState(), EventFilter::State::Invalid);
    QVERIFY2(proxy.filterError().contains(QLatin1String("kv.pt")), qPrintable(proxy.filterError()));
    QCOMPARE(proxy.rowCount(), arenaRows);
    QCOMPARE(proxy.appliedFilter().text(), QStringLiteral("room:arena"));
    QCOMPARE(states.count(), 2);
    QCOMPARE(states.at(1).at(0).value<EventFilter::State>(), EventFilter::State::Invalid);
    QCOMPARE(states.at(1).at(1).toString(), proxy.filterError());
}

QTEST_GUILESS_MAIN(EventFilterTest)
#include "tst_eventfilter.moc"
