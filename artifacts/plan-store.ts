/**
 * Content-addressed store for plan texts. History keeps only the sha256; the text lives here so an approver
 * can read exactly what was hashed, and history does not grow with the plan.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

export class PlanStore {
  constructor(readonly dir: string) {}

  static hash(text: string): string {
    return createHash('sha256').update(text, 'utf8').digest('hex');
  }

  pathFor(hash: string): string {
    if (!/^[0-9a-f]{64}$/.test(hash)) throw new Error(`not a plan hash: ${hash}`);
    return path.join(this.dir, hash.slice(0, 2), `${hash}.txt`);
  }

  /** Stores the text and returns its hash; storing the same text twice is a no-op. */
  async put(text: string): Promise<{ hash: string; file: string }> {
    const hash = PlanStore.hash(text);
    const file = this.pathFor(hash);
    if (!existsSync(file)) {
      await mkdir(path.dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
      await writeFile(tmp, text, { encoding: 'utf8', mode: 0o640 });
      await rename(tmp, file);
    }
    return { hash, file };
  }

  /** Reads a plan back and checks it still has the hash it is stored under. */
  async get(hash: string): Promise<string> {
    const text = await readFile(this.pathFor(hash), 'utf8');
    if (PlanStore.hash(text) !== hash)
      throw new Error(`plan artifact ${hash} is corrupt (content hash differs)`);
    return text;
  }
}
