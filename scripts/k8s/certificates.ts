// The control plane's throw-away PKI: a CA, one serving certificate for 127.0.0.1 (the API
// server's and the operator's webhook; on a node also for the node's IP and the `kubernetes`
// Service), the service-account key pair and a static token file, made with the machine's
// openssl for each run. A node adds a token per component (each its own RBAC user, as kubeadm's
// kubeconfigs are) and the API server's client certificate for kubelets. Nothing here outlives
// the run's directory.
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
  /** The token of each extra user asked for (see CertificateOptions.users). */
  userTokens: Record<string, string>;
  /** The API server's client certificate for kubelet calls (logs, exec), when asked for. */
  kubeletClientCert?: string;
  kubeletClientKey?: string;
}

export interface CertificateOptions {
  /** More addresses and names the serving certificate is valid for (the node IP, 10.96.0.1, ...). */
  ips?: string[];
  names?: string[];
  /** Extra token users: name -> groups (e.g. system:node:n1 -> [system:nodes]). */
  users?: Record<string, string[]>;
  /** Also make the API server's client certificate for kubelets. */
  kubeletClient?: boolean;
}

/** A throw-away CA, one serving certificate for 127.0.0.1, the service-account key pair, a token file. */
export function makeCertificates(dir: string, opts: CertificateOptions = {}): Certificates {
  mkdirSync(dir, { recursive: true });
  const f = (name: string) => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=otel-lab-test-ca');
  openssl(
    'req', '-x509', ...ec, '-keyout', f('server.key'), '-out', f('server.crt'), '-days', '2',
    '-subj', '/CN=127.0.0.1', '-CA', f('ca.crt'), '-CAkey', f('ca.key'),
    '-addext', `subjectAltName=${['IP:127.0.0.1', ...(opts.ips ?? []).map((ip) => `IP:${ip}`), 'DNS:localhost', ...(opts.names ?? []).map((n) => `DNS:${n}`)].join(',')}`,
    '-addext', 'basicConstraints=critical,CA:FALSE',
    '-addext', 'extendedKeyUsage=serverAuth',
  );
  openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', f('sa.key'));
  openssl('pkey', '-in', f('sa.key'), '-pubout', '-out', f('sa.pub'));
  const token = () => `otel-lab-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
  const adminToken = token();
  const userTokens = Object.fromEntries(Object.keys(opts.users ?? {}).map((u) => [u, token()]));
  // token,user,uid,"groups": system:masters may do anything, RBAC included.
  writeFileSync(
    f('tokens.csv'),
    [`${adminToken},admin,admin,"system:masters"`, ...Object.entries(opts.users ?? {}).map(([u, g]) => `${userTokens[u]},${u},${u},"${g.join(',')}"`)]
      .map((l) => `${l}\n`)
      .join(''),
  );
  if (opts.kubeletClient) {
    // What kubeadm gives the API server for kubelet calls: a client certificate the kubelet's
    // client CA trusts, in system:masters so the kubelet's authorization webhook allows it.
    openssl(
      'req', '-x509', ...ec, '-keyout', f('kubelet-client.key'), '-out', f('kubelet-client.crt'), '-days', '2',
      '-subj', '/O=system:masters/CN=kube-apiserver-kubelet-client', '-CA', f('ca.crt'), '-CAkey', f('ca.key'),
      '-addext', 'basicConstraints=critical,CA:FALSE',
      '-addext', 'extendedKeyUsage=clientAuth',
    );
  }
  return {
    userTokens,
    ...(opts.kubeletClient ? { kubeletClientCert: f('kubelet-client.crt'), kubeletClientKey: f('kubelet-client.key') } : {}),
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
