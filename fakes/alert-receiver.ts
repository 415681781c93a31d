/**
 * A local stand-in for alert endpoints: records every accepted POST so the demo can print alerts and tests can
 * assert on real bodies. Any path takes JSON (a generic webhook, Slack); two paths answer as the real services do
 * and refuse what they would refuse, so a broken body fails a test instead of passing unnoticed:
 *
 * - `/pagerduty…`: PagerDuty's Events API v2. 202 `{"status":"success","message":"Event processed","dedup_key"}`,
 *   or 400 `{"status":"invalid event","message":"Event object is invalid","errors":[…]}`.
 * - `/teams…`: a Teams (Workflows) webhook: 202 for an Adaptive Card message, 400 for anything else.
 *
 * Fault injection: `failNext` makes the next N posts 503.
 */
import { createServer, type Server } from 'node:http';

export interface ReceivedAlert {
  path: string;
  receivedAt: string;
  body: unknown;
}

export interface RefusedAlert extends ReceivedAlert {
  errors: string[];
}

export interface AlertReceiver {
  url: string;
  received: ReceivedAlert[];
  /** Bodies a `/pagerduty` or `/teams` path refused, with the reasons it gave. */
  refused: RefusedAlert[];
  failNext(n: number): void;
  waitFor(predicate: (a: ReceivedAlert) => boolean, timeoutMs?: number): Promise<ReceivedAlert>;
  close(): Promise<void>;
}

export async function startAlertReceiver(
  options: { port?: number; onAlert?: (a: ReceivedAlert) => void } = {},
): Promise<AlertReceiver> {
  const received: ReceivedAlert[] = [];
  const refused: RefusedAlert[] = [];
  let failures = 0;
  const waiters: Array<() => void> = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST') {
        res.writeHead(405).end();
        return;
      }
      if (failures > 0) {
        failures -= 1;
        res.writeHead(503, { 'content-type': 'text/plain' }).end('receiver: injected failure');
        return;
      }
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        res.writeHead(400).end('invalid json');
        return;
      }
      const alert = { path: req.url ?? '/', receivedAt: new Date().toISOString(), body };
      const service = serviceAt(alert.path);
      const errors = service ? CHECKS[service](body) : [];
      if (errors.length) {
        refused.push({ ...alert, errors });
        if (service === 'pagerduty')
          res
            .writeHead(400, { 'content-type': 'application/json' })
            .end(JSON.stringify({ status: 'invalid event', message: 'Event object is invalid', errors }));
        else res.writeHead(400, { 'content-type': 'text/plain' }).end(errors.join('; '));
        return;
      }
      received.push(alert);
      options.onAlert?.(alert);
      if (service === 'pagerduty') {
        const dedupKey = (body as { dedup_key: string }).dedup_key;
        res
          .writeHead(202, { 'content-type': 'application/json' })
          .end(JSON.stringify({ status: 'success', message: 'Event processed', dedup_key: dedupKey }));
      } else if (service === 'teams') {
        res.writeHead(202).end();
      } else {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      }
      for (const w of waiters.splice(0)) w();
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    refused,
    failNext(n) {
      failures = n;
    },
    async waitFor(predicate, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = received.find(predicate);
        if (hit) return hit;
        if (Date.now() > deadline) throw new Error('alert receiver: timed out waiting for an alert');
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 250);
        });
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

type Service = 'pagerduty' | 'teams';

function serviceAt(path: string): Service | undefined {
  if (/^\/pagerduty(\/|\?|$)/.test(path)) return 'pagerduty';
  if (/^\/teams(\/|\?|$)/.test(path)) return 'teams';
  return undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/** What each service refuses, loosely: the fields a sender cannot do without. */
const CHECKS: Record<Service, (body: unknown) => string[]> = {
  pagerduty(body) {
    if (!isObject(body)) return ['the event must be a JSON object'];
    const errors: string[] = [];
    if (!isText(body.routing_key) || body.routing_key.length !== 32)
      errors.push("Length of 'routing_key' is incorrect (should be 32 characters)");
    if (!['trigger', 'acknowledge', 'resolve'].includes(body.event_action as string))
      errors.push("'event_action' is invalid (must be one of: trigger, acknowledge, resolve)");
    // The real API makes up a dedup key for a trigger without one; this service always sends its own, and a
    // trigger without it could never be resolved, so the stand-in refuses it.
    if (!isText(body.dedup_key) || body.dedup_key.length > 255)
      errors.push("'dedup_key' is missing or longer than 255 characters");
    if (body.event_action === 'trigger') {
      const p = body.payload;
      if (!isObject(p)) errors.push("'payload' is missing");
      else {
        if (!isText(p.summary) || p.summary.length > 1024)
          errors.push("'payload.summary' is missing or longer than 1024 characters");
        if (!isText(p.source)) errors.push("'payload.source' is missing");
        if (!['critical', 'error', 'warning', 'info'].includes(p.severity as string))
          errors.push("'payload.severity' is invalid");
      }
    }
    return errors;
  },
  teams(body) {
    const attachment = isObject(body) && Array.isArray(body.attachments) ? body.attachments[0] : undefined;
    const ok =
      isObject(body) &&
      body.type === 'message' &&
      isObject(attachment) &&
      attachment.contentType === 'application/vnd.microsoft.card.adaptive' &&
      isObject(attachment.content) &&
      attachment.content.type === 'AdaptiveCard' &&
      Array.isArray(attachment.content.body);
    return ok ? [] : ['not a message with an Adaptive Card attachment'];
  },
};
