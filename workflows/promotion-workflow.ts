import { patched } from '@temporalio/workflow';
import { invalidInput } from '../contracts/errors';
import {
  formatZodError,
  fromRef,
  schemasFor,
  type PromotionInput,
  type PromotionResult,
} from '../contracts/types';
import { runPipeline } from './pipeline';

/**
 * Promotes a git ref (branch, tag or sha) of the Toolkit configuration to one environment, or, with `from`, the
 * commit another environment last deployed with passing smoke tests.
 */
export async function promotionWorkflow(input: PromotionInput): Promise<PromotionResult> {
  // Runs started before names were normalized replay with the rules they were started with.
  const names = patched('normalized-person-names') ? 'normalized' : 'legacy';
  const parsed = schemasFor(names).promotionInput.safeParse(input);
  if (!parsed.success) throw invalidInput(formatZodError(parsed.error));
  const { ref, from, ...rest } = parsed.data;
  return runPipeline(
    from !== undefined
      ? { kind: 'promotion', ref: fromRef(from), from, ...rest }
      : { kind: 'promotion', ref: ref!, ...rest },
    names,
  );
}
