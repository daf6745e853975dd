#pragma once

#include "dostorage.h"
#include "result.h"

#include <QJsonValue>
#include <QString>
#include <QStringList>

#include <optional>
#include <utility>
#include <vector>

namespace roomscope {

/// The fields of a wrangler configuration file (wrangler.json, wrangler.jsonc or wrangler.toml)
/// that a local run needs, read as wrangler reads them. Other fields are ignored.
struct WranglerConfig
{
    struct KvNamespaceBinding
    {
        QString binding;
        QString id;
        QString previewId;
    };
    struct DurableObjectBinding
    {
        QString name;
        QString className;
        QString scriptName; ///< another Worker that exports the class; empty for this Worker
    };
    struct Migration
    {
        QString tag;
        QStringList newClasses; ///< key-value storage backend
        QStringList newSqliteClasses;
        std::vector<std::pair<QString, QString>> renamedClasses; ///< from, to
        QStringList deletedClasses;
        QStringList transferredClasses;
    };
    /// An entry of the declarative `exports` table, keyed by class name.
    struct ClassExport
    {
        QString className;
        QString type; ///< "durable-object"
        QString storage; ///< "sqlite", "legacy-kv" or empty
        QString state; ///< empty or "created" for a live class; "deleted", "renamed", ...
    };

    QString path; ///< absolute path of the file
    QString name;
    QString main; ///< the entry module, relative to the file's folder
    QString compatibilityDate; ///< YYYY-MM-DD, or empty
    QStringList compatibilityFlags;
    std::vector<KvNamespaceBinding> kvNamespaces;
    std::vector<DurableObjectBinding> durableObjectBindings;
    std::vector<Migration> migrations;
    std::vector<ClassExport> exports;
    /// Plain values on `env`: strings, numbers and booleans as they are, objects as JSON.
    std::vector<std::pair<QString, QJsonValue>> vars;
    QStringList environments; ///< the names of the `env.<name>` sections
    QString environment; ///< the section that was applied; empty for the top level

    /// Reads a configuration file: TOML for a .toml file, JSON with comments otherwise. A non-empty `environment` applies the `env.<environment>` section
    /// as wrangler's `--env` does. Errors name the file, line, column and field.
    static Result<WranglerConfig> load(const QString &path, const QString &environment = {});
    /// Parses JSON with comments and trailing commas (wrangler.json and wrangler.jsonc).
    static Result<WranglerConfig> parseJsonc(const QByteArray &text, const QString &sourceName,
                                             const QString &environment = {});
    /// Parses TOML (wrangler.toml).
    static Result<WranglerConfig> parseToml(const QByteArray &text, const QString &sourceName,
                                            const QString &environment = {});

    /// Finds the configuration file that wrangler uses for a script in `folder`: the nearest
    /// wrangler.json in the folder or its parents up to the root, else the nearest
    /// wrangler.jsonc, else the nearest wrangler.toml. Returns an empty string when none exists.
    static QString find(const QString &folder);

    /// True for a path that names a wrangler configuration file rather than a scenario: a .toml
    /// or .jsonc file, or a .json file whose name starts with "wrangler".
    static bool isConfigPath(const QString &path);

    /// The storage backend the migrations or the `exports` table give `className`, following
    /// renames; nothing when no migration or export creates the class.
    std::optional<StorageBackend> storageBackend(const QString &className) const;
};

/// Replaces the comments and trailing commas of JSON with comments (JSONC) by spaces, keeping
/// every other byte and line break where it was, so that positions in the result are positions
/// in the input. Text inside strings is left alone.
QByteArray stripJsonComments(const QByteArray &text);

} // namespace roomscope
