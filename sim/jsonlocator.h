#pragma once

#include <QByteArray>
#include <QJsonValue>
#include <QString>
#include <variant>

#include <vector>

namespace roomscope {

/// A step in a path to a JSON value: an object member name or an array index.
using JsonPathStep = std::variant<QString, int>;
using JsonPath = std::vector<JsonPathStep>;

/// Formats a path as people read it: rooms[1].clients[0].count
QString formatJsonPath(const JsonPath &path);

/// Names a JSON value for an error message: null, true, 42, "text", a list, an object.
QString describeJsonValue(const QJsonValue &value);

/// Finds where a value sits in JSON text, so that errors found after QJsonDocument parsed the
/// text (a wrong type, a missing field) can name a line and column. It only scans text that
/// already parsed; it is not a parser.
class JsonLocator
{
public:
    explicit JsonLocator(QByteArray text) : m_text(std::move(text)) { }

    /// The byte offset of the value at `path`, or of the deepest enclosing value that exists.
    qsizetype offsetOf(const JsonPath &path) const;
    /// The 1-based line and column (in characters) of a byte offset.
    std::pair<int, int> lineAndColumn(qsizetype offset) const;

private:
    qsizetype skipSpace(qsizetype at) const;
    qsizetype skipString(qsizetype at) const;
    qsizetype skipValue(qsizetype at) const;
    QString readString(qsizetype at) const;

    QByteArray m_text;
};

} // namespace roomscope
