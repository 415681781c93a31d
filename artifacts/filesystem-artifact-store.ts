/**
 * The artifact store in a folder: `<dataDir>/artifacts` by default (what `npm start` uses), or a folder several
 * workers share (`artifacts.dir`, e.g. a network file system). Writes go to a temporary file in the same folder
 * and are renamed into place, so a reader on any machine sees a whole object or none.
 */
import { randomUUID } from 'node:crypto';
import { chmod, copyFile, mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import path from 'node:path';
import { ArtifactStoreError } from './artifact-errors';
import { ObjectArtifactStore } from './object-artifact-store';

const errorCode = (err: unknown): string =>
  (err as NodeJS.ErrnoException).code ?? (err as Error).message ?? String(err);

export class FilesystemArtifactStore extends ObjectArtifactStore {
  readonly location: string;

  constructor(dir: string) {
    super();
    this.location = path.resolve(dir);
  }

  protected uriOf(key: string): string {
    return path.join(this.location, ...key.split('/'));
  }

  protected async read(key: string): Promise<Uint8Array | undefined> {
    const file = this.uriOf(key);
    try {
      return await readFile(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw new ArtifactStoreError(`cannot read ${file}: ${errorCode(err)}`);
    }
  }

  protected async readStream(key: string): Promise<Readable | undefined> {
    const file = this.uriOf(key);
    try {
      // Opened first, so a missing file is told apart from one that fails while it is read.
      return (await open(file, 'r')).createReadStream();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw this.readFailure(key, err);
    }
  }

  protected readFailure(key: string, err: unknown): Error {
    return new ArtifactStoreError(`cannot read ${this.uriOf(key)}: ${errorCode(err)}`);
  }

  protected async write(key: string, body: Uint8Array): Promise<void> {
    await this.replace(key, (tmp) => writeFile(tmp, body, { mode: 0o640 }));
  }

  protected async writeFile(key: string, source: string): Promise<void> {
    await this.replace(key, async (tmp) => {
      await copyFile(source, tmp);
      await chmod(tmp, 0o640);
    });
  }

  private async replace(key: string, fill: (tmp: string) => Promise<void>): Promise<void> {
    const file = this.uriOf(key);
    // Unique across processes and machines that share the folder; renamed within the same folder (atomic).
    const tmp = `${file}.${process.pid}.${randomUUID()}.tmp`;
    try {
      await mkdir(path.dirname(file), { recursive: true });
      await fill(tmp);
      await rename(tmp, file);
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => undefined);
      throw new ArtifactStoreError(`cannot write ${file}: ${errorCode(err)}`);
    }
  }
}
