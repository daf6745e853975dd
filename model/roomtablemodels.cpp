#include "roomtablemodels.h"

#include "modelroles.h"
#include "valuetext.h"

namespace roomscope {

namespace {

/// Characters of an attachment shown in the sockets table. The tooltip shows up to 400.
constexpr int kAttachmentPreviewChars = 40;

QVariant rightAligned()
{
    return QVariant(Qt::AlignRight | Qt::AlignVCenter);
}

} // namespace

QColor objectStateColor(ObjectState state)
{
    switch (state) {
    case ObjectState::Active:
        return QColor(0x2e, 0x9d, 0x4f);
    case ObjectState::IdleHibernatable:
        return QColor(0x5b, 0x7f, 0xa6);
    case ObjectState::IdleNonHibernatable:
        return QColor(0xc9, 0x8a, 0x00);
    case ObjectState::Hibernated:
        return QColor(0x7b, 0x5e, 0xa7);
    case ObjectState::Inactive:
        break;
    }
    return QColor(0x8a, 0x8a, 0x8a);
}

// ---------------------------------------------------------------------------------------------
// RoomTableModel

RoomTableModel::RoomTableModel(SimulationController *controller, QObject *parent)
    : WorldTableModel(controller, parent)
{
}

void RoomTableModel::setRoom(const QString &name)
{
    if (name == m_room)
        return;
    beginResetModel();
    m_room = name;
    loadRoomRows(world());
    endResetModel();
}

DurableObject *RoomTableModel::object(const World &world) const
{
    return m_room.isEmpty() ? nullptr : world.roomObject(m_room);
}

void RoomTableModel::loadRoomRows(World *world)
{
    clearRows();
    if (world)
        loadRows(*world);
}

// ---------------------------------------------------------------------------------------------
// LifecycleHistoryModel

LifecycleHistoryModel::LifecycleHistoryModel(SimulationController *controller, QObject *parent)
    : RoomTableModel(controller, parent)
{
    attachToController();
}

int LifecycleHistoryModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int LifecycleHistoryModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant LifecycleHistoryModel::data(const QModelIndex &index, int role) const
{
    if (!hasIndex(index.row(), index.column(), index.parent()))
        return {};
    const Row &row = m_rows[size_t(index.row())];
    switch (role) {
    case Qt::DisplayRole:
        switch (Column(index.column())) {
        case TimeColumn:
            return formatRunOffset(row.at, m_start);
        case StateColumn:
            return objectStateName(row.state);
        case ReasonColumn:
            return row.reason;
        case ColumnCount:
            break;
        }
        return {};
    case Qt::DecorationRole:
        return index.column() == StateColumn ? QVariant(objectStateColor(row.state)) : QVariant();
    case Qt::ToolTipRole:
        return index.column() == TimeColumn ? QVariant(formatClock(row.at)) : QVariant();
    default:
        return {};
    }
}

QVariant LifecycleHistoryModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (Column(section)) {
    case TimeColumn:
        return tr("Time");
    case StateColumn:
        return tr("State");
    case ReasonColumn:
        return tr("Reason");
    case ColumnCount:
        break;
    }
    return {};
}

std::vector<LifecycleHistoryModel::Row> LifecycleHistoryModel::snapshot(const World &world) const
{
    std::vector<Row> rows;
    const DurableObject *found = object(world);
    if (!found)
        return rows;
    const std::vector<LifecycleChange> &history = found->history();
    rows.reserve(history.size());
    for (size_t i = 0; i < history.size(); ++i)
        rows.push_back({ int(i), history[i].at, history[i].state, history[i].reason });
    return rows;
}

void LifecycleHistoryModel::clearRows()
{
    m_rows.clear();
}

void LifecycleHistoryModel::loadRows(World &world)
{
    m_start = world.simulation().start();
    m_rows = snapshot(world);
}

void LifecycleHistoryModel::updateRows(World &world)
{
    syncRows(m_rows, snapshot(world), [](const Row &row) { return row.step; });
}

// ---------------------------------------------------------------------------------------------
// MemoryStateModel

MemoryStateModel::MemoryStateModel(SimulationController *controller, QObject *parent)
    : RoomTableModel(controller, parent)
{
    attachToController();
}

int MemoryStateModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int MemoryStateModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant MemoryStateModel::data(const QModelIndex &index, int role) const
{
    if (!hasIndex(index.row(), index.column(), index.parent()))
        return {};
    const Row &row = m_rows[size_t(index.row())];
    switch (role) {
    case Qt::DisplayRole:
        return index.column() == FieldColumn ? row.field : row.value;
    case RawValueRole:
        return index.column() == ValueColumn ? QVariant(row.value.toUtf8()) : QVariant();
    case ValueTitleRole:
        return tr("In-memory field %1 of room %2").arg(row.field, room());
    default:
        return {};
    }
}

QVariant MemoryStateModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (Column(section)) {
    case FieldColumn:
        return tr("Field");
    case ValueColumn:
        return tr("Value in memory");
    case ColumnCount:
        break;
    }
    return {};
}

std::vector<MemoryStateModel::Row> MemoryStateModel::snapshot(const World &world) const
{
    std::vector<Row> rows;
    const DurableObject *found = object(world);
    const DurableObjectBehaviour *behaviour = found ? found->behaviour() : nullptr;
    if (!behaviour)
        return rows;
    for (auto &[field, value] : behaviour->memoryState())
        rows.push_back({ field, value });
    return rows;
}

void MemoryStateModel::clearRows()
{
    m_rows.clear();
}

void MemoryStateModel::loadRows(World &world)
{
    m_rows = snapshot(world);
}

void MemoryStateModel::updateRows(World &world)
{
    syncRows(m_rows, snapshot(world), [](const Row &row) { return row.field; });
}

// ---------------------------------------------------------------------------------------------
// StorageEntriesModel

StorageEntriesModel::StorageEntriesModel(SimulationController *controller, QObject *parent)
    : RoomTableModel(controller, parent)
{
    attachToController();
}

int StorageEntriesModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int StorageEntriesModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant StorageEntriesModel::data(const QModelIndex &index, int role) const
{
    if (!hasIndex(index.row(), index.column(), index.parent()))
        return {};
    const Row &row = m_rows[size_t(index.row())];
    switch (role) {
    case Qt::DisplayRole:
        switch (Column(index.column())) {
        case KeyColumn:
            return row.key;
        case ValueColumn:
            return previewValue(row.value);
        case SizeColumn:
            return row.value.size();
        case ColumnCount:
            break;
        }
        return {};
    case RawValueRole:
        return row.value;
    case ValueTitleRole:
        return tr("Stored value of %1 in room %2").arg(row.key, room());
    case Qt::ToolTipRole:
        return index.column() == SizeColumn ? QVariant(tr("Bytes of the stored value"))
                                            : QVariant();
    case Qt::TextAlignmentRole:
        return index.column() == SizeColumn ? rightAligned() : QVariant();
    default:
        return {};
    }
}

QVariant StorageEntriesModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (Column(section)) {
    case KeyColumn:
        return tr("Key");
    case ValueColumn:
        return tr("Stored value");
    case SizeColumn:
        return tr("Bytes");
    case ColumnCount:
        break;
    }
    return {};
}

QString StorageEntriesModel::valueText(const QString &key) const
{
    for (const Row &row : m_rows) {
        if (row.key == key)
            return QString::fromUtf8(row.value);
    }
    return {};
}

std::vector<StorageEntriesModel::Row> StorageEntriesModel::snapshot(const World &world)
{
    std::vector<Row> rows;
    m_truncated = false;
    m_listError.clear();
    DurableObject *found = object(world);
    if (!found)
        return rows;
    StorageListOptions options;
    // One more than shown, to tell whether there are more.
    options.limit = kMaxEntries + 1;
    const Result<StorageEntries> listed = found->storage().list(options);
    if (!listed) {
        m_listError = listed.error().toString();
        return rows;
    }
    m_truncated = qint64(listed->size()) > kMaxEntries;
    const size_t shown = std::min(listed->size(), size_t(kMaxEntries));
    rows.reserve(shown);
    for (size_t i = 0; i < shown; ++i)
        rows.push_back({ listed->at(i).first, listed->at(i).second });
    return rows;
}

void StorageEntriesModel::clearRows()
{
    m_rows.clear();
    m_truncated = false;
    m_listError.clear();
}

void StorageEntriesModel::loadRows(World &world)
{
    m_rows = snapshot(world);
}

void StorageEntriesModel::updateRows(World &world)
{
    syncRows(m_rows, snapshot(world), [](const Row &row) { return row.key; });
}

// ---------------------------------------------------------------------------------------------
// ServerSocketsModel

ServerSocketsModel::ServerSocketsModel(SimulationController *controller, QObject *parent)
    : RoomTableModel(controller, parent)
{
    attachToController();
}

int ServerSocketsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int ServerSocketsModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QString ServerSocketsModel::stateName(ServerWebSocket::State state)
{
    switch (state) {
    case ServerWebSocket::State::Open:
        return tr("Open");
    case ServerWebSocket::State::Closing:
        return tr("Closing");
    case ServerWebSocket::State::Closed:
        return tr("Closed");
    }
    return {};
}

QVariant ServerSocketsModel::data(const QModelIndex &index, int role) const
{
    if (!hasIndex(index.row(), index.column(), index.parent()))
        return {};
    const Row &row = m_rows[size_t(index.row())];
    switch (role) {
    case Qt::DisplayRole:
        return displayData(row, index.column());
    case RawValueRole:
        return index.column() == AttachmentColumn ? QVariant(row.attachment.value_or(QByteArray()))
                                                  : QVariant();
    case ValueTitleRole:
        return tr("Attachment of connection %1 (%2)").arg(row.connection).arg(row.client);
    case HighlightRole:
        return QVariant::fromValue(
            row.state == ServerWebSocket::State::Open ? Highlight::None : Highlight::Warning);
    case Qt::ToolTipRole:
        switch (Column(index.column())) {
        case StateColumn:
            return row.state == ServerWebSocket::State::Closing
                ? tr("A Close frame was sent or received and the close handshake has not "
                     "finished.")
                : QVariant();
        case ApiColumn:
            return row.hibernatable
                ? tr("Accepted with ctx.acceptWebSocket(): the object can hibernate while it is "
                     "connected.")
                : tr("Accepted with ws.accept(): the object stays in memory while it is "
                     "connected.");
        case AttachmentColumn:
            return row.attachment ? QVariant(previewValue(*row.attachment, 400)) : QVariant();
        case AutoResponseColumn:
            return row.autoResponseAtMs ? QVariant(
                       tr("The runtime last answered with the auto-response at %1, without "
                          "waking the object.")
                           .arg(formatClock(*row.autoResponseAtMs * kMicrosecondsPerMillisecond)))
                                        : QVariant();
        default:
            return {};
        }
    case Qt::TextAlignmentRole:
        return index.column() == ConnectionColumn || index.column() >= MessagesInColumn
            ? rightAligned()
            : QVariant();
    default:
        return {};
    }
}

QVariant ServerSocketsModel::displayData(const Row &row, int column) const
{
    switch (Column(column)) {
    case ConnectionColumn:
        return row.connection;
    case ClientColumn:
        return row.client;
    case StateColumn:
        return stateName(row.state);
    case ApiColumn:
        return row.hibernatable ? tr("hibernatable") : tr("standard");
    case TagsColumn:
        return row.tags.join(QStringLiteral(", "));
    case AttachmentColumn:
        if (!row.attachment)
            return QString();
        return tr("%1 B: %2")
            .arg(row.attachment->size())
            .arg(previewValue(*row.attachment, kAttachmentPreviewChars));
    case AutoResponseColumn:
        return row.autoResponseAtMs
            ? formatRunOffset(*row.autoResponseAtMs * kMicrosecondsPerMillisecond, m_start)
            : QString();
    case MessagesInColumn:
        return row.messagesIn;
    case MessagesOutColumn:
        return row.messagesOut;
    case BytesInColumn:
        return row.bytesIn;
    case BytesOutColumn:
        return row.bytesOut;
    case ColumnCount:
        break;
    }
    return {};
}

QVariant ServerSocketsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (Column(section)) {
    case ConnectionColumn:
        return tr("Connection");
    case ClientColumn:
        return tr("Client");
    case StateColumn:
        return tr("State");
    case ApiColumn:
        return tr("API");
    case TagsColumn:
        return tr("Tags");
    case AttachmentColumn:
        return tr("Attachment");
    case AutoResponseColumn:
        return tr("Auto-response");
    case MessagesInColumn:
        return tr("Msgs in");
    case MessagesOutColumn:
        return tr("Msgs out");
    case BytesInColumn:
        return tr("Bytes in");
    case BytesOutColumn:
        return tr("Bytes out");
    case ColumnCount:
        break;
    }
    return {};
}

std::vector<ServerSocketsModel::Row> ServerSocketsModel::snapshot(const World &world) const
{
    std::vector<Row> rows;
    const DurableObject *found = object(world);
    if (!found)
        return rows;
    rows.reserve(found->sockets().size());
    for (const std::shared_ptr<ServerWebSocket> &socket : found->sockets()) {
        Row row;
        row.connection = socket->connection;
        row.client = socket->client ? socket->client->name() : QString();
        row.state = socket->state;
        row.hibernatable = socket->hibernatable;
        row.tags = socket->tags;
        row.attachment = socket->attachment;
        row.autoResponseAtMs = socket->autoResponseAtMs;
        row.messagesIn = socket->messagesReceived;
        row.messagesOut = socket->messagesSent;
        row.bytesIn = socket->bytesReceived;
        row.bytesOut = socket->bytesSent;
        rows.push_back(std::move(row));
    }
    return rows;
}

void ServerSocketsModel::clearRows()
{
    m_rows.clear();
}

void ServerSocketsModel::loadRows(World &world)
{
    m_start = world.simulation().start();
    m_rows = snapshot(world);
}

void ServerSocketsModel::updateRows(World &world)
{
    syncRows(m_rows, snapshot(world), [](const Row &row) { return row.connection; });
}

// ---------------------------------------------------------------------------------------------
// AlarmEventsModel

AlarmEventsModel::AlarmEventsModel(SimulationController *controller, QObject *parent)
    : RoomTableModel(controller, parent)
{
    attachToController();
}

AlarmEventsModel::~AlarmEventsModel() = default;

int AlarmEventsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int AlarmEventsModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant AlarmEventsModel::data(const QModelIndex &index, int role) const
{
    if (!hasIndex(index.row(), index.column(), index.parent()))
        return {};
    const TraceEvent &event = m_rows[size_t(index.row())].event;
    switch (role) {
    case Qt::DisplayRole:
        return displayData(event, index.column());
    case TraceEventRole:
        return QVariant::fromValue(event);
    case RawValueRole:
        return event.value;
    case ValueTitleRole:
        return tr("%1 by %2 at %3")
            .arg(QLatin1String(traceKindInfo(event.kind).name), event.actor,
                formatRunOffset(event.time, m_start));
    case HighlightRole:
        return QVariant::fromValue(
            event.kind == TraceKind::AlarmSet && event.subject == QLatin1String("retry")
                ? Highlight::Warning
                : Highlight::None);
    case Qt::ToolTipRole:
        if (index.column() == TimeColumn)
            return formatClock(event.time);
        if (index.column() == ErrorColumn && !event.value.isEmpty())
            return QString::fromUtf8(event.value);
        return {};
    default:
        return {};
    }
}

QVariant AlarmEventsModel::displayData(const TraceEvent &event, int column) const
{
    const bool run = event.kind == TraceKind::AlarmRun;
    switch (Column(column)) {
    case TimeColumn:
        return formatRunOffset(event.time, m_start);
    case EventColumn:
        if (run)
            return event.numbers[0] == 0 ? tr("run") : tr("run (retry)");
        if (event.subject == QLatin1String("retry"))
            return tr("retry scheduled");
        if (event.subject == QLatin1String("deleted"))
            return tr("deleted");
        if (event.subject == QLatin1String("completed"))
            return tr("completed");
        return tr("set");
    case RetryCountColumn:
        // An alarm.run carries the handler's retryCount, and a retry's alarm.set the number of
        // the retry.
        if (run || event.subject == QLatin1String("retry"))
            return event.numbers[0];
        return QString();
    case ScheduledColumn:
        if (event.subject == QLatin1String("deleted") || event.subject == QLatin1String("completed")
            || event.numbers[1] <= 0)
            return QString();
        return formatRunOffset(event.numbers[1] * kMicrosecondsPerMillisecond, m_start);
    case ErrorColumn:
        return previewValue(event.value);
    case ColumnCount:
        break;
    }
    return {};
}

QVariant AlarmEventsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (Column(section)) {
    case TimeColumn:
        return tr("Time");
    case EventColumn:
        return tr("Event");
    case RetryCountColumn:
        return tr("retryCount");
    case ScheduledColumn:
        return tr("Scheduled for");
    case ErrorColumn:
        return tr("Error of the failed run");
    case ColumnCount:
        break;
    }
    return {};
}

void AlarmEventsModel::record(const TraceEvent &event)
{
    if (event.kind != TraceKind::AlarmSet && event.kind != TraceKind::AlarmRun)
        return;
    std::deque<TraceEvent> &events = m_events[event.actor];
    events.push_back(event);
    if (events.size() > kMaxEventsPerObject)
        events.pop_front();
}

std::vector<AlarmEventsModel::Row> AlarmEventsModel::snapshot(const World &world) const
{
    std::vector<Row> rows;
    if (room().isEmpty())
        return rows;
    const DurableObject *found = object(world);
    // The trace names a room's object "room <name>" from its creation on.
    const QString actor = found ? found->actorName() : QStringLiteral("room ") + room();
    const auto events = m_events.find(actor);
    if (events == m_events.end())
        return rows;
    rows.reserve(events->second.size());
    for (const TraceEvent &event : events->second)
        rows.push_back({ event });
    return rows;
}

void AlarmEventsModel::clearRows()
{
    m_subscription.reset();
    m_events.clear();
    m_rows.clear();
}

void AlarmEventsModel::loadRows(World &world)
{
    m_start = world.simulation().start();
    m_subscription.subscribe(
        world.simulation().trace(), [this](const TraceEvent &event) { record(event); });
    m_rows = snapshot(world);
}

void AlarmEventsModel::loadRoomRows(World *world)
{
    // The collected events stay, because they belong to the run and not to the selected room.
    m_rows = world ? snapshot(*world) : std::vector<Row> {};
}

void AlarmEventsModel::updateRows(World &world)
{
    syncRows(m_rows, snapshot(world), [](const Row &row) { return row.event.sequence; });
}

} // namespace roomscope
