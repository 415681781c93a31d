/**
 * What can go wrong with an artifact, as types a caller can tell apart. The messages name the artifact (its
 * hash or name) and where the store looks for it, never credentials.
 */

/** The store has no object under that hash or name. */
export class ArtifactNotFoundError extends Error {
  override name = 'ArtifactNotFoundError';
}

/** The object is there but is not what was stored: its content no longer has the hash it is stored under. */
export class ArtifactCorruptError extends Error {
  override name = 'ArtifactCorruptError';
}

/** The store could not be read or written (unreachable, no credentials, access denied, ...). */
export class ArtifactStoreError extends Error {
  override name = 'ArtifactStoreError';
}

/** A hash or name that cannot address an artifact (checked before the store is touched). */
export class ArtifactNameError extends Error {
  override name = 'ArtifactNameError';
}
