#pragma once

#include <QMainWindow>

#include <optional>

class QAbstractItemView;
class QDockWidget;
class QLabel;
class QTableView;
class QToolButton;

namespace roomscope {

class ConnectionsModel;
class EventLogModel;
class EventLogPane;
class FramesModel;
class GatewayControl;
class InspectorPane;
class KvBrowserPane;
class MessageBanner;
class PendingWritesModel;
class RequestComposer;
class RoomInspectorPane;
class RoomsModel;
class ScriptErrorsModel;
class ScriptErrorsPane;
class SimulationController;
class SimulationToolBar;
class WranglerKvDialog;

/// The main window: it creates the controller and the models, and wires the docks, the central
/// topology view, the toolbar, the menus and the status bar to them.
class MainWindow : public QMainWindow
{
    Q_OBJECT

public:
    /// The scenario bundled into the executable, opened when no other is given.
    static constexpr const char *kBundledScenario = ":/scenarios/kv-room.json";
    /// Names of the scenarios that File > Open Example offers, each ":/scenarios/NAME.json".
    static QStringList exampleNames();

    explicit MainWindow(QWidget *parent = nullptr);
    ~MainWindow() override;

    /// Opens a scenario file and starts running it when `run` is true. On failure it shows the
    /// error in the banner and the status bar and keeps the current run.
    bool openScenario(
        const QString &path, std::optional<quint64> seed = std::nullopt, bool run = false);

    // The File menu's KV file actions, given the file or folder that the menu would ask for.
    // Each returns false and shows the error in the banner when it fails.

    /// Saves the KV central store and the Durable Objects of the current run to an SQLite
    /// session file (World::saveSession).
    bool saveSession(const QString &path);
    /// Restarts the current scenario with the KV store and the Durable Objects of a session
    /// file.
    bool openSession(const QString &path);
    /// Imports a `wrangler kv bulk put` JSON file into the current run's KV namespace: every
    /// entry, or none when one is invalid.
    bool importKvBulkJson(const QString &path);
    /// Writes every live key of the current run's KV namespace as `wrangler kv bulk put` JSON.
    bool exportKvBulkJson(const QString &path);
    /// Shows a `wrangler dev` KV folder in the read-only dialog; returns the dialog, or null
    /// when the folder has no KV data.
    WranglerKvDialog *openWranglerFolder(const QString &folder);

    /// A user-facing name for a scenario path: "the bundled kv-room scenario" for a resource.
    static QString scenarioDisplayName(const QString &path);
    /// Opens a bundled example scenario by name, as File > Open Example does.
    bool openExample(const QString &name);

    SimulationController *controller() const { return m_controller; }
    EventLogModel *eventLogModel() const { return m_eventLog; }
    RequestComposer *composer() const { return m_composer; }
    InspectorPane *inspector() const { return m_inspector; }
    MessageBanner *banner() const { return m_banner; }
    KvBrowserPane *kvBrowser() const { return m_kvBrowser; }
    RoomInspectorPane *roomInspector() const { return m_roomInspector; }
    ConnectionsModel *connectionsModel() const { return m_connections; }
    FramesModel *framesModel() const { return m_frames; }
    GatewayControl *gatewayControl() const { return m_gatewayControl; }
    ScriptErrorsModel *scriptErrorsModel() const { return m_scriptErrors; }
    ScriptErrorsPane *scriptErrorsPane() const { return m_scriptErrorsPane; }
    QDockWidget *scriptErrorsDock() const { return m_scriptErrorsDock; }
    /// The status bar button that counts the script errors and opens their dock.
    QToolButton *scriptErrorBadge() const { return m_scriptErrorBadge; }
    /// Shows the Script errors dock with the error of an event log script.error row selected.
    /// Returns false for a row of another kind.
    bool showScriptError(const QModelIndex &eventLogIndex);

protected:
    void showEvent(QShowEvent *event) override;
    void closeEvent(QCloseEvent *event) override;

private:
    void createDocks();
    void createMenus();
    void createStatusBar();
    /// The Connections dock's widget: the clients, and beside them the frames of the selected
    /// real client.
    QWidget *createConnectionsPane();
    QDockWidget *addDock(
        const QString &title, const QString &objectName, QWidget *widget, Qt::DockWidgetArea area);
    void followSelection(QAbstractItemView *view);
    /// Creates the Script errors dock and its status bar badge, and opens the dock at an
    /// event log script.error row's double-click.
    QDockWidget *createScriptErrorsDock();
    void updateScriptErrorCount(quint64 count);
    /// Gives the docks their initial sizes, for a window without a saved layout.
    void resizeDocksToDefaults();
    /// Shows the room of the Rooms dock's current row in the Room dock, and keeps that row
    /// current when the Room dock selects another room.
    void followRoomSelection(QTableView *roomsView);
    void showRoom(const QString &name);
    void chooseScenario();
    void reloadScenario();
    void chooseSessionToSave();
    void chooseSessionToOpen();
    void chooseKvBulkJsonToImport();
    void chooseKvBulkJsonToExport();
    void chooseWranglerFolder();
    /// Returns the folder last used for `settingsKey`, or the user's home folder.
    QString lastFolder(const QString &settingsKey) const;
    void rememberFolder(const QString &settingsKey, const QString &path) const;
    /// Clears what belonged to the previous run when a new world starts.
    void startNewRun();
    /// Brings the Room dock to the front when the run's rooms are of the lab class.
    void raiseRoomDockForLab();
    /// Sizes the window to fit the available geometry of its screen.
    void fitToScreen();
    void showAbout();
    void updateStatus();
    void restoreSettings();
    void saveSettings() const;

    SimulationController *m_controller = nullptr;
    RoomsModel *m_rooms = nullptr;
    PendingWritesModel *m_pendingWrites = nullptr;
    ConnectionsModel *m_connections = nullptr;
    FramesModel *m_frames = nullptr;
    GatewayControl *m_gatewayControl = nullptr;
    EventLogModel *m_eventLog = nullptr;
    ScriptErrorsModel *m_scriptErrors = nullptr;
    ScriptErrorsPane *m_scriptErrorsPane = nullptr;
    QDockWidget *m_scriptErrorsDock = nullptr;
    QToolButton *m_scriptErrorBadge = nullptr;
    quint64 m_shownScriptErrors = 0;
    SimulationToolBar *m_toolBar = nullptr;
    MessageBanner *m_banner = nullptr;
    InspectorPane *m_inspector = nullptr;
    RequestComposer *m_composer = nullptr;
    EventLogPane *m_eventLogPane = nullptr;
    KvBrowserPane *m_kvBrowser = nullptr;
    RoomInspectorPane *m_roomInspector = nullptr;
    QDockWidget *m_roomDock = nullptr;
    QDockWidget *m_kvBrowserDock = nullptr;
    QDockWidget *m_eventLogDock = nullptr;
    bool m_layoutRestored = false; ///< restoreState() placed the docks as a session left them
    bool m_roomDockPlaced = false;
    WranglerKvDialog *m_wranglerDialog = nullptr;
    QList<QDockWidget *> m_docks;
    QTableView *m_connectionsView = nullptr;
    QTableView *m_framesView = nullptr;
    QLabel *m_scenarioLabel = nullptr;
    QLabel *m_seedLabel = nullptr;
    QLabel *m_stateLabel = nullptr;
};

} // namespace roomscope
