#include "sessionfile.h"

#include "durableobjectnamespace.h"
#include "kvnamespace.h"

#include <QLoggingCategory>

#include <sqlite3.h>

#include <memory>

Q_LOGGING_CATEGORY(lcSession, "roomscope.sim.session", QtWarningMsg)

namespace roomscope::session {

namespace {

constexpr const char *kObjectsSchema = R"sql(
DROP TABLE IF EXISTS durable_objects;
CREATE TABLE durable_objects (
    class TEXT NOT NULL,
    id TEXT NOT NULL,
    name TEXT,
    location TEXT NOT NULL,
    backend TEXT NOT NULL,
    alarm INTEGER,
    storage BLOB NOT NULL,
    PRIMARY KEY (class, id)
) WITHOUT ROWID;
)sql";

/// The first schema version whose files may contain the durable_objects table.
constexpr int kFirstObjectsVersion = 2;

const QString kSessionHint
    = QStringLiteral("Give a session file that `roomscope run --save-session` wrote.");
const QString kSameScenarioHint
    = QStringLiteral("Open the session with the scenario that saved it.");

struct DatabaseCloser
{
    void operator()(sqlite3 *db) const { sqlite3_close(db); }
};
using DatabasePtr = std::unique_ptr<sqlite3, DatabaseCloser>;

struct StatementDeleter
{
    void operator()(sqlite3_stmt *statement) const { sqlite3_finalize(statement); }
};
using StatementPtr = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

QString backendText(StorageBackend backend)
{
    return backend == StorageBackend::Sqlite ? QStringLiteral("sqlite")
                                             : QStringLiteral("key-value");
}

QString backendDescription(StorageBackend backend)
{
    return backend == StorageBackend::Sqlite ? QStringLiteral("SQLite-backed")
                                             : QStringLiteral("KV-backed");
}

QString sqliteMessage(sqlite3 *db)
{
    return QString::fromUtf8(sqlite3_errmsg(db));
}

// An error of a session file that names the file, the problem and what to do.
Error loadError(const QString &path, const QString &problem, const QString &fix)
{
    const QString sentence = problem.endsWith(QLatin1Char('.')) ? problem : problem + u'.';
    return Error::error(
        QStringLiteral("Cannot load the session file %1: %2 %3").arg(path, sentence, fix));
}

void bindText(sqlite3_stmt *statement, int index, const QString &text)
{
    const QByteArray utf8 = text.toUtf8();
    sqlite3_bind_text64(statement, index, utf8.constData(), sqlite3_uint64(utf8.size()),
        SQLITE_TRANSIENT, SQLITE_UTF8);
}

QString columnText(sqlite3_stmt *statement, int column)
{
    const auto *text = reinterpret_cast<const char *>(sqlite3_column_text(statement, column));
    return QString::fromUtf8(text, sqlite3_column_bytes(statement, column));
}

// Writes the durable_objects table into the copy of the KV store that becomes the file.
Status writeObjects(sqlite3 *db, const DurableObjectNamespace &objects, const QString &path)
{
    const auto failed = [&](const QString &message) {
        return Error::error(
            QStringLiteral("Cannot save the Durable Objects to %1: %2").arg(path, message));
    };
    char *message = nullptr;
    const QByteArray schema = QByteArray("BEGIN; ") + kObjectsSchema;
    if (sqlite3_exec(db, schema.constData(), nullptr, nullptr, &message) != SQLITE_OK) {
        const QString text = QString::fromUtf8(message);
        sqlite3_free(message);
        return failed(text);
    }
    sqlite3_stmt *raw = nullptr;
    sqlite3_prepare_v2(db,
        "INSERT INTO durable_objects (class, id, name, location, backend, alarm, "
        "storage) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        -1, &raw, nullptr);
    const StatementPtr insert(raw);
    if (!insert)
        return failed(sqliteMessage(db));
    for (const DurableObject *object : objects.objects()) {
        const DurableObjectSnapshot snapshot = object->confirmedSnapshot();
        sqlite3_reset(insert.get());
        bindText(insert.get(), 1, objects.className());
        bindText(insert.get(), 2, object->id().toString());
        if (object->name().isEmpty())
            sqlite3_bind_null(insert.get(), 3);
        else
            bindText(insert.get(), 3, object->name());
        bindText(insert.get(), 4, objects.locations().name(object->location()));
        bindText(insert.get(), 5, backendText(object->storage().backend()));
        if (snapshot.alarmMs)
            sqlite3_bind_int64(insert.get(), 6, *snapshot.alarmMs);
        else
            sqlite3_bind_null(insert.get(), 6);
        // A zero-length BLOB, not NULL, for a database with no pages.
        static const char empty = 0;
        sqlite3_bind_blob64(insert.get(), 7,
            snapshot.storage.isEmpty() ? &empty : snapshot.storage.constData(),
            sqlite3_uint64(snapshot.storage.size()), SQLITE_TRANSIENT);
        if (sqlite3_step(insert.get()) != SQLITE_DONE)
            return failed(sqliteMessage(db));
    }
    if (sqlite3_exec(db, "COMMIT", nullptr, nullptr, &message) != SQLITE_OK) {
        const QString text = QString::fromUtf8(message);
        sqlite3_free(message);
        return failed(text);
    }
    return Done {};
}

// The first column of a single-row query, or nothing when the query fails.
std::optional<qint64> queryInteger(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *raw = nullptr;
    sqlite3_prepare_v2(db, sql, -1, &raw, nullptr);
    const StatementPtr statement(raw);
    if (!statement || sqlite3_step(statement.get()) != SQLITE_ROW)
        return std::nullopt;
    return sqlite3_column_int64(statement.get(), 0);
}

/// One row of the durable_objects table, checked against the namespace.
struct SavedObject
{
    DurableObjectId id;
    QString label; ///< how messages name the object
    LocationId location = -1;
    DurableObjectSnapshot snapshot;
};

// Reads and checks the current row of `rows`.
Result<SavedObject> readObject(
    sqlite3_stmt *rows, const QString &path, const DurableObjectNamespace &objects)
{
    const QString className = columnText(rows, 0);
    const QString idText = columnText(rows, 1);
    const bool named = sqlite3_column_type(rows, 2) != SQLITE_NULL;
    const QString name = columnText(rows, 2);
    const QString locationName = columnText(rows, 3);
    const QString backend = columnText(rows, 4);

    SavedObject saved;
    saved.label = named ? QStringLiteral("\"%1\" (ID %2)").arg(name, idText) : idText;
    const auto invalid = [&](const QString &problem) {
        return loadError(path,
            QStringLiteral("the row of Durable Object %1 is invalid: %2").arg(saved.label, problem),
            kSessionHint);
    };
    if (className != objects.className()) {
        return loadError(path,
            QStringLiteral("it contains Durable Objects of class \"%1\", but the "
                           "class of this scenario is \"%2\"")
                .arg(className, objects.className()),
            kSameScenarioHint);
    }
    const Result<DurableObjectId> id = objects.idFromString(idText);
    if (!id) {
        return loadError(path,
            QStringLiteral("the ID of Durable Object %1 is not an ID of this "
                           "scenario's namespace (%2)")
                .arg(saved.label, id.error().message),
            kSameScenarioHint
                + QStringLiteral(" IDs depend on the Worker name and the class "
                                 "name."));
    }
    if (named && objects.idFromName(name).bytes() != id->bytes()) {
        return loadError(path,
            QStringLiteral("this scenario's namespace derives another ID than %1 "
                           "from the name \"%2\"")
                .arg(idText, name),
            kSameScenarioHint);
    }
    saved.id = DurableObjectId(id->bytes(), named ? std::optional<QString>(name) : std::nullopt);

    saved.location = objects.locations().find(locationName);
    if (saved.location < 0) {
        return loadError(path,
            QStringLiteral("Durable Object %1 is in location \"%2\", which this "
                           "scenario does not have")
                .arg(saved.label, locationName),
            QStringLiteral("Add the location to the scenario, or open the session "
                           "with the scenario that saved it."));
    }

    StorageBackend savedBackend = StorageBackend::Sqlite;
    if (backend == backendText(StorageBackend::KeyValue))
        savedBackend = StorageBackend::KeyValue;
    else if (backend != backendText(StorageBackend::Sqlite))
        return invalid(
            QStringLiteral("its backend is \"%1\", not \"sqlite\" or \"key-value\"").arg(backend));
    const StorageBackend classBackend = objects.objectClass().backend;
    if (savedBackend != classBackend) {
        return loadError(path,
            QStringLiteral("Durable Object %1 is %2, but class \"%3\" of this "
                           "scenario is %4")
                .arg(saved.label, backendDescription(savedBackend), objects.className(),
                    backendDescription(classBackend)),
            QStringLiteral("Open the session with a scenario whose class has the "
                           "same storage backend."));
    }

    const int alarmType = sqlite3_column_type(rows, 5);
    if (alarmType == SQLITE_INTEGER) {
        saved.snapshot.alarmMs = sqlite3_column_int64(rows, 5);
        if (*saved.snapshot.alarmMs <= 0)
            return invalid(
                QStringLiteral("its alarm time %1 is not positive").arg(*saved.snapshot.alarmMs));
    } else if (alarmType != SQLITE_NULL) {
        return invalid(QStringLiteral("its alarm is not an integer of epoch milliseconds"));
    }
    if (sqlite3_column_type(rows, 6) != SQLITE_BLOB)
        return invalid(QStringLiteral("its storage is not a BLOB"));
    saved.snapshot.storage = QByteArray(
        static_cast<const char *>(sqlite3_column_blob(rows, 6)), sqlite3_column_bytes(rows, 6));
    return saved;
}

} // namespace

Status save(const QString &path, const KvNamespace &kv, const DurableObjectNamespace &objects)
{
    return kv.saveStore(
        path, [&objects, &path](sqlite3 *db) { return writeObjects(db, objects, path); });
}

Result<int> restoreObjects(const QString &path, DurableObjectNamespace &objects)
{
    sqlite3 *raw = nullptr;
    const int opened = sqlite3_open_v2(
        path.toUtf8().constData(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
    const DatabasePtr db(raw);
    if (opened != SQLITE_OK) {
        return loadError(
            path, raw ? sqliteMessage(raw) : QStringLiteral("out of memory"), kSessionHint);
    }
    const std::optional<qint64> version = queryInteger(db.get(), "PRAGMA user_version");
    const std::optional<qint64> tables = queryInteger(db.get(),
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'durable_objects'");
    if (!version || !tables)
        return loadError(path, sqliteMessage(db.get()), kSessionHint);
    // Older files hold the KV store only, and a store saved without objects has no table.
    if (*version < kFirstObjectsVersion || *tables == 0)
        return 0;

    sqlite3_stmt *rawRows = nullptr;
    sqlite3_prepare_v2(db.get(),
        "SELECT class, id, name, location, backend, alarm, storage "
        "FROM durable_objects ORDER BY class, id",
        -1, &rawRows, nullptr);
    const StatementPtr rows(rawRows);
    if (!rows) {
        return loadError(path,
            QStringLiteral("its durable_objects table cannot be read: %1")
                .arg(sqliteMessage(db.get())),
            kSessionHint);
    }
    int restored = 0;
    int code = SQLITE_ROW;
    while ((code = sqlite3_step(rows.get())) == SQLITE_ROW) {
        const Result<SavedObject> saved = readObject(rows.get(), path, objects);
        if (!saved)
            return saved.error();
        const Result<DurableObject *> object
            = objects.restoreObject(saved->id, saved->location, saved->snapshot);
        if (!object) {
            return loadError(path,
                QStringLiteral("Durable Object %1 cannot be restored. %2")
                    .arg(saved->label, object.error().message),
                kSessionHint);
        }
        ++restored;
    }
    if (code != SQLITE_DONE) {
        return loadError(path,
            QStringLiteral("its durable_objects table cannot be read: %1")
                .arg(sqliteMessage(db.get())),
            kSessionHint);
    }
    qCDebug(lcSession) << "restored" << restored << "Durable Objects from" << path;
    return restored;
}

} // namespace roomscope::session
