#include "worldtablemodel.h"

namespace roomscope {

WorldTableModel::WorldTableModel(SimulationController *controller, QObject *parent)
    : QAbstractTableModel(parent)
    , m_controller(controller)
{
}

void WorldTableModel::attachToController()
{
    if (!m_controller)
        return;
    connect(m_controller, &SimulationController::worldAboutToChange, this, [this] {
        beginResetModel();
        clearRows();
    });
    connect(m_controller, &SimulationController::worldChanged, this, [this] {
        if (World *current = world())
            loadRows(*current);
        endResetModel();
    });
    connect(m_controller, &SimulationController::advanced, this, [this] {
        if (World *current = world())
            updateRows(*current);
    });
    beginResetModel();
    clearRows();
    if (World *current = world())
        loadRows(*current);
    endResetModel();
}

void WorldTableModel::emitRowsChanged(int first, int last)
{
    Q_EMIT dataChanged(index(first, 0), index(last, columnCount() - 1));
}

} // namespace roomscope
