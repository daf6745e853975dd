#include "report.h"

#include "world.h"

#include <QFileInfo>
#include <QJsonArray>

#include <algorithm>
#include <cmath>

namespace roomscope {

namespace {

constexpr double kSecondsPerMonth = 30.0 * 24 * 3600;

double overage(double usage, double included, double pricePerMillion)
{
    return std::max(0.0, usage - included) / 1e6 * pricePerMillion;
}

QString money(double usd)
{
    return QStringLiteral("$%1").arg(usd, 0, 'f', usd < 1 ? 6 : 2);
}

// Rounds to 9 decimals so that JSON shows 0.0007, not the 0.0006999999999999999 that the
// arithmetic gives; no price or usage figure here needs more digits.
double roundedForJson(double value)
{
    return std::round(value * 1e9) / 1e9;
}

QString milliseconds(double us)
{
    return QStringLiteral("%1 ms").arg(us / 1000.0, 0, 'f', 1);
}

} // namespace

static QString describeKvSettings(const KvSettings &settings, const LocationMap &locations)
{
    QString limit = QStringLiteral("strict");
    if (settings.writeRateLimit == WriteRateLimit::Off)
        limit = QStringLiteral("off");
    else if (settings.writeRateLimit == WriteRateLimit::Burst)
        limit = QStringLiteral("burst of %1").arg(settings.writeBurst);
    const auto onOff = [](bool on) { return on ? QStringLiteral("on") : QStringLiteral("off"); };
    return QStringLiteral("central store %1, cacheTtl %2, location caches %3, read-your-writes %4, "
                          "same-key write limit %5, %6 plan")
        .arg(locations.name(settings.centralLocation), formatDuration(settings.defaultCacheTtl),
             onOff(settings.locationCaches), onOff(settings.readYourWrites), limit,
             settings.plan == KvPlan::Free ? QStringLiteral("Free") : QStringLiteral("Paid"));
}

QStringList reportMetricNames()
{
    return {
        QStringLiteral("requests.total"),       QStringLiteral("requests.failed"),
        QStringLiteral("kv.reads"),             QStringLiteral("kv.readsFromCentral"),
        QStringLiteral("kv.staleReads"),        QStringLiteral("kv.writes"),
        QStringLiteral("kv.writesRateLimited"), QStringLiteral("kv.deletes"),
        QStringLiteral("objects.created"),      QStringLiteral("ws.accepted"),
        QStringLiteral("ws.broadcasts"),        QStringLiteral("ws.messagesSent"),
        QStringLiteral("ws.messagesDelivered"), QStringLiteral("ws.undelivered"),
        QStringLiteral("latency.p50Ms"),        QStringLiteral("latency.p99Ms"),
        QStringLiteral("writes.peakPending"),   QStringLiteral("cost.runUsd"),
        QStringLiteral("cost.monthlyUsd"),      QStringLiteral("objects.hibernations"),
        QStringLiteral("objects.evictions"),    QStringLiteral("objects.resets"),
        QStringLiteral("objects.overloaded"),   QStringLiteral("alarms.runs"),
        QStringLiteral("alarms.retries"),       QStringLiteral("storage.commits"),
        QStringLiteral("storage.commitFailures"), QStringLiteral("script.errors"),
    };
}

CostEstimate estimateCost(double kvReads, double kvWrites, double kvDeletes, double doRequests,
                          double doActiveSeconds, SimDuration runDuration, const PriceTable &prices)
{
    CostEstimate cost;
    cost.doRequests = doRequests;
    cost.doGbSeconds = doActiveSeconds * prices.doMemoryGb;
    cost.kvReadsUsd = kvReads / 1e6 * prices.kvReadsPerMillion;
    cost.kvWritesUsd = kvWrites / 1e6 * prices.kvWritesPerMillion;
    cost.kvDeletesUsd = kvDeletes / 1e6 * prices.kvDeletesPerMillion;
    cost.doRequestsUsd = doRequests / 1e6 * prices.doRequestsPerMillion;
    cost.doDurationUsd = cost.doGbSeconds / 1e6 * prices.doGbSecondsPerMillion;
    cost.runUsd = cost.kvReadsUsd + cost.kvWritesUsd + cost.kvDeletesUsd + cost.doRequestsUsd
        + cost.doDurationUsd;

    const double scale = runDuration > 0 ? kSecondsPerMonth / (double(runDuration) / 1e6) : 0;
    cost.monthlyUsd = prices.monthlyMinimum
        + overage(kvReads * scale, prices.kvReadsIncludedPerMonth, prices.kvReadsPerMillion)
        + overage(kvWrites * scale, prices.kvWritesIncludedPerMonth, prices.kvWritesPerMillion)
        + overage(kvDeletes * scale, prices.kvDeletesIncludedPerMonth, prices.kvDeletesPerMillion)
        + overage(doRequests * scale, prices.doRequestsIncludedPerMonth, prices.doRequestsPerMillion)
        + overage(cost.doGbSeconds * scale, prices.doGbSecondsIncludedPerMonth,
                  prices.doGbSecondsPerMillion);
    return cost;
}

Report buildReport(const World &world)
{
    const Metrics &metrics = world.metrics();
    const Simulation &simulation = world.simulation();
    Report report;
    report.scenario = world.scenario().name;
    report.seed = simulation.seed();
    report.start = simulation.start();
    report.duration = world.workloadEnd() - simulation.start();
    report.end = simulation.now();
    report.events = simulation.dispatchedEventCount();
    report.traceEvents = simulation.trace().eventCount();
    report.traceDigest = simulation.trace().digest().hex();

    double doRequests = 0;
    double activeSeconds = 0;
    int peakPending = 0;
    for (const QString &name : world.roomNames()) {
        Report::Room room;
        room.name = name;
        room.id = world.rooms().idFromName(name).toString();
        if (const DurableObject *object = world.roomObject(name)) {
            room.location = world.locations().name(object->location());
            room.requests = object->requestsHandled();
            doRequests += double(object->requestsHandled());
            activeSeconds += double(object->activeTime()) / 1e6;
            room.sockets = object->openSocketCount();
            // From the trace, because a room that hibernated has lost its in-memory queue.
            const auto peak = world.metrics().peakPendingWrites.find(object->actorName());
            if (peak != world.metrics().peakPendingWrites.end())
                room.peakPendingWrites = peak->second;
        }
        peakPending = std::max(peakPending, room.peakPendingWrites);
        report.values[QStringLiteral("rooms.%1.peakPendingWrites").arg(name)] = room.peakPendingWrites;
        report.rooms.push_back(room);
    }
    report.javaScriptWorker = world.script() != nullptr;
    for (const ScriptErrorGroup &group : world.scriptErrors().groups()) {
        const std::optional<QByteArray> source = world.scriptSource(group.fileName);
        report.scriptErrors.push_back(
                { group, source ? sourceLineText(*source, group.line).trimmed() : QString() });
    }
    report.cost = estimateCost(double(metrics.kvReads), double(metrics.kvWrites),
                               double(metrics.kvDeletes), doRequests, activeSeconds,
                               report.duration);

    if (!world.sessionFile().isEmpty()) {
        const int restored = world.restoredObjectCount();
        report.objectInputs << QStringLiteral("%1 loaded from %2")
                                       .arg(restored == 1 ? QStringLiteral("1 Durable Object")
                                                          : QStringLiteral("%1 Durable Objects")
                                                                    .arg(restored),
                                            world.sessionFile());
    }
    report.responsesByStatus = metrics.responsesByStatus;
    report.kvSettings = describeKvSettings(world.kv().settings(), world.locations());
    for (const Scenario::Workload &workload : world.scenario().workloads) {
        if (workload.path.isEmpty())
            continue;
        Report::PathWorkload entry;
        entry.name = workload.name;
        entry.path = workload.path;
        const auto counts = world.metrics().workloadBodies.find(QStringLiteral("workload ") + workload.name);
        if (counts != world.metrics().workloadBodies.end()) {
            entry.responses = counts->second.bodies;
            entry.otherResponses = counts->second.other;
        }
        report.pathWorkloads.push_back(std::move(entry));
    }
    const Scenario &scenario = world.scenario();
    report.objectSettings =
        QStringLiteral("class %1 (%2, %3), %4 profile, compatibility date %5")
            .arg(scenario.roomClassName,
                 scenario.workerModule.isEmpty()
                         ? scenario.roomBehaviour
                         : QStringLiteral("JavaScript, ")
                                 + QFileInfo(scenario.workerEntry.isEmpty() ? scenario.workerModule
                                                                            : scenario.workerEntry)
                                           .fileName(),
                 scenario.sqliteStorage ? QStringLiteral("SQLite storage") : QStringLiteral("KV storage"),
                 scenario.durableObjectProfile,
                 scenario.durableObjects.compatibilityDate.toString(Qt::ISODate));
    report.freePlan = world.kv().settings().plan == KvPlan::Free;
    auto &v = report.values;
    v[QStringLiteral("requests.total")] = double(metrics.requests);
    v[QStringLiteral("requests.failed")] = double(metrics.requestsFailed);
    v[QStringLiteral("kv.reads")] = double(metrics.kvReads);
    v[QStringLiteral("kv.readsFromCentral")] = double(metrics.kvReadsFromCentral);
    v[QStringLiteral("kv.staleReads")] = double(metrics.kvStaleReads);
    v[QStringLiteral("kv.writes")] = double(metrics.kvWrites);
    v[QStringLiteral("kv.writesRateLimited")] = double(metrics.kvWritesRateLimited);
    v[QStringLiteral("kv.deletes")] = double(metrics.kvDeletes);
    v[QStringLiteral("objects.created")] = double(metrics.objectsCreated);
    v[QStringLiteral("ws.accepted")] = double(metrics.webSocketsAccepted);
    v[QStringLiteral("objects.hibernations")] = double(metrics.hibernations);
    v[QStringLiteral("objects.evictions")] = double(metrics.evictions);
    v[QStringLiteral("objects.resets")] = double(metrics.objectResets);
    v[QStringLiteral("objects.overloaded")] = double(metrics.overloadRejections);
    v[QStringLiteral("alarms.runs")] = double(metrics.alarmRuns);
    v[QStringLiteral("alarms.retries")] = double(metrics.alarmRetries);
    v[QStringLiteral("storage.commits")] = double(metrics.storageCommits);
    v[QStringLiteral("storage.commitFailures")] = double(metrics.storageCommitFailures);
    v[QStringLiteral("ws.broadcasts")] = double(metrics.broadcasts);
    v[QStringLiteral("ws.messagesSent")] = double(metrics.messagesSent);
    v[QStringLiteral("ws.messagesDelivered")] = double(metrics.messagesDelivered);
    v[QStringLiteral("ws.undelivered")] = double(metrics.messagesSent) - double(metrics.messagesDelivered);
    v[QStringLiteral("latency.p50Ms")] = double(metrics.latencyPercentileUs(50)) / 1000.0;
    v[QStringLiteral("latency.p99Ms")] = double(metrics.latencyPercentileUs(99)) / 1000.0;
    v[QStringLiteral("writes.peakPending")] = peakPending;
    v[QStringLiteral("script.errors")] = double(world.scriptErrors().occurrenceCount());
    v[QStringLiteral("cost.runUsd")] = report.cost.runUsd;
    v[QStringLiteral("cost.monthlyUsd")] = report.cost.monthlyUsd;

    for (const Scenario::Expectation &expectation : world.scenario().expectations) {
        Report::ExpectationResult result;
        result.description = expectation.description();
        const auto it = v.find(expectation.metric);
        result.known = it != v.end();
        result.actual = result.known ? it->second : 0;
        result.passed = result.known && (!expectation.equals || result.actual == *expectation.equals)
            && (!expectation.min || result.actual >= *expectation.min)
            && (!expectation.max || result.actual <= *expectation.max);
        report.expectations.push_back(result);
    }
    return report;
}

bool Report::passed() const
{
    return std::all_of(expectations.begin(), expectations.end(),
                       [](const ExpectationResult &result) { return result.passed; });
}

QString Report::toText() const
{
    auto value = [this](const char *name) { return values.at(QLatin1String(name)); };
    auto count = [&](const char *name) { return QString::number(qint64(value(name))); };
    QStringList lines;
    lines << QStringLiteral("Roomscope run of \"%1\", seed %2").arg(scenario).arg(seed);
    lines << QStringLiteral("  virtual time   %1 to %2 (workloads %3, then in-flight work)")
                 .arg(formatInstant(start), formatInstant(end), formatDuration(duration));
    lines << QStringLiteral("  events         %1 run, %2 traced, trace digest %3")
                 .arg(events).arg(traceEvents).arg(traceDigest);
    if (!kvSettings.isEmpty())
        lines << QStringLiteral("  KV             %1").arg(kvSettings);
    if (!objectSettings.isEmpty())
        lines << QStringLiteral("  objects        %1").arg(objectSettings);
    for (const QString &input : kvInputs)
        lines << QStringLiteral("  KV input       %1").arg(input);
    for (const QString &input : objectInputs)
        lines << QStringLiteral("  DO input       %1").arg(input);
    lines << QString();
    QStringList failures;
    for (const auto &[status, requests] : responsesByStatus) {
        if (status >= 400)
            failures << QStringLiteral("%1 with status %2").arg(requests).arg(status);
    }
    lines << QStringLiteral("Requests         %1 (%2 failed%3)")
                 .arg(count("requests.total"), count("requests.failed"),
                      failures.isEmpty() ? QString() : QStringLiteral(": ") + failures.join(QStringLiteral(", ")));
    lines << QStringLiteral("  latency        p50 %1, p99 %2")
                 .arg(milliseconds(value("latency.p50Ms") * 1000), milliseconds(value("latency.p99Ms") * 1000));
    lines << QStringLiteral("KV reads         %1 (%2 from the central store, %3 stale)")
                 .arg(count("kv.reads"), count("kv.readsFromCentral"), count("kv.staleReads"));
    lines << QStringLiteral("KV writes        %1 accepted, %2 rejected with 429, %3 deletes")
                 .arg(count("kv.writes"), count("kv.writesRateLimited"), count("kv.deletes"));
    lines << QStringLiteral("Broadcasts       %1, %2 messages sent, %3 delivered")
                 .arg(count("ws.broadcasts"), count("ws.messagesSent"), count("ws.messagesDelivered"));
    lines << QStringLiteral("WebSockets       %1 accepted").arg(count("ws.accepted"));
    lines << QStringLiteral("Objects          %1 constructor runs, %2 hibernations, %3 evictions, "
                            "%4 resets, %5 overload rejections")
                 .arg(count("objects.created"), count("objects.hibernations"),
                      count("objects.evictions"), count("objects.resets"),
                      count("objects.overloaded"));
    lines << QStringLiteral("Storage          %1 commits, %2 failed; alarms %3 runs, %4 retries")
                 .arg(count("storage.commits"), count("storage.commitFailures"),
                      count("alarms.runs"), count("alarms.retries"));
    lines << QString();
    if (javaScriptWorker) {
        lines << scriptErrorLines();
        lines << QString();
    }
    if (!pathWorkloads.empty()) {
        // The distinct responses of each fixed-path workload show what concurrency did: ten
        // "200 1" from one burst is a lost update.
        lines << QStringLiteral("Workload responses (status and body, with counts)");
        for (const PathWorkload &workload : pathWorkloads) {
            QStringList parts;
            for (const auto &[body, count] : workload.responses)
                parts << QStringLiteral("%1 ×%2").arg(QString::fromUtf8(body).left(40)).arg(count);
            if (workload.otherResponses > 0)
                parts << QStringLiteral("%1 others").arg(workload.otherResponses);
            lines << QStringLiteral("  %1  %2  %3")
                         .arg(workload.name, -12)
                         .arg(workload.path, -20)
                         .arg(parts.isEmpty() ? QStringLiteral("no responses") : parts.join(QStringLiteral(", ")));
        }
        lines << QString();
    }
    lines << QStringLiteral("Rooms");
    for (const Room &room : rooms) {
        lines << QStringLiteral("  %1  %2  %3  %4 sockets, %5 requests, peak pending writes %6")
                     .arg(room.name, -10)
                     .arg(room.location.isEmpty() ? QStringLiteral("-") : room.location, -4)
                     .arg(room.id.left(16) + QStringLiteral("…"))
                     .arg(room.sockets)
                     .arg(room.requests)
                     .arg(room.peakPendingWrites);
    }
    lines << QString();
    lines << QStringLiteral("Estimated cost (Workers Paid prices)");
    if (freePlan)
        lines << QStringLiteral("  (the scenario uses the Free plan, which charges nothing and "
                                "rejects operations over its daily limits)");
    lines << QStringLiteral("  this run       %1 (KV reads %2, KV writes %3, DO requests %4, DO duration %5)")
                 .arg(money(cost.runUsd), money(cost.kvReadsUsd), money(cost.kvWritesUsd),
                      money(cost.doRequestsUsd), money(cost.doDurationUsd));
    lines << QStringLiteral("  per month      %1 at this rate for 30 days, after included usage and the $5 minimum")
                 .arg(money(cost.monthlyUsd));
    if (!expectations.empty()) {
        lines << QString();
        lines << QStringLiteral("Expectations");
        for (const ExpectationResult &result : expectations) {
            const QString actual = result.known ? QString::number(result.actual, 'g', 12)
                                                : QStringLiteral("unknown metric");
            lines << QStringLiteral("  %1  %2 (actual %3)")
                         .arg(result.passed ? QStringLiteral("pass") : QStringLiteral("FAIL"),
                              result.description, actual);
        }
    }
    lines << QString();
    lines << (passed() ? QStringLiteral("Result: passed")
                       : QStringLiteral("Result: FAILED; reproduce with --seed %1%2")
                             .arg(seed)
                             .arg(overrides.isEmpty() ? QString()
                                                      : QLatin1Char(' ') + overrides.join(QLatin1Char(' '))));
    return lines.join(QLatin1Char('\n')) + QLatin1Char('\n');
}

QStringList Report::scriptErrorLines() const
{
    if (scriptErrors.empty())
        return { QStringLiteral("Script errors    none") };
    quint64 total = 0;
    for (const ScriptError &error : scriptErrors)
        total += error.group.count;
    QStringList lines;
    lines << QStringLiteral("Script errors    %1 (%2 distinct)").arg(total).arg(scriptErrors.size());
    for (const ScriptError &error : scriptErrors) {
        const ScriptErrorGroup &group = error.group;
        const QString times = group.count == 1
                ? QStringLiteral("once at %1 s").arg(formatOffset(group.firstTime, start))
                : QStringLiteral("%1 times from %2 s to %3 s")
                          .arg(group.count)
                          .arg(formatOffset(group.firstTime, start), formatOffset(group.lastTime, start));
        lines << QStringLiteral("  %1 in %2, %3").arg(group.where, group.actorsText(), times);
        lines << QStringLiteral("    %1").arg(group.text);
        if (!group.fileName.isEmpty())
            lines << QStringLiteral("    %1 | %2").arg(group.position(), error.sourceLine);
        for (const ScriptStackFrame &frame : group.frames)
            lines << QStringLiteral("      at %1").arg(frame.toString());
    }
    return lines;
}

QJsonArray Report::scriptErrorsJson() const
{
    QJsonArray array;
    for (const ScriptError &error : scriptErrors) {
        const ScriptErrorGroup &group = error.group;
        QJsonArray frames;
        for (const ScriptStackFrame &frame : group.frames) {
            frames.append(QJsonObject {
                { QStringLiteral("function"), frame.function },
                { QStringLiteral("async"), frame.async },
                { QStringLiteral("file"), frame.fileName },
                { QStringLiteral("line"), frame.line },
                { QStringLiteral("column"), frame.column },
            });
        }
        array.append(QJsonObject {
            { QStringLiteral("where"), group.where },
            { QStringLiteral("error"), group.text },
            { QStringLiteral("file"), group.fileName },
            { QStringLiteral("line"), group.line },
            { QStringLiteral("column"), group.column },
            { QStringLiteral("sourceLine"), error.sourceLine },
            { QStringLiteral("stack"), frames },
            { QStringLiteral("count"), double(group.count) },
            { QStringLiteral("firstActor"), group.firstActor },
            { QStringLiteral("actors"), group.actorCount },
            { QStringLiteral("first"), formatInstant(group.firstTime) },
            { QStringLiteral("last"), formatInstant(group.lastTime) },
        });
    }
    return array;
}

QJsonObject Report::toJson() const
{
    QJsonObject metrics;
    for (const auto &[name, value] : values)
        metrics.insert(name, value);
    QJsonObject statuses;
    for (const auto &[status, requests] : responsesByStatus)
        statuses.insert(QString::number(status), double(requests));
    QJsonArray roomArray;
    for (const Room &room : rooms) {
        roomArray.append(QJsonObject {
            { QStringLiteral("name"), room.name },
            { QStringLiteral("id"), room.id },
            { QStringLiteral("location"), room.location },
            { QStringLiteral("sockets"), room.sockets },
            { QStringLiteral("requests"), double(room.requests) },
            { QStringLiteral("peakPendingWrites"), room.peakPendingWrites },
        });
    }
    QJsonArray expectationArray;
    for (const ExpectationResult &result : expectations) {
        expectationArray.append(QJsonObject {
            { QStringLiteral("expectation"), result.description },
            { QStringLiteral("actual"), result.known ? QJsonValue(result.actual) : QJsonValue() },
            { QStringLiteral("passed"), result.passed },
        });
    }
    return QJsonObject {
        { QStringLiteral("scenario"), scenario },
        { QStringLiteral("seed"), QString::number(seed) },
        { QStringLiteral("start"), formatInstant(start) },
        { QStringLiteral("end"), formatInstant(end) },
        { QStringLiteral("durationSeconds"), double(duration) / 1e6 },
        { QStringLiteral("events"), double(events) },
        { QStringLiteral("traceEvents"), double(traceEvents) },
        { QStringLiteral("traceDigest"), traceDigest },
        { QStringLiteral("kvSettings"), kvSettings },
        { QStringLiteral("objectSettings"), objectSettings },
        { QStringLiteral("kvInputs"), QJsonArray::fromStringList(kvInputs) },
        { QStringLiteral("objectInputs"), QJsonArray::fromStringList(objectInputs) },
        { QStringLiteral("metrics"), metrics },
        { QStringLiteral("responsesByStatus"), statuses },
        { QStringLiteral("rooms"), roomArray },
        { QStringLiteral("cost"), QJsonObject {
              { QStringLiteral("runUsd"), roundedForJson(cost.runUsd) },
              { QStringLiteral("kvReadsUsd"), roundedForJson(cost.kvReadsUsd) },
              { QStringLiteral("kvWritesUsd"), roundedForJson(cost.kvWritesUsd) },
              { QStringLiteral("kvDeletesUsd"), roundedForJson(cost.kvDeletesUsd) },
              { QStringLiteral("doRequestsUsd"), roundedForJson(cost.doRequestsUsd) },
              { QStringLiteral("doDurationUsd"), roundedForJson(cost.doDurationUsd) },
              { QStringLiteral("doRequests"), cost.doRequests },
              { QStringLiteral("doGbSeconds"), roundedForJson(cost.doGbSeconds) },
              { QStringLiteral("monthlyUsd"), roundedForJson(cost.monthlyUsd) },
          } },
        { QStringLiteral("expectations"), expectationArray },
        { QStringLiteral("scriptErrors"), scriptErrorsJson() },
        { QStringLiteral("passed"), passed() },
    };
}

} // namespace roomscope
