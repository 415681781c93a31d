import {
  promotionInputSchema,
  formatZodError,
  type PromotionInput,
  type PromotionResult,
} from '../contracts/types';
import { invalidInput } from '../contracts/errors';
import { runPipeline } from './pipeline';

/** Promotes a git ref (branch, tag or sha) of the Toolkit configuration to one environment. */
export async function promotionWorkflow(input: PromotionInput): Promise<PromotionResult> {
  const parsed = promotionInputSchema.safeParse(input);
  if (!parsed.success) throw invalidInput(formatZodError(parsed.error));
  return runPipeline({ kind: 'promotion', ...parsed.data });
}
