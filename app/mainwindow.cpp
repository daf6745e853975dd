#include "mainwindow.h"

#include "connectionsmodel.h"
#include "eventlogmodel.h"
#include "eventlogpane.h"
#include "inspectorpane.h"
#include "kvbrowserpane.h"
#include "kvkeysmodel.h"
#include "kvkeyspane.h"
#include "messagebanner.h"
#include "pendingwritesmodel.h"
#include "requestcomposer.h"
#include "roomsmodel.h"
#include "simulationcontroller.h"
#include "simulationtoolbar.h"
#include "tableviews.h"
#include "topologyview.h"
#include "valuetext.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QLoggingCategory>
#include <QMenuBar>
#include <QMessageBox>
#include <QSettings>
#include <QStatusBar>
#include <QTableView>
#include <QTreeView>
#include <QVBoxLayout>

Q_LOGGING_CATEGORY(lcMainWindow, "roomscope.app.mainwindow", QtWarningMsg)

namespace roomscope {

namespace {

/// Bumped when the docks change, so that restoreState() ignores a layout saved by an older build.
constexpr int kWindowStateVersion = 2;
/// How long transient status bar messages stay.
constexpr int kStatusMessageMs = 8000;

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
    m_kvKeys = new KvKeysModel(m_controller, this);
    m_pendingWrites = new PendingWritesModel(m_controller, this);
    m_connections = new ConnectionsModel(m_controller, this);
    m_eventLog = new EventLogModel(m_controller, this);

    m_toolBar = new SimulationToolBar(m_controller, this);
    addToolBar(m_toolBar);
    addAction(m_toolBar->toggleAction());

    auto *central = new QWidget(this);
    auto *centralLayout = new QVBoxLayout(central);
    centralLayout->setContentsMargins(0, 0, 0, 0);
    centralLayout->setSpacing(0);
    m_banner = new MessageBanner(central);
    centralLayout->addWidget(m_banner);
    centralLayout->addWidget(new TopologyView(m_controller, central), 1);
    setCentralWidget(central);

    createDocks();
    createMenus();
    createStatusBar();

    connect(m_controller, &SimulationController::runStateChanged, this, &MainWindow::updateStatus);
    connect(m_controller, &SimulationController::worldChanged, this, &MainWindow::updateStatus);
    connect(m_controller, &SimulationController::finished, this, [this] {
        const World *world = m_controller->world();
        statusBar()->showMessage(
            tr("The run finished at %1. File > Reload starts it again.")
                .arg(formatRunOffset(world->simulation().now(), world->simulation().start())),
            kStatusMessageMs);
    });
    resize(1600, 1000);
    restoreSettings();
    updateStatus();
}

MainWindow::~MainWindow()
{
    // Delete the controller while every widget and slot of this window still exists, because it
    // announces the end of its world to the models and views.
    disconnect(m_controller, nullptr, this, nullptr);
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

    auto *kvPane = new KvKeysPane(m_kvKeys, this);
    QDockWidget *kvDock
        = addDock(tr("KV keys"), QStringLiteral("kvDock"), kvPane, Qt::LeftDockWidgetArea);

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
    QTableView *connectionsView
        = createTableView(m_connections, { true, { 16, 8, 8, 9, 10, 9, 8 } }, this);
    connectionsView->setObjectName(QStringLiteral("connectionsView"));
    QDockWidget *connectionsDock = addDock(tr("Connections"), QStringLiteral("connectionsDock"),
        connectionsView, Qt::BottomDockWidgetArea);

    auto *kvBrowser = new KvBrowserPane(m_controller, this);
    QDockWidget *kvBrowserDock = addDock(
        tr("KV browser"), QStringLiteral("kvBrowserDock"), kvBrowser, Qt::BottomDockWidgetArea);

    splitDockWidget(eventDock, pendingDock, Qt::Horizontal);
    tabifyDockWidget(eventDock, kvBrowserDock);
    tabifyDockWidget(pendingDock, connectionsDock);
    pendingDock->raise();
    resizeDocks({ roomsDock, composerDock }, { 620, 360 }, Qt::Horizontal);
    resizeDocks({ roomsDock, kvDock }, { 140, 290 }, Qt::Vertical);
    resizeDocks({ composerDock, inspectorDock }, { 330, 300 }, Qt::Vertical);
    resizeDocks({ eventDock, pendingDock }, { 900, 700 }, Qt::Horizontal);
    resizeDocks({ eventDock }, { 330 }, Qt::Vertical);

    for (QAbstractItemView *view : std::initializer_list<QAbstractItemView *> { roomsView,
             kvPane->view(), kvBrowser->view(), pendingView, connectionsView,
             m_eventLogPane->view() })
        followSelection(view);
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
    file->addSeparator();
    QAction *quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);

    QMenu *simulation = menuBar()->addMenu(tr("&Simulation"));
    simulation->addAction(m_toolBar->toggleAction());
    simulation->addAction(m_toolBar->runAction());
    simulation->addAction(m_toolBar->pauseAction());
    simulation->addAction(m_toolBar->stepAction());

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
    statusBar()->addPermanentWidget(m_scenarioLabel);
    statusBar()->addPermanentWidget(m_seedLabel);
    statusBar()->addPermanentWidget(m_stateLabel);
}

bool MainWindow::openScenario(const QString &path, std::optional<quint64> seed)
{
    const Status loaded = m_controller->load(path, seed);
    if (!loaded) {
        const QString message = loaded.error().message;
        m_banner->showError(
            tr("Could not open the scenario. The current run stays loaded.\n%1").arg(message));
        statusBar()->showMessage(tr("Could not open %1").arg(path), kStatusMessageMs);
        return false;
    }
    m_banner->hide();
    qCInfo(lcMainWindow) << "opened" << path;
    statusBar()->showMessage(tr("Opened %1. Press Space to run.").arg(path), kStatusMessageMs);
    return true;
}

void MainWindow::chooseScenario()
{
    QSettings settings;
    const QString directory = settings.value(QStringLiteral("paths/scenarioDirectory")).toString();
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open Scenario"), directory, tr("Scenario files (*.json);;All files (*)"));
    if (path.isEmpty())
        return;
    settings.setValue(QStringLiteral("paths/scenarioDirectory"), QFileInfo(path).absolutePath());
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
    statusBar()->showMessage(tr("Reloaded %1").arg(m_controller->scenarioPath()), kStatusMessageMs);
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

void MainWindow::restoreSettings()
{
    QSettings settings;
    restoreGeometry(settings.value(QStringLiteral("mainWindow/geometry")).toByteArray());
    restoreState(
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

void MainWindow::closeEvent(QCloseEvent *event)
{
    saveSettings();
    event->accept();
}

} // namespace roomscope
