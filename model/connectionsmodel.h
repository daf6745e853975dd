#pragma once

#include "worldtablemodel.h"

namespace roomscope {

/// One row per simulated WebSocket client, in the order the scenario creates them.
class ConnectionsModel : public WorldTableModel
{
    Q_OBJECT

public:
    enum Column {
        ClientColumn,
        RoomColumn,
        LocationColumn,
        StateColumn,
        ConnectionColumn,
        MessagesColumn,
        BytesColumn,
        LastMessageColumn,
        ColumnCount
    };

    explicit ConnectionsModel(SimulationController *controller, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(
        int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    static QString stateName(SimulatedClient::State state);

protected:
    void clearRows() override;
    void loadRows(World &world) override;
    void updateRows(World &world) override;

private:
    struct Row
    {
        QString client;
        QString room;
        QString location;
        SimulatedClient::State state = SimulatedClient::State::Idle;
        quint64 connection = 0;
        quint64 messages = 0;
        quint64 bytes = 0;
        QByteArray lastMessage;
        SimTime lastMessageAt = 0;

        bool operator==(const Row &) const = default;
    };

    static std::vector<Row> snapshot(const World &world);
    QVariant displayData(const Row &row, int column) const;
    QVariant sortData(const Row &row, int column) const;

    std::vector<Row> m_rows;
    SimTime m_start = 0;
};

} // namespace roomscope
