/**
 * The S3 artifact store against a real S3-compatible server (moto's server mode, started by the test): the
 * store contract, keys under the configured prefix, the store opened from the configuration with credentials
 * from the environment only, and what an unusable store says.
 */
import {
  GetObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { openArtifactStore } from '../../artifacts/open-artifact-store';
import { S3ArtifactStore } from '../../artifacts/s3-artifact-store';
import { parseConfig } from '../../config/load-config';
import { describeArtifactStore } from '../support/artifact-store-contract';
import { minimalRawConfig } from '../unit/helpers';
import { startS3Server, type S3TestServer } from '../helpers/s3-server';

const BUCKET = 'cdf-promotion-test';
const PREFIX = 'team-a/cdf-promotion/';
let server: S3TestServer;

beforeAll(async () => {
  server = await startS3Server();
  // Versioned, so a test can see whether an object was written again.
  await server.createBucket(BUCKET, { versioning: true });
}, 60_000);

afterAll(() => server?.stop());

async function read(client: S3Client, key: string): Promise<Buffer | undefined> {
  try {
    const out = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    return Buffer.from(await out.Body!.transformToByteArray());
  } catch (err) {
    if ((err as Error).name === 'NoSuchKey') return undefined;
    throw err;
  }
}

describeArtifactStore('s3 (moto server)', () => ({
  store: new S3ArtifactStore(server.client, { bucket: BUCKET, prefix: PREFIX, endpoint: server.endpoint }),
  rawRead: (key) => read(server.client, `${PREFIX}${key}`),
  rawWrite: async (key, body) => {
    await server.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}${key}`, Body: body }));
  },
  writeStamp: async (key) => {
    const out = await server.client.send(
      new ListObjectVersionsCommand({ Bucket: BUCKET, Prefix: `${PREFIX}${key}` }),
    );
    return (out.Versions ?? []).map((v) => v.VersionId).join(',');
  },
}));

function s3Config(artifacts: Record<string, unknown>) {
  const raw = minimalRawConfig();
  raw.artifacts = { store: 's3', endpoint: server.endpoint, forcePathStyle: true, ...artifacts };
  return parseConfig(raw, '/etc/cdf-promotion/promotion.yaml').artifacts;
}

describe('the S3 artifact store opened from the configuration', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  test('finds its credentials in the environment and keeps objects under the prefix', async () => {
    Object.assign(process.env, server.env);
    const store = openArtifactStore(s3Config({ bucket: BUCKET, prefix: 'configured' }));
    expect(store.location).toBe(`s3://${BUCKET}/configured/ at ${server.endpoint}`);
    const stored = await store.putPlan(`plan for the configured store ${Date.now()}\n`);
    expect(stored.uri).toBe(`s3://${BUCKET}/configured/${stored.key}`);
    expect((await read(server.client, `configured/${stored.key}`))?.toString('utf8')).toMatch(/^plan for/);
    expect(await store.getPlan(stored.hash)).toMatch(/^plan for the configured store/);
  });

  test('without credentials in the environment, says how to provide them', async () => {
    for (const k of Object.keys(process.env)) if (k.startsWith('AWS_')) delete process.env[k];
    // Nothing else in the default chain may answer: no shared files, no instance metadata.
    process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/credentials';
    process.env.AWS_CONFIG_FILE = '/nonexistent/config';
    process.env.AWS_EC2_METADATA_DISABLED = 'true';
    const store = openArtifactStore(s3Config({ bucket: BUCKET }));
    const err = await store.getPlan('a'.repeat(64)).catch((e: unknown) => e as Error);
    expect((err as Error).name).toBe('ArtifactStoreError');
    expect((err as Error).message).toMatch(
      /no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY \(or AWS_PROFILE\)/,
    );
  });

  test('a bucket that does not exist is named in the error', async () => {
    Object.assign(process.env, server.env);
    const store = openArtifactStore(s3Config({ bucket: 'no-such-bucket' }));
    const err = await store.putPlan('x\n').catch((e: unknown) => e as Error);
    expect((err as Error).name).toBe('ArtifactStoreError');
    expect((err as Error).message).toContain(`bucket no-such-bucket does not exist at ${server.endpoint}`);
  });
});
