#include "wranglerconfig.h"

#include "jsonlocator.h"

#include <QDate>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <toml++/toml.h>

#include <functional>
#include <map>
#include <sstream>

namespace roomscope {

QByteArray stripJsonComments(const QByteArray &text)
{
    QByteArray out = text;
    const qsizetype size = out.size();

    // First pass: blank out comments, keeping line breaks so that lines keep their numbers.
    for (qsizetype i = 0; i < size; ++i) {
        const char c = out[i];
        if (c == '"') {
            for (++i; i < size && out[i] != '"'; ++i) {
                if (out[i] == '\\')
                    ++i;
            }
        } else if (c == '/' && i + 1 < size && out[i + 1] == '/') {
            for (; i < size && out[i] != '\n'; ++i)
                out[i] = ' ';
        } else if (c == '/' && i + 1 < size && out[i + 1] == '*') {
            out[i] = ' ';
            out[i + 1] = ' ';
            for (i += 2; i < size && !(out[i] == '*' && i + 1 < size && out[i + 1] == '/'); ++i) {
                if (out[i] != '\n')
                    out[i] = ' ';
            }
            if (i < size) {
                out[i] = ' ';
                out[i + 1] = ' ';
                ++i;
            }
        }
    }

    // Second pass: blank out a comma that only white space separates from a closing bracket.
    for (qsizetype i = 0; i < size; ++i) {
        const char c = out[i];
        if (c == '"') {
            for (++i; i < size && out[i] != '"'; ++i) {
                if (out[i] == '\\')
                    ++i;
            }
        } else if (c == ',') {
            qsizetype next = i + 1;
            while (next < size && QChar::isSpace(uchar(out[next])))
                ++next;
            if (next < size && (out[next] == '}' || out[next] == ']'))
                out[i] = ' ';
        }
    }
    return out;
}

namespace {

using P = JsonPath;
/// Maps a path in the document to the 1-based line and column of its value.
using Locate = std::function<std::pair<int, int>(const JsonPath &)>;

P child(P path, JsonPathStep step)
{
    path.push_back(std::move(step));
    return path;
}

/// Reads typed fields out of the parsed document and keeps the first error, with the file,
/// line, column and field it concerns.
class ConfigReader
{
public:
    ConfigReader(QString sourceName, Locate locate)
        : m_sourceName(std::move(sourceName)), m_locate(std::move(locate))
    {
    }

    bool failed() const { return m_error.has_value(); }
    Error error() const { return *m_error; }

    void fail(const P &path, const QString &problem)
    {
        if (m_error)
            return;
        const auto [line, column] = m_locate(path);
        m_error = Error::error(QStringLiteral("%1:%2:%3: %4: %5")
                                       .arg(m_sourceName)
                                       .arg(line)
                                       .arg(column)
                                       .arg(path.empty() ? QStringLiteral("(top level)")
                                                         : formatJsonPath(path),
                                            problem));
    }

    QJsonObject object(const QJsonValue &value, const P &path)
    {
        if (value.isUndefined())
            return {};
        if (!value.isObject()) {
            fail(path, QStringLiteral("expected an object, found %1").arg(describeJsonValue(value)));
            return {};
        }
        return value.toObject();
    }

    QJsonArray array(const QJsonValue &value, const P &path)
    {
        if (value.isUndefined())
            return {};
        if (!value.isArray()) {
            fail(path, QStringLiteral("expected a list, found %1").arg(describeJsonValue(value)));
            return {};
        }
        return value.toArray();
    }

    QString string(const QJsonObject &parent, const P &parentPath, const QString &name,
                   bool required)
    {
        const QJsonValue value = parent.value(name);
        if (value.isUndefined()) {
            if (required)
                fail(parentPath, QStringLiteral("missing field \"%1\" (a string)").arg(name));
            return {};
        }
        if (!value.isString() || value.toString().isEmpty()) {
            fail(child(parentPath, name),
                 QStringLiteral("expected a non-empty string, found %1").arg(describeJsonValue(value)));
            return {};
        }
        return value.toString();
    }

    QStringList strings(const QJsonValue &value, const P &path)
    {
        QStringList result;
        const QJsonArray items = array(value, path);
        for (int i = 0; i < items.size(); ++i) {
            if (!items.at(i).isString() || items.at(i).toString().isEmpty()) {
                fail(child(path, i), QStringLiteral("expected a non-empty string, found %1")
                                             .arg(describeJsonValue(items.at(i))));
                return result;
            }
            result << items.at(i).toString();
        }
        return result;
    }

private:
    QString m_sourceName;
    Locate m_locate;
    std::optional<Error> m_error;
};

/// The source of the top-level fields: the top level itself, or an `env.<name>` section.
struct FieldSource
{
    QJsonObject root;
    QJsonObject section; ///< the environment's section; empty for the top level
    P sectionPath; ///< env.<name>, or empty
};

/// Keys that wrangler does not copy from the top level into an environment: an environment
/// that needs them declares its own. `migrations` is read from the top level only.
bool isNonInheritable(const QString &key)
{
    return key == QLatin1String("vars") || key == QLatin1String("kv_namespaces")
        || key == QLatin1String("durable_objects");
}

std::pair<QJsonValue, P> field(const FieldSource &source, const QString &key)
{
    if (source.sectionPath.empty() || key == QLatin1String("migrations"))
        return { source.root.value(key), P { key } };
    if (source.section.contains(key) || isNonInheritable(key))
        return { source.section.value(key), child(source.sectionPath, key) };
    return { source.root.value(key), P { key } };
}

void readKvNamespaces(ConfigReader &reader, const FieldSource &source, WranglerConfig &config)
{
    const auto [value, path] = field(source, QStringLiteral("kv_namespaces"));
    const QJsonArray items = reader.array(value, path);
    for (int i = 0; i < items.size() && !reader.failed(); ++i) {
        const P itemPath = child(path, i);
        const QJsonObject item = reader.object(items.at(i), itemPath);
        WranglerConfig::KvNamespaceBinding binding;
        binding.binding = reader.string(item, itemPath, QStringLiteral("binding"), true);
        binding.id = reader.string(item, itemPath, QStringLiteral("id"), false);
        binding.previewId = reader.string(item, itemPath, QStringLiteral("preview_id"), false);
        config.kvNamespaces.push_back(binding);
    }
}

void readDurableObjects(ConfigReader &reader, const FieldSource &source, WranglerConfig &config)
{
    const auto [value, path] = field(source, QStringLiteral("durable_objects"));
    const QJsonObject objects = reader.object(value, path);
    const P bindingsPath = child(path, QStringLiteral("bindings"));
    const QJsonArray items = reader.array(objects.value(QStringLiteral("bindings")), bindingsPath);
    for (int i = 0; i < items.size() && !reader.failed(); ++i) {
        const P itemPath = child(bindingsPath, i);
        const QJsonObject item = reader.object(items.at(i), itemPath);
        WranglerConfig::DurableObjectBinding binding;
        binding.name = reader.string(item, itemPath, QStringLiteral("name"), true);
        binding.className = reader.string(item, itemPath, QStringLiteral("class_name"), true);
        binding.scriptName = reader.string(item, itemPath, QStringLiteral("script_name"), false);
        config.durableObjectBindings.push_back(binding);
    }
}

/// Reads the class names of `transferred_classes`: objects {from, from_script, to}, of which
/// `to` names the class in this Worker, or plain names.
QStringList readTransferredClasses(ConfigReader &reader, const QJsonValue &value, const P &path)
{
    QStringList names;
    const QJsonArray items = reader.array(value, path);
    for (int i = 0; i < items.size() && !reader.failed(); ++i) {
        if (items.at(i).isString()) {
            names << items.at(i).toString();
            continue;
        }
        const QJsonObject item = reader.object(items.at(i), child(path, i));
        names << reader.string(item, child(path, i), QStringLiteral("to"), true);
    }
    return names;
}

void readMigrations(ConfigReader &reader, const FieldSource &source, WranglerConfig &config)
{
    const auto [value, path] = field(source, QStringLiteral("migrations"));
    const QJsonArray items = reader.array(value, path);
    for (int i = 0; i < items.size() && !reader.failed(); ++i) {
        const P itemPath = child(path, i);
        const QJsonObject item = reader.object(items.at(i), itemPath);
        WranglerConfig::Migration migration;
        migration.tag = reader.string(item, itemPath, QStringLiteral("tag"), false);
        const auto list = [&](const char *name) {
            return reader.strings(item.value(QLatin1String(name)),
                                  child(itemPath, QLatin1String(name)));
        };
        migration.newClasses = list("new_classes");
        migration.newSqliteClasses = list("new_sqlite_classes");
        migration.deletedClasses = list("deleted_classes");
        migration.transferredClasses =
                readTransferredClasses(reader, item.value(QStringLiteral("transferred_classes")),
                                       child(itemPath, QStringLiteral("transferred_classes")));
        const P renamedPath = child(itemPath, QStringLiteral("renamed_classes"));
        const QJsonArray renamed = reader.array(item.value(QStringLiteral("renamed_classes")),
                                                renamedPath);
        for (int r = 0; r < renamed.size() && !reader.failed(); ++r) {
            const QJsonObject rename = reader.object(renamed.at(r), child(renamedPath, r));
            migration.renamedClasses.emplace_back(
                    reader.string(rename, child(renamedPath, r), QStringLiteral("from"), true),
                    reader.string(rename, child(renamedPath, r), QStringLiteral("to"), true));
        }
        config.migrations.push_back(migration);
    }
}

void readExports(ConfigReader &reader, const FieldSource &source, WranglerConfig &config)
{
    const auto [value, path] = field(source, QStringLiteral("exports"));
    const QJsonObject table = reader.object(value, path);
    for (auto it = table.begin(); it != table.end() && !reader.failed(); ++it) {
        const P itemPath = child(path, it.key());
        const QJsonObject item = reader.object(it.value(), itemPath);
        WranglerConfig::ClassExport entry;
        entry.className = it.key();
        entry.type = reader.string(item, itemPath, QStringLiteral("type"), true);
        entry.storage = reader.string(item, itemPath, QStringLiteral("storage"), false);
        entry.state = reader.string(item, itemPath, QStringLiteral("state"), false);
        if (!reader.failed() && !entry.storage.isEmpty() && entry.storage != QLatin1String("sqlite")
            && entry.storage != QLatin1String("legacy-kv"))
            reader.fail(child(itemPath, QStringLiteral("storage")),
                        QStringLiteral("expected \"sqlite\" or \"legacy-kv\", found \"%1\"")
                                .arg(entry.storage));
        config.exports.push_back(entry);
    }
    if (!reader.failed() && !config.exports.empty() && !config.migrations.empty())
        reader.fail(path, QStringLiteral("\"exports\" and \"migrations\" cannot be combined: "
                                         "declare the Durable Object classes in one of them "
                                         "and remove the other"));
}

void readVars(ConfigReader &reader, const FieldSource &source, WranglerConfig &config)
{
    const auto [value, path] = field(source, QStringLiteral("vars"));
    const QJsonObject vars = reader.object(value, path);
    for (auto it = vars.begin(); it != vars.end(); ++it)
        config.vars.emplace_back(it.key(), it.value());
}

void readScalars(ConfigReader &reader, const FieldSource &source, WranglerConfig &config)
{
    const auto readString = [&](const QString &key) {
        const auto [value, path] = field(source, key);
        if (value.isUndefined())
            return QString();
        if (!value.isString() || value.toString().isEmpty()) {
            reader.fail(path, QStringLiteral("expected a non-empty string, found %1")
                                      .arg(describeJsonValue(value)));
            return QString();
        }
        return value.toString();
    };
    config.name = readString(QStringLiteral("name"));
    config.main = readString(QStringLiteral("main"));
    config.compatibilityDate = readString(QStringLiteral("compatibility_date"));
    if (!reader.failed() && !config.compatibilityDate.isEmpty()
        && !QDate::fromString(config.compatibilityDate, Qt::ISODate).isValid())
        reader.fail(field(source, QStringLiteral("compatibility_date")).second,
                    QStringLiteral("expected a date such as \"2026-01-01\", found \"%1\"")
                            .arg(config.compatibilityDate));
    const auto [flags, flagsPath] = field(source, QStringLiteral("compatibility_flags"));
    config.compatibilityFlags = reader.strings(flags, flagsPath);
}

/// Reads the fields from a parsed document; `locate` turns a path into a line and column.
Result<WranglerConfig> readConfig(const QJsonObject &root, const QString &sourceName,
                                  const Locate &locate, const QString &environment)
{
    ConfigReader reader(sourceName, locate);
    WranglerConfig config;
    const QJsonObject environments = reader.object(root.value(QStringLiteral("env")),
                                                   P { QStringLiteral("env") });
    config.environments = environments.keys();
    FieldSource source { root, {}, {} };
    if (!environment.isEmpty() && !reader.failed()) {
        if (!environments.contains(environment)) {
            const QString known = config.environments.isEmpty()
                    ? QStringLiteral("the file declares no environments")
                    : QStringLiteral("its environments are %1")
                              .arg(config.environments.join(QStringLiteral(", ")));
            return Error::error(QStringLiteral("%1: no environment \"%2\" (env.%2); %3.")
                                        .arg(sourceName, environment, known));
        }
        const P sectionPath { QStringLiteral("env"), environment };
        source.section = reader.object(environments.value(environment), sectionPath);
        source.sectionPath = sectionPath;
        config.environment = environment;
    }

    readScalars(reader, source, config);
    // wrangler names an environment's Worker "<name>-<environment>" unless the section sets a
    // name of its own.
    if (!environment.isEmpty() && !source.section.contains(QStringLiteral("name"))
        && !config.name.isEmpty())
        config.name += QLatin1Char('-') + environment;
    if (!reader.failed())
        readKvNamespaces(reader, source, config);
    if (!reader.failed())
        readDurableObjects(reader, source, config);
    if (!reader.failed())
        readMigrations(reader, source, config);
    if (!reader.failed())
        readExports(reader, source, config);
    if (!reader.failed())
        readVars(reader, source, config);
    if (reader.failed())
        return reader.error();
    return config;
}

// --- TOML ----------------------------------------------------------------------------------

/// Converts a TOML value to JSON and records the line and column of each value by its path.
QJsonValue tomlToJson(const toml::node &node, const P &path,
                      std::map<QString, std::pair<int, int>> &positions)
{
    positions[formatJsonPath(path)] = { int(node.source().begin.line),
                                        int(node.source().begin.column) };
    if (const toml::table *table = node.as_table()) {
        QJsonObject object;
        for (const auto &[key, value] : *table) {
            const QString name = QString::fromUtf8(key.str().data(), qsizetype(key.str().size()));
            object.insert(name, tomlToJson(value, child(path, name), positions));
        }
        return object;
    }
    if (const toml::array *array = node.as_array()) {
        QJsonArray list;
        for (size_t i = 0; i < array->size(); ++i)
            list.append(tomlToJson(*array->get(i), child(path, int(i)), positions));
        return list;
    }
    if (const auto *text = node.as_string())
        return QString::fromStdString(text->get());
    if (const auto *integer = node.as_integer())
        return double(integer->get());
    if (const auto *number = node.as_floating_point())
        return number->get();
    if (const auto *boolean = node.as_boolean())
        return boolean->get();
    if (const auto *date = node.as_date()) {
        // An unquoted date, such as compatibility_date = 2026-01-01.
        return QDate(date->get().year, date->get().month, date->get().day).toString(Qt::ISODate);
    }
    // A time or a date-time, written as TOML writes it.
    std::ostringstream text;
    if (const auto *time = node.as_time())
        text << time->get();
    else if (const auto *dateTime = node.as_date_time())
        text << dateTime->get();
    return QString::fromStdString(text.str());
}

} // namespace

Result<WranglerConfig> WranglerConfig::parseJsonc(const QByteArray &text,
                                                  const QString &sourceName,
                                                  const QString &environment)
{
    const QByteArray json = stripJsonComments(text);
    const JsonLocator locator(json);
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(json, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        const auto [line, column] = locator.lineAndColumn(parseError.offset);
        return Error::error(QStringLiteral("%1:%2:%3: invalid JSON: %4")
                                    .arg(sourceName)
                                    .arg(line)
                                    .arg(column)
                                    .arg(parseError.errorString()));
    }
    if (!document.isObject())
        return Error::error(QStringLiteral("%1:1:1: (top level): expected an object { ... } "
                                           "holding the Worker's configuration").arg(sourceName));
    const Locate locate = [&locator](const P &path) {
        return locator.lineAndColumn(locator.offsetOf(path));
    };
    return readConfig(document.object(), sourceName, locate, environment);
}

Result<WranglerConfig> WranglerConfig::parseToml(const QByteArray &text,
                                                 const QString &sourceName,
                                                 const QString &environment)
{
    toml::table table;
    try {
        table = toml::parse(std::string_view(text.constData(), size_t(text.size())),
                            sourceName.toStdString());
    } catch (const toml::parse_error &error) {
        return Error::error(QStringLiteral("%1:%2:%3: invalid TOML: %4")
                                    .arg(sourceName)
                                    .arg(error.source().begin.line)
                                    .arg(error.source().begin.column)
                                    .arg(QString::fromUtf8(error.description().data(),
                                                           qsizetype(error.description().size()))));
    }
    std::map<QString, std::pair<int, int>> positions;
    const QJsonObject root = tomlToJson(table, {}, positions).toObject();
    // A path that the document lacks is located at its deepest enclosing value.
    const Locate locate = [&positions](P path) {
        for (;; path.pop_back()) {
            const auto found = positions.find(formatJsonPath(path));
            if (found != positions.end() && found->second.first > 0)
                return found->second;
            if (path.empty())
                return std::pair<int, int>(1, 1);
        }
    };
    return readConfig(root, sourceName, locate, environment);
}

Result<WranglerConfig> WranglerConfig::load(const QString &path, const QString &environment)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return Error::error(QStringLiteral("%1: cannot open the wrangler configuration file: %2")
                                    .arg(path, file.errorString()));
    const QByteArray text = file.readAll();
    Result<WranglerConfig> config = path.endsWith(QLatin1String(".toml"))
            ? parseToml(text, path, environment)
            : parseJsonc(text, path, environment);
    if (config)
        config.value().path = QFileInfo(path).absoluteFilePath();
    return config;
}

QString WranglerConfig::find(const QString &folder)
{
    // wrangler's findWranglerConfig (workers-sdk, packages/workers-utils/src/config/
    // config-helpers.ts) searches up to the root for each name in turn, so a wrangler.json in a
    // parent wins over a wrangler.jsonc here.
    for (const char *name : { "wrangler.json", "wrangler.jsonc", "wrangler.toml" }) {
        QDir dir(QFileInfo(folder).absoluteFilePath());
        for (;;) {
            const QString candidate = dir.filePath(QLatin1String(name));
            if (QFileInfo(candidate).isFile())
                return QDir::cleanPath(candidate);
            if (dir.isRoot() || !dir.cdUp())
                break;
        }
    }
    return {};
}

bool WranglerConfig::isConfigPath(const QString &path)
{
    const QString fileName = QFileInfo(path).fileName();
    return fileName.endsWith(QLatin1String(".toml")) || fileName.endsWith(QLatin1String(".jsonc"))
        || (fileName.endsWith(QLatin1String(".json"))
            && fileName.startsWith(QLatin1String("wrangler")));
}

std::optional<StorageBackend> WranglerConfig::storageBackend(const QString &className) const
{
    for (const ClassExport &entry : exports) {
        if (entry.className != className || entry.type != QLatin1String("durable-object"))
            continue;
        if (!entry.state.isEmpty() && entry.state != QLatin1String("created"))
            return std::nullopt;
        // NOTE: an entry without "storage" is taken as SQLite, the backend of new classes.
        return entry.storage == QLatin1String("legacy-kv") ? StorageBackend::KeyValue
                                                           : StorageBackend::Sqlite;
    }
    std::map<QString, StorageBackend> classes;
    for (const Migration &migration : migrations) {
        for (const QString &name : migration.newClasses)
            classes[name] = StorageBackend::KeyValue;
        for (const QString &name : migration.newSqliteClasses)
            classes[name] = StorageBackend::Sqlite;
        for (const auto &[from, to] : migration.renamedClasses) {
            const auto found = classes.find(from);
            if (found == classes.end())
                continue;
            const StorageBackend backend = found->second;
            classes.erase(found);
            classes[to] = backend;
        }
        for (const QString &name : migration.deletedClasses)
            classes.erase(name);
    }
    const auto found = classes.find(className);
    if (found == classes.end())
        return std::nullopt;
    return found->second;
}

} // namespace roomscope
