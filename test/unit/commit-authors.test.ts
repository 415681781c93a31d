/**
 * Who wrote what a run brings to an environment: the real git history of a repository, from the commit the
 * ledger says the environment runs, up to the pinned commit, matched to people by their configured emails.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { ConfigRepository } from '../../activities/git/config-repository';
import { DeploymentLedger } from '../../activities/ledger/deployment-ledger';
import { createFindCommitAuthors } from '../../activities/steps/find-commit-authors';
import { tempDir } from './helpers';

function commitAs(repo: string, author: string, file: string): string {
  writeFileSync(path.join(repo, file), `${file}\n`);
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: author,
    GIT_AUTHOR_EMAIL: `${author}@Example.com`,
    GIT_COMMITTER_NAME: 'ci',
    GIT_COMMITTER_EMAIL: 'ci@example.com',
  };
  execFileSync('git', ['add', '-A'], { cwd: repo, env });
  execFileSync('git', ['commit', '-q', '-m', file], { cwd: repo, env });
  return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();
}

test('authors since the deployed commit, matched by email; all history when nothing was deployed', async () => {
  const tmp = tempDir();
  const repo = path.join(tmp.dir, 'repo');
  execFileSync('git', ['init', '-q', '-b', 'main', repo]);
  const deployed = commitAs(repo, 'dave', 'a.yaml');
  commitAs(repo, 'bob', 'b.yaml');
  const head = commitAs(repo, 'erin', 'c.yaml');

  const ledger = new DeploymentLedger(path.join(tmp.dir, 'ledger'));
  const findAuthors = createFindCommitAuthors({
    config: {
      people: {
        bob: { keys: [], emails: ['bob@example.com'] },
        dave: { keys: [], emails: ['dave@example.com'] },
      },
    },
    repository: new ConfigRepository({ url: repo, mirrorDir: path.join(tmp.dir, 'mirror') }),
    ledger,
    logger: pino({ level: 'silent' }),
  });
  const req = { run: { workflowId: 'w', runId: 'r' }, environment: 'prod', commit: head };
  const find = (r: typeof req) => new MockActivityEnvironment().run(findAuthors, r);

  // Nothing deployed yet: every author of the history counts (dave wrote the first commit).
  expect(await find(req)).toEqual({
    since: null,
    commits: 3,
    people: ['bob', 'dave'],
    unregistered: ['erin@example.com'],
  });

  await ledger.append({
    at: '',
    environment: 'prod',
    commit: deployed,
    workflowId: 'w0',
    runId: 'r0',
    kind: 'promotion',
    resources: null,
  });
  expect(await find(req)).toEqual({
    since: deployed,
    commits: 2,
    people: ['bob'],
    unregistered: ['erin@example.com'],
  });
  tmp.cleanup();
});
