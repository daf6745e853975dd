#pragma once

#include <QWidget>

class QLabel;
class QLineEdit;
class QTableView;
class QTimer;

namespace roomscope {

class EventLogFilterModel;
class EventLogModel;

/// The event log: a display filter box that shows whether its text is empty, valid or invalid,
/// the filtered table, which follows the newest event while it is scrolled to the bottom, and a
/// count of the events shown.
class EventLogPane : public QWidget
{
    Q_OBJECT

public:
    /// Typing pauses this long before the filter applies, because a filter runs over every row.
    static constexpr int kFilterDelayMs = 200;

    EventLogPane(EventLogModel *model, QWidget *parent = nullptr);

    QTableView *view() const { return m_view; }
    QLineEdit *filterEdit() const { return m_filter; }
    EventLogFilterModel *proxy() const { return m_proxy; }

private:
    void applyFilter();
    void updateCount();

    EventLogModel *m_model;
    EventLogFilterModel *m_proxy = nullptr;
    QLineEdit *m_filter = nullptr;
    QLabel *m_filterError = nullptr;
    QLabel *m_count = nullptr;
    QTableView *m_view = nullptr;
    QTimer *m_filterDelay = nullptr;
    bool m_following = true;
};

} // namespace roomscope
