#include "pendingwritesmodel.h"

#include "modelroles.h"
#include "valuetext.h"

namespace roomscope {

PendingWritesModel::PendingWritesModel(SimulationController *controller, QObject *parent)
    : WorldTableModel(controller, parent)
{
    attachToController();
}

int PendingWritesModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int PendingWritesModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant PendingWritesModel::data(const QModelIndex &index, int role) const
{
    if (!hasIndex(index.row(), index.column(), index.parent()))
        return {};
    const Row &row = m_rows[size_t(index.row())];
    switch (role) {
    case Qt::DisplayRole:
        return displayData(row, index.column());
    case SortRole:
        return sortData(row, index.column());
    case RawValueRole:
        return row.value;
    case ValueTitleRole:
        return tr("%1: value queued by room %2").arg(row.key, row.room);
    case HighlightRole:
        return QVariant::fromValue(row.merged > 0 && index.column() == MergedColumn
                ? Highlight::Warning
                : Highlight::None);
    case Qt::ToolTipRole:
        if (index.column() == MergedColumn)
            return tr("Later writes to the key folded into this one before it was sent; the "
                      "value is the last one written.");
        if (index.column() == NextWriteColumn)
            return tr("The key may be written again one same-key interval after its previous "
                      "write completed (%1).")
                .arg(formatClock(row.nextWriteAt));
        if (index.column() == QueuedAtColumn)
            return formatClock(row.queuedAt);
        return {};
    case Qt::TextAlignmentRole:
        return index.column() == MergedColumn || index.column() == QueuedAtColumn
                || index.column() == NextWriteColumn
            ? QVariant(Qt::AlignRight | Qt::AlignVCenter)
            : QVariant();
    default:
        return {};
    }
}

QVariant PendingWritesModel::displayData(const Row &row, int column) const
{
    switch (Column(column)) {
    case RoomColumn:
        return row.room;
    case KeyColumn:
        return row.key;
    case ValueColumn:
        return previewValue(row.value);
    case QueuedAtColumn:
        return formatOffset(row.queuedAt, m_start);
    case MergedColumn:
        return row.merged;
    case StateColumn:
        return row.inFlight ? tr("in flight") : tr("waiting");
    case NextWriteColumn:
        return row.writableNow ? tr("now") : formatOffset(row.nextWriteAt, m_start);
    case ColumnCount:
        break;
    }
    return {};
}

QVariant PendingWritesModel::sortData(const Row &row, int column) const
{
    switch (Column(column)) {
    case QueuedAtColumn:
        return row.queuedAt;
    case MergedColumn:
        return row.merged;
    case NextWriteColumn:
        return row.nextWriteAt;
    default:
        return displayData(row, column);
    }
}

QVariant PendingWritesModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (Column(section)) {
    case RoomColumn:
        return tr("Room");
    case KeyColumn:
        return tr("Key");
    case ValueColumn:
        return tr("Value");
    case QueuedAtColumn:
        return tr("Queued at (s)");
    case MergedColumn:
        return tr("Merged");
    case StateColumn:
        return tr("State");
    case NextWriteColumn:
        return tr("Next write allowed at (s)");
    case ColumnCount:
        break;
    }
    return {};
}

std::vector<PendingWritesModel::Row> PendingWritesModel::snapshot(const World &world)
{
    std::vector<Row> rows;
    const SimTime now = world.simulation().now();
    for (const QString &name : world.roomNames()) {
        const KvRoom *room = world.room(name);
        if (!room)
            continue;
        for (const PendingWrite &write : room->pendingWrites()) {
            Row row;
            row.room = name;
            row.identity = quintptr(write.done.get());
            row.key = write.key;
            row.value = write.value;
            row.queuedAt = write.queuedAt;
            row.merged = write.merged;
            row.inFlight = write.inFlight;
            row.nextWriteAt = room->nextWriteAllowedAt(write.key);
            row.writableNow = row.nextWriteAt <= now;
            rows.push_back(std::move(row));
        }
    }
    return rows;
}

void PendingWritesModel::clearRows()
{
    m_rows.clear();
}

void PendingWritesModel::loadRows(World &world)
{
    m_start = world.simulation().start();
    m_rows = snapshot(world);
}

void PendingWritesModel::updateRows(World &world)
{
    syncRows(m_rows, snapshot(world), [](const Row &row) { return row.identity; });
}

} // namespace roomscope
