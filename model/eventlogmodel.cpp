#include "eventlogmodel.h"

#include "modelroles.h"
#include "valuetext.h"

namespace roomscope {

EventLogModel::EventLogModel(SimulationController *controller, QObject *parent)
    : WorldTableModel(controller, parent)
{
    attachToController();
}

EventLogModel::~EventLogModel() = default;

int EventLogModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_events.size());
}

int EventLogModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QString EventLogModel::columnText(const TraceEvent &event, int column, SimTime start)
{
    switch (Column(column)) {
    case TimeColumn:
        return formatOffset(event.time, start);
    case KindColumn:
        return QLatin1String(traceKindInfo(event.kind).name);
    case ActorColumn:
        return event.actor;
    case LocationColumn:
        return event.location;
    case DetailsColumn:
        return event.detailsText();
    case ColumnCount:
        break;
    }
    return {};
}

Highlight EventLogModel::highlight(const TraceEvent &event)
{
    switch (event.kind) {
    case TraceKind::KvPut:
    case TraceKind::KvDelete:
        return event.numbers[0] >= 400 ? Highlight::Error : Highlight::None;
    case TraceKind::RequestEnd:
        return event.numbers[1] >= 400 ? Highlight::Error : Highlight::None;
    case TraceKind::KvGet:
        return event.numbers[1] != 0 ? Highlight::Warning : Highlight::None;
    case TraceKind::ObjectReset:
    case TraceKind::ObjectOverloaded:
        return Highlight::Error;
    case TraceKind::StorageCommit:
        return event.subject == QLatin1String("failed") ? Highlight::Error : Highlight::None;
    case TraceKind::AlarmSet:
        return event.subject == QLatin1String("retry") ? Highlight::Warning : Highlight::None;
    case TraceKind::Gateway:
        // A refusal or a guard's close, a failed WebSocket handshake and a non-loopback address
        // need attention. Starts, stops and idle closes are routine.
        return event.subject == QLatin1String("refused")
                || event.subject == QLatin1String("handshake")
                || event.subject == QLatin1String("warning")
            ? Highlight::Warning
            : Highlight::None;
    default:
        return Highlight::None;
    }
}

QVariant EventLogModel::data(const QModelIndex &index, int role) const
{
    if (!hasIndex(index.row(), index.column(), index.parent()))
        return {};
    const TraceEvent &event = m_events[size_t(index.row())];
    switch (role) {
    case Qt::DisplayRole:
        return columnText(event, index.column(), m_start);
    case SortRole:
        return index.column() == TimeColumn ? QVariant(event.time)
                                            : QVariant(columnText(event, index.column(), m_start));
    case Qt::ToolTipRole:
        if (index.column() == TimeColumn)
            return formatClock(event.time);
        if (index.column() == DetailsColumn)
            return event.detailsText(400);
        return {};
    case TraceEventRole:
        return QVariant::fromValue(event);
    case RawValueRole:
        return event.value;
    case ValueTitleRole:
        return tr("%1 by %2 at %3")
            .arg(QLatin1String(traceKindInfo(event.kind).name), event.actor,
                formatRunOffset(event.time, m_start));
    case HighlightRole:
        return QVariant::fromValue(highlight(event));
    case Qt::TextAlignmentRole:
        return index.column() == TimeColumn ? QVariant(Qt::AlignRight | Qt::AlignVCenter)
                                            : QVariant();
    default:
        return {};
    }
}

QVariant EventLogModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (Column(section)) {
    case TimeColumn:
        return tr("Time (s)");
    case KindColumn:
        return tr("Kind");
    case ActorColumn:
        return tr("Actor");
    case LocationColumn:
        return tr("Location");
    case DetailsColumn:
        return tr("Details");
    case ColumnCount:
        break;
    }
    return {};
}

void EventLogModel::setCapacity(int capacity)
{
    m_capacity = std::max(capacity, 1);
    trimFor(0);
}

void EventLogModel::trimFor(size_t incoming)
{
    const size_t capacity = size_t(m_capacity);
    if (m_events.size() + incoming <= capacity)
        return;
    const size_t chunk = std::max<size_t>(1, capacity / 10);
    const size_t keep = incoming >= capacity - chunk ? 0 : capacity - chunk - incoming;
    if (m_events.size() <= keep)
        return;
    const size_t remove = m_events.size() - keep;
    beginRemoveRows({}, 0, int(remove) - 1);
    m_events.erase(m_events.begin(), m_events.begin() + qsizetype(remove));
    m_dropped += remove;
    endRemoveRows();
}

void EventLogModel::clearRows()
{
    m_subscription.reset();
    m_events.clear();
    m_pending.clear();
    m_dropped = 0;
}

void EventLogModel::loadRows(World &world)
{
    m_start = world.simulation().start();
    m_subscription.subscribe(world.simulation().trace(),
        [this](const TraceEvent &event) { m_pending.push_back(event); });
}

void EventLogModel::updateRows(World &world)
{
    Q_UNUSED(world);
    if (m_pending.empty())
        return;
    std::vector<TraceEvent> incoming;
    incoming.swap(m_pending);
    const size_t capacity = size_t(m_capacity);
    if (incoming.size() > capacity) {
        m_dropped += incoming.size() - capacity;
        incoming.erase(incoming.begin(), incoming.end() - qsizetype(capacity));
    }
    trimFor(incoming.size());

    const int first = int(m_events.size());
    beginInsertRows({}, first, first + int(incoming.size()) - 1);
    std::move(incoming.begin(), incoming.end(), std::back_inserter(m_events));
    endInsertRows();
}

} // namespace roomscope
