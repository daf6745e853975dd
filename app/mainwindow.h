#pragma once

#include <QMainWindow>

#include <optional>

class QAbstractItemView;
class QDockWidget;
class QLabel;
class QTableView;

namespace roomscope {

class ConnectionsModel;
class EventLogModel;
class EventLogPane;
class InspectorPane;
class KvKeysModel;
class MessageBanner;
class PendingWritesModel;
class RequestComposer;
class RoomsModel;
class SimulationController;
class SimulationToolBar;

/// The main window: it creates the controller and the models, and wires the docks, the central
/// topology view, the toolbar, the menus and the status bar to them.
class MainWindow : public QMainWindow
{
    Q_OBJECT

public:
    /// The scenario bundled into the executable, opened when no other is given.
    static constexpr const char *kBundledScenario = ":/scenarios/kv-room.json";

    explicit MainWindow(QWidget *parent = nullptr);
    ~MainWindow() override;

    /// Opens a scenario file; on failure shows the error in the banner and the status bar and
    /// keeps the current run.
    bool openScenario(const QString &path, std::optional<quint64> seed = std::nullopt);

    SimulationController *controller() const { return m_controller; }
    EventLogModel *eventLogModel() const { return m_eventLog; }
    RequestComposer *composer() const { return m_composer; }
    InspectorPane *inspector() const { return m_inspector; }
    MessageBanner *banner() const { return m_banner; }

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void createDocks();
    void createMenus();
    void createStatusBar();
    QDockWidget *addDock(
        const QString &title, const QString &objectName, QWidget *widget, Qt::DockWidgetArea area);
    void followSelection(QAbstractItemView *view);
    void chooseScenario();
    void reloadScenario();
    void showAbout();
    void updateStatus();
    void restoreSettings();
    void saveSettings() const;

    SimulationController *m_controller = nullptr;
    RoomsModel *m_rooms = nullptr;
    KvKeysModel *m_kvKeys = nullptr;
    PendingWritesModel *m_pendingWrites = nullptr;
    ConnectionsModel *m_connections = nullptr;
    EventLogModel *m_eventLog = nullptr;
    SimulationToolBar *m_toolBar = nullptr;
    MessageBanner *m_banner = nullptr;
    InspectorPane *m_inspector = nullptr;
    RequestComposer *m_composer = nullptr;
    EventLogPane *m_eventLogPane = nullptr;
    QList<QDockWidget *> m_docks;
    QLabel *m_scenarioLabel = nullptr;
    QLabel *m_seedLabel = nullptr;
    QLabel *m_stateLabel = nullptr;
};

} // namespace roomscope
