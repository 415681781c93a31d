/**
 * The Toolkit configuration repository. Each run gets its own detached worktree of a pinned commit; nothing
 * ever touches a shared working copy. Remote repositories are mirrored once under the data dir and fetched
 * before a ref is resolved.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { PromotionError, ErrorType } from '../../contracts/errors';
import { runCommand } from '../process/run-command';

export interface ConfigRepositoryOptions {
  /** Local path or clone URL. */
  url: string;
  /** Where a mirror of a remote repository lives. */
  mirrorDir: string;
}

export class ConfigRepository {
  constructor(private readonly options: ConfigRepositoryOptions) {}

  private get isRemote(): boolean {
    return /^[a-z][a-z0-9+.-]*:\/\//i.test(this.options.url) || /^[^/]+@[^:]+:/.test(this.options.url);
  }

  /**
   * The git dir commands run against: the local repository itself, or a bare clone of a remote one. The clone
   * holds branches and tags only (not a --mirror: that would bring pull-request refs, i.e. unreviewed commits).
   * Only resolving a ref fetches; checkouts of a pinned sha work offline.
   */
  private async repoDir(fetch: boolean): Promise<string> {
    if (!this.isRemote) {
      if (!existsSync(this.options.url)) {
        throw new PromotionError(
          ErrorType.Configuration,
          `configuration repository ${this.options.url} does not exist`,
        );
      }
      return this.options.url;
    }
    const dir = this.options.mirrorDir;
    await this.exclusive(async () => {
      if (!existsSync(path.join(dir, 'HEAD'))) {
        await mkdir(path.dirname(dir), { recursive: true });
        // Clone next to the target and rename, so a crash never leaves a half-cloned repository in place.
        const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
        await this.git(['clone', '--bare', '--', this.options.url, tmp], path.dirname(dir));
        await rename(tmp, dir);
      } else if (fetch) {
        await this.git(['fetch', '--prune', '--tags', 'origin', '+refs/heads/*:refs/heads/*'], dir);
      }
    });
    return dir;
  }

  // Activities of several runs share one clone in this worker process; git's own ref locks would make
  // concurrent fetches fail rather than wait.
  private lock: Promise<unknown> = Promise.resolve();
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.lock.then(fn, fn);
    this.lock = next.catch(() => undefined);
    return next;
  }

  /**
   * Resolves a branch, tag or sha to the full commit sha. The same rule for a local path and a remote: a name must
   * be a branch or a tag (not a pull-request ref, a remote-tracking ref or a stash), and a sha must be reachable
   * from a branch or a tag, so no unreviewed commit that happens to be in the object store can be promoted.
   */
  async resolve(ref: string): Promise<string> {
    if (ref.startsWith('-')) throw new PromotionError(ErrorType.GitRefNotFound, `invalid ref "${ref}"`);
    const dir = await this.repoDir(true);
    const notFound = (why: string) =>
      new PromotionError(
        ErrorType.GitRefNotFound,
        `ref "${ref}" does not name a commit in ${redactUrl(this.options.url)} ${why}`,
      );
    const candidates = /^[0-9a-f]{7,40}$/.test(ref)
      ? [ref, `refs/heads/${ref}`, `refs/tags/${ref}`]
      : [`refs/heads/${ref}`, `refs/tags/${ref}`];
    for (const candidate of candidates) {
      const sha = await this.revParse(dir, candidate);
      if (!sha) continue;
      if (candidate !== ref) return sha;
      // A bare sha: only commits on a branch or a tag count.
      const on = await runCommand(
        [
          'git',
          'for-each-ref',
          '--count=1',
          '--format=%(refname)',
          `--contains=${sha}`,
          'refs/heads',
          'refs/tags',
        ],
        { cwd: dir, env: gitEnv(), timeoutMs: 60_000 },
      );
      if (on.exitCode === 0 && on.stdout.trim()) return sha;
      throw notFound('on any branch or tag (only branches, tags and commits on them can be promoted)');
    }
    throw notFound('(a branch, a tag, or the sha of a commit on one)');
  }

  private async revParse(dir: string, spec: string): Promise<string | undefined> {
    const res = await runCommand(
      ['git', 'rev-parse', '--verify', '--quiet', '--end-of-options', `${spec}^{commit}`],
      { cwd: dir, env: gitEnv(), timeoutMs: 60_000 },
    );
    const sha = res.stdout.trim();
    return res.exitCode === 0 && /^[0-9a-f]{40}$/.test(sha) ? sha : undefined;
  }

  /** Whether `commit` is reachable from the head of `branch` (fetched when the ref was resolved). */
  async isOnBranch(commit: string, branch: string): Promise<boolean> {
    const repo = await this.repoDir(false);
    const res = await runCommand(
      ['git', 'merge-base', '--is-ancestor', '--end-of-options', commit, `refs/heads/${branch}`],
      { cwd: repo, env: gitEnv(), timeoutMs: 60_000 },
    );
    if (res.exitCode === 0) return true;
    if (res.exitCode === 1) return false;
    // 128: no such branch (or commit) here.
    return false;
  }

  /** Checks out `sha` into `dir` (detached). Reuses the folder if it already holds that commit. */
  async checkout(sha: string, dir: string): Promise<void> {
    const repo = await this.repoDir(false);
    if (existsSync(dir)) {
      if ((await detachedHead(dir)) === sha) return;
      await this.remove(dir);
    }
    await mkdir(path.dirname(dir), { recursive: true });
    // --force also takes a path still registered from a folder deleted by hand; remove() prunes the rest.
    await this.git(['worktree', 'add', '--force', '--detach', dir, sha], repo);
  }

  /**
   * Author emails (lower case, distinct) of the commits reachable from `commit` but not from `since`; all of
   * `commit`'s history when `since` is null or not in the repository (it came from elsewhere or was pruned).
   */
  async authorsSince(commit: string, since: string | null): Promise<{ commits: number; emails: string[] }> {
    const repo = await this.repoDir(false);
    const known =
      since !== null &&
      (
        await runCommand(['git', 'cat-file', '-e', '--end-of-options', `${since}^{commit}`], {
          cwd: repo,
          env: gitEnv(),
          timeoutMs: 30_000,
        })
      ).exitCode === 0;
    const range = known ? [`^${since}`, commit] : [commit];
    const out = await this.git(
      ['log', '--format=%aE', '--max-count=50000', '--end-of-options', ...range, '--'],
      repo,
    );
    const lines = out.split('\n').filter((l) => l.trim());
    return { commits: lines.length, emails: [...new Set(lines.map((l) => l.trim().toLowerCase()))] };
  }

  async remove(dir: string): Promise<void> {
    const repo = await this.repoDir(false).catch(() => undefined);
    const removed =
      repo &&
      (
        await runCommand(['git', 'worktree', 'remove', '--force', dir], {
          cwd: repo,
          env: gitEnv(),
          timeoutMs: 60_000,
        })
      ).exitCode === 0;
    await rm(dir, { recursive: true, force: true });
    // Only a folder git could not remove (not a worktree, half-written, gone) may leave a stale registration.
    if (repo && !removed)
      await runCommand(['git', 'worktree', 'prune'], { cwd: repo, env: gitEnv(), timeoutMs: 60_000 });
  }

  private async git(args: string[], cwd: string): Promise<string> {
    const res = await runCommand(['git', ...args], { cwd, env: gitEnv(), timeoutMs: 10 * 60_000 });
    if (res.exitCode !== 0) {
      throw new PromotionError(
        ErrorType.GitError,
        `git ${args[0]} failed (exit ${res.exitCode}): ${res.stderr.trim().slice(-500)}`,
      );
    }
    return res.stdout;
  }
}

/**
 * The commit a worktree made by checkout() has checked out, read from its files instead of starting git (a
 * process start costs a busy worker milliseconds, and every step checks its folder): `.git` names the worktree's
 * admin folder, whose HEAD holds the sha of a detached checkout. Undefined for anything else.
 */
async function detachedHead(dir: string): Promise<string | undefined> {
  try {
    const link = /^gitdir: (.+)$/m.exec(await readFile(path.join(dir, '.git'), 'utf8'));
    if (!link) return undefined;
    const head = (await readFile(path.resolve(dir, link[1]!.trim(), 'HEAD'), 'utf8')).trim();
    return /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/.test(head) ? head : undefined;
  } catch {
    return undefined;
  }
}

/** Deletes every `.env` file in the tree: the Toolkit loads them and they override the worker's environment. */
export async function removeDotEnvFiles(root: string): Promise<string[]> {
  const removed: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.name === '.git') continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.name === '.env') {
        await rm(full, { force: true });
        removed.push(path.relative(root, full));
      }
    }
  };
  if ((await stat(root)).isDirectory()) await walk(root);
  return removed;
}

function gitEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    LANG: 'C',
  };
}

/** Drops user:password@ from a URL before it goes into a message that ends up in workflow history. */
function redactUrl(url: string): string {
  return url.replace(/\/\/[^/@]*@/, '//***@');
}
