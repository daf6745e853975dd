#include "kvbrowserpane.h"

#include "highlightdelegate.h"
#include "kvbrowsermodel.h"
#include "kventryeditor.h"
#include "kvhistorymodel.h"
#include "tableviews.h"

#include <QCheckBox>
#include <QFontMetrics>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMessageBox>
#include <QPushButton>
#include <QResizeEvent>
#include <QScrollBar>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QTimer>
#include <QTreeView>
#include <QVBoxLayout>

namespace roomscope {

namespace {

/// Screens of rows above and below the visible ones that the model refreshes too, so that a
/// short scroll shows fresh rows at once.
constexpr int kMarginScreens = 1;

} // namespace

KvBrowserPane::KvBrowserPane(SimulationController *controller, QWidget *parent)
    : QWidget(parent)
    , m_controller(controller)
{
    m_model = new KvBrowserModel(this);
    m_model->setController(controller);
    m_history = new KvHistoryModel(this);
    m_history->setController(controller);

    m_prefix = new QLineEdit(this);
    m_prefix->setObjectName(QStringLiteral("kvBrowserPrefix"));
    m_prefix->setClearButtonEnabled(true);
    m_prefix->setPlaceholderText(tr("Key prefix, for example room:"));
    m_tree = new QCheckBox(tr("Tree, split on"), this);
    m_tree->setObjectName(QStringLiteral("kvBrowserTree"));
    m_delimiter = new QLineEdit(m_model->delimiter(), this);
    m_delimiter->setObjectName(QStringLiteral("kvBrowserDelimiter"));
    m_delimiter->setMaximumWidth(QFontMetrics(font()).horizontalAdvance(QStringLiteral("MMMM")));
    m_delimiter->setToolTip(tr("The delimiter that splits keys into a tree, such as : or /"));
    m_note = new QLabel(this);
    auto *deletePrefix = new QPushButton(tr("Delete by prefix…"), this);
    deletePrefix->setObjectName(QStringLiteral("kvBrowserDeletePrefix"));

    m_view = new QTreeView(this);
    m_view->setObjectName(QStringLiteral("kvBrowserView"));
    m_view->setModel(m_model);
    m_view->setItemDelegate(new HighlightDelegate(m_view));
    // Uniform rows let the view lay out a million rows without asking for each one's size.
    m_view->setUniformRowHeights(true);
    m_view->setAlternatingRowColors(true);
    m_view->setRootIsDecorated(false);
    m_view->setSelectionBehavior(QAbstractItemView::SelectItems);
    const int charWidth = QFontMetrics(font()).averageCharWidth();
    m_view->header()->setDefaultSectionSize(14 * charWidth);
    m_view->header()->resizeSection(KvBrowserModel::KeyColumn, 24 * charWidth);
    m_view->header()->resizeSection(KvBrowserModel::ValueColumn, 18 * charWidth);
    m_view->header()->resizeSection(KvBrowserModel::VersionColumn, 8 * charWidth);

    m_editor = new KvEntryEditor(m_model, controller, this);
    m_historyView = createTableView(m_history, { false, { 9, 12, 8, 8, 16, 20 } }, this);
    m_historyView->setObjectName(QStringLiteral("kvHistoryView"));

    auto *top = new QHBoxLayout;
    top->addWidget(m_prefix, 1);
    top->addWidget(m_tree);
    top->addWidget(m_delimiter);
    top->addWidget(m_note);
    top->addWidget(deletePrefix);

    // The selected entry's editor and its write history share one side as tabs: to the right
    // of the keys in a wide dock, below them in a tall one (see resizeEvent()).
    m_details = new QTabWidget(this);
    m_details->setObjectName(QStringLiteral("kvBrowserDetails"));
    m_details->addTab(m_editor, tr("Entry"));
    m_details->addTab(m_historyView, tr("Write history"));
    m_split = new QSplitter(Qt::Horizontal, this);
    m_split->setObjectName(QStringLiteral("kvBrowserSplit"));
    m_split->setChildrenCollapsible(false);
    m_split->addWidget(m_view);
    m_split->addWidget(m_details);
    m_split->setStretchFactor(0, 3);
    m_split->setStretchFactor(1, 2);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(top);
    layout->addWidget(m_split, 1);

    connect(m_prefix, &QLineEdit::textChanged, m_model, &KvBrowserModel::setPrefix);
    connect(m_tree, &QCheckBox::toggled, this, [this](bool tree) {
        m_model->setTreeMode(tree);
        m_view->setRootIsDecorated(tree);
    });
    connect(m_delimiter, &QLineEdit::textChanged, m_model, &KvBrowserModel::setDelimiter);
    connect(deletePrefix, &QPushButton::clicked, this, &KvBrowserPane::deleteByPrefix);
    connect(m_view->selectionModel(), &QItemSelectionModel::currentChanged, this,
        &KvBrowserPane::showCurrent);
    connect(m_editor, &KvEntryEditor::keyChanged, this, &KvBrowserPane::selectKey);
    for (auto signal : { &QAbstractItemModel::rowsInserted, &QAbstractItemModel::rowsRemoved })
        connect(m_model, signal, this, &KvBrowserPane::updateNote);
    connect(m_model, &QAbstractItemModel::modelReset, this, &KvBrowserPane::updateNote);
    updateNote();

    for (auto signal : { &QAbstractItemModel::rowsInserted, &QAbstractItemModel::rowsRemoved })
        connect(m_model, signal, this, &KvBrowserPane::scheduleVisibleRowsUpdate);
    connect(
        m_model, &QAbstractItemModel::modelReset, this, &KvBrowserPane::scheduleVisibleRowsUpdate);
    connect(m_view->verticalScrollBar(), &QScrollBar::valueChanged, this,
        &KvBrowserPane::scheduleVisibleRowsUpdate);
    connect(m_view, &QTreeView::expanded, this, &KvBrowserPane::scheduleVisibleRowsUpdate);
    connect(m_view, &QTreeView::collapsed, this, &KvBrowserPane::scheduleVisibleRowsUpdate);
}

void KvBrowserPane::resizeEvent(QResizeEvent *event)
{
    QWidget::resizeEvent(event);
    // The location columns need the width, so the details go below the keys unless the pane
    // is much wider than it is tall.
    const Qt::Orientation orientation = width() > height() * 2 ? Qt::Horizontal : Qt::Vertical;
    if (m_split->orientation() != orientation)
        m_split->setOrientation(orientation);
    scheduleVisibleRowsUpdate();
}

void KvBrowserPane::scheduleVisibleRowsUpdate()
{
    if (m_visibleRowsUpdatePending)
        return;
    m_visibleRowsUpdatePending = true;
    QTimer::singleShot(0, this, &KvBrowserPane::updateVisibleRows);
}

void KvBrowserPane::updateVisibleRows()
{
    m_visibleRowsUpdatePending = false;
    const QModelIndex top = m_view->indexAt(QPoint(0, 0));
    if (!top.isValid()) {
        m_model->setVisibleRows({});
        return;
    }
    const int rowHeight = std::max(1, m_view->visualRect(top).height());
    const int screenRows = m_view->viewport()->height() / rowHeight + 1;
    const int margin = kMarginScreens * screenRows;

    QModelIndexList rows;
    QModelIndex above = m_view->indexAbove(top);
    for (int i = 0; i < margin && above.isValid(); ++i) {
        rows.prepend(above);
        above = m_view->indexAbove(above);
    }
    QModelIndex below = top;
    for (int i = 0; i < screenRows + margin && below.isValid(); ++i) {
        rows.append(below);
        below = m_view->indexBelow(below);
    }
    m_model->setVisibleRows(rows);
}

void KvBrowserPane::showCurrent(const QModelIndex &current)
{
    const QString key = m_model->keyAt(current);
    m_history->setKey(key);
    if (!key.isEmpty())
        m_editor->showKey(key);
    else if (current.isValid())
        m_editor->startNew(m_model->groupPrefixAt(current));
}

void KvBrowserPane::selectKey(const QString &key)
{
    const QModelIndex index = m_model->indexOfKey(key);
    if (index.isValid())
        m_view->setCurrentIndex(index);
    m_history->setKey(key);
}

void KvBrowserPane::deleteByPrefix()
{
    QString prefix = m_model->groupPrefixAt(m_view->currentIndex());
    if (prefix.isEmpty())
        prefix = m_prefix->text();
    const qint64 count = m_model->countKeys(prefix);
    const QLocale locale;
    if (count == 0) {
        QMessageBox::information(
            this, tr("Delete by prefix"), tr("No key starts with \"%1\".").arg(prefix));
        return;
    }
    const QString question = prefix.isEmpty()
        ? tr("Delete all %1 keys of the namespace?").arg(locale.toString(count))
        : tr("Delete the %1 keys that start with \"%2\"?").arg(locale.toString(count), prefix);
    const auto answer = QMessageBox::question(this, tr("Delete by prefix"),
        question + QLatin1Char('\n')
            + tr("Locations that cached these keys keep serving them until their entries lapse."),
        QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Cancel);
    if (answer != QMessageBox::Yes)
        return;
    const Result<qint64> deleted = m_model->deleteByPrefix(prefix);
    if (!deleted)
        QMessageBox::warning(this, tr("Delete by prefix"), deleted.error().toString());
}

void KvBrowserPane::updateNote()
{
    const QLocale locale;
    const KvNamespace *kv = m_model->kvNamespace();
    const qint64 total = kv ? kv->keyCount() : 0;
    const int shown = m_model->rowCount();
    const QString rows = m_model->canFetchMore({})
        ? tr("%1+ rows").arg(locale.toString(shown))
        : (shown == 1 ? tr("1 row") : tr("%1 rows").arg(locale.toString(shown)));
    m_note->setText(tr("%1 of %2 keys").arg(rows, locale.toString(total)));
}

} // namespace roomscope
