#pragma once

#include "eventfilter.h"

#include <QSortFilterProxyModel>

namespace roomscope {

class EventLogModel;

/// Filters an EventLogModel with an EventFilter. While the text does not parse, the last valid
/// filter stays applied and filterStateChanged() reports the error, as a display filter box does.
class EventLogFilterModel : public QSortFilterProxyModel
{
    Q_OBJECT

public:
    explicit EventLogFilterModel(QObject *parent = nullptr);

    void setSourceModel(QAbstractItemModel *sourceModel) override;

    /// Parses `text`; applies it when it is valid or empty.
    void setFilterText(const QString &text);
    /// The state of the text last given to setFilterText().
    EventFilter::State filterState() const { return m_lastParsed.state(); }
    /// The error of the text last given to setFilterText(), empty unless it is invalid.
    QString filterError() const { return m_lastParsed.errorMessage(); }
    /// The filter in effect.
    const EventFilter &appliedFilter() const { return m_applied; }

Q_SIGNALS:
    void filterStateChanged(roomscope::EventFilter::State state, const QString &errorMessage);

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    EventLogModel *m_log = nullptr;
    EventFilter m_applied;
    EventFilter m_lastParsed;
};

} // namespace roomscope
