#include "scaledscenario.h"

#include <algorithm>

namespace roomscope::bench {

namespace {

const Scenario::Workload *findWorkload(const Scenario &scenario, bool broadcastOnly)
{
    const auto matches = [broadcastOnly](const Scenario::Workload &workload) {
        if (broadcastOnly)
            return workload.broadcastWeight > 0 && workload.putWeight == 0
                && workload.getWeight == 0;
        return workload.putWeight > 0;
    };
    const auto it = std::find_if(scenario.workloads.begin(), scenario.workloads.end(), matches);
    return it == scenario.workloads.end() ? nullptr : &*it;
}

Scenario::Workload roomWorkload(
    const Scenario::Workload &shape, const Scenario::Room &room, const QString &suffix)
{
    Scenario::Workload workload = shape;
    workload.name = room.name + suffix;
    workload.room = room.name;
    workload.location = room.location;
    workload.keys.clear();
    for (const QString &key : shape.keys)
        workload.keys << room.name + QLatin1Char(':') + key;
    return workload;
}

} // namespace

qint64 clientCount(const Scenario &scenario)
{
    qint64 count = 0;
    for (const Scenario::Room &room : scenario.rooms) {
        for (const Scenario::ClientGroup &group : room.clients)
            count += group.count;
    }
    return count;
}

Result<Scenario> scaleScenario(const Scenario &base, const ScaleOptions &options)
{
    const Scenario::Workload *writerShape = findWorkload(base, false);
    const Scenario::Workload *broadcastShape = findWorkload(base, true);
    if (!writerShape || !broadcastShape) {
        return Error::error(QStringLiteral(
            "%1: the scenario needs a workload with a put weight and a broadcast-only workload "
            "to copy for each room")
                                .arg(base.sourcePath));
    }
    if (base.locations.empty())
        return Error::error(
            QStringLiteral("%1: the scenario has no locations").arg(base.sourcePath));

    Scenario scaled = base;
    scaled.name = QStringLiteral("%1 scaled to %2 rooms x %3 clients")
                      .arg(base.name)
                      .arg(options.rooms)
                      .arg(options.clientsPerRoom);
    scaled.duration = options.duration;
    scaled.rooms.clear();
    scaled.workloads.clear();
    scaled.expectations.clear();

    const int locationCount = int(base.locations.size());
    for (int r = 0; r < options.rooms; ++r) {
        Scenario::Room room;
        room.name = QStringLiteral("room-%1").arg(r + 1, 2, 10, QLatin1Char('0'));
        room.location = base.locations[size_t(r % locationCount)].name;
        for (int l = 0; l < locationCount; ++l) {
            const int count = options.clientsPerRoom / locationCount
                + (l < options.clientsPerRoom % locationCount ? 1 : 0);
            room.clients.push_back({ base.locations[size_t(l)].name, count });
        }
        scaled.rooms.push_back(room);

        if (!options.withWorkloads)
            continue;
        scaled.workloads.push_back(roomWorkload(*writerShape, room, QStringLiteral("-writers")));
        Scenario::Workload broadcast
            = roomWorkload(*broadcastShape, room, QStringLiteral("-broadcast"));
        broadcast.ratePerSecond = 0;
        broadcast.every = seconds(1);
        scaled.workloads.push_back(broadcast);
    }
    return scaled;
}

} // namespace roomscope::bench
