// Writes made outside any Worker, as the Cloudflare dashboard or `wrangler kv` make them. They go
// straight to the central store, so no latency applies and no location cache is updated: other
// locations keep serving what they cached until their entries lapse.

#include "kvnamespace.h"

#include <QLoggingCategory>

#include <algorithm>
#include <cmath>

Q_LOGGING_CATEGORY(lcKvEdit, "roomscope.sim.kv.edit", QtWarningMsg)

namespace roomscope {

namespace {

/// The actor that trace events of these writes name.
const QString kInspectorActor = QStringLiteral("inspector");

/// Keys read and deleted per batch by deleteByPrefix().
constexpr int kDeleteBatch = 1000;

} // namespace

Status KvNamespace::writeEntry(const QString &key, const QByteArray &value, KvPutOptions options)
{
    if (Status valid = kv::validateKey(key, kv::Operation::Put); !valid)
        return valid;
    const qint64 writtenAtSeconds = nowSeconds();
    if (Status valid
        = kv::validateExpiration(options.expiration, options.expirationTtl, writtenAtSeconds);
        !valid)
        return valid;
    if (options.metadata) {
        if (Status valid = kv::validateMetadata(*options.metadata); !valid)
            return valid;
    }
    if (Status valid = kv::validateValueSize(value.size(), m_settings.maxValueBytes); !valid)
        return valid;

    // The same conversion as put(): a TTL wins, and both are kept within virtual time's range.
    constexpr double kLatestExpirationSeconds = 9.0e12;
    std::optional<qint64> expiration;
    if (options.expirationTtl) {
        expiration = qint64(std::min(double(writtenAtSeconds) + std::floor(*options.expirationTtl),
            kLatestExpirationSeconds));
    } else if (options.expiration) {
        expiration = qint64(std::min(std::floor(*options.expiration), kLatestExpirationSeconds));
    }

    const QByteArray utf8Key = key.toUtf8();
    KvEntry entry { utf8Key, value, options.metadata, expiration, m_version + 1 };
    if (Status stored = m_store->put(entry); !stored) {
        qCWarning(lcKvEdit) << "writing" << key << "failed:" << stored.error().message;
        return stored;
    }
    ++m_version;
    noteCentralChange(utf8Key);
    traceWrite(TraceKind::KvPut, kInspectorActor, m_settings.centralLocation, key, 200,
        entry.version, 0, value);
    return Done {};
}

Status KvNamespace::deleteEntry(const QString &key)
{
    if (Status valid = kv::validateKey(key, kv::Operation::Delete); !valid)
        return valid;
    const QByteArray utf8Key = key.toUtf8();
    Result<bool> removed = m_store->remove(utf8Key);
    if (!removed) {
        qCWarning(lcKvEdit) << "deleting" << key << "failed:" << removed.error().message;
        return removed.error();
    }
    noteCentralChange(utf8Key);
    // Like remove(), deleting a missing key succeeds and still counts as a write.
    const qint64 version = ++m_version;
    traceWrite(
        TraceKind::KvDelete, kInspectorActor, m_settings.centralLocation, key, 200, version, 0, {});
    return Done {};
}

Result<qint64> KvNamespace::deleteByPrefix(const QString &prefix)
{
    if (Status valid = kv::validateList(prefix, std::nullopt); !valid)
        return valid.error();
    qint64 deleted = 0;
    QByteArray startAfter;
    // NOTE: each key is removed in its own SQLite statement, without a shared transaction, so
    // deleting hundreds of thousands of keys from a file-backed store takes a while.
    for (;;) {
        const std::vector<KvEntry> batch = entries(prefix, startAfter, kDeleteBatch);
        if (batch.empty())
            break;
        for (const KvEntry &entry : batch) {
            if (Status removed = deleteEntry(QString::fromUtf8(entry.key)); !removed)
                return removed.error();
            ++deleted;
        }
        startAfter = batch.back().key;
    }
    return deleted;
}

} // namespace roomscope
