// Where a run's code came from: the vcs.* attributes of the checkout a run happens in, read with
// git itself. Outside a git checkout (or without git) the attributes are simply absent.
import { execFileSync } from 'node:child_process';
import { basename } from 'node:path';

function git(cwd: string, ...args: string[]): string | undefined {
  try {
    return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** A remote URL without credentials (https://user:token@host/... -> https://host/...). */
export function withoutCredentials(url: string): string {
  return url.replace(/^(\w+:\/\/)[^/@]*@/, '$1');
}

export interface Checkout {
  /** vcs.repository.name */
  repository?: string;
  /** vcs.repository.url.full (the `origin` remote, credentials removed) */
  url?: string;
  /** vcs.ref.head.name: the branch ("HEAD" when detached) */
  branch?: string;
  /** vcs.ref.head.revision: the commit's full SHA */
  revision?: string;
}

export function readCheckout(cwd: string): Checkout {
  const top = git(cwd, 'rev-parse', '--show-toplevel');
  if (!top) return {};
  const remote = git(cwd, 'remote', 'get-url', 'origin');
  return {
    repository: remote ? basename(remote).replace(/\.git$/, '') : basename(top),
    url: remote ? withoutCredentials(remote) : undefined,
    branch: git(cwd, 'rev-parse', '--abbrev-ref', 'HEAD'),
    revision: git(cwd, 'rev-parse', 'HEAD'),
  };
}
