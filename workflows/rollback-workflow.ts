import {
  rollbackInputSchema,
  formatZodError,
  type PromotionResult,
  type RollbackInput,
} from '../contracts/types';
import { invalidInput } from '../contracts/errors';
import { runPipeline } from './pipeline';

/**
 * Re-applies the configuration of an older commit: the same pipeline, pinned to that commit. Approval is
 * required unless the environment's settings let rollbacks skip it.
 */
export async function rollbackWorkflow(input: RollbackInput): Promise<PromotionResult> {
  const parsed = rollbackInputSchema.safeParse(input);
  if (!parsed.success) throw invalidInput(formatZodError(parsed.error));
  const { commit, ...rest } = parsed.data;
  return runPipeline({ kind: 'rollback', ref: commit, ...rest });
}
