// The platform objects that a Worker's bindings and a Durable Object's ctx expose, on top of the
// host functions that Roomscope passes in. Like runtime.js, this file is a function expression
// that the host calls once per realm; it returns the constructors the host needs.
(function installBindings(host) {
  "use strict";

  const typeError = (message) => new TypeError(message);

  // Platform APIs whose host side does not exist yet fail with an error that names them.
  const notYet = {
    storageGet: "ctx.storage.get()", storagePut: "ctx.storage.put()", storagePutEntries: "ctx.storage.put()",
    storageDelete: "ctx.storage.delete()", storageList: "ctx.storage.list()", storageDeleteAll: "ctx.storage.deleteAll()",
    storageGetAlarm: "ctx.storage.getAlarm()", storageSetAlarm: "ctx.storage.setAlarm()", storageDeleteAlarm: "ctx.storage.deleteAlarm()",
    storageSync: "ctx.storage.sync()", sqlExec: "ctx.storage.sql.exec()", sqlDatabaseSize: "ctx.storage.sql.databaseSize",
    ctxGetTags: "ctx.getTags()", ctxSetAutoResponse: "ctx.setWebSocketAutoResponse()", ctxGetAutoResponse: "ctx.getWebSocketAutoResponse()",
    ctxGetAutoResponseTimestamp: "ctx.getWebSocketAutoResponseTimestamp()", ctxSetEventTimeout: "ctx.setHibernatableWebSocketEventTimeout()",
    ctxBlockConcurrencyWhile: "ctx.blockConcurrencyWhile()", ctxWaitUntil: "ctx.waitUntil()", ctxAbort: "ctx.abort()",
    wsSetAttachment: "ws.serializeAttachment()", wsGetAttachment: "ws.deserializeAttachment()",
  };
  for (const [name, api] of Object.entries(notYet)) {
    if (typeof host[name] !== "function")
      host[name] = () => { throw new Error(`${api} is not available in Roomscope's JavaScript runtime yet.`); };
  }
  const isBytes = (v) => v instanceof ArrayBuffer || ArrayBuffer.isView(v);

  // ---------------------------------------------------------------- WebSocket
  const READY = { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 };
  class WebSocket {
    constructor(handle) {
      if (handle === undefined) throw typeError("Illegal constructor");
      this._handle = handle;
      this._listeners = new Map();
    }
    static get CONNECTING() { return READY.CONNECTING; }
    static get OPEN() { return READY.OPEN; }
    static get CLOSING() { return READY.CLOSING; }
    static get CLOSED() { return READY.CLOSED; }
    get readyState() { return host.wsReadyState(this._handle); }
    get url() { return null; }
    get protocol() { return ""; }
    get extensions() { return ""; }
    accept() { host.wsAccept(this._handle); }
    send(message) {
      if (typeof message === "string") host.wsSend(this._handle, message, false);
      else if (isBytes(message)) host.wsSend(this._handle, new Uint8Array(ArrayBuffer.isView(message) ? message.buffer.slice(message.byteOffset, message.byteOffset + message.byteLength) : message), true);
      else host.wsSend(this._handle, String(message), false);
    }
    close(code, reason) { host.wsClose(this._handle, code === undefined ? 1000 : Number(code), reason === undefined ? "" : String(reason)); }
    serializeAttachment(value) { host.wsSetAttachment(this._handle, value === undefined ? undefined : JSON.stringify(structuredClone(value))); }
    deserializeAttachment() { const text = host.wsGetAttachment(this._handle); return text === undefined || text === null ? null : JSON.parse(text); }
    addEventListener(type, listener) {
      if (!this._listeners.has(type)) this._listeners.set(type, []);
      this._listeners.get(type).push(listener);
    }
    removeEventListener(type, listener) {
      const list = this._listeners.get(type);
      if (list) this._listeners.set(type, list.filter((l) => l !== listener));
    }
    _dispatch(type, event) {
      for (const listener of this._listeners.get(type) || []) {
        if (typeof listener === "function") listener.call(this, event);
        else if (listener && typeof listener.handleEvent === "function") listener.handleEvent(event);
      }
    }
    get [Symbol.toStringTag]() { return "WebSocket"; }
  }
  class WebSocketPair {
    constructor() {
      const [client, server] = host.wsNewPair();
      this[0] = new WebSocket(client);
      this[1] = new WebSocket(server);
    }
  }
  Object.defineProperty(globalThis, "WebSocket", { value: WebSocket, writable: true, configurable: true });
  Object.defineProperty(globalThis, "WebSocketPair", { value: WebSocketPair, writable: true, configurable: true });

  // ---------------------------------------------------------------- Workers KV
  const kvKeyCheck = (method, key) => {
    if (key === undefined) throw typeError(`Failed to execute '${method}' on 'KvNamespace': parameter 1 is not of type 'string'.`);
  };
  const kvNumberOption = (value) => (value === undefined || value === null ? undefined : Number(value));
  class KvNamespace {
    constructor(id) { this._id = id; }
    get(key, options) {
      kvKeyCheck("get", key);
      const opts = typeof options === "string" ? { type: options } : options || {};
      return host.kvGet(this._id, Array.isArray(key) ? key.map(String) : String(key), opts.type || "text", opts.cacheTtl, false);
    }
    getWithMetadata(key, options) {
      kvKeyCheck("getWithMetadata", key);
      const opts = typeof options === "string" ? { type: options } : options || {};
      return host.kvGet(this._id, Array.isArray(key) ? key.map(String) : String(key), opts.type || "text", opts.cacheTtl, true);
    }
    put(key, value, options = {}) {
      kvKeyCheck("put", key);
      if (typeof value !== "string" && !isBytes(value) && !(value && typeof value === "object" && typeof value.getReader === "function"))
        return Promise.reject(typeError("Failed to execute 'put' on 'KvNamespace': parameter 2 is not of type 'string or JsObject'."));
      const bytes = typeof value === "string" ? value : new Uint8Array(ArrayBuffer.isView(value) ? value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength) : value);
      // As in Miniflare 4 (workerd), a non-number expiration or TTL goes through Number(), so "abc" fails as NaN, shown as 0.
      return host.kvPut(this._id, String(key), bytes, kvNumberOption(options.expiration), kvNumberOption(options.expirationTtl),
                        options.metadata === undefined ? undefined : JSON.stringify(options.metadata));
    }
    delete(key) { kvKeyCheck("delete", key); return host.kvDelete(this._id, String(key)); }
    list(options = {}) {
      return host.kvList(this._id, options.prefix === undefined || options.prefix === null ? "" : String(options.prefix),
                         options.limit, options.cursor === undefined || options.cursor === null ? "" : String(options.cursor));
    }
  }

  // ---------------------------------------------------------------- Durable Objects
  class DurableObjectId {
    constructor(hex, name) { this._hex = hex; if (name !== undefined) this.name = name; }
    toString() { return this._hex; }
    equals(other) { return other instanceof DurableObjectId && other._hex === this._hex; }
    get [Symbol.toStringTag]() { return "DurableObjectId"; }
  }
  const stubMethods = new Set(["fetch", "id", "name", "then", "toJSON", "constructor"]);
  const makeStub = (namespace, id) => {
    const base = {
      id,
      name: id.name,
      fetch(input, init) {
        const request = input instanceof Request && init === undefined ? input : new Request(input, init);
        return host.stubFetch(namespace, id._hex, id.name === undefined ? null : id.name, request);
      },
    };
    return new Proxy(base, {
      get(target, property) {
        if (typeof property === "symbol" || stubMethods.has(property)) return target[property];
        return (...args) => host.stubCall(namespace, id._hex, id.name === undefined ? null : id.name, property, JSON.stringify(args));
      },
    });
  };
  class DurableObjectNamespace {
    constructor(id) { this._id = id; }
    idFromName(name) { const hex = host.doIdFromName(this._id, String(name)); return new DurableObjectId(hex, String(name)); }
    idFromString(text) { return new DurableObjectId(host.doIdFromString(this._id, String(text))); }
    newUniqueId(options = {}) { return new DurableObjectId(host.doNewUniqueId(this._id, options.jurisdiction === undefined ? "" : String(options.jurisdiction))); }
    get(id, options) {
      if (!(id instanceof DurableObjectId)) throw typeError("Failed to execute 'get' on 'DurableObjectNamespace': parameter 1 is not of type 'DurableObjectId'.");
      return makeStub(this._id, id);
    }
    getByName(name, options) { return this.get(this.idFromName(name), options); }
    jurisdiction(name) { return this; }
  }

  // ---------------------------------------------------------------- ctx of a Durable Object
  class DurableObjectStorage {
    constructor(object) { this._object = object; }
    get(keys, options = {}) { return host.storageGet(this._object, Array.isArray(keys) ? keys.map(String) : String(keys)); }
    put(key, value, options = {}) {
      if (key !== null && typeof key === "object") return host.storagePutEntries(this._object, JSON.stringify(key));
      return host.storagePut(this._object, String(key), JSON.stringify(value === undefined ? null : value));
    }
    delete(keys) { return host.storageDelete(this._object, Array.isArray(keys) ? keys.map(String) : String(keys)); }
    list(options = {}) { return host.storageList(this._object, JSON.stringify(options)); }
    deleteAll() { return host.storageDeleteAll(this._object); }
    getAlarm() { return host.storageGetAlarm(this._object); }
    setAlarm(time) { return host.storageSetAlarm(this._object, time instanceof Date ? time.getTime() : Number(time)); }
    deleteAlarm() { return host.storageDeleteAlarm(this._object); }
    sync() { return host.storageSync(this._object); }
    get sql() {
      const object = this._object;
      return {
        exec(query, ...bindings) {
          const result = host.sqlExec(object, String(query), JSON.stringify(bindings));
          const rows = result.rows;
          let index = 0;
          return {
            columnNames: result.columns,
            get rowsRead() { return result.rowsRead; },
            get rowsWritten() { return result.rowsWritten; },
            toArray() { const out = rows.slice(index); index = rows.length; return out; },
            one() {
              if (rows.length !== 1) throw new Error(rows.length === 0 ? "Expected exactly one result from SQL query, but got no results." : "Expected exactly one result from SQL query, but got multiple results.");
              return rows[0];
            },
            next() { return index < rows.length ? { done: false, value: rows[index++] } : { done: true, value: undefined }; },
            raw() { const names = result.columns; return rows.slice(index).map((r) => names.map((n) => r[n]))[Symbol.iterator](); },
            [Symbol.iterator]() { return this; },
          };
        },
        get databaseSize() { return host.sqlDatabaseSize(object); },
      };
    }
  }
  class DurableObjectState {
    constructor(object, id) {
      this._object = object;
      this.id = id;
      this.storage = new DurableObjectStorage(object);
      this._sockets = new Map();
    }
    _socket(handle) {
      let ws = this._sockets.get(handle);
      if (!ws) { ws = new WebSocket(handle); this._sockets.set(handle, ws); }
      return ws;
    }
    acceptWebSocket(ws, tags = []) {
      if (!(ws instanceof WebSocket)) throw typeError("Failed to execute 'acceptWebSocket' on 'DurableObjectState': parameter 1 is not of type 'WebSocket'.");
      host.ctxAcceptWebSocket(this._object, ws._handle, Array.from(tags, String));
      this._sockets.set(ws._handle, ws);
    }
    getWebSockets(tag) { return host.ctxGetWebSockets(this._object, tag === undefined ? null : String(tag)).map((h) => this._socket(h)); }
    getTags(ws) { return host.ctxGetTags(this._object, ws._handle); }
    setWebSocketAutoResponse(pair) { host.ctxSetAutoResponse(this._object, pair ? pair.request : null, pair ? pair.response : null); }
    getWebSocketAutoResponse() { const p = host.ctxGetAutoResponse(this._object); return p ? new WebSocketRequestResponsePair(p[0], p[1]) : null; }
    getWebSocketAutoResponseTimestamp(ws) { const t = host.ctxGetAutoResponseTimestamp(this._object, ws._handle); return t === null ? null : new Date(t); }
    setHibernatableWebSocketEventTimeout(ms) { host.ctxSetEventTimeout(this._object, ms === undefined ? null : Number(ms)); }
    blockConcurrencyWhile(callback) { return host.ctxBlockConcurrencyWhile(this._object, callback); }
    waitUntil(promise) { host.ctxWaitUntil(this._object, Promise.resolve(promise)); }
    abort(reason) { host.ctxAbort(this._object, reason === undefined ? "" : String(reason)); }
  }
  class WebSocketRequestResponsePair {
    constructor(request, response) { this._request = String(request); this._response = String(response); }
    get request() { return this._request; }
    get response() { return this._response; }
  }
  Object.defineProperty(globalThis, "WebSocketRequestResponsePair", { value: WebSocketRequestResponsePair, writable: true, configurable: true });

  // Headers as [name, value, name, value, ...] for the host.
  const headerList = (headers) => [...headers].flat();

  return { WebSocket, KvNamespace, DurableObjectNamespace, DurableObjectId, DurableObjectState, headerList };
});
