/**
 * A local stand-in for alert endpoints (generic webhook and Slack incoming webhook): records every POST so the
 * demo can print alerts and tests can assert on them. Fault injection: `failNext` makes the next N posts 503.
 */
import { createServer, type Server } from 'node:http';

export interface ReceivedAlert {
  path: string;
  receivedAt: string;
  body: unknown;
}

export interface AlertReceiver {
  url: string;
  received: ReceivedAlert[];
  failNext(n: number): void;
  waitFor(predicate: (a: ReceivedAlert) => boolean, timeoutMs?: number): Promise<ReceivedAlert>;
  close(): Promise<void>;
}

export async function startAlertReceiver(
  options: { port?: number; onAlert?: (a: ReceivedAlert) => void } = {},
): Promise<AlertReceiver> {
  const received: ReceivedAlert[] = [];
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
      received.push(alert);
      options.onAlert?.(alert);
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      for (const w of waiters.splice(0)) w();
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
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
