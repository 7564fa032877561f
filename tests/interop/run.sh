#!/usr/bin/env bash
# The interoperability tests: installs the real servers (cached between runs, see
# setup.sh), starts them on 127.0.0.1, runs the ignored tests of tests/interop/ against
# them with their addresses in the environment, and stops them whatever happens.
#   run.sh [mastodon|atproto]...   (default: both)
# Extra cargo flags come from CAREBRIDGE_CARGO_FLAGS (.ci/run passes --locked).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
CACHE="${CAREBRIDGE_INTEROP_CACHE:-$HOME/.cache/carebridge-interop}"
DIR="${CAREBRIDGE_INTEROP_DIR:-$CACHE/run}"

servers=("$@"); [ ${#servers[@]} -gt 0 ] || servers=(mastodon atproto)
bash "$HERE/setup.sh" "${servers[@]}"
trap 'bash "$HERE/servers.sh" stop "${servers[@]}"' EXIT
bash "$HERE/servers.sh" start "${servers[@]}"
set -a
# shellcheck source=/dev/null
. "$DIR/servers.env"
set +a
cd "$HERE/../.."
# One test at a time: they share each server's accounts.
# shellcheck disable=SC2086
cargo test ${CAREBRIDGE_CARGO_FLAGS:-} --test interop -- --ignored --test-threads=1
