#pragma once

#include "worldtablemodel.h"

#include <QElapsedTimer>

namespace roomscope {

/// The keys of the run's KV namespace in UTF-8 byte order: the central value and version, then
/// one column per location with what a read at that location would return now.
class KvKeysModel : public WorldTableModel
{
    Q_OBJECT

public:
    enum Column {
        KeyColumn,
        ValueColumn,
        VersionColumn,
        FixedColumnCount ///< location columns follow, one per location in scenario order
    };

    /// At most this many keys are listed; setPrefix() narrows the list.
    static constexpr int kMaxKeys = 1000;

    explicit KvKeysModel(SimulationController *controller, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(
        int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    /// Lists only keys that start with `prefix`.
    void setPrefix(const QString &prefix);
    const QString &prefix() const { return m_prefix; }
    /// True when more keys match than kMaxKeys.
    bool isTruncated() const { return m_truncated; }
    /// The location a column shows, or -1 for the fixed columns.
    LocationId locationOfColumn(int column) const;
    /// Updates the rows now, regardless of the throttle for large namespaces.
    void refresh();

protected:
    void clearRows() override;
    void loadRows(World &world) override;
    void updateRows(World &world) override;

private:
    struct Row
    {
        QString key;
        KvEntry central;
        std::vector<KvLocationView> views; ///< one per location

        bool operator==(const Row &other) const;
    };

    std::vector<Row> snapshot(const World &world, bool *truncated) const;
    QVariant displayData(const Row &row, int column) const;
    QVariant locationData(const Row &row, LocationId location, int role) const;
    QString keyToolTip(const Row &row) const;
    QString locationToolTip(const Row &row, LocationId location) const;

    std::vector<Row> m_rows;
    QStringList m_locationNames;
    QString m_prefix;
    bool m_truncated = false;
    SimTime m_now = 0;
    SimTime m_start = 0;
    QElapsedTimer m_sinceRefresh;
    qint64 m_lastRefreshCostNs = 0;
};

} // namespace roomscope
