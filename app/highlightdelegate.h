#pragma once

#include <QStyledItemDelegate>

namespace roomscope {

/// Colours cells from the models' roles: an amber background for Highlight::Warning and stale
/// KV cells, a red one for Highlight::Error, and dimmed text for KV cells a read would fetch.
class HighlightDelegate : public QStyledItemDelegate
{
    Q_OBJECT

public:
    using QStyledItemDelegate::QStyledItemDelegate;

    /// Background colours that keep the palette's text readable, light or dark.
    static QColor warningColor(const QPalette &palette);
    static QColor errorColor(const QPalette &palette);

protected:
    void initStyleOption(QStyleOptionViewItem *option, const QModelIndex &index) const override;
};

} // namespace roomscope
