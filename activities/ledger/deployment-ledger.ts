/**
 * What this service deployed, per environment: one JSON line per successful apply with the commit and the
 * resources its build defined. A rollback reads the last entry to know which resources the deployed commit
 * has that the rollback target lacks (`cdf deploy` never deletes those: they are leftovers).
 */
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { LeftoverResource } from '../../contracts/types';

export interface LedgerEntry {
  at: string;
  environment: string;
  commit: string;
  workflowId: string;
  runId: string;
  kind: 'promotion' | 'rollback' | 'leftover-removal';
  /** The Cognite Toolkit version that deployed (absent in entries written before versions were recorded). */
  toolkitVersion?: string | null;
  /** Null when the profile has no build step to tell which resources a commit defines. */
  resources: LeftoverResource[] | null;
}

export class DeploymentLedger {
  constructor(readonly dir: string) {}

  private file(environment: string): string {
    return path.join(this.dir, `${environment}.jsonl`);
  }

  async append(entry: LedgerEntry): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    // One write per line: appends of a few KB are atomic enough on local filesystems for a single writer.
    await appendFile(this.file(entry.environment), `${JSON.stringify(entry)}\n`, 'utf8');
  }

  /** Every readable line, oldest first (a torn line is skipped). */
  async all(environment: string): Promise<LedgerEntry[]> {
    const file = this.file(environment);
    if (!existsSync(file)) return [];
    return (await readFile(file, 'utf8'))
      .split('\n')
      .filter((l) => l.trim())
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as LedgerEntry];
        } catch {
          return [];
        }
      });
  }

  async last(environment: string): Promise<LedgerEntry | undefined> {
    const file = this.file(environment);
    if (!existsSync(file)) return undefined;
    const lines = (await readFile(file, 'utf8')).split('\n').filter((l) => l.trim());
    for (let i = lines.length - 1; i >= 0; i--) {
      try {
        return JSON.parse(lines[i]!) as LedgerEntry;
      } catch {
        // A torn last line (crash mid-write) is skipped; the entry before it still describes CDF.
      }
    }
    return undefined;
  }
}

/** Stable identity of a resource across builds: its kind and identifier fields in key order. */
export function resourceKey(kind: string, identifier: Record<string, unknown>): string {
  const id = Object.keys(identifier)
    .sort()
    .map((k) => `${k}=${String(identifier[k])}`)
    .join(',');
  return `${kind}:${id}`;
}

export function toLeftoverResource(kind: string, identifier: Record<string, unknown>): LeftoverResource {
  return { kind, id: resourceKey(kind, identifier).slice(kind.length + 1) };
}

/** The ledger line for something a run just did to an environment, stamped now. */
export function ledgerEntry(
  fields: Omit<LedgerEntry, 'at' | 'workflowId' | 'runId'> & { run: { workflowId: string; runId: string } },
): LedgerEntry {
  const { run, ...rest } = fields;
  return { at: new Date().toISOString(), ...rest, workflowId: run.workflowId, runId: run.runId };
}

/** What a build defines, as ledger resources. */
export function resourcesOfBuild(report: {
  resources: Array<{ kind: string; identifier: Record<string, unknown> }>;
}): LeftoverResource[] {
  return report.resources.map((r) => toLeftoverResource(r.kind, r.identifier));
}
