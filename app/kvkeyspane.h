#pragma once

#include <QWidget>

class QLabel;
class QLineEdit;
class QTableView;

namespace roomscope {

class KvKeysModel;

/// The KV keys table with a key prefix filter and a note when the list is cut short.
class KvKeysPane : public QWidget
{
    Q_OBJECT

public:
    explicit KvKeysPane(KvKeysModel *model, QWidget *parent = nullptr);

    QTableView *view() const { return m_view; }

private:
    void updateNote();

    KvKeysModel *m_model;
    QLineEdit *m_prefix = nullptr;
    QLabel *m_note = nullptr;
    QTableView *m_view = nullptr;
};

} // namespace roomscope
