/**
 * The artifact store in a folder: the store contract, the layout `<dataDir>/artifacts/plans` has always had (so
 * plans written before the artifact store stay readable), and writes that leave no temporary files.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FilesystemArtifactStore } from '../../artifacts/filesystem-artifact-store';
import { openArtifactStore } from '../../artifacts/open-artifact-store';
import { dataLayout } from '../../config/data-layout';
import { describeArtifactStore } from '../support/artifact-store-contract';
import { buildConfig, minimalRawConfig, tempDir } from './helpers';

const tmp = tempDir('cdf-artifacts-');
afterAll(() => tmp.cleanup());

const file = (root: string, key: string): string => path.join(root, ...key.split('/'));

describeArtifactStore('filesystem', () => {
  const root = path.join(tmp.dir, 'contract');
  return {
    store: new FilesystemArtifactStore(root),
    rawRead: async (key) => {
      try {
        return readFileSync(file(root, key));
      } catch {
        return undefined;
      }
    },
    rawWrite: async (key, body) => writeFileSync(file(root, key), body),
    writeStamp: async (key) => {
      const st = statSync(file(root, key));
      return `${st.ino}:${st.mtimeMs}`;
    },
  };
});

describe('the filesystem artifact store', () => {
  test('is <dataDir>/artifacts by default and reads plans stored there before it existed', async () => {
    const raw = minimalRawConfig();
    raw.dataDir = path.join(tmp.dir, 'old-data');
    const config = buildConfig(raw, path.join(tmp.dir, 'promotion.yaml'));
    expect(config.artifacts).toMatchObject({
      store: 'filesystem',
      dir: dataLayout(config.dataDir).artifacts,
    });
    // Written the way PlanStore wrote plans: <dataDir>/artifacts/plans/<xx>/<sha256>.txt, nothing else.
    const text = 'Plan made with Cognite Toolkit 0.9.28\nDeploy summary (dry run)\n';
    const hash = createHash('sha256').update(text, 'utf8').digest('hex');
    const dir = path.join(config.dataDir, 'artifacts', 'plans', hash.slice(0, 2));
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `${hash}.txt`), text);
    expect(await openArtifactStore(config.artifacts).getPlan(hash)).toBe(text);
  });

  test('artifacts.dir puts the store in a folder of its own (one several workers share)', async () => {
    const raw = minimalRawConfig();
    raw.artifacts = { dir: 'shared/artifacts' };
    const config = buildConfig(raw, path.join(tmp.dir, 'etc', 'promotion.yaml'));
    expect(config.artifacts.dir).toBe(path.join(tmp.dir, 'etc', 'shared', 'artifacts'));
    const store = openArtifactStore(config.artifacts);
    expect(store.location).toBe(config.artifacts.dir);
    const { uri } = await store.putPlan('shared plan\n');
    expect(uri.startsWith(config.artifacts.dir + path.sep)).toBe(true);
  });

  test('writes leave no temporary files behind', async () => {
    const root = path.join(tmp.dir, 'no-temp');
    const store = new FilesystemArtifactStore(root);
    const { key } = await store.putPlan('plan without leftovers\n');
    await store.putNamed('build-reports/wf/run.json', '{}');
    await store.putNamed('build-reports/wf/run.json', '{"again":true}');
    const listed = [
      ...readdirSync(path.dirname(file(root, key))),
      ...readdirSync(path.join(root, 'named', 'build-reports', 'wf')),
    ];
    expect(listed.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(listed).toHaveLength(2);
  });

  test('a folder that cannot be written is an ArtifactStoreError naming the file', async () => {
    const blocked = path.join(tmp.dir, 'blocked');
    writeFileSync(blocked, 'a file where the store wants a folder');
    const err = await new FilesystemArtifactStore(blocked).putPlan('x\n').catch((e: unknown) => e as Error);
    expect((err as Error).name).toBe('ArtifactStoreError');
    expect((err as Error).message).toMatch(/^cannot write .*blocked.*plans.*: (ENOTDIR|EEXIST)/);
  });
});
