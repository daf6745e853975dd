#include "roominspectorpane.h"

#include "roompropertiesmodel.h"
#include "roomtablemodels.h"
#include "simulationcontroller.h"
#include "sqlresultmodel.h"
#include "tableviews.h"

#include <QAction>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollBar>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QTimer>
#include <QToolBar>
#include <QVBoxLayout>

#include <memory>

namespace roomscope {

namespace {

/// Hex digits of the ID in the header. The tooltip has all 64.
constexpr int kShortIdDigits = 16;
/// How long an action's message stays in the pane. The status bar shows it as long.
constexpr int kMessageMs = 8000;

/// Gives a table at least the height of its header and `rows` rows.
void fitRows(QTableView *view, int rows)
{
    view->setMinimumHeight(view->horizontalHeader()->sizeHint().height()
        + rows * view->verticalHeader()->defaultSectionSize() + 2 * view->frameWidth());
}

/// A caption above a table: bold, with the table's meaning in its tooltip.
QLabel *caption(const QString &text, const QString &toolTip, QWidget *parent)
{
    auto *label = new QLabel(text, parent);
    QFont bold = label->font();
    bold.setBold(true);
    label->setFont(bold);
    label->setToolTip(toolTip);
    return label;
}

/// Keeps `view` scrolled to its newest row as rows arrive, unless the user scrolled up.
void followNewRows(QTableView *view)
{
    // Whether the view showed its last row just before the insertion.
    auto atBottom = std::make_shared<bool>(true);
    QObject::connect(
        view->model(), &QAbstractItemModel::rowsAboutToBeInserted, view, [view, atBottom] {
            const QScrollBar *bar = view->verticalScrollBar();
            *atBottom = bar->value() == bar->maximum();
        });
    QObject::connect(view->model(), &QAbstractItemModel::rowsInserted, view, [view, atBottom] {
        if (*atBottom)
            view->scrollToBottom();
    });
}

/// A widget with `widgets` top to bottom and no margins, in which the last one stretches.
QWidget *stack(const QList<QWidget *> &widgets, QWidget *parent)
{
    auto *container = new QWidget(parent);
    auto *layout = new QVBoxLayout(container);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(3);
    for (qsizetype i = 0; i < widgets.size(); ++i)
        layout->addWidget(widgets.at(i), i == widgets.size() - 1 ? 1 : 0);
    return container;
}

QString messageStyle(bool error)
{
    return error ? QStringLiteral("color: palette(bright-text); background-color: #b3261e; "
                                  "padding: 3px;")
                 : QStringLiteral("padding: 3px;");
}

} // namespace

RoomInspectorPane::RoomInspectorPane(SimulationController *controller, QWidget *parent)
    : QWidget(parent)
    , m_inspector(new RoomInspector(controller, this))
{
    setObjectName(QStringLiteral("roomInspectorPane"));
    m_message = new QLabel(this);
    m_message->setObjectName(QStringLiteral("roomMessage"));
    m_message->setWordWrap(true);
    m_message->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_message->hide();
    m_messageTimer = new QTimer(this);
    m_messageTimer->setSingleShot(true);
    m_messageTimer->setInterval(kMessageMs);
    connect(m_messageTimer, &QTimer::timeout, m_message, &QWidget::hide);

    m_tabs = new QTabWidget(this);
    m_tabs->setObjectName(QStringLiteral("roomTabs"));
    m_tabs->setDocumentMode(true);
    m_tabs->addTab(createLifecycleTab(), tr("Lifecycle"));
    m_tabs->addTab(createMemoryTab(), tr("Memory vs storage"));
    m_tabs->addTab(createStorageTab(), tr("Storage"));
    m_tabs->addTab(createAlarmTab(), tr("Alarm"));
    m_tabs->addTab(createSocketsTab(), tr("Sockets"));
    m_tabs->addTab(createGatesTab(), tr("Queue && gates"));
    m_tabs->setTabToolTip(
        1, tr("What a hibernation loses (the instance's fields) beside what it keeps (storage)."));
    m_tabs->setTabToolTip(
        5, tr("The event queue, the input and output gates and the write batches."));

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->setSpacing(4);
    layout->addWidget(createHeader());
    layout->addWidget(createActions());
    layout->addWidget(m_message);
    layout->addWidget(m_tabs, 1);

    connect(m_inspector, &RoomInspector::refreshed, this, &RoomInspectorPane::refresh);
    connect(m_inspector, &RoomInspector::roomChanged, this, [this] {
        m_message->hide();
        m_message->clear();
        m_console->clear();
    });
    connect(m_tabs, &QTabWidget::currentChanged, this, &RoomInspectorPane::updateTables);
    refresh();
}

QWidget *RoomInspectorPane::createHeader()
{
    auto *header = new QWidget(this);
    m_title = new QLabel(header);
    m_title->setObjectName(QStringLiteral("roomTitle"));
    QFont title = m_title->font();
    title.setBold(true);
    title.setPointSizeF(title.pointSizeF() * 1.2);
    m_title->setFont(title);
    m_state = new QLabel(header);
    m_state->setObjectName(QStringLiteral("roomState"));
    m_state->setToolTip(tr("The lifecycle state: active, idle (hibernatable or not), hibernated "
                           "or inactive."));
    m_details = new QLabel(header);
    m_details->setObjectName(QStringLiteral("roomDetails"));
    m_details->setWordWrap(true);
    m_details->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto *top = new QHBoxLayout;
    top->setContentsMargins(0, 0, 0, 0);
    top->addWidget(m_title);
    top->addWidget(m_state);
    top->addStretch(1);
    auto *layout = new QVBoxLayout(header);
    layout->setContentsMargins(2, 2, 2, 0);
    layout->setSpacing(2);
    layout->addLayout(top);
    layout->addWidget(m_details);
    return header;
}

QToolBar *RoomInspectorPane::createActions()
{
    auto *bar = new QToolBar(tr("Room actions"), this);
    bar->setObjectName(QStringLiteral("roomActions"));
    bar->setToolButtonStyle(Qt::ToolButtonTextOnly);
    using Action = RoomInspector::Action;
    const std::pair<Action, const char *> actions[] = {
        { Action::Hibernate, "roomHibernateAction" },
        { Action::Evict, "roomEvictAction" },
        { Action::Reset, "roomResetAction" },
        { Action::Shutdown, "roomShutdownAction" },
        { Action::FireAlarm, "roomFireAlarmAction" },
        { Action::FailNextCommit, "roomFailCommitAction" },
    };
    for (const auto &[kind, name] : actions) {
        QAction *action = bar->addAction(RoomInspector::actionText(kind));
        action->setObjectName(QLatin1String(name));
        action->setToolTip(RoomInspector::actionToolTip(kind));
        action->setStatusTip(RoomInspector::actionToolTip(kind));
        connect(action, &QAction::triggered, this, [this, kind = kind] { trigger(kind); });
        m_actions.insert(kind, action);
    }
    return bar;
}

QWidget *RoomInspectorPane::createLifecycleTab()
{
    m_historyView = createTableView(m_inspector->history(), { false, { 11, 20, 30 } }, this);
    m_historyView->setObjectName(QStringLiteral("roomHistoryView"));
    followNewRows(m_historyView);
    m_lifecycleView = createTableView(m_inspector->lifecycle(), { false, { 28, 40 } }, this);
    m_lifecycleView->setObjectName(QStringLiteral("roomLifecycleView"));

    auto *split = new QSplitter(Qt::Vertical, this);
    split->setChildrenCollapsible(false);
    split->addWidget(stack({ caption(tr("History"),
                                 tr("Each construction, hibernation, eviction and reset, with "
                                    "its reason."),
                                 this),
                               m_historyView },
        split));
    split->addWidget(stack({ caption(tr("Timers and what keeps it awake"),
                                 tr("The namespace's lifecycle settings and the object's state "
                                    "now."),
                                 this),
                               m_lifecycleView },
        split));
    return split;
}

QWidget *RoomInspectorPane::createMemoryTab()
{
    m_memoryNote = new QLabel(this);
    m_memoryNote->setObjectName(QStringLiteral("roomMemoryNote"));
    m_memoryNote->setWordWrap(true);
    m_memoryView = createTableView(m_inspector->memory(), { false, { 14, 20 } }, this);
    m_memoryView->setObjectName(QStringLiteral("roomMemoryView"));
    m_storedView = createTableView(m_inspector->storage(), { false, { 16, 14, 6 } }, this);
    m_storedView->setObjectName(QStringLiteral("roomStoredView"));

    auto *split = new QSplitter(Qt::Horizontal, this);
    split->setChildrenCollapsible(false);
    split->addWidget(stack({ caption(tr("In memory"),
                                 tr("The instance's fields, which a hibernation, eviction or reset "
                                    "loses."),
                                 this),
                               m_memoryView },
        split));
    split->addWidget(stack({ caption(tr("Durable storage"),
                                 tr("The KV-style entries of storage.list(), which survive "
                                    "hibernation, eviction and reset."),
                                 this),
                               m_storedView },
        split));
    return stack({ m_memoryNote, split }, this);
}

QWidget *RoomInspectorPane::createStorageTab()
{
    m_entriesView = createTableView(m_inspector->storage(), { false, { 18, 20, 6 } }, this);
    m_entriesView->setObjectName(QStringLiteral("roomEntriesView"));
    m_tables = new QListWidget(this);
    m_tables->setObjectName(QStringLiteral("roomTablesList"));
    m_tables->setToolTip(tr("The SQL tables of the object's database. _cf_KV holds the entries "
                            "of the KV-style API. Double-click a table to query it."));

    m_query = new QLineEdit(this);
    m_query->setObjectName(QStringLiteral("roomQueryInput"));
    m_query->setPlaceholderText(tr("A read-only query, for example SELECT * FROM _cf_KV"));
    m_query->setClearButtonEnabled(true);
    m_runQuery = new QPushButton(tr("Run query"), this);
    m_runQuery->setObjectName(QStringLiteral("roomQueryRun"));
    m_runQuery->setToolTip(tr("Runs the query on the object's database without the platform's "
                              "rules, so _cf_KV is readable. Writes are rejected."));
    m_console = new QPlainTextEdit(this);
    m_console->setObjectName(QStringLiteral("roomQueryConsole"));
    m_console->setReadOnly(true);
    m_console->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_console->setMaximumBlockCount(500);
    m_console->setPlaceholderText(tr("Each query and its row count or error appears here."));
    m_resultView = createTableView(m_inspector->queryResult(), { false, {} }, this);
    m_resultView->setObjectName(QStringLiteral("roomQueryResult"));

    auto *top = new QSplitter(Qt::Horizontal, this);
    top->setChildrenCollapsible(false);
    top->addWidget(stack(
        { caption(tr("KV entries"), tr("storage.list(), in key order."), this), m_entriesView },
        top));
    top->addWidget(stack({ caption(tr("SQL tables"), m_tables->toolTip(), this), m_tables }, top));
    top->setStretchFactor(0, 3);
    top->setStretchFactor(1, 1);

    auto *queryRow = new QHBoxLayout;
    queryRow->setContentsMargins(0, 0, 0, 0);
    queryRow->addWidget(m_query, 1);
    queryRow->addWidget(m_runQuery);
    auto *queryRowWidget = new QWidget(this);
    queryRowWidget->setLayout(queryRow);

    auto *bottom = new QSplitter(Qt::Horizontal, this);
    bottom->setChildrenCollapsible(false);
    bottom->addWidget(m_resultView);
    bottom->addWidget(m_console);
    bottom->setStretchFactor(0, 3);
    bottom->setStretchFactor(1, 2);

    auto *split = new QSplitter(Qt::Vertical, this);
    split->setChildrenCollapsible(false);
    split->addWidget(top);
    split->addWidget(
        stack({ caption(tr("Query console"), tr("Read-only SQL on the object's database."), this),
                  queryRowWidget, bottom },
            split));
    m_storageTab = split;

    connect(m_runQuery, &QPushButton::clicked, this, &RoomInspectorPane::runQuery);
    connect(m_query, &QLineEdit::returnPressed, this, &RoomInspectorPane::runQuery);
    connect(m_tables, &QListWidget::itemActivated, this,
        [this](QListWidgetItem *item) { queryTable(item->text()); });
    return split;
}

QWidget *RoomInspectorPane::createAlarmTab()
{
    m_alarmView = createTableView(m_inspector->alarm(), { false, { 16, 40 } }, this);
    m_alarmView->setObjectName(QStringLiteral("roomAlarmView"));
    // The alarm section has five properties; they all show without scrolling.
    fitRows(m_alarmView, 5);
    m_alarmEventsView
        = createTableView(m_inspector->alarmEvents(), { false, { 11, 15, 9, 11, 40 } }, this);
    m_alarmEventsView->setObjectName(QStringLiteral("roomAlarmEventsView"));
    followNewRows(m_alarmEventsView);

    auto *split = new QSplitter(Qt::Vertical, this);
    split->setChildrenCollapsible(false);
    split->addWidget(m_alarmView);
    split->addWidget(stack({ caption(tr("Alarm events"),
                                 tr("alarm.set and alarm.run events of this object: each set, "
                                    "each run and each retry with the error of the failed run."),
                                 this),
                               m_alarmEventsView },
        split));
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 3);
    return split;
}

QWidget *RoomInspectorPane::createSocketsTab()
{
    m_socketsSummary = new QLabel(this);
    m_socketsSummary->setObjectName(QStringLiteral("roomSocketsSummary"));
    m_socketsSummary->setWordWrap(true);
    m_socketsView = createTableView(
        m_inspector->sockets(), { false, { 6, 10, 7, 12, 8, 14, 10, 6, 6, 7, 7 } }, this);
    m_socketsView->setObjectName(QStringLiteral("roomSocketsView"));
    return stack({ m_socketsSummary, m_socketsView }, this);
}

QWidget *RoomInspectorPane::createGatesTab()
{
    m_gatesView = createTableView(m_inspector->gates(), { false, { 24, 30 } }, this);
    m_gatesView->setObjectName(QStringLiteral("roomGatesView"));
    return m_gatesView;
}

QList<QAbstractItemView *> RoomInspectorPane::valueViews() const
{
    return { m_memoryView, m_storedView, m_entriesView, m_resultView, m_alarmEventsView,
        m_socketsView };
}

void RoomInspectorPane::refresh()
{
    updateHeader();
    updateActions();
    updateMemoryNote();
    updateSocketsSummary();
    updateTables();
}

void RoomInspectorPane::updateHeader()
{
    const RoomInspector::Summary summary = m_inspector->summary();
    if (summary.room.isEmpty()) {
        m_title->setText(tr("No room selected"));
        m_state->hide();
        m_details->setText(tr("Select a room in the Rooms dock or in the topology view."));
        m_details->setToolTip(QString());
        return;
    }
    m_title->setText(tr("Room %1").arg(summary.room));
    // An action's message describes the state it left; once the object moves on, it would
    // mislead, so it goes.
    if (!m_message->isHidden() && !m_state->text().isEmpty() && m_state->text() != summary.state)
        m_message->hide();
    m_state->setText(summary.state);
    m_state->setStyleSheet(QStringLiteral("color: white; background-color: %1; "
                                          "border-radius: 4px; padding: 1px 6px;")
                               .arg(summary.stateColor.name()));
    m_state->show();
    QStringList details;
    details << tr("ID %1…").arg(summary.id.left(kShortIdDigits));
    if (!summary.location.isEmpty())
        details << summary.location;
    details << tr("class %1, %2 storage").arg(summary.className, summary.backend);
    details << summary.instance;
    details << tr("compatibility date %1").arg(summary.compatibilityDate);
    m_details->setText(details.join(QStringLiteral(" · ")));
    m_details->setToolTip(tr("Durable Object ID %1").arg(summary.id));
}

void RoomInspectorPane::updateActions()
{
    for (auto it = m_actions.cbegin(); it != m_actions.cend(); ++it)
        it.value()->setEnabled(m_inspector->isAvailable(it.key()));
}

void RoomInspectorPane::updateMemoryNote()
{
    const DurableObject *object = m_inspector->object();
    QString note;
    if (m_inspector->room().isEmpty()) {
        note = tr("No room selected.");
    } else if (!object) {
        note = tr("Room %1 has no Durable Object yet: its first request or alarm constructs it.")
                   .arg(m_inspector->room());
    } else if (object->isInMemory()) {
        note = tr("In memory: instance %1. A hibernation, an eviction or a reset loses the fields "
                  "on the left; the stored entries on the right stay.")
                   .arg(object->instanceNumber());
    } else if (object->state() == ObjectState::Hibernated) {
        note = tr("Not in memory: the object is hibernated. Its in-memory fields are gone, and "
                  "the next event runs the constructor again, so they start over. The stored "
                  "entries stay.");
    } else {
        note = tr("Not in memory: the object is inactive (evicted, reset or shut down). The next "
                  "event runs the constructor again. The stored entries stay.");
    }
    m_memoryNote->setText(note);
}

void RoomInspectorPane::updateSocketsSummary()
{
    const DurableObject *object = m_inspector->object();
    if (!object) {
        m_socketsSummary->setText(tr("No WebSockets: the object does not exist yet."));
        return;
    }
    int hibernatable = 0;
    int standard = 0;
    for (const auto &socket : object->sockets())
        ++(socket->hibernatable ? hibernatable : standard);
    const int total = hibernatable + standard;
    QString text = total == 1 ? tr("1 WebSocket") : tr("%1 WebSockets").arg(total);
    text += tr(": %1 hibernatable, %2 standard").arg(hibernatable).arg(standard);
    if (const auto autoResponse = object->autoResponse())
        text += tr(" · auto-response \"%1\" → \"%2\", answered without waking the object")
                    .arg(autoResponse->first, autoResponse->second);
    m_socketsSummary->setText(text);
}

void RoomInspectorPane::updateTables()
{
    // Reading sqlite_master every frame is cheap, but only worth it while the tab shows.
    if (m_tabs->currentWidget() != m_storageTab && m_tables->count() > 0)
        return;
    const QStringList names = m_inspector->tableNames();
    QStringList shown;
    for (int i = 0; i < m_tables->count(); ++i)
        shown << m_tables->item(i)->text();
    if (shown != names) {
        m_tables->clear();
        m_tables->addItems(names);
    }
}

void RoomInspectorPane::trigger(RoomInspector::Action action)
{
    const Result<QString> outcome = m_inspector->trigger(action);
    if (outcome)
        showMessage(outcome.value(), false);
    else
        showMessage(outcome.error().message, true);
}

void RoomInspectorPane::showMessage(const QString &text, bool error)
{
    m_message->setText(text);
    m_message->setStyleSheet(messageStyle(error));
    m_message->show();
    m_messageTimer->start();
    Q_EMIT statusMessage(text, error);
}

void RoomInspectorPane::queryTable(const QString &table)
{
    // Double quotes make any table name an identifier; a quote inside is doubled.
    QString quoted = table;
    quoted.replace(QLatin1Char('"'), QStringLiteral("\"\""));
    m_query->setText(QStringLiteral("SELECT * FROM \"%1\"").arg(quoted));
    runQuery();
}

void RoomInspectorPane::runQuery()
{
    const QString query = m_query->text().trimmed();
    if (query.isEmpty())
        return;
    const Result<QString> outcome = m_inspector->runQuery(query);
    m_console->appendPlainText(QStringLiteral("> ") + query);
    m_console->appendPlainText(outcome ? outcome.value() : outcome.error().toString());
}

QString RoomInspectorPane::consoleText() const
{
    return m_console->toPlainText();
}

QString RoomInspectorPane::messageText() const
{
    return m_message->isHidden() ? QString() : m_message->text();
}

} // namespace roomscope
