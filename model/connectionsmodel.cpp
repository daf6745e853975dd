#include "connectionsmodel.h"

#include "modelroles.h"
#include "valuetext.h"

namespace roomscope {

ConnectionsModel::ConnectionsModel(SimulationController *controller, QObject *parent)
    : WorldTableModel(controller, parent)
{
    attachToController();
}

int ConnectionsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int ConnectionsModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QString ConnectionsModel::stateName(SimulatedClient::State state)
{
    switch (state) {
    case SimulatedClient::State::Idle:
        return tr("idle");
    case SimulatedClient::State::Connecting:
        return tr("connecting");
    case SimulatedClient::State::Open:
        return tr("open");
    case SimulatedClient::State::Rejected:
        return tr("rejected");
    case SimulatedClient::State::Closed:
        return tr("closed");
    }
    return {};
}

QVariant ConnectionsModel::data(const QModelIndex &index, int role) const
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
        return row.lastMessage;
    case ValueTitleRole:
        return row.messages == 0
            ? tr("%1 has received no message").arg(row.client)
            : tr("Last message to %1, at %2")
                  .arg(row.client, formatRunOffset(row.lastMessageAt, m_start));
    case HighlightRole:
        return QVariant::fromValue(
            row.state == SimulatedClient::State::Rejected ? Highlight::Error : Highlight::None);
    case Qt::ToolTipRole:
        if (index.column() == LastMessageColumn && row.messages > 0)
            return tr("Received at %1 (%2)")
                .arg(formatRunOffset(row.lastMessageAt, m_start), formatClock(row.lastMessageAt));
        return {};
    case Qt::TextAlignmentRole:
        return index.column() == ConnectionColumn || index.column() == MessagesColumn
                || index.column() == BytesColumn
            ? QVariant(Qt::AlignRight | Qt::AlignVCenter)
            : QVariant();
    default:
        return {};
    }
}

QVariant ConnectionsModel::displayData(const Row &row, int column) const
{
    switch (Column(column)) {
    case ClientColumn:
        return row.client;
    case RoomColumn:
        return row.room;
    case LocationColumn:
        return row.location;
    case StateColumn:
        return stateName(row.state);
    case ConnectionColumn:
        return row.connection == 0 ? QVariant() : QVariant(row.connection);
    case MessagesColumn:
        return row.messages;
    case BytesColumn:
        return row.bytes;
    case LastMessageColumn:
        return row.messages == 0 ? QString() : previewValue(row.lastMessage);
    case ColumnCount:
        break;
    }
    return {};
}

QVariant ConnectionsModel::sortData(const Row &row, int column) const
{
    switch (Column(column)) {
    case StateColumn:
        return int(row.state);
    case ConnectionColumn:
        return row.connection;
    case LastMessageColumn:
        return row.lastMessageAt;
    default:
        return displayData(row, column);
    }
}

QVariant ConnectionsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (Column(section)) {
    case ClientColumn:
        return tr("Client");
    case RoomColumn:
        return tr("Room");
    case LocationColumn:
        return tr("Location");
    case StateColumn:
        return tr("State");
    case ConnectionColumn:
        return tr("Connection");
    case MessagesColumn:
        return tr("Messages");
    case BytesColumn:
        return tr("Bytes");
    case LastMessageColumn:
        return tr("Last message");
    case ColumnCount:
        break;
    }
    return {};
}

std::vector<ConnectionsModel::Row> ConnectionsModel::snapshot(const World &world)
{
    std::vector<Row> rows;
    rows.reserve(world.clients().size());
    for (const std::unique_ptr<SimulatedClient> &client : world.clients()) {
        Row row;
        row.client = client->name();
        row.room = client->room();
        row.location = world.locations().name(client->location());
        row.state = client->state();
        row.connection = client->connection();
        row.messages = client->messagesReceived();
        row.bytes = client->bytesReceived();
        row.lastMessage = client->lastMessage();
        row.lastMessageAt = client->lastMessageAt();
        rows.push_back(std::move(row));
    }
    return rows;
}

void ConnectionsModel::clearRows()
{
    m_rows.clear();
}

void ConnectionsModel::loadRows(World &world)
{
    m_start = world.simulation().start();
    m_rows = snapshot(world);
}

void ConnectionsModel::updateRows(World &world)
{
    syncRows(m_rows, snapshot(world), [](const Row &row) { return row.client; });
}

} // namespace roomscope
