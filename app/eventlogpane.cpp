#include "eventlogpane.h"

#include "eventlogfiltermodel.h"
#include "eventlogmodel.h"
#include "highlightdelegate.h"
#include "tableviews.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QScrollBar>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

namespace roomscope {

namespace {

QString filterStyle(EventFilter::State state, const QPalette &palette)
{
    switch (state) {
    case EventFilter::State::Empty:
        return {};
    case EventFilter::State::Valid:
        return QStringLiteral("QLineEdit { background-color: %1; }")
            .arg(palette.color(QPalette::Base).lightness() < 128 ? QStringLiteral("#1f4d2b")
                                                                 : QStringLiteral("#d4f5d4"));
    case EventFilter::State::Invalid:
        return QStringLiteral("QLineEdit { background-color: %1; }")
            .arg(HighlightDelegate::errorColor(palette).name());
    }
    return {};
}

} // namespace

EventLogPane::EventLogPane(EventLogModel *model, QWidget *parent)
    : QWidget(parent)
    , m_model(model)
{
    m_proxy = new EventLogFilterModel(this);
    m_proxy->setSourceModel(model);

    m_filter = new QLineEdit(this);
    m_filter->setObjectName(QStringLiteral("eventFilter"));
    m_filter->setClearButtonEnabled(true);
    m_filter->setPlaceholderText(
        tr("Filter: text, kind:kv.put, kind:ws, actor:lobby, room:arena, location:LHR, key:..., "
           "!kind:ws.deliver"));
    m_filterError = new QLabel(this);
    m_filterError->setObjectName(QStringLiteral("eventFilterError"));
    m_filterError->setWordWrap(true);
    m_filterError->hide();
    m_count = new QLabel(this);
    m_count->setObjectName(QStringLiteral("eventCount"));

    m_view = createTableView(m_proxy, { false, { 9, 13, 22, 8 } }, this);
    m_view->setObjectName(QStringLiteral("eventLogView"));

    auto *filterRow = new QHBoxLayout;
    filterRow->addWidget(m_filter, 1);
    filterRow->addWidget(m_count);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(filterRow);
    layout->addWidget(m_filterError);
    layout->addWidget(m_view, 1);

    m_filterDelay = new QTimer(this);
    m_filterDelay->setSingleShot(true);
    m_filterDelay->setInterval(kFilterDelayMs);
    connect(m_filterDelay, &QTimer::timeout, this, &EventLogPane::applyFilter);
    connect(m_filter, &QLineEdit::textChanged, m_filterDelay, qOverload<>(&QTimer::start));
    connect(m_filter, &QLineEdit::returnPressed, this, &EventLogPane::applyFilter);
    connect(m_proxy, &EventLogFilterModel::filterStateChanged, this,
        [this](EventFilter::State state, const QString &error) {
            m_filter->setStyleSheet(filterStyle(state, m_filter->palette()));
            m_filterError->setText(error.isEmpty()
                    ? QString()
                    : tr("%1 The previous filter stays applied.").arg(error));
            m_filterError->setVisible(!error.isEmpty());
            updateCount();
        });

    // Follow the newest event while the view is scrolled to the bottom, as a terminal does.
    QScrollBar *scrollBar = m_view->verticalScrollBar();
    connect(m_proxy, &QAbstractItemModel::rowsAboutToBeInserted, this,
        [this, scrollBar] { m_following = scrollBar->value() >= scrollBar->maximum(); });
    connect(m_proxy, &QAbstractItemModel::rowsInserted, this, [this] {
        if (m_following)
            m_view->scrollToBottom();
        updateCount();
    });
    connect(m_proxy, &QAbstractItemModel::rowsRemoved, this, &EventLogPane::updateCount);
    connect(m_proxy, &QAbstractItemModel::modelReset, this, &EventLogPane::updateCount);
    updateCount();
}

void EventLogPane::applyFilter()
{
    m_filterDelay->stop();
    m_proxy->setFilterText(m_filter->text());
}

void EventLogPane::updateCount()
{
    const QLocale locale;
    const int visible = m_proxy->rowCount();
    const int total = m_model->rowCount();
    QString text = visible == total
        ? tr("%1 events").arg(locale.toString(total))
        : tr("%1 of %2 events").arg(locale.toString(visible), locale.toString(total));
    if (m_model->droppedCount() > 0)
        text += tr(" (%1 oldest dropped)").arg(locale.toString(m_model->droppedCount()));
    m_count->setText(text);
}

} // namespace roomscope
