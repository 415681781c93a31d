/**
 * The part of an artifact store that does not depend on where objects live: the key layout, the content hashes
 * and their checks. A backend (a folder, an S3 bucket) supplies only whole-object reads and atomic writes.
 *
 * Layout under the store's root:
 *   plans/<xx>/<sha256>.txt   a plan text, named by its own hash (<xx>: the hash's first two hex digits)
 *   named/<name>              a named object: a header line `cdf-promote artifact sha256:<hex>`, then the content
 * The plan layout is the one `<dataDir>/artifacts/plans` has always had, so existing plans stay readable.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { ArtifactCorruptError, ArtifactNameError, ArtifactNotFoundError } from './artifact-errors';
import { artifactHash, type ArtifactStore, type StoredArtifact } from './artifact-store';

const HASH = /^[0-9a-f]{64}$/;
// Segments of letters, digits, `.`, `_` and `-` that do not start with a dot: no `.`, `..` or hidden names.
const NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/;
const NAMED_HEADER = 'cdf-promote artifact sha256:';
const TEXT = 'text/plain; charset=utf-8';

/** Shows a caller's hash or name in a message without letting it run on or carry control characters. */
const shown = (value: string): string => JSON.stringify(value.slice(0, 80));

export function planKey(hash: string): string {
  if (!HASH.test(hash))
    throw new ArtifactNameError(`not a plan hash: ${shown(hash)} (64 lower-case hex digits)`);
  return `plans/${hash.slice(0, 2)}/${hash}.txt`;
}

export function namedKey(name: string): string {
  if (name.length > 512 || !NAME.test(name))
    throw new ArtifactNameError(
      `not an artifact name: ${shown(name)} (segments of letters, digits, ".", "_", "-" separated by "/")`,
    );
  return `named/${name}`;
}

export abstract class ObjectArtifactStore implements ArtifactStore {
  abstract readonly location: string;

  /** The whole object under `key`, or undefined when there is none. */
  protected abstract read(key: string): Promise<Uint8Array | undefined>;

  /** Writes the object in one step: a reader sees the previous object or the whole new one, never a part. */
  protected abstract write(key: string, body: Uint8Array, contentType: string): Promise<void>;

  /** The object under `key` as a stream, or undefined when there is none; errors while reading are the backend's. */
  protected abstract readStream(key: string): Promise<Readable | undefined>;

  /** write() of a file's content, streamed from the file. */
  protected abstract writeFile(key: string, file: string, contentType: string): Promise<void>;

  /** A read error as the store reports it (ArtifactStoreError naming the object). */
  protected abstract readFailure(key: string, err: unknown): Error;

  /** Where `key` is (a file path or an s3:// URL), for messages and StoredArtifact.uri. */
  protected abstract uriOf(key: string): string;

  async putPlan(text: string): Promise<StoredArtifact> {
    const body = Buffer.from(text, 'utf8');
    const hash = artifactHash(body);
    const key = planKey(hash);
    const existing = await this.read(key);
    // Content-addressed: an object already there with the right content is this plan (another worker, a
    // retry). One that fails the check (a torn write, a tampered object) is replaced with the real text.
    if (!existing || artifactHash(existing) !== hash) await this.write(key, body, TEXT);
    return { hash, key, uri: this.uriOf(key) };
  }

  async getPlan(hash: string): Promise<string> {
    const key = planKey(hash);
    const body = await this.read(key);
    if (!body)
      throw new ArtifactNotFoundError(`plan ${hash} is not in the artifact store (${this.uriOf(key)})`);
    const actual = artifactHash(body);
    if (actual !== hash)
      throw new ArtifactCorruptError(
        `plan ${hash} is corrupt in the artifact store (${this.uriOf(key)}): its content hashes to ${actual}`,
      );
    return Buffer.from(body).toString('utf8');
  }

  async putPlanFile(file: string, hash: string): Promise<StoredArtifact> {
    const key = planKey(hash);
    // As putPlan: an object already there with the right content is this plan, anything else is replaced.
    if ((await this.streamObject(key)) !== hash) await this.writeFile(key, file, TEXT);
    return { hash, key, uri: this.uriOf(key) };
  }

  async readPlan(hash: string, consume: (text: string) => void): Promise<void> {
    const key = planKey(hash);
    const actual = await this.streamObject(key, consume);
    if (actual === undefined)
      throw new ArtifactNotFoundError(`plan ${hash} is not in the artifact store (${this.uriOf(key)})`);
    if (actual !== hash)
      throw new ArtifactCorruptError(
        `plan ${hash} is corrupt in the artifact store (${this.uriOf(key)}): its content hashes to ${actual}`,
      );
  }

  /** Streams the object's text to `consume` (if any) and gives its sha256, or undefined when there is no object. */
  private async streamObject(key: string, consume?: (text: string) => void): Promise<string | undefined> {
    const stream = await this.readStream(key);
    if (!stream) return undefined;
    const hash = createHash('sha256');
    // A UTF-8 character cut between two chunks is decoded whole, as one Buffer.toString of the object would.
    const decoder = new StringDecoder('utf8');
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        hash.update(chunk);
        if (consume) consume(decoder.write(chunk));
      }
    } catch (err) {
      stream.destroy();
      throw this.readFailure(key, err);
    }
    consume?.(decoder.end());
    return hash.digest('hex');
  }

  async putNamed(name: string, content: string): Promise<StoredArtifact> {
    const key = namedKey(name);
    const hash = artifactHash(content);
    // The hash travels inside the object: one write, so the content and its hash are replaced together.
    await this.write(key, Buffer.from(`${NAMED_HEADER}${hash}\n${content}`, 'utf8'), TEXT);
    return { hash, key, uri: this.uriOf(key) };
  }

  async getNamed(name: string): Promise<string> {
    const key = namedKey(name);
    const body = await this.read(key);
    if (!body) throw new ArtifactNotFoundError(`${name} is not in the artifact store (${this.uriOf(key)})`);
    const bytes = Buffer.from(body);
    const newline = bytes.indexOf(0x0a);
    const header = newline < 0 ? '' : bytes.subarray(0, newline).toString('utf8');
    const expected = header.startsWith(NAMED_HEADER) ? header.slice(NAMED_HEADER.length) : '';
    if (!HASH.test(expected))
      throw new ArtifactCorruptError(
        `${name} is corrupt in the artifact store (${this.uriOf(key)}): it has no "${NAMED_HEADER}" line`,
      );
    const content = bytes.subarray(newline + 1);
    const actual = artifactHash(content);
    if (actual !== expected)
      throw new ArtifactCorruptError(
        `${name} is corrupt in the artifact store (${this.uriOf(key)}): stored as sha256 ${expected}, its content hashes to ${actual}`,
      );
    return content.toString('utf8');
  }
}
