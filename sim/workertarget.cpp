// Scenarios for a Worker given as a wrangler configuration file or as a module on the command
// line: Scenario::forWranglerConfig() and Scenario::forPath().

#include "scenario.h"

#include "workerbundle.h"
#include "wranglerconfig.h"

#include <QDate>
#include <QDir>
#include <QFileInfo>
#include <QTemporaryDir>

#include <set>

namespace roomscope {

namespace {

bool isModulePath(const QString &path)
{
    return path.endsWith(QLatin1String(".js")) || path.endsWith(QLatin1String(".mjs"))
        || isTypeScriptPath(path);
}

/// Replaces a TypeScript entry by a JavaScript bundle of it in a temporary folder.
Status bundleIfTypeScript(Scenario &scenario, const QStringList &projectFolders,
                          const QString &configPath)
{
    if (!isTypeScriptPath(scenario.workerModule))
        return Done {};
    auto folder = std::make_shared<QTemporaryDir>();
    if (!folder->isValid())
        return Error::error(QStringLiteral("Cannot create a temporary folder for the bundle of "
                                           "%1: %2")
                                    .arg(scenario.workerModule, folder->errorString()));
    const Result<QString> bundle =
            bundleTypeScript(scenario.workerModule, projectFolders, folder->path(), configPath);
    if (!bundle)
        return bundle.error();
    scenario.workerEntry = scenario.workerModule;
    scenario.workerModule = *bundle;
    scenario.bundleFolder = std::move(folder);
    return Done {};
}

/// The entry module of a configuration: `moduleOverride`, or `main` relative to the file.
Result<QString> entryModule(const WranglerConfig &config, const QString &moduleOverride)
{
    const QString configName = QFileInfo(config.path).fileName();
    if (!moduleOverride.isEmpty())
        return moduleOverride;
    if (config.main.isEmpty())
        return Error::error(QStringLiteral("%1: \"main\" is missing, so the Worker has no entry "
                                           "module. Add \"main\": \"src/index.js\" to the file, "
                                           "or give the module path: roomscope run (or serve) "
                                           "path/to/worker.js --config %2")
                                    .arg(config.path, configName));
    const QString path = QFileInfo(config.path).dir().filePath(config.main);
    if (!QFileInfo(path).isFile())
        return Error::error(QStringLiteral("%1: \"main\" points to %2, which does not exist. Give "
                                           "the module path instead: roomscope run (or serve) "
                                           "path/to/worker.js --config %3")
                                    .arg(config.path, config.main, configName));
    return QDir::cleanPath(path);
}

/// Takes the KV namespace binding from the configuration, or from --kv.
Status applyKvBindings(const WranglerConfig &config, const WorkerOptions &options,
                       Scenario &scenario)
{
    if (!options.kvBinding.isEmpty()) {
        scenario.kvBinding = options.kvBinding;
        return Done {};
    }
    if (config.kvNamespaces.empty()) {
        scenario.workerBindsKv = false;
        return Done {};
    }
    if (config.kvNamespaces.size() > 1) {
        QStringList names;
        for (const WranglerConfig::KvNamespaceBinding &binding : config.kvNamespaces)
            names << binding.binding;
        return Error::error(QStringLiteral("%1: kv_namespaces declares %2 namespaces (%3), and "
                                           "Roomscope simulates one KV namespace per Worker. "
                                           "Keep one in the file, or choose one with --kv "
                                           "BINDING.")
                                    .arg(config.path)
                                    .arg(names.size())
                                    .arg(names.join(QStringLiteral(", "))));
    }
    scenario.kvBinding = config.kvNamespaces.front().binding;
    return Done {};
}

/// Takes the Durable Object bindings from the configuration. They must all bind one class of
/// this Worker, which becomes the rooms' class.
Status applyObjectBindings(const WranglerConfig &config, Scenario &scenario)
{
    std::set<QString> classes;
    for (size_t i = 0; i < config.durableObjectBindings.size(); ++i) {
        const WranglerConfig::DurableObjectBinding &binding = config.durableObjectBindings[i];
        if (!binding.scriptName.isEmpty())
            return Error::error(QStringLiteral("%1: durable_objects.bindings[%2] (%3) binds class "
                                               "%4 of the Worker \"%5\" (script_name), but "
                                               "Roomscope runs one Worker, so it can only bind "
                                               "classes that this Worker exports. Remove the "
                                               "binding, or serve that Worker on its own.")
                                        .arg(config.path)
                                        .arg(i)
                                        .arg(binding.name, binding.className, binding.scriptName));
        classes.insert(binding.className);
    }
    if (classes.empty()) {
        scenario.workerBindsRooms = false;
        return Done {};
    }
    if (classes.size() > 1) {
        QStringList pairs;
        for (const WranglerConfig::DurableObjectBinding &binding : config.durableObjectBindings)
            pairs << QStringLiteral("%1 → %2").arg(binding.name, binding.className);
        return Error::error(QStringLiteral("%1: durable_objects.bindings binds %2 classes (%3), "
                                           "and Roomscope simulates one Durable Object class per "
                                           "Worker. Keep the bindings of one class, or choose "
                                           "one with --do BINDING=Class.")
                                    .arg(config.path)
                                    .arg(classes.size())
                                    .arg(pairs.join(QStringLiteral(", "))));
    }
    scenario.roomsBinding = config.durableObjectBindings.front().name;
    scenario.roomClassName = config.durableObjectBindings.front().className;
    for (size_t i = 1; i < config.durableObjectBindings.size(); ++i)
        scenario.extraRoomsBindings << config.durableObjectBindings[i].name;
    return Done {};
}

/// Sets the rooms' storage backend from the migrations or the `exports` table.
void applyStorageBackend(const WranglerConfig &config, Scenario &scenario)
{
    if (!scenario.workerBindsRooms)
        return;
    if (const std::optional<StorageBackend> backend = config.storageBackend(scenario.roomClassName)) {
        scenario.sqliteStorage = *backend == StorageBackend::Sqlite;
        return;
    }
    // wrangler dev runs a class that no migration creates, but deploying it fails.
    scenario.sqliteStorage = true;
    scenario.loadMessages << QStringLiteral(
            "Warning: %1 declares no migration for the Durable Object class %2, so Roomscope "
            "gives it SQLite storage, as new_sqlite_classes does. wrangler dev runs the class "
            "anyway, but deploying it needs a migration: add \"migrations\": [{ \"tag\": \"v1\", "
            "\"new_sqlite_classes\": [\"%2\"] }] to the file.")
                                     .arg(QFileInfo(config.path).fileName(), scenario.roomClassName);
}

} // namespace

Result<Scenario> Scenario::forWranglerConfig(const QString &configPath,
                                             const QString &moduleOverride,
                                             const WorkerOptions &options)
{
    const Result<WranglerConfig> config = WranglerConfig::load(configPath, options.environment);
    if (!config)
        return config.error();
    const Result<QString> module = entryModule(*config, moduleOverride);
    if (!module)
        return module.error();
    Result<Scenario> built = forWorkerModule(*module, QString(), options.objectsBinding,
                                             options.sqliteClass);
    if (!built)
        return built.error();
    Scenario &scenario = built.value();
    scenario.loadMessages << QStringLiteral("Using the configuration %1%2")
                                     .arg(config->path,
                                          config->environment.isEmpty()
                                                  ? QString()
                                                  : QStringLiteral(" (environment %1)")
                                                            .arg(config->environment));
    if (!config->name.isEmpty()) {
        scenario.name = config->name;
        scenario.workerName = config->name;
    }
    if (!config->compatibilityDate.isEmpty())
        scenario.durableObjects.compatibilityDate =
                QDate::fromString(config->compatibilityDate, Qt::ISODate);
    scenario.workerVars = config->vars;
    if (Status applied = applyKvBindings(*config, options, scenario); !applied)
        return applied.error();
    if (options.objectsBinding.isEmpty()) {
        if (Status applied = applyObjectBindings(*config, scenario); !applied)
            return applied.error();
    }
    if (!options.sqliteClass)
        applyStorageBackend(*config, scenario);
    const QString configFolder = QFileInfo(config->path).absolutePath();
    if (Status bundled = bundleIfTypeScript(scenario, { configFolder }, config->path); !bundled)
        return bundled.error();
    return scenario;
}

Result<Scenario> Scenario::forPath(const QString &path, const WorkerOptions &options)
{
    Result<Scenario> scenario = Error::error(QString());
    if (WranglerConfig::isConfigPath(path)) {
        if (!options.configPath.isEmpty())
            return Error::error(QStringLiteral("%1 is a configuration file already, so --config "
                                               "%2 does not apply. Give one of them.")
                                        .arg(path, options.configPath));
        scenario = forWranglerConfig(path, QString(), options);
    } else if (isModulePath(path)) {
        const QString config = !options.configPath.isEmpty() || options.bindsByFlags()
                ? options.configPath
                : WranglerConfig::find(QFileInfo(path).absolutePath());
        if (!config.isEmpty()) {
            scenario = forWranglerConfig(config, path, options);
        } else if (!options.environment.isEmpty()) {
            return Error::error(QStringLiteral("--env %1 selects a section of a configuration "
                                               "file, and none was given or found beside %2. "
                                               "Give one with --config wrangler.jsonc.")
                                        .arg(options.environment, path));
        } else {
            scenario = forWorkerModule(path, options.kvBinding, options.objectsBinding,
                                       options.sqliteClass);
            if (scenario) {
                if (Status bundled = bundleIfTypeScript(scenario.value(), {}, QString()); !bundled)
                    return bundled.error();
            }
        }
    } else {
        if (!options.configPath.isEmpty() || !options.environment.isEmpty())
            return Error::error(QStringLiteral("%1 is a scenario file, and --config and --env "
                                               "apply to a Worker module only.").arg(path));
        scenario = load(path);
    }
    if (scenario && options.cpuLimitMs)
        scenario.value().workerCpuLimitMs = *options.cpuLimitMs;
    return scenario;
}

} // namespace roomscope
