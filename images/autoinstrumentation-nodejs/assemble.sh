#!/bin/sh
# Lays out DEST as the OpenTelemetry Operator's autoinstrumentation-nodejs image lays out
# /autoinstrumentation, the directory its init container copies into every instrumented pod:
#   package.json, node_modules/   the dependencies of PACKAGE_JSON (exact versions), no dev ones
#   its compiled files at the top  the directory of @opentelemetry/auto-instrumentations-node's
#                                  `register` entry (build/src/ up to 0.7x, the bundled dist/ since 0.8x)
#   autoinstrumentation.js         a hard link to that entry (register.js, register.cjs):
#                                  the file the injected NODE_OPTIONS=--require names
# Run by this directory's Dockerfile, and natively by scripts/k8s/autoinstrumentation-nodejs.sh
# (the tests), so both lay it out with the same steps.
#   NPM="npm" sh assemble.sh PACKAGE_JSON DEST
set -eu
pkg=$1 dest=$2
mkdir -p "$dest"
cp "$pkg" "$dest/package.json"
cd "$dest"
# No lockfile, as in the operator's recipe: the pinned packages' own ranges resolve the rest.
${NPM:-npm} install --omit=dev --no-package-lock --no-audit --no-fund
auto=node_modules/@opentelemetry/auto-instrumentations-node
# The entry as the package declares it for require(), whichever layout that release ships.
entry=$(node -p 'const e = require(process.argv[1]).exports["./register"];
  typeof e === "string" ? e : e.require.default ?? e.require' "./$auto/package.json")
cp -r "$auto/$(dirname "$entry")/." .
ln -f "$(basename "$entry")" autoinstrumentation.js
# The init container runs as the pod's user (10001 in the lab), not as the files' owner.
chmod -R go+r .
