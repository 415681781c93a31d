/** Shared builders for the unit tests (no production code here). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseConfig } from '../../config/load-config';
import { type RawConfig, type WorkerConfig } from '../../config/schema';

export function tempDir(prefix = 'cdf-unit-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A small configuration: one environment, token flow, one approver, toolkit block present but empty. */
export function minimalRawConfig(): Record<string, any> {
  return {
    repository: { url: 'https://example.invalid/config.git' },
    toolkit: {},
    environments: {
      prod: {
        cdfProject: 'acme-prod',
        baseUrl: 'https://api.example.invalid',
        credentials: { flow: 'token', tokenEnv: 'CDF_TOKEN_PROD' },
        approval: { approvers: ['alice', 'bob'] },
      },
    },
  };
}

export function buildConfig(raw: Record<string, any>, source = '/etc/cdf/promotion.yaml'): WorkerConfig {
  return parseConfig(raw as RawConfig, source);
}
