#pragma once

#include "modelroles.h"
#include "roomtablemodels.h"

namespace roomscope {

/// Named values of the selected room's Durable Object, one per row, for one part of the room
/// inspector: the lifecycle timers and what keeps the object awake, the alarm, or the queue and
/// gates. Rows are looked up by name with value().
class RoomPropertiesModel : public RoomTableModel
{
    Q_OBJECT

public:
    enum class Section {
        Lifecycle, ///< settings() timers, what keeps the object awake, billing
        Alarm, ///< the alarm's time, run state, retries and backoff
        QueueAndGates, ///< queued events, input and output gate, write batches, timers and I/O
    };
    enum Column { NameColumn, ValueColumn, ColumnCount };

    RoomPropertiesModel(
        Section section, SimulationController *controller, QObject *parent = nullptr);

    Section section() const { return m_section; }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(
        int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    /// The value shown for the property `name`, or an empty string when there is no such row.
    QString value(const QString &name) const;

    /// Returns the reasons the object stays in memory now: events in flight or queued, pending
    /// timers and I/O, standard WebSockets. The list is empty when it can hibernate.
    static QStringList awakeReasons(const DurableObject &object);

protected:
    void clearRows() override;
    void loadRows(World &world) override;
    void updateRows(World &world) override;

private:
    struct Row
    {
        QString name;
        QString value;
        QString toolTip;
        Highlight highlight = Highlight::None;

        bool operator==(const Row &) const = default;
    };

    std::vector<Row> snapshot(const World &world) const;
    std::vector<Row> lifecycleRows(const World &world, const DurableObject &object) const;
    std::vector<Row> alarmRows(const World &world, const DurableObject &object) const;
    std::vector<Row> gateRows(const DurableObject &object) const;

    Section m_section;
    std::vector<Row> m_rows;
};

} // namespace roomscope
