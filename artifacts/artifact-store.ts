/**
 * Where the worker keeps what an approver reads and what a run leaves behind: plan texts (content-addressed:
 * history keeps only the sha256, the text lives here) and named objects such as a run's build report. Every
 * worker and the CLI open the same store from the configuration (`artifacts`), so a plan made on one machine
 * is read, compared and approved on any other; run folders on a worker's disk are only caches.
 */
import { createHash } from 'node:crypto';
import type { RunIds } from '../config/data-layout';

/** What a put stored, and where. */
export interface StoredArtifact {
  /** sha256 (hex) of the content. */
  hash: string;
  /** The object's key inside the store, e.g. `plans/ab/ab12….txt`. */
  key: string;
  /** Where the object is: an absolute file path (filesystem store) or an `s3://bucket/key` URL. */
  uri: string;
}

export interface ArtifactStore {
  /** Where the store keeps its objects, for messages: a folder, or `s3://bucket/prefix` and the endpoint. */
  readonly location: string;
  /** Stores a plan text under its sha256; storing the same text again writes nothing. */
  putPlan(text: string): Promise<StoredArtifact>;
  /**
   * The plan text stored under `hash`, checked against it: ArtifactNotFoundError when it is not there,
   * ArtifactCorruptError when its content no longer hashes to `hash`.
   */
  getPlan(hash: string): Promise<string>;
  /**
   * Stores the plan text in `file` under `hash`, the sha256 its writer computed while writing it (a large plan is
   * never held in memory whole). Storing a plan that is already there writes nothing.
   */
  putPlanFile(file: string, hash: string): Promise<StoredArtifact>;
  /**
   * Gives the plan text under `hash` to `consume` piece by piece as it is read, then checks it against the hash:
   * the same errors as getPlan, ArtifactCorruptError only after the pieces, so the caller must drop what it got.
   */
  readPlan(hash: string, consume: (text: string) => void): Promise<void>;
  /** Stores (or replaces, atomically) a named object, with the hash of its content for the read to check. */
  putNamed(name: string, content: string): Promise<StoredArtifact>;
  /** A named object, checked against the hash it was stored with (same errors as getPlan). */
  getNamed(name: string): Promise<string>;
}

export function artifactHash(content: string | Uint8Array): string {
  return createHash('sha256')
    .update(typeof content === 'string' ? Buffer.from(content, 'utf8') : content)
    .digest('hex');
}

/**
 * The name of a run's build report. Derived from the run's ids only (like its folders in config/data-layout),
 * so whichever worker builds the run writes the same object.
 */
const safe = (id: string): string => id.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');

export function buildReportName(run: RunIds): string {
  return `build-reports/${safe(run.workflowId)}/${safe(run.runId)}.json`;
}

/** The name of a run's audit record: its request and result, kept beyond the Temporal namespace's retention. */
export function auditRecordName(run: RunIds): string {
  return `audit/${safe(run.workflowId)}/${safe(run.runId)}.json`;
}
