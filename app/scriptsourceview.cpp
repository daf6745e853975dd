#include "scriptsourceview.h"

#include "highlightdelegate.h"

#include <QFontDatabase>
#include <QPainter>
#include <QScrollBar>
#include <QTextBlock>

namespace roomscope {

namespace {

/// Pixels between the line numbers and the text, and before the numbers.
constexpr int kMarginPadding = 6;

/// The margin beside the text that shows line numbers; the view paints it.
class LineNumberMargin : public QWidget
{
public:
    explicit LineNumberMargin(ScriptSourceView *view)
        : QWidget(view)
        , m_view(view)
    {
    }

    QSize sizeHint() const override { return { m_view->lineNumberWidth(), 0 }; }

protected:
    void paintEvent(QPaintEvent *event) override { m_view->paintLineNumbers(event); }

private:
    ScriptSourceView *m_view;
};

} // namespace

ScriptSourceView::ScriptSourceView(QWidget *parent)
    : QPlainTextEdit(parent)
{
    setReadOnly(true);
    setLineWrapMode(QPlainTextEdit::NoWrap);
    setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    // Keep the selection visible and the cursor keys working, but accept no edits.
    setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    m_lineNumbers = new LineNumberMargin(this);
    connect(this, &QPlainTextEdit::blockCountChanged, this,
        [this] { setViewportMargins(lineNumberWidth(), 0, 0, 0); });
    connect(this, &QPlainTextEdit::updateRequest, this, &ScriptSourceView::updateMargin);
    setViewportMargins(lineNumberWidth(), 0, 0, 0);
}

int ScriptSourceView::lineNumberWidth() const
{
    const int digits = QString::number(std::max(1, blockCount())).size();
    return 2 * kMarginPadding + fontMetrics().horizontalAdvance(QLatin1Char('9')) * std::max(digits, 3);
}

void ScriptSourceView::showSource(
    const QString &fileName, const QByteArray &source, int line, int column)
{
    m_fileName = fileName;
    setPlainText(QString::fromUtf8(source));
    m_line = line >= 1 && line <= blockCount() ? line : 0;
    m_column = m_line > 0 ? std::max(column, 0) : 0;
    applyHighlight();
}

void ScriptSourceView::showMessage(const QString &message)
{
    m_fileName.clear();
    m_line = 0;
    m_column = 0;
    clear();
    setPlaceholderText(message);
    applyHighlight();
}

void ScriptSourceView::applyHighlight()
{
    QList<QTextEdit::ExtraSelection> selections;
    if (m_line > 0) {
        const QTextBlock block = document()->findBlockByNumber(m_line - 1);
        QTextEdit::ExtraSelection line;
        line.format.setBackground(HighlightDelegate::errorColor(palette()));
        line.format.setProperty(QTextFormat::FullWidthSelection, true);
        line.cursor = QTextCursor(block);
        selections << line;
        if (m_column > 0 && m_column <= block.length()) {
            // A wavy underline under the character that the column points at, as editors mark
            // the position of a diagnostic.
            QTextEdit::ExtraSelection mark;
            mark.format.setUnderlineStyle(QTextCharFormat::WaveUnderline);
            mark.format.setUnderlineColor(Qt::red);
            mark.format.setFontWeight(QFont::Bold);
            mark.cursor = QTextCursor(block);
            mark.cursor.setPosition(block.position() + m_column - 1);
            mark.cursor.movePosition(QTextCursor::Right, QTextCursor::KeepAnchor);
            selections << mark;
        }
        QTextCursor cursor(block);
        cursor.setPosition(block.position() + std::max(m_column - 1, 0));
        setTextCursor(cursor);
    }
    setExtraSelections(selections);
    scrollToHighlight();
    m_lineNumbers->update();
}

void ScriptSourceView::scrollToHighlight()
{
    if (m_line <= 0)
        return;
    centerCursor();
    // Show the line from its start when the column fits, or else with the column in the
    // middle, rather than at the right edge where ensureCursorVisible() would leave it.
    QScrollBar *horizontal = horizontalScrollBar();
    horizontal->setValue(0);
    const int x = cursorRect().center().x();
    if (x > viewport()->width() * 4 / 5)
        horizontal->setValue(x - viewport()->width() / 2);
}

void ScriptSourceView::resizeEvent(QResizeEvent *event)
{
    QPlainTextEdit::resizeEvent(event);
    const QRect contents = contentsRect();
    m_lineNumbers->setGeometry(contents.left(), contents.top(), lineNumberWidth(), contents.height());
    // The view may get its size after the line was chosen, as in a dock that was hidden.
    scrollToHighlight();
}

void ScriptSourceView::updateMargin(const QRect &rect, int dy)
{
    if (dy != 0)
        m_lineNumbers->scroll(0, dy);
    else
        m_lineNumbers->update(0, rect.y(), m_lineNumbers->width(), rect.height());
}

void ScriptSourceView::paintLineNumbers(QPaintEvent *event)
{
    QPainter painter(m_lineNumbers);
    painter.fillRect(event->rect(), palette().color(QPalette::AlternateBase));
    painter.setFont(font());
    const int width = m_lineNumbers->width() - kMarginPadding;
    const int lineHeight = fontMetrics().height();
    QTextBlock block = firstVisibleBlock();
    int top = qRound(blockBoundingGeometry(block).translated(contentOffset()).top());
    while (block.isValid() && top <= event->rect().bottom()) {
        const int number = block.blockNumber() + 1;
        if (block.isVisible() && top + lineHeight >= event->rect().top()) {
            const bool highlighted = number == m_line;
            QFont numberFont = font();
            numberFont.setBold(highlighted);
            painter.setFont(numberFont);
            painter.setPen(highlighted ? palette().color(QPalette::Text)
                                       : palette().color(QPalette::PlaceholderText));
            painter.drawText(0, top, width, lineHeight, Qt::AlignRight | Qt::AlignVCenter,
                QString::number(number));
        }
        top += qRound(blockBoundingRect(block).height());
        block = block.next();
    }
}

} // namespace roomscope
