#pragma once

#include "durableobject.h"

#include "worldtablemodel.h"

namespace roomscope {

/// One row per room of the run: the scenario's rooms, then any room a request created.
class RoomsModel : public WorldTableModel
{
    Q_OBJECT

public:
    enum Column {
        NameColumn,
        IdColumn,
        LocationColumn,
        StateColumn,
        ClientsColumn,
        QueueDepthColumn,
        PeakQueueColumn,
        RequestsColumn,
        ColumnCount
    };

    /// A room's Durable Object lifecycle as the table shows it.
    /// NotCreated until something reaches the room; then its object's lifecycle state.
    enum class RoomState { NotCreated, Active, IdleHibernatable, IdleNonHibernatable, Hibernated, Inactive };
    static RoomState roomState(ObjectState state);

    explicit RoomsModel(SimulationController *controller, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(
        int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    static QString stateName(RoomState state);

protected:
    void clearRows() override;
    void loadRows(World &world) override;
    void updateRows(World &world) override;

private:
    struct Row
    {
        QString name;
        QString id; ///< 64 hex digits
        QString location; ///< where the object runs, or its location hint before it exists
        RoomState state = RoomState::NotCreated;
        int clients = 0; ///< open WebSockets
        int queueDepth = 0; ///< pending KV writes, the one in flight included
        int peakQueue = 0;
        quint64 requestsHandled = 0;
        int requestsInFlight = 0;

        bool operator==(const Row &) const = default;
    };

    static std::vector<Row> snapshot(const World &world);
    QVariant displayData(const Row &row, int column) const;
    QVariant sortData(const Row &row, int column) const;
    QString toolTip(const Row &row, int column) const;

    std::vector<Row> m_rows;
};

} // namespace roomscope
