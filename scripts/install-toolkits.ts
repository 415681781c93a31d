/**
 * Prebuilds Toolkit versions into a Toolkit cache with the worker's own installer, exactly as a worker installs
 * a version on demand: `node --import tsx scripts/install-toolkits.ts [--cache DIR] 0.8.271 0.9.28`.
 * Versions already in the cache are left alone. Used by scripts/ensure-tools.sh (cache data/toolkits).
 */
import path from 'node:path';
import { ToolkitInstaller } from '../activities/toolkit/toolkit-installer';
import { TOOLKIT_INSTALL_DEFAULTS } from '../config/defaults';
import { TOOLKIT_VERSION_PATTERN } from '../config/schema';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const at = args.indexOf('--cache');
  const cacheDir = path.resolve(
    at >= 0 ? args.splice(at, 2)[1]! : path.join(__dirname, '..', 'data', 'toolkits'),
  );
  const versions = args.flatMap((a) => a.split(/\s+/)).filter(Boolean);
  const bad = versions.filter((v) => !TOOLKIT_VERSION_PATTERN.test(v));
  if (versions.length === 0 || bad.length)
    throw new Error(`usage: install-toolkits [--cache DIR] VERSION...; bad: ${bad.join(' ')}`);
  const installer = new ToolkitInstaller({
    ...TOOLKIT_INSTALL_DEFAULTS,
    python: process.env.PYTHON ?? TOOLKIT_INSTALL_DEFAULTS.python,
    timeout: TOOLKIT_INSTALL_DEFAULTS.timeoutMs,
    cacheDir,
    // Prebuilt versions are never evicted by this script.
    maxVersions: Math.max(TOOLKIT_INSTALL_DEFAULTS.maxVersions, versions.length),
  });
  for (const version of versions) {
    if (await installer.cached(version)) continue;
    process.stdout.write(`==> installing cognite-toolkit==${version} into ${path.join(cacheDir, version)}\n`);
    await installer.install(version, (line) => process.stdout.write(`    ${line}\n`));
  }
}

main().catch((err) => {
  process.stderr.write(`install-toolkits failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
