#!/bin/sh
# Create the cluster, its user and database in an empty data directory, then run postgres
# (exec: it is the container's main process and gets its signals).
set -eu
: "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
  initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$pwfile"
  postgres -D "$PGDATA" -c listen_addresses='' -c unix_socket_directories=/var/run/postgresql &
  pid=$!
  until pg_isready -q -h /var/run/postgresql; do sleep 0.2; done
  createdb -h /var/run/postgresql -U "$POSTGRES_USER" "$POSTGRES_DB" 2>/dev/null || true
  kill -INT "$pid"
  wait "$pid" || true
fi
exec postgres -D "$PGDATA" -c listen_addresses="$PG_LISTEN" -c port="$PGPORT" \
  -c unix_socket_directories=/var/run/postgresql "$@"
