/**
 * Opens the artifact store the configuration names. The worker and `cdf-promote plan` both call this with the
 * same `artifacts` section, so the CLI reads exactly where the workers write.
 */
import { S3Client } from '@aws-sdk/client-s3';
import type { ArtifactsConfig } from '../config/schema';
import { ConfigurationError } from '../contracts/errors';
import type { ArtifactStore } from './artifact-store';
import { FilesystemArtifactStore } from './filesystem-artifact-store';
import { S3ArtifactStore } from './s3-artifact-store';

export interface OpenArtifactStoreOptions {
  /** An S3 client to use instead of one made from the configuration (tests). */
  s3Client?: S3Client;
}

export function openArtifactStore(
  config: ArtifactsConfig,
  options: OpenArtifactStoreOptions = {},
): ArtifactStore {
  if (config.store === 'filesystem') return new FilesystemArtifactStore(config.dir);
  if (!config.bucket) throw new ConfigurationError('artifacts.bucket: required when store is s3');
  return new S3ArtifactStore(options.s3Client ?? createS3Client(config), {
    bucket: config.bucket,
    prefix: config.prefix ?? '',
    endpoint: config.endpoint,
  });
}

/** An S3 client for the configured server. No credentials here: the SDK's default chain finds them. */
export function createS3Client(config: ArtifactsConfig): S3Client {
  return new S3Client({
    region: config.region,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    forcePathStyle: config.forcePathStyle,
    maxAttempts: 3,
    // An unreachable store fails the attempt (which Temporal retries) instead of holding it until a timeout.
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 },
  });
}
