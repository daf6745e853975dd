#pragma once

#include <QWidget>

class QCheckBox;
class QLabel;
class QLineEdit;
class QSplitter;
class QTabWidget;
class QTableView;
class QTreeView;

namespace roomscope {

class KvBrowserModel;
class KvEntryEditor;
class KvHistoryModel;
class SimulationController;

/// The KV browser. It lists every key of the run's namespace, flat or as a tree split on a
/// delimiter, with a prefix filter and what each location would read. It also has an editor for
/// the selected entry, bulk delete by prefix, and the selected key's write history.
class KvBrowserPane : public QWidget
{
    Q_OBJECT

public:
    explicit KvBrowserPane(SimulationController *controller, QWidget *parent = nullptr);

    /// The keys view; its current index carries the values the inspector shows.
    QTreeView *view() const { return m_view; }
    KvBrowserModel *model() const { return m_model; }

protected:
    void resizeEvent(QResizeEvent *event) override;

private:
    void showCurrent(const QModelIndex &current);
    void selectKey(const QString &key);
    void deleteByPrefix();
    void updateNote();
    /// Tells the model which rows the view shows, with a margin, once control returns to the
    /// event loop.
    void scheduleVisibleRowsUpdate();
    void updateVisibleRows();

    SimulationController *m_controller;
    KvBrowserModel *m_model = nullptr;
    KvHistoryModel *m_history = nullptr;
    QLineEdit *m_prefix = nullptr;
    QCheckBox *m_tree = nullptr;
    QLineEdit *m_delimiter = nullptr;
    QLabel *m_note = nullptr;
    QTreeView *m_view = nullptr;
    KvEntryEditor *m_editor = nullptr;
    QTabWidget *m_details = nullptr;
    QSplitter *m_split = nullptr;
    QTableView *m_historyView = nullptr;
    bool m_visibleRowsUpdatePending = false;
};

} // namespace roomscope
