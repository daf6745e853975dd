#include "sqlresultmodel.h"

#include "modelroles.h"
#include "valuetext.h"

#include <QFont>

namespace roomscope {

SqlResultModel::SqlResultModel(QObject *parent)
    : QAbstractTableModel(parent)
{
}

void SqlResultModel::setResult(const SqlCursor &cursor)
{
    beginResetModel();
    m_columns = cursor.columnNames;
    m_totalRows = qsizetype(cursor.rows.size());
    const size_t kept = std::min(cursor.rows.size(), size_t(kMaxRows));
    m_rows.assign(cursor.rows.begin(), cursor.rows.begin() + qsizetype(kept));
    endResetModel();
}

void SqlResultModel::clear()
{
    beginResetModel();
    m_columns.clear();
    m_rows.clear();
    m_totalRows = 0;
    endResetModel();
}

int SqlResultModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int SqlResultModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_columns.size());
}

QVariant SqlResultModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const QVariantList &row = m_rows[size_t(index.row())];
    const QVariant cell = index.column() < row.size() ? row.at(index.column()) : QVariant();
    const bool isBlob = cell.typeId() == QMetaType::QByteArray;
    switch (role) {
    case Qt::DisplayRole:
        if (!cell.isValid())
            return QStringLiteral("NULL");
        return isBlob ? previewValue(cell.toByteArray()) : cell.toString();
    case Qt::FontRole:
        if (!cell.isValid()) {
            QFont font;
            font.setItalic(true);
            return font;
        }
        return {};
    case Qt::TextAlignmentRole:
        return cell.typeId() == QMetaType::LongLong || cell.typeId() == QMetaType::Double
            ? QVariant(Qt::AlignRight | Qt::AlignVCenter)
            : QVariant();
    case RawValueRole:
        return isBlob ? cell.toByteArray() : cell.toString().toUtf8();
    case ValueTitleRole:
        return tr("Column %1 of row %2 of the query result")
            .arg(m_columns.value(index.column()))
            .arg(index.row() + 1);
    default:
        return {};
    }
}

QVariant SqlResultModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole || section < 0
        || section >= m_columns.size())
        return QAbstractTableModel::headerData(section, orientation, role);
    return m_columns.at(section);
}

} // namespace roomscope
