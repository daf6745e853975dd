#include "scripterrorspane.h"

#include "scripterrorsmodel.h"
#include "scriptsourceview.h"
#include "tableviews.h"

#include <QLabel>
#include <QListWidget>
#include <QLocale>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

namespace roomscope {

namespace {

/// The item data role of a stack list item that contains the frame's index in the group.
constexpr int kFrameIndexRole = Qt::UserRole + 1;
/// The stack frames visible without scrolling.
constexpr int kStackLinesShown = 5;

QString countText(quint64 count, const QString &one, const QString &many)
{
    return count == 1 ? one : many.arg(QLocale().toString(count));
}

} // namespace

ScriptErrorsPane::ScriptErrorsPane(ScriptErrorsModel *model, QWidget *parent)
    : QWidget(parent)
    , m_model(model)
{
    m_summary = new QLabel(this);
    m_summary->setObjectName(QStringLiteral("scriptErrorsSummary"));
    m_view = createTableView(model, { true, { 6, 6, 5, 18, 14, 40 } }, this);
    m_view->setObjectName(QStringLiteral("scriptErrorsView"));

    auto *sourcePane = new QWidget(this);
    m_sourceTitle = new QLabel(sourcePane);
    m_sourceTitle->setObjectName(QStringLiteral("scriptSourceTitle"));
    m_sourceTitle->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_source = new ScriptSourceView(sourcePane);
    m_source->setObjectName(QStringLiteral("scriptSourceView"));
    m_stack = new QListWidget(sourcePane);
    m_stack->setObjectName(QStringLiteral("scriptStackList"));
    m_stack->setFont(m_source->font());
    m_stack->setToolTip(tr("The stack of the error's first occurrence, innermost frame first. "
                           "Click a frame to show its line."));
    // The stack is usually a few frames, so the source gets the rest of the height.
    m_stack->setMaximumHeight(m_stack->fontMetrics().height() * kStackLinesShown
                              + 2 * m_stack->frameWidth() + 4);
    // Scroll areas reserve room for their scroll bars. Two lines for the stack keep the dock as
    // short as the event log beside it, so the window still fits a 1280x800 screen.
    m_stack->setMinimumHeight(m_stack->fontMetrics().height() * 2 + 2 * m_stack->frameWidth() + 4);

    auto *sourceLayout = new QVBoxLayout(sourcePane);
    sourceLayout->setContentsMargins(0, 0, 0, 0);
    sourceLayout->setSpacing(2);
    sourceLayout->addWidget(m_sourceTitle);
    sourceLayout->addWidget(m_source, 1);
    sourceLayout->addWidget(m_stack);

    auto *listPane = new QWidget(this);
    auto *listLayout = new QVBoxLayout(listPane);
    listLayout->setContentsMargins(0, 0, 0, 0);
    listLayout->setSpacing(2);
    listLayout->addWidget(m_summary);
    listLayout->addWidget(m_view, 1);

    auto *splitter = new QSplitter(Qt::Horizontal, this);
    splitter->setObjectName(QStringLiteral("scriptErrorsSplitter"));
    splitter->setChildrenCollapsible(false);
    splitter->addWidget(listPane);
    splitter->addWidget(sourcePane);
    splitter->setStretchFactor(0, 2);
    splitter->setStretchFactor(1, 3);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(splitter);

    connect(m_view->selectionModel(), &QItemSelectionModel::currentChanged, this,
        &ScriptErrorsPane::showError);
    connect(m_stack, &QListWidget::currentRowChanged, this, &ScriptErrorsPane::showFrame);
    // A click on the current frame shows its line again after the source view moved elsewhere.
    connect(m_stack, &QListWidget::itemClicked, this, [this](QListWidgetItem *item) {
        showFrame(item->data(kFrameIndexRole).toInt());
    });
    connect(model, &ScriptErrorsModel::occurrenceCountChanged, this,
        &ScriptErrorsPane::updateSummary);
    connect(model, &QAbstractItemModel::modelReset, this, [this] { showError({}); });
    // The first error shows at once, as a debugger stops at the first exception.
    connect(model, &QAbstractItemModel::rowsInserted, this, [this] {
        if (!m_view->currentIndex().isValid())
            m_view->setCurrentIndex(m_view->model()->index(0, ScriptErrorsModel::FirstColumn));
    });
    // A repeat changes the selected row's count and times, and keeps its stack and position.
    connect(model, &QAbstractItemModel::dataChanged, this, [this] {
        if (m_row >= 0)
            m_view->viewport()->update();
    });
    updateSummary();
    showError({});
}

void ScriptErrorsPane::updateSummary()
{
    const quint64 errors = m_model->occurrenceCount();
    if (errors == 0) {
        m_summary->setText(tr("No script errors."));
        return;
    }
    m_summary->setText(tr("%1 in %2")
                           .arg(countText(errors, tr("1 error"), tr("%1 errors")),
                               countText(quint64(m_model->rowCount()), tr("1 place"),
                                   tr("%1 places"))));
}

void ScriptErrorsPane::showError(const QModelIndex &current)
{
    const auto *proxy = qobject_cast<const QSortFilterProxyModel *>(m_view->model());
    const QModelIndex source = proxy ? proxy->mapToSource(current) : current;
    m_row = source.isValid() ? source.row() : -1;
    const QSignalBlocker blocker(m_stack);
    m_stack->clear();
    if (m_row < 0) {
        m_sourceTitle->setText(tr("Source"));
        m_source->showMessage(
            tr("Select an error to see the Worker module's source at the error's line."));
        return;
    }
    const ScriptErrorGroup &group = m_model->group(m_row);
    for (int i = 0; i < int(group.frames.size()); ++i) {
        auto *item = new QListWidgetItem(tr("at %1").arg(group.frames[size_t(i)].toString()), m_stack);
        item->setData(kFrameIndexRole, i);
    }
    if (group.frames.empty()) {
        auto *item = new QListWidgetItem(tr("(no stack: the runtime raised the error)"), m_stack);
        item->setFlags(Qt::NoItemFlags);
    }
    // The error's own position is usually the innermost frame, which is selected when it is.
    int selected = -1;
    for (int i = 0; i < int(group.frames.size()); ++i) {
        const ScriptStackFrame &frame = group.frames[size_t(i)];
        if (frame.fileName == group.fileName && frame.line == group.line) {
            selected = i;
            break;
        }
    }
    m_stack->setCurrentRow(selected);
    showPosition(group.fileName, group.line, group.column);
}

void ScriptErrorsPane::showFrame(int index)
{
    if (m_row < 0 || index < 0 || index >= int(m_model->group(m_row).frames.size()))
        return;
    const ScriptStackFrame &frame = m_model->group(m_row).frames[size_t(index)];
    if (m_stack->currentRow() != index) {
        const QSignalBlocker blocker(m_stack);
        m_stack->setCurrentRow(index);
    }
    showPosition(frame.fileName, frame.line, frame.column);
}

void ScriptErrorsPane::showPosition(const QString &fileName, int line, int column)
{
    if (fileName.isEmpty()) {
        m_sourceTitle->setText(tr("Source"));
        m_source->showMessage(tr("This error has no source position."));
        return;
    }
    m_sourceTitle->setText(column > 0
            ? tr("%1, line %2, column %3").arg(fileName).arg(line).arg(column)
            : tr("%1, line %2").arg(fileName).arg(line));
    const World *world = m_model->world();
    const std::optional<QByteArray> source = world ? world->scriptSource(fileName) : std::nullopt;
    if (!source) {
        m_source->showMessage(tr("The source of %1 is not available: the script did not load it.")
                                  .arg(fileName));
        return;
    }
    m_source->showSource(fileName, *source, line, column);
}

bool ScriptErrorsPane::selectEvent(const TraceEvent &event)
{
    const int row = m_model->rowForEvent(event);
    if (row < 0)
        return false;
    const auto *proxy = qobject_cast<const QSortFilterProxyModel *>(m_view->model());
    const QModelIndex source = m_model->index(row, ScriptErrorsModel::FirstColumn);
    const QModelIndex index = proxy ? proxy->mapFromSource(source) : source;
    m_view->setCurrentIndex(index);
    m_view->scrollTo(index);
    return true;
}

} // namespace roomscope
