import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import pino from 'pino';
import { ApiError, FORBIDDEN_MESSAGE } from './api-error';
import { authenticate } from './auth';
import { FaultRegistry, type FaultAction } from './faults';
import { readBody, sendJson } from './http-io';
import { RequestLog, type RequestLogEntry } from './request-log';
import { handleAdmin } from './routes/admin';
import { findProjectRoute } from './routes/index';
import { inspectToken, isTokenPath, issueTokenResponse } from './routes/token';
import { StateStore } from './state-store';

export interface FakeCdfOptions {
  /** 0 picks a random free port. */
  port?: number;
  /** Defaults to 127.0.0.1 so the fake CDF is never exposed by accident. */
  host?: string;
  stateFile: string;
  /** Defaults to `['sandbox']`. */
  projects?: string[];
  /** Record a finished job whenever a transformation is created or updated. Default true. */
  autoRunTransformations?: boolean;
  logger?: pino.Logger;
}

export interface RunningFakeCdf {
  url: string;
  port: number;
  close(): Promise<void>;
}

const PROJECT_PATH = /^\/api\/v1\/projects\/([^/]+)(\/.*)?$/;
const ADMIN_PREFIX = '/_fake-cdf';

interface Outcome {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export async function startFakeCdf(opts: FakeCdfOptions): Promise<RunningFakeCdf> {
  const logger = opts.logger ?? pino({ name: 'fake-cdf', level: 'info' }, pino.destination(2));
  const projects = opts.projects && opts.projects.length > 0 ? opts.projects : ['sandbox'];
  const autoRunTransformations = opts.autoRunTransformations ?? true;
  // Constructed before listening so a corrupt state file fails startup, not the first request.
  const store = new StateStore(opts.stateFile, projects);
  const faults = new FaultRegistry();
  const requestLog = new RequestLog(500);
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let closing = false;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  function handleCdf(
    method: string,
    path: string,
    query: URLSearchParams,
    req: IncomingMessage,
    body: unknown,
  ): Outcome {
    if (method === 'POST' && isTokenPath(path)) {
      return { status: 200, body: issueTokenResponse(body) };
    }
    const projectMatch = PROJECT_PATH.exec(path);
    if (!projectMatch && path !== '/api/v1/token/inspect') return unknownEndpoint(method, path);

    const caller = authenticate(req.headers.authorization);
    if (!projectMatch) {
      if (method !== 'GET') return unknownEndpoint(method, path);
      return { status: 200, body: inspectToken(caller, store.projects) };
    }

    const project = decodeURIComponent(projectMatch[1] ?? '');
    const rel = projectMatch[2] ?? '';
    if (!store.hasProject(project)) throw new ApiError(403, FORBIDDEN_MESSAGE);
    const route = findProjectRoute(method, rel);
    if (!route) return unknownEndpoint(method, path);
    if (route.write && caller.access === 'readonly') throw new ApiError(403, FORBIDDEN_MESSAGE);

    // Handlers mutate in place; a snapshot lets a failed write leave no partial changes behind.
    const before = route.write ? structuredClone(store.project(project)) : undefined;
    try {
      const result = route.handle({
        project,
        access: caller.access,
        state: store.project(project),
        body,
        query,
        now: Date.now(),
        nextId: () => store.nextId(),
        autoRunTransformations,
      });
      if (route.write) store.persist();
      return { status: route.status ?? 200, body: result };
    } catch (err) {
      if (before) store.restoreProject(project, before);
      throw err;
    }
  }

  function unknownEndpoint(method: string, path: string): Outcome {
    // Loud on purpose: every hit here is a CDF endpoint some client needs that the fake CDF lacks.
    logger.warn({ method, path }, `fake-cdf: unknown endpoint ${method} ${path}`);
    const err = new ApiError(404, `fake-cdf: unknown endpoint ${method} ${path}`);
    return { status: 404, body: err.toBody() };
  }

  function faultOutcome(action: FaultAction): Outcome {
    const status = action.status ?? 500;
    return {
      status,
      // The reason phrase a real gateway would send, so output reads as it would against CDF.
      body: new ApiError(status, `${STATUS_CODES[status] ?? 'Error'} (injected fault)`).toBody(),
      ...(action.retryAfterSeconds !== undefined
        ? { headers: { 'retry-after': String(action.retryAfterSeconds) } }
        : {}),
    };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://sandbox.invalid');
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
    const isAdmin = path === ADMIN_PREFIX || path.startsWith(`${ADMIN_PREFIX}/`);
    const projectMatch = PROJECT_PATH.exec(path);
    const entry: RequestLogEntry = { time: new Date(started).toISOString(), method, path, status: null };
    if (projectMatch?.[1]) entry.project = decodeURIComponent(projectMatch[1]);

    const finish = (outcome: Outcome) => {
      if (res.headersSent || res.destroyed) return;
      sendJson(res, outcome.status, outcome.body, outcome.headers);
      const ms = Date.now() - started;
      entry.status = outcome.status;
      entry.durationMs = ms;
      logger.debug({ method, path, status: outcome.status, ms }, 'fake CDF request');
    };

    if (!isAdmin) requestLog.add(entry);
    try {
      const body = await readBody(req);
      if (isAdmin) {
        finish({
          status: 200,
          body: handleAdmin(
            { store, faults, requestLog },
            { method, path: path.slice(ADMIN_PREFIX.length), query: url.searchParams, body },
          ),
        });
        return;
      }
      const action = faults.take(method, projectMatch ? (projectMatch[2] ?? '') : path);
      if (action) {
        entry.faultId = action.faultId;
        logger.debug({ method, path, fault: action }, 'fake-cdf: injecting fault');
        if (action.hang) return; // The socket stays open until the client gives up or close() runs.
        if (action.latencyMs > 0) await sleep(action.latencyMs);
        if (closing) return;
        if (action.status !== undefined) {
          finish(faultOutcome(action));
          return;
        }
      }
      finish(handleCdf(method, path, url.searchParams, req, body));
    } catch (err) {
      if (err instanceof ApiError) {
        finish({ status: err.status, body: err.toBody() });
        return;
      }
      logger.error({ err, method, path }, 'fake-cdf: internal error');
      finish({
        status: 500,
        body: new ApiError(500, `fake-cdf: internal error: ${(err as Error).message}`).toBody(),
      });
    }
  }

  const server = createServer((req, res) => {
    void handle(req, res);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('fake-cdf: server has no TCP address');
  const host = opts.host ?? '127.0.0.1';
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const url = `http://${urlHost}:${address.port}`;
  logger.info({ url, projects, stateFile: opts.stateFile }, 'fake CDF listening');

  let closed: Promise<void> | undefined;
  return {
    url,
    port: address.port,
    close: () => {
      closed ??= new Promise<void>((resolve, reject) => {
        closing = true;
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.close((err) => (err ? reject(err) : resolve()));
        // Hung and keep-alive sockets would otherwise hold server.close() open forever.
        for (const socket of sockets) socket.destroy();
      });
      return closed;
    },
  };
}
