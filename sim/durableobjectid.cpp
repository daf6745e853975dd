#include "durableobjectid.h"

#include <QCryptographicHash>
#include <QMessageAuthenticationCode>

namespace roomscope {

namespace {

constexpr int kBaseBytes = 16;
constexpr int kIdHexDigits = 64;

QByteArray hmacSha256(const QByteArray &key, const QByteArray &message)
{
    return QMessageAuthenticationCode::hash(message, key, QCryptographicHash::Sha256);
}

} // namespace

DurableObjectIdFactory::DurableObjectIdFactory(const QString &uniqueKey)
    : m_key(QCryptographicHash::hash(uniqueKey.toUtf8(), QCryptographicHash::Sha256))
{
}

QByteArray DurableObjectIdFactory::mac(const QByteArray &base) const
{
    return hmacSha256(m_key, base).left(kBaseBytes);
}

DurableObjectId DurableObjectIdFactory::idFromName(const QString &name) const
{
    const QByteArray base = hmacSha256(m_key, name.toUtf8()).left(kBaseBytes);
    return DurableObjectId(base + mac(base), name);
}

Result<DurableObjectId> DurableObjectIdFactory::idFromString(const QString &text) const
{
    static const QString hexDigits = QStringLiteral("0123456789abcdefABCDEF");
    bool wellFormed = text.size() == kIdHexDigits;
    for (qsizetype i = 0; wellFormed && i < text.size(); ++i)
        wellFormed = hexDigits.contains(text.at(i));
    if (!wellFormed)
        return Error::typeError(QStringLiteral("Invalid Durable Object ID: must be 64 hex digits"));
    const QByteArray bytes = QByteArray::fromHex(text.toLatin1());
    const QByteArray base = bytes.left(kBaseBytes);
    if (bytes.mid(kBaseBytes) != mac(base))
        return Error::typeError(QStringLiteral("Durable Object ID is not valid for this namespace."));
    return DurableObjectId(bytes, std::nullopt);
}

DurableObjectId DurableObjectIdFactory::newUniqueId(Random &random) const
{
    QByteArray base(kBaseBytes, Qt::Uninitialized);
    for (int i = 0; i < kBaseBytes; i += 8) {
        const quint64 word = random.next();
        for (int b = 0; b < 8; ++b)
            base[i + b] = char((word >> (8 * b)) & 0xFF);
    }
    return DurableObjectId(base + mac(base), std::nullopt);
}

} // namespace roomscope
