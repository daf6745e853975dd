#include "scripterrorsmodel.h"

#include "modelroles.h"
#include "trace.h"

#include <QLocale>

namespace roomscope {

ScriptErrorsModel::ScriptErrorsModel(SimulationController *controller, QObject *parent)
    : WorldTableModel(controller, parent)
{
    attachToController();
}

int ScriptErrorsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int ScriptErrorsModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant ScriptErrorsModel::displayData(const ScriptErrorGroup &group, int column) const
{
    switch (Column(column)) {
    case FirstColumn:
        return formatOffset(group.firstTime, m_start);
    case LastColumn:
        return formatOffset(group.lastTime, m_start);
    case CountColumn:
        return QLocale().toString(group.count);
    case WhereColumn:
        return tr("%1 in %2").arg(group.where, group.actorsText());
    case SourceColumn:
        return group.position();
    case ErrorColumn:
        return group.text;
    case ColumnCount:
        break;
    }
    return {};
}

QString ScriptErrorsModel::toolTip(const ScriptErrorGroup &group) const
{
    QStringList lines { group.text };
    for (const ScriptStackFrame &frame : group.frames)
        lines << tr("  at %1").arg(frame.toString());
    lines << (group.count == 1
                    ? tr("Once, at %1 s, in %2").arg(formatOffset(group.firstTime, m_start), group.firstActor)
                    : tr("%1 times from %2 s to %3 s, last in %4")
                              .arg(QLocale().toString(group.count),
                                   formatOffset(group.firstTime, m_start),
                                   formatOffset(group.lastTime, m_start), group.lastActor));
    return lines.join(QLatin1Char('\n'));
}

QVariant ScriptErrorsModel::data(const QModelIndex &index, int role) const
{
    if (!hasIndex(index.row(), index.column(), index.parent()))
        return {};
    const ScriptErrorGroup &group = m_rows[size_t(index.row())].group;
    switch (role) {
    case Qt::DisplayRole:
        return displayData(group, index.column());
    case SortRole:
        switch (Column(index.column())) {
        case FirstColumn:
            return QVariant(group.firstTime);
        case LastColumn:
            return QVariant(group.lastTime);
        case CountColumn:
            return QVariant(group.count);
        default:
            return displayData(group, index.column());
        }
    case Qt::ToolTipRole:
        return toolTip(group);
    case RawValueRole:
        return toolTip(group).toUtf8();
    case ValueTitleRole:
        return tr("Script error in %1").arg(group.where);
    case HighlightRole:
        return QVariant::fromValue(Highlight::Error);
    case Qt::TextAlignmentRole:
        return index.column() <= CountColumn ? QVariant(Qt::AlignRight | Qt::AlignVCenter)
                                             : QVariant();
    default:
        return {};
    }
}

QVariant ScriptErrorsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (Column(section)) {
    case FirstColumn:
        return tr("First (s)");
    case LastColumn:
        return tr("Last (s)");
    case CountColumn:
        return tr("Count");
    case WhereColumn:
        return tr("Where");
    case SourceColumn:
        return tr("Source");
    case ErrorColumn:
        return tr("Error");
    case ColumnCount:
        break;
    }
    return {};
}

int ScriptErrorsModel::rowForEvent(const TraceEvent &event) const
{
    if (event.kind != TraceKind::ScriptError)
        return -1;
    // The event's value is the error's text, followed by " (file:line:column)" when it has a
    // position. Numbers 0 and 1 are the line and column, or 0 without a position.
    const QString value = QString::fromUtf8(event.value);
    int sameText = -1;
    for (int row = 0; row < int(m_rows.size()); ++row) {
        const ScriptErrorGroup &group = m_rows[size_t(row)].group;
        if (group.where != event.subject
            || !(value == group.text || value.startsWith(group.text + QStringLiteral(" ("))))
            continue;
        if (group.line == event.numbers[0] && group.column == event.numbers[1])
            return row;
        if (sameText < 0)
            sameText = row;
    }
    return sameText;
}

void ScriptErrorsModel::setOccurrences(quint64 count)
{
    if (count == m_occurrences)
        return;
    m_occurrences = count;
    Q_EMIT occurrenceCountChanged(count);
}

void ScriptErrorsModel::clearRows()
{
    m_rows.clear();
    setOccurrences(0);
}

void ScriptErrorsModel::loadRows(World &world)
{
    m_start = world.simulation().start();
    const std::vector<ScriptErrorGroup> &groups = world.scriptErrors().groups();
    for (int i = 0; i < int(groups.size()); ++i)
        m_rows.push_back({ i, groups[size_t(i)] });
    setOccurrences(world.scriptErrors().occurrenceCount());
}

void ScriptErrorsModel::updateRows(World &world)
{
    const ScriptErrorLog &log = world.scriptErrors();
    if (log.occurrenceCount() == m_occurrences)
        return;
    std::vector<Row> next;
    next.reserve(log.groups().size());
    for (int i = 0; i < int(log.groups().size()); ++i)
        next.push_back({ i, log.groups()[size_t(i)] });
    syncRows(m_rows, std::move(next), [](const Row &row) { return row.number; });
    setOccurrences(log.occurrenceCount());
}

} // namespace roomscope
