// Free loopback ports, so parallel test files never clash on fixed ports.
//
// Ports come from just BELOW the kernel's ephemeral range, not from listen(0): an ephemeral
// port handed out and closed again can be taken by any outgoing connection (or another test
// worker's listen(0)) before the component we start binds it. Below the range, only another
// listener can take it, and a random pick over ~12,000 ports makes two workers' picks collide
// about never; each pick is checked by binding it. Picks are also reserved across processes
// (a file per port under the OS temp dir, holding the picker's pid), so two test workers, or two
// runs on one machine, never hand out the same port; a dead picker's reservations are taken over.
import { mkdirSync, openSync, closeSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const handedOut = new Set<number>();
const reservations = join(tmpdir(), 'otel-lab-ports');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Claims a port for this process: false if a live process holds it. */
function reserve(port: number): boolean {
  mkdirSync(reservations, { recursive: true });
  const file = join(reservations, String(port));
  for (let i = 0; i < 2; i++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(readFileSync(file, 'utf8').trim());
      if (owner && alive(owner)) return false;
      rmSync(file, { force: true }); // a dead process's reservation (or a half-written one)
    }
  }
  return false;
}

process.once('exit', () => {
  for (const port of handedOut) rmSync(join(reservations, String(port)), { force: true });
});

function portRange(): [number, number] {
  let low = 32768;
  try {
    low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || low;
  } catch {
    /* not Linux: keep the IANA default */
  }
  return [Math.max(1024, low - 12_000), low];
}

function bindableOn(port: number, host: string | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

// Loopback and every interface: the services listen on all of them (`::`).
async function bindable(port: number): Promise<boolean> {
  return (await bindableOn(port, '127.0.0.1')) && (await bindableOn(port, undefined));
}

export async function freePort(): Promise<number> {
  const [from, to] = portRange();
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = from + Math.floor(Math.random() * (to - from));
    if (handedOut.has(port) || !reserve(port)) continue;
    if (await bindable(port)) {
      handedOut.add(port);
      return port;
    }
    rmSync(join(reservations, String(port)), { force: true });
  }
  throw new Error(`no free loopback port found in ${from}-${to} after 200 tries`);
}
