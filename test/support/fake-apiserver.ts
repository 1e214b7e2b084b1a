/*
 * A small in-memory Kubernetes API server for tests of the failover
 * controller: leases (and the node heartbeat lease list), pods, pod delete and node get/patch, with
 * resourceVersion conflicts and uid preconditions like the real one.
 */
import * as http from 'http';
import { AddressInfo } from 'net';

/* eslint-disable @typescript-eslint/no-explicit-any */
export type KubeObject = Record<string, any>;

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: any;
  contentType: string | undefined;
  userAgent: string;
  authorization: string | undefined;
  status: number;
}

export interface NodeOptions {
  ready: 'True' | 'False' | 'Unknown';
  /** When the Ready condition last changed. */
  since: Date;
  taints?: KubeObject[];
}

export interface PodOptions {
  nodeName?: string;
  labels?: Record<string, string>;
}

interface Route {
  method: string;
  pattern: RegExp;
  handler: (m: RegExpExecArray, req: RecordedRequest) => [number, any];
}

function status(code: number, reason: string, message: string): [number, KubeObject] {
  return [code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason, message, code }];
}

function clone<T>(value: T): T {
  return value === undefined ? value : JSON.parse(JSON.stringify(value));
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: any, patch: any): any {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return clone(patch);
  const result: KubeObject = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

function splitSelector(selector: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      terms.push(current.trim());
      current = '';
    } else current += ch;
  }
  terms.push(current.trim());
  return terms.filter((t) => t !== '');
}

/** Label selector matching for the forms the controller may send. */
export function matchesSelector(labels: Record<string, string>, selector: string): boolean {
  return splitSelector(selector).every((term) => {
    let m: RegExpExecArray | null;
    if ((m = /^(\S+?)\s*(==|=|!=)\s*(\S*)$/.exec(term))) {
      const equal = labels[m[1]] === m[3];
      return m[2] === '!=' ? !equal : equal;
    }
    if ((m = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(term))) {
      const values = m[3].split(',').map((v) => v.trim());
      const inSet = m[1] in labels && values.includes(labels[m[1]]);
      return m[2] === 'in' ? inSet : !inSet;
    }
    if ((m = /^!(\S+)$/.exec(term))) return !(m[1] in labels);
    return term in labels;
  });
}

export class FakeApiServer {
  readonly leases = new Map<string, KubeObject>();
  readonly pods = new Map<string, KubeObject>();
  readonly nodes = new Map<string, KubeObject>();
  readonly requests: RecordedRequest[] = [];
  /** Every lease spec written, in order, to check transitions and releases. */
  readonly leaseHistory: KubeObject[] = [];
  /** When set, requests must carry "Authorization: Bearer <token>" with one of these tokens. */
  readonly acceptedTokens = new Set<string>();
  /** When true, listing the node heartbeat leases fails with 403 (a missing RBAC rule). */
  failNodeLeaseList = false;
  /** When true, every lease request fails with 500 (an unreachable control plane). */
  failLeaseRequests = false;
  /** Node names whose next PATCH loses a race: the node changes first, then 409. */
  readonly conflictOnNextNodePatch = new Set<string>();

  private server: http.Server | undefined;
  private resourceVersion = 100;
  private uidCounter = 0;
  private readonly routes: Route[];

  constructor() {
    const leases = '^/apis/coordination\\.k8s\\.io/v1/namespaces/([^/]+)/leases';
    this.routes = [
      { method: 'GET', pattern: new RegExp(`${leases}/([^/]+)$`), handler: (m) => this.getLease(m[1], m[2]) },
      { method: 'GET', pattern: new RegExp(`${leases}$`), handler: (m) => this.listLeases(m[1]) },
      { method: 'POST', pattern: new RegExp(`${leases}$`), handler: (m, r) => this.createLease(m[1], r.body) },
      { method: 'PUT', pattern: new RegExp(`${leases}/([^/]+)$`), handler: (m, r) => this.updateLease(m[1], m[2], r.body) },
      { method: 'GET', pattern: /^\/api\/v1\/namespaces\/([^/]+)\/pods$/, handler: (m, r) => this.listPods(m[1], r.query) },
      { method: 'GET', pattern: /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/, handler: (m) => this.getPod(m[1], m[2]) },
      { method: 'DELETE', pattern: /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/, handler: (m, r) => this.deletePod(m[1], m[2], r.body) },
      { method: 'GET', pattern: /^\/api\/v1\/nodes\/([^/]+)$/, handler: (m) => this.getNode(m[1]) },
      { method: 'PATCH', pattern: /^\/api\/v1\/nodes\/([^/]+)$/, handler: (m, r) => this.patchNode(m[1], r) },
    ];
  }

  /** Starts listening on a random loopback port and returns the base URL. */
  async start(): Promise<string> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this.url;
  }

  get url(): string {
    const address = this.server!.address() as AddressInfo;
    return `http://127.0.0.1:${address.port}`;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    const server = this.server;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  addNode(name: string, options: NodeOptions): KubeObject {
    const node: KubeObject = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, uid: this.nextUid(), resourceVersion: this.nextResourceVersion() },
      spec: options.taints ? { taints: clone(options.taints) } : {},
      status: {
        conditions: [
          { type: 'MemoryPressure', status: 'False', lastTransitionTime: '2026-01-01T00:00:00Z' },
          { type: 'Ready', status: options.ready, lastTransitionTime: options.since.toISOString().replace(/\.\d+Z$/, 'Z') },
        ],
      },
    };
    this.nodes.set(name, node);
    return node;
  }

  addPod(namespace: string, name: string, options: PodOptions = {}): KubeObject {
    const pod: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace, uid: this.nextUid(), resourceVersion: this.nextResourceVersion(), labels: { ...(options.labels ?? {}) } },
      spec: options.nodeName ? { nodeName: options.nodeName, containers: [{ name: 'app', image: 'app' }] } : { containers: [{ name: 'app', image: 'app' }] },
      status: { phase: 'Running' },
    };
    this.pods.set(`${namespace}/${name}`, pod);
    return pod;
  }

  lease(namespace: string, name: string): KubeObject | undefined {
    return this.leases.get(`${namespace}/${name}`);
  }

  /** Writes a lease directly, as another client would. */
  putLease(namespace: string, name: string, spec: KubeObject): KubeObject {
    const lease: KubeObject = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, namespace, uid: this.lease(namespace, name)?.metadata.uid ?? this.nextUid(), resourceVersion: this.nextResourceVersion() },
      spec: clone(spec),
    };
    this.leases.set(`${namespace}/${name}`, lease);
    this.leaseHistory.push(clone(lease.spec));
    return lease;
  }

  private nextResourceVersion(): string {
    this.resourceVersion += 1;
    return String(this.resourceVersion);
  }

  private nextUid(): string {
    this.uidCounter += 1;
    return `00000000-0000-4000-8000-${String(this.uidCounter).padStart(12, '0')}`;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const text = Buffer.concat(chunks).toString('utf8');
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        path: decodeURIComponent(url.pathname),
        query: url.searchParams,
        body: undefined,
        contentType: req.headers['content-type'],
        userAgent: String(req.headers['user-agent'] ?? ''),
        authorization: req.headers.authorization,
        status: 0,
      };
      let result: [number, any];
      try {
        recorded.body = text ? JSON.parse(text) : undefined;
        result = this.route(req, recorded);
      } catch (err) {
        result = status(400, 'BadRequest', `cannot decode body: ${(err as Error).message}`);
      }
      recorded.status = result[0];
      this.requests.push(recorded);
      const payload = JSON.stringify(result[1]);
      res.writeHead(result[0], { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) });
      res.end(payload);
    });
  }

  private route(req: http.IncomingMessage, recorded: RecordedRequest): [number, any] {
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    if (this.acceptedTokens.size > 0 && !(bearer && this.acceptedTokens.has(bearer[1]))) {
      return status(401, 'Unauthorized', 'Unauthorized');
    }
    let pathMatched = false;
    for (const route of this.routes) {
      const m = route.pattern.exec(recorded.path);
      if (!m) continue;
      pathMatched = true;
      if (route.method !== recorded.method) continue;
      if (this.failLeaseRequests && recorded.path.includes('/leases')) {
        return status(500, 'InternalError', 'etcdserver: request timed out');
      }
      return route.handler(m, recorded);
    }
    return pathMatched ? status(405, 'MethodNotAllowed', 'method not allowed') : status(404, 'NotFound', 'the server could not find the requested resource');
  }

  /** A kubelet heartbeat: the node's Lease in kube-node-lease with a new renewTime. */
  renewNodeLease(node: string, at: Date = new Date()): KubeObject {
    return this.putLease('kube-node-lease', node, { holderIdentity: node, leaseDurationSeconds: 40, renewTime: at.toISOString().replace('Z', '000Z') });
  }

  private listLeases(namespace: string): [number, any] {
    if (namespace === 'kube-node-lease' && this.failNodeLeaseList) {
      return status(403, 'Forbidden', 'leases.coordination.k8s.io is forbidden: User cannot list resource "leases" in API group "coordination.k8s.io" in the namespace "kube-node-lease"');
    }
    const items = [...this.leases.values()].filter((l) => l.metadata.namespace === namespace);
    return [200, { kind: 'LeaseList', apiVersion: 'coordination.k8s.io/v1', metadata: { resourceVersion: String(this.resourceVersion) }, items: clone(items) }];
  }

  private getLease(namespace: string, name: string): [number, any] {
    const lease = this.lease(namespace, name);
    return lease ? [200, clone(lease)] : status(404, 'NotFound', `leases.coordination.k8s.io "${name}" not found`);
  }

  private createLease(namespace: string, body: KubeObject): [number, any] {
    const name = body?.metadata?.name;
    if (!name) return status(422, 'Invalid', 'metadata.name: Required value');
    if (this.lease(namespace, name)) return status(409, 'AlreadyExists', `leases.coordination.k8s.io "${name}" already exists`);
    const lease = this.putLease(namespace, name, body.spec ?? {});
    return [201, clone(lease)];
  }

  private updateLease(namespace: string, name: string, body: KubeObject): [number, any] {
    const current = this.lease(namespace, name);
    if (!current) return status(404, 'NotFound', `leases.coordination.k8s.io "${name}" not found`);
    if (body?.metadata?.name !== name) return status(400, 'BadRequest', 'the name of the object does not match the name on the URL');
    const rv = body.metadata.resourceVersion;
    if (rv !== undefined && rv !== current.metadata.resourceVersion) {
      return status(409, 'Conflict', `Operation cannot be fulfilled on leases.coordination.k8s.io "${name}": the object has been modified; please apply your changes to the latest version and try again`);
    }
    if (body.spec?.leaseDurationSeconds !== undefined && body.spec.leaseDurationSeconds <= 0) {
      return status(422, 'Invalid', 'spec.leaseDurationSeconds: Invalid value: must be greater than 0');
    }
    return [200, clone(this.putLease(namespace, name, body.spec ?? {}))];
  }

  private listPods(namespace: string, query: URLSearchParams): [number, any] {
    const selector = query.get('labelSelector') ?? '';
    const items = [...this.pods.values()].filter(
      (p) => p.metadata.namespace === namespace && matchesSelector(p.metadata.labels ?? {}, selector),
    );
    return [200, { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: String(this.resourceVersion) }, items: clone(items) }];
  }

  private getPod(namespace: string, name: string): [number, any] {
    const pod = this.pods.get(`${namespace}/${name}`);
    return pod ? [200, clone(pod)] : status(404, 'NotFound', `pods "${name}" not found`);
  }

  private deletePod(namespace: string, name: string, body: KubeObject | undefined): [number, any] {
    const key = `${namespace}/${name}`;
    const pod = this.pods.get(key);
    if (!pod) return status(404, 'NotFound', `pods "${name}" not found`);
    const uid = body?.preconditions?.uid;
    if (uid !== undefined && uid !== pod.metadata.uid) {
      return status(409, 'Conflict', `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${pod.metadata.uid}`);
    }
    if (body?.gracePeriodSeconds === 0) {
      this.pods.delete(key);
      return [200, clone(pod)];
    }
    // A graceful delete of a pod on a dead node never completes: it stays Terminating.
    pod.metadata.deletionTimestamp = pod.metadata.deletionTimestamp ?? new Date().toISOString();
    pod.metadata.resourceVersion = this.nextResourceVersion();
    return [200, clone(pod)];
  }

  private getNode(name: string): [number, any] {
    const node = this.nodes.get(name);
    return node ? [200, clone(node)] : status(404, 'NotFound', `nodes "${name}" not found`);
  }

  private patchNode(name: string, req: RecordedRequest): [number, any] {
    const node = this.nodes.get(name);
    if (!node) return status(404, 'NotFound', `nodes "${name}" not found`);
    if (req.contentType !== 'application/merge-patch+json') {
      return status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format: ${req.contentType}`);
    }
    if (this.conflictOnNextNodePatch.delete(name)) {
      // Another writer (e.g. the node lifecycle controller) gets in first.
      node.metadata.resourceVersion = this.nextResourceVersion();
    }
    const rv = req.body?.metadata?.resourceVersion;
    if (rv !== undefined && rv !== node.metadata.resourceVersion) {
      return status(409, 'Conflict', `Operation cannot be fulfilled on nodes "${name}": the object has been modified; please apply your changes to the latest version and try again`);
    }
    const patched = mergePatch(node, req.body);
    patched.metadata.resourceVersion = this.nextResourceVersion();
    this.nodes.set(name, patched);
    return [200, clone(patched)];
  }
}
