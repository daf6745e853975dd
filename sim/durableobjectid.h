#pragma once

#include "random.h"
#include "result.h"

#include <QByteArray>
#include <QString>

#include <optional>

namespace roomscope {

/// A Durable Object ID: 32 bytes, shown as 64 lowercase hex digits.
class DurableObjectId
{
public:
    DurableObjectId() = default;
    DurableObjectId(QByteArray bytes, std::optional<QString> name)
        : m_bytes(std::move(bytes)), m_name(std::move(name))
    {
    }

    QString toString() const { return QString::fromLatin1(m_bytes.toHex()); }
    /// The name the ID was derived from; nothing for unique IDs and IDs parsed from strings.
    const std::optional<QString> &name() const { return m_name; }
    bool equals(const DurableObjectId &other) const { return m_bytes == other.m_bytes; }
    const QByteArray &bytes() const { return m_bytes; }
    bool isNull() const { return m_bytes.isEmpty(); }

private:
    QByteArray m_bytes;
    std::optional<QString> m_name;
};

/// Derives IDs as workerd does for local development (src/workerd/server/actor-id-impl.c++):
/// key = SHA-256(uniqueKey); a named ID is base = HMAC-SHA256(key, name)[0:16] followed by
/// mac = HMAC-SHA256(key, base)[0:16]. Miniflare's uniqueKey is "<workerName>-<ClassName>".
/// Production derives IDs another way that is not public; its IDs have the same 64-hex form.
class DurableObjectIdFactory
{
public:
    explicit DurableObjectIdFactory(const QString &uniqueKey);

    DurableObjectId idFromName(const QString &name) const;
    /// Parses 64 hex digits (either case) and checks that the ID belongs to this namespace.
    Result<DurableObjectId> idFromString(const QString &text) const;
    DurableObjectId newUniqueId(Random &random) const;

private:
    QByteArray mac(const QByteArray &base) const;

    QByteArray m_key;
};

} // namespace roomscope
