#include "inspectorpane.h"

#include "modelroles.h"

#include <QFontDatabase>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QPlainTextEdit>
#include <QStackedLayout>
#include <QTabWidget>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace roomscope {

namespace {

QPlainTextEdit *createReadOnlyText(QWidget *parent)
{
    auto *edit = new QPlainTextEdit(parent);
    edit->setReadOnly(true);
    edit->setLineWrapMode(QPlainTextEdit::NoWrap);
    edit->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    return edit;
}

QString jsonTypeName(const QJsonValue &value)
{
    switch (value.type()) {
    case QJsonValue::Null:
        return QStringLiteral("null");
    case QJsonValue::Bool:
        return QStringLiteral("boolean");
    case QJsonValue::Double:
        return QStringLiteral("number");
    case QJsonValue::String:
        return QStringLiteral("string");
    case QJsonValue::Array:
        return QStringLiteral("array");
    case QJsonValue::Object:
        return QStringLiteral("object");
    case QJsonValue::Undefined:
        break;
    }
    return {};
}

QString jsonScalarText(const QJsonValue &value)
{
    switch (value.type()) {
    case QJsonValue::Null:
        return QStringLiteral("null");
    case QJsonValue::Bool:
        return value.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    case QJsonValue::Double:
        return QString::number(value.toDouble(), 'g', 17);
    case QJsonValue::String:
        return value.toString();
    case QJsonValue::Array:
        return QStringLiteral("[%1]").arg(value.toArray().size());
    case QJsonValue::Object:
        return QStringLiteral("{%1}").arg(value.toObject().size());
    case QJsonValue::Undefined:
        break;
    }
    return {};
}

void addJsonItem(QTreeWidgetItem *parent, const QString &name, const QJsonValue &value)
{
    auto *item = new QTreeWidgetItem(parent, { name, jsonScalarText(value), jsonTypeName(value) });
    if (value.isObject()) {
        const QJsonObject object = value.toObject();
        for (auto it = object.begin(); it != object.end(); ++it)
            addJsonItem(item, it.key(), it.value());
    } else if (value.isArray()) {
        const QJsonArray array = value.toArray();
        for (qsizetype i = 0; i < array.size(); ++i)
            addJsonItem(item, QStringLiteral("[%1]").arg(i), array.at(i));
    }
}

} // namespace

InspectorPane::InspectorPane(QWidget *parent)
    : QWidget(parent)
{
    m_title = new QLabel(this);
    m_title->setObjectName(QStringLiteral("inspectorTitle"));
    m_title->setWordWrap(true);
    m_title->setTextInteractionFlags(Qt::TextSelectableByMouse);
    QFont titleFont = m_title->font();
    titleFont.setBold(true);
    m_title->setFont(titleFont);
    m_details = new QLabel(this);
    m_details->setWordWrap(true);
    m_details->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_details->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_details->hide();

    m_tabs = new QTabWidget(this);
    m_text = createReadOnlyText(m_tabs);
    m_text->setObjectName(QStringLiteral("inspectorText"));
    m_text->setLineWrapMode(QPlainTextEdit::WidgetWidth);
    m_tabs->addTab(m_text, tr("Text"));

    auto *jsonPage = new QWidget(m_tabs);
    auto *jsonLayout = new QVBoxLayout(jsonPage);
    jsonLayout->setContentsMargins(0, 0, 0, 0);
    m_json = new QTreeWidget(jsonPage);
    m_json->setHeaderLabels({ tr("Name"), tr("Value"), tr("Type") });
    m_json->setUniformRowHeights(true);
    m_json->header()->setStretchLastSection(false);
    m_json->header()->setSectionResizeMode(1, QHeaderView::Stretch);
    m_jsonError = new QLabel(jsonPage);
    m_jsonError->setWordWrap(true);
    m_jsonError->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    m_jsonError->setMargin(6);
    jsonLayout->addWidget(m_json);
    jsonLayout->addWidget(m_jsonError);
    m_tabs->addTab(jsonPage, tr("JSON"));

    m_hex = createReadOnlyText(m_tabs);
    m_tabs->addTab(m_hex, tr("Hex"));

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addWidget(m_title);
    layout->addWidget(m_details);
    layout->addWidget(m_tabs, 1);
    clear();
}

QString InspectorPane::title() const
{
    return m_title->text();
}

QString InspectorPane::text() const
{
    return m_text->toPlainText();
}

void InspectorPane::clear()
{
    m_index = QPersistentModelIndex();
    const QString title = m_placeholderTitle.isEmpty()
        ? tr("Select a key, a pending write, a connection or an event to inspect its value.")
        : m_placeholderTitle;
    showValue(title, {}, {});
}

void InspectorPane::setPlaceholderTitle(const QString &title)
{
    m_placeholderTitle = title;
    if (!m_index.isValid())
        clear();
}

void InspectorPane::showIndex(const QModelIndex &index)
{
    if (!index.isValid())
        return;
    watchModel(index.model());
    m_index = index;
    refresh();
}

void InspectorPane::watchModel(const QAbstractItemModel *model)
{
    if (model == m_watchedModel)
        return;
    if (m_watchedModel)
        disconnect(m_watchedModel, nullptr, this, nullptr);
    m_watchedModel = model;
    connect(model, &QAbstractItemModel::dataChanged, this,
        [this](const QModelIndex &topLeft, const QModelIndex &bottomRight) {
            if (m_index.isValid() && m_index.row() >= topLeft.row()
                && m_index.row() <= bottomRight.row())
                refresh();
        });
    connect(model, &QObject::destroyed, this, [this] { m_watchedModel = nullptr; });
}

void InspectorPane::refresh()
{
    if (!m_index.isValid())
        return;
    const QVariant raw = m_index.data(RawValueRole);
    QString title = m_index.data(ValueTitleRole).toString();
    QString details;
    const QVariant event = m_index.data(TraceEventRole);
    if (event.isValid())
        details = event.value<TraceEvent>().detailsText(0);
    if (!raw.isValid())
        title = tr("%1 (no value)").arg(title);
    showValue(title, details, raw.toByteArray());
}

void InspectorPane::showValue(const QString &title, const QString &details, const QByteArray &value)
{
    m_title->setText(title);
    m_details->setText(details);
    m_details->setVisible(!details.isEmpty());
    m_text->setPlainText(QString::fromUtf8(value));
    m_hex->setPlainText(hexDump(value));
    fillJsonTab(value);
}

void InspectorPane::fillJsonTab(const QByteArray &value)
{
    m_json->clear();
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(value, &error);
    if (value.isEmpty() || error.error != QJsonParseError::NoError) {
        m_json->hide();
        m_jsonError->setText(value.isEmpty()
                ? tr("No value.")
                : tr("Not JSON: %1 at byte %2.").arg(error.errorString()).arg(error.offset));
        m_jsonError->show();
        return;
    }
    m_jsonError->hide();
    m_json->show();
    auto *root = new QTreeWidgetItem(m_json, { tr("(root)"), QString(), QString() });
    const QJsonValue rootValue
        = document.isObject() ? QJsonValue(document.object()) : QJsonValue(document.array());
    root->setText(1, jsonScalarText(rootValue));
    root->setText(2, jsonTypeName(rootValue));
    if (document.isObject()) {
        const QJsonObject object = document.object();
        for (auto it = object.begin(); it != object.end(); ++it)
            addJsonItem(root, it.key(), it.value());
    } else {
        const QJsonArray array = document.array();
        for (qsizetype i = 0; i < array.size(); ++i)
            addJsonItem(root, QStringLiteral("[%1]").arg(i), array.at(i));
    }
    m_json->expandToDepth(1);
    m_json->resizeColumnToContents(0);
}

QString InspectorPane::hexDump(const QByteArray &value)
{
    constexpr int kBytesPerLine = 16;
    const qsizetype dumpedBytes = std::min(value.size(), kMaxHexBytes);
    QString dump;
    dump.reserve(dumpedBytes / kBytesPerLine * 80 + 80);
    for (qsizetype offset = 0; offset < dumpedBytes; offset += kBytesPerLine) {
        QString hex;
        QString ascii;
        for (int i = 0; i < kBytesPerLine; ++i) {
            if (offset + i < dumpedBytes) {
                const auto byte = uchar(value.at(offset + i));
                hex += QStringLiteral("%1 ").arg(byte, 2, 16, QLatin1Char('0'));
                ascii += byte >= 0x20 && byte < 0x7f ? QChar(byte) : QChar(u'.');
            } else {
                hex += QStringLiteral("   ");
            }
            if (i == kBytesPerLine / 2 - 1)
                hex += QLatin1Char(' ');
        }
        dump += QStringLiteral("%1  %2 %3\n").arg(offset, 8, 16, QLatin1Char('0')).arg(hex, ascii);
    }
    if (dumpedBytes < value.size())
        dump += tr("… %1 more bytes not shown\n").arg(value.size() - dumpedBytes);
    return dump;
}

} // namespace roomscope
