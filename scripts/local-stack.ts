/**
 * `npm start`: the whole service on embedded defaults. Starts the Temporal dev server (SQLite under
 * data/local, so runs survive restarts), the fake CDF, a local alert receiver, the demo config repository
 * and the worker; starts a demo promotion on first run; prints the UI address and copy-paste commands.
 * Ctrl-C stops everything; running it again resumes what was in flight.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { ArtifactStore } from '../artifacts/artifact-store';
import { openArtifactStore } from '../artifacts/open-artifact-store';
import { approveUpdate, PROMOTION_WORKFLOW_TYPE, statusQuery } from '../contracts/messages';
import { environmentState } from '../client/environment-state';
import { staticMetadata } from '../client/launch';
import { signDecision, signRequest } from '../client/signing';
import { fromRef } from '../contracts/types';
import { SEARCH_ATTRIBUTE_REGISTRATIONS } from '../contracts/search-attributes';
import { startAlertReceiver } from '../fakes/alert-receiver';
import { startFakeCdf } from '../fakes/cdf/server';
import { loadConfig } from '../config/load-config';
import { withWorkerProcessEnv } from '../config/defaults';
import { dynamicConfigArgs } from '../config/temporal-server-settings';
import { createLogger } from '../worker/logger';
import { metricsBindAddress } from '../worker/runtime';
import { ensureDemoKeys, type DemoKeys } from './demo-keys';
import { DEMO_TOOLKIT_VERSIONS, ensureDemoRepo } from './demo-repo';

const ROOT = path.resolve(__dirname, '..');
const CONFIG = path.join(ROOT, 'config', 'local.yaml');
const DATA = path.join(ROOT, 'data', 'local');
const SANDBOX_PORT = 4010;
const ALERTS_PORT = 4020;

const log = createLogger({ name: 'local-stack' });
const DEMO_REASON = 'demo promotion started by npm start: what dev runs, to prod';

function temporalPath(): string {
  const match = /^TEMPORAL_CLI_PATH=(.+)$/m.exec(readFileSync(path.join(ROOT, 'data', 'tools.env'), 'utf8'));
  if (!match?.[1]) throw new Error('data/tools.env has no TEMPORAL_CLI_PATH; run scripts/ensure-tools.sh');
  return match[1];
}

function waitForPort(port: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline)
          reject(new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`));
        else setTimeout(attempt, 250);
      });
    };
    attempt();
  });
}

async function main(): Promise<void> {
  mkdirSync(DATA, { recursive: true });
  // Before the configuration is read: it names the allowed_signers file these keys go into.
  const keys = ensureDemoKeys(path.join(DATA, 'keys'));
  // The dev server listens where the demo configuration (and so the worker and the CLI) expects it.
  const config = loadConfig(CONFIG);
  const [host, port] = splitAddress(config.temporal.address);
  const uiPort = new URL(config.temporal.uiUrl).port;
  const children: ChildProcess[] = [];
  let stopping = false;

  const devServerLog = openSync(path.join(DATA, 'temporal-server.log'), 'a');
  const devServer = spawn(
    temporalPath(),
    [
      'server',
      'start-dev',
      '--db-filename',
      path.join(DATA, 'temporal.db'),
      '--ip',
      host,
      '--port',
      String(port),
      '--ui-port',
      uiPort,
      '--namespace',
      config.temporal.namespace,
      ...SEARCH_ATTRIBUTE_REGISTRATIONS.flatMap((a) => ['--search-attribute', `${a.name}=${a.type}`]),
      ...dynamicConfigArgs(),
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', devServerLog, devServerLog] },
  );
  children.push(devServer);
  await waitForPort(port);
  log.info(
    { ui: config.temporal.uiUrl, log: path.join(DATA, 'temporal-server.log') },
    'Temporal dev server up',
  );

  const sandbox = await startFakeCdf({
    port: SANDBOX_PORT,
    stateFile: path.join(DATA, 'sandbox-state.json'),
    projects: ['demo-dev', 'demo-prod'],
    logger: log.child({ name: 'fake-cdf' }),
  });
  log.info({ url: sandbox.url }, 'fake CDF up');

  const alerts = await startAlertReceiver({
    port: ALERTS_PORT,
    onAlert: (a) =>
      log.warn({ channel: a.path, alert: printable(a.body) }, 'ALERT received by the local receiver'),
  });

  const repo = ensureDemoRepo(path.join(DATA, 'config-repo'));
  log.info({ repo: repo.dir, v1: repo.first, v2: repo.second }, 'demo config repository ready');

  const worker = spawn(process.execPath, [path.join(ROOT, 'dist', 'worker', 'main.js')], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: {
      ...withWorkerProcessEnv(process.env),
      CDF_PROMOTION_CONFIG: CONFIG,
      // Sandbox credentials; a real deployment sets these from its secret store.
      CDF_TOKEN_DEV: 'sandbox-token-dev',
      CDF_TOKEN_PROD: 'sandbox-token-prod',
      ALERT_WEBHOOK_URL: `${alerts.url}/webhook`,
      SLACK_WEBHOOK_URL: `${alerts.url}/slack`,
      TEAMS_WEBHOOK_URL: `${alerts.url}/teams`,
      // 32 characters, as PagerDuty's routing keys are; config/local.yaml points prod's PagerDuty channel here.
      PAGERDUTY_ROUTING_KEY: 'sandboxRoutingKey000000000000000',
    },
  });
  children.push(worker);

  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping: worker, sandbox, alert receiver, dev server');
    worker.kill('SIGINT');
    await new Promise((r) => (worker.exitCode !== null ? r(null) : worker.once('exit', r)));
    await sandbox.close();
    await alerts.close();
    devServer.kill('SIGINT');
    await new Promise((r) => (devServer.exitCode !== null ? r(null) : devServer.once('exit', r)));
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  worker.once('exit', (code) => {
    if (!stopping) {
      log.error({ code }, 'worker exited unexpectedly');
      void stop('worker-exit');
    }
  });

  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  let demoId: string | undefined;
  const open = client.workflow.list({
    query: `WorkflowType = '${PROMOTION_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'`,
  });
  for await (const wf of open) {
    demoId ??= wf.workflowId;
  }
  if (!demoId && process.env.NO_DEMO !== '1') {
    // On a fresh state the playbook's path is laid down first: dev gets v1 and prod takes it from dev (with the
    // older Toolkit v1 pins), then dev gets v2. The demo promotion then moves what dev runs (v2) to prod: an
    // upgrade across Toolkit versions, and the printed rollback goes back across them.
    const prodState = await environmentState(client, 'prod', config.temporal.taskQueue);
    if (!prodState.lastKnownGood) {
      await seedRun(client, config.temporal.taskQueue, keys, { environment: 'dev', ref: 'v1' });
      await seedRun(client, config.temporal.taskQueue, keys, { environment: 'prod', from: 'dev' });
      await seedRun(client, config.temporal.taskQueue, keys, { environment: 'dev', ref: 'v2' });
    }
    demoId = `promotion-prod-from-dev-${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}`;
    // prod is signed: alice signs her request, as `cdf-promote start --sign-with data/local/keys/alice` does.
    const ui = staticMetadata({
      kind: 'promotion',
      environment: 'prod',
      ref: fromRef('dev'),
      requestedBy: 'alice',
      reason: DEMO_REASON,
    });
    await client.workflow.start(PROMOTION_WORKFLOW_TYPE, {
      taskQueue: config.temporal.taskQueue,
      workflowId: demoId,
      // What the Temporal UI shows for the run, as for runs our CLI starts.
      staticSummary: ui.summary,
      staticDetails: ui.details,
      args: [
        {
          environment: 'prod',
          from: 'dev',
          requestedBy: 'alice',
          reason: DEMO_REASON,
          ...(await signRequest(
            {
              action: 'promote',
              environment: 'prod',
              workflowId: demoId,
              ref: fromRef('dev'),
              person: 'alice',
            },
            keys.keyOf('alice'),
          )),
        },
      ],
    });
  }
  const plan = demoId
    ? await demoPlanSummary(client, demoId, openArtifactStore(config.artifacts))
    : undefined;
  await connection.close();
  const metricsUrl = config.metrics.enabled
    ? `http://${metricsBindAddress(config.metrics)}/metrics`
    : undefined;
  printInstructions(
    demoId,
    repo.first,
    config.temporal.uiUrl,
    path.relative(ROOT, keys.dir),
    plan,
    metricsUrl,
  );
}

/**
 * One approved promotion of the demo's history (approved by bob; prod's request and decision are signed), so
 * the environments run what the demo needs before its own promotion starts.
 */
async function seedRun(
  client: Client,
  taskQueue: string,
  keys: DemoKeys,
  target: { environment: 'dev' | 'prod'; ref?: string; from?: string },
): Promise<void> {
  const what = target.ref ?? `from-${target.from}`;
  const id = `promotion-${target.environment}-${what}-seed-${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}`;
  const ref = target.ref ?? fromRef(target.from!);
  const signed = target.environment === 'prod';
  log.info({ workflowId: id }, `seeding ${target.environment} with ${ref} (approved by bob)`);
  const handle = await client.workflow.start(PROMOTION_WORKFLOW_TYPE, {
    taskQueue,
    workflowId: id,
    args: [
      {
        environment: target.environment,
        ...(target.ref ? { ref: target.ref } : { from: target.from }),
        requestedBy: 'alice',
        reason: 'demo seed',
        ...(signed
          ? await signRequest(
              { action: 'promote', environment: target.environment, workflowId: id, ref, person: 'alice' },
              keys.keyOf('alice'),
            )
          : {}),
      },
    ],
  });
  const deadline = Date.now() + 180_000;
  for (;;) {
    const status = await handle.query(statusQuery).catch(() => undefined);
    if (status?.phase === 'awaiting_approval' && status.planHash) {
      await handle.executeUpdate(approveUpdate, {
        args: [
          {
            approver: 'bob',
            planHash: status.planHash,
            comment: 'demo seed',
            ...(signed ? await signDecision(client, id, 'approve', 'bob', keys.keyOf('bob')) : {}),
          },
        ],
      });
      break;
    }
    if (status?.phase === 'done' || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const result = await handle.result();
  log.info({ workflowId: id, outcome: result.outcome }, `${target.environment} seeded with ${ref}`);
}

/** The real `cdf deploy --dry-run` summary table of the demo run, once its plan is ready (up to 2 minutes). */
async function demoPlanSummary(
  client: Client,
  workflowId: string,
  artifacts: ArtifactStore,
): Promise<string | undefined> {
  const handle = client.workflow.getHandle(workflowId);
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    try {
      const status = await client.withDeadline(Date.now() + 5_000, () => handle.query(statusQuery));
      if (status.planHash) {
        const lines = (await artifacts.getPlan(status.planHash)).split('\n');
        const start = lines.findIndex((l) => l.includes('Deploy summary (dry run)'));
        const end = lines.findIndex((l, i) => i > start && l.startsWith('╰'));
        if (start < 0 || end < 0) return undefined;
        return lines
          .slice(start, end + 1)
          .map((l) =>
            l
              .replace(/\s+│$/, '')
              .replace(/─{10,}[^─]*$/, '─'.repeat(10))
              .trimEnd(),
          )
          .filter((l) => l.replace(/[│\s]/g, '') !== '')
          .join('\n');
      }
      if (status.phase === 'done') return undefined;
    } catch {
      // The worker may still be starting.
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  return undefined;
}

function printInstructions(
  demoId: string | undefined,
  firstCommit: string,
  uiUrl: string,
  keyDir: string,
  plan?: string,
  metricsUrl?: string,
): void {
  const cli = 'node dist/client/cli.js';
  const id = demoId ?? '<workflow-id>';
  const lines = [
    '',
    '================ CDF promotion service is running ================',
    `Temporal UI:   ${uiUrl}/namespaces/default/workflows`,
    `fake CDF:      http://127.0.0.1:${SANDBOX_PORT}/_fake-cdf/state   (alerts print here as "ALERT received")`,
    ...(metricsUrl
      ? [`Metrics:       ${metricsUrl}   (the worker's Prometheus endpoint, docs/operations.md)`]
      : []),
    demoId
      ? `Demo run:      ${demoId} (promotes what dev runs, tag v2 with Cognite Toolkit ${DEMO_TOOLKIT_VERSIONS.second}, to prod, which runs v1 deployed with ${DEMO_TOOLKIT_VERSIONS.first})`
      : '',
    '',
    ...(plan
      ? [
          `Its plan, from the real \`cdf deploy --dry-run\` of Toolkit ${DEMO_TOOLKIT_VERSIONS.second} against the fake CDF:`,
          plan,
          '',
        ]
      : []),
    `prod is a signed environment: every request and decision carries an SSH signature. The demo keys`,
    `(ed25519, no passphrase) are in ${keyDir}/{alice,bob,carol}; ${keyDir}/allowed_signers registers them.`,
    '',
    'Watch it, read the plan, approve it as bob (in another terminal):',
    `  ${cli} status ${id}`,
    `  ${cli} approve ${id} --approver bob --sign-with ${keyDir}/bob --plan-hash "$(${cli} status ${id} --json | node -pe 'JSON.parse(fs.readFileSync(0)).planHash')"`,
    `  ${cli} status ${id} --watch`,
    '',
    'Or by hand, with ssh-keygen and the Temporal CLI (README: "Signed environments"):',
    `  AT=$(date -u +%Y-%m-%dT%H:%M:%SZ)`,
    `  .venv/bin/temporal workflow query --workflow-id ${id} --name statement --input "{\\"action\\":\\"approve\\",\\"person\\":\\"bob\\",\\"signedAt\\":\\"$AT\\"}" -o json | jq -j '.queryResult[0]' > statement.txt`,
    `  ssh-keygen -Y sign -n cdf-promote -f ${keyDir}/bob statement.txt`,
    `  .venv/bin/temporal workflow update execute --workflow-id ${id} --name approve --input "$(jq -n --arg at "$AT" --rawfile sig statement.txt.sig '{approver:"bob",signedAt:$at,signature:$sig}')"`,
    '',
    `prod takes its changes from dev (promotion.from: dev): a commit reaches prod only once its smoke tests passed in dev.`,
    `Promote to dev, then from dev to prod; or roll back prod to the first commit (it pins Toolkit ${DEMO_TOOLKIT_VERSIONS.first}):`,
    `  ${cli} start --env dev --ref main --requested-by alice --reason "try main in dev"`,
    `  ${cli} start --env prod --from dev --requested-by alice --sign-with ${keyDir}/alice --reason "what dev runs"`,
    `  ${cli} rollback --env prod --commit ${firstCommit} --requested-by alice --sign-with ${keyDir}/alice --reason "back to v1"`,
    '',
    'Ctrl-C stops everything; `npm start` again resumes what was in flight.',
    '==================================================================',
    '',
  ];
  process.stdout.write(lines.filter((l, i) => l !== '' || lines[i - 1] !== '').join('\n'));
}

main().catch((err) => {
  log.error({ err }, 'local stack failed to start');
  process.exit(1);
});

function splitAddress(address: string): [string, number] {
  const cut = address.lastIndexOf(':');
  return [address.slice(0, cut), Number(address.slice(cut + 1))];
}

/** PagerDuty events carry the routing key: a sandbox value here, but logs are no place for one. */
function printable(body: unknown): unknown {
  return typeof body === 'object' && body !== null && 'routing_key' in body
    ? { ...body, routing_key: '***' }
    : body;
}
