#pragma once

// Running a simulation task to its result, for the test suites of sim/ and model/.

#include "simulation.h"
#include "task.h"

#include <QtGlobal>

#include <memory>
#include <optional>

namespace roomscope::testing {

/// Awaits `task` and stores its result, for a test to read once the simulation has run.
template<typename T>
Task<void> storeResult(Task<T> task, std::shared_ptr<std::optional<T>> result)
{
    result->emplace(co_await task);
}

/// Starts `task` at the current virtual time; the result appears once the simulation runs it.
template<typename T>
std::shared_ptr<std::optional<T>> startTask(Simulation &simulation, Task<T> task)
{
    auto result = std::make_shared<std::optional<T>>();
    simulation.spawn(storeResult(std::move(task), result));
    return result;
}

/// Steps the simulation until a started task has its result, and returns it. A task that can
/// never finish stops the test.
template<typename T>
T finishTask(Simulation &simulation, const std::shared_ptr<std::optional<T>> &result)
{
    while (!*result && simulation.step()) { }
    if (!*result)
        qFatal("a simulation task never finished");
    return std::move(**result);
}

template<typename T>
T runTask(Simulation &simulation, Task<T> task)
{
    return finishTask(simulation, startTask(simulation, std::move(task)));
}

} // namespace roomscope::testing
