/**
 * The plan document (plan-document.ts composePlanText) written to a file from a dry-run's captured output, for
 * plans of any size: the pieces are streamed into the file and hashed on the way, never joined in memory. The
 * bytes are exactly composePlanText's for the same output.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { CapturedOutput } from '../toolkit/output-capture';

export interface PlanFileParts {
  /** Before the dry-run's text (planPreamble). */
  preamble: string;
  output: CapturedOutput;
  /** After it (leftoverSection). */
  after: string;
}

/** Writes the plan document to `file`; gives its sha256 and size in bytes. */
export async function writePlanFile(
  file: string,
  parts: PlanFileParts,
): Promise<{ hash: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  async function* pieces(): AsyncGenerator<Buffer> {
    yield Buffer.from(parts.preamble, 'utf8');
    yield* createReadStream(parts.output.stdoutFile);
    // As the runner always joined them: stdout, then stderr after a line break when there was any.
    if (parts.output.stderrFile) {
      yield Buffer.from('\n');
      yield* createReadStream(parts.output.stderrFile);
    }
    yield Buffer.from(parts.after, 'utf8');
  }
  await pipeline(
    async function* () {
      for await (const piece of pieces()) {
        hash.update(piece);
        bytes += piece.length;
        yield piece;
      }
    },
    createWriteStream(file, { mode: 0o600 }),
  );
  return { hash: hash.digest('hex'), bytes };
}
