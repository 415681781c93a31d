/**
 * Dynamic config the Temporal server needs for this service: the dev server the project starts (scripts/local-stack.ts,
 * the tests and benchmarks) passes these as `--dynamic-config-value`, and the compose deployment's file
 * (deploy/temporal/dynamicconfig/development-sql.yaml) sets the same values (a static test compares them).
 */
export const SERVER_DYNAMIC_CONFIG: Readonly<Record<string, boolean | number>> = {
  // Approvals and rejections are Workflow Updates (validated, with a result).
  'frontend.enableUpdateWorkflowExecution': true,
  // Environment entities are started on demand with update-with-start.
  'frontend.enableExecuteMultiOperation': true,
  // The history service reads its task queues (the tasks that hand each step to a worker, timers, the search
  // attributes) at most 20 times a second per shard by default, and the dev server has one shard: every step of
  // every run then waited about 40 ms for its turn, and the whole server moved about 24 workflow tasks a second
  // (fewer than 2 promotions). Reads happen only when there are tasks, so a higher cap costs nothing when idle.
  'history.transferProcessorMaxPollRPS': 1000,
  'history.timerProcessorMaxPollRPS': 1000,
  'history.visibilityProcessorMaxPollRPS': 1000,
  // Signals that arrive while a workflow task runs wait in a buffer; past 100 the server fails that task
  // (FORCE_CLOSE_COMMAND) and the next one replays the run. Under a flood of refused approval signals that failed
  // one task in two, and the failed tasks' signals replayed as one activation of thousands of signals, past the
  // SDK's 2 s deadlock limit, which crashed the worker thread ("async hook stack has become corrupted").
  'history.maximumBufferedEventsBatch': 1000,
};

/** `--dynamic-config-value KEY=JSON` arguments for `temporal server start-dev`, with `extra` (`KEY=JSON`) after. */
export function dynamicConfigArgs(extra: readonly string[] = []): string[] {
  return [
    ...Object.entries(SERVER_DYNAMIC_CONFIG).map(([k, v]) => `${k}=${JSON.stringify(v)}`),
    ...extra,
  ].flatMap((v) => ['--dynamic-config-value', v]);
}
