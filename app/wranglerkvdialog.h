#pragma once

#include "result.h"
#include "wranglerstate.h"

#include <QDialog>

#include <optional>

class QComboBox;
class QLabel;
class QTableView;

namespace roomscope {

class InspectorPane;
class WranglerKvModel;

/// A read-only browser for the KV namespaces of a `wrangler dev` persistence folder: a namespace
/// selector, the namespace's keys, and the selected value in an inspector with Text, JSON and
/// Hex views. Nothing in the folder is written (see WranglerKvState).
class WranglerKvDialog : public QDialog
{
    Q_OBJECT

public:
    explicit WranglerKvDialog(QWidget *parent = nullptr);

    /// Opens a project folder, its `.wrangler` folder or a `kv` folder and shows its first
    /// namespace. On failure the dialog keeps what it showed and the error names the folder.
    Status openFolder(const QString &folder);
    /// Shows the namespace at `index` of the selector.
    void showNamespace(int index);

    QComboBox *namespaceSelector() const { return m_namespaces; }
    WranglerKvModel *model() const { return m_model; }
    QTableView *view() const { return m_view; }
    InspectorPane *inspector() const { return m_inspector; }
    /// The line above the keys: the namespace's key count, or why it could not be read.
    QString noteText() const;

private:
    void showCurrent(const QModelIndex &current);

    std::optional<WranglerKvState> m_state;
    WranglerKvModel *m_model = nullptr;
    QLabel *m_folder = nullptr;
    QComboBox *m_namespaces = nullptr;
    QLabel *m_note = nullptr;
    QTableView *m_view = nullptr;
    InspectorPane *m_inspector = nullptr;
};

} // namespace roomscope
