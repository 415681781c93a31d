/**
 * A dry-run's output as it streams out of the Toolkit, for plans of any size (a 50 MB `--verbose` plan): stdout
 * is parsed as it passes (one parse, line by line) and, when a folder is given, stdout and stderr are written to
 * files there, already masked by the runner. Nothing here holds the text; the plan document is made from the
 * files (plan/plan-file.ts).
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { DryRunParser, type DryRunParserOptions, type ParsedDryRun } from './dry-run-parser';
import type { OutputSink } from './toolkit-runner';

/** Where a captured dry-run's output is, secrets masked. */
export interface CapturedOutput {
  /** stdout exactly as printed. */
  stdoutFile: string;
  /** stderr exactly as printed; absent when the Toolkit printed nothing there. */
  stderrFile?: string;
}

type Stream = 'stdout' | 'stderr';

/**
 * Lines are written in batches of about this many characters: one write per line (a million for a 50 MB plan)
 * queues as many requests behind a busy disk, which live long enough to fill V8's old space with garbage.
 */
const BATCH_CHARS = 64 * 1024;

export class OutputCapture implements OutputSink {
  private readonly parser: DryRunParser;
  private readonly files: Partial<Record<Stream, WriteStream>> = {};
  private readonly drains: Partial<Record<Stream, Promise<void>>> = {};
  private readonly batches: Record<Stream, { lines: string[]; chars: number }> = {
    stdout: { lines: [], chars: 0 },
    stderr: { lines: [], chars: 0 },
  };
  private failure: Error | undefined;

  /** `dir`: where the output files go (emptied first); absent: the output is only parsed. */
  constructor(
    private readonly dir: string | undefined,
    options: DryRunParserOptions = {},
  ) {
    this.parser = new DryRunParser(options);
  }

  async start(): Promise<void> {
    if (!this.dir) return;
    await rm(this.dir, { recursive: true, force: true });
    await mkdir(this.dir, { recursive: true });
    this.open('stdout');
  }

  line(stream: Stream, text: string): void | Promise<void> {
    if (stream === 'stdout') this.parser.write(text);
    if (!this.dir || this.failure) return;
    const file = this.files[stream] ?? this.open(stream);
    const batch = this.batches[stream];
    batch.lines.push(text);
    batch.chars += text.length;
    if (batch.chars < BATCH_CHARS) return;
    if (this.flush(stream) && !this.drains[stream]) return;
    // The disk is behind: hold the command's output until the file has taken what it was given.
    return (this.drains[stream] ??= new Promise<void>((resolve) => {
      const done = (): void => {
        file.off('drain', done).off('error', done).off('close', done);
        this.drains[stream] = undefined;
        resolve();
      };
      file.on('drain', done).on('error', done).on('close', done);
    }));
  }

  /** Closes the files and gives the parsed plan (PlanParseError when it cannot be read) and where the files are. */
  async finish(): Promise<{ parsed: ParsedDryRun; output?: CapturedOutput }> {
    if (!this.failure) for (const stream of ['stdout', 'stderr'] as const) this.flush(stream);
    await this.close();
    if (this.failure)
      throw new Error(`cannot write the dry-run output to ${this.dir}: ${this.failure.message}`);
    const parsed = this.parser.end();
    const { stdout, stderr } = this.files;
    if (!this.dir || !stdout) return { parsed };
    return {
      parsed,
      output: { stdoutFile: stdout.path as string, ...(stderr ? { stderrFile: stderr.path as string } : {}) },
    };
  }

  /** Closes and removes the files (a failed command, a refused plan). */
  async discard(): Promise<void> {
    await this.close();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }

  /** Writes the stream's batch; false when the file asks to wait for 'drain'. */
  private flush(stream: Stream): boolean {
    const batch = this.batches[stream];
    const file = this.files[stream];
    if (!file || batch.lines.length === 0) return true;
    const text = batch.lines.join('');
    batch.lines = [];
    batch.chars = 0;
    return file.write(text);
  }

  private open(stream: Stream): WriteStream {
    const file = createWriteStream(path.join(this.dir!, `${stream}.txt`), { mode: 0o600 });
    // The first error is kept for finish(); the command runs on, its output no longer written.
    file.on('error', (err) => (this.failure ??= err));
    this.files[stream] = file;
    return file;
  }

  private async close(): Promise<void> {
    await Promise.all(
      Object.values(this.files).map(
        (file) =>
          new Promise<void>((resolve) => {
            if (file.closed) return resolve();
            // 'close' also follows an error (the stream destroys itself).
            file.once('close', () => resolve());
            file.end();
          }),
      ),
    );
  }
}
