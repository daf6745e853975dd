#pragma once

#include <QPlainTextEdit>

namespace roomscope {

/// A read-only, monospace view of a Worker module file with line numbers in a margin. It
/// highlights one line, marks one column on it, and scrolls that line into view.
class ScriptSourceView : public QPlainTextEdit
{
    Q_OBJECT

public:
    explicit ScriptSourceView(QWidget *parent = nullptr);

    /// Shows `source` as `fileName` with `line` (1-based) highlighted and `column` (1-based,
    /// 0 for none) marked, and scrolls the line into the middle of the view.
    void showSource(const QString &fileName, const QByteArray &source, int line, int column);
    /// Clears the view and shows `message` in its place.
    void showMessage(const QString &message);

    const QString &fileName() const { return m_fileName; }
    /// The highlighted line (1-based), or 0 for none.
    int highlightedLine() const { return m_line; }
    /// The marked column (1-based), or 0 for none.
    int markedColumn() const { return m_column; }
    /// The width of the line number margin in pixels.
    int lineNumberWidth() const;
    /// Paints the line numbers of the visible blocks; the margin widget calls it.
    void paintLineNumbers(QPaintEvent *event);

protected:
    void resizeEvent(QResizeEvent *event) override;

private:
    void updateMargin(const QRect &rect, int dy);
    void applyHighlight();
    /// Scrolls the highlighted line to the middle of the view, with the marked column visible.
    void scrollToHighlight();

    QWidget *m_lineNumbers = nullptr;
    QString m_fileName;
    int m_line = 0;
    int m_column = 0;
};

} // namespace roomscope
