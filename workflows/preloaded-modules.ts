/**
 * Libraries the worker evaluates once and shares between all the workflows it runs (the bundler's
 * `preloadModules`, worker/build-workflow-bundle.ts), instead of once for every workflow it creates or replays
 * from the start. zod and the signature code were 3 of the 4 ms and 0.73 of the 0.92 MB that creating one of our
 * workflows cost (docs/operations.md, "What a worker holds per parked run").
 *
 * The SDK freezes what a preloaded module leaves behind, so only modules with no per-workflow state belong here:
 * their caches are keyed by the objects each workflow makes. zod writes its default locale and memoizer into its
 * global configuration when the first schema is built; building one here does that before the freeze, so no
 * workflow ever writes it. Our own schemas (contracts/types.ts) are not shared: zod fills in their lazy
 * properties as they are used.
 */
import { ed25519 } from '@noble/curves/ed25519';
import { sha256, sha512 } from '@noble/hashes/sha2';
import { z } from 'zod';

const warmUp = z.object({ name: z.string() });
warmUp.safeParse({ name: 'x' });
warmUp.safeParse({});

/** Referenced so the bundler keeps the imports: the libraries declare themselves free of side effects. */
export const preloaded = [z, ed25519, sha256, sha512] as const;
