#include "wranglerkvdialog.h"

#include "inspectorpane.h"
#include "tableviews.h"
#include "wranglerkvmodel.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileInfo>
#include <QFormLayout>
#include <QLabel>
#include <QLocale>
#include <QLoggingCategory>
#include <QSplitter>
#include <QVBoxLayout>

Q_LOGGING_CATEGORY(lcWranglerDialog, "roomscope.app.wrangler", QtWarningMsg)

namespace roomscope {

WranglerKvDialog::WranglerKvDialog(QWidget *parent)
    : QDialog(parent)
{
    setObjectName(QStringLiteral("wranglerKvDialog"));
    setWindowTitle(tr("wrangler dev KV folder (read-only)"));
    m_model = new WranglerKvModel(this);

    m_folder = new QLabel(this);
    m_folder->setObjectName(QStringLiteral("wranglerFolder"));
    m_folder->setWordWrap(true);
    m_folder->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_namespaces = new QComboBox(this);
    m_namespaces->setObjectName(QStringLiteral("wranglerNamespace"));
    m_namespaces->setToolTip(tr("The namespace ID from the Wrangler configuration."));
    m_note = new QLabel(this);
    m_note->setObjectName(QStringLiteral("wranglerNote"));
    m_note->setWordWrap(true);

    m_view = createTableView(m_model, { false, { 22, 26, 27, 20 } }, this);
    m_view->setObjectName(QStringLiteral("wranglerKeysView"));
    m_inspector = new InspectorPane(this);
    m_inspector->setObjectName(QStringLiteral("wranglerInspector"));
    m_inspector->setPlaceholderTitle(tr("Select a key to see its value (read-only)."));

    auto *split = new QSplitter(Qt::Horizontal, this);
    split->addWidget(m_view);
    split->addWidget(m_inspector);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto *form = new QFormLayout;
    form->addRow(tr("Folder:"), m_folder);
    form->addRow(tr("&Namespace:"), m_namespaces);
    auto *layout = new QVBoxLayout(this);
    auto *readOnly = new QLabel(
        tr("<b>Read-only.</b> Roomscope never writes to this folder. To edit these keys in a "
           "run, export them with <code>wrangler kv bulk get</code> or use File &gt; Import KV "
           "Bulk JSON."),
        this);
    readOnly->setWordWrap(true);
    layout->addWidget(readOnly);
    layout->addLayout(form);
    layout->addWidget(m_note);
    layout->addWidget(split, 1);
    layout->addWidget(buttons);

    connect(m_namespaces, &QComboBox::currentIndexChanged, this, &WranglerKvDialog::showNamespace);
    connect(m_view->selectionModel(), &QItemSelectionModel::currentChanged, this,
        &WranglerKvDialog::showCurrent);
    resize(960, 560);
}

Status WranglerKvDialog::openFolder(const QString &folder)
{
    Result<WranglerKvState> state = WranglerKvState::open(folder);
    if (!state) {
        qCWarning(lcWranglerDialog) << "cannot open" << folder << ":" << state.error().message;
        return state.error();
    }
    m_state = std::move(state).value();
    m_folder->setText(QDir::toNativeSeparators(m_state->kvPath()));

    const QSignalBlocker blocker(m_namespaces);
    m_namespaces->clear();
    for (const WranglerKvNamespace &kvNamespace : m_state->namespaces()) {
        const QString label = kvNamespace.id.isEmpty()
            ? tr("Unknown ID (%1)").arg(QFileInfo(kvNamespace.databasePath).fileName())
            : kvNamespace.id;
        m_namespaces->addItem(label);
    }
    m_namespaces->setEnabled(m_namespaces->count() > 0);
    showNamespace(m_namespaces->count() > 0 ? 0 : -1);
    return Done {};
}

void WranglerKvDialog::showNamespace(int index)
{
    m_inspector->clear();
    if (!m_state || index < 0 || size_t(index) >= m_state->namespaces().size()) {
        m_model->clear();
        m_note->setText(tr("The folder has no KV namespace yet: wrangler dev creates one on "
                           "the first write."));
        return;
    }
    m_namespaces->setCurrentIndex(index);
    const WranglerKvNamespace &kvNamespace = m_state->namespaces()[size_t(index)];
    const Result<WranglerKvListing> listing = WranglerKvState::read(kvNamespace);
    if (!listing) {
        m_model->clear();
        m_note->setText(tr("Could not read this namespace: %1").arg(listing.error().message));
        return;
    }
    m_model->setListing(*listing);
    const QLocale locale;
    QString note = listing->entries.size() == 1
        ? tr("1 key")
        : tr("%1 keys").arg(locale.toString(qulonglong(listing->entries.size())));
    if (!listing->keysWithoutBlob.isEmpty()) {
        note += tr(", and %1 whose value file is missing (Miniflare reads them as missing)")
                    .arg(locale.toString(listing->keysWithoutBlob.size()));
    }
    m_note->setText(note);
}

QString WranglerKvDialog::noteText() const
{
    return m_note->text();
}

void WranglerKvDialog::showCurrent(const QModelIndex &current)
{
    if (!current.isValid()) {
        m_inspector->clear();
        return;
    }
    // Rows are selected whole, so a click on the key shows the value, the most useful cell.
    const QModelIndex shown = current.column() == WranglerKvModel::KeyColumn
        ? current.siblingAtColumn(WranglerKvModel::ValueColumn)
        : current;
    m_inspector->showIndex(shown);
}

} // namespace roomscope
