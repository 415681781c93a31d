import { patched } from '@temporalio/workflow';
import { invalidInput } from '../contracts/errors';
import {
  LAST_KNOWN_GOOD_REF,
  formatZodError,
  schemasFor,
  type PromotionResult,
  type RollbackInput,
} from '../contracts/types';
import { runPipeline } from './pipeline';

/**
 * Re-applies the configuration of an older commit: the same pipeline, pinned to that commit. Approval is
 * required unless the environment's settings let rollbacks skip it.
 */
export async function rollbackWorkflow(input: RollbackInput): Promise<PromotionResult> {
  // Runs started before names were normalized replay with the rules they were started with.
  const names = patched('normalized-person-names') ? 'normalized' : 'legacy';
  const parsed = schemasFor(names).rollbackInput.safeParse(input);
  if (!parsed.success) throw invalidInput(formatZodError(parsed.error));
  const { commit, ...rest } = parsed.data;
  return runPipeline(
    commit !== undefined
      ? { kind: 'rollback', ref: commit, ...rest }
      : { kind: 'rollback', ref: LAST_KNOWN_GOOD_REF, toLastKnownGood: true, ...rest },
    names,
  );
}
