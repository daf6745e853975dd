#include "messagebanner.h"

#include "highlightdelegate.h"

#include <QFontDatabase>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>

namespace roomscope {

MessageBanner::MessageBanner(QWidget *parent)
    : QFrame(parent)
{
    setObjectName(QStringLiteral("messageBanner"));
    setFrameShape(QFrame::StyledPanel);
    setAutoFillBackground(true);
    QPalette colors = palette();
    colors.setColor(QPalette::Window, HighlightDelegate::errorColor(colors));
    setPalette(colors);

    m_label = new QLabel(this);
    m_label->setWordWrap(true);
    m_label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_label->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    auto *dismiss = new QPushButton(tr("Dismiss"), this);
    connect(dismiss, &QPushButton::clicked, this, &QWidget::hide);

    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(8, 6, 8, 6);
    layout->addWidget(m_label, 1);
    layout->addWidget(dismiss, 0, Qt::AlignTop);
    hide();
}

void MessageBanner::showError(const QString &message)
{
    m_label->setText(message);
    show();
}

QString MessageBanner::text() const
{
    return m_label->text();
}

} // namespace roomscope
