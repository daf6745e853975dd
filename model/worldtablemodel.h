#pragma once

#include "simulationcontroller.h"

#include <QAbstractTableModel>
#include <QHash>
#include <QPointer>

#include <vector>

namespace roomscope {

/// Base of the table models over a SimulationController's World. It resets the model when the
/// world is replaced and calls updateRows() once per frame (on advanced()). Subclasses keep a
/// snapshot of rows and update it with syncRows(), which emits row insertions, removals and
/// dataChanged() instead of a reset, so that selections and scroll positions survive.
class WorldTableModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    explicit WorldTableModel(SimulationController *controller, QObject *parent = nullptr);

    SimulationController *controller() const { return m_controller; }
    World *world() const { return m_controller ? m_controller->world() : nullptr; }

protected:
    /// Starts the connections and loads the current world; call it at the end of the subclass
    /// constructor, because it calls the virtual functions below.
    void attachToController();

    /// Drops every row and any reference into the world; called inside a model reset.
    virtual void clearRows() = 0;
    /// Fills the rows from `world` without emitting row signals; called inside a model reset.
    virtual void loadRows(World &world) = 0;
    /// Brings the rows up to date with `world`, emitting row and data signals.
    virtual void updateRows(World &world) = 0;

    /// Makes `rows` equal to `next`, matching rows by keyOf(row): removes rows whose key is gone
    /// or out of order, inserts new rows, and emits dataChanged() for rows whose value changed.
    template<typename Row, typename KeyOf>
    void syncRows(std::vector<Row> &rows, std::vector<Row> next, KeyOf keyOf);

private:
    void emitRowsChanged(int first, int last);

    QPointer<SimulationController> m_controller;
};

template<typename Row, typename KeyOf>
void WorldTableModel::syncRows(std::vector<Row> &rows, std::vector<Row> next, KeyOf keyOf)
{
    using Key = decltype(keyOf(next.front()));
    QHash<Key, int> nextPosition;
    nextPosition.reserve(qsizetype(next.size()));
    for (int i = 0; i < int(next.size()); ++i)
        nextPosition.insert(keyOf(next[size_t(i)]), i);

    // Remove, from the bottom up, rows that are gone or that would break the order of `next`.
    std::vector<bool> keep(rows.size(), false);
    int lastKept = -1;
    for (size_t i = 0; i < rows.size(); ++i) {
        const auto found = nextPosition.constFind(keyOf(rows[i]));
        if (found != nextPosition.cend() && *found > lastKept) {
            keep[i] = true;
            lastKept = *found;
        }
    }
    for (int end = int(rows.size()) - 1; end >= 0;) {
        if (keep[size_t(end)]) {
            --end;
            continue;
        }
        int begin = end;
        while (begin > 0 && !keep[size_t(begin - 1)])
            --begin;
        beginRemoveRows({}, begin, end);
        rows.erase(rows.begin() + begin, rows.begin() + end + 1);
        endRemoveRows();
        end = begin - 1;
    }

    // Walk `next`: rows already present are compared; runs of missing rows are inserted.
    size_t row = 0;
    int changedFirst = -1;
    for (size_t i = 0; i < next.size();) {
        if (row < rows.size() && keyOf(rows[row]) == keyOf(next[i])) {
            if (!(rows[row] == next[i])) {
                rows[row] = std::move(next[i]);
                if (changedFirst < 0)
                    changedFirst = int(row);
            } else if (changedFirst >= 0) {
                emitRowsChanged(changedFirst, int(row) - 1);
                changedFirst = -1;
            }
            ++row;
            ++i;
            continue;
        }
        if (changedFirst >= 0) {
            emitRowsChanged(changedFirst, int(row) - 1);
            changedFirst = -1;
        }
        size_t runEnd = i;
        while (
            runEnd < next.size() && (row >= rows.size() || keyOf(rows[row]) != keyOf(next[runEnd])))
            ++runEnd;
        beginInsertRows({}, int(row), int(row + (runEnd - i)) - 1);
        rows.insert(rows.begin() + qsizetype(row),
            std::make_move_iterator(next.begin() + qsizetype(i)),
            std::make_move_iterator(next.begin() + qsizetype(runEnd)));
        endInsertRows();
        row += runEnd - i;
        i = runEnd;
    }
    if (changedFirst >= 0)
        emitRowsChanged(changedFirst, int(row) - 1);
}

} // namespace roomscope
