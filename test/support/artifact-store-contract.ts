/**
 * What every artifact store must do, as one suite run against each backend (the folder in the unit tests, a
 * real S3-compatible server in test/artifacts). The backend gives raw access to its objects so the suite can
 * tamper with them behind the store's back.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ArtifactStore } from '../../artifacts/artifact-store';

export interface ContractBackend {
  store: ArtifactStore;
  /** The raw bytes under a store key, or undefined. */
  rawRead(key: string): Promise<Buffer | undefined>;
  /** Replaces the raw bytes under a store key, bypassing the store. */
  rawWrite(key: string, body: Buffer): Promise<void>;
  /** Changes whenever the object under `key` is written again, even with the same bytes. */
  writeStamp(key: string): Promise<string>;
}

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');
let n = 0;
/** A text no other test (or earlier run against the same bucket) has stored. */
const unique = (label: string): string => `${label} ${Date.now()} ${process.pid} ${n++}\n`;

export function describeArtifactStore(name: string, open: () => ContractBackend): void {
  describe(`${name}: the artifact store contract`, () => {
    let b: ContractBackend;
    beforeAll(() => {
      b = open();
    });

    describe('plans (content-addressed)', () => {
      test('putPlan stores the text under its sha256 and getPlan gives it back', async () => {
        const text = unique('Would create 3 spaces\nWould update 1 view');
        const stored = await b.store.putPlan(text);
        expect(stored.hash).toBe(sha256(text));
        expect(stored.key).toBe(`plans/${stored.hash.slice(0, 2)}/${stored.hash}.txt`);
        expect((await b.rawRead(stored.key))?.toString('utf8')).toBe(text);
        expect(await b.store.getPlan(stored.hash)).toBe(text);
      });

      test('non-ASCII text round-trips and hashes as UTF-8', async () => {
        const text = unique('Pumpe Ærø – 温度 ✓');
        const { hash } = await b.store.putPlan(text);
        expect(hash).toBe(createHash('sha256').update(Buffer.from(text, 'utf8')).digest('hex'));
        expect(await b.store.getPlan(hash)).toBe(text);
      });

      test('putting the same text again returns the same object and does not write it again', async () => {
        const text = unique('same plan');
        const first = await b.store.putPlan(text);
        const stamp = await b.writeStamp(first.key);
        expect(stamp).not.toBe('');
        const second = await b.store.putPlan(text);
        expect(second).toEqual(first);
        expect(await b.writeStamp(first.key)).toBe(stamp);
        expect(await b.store.getPlan(first.hash)).toBe(text);
      });

      test('a tampered plan is refused, naming its hash; putting the real text again repairs it', async () => {
        const text = unique('Would delete 0 assets');
        const { hash, key } = await b.store.putPlan(text);
        await b.rawWrite(key, Buffer.from('Would delete 500 assets\n'));
        const err = await b.store.getPlan(hash).catch((e: unknown) => e as Error);
        expect(err).toBeInstanceOf(Error);
        expect((err as Error).name).toBe('ArtifactCorruptError');
        expect((err as Error).message).toContain(`plan ${hash} is corrupt`);
        expect((err as Error).message).toContain(`hashes to ${sha256('Would delete 500 assets\n')}`);
        await b.store.putPlan(text);
        expect(await b.store.getPlan(hash)).toBe(text);
      });

      test('a missing plan is an ArtifactNotFoundError naming the hash and where it was looked for', async () => {
        const hash = sha256(unique('never stored'));
        const err = await b.store.getPlan(hash).catch((e: unknown) => e as Error);
        expect((err as Error).name).toBe('ArtifactNotFoundError');
        expect((err as Error).message).toContain(`plan ${hash} is not in the artifact store`);
        expect((err as Error).message).toContain(`plans/${hash.slice(0, 2)}/${hash}.txt`);
      });

      test('anything that is not a 64-digit lower-case hex hash is refused before the store is touched', async () => {
        for (const bad of [
          '../../etc/passwd',
          'abc',
          'G'.repeat(64),
          'A'.repeat(64),
          `${'a'.repeat(64)}/../x`,
        ]) {
          const err = await b.store.getPlan(bad).catch((e: unknown) => e as Error);
          expect({ bad, name: (err as Error).name }).toEqual({ bad, name: 'ArtifactNameError' });
          expect((err as Error).message).toMatch(/not a plan hash/);
        }
      });
    });

    describe('plans from a file, read as a stream (large plans)', () => {
      let dir: string;
      beforeAll(() => {
        dir = mkdtempSync(path.join(os.tmpdir(), 'cdf-plan-file-'));
      });
      afterAll(() => rmSync(dir, { recursive: true, force: true }));
      const readAll = async (hash: string): Promise<string[]> => {
        const pieces: string[] = [];
        await b.store.readPlan(hash, (piece) => pieces.push(piece));
        return pieces;
      };

      test('putPlanFile stores the file under the given hash; readPlan gives the same text in pieces', async () => {
        // Multi-byte characters across the read chunks (64 KiB) must come back whole.
        const text = `${unique('plan from a file')}${'│ Pumpe Ærø – 温度 ✓\n'.repeat(20_000)}`;
        const file = path.join(dir, `plan-${n++}.txt`);
        writeFileSync(file, text);
        const stored = await b.store.putPlanFile(file, sha256(text));
        expect(stored.key).toBe(`plans/${stored.hash.slice(0, 2)}/${stored.hash}.txt`);
        expect((await b.rawRead(stored.key))?.toString('utf8')).toBe(text);
        const pieces = await readAll(stored.hash);
        expect(pieces.length).toBeGreaterThan(1);
        expect(pieces.join('')).toBe(text);
        expect(await b.store.getPlan(stored.hash)).toBe(text);
        // Already stored: not written again.
        const stamp = await b.writeStamp(stored.key);
        await b.store.putPlanFile(file, stored.hash);
        expect(await b.writeStamp(stored.key)).toBe(stamp);
      });

      test('readPlan refuses a tampered or missing plan, as getPlan does', async () => {
        const text = unique('Would delete 0 assets');
        const { hash, key } = await b.store.putPlan(text);
        await b.rawWrite(key, Buffer.from('Would delete 500 assets\n'));
        const err = await readAll(hash).catch((e: unknown) => e as Error);
        expect((err as Error).name).toBe('ArtifactCorruptError');
        expect((err as Error).message).toContain(`plan ${hash} is corrupt`);
        const missing = await readAll(sha256(unique('never stored'))).catch((e: unknown) => e as Error);
        expect((missing as Error).name).toBe('ArtifactNotFoundError');
      });
    });

    describe('named objects (build reports)', () => {
      test('round trip, checked against the hash stored with the object', async () => {
        const name = `build-reports/run-${n++}/r1.json`;
        const content = JSON.stringify({ modulesProcessed: 1, note: unique('ø') });
        const stored = await b.store.putNamed(name, content);
        expect(stored).toMatchObject({ hash: sha256(content), key: `named/${name}` });
        expect(await b.store.getNamed(name)).toBe(content);
      });

      test('putting a name again replaces the object whole', async () => {
        const name = `build-reports/run-${n++}/r1.json`;
        await b.store.putNamed(name, '{"v":1}');
        await b.store.putNamed(name, '{"v":2,"longer":true}');
        expect(await b.store.getNamed(name)).toBe('{"v":2,"longer":true}');
      });

      test('a tampered object is refused, naming the hash it was stored with', async () => {
        const name = `build-reports/run-${n++}/r1.json`;
        const { hash, key } = await b.store.putNamed(name, '{"modulesFailed":0}');
        const raw = (await b.rawRead(key))!.toString('utf8');
        await b.rawWrite(key, Buffer.from(raw.replace('"modulesFailed":0', '"modulesFailed":1')));
        const err = await b.store.getNamed(name).catch((e: unknown) => e as Error);
        expect((err as Error).name).toBe('ArtifactCorruptError');
        expect((err as Error).message).toContain(`stored as sha256 ${hash}`);
        await b.rawWrite(key, Buffer.from('{"no":"header"}'));
        await expect(b.store.getNamed(name)).rejects.toThrow(/has no "cdf-promote artifact sha256:" line/);
      });

      test('a missing name is an ArtifactNotFoundError; unsafe names are refused', async () => {
        const err = await b.store
          .getNamed(`build-reports/none-${n++}.json`)
          .catch((e: unknown) => e as Error);
        expect((err as Error).name).toBe('ArtifactNotFoundError');
        for (const bad of ['../x', '/abs', 'a//b', '.hidden', 'a/../b', 'a/./b', 'sp ace', '']) {
          const refused = await b.store.putNamed(bad, 'x').catch((e: unknown) => e as Error);
          expect({ bad, name: (refused as Error).name }).toEqual({ bad, name: 'ArtifactNameError' });
        }
      });
    });
  });
}
