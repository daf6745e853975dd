#pragma once

#include "gatewaysettings.h"
#include "scenario.h"

#include <QStringList>

namespace roomscope {

/// The options of `roomscope serve` besides the gateway's own settings.
struct ServeOptions
{
    QString scenarioPath;
    std::optional<quint64> seed;
    QString profile; ///< empty keeps the scenario's
    WorkerOptions worker; ///< --config, --env, --kv, --do, --sqlite-class and --cpu-limit
    int exitAfterSeconds = 0; ///< 0 serves until interrupted
    GatewaySettings gateway;
    QString helpText; ///< set when --help was given: print it and exit
};

/// Parses the arguments of `roomscope serve` (arguments[0] is the program, arguments[1] "serve").
/// Returns the options, or an error naming the option, the value and the fix.
Result<ServeOptions> parseServeArguments(const QStringList &arguments);

/// `roomscope serve SCENARIO [--port P] ...`: runs the scenario in real time behind the loopback
/// gateway until interrupted (SIGINT or SIGTERM) or --exit-after passes. Returns the exit status:
/// 0 after a clean stop, 2 for invalid input or a port that cannot be listened on.
int runServe(const QStringList &arguments);

} // namespace roomscope
