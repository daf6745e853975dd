#include "kvhistorymodel.h"

#include "modelroles.h"
#include "simulationcontroller.h"
#include "valuetext.h"

namespace roomscope {

KvHistoryModel::KvHistoryModel(QObject *parent)
    : QAbstractTableModel(parent)
{
}

void KvHistoryModel::setController(SimulationController *controller)
{
    if (m_controller)
        disconnect(m_controller, nullptr, this, nullptr);
    m_controller = controller;
    const auto attachWorld = [this] {
        World *world = m_controller ? m_controller->world() : nullptr;
        setSimulation(world ? &world->simulation() : nullptr);
    };
    if (controller) {
        connect(controller, &SimulationController::worldAboutToChange, this,
            [this] { setSimulation(nullptr); });
        connect(controller, &SimulationController::worldChanged, this, attachWorld);
    }
    attachWorld();
}

void KvHistoryModel::setSimulation(Simulation *simulation)
{
    beginResetModel();
    m_subscription.reset();
    m_writes.clear();
    m_shown = nullptr;
    if (simulation) {
        m_start = simulation->start();
        m_subscription.subscribe(
            simulation->trace(), [this](const TraceEvent &event) { record(event); });
    }
    endResetModel();
}

void KvHistoryModel::setKey(const QString &key)
{
    if (key == m_key)
        return;
    beginResetModel();
    m_key = key;
    const auto found = m_writes.find(key);
    m_shown = found == m_writes.end() ? nullptr : &found->second;
    endResetModel();
}

void KvHistoryModel::record(const TraceEvent &event)
{
    if (event.kind != TraceKind::KvPut && event.kind != TraceKind::KvDelete)
        return;
    Write write;
    write.time = event.time;
    write.actor = event.actor;
    write.location = event.location;
    write.isDelete = event.kind == TraceKind::KvDelete;
    write.status = int(event.numbers[0]);
    write.version = event.numbers[1];
    write.value = event.value;

    const bool shown = event.subject == m_key;
    std::deque<Write> &writes = m_writes[event.subject];
    if (shown && !m_shown) {
        // The first write of the shown key: the deque now exists, so point at it before the row
        // is announced.
        beginResetModel();
        m_shown = &writes;
        writes.push_back(std::move(write));
        endResetModel();
        return;
    }
    if (int(writes.size()) >= kMaxWritesPerKey) {
        if (shown)
            beginRemoveRows({}, 0, 0);
        writes.pop_front();
        if (shown)
            endRemoveRows();
    }
    if (shown) {
        const int row = int(writes.size());
        beginInsertRows({}, row, row);
        writes.push_back(std::move(write));
        endInsertRows();
    } else {
        writes.push_back(std::move(write));
    }
}

int KvHistoryModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() || !m_shown ? 0 : int(m_shown->size());
}

int KvHistoryModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant KvHistoryModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Write &write = (*m_shown)[size_t(index.row())];
    switch (role) {
    case Qt::DisplayRole:
        return displayData(write, index.column());
    case HighlightRole:
        return QVariant::fromValue(write.status == 200 ? Highlight::None : Highlight::Error);
    case RawValueRole:
        return index.column() == ValueColumn ? QVariant(write.value) : QVariant();
    case ValueTitleRole:
        return tr("%1 written by %2 at %3")
            .arg(m_key, write.actor, formatRunOffset(write.time, m_start));
    case Qt::ToolTipRole:
        return write.status == 200 ? tr("Accepted as version %1").arg(write.version)
                                   : tr("Rejected: a key accepts one write per second");
    default:
        return {};
    }
}

QVariant KvHistoryModel::displayData(const Write &write, int column) const
{
    switch (column) {
    case TimeColumn:
        return formatRunOffset(write.time, m_start);
    case WriterColumn:
        return write.actor;
    case LocationColumn:
        return write.location;
    case OperationColumn:
        return write.isDelete ? tr("delete") : tr("put");
    case ValueColumn:
        return write.isDelete ? QString() : previewValue(write.value);
    case ResultColumn:
        if (write.status == 200)
            return tr("accepted, version %1").arg(write.version);
        if (write.status == 429)
            return tr("429 Too Many Requests");
        return tr("failed with %1").arg(write.status);
    default:
        return {};
    }
}

QVariant KvHistoryModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case TimeColumn:
        return tr("Time");
    case WriterColumn:
        return tr("Writer");
    case LocationColumn:
        return tr("Location");
    case OperationColumn:
        return tr("Operation");
    case ValueColumn:
        return tr("Value");
    case ResultColumn:
        return tr("Result");
    default:
        return {};
    }
}

} // namespace roomscope
