#include "eventlogfiltermodel.h"
#include "eventlogmodel.h"
#include "eventlogpane.h"
#include "mainwindow.h"
#include "modelroles.h"
#include "scripterrorfixture.h"
#include "scripterrorsmodel.h"
#include "scripterrorspane.h"
#include "scriptsourceview.h"
#include "simulationcontroller.h"

#include <QDockWidget>
#include <QLabel>
#include <QListWidget>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QTextBlock>
#include <QToolButton>

using namespace roomscope;
using namespace roomscope::testing;

class ScriptErrorsPaneTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void badgeAndDockCountErrors();
    void firstErrorShowsItsLine();
    void stackFramesOpenTheirFiles();
    void eventLogRowLeadsToError();
    void consoleLinesInEventLog();

private:
    void get(const QString &target);
    QString row(int row) const;
    QString sourceLineAt(int line) const;

    QTemporaryDir *m_folder = nullptr;
    MainWindow *m_window = nullptr;
    ScriptErrorsPane *m_pane = nullptr;
};

void ScriptErrorsPaneTest::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
}

void ScriptErrorsPaneTest::init()
{
    m_folder = new QTemporaryDir;
    QVERIFY(m_folder->isValid());
    m_window = new MainWindow;
    m_window->resize(1600, 1000);
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window));
    QVERIFY(m_window->openScenario(writeDefectiveWorker(m_folder->path())));
    m_pane = m_window->scriptErrorsPane();
    get(QStringLiteral("/?roomId=room-1"));
    get(QStringLiteral("/"));
    get(QStringLiteral("/direct"));
    get(QStringLiteral("/direct"));
}

void ScriptErrorsPaneTest::cleanup()
{
    delete m_window;
    m_window = nullptr;
    delete m_folder;
}

void ScriptErrorsPaneTest::get(const QString &target)
{
    HttpRequest request;
    request.url = QUrl(QStringLiteral("http://127.0.0.1:8787") + target);
    bool done = false;
    m_window->controller()->sendRequest(QStringLiteral("test"), 0, request,
        [&done](const HttpResponse &) { done = true; });
    for (int i = 0; i < 100 && !done; ++i)
        m_window->controller()->advanceBy(milliseconds(100));
    QVERIFY(done);
}

/// The displayed cells of a row of the dock's table, joined with " | ".
QString ScriptErrorsPaneTest::row(int row) const
{
    const QAbstractItemModel *model = m_pane->view()->model();
    QStringList cells;
    for (int column = 0; column < model->columnCount(); ++column)
        cells << model->index(row, column).data().toString();
    return cells.join(QStringLiteral(" | "));
}

QString ScriptErrorsPaneTest::sourceLineAt(int line) const
{
    return m_pane->sourceView()->document()->findBlockByNumber(line - 1).text();
}

void ScriptErrorsPaneTest::badgeAndDockCountErrors()
{
    QCOMPARE(m_window->scriptErrorBadge()->text(), QStringLiteral("4 script errors"));
    QVERIFY(m_window->scriptErrorBadge()->isVisible());
    QCOMPARE(m_window->scriptErrorsDock()->windowTitle(), QStringLiteral("Script errors (4)"));
    QCOMPARE(m_pane->summary()->text(), QStringLiteral("4 errors in 3 places"));
    QCOMPARE(m_pane->view()->model()->rowCount(), 3);
    QCOMPARE(row(0), QStringLiteral("0.000 | 0.000 | 1 | fetch in worker | worker.mjs:9:66 | "
                                    "ReferenceError: roomId is not defined"));
    QCOMPARE(row(1), QStringLiteral("0.100 | 0.100 | 1 | fetch in worker | worker.mjs:5 | "
                                    "TypeError: Incorrect type for Promise: the Promise did not "
                                    "resolve to 'Response'."));
    QCOMPARE(row(2), QStringLiteral("0.200 | 0.300 | 2 | Room.fetch in room room-1 | "
                                    "lib/store.mjs:3:12 | TypeError: Failed to execute 'put' on "
                                    "'KvNamespace': parameter 2 is not of type 'string or JsObject'."));

    // The first error of the run brought the dock to the front; a new run clears the count.
    QVERIFY(m_pane->isVisible());
    QVERIFY(m_window->openScenario(m_window->controller()->scenarioPath()));
    QVERIFY(m_window->scriptErrorBadge()->isHidden());
    QCOMPARE(m_window->scriptErrorsDock()->windowTitle(), QStringLiteral("Script errors"));
    QCOMPARE(m_pane->summary()->text(), QStringLiteral("No script errors."));
    QCOMPARE(m_pane->sourceView()->highlightedLine(), 0);
}

void ScriptErrorsPaneTest::firstErrorShowsItsLine()
{
    QCOMPARE(m_pane->view()->currentIndex().row(), 0);
    ScriptSourceView *source = m_pane->sourceView();
    QCOMPARE(m_pane->sourceTitle()->text(), QStringLiteral("worker.mjs, line 9, column 66"));
    QCOMPARE(source->fileName(), QStringLiteral("worker.mjs"));
    QCOMPARE(source->highlightedLine(), 9);
    QCOMPARE(source->markedColumn(), 66);
    QVERIFY(source->isReadOnly());
    QCOMPARE(source->toPlainText().toUtf8(), kDefectiveWorker);
    QCOMPARE(source->textCursor().blockNumber(), 8);
    QCOMPARE(source->textCursor().positionInBlock(), 65);

    // The line's background and the column's mark, as the view paints them.
    const QList<QTextEdit::ExtraSelection> selections = source->extraSelections();
    QCOMPARE(selections.size(), 2);
    QCOMPARE(selections[0].cursor.block().text(),
             QStringLiteral("      return env.ROOMS.getByName(roomIdParam).fetch(`http://do/${roomId}`);"));
    QCOMPARE(selections[1].cursor.selectedText(), QStringLiteral("r"));
    QCOMPARE(selections[1].cursor.positionInBlock(), 66);

    // The highlighted line is on screen.
    const QRect lineRect = source->cursorRect();
    QVERIFY(source->viewport()->rect().contains(lineRect.center()));
    const QImage image = source->viewport()->grab().toImage();
    QVERIFY(!image.isNull());
    const QColor highlighted = image.pixelColor(2, lineRect.center().y());
    const QColor plain = image.pixelColor(2, lineRect.center().y() - 2 * lineRect.height());
    QCOMPARE(plain, source->palette().color(QPalette::Base));
    QVERIFY2(highlighted.red() > highlighted.green() + 40, qPrintable(highlighted.name()));

    QCOMPARE(m_pane->stackList()->count(), 1);
    QCOMPARE(m_pane->stackList()->item(0)->text(), QStringLiteral("at fetch (worker.mjs:9:66)"));
    QCOMPARE(m_pane->stackList()->currentRow(), 0);
}

void ScriptErrorsPaneTest::stackFramesOpenTheirFiles()
{
    QTableView *view = m_pane->view();
    view->setCurrentIndex(view->model()->index(2, 0));
    QListWidget *stack = m_pane->stackList();
    QCOMPARE(stack->count(), 2);
    QCOMPARE(stack->item(0)->text(), QStringLiteral("at store (lib/store.mjs:3:12)"));
    QCOMPARE(stack->item(1)->text(), QStringLiteral("at fetch (worker.mjs:18:11)"));
    QCOMPARE(m_pane->sourceTitle()->text(), QStringLiteral("lib/store.mjs, line 3, column 12"));
    QCOMPARE(m_pane->sourceView()->fileName(), QStringLiteral("lib/store.mjs"));
    QCOMPARE(m_pane->sourceView()->highlightedLine(), 3);
    QCOMPARE(sourceLineAt(3), QStringLiteral("  await kv.put(key);"));

    // A click on the outer frame shows the caller's line in the entry module.
    QTest::mouseClick(stack->viewport(), Qt::LeftButton, {},
                      stack->visualItemRect(stack->item(1)).center());
    QCOMPARE(m_pane->sourceTitle()->text(), QStringLiteral("worker.mjs, line 18, column 11"));
    QCOMPARE(m_pane->sourceView()->fileName(), QStringLiteral("worker.mjs"));
    QCOMPARE(m_pane->sourceView()->highlightedLine(), 18);
    QCOMPARE(m_pane->sourceView()->markedColumn(), 11);
    QCOMPARE(sourceLineAt(18), QStringLiteral("    await store(this.env.KV, 'some-key');"));

    // The handler that returned no Response: its definition, without a column.
    view->setCurrentIndex(view->model()->index(1, 0));
    QCOMPARE(m_pane->sourceTitle()->text(), QStringLiteral("worker.mjs, line 5"));
    QCOMPARE(m_pane->sourceView()->highlightedLine(), 5);
    QCOMPARE(m_pane->sourceView()->markedColumn(), 0);
    QCOMPARE(m_pane->sourceView()->extraSelections().size(), 1);
    QCOMPARE(stack->item(0)->text(), QStringLiteral("at fetch (worker.mjs:5)"));
}

void ScriptErrorsPaneTest::eventLogRowLeadsToError()
{
    m_window->findChild<QDockWidget *>(QStringLiteral("eventLogDock"))->raise();
    QTableView *log = m_window->findChild<EventLogPane *>()->view();
    QTRY_VERIFY(log->isVisible());
    int put = -1;
    for (int row = 0; row < log->model()->rowCount(); ++row) {
        const TraceEvent event = log->model()->index(row, 0).data(TraceEventRole).value<TraceEvent>();
        if (event.kind == TraceKind::ScriptError && event.subject == QLatin1String("Room.fetch")) {
            put = row;
            break;
        }
    }
    QVERIFY(put >= 0);
    const QModelIndex index = log->model()->index(put, EventLogModel::DetailsColumn);
    log->scrollTo(index);
    // A real double-click starts with a click, which QTest::mouseDClick() leaves out.
    const QPoint center = log->visualRect(index).center();
    QTest::mouseClick(log->viewport(), Qt::LeftButton, {}, center);
    QTest::mouseDClick(log->viewport(), Qt::LeftButton, {}, center);
    QVERIFY(m_pane->isVisible());
    QCOMPARE(m_pane->view()->currentIndex().row(), 2);
    QCOMPARE(m_pane->sourceView()->fileName(), QStringLiteral("lib/store.mjs"));
    QCOMPARE(m_pane->sourceView()->highlightedLine(), 3);

    // Another kind of row leaves the dock where it is.
    QVERIFY(!m_window->showScriptError(log->model()->index(0, 0)));
}

void ScriptErrorsPaneTest::consoleLinesInEventLog()
{
    const EventLogModel *log = m_window->eventLogModel();
    QStringList console;
    for (int row = 0; row < log->rowCount(); ++row) {
        if (log->event(row).kind == TraceKind::Console)
            console << log->index(row, EventLogModel::DetailsColumn).data().toString();
    }
    QCOMPARE(console.size(), 2);
    QVERIFY2(console.at(0).contains(QStringLiteral("storing for /direct")), qPrintable(console.at(0)));
}

QTEST_MAIN(ScriptErrorsPaneTest)
#include "tst_scripterrorspane.moc"
