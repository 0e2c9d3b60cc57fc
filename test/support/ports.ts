// Free loopback ports, so parallel test files never clash on fixed ports.
import { createServer } from 'node:net';

const handedOut = new Set<number>();

export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const addr = srv.address();
        srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
      });
    });
    // The OS may hand the same ephemeral port back; never give one out twice per process.
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}
