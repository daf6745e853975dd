#include "eventfilter.h"

#include "eventlogmodel.h"

#include <QCoreApplication>
#include <QStringList>

namespace roomscope {

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("roomscope::EventFilter", text);
}

QString kindNames()
{
    QStringList names;
    for (int i = 0; i < int(TraceKind::Count); ++i)
        names << QLatin1String(traceKindInfo(TraceKind(i)).name);
    return names.join(QStringLiteral(", "));
}

/// The field name before the first colon of a token, when no quote comes before that colon.
QString fieldName(const QString &token)
{
    const qsizetype colon = token.indexOf(QLatin1Char(':'));
    const qsizetype quote = token.indexOf(QLatin1Char('"'));
    if (colon <= 0 || (quote >= 0 && quote < colon))
        return {};
    return token.left(colon).toLower();
}

} // namespace

EventFilter EventFilter::parse(const QString &text)
{
    EventFilter filter;
    filter.m_text = text;
    qsizetype i = 0;
    const qsizetype size = text.size();
    while (i < size) {
        if (text.at(i).isSpace()) {
            ++i;
            continue;
        }
        const qsizetype tokenStart = i;
        bool negated = false;
        if (text.at(i) == QLatin1Char('!')) {
            negated = true;
            ++i;
        }
        QString token;
        bool quoted = false;
        qsizetype quoteStart = -1;
        for (; i < size && (quoted || !text.at(i).isSpace()); ++i) {
            if (text.at(i) == QLatin1Char('"')) {
                quoted = !quoted;
                quoteStart = i;
            }
            token += text.at(i);
        }
        if (quoted) {
            filter.m_state = State::Invalid;
            filter.m_error
                = tr("The quote at column %1 is not closed: add a closing \".").arg(quoteStart + 1);
            return filter;
        }
        if (negated && token.isEmpty()) {
            filter.m_state = State::Invalid;
            filter.m_error = tr("The ! at column %1 negates nothing: write a term after it, as "
                                "in !kind:ws.deliver.")
                                 .arg(tokenStart + 1);
            return filter;
        }
        if (!filter.parseTerm(token, negated))
            return filter;
    }
    if (filter.m_state != State::Invalid)
        filter.m_state = filter.m_terms.empty() ? State::Empty : State::Valid;
    return filter;
}

bool EventFilter::parseTerm(const QString &token, bool negated)
{
    static const QList<QPair<QString, Field>> fields = {
        { QStringLiteral("kind"), Field::Kind },
        { QStringLiteral("actor"), Field::Actor },
        { QStringLiteral("room"), Field::Room },
        { QStringLiteral("location"), Field::Location },
        { QStringLiteral("loc"), Field::Location },
        { QStringLiteral("key"), Field::Key },
    };
    Term term;
    term.negated = negated;
    const QString name = fieldName(token);
    for (const auto &[fieldText, field] : fields) {
        if (name == fieldText)
            term.field = field;
    }
    QString value = term.field == Field::Text ? token : token.mid(name.size() + 1);
    value.remove(QLatin1Char('"'));
    if (term.field == Field::Text && value.isEmpty())
        return true;
    if (value.isEmpty()) {
        m_state = State::Invalid;
        m_error = tr("%1: needs a value, as in kind:kv.put, actor:lobby or room:lobby.").arg(name);
        return false;
    }
    term.value = value;

    if (term.field == Field::Kind) {
        const TraceKind exact = traceKindFromName(value);
        if (exact != TraceKind::Count) {
            term.kinds.push_back(exact);
        } else {
            const QString family = value + QLatin1Char('.');
            for (int i = 0; i < int(TraceKind::Count); ++i) {
                if (QLatin1String(traceKindInfo(TraceKind(i)).name).startsWith(family))
                    term.kinds.push_back(TraceKind(i));
            }
        }
        if (term.kinds.empty()) {
            m_state = State::Invalid;
            m_error = tr("Unknown event kind \"%1\". Kinds are %2, or a family such as kind:kv.")
                          .arg(value, kindNames());
            return false;
        }
    }
    m_terms.push_back(std::move(term));
    return true;
}

bool EventFilter::matches(const TraceEvent &event, SimTime start) const
{
    if (m_state != State::Valid)
        return true;
    for (const Term &term : m_terms) {
        if (termMatches(term, event, start) == term.negated)
            return false;
    }
    return true;
}

bool EventFilter::termMatches(const Term &term, const TraceEvent &event, SimTime start)
{
    const TraceKindInfo &info = traceKindInfo(event.kind);
    switch (term.field) {
    case Field::Kind:
        return std::find(term.kinds.begin(), term.kinds.end(), event.kind) != term.kinds.end();
    case Field::Actor:
        return event.actor.contains(term.value, Qt::CaseInsensitive);
    case Field::Location:
        return event.location.compare(term.value, Qt::CaseInsensitive) == 0;
    case Field::Key:
        return info.subject && qstrcmp(info.subject, "key") == 0 && event.subject == term.value;
    case Field::Room:
        if (event.actor == QStringLiteral("room ") + term.value)
            return true;
        if (event.actor.startsWith(term.value + QLatin1Char('/')))
            return true;
        return info.subject && qstrcmp(info.subject, "room") == 0 && event.subject == term.value;
    case Field::Text:
        for (int column = 0; column < EventLogModel::ColumnCount; ++column) {
            if (EventLogModel::columnText(event, column, start)
                    .contains(term.value, Qt::CaseInsensitive))
                return true;
        }
        return false;
    }
    return false;
}

} // namespace roomscope
