#include "wranglerkvmodel.h"

#include "modelroles.h"
#include "valuetext.h"

#include <QDateTime>
#include <QTimeZone>

namespace roomscope {

namespace {

QString formatEpochSeconds(qint64 seconds)
{
    return QDateTime::fromSecsSinceEpoch(seconds, QTimeZone::utc())
        .toString(QStringLiteral("yyyy-MM-dd HH:mm:ss 'UTC'"));
}

} // namespace

WranglerKvModel::WranglerKvModel(QObject *parent)
    : QAbstractTableModel(parent)
{
}

void WranglerKvModel::setListing(const WranglerKvListing &listing)
{
    beginResetModel();
    m_rows.clear();
    m_rows.reserve(listing.entries.size() + size_t(listing.keysWithoutBlob.size()));
    for (const KvEntry &entry : listing.entries)
        m_rows.push_back({ entry, true });
    for (const QString &key : listing.keysWithoutBlob) {
        KvEntry entry;
        entry.key = key.toUtf8();
        m_rows.push_back({ entry, false });
    }
    endResetModel();
}

void WranglerKvModel::clear()
{
    beginResetModel();
    m_rows.clear();
    endResetModel();
}

QString WranglerKvModel::keyAt(const QModelIndex &index) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid))
        return {};
    return QString::fromUtf8(m_rows[size_t(index.row())].entry.key);
}

int WranglerKvModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int WranglerKvModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant WranglerKvModel::data(const QModelIndex &index, int role) const
{
    if (!hasIndex(index.row(), index.column(), index.parent()))
        return {};
    const Row &row = m_rows[size_t(index.row())];
    const KvEntry &entry = row.entry;
    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case KeyColumn:
            return QString::fromUtf8(entry.key);
        case ValueColumn:
            return row.hasBlob ? previewValue(entry.value) : tr("(value file missing)");
        case ExpirationColumn:
            return entry.expiration ? formatEpochSeconds(*entry.expiration) : QString();
        case MetadataColumn:
            return entry.metadata ? QString::fromUtf8(*entry.metadata) : QString();
        }
        return {};
    case Qt::ToolTipRole:
        if (!row.hasBlob)
            return tr("The value file of %1 is missing, so Miniflare reads the key as missing.")
                .arg(QString::fromUtf8(entry.key));
        return {};
    case HighlightRole:
        return QVariant::fromValue(row.hasBlob ? Highlight::None : Highlight::Warning);
    case RawValueRole:
        return rawValue(row, index.column());
    case ValueTitleRole:
        return valueTitle(row, index.column());
    default:
        return {};
    }
}

QVariant WranglerKvModel::rawValue(const Row &row, int column) const
{
    switch (column) {
    case KeyColumn:
        return row.entry.key;
    case ValueColumn:
        return row.hasBlob ? QVariant(row.entry.value) : QVariant();
    case ExpirationColumn:
        return row.entry.expiration ? QVariant(QByteArray::number(*row.entry.expiration))
                                    : QVariant();
    case MetadataColumn:
        return row.entry.metadata ? QVariant(*row.entry.metadata) : QVariant();
    }
    return {};
}

QString WranglerKvModel::valueTitle(const Row &row, int column) const
{
    const QString key = QString::fromUtf8(row.entry.key);
    switch (column) {
    case KeyColumn:
        return tr("Key %1 (read-only)").arg(key);
    case ValueColumn:
        return tr("%1: value in the wrangler dev folder (read-only)").arg(key);
    case ExpirationColumn:
        return tr("%1: expiration in epoch seconds (read-only)").arg(key);
    case MetadataColumn:
        return tr("%1: metadata (read-only)").arg(key);
    }
    return {};
}

QVariant WranglerKvModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case KeyColumn:
        return tr("Key");
    case ValueColumn:
        return tr("Value");
    case ExpirationColumn:
        return tr("Expiration");
    case MetadataColumn:
        return tr("Metadata");
    }
    return {};
}

} // namespace roomscope
