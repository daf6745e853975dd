#pragma once

#include "dostorage.h"

#include <QAbstractTableModel>

namespace roomscope {

/// The rows of one SQL result (a SqlCursor) as a table: a column per result column, NULL shown
/// as "NULL" and BLOBs as a preview, with the full bytes in RawValueRole.
class SqlResultModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    /// Rows kept from one result. The rest are counted but not shown.
    static constexpr int kMaxRows = 10'000;

    explicit SqlResultModel(QObject *parent = nullptr);

    /// Shows `cursor`'s columns and up to kMaxRows of its rows.
    void setResult(const SqlCursor &cursor);
    void clear();
    /// Rows of the last result, including any not shown.
    qsizetype totalRows() const { return m_totalRows; }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(
        int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    QStringList m_columns;
    std::vector<QVariantList> m_rows;
    qsizetype m_totalRows = 0;
};

} // namespace roomscope
