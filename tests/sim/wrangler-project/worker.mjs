// A Worker that reports what its configuration gave it, for tst_wranglerconfig and tst_cli.
import { DurableObject } from 'cloudflare:workers';

export class Counter extends DurableObject {
  async fetch() {
    const count = ((await this.ctx.storage.get('count')) ?? 0) + 1;
    await this.ctx.storage.put('count', count);
    return new Response(String(count));
  }
}

export default {
  async fetch(request, env) {
    const path = new URL(request.url).pathname;
    if (path === '/env') {
      return Response.json({
        greeting: env.GREETING,
        limit: env.LIMIT,
        debug: env.DEBUG,
        nested: env.NESTED,
        kv: typeof env.CACHE,
        counters: typeof env.COUNTERS,
        sameCounters: typeof env.SAME_COUNTERS,
      });
    }
    if (path === '/kv') {
      await env.CACHE.put('k', 'stored');
      return new Response(await env.CACHE.get('k'));
    }
    return env.COUNTERS.getByName('first').fetch(request);
  },
};
