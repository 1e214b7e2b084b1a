/** A minimal Kubernetes API client on Node's built-in http/https: the bundled program has no dependencies. */
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';

/** How to reach the API server. */
export interface ApiAccess {
  readonly server: string;
  readonly inCluster?: boolean;
  readonly caFile?: string;
  readonly tokenFile?: string;
  readonly clientCertFile?: string;
  readonly clientKeyFile?: string;
}

/** Loosely typed API objects: the program reads a handful of fields and keeps the rest as it came. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type KubeObject = { [key: string]: any };

export interface ApiResponse {
  readonly status: number;
  readonly body: KubeObject | string | null;
}

export interface RequestOptions {
  readonly body?: unknown;
  readonly contentType?: string;
  readonly timeout?: number;
}

export interface ApiClient {
  request(method: string, path: string, options?: RequestOptions): Promise<ApiResponse>;
  close(): void;
}

export const USER_AGENT = 'rwop-failover-controller/2.0';
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

export class ApiError extends Error {
  public readonly status: number;
  public readonly body: unknown;
  public constructor(method: string, path: string, status: number, body: unknown) {
    const detail = body && typeof body === 'object' && typeof (body as KubeObject).message === 'string' ? (body as KubeObject).message
      : typeof body === 'string' ? body.slice(0, 200) : '';
    super(`${method} ${path}: HTTP ${status}${detail ? `: ${detail}` : ''}`);
    this.name = 'ApiError';
    this.status = status;
    this.body = body;
  }
}

/** The body as an object, or null for an empty or non-JSON body. */
export function objectBody(res: ApiResponse): KubeObject | null {
  return res.body !== null && typeof res.body === 'object' ? res.body : null;
}

/**
 * The bearer token is read from its file on every request because projected service account tokens are rotated.
 */
export function createApiClient(api: ApiAccess, options: { timeoutMs?: number; userAgent?: string; readFile?: (file: string) => Promise<string> } = {}): ApiClient {
  const timeoutMs = options.timeoutMs ?? 5000;
  const userAgent = options.userAgent ?? USER_AGENT;
  const readFile = options.readFile ?? ((file: string) => fs.promises.readFile(file, 'utf8'));
  const base = new URL(api.server);
  const isHttps = base.protocol === 'https:';
  const basePath = base.pathname.replace(/\/+$/, '');
  const hostname = base.hostname.replace(/^\[|\]$/g, '');
  const port = base.port ? Number(base.port) : isHttps ? 443 : 80;
  const agent = isHttps
    ? new https.Agent({
      keepAlive: true,
      maxSockets: 4,
      ca: api.caFile ? fs.readFileSync(api.caFile) : undefined,
      cert: api.clientCertFile ? fs.readFileSync(api.clientCertFile) : undefined,
      key: api.clientKeyFile ? fs.readFileSync(api.clientKeyFile) : undefined,
    })
    : new http.Agent({ keepAlive: true, maxSockets: 4 });

  async function request(method: string, path: string, opts: RequestOptions = {}): Promise<ApiResponse> {
    const timeout = opts.timeout ?? timeoutMs;
    const headers: Record<string, string> = { 'Accept': 'application/json', 'User-Agent': userAgent };
    if (api.tokenFile) {
      const token = String(await readFile(api.tokenFile)).trim();
      if (token) headers.Authorization = `Bearer ${token}`;
    }
    let payload: Buffer | undefined;
    if (opts.body !== undefined) {
      payload = Buffer.from(JSON.stringify(opts.body));
      headers['Content-Type'] = opts.contentType ?? 'application/json';
      headers['Content-Length'] = String(payload.length);
    }
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (err: Error | null, value?: ApiResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(value!);
      };
      const transport = isHttps ? https : http;
      const req = transport.request({ hostname, port, method, path: basePath + path, headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            req.destroy(new Error(`${method} ${path}: response larger than ${MAX_RESPONSE_BYTES} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('error', (err) => finish(err));
        res.on('aborted', () => finish(new Error(`${method} ${path}: response aborted`)));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: KubeObject | string | null = null;
          if (text) {
            try {
              parsed = JSON.parse(text);
            } catch {
              parsed = text;
            }
          }
          finish(null, { status: res.statusCode ?? 0, body: parsed });
        });
      });
      const timer = setTimeout(() => req.destroy(new Error(`${method} ${path}: timed out after ${timeout} ms`)), timeout);
      req.on('error', (err) => finish(err));
      if (payload) req.write(payload);
      req.end();
    });
  }

  return { request, close: () => agent.destroy() };
}

const enc = encodeURIComponent;
export const leasePath = (ns: string, name?: string) => `/apis/coordination.k8s.io/v1/namespaces/${enc(ns)}/leases${name ? `/${enc(name)}` : ''}`;
export const podPath = (ns: string, name: string) => `/api/v1/namespaces/${enc(ns)}/pods/${enc(name)}`;
export const nodePath = (name: string) => `/api/v1/nodes/${enc(name)}`;
