#include "modelroles.h"
#include "scripterrorfixture.h"
#include "scripterrorsmodel.h"
#include "simulationcontroller.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace roomscope;
using namespace roomscope::testing;

class ScriptErrorsModelTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void rowsShowDefects();
    void repeatsUpdateOneRow();
    void traceEventFindsRow();
    void reloadClearsRows();

private:
    HttpResponse get(const QString &target);
    QString cell(int row, int column) const;

    QTemporaryDir *m_folder = nullptr;
    SimulationController *m_controller = nullptr;
    ScriptErrorsModel *m_model = nullptr;
};

void ScriptErrorsModelTest::init()
{
    m_folder = new QTemporaryDir;
    QVERIFY(m_folder->isValid());
    m_controller = new SimulationController;
    const Status loaded = m_controller->load(writeDefectiveWorker(m_folder->path()));
    QVERIFY2(loaded.ok(), qPrintable(loaded ? QString() : loaded.error().message));
    m_model = new ScriptErrorsModel(m_controller);
}

void ScriptErrorsModelTest::cleanup()
{
    delete m_model;
    delete m_controller;
    delete m_folder;
}

HttpResponse ScriptErrorsModelTest::get(const QString &target)
{
    HttpRequest request;
    request.url = QUrl(QStringLiteral("http://127.0.0.1:8787") + target);
    std::optional<HttpResponse> response;
    m_controller->sendRequest(QStringLiteral("test"), 0, request,
        [&response](const HttpResponse &received) { response = received; });
    for (int i = 0; i < 100 && !response; ++i)
        m_controller->advanceBy(milliseconds(100));
    return response.value_or(HttpResponse::text(0, "no response within 10 s"));
}

QString ScriptErrorsModelTest::cell(int row, int column) const
{
    return m_model->data(m_model->index(row, column)).toString();
}

void ScriptErrorsModelTest::rowsShowDefects()
{
    QAbstractItemModelTester tester(m_model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy counts(m_model, &ScriptErrorsModel::occurrenceCountChanged);
    QCOMPARE(m_model->rowCount(), 0);

    QCOMPARE(get(QStringLiteral("/?roomId=room-1")).status, 500);
    QCOMPARE(get(QStringLiteral("/")).status, 500);
    QCOMPARE(get(QStringLiteral("/direct")).status, 500);
    QCOMPARE(m_model->rowCount(), 3);
    QCOMPARE(m_model->occurrenceCount(), quint64(3));
    QVERIFY(!counts.isEmpty());
    QCOMPARE(counts.last().at(0).toULongLong(), quint64(3));

    QCOMPARE(cell(0, ScriptErrorsModel::WhereColumn), QStringLiteral("fetch in worker"));
    QCOMPARE(cell(0, ScriptErrorsModel::SourceColumn), QStringLiteral("worker.mjs:9:66"));
    QCOMPARE(cell(0, ScriptErrorsModel::ErrorColumn), QStringLiteral("ReferenceError: roomId is not defined"));
    QCOMPARE(cell(0, ScriptErrorsModel::CountColumn), QStringLiteral("1"));
    QCOMPARE(cell(0, ScriptErrorsModel::FirstColumn), QStringLiteral("0.000"));

    QCOMPARE(cell(1, ScriptErrorsModel::WhereColumn), QStringLiteral("fetch in worker"));
    QCOMPARE(cell(1, ScriptErrorsModel::SourceColumn), QStringLiteral("worker.mjs:5"));
    QCOMPARE(cell(1, ScriptErrorsModel::ErrorColumn),
             QStringLiteral("TypeError: Incorrect type for Promise: the Promise did not resolve to 'Response'."));

    QCOMPARE(cell(2, ScriptErrorsModel::WhereColumn), QStringLiteral("Room.fetch in room room-1"));
    QCOMPARE(cell(2, ScriptErrorsModel::SourceColumn), QStringLiteral("lib/store.mjs:3:12"));
    QCOMPARE(cell(2, ScriptErrorsModel::ErrorColumn),
             QStringLiteral("TypeError: Failed to execute 'put' on 'KvNamespace': parameter 2 is not "
                            "of type 'string or JsObject'."));
    QCOMPARE(m_model->data(m_model->index(2, 0), Qt::ToolTipRole).toString(),
             QStringLiteral("TypeError: Failed to execute 'put' on 'KvNamespace': parameter 2 is not "
                            "of type 'string or JsObject'.\n"
                            "  at store (lib/store.mjs:3:12)\n"
                            "  at fetch (worker.mjs:18:11)\n"
                            "Once, at 0.200 s, in room room-1"));
    QCOMPARE(m_model->data(m_model->index(2, 0), HighlightRole).value<Highlight>(), Highlight::Error);
    QCOMPARE(m_model->data(m_model->index(2, ScriptErrorsModel::FirstColumn), SortRole).toLongLong(),
             m_model->group(2).firstTime);
}

void ScriptErrorsModelTest::repeatsUpdateOneRow()
{
    QAbstractItemModelTester tester(m_model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(get(QStringLiteral("/")).status, 500);
    QSignalSpy changed(m_model, &QAbstractItemModel::dataChanged);
    QSignalSpy inserted(m_model, &QAbstractItemModel::rowsInserted);
    constexpr int kRepeats = 200;
    for (int i = 1; i < kRepeats; ++i)
        QCOMPARE(get(QStringLiteral("/")).status, 500);
    QCOMPARE(m_model->rowCount(), 1);
    QCOMPARE(inserted.count(), 0);
    QVERIFY(changed.count() > 0);
    QCOMPARE(cell(0, ScriptErrorsModel::CountColumn), QStringLiteral("200"));
    QCOMPARE(m_model->occurrenceCount(), quint64(kRepeats));
    QCOMPARE(cell(0, ScriptErrorsModel::LastColumn),
             formatOffset(m_model->group(0).lastTime, m_model->start()));
    QVERIFY(m_model->group(0).lastTime > m_model->group(0).firstTime);
}

void ScriptErrorsModelTest::traceEventFindsRow()
{
    std::vector<TraceEvent> events;
    m_controller->world()->simulation().trace().addSink([&events](const TraceEvent &event) {
        if (event.kind == TraceKind::ScriptError)
            events.push_back(event);
    });
    get(QStringLiteral("/?roomId=room-1"));
    get(QStringLiteral("/"));
    get(QStringLiteral("/direct"));
    QCOMPARE(events.size(), size_t(3));
    QCOMPARE(m_model->rowForEvent(events[0]), 0);
    QCOMPARE(m_model->rowForEvent(events[1]), 1);
    QCOMPARE(m_model->rowForEvent(events[2]), 2);
    TraceEvent other = events[2];
    other.kind = TraceKind::Console;
    QCOMPARE(m_model->rowForEvent(other), -1);
    other = events[2];
    other.value = "TypeError: something else";
    QCOMPARE(m_model->rowForEvent(other), -1);
}

void ScriptErrorsModelTest::reloadClearsRows()
{
    QAbstractItemModelTester tester(m_model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    get(QStringLiteral("/"));
    QCOMPARE(m_model->rowCount(), 1);
    QSignalSpy counts(m_model, &ScriptErrorsModel::occurrenceCountChanged);
    QVERIFY(m_controller->reload().ok());
    QCOMPARE(m_model->rowCount(), 0);
    QCOMPARE(m_model->occurrenceCount(), quint64(0));
    QCOMPARE(counts.count(), 1);
    QCOMPARE(counts.at(0).at(0).toULongLong(), quint64(0));
}

QTEST_MAIN(ScriptErrorsModelTest)
#include "tst_scripterrorsmodel.moc"
