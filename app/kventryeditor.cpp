#include "kventryeditor.h"

#include "highlightdelegate.h"
#include "kvbrowsermodel.h"
#include "simulationcontroller.h"

#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QJsonDocument>
#include <QJsonParseError>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

namespace roomscope {

namespace {

enum ExpirationMode { NoExpiration, ExpireAt, ExpireAfterTtl };

QLabel *errorLabel(QWidget *parent)
{
    auto *label = new QLabel(parent);
    label->setWordWrap(true);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    QPalette palette = label->palette();
    palette.setColor(QPalette::WindowText, QColor(0xB0, 0x1C, 0x1C));
    label->setPalette(palette);
    label->hide();
    return label;
}

QWidget *withError(QWidget *field, QLabel *error)
{
    auto *box = new QWidget(field->parentWidget());
    auto *layout = new QVBoxLayout(box);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    layout->addWidget(field);
    layout->addWidget(error);
    return box;
}

} // namespace

KvEntryEditor::KvEntryEditor(
    KvBrowserModel *model, SimulationController *controller, QWidget *parent)
    : QWidget(parent)
    , m_model(model)
    , m_controller(controller)
{
    m_key = new QLineEdit(this);
    m_key->setObjectName(QStringLiteral("kvEditKey"));
    m_key->setPlaceholderText(tr("Key, up to 512 bytes of UTF-8"));
    m_keyError = errorLabel(this);
    m_value = new QPlainTextEdit(this);
    m_value->setObjectName(QStringLiteral("kvEditValue"));
    m_value->setPlaceholderText(tr("Value (UTF-8 text)"));
    m_valueError = errorLabel(this);
    m_metadata = new QLineEdit(this);
    m_metadata->setObjectName(QStringLiteral("kvEditMetadata"));
    m_metadata->setPlaceholderText(tr("Metadata as JSON, for example {\"owner\":\"lobby\"}"));
    m_metadataError = errorLabel(this);

    m_expirationMode = new QComboBox(this);
    m_expirationMode->addItem(tr("No expiration"), NoExpiration);
    m_expirationMode->addItem(tr("At (UTC)"), ExpireAt);
    m_expirationMode->addItem(tr("TTL"), ExpireAfterTtl);
    m_expirationAt = new QLineEdit(this);
    m_expirationAt->setObjectName(QStringLiteral("kvEditExpirationAt"));
    m_expirationAt->setPlaceholderText(tr("2026-01-01T00:05:00Z"));
    m_expirationTtl = new QSpinBox(this);
    m_expirationTtl->setObjectName(QStringLiteral("kvEditTtl"));
    m_expirationTtl->setRange(1, 365 * 24 * 3600);
    m_expirationTtl->setValue(3600);
    m_expirationTtl->setSuffix(tr(" s"));
    m_expirationError = errorLabel(this);
    m_countdown = new QLabel(this);
    m_countdown->setObjectName(QStringLiteral("kvEditCountdown"));

    auto *expirationRow = new QWidget(this);
    auto *expirationLayout = new QHBoxLayout(expirationRow);
    expirationLayout->setContentsMargins(0, 0, 0, 0);
    expirationLayout->addWidget(m_expirationMode);
    expirationLayout->addWidget(m_expirationAt, 1);
    expirationLayout->addWidget(m_expirationTtl, 1);

    auto *newButton = new QPushButton(tr("New"), this);
    m_save = new QPushButton(tr("Save"), this);
    m_save->setObjectName(QStringLiteral("kvEditSave"));
    m_save->setDefault(true);
    m_delete = new QPushButton(tr("Delete"), this);
    m_delete->setObjectName(QStringLiteral("kvEditDelete"));
    m_status = new QLabel(this);
    m_status->setWordWrap(true);

    auto *form = new QFormLayout;
    form->setContentsMargins(0, 0, 0, 0);
    form->addRow(tr("Key"), withError(m_key, m_keyError));
    form->addRow(tr("Value"), withError(m_value, m_valueError));
    form->addRow(tr("Metadata"), withError(m_metadata, m_metadataError));
    form->addRow(tr("Expiration"), withError(expirationRow, m_expirationError));
    form->addRow(QString(), m_countdown);
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(newButton);
    buttons->addStretch(1);
    buttons->addWidget(m_delete);
    buttons->addWidget(m_save);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(form, 1);
    layout->addWidget(m_status);
    layout->addLayout(buttons);

    connect(newButton, &QPushButton::clicked, this, [this] { startNew(); });
    connect(m_save, &QPushButton::clicked, this, &KvEntryEditor::save);
    connect(m_delete, &QPushButton::clicked, this, &KvEntryEditor::remove);
    connect(m_expirationMode, &QComboBox::currentIndexChanged, this,
        &KvEntryEditor::updateExpirationInputs);
    if (m_controller)
        connect(
            m_controller, &SimulationController::advanced, this, &KvEntryEditor::updateCountdown);
    startNew();
}

void KvEntryEditor::startNew(const QString &prefix)
{
    m_shownKey.clear();
    m_key->setText(prefix);
    m_value->clear();
    m_metadata->clear();
    m_expirationMode->setCurrentIndex(NoExpiration);
    m_status->clear();
    clearErrors();
    updateExpirationInputs();
    updateCountdown();
    m_key->setFocus();
}

void KvEntryEditor::showKey(const QString &key)
{
    const KvNamespace *kv = m_model->kvNamespace();
    const std::optional<KvEntry> entry = kv ? kv->centralEntry(key) : std::nullopt;
    if (!entry) {
        startNew(key);
        return;
    }
    m_shownKey = key;
    m_key->setText(key);
    m_value->setPlainText(QString::fromUtf8(entry->value));
    m_metadata->setText(entry->metadata ? QString::fromUtf8(*entry->metadata) : QString());
    if (entry->expiration) {
        m_expirationMode->setCurrentIndex(ExpireAt);
        m_expirationAt->setText(formatInstant(*entry->expiration * kMicrosecondsPerSecond));
    } else {
        m_expirationMode->setCurrentIndex(NoExpiration);
    }
    m_status->setText(tr("Version %1 in the central store.").arg(entry->version));
    clearErrors();
    updateExpirationInputs();
    updateCountdown();
}

void KvEntryEditor::updateExpirationInputs()
{
    const int mode = m_expirationMode->currentData().toInt();
    m_expirationAt->setVisible(mode == ExpireAt);
    m_expirationTtl->setVisible(mode == ExpireAfterTtl);
}

void KvEntryEditor::updateCountdown()
{
    const KvNamespace *kv = m_model->kvNamespace();
    World *world = m_controller ? m_controller->world() : nullptr;
    if (!kv || !world || m_shownKey.isEmpty()) {
        m_countdown->clear();
        return;
    }
    const std::optional<KvEntry> entry = kv->centralEntry(m_shownKey);
    m_countdown->setText(entry
            ? formatExpirationCountdown(entry->expiration, world->simulation().now())
            : tr("Not in the central store (deleted or expired)."));
}

void KvEntryEditor::clearErrors()
{
    for (QLabel *label : { m_keyError, m_valueError, m_metadataError, m_expirationError }) {
        label->clear();
        label->hide();
    }
}

void KvEntryEditor::showError(QLabel *label, const QString &message)
{
    label->setText(message);
    label->show();
}

void KvEntryEditor::save()
{
    clearErrors();
    m_status->clear();
    const KvNamespace *kv = m_model->kvNamespace();
    World *world = m_controller ? m_controller->world() : nullptr;
    if (!kv || !world) {
        m_status->setText(tr("Open a scenario first."));
        return;
    }
    const QString key = m_key->text();
    const QByteArray value = m_value->toPlainText().toUtf8();
    KvPutOptions options;
    bool valid = true;

    // Each check runs on its own, so every field with a problem shows its error at once. The
    // messages are the platform's, from the same checks that writeEntry() and put() run.
    if (Status checked = kv::validateKey(key, kv::Operation::Put); !checked) {
        showError(m_keyError, checked.error().toString());
        valid = false;
    }
    if (Status checked = kv::validateValueSize(value.size(), kv->settings().maxValueBytes);
        !checked) {
        showError(m_valueError, checked.error().toString());
        valid = false;
    }
    if (!m_metadata->text().trimmed().isEmpty()) {
        QJsonParseError parseError;
        const QJsonDocument document
            = QJsonDocument::fromJson(m_metadata->text().toUtf8(), &parseError);
        if (parseError.error != QJsonParseError::NoError) {
            showError(m_metadataError,
                tr("Invalid JSON at offset %1: %2")
                    .arg(parseError.offset)
                    .arg(parseError.errorString()));
            valid = false;
        } else {
            options.metadata = document.toJson(QJsonDocument::Compact);
            if (Status checked = kv::validateMetadata(*options.metadata); !checked) {
                showError(m_metadataError, checked.error().toString());
                valid = false;
            }
        }
    }
    const int mode = m_expirationMode->currentData().toInt();
    if (mode == ExpireAt) {
        const std::optional<SimTime> at = parseInstant(m_expirationAt->text().trimmed());
        if (!at) {
            showError(m_expirationError,
                tr("Invalid time \"%1\": write it as 2026-01-01T00:05:00Z.")
                    .arg(m_expirationAt->text()));
            valid = false;
        } else {
            options.expiration = double(epochSeconds(*at));
        }
    } else if (mode == ExpireAfterTtl) {
        options.expirationTtl = double(m_expirationTtl->value());
    }
    if (valid && mode != NoExpiration) {
        const qint64 now = epochSeconds(world->simulation().now());
        if (Status checked = kv::validateExpiration(options.expiration, options.expirationTtl, now);
            !checked) {
            showError(m_expirationError, checked.error().toString());
            valid = false;
        }
    }
    if (!valid)
        return;

    const Status written = m_model->writeEntry(key, value, options);
    if (!written) {
        m_status->setText(written.error().toString());
        return;
    }
    showKey(key);
    m_status->setText(tr("Saved as version %1. Other locations keep their cached value until "
                         "it lapses.")
                          .arg(kv->centralEntry(key)->version));
    Q_EMIT keyChanged(key);
}

void KvEntryEditor::remove()
{
    clearErrors();
    const QString key = m_key->text();
    const Status deleted = m_model->deleteEntry(key);
    if (!deleted) {
        showError(m_keyError, deleted.error().toString());
        return;
    }
    startNew();
    m_status->setText(
        tr("Deleted %1. Other locations keep their cached value until it lapses.").arg(key));
    Q_EMIT keyChanged(key);
}

} // namespace roomscope
