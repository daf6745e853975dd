#pragma once

#include "scripterrors.h"
#include "worldtablemodel.h"

namespace roomscope {

struct TraceEvent;

/// The uncaught errors of the run's Worker script (World::scriptErrors()), one row per group of
/// errors with the same handler, source position and text, in order of first occurrence.
class ScriptErrorsModel : public WorldTableModel
{
    Q_OBJECT

public:
    enum Column {
        FirstColumn,
        LastColumn,
        CountColumn,
        WhereColumn,
        SourceColumn,
        ErrorColumn,
        ColumnCount
    };

    explicit ScriptErrorsModel(SimulationController *controller, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(
        int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    const ScriptErrorGroup &group(int row) const { return m_rows[size_t(row)].group; }
    /// The errors shown, repeats included.
    quint64 occurrenceCount() const { return m_occurrences; }
    /// The row of the group that a script.error trace event belongs to, or -1.
    int rowForEvent(const TraceEvent &event) const;
    /// The start of the run, which the time columns count from.
    SimTime start() const { return m_start; }

Q_SIGNALS:
    /// Emitted when the number of errors changes, including to 0 for a new run.
    void occurrenceCountChanged(quint64 count);

protected:
    void clearRows() override;
    void loadRows(World &world) override;
    void updateRows(World &world) override;

private:
    struct Row
    {
        int number = 0; ///< the group's index in the log, which never changes
        ScriptErrorGroup group;

        bool operator==(const Row &) const = default;
    };

    QVariant displayData(const ScriptErrorGroup &group, int column) const;
    QString toolTip(const ScriptErrorGroup &group) const;
    void setOccurrences(quint64 count);

    std::vector<Row> m_rows;
    quint64 m_occurrences = 0;
    SimTime m_start = 0;
};

} // namespace roomscope
