#!/usr/bin/env bash
# Measures the loopback gateway (roomscope serve) against Miniflare on the same machine in one
# run, with the Miniflare harness's bench.mjs as the client for both servers.
#
#   tests/benchmarks/gateway_vs_miniflare.sh --harness DIR [options] [-- BENCH_ARGS...]
#
# DIR is the Miniflare side-by-side harness: bench.mjs, mfproc.mjs, run-miniflare.mjs,
# worker.mjs and a package-lock.json that pins miniflare and ws. The script never changes DIR.
# It copies DIR to a temporary folder and runs `npm ci` there (or, with --skip-install, uses the
# node_modules folder that DIR already has). Then it runs bench.mjs twice:
#
#   1. against Miniflare, which bench.mjs starts fresh for every measurement;
#   2. against `roomscope serve resources/scenarios/gateway-local.json --profile local`
#      (the built-in kv-room Worker with no simulated latency), started once for all
#      measurements. bench.mjs gets --url and --server-pids with the server's PID, and the
#      script stops the server by that PID afterwards.
#
# Both runs use bench.mjs's defaults: 3 repeats, 10 s per HTTP run at concurrency 16, /put and
# /get on one room, and 50 broadcasts each to 100 and to 1,000 WebSocket clients. BENCH_ARGS
# after `--` change them for both runs alike. The script prints the machine, the versions,
# both of bench.mjs's tables and a side-by-side summary, and keeps the raw JSON in the output
# folder.
#
# Everything listens on and connects to 127.0.0.1 only. Each bench.mjs run is limited to
# 45 minutes by `timeout`, and the Roomscope server to the same by --exit-after, so the script
# ends even when a server hangs. With the defaults it took 3 minutes on a 2-core machine.
# Run nothing else heavy meanwhile: both servers and the client share the machine's cores.
#
# Options:
#   --harness DIR     the Miniflare harness folder (required)
#   --roomscope BIN   the roomscope executable (default: build/app/roomscope in the checkout);
#                     measure a Release or RelWithDebInfo build
#   --scenario FILE   the scenario to serve (default: resources/scenarios/gateway-local.json)
#   --out DIR         where the results go (default: a new temporary folder, printed at the end)
#   --skip-install    use DIR/node_modules instead of running npm ci
#   --only WHICH      run only one side: miniflare or roomscope
set -euo pipefail

checkout=$(cd "$(dirname "$0")/../.." && pwd)
harness=""
roomscope="$checkout/build/app/roomscope"
scenario="$checkout/resources/scenarios/gateway-local.json"
out=""
install=1
only=""
bench_args=()
run_limit_s=2700

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
    case "$1" in
        --harness) harness=${2:?--harness needs a folder}; shift 2 ;;
        --roomscope) roomscope=${2:?--roomscope needs a file}; shift 2 ;;
        --scenario) scenario=${2:?--scenario needs a file}; shift 2 ;;
        --out) out=${2:?--out needs a folder}; shift 2 ;;
        --skip-install) install=0; shift ;;
        --only) only=${2:?--only needs miniflare or roomscope}; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        --) shift; bench_args=("$@"); break ;;
        *) echo "gateway_vs_miniflare: unknown option $1; see --help" >&2; exit 2 ;;
    esac
done

fail() {
    echo "gateway_vs_miniflare: $*" >&2
    exit 1
}

[ -n "$harness" ] || fail "missing --harness DIR, the folder with bench.mjs and run-miniflare.mjs"
for file in bench.mjs mfproc.mjs run-miniflare.mjs worker.mjs package.json package-lock.json; do
    [ -f "$harness/$file" ] || fail "$harness/$file not found; is --harness the Miniflare harness?"
done
case "$only" in
    ""|miniflare|roomscope) ;;
    *) fail "invalid --only \"$only\"; give miniflare or roomscope" ;;
esac
if [ "$only" != miniflare ]; then
    [ -x "$roomscope" ] || fail "$roomscope is not an executable; build it or give --roomscope BIN"
    [ -f "$scenario" ] || fail "scenario $scenario not found"
fi
if [ "$install" = 0 ] && [ ! -d "$harness/node_modules" ]; then
    fail "--skip-install needs $harness/node_modules; run without it to install with npm ci"
fi
command -v node >/dev/null || fail "node not found; install Node.js 20 or later"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || fail "Node.js 20 or later is needed, found $(node --version)"

work=$(mktemp -d "${TMPDIR:-/tmp}/gateway-vs-miniflare.XXXXXX")
[ -n "$out" ] || out="$work/out"
mkdir -p "$out"
out=$(cd "$out" && pwd)
server_pid=""

stop_server() {
    [ -n "$server_pid" ] || return 0
    if kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$server_pid" 2>/dev/null; then
            echo "gateway_vs_miniflare: roomscope serve (PID $server_pid) did not stop in 10 s;" \
                "killing it" >&2
            kill -KILL "$server_pid" 2>/dev/null || true
        fi
    fi
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
}
cleanup() {
    stop_server
    # The copy of the harness is large, because workerd alone is over 100 MB. The results stay.
    rm -rf "$work/harness"
    rmdir "$work" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A free loopback port, chosen by the kernel.
free_port() {
    node -e 'const s = require("net").createServer();
             s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

echo "== copying the harness to $work/harness"
mkdir -p "$work/harness"
for entry in "$harness"/* "$harness"/.[!.]*; do
    [ -e "$entry" ] || continue
    case "$(basename "$entry")" in
        node_modules) [ "$install" = 0 ] && cp -r "$entry" "$work/harness/" ;;
        out) ;;
        *) cp -r "$entry" "$work/harness/" ;;
    esac
done
chmod -R u+w "$work/harness"
if [ "$install" = 1 ]; then
    echo "== npm ci"
    (cd "$work/harness" && npm ci --no-fund --no-audit >"$out/npm-ci.log" 2>&1) \
        || fail "npm ci failed; see $out/npm-ci.log"
fi

export CLOUDFLARE_CF_FETCH_ENABLED=false # Miniflare must not fetch Request.cf from the internet
package_version() {
    (cd "$work/harness" \
        && node -p "require('./node_modules/$1/package.json').version" 2>/dev/null) || echo unknown
}
build_type=unknown
cache="$(dirname "$roomscope")/../CMakeCache.txt"
if [ -f "$cache" ]; then
    build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$cache")
fi
{
    echo "date: $(date -u +%FT%TZ)"
    cpu_model=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)
    memory=$(free -m | awk '/^Mem:/ { print $2 " MiB" }')
    echo "machine: $(nproc) CPUs ($cpu_model), $memory memory, Linux $(uname -r)"
    echo "load average at start: $(cut -d ' ' -f 1-3 /proc/loadavg)"
    echo "node: $(node --version)"
    echo "miniflare: $(package_version miniflare), workerd: $(package_version workerd)," \
        "ws: $(package_version ws)"
    if [ "$only" != miniflare ]; then
        version=$("$roomscope" --version 2>/dev/null | head -n 1)
        echo "roomscope: $version ($roomscope, build type $build_type)"
        if commit=$(git -C "$checkout" rev-parse --short HEAD 2>/dev/null); then
            [ -z "$(git -C "$checkout" status --porcelain --untracked-files=no 2>/dev/null)" ] \
                || commit="$commit with uncommitted changes"
            echo "checkout: $checkout at commit $commit"
        fi
        qt_version=$(qtpaths6 --qt-version 2>/dev/null || qmake6 -query QT_VERSION 2>/dev/null) \
            || qt_version=unknown
        echo "Qt: $qt_version"
    fi
    echo "bench.mjs arguments: ${bench_args[*]:-(defaults)}"
} | tee "$out/env.txt"

if [ "$only" != roomscope ]; then
    mf_port=$(free_port)
    echo "== Miniflare: bench.mjs starts a fresh Miniflare on 127.0.0.1:$mf_port for each" \
        "measurement"
    (cd "$work/harness" && timeout --kill-after=30 "$run_limit_s" \
        node bench.mjs --port "$mf_port" --out "$out/miniflare.json" "${bench_args[@]}" \
        2>"$out/miniflare-bench.log" >"$out/miniflare.stdout.md") \
        || fail "bench.mjs against Miniflare failed; see $out/miniflare-bench.log"
fi

if [ "$only" != miniflare ]; then
    echo "== Roomscope: roomscope serve $(basename "$scenario") --profile local"
    : >"$out/roomscope-serve.log"
    "$roomscope" serve "$scenario" --port "$(free_port)" --profile local \
        --exit-after "$run_limit_s" 2>"$out/roomscope-serve.log" &
    server_pid=$!
    url=""
    for _ in $(seq 1 300); do
        url=$(sed -n 's/.*Gateway listening on \(http:\/\/127\.0\.0\.1:[0-9]*\).*/\1/p' \
            "$out/roomscope-serve.log" | head -n 1 || true)
        [ -n "$url" ] && break
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "$url" ] || fail "roomscope serve did not start listening within 30 s; see" \
        "$out/roomscope-serve.log"
    echo "   listening on $url, PID $server_pid"
    (cd "$work/harness" && timeout --kill-after=30 "$run_limit_s" \
        node bench.mjs --url "$url" --server-pids "$server_pid" --out "$out/roomscope.json" \
        "${bench_args[@]}" 2>"$out/roomscope-bench.log" >"$out/roomscope.stdout.md") \
        || fail "bench.mjs against Roomscope failed; see $out/roomscope-bench.log"
    stop_server
fi
echo "load average at end: $(cut -d ' ' -f 1-3 /proc/loadavg)" | tee -a "$out/env.txt"

for side in miniflare roomscope; do
    [ -f "$out/$side.stdout.md" ] || continue
    echo
    echo "== bench.mjs table, $side"
    cat "$out/$side.stdout.md"
done

if [ -z "$only" ]; then
    echo
    echo "== side by side (medians over repeats)"
    # The targets: at least twice Miniflare's throughput and at most half of its p99 latency.
    # Medians and memory have no target.
    node --input-type=module - "$out/miniflare.json" "$out/roomscope.json" <<'EOF' \
        | tee "$out/side-by-side.md"
import { readFileSync } from "node:fs";

const [miniflare, roomscope] = process.argv.slice(2)
    .map((file) => JSON.parse(readFileSync(file, "utf8")));

function median(values) {
    const sorted = values.filter((x) => typeof x === "number" && !Number.isNaN(x))
        .sort((a, b) => a - b);
    if (!sorted.length)
        return null;
    const middle = sorted.length >> 1;
    return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
const httpFigure = (doc, op, field) =>
    median(doc.runs.filter((r) => r.kind === "http" && r.op === op).map((r) => r[field]));
const wsFigure = (doc, clients, pick) =>
    median(doc.runs.filter((r) => r.kind === "ws" && r.n === clients).map(pick));
// The server just after it started. bench.mjs starts a fresh Miniflare for every measurement,
// but Roomscope runs every measurement in one process, so only its first sample is fresh.
function idleMemory(doc) {
    const samples = doc.runs.filter((r) => r.kind === "startup").map((r) => r.server[0]?.rssMiB);
    return doc.cfg.url ? samples[0] : median(samples);
}

const rows = [];
function addRow(name, unit, pick, target) {
    const miniflareValue = pick(miniflare);
    const roomscopeValue = pick(roomscope);
    // A measurement that neither run made (such as HTTP with --mode ws) gets no row.
    if (miniflareValue === null && roomscopeValue === null)
        return;
    let met = null;
    if (miniflareValue !== null && roomscopeValue !== null && target === "at least 2x")
        met = roomscopeValue >= 2 * miniflareValue;
    if (miniflareValue !== null && roomscopeValue !== null && target === "at most 0.5x")
        met = roomscopeValue <= miniflareValue / 2;
    const ratio = miniflareValue && roomscopeValue ? roomscopeValue / miniflareValue : null;
    rows.push({ name, unit, miniflareValue, roomscopeValue, ratio, target, met });
}
for (const op of miniflare.cfg.httpOps) {
    addRow(`HTTP ${op}, throughput`, "req/s", (d) => httpFigure(d, op, "reqPerSec"), "at least 2x");
    addRow(`HTTP ${op}, p99 latency`, "ms", (d) => httpFigure(d, op, "p99ms"), "at most 0.5x");
}
for (const n of miniflare.cfg.clients) {
    addRow(`broadcast to ${n}, last client median`, "ms",
           (d) => wsFigure(d, n, (r) => r.lastRecvMedianMs), "none");
    addRow(`broadcast to ${n}, last client p99`, "ms",
           (d) => wsFigure(d, n, (r) => r.lastRecvP99Ms), "at most 0.5x");
}
addRow("server memory, idle", "MiB", idleMemory, "none");
for (const n of miniflare.cfg.clients) {
    addRow(`server memory, ${n} sockets open`, "MiB",
           (d) => wsFigure(d, n, (r) => r.serverIdleAfterConnect[0]?.rssMiB), "none");
}

function format(x) {
    if (x === null || x === undefined)
        return "n/a";
    return x >= 100 ? Math.round(x).toLocaleString("en-US") : String(Math.round(x * 100) / 100);
}
console.log("| row | unit | Miniflare | Roomscope | Roomscope / Miniflare | target | met |");
console.log("|---|---|---|---|---|---|---|");
for (const row of rows) {
    const ratio = row.ratio === null ? "n/a" : row.ratio.toFixed(2);
    const met = row.met === null ? "" : row.met ? "yes" : "no";
    const values = `${format(row.miniflareValue)} | ${format(row.roomscopeValue)} | ${ratio}`;
    console.log(`| ${row.name} | ${row.unit} | ${values} | ${row.target} | ${met} |`);
}
console.log("");
console.log("Miniflare's memory is the resident set size of workerd. Roomscope's is that of the");
console.log("roomscope serve process.");
EOF
fi
echo
echo "results in $out"
