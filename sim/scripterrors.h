#pragma once

#include "simtime.h"

#include <QByteArray>
#include <QString>

#include <map>
#include <set>
#include <vector>

namespace roomscope {

struct JsScriptError;

/// One frame of a JavaScript stack, as SpiderMonkey writes it: "fetch@worker.mjs:7:23".
struct ScriptStackFrame
{
    QString function; ///< empty for anonymous functions and module top-level code
    QString fileName; ///< the module path relative to the entry module's folder
    int line = 0; ///< 1-based
    int column = 0; ///< 1-based; 0 when unknown
    /// True for a frame that resumed after an `await` (SpiderMonkey's "async*" prefix).
    bool async = false;

    /// "worker.mjs:7:23", or "worker.mjs:7" when the column is unknown.
    QString position() const;
    /// "fetch (worker.mjs:7:23)", "async fetch (...)" or "(anonymous) (...)".
    QString toString() const;
    bool operator==(const ScriptStackFrame &other) const = default;
};

/// Parses SpiderMonkey's `stack` text, outermost frame last. Frames of the runtime's own
/// "roomscope:" files and lines that name no position are dropped.
std::vector<ScriptStackFrame> parseScriptStack(const QString &stack);

/// Returns line `line` (1-based) of `source` without its line break, or an empty string when the
/// source has fewer lines.
QString sourceLineText(const QByteArray &source, int line);

/// The uncaught errors of a Worker script that share a handler, a source position and a text.
struct ScriptErrorGroup
{
    QString where; ///< the handler: "fetch", "Room.fetch", "Room constructor"
    QString text; ///< "TypeError: message"
    QString fileName; ///< empty when the error has no source position
    int line = 0;
    int column = 0; ///< 0 when unknown
    std::vector<ScriptStackFrame> frames; ///< the stack of the first occurrence
    QString firstActor; ///< "worker" or "room lobby"
    QString lastActor;
    int actorCount = 0; ///< distinct actors the error happened in
    quint64 count = 0;
    SimTime firstTime = 0;
    SimTime lastTime = 0;

    /// "worker.mjs:7:23", "worker.mjs:7" without a column, or empty without a position.
    QString position() const;
    /// "room lobby", or "room lobby and 2 others" when it happened in more than one actor.
    QString actorsText() const;
    bool operator==(const ScriptErrorGroup &other) const = default;
};

/// A run's uncaught script errors grouped by handler, source position and text, so that an error
/// repeated a thousand times is one group with a count. Groups stay in order of first occurrence.
class ScriptErrorLog
{
public:
    /// Adds one occurrence at virtual time `time` to its group, creating the group first.
    void add(SimTime time, const JsScriptError &error);

    const std::vector<ScriptErrorGroup> &groups() const { return m_groups; }
    /// The number of errors added, repeats included.
    quint64 occurrenceCount() const { return m_occurrences; }

private:
    std::vector<ScriptErrorGroup> m_groups;
    std::vector<std::set<QString>> m_actors; ///< per group, for ScriptErrorGroup::actorCount
    std::map<QString, size_t> m_groupByKey;
    quint64 m_occurrences = 0;
};

} // namespace roomscope
