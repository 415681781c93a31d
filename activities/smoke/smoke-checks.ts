/**
 * Post-deploy smoke checks, read-only, made with @cognite/sdk. A check that finds something wrong returns a
 * failed result; an API error that may go away (429, 5xx, network) is thrown as transient so the activity is
 * retried instead of reporting a false failure.
 */
import type { CogniteClient } from '@cognite/sdk';
import { ErrorType, PromotionError } from '../../contracts/errors';
import type { SmokeCheckResult } from '../../contracts/types';
import type { SmokeConfig } from '../../config/schema';

interface JobRead {
  id: number;
  status: 'Completed' | 'Failed' | 'Running' | 'Created';
  createdTime: number;
  finishedTime?: number;
  error?: string;
}

export async function runSmokeChecks(
  client: CogniteClient,
  config: SmokeConfig,
  now: () => number = Date.now,
  onProgress?: (done: number, total: number) => void,
): Promise<SmokeCheckResult[]> {
  const results: SmokeCheckResult[] = [];
  const total = config.dataModels.length + (config.minAssets > 0 ? 1 : 0) + config.transformations.length;
  const progress = (): void => onProgress?.(results.length, total);

  if (config.dataModels.length > 0) {
    const found = await call(() => client.dataModels.retrieve(config.dataModels.map((m) => ({ ...m }))));
    for (const m of config.dataModels) {
      const hit = found.items.some(
        (d) => d.space === m.space && d.externalId === m.externalId && String(d.version) === m.version,
      );
      results.push({
        name: `data model ${m.space}:${m.externalId}/${m.version}`,
        kind: 'dataModel',
        passed: hit,
        detail: hit ? 'exists' : 'not found',
      });
      progress();
    }
  }

  if (config.minAssets > 0) {
    const page = await call(() => client.assets.list({ limit: Math.min(config.minAssets, 1000) }));
    let count = page.items.length;
    if (count < config.minAssets && page.next) {
      count = (
        await call(() => client.assets.list({ limit: 1000 }).autoPagingToArray({ limit: config.minAssets }))
      ).length;
    }
    results.push({
      name: `at least ${config.minAssets} assets`,
      kind: 'assets',
      passed: count >= config.minAssets,
      detail: `retrieved ${count}`,
    });
    progress();
  }

  for (const t of config.transformations) {
    const project = encodeURIComponent(client.project);
    const { data } = await call(() =>
      client.get<{ items: JobRead[] }>(`/api/v1/projects/${project}/transformations/jobs`, {
        params: { transformationExternalId: t.externalId, limit: 100 },
      }),
    );
    results.push(judgeTransformation(t.externalId, t.windowMs, data.items, now()));
    progress();
  }
  return results;
}

/** Passes when a Completed job finished inside the window and no job failed after it. */
export function judgeTransformation(
  externalId: string,
  windowMs: number,
  jobs: JobRead[],
  now: number,
): SmokeCheckResult {
  const name = `transformation ${externalId}`;
  // The API does not document job order; sort by time ourselves.
  const finished = jobs
    .filter((j) => j.finishedTime !== undefined)
    .sort((a, b) => (b.finishedTime ?? 0) - (a.finishedTime ?? 0));
  const lastOk = finished.find((j) => j.status === 'Completed');
  if (!lastOk) return { name, kind: 'transformation', passed: false, detail: 'no completed job' };
  const ageMs = now - (lastOk.finishedTime ?? 0);
  if (ageMs > windowMs) {
    return {
      name,
      kind: 'transformation',
      passed: false,
      detail: `last completed job finished ${Math.round(ageMs / 60_000)} min ago (window ${Math.round(windowMs / 60_000)} min)`,
    };
  }
  const newerFailure = finished.find(
    (j) => j.status === 'Failed' && (j.finishedTime ?? 0) > (lastOk.finishedTime ?? 0),
  );
  if (newerFailure) {
    return {
      name,
      kind: 'transformation',
      passed: false,
      detail: `job ${newerFailure.id} failed after the last success${newerFailure.error ? `: ${newerFailure.error}` : ''}`,
    };
  }
  return {
    name,
    kind: 'transformation',
    passed: true,
    detail: `job ${lastOk.id} completed ${Math.round(ageMs / 1000)} s ago`,
  };
}

async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const status = (err as { status?: number }).status;
    const message = (err as Error).message ?? String(err);
    if (status === undefined || status === 429 || status >= 500 || status === 408) {
      throw new PromotionError(
        ErrorType.SmokeTransient,
        `CDF API error during smoke checks: ${status ?? ''} ${message}`.trim(),
      );
    }
    // 4xx other than throttling: credentials or configuration; retrying will not fix it.
    throw new PromotionError(ErrorType.Configuration, `CDF API refused a smoke check: ${status} ${message}`);
  }
}
