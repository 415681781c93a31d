/**
 * Headless Chromium for the Temporal UI test: the Debian `chromium` that scripts/ensure-tools.sh installs (or
 * CHROMIUM_PATH), driven by playwright-core. Playwright's own browser download does not work on closed networks,
 * so the browser is always an existing executable.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

const ROOT = path.resolve(__dirname, '..', '..');

/** CHROMIUM_PATH, else what scripts/ensure-tools.sh wrote to data/tools.env, else /usr/bin/chromium; or none. */
export function chromiumPath(): string | undefined {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : undefined;
  const toolsEnv = path.join(ROOT, 'data', 'tools.env');
  if (existsSync(toolsEnv)) {
    const match = /^CHROMIUM_PATH=(.+)$/m.exec(readFileSync(toolsEnv, 'utf8'));
    if (match?.[1] && existsSync(match[1])) return match[1];
  }
  return ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
}

/**
 * Flags for a closed network: without the background-networking ones Chromium keeps trying to reach Google's
 * hosts (refused, many at a time), and a fresh profile each start keeps runs independent.
 */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** A headless Chromium with a fresh profile directory (removed on close), at the given viewport. */
export async function launchChromium(
  executablePath: string,
  viewport = { width: 1440, height: 1000 },
): Promise<Browser> {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'cdf-promo-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A loopback port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
