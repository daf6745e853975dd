#include "kvfiles.h"

#include "kvbulkjson.h"

#include <QFile>
#include <QLoggingCategory>
#include <QSaveFile>

#include <limits>

// Failures are returned to the caller, which reports them. They are logged at info level
// only, because the headless run prints its own error line and a warning would repeat it.
Q_LOGGING_CATEGORY(lcKvFiles, "roomscope.model.kvfiles", QtWarningMsg)

namespace roomscope {

KvBulkImport importKvBulkFile(KvNamespace &kv, qint64 nowSeconds, const QString &path)
{
    KvBulkImport result;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        result.error = QStringLiteral("cannot read %1: %2").arg(path, file.errorString());
        qCInfo(lcKvFiles) << "import failed:" << result.error;
        return result;
    }
    const KvBulkParseResult parsed
        = parseKvBulkJson(file.readAll(), nowSeconds, kv.settings().maxValueBytes);
    if (!parsed.ok()) {
        result.entryErrors = parsed.errors;
        qCInfo(lcKvFiles) << "import of" << path << "rejected," << parsed.errors.size()
                          << "invalid entries";
        return result;
    }
    if (const Status imported = kv.importEntries(parsed.entries); !imported) {
        result.error = QStringLiteral("cannot import %1: %2").arg(path, imported.error().message);
        qCInfo(lcKvFiles) << "import failed:" << result.error;
        return result;
    }
    result.importedCount = qsizetype(parsed.entries.size());
    qCInfo(lcKvFiles) << "imported" << result.importedCount << "entries from" << path;
    return result;
}

Result<qsizetype> exportKvBulkFile(const KvNamespace &kv, const QString &path)
{
    const std::vector<KvEntry> entries
        = kv.entries(QString(), QByteArray(), std::numeric_limits<int>::max());
    const QByteArray json = exportKvBulkJson(entries);
    // QSaveFile replaces the file only once every byte is written, so a failed export leaves an
    // earlier file as it was.
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(json) != json.size() || !file.commit()) {
        const QString message
            = QStringLiteral("cannot write the KV export to %1: %2").arg(path, file.errorString());
        qCInfo(lcKvFiles) << message;
        return Error::error(message);
    }
    return qsizetype(entries.size());
}

} // namespace roomscope
