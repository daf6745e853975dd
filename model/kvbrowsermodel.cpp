#include "kvbrowsermodel.h"

#include "modelroles.h"
#include "simulationcontroller.h"
#include "valuetext.h"

#include <QElapsedTimer>
#include <QLoggingCategory>
#include <QScopedValueRollback>

#include <algorithm>
#include <climits>

Q_LOGGING_CATEGORY(lcKvBrowser, "roomscope.model.kvbrowser", QtWarningMsg)

namespace roomscope {

namespace {

/// Entries read per range scan while listing children.
constexpr int kScanBatch = 1024;
/// A rescan of the visible rows reads at most this many more children than it replaces, so that
/// a bulk import into the visible range is picked up over several frames.
constexpr int kMaxInsertedPerRescan = 1000;

} // namespace

QString formatExpirationCountdown(std::optional<qint64> expirationSeconds, SimTime now)
{
    if (!expirationSeconds)
        return QObject::tr("No expiration");
    const SimTime at = *expirationSeconds * kMicrosecondsPerSecond;
    if (at <= now)
        return QObject::tr("Expired at %1").arg(formatClock(at));
    return QObject::tr("Expires at %1, in %2").arg(formatClock(at), formatDuration(at - now));
}

// One loaded row. The fields are ordered so that the flags share one word with the row number:
// a million loaded rows cost about 80 bytes each here, plus the path's own allocation.
struct KvBrowserModel::Node
{
    Node *parent = nullptr;
    QByteArray
        path; ///< the full key, a group's prefix ending in the delimiter, or the root's filter
    int row = 0;
    bool isGroup = false;
    bool fetched = false; ///< at least one page of children was read
    bool complete = false; ///< every child is loaded
    std::vector<std::unique_ptr<Node>> children;

    /// startAfter for the next page of children.
    QByteArray cursor() const
    {
        return children.empty() ? QByteArray()
                                : cursorAfter({ children.back()->path, children.back()->isGroup });
    }
};

KvBrowserModel::KvBrowserModel(QObject *parent)
    : QAbstractItemModel(parent)
{
    resetTree();
}

KvBrowserModel::~KvBrowserModel() = default;

void KvBrowserModel::setController(SimulationController *controller)
{
    if (m_controller)
        disconnect(m_controller, nullptr, this, nullptr);
    m_controller = controller;
    const auto attachWorld = [this] {
        World *world = m_controller ? m_controller->world() : nullptr;
        if (world)
            setNamespace(&world->kv(), &world->locations(), &world->simulation());
        else
            setNamespace(nullptr, nullptr, nullptr);
    };
    if (controller) {
        connect(controller, &SimulationController::worldAboutToChange, this,
            [this] { setNamespace(nullptr, nullptr, nullptr); });
        connect(controller, &SimulationController::worldChanged, this, attachWorld);
        connect(controller, &SimulationController::advanced, this, &KvBrowserModel::onAdvanced);
    }
    attachWorld();
}

void KvBrowserModel::setNamespace(
    KvNamespace *kv, const LocationMap *locations, Simulation *simulation)
{
    beginResetModel();
    m_subscription.reset();
    m_kv = kv;
    m_locations = kv ? locations : nullptr;
    m_simulation = kv ? simulation : nullptr;
    if (m_simulation) {
        m_subscription.subscribe(m_simulation->trace(), [this](const TraceEvent &event) {
            if ((event.kind != TraceKind::KvPut && event.kind != TraceKind::KvDelete)
                || event.numbers[0] != 200 || m_tooManyWrites)
                return;
            m_writtenKeys.insert(event.subject.toUtf8());
            if (qsizetype(m_writtenKeys.size()) > kMaxTrackedWrites) {
                m_writtenKeys.clear();
                m_tooManyWrites = true;
            }
        });
    }
    resetTree();
    endResetModel();
}

void KvBrowserModel::resetTree()
{
    m_rowCache.clear();
    m_root = std::make_unique<Node>();
    m_root->path = m_prefix;
    m_root->isGroup = true;
    m_loadedRows = 0;
    m_writtenKeys.clear();
    m_tooManyWrites = false;
    m_visibleRows.clear();
    if (!m_kv) {
        m_root->fetched = true;
        m_root->complete = true;
        return;
    }
    // The first page is read now, without row signals, because this runs inside a model reset.
    Scan scan = scanChildren(m_root->path, {}, kPageSize, nullptr);
    for (const Child &child : scan.children)
        m_root->children.push_back(makeNode(m_root.get(), child));
    m_root->fetched = true;
    m_root->complete = scan.complete;
    m_loadedRows = qint64(m_root->children.size());
}

std::unique_ptr<KvBrowserModel::Node> KvBrowserModel::makeNode(
    Node *parent, const Child &child) const
{
    auto node = std::make_unique<Node>();
    node->parent = parent;
    node->path = child.path;
    node->isGroup = child.isGroup;
    node->row = int(parent->children.size());
    return node;
}

QByteArray KvBrowserModel::cursorAfter(const Child &child)
{
    // Every key of a group starts with its path, and no UTF-8 byte is 0xFF, so the group's last
    // key sorts before path + 0xFF: a scan that starts after it skips the whole group.
    return child.isGroup ? child.path + char(0xFF) : child.path;
}

QByteArray KvBrowserModel::scanPrefix(const Node *node) const
{
    return node->path;
}

KvBrowserModel::Scan KvBrowserModel::scanChildren(
    const QByteArray &prefix, QByteArray cursor, int maxChildren, const QByteArray *until) const
{
    Scan scan;
    scan.cursor = std::move(cursor);
    const QString prefixText = QString::fromUtf8(prefix);
    const QByteArray delimiter = m_treeMode ? m_delimiter : QByteArray();
    while (int(scan.children.size()) < maxChildren) {
        const int requested = std::min(maxChildren - int(scan.children.size()), kScanBatch);
        const std::vector<KvEntry> batch = m_kv->entries(prefixText, scan.cursor, requested);
        if (batch.empty()) {
            scan.complete = true;
            return scan;
        }
        for (const KvEntry &entry : batch) {
            const qsizetype split
                = delimiter.isEmpty() ? -1 : entry.key.indexOf(delimiter, prefix.size());
            Child child;
            child.isGroup = split >= 0;
            child.path = child.isGroup ? entry.key.left(split + delimiter.size()) : entry.key;
            if (until && child.path > *until) {
                scan.reachedUntil = true;
                return scan;
            }
            scan.cursor = cursorAfter(child);
            scan.children.push_back(std::move(child));
            // After a group the rest of this batch lies inside it: scan again past the group.
            if (scan.children.back().isGroup || int(scan.children.size()) == maxChildren)
                break;
        }
    }
    scan.complete = m_kv->entries(prefixText, scan.cursor, 1).empty();
    return scan;
}

KvBrowserModel::Node *KvBrowserModel::nodeOf(const QModelIndex &index) const
{
    return index.isValid() ? static_cast<Node *>(index.internalPointer()) : m_root.get();
}

QModelIndex KvBrowserModel::indexOfNode(const Node *node, int column) const
{
    if (!node || node == m_root.get())
        return {};
    return createIndex(node->row, column, const_cast<Node *>(node));
}

QModelIndex KvBrowserModel::index(int row, int column, const QModelIndex &parent) const
{
    if (!hasIndex(row, column, parent))
        return {};
    const Node *node = nodeOf(parent);
    return createIndex(row, column, node->children[size_t(row)].get());
}

QModelIndex KvBrowserModel::parent(const QModelIndex &child) const
{
    if (!child.isValid())
        return {};
    return indexOfNode(nodeOf(child)->parent);
}

int KvBrowserModel::rowCount(const QModelIndex &parent) const
{
    if (parent.column() > 0)
        return 0;
    return int(nodeOf(parent)->children.size());
}

int KvBrowserModel::columnCount(const QModelIndex &parent) const
{
    Q_UNUSED(parent);
    return FixedColumnCount + (m_locations ? m_locations->count() : 0);
}

bool KvBrowserModel::hasChildren(const QModelIndex &parent) const
{
    if (parent.column() > 0)
        return false;
    const Node *node = nodeOf(parent);
    return node->isGroup && (!node->complete || !node->children.empty());
}

bool KvBrowserModel::canFetchMore(const QModelIndex &parent) const
{
    if (parent.column() > 0 || !m_kv || m_changingRows)
        return false;
    const Node *node = nodeOf(parent);
    return node->isGroup && !node->complete;
}

void KvBrowserModel::fetchMore(const QModelIndex &parent)
{
    if (!canFetchMore(parent))
        return;
    Node *node = nodeOf(parent);
    Scan scan = scanChildren(scanPrefix(node), node->cursor(), kPageSize, nullptr);
    node->fetched = true;
    node->complete = scan.complete;
    if (scan.children.empty())
        return;
    const int first = int(node->children.size());
    const QScopedValueRollback changing(m_changingRows, true);
    beginInsertRows(parent, first, first + int(scan.children.size()) - 1);
    for (const Child &child : scan.children)
        node->children.push_back(makeNode(node, child));
    m_loadedRows += qint64(scan.children.size());
    endInsertRows();
    qCDebug(lcKvBrowser) << "fetched" << scan.children.size() << "rows under" << node->path;
}

LocationId KvBrowserModel::locationOfColumn(int column) const
{
    return column >= FixedColumnCount && column < columnCount() ? column - FixedColumnCount : -1;
}

QString KvBrowserModel::keyAt(const QModelIndex &index) const
{
    const Node *node = index.isValid() ? nodeOf(index) : nullptr;
    return node && !node->isGroup ? QString::fromUtf8(node->path) : QString();
}

QString KvBrowserModel::groupPrefixAt(const QModelIndex &index) const
{
    const Node *node = index.isValid() ? nodeOf(index) : nullptr;
    return node && node->isGroup ? QString::fromUtf8(node->path) : QString();
}

QModelIndex KvBrowserModel::indexOfKey(const QString &key) const
{
    const QByteArray path = key.toUtf8();
    const Node *node = m_root.get();
    for (;;) {
        const auto &children = node->children;
        // Children sort by path, and a group that contains the key is its nearest predecessor.
        const auto after = std::upper_bound(children.begin(), children.end(), path,
            [](const QByteArray &value, const std::unique_ptr<Node> &child) {
                return value < child->path;
            });
        if (after == children.begin())
            return {};
        const Node *candidate = std::prev(after)->get();
        if (!candidate->isGroup)
            return candidate->path == path ? indexOfNode(candidate) : QModelIndex();
        if (!path.startsWith(candidate->path))
            return {};
        node = candidate;
    }
}

void KvBrowserModel::setPrefix(const QString &prefix)
{
    const QByteArray utf8 = prefix.toUtf8();
    if (utf8 == m_prefix)
        return;
    beginResetModel();
    m_prefix = utf8;
    resetTree();
    endResetModel();
}

void KvBrowserModel::setTreeMode(bool tree)
{
    if (tree == m_treeMode)
        return;
    beginResetModel();
    m_treeMode = tree;
    resetTree();
    endResetModel();
}

void KvBrowserModel::setDelimiter(const QString &delimiter)
{
    const QByteArray utf8 = delimiter.toUtf8();
    if (utf8 == m_delimiter)
        return;
    beginResetModel();
    m_delimiter = utf8;
    resetTree();
    endResetModel();
}

qint64 KvBrowserModel::subtreeRows(
    const std::vector<std::unique_ptr<Node>> &children, size_t first, size_t end)
{
    qint64 rows = qint64(end - first);
    for (size_t i = first; i < end; ++i)
        rows += subtreeRows(children[i]->children, 0, children[i]->children.size());
    return rows;
}

void KvBrowserModel::renumber(std::vector<std::unique_ptr<Node>> &children, size_t from)
{
    for (size_t i = from; i < children.size(); ++i)
        children[i]->row = int(i);
}

void KvBrowserModel::syncChildren(Node *node)
{
    if (!node->fetched)
        return;
    auto &rows = node->children;
    QByteArray last;
    const QByteArray *until = nullptr;
    if (!node->complete) {
        if (rows.empty())
            return;
        last = rows.back()->path;
        until = &last;
    }
    const Scan scan = scanChildren(scanPrefix(node), {}, INT_MAX, until);
    const std::vector<Child> &next = scan.children;
    mergeChildren(node, 0, rows.size(), next);

    if (scan.complete)
        node->complete = true;
    for (const auto &child : rows) {
        if (child->isGroup)
            syncChildren(child.get());
    }
}

void KvBrowserModel::mergeChildren(
    Node *node, size_t first, size_t end, const std::vector<Child> &next)
{
    auto &rows = node->children;
    const QModelIndex parentIndex = indexOfNode(node);
    const QScopedValueRollback changing(m_changingRows, true);

    // Both lists are sorted by path: remove runs of rows that are gone, insert runs that are new.
    size_t i = first;
    size_t j = 0;
    while (i < end || j < next.size()) {
        if (i < end && j < next.size() && rows[i]->path == next[j].path) {
            ++i;
            ++j;
            continue;
        }
        if (i < end && (j == next.size() || rows[i]->path < next[j].path)) {
            size_t removedEnd = i;
            while (removedEnd < end && (j == next.size() || rows[removedEnd]->path < next[j].path))
                ++removedEnd;
            beginRemoveRows(parentIndex, int(i), int(removedEnd) - 1);
            m_loadedRows -= subtreeRows(rows, i, removedEnd);
            // A freed node's address may be reused by a new node, so no cached row may outlive it.
            m_rowCache.clear();
            rows.erase(rows.begin() + qsizetype(i), rows.begin() + qsizetype(removedEnd));
            renumber(rows, i);
            end -= removedEnd - i;
            endRemoveRows();
            continue;
        }
        size_t insertedEnd = j;
        while (insertedEnd < next.size() && (i == end || next[insertedEnd].path < rows[i]->path))
            ++insertedEnd;
        const size_t count = insertedEnd - j;
        beginInsertRows(parentIndex, int(i), int(i + count) - 1);
        std::vector<std::unique_ptr<Node>> inserted;
        for (size_t k = j; k < insertedEnd; ++k)
            inserted.push_back(makeNode(node, next[k]));
        rows.insert(rows.begin() + qsizetype(i), std::make_move_iterator(inserted.begin()),
            std::make_move_iterator(inserted.end()));
        renumber(rows, i);
        m_loadedRows += qint64(count);
        endInsertRows();
        i += count;
        end += count;
        j = insertedEnd;
    }
}

void KvBrowserModel::emitValuesChanged(Node *node)
{
    if (node->children.empty())
        return;
    const QModelIndex parentIndex = indexOfNode(node);
    Q_EMIT dataChanged(index(0, 0, parentIndex),
        index(int(node->children.size()) - 1, columnCount() - 1, parentIndex));
    for (const auto &child : node->children) {
        if (child->isGroup)
            emitValuesChanged(child.get());
    }
}

void KvBrowserModel::refresh()
{
    if (!m_kv)
        return;
    QElapsedTimer cost;
    cost.start();
    m_rowCache.clear();
    syncChildren(m_root.get());
    emitValuesChanged(m_root.get());
    m_writtenKeys.clear();
    m_tooManyWrites = false;
    m_lastRefreshedRows = m_loadedRows;
    qCDebug(lcKvBrowser) << m_loadedRows << "loaded rows synced in" << cost.nsecsElapsed() / 1000
                         << "µs";
}

Status KvBrowserModel::writeEntry(const QString &key, const QByteArray &value, KvPutOptions options)
{
    if (!m_kv)
        return Error::error(tr("No scenario is loaded."));
    Status written = m_kv->writeEntry(key, value, std::move(options));
    if (written)
        refreshVisible();
    return written;
}

Status KvBrowserModel::deleteEntry(const QString &key)
{
    if (!m_kv)
        return Error::error(tr("No scenario is loaded."));
    Status deleted = m_kv->deleteEntry(key);
    if (deleted)
        refreshVisible();
    return deleted;
}

Result<qint64> KvBrowserModel::deleteByPrefix(const QString &prefix)
{
    if (!m_kv)
        return Error::error(tr("No scenario is loaded."));
    Result<qint64> deleted = m_kv->deleteByPrefix(prefix);
    refreshVisible();
    return deleted;
}

qint64 KvBrowserModel::countKeys(const QString &prefix) const
{
    if (!m_kv)
        return 0;
    qint64 count = 0;
    QByteArray startAfter;
    for (;;) {
        const std::vector<KvEntry> batch = m_kv->entries(prefix, startAfter, kScanBatch);
        if (batch.empty())
            return count;
        count += qint64(batch.size());
        startAfter = batch.back().key;
    }
}

void KvBrowserModel::onAdvanced()
{
    if (!m_kv)
        return;
    refreshVisible();
}

void KvBrowserModel::setVisibleRows(const QModelIndexList &rows)
{
    m_visibleRows.clear();
    m_visibleRows.reserve(size_t(rows.size()));
    for (const QModelIndex &row : rows) {
        if (row.isValid() && row.model() == this)
            m_visibleRows.emplace_back(row.siblingAtColumn(KeyColumn));
    }
}

void KvBrowserModel::refreshVisible()
{
    if (!m_kv)
        return;
    if (m_tooManyWrites) {
        qCDebug(lcKvBrowser) << "more than" << kMaxTrackedWrites
                             << "keys written since the last frame, refreshing every loaded row";
        refresh();
        return;
    }
    QElapsedTimer cost;
    cost.start();
    m_rowCache.clear();
    const std::set<QByteArray> written = std::exchange(m_writtenKeys, {});
    for (const QByteArray &key : written)
        applyWrittenKey(key);

    // The visible rows as runs under one parent, held as persistent indexes because rescanning
    // one run can insert or remove rows of another.
    std::vector<QModelIndex> visible;
    for (const QPersistentModelIndex &row : m_visibleRows) {
        if (row.isValid())
            visible.push_back(row);
    }
    if (m_visibleRows.empty()) {
        const int count = std::min(int(m_root->children.size()), kDefaultVisibleRows);
        for (int row = 0; row < count; ++row)
            visible.push_back(index(row, KeyColumn));
    }
    std::sort(visible.begin(), visible.end(), [this](const QModelIndex &a, const QModelIndex &b) {
        const Node *parentA = nodeOf(a)->parent;
        const Node *parentB = nodeOf(b)->parent;
        return parentA != parentB ? std::less<const Node *>()(parentA, parentB) : a.row() < b.row();
    });
    std::vector<std::pair<QPersistentModelIndex, QPersistentModelIndex>> runs;
    for (size_t i = 0; i < visible.size();) {
        size_t end = i + 1;
        while (end < visible.size() && visible[end].parent() == visible[i].parent())
            ++end;
        runs.emplace_back(visible[i], visible[end - 1]);
        i = end;
    }
    m_lastRefreshedRows = 0;
    for (const auto &[first, last] : runs) {
        if (first.isValid() && last.isValid())
            syncVisibleRange(nodeOf(first)->parent, size_t(first.row()), size_t(last.row()));
    }
    qCDebug(lcKvBrowser) << written.size() << "written keys applied and" << m_lastRefreshedRows
                         << "visible rows refreshed in" << cost.nsecsElapsed() / 1000 << "µs";
}

void KvBrowserModel::syncVisibleRange(Node *node, size_t first, size_t last)
{
    auto &rows = node->children;
    if (first >= rows.size())
        return;
    last = std::min(last, rows.size() - 1);
    const QByteArray start = first > 0
        ? cursorAfter({ rows[first - 1]->path, rows[first - 1]->isGroup })
        : QByteArray();
    const bool lastLoaded = last + 1 == rows.size();
    const QByteArray until = rows[last]->path;
    const int maxChildren = int(last - first + 1) + kMaxInsertedPerRescan;
    // Past the last loaded row of a complete parent, new children belong to this range too.
    const Scan scan = scanChildren(
        scanPrefix(node), start, maxChildren, lastLoaded && node->complete ? nullptr : &until);

    // When the scan stopped at maxChildren, only rows up to its last child are compared.
    size_t end = last + 1;
    if (!scan.complete && !scan.reachedUntil && !scan.children.empty()) {
        const QByteArray &scanned = scan.children.back().path;
        end = first;
        while (end <= last && rows[end]->path <= scanned)
            ++end;
    }
    const size_t before = rows.size();
    mergeChildren(node, first, end, scan.children);
    const size_t newLast = last + rows.size() - before;
    if (lastLoaded && node->complete && !scan.complete)
        node->complete = false;
    if (rows.empty() || newLast < first || newLast >= rows.size())
        return;
    const QModelIndex parentIndex = indexOfNode(node);
    Q_EMIT dataChanged(
        index(int(first), 0, parentIndex), index(int(newLast), columnCount() - 1, parentIndex));
    m_lastRefreshedRows += qint64(newLast - first + 1);
}

bool KvBrowserModel::isLiveChild(const Child &child) const
{
    if (child.isGroup)
        return !m_kv->entries(QString::fromUtf8(child.path), {}, 1).empty();
    return m_kv->centralEntry(QString::fromUtf8(child.path)).has_value();
}

void KvBrowserModel::applyWrittenKey(const QByteArray &key)
{
    if (!key.startsWith(m_root->path))
        return;
    Node *node = m_root.get();
    for (;;) {
        if (!node->fetched)
            return;
        auto &rows = node->children;
        const qsizetype split = m_treeMode && !m_delimiter.isEmpty()
            ? key.indexOf(m_delimiter, node->path.size())
            : -1;
        const Child child { split >= 0 ? key.left(split + m_delimiter.size()) : key, split >= 0 };
        // Beyond the loaded rows, the key is read when its page is fetched.
        if (!node->complete && (rows.empty() || child.path > rows.back()->path))
            return;
        const auto found = std::lower_bound(rows.begin(), rows.end(), child.path,
            [](const std::unique_ptr<Node> &row, const QByteArray &path) {
                return row->path < path;
            });
        const size_t at = size_t(found - rows.begin());
        const bool loaded = found != rows.end() && (*found)->path == child.path;
        const bool live = isLiveChild(child);
        if (loaded && !live) {
            mergeChildren(node, at, at + 1, {});
            return;
        }
        if (!loaded && live) {
            mergeChildren(node, at, at, { child });
            return;
        }
        if (!loaded || !child.isGroup)
            return;
        node = found->get();
    }
}

const KvBrowserModel::RowData &KvBrowserModel::rowData(const Node *node) const
{
    auto found = m_rowCache.find(node);
    if (found != m_rowCache.end())
        return *found;
    RowData data;
    const QString key = QString::fromUtf8(node->path);
    data.central = m_kv->centralEntry(key);
    const int locations = m_locations->count();
    data.views.reserve(size_t(locations));
    for (LocationId location = 0; location < locations; ++location)
        data.views.push_back(m_kv->view(location, key));
    return *m_rowCache.insert(node, std::move(data));
}

QVariant KvBrowserModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid) || !m_kv)
        return {};
    const Node *node = nodeOf(index);
    if (index.column() == KeyColumn)
        return keyData(node, role);
    if (node->isGroup)
        return {};
    const LocationId location = locationOfColumn(index.column());
    if (location >= 0)
        return locationData(node, location, role);
    return centralData(node, index.column(), role);
}

QVariant KvBrowserModel::keyData(const Node *node, int role) const
{
    const QString key = QString::fromUtf8(node->path);
    switch (role) {
    case Qt::DisplayRole: {
        if (!m_treeMode)
            return key;
        return QString::fromUtf8(node->path.mid(node->parent->path.size()));
    }
    case Qt::ToolTipRole: {
        if (node->isGroup)
            return tr("Keys that start with %1").arg(key);
        QStringList lines;
        lines << tr("%1 (%2 bytes of UTF-8)").arg(key).arg(node->path.size());
        const RowData &row = rowData(node);
        if (!row.central) {
            lines << tr("Not in the central store any more (deleted or expired).");
        } else {
            lines << formatExpirationCountdown(row.central->expiration, m_simulation->now());
            if (row.central->metadata)
                lines << tr("Metadata: %1").arg(QString::fromUtf8(*row.central->metadata));
        }
        return lines.join(QLatin1Char('\n'));
    }
    case RawValueRole:
    case ValueTitleRole:
        // Selecting a key shows its central value, which is what a person looks for; a group
        // row has no value and shows its prefix.
        if (!node->isGroup && rowData(node).central)
            return centralData(node, ValueColumn, role);
        if (role == RawValueRole)
            return node->path;
        return node->isGroup ? tr("Key prefix %1").arg(key) : tr("Key %1").arg(key);
    default:
        return {};
    }
}

QVariant KvBrowserModel::centralData(const Node *node, int column, int role) const
{
    const RowData &row = rowData(node);
    switch (role) {
    case Qt::DisplayRole:
        if (!row.central)
            return column == ValueColumn ? tr("(not found)") : QVariant();
        if (column == ValueColumn)
            return previewValue(row.central->value);
        return row.central->version;
    case Qt::TextAlignmentRole:
        return column == VersionColumn ? QVariant(Qt::AlignRight | Qt::AlignVCenter) : QVariant();
    case RawValueRole:
        return row.central ? QVariant(row.central->value) : QVariant();
    case ValueTitleRole:
        return row.central ? tr("%1: central value, version %2")
                                 .arg(QString::fromUtf8(node->path))
                                 .arg(row.central->version)
                           : tr("%1: not in the central store").arg(QString::fromUtf8(node->path));
    default:
        return {};
    }
}

QVariant KvBrowserModel::locationData(const Node *node, LocationId location, int role) const
{
    const RowData &row = rowData(node);
    const KvLocationView &view = row.views[size_t(location)];
    switch (role) {
    case Qt::DisplayRole:
        return view.value ? previewValue(*view.value) : tr("(not found)");
    case Qt::ToolTipRole:
        return locationToolTip(node, location);
    case StaleRole:
        return view.stale;
    case CachedRole:
        return view.cached;
    case HighlightRole:
        return QVariant::fromValue(view.stale ? Highlight::Warning : Highlight::None);
    case RawValueRole:
        return view.value ? QVariant(*view.value) : QVariant();
    case ValueTitleRole: {
        const QString readSource = !view.cached ? tr("not cached, read from the central store")
            : view.stale                        ? tr("cached, stale")
                                                : tr("cached");
        return tr("%1 as %2 reads it: version %3, %4")
            .arg(QString::fromUtf8(node->path), m_locations->name(location))
            .arg(view.version)
            .arg(readSource);
    }
    default:
        return {};
    }
}

QString KvBrowserModel::locationToolTip(const Node *node, LocationId location) const
{
    const RowData &row = rowData(node);
    const KvLocationView &view = row.views[size_t(location)];
    const QString name = m_locations->name(location);
    const qint64 centralVersion = row.central ? row.central->version : 0;
    if (!view.cached) {
        return row.central
            ? tr("Not cached at %1: a read there now fetches the central value (version %2).")
                  .arg(name)
                  .arg(centralVersion)
            : tr("Not cached at %1: a read there now finds no such key.").arg(name);
    }

    const QString cachedWhat = view.value
        ? tr("%1 has version %2 cached.").arg(name).arg(view.version)
        : tr("%1 has cached that the key does not exist.").arg(name);
    QString staleness;
    if (!view.stale)
        staleness = tr("It matches the central store.");
    else if (row.central)
        staleness = tr("Stale: the central store has version %1.").arg(centralVersion);
    else
        staleness = tr("Stale: the key is no longer in the central store.");
    const SimTime now = m_simulation->now();
    const QString refresh = tr("%1 sees the current central value from %2 (in %3), when its "
                               "cache entry lapses.")
                                .arg(name, formatRunOffset(view.refreshAt, m_simulation->start()),
                                    formatDuration(std::max<SimDuration>(view.refreshAt - now, 0)));
    return cachedWhat + QLatin1Char('\n') + staleness + QLatin1Char('\n') + refresh;
}

QVariant KvBrowserModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return QAbstractItemModel::headerData(section, orientation, role);
    const LocationId location = locationOfColumn(section);
    if (role == Qt::ToolTipRole && location >= 0)
        return tr("What a read at %1 would return now. Amber cells are stale.")
            .arg(m_locations->name(location));
    if (role != Qt::DisplayRole)
        return QAbstractItemModel::headerData(section, orientation, role);
    if (location >= 0)
        return m_locations->name(location);
    switch (section) {
    case KeyColumn:
        return tr("Key");
    case ValueColumn:
        return tr("Central value");
    case VersionColumn:
        return tr("Version");
    default:
        return {};
    }
}

} // namespace roomscope
