#include "dostorage.h"

#include <QLoggingCategory>

#include <sqlite3.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <utility>

// Error texts marked "workerd" are copied from cloudflare/workerd at commit 6552d999
// (src/workerd/api/actor-state.c++, api/sql.c++, io/actor-storage.c++, util/sqlite.c++).

Q_LOGGING_CATEGORY(lcDoStorage, "roomscope.sim.dostorage", QtWarningMsg)

namespace roomscope {

namespace {

// The local workerd texts. Production workerd words the first two differently: "This Durable
// Object is not backed by SQLite storage, so the SQL API is not available. ..." and a
// storage.kv text that ends in how to use new_sqlite_classes on a new class.
const QString kSqlNotEnabled = QStringLiteral(
    "SQL is not enabled for this Durable Object class. To enable it, change `new_classes` to "
    "`new_sqlite_classes` within the 'migrations' field in your wrangler.jsonc or wrangler.toml "
    "file. If using workerd directly,set `enableSql = true` in your workerd config for the "
    "class. Note that this change cannot be made after the class is already deployed to "
    "production.");
const QString kSyncKvNotAvailable = QStringLiteral(
    "The storage.kv (synchronous KV) API is only available for SQLite-backed Durable Objects, "
    "but this object's namespace is not declared to use SQLite. You can use the older, "
    "asyncronous interface via methods of `storage` itself (e.g. `storage.get()`). "
    "Alternatively, to enable SQLite, change `new_classes` to `new_sqlite_classes` within the "
    "'migrations' field in your wrangler.jsonc or wrangler.toml file. If using workerd directly, "
    "set `enableSql = true` in your workerd config for the class. Note that this change cannot "
    "be made after the class is already deployed to production.");
const QString kInspectorReadOnly
    = QStringLiteral("The storage inspector runs read-only statements only.");
const QString kTransactionStatement = QStringLiteral(
    "To execute a transaction, please use the state.storage.transaction() or "
    "state.storage.transactionSync() APIs instead of the SQL BEGIN TRANSACTION or SAVEPOINT "
    "statements. The JavaScript API is safer because it will automatically roll back on "
    "exceptions, and because it interacts correctly with Durable Objects' automatic atomic "
    "write coalescing.");

struct StatementDeleter
{
    void operator()(sqlite3_stmt *statement) const { sqlite3_finalize(statement); }
};
using StatementPtr = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

// Resets a reused statement when the scope ends, so it holds no read lock or old bindings.
struct StatementScope
{
    sqlite3_stmt *statement;
    ~StatementScope()
    {
        sqlite3_reset(statement);
        sqlite3_clear_bindings(statement);
    }
};

// An empty QByteArray may have a null data pointer, which SQLite would store as NULL.
const char kEmpty = 0;

int bindText(sqlite3_stmt *statement, int index, const QByteArray &utf8)
{
    return sqlite3_bind_text64(statement, index, utf8.isEmpty() ? &kEmpty : utf8.constData(),
        sqlite3_uint64(utf8.size()), SQLITE_TRANSIENT, SQLITE_UTF8);
}

int bindBlob(sqlite3_stmt *statement, int index, const QByteArray &bytes)
{
    return sqlite3_bind_blob64(statement, index, bytes.isEmpty() ? &kEmpty : bytes.constData(),
        sqlite3_uint64(bytes.size()), SQLITE_TRANSIENT);
}

QString columnText(sqlite3_stmt *statement, int column)
{
    const auto *text = reinterpret_cast<const char *>(sqlite3_column_text(statement, column));
    return QString::fromUtf8(text, sqlite3_column_bytes(statement, column));
}

QByteArray columnBlob(sqlite3_stmt *statement, int column)
{
    const auto *data = static_cast<const char *>(sqlite3_column_blob(statement, column));
    return QByteArray(data, sqlite3_column_bytes(statement, column));
}

QVariant columnValue(sqlite3_stmt *statement, int column)
{
    switch (sqlite3_column_type(statement, column)) {
    case SQLITE_INTEGER:
        return QVariant(qint64(sqlite3_column_int64(statement, column)));
    case SQLITE_FLOAT:
        return QVariant(sqlite3_column_double(statement, column));
    case SQLITE_TEXT:
        return QVariant(columnText(statement, column));
    case SQLITE_BLOB:
        return QVariant(columnBlob(statement, column));
    default:
        return QVariant();
    }
}

// Binds one exec() binding. A JavaScript number arrives as qint64 or double.
Status bindValue(sqlite3_stmt *statement, int index, const QVariant &value)
{
    int code = SQLITE_OK;
    switch (value.typeId()) {
    case QMetaType::UnknownType:
    case QMetaType::Nullptr:
        code = sqlite3_bind_null(statement, index);
        break;
    case QMetaType::Int:
    case QMetaType::UInt:
    case QMetaType::Long:
    case QMetaType::LongLong:
        code = sqlite3_bind_int64(statement, index, value.toLongLong());
        break;
    case QMetaType::Double:
    case QMetaType::Float:
        code = sqlite3_bind_double(statement, index, value.toDouble());
        break;
    case QMetaType::QString:
        code = bindText(statement, index, value.toString().toUtf8());
        break;
    case QMetaType::QByteArray:
        code = bindBlob(statement, index, value.toByteArray());
        break;
    default:
        return Error::typeError(
            QStringLiteral("SQL binding %1 is a %2; expected null, a number, a string or bytes.")
                .arg(index)
                .arg(QString::fromLatin1(value.typeName())));
    }
    if (code != SQLITE_OK)
        return Error::error(QStringLiteral("Cannot bind SQL binding %1: %2")
                                .arg(index)
                                .arg(QString::fromUtf8(sqlite3_errstr(code))));
    return Done {};
}

struct NamedCode
{
    constexpr NamedCode(int code, const char *name)
        : code(code)
        , name(name)
    {
    }
    int code;
    const char *name;
};

// A code and its name as sqlite3.h spells it.
#define ROOMSCOPE_SQLITE_CODE(code) NamedCode(code, #code)

constexpr NamedCode kPrimaryCodes[] = {
    ROOMSCOPE_SQLITE_CODE(SQLITE_OK),
    ROOMSCOPE_SQLITE_CODE(SQLITE_ERROR),
    ROOMSCOPE_SQLITE_CODE(SQLITE_INTERNAL),
    ROOMSCOPE_SQLITE_CODE(SQLITE_PERM),
    ROOMSCOPE_SQLITE_CODE(SQLITE_ABORT),
    ROOMSCOPE_SQLITE_CODE(SQLITE_BUSY),
    ROOMSCOPE_SQLITE_CODE(SQLITE_LOCKED),
    ROOMSCOPE_SQLITE_CODE(SQLITE_NOMEM),
    ROOMSCOPE_SQLITE_CODE(SQLITE_READONLY),
    ROOMSCOPE_SQLITE_CODE(SQLITE_INTERRUPT),
    ROOMSCOPE_SQLITE_CODE(SQLITE_IOERR),
    ROOMSCOPE_SQLITE_CODE(SQLITE_CORRUPT),
    ROOMSCOPE_SQLITE_CODE(SQLITE_NOTFOUND),
    ROOMSCOPE_SQLITE_CODE(SQLITE_FULL),
    ROOMSCOPE_SQLITE_CODE(SQLITE_CANTOPEN),
    ROOMSCOPE_SQLITE_CODE(SQLITE_PROTOCOL),
    ROOMSCOPE_SQLITE_CODE(SQLITE_EMPTY),
    ROOMSCOPE_SQLITE_CODE(SQLITE_SCHEMA),
    ROOMSCOPE_SQLITE_CODE(SQLITE_TOOBIG),
    ROOMSCOPE_SQLITE_CODE(SQLITE_CONSTRAINT),
    ROOMSCOPE_SQLITE_CODE(SQLITE_MISMATCH),
    ROOMSCOPE_SQLITE_CODE(SQLITE_MISUSE),
    ROOMSCOPE_SQLITE_CODE(SQLITE_NOLFS),
    ROOMSCOPE_SQLITE_CODE(SQLITE_AUTH),
    ROOMSCOPE_SQLITE_CODE(SQLITE_FORMAT),
    ROOMSCOPE_SQLITE_CODE(SQLITE_RANGE),
    ROOMSCOPE_SQLITE_CODE(SQLITE_NOTADB),
    ROOMSCOPE_SQLITE_CODE(SQLITE_NOTICE),
    ROOMSCOPE_SQLITE_CODE(SQLITE_WARNING),
    ROOMSCOPE_SQLITE_CODE(SQLITE_ROW),
    ROOMSCOPE_SQLITE_CODE(SQLITE_DONE),
};

// The extended codes that an in-memory database can report; file, lock and I/O codes cannot
// occur here.
constexpr NamedCode kExtendedCodes[] = {
    ROOMSCOPE_SQLITE_CODE(SQLITE_ERROR_MISSING_COLLSEQ),
    ROOMSCOPE_SQLITE_CODE(SQLITE_ERROR_RETRY),
    ROOMSCOPE_SQLITE_CODE(SQLITE_ERROR_SNAPSHOT),
    ROOMSCOPE_SQLITE_CODE(SQLITE_CORRUPT_VTAB),
    ROOMSCOPE_SQLITE_CODE(SQLITE_CORRUPT_SEQUENCE),
    ROOMSCOPE_SQLITE_CODE(SQLITE_CORRUPT_INDEX),
    ROOMSCOPE_SQLITE_CODE(SQLITE_READONLY_DBMOVED),
    ROOMSCOPE_SQLITE_CODE(SQLITE_ABORT_ROLLBACK),
    ROOMSCOPE_SQLITE_CODE(SQLITE_CONSTRAINT_CHECK),
    ROOMSCOPE_SQLITE_CODE(SQLITE_CONSTRAINT_COMMITHOOK),
    ROOMSCOPE_SQLITE_CODE(SQLITE_CONSTRAINT_FOREIGNKEY),
    ROOMSCOPE_SQLITE_CODE(SQLITE_CONSTRAINT_FUNCTION),
    ROOMSCOPE_SQLITE_CODE(SQLITE_CONSTRAINT_NOTNULL),
    ROOMSCOPE_SQLITE_CODE(SQLITE_CONSTRAINT_PRIMARYKEY),
    ROOMSCOPE_SQLITE_CODE(SQLITE_CONSTRAINT_TRIGGER),
    ROOMSCOPE_SQLITE_CODE(SQLITE_CONSTRAINT_UNIQUE),
    ROOMSCOPE_SQLITE_CODE(SQLITE_CONSTRAINT_VTAB),
    ROOMSCOPE_SQLITE_CODE(SQLITE_CONSTRAINT_ROWID),
    ROOMSCOPE_SQLITE_CODE(SQLITE_CONSTRAINT_PINNED),
    ROOMSCOPE_SQLITE_CODE(SQLITE_CONSTRAINT_DATATYPE),
};

#undef ROOMSCOPE_SQLITE_CODE

template<std::size_t N> const char *codeName(const NamedCode (&codes)[N], int code)
{
    for (const NamedCode &named : codes) {
        if (named.code == code)
            return named.name;
    }
    return nullptr;
}

// workerd's dbErrorMessage(): the SQLite message, the byte offset of the error in the SQL text
// when SQLite reports one, the primary code's name, and the extended code's name when it differs.
QString formatSqlError(sqlite3 *db, int code)
{
    const int primary = code & 0xff;
    QString message = QString::fromUtf8(sqlite3_errmsg(db));
    if (const int offset = sqlite3_error_offset(db); offset >= 0)
        message += QStringLiteral(" at offset %1").arg(offset);
    const char *primaryName = codeName(kPrimaryCodes, primary);
    message += QStringLiteral(": ")
        + (primaryName ? QString::fromLatin1(primaryName) : QString::number(primary));
    const int extended = sqlite3_extended_errcode(db);
    if (extended != primary) {
        if (const char *extendedName = codeName(kExtendedCodes, extended))
            message += QStringLiteral(" (extended: %1)").arg(QString::fromLatin1(extendedName));
    }
    return message;
}

bool isSqlWhitespace(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// workerd reserves every name that starts with `_cf_`, in any letter case.
bool isAllowedName(const char *name)
{
    return !name || std::strlen(name) < 4 || sqlite3_strnicmp(name, "_cf_", 4) != 0;
}

// The argument rules of the pragmas that workerd allows (util/sqlite.c++, ALLOWED_PRAGMAS).
enum class PragmaArgument {
    None,
    Boolean,
    ObjectName,
    OptionalObjectName,
    OptionalNumber,
    OptionalNumberOrObjectName,
    Any
};

struct AllowedPragma
{
    const char *name;
    PragmaArgument argument;
};

constexpr AllowedPragma kAllowedPragmas[] = {
    { "data_version", PragmaArgument::None },
    { "page_size", PragmaArgument::None },
    { "case_sensitive_like", PragmaArgument::Boolean },
    { "foreign_keys", PragmaArgument::Boolean },
    { "defer_foreign_keys", PragmaArgument::Boolean },
    { "ignore_check_constraints", PragmaArgument::Boolean },
    { "legacy_alter_table", PragmaArgument::Boolean },
    { "recursive_triggers", PragmaArgument::Boolean },
    { "reverse_unordered_selects", PragmaArgument::Boolean },
    { "foreign_key_check", PragmaArgument::OptionalObjectName },
    { "foreign_key_list", PragmaArgument::ObjectName },
    { "index_info", PragmaArgument::ObjectName },
    { "index_list", PragmaArgument::ObjectName },
    { "index_xinfo", PragmaArgument::ObjectName },
    { "table_info", PragmaArgument::ObjectName },
    { "table_xinfo", PragmaArgument::ObjectName },
    { "quick_check", PragmaArgument::OptionalNumberOrObjectName },
    { "optimize", PragmaArgument::OptionalNumber },
    { "table_list", PragmaArgument::Any },
};

bool isBooleanArgument(QByteArray value)
{
    if (value.size() >= 2 && (value.front() == '\'' || value.front() == '"')
        && value.back() == value.front())
        value = value.mid(1, value.size() - 2);
    // workerd compares prefixes case-insensitively, so "onion" passes as "on" there and here.
    for (const char *word : { "true", "false", "yes", "no", "on", "off", "1", "0" }) {
        if (sqlite3_strnicmp(value.constData(), word, int(std::strlen(word))) == 0)
            return true;
    }
    return false;
}

bool isPragmaAllowed(const char *name, const char *argument)
{
    const auto *found = std::find_if(std::begin(kAllowedPragmas), std::end(kAllowedPragmas),
        [name](const AllowedPragma &pragma) { return std::strcmp(pragma.name, name) == 0; });
    if (found == std::end(kAllowedPragmas))
        return false;
    bool isNumber = false;
    if (argument)
        QByteArray(argument).toInt(&isNumber);
    switch (found->argument) {
    case PragmaArgument::None:
        return !argument;
    case PragmaArgument::Boolean:
        return !argument || isBooleanArgument(argument);
    case PragmaArgument::ObjectName:
        return argument && isAllowedName(argument);
    case PragmaArgument::OptionalObjectName:
        return isAllowedName(argument);
    case PragmaArgument::OptionalNumber:
        return !argument || isNumber;
    case PragmaArgument::OptionalNumberOrObjectName:
        return !argument || isNumber || isAllowedName(argument);
    case PragmaArgument::Any:
        return true;
    }
    return false;
}

QByteArray quoteIdentifier(const QByteArray &name)
{
    QByteArray quoted = name;
    quoted.replace('"', "\"\"");
    return '"' + quoted + '"';
}

// A key range of list() after workerd's compileListOptions(): `start` inclusive, `end`
// exclusive, both as UTF-8 bytes.
struct KeyRange
{
    QByteArray start;
    std::optional<QByteArray> end;
};

// The smallest byte string after every string that starts with `prefix`, or nothing when every
// string from `prefix` on starts with it (a prefix of 0xFF bytes only).
std::optional<QByteArray> prefixEnd(QByteArray prefix)
{
    while (!prefix.isEmpty() && quint8(prefix.back()) == 0xFF)
        prefix.chop(1);
    if (prefix.isEmpty())
        return std::nullopt;
    prefix.back() = char(quint8(prefix.back()) + 1);
    return prefix;
}

// Nothing when no key can be in the range.
std::optional<KeyRange> compileRange(const StorageListOptions &options)
{
    KeyRange range;
    if (options.start)
        range.start = options.start->toUtf8();
    // The key right after `startAfter` in byte order is `startAfter` followed by a NUL byte.
    if (options.startAfter)
        range.start = options.startAfter->toUtf8() + QByteArray(1, '\0');
    if (options.end)
        range.end = options.end->toUtf8();

    const QByteArray prefix = options.prefix ? options.prefix->toUtf8() : QByteArray();
    if (!prefix.isEmpty()) {
        if (range.start < prefix)
            range.start = prefix;
        else if (!range.start.startsWith(prefix))
            return std::nullopt;
        if (const std::optional<QByteArray> afterPrefix = prefixEnd(prefix)) {
            if (range.end && *range.end <= prefix)
                return std::nullopt;
            if (!range.end || !range.end->startsWith(prefix))
                range.end = afterPrefix;
        }
    }
    if (range.end && *range.end <= range.start)
        return std::nullopt;
    return range;
}

} // namespace

// --- SqlCursor -----------------------------------------------------------------------------

Result<QVariantList> SqlCursor::one() const
{
    if (rows.empty())
        return Error::error(
            QStringLiteral("Expected exactly one result from SQL query, but got no results."));
    if (rows.size() > 1)
        return Error::error(QStringLiteral(
            "Expected exactly one result from SQL query, but got multiple results."));
    return rows.front();
}

// --- Opening --------------------------------------------------------------------------------

DurableObjectStorage::DurableObjectStorage(
    sqlite3 *db, StorageBackend backend, StorageLimits limits)
    : m_db(db)
    , m_backend(backend)
    , m_limits(limits)
{
}

DurableObjectStorage::~DurableObjectStorage()
{
    for (sqlite3_stmt *statement : m_kvStatements)
        sqlite3_finalize(statement);
    sqlite3_close(m_db);
}

Result<std::unique_ptr<DurableObjectStorage>> DurableObjectStorage::create(
    StorageBackend backend, StorageLimits limits)
{
    return open(backend, limits, nullptr);
}

Result<std::unique_ptr<DurableObjectStorage>> DurableObjectStorage::deserialize(
    StorageBackend backend, StorageLimits limits, const QByteArray &image)
{
    return open(backend, limits, image.isEmpty() ? nullptr : &image);
}

Result<std::unique_ptr<DurableObjectStorage>> DurableObjectStorage::open(
    StorageBackend backend, StorageLimits limits, const QByteArray *image)
{
    sqlite3 *db = nullptr;
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(":memory:", &db, flags, nullptr) != SQLITE_OK) {
        const QString message
            = db ? QString::fromUtf8(sqlite3_errmsg(db)) : QStringLiteral("out of memory");
        sqlite3_close(db);
        return Error::error(
            QStringLiteral("Cannot open the Durable Object's SQLite database: %1").arg(message));
    }
    std::unique_ptr<DurableObjectStorage> storage(new DurableObjectStorage(db, backend, limits));

    if (image) {
        // SQLite takes ownership of the buffer and frees it when the database closes.
        const auto size = sqlite3_int64(image->size());
        auto *buffer = static_cast<unsigned char *>(sqlite3_malloc64(sqlite3_uint64(size)));
        if (!buffer)
            return Error::error(QStringLiteral("Cannot load the storage image: out of memory"));
        std::memcpy(buffer, image->constData(), std::size_t(size));
        const int loaded = sqlite3_deserialize(db, "main", buffer, size, size,
            SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_RESIZEABLE);
        if (loaded != SQLITE_OK)
            return Error::error(QStringLiteral("Cannot load the storage image: %1")
                                    .arg(formatSqlError(db, loaded)));
        // sqlite3_deserialize accepts any bytes; the first read of the schema checks them.
        if (Status readable = storage->execute("SELECT count(*) FROM sqlite_master"); !readable)
            return Error::error(
                QStringLiteral("Cannot load the storage image: %1").arg(readable.error().message));
    }

    // workerd's setupSecurity(): defensive mode, reduced limits and the authorizer.
    sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
    sqlite3_limit(db, SQLITE_LIMIT_LENGTH, dostorage::kLocalMaxSqliteLength);
    sqlite3_limit(db, SQLITE_LIMIT_SQL_LENGTH, dostorage::kMaxStatementBytes);
    sqlite3_limit(db, SQLITE_LIMIT_COLUMN, 100);
    sqlite3_limit(db, SQLITE_LIMIT_EXPR_DEPTH, 100);
    sqlite3_limit(db, SQLITE_LIMIT_COMPOUND_SELECT, 5);
    sqlite3_limit(db, SQLITE_LIMIT_VDBE_OP, 25000);
    sqlite3_limit(db, SQLITE_LIMIT_FUNCTION_ARG,
        limits.enforce ? dostorage::kMaxFunctionArguments : dostorage::kLocalMaxFunctionArguments);
    sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
    sqlite3_limit(db, SQLITE_LIMIT_LIKE_PATTERN_LENGTH, 50);
    sqlite3_limit(db, SQLITE_LIMIT_VARIABLE_NUMBER, dostorage::kMaxBoundParameters);
    sqlite3_limit(db, SQLITE_LIMIT_TRIGGER_DEPTH, 10);
    sqlite3_limit(db, SQLITE_LIMIT_WORKER_THREADS, 0);
    sqlite3_set_authorizer(db, &DurableObjectStorage::authorizerCallback, storage.get());

    storage->refreshKvTableState();
    return storage;
}

QByteArray DurableObjectStorage::serialize() const
{
    sqlite3_int64 size = 0;
    unsigned char *data = sqlite3_serialize(m_db, "main", &size, 0);
    if (!data)
        return {};
    QByteArray image(reinterpret_cast<const char *>(data), qsizetype(size));
    sqlite3_free(data);
    return image;
}

// --- The authorizer -------------------------------------------------------------------------

int DurableObjectStorage::authorizerCallback(void *storage, int action, const char *first,
    const char *second, const char *database, const char *)
{
    return static_cast<DurableObjectStorage *>(storage)->authorize(action, first, second, database);
}

// workerd's SqliteDatabase::isAuthorized() for untrusted SQL, except that every SQL function is
// allowed (workerd allows a fixed list) and that stock SQLite does not pass the new name of
// ALTER TABLE ... RENAME TO, so renaming a table to a `_cf_` name is not caught.
int DurableObjectStorage::authorize(
    int action, const char *first, const char *second, const char *database)
{
    if (m_authorizerRules == AuthorizerRules::None)
        return SQLITE_OK;
    if (m_authorizerRules == AuthorizerRules::ReadOnly)
        return authorizeReadOnly(action, first, second);

    // For these two, SQLite passes the database name first and the table name second, and
    // workerd moves them to where the other actions have them.
    if (action == SQLITE_ALTER_TABLE || action == SQLITE_DETACH) {
        const char *databaseName = first;
        first = second;
        second = nullptr; // workerd's patched SQLite passes the new name of a RENAME TO here
        database = databaseName;
    }
    if (database && std::strcmp(database, "main") != 0) {
        const bool tempRead = std::strcmp(database, "temp") == 0
            && (action == SQLITE_READ || action == SQLITE_UPDATE);
        return tempRead && isAllowedName(first) ? SQLITE_OK : SQLITE_DENY;
    }

    bool allowed = false;
    switch (action) {
    case SQLITE_SELECT:
    case SQLITE_ANALYZE: // its statistics hold index sizes, not data; PRAGMA optimize runs it
    case SQLITE_RECURSIVE:
        allowed = true;
        break;
    case SQLITE_CREATE_TABLE:
    case SQLITE_DELETE:
    case SQLITE_DROP_TABLE:
    case SQLITE_INSERT:
    case SQLITE_CREATE_VIEW:
    case SQLITE_DROP_VIEW:
    case SQLITE_REINDEX:
    case SQLITE_ALTER_TABLE:
    case SQLITE_READ:
    case SQLITE_UPDATE:
        allowed = isAllowedName(first);
        break;
    case SQLITE_CREATE_INDEX:
    case SQLITE_DROP_INDEX:
    case SQLITE_CREATE_TRIGGER:
    case SQLITE_DROP_TRIGGER:
        allowed = isAllowedName(first) && isAllowedName(second);
        break;
    case SQLITE_TRANSACTION:
    case SQLITE_SAVEPOINT:
        // workerd throws its own error here; prepare fails with SQLITE_AUTH and run() reports it.
        m_authorizerError = Error::error(kTransactionStatement);
        allowed = false;
        break;
    case SQLITE_PRAGMA:
        allowed = first && isPragmaAllowed(first, second);
        break;
    case SQLITE_FUNCTION:
        allowed = true;
        break;
    case SQLITE_CREATE_VTABLE:
    case SQLITE_DROP_VTABLE:
        allowed = second
            && (sqlite3_stricmp(second, "fts5") == 0 || sqlite3_stricmp(second, "fts5vocab") == 0
                || sqlite3_stricmp(second, "rtree") == 0
                || sqlite3_stricmp(second, "rtree_i32") == 0)
            && isAllowedName(first);
        break;
    default:
        // ATTACH, DETACH, temporary tables, views, indexes and triggers, and unknown actions.
        allowed = false;
        break;
    }
    return allowed ? SQLITE_OK : SQLITE_DENY;
}

// Allows what a read needs and nothing else. sqlite3_stmt_readonly() alone would let COMMIT and
// pragmas that change settings through.
int DurableObjectStorage::authorizeReadOnly(int action, const char *first, const char *second)
{
    static constexpr const char *kPragmasWithName[]
        = { "foreign_key_check", "foreign_key_list", "index_info", "index_list", "index_xinfo",
              "integrity_check", "quick_check", "table_info", "table_list", "table_xinfo" };
    static constexpr const char *kPragmasWithoutArgument[]
        = { "compile_options", "data_version", "database_list", "freelist_count", "page_count",
              "page_size", "schema_version", "user_version" };
    const auto named = [first](const char *name) { return std::strcmp(first, name) == 0; };

    switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_FUNCTION:
    case SQLITE_RECURSIVE:
        return SQLITE_OK;
    case SQLITE_PRAGMA:
        if (first && std::any_of(std::begin(kPragmasWithName), std::end(kPragmasWithName), named))
            return SQLITE_OK;
        if (first && !second
            && std::any_of(
                std::begin(kPragmasWithoutArgument), std::end(kPragmasWithoutArgument), named))
            return SQLITE_OK;
        break;
    default:
        break;
    }
    m_authorizerError = Error::error(kInspectorReadOnly);
    return SQLITE_DENY;
}

// --- Internal SQL -------------------------------------------------------------------------

Error DurableObjectStorage::sqlError(int code) const
{
    return Error::error(formatSqlError(m_db, code));
}

// Runs trusted SQL that returns no rows the caller needs, outside the authorizer's rules even
// when exec() calls it.
Status DurableObjectStorage::execute(const char *sql)
{
    const AuthorizerRules rules = std::exchange(m_authorizerRules, AuthorizerRules::None);
    const int code = sqlite3_exec(m_db, sql, nullptr, nullptr, nullptr);
    m_authorizerRules = rules;
    if (code != SQLITE_OK)
        return sqlError(code);
    return Done {};
}

// Runs ROLLBACK TO, RELEASE or ROLLBACK on a path that already failed or that has no caller to
// tell. A failure is logged.
void DurableObjectStorage::executeCleanup(const char *sql)
{
    if (Status done = execute(sql); !done)
        qCWarning(lcDoStorage) << sql << "failed:" << done.error().message;
}

Status DurableObjectStorage::ensureBatch()
{
    if (m_batchOpen)
        return Done {};
    if (Status begun = execute("BEGIN"); !begun)
        return begun;
    m_batchOpen = true;
    return Done {};
}

void DurableObjectStorage::refreshKvTableState()
{
    sqlite3_stmt *raw = nullptr;
    sqlite3_prepare_v2(m_db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_cf_KV'",
        -1, &raw, nullptr);
    const StatementPtr statement(raw);
    m_kvTableExists = statement && sqlite3_step(statement.get()) == SQLITE_ROW;
}

Status DurableObjectStorage::ensureKvTable()
{
    if (m_kvTableExists)
        return Done {};
    if (Status created = execute("CREATE TABLE IF NOT EXISTS _cf_KV (key TEXT PRIMARY KEY, "
                                 "value BLOB) WITHOUT ROWID");
        !created)
        return created;
    m_kvTableExists = true;
    return Done {};
}

// Statements are prepared on first use, once _cf_KV exists. A dropped and re-created table is
// picked up by SQLite's automatic re-preparation, and no statement is stepped while the table
// does not exist.
Result<sqlite3_stmt *> DurableObjectStorage::kvStatement(KvStatement kind)
{
    static constexpr const char *kSql[KvStatementCount] = {
        "SELECT value FROM _cf_KV WHERE key = ?1",
        "INSERT INTO _cf_KV (key, value) VALUES (?1, ?2) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        "DELETE FROM _cf_KV WHERE key = ?1",
        // The ranges bind UTF-8 bytes as TEXT, which the primary key index orders by memcmp.
        "SELECT key, value FROM _cf_KV WHERE key >= ?1 ORDER BY key LIMIT ?3",
        "SELECT key, value FROM _cf_KV WHERE key >= ?1 AND key < ?2 ORDER BY key LIMIT ?3",
        "SELECT key, value FROM _cf_KV WHERE key >= ?1 ORDER BY key DESC LIMIT ?3",
        "SELECT key, value FROM _cf_KV WHERE key >= ?1 AND key < ?2 ORDER BY key DESC LIMIT ?3",
    };
    if (!m_kvStatements[kind]) {
        const int code = sqlite3_prepare_v3(
            m_db, kSql[kind], -1, SQLITE_PREPARE_PERSISTENT, &m_kvStatements[kind], nullptr);
        if (code != SQLITE_OK)
            return sqlError(code);
    }
    return m_kvStatements[kind];
}

// --- Limits ---------------------------------------------------------------------------------

Status DurableObjectStorage::checkKey(const QString &key) const
{
    if (!m_limits.enforce || m_backend != StorageBackend::KeyValue)
        return Done {};
    const qsizetype bytes = key.toUtf8().size();
    if (bytes > dostorage::kMaxKeyBytes) {
        // workerd's text, for single keys and for each key of a batch.
        return Error::rangeError(
            QStringLiteral("Keys cannot be larger than %1 bytes. A key of size %2 was provided.")
                .arg(dostorage::kMaxKeyBytes)
                .arg(bytes));
    }
    return Done {};
}

Status DurableObjectStorage::checkEntry(const QString &key, const QByteArray &value) const
{
    if (!m_limits.enforce)
        return Done {};
    if (m_backend == StorageBackend::Sqlite) {
        const qsizetype bytes = key.toUtf8().size() + value.size();
        if (bytes > dostorage::kMaxSqliteEntryBytes) {
            // NOTE: production's text for this limit is unknown; this one is ours.
            return Error::rangeError(
                QStringLiteral("Key plus value cannot be larger than %1 bytes on a SQLite-backed "
                               "Durable Object. A key and value of %2 bytes were provided.")
                    .arg(dostorage::kMaxSqliteEntryBytes)
                    .arg(bytes));
        }
        return Done {};
    }
    if (Status keyChecked = checkKey(key); !keyChecked)
        return keyChecked;
    if (value.size() > dostorage::kEnforcedMaxValueBytes) {
        // workerd's text, which names the advertised limit and not the enforced one.
        return Error::rangeError(QStringLiteral(
            "Values cannot be larger than %1 bytes. A value of size %2 was provided.")
                                     .arg(dostorage::kMaxValueBytes)
                                     .arg(value.size()));
    }
    return Done {};
}

// --- The KV-style API -----------------------------------------------------------------------

Result<std::optional<QByteArray>> DurableObjectStorage::get(const QString &key)
{
    if (Status checked = checkKey(key); !checked)
        return checked.error();
    if (!m_kvTableExists)
        return std::optional<QByteArray>();
    const Result<sqlite3_stmt *> statement = kvStatement(KvGet);
    if (!statement)
        return statement.error();
    sqlite3_stmt *get = *statement;
    StatementScope scope { get };
    bindText(get, 1, key.toUtf8());
    const int code = sqlite3_step(get);
    if (code == SQLITE_ROW)
        return std::optional<QByteArray>(columnBlob(get, 0));
    if (code != SQLITE_DONE)
        return sqlError(code);
    return std::optional<QByteArray>();
}

Result<StorageEntries> DurableObjectStorage::get(const QStringList &keys)
{
    if (m_limits.enforce && m_backend == StorageBackend::KeyValue
        && keys.size() > dostorage::kMaxBatchKeys) {
        // workerd's text. workerd checks no key sizes in a bulk read.
        return Error::rangeError(
            QStringLiteral("Maximum number of key value pairs is %1. %2 pairs were provided.")
                .arg(dostorage::kMaxBatchKeys)
                .arg(keys.size()));
    }
    StorageEntries entries;
    if (!m_kvTableExists)
        return entries;

    std::set<QByteArray> sortedKeys; // QByteArray compares bytes as unsigned, like memcmp
    for (const QString &key : keys)
        sortedKeys.insert(key.toUtf8());
    const Result<sqlite3_stmt *> statement = kvStatement(KvGet);
    if (!statement)
        return statement.error();
    sqlite3_stmt *get = *statement;
    for (const QByteArray &key : sortedKeys) {
        StatementScope scope { get };
        bindText(get, 1, key);
        const int code = sqlite3_step(get);
        if (code == SQLITE_ROW)
            entries.emplace_back(QString::fromUtf8(key), columnBlob(get, 0));
        else if (code != SQLITE_DONE)
            return sqlError(code);
    }
    return entries;
}

Status DurableObjectStorage::writeEntry(const QString &key, const QByteArray &value)
{
    const Result<sqlite3_stmt *> statement = kvStatement(KvPut);
    if (!statement)
        return statement.error();
    sqlite3_stmt *put = *statement;
    StatementScope scope { put };
    // Binding fails with SQLITE_TOOBIG past SQLITE_LIMIT_LENGTH, before anything is written.
    int code = bindText(put, 1, key.toUtf8());
    if (code == SQLITE_OK)
        code = bindBlob(put, 2, value);
    if (code == SQLITE_OK)
        code = sqlite3_step(put);
    if (code != SQLITE_DONE)
        return sqlError(code);
    return Done {};
}

Result<bool> DurableObjectStorage::deleteEntry(const QString &key)
{
    const Result<sqlite3_stmt *> statement = kvStatement(KvDelete);
    if (!statement)
        return statement.error();
    sqlite3_stmt *remove = *statement;
    StatementScope scope { remove };
    bindText(remove, 1, key.toUtf8());
    const int code = sqlite3_step(remove);
    if (code != SQLITE_DONE)
        return sqlError(code);
    return sqlite3_changes(m_db) > 0;
}

Status DurableObjectStorage::put(const QString &key, const std::optional<QByteArray> &value)
{
    if (!value)
        return Error::typeError(QStringLiteral("put() called with undefined value."));
    if (Status checked = checkEntry(key, *value); !checked)
        return checked;
    return writeEntries(StorageEntries { { key, *value } });
}

Status DurableObjectStorage::put(const StorageEntries &entries)
{
    if (m_limits.enforce && m_backend == StorageBackend::KeyValue
        && qsizetype(entries.size()) > dostorage::kMaxBatchKeys) {
        // NOTE: the documented limit, with legacy Miniflare 2's text. workerd's KV-backed cache
        // splits larger batches, so production may accept them.
        return Error::rangeError(
            QStringLiteral("Maximum number of pairs is %1.").arg(dostorage::kMaxBatchKeys));
    }
    for (const auto &[key, value] : entries) {
        if (Status checked = checkEntry(key, value); !checked)
            return checked;
    }
    return writeEntries(entries);
}

// Writes checked entries inside a savepoint, so that they are all-or-nothing when SQLite rejects
// one of them (a value past SQLITE_LIMIT_LENGTH).
Status DurableObjectStorage::writeEntries(const StorageEntries &entries)
{
    if (entries.empty())
        return Done {};
    if (Status batch = ensureBatch(); !batch)
        return batch;
    if (Status saved = execute("SAVEPOINT _cf_put"); !saved)
        return saved;
    Status written = ensureKvTable();
    for (auto entry = entries.begin(); written && entry != entries.end(); ++entry)
        written = writeEntry(entry->first, entry->second);
    if (!written) {
        executeCleanup("ROLLBACK TO _cf_put");
        executeCleanup("RELEASE _cf_put");
        refreshKvTableState();
        return written;
    }
    return execute("RELEASE _cf_put");
}

Result<bool> DurableObjectStorage::remove(const QString &key)
{
    if (Status checked = checkKey(key); !checked)
        return checked.error();
    const Result<qint64> removed = deleteEntries(QStringList { key });
    if (!removed)
        return removed.error();
    return *removed > 0;
}

Result<qint64> DurableObjectStorage::remove(const QStringList &keys)
{
    if (m_limits.enforce && m_backend == StorageBackend::KeyValue
        && keys.size() > dostorage::kMaxBatchKeys) {
        // The same documented limit and source of the text as put(entries).
        return Error::rangeError(
            QStringLiteral("Maximum number of keys is %1.").arg(dostorage::kMaxBatchKeys));
    }
    for (const QString &key : keys) {
        if (Status checked = checkKey(key); !checked)
            return checked.error();
    }
    return deleteEntries(keys);
}

// Deletes checked keys inside a savepoint and returns how many existed. A duplicate key counts
// once.
Result<qint64> DurableObjectStorage::deleteEntries(const QStringList &keys)
{
    if (keys.isEmpty() || !m_kvTableExists)
        return qint64(0);
    if (Status batch = ensureBatch(); !batch)
        return batch.error();
    if (Status saved = execute("SAVEPOINT _cf_delete"); !saved)
        return saved.error();
    qint64 count = 0;
    for (const QString &key : keys) {
        const Result<bool> removed = deleteEntry(key);
        if (!removed) {
            executeCleanup("ROLLBACK TO _cf_delete");
            executeCleanup("RELEASE _cf_delete");
            return removed.error();
        }
        count += *removed ? 1 : 0;
    }
    if (Status released = execute("RELEASE _cf_delete"); !released)
        return released.error();
    return count;
}

Result<StorageEntries> DurableObjectStorage::list(const StorageListOptions &options)
{
    // workerd checks start with startAfter first, then the limit.
    if (options.start && options.startAfter)
        return Error::typeError(
            QStringLiteral("list() cannot be called with both start and startAfter values."));
    if (options.limit && *options.limit <= 0)
        return Error::typeError(QStringLiteral("List limit must be positive."));

    StorageEntries entries;
    const std::optional<KeyRange> range = compileRange(options);
    if (!range || !m_kvTableExists)
        return entries;

    KvStatement kind = range->end ? KvListUpTo : KvListUp;
    if (options.reverse)
        kind = range->end ? KvListDownTo : KvListDown;
    const Result<sqlite3_stmt *> statement = kvStatement(kind);
    if (!statement)
        return statement.error();
    sqlite3_stmt *list = *statement;
    StatementScope scope { list };
    bindText(list, 1, range->start);
    if (range->end)
        bindText(list, 2, *range->end);
    sqlite3_bind_int64(list, 3, options.limit ? *options.limit : -1); // -1: no limit
    int code = SQLITE_ROW;
    while ((code = sqlite3_step(list)) == SQLITE_ROW)
        entries.emplace_back(columnText(list, 0), columnBlob(list, 1));
    if (code != SQLITE_DONE)
        return sqlError(code);
    return entries;
}

Status DurableObjectStorage::deleteAll()
{
    if (m_transactionDepth > 0)
        return Error::error(QStringLiteral("Cannot call deleteAll() within a transaction"));
    if (Status batch = ensureBatch(); !batch)
        return batch;
    if (Status saved = execute("SAVEPOINT _cf_delete_all"); !saved)
        return saved;
    Status dropped = dropEverything();
    if (!dropped) {
        executeCleanup("ROLLBACK TO _cf_delete_all");
        executeCleanup("RELEASE _cf_delete_all");
        return dropped;
    }
    m_kvTableExists = false;
    return execute("RELEASE _cf_delete_all");
}

// Drops views first, then virtual tables (which drop their shadow tables), then the other
// tables with their indexes and triggers. workerd deletes the whole database file instead.
Status DurableObjectStorage::dropEverything()
{
    // Foreign keys between the tables must not stop the drops. The setting ends with the batch.
    if (Status deferred = execute("PRAGMA defer_foreign_keys = ON"); !deferred)
        return deferred;
    constexpr const char *kNextObject
        = "SELECT type, name FROM sqlite_master WHERE type IN ('table', 'view') "
          "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
          "ORDER BY type = 'view' DESC, sql LIKE 'CREATE VIRTUAL TABLE%' DESC LIMIT 1";
    for (;;) {
        sqlite3_stmt *raw = nullptr;
        const int prepared = sqlite3_prepare_v2(m_db, kNextObject, -1, &raw, nullptr);
        StatementPtr next(raw);
        if (prepared != SQLITE_OK)
            return sqlError(prepared);
        const int code = sqlite3_step(next.get());
        if (code == SQLITE_DONE)
            break;
        if (code != SQLITE_ROW)
            return sqlError(code);
        const QByteArray type = columnBlob(next.get(), 0);
        const QByteArray name = columnBlob(next.get(), 1);
        next.reset();
        const QByteArray drop
            = (type == "view" ? "DROP VIEW " : "DROP TABLE ") + quoteIdentifier(name);
        if (Status done = execute(drop.constData()); !done)
            return done;
    }
    // ANALYZE statistics describe the dropped tables.
    for (const char *statistics : { "sqlite_stat1", "sqlite_stat4" }) {
        const QByteArray drop = QByteArray("DROP TABLE IF EXISTS ") + statistics;
        if (Status done = execute(drop.constData()); !done)
            return done;
    }
    return Done {};
}

// --- The write batch and transactions -------------------------------------------------------

Status DurableObjectStorage::commitBatch()
{
    if (!m_batchOpen)
        return Done {};
    if (m_transactionDepth > 0) {
        return Error::error(QStringLiteral("Cannot commit the write batch while a transaction is "
                                           "open (depth %1). Commit or roll back the "
                                           "transaction first.")
                                .arg(m_transactionDepth));
    }
    if (Status committed = execute("COMMIT"); !committed)
        return committed;
    m_batchOpen = false;
    return Done {};
}

void DurableObjectStorage::rollbackBatch()
{
    if (m_batchOpen && !sqlite3_get_autocommit(m_db))
        executeCleanup("ROLLBACK");
    m_batchOpen = false;
    m_transactionDepth = 0;
    m_savepointsLost = false;
    refreshKvTableState();
}

Status DurableObjectStorage::beginTransaction()
{
    if (Status batch = ensureBatch(); !batch)
        return batch;
    const QByteArray savepoint = "SAVEPOINT _cf_txn_" + QByteArray::number(m_transactionDepth + 1);
    if (Status begun = execute(savepoint.constData()); !begun)
        return begun;
    ++m_transactionDepth;
    return Done {};
}

Status DurableObjectStorage::commitTransaction()
{
    if (m_transactionDepth == 0)
        return Error::error(QStringLiteral("No transaction is open to commit."));
    if (m_savepointsLost) {
        // workerd's text for transactionSync() after SQLite rolled back on its own.
        return Error::error(
            QStringLiteral("Cannot commit transaction due to an earlier SQL critical error"));
    }
    const QByteArray release = "RELEASE _cf_txn_" + QByteArray::number(m_transactionDepth);
    if (Status released = execute(release.constData()); !released)
        return released;
    --m_transactionDepth;
    return Done {};
}

void DurableObjectStorage::rollbackTransaction()
{
    if (m_transactionDepth == 0)
        return;
    if (m_savepointsLost) {
        if (--m_transactionDepth == 0)
            m_savepointsLost = false;
        return;
    }
    const QByteArray name = "_cf_txn_" + QByteArray::number(m_transactionDepth);
    executeCleanup(("ROLLBACK TO " + name).constData());
    executeCleanup(("RELEASE " + name).constData());
    --m_transactionDepth;
    refreshKvTableState();
}

Error DurableObjectStorage::rolledBackError(QStringView op)
{
    return Error::error(QStringLiteral("Cannot %1 on rolled back transaction").arg(op));
}

Error DurableObjectStorage::committedError(QStringView op)
{
    return Error::error(QStringLiteral("Cannot call %1 on transaction that has already "
                                       "committed: did you move `txn` outside of the closure?")
                            .arg(op));
}

Status DurableObjectStorage::checkTransactionSyncAvailable() const
{
    if (m_backend == StorageBackend::KeyValue)
        return Error::error(QStringLiteral("Durable Object is not backed by SQL."));
    return Done {};
}

Status DurableObjectStorage::checkSyncKvAvailable() const
{
    if (m_backend == StorageBackend::KeyValue)
        return Error::error(kSyncKvNotAvailable);
    return Done {};
}

// --- SQL ------------------------------------------------------------------------------------

Result<SqlCursor> DurableObjectStorage::exec(const QString &query, const QVariantList &bindings)
{
    if (m_backend == StorageBackend::KeyValue)
        return Error::error(kSqlNotEnabled);
    return run(query, bindings, SqlMode::User);
}

Result<SqlCursor> DurableObjectStorage::inspect(const QString &query)
{
    return run(query, {}, SqlMode::Inspector);
}

// After a statement failed: SQLite rolls back the whole transaction on its own for some errors
// (ON CONFLICT ROLLBACK, RAISE(ROLLBACK), running out of memory), and then the batch and the
// savepoints of every open transaction are gone.
void DurableObjectStorage::noteFailedStatement()
{
    if (!m_batchOpen || !sqlite3_get_autocommit(m_db))
        return;
    m_batchOpen = false;
    m_savepointsLost = m_transactionDepth > 0;
    refreshKvTableState();
}

// workerd's prepareSql() with MULTI: each statement but the last is prepared and stepped once
// in turn, and the last one takes the bindings and gives the cursor.
Result<SqlCursor> DurableObjectStorage::run(
    const QString &query, const QVariantList &bindings, SqlMode mode)
{
    const bool user = mode == SqlMode::User;
    // Production limits strings, BLOBs and rows of user SQL to 2 MB. KV writes keep the local
    // limit because checkEntry() checks their production limit.
    const bool productionLength = user && m_limits.enforce;
    if (productionLength)
        sqlite3_limit(m_db, SQLITE_LIMIT_LENGTH, dostorage::kMaxSqliteLength);
    m_authorizerRules = user ? AuthorizerRules::Workerd : AuthorizerRules::ReadOnly;
    struct Restore
    {
        DurableObjectStorage *storage;
        bool length;
        ~Restore()
        {
            storage->m_authorizerRules = AuthorizerRules::None;
            if (length)
                sqlite3_limit(storage->m_db, SQLITE_LIMIT_LENGTH, dostorage::kLocalMaxSqliteLength);
        }
    } restore { this, productionLength };

    const QByteArray sql = query.toUtf8();
    const char *remaining = sql.constData();
    const char *end = remaining + sql.size();
    SqlCursor cursor;
    for (;;) {
        m_authorizerError.reset();
        sqlite3_stmt *raw = nullptr;
        const char *tail = nullptr;
        const int prepared = sqlite3_prepare_v2(m_db, remaining, int(end - remaining), &raw, &tail);
        StatementPtr statement(raw);
        if (prepared != SQLITE_OK) {
            if (prepared == SQLITE_AUTH && m_authorizerError)
                return *m_authorizerError;
            return sqlError(prepared);
        }
        if (!statement)
            return Error::error(QStringLiteral("SQL code did not contain a statement."));
        while (tail != end && isSqlWhitespace(*tail))
            ++tail;
        const bool last = tail == end;
        sqlite3_stmt *step = statement.get();

        const bool readOnly = sqlite3_stmt_readonly(step);
        if (!user && !readOnly)
            return Error::error(kInspectorReadOnly);
        const int parameters = sqlite3_bind_parameter_count(step);
        if (!last && parameters != 0)
            return Error::error(QStringLiteral(
                "When executing multiple SQL statements in a single call, only the last "
                "statement can have parameters."));
        if (last && parameters != bindings.size())
            return Error::error(
                QStringLiteral("Wrong number of parameter bindings for SQL query."));
        if (last) {
            for (int i = 0; i < parameters; ++i) {
                if (Status bound = bindValue(step, i + 1, bindings.at(i)); !bound)
                    return bound.error();
            }
        }
        if (!readOnly) {
            if (Status batch = ensureBatch(); !batch)
                return batch.error();
        }

        const sqlite3_int64 changesBefore = sqlite3_total_changes64(m_db);
        if (last) {
            const int columns = sqlite3_column_count(step);
            for (int column = 0; column < columns; ++column)
                cursor.columnNames << QString::fromUtf8(sqlite3_column_name(step, column));
        }
        int code = SQLITE_ROW;
        while ((code = sqlite3_step(step)) == SQLITE_ROW) {
            ++cursor.rowsRead;
            if (!last)
                break; // workerd steps an earlier statement once and drops its rows
            QVariantList row;
            row.reserve(sqlite3_column_count(step));
            for (int column = 0; column < sqlite3_column_count(step); ++column)
                row << columnValue(step, column);
            cursor.rows.push_back(std::move(row));
        }
        if (code != SQLITE_ROW && code != SQLITE_DONE) {
            const Error failed = sqlError(code);
            statement.reset();
            noteFailedStatement();
            return failed;
        }
        cursor.rowsWritten += sqlite3_total_changes64(m_db) - changesBefore;
        if (last)
            return cursor;
        remaining = tail;
    }
}

qint64 DurableObjectStorage::databaseSize() const
{
    sqlite3_stmt *raw = nullptr;
    sqlite3_prepare_v2(m_db,
        "SELECT (SELECT * FROM pragma_page_count) - "
        "(SELECT * FROM pragma_freelist_count), (SELECT * FROM pragma_page_size)",
        -1, &raw, nullptr);
    const StatementPtr statement(raw);
    if (!statement || sqlite3_step(statement.get()) != SQLITE_ROW)
        return 0;
    return sqlite3_column_int64(statement.get(), 0) * sqlite3_column_int64(statement.get(), 1);
}

QStringList DurableObjectStorage::tableNames()
{
    QStringList names;
    sqlite3_stmt *raw = nullptr;
    sqlite3_prepare_v2(m_db,
        "SELECT name FROM sqlite_master WHERE type = 'table' "
        "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
        -1, &raw, nullptr);
    const StatementPtr statement(raw);
    while (statement && sqlite3_step(statement.get()) == SQLITE_ROW)
        names << columnText(statement.get(), 0);
    return names;
}

} // namespace roomscope
