#pragma once

#include "result.h"

#include <QString>
#include <QStringList>

#include <chrono>

namespace roomscope {

/// How long esbuild may take to bundle a TypeScript entry before the load fails.
inline constexpr std::chrono::milliseconds kBundleTimeout { 60'000 };

/// True for an entry module that Roomscope must bundle before it can load it: .ts or .mts.
bool isTypeScriptPath(const QString &path);

/// Finds node_modules/.bin/esbuild for a TypeScript entry: in each of `projectFolders`, then in
/// the entry's folder and its parents up to the first folder that has a package.json. Returns
/// an empty string when there is none.
QString findEsbuild(const QString &entryPath, const QStringList &projectFolders);

/// Bundles a TypeScript entry module and what it imports into one ES module in `outputFolder`
/// with the project's esbuild, as wrangler does: `cloudflare:*` imports stay external and
/// packages resolve with the workerd, worker and browser conditions. Returns the path of the
/// bundle, or an error with esbuild's output. `configPath` (may be empty) only shapes the
/// message given when no esbuild is found.
Result<QString> bundleTypeScript(const QString &entryPath, const QStringList &projectFolders,
                                 const QString &outputFolder, const QString &configPath);

} // namespace roomscope
