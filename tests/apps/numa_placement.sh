#!/usr/bin/env bash
# On real multi-node hardware, memory served to a thread lives on its node
# (checked page by page with get_mempolicy). Skips on a single-node machine.
set -eu
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
out=$ROOT/build/tests/numa
mkdir -p "$out"
# placement is built by tests/tests.mk with the project's flags.
[ -x "$out/placement" ] || { echo "FAIL: $out/placement is not built (run make test)"; exit 1; }
exec "$out/placement"
