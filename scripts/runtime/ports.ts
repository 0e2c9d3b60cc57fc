// Free loopback ports, so parallel test files never clash on fixed ports.
//
// Ports come from just BELOW the kernel's ephemeral range, not from listen(0): an ephemeral
// port handed out and closed again can be taken by any outgoing connection (or another test
// worker's listen(0)) before the component we start binds it. Below the range, only another
// listener can take it, and a random pick over ~12,000 ports makes two workers' picks collide
// about never; each pick is checked by binding it.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const handedOut = new Set<number>();

function portRange(): [number, number] {
  let low = 32768;
  try {
    low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || low;
  } catch {
    /* not Linux: keep the IANA default */
  }
  return [Math.max(1024, low - 12_000), low];
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

export async function freePort(): Promise<number> {
  const [from, to] = portRange();
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = from + Math.floor(Math.random() * (to - from));
    if (handedOut.has(port)) continue;
    if (await bindable(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free loopback port found in ${from}-${to} after 200 tries`);
}
