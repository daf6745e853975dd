#include "roominspector.h"

#include "roompropertiesmodel.h"
#include "roomtablemodels.h"
#include "simulationcontroller.h"
#include "sqlresultmodel.h"
#include "valuetext.h"

#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcRoomInspector, "roomscope.model.roominspector", QtWarningMsg)

namespace roomscope {

namespace {

QString countText(qint64 count, const QString &one, const QString &many)
{
    return count == 1 ? one : many.arg(count);
}

} // namespace

RoomInspector::RoomInspector(SimulationController *controller, QObject *parent)
    : QObject(parent)
    , m_controller(controller)
{
    // The models connect to the controller first, so they are up to date when refreshed() is
    // emitted.
    m_history = new LifecycleHistoryModel(controller, this);
    m_lifecycle
        = new RoomPropertiesModel(RoomPropertiesModel::Section::Lifecycle, controller, this);
    m_memory = new MemoryStateModel(controller, this);
    m_storage = new StorageEntriesModel(controller, this);
    m_queryResult = new SqlResultModel(this);
    m_alarmEvents = new AlarmEventsModel(controller, this);
    m_alarm = new RoomPropertiesModel(RoomPropertiesModel::Section::Alarm, controller, this);
    m_sockets = new ServerSocketsModel(controller, this);
    m_gates
        = new RoomPropertiesModel(RoomPropertiesModel::Section::QueueAndGates, controller, this);
    if (controller) {
        connect(controller, &SimulationController::worldChanged, this, &RoomInspector::followWorld);
        connect(controller, &SimulationController::advanced, this, &RoomInspector::refreshed);
    }
    followWorld();
}

RoomInspector::~RoomInspector() = default;

QList<RoomTableModel *> RoomInspector::roomModels() const
{
    return { m_history, m_lifecycle, m_memory, m_storage, m_alarmEvents, m_alarm, m_sockets,
        m_gates };
}

void RoomInspector::setRoom(const QString &name)
{
    if (name == m_room)
        return;
    m_room = name;
    for (RoomTableModel *model : roomModels())
        model->setRoom(name);
    m_queryResult->clear();
    Q_EMIT roomChanged();
    Q_EMIT refreshed();
}

void RoomInspector::followWorld()
{
    // The previous run's query result describes a database that is gone.
    m_queryResult->clear();
    const World *current = world();
    const QStringList names = current ? current->roomNames() : QStringList();
    if (names.contains(m_room)) {
        Q_EMIT refreshed();
        return;
    }
    setRoom(names.isEmpty() ? QString() : names.first());
}

World *RoomInspector::world() const
{
    return m_controller ? m_controller->world() : nullptr;
}

DurableObject *RoomInspector::object() const
{
    const World *current = world();
    return current && !m_room.isEmpty() ? current->roomObject(m_room) : nullptr;
}

RoomInspector::Summary RoomInspector::summary() const
{
    Summary summary;
    const World *current = world();
    if (!current || m_room.isEmpty())
        return summary;
    const DurableObjectNamespace &rooms = current->rooms();
    summary.room = m_room;
    summary.id = rooms.idFromName(m_room).toString();
    summary.className = rooms.className();
    summary.backend
        = rooms.objectClass().backend == StorageBackend::Sqlite ? tr("SQLite") : tr("KV");
    summary.compatibilityDate = rooms.settings().compatibilityDate.toString(Qt::ISODate);
    if (const DurableObject *found = object()) {
        summary.exists = true;
        summary.location = current->locations().name(found->location());
        summary.state = objectStateName(found->state());
        summary.stateColor = objectStateColor(found->state());
        summary.instance = found->isInMemory()
            ? tr("instance %1 · constructor runs %2")
                  .arg(found->instanceNumber())
                  .arg(found->constructorRuns())
            : tr("no instance in memory (last was %1) · constructor runs %2")
                  .arg(found->instanceNumber())
                  .arg(found->constructorRuns());
        return summary;
    }
    for (const Scenario::Room &room : current->scenario().rooms) {
        if (room.name == m_room && !room.location.isEmpty())
            summary.location = tr("%1 (hint)").arg(room.location);
    }
    summary.state = tr("not created");
    summary.stateColor = objectStateColor(ObjectState::Inactive);
    summary.instance = tr("no instance yet");
    return summary;
}

QStringList RoomInspector::tableNames() const
{
    DurableObject *found = object();
    return found ? found->storage().tableNames() : QStringList();
}

Result<QString> RoomInspector::runQuery(const QString &query)
{
    DurableObject *found = object();
    if (!found) {
        m_queryResult->clear();
        return Error::error(
            tr("Room %1 has no Durable Object yet, so it has no database. Send it a request "
               "first.")
                .arg(m_room));
    }
    const Result<SqlCursor> cursor = found->storage().inspect(query);
    if (!cursor) {
        m_queryResult->clear();
        return cursor.error();
    }
    m_queryResult->setResult(*cursor);
    const qsizetype rows = qsizetype(cursor->rows.size());
    QString text = countText(rows, tr("1 row"), tr("%1 rows"));
    if (rows > m_queryResult->rowCount())
        text += tr(", the first %1 shown").arg(m_queryResult->rowCount());
    return text;
}

bool RoomInspector::isAvailable(Action action) const
{
    const DurableObject *found = object();
    if (!found)
        return false;
    switch (action) {
    case Action::Hibernate:
    case Action::Evict:
    case Action::Shutdown:
        return found->isInMemory();
    case Action::Reset:
        return found->isInMemory() || found->state() == ObjectState::Hibernated
            || !found->sockets().empty();
    case Action::FireAlarm:
        return found->alarmTimeMs().has_value() && !found->isAlarmRunning();
    case Action::FailNextCommit:
        return !found->isStorageFailureInjected();
    }
    return false;
}

QString RoomInspector::actionText(Action action)
{
    switch (action) {
    case Action::Hibernate:
        return tr("Hibernate");
    case Action::Evict:
        return tr("Evict");
    case Action::Reset:
        return tr("Reset");
    case Action::Shutdown:
        return tr("Shutdown");
    case Action::FireAlarm:
        return tr("Fire alarm now");
    case Action::FailNextCommit:
        return tr("Fail next commit");
    }
    return {};
}

QString RoomInspector::actionToolTip(Action action)
{
    switch (action) {
    case Action::Hibernate:
        return tr("Drop the instance now, as the idle timer would: in-memory fields are lost, "
                  "while storage, the alarm and hibernatable WebSockets stay. It fails while an "
                  "event runs or a timer, outbound I/O or a standard WebSocket keeps the object "
                  "awake.");
    case Action::Evict:
        return tr("Drop the instance and close its WebSockets with 1001, as the platform evicts "
                  "an idle object that cannot hibernate. Storage and the alarm stay. It fails "
                  "while an event runs or outbound I/O is pending.");
    case Action::Reset:
        return tr("Reset the object as the runtime does after a failed storage write: in-flight "
                  "requests fail, WebSockets close with 1011, and uncommitted writes and "
                  "in-memory fields are lost.");
    case Action::Shutdown:
        return tr("Shut the object down as a deploy does: WebSockets close at once, in-flight "
                  "requests get the grace period, and storage access during it resets the "
                  "object.");
    case Action::FireAlarm:
        return tr("Make the pending alarm due now instead of at its scheduled time. The handler "
                  "runs when the simulation runs or steps.");
    case Action::FailNextCommit:
        return tr("Make the next write batch fail, as a disk or replication fault would: the "
                  "batch's writes are lost and the object resets.");
    }
    return {};
}

QString RoomInspector::whyNotHibernated(const DurableObject &object) const
{
    if (!object.isInMemory())
        return tr("it is not in memory");
    QStringList reasons = RoomPropertiesModel::awakeReasons(object);
    if (!object.inputGateOpen() && !object.isBlockingConcurrency())
        reasons.prepend(tr("its input gate is closed by a storage read"));
    return reasons.join(QStringLiteral(", "));
}

QString RoomInspector::whyNotEvicted(const DurableObject &object) const
{
    if (!object.isInMemory())
        return tr("it is not in memory");
    QStringList reasons;
    if (object.eventsInFlight() > 0)
        reasons << countText(
            object.eventsInFlight(), tr("1 event in flight"), tr("%1 events in flight"));
    if (object.isBlockingConcurrency())
        reasons << tr("blockConcurrencyWhile running");
    else if (!object.inputGateOpen())
        reasons << tr("its input gate is closed by a storage read");
    if (object.pendingIo() > 0)
        reasons << countText(
            object.pendingIo(), tr("1 outbound I/O operation"), tr("%1 outbound I/O operations"));
    return reasons.join(QStringLiteral(", "));
}

Result<QString> RoomInspector::trigger(Action action)
{
    DurableObject *found = object();
    if (!found)
        return Error::error(
            tr("Room %1 has no Durable Object yet. Send it a request first.").arg(m_room));
    const QString name = found->actorName();
    Result<QString> outcome = QString();
    switch (action) {
    case Action::Hibernate:
        if (found->hibernate())
            outcome = tr("Hibernated %1: its in-memory fields are gone, and the next event runs "
                         "the constructor again.")
                          .arg(name);
        else
            outcome = Error::error(
                tr("Could not hibernate %1: %2.").arg(name, whyNotHibernated(*found)));
        break;
    case Action::Evict:
        if (found->evict())
            outcome = tr("Evicted %1: its WebSockets closed and its in-memory fields are gone.")
                          .arg(name);
        else
            outcome = Error::error(tr("Could not evict %1: %2.").arg(name, whyNotEvicted(*found)));
        break;
    case Action::Reset:
        found->reset(Error::error(tr("Durable Object reset from the Roomscope inspector.")));
        outcome = tr("Reset %1: in-flight requests failed and its WebSockets closed.").arg(name);
        break;
    case Action::Shutdown:
        if (!found->isInMemory()) {
            outcome = Error::error(tr("Could not shut down %1: it is not in memory.").arg(name));
            break;
        }
        found->shutdown();
        outcome = found->isInMemory()
            ? tr("Shutting down %1: its WebSockets closed, and in-flight requests have %2 to "
                 "finish.")
                  .arg(name, formatDuration(found->settings().shutdownGrace))
            : tr("Shut down %1: its WebSockets closed and its in-memory fields are gone.")
                  .arg(name);
        break;
    case Action::FireAlarm:
        if (found->fireAlarmNow())
            outcome = tr("The alarm of %1 is due now. Run or step the simulation to run its "
                         "handler.")
                          .arg(name);
        else
            outcome = Error::error(found->isAlarmRunning()
                    ? tr("Could not fire the alarm of %1: its handler is running.").arg(name)
                    : tr("Could not fire the alarm of %1: no alarm is set.").arg(name));
        break;
    case Action::FailNextCommit:
        found->injectStorageFailure();
        outcome = tr("The next storage commit of %1 fails, which resets the object.").arg(name);
        break;
    }
    if (outcome)
        qCInfo(lcRoomInspector) << actionText(action) << "on" << name << ":" << outcome.value();
    else
        qCInfo(lcRoomInspector) << actionText(action) << "on" << name
                                << "failed:" << outcome.error().message;
    // Every view shows the change at once, even while the run is paused.
    if (m_controller)
        m_controller->notifyWorldEdited();
    return outcome;
}

} // namespace roomscope
