/**
 * Real SSH keys and signatures for tests: `ssh-keygen` makes the keys and signs, exactly as a person would with
 * `cdf-promote --sign-with` or by hand. Nothing here computes a signature itself.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SIGNATURE_NAMESPACE } from '../../contracts/signed-statement';

export interface TestKey {
  name: string;
  privateKey: string;
  publicKeyFile: string;
  /** "ssh-ed25519 AAAA... name@test", as in a configuration or allowed_signers file. */
  publicKey: string;
  /** As `ssh-keygen -l` prints it. */
  fingerprint: string;
}

export function keyDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'cdf-promote-keys-'));
}

export function makeKey(dir: string, name: string): TestKey {
  const privateKey = path.join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${name}@test`, '-f', privateKey]);
  const publicKey = readFileSync(`${privateKey}.pub`, 'utf8').trim();
  const fingerprint = execFileSync('ssh-keygen', ['-l', '-f', `${privateKey}.pub`], {
    encoding: 'utf8',
  }).split(' ')[1]!;
  return { name, privateKey, publicKeyFile: `${privateKey}.pub`, publicKey, fingerprint };
}

/** Signs `text` with `ssh-keygen -Y sign` (namespace ours unless given). */
export function sshSign(text: string, key: TestKey, namespace = SIGNATURE_NAMESPACE): string {
  return execFileSync('ssh-keygen', ['-Y', 'sign', '-q', '-n', namespace, '-f', key.privateKey], {
    input: text,
    encoding: 'utf8',
  }).trim();
}

/** `ssh-keygen -Y verify` with an allowed_signers file: the reference a recorded statement can be checked with. */
export function sshVerify(text: string, signature: string, person: string, key: TestKey): boolean {
  const dir = keyDir();
  writeFileSync(path.join(dir, 'allowed_signers'), `${person} ${key.publicKey}\n`);
  writeFileSync(path.join(dir, 'sig'), `${signature}\n`);
  try {
    execFileSync(
      'ssh-keygen',
      [
        '-Y',
        'verify',
        '-f',
        path.join(dir, 'allowed_signers'),
        '-I',
        person,
        '-n',
        SIGNATURE_NAMESPACE,
        '-s',
        path.join(dir, 'sig'),
      ],
      { input: text, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    return true;
  } catch {
    return false;
  }
}
