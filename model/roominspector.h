#pragma once

#include "result.h"

#include <QColor>
#include <QObject>
#include <QPointer>

namespace roomscope {

class AlarmEventsModel;
class DurableObject;
class LifecycleHistoryModel;
class MemoryStateModel;
class RoomPropertiesModel;
class RoomTableModel;
class ServerSocketsModel;
class SimulationController;
class SqlResultModel;
class StorageEntriesModel;
class World;

/// The room inspector's state: the selected room, the tables over its Durable Object, a summary
/// for the header and the read-only SQL console. It also runs the actions that change the
/// object's lifecycle: hibernate, evict, reset, shutdown, fire the alarm, fail the next commit.
class RoomInspector : public QObject
{
    Q_OBJECT

public:
    enum class Action { Hibernate, Evict, Reset, Shutdown, FireAlarm, FailNextCommit };

    /// The header of the selected room, as text.
    struct Summary
    {
        QString room;
        QString id; ///< 64 hex digits
        QString location; ///< "LHR", or "LHR (hint)" before the object exists
        QString className;
        QString backend; ///< "SQLite" or "KV"
        QString state; ///< the lifecycle state, or "not created"
        QColor stateColor;
        QString instance; ///< "instance 2 · constructor runs 2"
        QString compatibilityDate; ///< ISO date
        bool exists = false;
    };

    explicit RoomInspector(SimulationController *controller, QObject *parent = nullptr);
    ~RoomInspector() override;

    /// Selects the room `name` (a room of World::roomNames()); an empty name selects none.
    void setRoom(const QString &name);
    const QString &room() const { return m_room; }
    World *world() const;
    /// The selected room's object, or null while it does not exist.
    DurableObject *object() const;
    Summary summary() const;

    LifecycleHistoryModel *history() const { return m_history; }
    RoomPropertiesModel *lifecycle() const { return m_lifecycle; }
    MemoryStateModel *memory() const { return m_memory; }
    StorageEntriesModel *storage() const { return m_storage; }
    SqlResultModel *queryResult() const { return m_queryResult; }
    AlarmEventsModel *alarmEvents() const { return m_alarmEvents; }
    RoomPropertiesModel *alarm() const { return m_alarm; }
    ServerSocketsModel *sockets() const { return m_sockets; }
    RoomPropertiesModel *gates() const { return m_gates; }

    /// The SQL tables of the object's database, `_cf_KV` included once the KV API wrote.
    QStringList tableNames() const;
    /// Runs a read-only query (DurableObjectStorage::inspect()) and shows its rows in
    /// queryResult(). Returns a summary such as "2 rows", or the error; on an error the
    /// previous result is cleared.
    Result<QString> runQuery(const QString &query);

    /// Whether `action` applies to the object in its current state.
    bool isAvailable(Action action) const;
    static QString actionText(Action action);
    /// A description of the action's effect, for its tooltip.
    static QString actionToolTip(Action action);
    /// Runs `action` on the selected object and refreshes every view. Returns what happened,
    /// or an Error saying why it could not, for example because an event is in flight.
    Result<QString> trigger(Action action);

Q_SIGNALS:
    void roomChanged();
    /// Emitted after the models were brought up to date: once per frame, and after a room
    /// change, a new run or an action.
    void refreshed();

private:
    QList<RoomTableModel *> roomModels() const;
    /// Keeps the selected room when the new run has it, else selects the run's first room.
    void followWorld();
    QString whyNotHibernated(const DurableObject &object) const;
    QString whyNotEvicted(const DurableObject &object) const;

    QPointer<SimulationController> m_controller;
    QString m_room;
    LifecycleHistoryModel *m_history = nullptr;
    RoomPropertiesModel *m_lifecycle = nullptr;
    MemoryStateModel *m_memory = nullptr;
    StorageEntriesModel *m_storage = nullptr;
    SqlResultModel *m_queryResult = nullptr;
    AlarmEventsModel *m_alarmEvents = nullptr;
    RoomPropertiesModel *m_alarm = nullptr;
    ServerSocketsModel *m_sockets = nullptr;
    RoomPropertiesModel *m_gates = nullptr;
};

} // namespace roomscope
