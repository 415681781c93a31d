import type { Logger } from 'pino';
import type { CommitAuthorsRequest } from '../../contracts/activity-types';
import type { CommitAuthors } from '../../contracts/types';
import type { WorkerConfig } from '../../config/schema';
import { activityLogger } from '../activity-context';
import type { ConfigRepository } from '../git/config-repository';
import type { DeploymentLedger } from '../ledger/deployment-ledger';

/** Unregistered emails kept for the status: enough to see who is missing from `people`, not a directory. */
const MAX_UNREGISTERED = 20;

/**
 * Who wrote what a run would bring to the environment: the authors of the commits after the one the environment
 * last deployed, up to the pinned commit, matched to people by the emails the configuration lists for them.
 */
export function createFindCommitAuthors(deps: {
  config: Pick<WorkerConfig, 'people'>;
  repository: ConfigRepository;
  ledger: Pick<DeploymentLedger, 'last'>;
  logger: Logger;
}) {
  return async function findCommitAuthors(req: CommitAuthorsRequest): Promise<CommitAuthors> {
    const since = (await deps.ledger.last(req.environment))?.commit ?? null;
    const { commits, emails } = await deps.repository.authorsSince(req.commit, since);
    const byEmail = new Map<string, string>();
    for (const [name, person] of Object.entries(deps.config.people)) {
      byEmail.set(name, name); // a handle that is an email matches that email
      for (const email of person.emails) byEmail.set(email, name);
    }
    const people = new Set<string>();
    const unregistered: string[] = [];
    for (const email of emails) {
      const person = byEmail.get(email);
      if (person) people.add(person);
      else if (unregistered.length < MAX_UNREGISTERED) unregistered.push(email.slice(0, 100));
    }
    const result = { since, commits, people: [...people].sort(), unregistered };
    activityLogger(deps.logger).info(
      { since, commits, authors: result.people.length },
      'found the authors of the promoted commits',
    );
    return result;
  };
}
