/**
 * Reading a StatefulSet and what belongs to it with the official client (@kubernetes/client-node), with the
 * kubeconfig chosen as kubectl chooses it, and errors that say what to fix.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as K8s from '@kubernetes/client-node';
import { DRAINING_PODS_ANNOTATION } from './checks';
import { ClusterSnapshot, Job, Node, PersistentVolumeClaim, Pod, PodDisruptionBudget, Service, StatefulSet } from './model';

/** Why the status could not be read. */
export type StatusErrorKind = 'client-missing' | 'kubeconfig' | 'unreachable' | 'unauthorized' | 'forbidden' | 'not-found' | 'api';

/** The status could not be read; the message says why and what to do. */
export class StatusError extends Error {
  public constructor(public readonly kind: StatusErrorKind, message: string) {
    super(message);
    this.name = 'StatusError';
  }
}

/** What `status` needs to read, for error messages and the documentation. */
export const REQUIRED_ACCESS = 'get statefulsets.apps and services; list pods, persistentvolumeclaims and poddisruptionbudgets.policy (optional: get nodes; list jobs.batch while RedisCluster shards drain)';

export interface ConnectionOptions {
  /** kubeconfig file (like kubectl --kubeconfig). */
  readonly kubeconfig?: string;
  /** kubeconfig context (like kubectl --context). */
  readonly context?: string;
  /** Time limit of each API request in ms. Default 30000. */
  readonly requestTimeoutMs?: number;
}

export type KubeconfigSource =
  | { readonly kind: 'files'; readonly paths: string[]; readonly from: string }
  | { readonly kind: 'in-cluster' };

export interface Environment {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly home: string;
  readonly exists: (file: string) => boolean;
}

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** Where the configuration comes from, in kubectl's order: --kubeconfig, $KUBECONFIG, ~/.kube/config, in-cluster. */
export function resolveKubeconfigSource(opts: ConnectionOptions, environment: Environment): KubeconfigSource {
  if (opts.kubeconfig !== undefined) {
    if (!environment.exists(opts.kubeconfig)) {
      throw new StatusError('kubeconfig', `kubeconfig ${opts.kubeconfig} (--kubeconfig) does not exist`);
    }
    return { kind: 'files', paths: [opts.kubeconfig], from: '--kubeconfig' };
  }
  const fromEnv = environment.env.KUBECONFIG;
  if (fromEnv) {
    const listed = fromEnv.split(path.delimiter).filter((f) => f.length > 0);
    const paths = listed.filter((f) => environment.exists(f));
    if (paths.length === 0) {
      throw new StatusError('kubeconfig', `KUBECONFIG names ${listed.join(path.delimiter)}, and none of it exists; fix KUBECONFIG or pass --kubeconfig`);
    }
    return { kind: 'files', paths, from: 'KUBECONFIG' };
  }
  const home = path.join(environment.home, '.kube', 'config');
  if (environment.exists(home)) return { kind: 'files', paths: [home], from: home };
  if (environment.env.KUBERNETES_SERVICE_HOST && environment.env.KUBERNETES_SERVICE_PORT && environment.exists(SERVICE_ACCOUNT_TOKEN)) {
    return { kind: 'in-cluster' };
  }
  throw new StatusError('kubeconfig', `no kubeconfig: ${home} does not exist, KUBECONFIG is not set and this is not a pod with a service account; `
    + 'pass --kubeconfig <file> or set KUBECONFIG');
}

function processEnvironment(): Environment {
  return { env: process.env, home: os.homedir(), exists: (f) => fs.existsSync(f) };
}

// TypeScript compiles import() to require() for CommonJS output, and the client is an ES module only
const importModule = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

let clientModule: Promise<typeof K8s> | undefined;

/** Loads @kubernetes/client-node (an ES module) once. */
export function loadClient(): Promise<typeof K8s> {
  clientModule ??= (importModule('@kubernetes/client-node') as Promise<typeof K8s>).catch((err: unknown) => {
    clientModule = undefined;
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new StatusError('client-missing', 'the status command needs @kubernetes/client-node (an optional dependency of cdk8s-stateful, '
        + 'skipped when installed with --omit=optional): npm install @kubernetes/client-node@^1.4.0');
    }
    throw err;
  });
  return clientModule;
}

/** A KubeConfig for the options, as kubectl would pick it. */
export async function loadKubeConfig(opts: ConnectionOptions, environment: Environment = processEnvironment()): Promise<K8s.KubeConfig> {
  const source = resolveKubeconfigSource(opts, environment);
  const k8s = await loadClient();
  const kc = new k8s.KubeConfig();
  if (source.kind === 'in-cluster') {
    kc.loadFromCluster();
  } else {
    for (const [i, file] of source.paths.entries()) {
      try {
        if (i === 0) {
          kc.loadFromFile(file);
        } else {
          const more = new k8s.KubeConfig();
          more.loadFromFile(file);
          kc.mergeConfig(more, true);
        }
      } catch (err) {
        throw new StatusError('kubeconfig', `cannot read kubeconfig ${file}: ${(err as Error).message}`);
      }
    }
  }
  const contexts = kc.getContexts().map((c) => c.name);
  const where = source.kind === 'in-cluster' ? 'the in-cluster configuration' : `kubeconfig ${source.paths.join(path.delimiter)}`;
  if (opts.context !== undefined) {
    if (!contexts.includes(opts.context)) {
      throw new StatusError('kubeconfig', `context "${opts.context}" (--context) is not in ${where}; contexts: ${contexts.join(', ') || 'none'}`);
    }
    kc.setCurrentContext(opts.context);
  } else if (!kc.getCurrentContext() || !contexts.includes(kc.getCurrentContext())) {
    throw new StatusError('kubeconfig', `${where} has no current context; pass --context (contexts: ${contexts.join(', ') || 'none'})`);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server) {
    throw new StatusError('kubeconfig', `context "${kc.getCurrentContext()}" in ${where} names no cluster with a server address`);
  }
  return kc;
}

function bodyMessage(body: unknown): string | undefined {
  let parsed = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return body.trim() || undefined;
    }
  }
  const message = (parsed as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : undefined;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE']);

/** A request that failed, explained: which verb on which resource, and what to do. */
export function explainRequestError(err: unknown, what: { verb: string; resource: string; namespace?: string; server: string; context: string }): StatusError {
  const e = err as { code?: unknown; body?: unknown; message?: string; cause?: { code?: string; message?: string } };
  const scope = what.namespace ? ` in namespace ${what.namespace}` : '';
  if (typeof e.code === 'number') {
    const said = bodyMessage(e.body);
    if (e.code === 403) {
      return new StatusError('forbidden', `RBAC: not allowed to ${what.verb} ${what.resource}${scope} (the API server: ${said ?? 'Forbidden'}); `
        + `status needs: ${REQUIRED_ACCESS}`);
    }
    if (e.code === 401) {
      return new StatusError('unauthorized', `the API server ${what.server} rejected the credentials of context "${what.context}" (401 Unauthorized): `
        + 'the token or client certificate is wrong or has expired');
    }
    if (e.code === 404) return new StatusError('not-found', `${what.verb} ${what.resource}${scope}: not found${said ? ` (${said})` : ''}`);
    return new StatusError('api', `${what.verb} ${what.resource}${scope}: HTTP ${e.code}${said ? `: ${said}` : ''}`);
  }
  const code = typeof e.code === 'string' ? e.code : e.cause?.code;
  const message = e.message ?? String(err);
  if ((code !== undefined && NETWORK_CODES.has(code)) || /request to .* failed|timed out|socket hang up/i.test(message)) {
    return new StatusError('unreachable', `cannot reach the API server ${what.server} (context "${what.context}"): ${code ?? message}; `
      + 'is the cluster running and the address right?');
  }
  if (code !== undefined && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) {
    return new StatusError('unreachable', `TLS to the API server ${what.server} (context "${what.context}") failed: ${code}: the kubeconfig's certificate-authority does not match the server`);
  }
  return new StatusError('api', `${what.verb} ${what.resource}${scope}: ${message}`);
}

/** JSON round trip: the client's model objects (Date fields) as the API server's JSON (RFC 3339 strings). */
function plain<T>(obj: unknown): T {
  return JSON.parse(JSON.stringify(obj)) as T;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`${what}: timed out after ${ms} ms`), { code: 'ETIMEDOUT' })), ms);
    timer.unref?.();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function selectorString(sts: StatefulSet): string {
  const sel = sts.spec.selector ?? {};
  const parts = Object.entries(sel.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of sel.matchExpressions ?? []) {
    const values = (e.values ?? []).join(',');
    switch (e.operator) {
      case 'In': parts.push(`${e.key} in (${values})`); break;
      case 'NotIn': parts.push(`${e.key} notin (${values})`); break;
      case 'Exists': parts.push(e.key); break;
      case 'DoesNotExist': parts.push(`!${e.key}`); break;
      default: break;
    }
  }
  return parts.join(',');
}

/** A connection to one cluster that reads snapshots of one StatefulSet. */
export class StatusReader {
  public static async connect(opts: ConnectionOptions = {}): Promise<StatusReader> {
    const kc = await loadKubeConfig(opts);
    const k8s = await loadClient();
    return new StatusReader(k8s, kc, opts.requestTimeoutMs ?? 30_000);
  }

  private readonly apps: K8s.AppsV1Api;
  private readonly core: K8s.CoreV1Api;
  private readonly policy: K8s.PolicyV1Api;
  private readonly batch: K8s.BatchV1Api;
  private readonly server: string;
  private readonly context: string;

  private constructor(k8s: typeof K8s, kc: K8s.KubeConfig, private readonly requestTimeoutMs: number) {
    this.apps = kc.makeApiClient(k8s.AppsV1Api);
    this.core = kc.makeApiClient(k8s.CoreV1Api);
    this.policy = kc.makeApiClient(k8s.PolicyV1Api);
    this.batch = kc.makeApiClient(k8s.BatchV1Api);
    this.server = kc.getCurrentCluster()?.server ?? '?';
    this.context = kc.getCurrentContext();
  }

  private async call<T>(verb: string, resource: string, namespace: string | undefined, fn: () => Promise<unknown>): Promise<T> {
    try {
      return plain<T>(await withTimeout(fn(), this.requestTimeoutMs, `${verb} ${resource}`));
    } catch (err) {
      throw explainRequestError(err, { verb, resource, namespace, server: this.server, context: this.context });
    }
  }

  private async optional<T>(verb: string, resource: string, namespace: string | undefined, fn: () => Promise<unknown>): Promise<T | undefined> {
    try {
      return await this.call<T>(verb, resource, namespace, fn);
    } catch (err) {
      if (err instanceof StatusError && err.kind === 'not-found') return undefined;
      throw err;
    }
  }

  /** Reads the StatefulSet and everything the checks look at. */
  public async snapshot(namespace: string, name: string): Promise<ClusterSnapshot> {
    const statefulSet = await this.optional<StatefulSet>('get', 'statefulsets.apps', namespace,
      () => this.apps.readNamespacedStatefulSet({ name, namespace }));
    if (!statefulSet) {
      let others = '';
      try {
        const list = await this.call<{ items: StatefulSet[] }>('list', 'statefulsets.apps', namespace, () => this.apps.listNamespacedStatefulSet({ namespace }));
        const names = list.items.map((s) => s.metadata.name);
        others = names.length > 0 ? `; StatefulSets in ${namespace}: ${names.join(', ')}` : `; namespace ${namespace} has no StatefulSets (or does not exist)`;
      } catch {
        // listing is only a hint
      }
      throw new StatusError('not-found', `StatefulSet ${namespace}/${name} not found${others}`);
    }
    const [pods, claims, service, budgets] = await Promise.all([
      this.call<{ items: Pod[] }>('list', 'pods', namespace, () => this.core.listNamespacedPod({ namespace, labelSelector: selectorString(statefulSet) })),
      this.call<{ items: PersistentVolumeClaim[] }>('list', 'persistentvolumeclaims', namespace, () => this.core.listNamespacedPersistentVolumeClaim({ namespace })),
      statefulSet.spec.serviceName
        ? this.optional<Service>('get', 'services', namespace, () => this.core.readNamespacedService({ name: statefulSet.spec.serviceName!, namespace }))
        : Promise.resolve(undefined),
      this.call<{ items: PodDisruptionBudget[] }>('list', 'poddisruptionbudgets.policy', namespace, () => this.policy.listNamespacedPodDisruptionBudget({ namespace })),
    ]);

    const nodes: Record<string, Node | undefined> = {};
    let nodesUnreadable: string | undefined;
    const nodeNames = [...new Set(pods.items.map((p) => p.spec?.nodeName).filter((n): n is string => !!n))];
    for (const nodeName of nodeNames) {
      try {
        nodes[nodeName] = await this.optional<Node>('get', 'nodes', undefined, () => this.core.readNode({ name: nodeName }));
      } catch (err) {
        if (err instanceof StatusError && err.kind === 'forbidden') {
          nodesUnreadable = 'not allowed to get nodes';
          break;
        }
        throw err;
      }
    }

    let drainJobs: Job[] | undefined;
    let drainJobsUnreadable: string | undefined;
    if (statefulSet.metadata.annotations?.[DRAINING_PODS_ANNOTATION] !== undefined) {
      const labelSelector = `app.kubernetes.io/name=redis-cluster,app.kubernetes.io/instance=${name},app.kubernetes.io/component=drain`;
      try {
        drainJobs = (await this.call<{ items: Job[] }>('list', 'jobs.batch', namespace, () => this.batch.listNamespacedJob({ namespace, labelSelector }))).items;
      } catch (err) {
        if (!(err instanceof StatusError && err.kind === 'forbidden')) throw err;
        drainJobsUnreadable = 'not allowed to list jobs.batch';
      }
    }

    let otherPods: Pod[] | undefined;
    if (pods.items.some((p) => p.status?.phase === 'Pending')) {
      const all = await this.call<{ items: Pod[] }>('list', 'pods', namespace, () => this.core.listNamespacedPod({ namespace }));
      const own = new Set(pods.items.map((p) => p.metadata.uid));
      otherPods = all.items.filter((p) => !own.has(p.metadata.uid));
    }
    return {
      statefulSet,
      pods: pods.items,
      claims: claims.items,
      service,
      disruptionBudgets: budgets.items,
      nodes: nodesUnreadable ? undefined : nodes,
      nodesUnreadable,
      drainJobs,
      drainJobsUnreadable,
      otherPods,
      readAt: Date.now(),
    };
  }
}
