/**
 * Demo signing keys for the local stack, whose `prod` is a `signed` environment: one ed25519 key per demo person,
 * made by `ssh-keygen` (no passphrase: demo only), and the allowed_signers file config/local.yaml points at.
 * Made once; later runs reuse them, so runs waiting for approval stay approvable.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const DEMO_PEOPLE = ['alice', 'bob', 'carol'] as const;
export type DemoPerson = (typeof DEMO_PEOPLE)[number];

export interface DemoKeys {
  dir: string;
  allowedSigners: string;
  /** Private key file per person, for `--sign-with`. */
  keyOf(person: DemoPerson): string;
}

export function ensureDemoKeys(dir: string): DemoKeys {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const lines: string[] = [];
  for (const person of DEMO_PEOPLE) {
    const key = path.join(dir, person);
    if (!existsSync(key)) {
      execFileSync('ssh-keygen', [
        '-q',
        '-t',
        'ed25519',
        '-N',
        '',
        '-C',
        `${person}@cdf-promote-demo`,
        '-f',
        key,
      ]);
    }
    lines.push(`${person} ${readFileSync(`${key}.pub`, 'utf8').trim()}`);
  }
  const allowedSigners = path.join(dir, 'allowed_signers');
  writeFileSync(
    allowedSigners,
    `# Demo keys made by npm start (scripts/demo-keys.ts)\n${lines.join('\n')}\n`,
  );
  return { dir, allowedSigners, keyOf: (person) => path.join(dir, person) };
}
