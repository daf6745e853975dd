#include "roomsmodel.h"

#include "modelroles.h"

namespace roomscope {

namespace {

/// Hex digits of a Durable Object ID shown in the table; the tooltip has all 64.
constexpr int kShortIdDigits = 12;

} // namespace

RoomsModel::RoomsModel(SimulationController *controller, QObject *parent)
    : WorldTableModel(controller, parent)
{
    attachToController();
}

int RoomsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int RoomsModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QString RoomsModel::stateName(RoomState state)
{
    switch (state) {
    case RoomState::NotCreated:
        return tr("not created");
    case RoomState::Active:
        return tr("active");
    case RoomState::IdleHibernatable:
        return tr("idle, hibernatable");
    case RoomState::IdleNonHibernatable:
        return tr("idle, not hibernatable");
    case RoomState::Hibernated:
        return tr("hibernated");
    case RoomState::Inactive:
        return tr("inactive");
    }
    return {};
}

RoomsModel::RoomState RoomsModel::roomState(ObjectState state)
{
    switch (state) {
    case ObjectState::Active:
        return RoomState::Active;
    case ObjectState::IdleHibernatable:
        return RoomState::IdleHibernatable;
    case ObjectState::IdleNonHibernatable:
        return RoomState::IdleNonHibernatable;
    case ObjectState::Hibernated:
        return RoomState::Hibernated;
    case ObjectState::Inactive:
        break;
    }
    return RoomState::Inactive;
}

QVariant RoomsModel::data(const QModelIndex &index, int role) const
{
    if (!hasIndex(index.row(), index.column(), index.parent()))
        return {};
    const Row &row = m_rows[size_t(index.row())];
    switch (role) {
    case Qt::DisplayRole:
        return displayData(row, index.column());
    case Qt::ToolTipRole:
        return toolTip(row, index.column());
    case SortRole:
        return sortData(row, index.column());
    case RawValueRole:
        return index.column() == IdColumn ? QVariant(row.id.toLatin1()) : QVariant();
    case ValueTitleRole:
        return tr("Durable Object ID of room %1").arg(row.name);
    case Qt::TextAlignmentRole:
        return index.column() >= ClientsColumn ? QVariant(Qt::AlignRight | Qt::AlignVCenter)
                                               : QVariant();
    default:
        return {};
    }
}

QVariant RoomsModel::displayData(const Row &row, int column) const
{
    switch (Column(column)) {
    case NameColumn:
        return row.name;
    case IdColumn:
        return row.id.left(kShortIdDigits) + QStringLiteral("…");
    case LocationColumn:
        if (row.state == RoomState::NotCreated && !row.location.isEmpty())
            return tr("%1 (hint)").arg(row.location);
        return row.location;
    case StateColumn:
        return stateName(row.state);
    case ClientsColumn:
        return row.clients;
    case QueueDepthColumn:
        return row.queueDepth;
    case PeakQueueColumn:
        return row.peakQueue;
    case RequestsColumn:
        return row.requestsHandled;
    case ColumnCount:
        break;
    }
    return {};
}

QVariant RoomsModel::sortData(const Row &row, int column) const
{
    switch (Column(column)) {
    case StateColumn:
        return int(row.state);
    case ClientsColumn:
    case QueueDepthColumn:
    case PeakQueueColumn:
    case RequestsColumn:
        return displayData(row, column);
    default:
        return displayData(row, column).toString();
    }
}

QString RoomsModel::toolTip(const Row &row, int column) const
{
    switch (Column(column)) {
    case IdColumn:
        return row.id;
    case LocationColumn:
        if (row.state == RoomState::NotCreated)
            return row.location.isEmpty()
                ? tr("Not created yet: the object will run in the location of its first caller.")
                : tr("Not created yet: the location hint places the object in %1.")
                      .arg(row.location);
        return tr("The object runs in %1.").arg(row.location);
    case QueueDepthColumn:
        return tr("KV writes queued by the room, the one in flight included.");
    case RequestsColumn:
        return tr("%1 requests handled, %2 in flight.")
            .arg(row.requestsHandled)
            .arg(row.requestsInFlight);
    default:
        return {};
    }
}

QVariant RoomsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (Column(section)) {
    case NameColumn:
        return tr("Room");
    case IdColumn:
        return tr("ID");
    case LocationColumn:
        return tr("Location");
    case StateColumn:
        return tr("State");
    case ClientsColumn:
        return tr("Clients");
    case QueueDepthColumn:
        return tr("Queue depth");
    case PeakQueueColumn:
        return tr("Peak queue");
    case RequestsColumn:
        return tr("Requests");
    case ColumnCount:
        break;
    }
    return {};
}

std::vector<RoomsModel::Row> RoomsModel::snapshot(const World &world)
{
    std::vector<Row> rows;
    const QStringList names = world.roomNames();
    rows.reserve(size_t(names.size()));
    for (const QString &name : names) {
        Row row;
        row.name = name;
        row.id = world.rooms().idFromName(name).toString();
        if (const DurableObject *object = world.roomObject(name)) {
            row.location = world.locations().name(object->location());
            row.state = roomState(object->state());
            row.requestsHandled = object->requestsHandled();
            row.requestsInFlight = object->eventsInFlight();
            row.clients = object->openSocketCount();
            // From the trace, because a hibernated room has dropped its in-memory queue.
            const auto peak = world.metrics().peakPendingWrites.find(object->actorName());
            if (peak != world.metrics().peakPendingWrites.end())
                row.peakQueue = peak->second;
        } else {
            for (const Scenario::Room &room : world.scenario().rooms) {
                if (room.name == name)
                    row.location = room.location;
            }
        }
        if (const KvRoom *room = world.room(name)) {
            row.queueDepth = int(room->pendingWrites().size());
        }
        rows.push_back(std::move(row));
    }
    return rows;
}

void RoomsModel::clearRows()
{
    m_rows.clear();
}

void RoomsModel::loadRows(World &world)
{
    m_rows = snapshot(world);
}

void RoomsModel::updateRows(World &world)
{
    syncRows(m_rows, snapshot(world), [](const Row &row) { return row.name; });
}

} // namespace roomscope
