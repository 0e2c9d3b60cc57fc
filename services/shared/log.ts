// One line per event, prefixed with time and service, so interleaved logs of the four services
// (native lab, compose) still read as a story.
let service = 'service';

export function setLogName(name: string): void {
  service = name;
}

export function log(message: string): void {
  console.log(`${new Date().toISOString()} ${service}: ${message}`);
}

export function logError(message: string, err?: unknown): void {
  const detail = err instanceof Error ? `: ${err.message}` : err === undefined ? '' : `: ${String(err)}`;
  console.error(`${new Date().toISOString()} ${service}: ${message}${detail}`);
}
