/**
 * A real S3-compatible server for tests: moto's server mode (`moto_server`, PyPI `moto[server]`, pinned in
 * scripts/versions.env and installed into .venv by scripts/ensure-tools.sh), on a free loopback port. It keeps
 * everything in memory; stop() ends it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { CreateBucketCommand, PutBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3';

const ROOT = path.resolve(__dirname, '..', '..');
// The SDK's notice that releases after early 2027 need Node 22 is for the project, not for every test's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

/** moto accepts any keys; these only have to be present, as the SDK signs every request. */
export const S3_TEST_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };
export const S3_TEST_REGION = 'us-east-1';

export function motoServerPath(): string {
  if (process.env.MOTO_SERVER_PATH) return process.env.MOTO_SERVER_PATH;
  const toolsEnv = path.join(ROOT, 'data', 'tools.env');
  if (existsSync(toolsEnv)) {
    const match = /^MOTO_SERVER_PATH=(.+)$/m.exec(readFileSync(toolsEnv, 'utf8'));
    if (match?.[1] && existsSync(match[1])) return match[1];
  }
  const venv = path.join(ROOT, '.venv', 'bin', 'moto_server');
  if (existsSync(venv)) return venv;
  throw new Error(
    'moto_server not found: run `bash scripts/ensure-tools.sh` (npm test does) or set MOTO_SERVER_PATH',
  );
}

export interface S3TestServer {
  endpoint: string;
  /** A client with the test credentials, for set-up and for looking at objects behind a store's back. */
  client: S3Client;
  /** The environment a process needs to reach the server through the SDK's default credential chain. */
  env: Record<string, string>;
  createBucket(name: string, options?: { versioning?: boolean }): Promise<void>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function waitUntilUp(endpoint: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`moto_server exited (${child.exitCode ?? child.signalCode}):\n${output()}`);
    try {
      if ((await fetch(`${endpoint}/moto-api/`)).ok) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`moto_server did not answer at ${endpoint}:\n${output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startS3Server(): Promise<S3TestServer> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(motoServerPath(), ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (d: Buffer): void => {
    output = (output + d.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  try {
    await waitUntilUp(endpoint, child, () => output);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const client = new S3Client({
    endpoint,
    region: S3_TEST_REGION,
    forcePathStyle: true,
    credentials: S3_TEST_CREDENTIALS,
  });
  return {
    endpoint,
    client,
    env: {
      AWS_ACCESS_KEY_ID: S3_TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3_TEST_CREDENTIALS.secretAccessKey,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    async createBucket(name, options = {}) {
      await client.send(new CreateBucketCommand({ Bucket: name }));
      if (options.versioning)
        await client.send(
          new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }),
        );
    },
    async stop() {
      client.destroy();
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 5_000)))]);
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
