#pragma once

// A Durable Object namespace on its own, for the test suites of the Durable Object runtime.

#include "durableobjectnamespace.h"
#include "simtasks.h"

#include <memory>

namespace roomscope::testing {

/// One simulation with two locations (LHR and SJC, 40 ms apart, 2 ms inside a location, no
/// jitter) and one Durable Object namespace of a class whose behaviour the test supplies.
/// Callers are in LHR, so an object they reach first runs in LHR.
struct DurableObjectFixture
{
    explicit DurableObjectFixture(BehaviourFactory factory,
                                  StorageBackend backend = StorageBackend::Sqlite,
                                  DurableObjectSettings settings = {},
                                  QString className = QStringLiteral("Room"))
        : simulation(1, seconds(1'767'225'600)) // 2026-01-01T00:00:00Z
    {
        lhr = locations.add(QStringLiteral("LHR"));
        sjc = locations.add(QStringLiteral("SJC"));
        locations.setLatency(lhr, sjc, milliseconds(40));
        locations.setLatency(lhr, lhr, kLocalLatency);
        locations.setLatency(sjc, sjc, kLocalLatency);
        DurableObjectClass objectClass;
        objectClass.name = className;
        objectClass.backend = backend;
        objectClass.factory = std::move(factory);
        ns = std::make_unique<DurableObjectNamespace>(simulation, locations, QStringLiteral("ROOMS"),
                                                      std::move(objectClass),
                                                      QStringLiteral("worker-") + className,
                                                      std::move(settings));
    }

    DurableObjectStub stub(const QString &name)
    {
        return ns->getByName(name, lhr).value();
    }
    DurableObject &object(const QString &name) { return ns->object(ns->idFromName(name), lhr); }

    /// A request to http://room.invalid<pathAndQuery>.
    static HttpRequest request(const QString &pathAndQuery)
    {
        HttpRequest request;
        request.url = QUrl(QStringLiteral("http://room.invalid") + pathAndQuery);
        return request;
    }

    static constexpr SimDuration kLocalLatency = milliseconds(2);

    Simulation simulation;
    LocationMap locations;
    LocationId lhr = 0;
    LocationId sjc = 0;
    std::unique_ptr<DurableObjectNamespace> ns;
};

} // namespace roomscope::testing
