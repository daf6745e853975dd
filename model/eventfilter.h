#pragma once

#include "trace.h"

#include <QString>

#include <vector>

namespace roomscope {

/// A parsed event log filter. Terms are separated by spaces and must all match:
///
/// - free text matches any column of the row, without regard to case;
/// - `kind:kv.put` matches one kind; `kind:kv` matches every kind in the kv family;
/// - `actor:lobby` matches actors that contain the text, without regard to case;
/// - `room:lobby` matches events of that room: its object's, its clients' and requests to it;
/// - `location:LHR` (or `loc:LHR`) matches the location exactly, without regard to case;
/// - `key:announcement` matches KV and write events on that exact key;
/// - `!` before a term negates it, and double quotes keep spaces in a value: actor:"workload x".
///
/// A word before a colon that is not one of these field names is free text, so `lobby:state`
/// searches for a key name.
class EventFilter
{
public:
    enum class State { Empty, Valid, Invalid };

    static EventFilter parse(const QString &text);

    State state() const { return m_state; }
    bool isEmpty() const { return m_state == State::Empty; }
    bool isValid() const { return m_state != State::Invalid; }
    /// The parse error, naming the term and the fix; empty unless Invalid.
    const QString &errorMessage() const { return m_error; }
    const QString &text() const { return m_text; }

    /// True when every term matches; an empty or invalid filter matches every event.
    /// `start` is the run's start, for matching the Time column's text.
    bool matches(const TraceEvent &event, SimTime start) const;

private:
    enum class Field { Text, Kind, Actor, Room, Location, Key };
    struct Term
    {
        Field field = Field::Text;
        QString value;
        bool negated = false;
        std::vector<TraceKind> kinds; ///< for Field::Kind
    };

    bool parseTerm(const QString &token, bool negated);
    static bool termMatches(const Term &term, const TraceEvent &event, SimTime start);

    State m_state = State::Empty;
    QString m_text;
    QString m_error;
    std::vector<Term> m_terms;
};

} // namespace roomscope
