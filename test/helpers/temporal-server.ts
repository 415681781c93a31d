/**
 * A real Temporal dev server for tests: the `temporal` binary the project's scripts installed, started through
 * @temporalio/testing with the project's search attributes registered.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  commitSearchAttribute,
  outcomeSearchAttribute,
  environmentSearchAttribute,
  phaseSearchAttribute,
} from '../../contracts/search-attributes';
import { dynamicConfigArgs } from '../../config/temporal-server-settings';

const ROOT = path.resolve(__dirname, '..', '..');

export function temporalCliPath(): string {
  if (process.env.TEMPORAL_CLI_PATH) return process.env.TEMPORAL_CLI_PATH;
  const toolsEnv = path.join(ROOT, 'data', 'tools.env');
  if (existsSync(toolsEnv)) {
    const match = /^TEMPORAL_CLI_PATH=(.+)$/m.exec(readFileSync(toolsEnv, 'utf8'));
    if (match?.[1] && existsSync(match[1])) return match[1];
  }
  const venv = path.join(ROOT, '.venv', 'bin', 'temporal');
  if (existsSync(venv)) return venv;
  throw new Error(
    'temporal CLI not found: run `bash scripts/ensure-tools.sh` (npm test does) or set TEMPORAL_CLI_PATH',
  );
}

export interface ServerOptions {
  dbFilename?: string;
  port?: number;
  /** Also serve the Temporal web UI (the one the CLI embeds) on this loopback port. Off unless given. */
  uiPort?: number;
  /** More dynamic configuration of the server (`key=value`), e.g. for benchmarks. */
  dynamicConfig?: string[];
}

export function startTemporal(options: ServerOptions = {}): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalCliPath() },
      dbFilename: options.dbFilename,
      port: options.port,
      ui: options.uiPort !== undefined,
      uiPort: options.uiPort,
      searchAttributes: [
        environmentSearchAttribute,
        phaseSearchAttribute,
        commitSearchAttribute,
        outcomeSearchAttribute,
      ],
      extraArgs: dynamicConfigArgs(options.dynamicConfig),
    },
  });
}

export const BUNDLE_PATH = path.join(ROOT, 'data', 'test', 'workflow-bundle.js');
