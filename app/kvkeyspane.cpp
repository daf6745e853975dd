#include "kvkeyspane.h"

#include "kvkeysmodel.h"
#include "tableviews.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QTableView>
#include <QVBoxLayout>

namespace roomscope {

KvKeysPane::KvKeysPane(KvKeysModel *model, QWidget *parent)
    : QWidget(parent)
    , m_model(model)
{
    m_prefix = new QLineEdit(this);
    m_prefix->setObjectName(QStringLiteral("kvPrefix"));
    m_prefix->setClearButtonEnabled(true);
    m_prefix->setPlaceholderText(tr("Key prefix, for example lobby:"));
    m_note = new QLabel(this);
    m_view = createTableView(model, { false, { 13, 13, 5, 12, 12, 12 } }, this);
    m_view->setObjectName(QStringLiteral("kvView"));
    m_view->setSelectionBehavior(QAbstractItemView::SelectItems);

    auto *top = new QHBoxLayout;
    top->addWidget(m_prefix, 1);
    top->addWidget(m_note);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(top);
    layout->addWidget(m_view, 1);

    connect(m_prefix, &QLineEdit::textChanged, model, &KvKeysModel::setPrefix);
    connect(model, &QAbstractItemModel::rowsInserted, this, &KvKeysPane::updateNote);
    connect(model, &QAbstractItemModel::rowsRemoved, this, &KvKeysPane::updateNote);
    connect(model, &QAbstractItemModel::modelReset, this, &KvKeysPane::updateNote);
    updateNote();
}

void KvKeysPane::updateNote()
{
    const QLocale locale;
    if (m_model->isTruncated())
        m_note->setText(
            tr("first %1 keys; narrow with a prefix").arg(locale.toString(KvKeysModel::kMaxKeys)));
    else
        m_note->setText(m_model->rowCount() == 1
                ? tr("1 key")
                : tr("%1 keys").arg(locale.toString(m_model->rowCount())));
}

} // namespace roomscope
