#!/usr/bin/env bash
# The tests need PostgreSQL (the PostgreSQL registry store) and Redis (n8n queue mode) on this machine.
# Exits non-zero, printing exactly what to start, when either does not answer.
set -uo pipefail
PG_HOST=${PGHOST:-127.0.0.1}
PG_PORT=${PGPORT:-5432}
REDIS_HOST=${REDIS_HOST:-127.0.0.1}
REDIS_PORT=${REDIS_PORT:-6379}
missing=0

tcp_open() { # host port: a node one-liner when the client tools are absent
	node -e "const s=require('net').connect(+process.argv[2],process.argv[1]);s.setTimeout(2000);s.on('connect',()=>process.exit(0));s.on('error',()=>process.exit(1));s.on('timeout',()=>process.exit(1))" "$1" "$2"
}

if command -v pg_isready >/dev/null; then pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -t 3; pg=$?; else tcp_open "$PG_HOST" "$PG_PORT"; pg=$?; fi
if [ "$pg" -ne 0 ]; then
	printf 'PostgreSQL does not answer on %s:%s. Start it:\n  pg_ctlcluster 15 main start\n(tests connect as user postgres with trust auth to database postgres)\n' "$PG_HOST" "$PG_PORT" >&2
	missing=1
fi
if command -v redis-cli >/dev/null; then [ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; rd=$?; else tcp_open "$REDIS_HOST" "$REDIS_PORT"; rd=$?; fi
if [ "$rd" -ne 0 ]; then
	printf 'Redis does not answer on %s:%s. Start it:\n  redis-server --daemonize yes --bind 127.0.0.1 --port %s\n' "$REDIS_HOST" "$REDIS_PORT" "$REDIS_PORT" >&2
	missing=1
fi
exit "$missing"
