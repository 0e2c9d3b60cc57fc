// What the lab's node changes on the machine it runs on, read before it starts and after it
// stops (scripts/k8s/cluster.ts): a kubelet, containerd and kube-proxy on the host write
// netfilter tables, sysctls, mounts, cgroups, links and a few fixed paths outside their own
// directories. restoreHost() undoes what the snapshot did not have; leftovers() names what is
// still different, so a teardown can be checked rather than trusted.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The sysctls a kubelet or kube-proxy may set, and the bridge plugin's ip_forward. */
const SYSCTLS = [
  'net/ipv4/ip_forward',
  'vm/overcommit_memory',
  'vm/panic_on_oom',
  'kernel/panic',
  'kernel/panic_on_oops',
  'kernel/keys/root_maxkeys',
  'kernel/keys/root_maxbytes',
  'net/netfilter/nf_conntrack_max',
  'net/netfilter/nf_conntrack_tcp_timeout_established',
  'net/netfilter/nf_conntrack_tcp_timeout_close_wait',
  'net/ipv4/conf/all/route_localnet',
  'net/bridge/bridge-nf-call-iptables',
];

/** Fixed paths the kubelet, containerd or the CNI plugins create whatever they are told. */
const FIXED_PATHS = [
  '/var/lib/kubelet',
  '/var/log/pods',
  '/var/log/containers',
  '/var/lib/cni',
  '/usr/libexec/kubernetes',
  '/var/run/nri',
  '/etc/cni',
  '/opt/cni',
];

export interface HostState {
  /** Processes naming the node's directory (in their command line or environment). */
  processes: string[];
  /** Mount points under the node's directory or the kubelet's fixed paths. */
  mounts: string[];
  /** The pod bridge and the links enslaved to it. */
  links: string[];
  /** nftables tables and chains named kube*. */
  netfilter: string[];
  sysctls: Record<string, string>;
  /** kubepods cgroups (the kubelet's QoS hierarchy). */
  cgroups: string[];
  paths: string[];
}

const run = (cmd: string, args: string[]) => {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return '';
  }
};

export interface HostScope {
  /** The node's directory: configs, state, sockets. */
  dir: string;
  /** The pod bridge's name. */
  bridge: string;
}

export function hostState(opts: HostScope): HostState {
  const processes: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid)) {
    try {
      // Every component's command line or environment names a file under the node's directory
      // (configs, kubeconfigs, sockets): other control planes of a parallel test run do not.
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      if (cmdline.includes(opts.dir) || readFileSync(`/proc/${pid}/environ`, 'utf8').includes(opts.dir))
        processes.push(`${pid} ${cmdline.slice(0, 160)}`);
    } catch {
      // gone, or a kernel thread
    }
  }
  const watched = [opts.dir, '/var/lib/kubelet', '/var/lib/cni', '/var/run/netns', '/run/netns'];
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => !!m && watched.some((w) => m === w || m.startsWith(`${w}/`)));
  const links = run('ip', ['-o', 'link', 'show'])
    .split('\n')
    .filter((l) => l.includes(` ${opts.bridge}:`) || l.includes(`master ${opts.bridge} `))
    .map((l) => l.split(':')[1]?.trim().split('@')[0] ?? l);
  const netfilter = run('nft', ['list', 'ruleset'])
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^(table|chain) /.test(l) && /kube/i.test(l))
    .map((l) => l.replace(/\s*\{$/, ''));
  const sysctls = Object.fromEntries(
    SYSCTLS.filter((s) => existsSync(`/proc/sys/${s}`)).map((s) => [s, readFileSync(`/proc/sys/${s}`, 'utf8').trim()]),
  );
  const cgroups: string[] = [];
  const cgroupRoot = '/sys/fs/cgroup';
  const top = readdirSync(cgroupRoot);
  for (const entry of top) {
    const path = join(cgroupRoot, entry);
    if (entry.startsWith('kubepods')) cgroups.push(path); // cgroup v2
    else if (isDir(path)) for (const sub of safeReaddir(path)) if (sub.startsWith('kubepods')) cgroups.push(join(path, sub));
  }
  const paths = FIXED_PATHS.filter((p) => existsSync(p));
  return { processes, mounts, links, netfilter, sysctls, cgroups, paths };
}

/** What differs from `before`, one line each (empty: the host is as it was). */
export function leftovers(before: HostState, after: HostState): string[] {
  const added = (key: 'processes' | 'mounts' | 'links' | 'netfilter' | 'cgroups' | 'paths', what: string) =>
    after[key].filter((x) => !before[key].includes(x)).map((x) => `${what} left: ${x}`);
  const sysctls = Object.entries(after.sysctls)
    .filter(([k, v]) => before.sysctls[k] !== undefined && before.sysctls[k] !== v)
    // Left on on purpose while a Docker engine runs (restoreHost says so).
    .filter(([k, v]) => !(k === 'net/ipv4/ip_forward' && v === '1' && dockerRunning()))
    .map(([k, v]) => `sysctl ${k.replaceAll('/', '.')} is ${v}, was ${before.sysctls[k]}`);
  return [
    ...added('processes', 'process'),
    ...added('mounts', 'mount'),
    ...added('links', 'network link'),
    ...added('netfilter', 'netfilter'),
    ...sysctls,
    ...added('cgroups', 'cgroup'),
    ...added('paths', 'path'),
  ];
}

/**
 * Undoes what `before` did not have: unmounts (deepest first), deletes the bridge and the kube
 * nftables tables, puts sysctls back, removes kubepods cgroups and the fixed paths created.
 * Processes must be stopped first. Returns what it did, one line each, for the log.
 */
export function restoreHost(before: HostState, opts: HostScope): string[] {
  const done: string[] = [];
  const now = hostState(opts);
  for (const m of now.mounts.filter((x) => !before.mounts.includes(x)).sort((a, b) => b.length - a.length)) {
    run('umount', [m]);
    if (mounted(m)) run('umount', ['-l', m]); // busy: detach it now, it goes once released
    done.push(`unmounted ${m}`);
  }
  if (now.links.length && !before.links.includes(opts.bridge) && now.links.includes(opts.bridge)) {
    run('ip', ['link', 'delete', opts.bridge]);
    done.push(`deleted bridge ${opts.bridge}`);
  }
  for (const t of now.netfilter.filter((x) => x.startsWith('table ') && !before.netfilter.includes(x))) {
    run('nft', ['delete', ...t.split(/\s+/)]);
    done.push(`deleted nft ${t}`);
  }
  for (const [k, v] of Object.entries(now.sysctls)) {
    const was = before.sysctls[k];
    if (was === undefined || was === v) continue;
    // A Docker engine started meanwhile needs forwarding on: turning it off would cut its containers off.
    if (k === 'net/ipv4/ip_forward' && dockerRunning()) {
      done.push(`left ${k.replaceAll('/', '.')} at ${v} (was ${was}): a Docker engine runs and needs it`);
      continue;
    }
    try {
      writeFileSync(`/proc/sys/${k}`, was);
      done.push(`sysctl ${k.replaceAll('/', '.')} back to ${was} (was set to ${v})`);
    } catch (e) {
      done.push(`could not put sysctl ${k} back to ${was}: ${(e as Error).message}`);
    }
  }
  for (const c of now.cgroups.filter((x) => !before.cgroups.includes(x))) {
    removeCgroupTree(c);
    done.push(`removed cgroup ${c}`);
  }
  for (const p of now.paths.filter((x) => !before.paths.includes(x))) {
    rmSync(p, { recursive: true, force: true });
    done.push(`removed ${p}`);
  }
  return done;
}

/** The host's ip_forward exception: is a Docker engine running (its own, or the lab's)? */
export function dockerRunning(): boolean {
  return readdirSync('/proc').some((p) => {
    try {
      return /^\d+$/.test(p) && readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'dockerd';
    } catch {
      return false;
    }
  });
}

function removeCgroupTree(path: string) {
  for (const sub of safeReaddir(path)) {
    const child = join(path, sub);
    if (isDir(child)) removeCgroupTree(child);
  }
  try {
    rmdirSync(path);
  } catch {
    // still has a task: reported by leftovers()
  }
}

const mounted = (m: string) => readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${m} `);
const isDir = (p: string) => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};
const safeReaddir = (p: string) => {
  try {
    return readdirSync(p);
  } catch {
    return [];
  }
};
