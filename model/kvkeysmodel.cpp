#include "kvkeysmodel.h"

#include "modelroles.h"
#include "valuetext.h"

#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcKvModel, "roomscope.model.kv", QtWarningMsg)

namespace roomscope {

namespace {

/// Up to this many keys the model is brought up to date every frame. Above it, refreshes are
/// spaced so that they take at most a tenth of the wall time.
constexpr size_t kAlwaysRefreshedKeys = 200;
constexpr int kRefreshCostFactor = 10;

bool sameView(const KvLocationView &a, const KvLocationView &b)
{
    return a.cached == b.cached && a.value == b.value && a.version == b.version
        && a.stale == b.stale && a.refreshAt == b.refreshAt;
}

} // namespace

bool KvKeysModel::Row::operator==(const Row &other) const
{
    if (key != other.key || !(central == other.central) || views.size() != other.views.size())
        return false;
    for (size_t i = 0; i < views.size(); ++i) {
        if (!sameView(views[i], other.views[i]))
            return false;
    }
    return true;
}

KvKeysModel::KvKeysModel(SimulationController *controller, QObject *parent)
    : WorldTableModel(controller, parent)
{
    attachToController();
}

int KvKeysModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int KvKeysModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : FixedColumnCount + int(m_locationNames.size());
}

LocationId KvKeysModel::locationOfColumn(int column) const
{
    return column >= FixedColumnCount && column < columnCount() ? column - FixedColumnCount : -1;
}

QVariant KvKeysModel::data(const QModelIndex &index, int role) const
{
    if (!hasIndex(index.row(), index.column(), index.parent()))
        return {};
    const Row &row = m_rows[size_t(index.row())];
    const LocationId location = locationOfColumn(index.column());
    if (location >= 0)
        return locationData(row, location, role);

    switch (role) {
    case Qt::DisplayRole:
        return displayData(row, index.column());
    case SortRole:
        return index.column() == VersionColumn ? QVariant(row.central.version)
                                               : displayData(row, index.column());
    case Qt::ToolTipRole:
        return index.column() == KeyColumn ? keyToolTip(row) : QVariant();
    case RawValueRole:
        return index.column() == KeyColumn ? row.central.key : row.central.value;
    case ValueTitleRole:
        return index.column() == KeyColumn
            ? tr("Key %1").arg(row.key)
            : tr("%1: central value, version %2").arg(row.key).arg(row.central.version);
    case Qt::TextAlignmentRole:
        return index.column() == VersionColumn ? QVariant(Qt::AlignRight | Qt::AlignVCenter)
                                               : QVariant();
    default:
        return {};
    }
}

QVariant KvKeysModel::displayData(const Row &row, int column) const
{
    switch (column) {
    case KeyColumn:
        return row.key;
    case ValueColumn:
        return previewValue(row.central.value);
    case VersionColumn:
        return row.central.version;
    default:
        return {};
    }
}

QVariant KvKeysModel::locationData(const Row &row, LocationId location, int role) const
{
    const KvLocationView &view = row.views[size_t(location)];
    switch (role) {
    case Qt::DisplayRole:
        return view.value ? previewValue(*view.value) : tr("(not found)");
    case SortRole:
        return view.version;
    case Qt::ToolTipRole:
        return locationToolTip(row, location);
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
            .arg(row.key, m_locationNames.at(location))
            .arg(view.version)
            .arg(readSource);
    }
    default:
        return {};
    }
}

QString KvKeysModel::keyToolTip(const Row &row) const
{
    QStringList lines;
    lines << tr("%1 (%2 bytes of UTF-8)").arg(row.key).arg(row.central.key.size());
    if (row.central.expiration)
        lines << tr("Expires at %1")
                     .arg(formatClock(*row.central.expiration * kMicrosecondsPerSecond));
    if (row.central.metadata)
        lines << tr("Metadata: %1").arg(QString::fromUtf8(*row.central.metadata));
    return lines.join(QLatin1Char('\n'));
}

QString KvKeysModel::locationToolTip(const Row &row, LocationId location) const
{
    const KvLocationView &view = row.views[size_t(location)];
    const QString name = m_locationNames.at(location);
    if (!view.cached)
        return tr("Not cached at %1: a read there now fetches the central value (version %2).")
            .arg(name)
            .arg(row.central.version);

    const QString cachedWhat = view.value
        ? tr("%1 has version %2 cached.").arg(name).arg(view.version)
        : tr("%1 has cached that the key does not exist.").arg(name);
    const QString staleness = view.stale
        ? tr("Stale: the central store has version %1.").arg(row.central.version)
        : tr("It matches the central store.");
    const QString refresh
        = tr("%1 fetches the central value again at %2 (in %3).")
              .arg(name, formatRunOffset(view.refreshAt, m_start),
                  formatDuration(std::max<SimDuration>(view.refreshAt - m_now, 0)));
    return cachedWhat + QLatin1Char('\n') + staleness + QLatin1Char('\n') + refresh;
}

QVariant KvKeysModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return QAbstractTableModel::headerData(section, orientation, role);
    const LocationId location = locationOfColumn(section);
    if (role == Qt::ToolTipRole && location >= 0)
        return tr("What a read at %1 would return now. Amber cells are stale.")
            .arg(m_locationNames.at(location));
    if (role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    if (location >= 0)
        return m_locationNames.at(location);
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

void KvKeysModel::setPrefix(const QString &prefix)
{
    if (prefix == m_prefix)
        return;
    m_prefix = prefix;
    refresh();
}

void KvKeysModel::refresh()
{
    if (World *current = world()) {
        m_lastRefreshCostNs = 0;
        updateRows(*current);
    }
}

std::vector<KvKeysModel::Row> KvKeysModel::snapshot(const World &world, bool *truncated) const
{
    const KvNamespace &kv = world.kv();
    std::vector<KvEntry> entries = kv.entries(m_prefix, {}, kMaxKeys + 1);
    *truncated = entries.size() > size_t(kMaxKeys);
    if (*truncated)
        entries.resize(size_t(kMaxKeys));

    std::vector<Row> rows;
    rows.reserve(entries.size());
    const int locations = world.locations().count();
    for (KvEntry &entry : entries) {
        Row row;
        row.key = QString::fromUtf8(entry.key);
        row.views.reserve(size_t(locations));
        for (LocationId location = 0; location < locations; ++location) {
            KvLocationView view = kv.view(location, row.key);
            // An uncached cell's refreshAt is always "now". Keep it fixed, so that the row does
            // not count as changed every frame.
            if (!view.cached)
                view.refreshAt = 0;
            row.views.push_back(std::move(view));
        }
        row.central = std::move(entry);
        rows.push_back(std::move(row));
    }
    return rows;
}

void KvKeysModel::clearRows()
{
    m_rows.clear();
    m_locationNames.clear();
    m_truncated = false;
}

void KvKeysModel::loadRows(World &world)
{
    m_locationNames = world.locations().names();
    m_start = world.simulation().start();
    m_now = world.simulation().now();
    m_rows = snapshot(world, &m_truncated);
    m_sinceRefresh.start();
}

void KvKeysModel::updateRows(World &world)
{
    m_now = world.simulation().now();
    if (m_rows.size() > kAlwaysRefreshedKeys && m_sinceRefresh.isValid()
        && m_sinceRefresh.nsecsElapsed() < m_lastRefreshCostNs * kRefreshCostFactor)
        return;
    QElapsedTimer cost;
    cost.start();
    bool truncated = false;
    syncRows(m_rows, snapshot(world, &truncated), [](const Row &row) { return row.key; });
    m_truncated = truncated;
    m_lastRefreshCostNs = cost.nsecsElapsed();
    m_sinceRefresh.start();
    qCDebug(lcKvModel) << m_rows.size() << "keys refreshed in" << m_lastRefreshCostNs / 1000
                       << "µs";
}

} // namespace roomscope
