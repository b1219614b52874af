#!/usr/bin/env bash
# bench/run_compare.sh: Let's Talk side by side with the original Node.js server
# (seed-socketio) and the bare-Python ceiling (limit-py), with the Node load generator
# of the shared bench kit (compare.sh: server pinned to CPU 1, generator to CPU 0).
#
#   bench/run_compare.sh [-s "A B C"] [-r 2] [-t "uvicorn daphne uvicorn-redis"] [--peers "seed-socketio limit-py"]
#                        [--retries N] [--quiet-wait S]
#
# -t takes any of: uvicorn (as the Procfile runs it: permessage-deflate off; in-memory
# layer), uvicorn-deflate (uvicorn's default: deflate accepted), daphne (in-memory layer),
# granian / hypercorn (in-memory layer; the servers we measured against uvicorn, not in requirements.txt),
# uvicorn-redis / daphne-redis (Redis Pub/Sub layer), uvicorn-redis2 / daphne-redis2 (two
# processes on one socket, Redis layer; both on the server CPU). --retries and --quiet-wait go to compare.sh (bound a run
# on a busy machine: rerun a noisy run at most N times, wait at most S s for quiet).
# Needs the kit at $BENCH_KIT (default /tmp/bench; copied from ../shared/bench and set up
# when missing), Node 20 and, for redis*, a Redis at $BENCH_REDIS_URL
# (default redis://127.0.0.1:6379/13). Runs go to $BENCH_OUT (default /tmp/bench-runs/lets-talk);
# the markdown table is printed at the end. docs/PERFORMANCE.md has the figures.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KIT="${BENCH_KIT:-/tmp/bench}"
OUT="${BENCH_OUT:-/tmp/bench-runs/lets-talk}"
SCENARIOS="A B C"
REPEAT=2
TARGETS="uvicorn"
PEERS="seed-socketio limit-py"
KIT_ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    -s) SCENARIOS="$2"; shift 2 ;;
    -r) REPEAT="$2"; shift 2 ;;
    -t) TARGETS="$2"; shift 2 ;;
    --peers) PEERS="$2"; shift 2 ;;
    --retries) KIT_ARGS+=(--retries "$2"); shift 2 ;;
    --quiet-wait) KIT_ARGS+=(--quiet-wait "$2"); shift 2 ;;
    *) sed -n '2,17p' "$0"; exit 2 ;;
  esac
done

if [ ! -x "$KIT/load/compare.sh" ]; then
  cp -r "$HERE/../../shared/bench" "$KIT"
fi
[ -d "$KIT/load/node_modules" ] || (cd "$KIT/load" && npm ci --silent)
[ -d "$KIT/peers/seed-socketio/node_modules" ] || (cd "$KIT/peers/seed-socketio" && npm ci --silent)
if [ ! -x "$KIT/peers/limit-py/.venv/bin/python" ]; then
  python3 -m venv "$KIT/peers/limit-py/.venv"
  "$KIT/peers/limit-py/.venv/bin/pip" install -q -r "$KIT/peers/limit-py/requirements.txt"
fi

# The bench database: migrated, users 1..1000 (the generator's token subs).
DB="${BENCH_DATABASE_URL:-sqlite:////tmp/letstalk-bench.sqlite3}"
(cd "$HERE/.." && env -u REDIS_URL DJANGO_ENV_FILE=/dev/null DJANGO_DEBUG=1 DATABASE_URL="$DB" \
  .venv/bin/python manage.py migrate --no-input -v 0 &&
  env -u REDIS_URL DJANGO_ENV_FILE=/dev/null DJANGO_DEBUG=1 DATABASE_URL="$DB" \
  .venv/bin/python bench/prepare_db.py 1000)

specs=()
for t in $TARGETS; do
  case "$t" in
    uvicorn) specs+=("ours-uvicorn=ours:exec '$HERE/serve.sh' memory uvicorn") ;;
    uvicorn-deflate) specs+=("ours-uvicorn-deflate=ours:BENCH_WS_DEFLATE=true exec '$HERE/serve.sh' memory uvicorn") ;;
    daphne) specs+=("ours-daphne=ours:exec '$HERE/serve.sh' memory daphne") ;;
    granian|hypercorn)
      [ -x "$HERE/../.venv/bin/$t" ] || { echo "$t is not installed: .venv/bin/pip install granian==2.8.9 hypercorn==0.18.0" >&2; exit 2; }
      specs+=("ours-$t=ours:exec '$HERE/serve.sh' memory $t") ;;
    uvicorn-redis) specs+=("ours-uvicorn-redis=ours:exec '$HERE/serve.sh' redis uvicorn") ;;
    uvicorn-redis2) specs+=("ours-uvicorn-redis-x2=ours:exec '$HERE/serve.sh' redis uvicorn 2") ;;
    daphne-redis) specs+=("ours-daphne-redis=ours:exec '$HERE/serve.sh' redis daphne") ;;
    daphne-redis2) specs+=("ours-daphne-redis-x2=ours:exec '$HERE/serve.sh' redis daphne 2") ;;
    *) echo "unknown target $t" >&2; exit 2 ;;
  esac
done
# shellcheck disable=SC2206
peers=($PEERS)
mkdir -p "$OUT"
for s in $SCENARIOS; do
  echo "== scenario $s" >&2
  "$KIT/load/compare.sh" -s "$s" -r "$REPEAT" -o "$OUT" --iss rooms ${KIT_ARGS[@]+"${KIT_ARGS[@]}"} "${specs[@]}" "${peers[@]}" \
    -- --user-ids 1-1000 | tee "$OUT/agg-$s.jsonl"
done
node "$KIT/load/summarize.js" table "$OUT"/2*.json
