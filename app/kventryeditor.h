#pragma once

#include <QWidget>

class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;

namespace roomscope {

class KvBrowserModel;
class SimulationController;

/// Creates, edits and deletes one KV entry as the dashboard does: key, value, metadata (JSON)
/// and expiration (an absolute UTC time or a TTL). Each field shows its own validation error, in
/// the platform's words, under the field. Writes go through KvBrowserModel::writeEntry().
class KvEntryEditor : public QWidget
{
    Q_OBJECT

public:
    KvEntryEditor(
        KvBrowserModel *model, SimulationController *controller, QWidget *parent = nullptr);

    /// Loads the central entry of `key` into the fields; a missing key leaves them for a new entry.
    void showKey(const QString &key);
    /// Clears the fields for a new key that starts with `prefix`.
    void startNew(const QString &prefix = {});

Q_SIGNALS:
    /// Emitted after a successful write or delete.
    void keyChanged(const QString &key);

private:
    void save();
    void remove();
    void updateExpirationInputs();
    void updateCountdown();
    void clearErrors();
    static void showError(QLabel *label, const QString &message);

    KvBrowserModel *m_model;
    SimulationController *m_controller;
    QString m_shownKey;
    QLineEdit *m_key = nullptr;
    QLabel *m_keyError = nullptr;
    QPlainTextEdit *m_value = nullptr;
    QLabel *m_valueError = nullptr;
    QLineEdit *m_metadata = nullptr;
    QLabel *m_metadataError = nullptr;
    QComboBox *m_expirationMode = nullptr;
    QLineEdit *m_expirationAt = nullptr;
    QSpinBox *m_expirationTtl = nullptr;
    QLabel *m_expirationError = nullptr;
    QLabel *m_countdown = nullptr;
    QLabel *m_status = nullptr;
    QPushButton *m_save = nullptr;
    QPushButton *m_delete = nullptr;
};

} // namespace roomscope
