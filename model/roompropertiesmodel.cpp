#include "roompropertiesmodel.h"

#include "valuetext.h"

namespace roomscope {

namespace {

QString countText(qint64 count, const QString &one, const QString &many)
{
    return count == 1 ? one : many.arg(count);
}

QString yesNo(bool value)
{
    return value ? QObject::tr("yes") : QObject::tr("no");
}

} // namespace

RoomPropertiesModel::RoomPropertiesModel(
    Section section, SimulationController *controller, QObject *parent)
    : RoomTableModel(controller, parent)
    , m_section(section)
{
    attachToController();
}

int RoomPropertiesModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int RoomPropertiesModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant RoomPropertiesModel::data(const QModelIndex &index, int role) const
{
    if (!hasIndex(index.row(), index.column(), index.parent()))
        return {};
    const Row &row = m_rows[size_t(index.row())];
    switch (role) {
    case Qt::DisplayRole:
        return index.column() == NameColumn ? row.name : row.value;
    case Qt::ToolTipRole:
        return row.toolTip.isEmpty() ? QVariant() : QVariant(row.toolTip);
    case HighlightRole:
        return index.column() == ValueColumn ? QVariant::fromValue(row.highlight) : QVariant();
    default:
        return {};
    }
}

QVariant RoomPropertiesModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (Column(section)) {
    case NameColumn:
        return tr("Property");
    case ValueColumn:
        return tr("Value");
    case ColumnCount:
        break;
    }
    return {};
}

QString RoomPropertiesModel::value(const QString &name) const
{
    for (const Row &row : m_rows) {
        if (row.name == name)
            return row.value;
    }
    return {};
}

QStringList RoomPropertiesModel::awakeReasons(const DurableObject &object)
{
    QStringList reasons;
    if (!object.isInMemory())
        return reasons;
    if (object.eventsInFlight() > 0)
        reasons << countText(
            object.eventsInFlight(), tr("1 event in flight"), tr("%1 events in flight"));
    if (object.queuedEvents() > 0)
        reasons << countText(object.queuedEvents(), tr("1 queued event"), tr("%1 queued events"));
    if (object.isBlockingConcurrency())
        reasons << tr("blockConcurrencyWhile running");
    if (object.pendingTimers() > 0)
        reasons << countText(
            object.pendingTimers(), tr("1 pending timer"), tr("%1 pending timers"));
    if (object.pendingIo() > 0)
        reasons << countText(
            object.pendingIo(), tr("1 outbound I/O operation"), tr("%1 outbound I/O operations"));
    const qint64 standardSockets
        = std::count_if(object.sockets().begin(), object.sockets().end(), [](const auto &socket) {
              return socket->accepted && !socket->hibernatable
                  && socket->state != ServerWebSocket::State::Closed;
          });
    if (standardSockets > 0)
        reasons << countText(
            standardSockets, tr("1 standard WebSocket"), tr("%1 standard WebSockets"));
    return reasons;
}

std::vector<RoomPropertiesModel::Row> RoomPropertiesModel::lifecycleRows(
    const World &world, const DurableObject &object) const
{
    const DurableObjectSettings &settings = world.rooms().settings();
    const SimTime start = world.simulation().start();
    std::vector<Row> rows;
    rows.push_back({ tr("State"), objectStateName(object.state()), {}, Highlight::None });
    rows.push_back(
        { tr("Hibernates after"), tr("%1 idle").arg(formatDuration(settings.hibernateAfter)),
            tr("An idle object hibernates after this long when nothing keeps it awake. A "
               "hibernation drops the instance and its in-memory fields. Storage, the alarm and "
               "hibernatable WebSockets stay."),
            Highlight::None });
    rows.push_back({ tr("Evicted after"),
        tr("%1 to %2 idle")
            .arg(formatDuration(settings.evictAfterMin), formatDuration(settings.evictAfterMax)),
        tr("An idle object that cannot hibernate, because a timer keeps it awake, is evicted "
           "after a random time in this range. A standard WebSocket or outbound I/O keeps it in "
           "memory."),
        Highlight::None });
    rows.push_back({ tr("Shutdown grace"), formatDuration(settings.shutdownGrace),
        tr("After a shutdown, in-flight requests may run this long; any storage access during "
           "it resets the object."),
        Highlight::None });
    rows.push_back(
        { tr("blockConcurrencyWhile timeout"), formatDuration(settings.blockConcurrencyTimeout),
            tr("A blockConcurrencyWhile() callback that runs longer resets the object."),
            Highlight::None });

    QString awake;
    Highlight awakeHighlight = Highlight::None;
    if (!object.isInMemory()) {
        awake = tr("not in memory");
    } else {
        const QStringList reasons = awakeReasons(object);
        awake = reasons.isEmpty() ? tr("nothing: it can hibernate")
                                  : reasons.join(QStringLiteral(", "));
        if (object.state() == ObjectState::IdleNonHibernatable)
            awakeHighlight = Highlight::Warning;
    }
    rows.push_back({ tr("Keeps it awake"), awake,
        tr("Pending timers, outbound I/O and standard WebSockets keep an idle object from "
           "hibernating; events in flight keep it active."),
        awakeHighlight });
    rows.push_back({ tr("Billed duration"), formatDuration(object.activeTime()),
        tr("Time active, or idle but not hibernatable: the duration the platform bills."),
        Highlight::None });
    rows.push_back(
        { tr("Requests handled"), QString::number(object.requestsHandled()), {}, Highlight::None });
    rows.push_back({ tr("WebSocket messages received"), QString::number(object.messagesReceived()),
        {}, Highlight::None });
    rows.push_back({ tr("Created"), formatRunOffset(object.createdAt(), start),
        formatClock(object.createdAt()), Highlight::None });
    return rows;
}

std::vector<RoomPropertiesModel::Row> RoomPropertiesModel::alarmRows(
    const World &world, const DurableObject &object) const
{
    const DurableObjectSettings &settings = world.rooms().settings();
    const SimTime now = world.simulation().now();
    const SimTime start = world.simulation().start();
    std::vector<Row> rows;

    QString alarm = tr("not set");
    QString alarmTip;
    if (const std::optional<qint64> ms = object.alarmTimeMs()) {
        const SimTime at = *ms * kMicrosecondsPerMillisecond;
        const QString when = at >= now ? tr("in %1").arg(formatDuration(at - now))
                                       : tr("due since %1").arg(formatDuration(now - at));
        alarm = tr("%1 (%2)").arg(formatRunOffset(at, start), when);
        alarmTip = tr("%1, epoch %2 ms").arg(formatClock(at)).arg(*ms);
    } else if (object.isAlarmRunning()) {
        alarmTip = tr("getAlarm() returns null while the handler runs, unless the handler sets "
                      "a new alarm.");
    }
    rows.push_back({ tr("Alarm"), alarm, alarmTip, Highlight::None });
    rows.push_back({ tr("Handler running"), yesNo(object.isAlarmRunning()), {}, Highlight::None });
    rows.push_back({ tr("retryCount"), QString::number(object.alarmRetryCount()),
        tr("The retryCount of the next run: 0 for a first run, then 1, 2, ... after failures."),
        object.alarmRetryCount() > 0 ? Highlight::Warning : Highlight::None });
    rows.push_back({ tr("Runs"), QString::number(object.alarmRuns()),
        tr("Handler runs so far, retries included."), Highlight::None });
    rows.push_back({ tr("Retry policy"),
        tr("up to %1 retries, the first after %2, each doubling the delay")
            .arg(settings.alarmMaxRetries)
            .arg(formatDuration(settings.alarmRetryBase)),
        tr("A failed alarm handler runs again with exponential backoff; after the last retry "
           "the alarm is dropped."),
        Highlight::None });
    return rows;
}

std::vector<RoomPropertiesModel::Row> RoomPropertiesModel::gateRows(
    const DurableObject &object) const
{
    std::vector<Row> rows;
    const bool open = object.inputGateOpen();
    rows.push_back({ tr("Input gate"), open ? tr("open") : tr("closed"),
        tr("Closed while a storage read is in progress or blockConcurrencyWhile() runs: no "
           "other event is delivered then."),
        open ? Highlight::None : Highlight::Warning });
    rows.push_back({ tr("Queued events"), QString::number(object.queuedEvents()),
        tr("Requests, calls, messages and alarms waiting for the input gate."), Highlight::None });
    rows.push_back({ tr("Events in flight"), QString::number(object.eventsInFlight()),
        tr("Events delivered to the behaviour that have not finished; they interleave at "
           "awaits that are not storage reads."),
        Highlight::None });
    rows.push_back({ tr("Input locks"), QString::number(object.inputLocks()),
        tr("Storage reads in progress, each closing the input gate."), Highlight::None });
    rows.push_back({ tr("blockConcurrencyWhile"),
        object.isBlockingConcurrency() ? tr("running") : tr("not running"), {},
        object.isBlockingConcurrency() ? Highlight::Warning : Highlight::None });
    rows.push_back({ tr("Held outputs"), QString::number(object.heldOutputs()),
        tr("Responses, WebSocket sends and waits on the output gate, held until the writes "
           "before them are confirmed durable."),
        Highlight::None });
    rows.push_back({ tr("Last batch"), QString::number(object.lastBatch()),
        tr("The newest write batch, open or committed."), Highlight::None });
    rows.push_back({ tr("Confirmed batch"), QString::number(object.confirmedBatch()),
        tr("The newest batch confirmed durable. Outputs after a later batch wait for it."),
        object.confirmedBatch() < object.lastBatch() ? Highlight::Warning : Highlight::None });
    rows.push_back(
        { tr("Pending timers"), QString::number(object.pendingTimers()), {}, Highlight::None });
    rows.push_back({ tr("Pending I/O"), QString::number(object.pendingIo()), {}, Highlight::None });
    rows.push_back({ tr("Next storage commit"),
        object.isStorageFailureInjected() ? tr("fails (injected)") : tr("normal"),
        tr("Fail next storage commit makes the next batch fail, which resets the object."),
        object.isStorageFailureInjected() ? Highlight::Error : Highlight::None });
    return rows;
}

std::vector<RoomPropertiesModel::Row> RoomPropertiesModel::snapshot(const World &world) const
{
    const DurableObject *found = object(world);
    if (!found)
        return {};
    switch (m_section) {
    case Section::Lifecycle:
        return lifecycleRows(world, *found);
    case Section::Alarm:
        return alarmRows(world, *found);
    case Section::QueueAndGates:
        return gateRows(*found);
    }
    return {};
}

void RoomPropertiesModel::clearRows()
{
    m_rows.clear();
}

void RoomPropertiesModel::loadRows(World &world)
{
    m_rows = snapshot(world);
}

void RoomPropertiesModel::updateRows(World &world)
{
    syncRows(m_rows, snapshot(world), [](const Row &row) { return row.name; });
}

} // namespace roomscope
