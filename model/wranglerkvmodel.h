#pragma once

#include "wranglerstate.h"

#include <QAbstractTableModel>

namespace roomscope {

/// The entries of one namespace of a `wrangler dev` persistence folder, read-only. Rows are in
/// key byte order, as WranglerKvState::read() returns them. Keys whose value file is missing
/// come last, with no value.
class WranglerKvModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column { KeyColumn, ValueColumn, ExpirationColumn, MetadataColumn, ColumnCount };

    explicit WranglerKvModel(QObject *parent = nullptr);

    /// Replaces the rows with a namespace's listing.
    void setListing(const WranglerKvListing &listing);
    void clear();
    /// The key of a row, or an empty string for an invalid index.
    QString keyAt(const QModelIndex &index) const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(
        int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    struct Row
    {
        KvEntry entry;
        bool hasBlob = true; ///< false when Miniflare's value file is missing
    };

    QVariant rawValue(const Row &row, int column) const;
    QString valueTitle(const Row &row, int column) const;

    std::vector<Row> m_rows;
};

} // namespace roomscope
