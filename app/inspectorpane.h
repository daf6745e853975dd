#pragma once

#include <QPersistentModelIndex>
#include <QWidget>

class QLabel;
class QPlainTextEdit;
class QTabWidget;
class QTreeWidget;
class QTreeWidgetItem;

namespace roomscope {

/// Shows the raw value of the current cell of a table (a KV value, a message, an event's value)
/// as text, as a JSON tree and as a hex dump, with the title the model gives it. It follows the
/// cell: when the model changes the cell's data, the pane shows the new value.
class InspectorPane : public QWidget
{
    Q_OBJECT

public:
    /// Values longer than this are cut in the hex tab, which would otherwise take seconds.
    static constexpr qsizetype kMaxHexBytes = 256 * 1024;

    explicit InspectorPane(QWidget *parent = nullptr);

    /// Shows the value behind `index` (RawValueRole, ValueTitleRole, TraceEventRole).
    void showIndex(const QModelIndex &index);
    void clear();
    /// Sets the title shown while nothing is selected, and shows it when nothing is.
    void setPlaceholderTitle(const QString &title);

    QString title() const;
    QString text() const;

private:
    void refresh();
    void showValue(const QString &title, const QString &details, const QByteArray &value);
    void fillJsonTab(const QByteArray &value);
    static QString hexDump(const QByteArray &value);
    void watchModel(const QAbstractItemModel *model);

    QPersistentModelIndex m_index;
    QString m_placeholderTitle;
    const QAbstractItemModel *m_watchedModel = nullptr;
    QLabel *m_title = nullptr;
    QLabel *m_details = nullptr;
    QTabWidget *m_tabs = nullptr;
    QPlainTextEdit *m_text = nullptr;
    QTreeWidget *m_json = nullptr;
    QLabel *m_jsonError = nullptr;
    QPlainTextEdit *m_hex = nullptr;
};

} // namespace roomscope
