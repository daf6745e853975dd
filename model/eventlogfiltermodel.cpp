#include "eventlogfiltermodel.h"

#include "eventlogmodel.h"

namespace roomscope {

EventLogFilterModel::EventLogFilterModel(QObject *parent)
    : QSortFilterProxyModel(parent)
{
}

void EventLogFilterModel::setSourceModel(QAbstractItemModel *sourceModel)
{
    m_log = qobject_cast<EventLogModel *>(sourceModel);
    QSortFilterProxyModel::setSourceModel(sourceModel);
}

void EventLogFilterModel::setFilterText(const QString &text)
{
    m_lastParsed = EventFilter::parse(text);
    if (m_lastParsed.isValid()) {
        m_applied = m_lastParsed;
        invalidateRowsFilter();
    }
    Q_EMIT filterStateChanged(m_lastParsed.state(), m_lastParsed.errorMessage());
}

bool EventLogFilterModel::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    if (sourceParent.isValid() || !m_log || m_applied.state() != EventFilter::State::Valid)
        return true;
    return m_applied.matches(m_log->event(sourceRow), m_log->start());
}

} // namespace roomscope
