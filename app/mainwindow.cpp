#include "mainwindow.h"

#include "connectionsmodel.h"
#include "eventlogmodel.h"
#include "eventlogpane.h"
#include "framesmodel.h"
#include "gatewaycontrol.h"
#include "highlightdelegate.h"
#include "inspectorpane.h"
#include "kvbrowsermodel.h"
#include "kvbrowserpane.h"
#include "kvfiles.h"
#include "messagebanner.h"
#include "pendingwritesmodel.h"
#include "requestcomposer.h"
#include "roominspector.h"
#include "roominspectorpane.h"
#include "roomsmodel.h"
#include "scripterrorsmodel.h"
#include "scripterrorspane.h"
#include "simulationcontroller.h"
#include "simulationtoolbar.h"
#include "tableviews.h"
#include "topologyview.h"
#include "valuetext.h"
#include "wranglerkvdialog.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QLocale>
#include <QLoggingCategory>
#include <QMenuBar>
#include <QMessageBox>
#include <QScreen>
#include <QScrollBar>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QTableView>
#include <QToolButton>
#include <QTreeView>
#include <QVBoxLayout>

#include <algorithm>
#include <memory>

Q_LOGGING_CATEGORY(lcMainWindow, "roomscope.app.mainwindow", QtWarningMsg)

namespace roomscope {

namespace {

/// Bumped when the docks change, so that restoreState() ignores a layout saved by an older build.
constexpr int kWindowStateVersion = 5;
/// How long transient status bar messages stay.
constexpr int kStatusMessageMs = 8000;
/// The initial window size. A smaller screen gets its available size instead.
constexpr QSize kPreferredWindowSize(1600, 1000);
/// Pixels of the menu bar, toolbar, status bar and dock title bars, an estimate for sizing docks.
constexpr int kWindowChromeHeight = 110;
/// The maximum number of invalid bulk JSON entries listed in the banner. The log lists all.
constexpr int kMaxEntryErrorsShown = 20;

// QSettings keys of the folders the file dialogs start in.
const QString kScenarioFolderKey = QStringLiteral("paths/scenarioDirectory");
const QString kSessionFolderKey = QStringLiteral("paths/sessionDirectory");
const QString kBulkJsonFolderKey = QStringLiteral("paths/kvBulkJsonDirectory");
const QString kWranglerFolderKey = QStringLiteral("paths/wranglerDirectory");

/// Formats "1 KV key" or "12,345 KV keys". tr() with %n picks a plural only with a translation.
QString keyCountText(qint64 count)
{
    return count == 1 ? QObject::tr("1 KV key")
                      : QObject::tr("%1 KV keys").arg(QLocale().toString(count));
}

QString objectCountText(qint64 count)
{
    return count == 1 ? QObject::tr("1 Durable Object")
                      : QObject::tr("%1 Durable Objects").arg(QLocale().toString(count));
}

QString runStateText(SimulationController::RunState state)
{
    switch (state) {
    case SimulationController::RunState::Empty:
        return QObject::tr("no scenario");
    case SimulationController::RunState::Paused:
        return QObject::tr("paused");
    case SimulationController::RunState::Running:
        return QObject::tr("running");
    case SimulationController::RunState::Finished:
        return QObject::tr("finished");
    }
    return {};
}

} // namespace

MainWindow::MainWindow(QWidget *parent)
    : QMainWindow(parent)
{
    setObjectName(QStringLiteral("mainWindow"));
    setWindowTitle(tr("Roomscope"));
    m_controller = new SimulationController(this);
    m_rooms = new RoomsModel(m_controller, this);
    m_pendingWrites = new PendingWritesModel(m_controller, this);
    m_connections = new ConnectionsModel(m_controller, this);
    m_eventLog = new EventLogModel(m_controller, this);
    m_scriptErrors = new ScriptErrorsModel(m_controller, this);
    m_frames = new FramesModel(m_controller, this);
    m_gatewayControl = new GatewayControl(m_controller, this);

    m_toolBar = new SimulationToolBar(m_controller, this);
    addToolBar(m_toolBar);
    addAction(m_toolBar->toggleAction());
    m_toolBar->addSeparator();
    m_toolBar->addAction(m_gatewayControl->toggleAction());

    auto *central = new QWidget(this);
    auto *centralLayout = new QVBoxLayout(central);
    centralLayout->setContentsMargins(0, 0, 0, 0);
    centralLayout->setSpacing(0);
    m_banner = new MessageBanner(central);
    centralLayout->addWidget(m_banner);
    auto *topology = new TopologyView(m_controller, central);
    centralLayout->addWidget(topology, 1);
    setCentralWidget(central);

    createDocks();
    connect(topology, &TopologyView::roomClicked, this, &MainWindow::showRoom);
    connect(m_roomInspector->inspector(), &RoomInspector::roomChanged, topology,
        [this, topology] { topology->setSelectedRoom(m_roomInspector->inspector()->room()); });
    topology->setSelectedRoom(m_roomInspector->inspector()->room());
    createMenus();
    createStatusBar();

    connect(m_controller, &SimulationController::runStateChanged, this, &MainWindow::updateStatus);
    connect(m_controller, &SimulationController::worldChanged, this, &MainWindow::updateStatus);
    connect(m_controller, &SimulationController::worldChanged, this, &MainWindow::startNewRun);
    connect(m_gatewayControl, &GatewayControl::statusMessage, this,
        [this](const QString &text) { statusBar()->showMessage(text, kStatusMessageMs); });
    connect(m_controller, &SimulationController::finished, this, [this] {
        const World *world = m_controller->world();
        statusBar()->showMessage(
            tr("The run finished at %1. File > Reload starts it again.")
                .arg(formatRunOffset(world->simulation().now(), world->simulation().start())),
            kStatusMessageMs);
    });
    fitToScreen();
    restoreSettings();
    updateStatus();
}

MainWindow::~MainWindow()
{
    // Delete the controller while every widget and slot of this window still exists, because it
    // announces the end of its world to the models and views.
    disconnect(m_controller, nullptr, this, nullptr);
    // The gateway keeps a reference to the controller, so it stops first.
    delete m_gatewayControl;
    delete m_controller;
}

QDockWidget *MainWindow::addDock(
    const QString &title, const QString &objectName, QWidget *widget, Qt::DockWidgetArea area)
{
    auto *dock = new QDockWidget(title, this);
    dock->setObjectName(objectName);
    dock->setWidget(widget);
    addDockWidget(area, dock);
    m_docks << dock;
    return dock;
}

void MainWindow::createDocks()
{
    QTableView *roomsView = createTableView(m_rooms, { true, { 7, 11, 7, 8, 6, 6, 6, 6 } }, this);
    roomsView->setObjectName(QStringLiteral("roomsView"));
    QDockWidget *roomsDock
        = addDock(tr("Rooms"), QStringLiteral("roomsDock"), roomsView, Qt::LeftDockWidgetArea);

    // The KV browser takes the rest of the left column, below the rooms.
    m_kvBrowser = new KvBrowserPane(m_controller, this);
    QDockWidget *kvBrowserDock = addDock(
        tr("KV browser"), QStringLiteral("kvBrowserDock"), m_kvBrowser, Qt::LeftDockWidgetArea);
    m_roomInspector = new RoomInspectorPane(m_controller, this);
    m_roomDock = addDock(
        tr("Room"), QStringLiteral("roomDock"), m_roomInspector, Qt::LeftDockWidgetArea);
    // Hidden until showEvent() makes it a tab, so that the first layout does not stack it
    // below the KV browser and grow the window to fit both.
    m_roomDock->hide();
    connect(m_roomInspector, &RoomInspectorPane::statusMessage, this,
        [this](const QString &text) { statusBar()->showMessage(text, kStatusMessageMs); });

    m_composer = new RequestComposer(m_controller, this);
    QDockWidget *composerDock = addDock(tr("Request composer"), QStringLiteral("composerDock"),
        m_composer, Qt::RightDockWidgetArea);
    m_inspector = new InspectorPane(this);
    QDockWidget *inspectorDock = addDock(
        tr("Inspector"), QStringLiteral("inspectorDock"), m_inspector, Qt::RightDockWidgetArea);

    m_eventLogPane = new EventLogPane(m_eventLog, this);
    QDockWidget *eventDock = addDock(
        tr("Event log"), QStringLiteral("eventLogDock"), m_eventLogPane, Qt::BottomDockWidgetArea);
    QTableView *pendingView
        = createTableView(m_pendingWrites, { true, { 7, 12, 13, 8, 6, 8, 8 } }, this);
    pendingView->setObjectName(QStringLiteral("pendingWritesView"));
    QDockWidget *pendingDock = addDock(tr("Pending writes"), QStringLiteral("pendingWritesDock"),
        pendingView, Qt::BottomDockWidgetArea);
    QDockWidget *connectionsDock = addDock(tr("Connections"), QStringLiteral("connectionsDock"),
        createConnectionsPane(), Qt::BottomDockWidgetArea);

    QDockWidget *scriptErrorsDock = createScriptErrorsDock();

    splitDockWidget(eventDock, pendingDock, Qt::Horizontal);
    tabifyDockWidget(pendingDock, connectionsDock);
    pendingDock->raise();
    // Hidden until showEvent() makes it a tab beside the event log, for the reason the Room
    // dock waits too.
    scriptErrorsDock->hide();
    m_eventLogDock = eventDock;
    // The Room dock becomes a tab beside the KV browser when the window is first shown (see
    // showEvent()).
    m_kvBrowserDock = kvBrowserDock;

    for (QAbstractItemView *view : std::initializer_list<QAbstractItemView *> {
             roomsView, m_kvBrowser->view(), pendingView, m_connectionsView, m_framesView,
             m_eventLogPane->view(), m_scriptErrorsPane->view() })
        followSelection(view);
    for (QAbstractItemView *view : m_roomInspector->valueViews())
        followSelection(view);
    followRoomSelection(roomsView);
}

QDockWidget *MainWindow::createScriptErrorsDock()
{
    m_scriptErrorsPane = new ScriptErrorsPane(m_scriptErrors, this);
    m_scriptErrorsDock = addDock(tr("Script errors"), QStringLiteral("scriptErrorsDock"),
        m_scriptErrorsPane, Qt::BottomDockWidgetArea);
    m_scriptErrorBadge = new QToolButton(this);
    m_scriptErrorBadge->setObjectName(QStringLiteral("scriptErrorBadge"));
    m_scriptErrorBadge->setAutoRaise(true);
    m_scriptErrorBadge->setToolTip(tr("Uncaught errors of the Worker script. Click to show them."));
    m_scriptErrorBadge->setStyleSheet(QStringLiteral("QToolButton { background-color: %1; }")
                                          .arg(HighlightDelegate::errorColor(palette()).name()));
    m_scriptErrorBadge->hide();
    connect(m_scriptErrorBadge, &QToolButton::clicked, this, [this] {
        m_scriptErrorsDock->show();
        m_scriptErrorsDock->raise();
    });
    connect(m_scriptErrors, &ScriptErrorsModel::occurrenceCountChanged, this,
        &MainWindow::updateScriptErrorCount);
    connect(m_eventLogPane->view(), &QAbstractItemView::doubleClicked, this,
        &MainWindow::showScriptError);
    return m_scriptErrorsDock;
}

void MainWindow::updateScriptErrorCount(quint64 count)
{
    const QString number = QLocale().toString(count);
    m_scriptErrorsDock->setWindowTitle(
        count == 0 ? tr("Script errors") : tr("Script errors (%1)").arg(number));
    m_scriptErrorBadge->setText(
        count == 1 ? tr("1 script error") : tr("%1 script errors").arg(number));
    m_scriptErrorBadge->setVisible(count > 0);
    // The first error of a run brings the dock to the front; later ones leave the layout alone.
    if (m_shownScriptErrors == 0 && count > 0) {
        m_scriptErrorsDock->show();
        m_scriptErrorsDock->raise();
    }
    m_shownScriptErrors = count;
}

bool MainWindow::showScriptError(const QModelIndex &eventLogIndex)
{
    const QVariant event = eventLogIndex.data(TraceEventRole);
    if (!event.isValid() || !m_scriptErrorsPane->selectEvent(event.value<TraceEvent>()))
        return false;
    m_scriptErrorsDock->show();
    m_scriptErrorsDock->raise();
    return true;
}

QWidget *MainWindow::createConnectionsPane()
{
    auto *splitter = new QSplitter(Qt::Horizontal, this);
    splitter->setObjectName(QStringLiteral("connectionsSplitter"));
    splitter->setChildrenCollapsible(false);
    m_connectionsView = createTableView(
        m_connections, { true, { 14, 9, 7, 8, 15, 10, 9, 10, 9, 10, 9 } }, splitter);
    m_connectionsView->setObjectName(QStringLiteral("connectionsView"));

    auto *frames = new QWidget(splitter);
    auto *summary = new QLabel(m_frames->summary(), frames);
    summary->setObjectName(QStringLiteral("framesSummary"));
    summary->setContentsMargins(4, 2, 4, 2);
    // A long note wraps rather than widening the pane and squeezing the client list.
    summary->setWordWrap(true);
    summary->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_framesView = createTableView(m_frames, { false, { 7, 2, 6, 5 } }, frames);
    m_framesView->setObjectName(QStringLiteral("framesView"));
    auto *layout = new QVBoxLayout(frames);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    layout->addWidget(summary);
    layout->addWidget(m_framesView, 1);
    splitter->addWidget(m_connectionsView);
    splitter->addWidget(frames);
    splitter->setStretchFactor(0, 1);
    splitter->setStretchFactor(1, 1);

    connect(m_frames, &FramesModel::summaryChanged, summary,
        [this, summary] { summary->setText(m_frames->summary()); });
    connect(m_connectionsView->selectionModel(), &QItemSelectionModel::currentChanged, m_frames,
        [this](const QModelIndex &current) {
            m_frames->setClient(
                current.siblingAtColumn(ConnectionsModel::ClientColumn).data().toString());
        });
    // Follow the newest frame while the view is scrolled to the bottom, as the event log does.
    QScrollBar *scrollBar = m_framesView->verticalScrollBar();
    auto following = std::make_shared<bool>(true);
    connect(m_frames, &QAbstractItemModel::rowsAboutToBeInserted, m_framesView,
        [scrollBar, following] { *following = scrollBar->value() >= scrollBar->maximum(); });
    connect(m_frames, &QAbstractItemModel::rowsInserted, m_framesView, [this, following] {
        if (*following)
            m_framesView->scrollToBottom();
    });
    connect(m_frames, &QAbstractItemModel::modelReset, m_framesView, [this, following] {
        *following = true;
        m_framesView->scrollToBottom();
    });
    return splitter;
}

void MainWindow::resizeDocksToDefaults()
{
    const auto dock = [this](const char *name) {
        return findChild<QDockWidget *>(QLatin1String(name), Qt::FindDirectChildrenOnly);
    };
    QDockWidget *roomsDock = dock("roomsDock");
    QDockWidget *composerDock = dock("composerDock");
    QDockWidget *eventDock = dock("eventLogDock");
    // On a screen narrower than the preferred window, the side columns give up some width so
    // that the topology view between them keeps room for its location boxes.
    const bool narrow = screen() && screen()->availableGeometry().width() < 1500;
    resizeDocks({ roomsDock, composerDock },
        narrow ? QList<int> { 540, 320 } : QList<int> { 620, 360 }, Qt::Horizontal);
    // Heights in proportion to the window, because a request for more height than it has
    // makes the window grow past the screen.
    const int bottom = std::clamp(height() * 3 / 10, 200, 320);
    const int column = std::max(height() - bottom - kWindowChromeHeight, 300);
    resizeDocks({ roomsDock, m_kvBrowserDock }, { 90, column - 90 }, Qt::Vertical);
    resizeDocks({ composerDock, dock("inspectorDock") }, { column * 3 / 5, column * 2 / 5 },
        Qt::Vertical);
    resizeDocks({ eventDock, dock("pendingWritesDock") }, { 900, 700 }, Qt::Horizontal);
    resizeDocks({ eventDock }, { bottom }, Qt::Vertical);
}

void MainWindow::followRoomSelection(QTableView *roomsView)
{
    RoomInspector *inspector = m_roomInspector->inspector();
    const auto roomAt = [](const QModelIndex &index) {
        return index.siblingAtColumn(RoomsModel::NameColumn).data().toString();
    };
    connect(roomsView->selectionModel(), &QItemSelectionModel::currentChanged, inspector,
        [inspector, roomAt](const QModelIndex &current) {
            if (current.isValid())
                inspector->setRoom(roomAt(current));
        });
    // A click on a room brings its dock to the front, but moving the current row does not.
    connect(roomsView, &QAbstractItemView::clicked, this,
        [this, roomAt](const QModelIndex &index) { showRoom(roomAt(index)); });

    const auto selectRow = [roomsView, inspector, roomAt] {
        const QAbstractItemModel *model = roomsView->model();
        if (roomAt(roomsView->currentIndex()) == inspector->room())
            return;
        for (int row = 0; row < model->rowCount(); ++row) {
            const QModelIndex index = model->index(row, RoomsModel::NameColumn);
            if (index.data().toString() == inspector->room()) {
                roomsView->setCurrentIndex(index);
                return;
            }
        }
    };
    connect(inspector, &RoomInspector::roomChanged, roomsView, selectRow);
    connect(m_controller, &SimulationController::worldChanged, roomsView, selectRow);
    selectRow();
}

void MainWindow::showRoom(const QString &name)
{
    if (name.isEmpty())
        return;
    m_roomInspector->inspector()->setRoom(name);
    m_roomDock->show();
    m_roomDock->raise();
}

void MainWindow::followSelection(QAbstractItemView *view)
{
    connect(view->selectionModel(), &QItemSelectionModel::currentChanged, m_inspector,
        [this](const QModelIndex &current) { m_inspector->showIndex(current); });
    connect(view, &QAbstractItemView::clicked, m_inspector,
        [this](const QModelIndex &index) { m_inspector->showIndex(index); });
}

void MainWindow::createMenus()
{
    QMenu *file = menuBar()->addMenu(tr("&File"));
    QAction *open = file->addAction(tr("&Open Scenario…"), this, &MainWindow::chooseScenario);
    open->setShortcut(QKeySequence::Open);
    QAction *reload = file->addAction(tr("&Reload"), this, &MainWindow::reloadScenario);
    reload->setShortcuts({ QKeySequence(Qt::CTRL | Qt::Key_R), QKeySequence(Qt::Key_F5) });
    QMenu *examples = file->addMenu(tr("Open E&xample"));
    examples->setObjectName(QStringLiteral("openExampleMenu"));
    for (const QString &name : exampleNames()) {
        QAction *example = examples->addAction(name, this, [this, name] { openExample(name); });
        example->setObjectName(QStringLiteral("openExample-") + name);
        example->setStatusTip(name == QLatin1String("do-lab")
                ? tr("One room of the lab class: a lost update, the input gate, a hibernation "
                     "and alarm retries, to watch in the Room dock.")
                : tr("Two rooms that serialize their KV writes and broadcast KV reads to 400 "
                     "WebSocket clients in three locations."));
    }
    file->addSeparator();
    QAction *saveSession
        = file->addAction(tr("&Save Session…"), this, &MainWindow::chooseSessionToSave);
    saveSession->setShortcut(QKeySequence::Save);
    saveSession->setStatusTip(
        tr("Save the KV store and the Durable Objects of this run to an SQLite session file."));
    QAction *openSession
        = file->addAction(tr("Open S&ession…"), this, &MainWindow::chooseSessionToOpen);
    openSession->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O));
    openSession->setStatusTip(
        tr("Restart this scenario with the KV store and the Durable Objects of a saved session "
           "file."));
    file->addSeparator();
    QAction *importBulk
        = file->addAction(tr("&Import KV Bulk JSON…"), this, &MainWindow::chooseKvBulkJsonToImport);
    importBulk->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_I));
    importBulk->setStatusTip(
        tr("Write the entries of a wrangler kv bulk put file to this run's KV namespace."));
    QAction *exportBulk
        = file->addAction(tr("&Export KV Bulk JSON…"), this, &MainWindow::chooseKvBulkJsonToExport);
    exportBulk->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
    exportBulk->setStatusTip(tr("Write every live KV key of this run in wrangler's bulk format."));
    QAction *wrangler = file->addAction(
        tr("Open &wrangler dev KV Folder…"), this, &MainWindow::chooseWranglerFolder);
    wrangler->setStatusTip(tr("Browse the KV data of a wrangler dev project, read-only."));
    file->addSeparator();
    QAction *quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);

    QMenu *simulation = menuBar()->addMenu(tr("&Simulation"));
    simulation->addAction(m_toolBar->toggleAction());
    simulation->addAction(m_toolBar->runAction());
    simulation->addAction(m_toolBar->pauseAction());
    simulation->addAction(m_toolBar->stepAction());
    simulation->addSeparator();
    simulation->addAction(m_gatewayControl->toggleAction());
    simulation->addAction(m_gatewayControl->settingsAction());

    QMenu *view = menuBar()->addMenu(tr("&View"));
    for (QDockWidget *dock : std::as_const(m_docks))
        view->addAction(dock->toggleViewAction());
    view->addAction(m_toolBar->toggleViewAction());

    QMenu *help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About Roomscope"), this, &MainWindow::showAbout);
}

void MainWindow::createStatusBar()
{
    m_scenarioLabel = new QLabel(this);
    m_scenarioLabel->setObjectName(QStringLiteral("scenarioLabel"));
    m_seedLabel = new QLabel(this);
    m_stateLabel = new QLabel(this);
    m_stateLabel->setObjectName(QStringLiteral("runStateLabel"));
    statusBar()->addPermanentWidget(m_scriptErrorBadge);
    statusBar()->addPermanentWidget(m_gatewayControl->statusLabel());
    statusBar()->addPermanentWidget(m_scenarioLabel);
    statusBar()->addPermanentWidget(m_seedLabel);
    statusBar()->addPermanentWidget(m_stateLabel);
}

QString MainWindow::scenarioDisplayName(const QString &path)
{
    if (path.startsWith(QLatin1String(":/")))
        return tr("the bundled %1 scenario").arg(QFileInfo(path).completeBaseName());
    return QDir::toNativeSeparators(path);
}

QStringList MainWindow::exampleNames()
{
    return { QStringLiteral("kv-room"), QStringLiteral("do-lab") };
}

bool MainWindow::openExample(const QString &name)
{
    return openScenario(QStringLiteral(":/scenarios/%1.json").arg(name));
}

bool MainWindow::openScenario(const QString &path, std::optional<quint64> seed, bool run)
{
    const Status loaded = m_controller->load(path, seed);
    if (!loaded) {
        const QString message = loaded.error().message;
        m_banner->showError(m_controller->world()
                ? tr("Could not open the scenario. The current run stays loaded.\n%1").arg(message)
                : tr("Could not open the scenario.\n%1").arg(message));
        statusBar()->showMessage(
            tr("Could not open %1").arg(scenarioDisplayName(path)), kStatusMessageMs);
        return false;
    }
    m_banner->hide();
    qCInfo(lcMainWindow) << "opened" << path;
    // Which configuration file a Worker module took its bindings from, and its warnings.
    const QStringList &loadMessages = m_controller->world()->scenario().loadMessages;
    for (const QString &message : loadMessages)
        qCInfo(lcMainWindow) << message;
    if (!loadMessages.isEmpty()) {
        statusBar()->showMessage(loadMessages.join(QLatin1Char(' ')), kStatusMessageMs);
        if (run)
            m_controller->run();
    } else if (run && m_controller->run()) {
        statusBar()->showMessage(
            tr("Opened %1. It is running; Space pauses it.").arg(scenarioDisplayName(path)),
            kStatusMessageMs);
    } else {
        statusBar()->showMessage(
            tr("Opened %1. Press Space to run.").arg(scenarioDisplayName(path)), kStatusMessageMs);
    }
    return true;
}

QString MainWindow::lastFolder(const QString &settingsKey) const
{
    const QString folder = QSettings().value(settingsKey).toString();
    return folder.isEmpty() ? QDir::homePath() : folder;
}

void MainWindow::rememberFolder(const QString &settingsKey, const QString &path) const
{
    const QFileInfo info(path);
    QSettings().setValue(settingsKey, info.isDir() ? info.absoluteFilePath() : info.absolutePath());
}

void MainWindow::chooseScenario()
{
    const QString path = QFileDialog::getOpenFileName(this, tr("Open Scenario"),
        lastFolder(kScenarioFolderKey),
        tr("Scenarios, Worker modules and wrangler files (*.json *.jsonc *.toml *.js *.mjs *.ts);;"
           "Scenario files (*.json);;Worker modules (*.js *.mjs *.ts);;"
           "wrangler configuration files (wrangler.json wrangler.jsonc wrangler.toml);;"
           "All files (*)"));
    if (path.isEmpty())
        return;
    rememberFolder(kScenarioFolderKey, path);
    openScenario(path);
}

void MainWindow::reloadScenario()
{
    const Status reloaded = m_controller->reload();
    if (!reloaded) {
        m_banner->showError(tr("Could not reload the scenario. The current run stays loaded.\n%1")
                                .arg(reloaded.error().message));
        return;
    }
    m_banner->hide();
    statusBar()->showMessage(
        tr("Reloaded %1").arg(scenarioDisplayName(m_controller->scenarioPath())), kStatusMessageMs);
}

void MainWindow::startNewRun()
{
    // A selection of the previous run would otherwise stay on screen with values of keys and
    // messages that the new run does not have.
    m_inspector->clear();
    raiseRoomDockForLab();
}

void MainWindow::raiseRoomDockForLab()
{
    // The lab class keeps its state in Durable Object storage and not in KV, so its room is
    // what there is to watch.
    const World *world = m_controller->world();
    if (world && world->scenario().roomBehaviour == QLatin1String("lab"))
        m_roomDock->raise();
}

void MainWindow::chooseSessionToSave()
{
    const QString path = QFileDialog::getSaveFileName(this, tr("Save Session"),
        lastFolder(kSessionFolderKey), tr("Roomscope sessions (*.sqlite);;All files (*)"));
    if (path.isEmpty())
        return;
    rememberFolder(kSessionFolderKey, path);
    saveSession(path);
}

bool MainWindow::saveSession(const QString &path)
{
    World *world = m_controller->world();
    if (!world) {
        m_banner->showError(tr("There is no run to save. Open a scenario first."));
        return false;
    }
    const Status saved = world->saveSession(path);
    if (!saved) {
        m_banner->showError(tr("Could not save the session.\n%1").arg(saved.error().message));
        return false;
    }
    m_banner->hide();
    statusBar()->showMessage(tr("Saved %1 and %2 to %3")
                                 .arg(keyCountText(world->kv().keyCount()),
                                     objectCountText(qint64(world->rooms().objects().size())),
                                     QDir::toNativeSeparators(path)),
        kStatusMessageMs);
    return true;
}

void MainWindow::chooseSessionToOpen()
{
    const QString path = QFileDialog::getOpenFileName(this, tr("Open Session"),
        lastFolder(kSessionFolderKey), tr("Roomscope sessions (*.sqlite);;All files (*)"));
    if (path.isEmpty())
        return;
    rememberFolder(kSessionFolderKey, path);
    openSession(path);
}

bool MainWindow::openSession(const QString &path)
{
    const Status opened = m_controller->openSession(path);
    if (!opened) {
        m_banner->showError(
            tr("Could not open the session file %1. The current run stays loaded.\n%2\n"
               "Choose a .sqlite file that File > Save Session or roomscope run --save-session "
               "wrote.")
                .arg(QDir::toNativeSeparators(path), opened.error().message));
        statusBar()->showMessage(
            tr("Could not open %1").arg(QDir::toNativeSeparators(path)), kStatusMessageMs);
        return false;
    }
    m_banner->hide();
    const World *world = m_controller->world();
    statusBar()->showMessage(tr("Opened %1 with the %2 and %3 of %4. Press Space to run.")
                                 .arg(scenarioDisplayName(m_controller->scenarioPath()),
                                     keyCountText(world->kv().keyCount()),
                                     objectCountText(world->restoredObjectCount()),
                                     QDir::toNativeSeparators(path)),
        kStatusMessageMs);
    return true;
}

void MainWindow::chooseKvBulkJsonToImport()
{
    const QString path = QFileDialog::getOpenFileName(this, tr("Import KV Bulk JSON"),
        lastFolder(kBulkJsonFolderKey), tr("JSON files (*.json);;All files (*)"));
    if (path.isEmpty())
        return;
    rememberFolder(kBulkJsonFolderKey, path);
    importKvBulkJson(path);
}

bool MainWindow::importKvBulkJson(const QString &path)
{
    World *world = m_controller->world();
    if (!world) {
        m_banner->showError(tr("There is no run to import into. Open a scenario first."));
        return false;
    }
    const QString fileName = QDir::toNativeSeparators(path);
    const KvBulkImport imported
        = importKvBulkFile(world->kv(), epochSeconds(world->simulation().now()), path);
    if (!imported.entryErrors.isEmpty()) {
        for (const QString &entryError : imported.entryErrors)
            qCWarning(lcMainWindow) << "invalid bulk entry in" << path << ":" << entryError;
        QStringList lines = imported.entryErrors.mid(0, kMaxEntryErrorsShown);
        const qsizetype hidden = imported.entryErrors.size() - lines.size();
        if (hidden > 0)
            lines << tr("… and %1 more (the log lists every one).").arg(hidden);
        const QString count = imported.entryErrors.size() == 1
            ? tr("1 invalid entry")
            : tr("%1 invalid entries").arg(imported.entryErrors.size());
        m_banner->showError(
            tr("%1 has %2, so no key was imported. Fix them and import again:").arg(fileName, count)
            + QStringLiteral("\n  ") + lines.join(QStringLiteral("\n  ")));
        statusBar()->showMessage(tr("Nothing imported from %1").arg(fileName), kStatusMessageMs);
        return false;
    }
    if (!imported.error.isEmpty()) {
        qCWarning(lcMainWindow) << "import failed:" << imported.error;
        m_banner->showError(
            tr("Could not import %1, so no key was imported.\n%2").arg(fileName, imported.error));
        statusBar()->showMessage(tr("Nothing imported from %1").arg(fileName), kStatusMessageMs);
        return false;
    }
    m_banner->hide();
    m_kvBrowser->model()->refresh();
    statusBar()->showMessage(
        tr("Imported %1 from %2").arg(keyCountText(imported.importedCount), fileName),
        kStatusMessageMs);
    return true;
}

void MainWindow::chooseKvBulkJsonToExport()
{
    const QString path = QFileDialog::getSaveFileName(this, tr("Export KV Bulk JSON"),
        lastFolder(kBulkJsonFolderKey), tr("JSON files (*.json);;All files (*)"));
    if (path.isEmpty())
        return;
    rememberFolder(kBulkJsonFolderKey, path);
    exportKvBulkJson(path);
}

bool MainWindow::exportKvBulkJson(const QString &path)
{
    const World *world = m_controller->world();
    if (!world) {
        m_banner->showError(tr("There is no run to export. Open a scenario first."));
        return false;
    }
    const Result<qsizetype> exported = exportKvBulkFile(world->kv(), path);
    if (!exported) {
        qCWarning(lcMainWindow) << "export failed:" << exported.error().message;
        m_banner->showError(tr("Could not export the KV keys.\n%1").arg(exported.error().message));
        return false;
    }
    m_banner->hide();
    statusBar()->showMessage(
        tr("Exported %1 to %2").arg(keyCountText(*exported), QDir::toNativeSeparators(path)),
        kStatusMessageMs);
    return true;
}

void MainWindow::chooseWranglerFolder()
{
    const QString folder = QFileDialog::getExistingDirectory(this,
        tr("Open wrangler dev KV Folder (a project folder, .wrangler or the kv folder)"),
        lastFolder(kWranglerFolderKey));
    if (folder.isEmpty())
        return;
    rememberFolder(kWranglerFolderKey, folder);
    if (WranglerKvDialog *dialog = openWranglerFolder(folder)) {
        dialog->show();
        dialog->raise();
        dialog->activateWindow();
    }
}

WranglerKvDialog *MainWindow::openWranglerFolder(const QString &folder)
{
    if (!m_wranglerDialog)
        m_wranglerDialog = new WranglerKvDialog(this);
    const Status opened = m_wranglerDialog->openFolder(folder);
    if (!opened) {
        // The error names the folder and what to choose instead.
        m_banner->showError(
            tr("Could not open the wrangler dev KV folder.\n%1").arg(opened.error().message));
        return nullptr;
    }
    m_banner->hide();
    return m_wranglerDialog;
}

void MainWindow::showAbout()
{
    QMessageBox::about(this, tr("About Roomscope"),
        tr("<h3>Roomscope %1</h3><p>A simulator and inspector for Cloudflare Durable Objects "
           "that coordinate through Workers KV. It runs rooms, a KV namespace with a cache per "
           "location, and WebSocket clients in virtual time, and shows every queued write, "
           "stale read and broadcast.</p>")
            .arg(QApplication::applicationVersion()));
}

void MainWindow::updateStatus()
{
    const World *world = m_controller->world();
    if (world) {
        const QString name = world->scenario().name;
        m_scenarioLabel->setText(tr("Scenario: %1").arg(name));
        m_scenarioLabel->setToolTip(m_controller->scenarioPath());
        m_seedLabel->setText(tr("Seed: %1").arg(world->simulation().seed()));
        setWindowTitle(tr("%1 - Roomscope").arg(name));
    } else {
        m_scenarioLabel->setText(tr("No scenario"));
        m_seedLabel->clear();
        setWindowTitle(tr("Roomscope"));
    }
    m_stateLabel->setText(runStateText(m_controller->runState()));
}

void MainWindow::fitToScreen()
{
    const QScreen *screen = this->screen();
    if (!screen) {
        resize(kPreferredWindowSize);
        return;
    }
    // availableGeometry() leaves out panels and docks but not the window's own frame, which is
    // unknown before the window is shown, so keep a margin for it.
    const QRect available = screen->availableGeometry();
    const QSize margin(available.width() / 40, available.height() / 20);
    const QSize size = kPreferredWindowSize.boundedTo(available.size() - margin);
    resize(size);
    move(available.center() - QPoint(size.width() / 2, size.height() / 2));
}

void MainWindow::restoreSettings()
{
    QSettings settings;
    restoreGeometry(settings.value(QStringLiteral("mainWindow/geometry")).toByteArray());
    m_layoutRestored = restoreState(
        settings.value(QStringLiteral("mainWindow/state")).toByteArray(), kWindowStateVersion);
    const double speed = settings.value(QStringLiteral("simulation/speed"), 1.0).toDouble();
    if (SimulationToolBar::speedFactors().contains(speed))
        m_controller->setSpeed(speed);
}

void MainWindow::saveSettings() const
{
    QSettings settings;
    settings.setValue(QStringLiteral("mainWindow/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("mainWindow/state"), saveState(kWindowStateVersion));
    settings.setValue(QStringLiteral("simulation/speed"), m_controller->speed());
}

void MainWindow::showEvent(QShowEvent *event)
{
    // Qt lays the whole window out when a second group of tabbed docks is created, which would
    // fix the hidden window's minimum size before fitToScreen() sizes it. So the Room dock joins
    // the KV browser here, unless restoreState() placed it already.
    if (!m_roomDockPlaced) {
        m_roomDockPlaced = true;
        if (!m_layoutRestored) {
            tabifyDockWidget(m_kvBrowserDock, m_roomDock);
            m_roomDock->show();
            m_kvBrowserDock->raise();
            // Beside the event log, whose script.error rows lead to it, and as wide as the log
            // so that the source view has room.
            tabifyDockWidget(m_eventLogDock, m_scriptErrorsDock);
            m_scriptErrorsDock->show();
            if (m_shownScriptErrors == 0)
                m_eventLogDock->raise();
            raiseRoomDockForLab();
            resizeDocksToDefaults();
        }
    }
    QMainWindow::showEvent(event);
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    saveSettings();
    event->accept();
}

} // namespace roomscope
