// The kv-room pattern as a Worker module: the Worker sends each request to the room named by
// ?roomId=, and the room's Durable Object writes KV one value at a time and broadcasts a KV read
// to every WebSocket connected to it. Roomscope's built-in kv-room class behaves the same way.
import { DurableObject } from "cloudflare:workers";

export default {
  async fetch(request, env) {
    const roomId = new URL(request.url).searchParams.get("roomId");
    if (!roomId) {
      return new Response("missing roomId\n", { status: 400 });
    }
    return env.ROOMS.getByName(roomId).fetch(request);
  },
};

export class Room extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    // Each write starts when the one before it has finished, so writes reach KV in order.
    this.lastWrite = Promise.resolve();
    this.writesDone = 0;
  }

  queueWrite(key, value) {
    const write = this.lastWrite.then(() => this.env.KV.put(key, value));
    this.lastWrite = write.catch(() => {});
    return write;
  }

  async fetch(request) {
    const params = new URL(request.url).searchParams;
    const route = new URL(request.url).pathname;
    if (route === "/put") {
      try {
        await this.queueWrite(params.get("key"), params.get("value") ?? "");
        this.writesDone += 1;
        return new Response("ok\n");
      } catch (error) {
        return new Response(`error: ${error.message}\n`, { status: 500 });
      }
    }
    if (route === "/get") {
      const value = await this.env.KV.get(params.get("key"));
      return value === null ? new Response("not found\n", { status: 404 }) : new Response(value);
    }
    if (route === "/broadcast") {
      const value = await this.env.KV.get(params.get("key"));
      if (value === null) {
        return new Response("not found\n", { status: 404 });
      }
      let sent = 0;
      for (const socket of this.ctx.getWebSockets()) {
        socket.send(value);
        sent += 1;
      }
      // The built-in class's key order, so that both rooms give the same trace.
      return Response.json({ failed: 0, sent });
    }
    if (route === "/ws") {
      if (request.headers.get("Upgrade") !== "websocket") {
        return new Response("expected Upgrade: websocket\n", { status: 426 });
      }
      const [client, server] = Object.values(new WebSocketPair());
      this.ctx.acceptWebSocket(server);
      return new Response(null, { status: 101, webSocket: client });
    }
    if (route === "/id") {
      return new Response(this.ctx.id.toString());
    }
    if (route === "/count") {
      return new Response(String(this.ctx.getWebSockets().length));
    }
    return new Response("not found\n", { status: 404 });
  }

  async webSocketMessage(socket, message) {
    if (message === "ping") {
      socket.send("pong");
    }
  }

  async webSocketClose(socket, code, reason) {
    socket.close(code, reason);
  }
}
