/**
 * The configuration repository as the worker uses it: a remote URL (here file://) is cloned bare with branches
 * and tags only, refs are resolved after a fetch, and pinned commits check out into per-run worktrees.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigRepository, removeDotEnvFiles } from '../../activities/git/config-repository';
import { git } from '../helpers/git';

let dir: string;
let origin: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'config-repo-test-'));
  origin = path.join(dir, 'origin');
  execFileSync('git', ['init', '--quiet', '--initial-branch=main', origin]);
  writeFileSync(path.join(origin, 'config.yaml'), 'v: 1\n');
  git(origin, 'add', '-A');
  git(origin, 'commit', '--quiet', '-m', 'one');
  git(origin, 'tag', 'v1');
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('a remote repository is cloned once, fetched on resolve, and checked out per run', async () => {
  const repo = new ConfigRepository({
    url: `file://${origin}`,
    mirrorDir: path.join(dir, 'data', 'mirror.git'),
  });
  const v1 = await repo.resolve('v1');
  expect(v1).toBe(git(origin, 'rev-parse', 'v1'));

  // A new commit upstream is seen by the next resolve (fetch), not by a stale clone.
  writeFileSync(path.join(origin, 'config.yaml'), 'v: 2\n');
  git(origin, 'commit', '--quiet', '-am', 'two');
  expect(await repo.resolve('main')).toBe(git(origin, 'rev-parse', 'main'));

  const worktree = path.join(dir, 'runs', 'r1', 'checkout');
  await repo.checkout(v1, worktree);
  expect(readFileSync(path.join(worktree, 'config.yaml'), 'utf8')).toBe('v: 1\n');
  await repo.remove(worktree);
  expect(existsSync(worktree)).toBe(false);
});

test('a run folder is reused at its commit, replaced at another, and checked out again after being deleted by hand', async () => {
  const repo = new ConfigRepository({ url: origin, mirrorDir: path.join(dir, 'data', 'mirror.git') });
  const v1 = await repo.resolve('v1');
  writeFileSync(path.join(origin, 'config.yaml'), 'v: 2\n');
  git(origin, 'commit', '--quiet', '-am', 'two');
  const v2 = await repo.resolve('main');
  const worktree = path.join(dir, 'runs', 'r1', 'checkout');

  await repo.checkout(v1, worktree);
  // A later step of the same run finds its folder as it left it: not checked out again.
  writeFileSync(path.join(worktree, 'step-output'), 'kept');
  await repo.checkout(v1, worktree);
  expect(readFileSync(path.join(worktree, 'step-output'), 'utf8')).toBe('kept');

  await repo.checkout(v2, worktree);
  expect(existsSync(path.join(worktree, 'step-output'))).toBe(false);
  expect(readFileSync(path.join(worktree, 'config.yaml'), 'utf8')).toBe('v: 2\n');
  expect(git(worktree, 'rev-parse', 'HEAD')).toBe(v2);

  // Deleted without git: the stale registration does not block the next checkout of the same folder.
  rmSync(worktree, { recursive: true, force: true });
  await repo.checkout(v1, worktree);
  expect(readFileSync(path.join(worktree, 'config.yaml'), 'utf8')).toBe('v: 1\n');

  // A folder that is not a worktree at all is replaced too.
  await repo.remove(worktree);
  mkdirSync(worktree, { recursive: true });
  writeFileSync(path.join(worktree, 'junk'), 'x');
  await repo.checkout(v2, worktree);
  expect(existsSync(path.join(worktree, 'junk'))).toBe(false);
  expect(git(worktree, 'rev-parse', 'HEAD')).toBe(v2);
  await repo.remove(worktree);
  expect(git(origin, 'worktree', 'list', '--porcelain')).not.toContain(worktree);
});

test('pull-request refs of the remote are not reachable: only branches and tags are fetched', async () => {
  git(origin, 'checkout', '--quiet', '-b', 'pr-branch');
  writeFileSync(path.join(origin, 'config.yaml'), 'v: unreviewed\n');
  git(origin, 'commit', '--quiet', '-am', 'unreviewed');
  const unreviewed = git(origin, 'rev-parse', 'HEAD');
  git(origin, 'update-ref', 'refs/pull/7/head', unreviewed);
  git(origin, 'checkout', '--quiet', 'main');
  git(origin, 'branch', '-D', 'pr-branch');

  const repo = new ConfigRepository({
    url: `file://${origin}`,
    mirrorDir: path.join(dir, 'data', 'mirror.git'),
  });
  await expect(repo.resolve('pull/7/head')).rejects.toThrow(/does not name a commit/);
  await expect(repo.resolve(unreviewed)).rejects.toThrow(/does not name a commit/);
});

test('credentials embedded in the repository URL do not appear in error messages', async () => {
  const repo = new ConfigRepository({ url: 'file:///nonexistent', mirrorDir: path.join(dir, 'm.git') });
  const withUser = new ConfigRepository({
    url: `file://user:s3cret@localhost${origin}`,
    mirrorDir: path.join(dir, 'm2.git'),
  });
  await expect(repo.resolve('main')).rejects.toThrow();
  const err = await withUser.resolve('main').catch((e: Error) => e);
  expect(String(err)).not.toContain('s3cret');
});

test('.env files anywhere in a checkout are removed (the Toolkit would load them)', async () => {
  writeFileSync(path.join(origin, '.env'), 'CDF_PROJECT=somewhere-else\n');
  execFileSync('mkdir', ['-p', path.join(origin, 'org')]);
  writeFileSync(path.join(origin, 'org', '.env'), 'CDF_URL=http://elsewhere\n');
  git(origin, 'add', '-A');
  git(origin, 'commit', '--quiet', '-m', 'env files');
  const repo = new ConfigRepository({ url: origin, mirrorDir: path.join(dir, 'unused') });
  const worktree = path.join(dir, 'runs', 'r2', 'checkout');
  await repo.checkout(await repo.resolve('main'), worktree);
  expect((await removeDotEnvFiles(worktree)).sort()).toEqual(['.env', 'org/.env']);
  expect(existsSync(path.join(worktree, '.env'))).toBe(false);
});

test('a local-path repository follows the same rule: branches, tags and commits on them only', async () => {
  git(origin, 'checkout', '--quiet', '-b', 'pr-branch');
  writeFileSync(path.join(origin, 'config.yaml'), 'v: unreviewed\n');
  git(origin, 'commit', '--quiet', '-am', 'unreviewed');
  const unreviewed = git(origin, 'rev-parse', 'HEAD');
  git(origin, 'update-ref', 'refs/pull/7/head', unreviewed);
  git(origin, 'update-ref', 'refs/remotes/origin/feature', unreviewed);
  git(origin, 'checkout', '--quiet', 'main');
  git(origin, 'branch', '-D', 'pr-branch');

  const repo = new ConfigRepository({ url: origin, mirrorDir: path.join(dir, 'unused') });
  const v1 = git(origin, 'rev-parse', 'v1');
  expect(await repo.resolve('main')).toBe(v1);
  expect(await repo.resolve('v1')).toBe(v1);
  expect(await repo.resolve(v1.slice(0, 10))).toBe(v1);
  await expect(repo.resolve('pull/7/head')).rejects.toThrow(/does not name a commit/);
  await expect(repo.resolve('refs/pull/7/head')).rejects.toThrow(/does not name a commit/);
  await expect(repo.resolve('origin/feature')).rejects.toThrow(/does not name a commit/);
  await expect(repo.resolve(unreviewed)).rejects.toThrow(/not name a commit .* on any branch or tag/);
  await expect(repo.resolve(unreviewed.slice(0, 12))).rejects.toThrow(/on any branch or tag/);
});
