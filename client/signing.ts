/**
 * `--sign-with <key>`: signs a statement with `ssh-keygen -Y sign`, so the private key never passes through this
 * process. The key is a private key file (ssh-keygen asks for its passphrase on the terminal), or a public key
 * file whose private key is loaded in ssh-agent (SSH_AUTH_SOCK).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import { statementQuery } from '../contracts/messages';
import {
  SIGNATURE_NAMESPACE,
  renderStatement,
  type DecisionAction,
  type RequestStatement,
} from '../contracts/signed-statement';
import { CliError, UsageError } from './errors';

const SIGN_TIMEOUT_MS = 120_000;

export interface Signed {
  signature: string;
  signedAt: string;
}

/** The signing time: whole seconds, as a person would type it when signing by hand. */
export function signingTime(now = Date.now()): string {
  return new Date(Math.floor(now / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export async function signStatement(statement: string, keyFile: string): Promise<string> {
  if (!existsSync(keyFile)) throw new UsageError(`invalid --sign-with: no such key file ${keyFile}`);
  // An argv array, never a shell string; the statement goes in on stdin and the signature comes out on stdout.
  const child = spawn('ssh-keygen', ['-Y', 'sign', '-q', '-n', SIGNATURE_NAMESPACE, '-f', keyFile], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGTERM'), SIGN_TIMEOUT_MS);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', (err: NodeJS.ErrnoException) =>
      reject(
        new CliError(
          err.code === 'ENOENT'
            ? '--sign-with needs ssh-keygen (OpenSSH 8.1 or later) on the PATH'
            : `could not run ssh-keygen: ${err.message}`,
        ),
      ),
    );
    child.on('close', resolve);
    child.stdin.end(statement);
  }).finally(() => clearTimeout(timer));
  if (code !== 0 || !stdout.includes('-----BEGIN SSH SIGNATURE-----')) {
    const why = stderr.trim().split('\n').slice(-2).join('; ').slice(0, 300);
    throw new CliError(`ssh-keygen could not sign with ${keyFile}${why ? `: ${why}` : ''}`);
  }
  return stdout.trim();
}

/** Signs a decision on a run: the run itself renders the statement, so both sides sign and check the same bytes. */
export async function signDecision(
  client: Client,
  workflowId: string,
  action: DecisionAction,
  person: string,
  keyFile: string,
): Promise<Signed> {
  const signedAt = signingTime();
  const statement = await client.workflow
    .getHandle(workflowId)
    .query(statementQuery, { action, person, signedAt });
  return { signedAt, signature: await signStatement(statement, keyFile) };
}

/** Signs a start or rollback request: the statement names the workflow id the run will have. */
export async function signRequest(req: Omit<RequestStatement, 'time'>, keyFile: string): Promise<Signed> {
  const signedAt = signingTime();
  return { signedAt, signature: await signStatement(renderStatement({ ...req, time: signedAt }), keyFile) };
}

export const SIGN_WITH_HELP =
  'sign with this SSH key (required in signed environments): a private key file, or the .pub of a key in ssh-agent';
