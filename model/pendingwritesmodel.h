#pragma once

#include "worldtablemodel.h"

namespace roomscope {

/// The KV writes that rooms have queued and not yet completed, room by room in queue order.
class PendingWritesModel : public WorldTableModel
{
    Q_OBJECT

public:
    enum Column {
        RoomColumn,
        KeyColumn,
        ValueColumn,
        QueuedAtColumn,
        MergedColumn,
        StateColumn,
        NextWriteColumn,
        ColumnCount
    };

    explicit PendingWritesModel(SimulationController *controller, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(
        int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

protected:
    void clearRows() override;
    void loadRows(World &world) override;
    void updateRows(World &world) override;

private:
    struct Row
    {
        QString room;
        /// Identifies the write while it is queued: the address of its completion.
        quintptr identity = 0;
        QString key;
        QByteArray value;
        SimTime queuedAt = 0;
        int merged = 0;
        bool inFlight = false;
        SimTime nextWriteAt = 0;
        bool writableNow = false;

        bool operator==(const Row &) const = default;
    };

    static std::vector<Row> snapshot(const World &world);
    QVariant displayData(const Row &row, int column) const;
    QVariant sortData(const Row &row, int column) const;

    std::vector<Row> m_rows;
    SimTime m_start = 0;
};

} // namespace roomscope
