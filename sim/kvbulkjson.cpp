#include "kvbulkjson.h"

#include "jsonlocator.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QStringDecoder>
#include <QTimeZone>

#include <algorithm>
#include <cmath>

namespace roomscope {

namespace {

// Matches KvNamespace::put(): expirations beyond any real date are kept as the latest instant
// that virtual time can represent.
constexpr double kLatestExpirationSeconds = 9.0e12;

// A JSON value as compact text. QJsonDocument holds only arrays and objects, so a scalar is
// written inside an array whose brackets are then removed.
QByteArray compactJson(const QJsonValue &value)
{
    const QByteArray wrapped = QJsonDocument(QJsonArray { value }).toJson(QJsonDocument::Compact);
    return wrapped.mid(1, wrapped.size() - 2);
}

// A JSON string literal. A leading U+FEFF is written as \ufeff because QJsonDocument::fromJson()
// (Qt 6.4) drops it when it is written as raw UTF-8 at the start of a string.
QByteArray jsonString(const QString &text)
{
    QByteArray literal = compactJson(text);
    if (text.startsWith(QChar(0xFEFF)))
        literal.replace(1, 3, "\\ufeff");
    return literal;
}

// Parses JSON text that may be a scalar; an undefined value when the text is not JSON.
QJsonValue parseJsonValue(const QByteArray &text)
{
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson('[' + text + ']', &error);
    if (error.error != QJsonParseError::NoError || document.array().size() != 1)
        return QJsonValue(QJsonValue::Undefined);
    return document.array().at(0);
}

// Decodes UTF-8, keeping a leading byte order mark as U+FEFF where QString::fromUtf8() drops
// it; nothing when the bytes are not valid UTF-8.
std::optional<QString> decodeUtf8(const QByteArray &bytes)
{
    // Stateless makes a sequence cut off at the end an error instead of input kept for later.
    QStringDecoder decoder(QStringDecoder::Utf8,
        QStringDecoder::Flag::ConvertInitialBom | QStringDecoder::Flag::Stateless);
    QString text = decoder.decode(bytes);
    if (decoder.hasError())
        return std::nullopt;
    return text;
}

Result<double> parseExpiration(const QJsonValue &value)
{
    if (value.isDouble())
        return value.toDouble();
    if (value.isString()) {
        QDateTime date = QDateTime::fromString(value.toString(), Qt::ISODateWithMs);
        if (date.isValid()) {
            if (date.timeSpec() == Qt::LocalTime)
                date.setTimeZone(QTimeZone::utc());
            return double(date.toSecsSinceEpoch());
        }
    }
    return Error::error(QStringLiteral("\"expiration\" %1 is not a number of epoch seconds or an "
                                       "ISO 8601 date such as \"2027-01-01T00:00:00Z\"")
                            .arg(QString::fromUtf8(compactJson(value))));
}

// One entry, validated with the binding's rules. The error has no "entry N" prefix.
Result<KvEntry> parseEntry(const QJsonObject &object, qint64 nowSeconds, qsizetype maxValueBytes)
{
    const QJsonValue keyValue = object.value(QLatin1String("key"));
    if (!keyValue.isString())
        return Error::error(QStringLiteral("\"key\" is missing or is not a string"));
    const QString key = keyValue.toString();
    if (Status valid = kv::validateKey(key, kv::Operation::Put); !valid)
        return valid.error();

    const QJsonValue valueValue = object.value(QLatin1String("value"));
    if (!valueValue.isString())
        return Error::error(QStringLiteral("\"value\" is missing or is not a string"));
    const QJsonValue base64 = object.value(QLatin1String("base64"));
    if (!base64.isUndefined() && !base64.isBool())
        return Error::error(QStringLiteral("\"base64\" is not true or false"));
    QByteArray value = valueValue.toString().toUtf8();
    if (base64.toBool()) {
        QByteArray::FromBase64Result decoded = QByteArray::fromBase64Encoding(
            value, QByteArray::Base64Encoding | QByteArray::AbortOnBase64DecodingErrors);
        if (!decoded)
            return Error::error(
                QStringLiteral("\"value\" is not valid base64, but \"base64\" is true"));
        value = std::move(decoded.decoded);
    }

    std::optional<double> expiration;
    const QJsonValue expirationValue = object.value(QLatin1String("expiration"));
    if (!expirationValue.isUndefined()) {
        Result<double> parsed = parseExpiration(expirationValue);
        if (!parsed)
            return parsed.error();
        expiration = *parsed;
    }
    std::optional<double> expirationTtl;
    const QJsonValue ttlValue = object.value(QLatin1String("expiration_ttl"));
    if (!ttlValue.isUndefined()) {
        if (!ttlValue.isDouble())
            return Error::error(QStringLiteral("\"expiration_ttl\" is not a number of seconds"));
        expirationTtl = ttlValue.toDouble();
    }
    if (Status valid = kv::validateExpiration(expiration, expirationTtl, nowSeconds); !valid)
        return valid.error();

    std::optional<QByteArray> metadata;
    const QJsonValue metadataValue = object.value(QLatin1String("metadata"));
    if (!metadataValue.isUndefined()) {
        metadata = compactJson(metadataValue);
        if (Status valid = kv::validateMetadata(*metadata); !valid)
            return valid.error();
    }
    if (Status valid = kv::validateValueSize(value.size(), maxValueBytes); !valid)
        return valid.error();

    KvEntry entry;
    entry.key = key.toUtf8();
    entry.value = std::move(value);
    entry.metadata = std::move(metadata);
    if (expirationTtl) {
        entry.expiration = qint64(
            std::min(double(nowSeconds) + std::floor(*expirationTtl), kLatestExpirationSeconds));
    } else if (expiration) {
        entry.expiration = qint64(std::min(std::floor(*expiration), kLatestExpirationSeconds));
    }
    return entry;
}

} // namespace

// NOTE: QJsonDocument::fromJson() (Qt 6.4) drops a U+FEFF written as raw UTF-8 at the start of a
// string, so a key or value that starts with one loses it. Written as \ufeff, as the export
// writes it, the character is kept.
KvBulkParseResult parseKvBulkJson(
    const QByteArray &json, qint64 nowSeconds, qsizetype maxValueBytes)
{
    KvBulkParseResult result;
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(json, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        // Line and column, as scenario errors give them, so that an editor can jump there.
        const auto [line, column] = JsonLocator(json).lineAndColumn(parseError.offset);
        result.errors << QStringLiteral("invalid JSON at line %1, column %2: %3")
                             .arg(line)
                             .arg(column)
                             .arg(parseError.errorString());
        return result;
    }
    if (!document.isArray()) {
        result.errors << QStringLiteral(
            "expected a JSON array of objects such as [{\"key\": \"a\", \"value\": \"1\"}]");
        return result;
    }

    const QJsonArray items = document.array();
    for (qsizetype index = 0; index < items.size(); ++index) {
        const QJsonValue item = items.at(index);
        QString label = QStringLiteral("entry %1").arg(index + 1);
        if (!item.isObject()) {
            result.errors << label
                    + QStringLiteral(": is not an object with \"key\" and \"value\"");
            continue;
        }
        const QJsonObject object = item.toObject();
        if (object.value(QLatin1String("key")).isString())
            label += QStringLiteral(" (key \"%1\")")
                         .arg(object.value(QLatin1String("key")).toString());
        Result<KvEntry> entry = parseEntry(object, nowSeconds, maxValueBytes);
        if (!entry)
            result.errors << label + QStringLiteral(": ") + entry.error().message;
        else if (result.errors.isEmpty())
            result.entries.push_back(std::move(entry).value());
    }
    if (!result.errors.isEmpty())
        result.entries.clear();
    return result;
}

QByteArray exportKvBulkJson(const std::vector<KvEntry> &entries)
{
    if (entries.empty())
        return QByteArrayLiteral("[]\n");
    QByteArray json = "[\n";
    for (size_t index = 0; index < entries.size(); ++index) {
        const KvEntry &entry = entries[index];
        const std::optional<QString> text = decodeUtf8(entry.value);
        // Keys are stored from QString::toUtf8(), so they are valid UTF-8.
        json += "  {\"key\":" + jsonString(decodeUtf8(entry.key).value_or(QString()))
            + ",\"value\":";
        json += text ? jsonString(*text) : jsonString(QString::fromLatin1(entry.value.toBase64()));
        if (!text)
            json += ",\"base64\":true";
        if (entry.expiration)
            json += ",\"expiration\":" + QByteArray::number(*entry.expiration);
        if (entry.metadata) {
            // Writing the metadata as Qt serializes it (object members sorted by name) makes a
            // second export of the imported file byte-identical to the first.
            const QJsonValue metadata = parseJsonValue(*entry.metadata);
            json += ",\"metadata\":";
            json += metadata.isUndefined()
                ? jsonString(decodeUtf8(*entry.metadata).value_or(QString()))
                : compactJson(metadata);
        }
        json += index + 1 < entries.size() ? "},\n" : "}\n";
    }
    json += "]\n";
    return json;
}

} // namespace roomscope
