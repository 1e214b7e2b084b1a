/**
 * The objects `status` reads, as the API server serves them (the JSON of `kubectl get -o json`: timestamps are
 * RFC 3339 strings), and the report it produces. Only the fields the checks use are declared.
 */

export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly generation?: number;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
  readonly creationTimestamp?: string;
  readonly deletionTimestamp?: string;
  readonly deletionGracePeriodSeconds?: number;
  readonly ownerReferences?: ReadonlyArray<{ readonly kind: string; readonly name: string; readonly uid: string; readonly controller?: boolean }>;
}

export interface LabelSelector {
  readonly matchLabels?: Record<string, string>;
  readonly matchExpressions?: ReadonlyArray<{ readonly key: string; readonly operator: string; readonly values?: readonly string[] }>;
}

export interface Condition {
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
  readonly message?: string;
  readonly lastTransitionTime?: string;
}

export interface ClaimSpec {
  readonly accessModes?: readonly string[];
  readonly storageClassName?: string;
  readonly volumeName?: string;
  readonly resources?: { readonly requests?: Record<string, string> };
}

export interface PersistentVolumeClaim {
  readonly metadata: ObjectMeta;
  readonly spec?: ClaimSpec;
  readonly status?: { readonly phase?: string; readonly capacity?: Record<string, string>; readonly accessModes?: readonly string[] };
}

export interface StatefulSet {
  readonly metadata: ObjectMeta;
  readonly spec: {
    readonly replicas?: number;
    readonly serviceName?: string;
    readonly selector: LabelSelector;
    readonly podManagementPolicy?: string;
    readonly ordinals?: { readonly start?: number };
    readonly updateStrategy?: { readonly type?: string; readonly rollingUpdate?: { readonly partition?: number } };
    readonly persistentVolumeClaimRetentionPolicy?: { readonly whenDeleted?: string; readonly whenScaled?: string };
    readonly template: { readonly metadata?: { readonly labels?: Record<string, string> } };
    readonly volumeClaimTemplates?: ReadonlyArray<{ readonly metadata: { readonly name: string }; readonly spec?: ClaimSpec }>;
  };
  readonly status?: {
    readonly observedGeneration?: number;
    readonly replicas?: number;
    readonly readyReplicas?: number;
    readonly availableReplicas?: number;
    readonly currentReplicas?: number;
    readonly updatedReplicas?: number;
    readonly currentRevision?: string;
    readonly updateRevision?: string;
  };
}

export interface ContainerStatus {
  readonly name: string;
  readonly ready?: boolean;
  readonly restartCount?: number;
  readonly state?: { readonly waiting?: { readonly reason?: string; readonly message?: string }; readonly terminated?: { readonly reason?: string } };
}

export interface Pod {
  readonly metadata: ObjectMeta;
  readonly spec?: {
    readonly nodeName?: string;
    readonly volumes?: ReadonlyArray<{ readonly name: string; readonly persistentVolumeClaim?: { readonly claimName: string } }>;
    readonly tolerations?: ReadonlyArray<{ readonly key?: string; readonly effect?: string; readonly tolerationSeconds?: number }>;
  };
  readonly status?: {
    readonly phase?: string;
    readonly podIP?: string;
    readonly conditions?: readonly Condition[];
    readonly containerStatuses?: readonly ContainerStatus[];
  };
}

export interface Service {
  readonly metadata: ObjectMeta;
  readonly spec?: { readonly clusterIP?: string; readonly selector?: Record<string, string>; readonly publishNotReadyAddresses?: boolean };
}

export interface PodDisruptionBudget {
  readonly metadata: ObjectMeta;
  readonly spec?: { readonly selector?: LabelSelector; readonly maxUnavailable?: number | string; readonly minAvailable?: number | string };
  readonly status?: {
    readonly observedGeneration?: number;
    readonly disruptionsAllowed?: number;
    readonly currentHealthy?: number;
    readonly desiredHealthy?: number;
    readonly expectedPods?: number;
  };
}

export interface Node {
  readonly metadata: ObjectMeta;
  readonly status?: { readonly conditions?: readonly Condition[] };
}

export interface Job {
  readonly metadata: ObjectMeta;
  readonly spec?: { readonly backoffLimit?: number };
  readonly status?: { readonly active?: number; readonly succeeded?: number; readonly failed?: number; readonly conditions?: readonly Condition[] };
}

/** Everything one check run looks at, read at one moment. */
export interface ClusterSnapshot {
  readonly statefulSet: StatefulSet;
  /** Pods that match the StatefulSet's selector. */
  readonly pods: readonly Pod[];
  /** Every claim of the namespace (the checks pick the StatefulSet's by name). */
  readonly claims: readonly PersistentVolumeClaim[];
  /** The Service named by spec.serviceName; undefined when it does not exist. */
  readonly service?: Service;
  /** Every PodDisruptionBudget of the namespace. */
  readonly disruptionBudgets: readonly PodDisruptionBudget[];
  /** The nodes the pods run on, by name; undefined when nodes could not be read (see nodesUnreadable). */
  readonly nodes?: Readonly<Record<string, Node | undefined>>;
  /** Why nodes could not be read (for example RBAC): node readiness is then inferred from the pods. */
  readonly nodesUnreadable?: string;
  /** The drain Jobs of a RedisCluster, read when its StatefulSet says shards drain. */
  readonly drainJobs?: readonly Job[];
  /** Why the drain Jobs could not be read (for example RBAC). */
  readonly drainJobsUnreadable?: string;
  /** The other pods of the namespace, read when a pod waits for a ReadWriteOncePod claim (who holds it). */
  readonly otherPods?: readonly Pod[];
  /** When the objects were read (ms since the epoch). */
  readonly readAt: number;
}

/** ok: as promised; warning: in progress or worth a look; failure: broken until someone acts. */
export type CheckLevel = 'ok' | 'warning' | 'failure';

export interface CheckResult {
  /** What was checked: replicas, pods, pod, claims, claim, headless-service, rollout, disruption-budget, shard-removal. */
  readonly check: string;
  /** The object a finding is about (pod/web-1, persistentvolumeclaim/data-web-3), when it is about one. */
  readonly object?: string;
  readonly level: CheckLevel;
  /** What was found and what to do about it. */
  readonly message: string;
}

export interface PodRow {
  readonly ordinal?: number;
  readonly name: string;
  readonly ip?: string;
  readonly node?: string;
  /** The pod phase, or Terminating while it is being deleted (as kubectl shows it). */
  readonly phase: string;
  readonly ready: boolean;
  readonly restarts: number;
  readonly revision?: string;
  /** Whether the pod's node reports Ready (undefined when unknown). */
  readonly nodeReady?: boolean;
}

export interface ClaimRow {
  readonly name: string;
  readonly template: string;
  readonly ordinal: number;
  readonly phase: string;
  readonly capacity?: string;
  readonly accessModes: string[];
  readonly storageClass?: string;
  readonly volume?: string;
}

/** The failover budget a RwopStatefulApp records on its StatefulSet: seconds, "unbounded" or "off". */
export interface RecordedFailoverBudget {
  readonly hungProcessSeconds?: number | string;
  readonly nodeLossWithoutAutomationSeconds?: number | string;
  readonly nodeLossWithAutomationSeconds?: number | string;
}

export interface StatusReport {
  readonly namespace: string;
  readonly name: string;
  /** The construct of this library that rendered the StatefulSet, when it can be told from its labels and annotations. */
  readonly construct?: string;
  readonly replicas: { readonly desired: number; readonly ready: number; readonly current: number; readonly updated: number; readonly available: number };
  readonly serviceName?: string;
  readonly podManagementPolicy: string;
  readonly updateStrategy: { readonly type: string; readonly partition?: number };
  readonly revisions: { readonly current?: string; readonly update?: string };
  readonly claimRetention: { readonly whenDeleted: string; readonly whenScaled: string };
  readonly failoverBudget?: RecordedFailoverBudget;
  readonly pods: PodRow[];
  readonly claims: ClaimRow[];
  readonly checks: CheckResult[];
  readonly summary: { readonly result: CheckLevel; readonly ok: number; readonly warning: number; readonly failure: number };
  /** When the objects were read (RFC 3339). */
  readonly checkedAt: string;
}
