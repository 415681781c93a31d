import { patched } from '@temporalio/workflow';
import { invalidInput } from '../contracts/errors';
import { formatZodError, schemasFor, type PromotionInput, type PromotionResult } from '../contracts/types';
import { runPipeline } from './pipeline';

/** Promotes a git ref (branch, tag or sha) of the Toolkit configuration to one environment. */
export async function promotionWorkflow(input: PromotionInput): Promise<PromotionResult> {
  // Runs started before names were normalized replay with the rules they were started with.
  const names = patched('normalized-person-names') ? 'normalized' : 'legacy';
  const parsed = schemasFor(names).promotionInput.safeParse(input);
  if (!parsed.success) throw invalidInput(formatZodError(parsed.error));
  return runPipeline({ kind: 'promotion', ...parsed.data }, names);
}
