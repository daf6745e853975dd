#pragma once

#include "modelroles.h"
#include "worldtablemodel.h"

namespace roomscope {

/// One row per WebSocket client: the real clients that joined through the loopback gateway, in
/// the order they connected, then the simulated clients in the order the scenario creates them.
class ConnectionsModel : public WorldTableModel
{
    Q_OBJECT

public:
    enum Column {
        ClientColumn,
        KindColumn, ///< "simulated" or "real"
        RoomColumn,
        LocationColumn,
        PeerColumn, ///< a real client's address and port
        StateColumn,
        ConnectionColumn,
        MessagesColumn, ///< messages the client received
        BytesColumn, ///< bytes the client received
        MessagesSentColumn, ///< messages the client sent; simulated clients send none
        BytesSentColumn,
        LastMessageColumn, ///< the last message the client received
        ColumnCount
    };

    explicit ConnectionsModel(SimulationController *controller, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(
        int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    static QString stateName(SimulatedClient::State state);
    /// The text of the Kind column for a real or a simulated client.
    static QString kindName(bool real);

protected:
    void clearRows() override;
    void loadRows(World &world) override;
    void updateRows(World &world) override;

private:
    struct Row
    {
        QString client;
        bool real = false;
        QString room;
        QString location;
        QString peer;
        SimulatedClient::State state = SimulatedClient::State::Idle;
        int rejectedStatus = 0; ///< the HTTP status of a real client's refused upgrade
        int closeCode = 0; ///< a real client's close code, 0 while open
        QString closeReason;
        quint64 connection = 0;
        quint64 messages = 0;
        quint64 bytes = 0;
        quint64 messagesSent = 0;
        quint64 bytesSent = 0;
        QByteArray lastMessage;
        SimTime lastMessageAt = 0;

        bool operator==(const Row &) const = default;
    };

    static std::vector<Row> snapshot(const World &world);
    static Row realClientRow(const World &world, const RealClient &client);
    static QString stateText(const Row &row);
    static Highlight highlight(const Row &row);
    QVariant toolTip(const Row &row, int column) const;
    QVariant displayData(const Row &row, int column) const;
    QVariant sortData(const Row &row, int column) const;

    std::vector<Row> m_rows;
    SimTime m_start = 0;
};

} // namespace roomscope
