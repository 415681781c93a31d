/**
 * Creates the demo configuration repository: examples/toolkit-project as the first commit, then
 * examples/demo-changes copied on top as the second, on branch `main` with tags `v1` and `v2`. Each commit's
 * cdf.toml pins a Toolkit version: by default v1 pins 0.8.271 and v2 upgrades to 0.9.28, so a promotion of v2
 * and a rollback to v1 cross Toolkit versions, as real repositories do when they upgrade.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface DemoRepo {
  dir: string;
  first: string;
  second: string;
}

function examplesDir(): string {
  // Works from source (scripts/) and from the compiled dist/scripts/.
  for (const candidate of [
    path.resolve(__dirname, '..', 'examples'),
    path.resolve(__dirname, '..', '..', 'examples'),
  ]) {
    if (existsSync(path.join(candidate, 'toolkit-project'))) return candidate;
  }
  throw new Error('examples/toolkit-project not found');
}

/** Runs git in `dir` as `author` (also the committer), without the machine's git configuration. */
export function gitAs(author: { name: string; email: string }, dir: string, args: string[]): string {
  return execFileSync('git', args, {
    cwd: dir,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: author.name,
      GIT_AUTHOR_EMAIL: author.email,
      GIT_COMMITTER_NAME: author.name,
      GIT_COMMITTER_EMAIL: author.email,
      GIT_CONFIG_NOSYSTEM: '1',
    },
  }).trim();
}

const git = (dir: string, args: string[]): string =>
  gitAs({ name: 'Demo Author', email: 'demo@example.com' }, dir, args);

/** Creates the repository if `dir` does not hold one yet; returns the two commits either way. */
export const DEMO_TOOLKIT_VERSIONS = { first: '0.8.271', second: '0.9.28' } as const;

export interface DemoRepoOptions {
  changesDir?: string;
  /** The Toolkit version each commit pins in cdf.toml. */
  toolkitVersions?: { first: string; second: string };
}

/** Sets `[modules] version` in the project's cdf.toml. */
export function pinToolkitVersion(projectDir: string, version: string): void {
  const file = path.join(projectDir, 'cdf.toml');
  const text = readFileSync(file, 'utf8');
  if (!/^version\s*=/m.test(text)) throw new Error(`${file} has no [modules] version to pin`);
  writeFileSync(file, text.replace(/^version\s*=\s*"[^"]*"/m, `version = "${version}"`));
}

export function ensureDemoRepo(dir: string, options: DemoRepoOptions = {}): DemoRepo {
  const examples = examplesDir();
  const versions = options.toolkitVersions ?? DEMO_TOOLKIT_VERSIONS;
  if (!existsSync(path.join(dir, '.git'))) {
    mkdirSync(dir, { recursive: true });
    git(dir, ['init', '--quiet', '--initial-branch=main']);
    cpSync(path.join(examples, 'toolkit-project'), dir, { recursive: true });
    pinToolkitVersion(dir, versions.first);
    git(dir, ['add', '-A']);
    git(dir, ['commit', '--quiet', '-m', 'Initial CDF configuration: pump model, transformation, assets']);
    git(dir, ['tag', 'v1']);
    cpSync(options.changesDir ?? path.join(examples, 'demo-changes'), dir, { recursive: true });
    pinToolkitVersion(dir, versions.second);
    git(dir, ['add', '-A']);
    git(dir, [
      'commit',
      '--quiet',
      '-m',
      `Describe pump flow units, filter inactive pumps, rename main pump; Toolkit ${versions.second}`,
    ]);
    git(dir, ['tag', 'v2']);
  }
  return {
    dir,
    first: git(dir, ['rev-parse', 'v1^{commit}']),
    second: git(dir, ['rev-parse', 'v2^{commit}']),
  };
}

if (require.main === module) {
  const dir = path.resolve(process.argv[2] ?? 'data/local/config-repo');
  console.log(JSON.stringify(ensureDemoRepo(dir)));
}
