#pragma once

#include "roominspector.h"

#include <QMap>
#include <QWidget>

class QAbstractItemView;
class QAction;
class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;
class QPushButton;
class QTabWidget;
class QTableView;
class QTimer;
class QToolBar;

namespace roomscope {

class SimulationController;

/// The Room dock: the Durable Object of the selected room. A header names the object, its
/// location, class, storage backend and lifecycle state. Tabs show its lifecycle history and
/// timers, its in-memory fields beside its stored entries, its storage with a read-only SQL
/// console, its alarm, its WebSockets, and its queue and gates. Actions hibernate, evict, reset
/// or shut it down, fire its alarm and make its next storage commit fail.
class RoomInspectorPane : public QWidget
{
    Q_OBJECT

public:
    explicit RoomInspectorPane(SimulationController *controller, QWidget *parent = nullptr);

    RoomInspector *inspector() const { return m_inspector; }
    /// The action that runs `action` on the selected object.
    QAction *action(RoomInspector::Action action) const { return m_actions.value(action); }
    /// The views whose current cell carries a value (RawValueRole) for the value inspector.
    QList<QAbstractItemView *> valueViews() const;

    /// Runs the query in the console's input and prints the outcome in the console.
    void runQuery();
    /// The console's text: each query with its row count or error.
    QString consoleText() const;
    /// The message of the last action, or an empty string.
    QString messageText() const;

Q_SIGNALS:
    /// An action's outcome or the reason it could not run, for the status bar.
    void statusMessage(const QString &text, bool error);

private:
    QWidget *createHeader();
    QToolBar *createActions();
    QWidget *createLifecycleTab();
    QWidget *createMemoryTab();
    QWidget *createStorageTab();
    QWidget *createAlarmTab();
    QWidget *createSocketsTab();
    QWidget *createGatesTab();

    void refresh();
    void updateHeader();
    void updateActions();
    void updateMemoryNote();
    void updateSocketsSummary();
    void updateTables();
    void trigger(RoomInspector::Action action);
    void showMessage(const QString &text, bool error);
    void queryTable(const QString &table);

    RoomInspector *m_inspector = nullptr;
    QMap<RoomInspector::Action, QAction *> m_actions;

    QLabel *m_title = nullptr;
    QLabel *m_state = nullptr;
    QLabel *m_details = nullptr;
    QLabel *m_message = nullptr;
    QTimer *m_messageTimer = nullptr;
    QTabWidget *m_tabs = nullptr;

    QTableView *m_historyView = nullptr;
    QTableView *m_lifecycleView = nullptr;
    QLabel *m_memoryNote = nullptr;
    QTableView *m_memoryView = nullptr;
    QTableView *m_storedView = nullptr;
    QWidget *m_storageTab = nullptr;
    QTableView *m_entriesView = nullptr;
    QListWidget *m_tables = nullptr;
    QLineEdit *m_query = nullptr;
    QPushButton *m_runQuery = nullptr;
    QPlainTextEdit *m_console = nullptr;
    QTableView *m_resultView = nullptr;
    QTableView *m_alarmView = nullptr;
    QTableView *m_alarmEventsView = nullptr;
    QLabel *m_socketsSummary = nullptr;
    QTableView *m_socketsView = nullptr;
    QTableView *m_gatesView = nullptr;
};

} // namespace roomscope
