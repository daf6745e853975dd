#pragma once

#include <QStringList>

namespace roomscope {

/// `roomscope run SCENARIO [--seed N] [--duration T] [--report text|json] [--trace FILE]
/// [--load-session FILE.sqlite] [--kv-import FILE.json] [--kv-export FILE.json]
/// [--save-session FILE.sqlite] [--config FILE] [--env NAME] [--kv BINDING] [--do BINDING=CLASS]
/// [--sqlite-class CLASS] [--cpu-limit MS]`:
/// runs a scenario, a wrangler configuration file or a Worker module as fast as the CPU allows,
/// prints its report and returns the exit status: 0 when every expectation held, 1 when one
/// failed, 2 for invalid input.
int runHeadless(const QStringList &arguments);

} // namespace roomscope
