/**
 * Creates the Temporal client from the global options. Every command goes through `withClient` so the
 * connection is always closed and the process can exit once the command is done.
 */
import { Client, Connection } from '@temporalio/client';
import type { Command } from 'commander';
import { CliError, toCliError, UsageError } from './errors';

export interface GlobalOptions {
  address: string;
  namespace: string;
  taskQueue: string;
  uiUrl: string;
  json: boolean;
}

/** Reads and checks the global flags; called before connecting so bad values exit 2 without network traffic. */
export function readGlobals(cmd: Command): GlobalOptions {
  const o = cmd.optsWithGlobals<Partial<GlobalOptions>>();
  const globals: GlobalOptions = {
    address: (o.address ?? '').trim(),
    namespace: (o.namespace ?? '').trim(),
    taskQueue: (o.taskQueue ?? '').trim(),
    uiUrl: (o.uiUrl ?? '').trim(),
    json: !!o.json,
  };
  if (!/^[^\s:/]+:\d{1,5}$/.test(globals.address) && !/^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(globals.address)) {
    throw new UsageError(`invalid --address: expected host:port, got "${globals.address}"`);
  }
  if (!globals.namespace) throw new UsageError('invalid --namespace: must not be empty');
  if (!globals.taskQueue) throw new UsageError('invalid --task-queue: must not be empty');
  if (!/^https?:\/\/\S+$/.test(globals.uiUrl)) {
    throw new UsageError(`invalid --ui-url: expected an http(s) URL, got "${globals.uiUrl}"`);
  }
  return globals;
}

/** Connecting to an address where nothing listens should fail fast, not after the SDK default. */
const CONNECT_TIMEOUT = '5s';

export async function connect(options: Pick<GlobalOptions, 'address' | 'namespace'>): Promise<{
  client: Client;
  connection: Connection;
}> {
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: options.address, connectTimeout: CONNECT_TIMEOUT });
  } catch (err) {
    const reason = toCliError(err).message;
    throw new CliError(`cannot connect to Temporal at ${options.address}: ${reason}`);
  }
  return { client: new Client({ connection, namespace: options.namespace }), connection };
}

export async function withClient<T>(
  options: Pick<GlobalOptions, 'address' | 'namespace'>,
  fn: (client: Client) => Promise<T>,
): Promise<T> {
  const { client, connection } = await connect(options);
  try {
    return await fn(client);
  } finally {
    await connection.close().catch(() => undefined);
  }
}
