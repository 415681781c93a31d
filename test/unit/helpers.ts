/** Shared builders for the unit tests (no production code here). */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseConfig } from '../../config/load-config';
import { ConfigurationError } from '../../contracts/errors';
import { type RawConfig, type WorkerConfig } from '../../config/schema';
import { ensureDemoKeys } from '../../scripts/demo-keys';

const REPO_ROOT = path.resolve(__dirname, '..', '..');

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

/**
 * The path a repository example config can be loaded from as if it sat in the repository, in a temporary copy
 * of its folder layout with the demo keys its allowedSignersFile names (made by `npm start` in a real checkout).
 */
export function exampleConfigWithDemoKeys(file: string): string {
  const root = mkdtempSync(path.join(tmpdir(), 'cdf-example-config-'));
  const copy = path.join(root, file);
  mkdirSync(path.dirname(copy), { recursive: true });
  const text = readFileSync(path.join(REPO_ROOT, file), 'utf8');
  writeFileSync(copy, text);
  const signers = /^allowedSignersFile:\s*(\S+)/m.exec(text)?.[1];
  if (signers) ensureDemoKeys(path.dirname(path.resolve(path.dirname(copy), signers)));
  return copy;
}

/** Parses `raw` expecting a ConfigurationError whose message holds every fragment; returns the error. */
export function expectConfigError(raw: unknown, ...fragments: string[]): ConfigurationError {
  let caught: unknown;
  try {
    parseConfig(raw, '/srv/promo/config.yaml');
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ConfigurationError);
  const err = caught as ConfigurationError;
  expect(err.type).toBe('ConfigurationError');
  for (const f of fragments) expect(err.message).toContain(f);
  return err;
}
