#include "scripterrors.h"

#include "js/jsworker.h"

#include <QStringList>

namespace roomscope {

namespace {

/// The prefix of the file names of the runtime's own JavaScript (runtime.js, bindings.js).
const QLatin1String kRuntimeFilePrefix("roomscope:");
/// SpiderMonkey's prefix on a frame that resumed after an await.
const QLatin1String kAsyncFramePrefix("async*");

QString formatPosition(const QString &fileName, int line, int column)
{
    if (fileName.isEmpty())
        return {};
    if (column <= 0)
        return QStringLiteral("%1:%2").arg(fileName).arg(line);
    return QStringLiteral("%1:%2:%3").arg(fileName).arg(line).arg(column);
}

} // namespace

QString ScriptStackFrame::position() const
{
    return formatPosition(fileName, line, column);
}

QString ScriptStackFrame::toString() const
{
    QString name = function.isEmpty() ? QStringLiteral("(anonymous)") : function;
    if (async)
        name.prepend(QStringLiteral("async "));
    return QStringLiteral("%1 (%2)").arg(name, position());
}

std::vector<ScriptStackFrame> parseScriptStack(const QString &stack)
{
    std::vector<ScriptStackFrame> frames;
    for (const QString &text : stack.split(QLatin1Char('\n'), Qt::SkipEmptyParts)) {
        // "function@file:line:column". A function name has no '@', a file name may.
        const qsizetype at = text.indexOf(QLatin1Char('@'));
        if (at < 0)
            continue;
        const QStringList parts = text.mid(at + 1).split(QLatin1Char(':'));
        if (parts.size() < 3)
            continue;
        ScriptStackFrame frame;
        frame.function = text.left(at);
        if (frame.function.startsWith(kAsyncFramePrefix)) {
            frame.function.remove(0, kAsyncFramePrefix.size());
            frame.async = true;
        }
        frame.fileName = parts.mid(0, parts.size() - 2).join(QLatin1Char(':'));
        bool lineOk = false;
        bool columnOk = false;
        frame.line = parts.at(parts.size() - 2).toInt(&lineOk);
        frame.column = parts.at(parts.size() - 1).toInt(&columnOk);
        if (!lineOk || !columnOk || frame.fileName.startsWith(kRuntimeFilePrefix))
            continue;
        frames.push_back(frame);
    }
    return frames;
}

QString sourceLineText(const QByteArray &source, int line)
{
    if (line < 1)
        return {};
    qsizetype start = 0;
    for (int current = 1; current < line; ++current) {
        start = source.indexOf('\n', start);
        if (start < 0)
            return {};
        ++start;
    }
    qsizetype end = source.indexOf('\n', start);
    if (end < 0)
        end = source.size();
    if (end > start && source.at(end - 1) == '\r')
        --end;
    return QString::fromUtf8(source.mid(start, end - start));
}

QString ScriptErrorGroup::position() const
{
    return formatPosition(fileName, line, column);
}

QString ScriptErrorGroup::actorsText() const
{
    if (actorCount <= 1)
        return firstActor;
    if (actorCount == 2)
        return QStringLiteral("%1 and 1 other").arg(firstActor);
    return QStringLiteral("%1 and %2 others").arg(firstActor).arg(actorCount - 1);
}

void ScriptErrorLog::add(SimTime time, const JsScriptError &error)
{
    ++m_occurrences;
    std::vector<ScriptStackFrame> frames = parseScriptStack(error.stack);
    QString fileName = error.fileName;
    int line = error.line;
    int column = error.column;
    // An error that the runtime raised after the handler returned has no position of its own;
    // its only frame is the handler's definition.
    if (fileName.isEmpty() && !frames.empty()) {
        fileName = frames.front().fileName;
        line = frames.front().line;
        column = frames.front().column;
    }
    const QString key = QStringList { error.where, fileName, QString::number(line),
                                      QString::number(column), error.text }
                                .join(QChar(0));
    const auto [found, inserted] = m_groupByKey.try_emplace(key, m_groups.size());
    if (inserted) {
        ScriptErrorGroup group;
        group.where = error.where;
        group.text = error.text;
        group.fileName = fileName;
        group.line = line;
        group.column = column;
        group.frames = std::move(frames);
        group.firstActor = error.actor;
        group.firstTime = time;
        m_groups.push_back(std::move(group));
        m_actors.emplace_back();
    }
    ScriptErrorGroup &group = m_groups[found->second];
    std::set<QString> &actors = m_actors[found->second];
    actors.insert(error.actor);
    group.actorCount = int(actors.size());
    group.lastActor = error.actor;
    group.lastTime = time;
    ++group.count;
}

} // namespace roomscope
