/**
 * Which Toolkit version a checkout pins: `[modules] version` of its `cdf.toml`, which the real `cdf` compares
 * with its own version and refuses to run on a mismatch.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { TOOLKIT_VERSION_PATTERN } from '../../config/schema';
import { ErrorType, PromotionError } from '../../contracts/errors';

/** What a checkout asks for: a version, or none (no cdf.toml, or the Toolkit's "any version" 0.0.0). */
export type PinnedVersion = { version: string } | { version: null; why: string };

export async function readPinnedVersion(projectDir: string): Promise<PinnedVersion> {
  const file = path.join(projectDir, 'cdf.toml');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: null, why: 'no cdf.toml' };
    throw err;
  }
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (err) {
    throw new PromotionError(
      ErrorType.ToolkitUnavailable,
      `cdf.toml is not valid TOML: ${(err as Error).message.split('\n')[0]}`,
    );
  }
  const modules = doc.modules as Record<string, unknown> | undefined;
  const version = modules?.version;
  if (version === undefined) {
    throw new PromotionError(
      ErrorType.ToolkitUnavailable,
      'cdf.toml has no [modules] version: pin the Cognite Toolkit version the configuration is written for',
    );
  }
  if (typeof version !== 'string' || !TOOLKIT_VERSION_PATTERN.test(version)) {
    throw new PromotionError(
      ErrorType.ToolkitUnavailable,
      `cdf.toml [modules] version ${JSON.stringify(version).slice(0, 60)} is not a Toolkit version such as "0.9.28"`,
    );
  }
  // The Toolkit skips its own version check for 0.0.0.
  if (version === '0.0.0') return { version: null, why: 'cdf.toml pins 0.0.0 (any version)' };
  return { version };
}
