#pragma once

// A Worker module, written for the tests, with the three defects of Cloudflare's documented
// "Use Workers KV from Durable Objects" example. The Worker's fetch names an undefined variable
// and returns nothing for a request without a roomId. The object calls KV put without a value,
// here from a helper in a second file.

#include "testfiles.h"
#include "world.h"

#include <QString>

#include <memory>

namespace roomscope::testing {

inline const QByteArray kDefectiveWorker =
        "import { DurableObject } from 'cloudflare:workers';\n"
        "import { store } from './lib/store.mjs';\n"
        "\n"
        "export default {\n"
        "  async fetch(request, env) {\n"
        "    const url = new URL(request.url);\n"
        "    const roomIdParam = url.searchParams.get('roomId');\n"
        "    if (roomIdParam) {\n"
        "      return env.ROOMS.getByName(roomIdParam).fetch(`http://do/${roomId}`);\n"
        "    }\n"
        "    if (url.pathname === '/direct') return env.ROOMS.getByName('room-1').fetch(request);\n"
        "  },\n"
        "};\n"
        "\n"
        "export class Room extends DurableObject {\n"
        "  async fetch(request) {\n"
        "    console.log('storing for', new URL(request.url).pathname);\n"
        "    await store(this.env.KV, 'some-key');\n"
        "    return new Response('stored');\n"
        "  }\n"
        "}\n";

inline const QByteArray kDefectiveWorkerStore =
        "// Writes a key, but without a value.\n"
        "export async function store(kv, key) {\n"
        "  await kv.put(key);\n"
        "}\n";

/// Writes the module and its helper into `folder`; returns the entry module's path.
inline QString writeDefectiveWorker(const QString &folder)
{
    const QString path = folder + QStringLiteral("/worker.mjs");
    if (!writeFile(path, kDefectiveWorker)
        || !writeFile(folder + QStringLiteral("/lib/store.mjs"), kDefectiveWorkerStore))
        qFatal("cannot write the Worker module into %s", qPrintable(folder));
    return path;
}

} // namespace roomscope::testing
