#pragma once

#include <QTableView>

namespace roomscope {

/// Options for createTableView().
struct TableViewOptions
{
    /// Sort through a proxy on the models' SortRole; off keeps the model's own order.
    bool sortable = false;
    /// Initial widths of the columns in average character widths; missing columns get 12.
    QList<int> columnWidthsInChars;
};

/// A read-only table in the inspector's style: whole-row selection, fixed row height (cheap for
/// large models), the HighlightDelegate, and an optional sorting proxy over `model`.
QTableView *createTableView(
    QAbstractItemModel *model, const TableViewOptions &options, QWidget *parent = nullptr);

} // namespace roomscope
