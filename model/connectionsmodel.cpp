#include "connectionsmodel.h"

#include "framesmodel.h"
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

QString ConnectionsModel::kindName(bool real)
{
    return real ? tr("real") : tr("simulated");
}

QString ConnectionsModel::stateText(const Row &row)
{
    const QString state = stateName(row.state);
    if (row.state == SimulatedClient::State::Rejected && row.rejectedStatus != 0)
        return tr("%1 (HTTP %2)").arg(state).arg(row.rejectedStatus);
    if (row.state == SimulatedClient::State::Closed && row.closeCode != 0) {
        if (row.closeReason.isEmpty())
            return tr("%1 (%2)").arg(state).arg(row.closeCode);
        return tr("%1 (%2: %3)").arg(state, QString::number(row.closeCode), row.closeReason);
    }
    return state;
}

Highlight ConnectionsModel::highlight(const Row &row)
{
    if (row.state == SimulatedClient::State::Rejected)
        return Highlight::Error;
    if (row.state == SimulatedClient::State::Closed)
        return FramesModel::closeCodeHighlight(row.closeCode);
    return Highlight::None;
}

QVariant ConnectionsModel::toolTip(const Row &row, int column) const
{
    switch (Column(column)) {
    case StateColumn:
        if (row.state == SimulatedClient::State::Closed && row.closeCode != 0) {
            const QString name = FramesModel::closeCodeName(row.closeCode);
            const QString code = name.isEmpty() ? QString::number(row.closeCode)
                                                : tr("%1 (%2)").arg(row.closeCode).arg(name);
            return row.closeReason.isEmpty()
                ? tr("Closed with code %1").arg(code)
                : tr("Closed with code %1: %2").arg(code, row.closeReason);
        }
        if (row.state == SimulatedClient::State::Rejected && row.rejectedStatus != 0)
            return tr("The Worker answered the upgrade with HTTP %1").arg(row.rejectedStatus);
        return {};
    case LastMessageColumn:
        if (row.messages > 0)
            return tr("Received at %1 (%2)")
                .arg(formatRunOffset(row.lastMessageAt, m_start), formatClock(row.lastMessageAt));
        return {};
    default:
        return {};
    }
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
        return QVariant::fromValue(highlight(row));
    case Qt::ToolTipRole:
        return toolTip(row, index.column());
    case Qt::TextAlignmentRole:
        switch (Column(index.column())) {
        case ConnectionColumn:
        case MessagesColumn:
        case BytesColumn:
        case MessagesSentColumn:
        case BytesSentColumn:
            return QVariant(Qt::AlignRight | Qt::AlignVCenter);
        default:
            return {};
        }
    default:
        return {};
    }
}

QVariant ConnectionsModel::displayData(const Row &row, int column) const
{
    switch (Column(column)) {
    case ClientColumn:
        return row.client;
    case KindColumn:
        return kindName(row.real);
    case RoomColumn:
        return row.room;
    case LocationColumn:
        return row.location;
    case PeerColumn:
        return row.peer;
    case StateColumn:
        return stateText(row);
    case ConnectionColumn:
        return row.connection == 0 ? QVariant() : QVariant(row.connection);
    case MessagesColumn:
        return row.messages;
    case BytesColumn:
        return row.bytes;
    case MessagesSentColumn:
        return row.messagesSent;
    case BytesSentColumn:
        return row.bytesSent;
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
    if (orientation != Qt::Horizontal)
        return QAbstractTableModel::headerData(section, orientation, role);
    if (role == Qt::ToolTipRole) {
        switch (Column(section)) {
        case KindColumn:
            return tr("Simulated clients belong to the scenario; real ones joined through the "
                      "gateway");
        case PeerColumn:
            return tr("The address and port a real client connected from");
        case MessagesColumn:
        case BytesColumn:
            return tr("Received by the client");
        case MessagesSentColumn:
        case BytesSentColumn:
            return tr("Sent by the client");
        default:
            return {};
        }
    }
    if (role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (Column(section)) {
    case ClientColumn:
        return tr("Client");
    case KindColumn:
        return tr("Kind");
    case RoomColumn:
        return tr("Room");
    case LocationColumn:
        return tr("Location");
    case PeerColumn:
        return tr("Peer");
    case StateColumn:
        return tr("State");
    case ConnectionColumn:
        return tr("Connection");
    case MessagesColumn:
        return tr("↓ Messages");
    case BytesColumn:
        return tr("↓ Bytes");
    case MessagesSentColumn:
        return tr("↑ Messages");
    case BytesSentColumn:
        return tr("↑ Bytes");
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
    rows.reserve(world.clients().size() + world.realClients().size());
    // Real clients come first, because a scenario's hundreds of simulated clients would push
    // them out of sight.
    for (const std::unique_ptr<RealClient> &client : world.realClients())
        rows.push_back(realClientRow(world, *client));
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

ConnectionsModel::Row ConnectionsModel::realClientRow(const World &world, const RealClient &client)
{
    Row row;
    row.client = client.name();
    row.real = true;
    row.room = client.room();
    row.location = world.locations().name(client.location());
    row.peer = client.peer();
    switch (client.state()) {
    case RealClient::State::Connecting:
        row.state = SimulatedClient::State::Connecting;
        break;
    case RealClient::State::Open:
        row.state = SimulatedClient::State::Open;
        break;
    case RealClient::State::Rejected:
        row.state = SimulatedClient::State::Rejected;
        break;
    case RealClient::State::Closed:
        row.state = SimulatedClient::State::Closed;
        break;
    }
    row.rejectedStatus = client.rejectedStatus();
    row.closeCode = client.closeCode();
    row.closeReason = client.closeReason();
    row.connection = client.connection();
    row.messages = client.messagesReceived();
    row.bytes = client.bytesReceived();
    row.messagesSent = client.messagesSent();
    row.bytesSent = client.bytesSent();
    row.lastMessage = client.lastMessage();
    row.lastMessageAt = client.lastMessageAt();
    return row;
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
