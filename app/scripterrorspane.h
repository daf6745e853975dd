#pragma once

#include <QWidget>

class QLabel;
class QListWidget;
class QModelIndex;
class QTableView;

namespace roomscope {

class ScriptErrorsModel;
class ScriptSourceView;
struct ScriptStackFrame;
struct TraceEvent;

/// The Script errors dock: the grouped uncaught errors of the Worker script, and for the
/// selected one its source file, with the error line highlighted, above its stack. A click on a
/// stack frame shows that frame's file and line.
class ScriptErrorsPane : public QWidget
{
    Q_OBJECT

public:
    explicit ScriptErrorsPane(ScriptErrorsModel *model, QWidget *parent = nullptr);

    QTableView *view() const { return m_view; }
    ScriptSourceView *sourceView() const { return m_source; }
    QListWidget *stackList() const { return m_stack; }
    QLabel *sourceTitle() const { return m_sourceTitle; }
    QLabel *summary() const { return m_summary; }

    /// Selects the row of the group that a script.error trace event belongs to; returns false
    /// when no row matches.
    bool selectEvent(const TraceEvent &event);
    /// Shows the file and line of frame `index` of the selected error's stack.
    void showFrame(int index);

private:
    void showError(const QModelIndex &current);
    void showPosition(const QString &fileName, int line, int column);
    void updateSummary();

    ScriptErrorsModel *m_model;
    QTableView *m_view = nullptr;
    QLabel *m_summary = nullptr;
    QLabel *m_sourceTitle = nullptr;
    ScriptSourceView *m_source = nullptr;
    QListWidget *m_stack = nullptr;
    int m_row = -1; ///< the model row shown, or -1
};

} // namespace roomscope
