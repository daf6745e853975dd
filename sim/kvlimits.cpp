#include "kvlimits.h"

#include <QLocale>

#include <cmath>

namespace roomscope::kv {

QString operationName(Operation operation)
{
    switch (operation) {
    case Operation::Get:
        return QStringLiteral("GET");
    case Operation::GetBulk:
        return QStringLiteral("GET_BULK");
    case Operation::Put:
        return QStringLiteral("PUT");
    case Operation::Delete:
        return QStringLiteral("DELETE");
    }
    return QStringLiteral("GET");
}

Error failure(Operation operation, int status, const QString &text)
{
    return Error::error(
        QStringLiteral("KV %1 failed: %2 %3").arg(operationName(operation)).arg(status).arg(text));
}

QString jsNumber(double value)
{
    if (std::isnan(value))
        return QStringLiteral("NaN");
    if (std::isinf(value))
        return value > 0 ? QStringLiteral("Infinity") : QStringLiteral("-Infinity");
    const double magnitude = std::fabs(value);
    if (value == std::floor(value) && magnitude < 9e18) // within qint64
        return QString::number(qint64(value));
    // JavaScript prints the shortest digits that read back as the same double, in fixed
    // notation from 1e-6 up to 1e21, and otherwise with an unpadded exponent ("1.5e-7").
    if (magnitude >= 1e-6 && magnitude < 1e21)
        return QString::number(value, 'f', QLocale::FloatingPointShortest);
    QString text = QString::number(value, 'e', QLocale::FloatingPointShortest);
    const qsizetype exponent = text.indexOf(QLatin1Char('e')) + 2; // after "e+" or "e-"
    while (exponent + 1 < text.size() && text.at(exponent) == QLatin1Char('0'))
        text.remove(exponent, 1);
    return text;
}

namespace {

Status keyLengthError(qsizetype bytes, Operation operation)
{
    return failure(operation, 414,
                   QStringLiteral("UTF-8 encoded length of %1 exceeds key length limit of %2.")
                       .arg(bytes)
                       .arg(kMaxKeyBytes));
}

} // namespace

Status validateKey(const QString &key, Operation operation)
{
    if (key.isEmpty())
        return Error::typeError(QStringLiteral("Key name cannot be empty."));
    if (key == QLatin1String("."))
        return Error::typeError(QStringLiteral("\".\" is not allowed as a key name."));
    if (key == QLatin1String(".."))
        return Error::typeError(QStringLiteral("\"..\" is not allowed as a key name."));
    const qsizetype bytes = key.toUtf8().size();
    if (bytes > kMaxKeyBytes)
        return keyLengthError(bytes, operation);
    return Done {};
}

Status validateCacheTtl(double cacheTtl, qint64 minimumSeconds)
{
    const double shown = std::isnan(cacheTtl) ? 0 : cacheTtl;
    if (std::isnan(cacheTtl) || cacheTtl < double(minimumSeconds)) {
        return failure(Operation::Get, 400,
                       QStringLiteral("Invalid cache_ttl of %1. Cache TTL must be at least %2.")
                           .arg(jsNumber(shown))
                           .arg(minimumSeconds));
    }
    return Done {};
}

Status validateBulkGet(qsizetype keyCount, const QString &type)
{
    if (keyCount < 1) {
        return failure(Operation::GetBulk, 400,
                       QStringLiteral("You must request a minimum of 1 key"));
    }
    if (keyCount > kMaxBulkGetKeys) {
        return failure(Operation::GetBulk, 400,
                       QStringLiteral("You can request a maximum of %1 keys").arg(kMaxBulkGetKeys));
    }
    if (type != QLatin1String("text") && type != QLatin1String("json")) {
        return failure(Operation::GetBulk, 400,
                       QStringLiteral("\"%1\" is not a valid type. Use \"json\" or \"text\"")
                           .arg(type));
    }
    return Done {};
}

Error tooManyOperations()
{
    // NOTE: workerd's source for this limit was not available. This is the text that
    // applications report from deployed Workers when a binding makes its 1,001st call.
    return Error::error(QStringLiteral("Too many API requests by single Worker invocation."));
}

Error dailyLimitExceeded(Operation operation)
{
    // The text is what the KV REST API returns (error code 10048) once a Free account has used up
    // a daily limit, as wrangler printed it in a 2022 blog post (jameskilby.co.uk) and a 2026
    // GitHub issue. Cloudflare's warning emails state that the API then returns 429 and that
    // operations within a Worker fail.
    // NOTE: no source shows the binding's own error, so its combination into workerd's
    // `KV <OP> failed: <status> <text>` form is an assumption.
    return failure(operation, 429,
                   QStringLiteral("your account has reached the free usage limit for this "
                                  "operation for today"));
}

Status validateExpiration(std::optional<double> expiration, std::optional<double> expirationTtl,
                          qint64 nowSeconds)
{
    if (expirationTtl) {
        const double ttl = std::isnan(*expirationTtl) ? 0 : *expirationTtl;
        if (ttl <= 0) {
            return failure(
                Operation::Put, 400,
                QStringLiteral("Invalid expiration_ttl of %1. Please specify integer greater than 0.")
                    .arg(jsNumber(ttl)));
        }
        if (ttl < kMinExpirationTtlSeconds) {
            return failure(
                Operation::Put, 400,
                QStringLiteral("Invalid expiration_ttl of %1. Expiration TTL must be at least %2.")
                    .arg(jsNumber(ttl))
                    .arg(kMinExpirationTtlSeconds));
        }
        return Done {};
    }
    if (expiration) {
        const double at = std::isnan(*expiration) ? 0 : *expiration;
        if (at <= double(nowSeconds)) {
            return failure(Operation::Put, 400,
                           QStringLiteral("Invalid expiration of %1. Please specify integer greater "
                                          "than the current number of seconds since the UNIX epoch.")
                               .arg(jsNumber(at)));
        }
        if (at < double(nowSeconds + kMinExpirationTtlSeconds)) {
            return failure(Operation::Put, 400,
                           QStringLiteral("Invalid expiration of %1. Expiration times must be at "
                                          "least %2 seconds in the future.")
                               .arg(jsNumber(at))
                               .arg(kMinExpirationTtlSeconds));
        }
    }
    return Done {};
}

Status validateMetadata(const QByteArray &metadataJson)
{
    if (metadataJson.size() > kMaxMetadataBytes) {
        return failure(Operation::Put, 413,
                       QStringLiteral("Metadata length of %1 exceeds limit of %2.")
                           .arg(metadataJson.size())
                           .arg(kMaxMetadataBytes));
    }
    return Done {};
}

Status validateValueSize(qsizetype bytes, qsizetype maxValueBytes)
{
    if (bytes > maxValueBytes) {
        return failure(
            Operation::Put, 413,
            QStringLiteral("Value length of %1 exceeds limit of %2.").arg(bytes).arg(maxValueBytes));
    }
    return Done {};
}

Status validateList(const QString &prefix, std::optional<double> limit)
{
    const qsizetype prefixBytes = prefix.toUtf8().size();
    if (prefixBytes > kMaxKeyBytes)
        return keyLengthError(prefixBytes, Operation::Get);
    if (limit && *limit > kMaxListLimit) {
        return failure(Operation::Get, 400,
                       QStringLiteral("Invalid key_count_limit of %1. Please specify an integer "
                                      "less than %2.")
                           .arg(jsNumber(*limit))
                           .arg(kMaxListLimit));
    }
    return Done {};
}

} // namespace roomscope::kv
