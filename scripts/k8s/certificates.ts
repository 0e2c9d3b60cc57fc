// The control plane's throw-away PKI: a CA, one serving certificate for 127.0.0.1 (the API
// server's and the operator's webhook), the service-account key pair and a static token file,
// made with the machine's openssl for each run. Nothing here outlives the run's directory.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';

export interface Certificates {
  caCert: string;
  serverCert: string;
  serverKey: string;
  saPublic: string;
  saPrivate: string;
  tokens: string;
  adminToken: string;
}

/** A throw-away CA, one serving certificate for 127.0.0.1, the service-account key pair, a token file. */
export function makeCertificates(dir: string): Certificates {
  mkdirSync(dir, { recursive: true });
  const f = (name: string) => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=otel-lab-test-ca');
  openssl(
    'req', '-x509', ...ec, '-keyout', f('server.key'), '-out', f('server.crt'), '-days', '2',
    '-subj', '/CN=127.0.0.1', '-CA', f('ca.crt'), '-CAkey', f('ca.key'),
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-addext', 'basicConstraints=critical,CA:FALSE',
    '-addext', 'extendedKeyUsage=serverAuth',
  );
  openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', f('sa.key'));
  openssl('pkey', '-in', f('sa.key'), '-pubout', '-out', f('sa.pub'));
  const adminToken = `otel-lab-${Math.random().toString(36).slice(2)}`;
  // token,user,uid,"groups": system:masters may do anything, RBAC included.
  writeFileSync(f('tokens.csv'), `${adminToken},admin,admin,"system:masters"\n`);
  return {
    caCert: f('ca.crt'),
    serverCert: f('server.crt'),
    serverKey: f('server.key'),
    saPublic: f('sa.pub'),
    saPrivate: f('sa.key'),
    tokens: f('tokens.csv'),
    adminToken,
  };
}

function openssl(...args: string[]) {
  const { status, stderr, error } = spawnSync('openssl', args, { encoding: 'utf8' });
  if (error) throw new Error('openssl not found: install OpenSSL (Debian: apt-get install openssl)');
  if (status !== 0) throw new Error(`openssl ${args.join(' ')} failed:\n${stderr}`);
}

/** GET over HTTPS trusting only this run's CA (fetch cannot be given a CA); resolves the body. */
export function getWithCa(url: string, certs: Certificates): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { ca: readFileSync(certs.caCert), headers: { authorization: `Bearer ${certs.adminToken}` }, timeout: 2000 },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve(body));
      },
    );
    req.once('error', reject);
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}
