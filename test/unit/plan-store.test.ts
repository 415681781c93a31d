import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PlanStore } from '../../artifacts/plan-store';
import { tempDir } from './helpers';

describe('PlanStore', () => {
  const tmp = tempDir('cdf-plans-');
  afterAll(() => tmp.cleanup());
  const store = new PlanStore(path.join(tmp.dir, 'plans'));

  test('put returns the sha256 of the text and stores it under that name', async () => {
    const text = 'Would create 3 spaces\nWould update 1 view\n';
    const { hash, file } = await store.put(text);
    expect(hash).toBe(createHash('sha256').update(text, 'utf8').digest('hex'));
    expect(file).toBe(path.join(tmp.dir, 'plans', hash.slice(0, 2), `${hash}.txt`));
    expect(readFileSync(file, 'utf8')).toBe(text);
    expect(await store.get(hash)).toBe(text);
  });

  test('non-ASCII text round-trips and hashes as UTF-8', async () => {
    const text = 'Pumpe Ærø – 温度 ✓';
    const { hash } = await store.put(text);
    expect(hash).toBe(createHash('sha256').update(Buffer.from(text, 'utf8')).digest('hex'));
    expect(await store.get(hash)).toBe(text);
  });

  test('same text twice gives the same file and leaves no temp files', async () => {
    const a = await store.put('same plan');
    const mtime = statSync(a.file).mtimeMs;
    const b = await store.put('same plan');
    expect(b).toEqual(a);
    expect(statSync(b.file).mtimeMs).toBe(mtime);
    expect(readdirSync(path.dirname(a.file)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  test('different texts get different hashes', async () => {
    const a = await store.put('plan A');
    const b = await store.put('plan B');
    expect(a.hash).not.toBe(b.hash);
  });

  test('get refuses a tampered artifact', async () => {
    const { hash, file } = await store.put('Would delete 0 assets');
    writeFileSync(file, 'Would delete 500 assets');
    await expect(store.get(hash)).rejects.toThrow(/corrupt/);
  });

  test('get of an unknown hash rejects', async () => {
    await expect(store.get('0'.repeat(64))).rejects.toThrow();
  });

  test('pathFor rejects anything that is not a 64-char lower-case hex digest', () => {
    for (const bad of [
      '../../etc/passwd',
      'abc',
      'G'.repeat(64),
      'A'.repeat(64),
      `${'a'.repeat(64)}/../x`,
      `${'a'.repeat(63)}\n`,
    ]) {
      expect(() => store.pathFor(bad)).toThrow(/not a plan hash/);
    }
    expect(store.pathFor('ab'.repeat(32))).toBe(path.join(tmp.dir, 'plans', 'ab', `${'ab'.repeat(32)}.txt`));
  });

  test('get with a traversal string is refused before touching the disk', async () => {
    await expect(store.get('../../../etc/passwd')).rejects.toThrow(/not a plan hash/);
  });
});
