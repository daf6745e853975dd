// The "cloudflare:workers" module as a Worker imports it: the base classes of Durable Objects
// and entrypoints, which keep ctx and env as the platform's do.
export class DurableObject {
  constructor(ctx, env) {
    this.ctx = ctx;
    this.env = env;
  }
}

export class WorkerEntrypoint {
  constructor(ctx, env) {
    this.ctx = ctx;
    this.env = env;
  }
}

export class RpcTarget {}
