#include "highlightdelegate.h"

#include "modelroles.h"

#include <QPalette>

namespace roomscope {

namespace {

bool isDark(const QPalette &palette)
{
    return palette.color(QPalette::Base).lightness() < 128;
}

} // namespace

QColor HighlightDelegate::warningColor(const QPalette &palette)
{
    return isDark(palette) ? QColor(0x6b, 0x4e, 0x00) : QColor(0xff, 0xd8, 0x80);
}

QColor HighlightDelegate::errorColor(const QPalette &palette)
{
    return isDark(palette) ? QColor(0x7a, 0x22, 0x22) : QColor(0xf6, 0xb8, 0xb8);
}

void HighlightDelegate::initStyleOption(
    QStyleOptionViewItem *option, const QModelIndex &index) const
{
    QStyledItemDelegate::initStyleOption(option, index);
    Highlight highlight = Highlight::None;
    const QVariant highlightData = index.data(HighlightRole);
    if (highlightData.isValid())
        highlight = highlightData.value<Highlight>();
    if (index.data(StaleRole).toBool())
        highlight = Highlight::Warning;

    if (highlight == Highlight::Warning)
        option->backgroundBrush = warningColor(option->palette);
    else if (highlight == Highlight::Error)
        option->backgroundBrush = errorColor(option->palette);

    const QVariant cached = index.data(CachedRole);
    if (cached.isValid() && !cached.toBool()) {
        option->palette.setColor(QPalette::Text, option->palette.color(QPalette::PlaceholderText));
        option->font.setItalic(true);
    }
}

} // namespace roomscope
