#include "tableviews.h"

#include "highlightdelegate.h"
#include "modelroles.h"

#include <QHeaderView>
#include <QSortFilterProxyModel>

namespace roomscope {

QTableView *createTableView(
    QAbstractItemModel *model, const TableViewOptions &options, QWidget *parent)
{
    auto *view = new QTableView(parent);
    view->setItemDelegate(new HighlightDelegate(view));
    view->setSelectionBehavior(QAbstractItemView::SelectRows);
    view->setSelectionMode(QAbstractItemView::SingleSelection);
    view->setEditTriggers(QAbstractItemView::NoEditTriggers);
    view->setAlternatingRowColors(true);
    view->setWordWrap(false);
    view->setHorizontalScrollMode(QAbstractItemView::ScrollPerPixel);
    view->verticalHeader()->hide();
    view->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    view->verticalHeader()->setDefaultSectionSize(view->fontMetrics().height() + 6);
    view->horizontalHeader()->setStretchLastSection(true);
    view->horizontalHeader()->setHighlightSections(false);
    view->horizontalHeader()->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);

    if (options.sortable) {
        auto *proxy = new QSortFilterProxyModel(view);
        proxy->setSortRole(SortRole);
        proxy->setSourceModel(model);
        view->setModel(proxy);
        // No sort column at first, so the rows keep the model's order until a header is clicked.
        view->horizontalHeader()->setSortIndicator(-1, Qt::AscendingOrder);
        view->setSortingEnabled(true);
    } else {
        view->setModel(model);
    }

    const int charWidth = view->fontMetrics().averageCharWidth();
    for (int column = 0; column < model->columnCount(); ++column) {
        const int chars = column < options.columnWidthsInChars.size()
            ? options.columnWidthsInChars.at(column)
            : 12;
        const QString header = model->headerData(column, Qt::Horizontal).toString();
        const int headerWidth = view->fontMetrics().horizontalAdvance(header) + 24;
        view->setColumnWidth(column, std::max(chars * charWidth + 16, headerWidth));
    }
    return view;
}

} // namespace roomscope
