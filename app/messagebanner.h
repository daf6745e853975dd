#pragma once

#include <QFrame>

class QLabel;

namespace roomscope {

/// An inline error banner above the central view, with a Dismiss button: where the main window
/// reports a scenario that failed to load, instead of a modal message box.
class MessageBanner : public QFrame
{
    Q_OBJECT

public:
    explicit MessageBanner(QWidget *parent = nullptr);

    void showError(const QString &message);
    QString text() const;

private:
    QLabel *m_label = nullptr;
};

} // namespace roomscope
