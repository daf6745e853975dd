#include "wranglerstate.h"

#include "durableobjectid.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLoggingCategory>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QUrl>

#include <sqlite3.h>

#include <algorithm>
#include <memory>

Q_LOGGING_CATEGORY(lcWranglerState, "roomscope.sim.wranglerstate", QtWarningMsg)

namespace roomscope {

namespace {

const QString kObjectFolder = QStringLiteral("miniflare-KVNamespaceObject");

// The folder, relative to what the user gave, that contains miniflare-KVNamespaceObject.
QString findKvFolder(const QString &folder)
{
    const QDir base(folder);
    const char *const candidates[] = { ".wrangler/state/v3/kv", "state/v3/kv", "v3/kv", "kv", "." };
    for (const char *relative : candidates) {
        const QString candidate = QDir::cleanPath(base.filePath(QString::fromLatin1(relative)));
        if (QFileInfo(QDir(candidate).filePath(kObjectFolder)).isDir())
            return candidate;
    }
    return {};
}

bool isObjectId(const QString &text)
{
    static const QRegularExpression pattern(QStringLiteral("^[0-9a-f]{64}$"));
    return pattern.match(text).hasMatch();
}

// Blob IDs are hex; anything else could name a path outside the blobs folder.
bool isBlobId(const QString &text)
{
    static const QRegularExpression pattern(QStringLiteral("^[0-9a-f]+$"));
    return pattern.match(text).hasMatch();
}

qint64 floorSeconds(qint64 milliseconds)
{
    qint64 result = milliseconds / 1000;
    if (milliseconds % 1000 < 0)
        --result;
    return result;
}

struct DatabaseCloser
{
    void operator()(sqlite3 *db) const { sqlite3_close(db); }
};
using Database = std::unique_ptr<sqlite3, DatabaseCloser>;

Result<Database> openDatabase(const QString &path, const QString &uri, int flags)
{
    sqlite3 *raw = nullptr;
    const QByteArray name = uri.toUtf8();
    const int opened = sqlite3_open_v2(name.constData(), &raw, flags, nullptr);
    Database db(raw);
    if (opened != SQLITE_OK) {
        const QString message
            = raw ? QString::fromUtf8(sqlite3_errmsg(raw)) : QStringLiteral("out of memory");
        return Error::error(QStringLiteral("Cannot open %1: %2").arg(path, message));
    }
    return db;
}

} // namespace

QString WranglerKvState::databaseFileName(const QString &namespaceId)
{
    return DurableObjectIdFactory(kObjectFolder).idFromName(namespaceId).toString()
        + QStringLiteral(".sqlite");
}

Result<WranglerKvState> WranglerKvState::open(const QString &folder)
{
    if (!QFileInfo(folder).isDir())
        return Error::error(QStringLiteral("The folder %1 was not found.").arg(folder));
    WranglerKvState state;
    state.m_kvPath = findKvFolder(folder);
    if (state.m_kvPath.isEmpty()) {
        return Error::error(
            QStringLiteral("No wrangler dev KV data was found in %1: it has no "
                           ".wrangler/state/v3/kv/%2 folder. Give the project folder or the "
                           "--persist-to folder of `wrangler dev`.")
                .arg(folder, kObjectFolder));
    }

    const QDir kvDir(state.m_kvPath);
    const QDir objectDir(kvDir.filePath(kObjectFolder));
    QStringList matchedFiles;
    for (const QString &id : kvDir.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name)) {
        if (id == kObjectFolder)
            continue;
        WranglerKvNamespace kvNamespace;
        kvNamespace.id = id;
        const QString fileName = databaseFileName(id);
        if (objectDir.exists(fileName)) {
            kvNamespace.databasePath = objectDir.filePath(fileName);
            matchedFiles << fileName;
        }
        const QString blobs = QDir(kvDir.filePath(id)).filePath(QStringLiteral("blobs"));
        if (QFileInfo(blobs).isDir())
            kvNamespace.blobsPath = blobs;
        state.m_namespaces.push_back(kvNamespace);
    }
    // A database whose namespace folder is gone (or was never created) keeps an unknown ID.
    // Other files here, such as metadata.sqlite, are not namespaces.
    for (const QString &fileName :
        objectDir.entryList({ QStringLiteral("*.sqlite") }, QDir::Files, QDir::Name)) {
        if (matchedFiles.contains(fileName) || !isObjectId(QFileInfo(fileName).completeBaseName()))
            continue;
        WranglerKvNamespace kvNamespace;
        kvNamespace.databasePath = objectDir.filePath(fileName);
        state.m_namespaces.push_back(kvNamespace);
    }
    return state;
}

Result<WranglerKvListing> WranglerKvState::read(const WranglerKvNamespace &kvNamespace)
{
    WranglerKvListing listing;
    if (kvNamespace.databasePath.isEmpty())
        return listing;

    // immutable=1 makes SQLite skip locking and never write a journal or -shm file. It also
    // ignores a -wal file, so when `wrangler dev` left one with writes not yet checkpointed, a
    // private copy of the database and its WAL is read instead.
    const QString walPath = kvNamespace.databasePath + QStringLiteral("-wal");
    QTemporaryDir copyDir;
    Result<Database> db = Error::error(QString());
    if (QFileInfo(walPath).size() > 0) {
        const QString copy = copyDir.filePath(QFileInfo(kvNamespace.databasePath).fileName());
        if (!copyDir.isValid() || !QFile::copy(kvNamespace.databasePath, copy)
            || !QFile::copy(walPath, copy + QStringLiteral("-wal"))) {
            return Error::error(QStringLiteral("Cannot copy %1 and its WAL file to read them.")
                                    .arg(kvNamespace.databasePath));
        }
        db = openDatabase(
            kvNamespace.databasePath, copy, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX);
    } else {
        const QString uri
            = QUrl::fromLocalFile(QFileInfo(kvNamespace.databasePath).absoluteFilePath())
                  .toString(QUrl::FullyEncoded)
            + QStringLiteral("?mode=ro&immutable=1");
        db = openDatabase(kvNamespace.databasePath, uri,
            SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX);
    }
    if (!db)
        return db.error();

    sqlite3_stmt *raw = nullptr;
    const char *sql
        = "SELECT key, blob_id, expiration, metadata FROM _mf_entries ORDER BY CAST(key AS BLOB)";
    if (sqlite3_prepare_v2(db.value().get(), sql, -1, &raw, nullptr) != SQLITE_OK) {
        const QString message = QString::fromUtf8(sqlite3_errmsg(db.value().get()));
        sqlite3_finalize(raw);
        return Error::error(QStringLiteral("%1 is not a Miniflare KV database: %2")
                                .arg(kvNamespace.databasePath, message));
    }
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt *)> statement(raw, sqlite3_finalize);

    const QDir blobs(kvNamespace.blobsPath);
    int stepped = SQLITE_ROW;
    while ((stepped = sqlite3_step(raw)) == SQLITE_ROW) {
        KvEntry entry;
        entry.key = QByteArray(reinterpret_cast<const char *>(sqlite3_column_blob(raw, 0)),
            sqlite3_column_bytes(raw, 0));
        const QString blobId
            = QString::fromUtf8(reinterpret_cast<const char *>(sqlite3_column_text(raw, 1)),
                sqlite3_column_bytes(raw, 1));
        if (sqlite3_column_type(raw, 2) != SQLITE_NULL)
            entry.expiration = floorSeconds(sqlite3_column_int64(raw, 2));
        if (sqlite3_column_type(raw, 3) != SQLITE_NULL) {
            entry.metadata = QByteArray(reinterpret_cast<const char *>(sqlite3_column_blob(raw, 3)),
                sqlite3_column_bytes(raw, 3));
        }
        QFile blob(blobs.filePath(blobId));
        if (kvNamespace.blobsPath.isEmpty() || !isBlobId(blobId)
            || !blob.open(QIODevice::ReadOnly)) {
            qCInfo(lcWranglerState)
                << "no value file for key" << entry.key << "in" << kvNamespace.databasePath;
            listing.keysWithoutBlob << QString::fromUtf8(entry.key);
            continue;
        }
        entry.value = blob.readAll();
        listing.entries.push_back(std::move(entry));
    }
    if (stepped != SQLITE_DONE) {
        return Error::error(QStringLiteral("Cannot read %1: %2")
                                .arg(kvNamespace.databasePath,
                                    QString::fromUtf8(sqlite3_errmsg(db.value().get()))));
    }
    return listing;
}

} // namespace roomscope
