#pragma once

// Building a world from a scenario and sending it requests, for the test suites that run Worker
// modules in the simulation.

#include "http.h"
#include "scenario.h"
#include "simtasks.h"
#include "world.h"

#include <QUrl>
#include <QtGlobal>

#include <memory>

namespace roomscope::testing {

/// The world of a scenario that must load; a scenario or world that fails stops the test.
inline std::unique_ptr<World> createWorld(const Result<Scenario> &scenario)
{
    if (!scenario)
        qFatal("%s", qPrintable(scenario.error().message));
    Result<std::unique_ptr<World>> world = World::create(*scenario);
    if (!world)
        qFatal("%s", qPrintable(world.error().message));
    return std::move(world).value();
}

/// Sends GET `target` (a path with its query) to the world's Worker and runs the simulation
/// until the response arrives.
inline HttpResponse get(World &world, const QString &target)
{
    HttpRequest request;
    request.url = QUrl(QStringLiteral("http://127.0.0.1:8787") + target);
    return runTask(world.simulation(), world.request(QStringLiteral("test"), 0, request));
}

} // namespace roomscope::testing
