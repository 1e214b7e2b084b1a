/** The /healthz endpoint the Deployment's liveness probe calls: a stuck loop gets its container restarted. */
import * as http from 'http';
import { HEALTH_PATH } from '../contract';

export interface HealthState {
  /** Monotonic ms when the last reconcile pass ended (or the process started). */
  lastPassEnd(): number;
  /** How old lastPassEnd may be before the process counts as stuck. */
  readonly staleAfterMs: number;
  readonly mono: () => number;
}

/** 200 while passes keep completing; 503 with the age of the last pass once they stop (a hung request, a busy loop). */
export function healthResponse(state: HealthState): { status: number; body: string } {
  const age = state.mono() - state.lastPassEnd();
  if (age > state.staleAfterMs) {
    return { status: 503, body: `stuck: the last reconcile pass ended ${(age / 1000).toFixed(1)} s ago (limit ${(state.staleAfterMs / 1000).toFixed(0)} s)\n` };
  }
  return { status: 200, body: 'ok\n' };
}

export function startHealthServer(port: number, state: HealthState): http.Server {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== HEALTH_PATH) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found\n');
      return;
    }
    const { status, body } = healthResponse(state);
    res.writeHead(status, { 'Content-Type': 'text/plain' });
    res.end(body);
  });
  server.listen(port);
  return server;
}
