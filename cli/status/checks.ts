/**
 * The checks of `cdk8s-stateful status`: pure functions from a snapshot of live objects to a report.
 * Nothing here talks to a cluster, so every rule can be tested with fixture objects.
 */
import {
  CheckLevel, CheckResult, ClaimRow, ClusterSnapshot, Condition, Job, LabelSelector, Node, PersistentVolumeClaim, Pod, PodDisruptionBudget, PodRow,
  RecordedFailoverBudget, StatefulSet, StatusReport,
} from './model';

/** The annotation RwopStatefulApp writes on its StatefulSet (FAILOVER_BUDGET_ANNOTATION in the library). */
export const FAILOVER_BUDGET_ANNOTATION = 'stateful.cdk8s.io/failover-budget';
/** The annotation RedisCluster writes on its StatefulSet while shards drain: how many of its last pods go next. */
export const DRAINING_PODS_ANNOTATION = 'stateful.cdk8s.io/draining-pods';

const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';
const REVISION_LABEL = 'controller-revision-hash';

/** What the library promised for a StatefulSet it rendered, told from the labels and annotations it sets. */
export interface LibraryPromises {
  /** RwopStatefulApp, RedisCluster, PlacementCenter or StatefulWorkload; undefined when the library did not render it. */
  readonly construct?: string;
  /** The headless Service publishes not-ready addresses (peers find each other before they are ready). */
  readonly publishNotReadyAddresses?: boolean;
  /** The construct always renders a PodDisruptionBudget. */
  readonly disruptionBudget?: boolean;
  readonly failoverBudget?: RecordedFailoverBudget;
}

export function libraryPromises(sts: StatefulSet): LibraryPromises {
  const labels = sts.metadata.labels ?? {};
  const annotation = sts.metadata.annotations?.[FAILOVER_BUDGET_ANNOTATION];
  let failoverBudget: RecordedFailoverBudget | undefined;
  if (annotation !== undefined) {
    try {
      failoverBudget = JSON.parse(annotation) as RecordedFailoverBudget;
    } catch {
      failoverBudget = undefined;
    }
  }
  const byLibrary = labels['app.kubernetes.io/managed-by'] === 'cdk8s' && labels['app.kubernetes.io/instance'] === sts.metadata.name;
  if (!byLibrary) return { failoverBudget };
  if (annotation !== undefined) return { construct: 'RwopStatefulApp', failoverBudget };
  if (labels['app.kubernetes.io/name'] === 'redis-cluster' && labels['app.kubernetes.io/component'] === 'redis') {
    return { construct: 'RedisCluster', publishNotReadyAddresses: true, disruptionBudget: true };
  }
  if (labels.app === 'robustmq' && labels.component === 'placement-center') {
    return { construct: 'PlacementCenter', publishNotReadyAddresses: true, disruptionBudget: true };
  }
  return { construct: 'StatefulWorkload' };
}

export function condition(obj: { status?: { conditions?: readonly Condition[] } } | undefined, type: string): Condition | undefined {
  return (obj?.status?.conditions ?? []).find((c) => c.type === type);
}

export function isPodReady(pod: Pod): boolean {
  return pod.status?.phase === 'Running' && condition(pod, 'Ready')?.status === 'True' && !pod.metadata.deletionTimestamp;
}

/** The ordinal of a StatefulSet pod: its pod-index label, else the number after `<statefulset>-`. */
export function ordinalOf(pod: Pod, stsName: string): number | undefined {
  const label = pod.metadata.labels?.[POD_INDEX_LABEL];
  if (label !== undefined && /^\d+$/.test(label)) return Number(label);
  const m = new RegExp(`^${escapeRegExp(stsName)}-(\\d+)$`).exec(pod.metadata.name);
  return m ? Number(m[1]) : undefined;
}

export function selectorMatches(selector: LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector) return false;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(l, e.key);
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In': if (!has || !values.includes(l[e.key])) return false; break;
      case 'NotIn': if (has && values.includes(l[e.key])) return false; break;
      case 'Exists': if (!has) return false; break;
      case 'DoesNotExist': if (has) return false; break;
      default: return false;
    }
  }
  return true;
}

/** kubectl's short names of access modes (RWO, ROX, RWX, RWOP). */
export function shortAccessMode(mode: string): string {
  return ({ ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' } as Record<string, string>)[mode] ?? mode;
}

/** Bytes of a Kubernetes quantity (binary and decimal suffixes); undefined when it cannot be parsed. */
export function quantityBytes(q: string | undefined): number | undefined {
  if (q === undefined) return undefined;
  const m = /^([0-9.]+)([KMGTPE]i?|[kmu]|n)?$/.exec(q.trim());
  if (!m) return undefined;
  const factors: Record<string, number> = {
    '': 1, 'k': 1e3, 'K': 1e3, 'M': 1e6, 'G': 1e9, 'T': 1e12, 'P': 1e15, 'E': 1e18,
    'Ki': 2 ** 10, 'Mi': 2 ** 20, 'Gi': 2 ** 30, 'Ti': 2 ** 40, 'Pi': 2 ** 50, 'Ei': 2 ** 60, 'm': 1e-3, 'u': 1e-6, 'n': 1e-9,
  };
  return Number(m[1]) * factors[m[2] ?? ''];
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function seconds(ms: number): number {
  return Math.max(0, Math.round(ms / 1000));
}

/** "0-2", "1, 3, 5-7". */
export function ranges(ordinals: number[]): string {
  const sorted = [...new Set(ordinals)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j;
  }
  return parts.join(', ');
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function restartsOf(pod: Pod): number {
  return (pod.status?.containerStatuses ?? []).reduce((sum, c) => sum + (c.restartCount ?? 0), 0);
}

function isOwnedBy(pod: Pod, sts: StatefulSet): boolean {
  return (pod.metadata.ownerReferences ?? []).some((o) => o.kind === 'StatefulSet' && o.controller === true
    && (sts.metadata.uid === undefined ? o.name === sts.metadata.name : o.uid === sts.metadata.uid));
}

function nodeReadiness(snapshot: ClusterSnapshot, nodeName: string | undefined): { ready?: boolean; condition?: Condition; missing?: boolean } {
  if (!nodeName || !snapshot.nodes) return {};
  if (!Object.prototype.hasOwnProperty.call(snapshot.nodes, nodeName)) return {};
  const node: Node | undefined = snapshot.nodes[nodeName];
  if (!node) return { missing: true };
  const c = condition(node, 'Ready');
  return { ready: c?.status === 'True', condition: c };
}

function describeBudgetValue(v: number | string | undefined): string {
  if (v === undefined) return 'not recorded';
  return typeof v === 'number' ? `${v} s` : v;
}

interface Context {
  readonly snapshot: ClusterSnapshot;
  readonly sts: StatefulSet;
  readonly name: string;
  readonly namespace: string;
  readonly promises: LibraryPromises;
  readonly start: number;
  readonly desired: number;
  /** Pods owned by the StatefulSet, by ordinal. */
  readonly owned: Map<number, Pod>;
  readonly now: number;
}

/** Checks a snapshot and builds the report. */
export function checkStatefulSet(snapshot: ClusterSnapshot): StatusReport {
  const sts = snapshot.statefulSet;
  const name = sts.metadata.name;
  const namespace = sts.metadata.namespace ?? 'default';
  const promises = libraryPromises(sts);
  const owned = new Map<number, Pod>();
  const strangers: Pod[] = [];
  for (const pod of snapshot.pods) {
    const ordinal = ordinalOf(pod, name);
    if (isOwnedBy(pod, sts) && ordinal !== undefined) owned.set(ordinal, pod);
    else strangers.push(pod);
  }
  const ctx: Context = {
    snapshot, sts, name, namespace, promises, owned,
    start: sts.spec.ordinals?.start ?? 0,
    desired: sts.spec.replicas ?? 1,
    now: snapshot.readAt,
  };

  const checks: CheckResult[] = [
    checkReplicas(ctx),
    ...checkPods(ctx, strangers),
    ...checkClaims(ctx),
    ...checkService(ctx),
    checkRollout(ctx),
    ...checkDisruptionBudget(ctx),
    ...checkShardRemoval(ctx),
  ];
  if (snapshot.nodesUnreadable) {
    checks.push({ check: 'nodes', level: 'warning', message: `node readiness unknown (${snapshot.nodesUnreadable}); a pod stuck on a lost node is recognised from its own conditions only` });
  }

  const count = (level: CheckLevel) => checks.filter((c) => c.level === level).length;
  const summary = {
    result: (count('failure') > 0 ? 'failure' : count('warning') > 0 ? 'warning' : 'ok') as CheckLevel,
    ok: count('ok'),
    warning: count('warning'),
    failure: count('failure'),
  };
  const st = sts.status ?? {};
  const strategyType = sts.spec.updateStrategy?.type ?? 'RollingUpdate';
  return {
    namespace,
    name,
    construct: promises.construct,
    replicas: {
      desired: ctx.desired,
      ready: st.readyReplicas ?? 0,
      current: st.currentReplicas ?? 0,
      updated: st.updatedReplicas ?? 0,
      available: st.availableReplicas ?? 0,
    },
    serviceName: sts.spec.serviceName || undefined,
    podManagementPolicy: sts.spec.podManagementPolicy ?? 'OrderedReady',
    updateStrategy: strategyType === 'RollingUpdate'
      ? { type: strategyType, partition: sts.spec.updateStrategy?.rollingUpdate?.partition ?? 0 }
      : { type: strategyType },
    revisions: { current: st.currentRevision, update: st.updateRevision },
    claimRetention: retentionOf(sts),
    failoverBudget: promises.failoverBudget,
    pods: podRows(ctx, strangers),
    claims: claimRows(ctx),
    checks,
    summary,
    checkedAt: new Date(snapshot.readAt).toISOString(),
  };
}

function retentionOf(sts: StatefulSet): { whenDeleted: string; whenScaled: string } {
  const p = sts.spec.persistentVolumeClaimRetentionPolicy ?? {};
  return { whenDeleted: p.whenDeleted ?? 'Retain', whenScaled: p.whenScaled ?? 'Retain' };
}

function podRows(ctx: Context, strangers: Pod[]): PodRow[] {
  const row = (pod: Pod, ordinal: number | undefined): PodRow => {
    const node = nodeReadiness(ctx.snapshot, pod.spec?.nodeName);
    return {
      ordinal,
      name: pod.metadata.name,
      ip: pod.status?.podIP,
      node: pod.spec?.nodeName,
      phase: pod.metadata.deletionTimestamp ? 'Terminating' : pod.status?.phase ?? 'Unknown',
      ready: isPodReady(pod),
      restarts: restartsOf(pod),
      revision: pod.metadata.labels?.[REVISION_LABEL],
      nodeReady: node.ready,
    };
  };
  const rows = [...ctx.owned.entries()].sort(([a], [b]) => a - b).map(([o, p]) => row(p, o));
  return [...rows, ...strangers.map((p) => row(p, undefined))];
}

function claimRows(ctx: Context): ClaimRow[] {
  const rows: ClaimRow[] = [];
  for (const { claim, template, ordinal } of statefulSetClaims(ctx)) {
    rows.push({
      name: claim.metadata.name,
      template,
      ordinal,
      phase: claim.metadata.deletionTimestamp ? 'Terminating' : claim.status?.phase ?? 'Pending',
      capacity: claim.status?.capacity?.storage,
      accessModes: [...(claim.status?.accessModes ?? claim.spec?.accessModes ?? [])],
      storageClass: claim.spec?.storageClassName,
      volume: claim.spec?.volumeName,
    });
  }
  return rows.sort((a, b) => a.template.localeCompare(b.template) || a.ordinal - b.ordinal);
}

/** Claims named `<template>-<statefulset>-<ordinal>`. */
function statefulSetClaims(ctx: Context): Array<{ claim: PersistentVolumeClaim; template: string; ordinal: number }> {
  const out: Array<{ claim: PersistentVolumeClaim; template: string; ordinal: number }> = [];
  for (const t of ctx.sts.spec.volumeClaimTemplates ?? []) {
    const re = new RegExp(`^${escapeRegExp(`${t.metadata.name}-${ctx.name}-`)}(\\d+)$`);
    for (const claim of ctx.snapshot.claims) {
      const m = re.exec(claim.metadata.name);
      if (m) out.push({ claim, template: t.metadata.name, ordinal: Number(m[1]) });
    }
  }
  return out;
}

function inRange(ctx: Context, ordinal: number): boolean {
  return ordinal >= ctx.start && ordinal < ctx.start + ctx.desired;
}

function checkReplicas(ctx: Context): CheckResult {
  const st = ctx.sts.status ?? {};
  const generation = ctx.sts.metadata.generation ?? 0;
  const ready = st.readyReplicas ?? 0;
  if ((st.observedGeneration ?? 0) < generation) {
    return { check: 'replicas', level: 'warning', message: `${ready}/${ctx.desired} ready; the controller has not yet acted on the latest change (observed generation ${st.observedGeneration ?? 0} of ${generation})` };
  }
  if (ready < ctx.desired) {
    const notReady = [...ctx.owned.entries()].filter(([o, p]) => inRange(ctx, o) && !isPodReady(p)).map(([o]) => o);
    const which = notReady.length > 0 ? `; not Ready: ordinal${notReady.length === 1 ? '' : 's'} ${ranges(notReady)}` : '';
    return { check: 'replicas', level: 'warning', message: `${ready}/${ctx.desired} ready${which} (details below)` };
  }
  return { check: 'replicas', level: 'ok', message: `${ready}/${ctx.desired} ready` };
}

function checkPods(ctx: Context, strangers: Pod[]): CheckResult[] {
  const out: CheckResult[] = [];
  const expected = Array.from({ length: ctx.desired }, (_, i) => ctx.start + i);
  const missing = expected.filter((o) => !ctx.owned.has(o));
  const beyond = [...ctx.owned.keys()].filter((o) => !inRange(ctx, o)).sort((a, b) => a - b);
  const span = ctx.desired === 0 ? 'no ordinal (scaled to 0)' : `${ctx.desired === 1 ? 'ordinal' : 'each of ordinals'} ${ranges(expected)}`;
  const problems: string[] = [];
  let level: CheckLevel = 'ok';
  if (missing.length > 0) {
    level = 'warning';
    const lowestMissing = missing[0];
    const blocker = [...ctx.owned.entries()].filter(([o, p]) => o < lowestMissing && inRange(ctx, o) && !isPodReady(p)).map(([o]) => o);
    const ordered = (ctx.sts.spec.podManagementPolicy ?? 'OrderedReady') === 'OrderedReady';
    const why = ordered && blocker.length > 0
      ? `OrderedReady creates ordinal n+1 only once ordinal n is Ready, and ordinal ${blocker[0]} is not`
      : `the controller has not created them yet; if this lasts, see the events of the StatefulSet (kubectl -n ${ctx.namespace} describe statefulset ${ctx.name})`;
    problems.push(`no pod for ordinal${missing.length === 1 ? '' : 's'} ${ranges(missing)}: ${why}`);
  }
  if (beyond.length > 0) {
    level = 'warning';
    const terminating = beyond.filter((o) => ctx.owned.get(o)!.metadata.deletionTimestamp);
    problems.push(`pod${beyond.length === 1 ? '' : 's'} beyond replicas ${ctx.desired} (ordinal${beyond.length === 1 ? '' : 's'} ${ranges(beyond)}): `
      + (terminating.length === beyond.length ? 'being removed by the scale-down'
        : 'the scale-down removes them from the highest ordinal down, one at a time under OrderedReady'));
  }
  out.push({ check: 'pods', level, message: problems.length > 0 ? problems.join('; ') : `one pod for ${span}, none beyond` });

  for (const pod of strangers) {
    out.push({
      check: 'pods',
      object: `pod/${pod.metadata.name}`,
      level: 'warning',
      message: `matches the StatefulSet's selector but is not one of its pods: the headless Service and the disruption budget count it as a member; give it other labels or delete it`,
    });
  }

  const healthy: number[] = [];
  for (const [ordinal, pod] of [...ctx.owned.entries()].sort(([a], [b]) => a - b)) {
    const finding = podFinding(ctx, pod);
    if (finding) out.push({ check: 'pod', object: `pod/${pod.metadata.name}`, ...finding });
    else healthy.push(ordinal);
  }
  if (ctx.owned.size > 0 && healthy.length === ctx.owned.size) {
    out.push({ check: 'pod', level: 'ok', message: `every pod Running and Ready on a Ready node (${plural(healthy.length, 'pod')})` });
  }
  return out;
}

/** What is wrong with one pod, or undefined when it runs as it should. */
function podFinding(ctx: Context, pod: Pod): { level: CheckLevel; message: string } | undefined {
  const nodeName = pod.spec?.nodeName;
  const node = nodeReadiness(ctx.snapshot, nodeName);
  const disruption = condition(pod, 'DisruptionTarget');
  const lostByPod = disruption?.status === 'True' && disruption.reason === 'DeletionByTaintManager';
  const nodeLost = node.ready === false || node.missing === true || (node.ready === undefined && lostByPod);

  if (pod.metadata.deletionTimestamp) {
    const grace = pod.metadata.deletionGracePeriodSeconds ?? 0;
    const deletedAt = Date.parse(pod.metadata.deletionTimestamp) - grace * 1000;
    const stuck = seconds(ctx.now - deletedAt);
    if (nodeLost) return stuckOnLostNode(ctx, pod, node, stuck);
    if (ctx.now > Date.parse(pod.metadata.deletionTimestamp) + 30_000) {
      return { level: 'warning', message: `Terminating for ${stuck} s, longer than its ${grace} s grace period: a finalizer or the kubelet on ${nodeName ?? 'its node'} holds it (kubectl -n ${ctx.namespace} describe pod ${pod.metadata.name})` };
    }
    return { level: 'warning', message: `Terminating for ${stuck} s (grace period ${grace} s)` };
  }

  if (nodeLost && nodeName) {
    const notReadyFor = node.condition?.lastTransitionTime ? ` for ${seconds(ctx.now - Date.parse(node.condition.lastTransitionTime))} s` : '';
    const toleration = (pod.spec?.tolerations ?? []).find((t) => (t.key === 'node.kubernetes.io/unreachable' || t.key === 'node.kubernetes.io/not-ready') && t.effect === 'NoExecute');
    const when = toleration?.tolerationSeconds !== undefined ? `after its ${toleration.tolerationSeconds} s toleration` : 'after its toleration';
    return { level: 'warning', message: `its node ${nodeName} is ${node.missing ? 'gone' : 'not Ready'}${notReadyFor}: Kubernetes marks the pod for deletion ${when}, then it waits for the node` };
  }

  const phase = pod.status?.phase ?? 'Unknown';
  if (phase === 'Failed') return { level: 'failure', message: `Failed: the pod will not run again; delete it so that the StatefulSet recreates it` };
  const broken = (pod.status?.containerStatuses ?? []).find((c) => ['CrashLoopBackOff', 'ImagePullBackOff', 'ErrImagePull', 'CreateContainerConfigError', 'CreateContainerError', 'InvalidImageName']
    .includes(c.state?.waiting?.reason ?? ''));
  if (broken) {
    return { level: 'failure', message: `container ${broken.name}: ${broken.state!.waiting!.reason}${broken.state!.waiting!.message ? ` (${broken.state!.waiting!.message})` : ''}` };
  }
  if (phase === 'Pending') return pendingFinding(ctx, pod);
  if (!isPodReady(pod)) {
    const ready = condition(pod, 'Ready');
    const notReady = (pod.status?.containerStatuses ?? []).filter((c) => !c.ready).map((c) => c.name);
    return {
      level: 'warning',
      message: `${phase}, not Ready${ready?.reason ? ` (${ready.reason}${ready.message ? `: ${ready.message}` : ''})` : ''}`
        + `${notReady.length > 0 ? `; containers not ready: ${notReady.join(', ')}` : ''}: its readiness probe has not passed`,
    };
  }
  return undefined;
}

function stuckOnLostNode(ctx: Context, pod: Pod, node: { condition?: Condition; missing?: boolean }, stuck: number): { level: CheckLevel; message: string } {
  const nodeName = pod.spec?.nodeName ?? 'its node';
  const since = node.condition?.lastTransitionTime;
  const notReadyFor = since ? seconds(ctx.now - Date.parse(since)) : undefined;
  const state = node.missing ? 'gone' : node.condition ? `NotReady (Ready=${node.condition.status}${notReadyFor !== undefined ? ` for ${notReadyFor} s` : ''})` : 'lost (deleted by the taint manager)';
  const head = `Terminating for ${stuck} s on node ${nodeName}, which is ${state}: a StatefulSet never starts a second pod with this identity, `
    + 'so no replacement starts until the node comes back, its Node object is deleted, or the pod is force-deleted';
  const act = `once the node is known to be off: kubectl -n ${ctx.namespace} delete pod ${pod.metadata.name} --force --grace-period=0, `
    + `and kubectl taint node ${nodeName} node.kubernetes.io/out-of-service=nodeshutdown:NoExecute so the volume is released at once`;
  const budget = ctx.promises.failoverBudget;
  if (!budget) return { level: 'failure', message: `${head}; ${act}` };
  const withAutomation = budget.nodeLossWithAutomationSeconds;
  const recorded = `failover budget (${FAILOVER_BUDGET_ANNOTATION}): node loss without automation ${describeBudgetValue(budget.nodeLossWithoutAutomationSeconds)}, `
    + `with automation ${describeBudgetValue(withAutomation)}`;
  if (typeof withAutomation === 'number') {
    const elapsed = notReadyFor ?? stuck;
    if (elapsed <= withAutomation) {
      return { level: 'warning', message: `${head}; ${recorded}: the failover controller has ${withAutomation - elapsed} s of its budget left to replace it` };
    }
    return { level: 'failure', message: `${head}; ${recorded}, exceeded (${elapsed} s since the node turned NotReady): is the failover controller running (kubectl -n ${ctx.namespace} get deployment ${ctx.name}-failover)? Otherwise, ${act}` };
  }
  return { level: 'failure', message: `${head}; ${recorded}; ${act}` };
}

function pendingFinding(ctx: Context, pod: Pod): { level: CheckLevel; message: string } {
  const scheduled = condition(pod, 'PodScheduled');
  const claimNames = (pod.spec?.volumes ?? []).map((v) => v.persistentVolumeClaim?.claimName).filter((n): n is string => !!n);
  const rwopClaims = ctx.snapshot.claims.filter((c) => claimNames.includes(c.metadata.name)
    && [...(c.spec?.accessModes ?? []), ...(c.status?.accessModes ?? [])].includes('ReadWriteOncePod'));
  const holders: string[] = [];
  for (const claim of rwopClaims) {
    for (const other of [...(ctx.snapshot.otherPods ?? []), ...ctx.snapshot.pods]) {
      if (other.metadata.uid !== undefined && other.metadata.uid === pod.metadata.uid) continue;
      if (other.metadata.name === pod.metadata.name) continue;
      if (['Succeeded', 'Failed'].includes(other.status?.phase ?? '')) continue;
      if ((other.spec?.volumes ?? []).some((v) => v.persistentVolumeClaim?.claimName === claim.metadata.name)) {
        holders.push(`claim ${claim.metadata.name} (ReadWriteOncePod) is in use by pod ${other.metadata.name}${other.spec?.nodeName ? ` on node ${other.spec.nodeName}` : ''}`);
      }
    }
  }
  const schedulerSays = scheduled?.status === 'False' && scheduled.message ? `; the scheduler: ${scheduled.message}` : '';
  if (holders.length > 0) {
    return {
      level: 'failure',
      message: `Pending: ${holders.join('; ')}, and a ReadWriteOncePod claim has one user at a time, so this pod cannot be scheduled until that pod is gone; `
        + `stop or delete the other pod${schedulerSays}`,
    };
  }
  if (scheduled?.status === 'False' && /ReadWriteOncePod/.test(scheduled.message ?? '')) {
    return { level: 'failure', message: `Pending: a ReadWriteOncePod claim of this pod is in use by another pod${schedulerSays}` };
  }
  if (scheduled?.status === 'False') {
    return { level: 'warning', message: `Pending, not scheduled (${scheduled.reason ?? 'no reason given'})${schedulerSays}` };
  }
  return { level: 'warning', message: pod.spec?.nodeName ? `Pending on node ${pod.spec.nodeName}: its containers have not started yet` : 'Pending: not scheduled yet' };
}

function checkClaims(ctx: Context): CheckResult[] {
  const out: CheckResult[] = [];
  const templates = ctx.sts.spec.volumeClaimTemplates ?? [];
  if (templates.length === 0) {
    out.push({ check: 'claims', level: 'ok', message: 'no volumeClaimTemplates: the pods keep no per-pod claims' });
    return out;
  }
  const found = statefulSetClaims(ctx);
  const byName = new Map(found.map((f) => [f.claim.metadata.name, f]));
  const retention = retentionOf(ctx.sts);
  const missing: string[] = [];
  let missingWithPod = false;
  for (const t of templates) {
    for (let o = ctx.start; o < ctx.start + ctx.desired; o++) {
      const claimName = `${t.metadata.name}-${ctx.name}-${o}`;
      if (!byName.has(claimName)) {
        missing.push(claimName);
        if (ctx.owned.has(o)) missingWithPod = true;
      }
    }
  }
  const orphans = found.filter((f) => !inRange(ctx, f.ordinal)).sort((a, b) => a.ordinal - b.ordinal);
  if (missing.length === 0 && orphans.length === 0) {
    out.push({ check: 'claims', level: 'ok', message: `one claim per template (${templates.map((t) => t.metadata.name).join(', ')}) for each ordinal, none beyond` });
  }
  if (missing.length > 0) {
    out.push({
      check: 'claims',
      level: missingWithPod ? 'failure' : 'warning',
      message: missingWithPod
        ? `missing: ${missing.join(', ')}, although the pod exists: the claim was deleted under it; the pod keeps the volume until it restarts, then waits for a new claim`
        : `not created yet: ${missing.join(', ')} (the controller creates each claim with its pod)`,
    });
  }
  for (const orphan of orphans) {
    const podName = `${ctx.name}-${orphan.ordinal}`;
    const message = retention.whenScaled === 'Delete'
      ? (ctx.owned.has(orphan.ordinal)
        ? `left by a scale-down to ${ctx.desired}; persistentVolumeClaimRetentionPolicy.whenScaled is Delete, so it is deleted once pod ${podName} is gone`
        : `left by a scale-down to ${ctx.desired}, although persistentVolumeClaimRetentionPolicy.whenScaled is Delete: the controller should have deleted it `
          + '(it does so only for claims it owns; a claim created before the policy was set is kept); delete it if its data is not needed')
      : `kept after a scale-down to ${ctx.desired} by persistentVolumeClaimRetentionPolicy.whenScaled Retain: ordinal ${orphan.ordinal} gets it (and its data) back `
        + `when scaled up again; to free the volume: kubectl -n ${ctx.namespace} delete pvc ${orphan.claim.metadata.name}`;
    out.push({ check: 'claims', object: `persistentvolumeclaim/${orphan.claim.metadata.name}`, level: 'warning', message });
  }

  // in-range claims: Bound, with what the template asks for
  let good = 0;
  const inRangeClaims = found.filter((f) => inRange(ctx, f.ordinal));
  for (const { claim, template, ordinal } of inRangeClaims) {
    const t = templates.find((x) => x.metadata.name === template)!;
    const finding = claimFinding(ctx, claim, t.spec ?? {}, ordinal);
    if (finding) out.push({ check: 'claim', object: `persistentvolumeclaim/${claim.metadata.name}`, ...finding });
    else good++;
  }
  if (inRangeClaims.length > 0 && good === inRangeClaims.length) {
    out.push({ check: 'claim', level: 'ok', message: `every claim Bound with the access modes and class its template asks for (${plural(good, 'claim')})` });
  }
  return out;
}

function claimFinding(ctx: Context, claim: PersistentVolumeClaim, wanted: { accessModes?: readonly string[]; storageClassName?: string; resources?: { requests?: Record<string, string> } },
  ordinal: number): { level: CheckLevel; message: string } | undefined {
  const phase = claim.status?.phase ?? 'Pending';
  const podName = `${ctx.name}-${ordinal}`;
  if (claim.metadata.deletionTimestamp) {
    return { level: 'warning', message: `being deleted while ordinal ${ordinal} still needs it: the pvc-protection finalizer keeps it while pod ${podName} uses it, and the pod cannot start again without it` };
  }
  if (phase === 'Lost') {
    return { level: 'failure', message: `Lost: its volume ${claim.spec?.volumeName ?? ''} no longer exists; the data is gone unless the volume can be restored, and pod ${podName} cannot start` };
  }
  if (phase !== 'Bound') {
    const pod = ctx.owned.get(ordinal);
    const waiting = pod?.spec?.nodeName ? 'its pod is scheduled, so no volume matches it or the provisioner has not created one'
      : 'with a WaitForFirstConsumer class the volume is created once the pod is scheduled; otherwise no volume matches it';
    return { level: 'warning', message: `${phase}: not bound to a volume; ${waiting} (kubectl -n ${ctx.namespace} describe pvc ${claim.metadata.name})` };
  }
  const problems: string[] = [];
  const have = [...(claim.spec?.accessModes ?? [])].sort();
  const want = [...(wanted.accessModes ?? [])].sort();
  if (want.length > 0 && have.join(',') !== want.join(',')) {
    problems.push(`access modes ${have.join(', ') || 'none'}, but the template asks for ${want.join(', ')}`);
  }
  if (wanted.storageClassName !== undefined && claim.spec?.storageClassName !== wanted.storageClassName) {
    problems.push(`storage class ${claim.spec?.storageClassName ?? '(none)'}, but the template asks for ${wanted.storageClassName}`);
  }
  if (problems.length > 0) {
    return { level: 'failure', message: `${problems.join('; ')}: a claim with this name existed before the StatefulSet (which adopts it as it is); `
      + 'move the data to a claim made from the template, or change the template to match' };
  }
  const requested = quantityBytes(wanted.resources?.requests?.storage);
  const capacity = quantityBytes(claim.status?.capacity?.storage);
  if (requested !== undefined && capacity !== undefined && capacity < requested) {
    return { level: 'warning', message: `capacity ${claim.status?.capacity?.storage} is below the ${wanted.resources?.requests?.storage} the template asks for (an expansion in progress, or the claim predates the template)` };
  }
  return undefined;
}

function checkService(ctx: Context): CheckResult[] {
  const serviceName = ctx.sts.spec.serviceName;
  if (!serviceName) {
    return [{ check: 'headless-service', level: 'failure', message: 'spec.serviceName is empty: the pods get no stable DNS names' }];
  }
  const svc = ctx.snapshot.service;
  if (!svc) {
    return [{
      check: 'headless-service', object: `service/${serviceName}`, level: 'failure',
      message: `not found: the pods get no DNS names (${ctx.name}-0.${serviceName}.${ctx.namespace}.svc); apply the manifests again`,
    }];
  }
  const problems: string[] = [];
  if (svc.spec?.clusterIP !== 'None') problems.push(`not headless (clusterIP ${svc.spec?.clusterIP ?? 'unset'}): DNS answers with one virtual IP, not one record per pod; recreate it with clusterIP None`);
  const selector = svc.spec?.selector;
  const members = [...ctx.owned.values()];
  if (!selector || Object.keys(selector).length === 0) {
    problems.push('has no selector, so no pod gets a DNS record from it');
  } else if (members.length > 0) {
    const selected = members.filter((p) => selectorMatches({ matchLabels: selector }, p.metadata.labels));
    if (selected.length < members.length) {
      const sel = Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(',');
      problems.push(`its selector ${sel} selects ${selected.length === 0 ? 'none' : `only ${selected.length}`} of the ${members.length} pods: those get no DNS record`);
    }
  }
  const publishes = svc.spec?.publishNotReadyAddresses === true;
  if (ctx.promises.publishNotReadyAddresses === true && !publishes) {
    problems.push(`publishNotReadyAddresses is off, but ${ctx.promises.construct} sets it: members must resolve each other before they are Ready, or the cluster never forms`);
  }
  if (problems.length > 0) {
    return [{ check: 'headless-service', object: `service/${serviceName}`, level: 'failure', message: problems.join('; ') }];
  }
  const publishing = publishes
    ? `publishes not-ready addresses${ctx.promises.publishNotReadyAddresses ? ` (as ${ctx.promises.construct} sets it)` : ''}`
    : 'publishes ready pods only';
  return [{ check: 'headless-service', object: `service/${serviceName}`, level: 'ok', message: `headless, selects ${members.length === 1 ? 'the pod' : `all ${members.length} pods`}, ${publishing}` }];
}

function checkRollout(ctx: Context): CheckResult {
  const st = ctx.sts.status ?? {};
  const strategy = ctx.sts.spec.updateStrategy?.type ?? 'RollingUpdate';
  const partition = ctx.sts.spec.updateStrategy?.rollingUpdate?.partition ?? 0;
  const current = st.currentRevision;
  const update = st.updateRevision;
  const members = [...ctx.owned.entries()].filter(([o]) => inRange(ctx, o)).sort(([a], [b]) => a - b);
  const old = members.filter(([, p]) => update !== undefined && p.metadata.labels?.[REVISION_LABEL] !== update).map(([o]) => o);
  const base = (text: string, level: CheckLevel): CheckResult => ({ check: 'rollout', level, message: text });
  if (!update) return base('no revision reported yet: the controller has not processed the StatefulSet', 'warning');
  if (old.length === 0) {
    if (current !== update) return base(`every pod on revision ${update}; the controller is about to record it as current`, 'ok');
    const held = strategy === 'RollingUpdate' && partition > 0 ? `; partition ${partition} holds ordinals below ${partition} back from the next change` : '';
    return base(`every pod on revision ${update}${held}`, 'ok');
  }
  if (strategy === 'OnDelete') {
    return base(`OnDelete: ordinals ${ranges(old)} run ${current ?? 'an older revision'}, not ${update}, until each is deleted`, 'warning');
  }
  const pending = old.filter((o) => o >= partition);
  const held = old.filter((o) => o < partition);
  const updated = members.map(([o]) => o).filter((o) => !old.includes(o));
  if (pending.length > 0) {
    return base(`rolling out ${update} from the highest ordinal down to partition ${partition}: ordinals ${ranges(pending)} still run ${current ?? 'the old revision'}`
      + (held.length > 0 ? `, and ordinals ${ranges(held)} stay on it (below the partition)` : ''), 'warning');
  }
  return base(`partitioned rollout at partition ${partition}: ordinal${updated.length === 1 ? '' : 's'} ${ranges(updated)} run${updated.length === 1 ? 's' : ''} the update revision ${update}, `
    + `ordinal${held.length === 1 ? '' : 's'} ${ranges(held)} still run${held.length === 1 ? 's' : ''} ${current}; lower the partition to continue (0 updates every pod)`, 'warning');
}

function checkDisruptionBudget(ctx: Context): CheckResult[] {
  const templateLabels = ctx.sts.spec.template.metadata?.labels;
  const budgets = ctx.snapshot.disruptionBudgets.filter((b) => selectorMatches(b.spec?.selector, templateLabels));
  if (budgets.length === 0) {
    if (ctx.promises.disruptionBudget) {
      return [{ check: 'disruption-budget', level: 'failure', message: `no PodDisruptionBudget selects the pods, but ${ctx.promises.construct} renders one: a node drain may take every member at once; apply the manifests again` }];
    }
    return [{ check: 'disruption-budget', level: 'ok', message: 'none: voluntary disruptions (drains) may evict every pod at once (set disruptionBudget to limit them)' }];
  }
  if (budgets.length > 1) {
    return [{
      check: 'disruption-budget', level: 'failure',
      message: `${budgets.length} PodDisruptionBudgets select the pods (${budgets.map((b) => b.metadata.name).join(', ')}): the eviction API refuses to evict a pod with more than one, so every drain fails; keep one`,
    }];
  }
  const b: PodDisruptionBudget = budgets[0];
  const spec = b.spec ?? {};
  const rule = spec.maxUnavailable !== undefined ? `maxUnavailable ${spec.maxUnavailable}` : `minAvailable ${spec.minAvailable ?? '?'}`;
  const st = b.status ?? {};
  const allowed = st.disruptionsAllowed ?? 0;
  const health = `healthy ${st.currentHealthy ?? 0}, desired ${st.desiredHealthy ?? 0}, expected ${st.expectedPods ?? 0}`;
  const object = `poddisruptionbudget/${b.metadata.name}`;
  if ((st.observedGeneration ?? 0) < (b.metadata.generation ?? 0)) {
    return [{ check: 'disruption-budget', object, level: 'warning', message: `${rule}: the disruption controller has not processed its latest change yet` }];
  }
  if (allowed > 0) {
    return [{ check: 'disruption-budget', object, level: 'ok', message: `${rule}: ${plural(allowed, 'disruption')} allowed now (${health})` }];
  }
  const never = spec.maxUnavailable === 0 || spec.maxUnavailable === '0%' || (typeof spec.minAvailable === 'number' && spec.minAvailable >= ctx.desired);
  return [{
    check: 'disruption-budget', object, level: 'warning',
    message: never
      ? `${rule}: allows no disruption even when every pod is healthy, so a drain of a node with these pods never finishes`
      : `${rule}: 0 disruptions allowed now (${health}): a drain of a node with one of these pods waits until the unhealthy pods recover`,
  }];
}

/**
 * A RedisCluster removing shards (drainingShards on its StatefulSet): where its drain Job is, and the next step.
 * Draining is an operation in progress, so a running or complete drain is a warning; a failed one is a failure.
 */
function checkShardRemoval(ctx: Context): CheckResult[] {
  const value = ctx.sts.metadata.annotations?.[DRAINING_PODS_ANNOTATION];
  if (value === undefined) return [];
  const pods = Number(value);
  if (!Number.isInteger(pods) || pods <= 0 || pods >= ctx.desired) {
    return [{ check: 'shard-removal', level: 'failure', message: `annotation ${DRAINING_PODS_ANNOTATION} is "${value}": not a number of pods from 1 to ${ctx.desired - 1}; re-apply the manifests` }];
  }
  const first = ctx.start + ctx.desired - pods;
  const which = `the last ${plural(pods, 'pod')} (ordinals ${ranges(Array.from({ length: pods }, (_, i) => first + i))})`;
  if (ctx.snapshot.drainJobsUnreadable) {
    return [{ check: 'shard-removal', level: 'warning', message: `shards drain: ${which}; the drain Job cannot be read (${ctx.snapshot.drainJobsUnreadable}): check it with kubectl get jobs -l app.kubernetes.io/component=drain` }];
  }
  const jobs = [...(ctx.snapshot.drainJobs ?? [])].sort((a, b) => (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? ''));
  // the newest one: Jobs of earlier removals stay behind until someone deletes them
  const job: Job | undefined = jobs[0];
  if (!job) {
    return [{ check: 'shard-removal', level: 'failure', message: `shards drain: ${which}, but no drain Job exists (${ctx.name}-drain-<shards>-to-<remaining>); apply all manifests of the RedisCluster` }];
  }
  const ref = `job/${job.metadata.name}`;
  const st = job.status ?? {};
  const attempts = (st.failed ?? 0) + (st.active ?? 0) + (st.succeeded ?? 0);
  if (condition(job, 'Complete')?.status === 'True' || (st.succeeded ?? 0) > 0) {
    return [{ check: 'shard-removal', object: ref, level: 'warning',
      message: `drained: ${which} own no slots and left the cluster (they stay not ready); next: lower shards and set drainingShards 0, then apply` }];
  }
  const failed = condition(job, 'Failed');
  if (failed?.status === 'True') {
    return [{ check: 'shard-removal', object: ref, level: 'failure',
      message: `the drain of ${which} failed after ${plural(st.failed ?? 0, 'attempt')} (${failed.reason ?? 'Failed'}): see kubectl logs ${ref}; delete the Job and apply again to retry (it resumes); do not lower shards` }];
  }
  return [{ check: 'shard-removal', object: ref, level: 'warning',
    message: `draining ${which}: ${st.active ? 'running' : 'waiting to start'}, attempt ${Math.max(attempts, 1)} of ${(job.spec?.backoffLimit ?? 6) + 1}; follow with kubectl logs -f ${ref}; lower shards only once it is complete` }];
}
