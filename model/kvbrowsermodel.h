#pragma once

#include "kvnamespace.h"
#include "tracesubscription.h"

#include <QAbstractItemModel>
#include <QHash>
#include <QPersistentModelIndex>
#include <QPointer>

#include <memory>
#include <optional>
#include <set>
#include <vector>

namespace roomscope {

class SimulationController;

/// Formats a KV expiration for people at virtual time `now`: "No expiration", "Expires at
/// 2026-01-01 00:02:00.000 UTC, in 1 min 30 s" or "Expired at ...".
QString formatExpirationCountdown(std::optional<qint64> expirationSeconds, SimTime now);

/// The keys of a KV namespace as a flat list or as a tree split on a delimiter. Rows are loaded a
/// page at a time (canFetchMore()/fetchMore()) through KvNamespace::entries(), an indexed range
/// scan, so a namespace with millions of keys opens and scrolls without reading every key.
///
/// Columns: the key (or, in tree mode, the key's last segment), the central value, its version,
/// then one column per location with what a read there would return now (KvNamespace::view()).
/// In tree mode a row that ends in the delimiter is a group of keys with that prefix, found by
/// skipping from one group to the next, so listing groups costs one range scan per group.
///
/// Each frame costs the same however many rows are loaded: refreshVisible() applies the keys
/// that traced writes and deletes touched, then rechecks and repaints only the visible rows.
class KvBrowserModel : public QAbstractItemModel
{
    Q_OBJECT

public:
    enum Column {
        KeyColumn,
        ValueColumn,
        VersionColumn,
        FixedColumnCount ///< location columns follow, one per location in scenario order
    };

    /// Rows that one fetchMore() adds under a parent.
    static constexpr int kPageSize = 1000;
    /// Rows of the root that refreshVisible() rechecks while no view has set the visible rows.
    static constexpr int kDefaultVisibleRows = 100;
    /// More written keys than this between two frames make the next frame a full refresh().
    static constexpr qsizetype kMaxTrackedWrites = 10'000;

    explicit KvBrowserModel(QObject *parent = nullptr);
    ~KvBrowserModel() override;

    /// Shows the namespace of the controller's current world and follows its changes.
    void setController(SimulationController *controller);
    /// Shows `kv`; the three objects must outlive the model or be replaced first. Null clears.
    void setNamespace(KvNamespace *kv, const LocationMap *locations, Simulation *simulation);
    KvNamespace *kvNamespace() const { return m_kv; }

    QModelIndex index(int row, int column, const QModelIndex &parent = {}) const override;
    QModelIndex parent(const QModelIndex &child) const override;
    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    bool hasChildren(const QModelIndex &parent = {}) const override;
    bool canFetchMore(const QModelIndex &parent) const override;
    void fetchMore(const QModelIndex &parent) override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(
        int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    /// Lists only keys that start with `prefix`.
    void setPrefix(const QString &prefix);
    QString prefix() const { return QString::fromUtf8(m_prefix); }
    /// Splits keys into a tree on the delimiter; false lists them flat.
    void setTreeMode(bool tree);
    bool isTreeMode() const { return m_treeMode; }
    /// Sets the delimiter of tree mode; an empty delimiter lists keys flat.
    void setDelimiter(const QString &delimiter);
    QString delimiter() const { return QString::fromUtf8(m_delimiter); }

    /// The full key of a key row; empty for a group row.
    QString keyAt(const QModelIndex &index) const;
    /// The key prefix of a group row; empty for a key row.
    QString groupPrefixAt(const QModelIndex &index) const;
    /// The row of a key among the rows loaded so far, or an invalid index.
    QModelIndex indexOfKey(const QString &key) const;
    /// The location a column shows, or -1 for the fixed columns.
    LocationId locationOfColumn(int column) const;
    /// Rows loaded so far, over every level of the tree.
    qint64 loadedRowCount() const { return m_loadedRows; }

    // Writes made outside any Worker (see KvNamespace::writeEntry()), then refreshVisible().
    Status writeEntry(const QString &key, const QByteArray &value, KvPutOptions options = {});
    Status deleteEntry(const QString &key);
    Result<qint64> deleteByPrefix(const QString &prefix);
    /// Counts the live keys with `prefix` by scanning them in pages.
    qint64 countKeys(const QString &prefix) const;

    /// Sets the rows that refreshVisible() rechecks and repaints: the rows a view shows, plus a
    /// margin. The model follows them as rows are inserted and removed.
    void setVisibleRows(const QModelIndexList &rows);
    /// Rows that the last refreshVisible() rechecked against the namespace and repainted.
    qint64 lastRefreshedRowCount() const { return m_lastRefreshedRows; }

public Q_SLOTS:
    /// Brings every loaded row up to date with the namespace now: inserts new keys, removes
    /// deleted and expired ones, and repaints values and location columns. It rescans every
    /// loaded row, so it costs time in proportion to them.
    void refresh();
    /// The work of one frame: inserts and removes the rows of keys that traced writes and deletes
    /// touched since the last frame, rescans the visible rows for other changes (expired keys,
    /// imports, loaded sessions), and repaints them.
    void refreshVisible();

private:
    struct Node;
    struct Child
    {
        QByteArray path; ///< the full key, or a group's prefix ending in the delimiter
        bool isGroup = false;
    };
    struct Scan
    {
        std::vector<Child> children;
        QByteArray cursor; ///< the last key covered, for the next scan's startAfter
        bool complete = false;
        bool reachedUntil = false; ///< stopped at a child past the `until` bound
    };
    struct RowData
    {
        std::optional<KvEntry> central;
        std::vector<KvLocationView> views;
    };

    Node *nodeOf(const QModelIndex &index) const;
    QModelIndex indexOfNode(const Node *node, int column = 0) const;
    QByteArray scanPrefix(const Node *node) const;
    Scan scanChildren(const QByteArray &prefix, QByteArray cursor, int maxChildren,
        const QByteArray *until) const;
    static QByteArray cursorAfter(const Child &child);
    std::unique_ptr<Node> makeNode(Node *parent, const Child &child) const;
    void resetTree();
    void syncChildren(Node *node);
    /// Makes children [first, end) of `node` match `next`, keeping the nodes whose path stays.
    void mergeChildren(Node *node, size_t first, size_t end, const std::vector<Child> &next);
    void syncVisibleRange(Node *node, size_t first, size_t last);
    void applyWrittenKey(const QByteArray &key);
    bool isLiveChild(const Child &child) const;
    static qint64 subtreeRows(
        const std::vector<std::unique_ptr<Node>> &children, size_t first, size_t end);
    static void renumber(std::vector<std::unique_ptr<Node>> &children, size_t from);
    void emitValuesChanged(Node *node);
    void onAdvanced();
    const RowData &rowData(const Node *node) const;

    QVariant keyData(const Node *node, int role) const;
    QVariant centralData(const Node *node, int column, int role) const;
    QVariant locationData(const Node *node, LocationId location, int role) const;
    QString locationToolTip(const Node *node, LocationId location) const;

    QPointer<SimulationController> m_controller;
    KvNamespace *m_kv = nullptr;
    const LocationMap *m_locations = nullptr;
    Simulation *m_simulation = nullptr;
    TraceSubscription m_subscription;

    QByteArray m_prefix;
    QByteArray m_delimiter = QByteArrayLiteral(":");
    bool m_treeMode = false;
    std::unique_ptr<Node> m_root;
    qint64 m_loadedRows = 0;

    /// True while rows are being inserted or removed: a view or tester that reacts to those
    /// signals must not start another fetch inside them.
    bool m_changingRows = false;
    /// Keys that traced writes and deletes touched since the last frame, in byte order.
    std::set<QByteArray> m_writtenKeys;
    bool m_tooManyWrites = false;
    std::vector<QPersistentModelIndex> m_visibleRows;
    qint64 m_lastRefreshedRows = 0;
    mutable QHash<const Node *, RowData> m_rowCache;
};

} // namespace roomscope
