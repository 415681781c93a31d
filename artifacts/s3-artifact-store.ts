/**
 * The artifact store in an S3 bucket (AWS S3 or any S3-compatible server: SeaweedFS, Zenko CloudServer, moto),
 * for workers on several machines. A PUT replaces an object whole, so writes are atomic by S3's own rules.
 * Credentials come only from the AWS SDK's default chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
 * AWS_SESSION_TOKEN, AWS_PROFILE and the shared files, container and instance roles), never from the
 * configuration file.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { ArtifactStoreError } from './artifact-errors';
import { ObjectArtifactStore } from './object-artifact-store';

export interface S3Location {
  bucket: string;
  /** Key prefix inside the bucket ('' for the bucket's root); a missing trailing "/" is added. */
  prefix: string;
  /** Only for messages: where the client sends its requests (absent: AWS S3 itself). */
  endpoint?: string;
}

interface SdkError {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** "a/b/" for "a/b", "/a/b/" or "a/b/"; "" for the bucket's root. */
export function normalizePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  return trimmed ? `${trimmed}/` : '';
}

export class S3ArtifactStore extends ObjectArtifactStore {
  readonly location: string;
  private readonly prefix: string;

  constructor(
    private readonly client: S3Client,
    private readonly where: S3Location,
  ) {
    super();
    this.prefix = normalizePrefix(where.prefix);
    this.location = `s3://${where.bucket}/${this.prefix}${where.endpoint ? ` at ${where.endpoint}` : ''}`;
  }

  protected uriOf(key: string): string {
    return `s3://${this.where.bucket}/${this.prefix}${key}`;
  }

  protected async read(key: string): Promise<Uint8Array | undefined> {
    try {
      const out = await this.client.send(
        new GetObjectCommand({ Bucket: this.where.bucket, Key: `${this.prefix}${key}` }),
      );
      if (!out.Body) return new Uint8Array();
      return await out.Body.transformToByteArray();
    } catch (err) {
      const e = err as SdkError;
      if (e.name === 'NoSuchKey' || (e.$metadata?.httpStatusCode === 404 && e.name !== 'NoSuchBucket'))
        return undefined;
      throw this.failure('read', key, err);
    }
  }

  protected async readStream(key: string): Promise<Readable | undefined> {
    try {
      const out = await this.client.send(
        new GetObjectCommand({ Bucket: this.where.bucket, Key: `${this.prefix}${key}` }),
      );
      // In Node the SDK's body is the response stream itself (an IncomingMessage with helpers mixed in).
      return (out.Body as Readable | undefined) ?? Readable.from([]);
    } catch (err) {
      const e = err as SdkError;
      if (e.name === 'NoSuchKey' || (e.$metadata?.httpStatusCode === 404 && e.name !== 'NoSuchBucket'))
        return undefined;
      throw this.failure('read', key, err);
    }
  }

  protected readFailure(key: string, err: unknown): Error {
    return this.failure('read', key, err);
  }

  protected async writeFile(key: string, file: string, contentType: string): Promise<void> {
    // A file's stream cannot be rewound: the SDK's own retry of a failed upload would send it empty, so each
    // attempt here opens the file again.
    let size: number;
    try {
      size = (await stat(file)).size;
    } catch (err) {
      throw new ArtifactStoreError(`cannot read ${file} to store it as ${this.uriOf(key)}: ${String(err)}`);
    }
    for (let attempt = 1; ; attempt++) {
      const body = createReadStream(file);
      try {
        await this.client.send(
          new PutObjectCommand({
            Bucket: this.where.bucket,
            Key: `${this.prefix}${key}`,
            Body: body,
            ContentLength: size,
            ContentType: contentType,
          }),
        );
        return;
      } catch (err) {
        const status = (err as SdkError).$metadata?.httpStatusCode;
        if (attempt >= 3 || (status !== undefined && status < 500)) throw this.failure('write', key, err);
      } finally {
        body.destroy();
      }
    }
  }

  protected async write(key: string, body: Uint8Array, contentType: string): Promise<void> {
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.where.bucket,
          Key: `${this.prefix}${key}`,
          Body: body,
          ContentType: contentType,
        }),
      );
    } catch (err) {
      throw this.failure('write', key, err);
    }
  }

  /** The SDK's error, with what to do about the usual causes. The SDK's messages carry no secrets. */
  private failure(what: 'read' | 'write', key: string, err: unknown): ArtifactStoreError {
    const e = err as SdkError;
    const name = e.name ?? 'Error';
    const endpoint = this.where.endpoint ?? 'AWS S3';
    let hint = '';
    if (name === 'CredentialsProviderError')
      hint =
        ": no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) in this process's environment";
    else if (name === 'NoSuchBucket') hint = `: bucket ${this.where.bucket} does not exist at ${endpoint}`;
    else if (e.$metadata?.httpStatusCode === 403)
      hint = `: access denied; check the credentials and their permissions on bucket ${this.where.bucket}`;
    return new ArtifactStoreError(
      `cannot ${what} ${this.uriOf(key)} (${endpoint}): ${name}: ${e.message ?? String(err)}${hint}`,
    );
  }
}
