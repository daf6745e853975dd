#pragma once

#include "modelroles.h"
#include "tracesubscription.h"
#include "worldtablemodel.h"

#include <deque>

namespace roomscope {

/// The run's trace events, oldest first, in a bounded buffer. A trace sink collects events as
/// they are recorded; they become rows once per frame, in one insertion.
class EventLogModel : public WorldTableModel
{
    Q_OBJECT

public:
    enum Column { TimeColumn, KindColumn, ActorColumn, LocationColumn, DetailsColumn, ColumnCount };

    static constexpr int kDefaultCapacity = 200'000;

    explicit EventLogModel(SimulationController *controller, QObject *parent = nullptr);
    ~EventLogModel() override;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(
        int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    /// Keeps at most `capacity` events. Beyond it the oldest go, a tenth of the capacity at a
    /// time, so that trimming happens once per many frames rather than every frame.
    void setCapacity(int capacity);
    int capacity() const { return m_capacity; }
    /// Events dropped from the front of the buffer since the run started.
    quint64 droppedCount() const { return m_dropped; }

    const TraceEvent &event(int row) const { return m_events[size_t(row)]; }
    /// The start of the run, which the Time column counts from.
    SimTime start() const { return m_start; }
    /// The text an event shows in a column; the filter proxy matches against the same text.
    static QString columnText(const TraceEvent &event, int column, SimTime start);
    static Highlight highlight(const TraceEvent &event);

protected:
    void clearRows() override;
    void loadRows(World &world) override;
    void updateRows(World &world) override;

private:
    /// Removes the oldest rows so that `incoming` more fit within the capacity.
    void trimFor(size_t incoming);

    std::deque<TraceEvent> m_events;
    std::vector<TraceEvent> m_pending; ///< recorded since the last frame
    TraceSubscription m_subscription;
    int m_capacity = kDefaultCapacity;
    quint64 m_dropped = 0;
    SimTime m_start = 0;
};

} // namespace roomscope
