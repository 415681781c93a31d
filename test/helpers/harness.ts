/**
 * The usual integration set-up in one call: a real dev server, the stack (sandbox, repo, alert receiver) and a
 * running worker on the stack's task queue; `stop()` tears all of it down in the right order.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { startStack, type Stack, type StackOptions } from './stack';
import { startTemporal, type ServerOptions } from './temporal-server';

export interface Harness {
  env: TestWorkflowEnvironment;
  stack: Stack;
  worker: Worker;
  stop(): Promise<void>;
}

export async function startHarness(
  options: StackOptions & { beforeWorker?: (stack: Stack) => void; server?: ServerOptions } = {},
): Promise<Harness> {
  const env = await startTemporal(options.server);
  const stack = await startStack(options);
  options.beforeWorker?.(stack);
  const worker = await stack.startWorker(env.nativeConnection);
  const running = worker.run();
  return {
    env,
    stack,
    worker,
    async stop() {
      worker.shutdown();
      await running;
      await env.teardown();
      await stack.stop();
    },
  };
}
