#!/usr/bin/env bash
# bench/serve.sh: start Let's Talk for a benchmark, the way bench/run_compare.sh and
# /tmp/bench/load/compare.sh expect a target: listen on 127.0.0.1:$PORT and `exec`
# the server, so its pid (and its children) are what gets measured.
#
#   PORT=18100 CHAT_JWT_SECRET=<32+ bytes> CHAT_JWT_ISS=rooms bench/serve.sh [memory|redis] [uvicorn|daphne|granian|hypercorn] [PROCS]
#
# memory: InMemoryChannelLayer (one process only); redis: RedisPubSubChannelLayer on
# $BENCH_REDIS_URL (default redis://127.0.0.1:6379/13). PROCS > 1 (redis only) starts
# that many server processes on one shared listening socket (bench/multiproc.py).
# The database is $BENCH_DATABASE_URL (default the SQLite file `make bench` prepares).
# Production settings (DJANGO_DEBUG off) with a bench-only secret key; the rate limit
# is raised out of the way. uvicorn runs as the Procfile runs it, permessage-deflate off;
# BENCH_WS_DEFLATE=true gives uvicorn's own default, which accepts it when the client
# offers it, as browsers and the kit's generator do (daphne does not negotiate it). With the default BENCH_REDIS_URL (database 13) the Redis
# database is flushed first (BENCH_REDIS_FLUSH=0 keeps it; =1 flushes another one).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
LAYER="${1:-memory}"
SERVER="${2:-uvicorn}"
PROCS="${3:-1}"
: "${PORT:?PORT must be set}"
: "${CHAT_JWT_SECRET:?CHAT_JWT_SECRET must be set (32+ bytes)}"

export DJANGO_ENV_FILE=/dev/null
export DJANGO_DEBUG=0
export DJANGO_SECRET_KEY="${BENCH_SECRET_KEY:-bench-only-NOT-for-production-7q2x9v4k1m8z3w6r5t0y}"
export DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost
export CHAT_JWT_ISSUER="${CHAT_JWT_ISS:-${CHAT_JWT_ISSUER:-lets-talk}}"
export CHAT_RATE_LIMIT="${CHAT_RATE_LIMIT:-1000000}"
export DATABASE_URL="${BENCH_DATABASE_URL:-sqlite:////tmp/letstalk-bench.sqlite3}"
case "$LAYER" in
  memory) unset REDIS_URL ;;
  redis)
    export REDIS_URL="${BENCH_REDIS_URL:-redis://127.0.0.1:6379/13}"
    # Start from an empty presence/rate-limit state: a killed run leaves its users
    # "online" for PRESENCE_TTL. Only the bench's own database by default.
    if [ "${BENCH_REDIS_FLUSH:-$([ -z "${BENCH_REDIS_URL:-}" ] && echo 1 || echo 0)}" = 1 ]; then
      .venv/bin/python -c 'import redis, sys; redis.Redis.from_url(sys.argv[1]).flushdb()' "$REDIS_URL"
    fi ;;
  *) echo "serve.sh: layer must be memory or redis" >&2; exit 2 ;;
esac
if [ "$PROCS" -gt 1 ]; then
  [ "$LAYER" = redis ] || { echo "serve.sh: several processes need the redis layer" >&2; exit 2; }
  BENCH_WS_DEFLATE="${BENCH_WS_DEFLATE:-false}" exec .venv/bin/python bench/multiproc.py --port "$PORT" --procs "$PROCS" --server "$SERVER"
fi
case "$SERVER" in
  daphne) exec .venv/bin/daphne -e "tcp:port=$PORT:interface=127.0.0.1:backlog=1024" --websocket-max-message-size 65536 \
             --websocket_connect_timeout 30 chatsite.asgi:application ;;
  uvicorn) exec .venv/bin/uvicorn --host 127.0.0.1 --port "$PORT" --no-access-log --log-level warning \
             --ws-max-size 65536 --http chatsite.http_protocol:HttpProtocol --ws rooms.realtime.wire.uvicorn:WebSocketProtocol --ws-per-message-deflate "${BENCH_WS_DEFLATE:-false}" \
             chatsite.asgi:application ;;
  # Tried against uvicorn (docs/PERFORMANCE.md, "Which ASGI server"); not in requirements.txt:
  # .venv/bin/pip install granian==2.8.9 hypercorn==0.18.0
  granian) exec .venv/bin/granian --interface asgi --host 127.0.0.1 --port "$PORT" --workers 1 --runtime-mode st \
             --loop uvloop --ws --backlog 1024 --log-level warning chatsite.asgi:application ;;
  hypercorn) exec .venv/bin/hypercorn -b "127.0.0.1:$PORT" -k uvloop --backlog 1024 --log-level warning \
             chatsite.asgi:application ;;
  *) echo "serve.sh: server must be daphne, uvicorn, granian or hypercorn" >&2; exit 2 ;;
esac
