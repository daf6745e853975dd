#include "jsonlocator.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace roomscope {

QString formatJsonPath(const JsonPath &path)
{
    QString text;
    for (const JsonPathStep &step : path) {
        if (const QString *name = std::get_if<QString>(&step)) {
            if (!text.isEmpty())
                text += QLatin1Char('.');
            text += *name;
        } else {
            text += QStringLiteral("[%1]").arg(std::get<int>(step));
        }
    }
    return text.isEmpty() ? QStringLiteral("(top level)") : text;
}

qsizetype JsonLocator::skipSpace(qsizetype at) const
{
    while (at < m_text.size()
           && (m_text[at] == ' ' || m_text[at] == '\n' || m_text[at] == '\r' || m_text[at] == '\t'))
        ++at;
    return at;
}

qsizetype JsonLocator::skipString(qsizetype at) const
{
    ++at; // the opening quote
    while (at < m_text.size() && m_text[at] != '"')
        at += m_text[at] == '\\' ? 2 : 1;
    return at + 1;
}

qsizetype JsonLocator::skipValue(qsizetype at) const
{
    at = skipSpace(at);
    if (at >= m_text.size())
        return at;
    if (m_text[at] == '"')
        return skipString(at);
    if (m_text[at] == '{' || m_text[at] == '[') {
        int depth = 0;
        while (at < m_text.size()) {
            const char c = m_text[at];
            if (c == '"') {
                at = skipString(at);
                continue;
            }
            if (c == '{' || c == '[')
                ++depth;
            else if ((c == '}' || c == ']') && --depth == 0)
                return at + 1;
            ++at;
        }
        return at;
    }
    while (at < m_text.size() && m_text[at] != ',' && m_text[at] != '}' && m_text[at] != ']'
           && m_text[at] != ' ' && m_text[at] != '\n' && m_text[at] != '\r' && m_text[at] != '\t')
        ++at;
    return at;
}

QString JsonLocator::readString(qsizetype at) const
{
    const QByteArray raw = m_text.mid(at, skipString(at) - at);
    // Let QJsonDocument decode the escapes of the one string.
    const QJsonDocument wrapped = QJsonDocument::fromJson('[' + raw + ']');
    return wrapped.array().at(0).toString();
}

qsizetype JsonLocator::offsetOf(const JsonPath &path) const
{
    qsizetype at = skipSpace(0);
    for (const JsonPathStep &step : path) {
        if (at >= m_text.size())
            return at;
        const char open = m_text[at];
        qsizetype cursor = skipSpace(at + 1);
        bool found = false;
        if (const QString *name = std::get_if<QString>(&step); name && open == '{') {
            while (cursor < m_text.size() && m_text[cursor] == '"') {
                const QString key = readString(cursor);
                cursor = skipSpace(skipString(cursor));
                cursor = skipSpace(cursor + 1); // the colon
                if (key == *name) {
                    at = cursor;
                    found = true;
                    break;
                }
                cursor = skipSpace(skipValue(cursor));
                if (cursor < m_text.size() && m_text[cursor] == ',')
                    cursor = skipSpace(cursor + 1);
            }
        } else if (const int *index = std::get_if<int>(&step); index && open == '[') {
            for (int i = 0; cursor < m_text.size() && m_text[cursor] != ']'; ++i) {
                if (i == *index) {
                    at = cursor;
                    found = true;
                    break;
                }
                cursor = skipSpace(skipValue(cursor));
                if (cursor < m_text.size() && m_text[cursor] == ',')
                    cursor = skipSpace(cursor + 1);
            }
        }
        if (!found)
            return at;
    }
    return at;
}

std::pair<int, int> JsonLocator::lineAndColumn(qsizetype offset) const
{
    int line = 1;
    int column = 1;
    for (qsizetype i = 0; i < offset && i < m_text.size(); ++i) {
        const auto byte = quint8(m_text[i]);
        if (byte == '\n') {
            ++line;
            column = 1;
        } else if ((byte & 0xC0) != 0x80) { // count characters, not UTF-8 continuation bytes
            ++column;
        }
    }
    return { line, column };
}

QString describeJsonValue(const QJsonValue &value)
{
    switch (value.type()) {
    case QJsonValue::Null:
        return QStringLiteral("null");
    case QJsonValue::Bool:
        return value.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    case QJsonValue::Double:
        return QString::number(value.toDouble(), 'g', 15);
    case QJsonValue::String:
        return QStringLiteral("\"%1\"").arg(value.toString());
    case QJsonValue::Array:
        return QStringLiteral("a list");
    case QJsonValue::Object:
        return QStringLiteral("an object");
    case QJsonValue::Undefined:
        break;
    }
    return QStringLiteral("nothing");
}

} // namespace roomscope
