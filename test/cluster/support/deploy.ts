/**
 * Deploying synthesized manifests the way a user would, plus the objects the
 * library leaves to its user (namespaces, Secrets, PriorityClasses, volumes
 * where the cluster has no provisioner), and removing all of it again.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { isPodReady, Kube, waitFor } from './kube';

/** The only class with a working provisioner in the test cluster (kube-controller-manager's host-path provisioner). */
export const PROVISIONED_CLASS = 'standard';

const CLUSTER_SCOPED = new Set([
  'Namespace', 'StorageClass', 'PriorityClass', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'PersistentVolume',
  'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding',
]);

/** Dependencies first, so that nothing is applied before what it refers to. */
const APPLY_ORDER = [
  'CustomResourceDefinition', 'Namespace', 'StorageClass', 'PriorityClass', 'ClusterRole', 'ClusterRoleBinding',
  'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding', 'ServiceAccount',
  'Secret', 'ConfigMap', 'Role', 'RoleBinding', 'PersistentVolumeClaim', 'Service', 'StatefulSet', 'Deployment', 'PodDisruptionBudget',
  'NetworkPolicy', 'ServiceMonitor', 'Certificate',
];

export interface ObjectRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
}

export interface AppliedObject {
  readonly manifest: any;
  /** The object as the apply response returned it. */
  readonly live: any;
  readonly warnings: string[];
}

export function refOf(obj: any): ObjectRef {
  return { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name, namespace: obj.metadata.namespace };
}

export function describeRef(r: ObjectRef): string {
  return `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`;
}

export function isClusterScoped(kind: string): boolean {
  return CLUSTER_SCOPED.has(kind);
}

/** Namespaces every cluster has; tests put objects in them (the failover controller's node-lease Role) but never own them. */
export const SYSTEM_NAMESPACES: ReadonlySet<string> = new Set(['default', 'kube-system', 'kube-public', 'kube-node-lease']);

/** The namespaces a test creates and deletes for these manifests (system namespaces excluded). */
export function namespacesOf(manifests: any[]): string[] {
  return [...new Set(manifests.filter((m) => !isClusterScoped(m.kind)).map((m) => m.metadata.namespace as string))]
    .filter((ns) => !SYSTEM_NAMESPACES.has(ns)).sort();
}

function podSpecs(manifests: any[]): Array<{ owner: any; spec: any }> {
  return manifests
    .filter((m) => m.kind === 'StatefulSet' || m.kind === 'Deployment')
    .map((m) => ({ owner: m, spec: m.spec.template.spec }));
}

/** Claims a StatefulSet will create: `<template>-<statefulset>-<ordinal>`. */
export function claimsOf(sts: any, replicas: number = sts.spec.replicas ?? 1): Array<{ name: string; template: any }> {
  const out: Array<{ name: string; template: any }> = [];
  for (const t of sts.spec.volumeClaimTemplates ?? []) {
    for (let i = 0; i < replicas; i++) out.push({ name: `${t.metadata.name}-${sts.metadata.name}-${i}`, template: t });
  }
  return out;
}

/** A statically provisioned volume pre-bound to one claim (there is no provisioner for most classes here). */
export function persistentVolumeFor(namespace: string, claim: string, storage: string, accessModes: string[], storageClassName: string): any {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: `pv-${namespace}-${claim}`.slice(0, 253), labels: { 'cdk8s-stateful-test/namespace': namespace } },
    spec: {
      capacity: { storage },
      accessModes,
      storageClassName,
      persistentVolumeReclaimPolicy: 'Retain',
      claimRef: { namespace, name: claim },
      // never mounted: kwok runs no kubelet, so the path is never created
      hostPath: { path: `/tmp/cdk8s-stateful-test-pv/${namespace}/${claim}`, type: 'DirectoryOrCreate' },
    },
  };
}

/** Tracks what a test file created, so that afterAll can remove exactly that. */
export class Cleanup {
  private readonly namespaces = new Set<string>();
  private readonly clusterObjects = new Map<string, ObjectRef>();

  public constructor(private readonly kube: Kube) {}

  public namespace(name: string): void {
    this.namespaces.add(name);
  }

  public object(ref: ObjectRef): void {
    if (ref.kind === 'Namespace') this.namespaces.add(ref.name);
    else if (isClusterScoped(ref.kind)) this.clusterObjects.set(`${ref.kind}/${ref.name}`, { ...ref, namespace: undefined });
    // objects in a system namespace go one by one: the namespace itself is not the test's to delete
    else if (ref.namespace !== undefined && SYSTEM_NAMESPACES.has(ref.namespace)) this.clusterObjects.set(`${ref.kind}/${ref.namespace}/${ref.name}`, ref);
  }

  /**
   * Namespaces first (their claims release the volumes), then cluster-scoped objects. With wait false the
   * deletions are only issued; drain() waits for them later, so that several suites' namespaces finalize in parallel.
   */
  public async run(opts: { wait?: boolean } = {}): Promise<void> {
    const errors: unknown[] = [];
    const namespaces = [...this.namespaces].map((name): ObjectRef => ({ apiVersion: 'v1', kind: 'Namespace', name }));
    const refs = [...this.clusterObjects.values()];
    // CRDs last: deleting one deletes its custom objects everywhere
    refs.sort((a, b) => Number(a.kind === 'CustomResourceDefinition') - Number(b.kind === 'CustomResourceDefinition'));
    this.namespaces.clear();
    this.clusterObjects.clear();
    for (const r of [...namespaces, ...refs]) {
      try {
        await this.kube.delete(r.apiVersion, r.kind, r.name, r.namespace);
        Cleanup.pending.push(r);
      } catch (err) {
        errors.push(err);
      }
    }
    if (opts.wait ?? true) {
      try {
        await Cleanup.drain(this.kube);
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw new Error(`cleanup failed: ${errors.map(String).join('; ')}`);
  }

  /** Deletions issued but not yet finished. */
  private static readonly pending: ObjectRef[] = [];

  /** Waits until every deletion issued by run() has finished. */
  public static async drain(kube: Kube, timeoutMs = 240_000): Promise<void> {
    const refs = Cleanup.pending.splice(0);
    const failures: string[] = [];
    await Promise.all(refs.map((r) => waitFor(`${describeRef(r)} deleted`, async () => (await kube.get(r.apiVersion, r.kind, r.name, r.namespace)) === undefined,
      { timeoutMs, intervalMs: 1000 }).catch((err) => failures.push(String(err)))));
    if (failures.length > 0) throw new Error(failures.join('; '));
  }
}

export interface PrepareOptions {
  /** Claims to create up front (for existingClaim). */
  readonly claims?: Array<{ namespace: string; name: string; storage: string; accessModes: string[]; storageClassName?: string }>;
  /** Ordinals of StatefulSet claims whose volumes are not created yet, by StatefulSet name. */
  readonly withholdVolumes?: Record<string, number[]>;
}

/**
 * Creates what the manifests need but do not contain: restricted namespaces, referenced Secrets, PriorityClasses
 * and ServiceAccounts, the ServiceMonitor CRD, and a PersistentVolume for every claim of a class nothing provisions here.
 * Returns the volumes it made.
 */
export async function prepare(kube: Kube, cleanup: Cleanup, manifests: any[], opts: PrepareOptions = {}): Promise<any[]> {
  for (const ns of namespacesOf(manifests)) {
    cleanup.namespace(ns);
    await kube.createNamespace(ns);
  }
  const has = (kind: string, name: string, namespace?: string) =>
    manifests.some((m) => m.kind === kind && m.metadata.name === name && (namespace === undefined || m.metadata.namespace === namespace));

  const secrets = new Set<string>();
  const priorityClasses = new Set<string>();
  const serviceAccounts = new Set<string>();
  for (const { owner, spec } of podSpecs(manifests)) {
    const ns = owner.metadata.namespace;
    for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
      for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef) secrets.add(`${ns}/${e.valueFrom.secretKeyRef.name}/${e.valueFrom.secretKeyRef.key}`);
    }
    if (spec.priorityClassName) priorityClasses.add(spec.priorityClassName);
    if (spec.serviceAccountName && spec.serviceAccountName !== 'default') serviceAccounts.add(`${ns}/${spec.serviceAccountName}`);
  }
  for (const s of secrets) {
    const [ns, name, key] = s.split('/');
    if (has('Secret', name, ns)) continue;
    // kwok resolves no env, but a user would have to create this Secret, so the test does too
    await kube.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: ns }, type: 'Opaque',
      stringData: { [key]: crypto.randomBytes(18).toString('base64url') } });
  }
  for (const name of priorityClasses) {
    if (has('PriorityClass', name)) continue;
    const pc = { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value: 1000000, description: 'created by the cluster suite' };
    await kube.apply(pc);
    cleanup.object(refOf(pc));
  }
  for (const sa of serviceAccounts) {
    const [ns, name] = sa.split('/');
    if (has('ServiceAccount', name, ns)) continue;
    await kube.apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: ns }, automountServiceAccountToken: false });
  }

  if (manifests.some((m) => m.kind === 'ServiceMonitor')) {
    await applyServiceMonitorCrd(kube, cleanup);
  }
  if (manifests.some((m) => m.kind === 'Certificate')) {
    await applyCrdFile(kube, cleanup, 'cert-manager.io_certificates.yaml');
  }

  const volumes: any[] = [];
  for (const sts of manifests.filter((m) => m.kind === 'StatefulSet')) {
    const withheld = new Set(opts.withholdVolumes?.[sts.metadata.name] ?? []);
    for (const [i, { name, template }] of claimsOf(sts).entries()) {
      const cls = template.spec.storageClassName ?? PROVISIONED_CLASS;
      if (cls === PROVISIONED_CLASS) continue;
      if (withheld.has(i % (sts.spec.replicas ?? 1))) continue;
      volumes.push(persistentVolumeFor(sts.metadata.namespace, name, template.spec.resources.requests.storage, template.spec.accessModes, cls));
    }
  }
  for (const c of opts.claims ?? []) {
    await kube.apply({
      apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: c.name, namespace: c.namespace },
      spec: { accessModes: c.accessModes, storageClassName: c.storageClassName, resources: { requests: { storage: c.storage } } },
    });
    if ((c.storageClassName ?? PROVISIONED_CLASS) !== PROVISIONED_CLASS) {
      volumes.push(persistentVolumeFor(c.namespace, c.name, c.storage, c.accessModes, c.storageClassName!));
    }
  }
  for (const pv of volumes) {
    cleanup.object(refOf(pv));
    await kube.apply(pv);
  }
  return volumes;
}

export async function applyServiceMonitorCrd(kube: Kube, cleanup: Cleanup): Promise<void> {
  await applyCrdFile(kube, cleanup, 'monitoring.coreos.com_servicemonitors.yaml');
}

/** Applies a CRD file of crds/ and waits until it is established. */
export async function applyCrdFile(kube: Kube, cleanup: Cleanup, name: string): Promise<void> {
  const file = path.join(__dirname, '..', '..', '..', 'crds', name);
  for (const doc of parseAllDocuments(fs.readFileSync(file, 'utf8'))) {
    const crd = doc.toJSON();
    if (!crd) continue;
    const res = await kube.apply(crd);
    if (res.warnings.length > 0) throw new Error(`CRD ${crd.metadata.name}: unexpected warnings: ${res.warnings.join('; ')}`);
    cleanup.object(refOf(crd));
    await waitFor(`CRD ${crd.metadata.name} established`, async () => {
      const live = await kube.get(crd.apiVersion, crd.kind, crd.metadata.name);
      return (live?.status?.conditions ?? []).some((c: any) => c.type === 'Established' && c.status === 'True');
    }, { timeoutMs: 60_000 });
  }
}

/** Applies every manifest (server-side, fieldValidation=Strict), dependencies first; collects warnings per object. */
export async function applyAll(kube: Kube, cleanup: Cleanup, manifests: any[]): Promise<AppliedObject[]> {
  const rank = (m: any) => {
    const i = APPLY_ORDER.indexOf(m.kind);
    return i < 0 ? APPLY_ORDER.length : i;
  };
  const ordered = manifests.map((m, i) => ({ m, i })).sort((a, b) => rank(a.m) - rank(b.m) || a.i - b.i).map((x) => x.m);
  const out: AppliedObject[] = [];
  for (const m of ordered) {
    cleanup.object(refOf(m));
    const res = await kube.apply(m);
    out.push({ manifest: m, live: res.body, warnings: res.warnings });
  }
  return out;
}

function selectorString(matchLabels: Record<string, string>): string {
  return Object.entries(matchLabels).map(([k, v]) => `${k}=${v}`).join(',');
}

export interface WorkloadPods {
  readonly workload: ObjectRef;
  readonly pods: any[];
}

/** Waits until every StatefulSet and Deployment has all its pods Ready and available; returns the pods. */
export async function waitForWorkloads(kube: Kube, manifests: any[], timeoutMs = 180_000): Promise<WorkloadPods[]> {
  const workloads = manifests.filter((m) => m.kind === 'StatefulSet' || m.kind === 'Deployment');
  return Promise.all(workloads.map(async (w) => {
    const ref = refOf(w);
    const replicas = w.spec.replicas ?? 1;
    await waitFor(`${describeRef(ref)} to have ${replicas} ready and available replicas`, async () => {
      const live = await kube.get(ref.apiVersion, ref.kind, ref.name, ref.namespace);
      const s = live?.status ?? {};
      return (s.observedGeneration ?? 0) >= live.metadata.generation && (s.readyReplicas ?? 0) === replicas
        && (s.availableReplicas ?? 0) === replicas && (s.updatedReplicas ?? 0) === replicas;
    }, { timeoutMs, intervalMs: 500 });
    const pods = await kube.pods(ref.namespace!, selectorString(w.spec.selector.matchLabels));
    return { workload: ref, pods };
  }));
}

/** Short description of pods for failure messages. */
export function podSummary(pods: any[]): string {
  return pods.map((p) => `${p.metadata.name}:${p.status?.phase}/${isPodReady(p) ? 'Ready' : 'NotReady'}@${p.spec.nodeName ?? '-'}`).join(' ');
}

/**
 * A test file's own namespace: created (Pod Security restricted) before its tests, and deleted with
 * everything the file registered for cleanup after them, also when a test fails.
 */
export function useNamespace(ns: string, bind: (kube: Kube, cleanup: Cleanup) => void): void {
  let kube: Kube | undefined;
  let cleanup: Cleanup | undefined;
  beforeAll(async () => {
    kube = Kube.connect();
    cleanup = new Cleanup(kube);
    cleanup.namespace(ns);
    await kube.createNamespace(ns);
    bind(kube, cleanup);
  });
  afterAll(async () => {
    try {
      await cleanup?.run();
    } finally {
      kube?.close();
    }
  });
}
