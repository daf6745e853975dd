// The platform objects that a Worker's bindings and a Durable Object's ctx expose, on top of the
// host functions that Roomscope passes in. Like runtime.js, this file is a function expression
// that the host calls once per realm; it returns the constructors the host needs.
(function installBindings(host) {
  "use strict";

  const typeError = (message) => new TypeError(message);

  const isBytes = (v) => v instanceof ArrayBuffer || ArrayBuffer.isView(v);
  // ---------------------------------------------------------------- stored values
  // Storage values and WebSocket attachments reach the host as JSON text, so that the room
  // inspector shows them readably. A value that plain JSON gives back exactly is stored as that
  // JSON. Any other value that structuredClone() accepts (undefined, NaN, -0, BigInt, Date,
  // RegExp, Map, Set, ArrayBuffer, typed arrays, Error, shared references and cycles) is stored
  // as {"$structured": node}, in which every object and every value that JSON lacks is a node
  // tagged with "$". structuredClone() raises the platform's DataCloneError for a value that
  // cannot be stored, such as a function.
  // NOTE: the platform stores V8-serialized values, so the size limits count different bytes,
  // and two typed arrays that share one buffer come back with a buffer each.
  const STRUCTURED = "$structured";
  const isPlainJson = (value) => {
    const seen = new Set();
    const check = (v) => {
      if (v === null || typeof v === "string" || typeof v === "boolean") return true;
      if (typeof v === "number") return Number.isFinite(v) && !Object.is(v, -0);
      if (typeof v !== "object" || seen.has(v)) return false;
      seen.add(v);
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) if (!(i in v) || !check(v[i])) return false;
        return Object.keys(v).length === v.length;
      }
      const proto = Object.getPrototypeOf(v);
      return (proto === Object.prototype || proto === null) && Object.keys(v).every((key) => check(v[key]));
    };
    const tagged = value !== null && typeof value === "object" && Object.prototype.hasOwnProperty.call(value, STRUCTURED);
    return !tagged && check(value);
  };
  const toBase64 = (bytes) => {
    let text = "";
    for (const byte of bytes) text += String.fromCharCode(byte);
    return btoa(text);
  };
  const fromBase64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0)).buffer;
  // `ids` numbers the objects in the order they are first met, which decodeNode() repeats.
  const encodeNode = (value, ids) => {
    if (value === undefined) return { $: "undefined" };
    if (value === null || typeof value === "string" || typeof value === "boolean") return value;
    if (typeof value === "number")
      return Number.isFinite(value) && !Object.is(value, -0) ? value : { $: "number", value: Object.is(value, -0) ? "-0" : String(value) };
    if (typeof value === "bigint") return { $: "bigint", value: value.toString() };
    if (ids.has(value)) return { $: "ref", id: ids.get(value) };
    const id = ids.size;
    ids.set(value, id);
    if (value instanceof Date) return { $: "Date", id, time: encodeNode(value.getTime(), ids) };
    if (value instanceof RegExp) return { $: "RegExp", id, source: value.source, flags: value.flags };
    if (value instanceof ArrayBuffer) return { $: "ArrayBuffer", id, base64: toBase64(new Uint8Array(value)) };
    if (ArrayBuffer.isView(value))
      return { $: value.constructor.name, id, base64: toBase64(new Uint8Array(value.buffer, value.byteOffset, value.byteLength)) };
    if (value instanceof Map) return { $: "Map", id, entries: [...value].map(([k, v]) => [encodeNode(k, ids), encodeNode(v, ids)]) };
    if (value instanceof Set) return { $: "Set", id, values: [...value].map((v) => encodeNode(v, ids)) };
    if (value instanceof Error) return { $: "Error", id, name: value.name, message: value.message, stack: String(value.stack ?? "") };
    if (Array.isArray(value)) {
      const items = [];
      for (let i = 0; i < value.length; i++) items.push(i in value ? encodeNode(value[i], ids) : { $: "hole" });
      return { $: "Array", id, items };
    }
    const properties = {};
    for (const key of Object.keys(value)) properties[key] = encodeNode(value[key], ids);
    return { $: "Object", id, properties };
  };
  const decodeNode = (node, objects) => {
    if (node === null || typeof node !== "object") return node;
    const keep = (object) => { objects[node.id] = object; return object; };
    switch (node.$) {
      case "undefined": return undefined;
      case "number": return Number(node.value);
      case "bigint": return BigInt(node.value);
      case "ref": return objects[node.id];
      case "Date": return keep(new Date(decodeNode(node.time, objects)));
      case "RegExp": return keep(new RegExp(node.source, node.flags));
      case "ArrayBuffer": return keep(fromBase64(node.base64));
      case "Map": {
        const map = keep(new Map());
        for (const [k, v] of node.entries) map.set(decodeNode(k, objects), decodeNode(v, objects));
        return map;
      }
      case "Set": {
        const set = keep(new Set());
        for (const v of node.values) set.add(decodeNode(v, objects));
        return set;
      }
      case "Error": {
        const error = keep(new (typeof globalThis[node.name] === "function" ? globalThis[node.name] : Error)(node.message));
        error.stack = node.stack;
        return error;
      }
      case "Array": {
        const array = keep([]);
        array.length = node.items.length;
        node.items.forEach((item, i) => { if (!(item && item.$ === "hole")) array[i] = decodeNode(item, objects); });
        return array;
      }
      case "Object": {
        const object = keep({});
        for (const [key, item] of Object.entries(node.properties)) object[key] = decodeNode(item, objects);
        return object;
      }
      default: {
        const View = globalThis[node.$];
        if (typeof View !== "function") throw new Error(`Stored value has an unknown type '${node.$}'.`);
        return keep(new View(fromBase64(node.base64)));
      }
    }
  };
  const encodeValue = (value) => {
    const copy = structuredClone(value);
    return JSON.stringify(isPlainJson(copy) ? copy : { [STRUCTURED]: encodeNode(copy, new Map()) });
  };
  // The value that encodeValue() stored as `text`; values stored as plain JSON decode as JSON.
  const decodeStoredValue = (text) => {
    const parsed = JSON.parse(text);
    const tagged = parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)
        && Object.keys(parsed).length === 1 && Object.prototype.hasOwnProperty.call(parsed, STRUCTURED);
    return tagged ? decodeNode(parsed[STRUCTURED], []) : parsed;
  };

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
    // The standard API: the object receives this socket's events through its listeners.
    accept() {
      host.wsAccept(this._handle);
      standardSockets.set(this._handle, this);
    }
    send(message) {
      if (typeof message === "string") host.wsSend(this._handle, message, false);
      else if (isBytes(message)) host.wsSend(this._handle, new Uint8Array(ArrayBuffer.isView(message) ? message.buffer.slice(message.byteOffset, message.byteOffset + message.byteLength) : message), true);
      else host.wsSend(this._handle, String(message), false);
    }
    close(code, reason) { host.wsClose(this._handle, code === undefined ? 1000 : Number(code), reason === undefined ? "" : String(reason)); }
    serializeAttachment(value) { host.wsSetAttachment(this._handle, value === undefined ? undefined : encodeValue(value)); }
    deserializeAttachment() { return host.wsGetAttachment(this._handle); }
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
  // Sockets accepted with ws.accept(), by handle, for the host to dispatch their events to.
  const standardSockets = new Map();
  const dispatchSocketEvent = (handle, type, event) => {
    const ws = standardSockets.get(handle);
    if (!ws) return;
    if (type === "close") standardSockets.delete(handle);
    ws._dispatch(type, Object.assign({ type, target: ws, currentTarget: ws }, event));
  };
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
  const storageKeys = (keys) => (Array.isArray(keys) ? keys.map(String) : String(keys));
  const putEntries = (entries) => {
    const encoded = {};
    for (const [key, value] of Object.entries(entries)) encoded[key] = encodeValue(value);
    return encoded;
  };

  // The cursor of sql.exec(). The host runs the whole statement at once, so the cursor walks
  // rows that are already read; next(), toArray(), one() and raw() share one position.
  class SqlStorageCursor {
    constructor(result) {
      this._columns = result.columns;
      this._rows = result.rows;
      this._position = 0;
      this._rowsRead = result.rowsRead;
      this._rowsWritten = result.rowsWritten;
    }
    get columnNames() { return this._columns.slice(); }
    get rowsRead() { return this._rowsRead; }
    get rowsWritten() { return this._rowsWritten; }
    _nextRow() { return this._position < this._rows.length ? this._rows[this._position++] : undefined; }
    _toObject(row) {
      const object = {};
      this._columns.forEach((name, i) => { object[name] = row[i]; });
      return object;
    }
    next() {
      const row = this._nextRow();
      return row === undefined ? { done: true, value: undefined } : { done: false, value: this._toObject(row) };
    }
    toArray() {
      const rows = [];
      for (let row = this._nextRow(); row !== undefined; row = this._nextRow()) rows.push(this._toObject(row));
      return rows;
    }
    // The texts match those of the C++ SqlCursor::one().
    one() {
      const row = this._nextRow();
      if (row === undefined) throw new Error("Expected exactly one result from SQL query, but got no results.");
      if (this._position < this._rows.length) throw new Error("Expected exactly one result from SQL query, but got multiple results.");
      return this._toObject(row);
    }
    raw() {
      const cursor = this;
      return {
        next() {
          const row = cursor._nextRow();
          return row === undefined ? { done: true, value: undefined } : { done: false, value: row.slice() };
        },
        toArray() {
          const rows = [];
          for (let row = cursor._nextRow(); row !== undefined; row = cursor._nextRow()) rows.push(row.slice());
          return rows;
        },
        [Symbol.iterator]() { return this; },
      };
    }
    [Symbol.iterator]() { return this; }
    get [Symbol.toStringTag]() { return "SqlStorageCursor"; }
  }
  const sqlBinding = (value) => {
    if (value instanceof ArrayBuffer) return new Uint8Array(value.slice(0));
    if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength));
    return value === undefined ? null : value;
  };
  class SqlStorage {
    constructor(object) { this._object = object; }
    exec(query, ...bindings) { return new SqlStorageCursor(host.sqlExec(this._object, String(query), bindings.map(sqlBinding))); }
    get databaseSize() { return host.sqlDatabaseSize(this._object); }
    get [Symbol.toStringTag]() { return "SqlStorage"; }
  }
  // storage.kv: the synchronous KV API of SQLite-backed classes.
  class SyncKvStorage {
    constructor(object) { this._object = object; }
    get(key) { return host.kvSyncGet(this._object, String(key)); }
    put(key, value) { host.kvSyncPut(this._object, String(key), encodeValue(value)); }
    delete(key) { return host.kvSyncDelete(this._object, String(key)); }
    list(options = {}) { return host.kvSyncList(this._object, JSON.stringify(options))[Symbol.iterator](); }
    get [Symbol.toStringTag]() { return "SyncKvStorage"; }
  }
  // The txn of storage.transaction(). Its operations run on the object's storage, whose open
  // SQLite transaction contains the writes. The host rejects an operation with the platform's
  // error once the callback has finished or the transaction was rolled back.
  class DurableObjectTransaction {
    constructor(object, id) { this._object = object; this._id = id; }
    _check(operation, rejectRolledBack = true) { host.txnCheck(this._id, operation, rejectRolledBack); }
    _run(operation, call, rejectRolledBack = true) {
      try {
        this._check(operation, rejectRolledBack);
      } catch (error) {
        return Promise.reject(error);
      }
      return call();
    }
    get(keys, options) { return this._run("get()", () => host.storageGet(this._object, storageKeys(keys))); }
    put(key, value, options) {
      if (key !== null && typeof key === "object")
        return this._run("put()", () => host.storagePutEntries(this._object, JSON.stringify(putEntries(key))));
      return this._run("put()", () => host.storagePut(this._object, String(key), value === undefined ? undefined : encodeValue(value)));
    }
    delete(keys) { return this._run("delete()", () => host.storageDelete(this._object, storageKeys(keys))); }
    list(options = {}) { return this._run("list()", () => host.storageList(this._object, JSON.stringify(options))); }
    // The storage rejects deleteAll() while a transaction is open, rolled back or not.
    deleteAll() { return this._run("deleteAll()", () => host.storageDeleteAll(this._object), false); }
    getAlarm(options) { return this._run("getAlarm()", () => host.storageGetAlarm(this._object)); }
    setAlarm(time, options) { return this._run("setAlarm()", () => host.storageSetAlarm(this._object, time instanceof Date ? time.getTime() : Number(time))); }
    deleteAlarm(options) { return this._run("deleteAlarm()", () => host.storageDeleteAlarm(this._object)); }
    rollback() {
      this._check("rollback()");
      host.txnRollback(this._id);
    }
  }
  // Runs `callback` through `start(host callback)` and settles with the callback's own value or
  // error: the host only learns whether the callback succeeded.
  const keepOutcome = (start, callback) => {
    let value;
    let failure;
    let failed = false;
    const run = async (...args) => {
      try {
        value = await callback(...args);
      } catch (error) {
        failed = true;
        failure = error;
        throw error;
      }
    };
    return start(run).then(() => value, (error) => { throw failed ? failure : error; });
  };
  class DurableObjectStorage {
    constructor(object) {
      this._object = object;
      this._sql = new SqlStorage(object);
      this._kv = new SyncKvStorage(object);
    }
    get(keys, options = {}) { return host.storageGet(this._object, storageKeys(keys)); }
    put(key, value, options = {}) {
      if (key !== null && typeof key === "object") return host.storagePutEntries(this._object, JSON.stringify(putEntries(key)));
      return host.storagePut(this._object, String(key), value === undefined ? undefined : encodeValue(value));
    }
    delete(keys) { return host.storageDelete(this._object, storageKeys(keys)); }
    list(options = {}) { return host.storageList(this._object, JSON.stringify(options)); }
    deleteAll() { return host.storageDeleteAll(this._object); }
    getAlarm() { return host.storageGetAlarm(this._object); }
    setAlarm(time) { return host.storageSetAlarm(this._object, time instanceof Date ? time.getTime() : Number(time)); }
    deleteAlarm() { return host.storageDeleteAlarm(this._object); }
    sync() { return host.storageSync(this._object); }
    transaction(closure) {
      const object = this._object;
      return keepOutcome((run) => host.storageTransaction(object, (id) => run(new DurableObjectTransaction(object, id))), closure);
    }
    transactionSync(callback) {
      if (typeof callback !== "function")
        throw typeError("Failed to execute 'transactionSync' on 'DurableObjectStorage': parameter 1 is not of type 'Function'.");
      return host.storageTransactionSync(this._object, callback);
    }
    get sql() { return this._sql; }
    get kv() { return this._kv; }
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
    _handle(ws, method) {
      if (!(ws instanceof WebSocket)) throw typeError(`Failed to execute '${method}' on 'DurableObjectState': parameter 1 is not of type 'WebSocket'.`);
      return ws._handle;
    }
    acceptWebSocket(ws, tags = []) {
      const handle = this._handle(ws, "acceptWebSocket");
      host.ctxAcceptWebSocket(this._object, handle, Array.from(tags, String));
      this._sockets.set(handle, ws);
    }
    getWebSockets(tag) { return host.ctxGetWebSockets(this._object, tag === undefined ? null : String(tag)).map((h) => this._socket(h)); }
    getTags(ws) { return host.ctxGetTags(this._object, this._handle(ws, "getTags")); }
    setWebSocketAutoResponse(pair) {
      if (pair !== undefined && pair !== null && !(pair instanceof WebSocketRequestResponsePair))
        throw typeError("Failed to execute 'setWebSocketAutoResponse' on 'DurableObjectState': parameter 1 is not of type 'WebSocketRequestResponsePair'.");
      host.ctxSetAutoResponse(this._object, pair ? pair.request : null, pair ? pair.response : null);
    }
    getWebSocketAutoResponse() { const p = host.ctxGetAutoResponse(this._object); return p ? new WebSocketRequestResponsePair(p[0], p[1]) : null; }
    getWebSocketAutoResponseTimestamp(ws) {
      const time = host.ctxGetAutoResponseTimestamp(this._object, this._handle(ws, "getWebSocketAutoResponseTimestamp"));
      return time === null ? null : new Date(time);
    }
    setHibernatableWebSocketEventTimeout(ms) { host.ctxSetEventTimeout(this._object, ms === undefined || ms === null ? null : Number(ms)); }
    getHibernatableWebSocketEventTimeout() { return host.ctxGetEventTimeout(this._object); }
    blockConcurrencyWhile(callback) {
      if (typeof callback !== "function")
        throw typeError("Failed to execute 'blockConcurrencyWhile' on 'DurableObjectState': parameter 1 is not of type 'Function'.");
      return keepOutcome((run) => host.ctxBlockConcurrencyWhile(this._object, run), callback);
    }
    waitUntil(promise) { host.ctxWaitUntil(this._object, Promise.resolve(promise)); }
    abort(reason) { host.ctxAbort(this._object, reason === undefined ? "" : String(reason)); }
  }
  class WebSocketRequestResponsePair {
    constructor(request, response) {
      if (arguments.length < 2)
        throw typeError(`Failed to construct 'WebSocketRequestResponsePair': 2 arguments required, but only ${arguments.length} present.`);
      this._request = String(request);
      this._response = String(response);
    }
    get request() { return this._request; }
    get response() { return this._response; }
  }
  Object.defineProperty(globalThis, "WebSocketRequestResponsePair", { value: WebSocketRequestResponsePair, writable: true, configurable: true });

  // Headers as [name, value, name, value, ...] for the host.
  const headerList = (headers) => [...headers].flat();

  return { WebSocket, KvNamespace, DurableObjectNamespace, DurableObjectId, DurableObjectState, headerList, dispatchSocketEvent, decodeStoredValue };
});
