#include "scenario.h"

#include "jsonlocator.h"
#include "report.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cmath>
#include <set>

namespace roomscope {

QString Scenario::Expectation::description() const
{
    QStringList parts;
    if (equals)
        parts << QStringLiteral("%1 == %2").arg(metric).arg(*equals, 0, 'g', 12);
    if (min)
        parts << QStringLiteral("%1 >= %2").arg(metric).arg(*min, 0, 'g', 12);
    if (max)
        parts << QStringLiteral("%1 <= %2").arg(metric).arg(*max, 0, 'g', 12);
    return parts.join(QStringLiteral(" and "));
}

namespace {

constexpr int kMaxClientsPerGroup = 1'000'000;
constexpr const char *kDefaultStart = "2026-01-01T00:00:00Z";

/// Reads typed fields out of the parsed JSON, tracking the path of each, and keeps the first
/// error with the file, line, column and field it concerns.
class Reader
{
public:
    Reader(const QByteArray &text, QString sourceName)
        : m_locator(text), m_sourceName(std::move(sourceName))
    {
    }

    bool failed() const { return m_error.has_value(); }
    Error error() const { return *m_error; }

    void fail(const JsonPath &path, const QString &problem)
    {
        if (m_error)
            return;
        const auto [line, column] = m_locator.lineAndColumn(m_locator.offsetOf(path));
        m_error = Error::error(QStringLiteral("%1:%2:%3: %4: %5")
                                   .arg(m_sourceName)
                                   .arg(line)
                                   .arg(column)
                                   .arg(formatJsonPath(path), problem));
    }

    static JsonPath child(JsonPath path, JsonPathStep step)
    {
        path.push_back(std::move(step));
        return path;
    }

    /// Rejects member names outside `allowed`, which usually are typing mistakes.
    void checkMembers(const QJsonObject &object, const JsonPath &path, const QStringList &allowed)
    {
        for (auto it = object.begin(); it != object.end(); ++it) {
            if (!allowed.contains(it.key())) {
                fail(child(path, it.key()),
                     QStringLiteral("unknown field \"%1\"; the fields allowed here are %2")
                         .arg(it.key(), allowed.join(QStringLiteral(", "))));
            }
        }
    }

    QJsonObject object(const QJsonValue &value, const JsonPath &path)
    {
        if (!value.isObject()) {
            fail(path, QStringLiteral("expected an object { ... }, found %1").arg(describeJsonValue(value)));
            return {};
        }
        return value.toObject();
    }

    QJsonArray array(const QJsonObject &parent, const JsonPath &parentPath, const QString &name,
                     bool required)
    {
        const QJsonValue value = parent.value(name);
        if (value.isUndefined()) {
            if (required)
                fail(parentPath, QStringLiteral("missing field \"%1\" (a list [ ... ])").arg(name));
            return {};
        }
        if (!value.isArray()) {
            fail(child(parentPath, name),
                 QStringLiteral("expected a list [ ... ], found %1").arg(describeJsonValue(value)));
            return {};
        }
        return value.toArray();
    }

    QString string(const QJsonObject &parent, const JsonPath &parentPath, const QString &name,
                   std::optional<QString> fallback)
    {
        const QJsonValue value = parent.value(name);
        if (value.isUndefined()) {
            if (!fallback)
                fail(parentPath, QStringLiteral("missing field \"%1\" (a string)").arg(name));
            return fallback.value_or(QString());
        }
        if (!value.isString() || value.toString().isEmpty()) {
            fail(child(parentPath, name),
                 QStringLiteral("expected a non-empty string, found %1").arg(describeJsonValue(value)));
            return {};
        }
        return value.toString();
    }

    bool boolean(const QJsonObject &parent, const JsonPath &parentPath, const QString &name,
                 bool fallback)
    {
        const QJsonValue value = parent.value(name);
        if (value.isUndefined())
            return fallback;
        if (!value.isBool()) {
            fail(child(parentPath, name),
                 QStringLiteral("expected true or false, found %1").arg(describeJsonValue(value)));
            return fallback;
        }
        return value.toBool();
    }

    /// A whole number in [low, high].
    qint64 integer(const QJsonObject &parent, const JsonPath &parentPath, const QString &name,
                   qint64 low, qint64 high, std::optional<qint64> fallback)
    {
        const QJsonValue value = parent.value(name);
        if (value.isUndefined()) {
            if (!fallback)
                fail(parentPath, QStringLiteral("missing field \"%1\" (a whole number)").arg(name));
            return fallback.value_or(low);
        }
        const double number = value.toDouble(std::nan(""));
        if (!value.isDouble() || number != std::floor(number) || number < double(low)
            || number > double(high)) {
            fail(child(parentPath, name),
                 QStringLiteral("expected a whole number from %1 to %2, found %3")
                     .arg(low)
                     .arg(high)
                     .arg(describeJsonValue(value)));
            return fallback.value_or(low);
        }
        return qint64(number);
    }

    std::optional<double> number(const QJsonObject &parent, const JsonPath &parentPath,
                                 const QString &name)
    {
        const QJsonValue value = parent.value(name);
        if (value.isUndefined())
            return std::nullopt;
        if (!value.isDouble()) {
            fail(child(parentPath, name),
                 QStringLiteral("expected a number, found %1").arg(describeJsonValue(value)));
            return std::nullopt;
        }
        return value.toDouble();
    }

    /// A duration: a number of seconds, or a string such as "250ms", "1.5s" or "2m".
    SimDuration duration(const QJsonObject &parent, const JsonPath &parentPath,
                         const QString &name, SimDuration fallback, SimDuration minimum = 0)
    {
        const QJsonValue value = parent.value(name);
        if (value.isUndefined())
            return fallback;
        std::optional<SimDuration> parsed;
        if (value.isDouble() && value.toDouble() >= 0 && value.toDouble() < 9e12)
            parsed = SimDuration(value.toDouble() * 1e6 + 0.5);
        else if (value.isString())
            parsed = parseDuration(value.toString());
        if (!parsed || *parsed < minimum) {
            const QString expected = minimum > 0
                ? QStringLiteral("a duration of at least %1").arg(formatDuration(minimum))
                : QStringLiteral("a duration");
            fail(child(parentPath, name),
                 QStringLiteral("expected %1, such as 30, \"250ms\", \"1.5s\" or \"2m\", found %2")
                     .arg(expected, describeJsonValue(value)));
            return fallback;
        }
        return *parsed;
    }

private:
    JsonLocator m_locator;
    QString m_sourceName;
    std::optional<Error> m_error;
};

using P = JsonPath;

void readLocations(Reader &reader, const QJsonObject &root, Scenario &scenario)
{
    const P path { QStringLiteral("locations") };
    const QJsonArray locations = reader.array(root, {}, QStringLiteral("locations"), true);
    if (!reader.failed() && locations.isEmpty())
        reader.fail(path, QStringLiteral("list at least one location, such as [\"LHR\"]"));
    for (int i = 0; i < locations.size(); ++i) {
        const QJsonValue value = locations.at(i);
        const QString name = value.toString();
        if (!value.isString() || name.isEmpty()) {
            reader.fail(Reader::child(path, i),
                        QStringLiteral("expected a location name such as \"LHR\", found %1")
                            .arg(describeJsonValue(value)));
            return;
        }
        for (const Scenario::Location &existing : scenario.locations) {
            if (existing.name == name)
                reader.fail(Reader::child(path, i),
                            QStringLiteral("location \"%1\" is listed twice").arg(name));
        }
        scenario.locations.push_back({ name });
    }
}

bool knownLocation(const Scenario &scenario, const QString &name)
{
    for (const Scenario::Location &location : scenario.locations) {
        if (location.name == name)
            return true;
    }
    return false;
}

QString locationList(const Scenario &scenario)
{
    QStringList names;
    for (const Scenario::Location &location : scenario.locations)
        names << location.name;
    return names.join(QStringLiteral(", "));
}

QString readLocationName(Reader &reader, const QJsonObject &object, const P &path,
                         const QString &field, const Scenario &scenario,
                         std::optional<QString> fallback)
{
    const QString name = reader.string(object, path, field, fallback);
    if (!reader.failed() && !name.isEmpty() && !knownLocation(scenario, name)) {
        reader.fail(Reader::child(path, field),
                    QStringLiteral("unknown location \"%1\"; the scenario's locations are %2")
                        .arg(name, locationList(scenario)));
    }
    return name;
}

void readLatency(Reader &reader, const QJsonObject &root, Scenario &scenario)
{
    const P path { QStringLiteral("latency") };
    if (!root.contains(QStringLiteral("latency")))
        return;
    const QJsonObject latency = reader.object(root.value(QStringLiteral("latency")), path);
    reader.checkMembers(latency, path,
                        { QStringLiteral("local"), QStringLiteral("jitterPercent"),
                          QStringLiteral("between") });
    scenario.localLatency = reader.duration(latency, path, QStringLiteral("local"), scenario.localLatency);
    scenario.jitterPercent = int(reader.integer(latency, path, QStringLiteral("jitterPercent"), 0,
                                                100, scenario.jitterPercent));
    const QJsonArray between = reader.array(latency, path, QStringLiteral("between"), false);
    const P betweenPath = Reader::child(path, QStringLiteral("between"));
    for (int i = 0; i < between.size() && !reader.failed(); ++i) {
        const P itemPath = Reader::child(betweenPath, i);
        const QJsonObject item = reader.object(between.at(i), itemPath);
        reader.checkMembers(item, itemPath,
                            { QStringLiteral("from"), QStringLiteral("to"), QStringLiteral("oneWay") });
        Scenario::Latency entry;
        entry.from = readLocationName(reader, item, itemPath, QStringLiteral("from"), scenario, {});
        entry.to = readLocationName(reader, item, itemPath, QStringLiteral("to"), scenario, {});
        if (!item.contains(QStringLiteral("oneWay")))
            reader.fail(itemPath, QStringLiteral("missing field \"oneWay\" (a duration such as \"70ms\")"));
        entry.oneWay = reader.duration(item, itemPath, QStringLiteral("oneWay"), 0);
        scenario.latencies.push_back(entry);
    }
}

void readKv(Reader &reader, const QJsonObject &root, Scenario &scenario)
{
    const P path { QStringLiteral("kv") };
    if (!root.contains(QStringLiteral("kv")))
        return;
    const QJsonObject kv = reader.object(root.value(QStringLiteral("kv")), path);
    reader.checkMembers(kv, path,
                        { QStringLiteral("profile"), QStringLiteral("binding"),
                          QStringLiteral("centralLocation"), QStringLiteral("cacheTtl"),
                          QStringLiteral("minCacheTtl"), QStringLiteral("readYourWrites"),
                          QStringLiteral("locationCaches"), QStringLiteral("networkLatency"),
                          QStringLiteral("writeRateLimit"), QStringLiteral("writeBurst"),
                          QStringLiteral("cacheHitLatency"), QStringLiteral("plan") });

    // The profile sets every setting first, so that the fields below override single ones.
    const QString profileName =
        reader.string(kv, path, QStringLiteral("profile"), QStringLiteral("production"));
    if (const std::optional<KvProfile> profile = kvProfileFromName(profileName))
        scenario.kv = kvSettingsForProfile(*profile);
    else if (!reader.failed())
        reader.fail(Reader::child(path, QStringLiteral("profile")),
                    QStringLiteral("expected \"production\" or \"local\", found \"%1\"")
                        .arg(profileName));

    scenario.kvBinding = reader.string(kv, path, QStringLiteral("binding"), scenario.kvBinding);
    scenario.kvCentralLocation =
        readLocationName(reader, kv, path, QStringLiteral("centralLocation"), scenario, QString());
    scenario.kv.minCacheTtlSeconds =
        reader.integer(kv, path, QStringLiteral("minCacheTtl"), 1, 86400,
                       scenario.kv.minCacheTtlSeconds);
    scenario.kv.defaultCacheTtl = reader.duration(kv, path, QStringLiteral("cacheTtl"),
                                                  scenario.kv.defaultCacheTtl,
                                                  seconds(scenario.kv.minCacheTtlSeconds));
    if (!reader.failed() && !kv.contains(QStringLiteral("cacheTtl"))
        && scenario.kv.defaultCacheTtl < seconds(scenario.kv.minCacheTtlSeconds)) {
        reader.fail(Reader::child(path, QStringLiteral("minCacheTtl")),
                    QStringLiteral("the default cacheTtl of %1 is below this minimum; set "
                                   "\"cacheTtl\" to at least %2 s as well")
                        .arg(formatDuration(scenario.kv.defaultCacheTtl))
                        .arg(scenario.kv.minCacheTtlSeconds));
    }
    scenario.kv.readYourWrites =
        reader.boolean(kv, path, QStringLiteral("readYourWrites"), scenario.kv.readYourWrites);
    scenario.kv.locationCaches =
        reader.boolean(kv, path, QStringLiteral("locationCaches"), scenario.kv.locationCaches);
    scenario.kv.networkLatency =
        reader.boolean(kv, path, QStringLiteral("networkLatency"), scenario.kv.networkLatency);
    scenario.kv.cacheHitLatency = reader.duration(kv, path, QStringLiteral("cacheHitLatency"),
                                                  scenario.kv.cacheHitLatency);

    QString defaultLimit = QStringLiteral("strict");
    if (scenario.kv.writeRateLimit == WriteRateLimit::Burst)
        defaultLimit = QStringLiteral("burst");
    else if (scenario.kv.writeRateLimit == WriteRateLimit::Off)
        defaultLimit = QStringLiteral("off");
    const QString limit = reader.string(kv, path, QStringLiteral("writeRateLimit"), defaultLimit);
    if (limit == QLatin1String("strict"))
        scenario.kv.writeRateLimit = WriteRateLimit::Strict;
    else if (limit == QLatin1String("burst"))
        scenario.kv.writeRateLimit = WriteRateLimit::Burst;
    else if (limit == QLatin1String("off"))
        scenario.kv.writeRateLimit = WriteRateLimit::Off;
    else if (!reader.failed())
        reader.fail(Reader::child(path, QStringLiteral("writeRateLimit")),
                    QStringLiteral("expected \"strict\", \"burst\" or \"off\", found \"%1\"")
                        .arg(limit));
    scenario.kv.writeBurst = int(reader.integer(kv, path, QStringLiteral("writeBurst"), 0, 1000,
                                                scenario.kv.writeBurst));
    if (!reader.failed() && kv.contains(QStringLiteral("writeBurst"))
        && scenario.kv.writeRateLimit != WriteRateLimit::Burst) {
        reader.fail(Reader::child(path, QStringLiteral("writeBurst")),
                    QStringLiteral("writeBurst applies only with \"writeRateLimit\": \"burst\""));
    }

    const QString planName = reader.string(kv, path, QStringLiteral("plan"), QStringLiteral("paid"));
    if (const std::optional<KvPlan> plan = kvPlanFromName(planName))
        scenario.kv.plan = *plan;
    else if (!reader.failed())
        reader.fail(Reader::child(path, QStringLiteral("plan")),
                    QStringLiteral("expected \"paid\" or \"free\", found \"%1\"").arg(planName));
}

void readWorker(Reader &reader, const QJsonObject &root, Scenario &scenario)
{
    const P path { QStringLiteral("worker") };
    if (!root.contains(QStringLiteral("worker")))
        return;
    const QJsonObject worker = reader.object(root.value(QStringLiteral("worker")), path);
    reader.checkMembers(worker, path,
                        { QStringLiteral("name"), QStringLiteral("roomsBinding"),
                          QStringLiteral("roomClass"), QStringLiteral("connectSpread"),
                          QStringLiteral("module"), QStringLiteral("vars"),
                          QStringLiteral("cpuLimitMs") });
    scenario.workerName = reader.string(worker, path, QStringLiteral("name"), scenario.workerName);
    scenario.roomsBinding =
        reader.string(worker, path, QStringLiteral("roomsBinding"), scenario.roomsBinding);
    scenario.roomClassName =
        reader.string(worker, path, QStringLiteral("roomClass"), scenario.roomClassName);
    scenario.clientConnectSpread = reader.duration(worker, path, QStringLiteral("connectSpread"),
                                                   scenario.clientConnectSpread);
    scenario.workerModule = reader.string(worker, path, QStringLiteral("module"), QString());
    scenario.workerCpuLimitMs = int(reader.integer(worker, path, QStringLiteral("cpuLimitMs"), 0,
                                                   3'600'000, scenario.workerCpuLimitMs));
    if (worker.contains(QStringLiteral("vars"))) {
        const QJsonObject vars =
                reader.object(worker.value(QStringLiteral("vars")), Reader::child(path, QStringLiteral("vars")));
        for (auto it = vars.begin(); it != vars.end(); ++it)
            scenario.workerVars.emplace_back(it.key(), it.value());
    }
}

void readDurableObjects(Reader &reader, const QJsonObject &root, Scenario &scenario)
{
    const P path { QStringLiteral("durableObjects") };
    if (!root.contains(QStringLiteral("durableObjects")))
        return;
    const QJsonObject object = reader.object(root.value(QStringLiteral("durableObjects")), path);
    reader.checkMembers(object, path,
                        { QStringLiteral("behaviour"), QStringLiteral("storage"),
                          QStringLiteral("profile"), QStringLiteral("compatibilityDate"),
                          QStringLiteral("hibernateAfter"), QStringLiteral("evictAfterMin"),
                          QStringLiteral("evictAfterMax"), QStringLiteral("shutdownGrace"),
                          QStringLiteral("blockConcurrencyTimeout"),
                          QStringLiteral("storageReadLatency"), QStringLiteral("storageCommitLatency"),
                          QStringLiteral("alarmRetryBase"), QStringLiteral("alarmMaxRetries"),
                          QStringLiteral("maxQueuedEvents"), QStringLiteral("maxQueuedBytes"),
                          QStringLiteral("maxQueueWait"), QStringLiteral("maxEventsPerWindow"),
                          QStringLiteral("maxHibernatableSockets"), QStringLiteral("maxMessageSize"),
                          QStringLiteral("closeHandshakeTimeout") });
    DurableObjectSettings &settings = scenario.durableObjects;

    scenario.roomBehaviour = reader.string(object, path, QStringLiteral("behaviour"), scenario.roomBehaviour);
    if (!reader.failed() && scenario.roomBehaviour != QLatin1String("kv-room")
        && scenario.roomBehaviour != QLatin1String("lab"))
        reader.fail(Reader::child(path, QStringLiteral("behaviour")),
                    QStringLiteral("expected \"kv-room\" or \"lab\", found \"%1\"").arg(scenario.roomBehaviour));

    const QString storage = reader.string(object, path, QStringLiteral("storage"), QStringLiteral("sqlite"));
    if (!reader.failed() && storage != QLatin1String("sqlite") && storage != QLatin1String("kv"))
        reader.fail(Reader::child(path, QStringLiteral("storage")),
                    QStringLiteral("expected \"sqlite\" (new_sqlite_classes) or \"kv\" (new_classes), "
                                   "found \"%1\"").arg(storage));
    scenario.sqliteStorage = storage == QLatin1String("sqlite");

    scenario.durableObjectProfile =
        reader.string(object, path, QStringLiteral("profile"), scenario.durableObjectProfile);
    if (!reader.failed() && scenario.durableObjectProfile != QLatin1String("production")
        && scenario.durableObjectProfile != QLatin1String("local"))
        reader.fail(Reader::child(path, QStringLiteral("profile")),
                    QStringLiteral("expected \"production\" or \"local\", found \"%1\"")
                        .arg(scenario.durableObjectProfile));
    settings.enforceStorageLimits = scenario.durableObjectProfile == QLatin1String("production");

    const QString date = reader.string(object, path, QStringLiteral("compatibilityDate"),
                                       settings.compatibilityDate.toString(Qt::ISODate));
    const QDate parsed = QDate::fromString(date, Qt::ISODate);
    if (!reader.failed() && !parsed.isValid())
        reader.fail(Reader::child(path, QStringLiteral("compatibilityDate")),
                    QStringLiteral("expected a date such as \"2026-04-07\", found \"%1\"").arg(date));
    if (parsed.isValid()) {
        settings.compatibilityDate = parsed;
        settings.compatibility = CompatibilityFlags::forDate(parsed);
    }

    const auto duration = [&](const QString &name, SimDuration &field) {
        field = reader.duration(object, path, name, field);
    };
    duration(QStringLiteral("hibernateAfter"), settings.hibernateAfter);
    duration(QStringLiteral("evictAfterMin"), settings.evictAfterMin);
    duration(QStringLiteral("evictAfterMax"), settings.evictAfterMax);
    duration(QStringLiteral("shutdownGrace"), settings.shutdownGrace);
    duration(QStringLiteral("blockConcurrencyTimeout"), settings.blockConcurrencyTimeout);
    duration(QStringLiteral("storageReadLatency"), settings.storageReadLatency);
    duration(QStringLiteral("storageCommitLatency"), settings.storageCommitLatency);
    duration(QStringLiteral("alarmRetryBase"), settings.alarmRetryBase);
    duration(QStringLiteral("maxQueueWait"), settings.maxQueueWait);
    duration(QStringLiteral("closeHandshakeTimeout"), settings.closeHandshakeTimeout);
    if (!reader.failed() && settings.evictAfterMax < settings.evictAfterMin)
        reader.fail(Reader::child(path, QStringLiteral("evictAfterMax")),
                    QStringLiteral("must be at least evictAfterMin (%1); evictAfterMax is %2, so "
                                   "raise evictAfterMax as well")
                        .arg(formatDuration(settings.evictAfterMin), formatDuration(settings.evictAfterMax)));
    settings.alarmMaxRetries = int(reader.integer(object, path, QStringLiteral("alarmMaxRetries"), 0, 100,
                                                  settings.alarmMaxRetries));
    settings.maxQueuedEvents = int(reader.integer(object, path, QStringLiteral("maxQueuedEvents"), 0,
                                                  10'000'000, settings.maxQueuedEvents));
    settings.maxQueuedBytes = reader.integer(object, path, QStringLiteral("maxQueuedBytes"), 0,
                                             qint64(1) << 40, settings.maxQueuedBytes);
    settings.maxEventsPerWindow = int(reader.integer(object, path, QStringLiteral("maxEventsPerWindow"), 0,
                                                     10'000'000, settings.maxEventsPerWindow));
    settings.maxHibernatableSockets = int(reader.integer(object, path, QStringLiteral("maxHibernatableSockets"),
                                                         1, 32768, settings.maxHibernatableSockets));
    settings.maxMessageSize = reader.integer(object, path, QStringLiteral("maxMessageSize"), 1,
                                             32 * 1024 * 1024, settings.maxMessageSize);
}

void readRooms(Reader &reader, const QJsonObject &root, Scenario &scenario)
{
    const P path { QStringLiteral("rooms") };
    const QJsonArray rooms = reader.array(root, {}, QStringLiteral("rooms"), false);
    std::set<QString> names;
    for (int i = 0; i < rooms.size() && !reader.failed(); ++i) {
        const P roomPath = Reader::child(path, i);
        const QJsonObject object = reader.object(rooms.at(i), roomPath);
        reader.checkMembers(object, roomPath,
                            { QStringLiteral("name"), QStringLiteral("location"),
                              QStringLiteral("clients") });
        Scenario::Room room;
        room.name = reader.string(object, roomPath, QStringLiteral("name"), {});
        if (!reader.failed() && !names.insert(room.name).second)
            reader.fail(Reader::child(roomPath, QStringLiteral("name")),
                        QStringLiteral("room \"%1\" is listed twice").arg(room.name));
        room.location =
            readLocationName(reader, object, roomPath, QStringLiteral("location"), scenario, QString());
        const QJsonArray groups = reader.array(object, roomPath, QStringLiteral("clients"), false);
        const P groupsPath = Reader::child(roomPath, QStringLiteral("clients"));
        for (int g = 0; g < groups.size() && !reader.failed(); ++g) {
            const P groupPath = Reader::child(groupsPath, g);
            const QJsonObject group = reader.object(groups.at(g), groupPath);
            reader.checkMembers(group, groupPath, { QStringLiteral("location"), QStringLiteral("count") });
            Scenario::ClientGroup clients;
            clients.location =
                readLocationName(reader, group, groupPath, QStringLiteral("location"), scenario, {});
            clients.count = int(reader.integer(group, groupPath, QStringLiteral("count"), 0,
                                               kMaxClientsPerGroup, {}));
            room.clients.push_back(clients);
        }
        scenario.rooms.push_back(room);
    }
}

bool knownRoom(const Scenario &scenario, const QString &name)
{
    for (const Scenario::Room &room : scenario.rooms) {
        if (room.name == name)
            return true;
    }
    return false;
}

void readWorkloads(Reader &reader, const QJsonObject &root, Scenario &scenario)
{
    const P path { QStringLiteral("workloads") };
    const QJsonArray workloads = reader.array(root, {}, QStringLiteral("workloads"), false);
    for (int i = 0; i < workloads.size() && !reader.failed(); ++i) {
        const P itemPath = Reader::child(path, i);
        const QJsonObject object = reader.object(workloads.at(i), itemPath);
        reader.checkMembers(object, itemPath,
                            { QStringLiteral("name"), QStringLiteral("room"), QStringLiteral("from"),
                              QStringLiteral("rate"), QStringLiteral("every"),
                              QStringLiteral("startAfter"), QStringLiteral("mix"),
                              QStringLiteral("keys"), QStringLiteral("path"),
                              QStringLiteral("burst") });
        Scenario::Workload workload;
        workload.name = reader.string(object, itemPath, QStringLiteral("name"),
                                      QStringLiteral("workload-%1").arg(i + 1));
        for (const Scenario::Workload &earlier : scenario.workloads) {
            // Each workload's random stream is derived from its name, so names must differ.
            if (earlier.name == workload.name && !reader.failed())
                reader.fail(Reader::child(itemPath, QStringLiteral("name")),
                            QStringLiteral("workload \"%1\" is listed twice; give each workload its "
                                           "own name").arg(workload.name));
        }
        workload.room = reader.string(object, itemPath, QStringLiteral("room"), {});
        if (!reader.failed() && !knownRoom(scenario, workload.room))
            reader.fail(Reader::child(itemPath, QStringLiteral("room")),
                        QStringLiteral("unknown room \"%1\"; add it to \"rooms\" first").arg(workload.room));
        workload.location = readLocationName(reader, object, itemPath, QStringLiteral("from"),
                                             scenario, scenario.locations.empty()
                                                 ? QString()
                                                 : scenario.locations.front().name);
        const bool hasRate = object.contains(QStringLiteral("rate"));
        const bool hasEvery = object.contains(QStringLiteral("every"));
        if (hasRate && hasEvery && !reader.failed()) {
            reader.fail(itemPath,
                        QStringLiteral("give either \"rate\" (requests per second, random arrivals) "
                                       "or \"every\" (a fixed interval such as \"1s\"), not both"));
        } else if (!hasRate && !hasEvery && !reader.failed()) {
            reader.fail(itemPath,
                        QStringLiteral("missing \"rate\" (requests per second, random arrivals) or "
                                       "\"every\" (a fixed interval such as \"1s\")"));
        }
        if (hasRate) {
            const std::optional<double> rate = reader.number(object, itemPath, QStringLiteral("rate"));
            if (rate && (*rate <= 0 || *rate > 1e6))
                reader.fail(Reader::child(itemPath, QStringLiteral("rate")),
                            QStringLiteral("expected requests per second above 0 and at most "
                                           "1000000, found %1").arg(*rate));
            workload.ratePerSecond = rate.value_or(1);
        }
        if (hasEvery)
            workload.every = reader.duration(object, itemPath, QStringLiteral("every"), seconds(1), 1000);
        workload.startAfter = reader.duration(object, itemPath, QStringLiteral("startAfter"), 0);

        workload.burst = int(reader.integer(object, itemPath, QStringLiteral("burst"), 1, 1000, 1));
        workload.path = reader.string(object, itemPath, QStringLiteral("path"), QString());
        if (object.contains(QStringLiteral("path"))) {
            if (!reader.failed() && !workload.path.startsWith(QLatin1Char('/')))
                reader.fail(Reader::child(itemPath, QStringLiteral("path")),
                            QStringLiteral("expected a path starting with \"/\", such as "
                                           "\"/count-storage\", found \"%1\"").arg(workload.path));
            if (!reader.failed()
                && (object.contains(QStringLiteral("mix")) || object.contains(QStringLiteral("keys"))))
                reader.fail(itemPath, QStringLiteral("give either \"path\" or \"mix\" with "
                                                     "\"keys\", not both"));
            scenario.workloads.push_back(workload);
            continue;
        }

        const P mixPath = Reader::child(itemPath, QStringLiteral("mix"));
        if (!object.contains(QStringLiteral("mix"))) {
            reader.fail(itemPath, QStringLiteral("missing field \"mix\", for example "
                                                 "{\"put\": 3, \"get\": 1, \"broadcast\": 0}"));
        } else {
            const QJsonObject mix = reader.object(object.value(QStringLiteral("mix")), mixPath);
            reader.checkMembers(mix, mixPath,
                                { QStringLiteral("put"), QStringLiteral("get"), QStringLiteral("broadcast") });
            workload.putWeight = int(reader.integer(mix, mixPath, QStringLiteral("put"), 0, 1000000, 0));
            workload.getWeight = int(reader.integer(mix, mixPath, QStringLiteral("get"), 0, 1000000, 0));
            workload.broadcastWeight =
                int(reader.integer(mix, mixPath, QStringLiteral("broadcast"), 0, 1000000, 0));
            if (!reader.failed()
                && workload.putWeight + workload.getWeight + workload.broadcastWeight == 0)
                reader.fail(mixPath, QStringLiteral("give at least one route a weight above 0"));
        }

        const P keysPath = Reader::child(itemPath, QStringLiteral("keys"));
        const QJsonArray keys = reader.array(object, itemPath, QStringLiteral("keys"), true);
        if (!reader.failed() && keys.isEmpty())
            reader.fail(keysPath, QStringLiteral("list at least one KV key"));
        for (int k = 0; k < keys.size() && !reader.failed(); ++k) {
            const QString key = keys.at(k).toString();
            if (!keys.at(k).isString()) {
                reader.fail(Reader::child(keysPath, k),
                            QStringLiteral("expected a key string, found %1").arg(describeJsonValue(keys.at(k))));
            } else if (Status valid = kv::validateKey(key, kv::Operation::Put); !valid) {
                reader.fail(Reader::child(keysPath, k),
                            QStringLiteral("invalid KV key: %1").arg(valid.error().message));
            }
            workload.keys << key;
        }
        scenario.workloads.push_back(workload);
    }
}

void readExpectations(Reader &reader, const QJsonObject &root, Scenario &scenario)
{
    const P path { QStringLiteral("expect") };
    const QJsonArray expectations = reader.array(root, {}, QStringLiteral("expect"), false);
    QStringList known = reportMetricNames();
    for (const Scenario::Room &room : scenario.rooms)
        known << QStringLiteral("rooms.%1.peakPendingWrites").arg(room.name);
    for (int i = 0; i < expectations.size() && !reader.failed(); ++i) {
        const P itemPath = Reader::child(path, i);
        const QJsonObject object = reader.object(expectations.at(i), itemPath);
        reader.checkMembers(object, itemPath,
                            { QStringLiteral("metric"), QStringLiteral("equals"), QStringLiteral("min"),
                              QStringLiteral("max") });
        Scenario::Expectation expectation;
        expectation.metric = reader.string(object, itemPath, QStringLiteral("metric"), {});
        if (!reader.failed() && !known.contains(expectation.metric))
            reader.fail(Reader::child(itemPath, QStringLiteral("metric")),
                        QStringLiteral("unknown metric \"%1\"; the metrics are %2")
                            .arg(expectation.metric, known.join(QStringLiteral(", "))));
        expectation.equals = reader.number(object, itemPath, QStringLiteral("equals"));
        expectation.min = reader.number(object, itemPath, QStringLiteral("min"));
        expectation.max = reader.number(object, itemPath, QStringLiteral("max"));
        if (!reader.failed() && !expectation.equals && !expectation.min && !expectation.max)
            reader.fail(itemPath, QStringLiteral("give \"equals\", \"min\" or \"max\" for the metric"));
        scenario.expectations.push_back(expectation);
    }
}

} // namespace

Result<Scenario> Scenario::forWorkerModule(const QString &modulePath, const QString &kvBinding,
                                           const QString &objectsBinding, bool sqliteClass)
{
    const QFileInfo module(modulePath);
    if (!module.isFile())
        return Error::error(QStringLiteral("%1 is not a file: give the path of the Worker's "
                                           "JavaScript module.").arg(modulePath));
    Scenario scenario;
    scenario.name = module.completeBaseName();
    scenario.description = QStringLiteral("The Worker module %1, served as wrangler dev serves it.")
                                   .arg(module.fileName());
    scenario.sourcePath = module.absoluteFilePath();
    scenario.workerModule = module.absoluteFilePath();
    scenario.start = 1'767'225'600'000'000; // 2026-01-01T00:00:00Z
    scenario.duration = seconds(1);
    scenario.locations.push_back({ QStringLiteral("local") });
    if (!kvBinding.isEmpty())
        scenario.kvBinding = kvBinding;
    scenario.workerRoomsByDefault = objectsBinding.isEmpty();
    if (!objectsBinding.isEmpty()) {
        const qsizetype equals = objectsBinding.indexOf(QLatin1Char('='));
        if (equals <= 0 || equals == objectsBinding.size() - 1)
            return Error::error(QStringLiteral("invalid --do \"%1\"; give BINDING=Class, such as "
                                               "ROOMS=Room").arg(objectsBinding));
        scenario.roomsBinding = objectsBinding.left(equals);
        scenario.roomClassName = objectsBinding.mid(equals + 1);
    }
    scenario.sqliteStorage = sqliteClass;
    if (Status applied = scenario.applyProfile(QStringLiteral("local")); !applied)
        return applied.error();
    return scenario;
}

Status Scenario::applyProfile(const QString &profile)
{
    const std::optional<KvProfile> kvProfile = kvProfileFromName(profile);
    if (!kvProfile)
        return Error::error(QStringLiteral("Unknown profile \"%1\": use local or production.")
                                    .arg(profile));
    const qsizetype maxValueBytes = kv.maxValueBytes;
    const KvPlan plan = kv.plan;
    kv = kvSettingsForProfile(*kvProfile);
    kv.maxValueBytes = maxValueBytes;
    kv.plan = plan;
    durableObjectProfile = profile;
    durableObjects.enforceStorageLimits = *kvProfile == KvProfile::Production;
    if (*kvProfile == KvProfile::Local) {
        // wrangler dev runs the Worker, its objects and the stores in one process.
        localLatency = 0;
        latencies.clear();
        for (size_t a = 0; a < locations.size(); ++a) {
            for (size_t b = a + 1; b < locations.size(); ++b)
                latencies.push_back({ locations[a].name, locations[b].name, 0 });
        }
        jitterPercent = 0;
        durableObjects.storageReadLatency = 0;
        durableObjects.storageCommitLatency = 0;
    }
    return Done {};
}

Result<Scenario> Scenario::load(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        return Error::error(
            QStringLiteral("%1: cannot open the scenario file: %2").arg(path, file.errorString()));
    }
    Result<Scenario> scenario = parse(file.readAll(), path);
    if (scenario)
        scenario.value().sourcePath = QFileInfo(path).absoluteFilePath();
    return scenario;
}

Result<Scenario> Scenario::parse(const QByteArray &json, const QString &sourceName)
{
    Reader reader(json, sourceName);
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(json, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        const auto [line, column] = JsonLocator(json).lineAndColumn(parseError.offset);
        return Error::error(QStringLiteral("%1:%2:%3: invalid JSON: %4")
                                .arg(sourceName)
                                .arg(line)
                                .arg(column)
                                .arg(parseError.errorString()));
    }
    if (!document.isObject()) {
        return Error::error(QStringLiteral("%1:1:1: (top level): expected an object { ... } "
                                           "holding the scenario").arg(sourceName));
    }
    const QJsonObject root = document.object();
    reader.checkMembers(root, {},
                        { QStringLiteral("$schema"), QStringLiteral("name"),
                          QStringLiteral("description"), QStringLiteral("seed"),
                          QStringLiteral("start"), QStringLiteral("duration"),
                          QStringLiteral("locations"), QStringLiteral("latency"),
                          QStringLiteral("kv"), QStringLiteral("worker"),
                          QStringLiteral("durableObjects"), QStringLiteral("rooms"),
                          QStringLiteral("workloads"), QStringLiteral("expect") });

    Scenario scenario;
    scenario.name = reader.string(root, {}, QStringLiteral("name"), {});
    if (root.contains(QStringLiteral("description"))
        && !root.value(QStringLiteral("description")).isString())
        reader.fail({ QStringLiteral("description") },
                    QStringLiteral("expected a string, found %1")
                        .arg(describeJsonValue(root.value(QStringLiteral("description")))));
    scenario.description = root.value(QStringLiteral("description")).toString();
    scenario.seed = quint64(reader.integer(root, {}, QStringLiteral("seed"), 0,
                                           (qint64(1) << 53), 1));
    const QString start = reader.string(root, {}, QStringLiteral("start"), QLatin1String(kDefaultStart));
    if (const std::optional<SimTime> instant = parseInstant(start))
        scenario.start = *instant;
    else if (!reader.failed())
        reader.fail({ QStringLiteral("start") },
                    QStringLiteral("expected an ISO 8601 instant with a zone, such as \"%1\", found \"%2\"")
                        .arg(QLatin1String(kDefaultStart), start));
    scenario.duration = reader.duration(root, {}, QStringLiteral("duration"), scenario.duration,
                                        milliseconds(1));

    readLocations(reader, root, scenario);
    if (!reader.failed())
        readLatency(reader, root, scenario);
    if (!reader.failed())
        readKv(reader, root, scenario);
    if (!reader.failed())
        readWorker(reader, root, scenario);
    if (!reader.failed())
        readDurableObjects(reader, root, scenario);
    if (!reader.failed())
        readRooms(reader, root, scenario);
    if (!reader.failed())
        readWorkloads(reader, root, scenario);
    if (!reader.failed())
        readExpectations(reader, root, scenario);
    if (reader.failed())
        return reader.error();
    scenario.sourcePath = sourceName;
    return scenario;
}

} // namespace roomscope
