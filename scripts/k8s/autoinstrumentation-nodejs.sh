#!/usr/bin/env bash
# Assembles, natively, what the operator's autoinstrumentation-nodejs image holds in
# /autoinstrumentation (the directory its init container copies into every instrumented pod),
# following that release's autoinstrumentation/nodejs/{package.json,Dockerfile}:
#   - its dependencies (@opentelemetry/api and @opentelemetry/auto-instrumentations-node, at the
#     versions it pins) installed with npm, without its build-only devDependencies;
#   - auto-instrumentations-node's build/src/ copied to the top, and register.js hard-linked as
#     autoinstrumentation.js: the file the injected NODE_OPTIONS=--require points at.
# Installed with Node 24's npm into $CACHE/k8s/autoinstrumentation-nodejs/, never into the repo.
# Prints the directory. Used by test/k8s/injection-fidelity.test.ts.
COMPONENT=k8s-nodejs
. "$(dirname "$0")/../build/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
node=$ROOT/node_modules/.bin/node
npm_cli=${NPM_CLI:-/usr/lib/node_modules/npm/bin/npm-cli.js}
[ -x "$node" ] || die "Node 24 not found in node_modules/.bin: run npm install in $ROOT first"
[ -f "$npm_cli" ] || die "npm not found at $npm_cli: install npm (Debian: apt-get install npm) or set NPM_CLI"

src=$(bash "$here/control-plane.sh" build | awk -F= '$1 == "operator-nodejs" {print $2}')
[ -f "$src/package.json" ] || die "the operator build has no autoinstrumentation/nodejs/package.json ($src)"
version=$("$node" -p "require('$src/package.json').dependencies['@opentelemetry/auto-instrumentations-node']")
dest=$CACHE/k8s/autoinstrumentation-nodejs/$version-$(sha256sum "$src/package.json" | cut -c1-10)

if [ ! -f "$dest/autoinstrumentation.js" ]; then
  mkdir -p "$(dirname "$dest")"
  work=$(mktemp -d "$(dirname "$dest")/.build-XXXXXX")
  trap 'rm -rf "$work"' EXIT
  # The image's package.json minus what only its build uses (devDependencies, the postinstall
  # that copies the result into build/workspace): the dependencies are the same.
  "$node" -e '
    const p = require(process.argv[1]);
    delete p.devDependencies; delete p.scripts;
    require("fs").writeFileSync(process.argv[2], JSON.stringify(p, null, 2));
  ' "$src/package.json" "$work/package.json"
  install() {
    cd "$work" && PATH="$(dirname "$node"):$PATH" "$node" "$npm_cli" install --omit=dev --no-package-lock \
      --no-audit --no-fund
  }
  run_logged "installing auto-instrumentations-node $version as the operator's image does" \
    "$CACHE/k8s/autoinstrumentation-nodejs-install.log" install
  cp -r "$work/node_modules/@opentelemetry/auto-instrumentations-node/build/src/." "$work/"
  ln "$work/register.js" "$work/autoinstrumentation.js"
  chmod -R go+r "$work"
  publish "$work" "$dest"
  trap - EXIT
  say "assembled $dest ($(du -sm "$dest" | cut -f1) MB)"
fi
echo "$dest"
