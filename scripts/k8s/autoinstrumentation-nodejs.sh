#!/usr/bin/env bash
# Assembles, natively, the /autoinstrumentation directory of a Node.js auto-instrumentation
# image (what the operator's init container copies into every instrumented pod), for one of:
#   lab        the lab's own image (images/autoinstrumentation-nodejs/, the one
#              k8s/instrumentation.yaml injects): the @opentelemetry/api and
#              auto-instrumentations-node versions of package-lock.json, as the services use;
#   operator   the operator release's default image (its autoinstrumentation/nodejs/package.json,
#              OPERATOR_VERSION of .env), minus its build-only devDependencies and scripts.
# Both are laid out by images/autoinstrumentation-nodejs/assemble.sh, the steps the lab's
# Dockerfile runs. Installed with Node 24's npm under $CACHE/k8s/autoinstrumentation-nodejs/,
# keyed by the packages' versions, never into the repo. Prints the directory.
#   bash scripts/k8s/autoinstrumentation-nodejs.sh lab|operator
# Used by test/k8s/injection-fidelity.test.ts.
COMPONENT=k8s-nodejs
. "$(dirname "$0")/../build/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
recipe=$ROOT/images/autoinstrumentation-nodejs
node=$ROOT/node_modules/.bin/node
npm_cli=${NPM_CLI:-/usr/lib/node_modules/npm/bin/npm-cli.js}
variant=${1:-}
[ "$variant" = lab ] || [ "$variant" = operator ] || die "usage: $0 lab|operator"
[ -x "$node" ] || die "Node 24 not found in node_modules/.bin: run npm install in $ROOT first"
[ -f "$npm_cli" ] || die "npm not found at $npm_cli: install npm (Debian: apt-get install npm) or set NPM_CLI"

mkdir -p "$CACHE/k8s/autoinstrumentation-nodejs"
pkg=$(mktemp "$CACHE/k8s/autoinstrumentation-nodejs/.package-XXXXXX.json")
trap 'rm -f "$pkg"' EXIT
if [ "$variant" = lab ]; then
  "$node" "$recipe/pin-versions.cjs" "$ROOT/package-lock.json" >"$pkg"
else
  src=$(bash "$here/control-plane.sh" build | awk -F= '$1 == "operator-nodejs" {print $2}')
  [ -f "$src/package.json" ] || die "the operator build has no autoinstrumentation/nodejs/package.json ($src)"
  # Its dependencies as they are; devDependencies and the postinstall only serve its build.
  "$node" -e '
    const p = require(process.argv[1]);
    delete p.devDependencies; delete p.scripts;
    process.stdout.write(JSON.stringify(p, null, 2) + "\n");
  ' "$src/package.json" >"$pkg"
fi
version=$("$node" -p "require('$pkg').dependencies['@opentelemetry/auto-instrumentations-node']")
key=$(cat "$pkg" "$recipe/assemble.sh" | sha256sum | cut -c1-10)
dest=$CACHE/k8s/autoinstrumentation-nodejs/$variant-$version-$key

if [ ! -f "$dest/autoinstrumentation.js" ]; then
  work=$(mktemp -d "$CACHE/k8s/autoinstrumentation-nodejs/.build-XXXXXX")
  trap 'rm -rf "$work" "$pkg"' EXIT
  assemble() {
    PATH="$(dirname "$node"):$PATH" NPM="$node $npm_cli" sh "$recipe/assemble.sh" "$pkg" "$work/out"
  }
  run_logged "installing auto-instrumentations-node $version ($variant image)" \
    "$CACHE/k8s/autoinstrumentation-nodejs-$variant-install.log" assemble
  publish "$work/out" "$dest"
  say "assembled $dest ($(du -sm "$dest" | cut -f1) MB)"
fi
echo "$dest"
