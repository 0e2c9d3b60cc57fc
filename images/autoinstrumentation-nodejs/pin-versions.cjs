// Prints the image's package.json: the template next to this file, each dependency pinned to
// the exact version the repository's package-lock.json installs for the services. One source of
// versions (the lockfile): the SDK the operator injects then registers the same
// @opentelemetry/api release the services call, and their own API calls are not refused.
//   node pin-versions.cjs PATH/TO/package-lock.json > package.json
'use strict';
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const lockFile = process.argv[2];
if (!lockFile) {
  console.error('usage: node pin-versions.cjs PATH/TO/package-lock.json > package.json');
  process.exit(2);
}
const template = JSON.parse(readFileSync(join(__dirname, 'package.json'), 'utf8'));
const lock = JSON.parse(readFileSync(lockFile, 'utf8'));
for (const name of Object.keys(template.dependencies)) {
  // The top-level copy is the one the services' own code resolves.
  const version = lock.packages?.[`node_modules/${name}`]?.version;
  if (!version) {
    console.error(`pin-versions: ${lockFile} installs no top-level ${name} (run npm install in the repository)`);
    process.exit(1);
  }
  template.dependencies[name] = version;
}
process.stdout.write(`${JSON.stringify(template, null, 2)}\n`);
