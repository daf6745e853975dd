// Bulk imports and session files of a KvNamespace's central store.

#include "kvnamespace.h"

#include <algorithm>

namespace roomscope {

Status KvNamespace::importEntries(const std::vector<KvEntry> &entries)
{
    std::vector<KvEntry> versioned = entries;
    qint64 version = m_version;
    for (size_t index = 0; index < versioned.size(); ++index) {
        KvEntry &entry = versioned[index];
        const QString label = QStringLiteral("entry %1 (key \"%2\"): ")
                                  .arg(index + 1)
                                  .arg(QString::fromUtf8(entry.key));
        Status valid = kv::validateKey(QString::fromUtf8(entry.key), kv::Operation::Put);
        if (valid && entry.metadata)
            valid = kv::validateMetadata(*entry.metadata);
        if (valid)
            valid = kv::validateValueSize(entry.value.size(), m_settings.maxValueBytes);
        if (!valid)
            return Error::error(label + valid.error().message);
        entry.version = ++version;
    }
    if (Status stored = m_store->putMany(versioned); !stored)
        return stored;
    m_version = version;
    for (const KvEntry &entry : versioned)
        noteCentralChange(entry.key);
    return Done {};
}

Status KvNamespace::saveStore(const QString &path, const KvStore::TableWriter &writeTables) const
{
    return m_store->saveTo(path, writeTables);
}

Status KvNamespace::loadStore(const QString &path)
{
    // A failed load may have replaced part of the store too, so either way the stale checks of
    // cache entries filled before this point go to SQLite.
    noteCentralReplaced();
    if (Status restored = m_store->restoreFrom(path); !restored)
        return restored;
    // Versions never go back, so a version number names one write even across a load.
    m_version = std::max(m_version, m_store->maxVersion());
    return Done {};
}

} // namespace roomscope
