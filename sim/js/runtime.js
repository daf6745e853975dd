// The Workers runtime APIs that SpiderMonkey does not have, written against the host functions
// that Roomscope passes in. This file is a function expression: the host calls it once per realm
// with its native functions, so none of them is reachable from user code afterwards.
(function installRuntime(host) {
  "use strict";

  const define = (name, value) =>
    Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });

  // ---------------------------------------------------------------- errors
  class DOMException extends Error {
    constructor(message = "", name = "Error") {
      super(message);
      Object.defineProperty(this, "name", { value: name, configurable: true, writable: true });
    }
  }
  define("DOMException", DOMException);

  const typeError = (message) => new TypeError(message);

  // ---------------------------------------------------------------- text
  class TextEncoder {
    get encoding() { return "utf-8"; }
    encode(input = "") { return host.utf8Encode(String(input)); }
    encodeInto(source, destination) {
      const bytes = host.utf8Encode(String(source));
      const written = Math.min(bytes.length, destination.length);
      destination.set(bytes.subarray(0, written));
      return { read: String(source).length, written };
    }
  }
  class TextDecoder {
    constructor(label = "utf-8", options = {}) {
      const normalized = String(label).trim().toLowerCase();
      if (normalized !== "utf-8" && normalized !== "utf8" && normalized !== "unicode-1-1-utf-8")
        throw new RangeError(`Failed to construct 'TextDecoder': The encoding label provided ('${label}') is invalid.`);
      this._fatal = Boolean(options.fatal);
      this._ignoreBOM = Boolean(options.ignoreBOM);
    }
    get encoding() { return "utf-8"; }
    get fatal() { return this._fatal; }
    get ignoreBOM() { return this._ignoreBOM; }
    decode(input = new Uint8Array(0)) {
      let bytes;
      if (input instanceof ArrayBuffer) bytes = new Uint8Array(input);
      else if (ArrayBuffer.isView(input)) bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
      else throw typeError("Failed to execute 'decode' on 'TextDecoder': parameter 1 is not of type 'ArrayBuffer or ArrayBufferView'.");
      if (!this._ignoreBOM && bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf)
        bytes = bytes.subarray(3);
      const text = host.utf8Decode(bytes, this._fatal);
      if (text === null) throw typeError("The encoded data was not valid.");
      return text;
    }
  }
  define("TextEncoder", TextEncoder);
  define("TextDecoder", TextDecoder);

  // ---------------------------------------------------------------- base64
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  function btoa(data) {
    if (arguments.length === 0) throw typeError("Failed to execute 'btoa' on 'Window': 1 argument required, but only 0 present.");
    const text = String(data);
    let out = "";
    for (let i = 0; i < text.length; i += 3) {
      const codes = [text.charCodeAt(i), text.charCodeAt(i + 1), text.charCodeAt(i + 2)];
      for (const c of codes) {
        if (c > 0xff) throw new DOMException("Invalid character", "InvalidCharacterError");
      }
      const [a, b, c] = codes;
      out += alphabet[a >> 2];
      out += alphabet[((a & 3) << 4) | (Number.isNaN(b) ? 0 : b >> 4)];
      out += Number.isNaN(b) ? "=" : alphabet[((b & 15) << 2) | (Number.isNaN(c) ? 0 : c >> 6)];
      out += Number.isNaN(c) ? "=" : alphabet[c & 63];
    }
    return out;
  }
  function atob(data) {
    if (arguments.length === 0) throw typeError("Failed to execute 'atob' on 'Window': 1 argument required, but only 0 present.");
    let text = String(data).replace(/[\t\n\f\r ]/g, "");
    if (text.length % 4 === 0) text = text.replace(/==?$/, "");
    if (text.length % 4 === 1 || /[^A-Za-z0-9+/]/.test(text))
      throw new DOMException("The string to be decoded is not correctly encoded.", "InvalidCharacterError");
    let out = "";
    let buffer = 0;
    let bits = 0;
    for (const ch of text) {
      buffer = (buffer << 6) | alphabet.indexOf(ch);
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out += String.fromCharCode((buffer >> bits) & 0xff);
      }
    }
    return out;
  }
  define("btoa", btoa);
  define("atob", atob);

  // ---------------------------------------------------------------- URLSearchParams and URL
  const formEncode = (text) =>
    Array.from(host.utf8Encode(text), (b) =>
      (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x2a || b === 0x2d || b === 0x2e || b === 0x5f
        ? String.fromCharCode(b)
        : b === 0x20 ? "+" : "%" + b.toString(16).toUpperCase().padStart(2, "0")).join("");
  const formDecode = (text) => host.percentDecode(text.replace(/\+/g, " "));

  class URLSearchParams {
    constructor(init = "") {
      this._list = [];
      this._url = null;
      if (typeof init === "object" && init !== null) {
        if (typeof init[Symbol.iterator] === "function") {
          for (const pair of init) {
            const entry = Array.from(pair);
            if (entry.length !== 2) throw typeError("Failed to construct 'URLSearchParams': Sequence initializer must only contain pair elements");
            this._list.push([String(entry[0]), String(entry[1])]);
          }
        } else {
          for (const key of Object.keys(init)) this._list.push([key, String(init[key])]);
        }
      } else {
        this._parse(String(init));
      }
    }
    _parse(text) {
      this._list = [];
      if (text.startsWith("?")) text = text.slice(1);
      for (const part of text.split("&")) {
        if (part === "") continue;
        const eq = part.indexOf("=");
        const name = eq < 0 ? part : part.slice(0, eq);
        const value = eq < 0 ? "" : part.slice(eq + 1);
        this._list.push([formDecode(name), formDecode(value)]);
      }
    }
    _update() { if (this._url) this._url._setSearchFromParams(this.toString()); }
    get size() { return this._list.length; }
    append(name, value) { this._list.push([String(name), String(value)]); this._update(); }
    delete(name, value) {
      name = String(name);
      this._list = this._list.filter(([n, v]) => n !== name || (value !== undefined && v !== String(value)));
      this._update();
    }
    get(name) { const found = this._list.find(([n]) => n === String(name)); return found ? found[1] : null; }
    getAll(name) { return this._list.filter(([n]) => n === String(name)).map(([, v]) => v); }
    has(name, value) { return this._list.some(([n, v]) => n === String(name) && (value === undefined || v === String(value))); }
    set(name, value) {
      name = String(name);
      const index = this._list.findIndex(([n]) => n === name);
      if (index < 0) this._list.push([name, String(value)]);
      else this._list = this._list.filter(([n], i) => n !== name || i === index).map((e) => (e[0] === name ? [name, String(value)] : e));
      this._update();
    }
    sort() { this._list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)); this._update(); }
    forEach(callback, thisArg) { for (const [n, v] of this._list) callback.call(thisArg, v, n, this); }
    *entries() { for (const [n, v] of this._list) yield [n, v]; }
    *keys() { for (const [n] of this._list) yield n; }
    *values() { for (const [, v] of this._list) yield v; }
    [Symbol.iterator]() { return this.entries(); }
    toString() { return this._list.map(([n, v]) => formEncode(n) + "=" + formEncode(v)).join("&"); }
    get [Symbol.toStringTag]() { return "URLSearchParams"; }
  }
  define("URLSearchParams", URLSearchParams);

  class URL {
    constructor(url, base) {
      const parts = host.parseUrl(String(url), base === undefined ? null : String(base));
      if (parts === null) throw typeError("Invalid URL string.");
      this._parts = parts;
      this._params = new URLSearchParams(parts.search);
      this._params._url = this;
    }
    static canParse(url, base) { return host.parseUrl(String(url), base === undefined ? null : String(base)) !== null; }
    _reparse(href) {
      const parts = host.parseUrl(href, null);
      if (parts === null) return;
      this._parts = parts;
      this._params._parse(parts.search);
    }
    _setSearchFromParams(query) {
      const p = this._parts;
      this._reparse(p.protocol + "//" + p.userinfo + p.host + p.pathname + (query ? "?" + query : "") + p.hash);
    }
    _with(change) {
      const p = { ...this._parts, ...change };
      this._reparse(p.protocol + "//" + p.userinfo + p.host + p.pathname + p.search + p.hash);
    }
    get href() { return this._parts.href; }
    set href(value) { const parts = host.parseUrl(String(value), null); if (parts === null) throw typeError("Invalid URL string."); this._reparse(parts.href); }
    get origin() { return this._parts.origin; }
    get protocol() { return this._parts.protocol; }
    set protocol(value) { this._with({ protocol: String(value).replace(/:?$/, ":") }); }
    get username() { return this._parts.username; }
    get password() { return this._parts.password; }
    get host() { return this._parts.host; }
    set host(value) { this._with({ host: String(value) }); }
    get hostname() { return this._parts.hostname; }
    set hostname(value) { this._with({ host: String(value) + (this._parts.port ? ":" + this._parts.port : "") }); }
    get port() { return this._parts.port; }
    set port(value) { this._with({ host: this._parts.hostname + (String(value) ? ":" + String(value) : "") }); }
    get pathname() { return this._parts.pathname; }
    set pathname(value) { const v = String(value); this._with({ pathname: v.startsWith("/") ? v : "/" + v }); }
    get search() { return this._parts.search; }
    set search(value) { const v = String(value); this._with({ search: v === "" || v === "?" ? "" : v.startsWith("?") ? v : "?" + v }); }
    get searchParams() { return this._params; }
    get hash() { return this._parts.hash; }
    set hash(value) { const v = String(value); this._with({ hash: v === "" || v === "#" ? "" : v.startsWith("#") ? v : "#" + v }); }
    toString() { return this.href; }
    toJSON() { return this.href; }
    get [Symbol.toStringTag]() { return "URL"; }
  }
  define("URL", URL);

  // ---------------------------------------------------------------- Headers
  const headerName = (name) => {
    const text = String(name);
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(text)) throw typeError(`Invalid header name.`);
    return text.toLowerCase();
  };
  class Headers {
    constructor(init) {
      this._map = new Map();
      if (init instanceof Headers) for (const [k, v] of init) this.append(k, v);
      else if (Array.isArray(init) || (init && typeof init[Symbol.iterator] === "function")) for (const [k, v] of init) this.append(k, v);
      else if (init && typeof init === "object") for (const k of Object.keys(init)) this.append(k, init[k]);
    }
    append(name, value) {
      const key = headerName(name);
      const text = String(value).trim();
      const values = this._map.get(key);
      if (values) values.push(text);
      else this._map.set(key, [text]);
    }
    delete(name) { this._map.delete(headerName(name)); }
    get(name) {
      const values = this._map.get(headerName(name));
      return values ? values.join(", ") : null;
    }
    getSetCookie() { return (this._map.get("set-cookie") || []).slice(); }
    has(name) { return this._map.has(headerName(name)); }
    set(name, value) { this._map.set(headerName(name), [String(value).trim()]); }
    forEach(callback, thisArg) { for (const [k, v] of this) callback.call(thisArg, v, k, this); }
    *entries() {
      for (const key of [...this._map.keys()].sort()) {
        if (key === "set-cookie") for (const v of this._map.get(key)) yield [key, v];
        else yield [key, this._map.get(key).join(", ")];
      }
    }
    *keys() { for (const [k] of this.entries()) yield k; }
    *values() { for (const [, v] of this.entries()) yield v; }
    [Symbol.iterator]() { return this.entries(); }
    get [Symbol.toStringTag]() { return "Headers"; }
  }
  define("Headers", Headers);

  // ---------------------------------------------------------------- bodies
  const bodyBytes = (body) => {
    if (body === null || body === undefined) return null;
    if (typeof body === "string") return host.utf8Encode(body);
    if (body instanceof ArrayBuffer) return new Uint8Array(body.slice(0));
    if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
    if (body instanceof URLSearchParams) return host.utf8Encode(body.toString());
    return host.utf8Encode(String(body));
  };
  const defaultContentType = (body) => {
    if (typeof body === "string") return "text/plain;charset=UTF-8";
    if (body instanceof URLSearchParams) return "application/x-www-form-urlencoded;charset=UTF-8";
    return null;
  };
  class Body {
    _initBody(body, headers) {
      this._bytes = bodyBytes(body);
      this._bodyUsed = false;
      const type = defaultContentType(body);
      if (type && !headers.has("content-type")) headers.set("content-type", type);
    }
    get bodyUsed() { return this._bodyUsed; }
    get body() { return this._bytes === null ? null : { locked: this._bodyUsed }; }
    _consume(method) {
      if (this._bodyUsed) return Promise.reject(typeError(`Body has already been used. It can only be used once. Use tee() first if you need to read it twice.`));
      this._bodyUsed = true;
      return Promise.resolve(this._bytes || new Uint8Array(0));
    }
    arrayBuffer() { return this._consume("arrayBuffer").then((b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)); }
    bytes() { return this._consume("bytes").then((b) => new Uint8Array(b)); }
    text() { return this._consume("text").then((b) => host.utf8Decode(b, false)); }
    json() { return this.text().then((t) => JSON.parse(t)); }
  }

  // ---------------------------------------------------------------- Request
  const methods = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"];
  class Request extends Body {
    constructor(input, init = {}) {
      super();
      const from = input instanceof Request ? input : null;
      const url = from ? from.url : new URL(String(input)).href;
      let method = init.method !== undefined ? String(init.method) : from ? from.method : "GET";
      if (methods.includes(method.toUpperCase())) method = method.toUpperCase();
      this._url = url;
      this._method = method;
      this._headers = new Headers(init.headers !== undefined ? init.headers : from ? from.headers : undefined);
      this._signal = init.signal || null;
      this.cf = init.cf !== undefined ? init.cf : from ? from.cf : undefined;
      const body = init.body !== undefined ? init.body : from ? from._bytes : null;
      if (body !== null && body !== undefined && (method === "GET" || method === "HEAD"))
        throw typeError("Request with a GET or HEAD method cannot have a body.");
      this._initBody(body, this._headers);
      if (from && init.body === undefined && from._bytes) from._bodyUsed = true;
    }
    get url() { return this._url; }
    get method() { return this._method; }
    get headers() { return this._headers; }
    get redirect() { return "follow"; }
    get signal() { return this._signal; }
    clone() {
      if (this._bodyUsed) throw typeError("Body has already been used. It can only be used once. Use tee() first if you need to read it twice.");
      return new Request(this, { body: this._bytes ? this._bytes.slice() : null });
    }
    get [Symbol.toStringTag]() { return "Request"; }
  }
  define("Request", Request);

  // ---------------------------------------------------------------- Response
  const statusTexts = { 101: "Switching Protocols", 200: "OK", 201: "Created", 204: "No Content", 301: "Moved Permanently", 302: "Found", 304: "Not Modified", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict", 426: "Upgrade Required", 429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable" };
  class Response extends Body {
    constructor(body = null, init = {}) {
      super();
      const status = init.status === undefined ? 200 : Number(init.status);
      const webSocket = init.webSocket || null;
      if (webSocket ? status !== 101 : !Number.isInteger(status) || status < 200 || status > 599)
        throw new RangeError(`Responses may only be constructed with status codes in the range 200 to 599, inclusive.`);
      if (body !== null && body !== undefined && (status === 101 || status === 204 || status === 205 || status === 304))
        throw typeError(`Response with null body status (${status}) cannot have a body.`);
      this._status = status;
      this._statusText = init.statusText !== undefined ? String(init.statusText) : "";
      this._headers = new Headers(init.headers);
      this._webSocket = webSocket;
      this._initBody(body, this._headers);
    }
    static json(data, init = {}) {
      const headers = new Headers(init.headers);
      if (!headers.has("content-type")) headers.set("content-type", "application/json");
      return new Response(JSON.stringify(data), { ...init, headers });
    }
    static redirect(url, status = 302) {
      if (![301, 302, 303, 307, 308].includes(status)) throw new RangeError("Invalid redirect status code.");
      return new Response(null, { status, headers: { location: new URL(String(url)).href } });
    }
    static error() { const r = new Response(null, { status: 200 }); r._status = 0; return r; }
    get status() { return this._status; }
    get statusText() { return this._statusText || statusTexts[this._status] || ""; }
    get ok() { return this._status >= 200 && this._status <= 299; }
    get headers() { return this._headers; }
    get webSocket() { return this._webSocket; }
    get redirected() { return false; }
    get url() { return ""; }
    clone() {
      if (this._bodyUsed) throw typeError("Body has already been used. It can only be used once. Use tee() first if you need to read it twice.");
      return new Response(this._bytes ? this._bytes.slice() : null, { status: this._status, statusText: this._statusText, headers: this._headers });
    }
    get [Symbol.toStringTag]() { return "Response"; }
  }
  define("Response", Response);

  // ---------------------------------------------------------------- console
  const inspect = (value, depth = 0, seen = new Set()) => {
    if (typeof value === "string") return depth === 0 ? value : JSON.stringify(value);
    if (typeof value === "bigint") return value + "n";
    if (typeof value === "symbol" || typeof value === "undefined" || typeof value === "number" || typeof value === "boolean" || value === null) return String(value);
    if (typeof value === "function") return `[Function: ${value.name || "(anonymous)"}]`;
    if (value instanceof Error) return value.stack ? `${value.name}: ${value.message}\n${value.stack}`.trimEnd() : `${value.name}: ${value.message}`;
    if (seen.has(value)) return "[Circular]";
    if (depth > 3) return Array.isArray(value) ? "[Array]" : "[Object]";
    seen.add(value);
    let text;
    if (Array.isArray(value)) text = "[ " + value.map((v) => inspect(v, depth + 1, seen)).join(", ") + " ]";
    else if (value instanceof Map) text = `Map(${value.size}) { ` + [...value].map(([k, v]) => `${inspect(k, depth + 1, seen)} => ${inspect(v, depth + 1, seen)}`).join(", ") + " }";
    else if (value instanceof Set) text = `Set(${value.size}) { ` + [...value].map((v) => inspect(v, depth + 1, seen)).join(", ") + " }";
    else if (value instanceof Date) text = value.toISOString();
    else if (value instanceof URL) text = `URL { href: '${value.href}' }`;
    else {
      const keys = Object.keys(value);
      const name = value.constructor && value.constructor !== Object ? value.constructor.name + " " : "";
      text = keys.length === 0 ? name + "{}" : name + "{ " + keys.map((k) => `${k}: ${inspect(value[k], depth + 1, seen)}`).join(", ") + " }";
    }
    seen.delete(value);
    return text;
  };
  const format = (args) => args.map((a) => inspect(a)).join(" ");
  const console = {};
  for (const level of ["log", "info", "warn", "error", "debug", "trace"])
    console[level] = (...args) => host.log(level, format(args));
  console.dir = (value) => host.log("log", inspect(value, 1));
  console.table = console.log;
  console.assert = (condition, ...args) => { if (!condition) host.log("error", "Assertion failed" + (args.length ? ": " + format(args) : "")); };
  define("console", console);

  // ---------------------------------------------------------------- structuredClone
  function structuredClone(value, options) {
    const copies = new Map();
    const clone = (v) => {
      if (v === null || typeof v !== "object") {
        if (typeof v === "function") throw new DOMException(`${v.toString().slice(0, 60)} could not be cloned.`, "DataCloneError");
        if (typeof v === "symbol") throw new DOMException(`${String(v)} could not be cloned.`, "DataCloneError");
        return v;
      }
      if (copies.has(v)) return copies.get(v);
      let out;
      if (v instanceof Date) out = new Date(v.getTime());
      else if (v instanceof RegExp) out = new RegExp(v.source, v.flags);
      else if (v instanceof ArrayBuffer) out = v.slice(0);
      else if (ArrayBuffer.isView(v)) out = new v.constructor(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
      else if (v instanceof Map) { out = new Map(); copies.set(v, out); for (const [k, x] of v) out.set(clone(k), clone(x)); return out; }
      else if (v instanceof Set) { out = new Set(); copies.set(v, out); for (const x of v) out.add(clone(x)); return out; }
      else if (v instanceof Error) { out = new (globalThis[v.name] || Error)(v.message); out.stack = v.stack; }
      else if (Array.isArray(v)) { out = []; copies.set(v, out); v.forEach((x, i) => { out[i] = clone(x); }); return out; }
      else {
        const proto = Object.getPrototypeOf(v);
        if (proto !== Object.prototype && proto !== null) throw new DOMException(`${inspect(v)} could not be cloned.`, "DataCloneError");
        out = {};
        copies.set(v, out);
        for (const k of Object.keys(v)) out[k] = clone(v[k]);
        return out;
      }
      copies.set(v, out);
      return out;
    };
    if (arguments.length === 0) throw typeError("Failed to execute 'structuredClone' on 'ServiceWorkerGlobalScope': 1 argument required, but only 0 present.");
    return clone(value);
  }
  define("structuredClone", structuredClone);

  // ---------------------------------------------------------------- crypto
  const hex = (b) => b.toString(16).padStart(2, "0");
  const crypto = {
    getRandomValues(array) {
      if (!ArrayBuffer.isView(array) || array instanceof Float32Array || array instanceof Float64Array || array instanceof DataView)
        throw new DOMException("The data provided is not an integer-type TypedArray.", "TypeMismatchError");
      if (array.byteLength > 65536)
        throw new DOMException(`The ArrayBufferView's byte length (${array.byteLength}) exceeds the number of bytes of entropy available via this API (65536)`, "QuotaExceededError");
      new Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(host.randomBytes(array.byteLength));
      return array;
    },
    randomUUID() {
      const b = host.randomBytes(16);
      b[6] = (b[6] & 0x0f) | 0x40;
      b[8] = (b[8] & 0x3f) | 0x80;
      const h = Array.from(b, hex).join("");
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    },
  };
  define("crypto", crypto);

  // ---------------------------------------------------------------- timers (virtual time)
  const timers = new Map();
  let lastTimer = 0;
  const startTimer = (callback, delay, args, repeat) => {
    if (typeof callback !== "function") throw typeError("The callback provided as parameter 1 is not a function.");
    const id = ++lastTimer;
    const ms = Math.max(0, Number(delay) || 0);
    const run = () => {
      if (!timers.has(id)) return;
      if (!repeat) timers.delete(id);
      else timers.set(id, host.setTimer(run, ms));
      callback(...args);
    };
    timers.set(id, host.setTimer(run, ms));
    return id;
  };
  const stopTimer = (id) => {
    const handle = timers.get(Number(id));
    if (handle === undefined) return;
    timers.delete(Number(id));
    host.clearTimer(handle);
  };
  define("setTimeout", (callback, delay, ...args) => startTimer(callback, delay, args, false));
  define("setInterval", (callback, delay, ...args) => startTimer(callback, delay, args, true));
  define("clearTimeout", stopTimer);
  define("clearInterval", stopTimer);
  define("queueMicrotask", (callback) => { Promise.resolve().then(() => callback()); });
  // Scripts reach no network, so a subrequest fails with an error that states this, not with
  // "fetch is not defined".
  define("fetch", (input) => Promise.reject(new TypeError(
    `fetch(${JSON.stringify(String(input instanceof Request ? input.url : input))}) failed: ` +
    "scripts in Roomscope reach no network. Call other Workers' routes through a Durable Object stub, " +
    "or answer the subrequest in your own code.")));

  define("navigator", { userAgent: "Cloudflare-Workers" });
});
