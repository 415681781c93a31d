/** Adds a commit to a test repository: on `branch` (created from `from`), with the given files written. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export function git(repo: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd: repo,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@e',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@e',
    },
  }).trim();
}

export function commitFiles(
  repo: string,
  opts: { branch: string; from: string; files: Record<string, string>; message: string },
): string {
  git(repo, 'checkout', '--quiet', '-B', opts.branch, opts.from);
  for (const [file, content] of Object.entries(opts.files)) {
    mkdirSync(path.dirname(path.join(repo, file)), { recursive: true });
    writeFileSync(path.join(repo, file), content);
  }
  git(repo, 'add', '-A');
  git(repo, 'commit', '--quiet', '-m', opts.message);
  const sha = git(repo, 'rev-parse', 'HEAD');
  git(repo, 'checkout', '--quiet', 'main');
  return sha;
}
