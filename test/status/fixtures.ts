/**
 * Live-looking objects for the status checks, made from what the library really synthesizes: the StatefulSet,
 * its Service and budget as applied, plus the status, pods and claims the controllers would add.
 */
import { Chart, Testing } from 'cdk8s';
import { ClusterSnapshot, Node, PersistentVolumeClaim, Pod, StatefulSet } from '../../cli/status/model';

export const NOW = Date.parse('2026-11-28T12:00:00Z');
export const REV1 = 'rev-1';
export const REV2 = 'rev-2';

export function synthChart(build: (chart: Chart) => void, namespace = 'apps'): any[] {
  const chart = new Chart(Testing.app(), 'c', { namespace });
  build(chart);
  return Testing.synth(chart);
}

export interface LiveOptions {
  /** Ordinals that have a pod (default 0..replicas-1). */
  readonly podOrdinals?: number[];
  /** Ordinals that have claims (default: the pod ordinals). */
  readonly claimOrdinals?: number[];
  /** Revision of each pod by ordinal (default REV1). */
  readonly podRevision?: (ordinal: number) => string;
  readonly currentRevision?: string;
  readonly updateRevision?: string;
  /** Changes to the synthesized StatefulSet spec. */
  readonly spec?: Record<string, unknown>;
  readonly withoutService?: boolean;
  readonly withoutBudgets?: boolean;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function readyPod(sts: StatefulSet, ordinal: number, revision: string): Pod {
  const name = `${sts.metadata.name}-${ordinal}`;
  return {
    metadata: {
      name,
      namespace: sts.metadata.namespace,
      uid: `uid-${name}`,
      labels: { ...sts.spec.template.metadata?.labels, 'controller-revision-hash': revision, 'apps.kubernetes.io/pod-index': String(ordinal) },
      ownerReferences: [{ kind: 'StatefulSet', name: sts.metadata.name, uid: sts.metadata.uid!, controller: true }],
      creationTimestamp: iso(NOW - 3_600_000),
    },
    spec: {
      nodeName: `node-${ordinal % 3}`,
      tolerations: (sts.spec.template as any).spec?.tolerations,
      volumes: (sts.spec.volumeClaimTemplates ?? []).map((t) => ({ name: t.metadata.name, persistentVolumeClaim: { claimName: `${t.metadata.name}-${name}` } })),
    },
    status: {
      phase: 'Running',
      podIP: `10.0.0.${10 + ordinal}`,
      conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'True', lastTransitionTime: iso(NOW - 3_500_000) }],
      containerStatuses: [{ name: 'app', ready: true, restartCount: 0 }],
    },
  };
}

export function boundClaim(sts: StatefulSet, template: string, ordinal: number): PersistentVolumeClaim {
  const t = (sts.spec.volumeClaimTemplates ?? []).find((x) => x.metadata.name === template)!;
  const name = `${template}-${sts.metadata.name}-${ordinal}`;
  return {
    metadata: { name, namespace: sts.metadata.namespace, uid: `uid-${name}` },
    spec: { ...t.spec, storageClassName: t.spec?.storageClassName ?? 'standard', volumeName: `pvc-${name}` },
    status: { phase: 'Bound', capacity: { storage: t.spec?.resources?.requests?.storage ?? '1Gi' }, accessModes: t.spec?.accessModes },
  };
}

export function readyNode(name: string): Node {
  return { metadata: { name }, status: { conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: iso(NOW - 86_400_000) }] } };
}

/** The snapshot of a healthy, settled StatefulSet rendered by the library. */
export function liveSnapshot(manifests: any[], opts: LiveOptions = {}): ClusterSnapshot {
  const manifest = manifests.find((m) => m.kind === 'StatefulSet');
  const replicas = manifest.spec.replicas ?? 1;
  const sts: StatefulSet = {
    ...manifest,
    metadata: { ...manifest.metadata, uid: 'uid-sts', generation: 1 },
    spec: { ...manifest.spec, ...opts.spec },
  };
  const desired = sts.spec.replicas ?? 1;
  const podOrdinals = opts.podOrdinals ?? Array.from({ length: desired }, (_, i) => i);
  const claimOrdinals = opts.claimOrdinals ?? podOrdinals;
  const revision = opts.podRevision ?? (() => REV1);
  const pods = podOrdinals.map((o) => readyPod(sts, o, revision(o)));
  const ready = pods.filter((p) => (sts.spec.replicas ?? 1) > Number(p.metadata.labels!['apps.kubernetes.io/pod-index'])).length;
  const update = opts.updateRevision ?? REV1;
  const withStatus: StatefulSet = {
    ...sts,
    status: {
      observedGeneration: 1,
      replicas: pods.length,
      readyReplicas: ready,
      availableReplicas: ready,
      currentReplicas: pods.filter((p) => p.metadata.labels!['controller-revision-hash'] === (opts.currentRevision ?? REV1)).length,
      updatedReplicas: pods.filter((p) => p.metadata.labels!['controller-revision-hash'] === update).length,
      currentRevision: opts.currentRevision ?? REV1,
      updateRevision: update,
    },
  };
  const claims = (sts.spec.volumeClaimTemplates ?? []).flatMap((t) => claimOrdinals.map((o) => boundClaim(sts, t.metadata.name, o)));
  const svc = manifests.find((m) => m.kind === 'Service' && m.metadata.name === sts.spec.serviceName);
  const budgets = manifests.filter((m) => m.kind === 'PodDisruptionBudget').map((b) => ({
    ...b,
    metadata: { ...b.metadata, generation: 1 },
    status: { observedGeneration: 1, disruptionsAllowed: 1, currentHealthy: replicas, desiredHealthy: replicas - 1, expectedPods: replicas },
  }));
  const nodes = Object.fromEntries(pods.map((p) => [p.spec!.nodeName!, readyNode(p.spec!.nodeName!)]));
  return {
    statefulSet: withStatus,
    pods,
    claims,
    service: opts.withoutService ? undefined : svc,
    disruptionBudgets: opts.withoutBudgets ? [] : budgets,
    nodes,
    readAt: NOW,
  };
}

/** A copy of the snapshot with one pod replaced. */
export function withPod(snapshot: ClusterSnapshot, name: string, change: (pod: Pod) => Pod): ClusterSnapshot {
  return { ...snapshot, pods: snapshot.pods.map((p) => (p.metadata.name === name ? change(p) : p)) };
}
