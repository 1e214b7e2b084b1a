/**
 * A small Kubernetes REST client for the cluster suite: admin client
 * certificate from the control plane's work dir, server-side apply with
 * fieldValidation=Strict, warning headers, discovery, watches.
 * Node.js built-ins only, so what is exercised is the API server, not a client library.
 */
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';
import { attachControlPlane, ControlPlane } from '../control-plane';

/** Field manager of everything the suite applies. */
export const FIELD_MANAGER = 'cdk8s-stateful-cluster-test';

/** Pod Security Standards labels every test namespace carries. */
export const RESTRICTED_LABELS: Readonly<Record<string, string>> = {
  'pod-security.kubernetes.io/enforce': 'restricted',
  'pod-security.kubernetes.io/warn': 'restricted',
  'pod-security.kubernetes.io/audit': 'restricted',
};

export interface ApiResponse {
  readonly status: number;
  readonly body: any;
  /** Texts of the Warning headers (RFC 7234 warn-text, unquoted). */
  readonly warnings: string[];
}

export interface RequestOptions {
  readonly body?: unknown;
  readonly contentType?: string;
  readonly timeoutMs?: number;
}

interface ResourceInfo {
  readonly plural: string;
  readonly namespaced: boolean;
}

export interface WatchEvent {
  readonly type: string;
  readonly object: any;
  /** Local clock (ms since epoch) when the event arrived. */
  readonly receivedAt: number;
}

export interface Watch {
  readonly events: WatchEvent[];
  stop(): void;
}

export class ApiError extends Error {
  public constructor(public readonly method: string, public readonly path: string, public readonly response: ApiResponse) {
    super(`${method} ${path}: HTTP ${response.status}: ${typeof response.body === 'object' && response.body?.message ? response.body.message : JSON.stringify(response.body)}`);
  }
}

function warningTexts(rawHeaders: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i].toLowerCase() !== 'warning') continue;
    const m = /^\d{3} \S+ "((?:[^"\\]|\\.)*)"/.exec(rawHeaders[i + 1]);
    out.push(m ? m[1].replace(/\\(.)/g, '$1') : rawHeaders[i + 1]);
  }
  return out;
}

export class Kube {
  /** Connects to the suite's control plane (K8S_WORK_DIR set by the jest global setup). */
  public static connect(): Kube {
    return new Kube(attachControlPlane());
  }

  public readonly server: URL;
  /** CA bundle file of the API server (what an in-cluster client gets as ca.crt). */
  public readonly caFile: string;
  private readonly agent: https.Agent;
  private readonly discovery = new Map<string, Map<string, ResourceInfo>>();

  public constructor(public readonly cp: ControlPlane) {
    this.server = new URL(cp.server);
    const pki = path.join(cp.workDir, 'pki');
    this.caFile = path.join(pki, 'ca.crt');
    this.agent = new https.Agent({
      keepAlive: true,
      maxSockets: 8,
      ca: fs.readFileSync(this.caFile),
      cert: fs.readFileSync(path.join(pki, 'admin.crt')),
      key: fs.readFileSync(path.join(pki, 'admin.key')),
    });
  }

  public close(): void {
    this.agent.destroy();
  }

  public request(method: string, urlPath: string, opts: RequestOptions = {}): Promise<ApiResponse> {
    const payload = opts.body === undefined ? undefined : Buffer.from(typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body));
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (payload) {
      headers['Content-Type'] = opts.contentType ?? 'application/json';
      headers['Content-Length'] = String(payload.length);
    }
    return new Promise((resolve, reject) => {
      const req = https.request({
        hostname: this.server.hostname, port: this.server.port, method, path: urlPath, headers, agent: this.agent,
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: any = text;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            // not JSON: keep the text
          }
          resolve({ status: res.statusCode ?? 0, body, warnings: warningTexts(res.rawHeaders) });
        });
      });
      req.setTimeout(opts.timeoutMs ?? 60_000, () => req.destroy(new Error(`${method} ${urlPath}: timed out`)));
      req.on('error', reject);
      if (payload) req.write(payload);
      req.end();
    });
  }

  /** Like request(), but rejects on a status outside 2xx. */
  public async call(method: string, urlPath: string, opts: RequestOptions = {}): Promise<ApiResponse> {
    const res = await this.request(method, urlPath, opts);
    if (res.status < 200 || res.status > 299) throw new ApiError(method, urlPath, res);
    return res;
  }

  private async resourceInfo(apiVersion: string, kind: string): Promise<ResourceInfo> {
    for (let attempt = 0; attempt < 2; attempt++) {
      let kinds = this.discovery.get(apiVersion);
      if (!kinds || attempt > 0) {
        const res = await this.call('GET', apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`);
        kinds = new Map();
        for (const r of res.body.resources as any[]) {
          if (!r.name.includes('/')) kinds.set(r.kind, { plural: r.name, namespaced: r.namespaced });
        }
        this.discovery.set(apiVersion, kinds);
      }
      const info = kinds.get(kind);
      if (info) return info;
    }
    throw new Error(`the API server does not serve ${kind} in ${apiVersion}`);
  }

  /** Collection path of a kind (in a namespace, for namespaced kinds). */
  public async collectionPath(apiVersion: string, kind: string, namespace?: string): Promise<string> {
    const info = await this.resourceInfo(apiVersion, kind);
    const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    if (info.namespaced && !namespace) throw new Error(`${kind} is namespaced: a namespace is needed`);
    return `${base}${info.namespaced ? `/namespaces/${namespace}` : ''}/${info.plural}`;
  }

  public async objectPath(obj: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }): Promise<string> {
    return `${await this.collectionPath(obj.apiVersion, obj.kind, obj.metadata.namespace)}/${obj.metadata.name}`;
  }

  /**
   * Server-side apply with fieldValidation=Strict (unknown or duplicate fields are errors); with dryRun the
   * server admits and validates the change but stores nothing.
   * Returns the live object and the warnings the API server sent.
   */
  public async apply(obj: any, opts: { dryRun?: boolean } = {}): Promise<ApiResponse> {
    const query = new URLSearchParams({ fieldManager: FIELD_MANAGER, fieldValidation: 'Strict', ...(opts.dryRun ? { dryRun: 'All' } : {}) });
    return this.call('PATCH', `${await this.objectPath(obj)}?${query}`, {
      body: obj, contentType: 'application/apply-patch+yaml',
    });
  }

  /** The live object, or undefined when it does not exist. */
  public async get(apiVersion: string, kind: string, name: string, namespace?: string): Promise<any | undefined> {
    const p = `${await this.collectionPath(apiVersion, kind, namespace)}/${name}`;
    const res = await this.request('GET', p);
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new ApiError('GET', p, res);
    return res.body;
  }

  public async list(apiVersion: string, kind: string, namespace?: string, query: Record<string, string> = {}): Promise<any[]> {
    const p = `${await this.collectionPath(apiVersion, kind, namespace)}?${new URLSearchParams(query)}`;
    return (await this.call('GET', p)).body.items ?? [];
  }

  /** Deletes an object; a missing object is fine. */
  public async delete(apiVersion: string, kind: string, name: string, namespace?: string, options: Record<string, unknown> = {}): Promise<void> {
    const p = `${await this.collectionPath(apiVersion, kind, namespace)}/${name}`;
    const res = await this.request('DELETE', p, { body: { kind: 'DeleteOptions', apiVersion: 'v1', ...options } });
    if (res.status !== 404 && (res.status < 200 || res.status > 299)) throw new ApiError('DELETE', p, res);
  }

  public async pods(namespace: string, labelSelector?: string): Promise<any[]> {
    return this.list('v1', 'Pod', namespace, labelSelector ? { labelSelector } : {});
  }

  /**
   * Watches a collection from now on (a list first, so that the watch starts at its resourceVersion);
   * the initial objects are recorded as synthetic INITIAL events.
   */
  public async watch(apiVersion: string, kind: string, namespace: string | undefined, onEvent?: (e: WatchEvent) => void): Promise<Watch> {
    const collection = await this.collectionPath(apiVersion, kind, namespace);
    const initial = (await this.call('GET', collection)).body;
    const events: WatchEvent[] = [];
    const push = (e: WatchEvent) => {
      events.push(e);
      onEvent?.(e);
    };
    for (const item of initial.items ?? []) push({ type: 'INITIAL', object: item, receivedAt: Date.now() });
    let stopped = false;
    let req: ReturnType<typeof https.request> | undefined;
    let resourceVersion: string = initial.metadata.resourceVersion;
    const start = () => {
      if (stopped) return;
      const query = new URLSearchParams({ watch: '1', resourceVersion, allowWatchBookmarks: 'true', timeoutSeconds: '1800' });
      req = https.request({
        hostname: this.server.hostname, port: this.server.port, method: 'GET', path: `${collection}?${query}`,
        headers: { Accept: 'application/json' }, agent: false, ca: (this.agent.options as any).ca,
        cert: (this.agent.options as any).cert, key: (this.agent.options as any).key,
      }, (res) => {
        let pending = '';
        res.on('data', (chunk: Buffer) => {
          pending += chunk.toString('utf8');
          const lines = pending.split('\n');
          pending = lines.pop() ?? '';
          for (const line of lines) {
            if (!line.trim()) continue;
            const e = JSON.parse(line);
            if (e.object?.metadata?.resourceVersion) resourceVersion = e.object.metadata.resourceVersion;
            if (e.type === 'BOOKMARK') continue;
            // ERROR events (e.g. 410 Gone) are kept for the test to see; the watch is not resumed past them
            if (e.type === 'ERROR') stopped = true;
            push({ type: e.type, object: e.object, receivedAt: Date.now() });
          }
        });
        // the server ends watches after timeoutSeconds; carry on from the last version seen
        res.on('end', () => setTimeout(start, 100));
      });
      req.on('error', () => {
        if (!stopped) setTimeout(start, 500);
      });
      req.end();
    };
    start();
    return {
      events,
      stop: () => {
        stopped = true;
        req?.destroy();
      },
    };
  }

  /** Creates (or updates) a namespace enforcing Pod Security "restricted", and waits for its default ServiceAccount. */
  public async createNamespace(name: string, labels: Record<string, string> = {}): Promise<void> {
    const res = await this.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { ...RESTRICTED_LABELS, ...labels } } });
    if (res.warnings.length > 0) throw new Error(`namespace ${name}: unexpected warnings: ${res.warnings.join('; ')}`);
    // pods are refused until the service account controller has created "default"
    await waitFor(`ServiceAccount default in ${name}`, () => this.get('v1', 'ServiceAccount', 'default', name), { timeoutMs: 60_000 });
  }

  /** Deletes namespaces and waits until they are gone. */
  public async deleteNamespaces(names: string[], timeoutMs = 180_000): Promise<void> {
    await Promise.all(names.map((n) => this.delete('v1', 'Namespace', n)));
    await Promise.all(names.map((n) => waitFor(`namespace ${n} deleted`, async () => (await this.get('v1', 'Namespace', n)) === undefined, { timeoutMs })));
  }

  /** Warning events (and FailedCreate of any type) in a namespace. */
  public async warningEvents(namespace: string): Promise<any[]> {
    const events = await this.list('v1', 'Event', namespace);
    return events.filter((e) => e.type === 'Warning' || e.reason === 'FailedCreate');
  }
}

export interface WaitOptions {
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
}

/** Polls `check` until it returns a truthy value, and returns that value. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | null | false>, opts: WaitOptions = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${opts.timeoutMs ?? 120_000} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    }
    await sleep(opts.intervalMs ?? 250);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function condition(obj: any, type: string): any | undefined {
  return (obj?.status?.conditions ?? []).find((c: any) => c.type === type);
}

export function isPodReady(pod: any): boolean {
  return pod?.status?.phase === 'Running' && condition(pod, 'Ready')?.status === 'True' && !pod.metadata.deletionTimestamp;
}

/** Ordinal of a StatefulSet pod (from its name). */
export function ordinalOf(podName: string): number {
  return Number(/-(\d+)$/.exec(podName)![1]);
}
