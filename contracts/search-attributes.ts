/**
 * Search attributes the workflows upsert so runs can be filtered in the UI and with `temporal workflow list`.
 * The dev server start script and the tests register exactly these names and types.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const environmentSearchAttribute = defineSearchAttributeKey(
  'CdfEnvironment',
  SearchAttributeType.KEYWORD,
);
export const phaseSearchAttribute = defineSearchAttributeKey('PromotionPhase', SearchAttributeType.KEYWORD);
export const commitSearchAttribute = defineSearchAttributeKey('CdfCommit', SearchAttributeType.KEYWORD);
/** The run's outcome (succeeded, rejected, smoke_failed, ...), set when it ends: a closed run's status alone says
 * COMPLETED for a rejected run and a succeeded one alike. */
export const outcomeSearchAttribute = defineSearchAttributeKey(
  'PromotionOutcome',
  SearchAttributeType.KEYWORD,
);

/** `--search-attribute NAME=TYPE` pairs for `temporal server start-dev`. */
export const SEARCH_ATTRIBUTE_REGISTRATIONS: ReadonlyArray<{ name: string; type: 'Keyword' }> = [
  { name: 'CdfEnvironment', type: 'Keyword' },
  { name: 'PromotionPhase', type: 'Keyword' },
  { name: 'CdfCommit', type: 'Keyword' },
  { name: 'PromotionOutcome', type: 'Keyword' },
];
