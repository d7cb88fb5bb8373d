#!/usr/bin/env bash
# Load benchmark for roster. See bench/README.md.
#
#   bench/run.sh            the standard run: 10k seeded users, five URLs at 32 connections
#   bench/run.sh cursor     the cursor-pagination phase: 1M users, cursor page 1 vs page 400
#   bench/run.sh vs-limit   the five standard URLs on roster and on the hand-written limit
#                           server (../shared/peers/limit), alternately: roster ÷ limit
#   bench/run.sh all        standard and cursor
#
# Environment (all optional):
#   ROSTER_BIN           use this binary instead of `cargo build --release`
#   BENCH_SECONDS        seconds per URL (10)          BENCH_WARMUP      warm-up seconds (2)
#   BENCH_CONNECTIONS    wrk connections (32)          BENCH_THREADS     wrk threads (2)
#   BENCH_DATABASE_URL   postgres://…/db: benchmark PostgreSQL instead of SQLite; the script
#                        creates (and drops) scratch databases on that server with psql, and
#                        the standard run also measures pgbench there (not used by vs-limit)
#   BENCH_CURSOR_USERS   users seeded for the cursor phase (1000000)
#   BENCH_CURSOR_PAGE    which cursor page to compare with page 1 (400)
#   BENCH_ROUNDS         vs-limit: alternations (limit, roster) per URL (2)
#   BENCH_QUIET_WAIT     before each measured run, wait up to this many seconds for the
#                        machine to be at most 15% busy (0: do not wait)
#   LIMIT_BIN            vs-limit: a prebuilt limit-peer binary (else it is built)
#   LIMIT_SRC            vs-limit: the peer's source (../shared/peers/limit)
#   LIMIT_TARGET_DIR     vs-limit: CARGO_TARGET_DIR for the peer's build (target/limit-peer)
#   ROSTER_WORKERS       worker threads of roster (its default: one per core; vs-limit: 2,
#                        and the peer gets the same number)
#   BENCH_STRICT=1       exit 1 when a target in the checks is missed (not only on errors)
#   BENCH_KEEP=1         keep the temp dir (databases, server logs) after the run
#   BENCH_BUILD_RETRIES  retry a failing release build N times, 60 s apart (0)
set -Eeuo pipefail

MODE="${1:-standard}"
case "$MODE" in
  standard | cursor | vs-limit | all) ;;
  -h | --help | help) sed -n '2,29p' "$0"; exit 0 ;;
  *) echo "usage: bench/run.sh [standard|cursor|vs-limit|all]" >&2; exit 2 ;;
esac

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RESULTS_DIR="$ROOT/bench/results"
SECONDS_PER_URL="${BENCH_SECONDS:-10}"
WARMUP="${BENCH_WARMUP:-2}"
CONNECTIONS="${BENCH_CONNECTIONS:-32}"
THREADS="${BENCH_THREADS:-2}"
CURSOR_USERS="${BENCH_CURSOR_USERS:-1000000}"
CURSOR_PAGE="${BENCH_CURSOR_PAGE:-400}"
ROUNDS="${BENCH_ROUNDS:-2}"
QUIET_WAIT="${BENCH_QUIET_WAIT:-0}"
JWT_SECRET="roster-benchmark-secret-0123456789abcdef"   # >= 32 bytes
CURSOR_PROFILE='https://jsonapi.org/profiles/ethanresnick/cursor-pagination'
JSONAPI_ACCEPT='Accept: application/vnd.api+json'
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || { echo "BENCH_ROUNDS must be a positive number" >&2; exit 2; }
[[ "$QUIET_WAIT" =~ ^[0-9]+$ ]] || { echo "BENCH_QUIET_WAIT must be a number of seconds" >&2; exit 2; }
if [ "$MODE" = vs-limit ]; then
  # The same number of workers on both servers (the peer's default is 2).
  export ROSTER_WORKERS="${ROSTER_WORKERS:-2}"
fi

# --- state the exit trap cleans up --------------------------------------------------------
TMP=""
SERVER_PID=""
SERVER_LOG=""
PEER_PID=""      # the limit peer (vs-limit mode)
PEER_LOG=""
PG_DATABASES=()
FAILURES=()      # hard failures: non-2xx, socket errors, server died → exit 1
MISSES=()        # missed targets → a warning (exit 1 with BENCH_STRICT=1)
REPORT=""        # the markdown written to stdout (as it goes) and to results/latest.md

log() { printf '==> %s\n' "$*" >&2; }

server_log_tail() {
  local f
  for f in "$SERVER_LOG" "$PEER_LOG"; do
    if [ -n "$f" ] && [ -s "$f" ]; then
      echo "---- last 40 lines of the server log ($f) ----" >&2
      tail -n 40 "$f" >&2
      echo "---- end of server log ----" >&2
    fi
  done
}

die() {
  echo >&2
  echo "bench: ERROR: $*" >&2
  server_log_tail
  exit 1
}

on_err() {
  local rc=$? line=$1
  # In a subshell ($(…)) leave the message to the main shell.
  [ "$BASHPID" = "$$" ] || exit "$rc"
  echo >&2
  echo "bench: ERROR: command failed (exit $rc) at bench/run.sh line $line: $BASH_COMMAND" >&2
  server_log_tail
  exit "$rc"
}
trap 'on_err $LINENO' ERR

# stop_pid PID : TERM, up to 5 s, then KILL (a process this script started)
stop_pid() {
  local pid="$1"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
}
stop_server() { stop_pid "$SERVER_PID"; SERVER_PID=""; }
stop_peer() { stop_pid "$PEER_PID"; PEER_PID=""; }

cleanup() {
  local rc=$?
  trap - ERR
  stop_server
  stop_peer
  if [ "$rc" != 0 ] && [ -n "$SERVER_LOG" ] && [ -f "$SERVER_LOG" ] && [ -d "$RESULTS_DIR" ]; then
    cp "$SERVER_LOG" "$RESULTS_DIR/failed-server.log" 2>/dev/null \
      && echo "bench: the server log is kept in bench/results/failed-server.log" >&2
  fi
  if [ "$rc" != 0 ] && [ -n "$PEER_LOG" ] && [ -f "$PEER_LOG" ] && [ -d "$RESULTS_DIR" ]; then
    cp "$PEER_LOG" "$RESULTS_DIR/failed-limit-peer.log" 2>/dev/null \
      && echo "bench: the limit peer's log is kept in bench/results/failed-limit-peer.log" >&2
  fi
  local db
  for db in "${PG_DATABASES[@]+"${PG_DATABASES[@]}"}"; do
    psql "$BENCH_DATABASE_URL" -qAtc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
  done
  if [ -n "$TMP" ] && [ -d "$TMP" ]; then
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
      echo "bench: kept $TMP" >&2
    else
      rm -rf "$TMP"
    fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- tools ---------------------------------------------------------------------------------
need() { command -v "$1" >/dev/null 2>&1 || die "$1 is required${2:+ ($2)}"; }
need curl
need awk
if ! command -v wrk >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing wrk from Debian's packages"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1 \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
  fi
  need wrk "apt-get install wrk"
fi
if command -v jq >/dev/null 2>&1; then JSON=jq
elif command -v python3 >/dev/null 2>&1; then JSON=python3
else die "jq or python3 is required to read JSON responses"
fi

# jget KEY... : prints the value at that path of the JSON on stdin ("null" when absent).
jget() {
  if [ "$JSON" = jq ]; then
    local filter="" k
    for k in "$@"; do
      if [[ "$k" =~ ^[0-9]+$ ]]; then filter+="[$k]"; else filter+="[\"$k\"]"; fi
    done
    jq -r ".${filter} // \"null\""
  else
    python3 -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1:]:
    try:
        v = v[int(k)] if isinstance(v, list) else v.get(k)
    except (IndexError, ValueError, AttributeError):
        v = None
    if v is None:
        break
print("null" if v is None else v)' "$@"
  fi
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# report LINE... : print to stdout and keep for results/latest.md
report() {
  local line
  for line in "$@"; do
    printf '%s\n' "$line"
    REPORT+="$line"$'\n'
  done
}

# --- the binary ----------------------------------------------------------------------------
build() {
  if [ -n "${ROSTER_BIN:-}" ]; then
    [ -x "$ROSTER_BIN" ] || die "ROSTER_BIN=$ROSTER_BIN is not an executable"
    BIN="$ROSTER_BIN"
    log "using ROSTER_BIN=$BIN (not building)"
    return
  fi
  need cargo
  local tries=$((${BENCH_BUILD_RETRIES:-0} + 1)) i
  for i in $(seq 1 "$tries"); do
    log "cargo build --release (attempt $i/$tries; ~4 min cold, incremental afterwards)"
    if (cd "$ROOT" && cargo build --release); then
      BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/roster"
      [[ "$BIN" = /* ]] || BIN="$ROOT/$BIN"
      [ -x "$BIN" ] || die "the build succeeded but $BIN does not exist"
      return
    fi
    [ "$i" -lt "$tries" ] && { log "build failed; retrying in 60 s"; sleep 60; }
  done
  die "cargo build --release failed"
}

# --- databases -------------------------------------------------------------------------------
# make_database NAME : sets DB_URL to a fresh, empty database
make_database() {
  local name="$1"
  if [ -z "${BENCH_DATABASE_URL:-}" ]; then
    DB_URL="sqlite://$TMP/$name.db"
    return
  fi
  case "$BENCH_DATABASE_URL" in
    postgres://* | postgresql://*) ;;
    *) die "BENCH_DATABASE_URL must be a postgres:// URL (SQLite is the default)" ;;
  esac
  need psql "to create scratch databases for BENCH_DATABASE_URL"
  local db="roster_bench_$$_$name"
  psql "$BENCH_DATABASE_URL" -v ON_ERROR_STOP=1 -qAtc "CREATE DATABASE \"$db\"" >/dev/null \
    || die "could not create database $db through BENCH_DATABASE_URL"
  PG_DATABASES+=("$db")
  # Swap the database name in the URL (keep any ?query).
  local base="${BENCH_DATABASE_URL%%\?*}" query=""
  [ "$base" != "$BENCH_DATABASE_URL" ] && query="?${BENCH_DATABASE_URL#*\?}"
  local authority="${base#*://}"
  local scheme="${base%%://*}"
  authority="${authority%%/*}"
  DB_URL="$scheme://$authority/$db$query"
}

redact() { sed -E 's#(://[^:/@]+):[^@]*@#\1:***@#' <<<"$1"; }

# seed URL ARGS... : runs `roster seed`, prints its timing to stderr
seed() {
  local url="$1"; shift
  local stamp out err start rc=0
  stamp=$(date +%s%N); out="$TMP/seed-$stamp.out"; err="$TMP/seed-$stamp.err"
  start=$(now)
  log "roster seed $* ($(redact "$url"))"
  if [ -t 2 ]; then
    # A terminal: let indicatif draw its progress bar.
    DATABASE_URL="$url" RUST_LOG=warn "$BIN" seed "$@" >"$out" || rc=$?
  else
    # Not a terminal (CI, a log file): the bar is hidden, so say something every 10 s.
    DATABASE_URL="$url" RUST_LOG=warn "$BIN" seed "$@" >"$out" 2>"$err" &
    local pid=$! t=0
    while kill -0 "$pid" 2>/dev/null; do
      sleep 1; t=$((t + 1))
      if [ $((t % 10)) = 0 ]; then
        local size=""
        [ -z "${BENCH_DATABASE_URL:-}" ] && size=", database $(du -sm "$TMP" | cut -f1) MB"
        log "  still seeding: ${t}s${size}"
      fi
    done
    wait "$pid" || rc=$?
    [ "$rc" = 0 ] || cat "$err" >&2
  fi
  [ "$rc" = 0 ] || die "roster seed failed (exit $rc)"
  SEED_SECONDS=$(elapsed "$start")
  grep -q '"first_account_slug"' "$out" || die "roster seed printed no summary: $(cat "$out")"
  log "seeded in ${SEED_SECONDS}s"
}

# --- the server ------------------------------------------------------------------------------
free_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
  else
    local p
    for _ in $(seq 1 50); do
      p=$((20000 + RANDOM % 20000))
      (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
    done
    die "no free port found"
  fi
}

# start_server URL NAME
start_server() {
  local url="$1" name="$2" port
  port=$(free_port)
  BASE="http://127.0.0.1:$port"
  SERVER_LOG="$TMP/server-$name.log"
  log "starting roster serve on 127.0.0.1:$port (log: $SERVER_LOG)"
  # A long token lifetime whatever the caller's environment says (ROSTER_WORKERS passes through).
  DATABASE_URL="$url" ROSTER_BIND="127.0.0.1:$port" ROSTER_JWT_SECRET="$JWT_SECRET" RUST_LOG=warn \
    ROSTER_TOKEN_TTL=86400 "$BIN" serve >"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
  local i
  for i in $(seq 1 300); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      local rc=0; wait "$SERVER_PID" || rc=$?; SERVER_PID=""
      die "roster serve exited (status $rc) before answering /healthz"
    fi
    curl -fsS -o /dev/null --max-time 1 "$BASE/healthz" 2>/dev/null && return 0
    sleep 0.1
  done
  die "roster serve did not answer $BASE/healthz within 30 s"
}

# Servers are named: "roster" (SERVER_PID) or "limit" (PEER_PID, vs-limit mode).
pid_of() { if [ "$1" = limit ]; then echo "$PEER_PID"; else echo "$SERVER_PID"; fi; }

# check_server_alive [NAME]
check_server_alive() {
  local name="${1:-roster}"
  kill -0 "$(pid_of "$name")" 2>/dev/null && return 0
  if [ "$name" = limit ]; then PEER_PID=""; else SERVER_PID=""; fi
  die "the $name server died during the benchmark"
}

# wait_idle [NAME] : after wrk stops, the server may still be working through requests it had
# accepted (slow URLs); wait until it uses < 5% of a core, so the next run starts clean.
wait_idle() {
  local pid hz before after i
  pid=$(pid_of "${1:-roster}")
  hz=$(getconf CLK_TCK 2>/dev/null || echo 100)
  for i in $(seq 1 240); do
    before=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null) || return 0
    sleep 0.5
    after=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null) || return 0
    [ $((after - before)) -le $((hz / 40)) ] && return 0
    [ "$i" = 20 ] && log "  waiting for the server to finish requests left over from wrk"
  done
  log "  the server is still busy after 2 minutes; going on"
}

# peak_rss_mb [NAME]
peak_rss_mb() {
  awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$(pid_of "${1:-roster}")/status" 2>/dev/null || echo "?"
}

# machine_busy_pct : how busy all the cores were over one second (from /proc/stat). Taken
# with the servers idle, it is what something else on the machine was using.
machine_busy_pct() {
  local u n s i w q sq st t1 i1 t2 i2
  read -r _ u n s i w q sq st _ </proc/stat; t1=$((u + n + s + i + w + q + sq + st)); i1=$((i + w))
  sleep 1
  read -r _ u n s i w q sq st _ </proc/stat; t2=$((u + n + s + i + w + q + sq + st)); i2=$((i + w))
  echo $(((100 * ((t2 - t1) - (i2 - i1))) / (t2 - t1 > 0 ? t2 - t1 : 1)))
}

# cpu_mark NAME VAR : sets VAR to "busy total server children" in seconds: CPU time of the
# whole machine (busy, and busy + idle over all cores), of server NAME, and of this shell's
# reaped children (wrk). Not in $(…): `times` must run in this shell.
cpu_mark() {
  local pid u n s i w q sq st busy total srv kids
  pid=$(pid_of "$1")
  read -r _ u n s i w q sq st _ </proc/stat
  busy=$((u + n + s + q + sq + st)); total=$((busy + i + w))
  srv=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null) || srv=0
  times >"$TMP/times"
  kids=$(awk 'function sec(x, a) { sub(/s$/, "", x); split(x, a, "m"); return a[1] * 60 + a[2] }
    NR == 2 { print sec($1) + sec($2) }' "$TMP/times")
  printf -v "$2" '%s' "$(awk -v b="$busy" -v t="$total" -v s="$srv" -v k="$kids" -v hz="$(getconf CLK_TCK 2>/dev/null || echo 100)" \
    'BEGIN { printf "%.3f %.3f %.3f %.3f", b / hz, t / hz, s / hz, k }')"
}

# other_load_pct "MARK-BEFORE" "MARK-AFTER" : % of the machine's CPU time between the two
# marks used by neither the server nor wrk: what something else took from the run.
other_load_pct() {
  awk -v a="$1" -v b="$2" 'BEGIN {
    split(a, x, " "); split(b, y, " ")
    other = (y[1] - x[1]) - (y[3] - x[3]) - (y[4] - x[4]); cap = y[2] - x[2]
    if (cap <= 0) { print "?"; exit }
    if (other < 0) other = 0
    printf "%.0f", 100 * other / cap }'
}

# background_busy : prints machine_busy_pct (with the servers idle: what others use); with
# BENCH_QUIET_WAIT, first waits (at most that many seconds) for it to drop to 15% or less.
background_busy() {
  local busy waited=0
  busy=$(machine_busy_pct)
  while [ "$busy" -gt 15 ] && [ "$waited" -lt "$QUIET_WAIT" ]; do
    [ "$waited" = 0 ] && log "  the machine is ${busy}% busy; waiting up to ${QUIET_WAIT}s for it to calm down"
    busy=$(machine_busy_pct); waited=$((waited + 1))
  done
  echo "$busy"
}

sign_in() {
  local body status
  body=$(curl -sS -w '\n%{http_code}' -X POST "$BASE/api/v1/sessions" \
    -H 'Content-Type: application/vnd.api+json' -H 'Accept: application/vnd.api+json' \
    --data '{"data":{"type":"session","attributes":{"account":"seed-0","email":"user-0@seed-0.test","password":"password-0"}}}')
  status="${body##*$'\n'}"; body="${body%$'\n'*}"
  [ "$status" = 201 ] || [ "$status" = 200 ] || die "sign-in answered $status: ${body:0:500}"
  TOKEN=$(jget data attributes token <<<"$body")
  [ -n "$TOKEN" ] && [ "$TOKEN" != null ] || die "sign-in returned no data.attributes.token: ${body:0:500}"
}

# --- one URL -----------------------------------------------------------------------------------
to_ms() {
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/)      { sub(/us$/, "", v); printf "%.2f", v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.2f", v }
    else if (v ~ /m$/)  { sub(/m$/, "", v);  printf "%.0f", v * 60000 }
    else if (v ~ /s$/)  { sub(/s$/, "", v);  printf "%.0f", v * 1000 }
    else printf "%s", v }'
}

# expected_queries URL : 2 + one per distinct include path segment (a.b counts a and a.b)
expected_queries() {
  local include
  include=$(sed -nE 's/.*[?&]include=([^&]*).*/\1/p' <<<"$1")
  awk -v inc="$include" 'BEGIN {
    n = 0
    if (inc != "") {
      k = split(inc, paths, ",")
      for (i = 1; i <= k; i++) {
        m = split(paths[i], parts, "."); prefix = ""
        for (j = 1; j <= m; j++) {
          prefix = prefix (j > 1 ? "." : "") parts[j]
          if (!(prefix in seen)) { seen[prefix] = 1; n++ }
        }
      }
    }
    print 2 + n }'
}

# status_tally NAME URL CURL-ARGS... : "200×20, 408×12" from $CONNECTIONS simultaneous
# requests to server NAME, plus the start of the first error body.
status_tally() {
  local name="$1" url="$2"; shift 2
  local dir="$TMP/tally" pids=() i pid
  rm -rf "$dir"; mkdir -p "$dir"
  for i in $(seq 1 "$CONNECTIONS"); do
    curl -sSg -o "$dir/$i.body" -w '%{http_code}\n' --max-time 60 "$@" "$url" >"$dir/$i.code" 2>"$dir/$i.err" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || true; done
  wait_idle "$name"
  local summary first=""
  summary=$(cat "$dir"/*.code | sort | uniq -c | awk '{ printf "%s%s×%s", (NR > 1 ? ", " : ""), $2, $1 }')
  for i in $(seq 1 "$CONNECTIONS"); do
    if [ "$(cat "$dir/$i.code")" != 200 ]; then
      first=$( (head -c 200 "$dir/$i.body"; head -c 100 "$dir/$i.err") | tr -d '\n' | tr '|' '/')
      break
    fi
  done
  printf '%s' "$summary${first:+; first error: $first}"
}

# probe_ms HEADERS_FILE : the app duration from Server-Timing
probe_ms() {
  tr -d '\r' <"$1" | awk 'tolower($1) == "server-timing:"' | sed -nE 's/.*app;dur=([0-9.]+).*/\1/p' | head -n1
}

TABLE_HEADER=(
  "| URL | req/s | p50 ms | p99 ms | bytes/resp | queries | notes |"
  "|---|--:|--:|--:|--:|--:|---|"
)

# probe_url KEY URL CURL-ARGS... : one request with curl. Sets PROBE_STATUS (000: no answer),
# PROBE_BYTES (body), PROBE_QUERIES (queries= of Server-Timing, "?" without) and PROBE_BODY
# (its first 300 bytes); keeps the headers in $TMP/probe-KEY.headers.
probe_url() {
  local key="$1" url="$2"; shift 2
  local hdr="$TMP/probe-$key.headers" body="$TMP/probe-$key.body"
  PROBE_STATUS=$(curl -sSg -D "$hdr" -o "$body" -w '%{http_code}' --max-time 60 "$@" "$url" 2>"$TMP/probe.err") \
    || PROBE_STATUS=000
  touch "$hdr" "$body"
  PROBE_BYTES=$(wc -c <"$body" | tr -d ' ')
  PROBE_BODY=$(head -c 300 "$body"; head -c 200 "$TMP/probe.err")
  PROBE_QUERIES=$(tr -d '\r' <"$hdr" | awk 'tolower($1) == "server-timing:"' \
    | sed -nE 's/.*queries=([0-9]+).*/\1/p' | head -n1)
  [ -n "$PROBE_QUERIES" ] || PROBE_QUERIES="?"
}

# check_queries LABEL URL QUERIES : roster's statement count against 2 + include segments;
# a miss adds to NOTES and MISSES.
check_queries() {
  local label="$1" url="$2" queries="$3" expected
  [ "$queries" != "?" ] || NOTES+=("no Server-Timing queries=")
  expected=$(expected_queries "$url")
  if [ "$queries" != "$expected" ]; then
    NOTES+=("queries ≠ $expected")
    MISSES+=("$label: Server-Timing says queries=$queries, expected $expected (2 + include segments)")
  fi
}

# run_wrk NAME KEY LABEL URL CURL-ARGS... : a warm-up, then the measured run against server
# NAME (roster | limit), waiting until it is idle after each. Sets W_RPS, W_P50, W_P99 ("—"
# when no request completed) and W_OTHER (% of the machine's CPU that neither the server nor
# wrk used during the measured run);
# adds to NOTES, and to FAILURES (non-2xx, socket errors) and MISSES. The probe of KEY
# (probe_url) must have been made first.
run_wrk() {
  local name="$1" key="$2" label="$3" url="$4"; shift 4
  local out="$TMP/wrk-$key.txt"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" --timeout 30s "$@" "$url" >/dev/null
  check_server_alive "$name"
  wait_idle "$name"
  background_busy >/dev/null   # waits for a quieter machine with BENCH_QUIET_WAIT
  local mark_before mark_after
  cpu_mark "$name" mark_before
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${SECONDS_PER_URL}s" --timeout 30s --latency "$@" "$url" >"$out"
  cpu_mark "$name" mark_after
  W_OTHER=$(other_load_pct "$mark_before" "$mark_after")
  check_server_alive "$name"
  wait_idle "$name"

  local non2xx sockerr total
  W_RPS=$(awk '/^Requests\/sec:/ { f = ($2 + 0 < 10) ? "%.1f" : "%.0f"; printf f, $2 }' "$out")
  W_P50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
  W_P99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
  total=$(awk '/requests in/ { print $1 }' "$out")
  non2xx=$(awk -F': *' '/Non-2xx or 3xx responses/ { print $2 }' "$out")
  sockerr=$(sed -nE 's/.*Socket errors: (.*)/\1/p' "$out")
  if [ -z "$W_RPS" ] || [ -z "$total" ]; then cat "$out" >&2; die "could not read wrk's output for $label"; fi
  if [ "$total" = 0 ]; then
    # Every request took longer than the run: no latency figures.
    W_P50="—"; W_P99="—"
    NOTES+=("**no request completed in ${SECONDS_PER_URL}s** (one alone: $(probe_ms "$TMP/probe-$key.headers") ms)")
    MISSES+=("$label: no request completed within ${SECONDS_PER_URL}s at $CONNECTIONS connections")
  fi
  if [ -n "$non2xx" ] && [ "$non2xx" != 0 ]; then
    # wrk does not say which statuses: send $CONNECTIONS requests at once with curl.
    local tally
    tally=$(status_tally "$name" "$url" "$@")
    NOTES+=("**$non2xx of $total non-2xx** (${CONNECTIONS} concurrent curls: $tally)")
    FAILURES+=("$label: wrk saw $non2xx non-2xx/3xx responses out of $total; $CONNECTIONS concurrent curls got $tally")
  fi
  if [ -n "$sockerr" ]; then
    NOTES+=("**socket errors: $sockerr**")
    FAILURES+=("$label: wrk socket errors: $sockerr")
  fi
}

# joined_notes : NOTES joined with "; "
joined_notes() {
  local joined="" n
  for n in "${NOTES[@]+"${NOTES[@]}"}"; do joined+="${joined:+; }$n"; done
  printf '%s' "$joined"
}

# bench_url KEY LABEL URL [HEADER...] : probes roster with curl, runs wrk, prints one table
# row. Sets RPS_<KEY> and P99_<KEY> for the checks.
bench_url() {
  local key="$1" label="$2" url="$3"; shift 3
  local headers=(-H "Authorization: Bearer $TOKEN" "$@")
  NOTES=()
  probe_url "$key" "$url" "${headers[@]}"
  if [ "$PROBE_STATUS" != 200 ]; then
    FAILURES+=("$label: curl got HTTP $PROBE_STATUS: $PROBE_BODY")
    report "| \`$label\` | — | — | — | — | — | **HTTP $PROBE_STATUS** |"
    return
  fi
  local bytes="$PROBE_BYTES" queries="$PROBE_QUERIES"
  check_queries "$label" "$url" "$queries"
  run_wrk roster "$key" "$label" "$url" "${headers[@]}"
  # (On PostgreSQL the database's own CPU time would count as "other".)
  if [ -z "${BENCH_DATABASE_URL:-}" ] && ge "$W_OTHER" 20; then
    NOTES+=("other processes took ${W_OTHER}% of the CPU during the run")
  fi
  printf -v "RPS_$key" '%s' "$W_RPS"
  printf -v "P99_$key" '%s' "$W_P99"
  report "| \`$label\` | $W_RPS | $W_P50 | $W_P99 | $bytes | $queries | $(joined_notes) |"
}

# timed_request KEY LABEL URL CURL-ARGS... : one request; a table row with its status and
# Server-Timing. Sets DB_MS_<KEY>.
timed_request() {
  local key="$1" label="$2" url="$3"; shift 3
  local hdr="$TMP/timed.headers" status timing db app queries
  status=$(curl -sSg -D "$hdr" -o /dev/null -w '%{http_code}' "$@" "$url")
  timing=$(tr -d '\r' <"$hdr" | awk 'tolower($1) == "server-timing:"')
  db=$(sed -nE 's/.*db;dur=([0-9.]+).*/\1/p' <<<"$timing")
  app=$(sed -nE 's/.*app;dur=([0-9.]+).*/\1/p' <<<"$timing")
  queries=$(sed -nE 's/.*queries=([0-9]+).*/\1/p' <<<"$timing")
  case "$status" in
    2??) ;;
    *) FAILURES+=("$label: HTTP $status") ;;
  esac
  printf -v "DB_MS_$key" '%s' "$db"
  report "| \`$label\` | $status | ${db:-?} | ${app:-?} | ${queries:-?} |"
}

# check OK? TEXT
check() {
  if [ "$1" = 1 ]; then report "- [x] $2"; else report "- [ ] **MISSED:** $2"; MISSES+=("$2"); fi
}
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a ~ /^[0-9.]+$/ && a + 0 >= b + 0) }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a ~ /^[0-9.]+$/ && a + 0 < b + 0) }'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0) printf "%.0f%%", 100 * a / b; else print "?" }'; }

# --- the phases ----------------------------------------------------------------------------------
standard_phase() {
  make_database standard
  local url="$DB_URL"
  seed "$url" --accounts 20 --users 10000 --teams 500 --teams-per-user 3
  local seed_time="$SEED_SECONDS"
  start_server "$url" standard
  sign_in
  local page user_id
  page=$(curl -sSg -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/users?page[size]=1")
  user_id=$(jget data 0 id <<<"$page")
  [ -n "$user_id" ] && [ "$user_id" != null ] || die "GET /api/v1/users?page[size]=1 gave no user: ${page:0:500}"

  report "" "## Standard: 20 accounts, 10,000 users, 500 teams, 3 teams per user" ""
  report "Seeded in ${seed_time}s. Signed in as the owner of \`seed-0\` (500 users, 25 teams visible)." ""
  report "${TABLE_HEADER[@]}"
  bench_url user "/api/v1/users/{id}" "$BASE/api/v1/users/$user_id"
  bench_url users_page "/api/v1/users?page[size]=25" "$BASE/api/v1/users?page[size]=25"
  bench_url users_include "/api/v1/users?page[size]=25&include=teams,account" \
    "$BASE/api/v1/users?page[size]=25&include=teams,account"
  bench_url users_filter "/api/v1/users?filter[status]=active&sort=-created_at&page[size]=25" \
    "$BASE/api/v1/users?filter[status]=active&sort=-created_at&page[size]=25"
  bench_url teams_include "/api/v1/teams?page[size]=10&include=users" \
    "$BASE/api/v1/teams?page[size]=10&include=users"
  local rss
  rss=$(peak_rss_mb)
  report "" "Server peak RSS (VmHWM): **${rss} MB**" ""

  # On PostgreSQL: pgbench on the same server, roster idle, for a ratio taken in this run.
  local tps=""
  if [ -n "${BENCH_DATABASE_URL:-}" ]; then pgbench_phase; tps="$PGBENCH_TPS"; fi

  # Absolute req/s are not checked: they differ from machine to machine by 2× (see
  # bench/README.md); `vs-limit` mode gives ratios to a reference server taken in one run.
  report "Checks (targets from bench/README.md):" ""
  local key ok p99_max=20 where="SQLite"
  [ -n "${BENCH_DATABASE_URL:-}" ] && { p99_max=25; where="PostgreSQL"; }
  for key in users_page users_include users_filter; do
    local p99_var="P99_$key"
    local p99="${!p99_var:-}"
    if lt "$p99" "$p99_max"; then ok=1; else ok=0; fi
    check "$ok" "$(label_of "$key"): p99 ${p99:-?} ms < $p99_max ms ($where, $CONNECTIONS connections)"
  done
  if lt "$rss" 100; then ok=1; else ok=0; fi
  check "$ok" "peak RSS ${rss} MB < 100 MB"
  if [ -n "${BENCH_DATABASE_URL:-}" ]; then
    local share
    share=$(awk -v a="${RPS_user:-0}" -v b="${tps:-0}" 'BEGIN { if (b + 0 > 0) printf "%.0f", 100 * a / b; else print "?" }')
    if ge "$share" 30; then ok=1; else ok=0; fi
    check "$ok" "/users/{id}: ${RPS_user:-?} req/s ≥ 30% of pgbench's ${tps:-?} tps on the same server: ${share}%"
  fi
  stop_server
  report_log_warnings "$TMP/server-standard.log"
}

# report_log_warnings LOG : the first WARN/ERROR lines of a roster server log, if any
report_log_warnings() {
  local log="$1"
  if grep -qE ' (ERROR|WARN) ' "$log"; then
    report "" "Server log warnings/errors ($(grep -cE ' (ERROR|WARN) ' "$log") lines), first 5:" '```'
    report "$(grep -E ' (ERROR|WARN) ' "$log" | head -n 5 | cut -c1-300)" '```'
  fi
}

# pgbench_phase : pgbench -S on a scratch database of BENCH_DATABASE_URL's server while
# roster is idle. Sets PGBENCH_TPS; reports a line.
pgbench_phase() {
  need pgbench "apt-get install postgresql-client"
  wait_idle roster
  make_database pgbench
  local url="$DB_URL" tps bg
  log "pgbench -i -s 10 ($(redact "$url"))"
  pgbench -i -s 10 -q "$url" >"$TMP/pgbench-init.log" 2>&1 \
    || { tail -n 20 "$TMP/pgbench-init.log" >&2; die "pgbench -i -s 10 failed"; }
  bg=$(background_busy)
  log "pgbench -S -M prepared -c 16 -j 2 -T $SECONDS_PER_URL"
  pgbench -S -M prepared -c 16 -j 2 -T "$SECONDS_PER_URL" "$url" >"$TMP/pgbench.log" 2>&1 \
    || { tail -n 20 "$TMP/pgbench.log" >&2; die "pgbench -S failed"; }
  # PostgreSQL 14+: "tps = N (without initial connection time)"; older: "(excluding connections …)".
  tps=$(sed -nE 's/^tps = ([0-9.]+) \((without initial|excluding).*/\1/p' "$TMP/pgbench.log" | head -n1)
  [ -n "$tps" ] || tps=$(sed -nE 's/^tps = ([0-9.]+).*/\1/p' "$TMP/pgbench.log" | head -n1)
  [ -n "$tps" ] || { cat "$TMP/pgbench.log" >&2; die "could not read pgbench's tps"; }
  PGBENCH_TPS=$(awk -v t="$tps" 'BEGIN { printf "%.0f", t }')
  report "pgbench on the same PostgreSQL, roster idle (\`pgbench -i -s 10\`, then \`pgbench -S -M prepared -c 16 -j 2 -T $SECONDS_PER_URL\`; machine ${bg}% busy just before): **$PGBENCH_TPS tps**; roster's \`/users/{id}\` at ${RPS_user:-?} req/s is **$(pct "${RPS_user:-0}" "$PGBENCH_TPS")** of that." ""
}

label_of() {
  case "$1" in
    user) echo "/users/{id}" ;;
    users_page) echo "/users?page[size]=25" ;;
    users_include) echo "/users?page[size]=25&include=teams,account" ;;
    users_filter) echo "/users?filter[status]=active&sort=-created_at&page[size]=25" ;;
    teams_include) echo "/teams?page[size]=10&include=users" ;;
    *) echo "$1" ;;
  esac
}

cursor_phase() {
  local profile_accept="application/vnd.api+json; profile=\"$CURSOR_PROFILE\""
  make_database cursor
  local url="$DB_URL"
  seed "$url" --accounts 1 --users "$CURSOR_USERS" --teams 100 --teams-per-user 1
  local seed_time="$SEED_SECONDS"
  start_server "$url" cursor
  sign_in

  local first="$BASE/api/v1/users?page[size]=25" next="" doc status i start
  log "following links.next from cursor page 1 to page $CURSOR_PAGE"
  start=$(now)
  next="$first"
  for i in $(seq 2 "$CURSOR_PAGE"); do
    doc=$(curl -sSg -w '\n%{http_code}' -H "Authorization: Bearer $TOKEN" -H "Accept: $profile_accept" "$next")
    status="${doc##*$'\n'}"; doc="${doc%$'\n'*}"
    [ "$status" = 200 ] || die "cursor page $((i - 1)) ($next) answered $status: ${doc:0:500}"
    next=$(jget links next <<<"$doc")
    [ -n "$next" ] && [ "$next" != null ] || die "cursor page $((i - 1)) has no links.next: ${doc:0:300}"
  done
  log "walked $((CURSOR_PAGE - 1)) links in $(elapsed "$start")s"
  local deep="$next"
  local shown="${deep#"$BASE"}"
  [ "${#shown}" -gt 90 ] && shown="${shown:0:87}…"

  report "" "## Cursor pagination: 1 account, $(printf "%'d" "$CURSOR_USERS" 2>/dev/null || echo "$CURSOR_USERS") users" ""
  report "Seeded in ${seed_time}s. Cursor pages send \`Accept: application/vnd.api+json; profile=\"…/cursor-pagination\"\`; page $CURSOR_PAGE is reached by following \`links.next\` $((CURSOR_PAGE - 1)) times." ""
  report "${TABLE_HEADER[@]}"
  bench_url cursor1 "cursor page 1: /api/v1/users?page[size]=25" "$first" -H "Accept: $profile_accept"
  bench_url cursorN "cursor page $CURSOR_PAGE: $shown" "$deep" -H "Accept: $profile_accept"
  bench_url offsetN "offset page $CURSOR_PAGE: /api/v1/users?page[number]=$CURSOR_PAGE&page[size]=25" \
    "$BASE/api/v1/users?page[number]=$CURSOR_PAGE&page[size]=25"

  # Lookups that must stay index lookups however large the account: one request each,
  # timed by the server's own Server-Timing.
  report "" "Single requests on the same database (the server's Server-Timing; offset lists pay for \`meta.total\`, a count of every match):" ""
  report "| request | status | db ms | app ms | queries |" "|---|--:|--:|--:|--:|"
  timed_request signin "POST /api/v1/sessions (sign-in, Argon2 not counted in db)" "$BASE/api/v1/sessions" \
    -X POST -H 'Content-Type: application/vnd.api+json' \
    --data '{"data":{"type":"session","attributes":{"account":"seed-0","email":"USER-0@seed-0.test","password":"password-0"}}}'
  timed_request email "GET /api/v1/users?filter[email]=USER-7@seed-0.test" \
    "$BASE/api/v1/users?filter[email]=USER-7@seed-0.test" -H "Authorization: Bearer $TOKEN"
  timed_request status "GET /api/v1/users?filter[status]=deactivated (20,000 matches, counted)" \
    "$BASE/api/v1/users?filter[status]=deactivated" -H "Authorization: Bearer $TOKEN"
  timed_request members "GET /api/v1/account_memberships (counted)" \
    "$BASE/api/v1/account_memberships" -H "Authorization: Bearer $TOKEN"
  timed_request members_cursor "GET /api/v1/account_memberships, cursor page" \
    "$BASE/api/v1/account_memberships" -H "Authorization: Bearer $TOKEN" -H "Accept: $profile_accept"

  local rss
  rss=$(peak_rss_mb)
  report "" "Server peak RSS (VmHWM): **${rss} MB**" ""
  report "Checks:" ""
  local floor ok
  for key in signin email; do
    local db_var="DB_MS_$key"
    if lt "${!db_var:-}" 5; then ok=1; else ok=0; fi
    check "$ok" "$key: ${!db_var:-?} ms of database time < 5 ms (an index lookup, not a scan)"
  done
  floor=$(awk -v a="${RPS_cursor1:-0}" 'BEGIN { printf "%.0f", a * 0.8 }')
  if ge "${RPS_cursorN:-}" "$floor"; then ok=1; else ok=0; fi
  check "$ok" "cursor page $CURSOR_PAGE ${RPS_cursorN:-?} req/s ≥ 80% of cursor page 1 (${RPS_cursor1:-?} req/s): $(pct "${RPS_cursorN:-0}" "${RPS_cursor1:-0}")"
  if lt "$rss" 100; then ok=1; else ok=0; fi
  check "$ok" "peak RSS ${rss} MB < 100 MB"
  stall_check
  stop_server
}

# wrk_figures FILE : "req/s p99_ms" of a wrk --latency output
wrk_figures() {
  printf '%s %s' "$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$1")" \
    "$(to_ms "$(awk '$1 == "99%" { print $2 }' "$1")")"
}

# stall_check : SPEC §5, one slow request never stalls the others. On the cursor phase's
# database, 28 connections fetch /users/{id}, first alone, then while 4 connections load
# the most expensive list there is (an offset page deep in a million users, with its
# count, 100 rows and three includes). /users/{id}'s p99 beside it must stay within 3×
# its p99 alone.
stall_check() {
  local user_id quick heavy status heavy_pid alone_rps alone_p99 loaded_rps loaded_p99 heavy_rps heavy_p99
  user_id=$(curl -sSg -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/users?page[size]=1" | jget data 0 id)
  quick="$BASE/api/v1/users/$user_id"
  heavy="$BASE/api/v1/users?page[number]=$CURSOR_PAGE&page[size]=100&include=account,teams,team_memberships"
  status=$(curl -sSg -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$heavy")
  if [ "$status" != 200 ]; then
    FAILURES+=("stall check: the expensive list answered HTTP $status")
    return
  fi
  log "stall check: /users/{id} at 28 connections alone, then beside 4 connections on the expensive list"
  wrk -t2 -c28 -d"${WARMUP}s" --timeout 30s -H "Authorization: Bearer $TOKEN" "$quick" >/dev/null
  wait_idle roster
  wrk -t2 -c28 -d"${SECONDS_PER_URL}s" --timeout 30s --latency \
    -H "Authorization: Bearer $TOKEN" "$quick" >"$TMP/stall-alone.txt"
  wait_idle roster
  wrk -t1 -c4 -d"$((SECONDS_PER_URL + 4))s" --timeout 60s --latency \
    -H "Authorization: Bearer $TOKEN" "$heavy" >"$TMP/stall-heavy.txt" &
  heavy_pid=$!
  sleep 2
  wrk -t2 -c28 -d"${SECONDS_PER_URL}s" --timeout 30s --latency \
    -H "Authorization: Bearer $TOKEN" "$quick" >"$TMP/stall-loaded.txt"
  wait "$heavy_pid" || true
  check_server_alive roster
  wait_idle roster
  read -r alone_rps alone_p99 <<<"$(wrk_figures "$TMP/stall-alone.txt")"
  read -r loaded_rps loaded_p99 <<<"$(wrk_figures "$TMP/stall-loaded.txt")"
  read -r heavy_rps heavy_p99 <<<"$(wrk_figures "$TMP/stall-heavy.txt")"
  report "" "No request stalls another (SPEC §5): \`/users/{id}\` at 28 connections, alone and beside 4 connections on \`${heavy#"$BASE"}\`:" ""
  report "| load | /users/{id} req/s | /users/{id} p99 ms | expensive list req/s | its p99 ms |" "|---|--:|--:|--:|--:|"
  report "| alone | $alone_rps | $alone_p99 | — | — |"
  report "| beside the expensive list | $loaded_rps | $loaded_p99 | $heavy_rps | $heavy_p99 |"
  report ""
  local limit ok
  limit=$(awk -v a="$alone_p99" 'BEGIN { printf "%.2f", a * 3 }')
  if lt "$loaded_p99" "$limit"; then ok=1; else ok=0; fi
  check "$ok" "/users/{id} p99 beside the expensive list ${loaded_p99} ms ≤ 3 × its p99 alone (${alone_p99} ms → ${limit} ms)"
}

# --- vs-limit: roster against the hand-written limit peer ------------------------------------------
# build_limit : sets LIMIT_PEER_BIN: LIMIT_BIN, or a release build of LIMIT_SRC whose target dir
# is LIMIT_TARGET_DIR (outside the source, which may be read-only).
build_limit() {
  if [ -n "${LIMIT_BIN:-}" ]; then
    [ -x "$LIMIT_BIN" ] || die "LIMIT_BIN=$LIMIT_BIN is not an executable"
    LIMIT_PEER_BIN="$LIMIT_BIN"
    log "using LIMIT_BIN=$LIMIT_PEER_BIN (not building)"
    return
  fi
  local src="${LIMIT_SRC:-$ROOT/../shared/peers/limit}" target="${LIMIT_TARGET_DIR:-$ROOT/target/limit-peer}"
  [ -f "$src/Cargo.toml" ] || die "no limit peer in $src (set LIMIT_SRC, or LIMIT_BIN to a built limit-peer)"
  [[ "$target" = /* ]] || target="$PWD/$target"
  need cargo
  log "cargo build --release of the limit peer ($src → $target; ~2.5 min cold on 2 cores)"
  (cd "$src" && CARGO_TARGET_DIR="$target" cargo build --release --locked --quiet) \
    || die "the limit peer's build failed"
  LIMIT_PEER_BIN="$target/release/limit-peer"
  [ -x "$LIMIT_PEER_BIN" ] || die "the build succeeded but $LIMIT_PEER_BIN does not exist"
}

# seed_limit ARGS... : `limit-peer seed` into $PEER_VAR; sets PEER_TOKEN, PEER_USER_ID
seed_limit() {
  PEER_VAR="$TMP/limit-peer"
  mkdir -p "$PEER_VAR"
  local start
  start=$(now)
  log "limit-peer seed $*"
  LIMIT_PEER_VAR="$PEER_VAR" LIMIT_JWT_SECRET="$JWT_SECRET" \
    "$LIMIT_PEER_BIN" seed --db "$PEER_VAR/limit.db" "$@" >"$PEER_VAR/seed.out" 2>&1 \
    || { cat "$PEER_VAR/seed.out" >&2; die "limit-peer seed failed"; }
  PEER_SEED_SECONDS=$(elapsed "$start")
  PEER_TOKEN=$(tr -d '\n' <"$PEER_VAR/token")
  PEER_USER_ID=$(tr -d '\n' <"$PEER_VAR/known_user_id")
  [ -n "$PEER_TOKEN" ] && [ -n "$PEER_USER_ID" ] \
    || die "limit-peer seed wrote no token or known_user_id in $PEER_VAR"
  log "seeded the limit peer in ${PEER_SEED_SECONDS}s"
}

# start_peer : `limit-peer serve` on a free port with as many workers as roster; waits (up to
# 30 s) until an authenticated page answers 200. Sets PEER_BASE, PEER_PID.
start_peer() {
  local port code=""
  port=$(free_port)
  PEER_BASE="http://127.0.0.1:$port"
  PEER_LOG="$PEER_VAR/limit-$port.log"
  log "starting limit-peer serve on 127.0.0.1:$port with $ROSTER_WORKERS workers (log: $PEER_LOG)"
  LIMIT_PEER_VAR="$PEER_VAR" LIMIT_JWT_SECRET="$JWT_SECRET" LIMIT_WORKERS="$ROSTER_WORKERS" \
    "$LIMIT_PEER_BIN" serve "$port" --db "$PEER_VAR/limit.db" >"$PEER_LOG" 2>&1 &
  PEER_PID=$!
  for _ in $(seq 1 300); do
    if ! kill -0 "$PEER_PID" 2>/dev/null; then
      local rc=0; wait "$PEER_PID" || rc=$?; PEER_PID=""
      die "limit-peer serve exited (status $rc) before answering"
    fi
    code=$(curl -sg -o /dev/null -w '%{http_code}' --max-time 1 -H "$JSONAPI_ACCEPT" \
      -H "Authorization: Bearer $PEER_TOKEN" "$PEER_BASE/api/v1/users?page[size]=1" 2>/dev/null) || true
    [ "$code" = 200 ] && return 0
    sleep 0.1
  done
  die "limit-peer serve did not answer 200 on $PEER_BASE within 30 s (last HTTP $code)"
}

# url_path KEY USER_ID : the path and query of one of the five standard URLs
url_path() {
  case "$1" in
    user) echo "/api/v1/users/$2" ;;
    users_page) echo "/api/v1/users?page[size]=25" ;;
    users_include) echo "/api/v1/users?page[size]=25&include=teams,account" ;;
    users_filter) echo "/api/v1/users?filter[status]=active&sort=-created_at&page[size]=25" ;;
    teams_include) echo "/api/v1/teams?page[size]=10&include=users" ;;
  esac
}

# median FORMAT VALUE... : the median of the numeric values ("—" when there are none)
median() {
  local f="$1"; shift
  printf '%s\n' "$@" | awk '/^[0-9.]+$/' | sort -g | awk -v f="$f" '{ v[NR] = $1 }
    END { if (!NR) print "—"
          else printf f, (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# ratio A B : A ÷ B to two decimals ("?" unless both are numbers and B > 0)
ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN {
    if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b + 0 > 0) printf "%.2f", a / b; else print "?" }'
}

vs_limit_phase() {
  if [ -n "${BENCH_DATABASE_URL:-}" ]; then
    log "vs-limit: the limit peer runs on SQLite, so roster does too (BENCH_DATABASE_URL is not used)"
  fi
  build_limit
  local shape=(--accounts 20 --users 10000 --teams 500 --teams-per-user 3)
  local url="sqlite://$TMP/vs-limit.db"
  seed "$url" "${shape[@]}"
  local seed_time="$SEED_SECONDS"
  seed_limit "${shape[@]}"
  start_server "$url" vs-limit
  sign_in
  local page user_id
  page=$(curl -sSg -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/users?page[size]=1")
  user_id=$(jget data 0 id <<<"$page")
  if [ -z "$user_id" ] || [ "$user_id" = null ]; then
    die "GET /api/v1/users?page[size]=1 gave no user: ${page:0:500}"
  fi
  start_peer

  local keys=(user users_page users_include users_filter teams_include) key
  local r_headers=(-H "$JSONAPI_ACCEPT" -H "Authorization: Bearer $TOKEN")
  local l_headers=(-H "$JSONAPI_ACCEPT" -H "Authorization: Bearer $PEER_TOKEN")
  local -A r_url l_url r_queries l_queries r_bytes l_bytes probe_ok

  report "" "## roster ÷ limit: the five standard URLs on roster and on the hand-written limit peer" ""
  report "Both seeded with \`${shape[*]}\` (roster in ${seed_time}s, the peer in ${PEER_SEED_SECONDS}s), SQLite, $ROSTER_WORKERS workers each, both running throughout." \
    "Per URL, $ROUNDS round(s) of (limit, roster), each a ${WARMUP}s warm-up and a ${SECONDS_PER_URL}s wrk run, waiting for the server to be idle after each; the table gives medians." \
    "Limit peer: $LIMIT_PEER_BIN; roster signed in as the owner of \`seed-0\`, the peer with the token its seed wrote (the owner of its account 0)." ""

  # Both servers must answer 200 to every URL before anything is measured.
  for key in "${keys[@]}"; do
    r_url[$key]="$BASE$(url_path "$key" "$user_id")"
    l_url[$key]="$PEER_BASE$(url_path "$key" "$PEER_USER_ID")"
    local l_status l_body
    probe_url "$key-limit" "${l_url[$key]}" "${l_headers[@]}"
    l_status="$PROBE_STATUS"; l_body="$PROBE_BODY"; l_queries[$key]="$PROBE_QUERIES"; l_bytes[$key]="$PROBE_BYTES"
    probe_url "$key-roster" "${r_url[$key]}" "${r_headers[@]}"
    r_queries[$key]="$PROBE_QUERIES"; r_bytes[$key]="$PROBE_BYTES"
    probe_ok[$key]=1
    if [ "$l_status" != 200 ]; then
      probe_ok[$key]=0
      FAILURES+=("vs-limit $(label_of "$key"): the limit peer answered HTTP $l_status: $l_body")
    fi
    if [ "$PROBE_STATUS" != 200 ]; then
      probe_ok[$key]=0
      FAILURES+=("vs-limit $(label_of "$key"): roster answered HTTP $PROBE_STATUS: $PROBE_BODY")
    fi
  done

  report "| URL | limit req/s | roster req/s | roster ÷ limit | limit p99 ms | roster p99 ms | p99 roster ÷ limit | queries limit / roster | bytes limit / roster | notes |" \
    "|---|--:|--:|--:|--:|--:|--:|--:|--:|---|"
  local runs_rows=() round
  local -A rps_ratio p99_ratio
  for key in "${keys[@]}"; do
    local label
    label=$(label_of "$key")
    if [ "${probe_ok[$key]}" != 1 ]; then
      report "| \`$label\` | — | — | — | — | — | — | ${l_queries[$key]} / ${r_queries[$key]} | — | **not measured: not 200 (see FAILURES)** |"
      continue
    fi
    NOTES=()
    check_queries "roster $label" "${r_url[$key]}" "${r_queries[$key]}"
    local l_rps=() r_rps=() l_p99=() r_p99=() runs="" n0 i max_other=0
    for round in $(seq 1 "$ROUNDS"); do
      log "$label: round $round/$ROUNDS, limit peer"
      n0=${#NOTES[@]}
      run_wrk limit "$key-limit" "limit $label" "${l_url[$key]}" "${l_headers[@]}"
      for ((i = n0; i < ${#NOTES[@]}; i++)); do NOTES[i]="limit run $round: ${NOTES[i]}"; done
      l_rps+=("$W_RPS"); l_p99+=("$W_P99"); runs+=" | $W_RPS, $W_P99, ${W_OTHER}%"
      ge "$W_OTHER" "$max_other" && max_other="$W_OTHER"
      log "  $W_RPS req/s, p99 $W_P99 ms, others used ${W_OTHER}% of the CPU; roster"
      n0=${#NOTES[@]}
      run_wrk roster "$key-roster" "roster $label" "${r_url[$key]}" "${r_headers[@]}"
      for ((i = n0; i < ${#NOTES[@]}; i++)); do NOTES[i]="roster run $round: ${NOTES[i]}"; done
      r_rps+=("$W_RPS"); r_p99+=("$W_P99"); runs+=" | $W_RPS, $W_P99, ${W_OTHER}%"
      ge "$W_OTHER" "$max_other" && max_other="$W_OTHER"
      log "  $W_RPS req/s, p99 $W_P99 ms, others used ${W_OTHER}% of the CPU"
    done
    local lr rr lp rp
    lr=$(median "%.0f" "${l_rps[@]}"); rr=$(median "%.0f" "${r_rps[@]}")
    lp=$(median "%.2f" "${l_p99[@]}"); rp=$(median "%.2f" "${r_p99[@]}")
    rps_ratio[$key]=$(ratio "$rr" "$lr")
    ge "$max_other" 20 && NOTES+=("other processes took up to ${max_other}% of the CPU during a run")
    p99_ratio[$key]=$(ratio "$rp" "$lp")
    report "| \`$label\` | $lr | $rr | **${rps_ratio[$key]}** | $lp | $rp | **${p99_ratio[$key]}** | ${l_queries[$key]} / ${r_queries[$key]} | ${l_bytes[$key]} / ${r_bytes[$key]} | $(joined_notes) |"
    runs_rows+=("| \`$label\`$runs |")
  done

  local head="| URL" sep="|---" 
  for round in $(seq 1 "$ROUNDS"); do head+=" | limit $round | roster $round"; sep+="|--:|--:"; done
  report "" "Every run in order: req/s, p99 ms, and the share of the machine's CPU time that neither the server nor wrk used during the run (other processes; above ~10% the run was slowed by them):" "" \
    "$head |" "$sep|" "${runs_rows[@]+"${runs_rows[@]}"}"
  report "" "Queries: \`queries=\` of each server's \`Server-Timing\`. roster counts its session check and the page (whose total is a subquery of it) plus one per include segment; the peer counts its session check, a separate \`COUNT(*)\` on list pages, the page and one per include segment (BEGIN/COMMIT not counted)." ""
  local l_rss r_rss
  l_rss=$(peak_rss_mb limit); r_rss=$(peak_rss_mb roster)
  report "Peak RSS (VmHWM): limit peer ${l_rss} MB, roster ${r_rss} MB." ""

  report "Checks (roster against the limit peer, medians of this run):" ""
  local ok
  for key in "${keys[@]}"; do
    local label rr_key="${rps_ratio[$key]:-?}" pr_key="${p99_ratio[$key]:-?}"
    label=$(label_of "$key")
    if ge "$rr_key" 0.70; then ok=1; else ok=0; fi
    check "$ok" "$label: roster req/s ≥ 70% of the limit peer's: roster ÷ limit = $rr_key"
    if [[ "$pr_key" =~ ^[0-9.]+$ ]] && awk -v a="$pr_key" 'BEGIN { exit !(a + 0 <= 1.5) }'; then ok=1; else ok=0; fi
    check "$ok" "$label: roster p99 ≤ 1.5 × the limit peer's p99: roster ÷ limit = $pr_key"
  done
  stop_peer
  stop_server
  report_log_warnings "$TMP/server-vs-limit.log"
}

# --- main -------------------------------------------------------------------------------------------
mkdir -p "$RESULTS_DIR"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/roster-bench.XXXXXX")
build

commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$ROOT" status --porcelain -- src migrations Cargo.toml Cargo.lock 2>/dev/null)" ]; then
  commit="$commit + uncommitted changes in src/, migrations/ or Cargo.*"
fi
cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || echo unknown)
database="SQLite (temp file)"
[ -n "${BENCH_DATABASE_URL:-}" ] && database="PostgreSQL ($(redact "$BENCH_DATABASE_URL"), scratch databases)"
[ "$MODE" = vs-limit ] && database="SQLite (temp files), for roster and for the limit peer"

report "# roster load benchmark ($MODE)" ""
report "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
report "- machine: $(nproc) cores, $cpu, load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
report "- commit: $commit"
report "- binary: $BIN"
report "- database: $database"
report "- load: wrk -t$THREADS -c$CONNECTIONS -d${SECONDS_PER_URL}s --latency after a ${WARMUP}s warm-up, on the same machine as the server"
report "- roster workers: ${ROSTER_WORKERS:-one per core (default)}"

case "$MODE" in
  standard) standard_phase ;;
  cursor) cursor_phase ;;
  vs-limit) vs_limit_phase ;;
  all) standard_phase; cursor_phase ;;
esac
report "" "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

if [ "${#FAILURES[@]}" -gt 0 ]; then
  report "" "## FAILURES" ""
  for f in "${FAILURES[@]}"; do report "- $f"; done
fi
printf '%s' "$REPORT" >"$RESULTS_DIR/latest.md"
cp "$RESULTS_DIR/latest.md" "$RESULTS_DIR/$(date -u +%Y%m%dT%H%M%SZ)-$MODE.md"
log "wrote bench/results/latest.md"

if [ "${#FAILURES[@]}" -gt 0 ]; then
  echo >&2
  echo "bench: FAILED — ${#FAILURES[@]} problem(s):" >&2
  for f in "${FAILURES[@]}"; do echo "  - $f" >&2; done
  server_log_tail
  exit 1
fi
if [ "${#MISSES[@]}" -gt 0 ]; then
  echo "bench: ${#MISSES[@]} target(s) missed (see the checks above)" >&2
  [ "${BENCH_STRICT:-0}" = 1 ] && exit 1
fi
exit 0
