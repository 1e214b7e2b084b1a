import { Duration, Size } from 'cdk8s';
import {
  DisruptionBudget, FAILOVER_BUDGET_ANNOTATION as LIBRARY_ANNOTATION, PlacementCenter, PlacementCenterRollout, PvcRetentionAction, RedisCluster,
  RwopStatefulApp, StatefulProbe, StatefulWorkload, StatefulWorkloadProps, StorageClass,
} from '../../src';
import { checkStatefulSet, DRAINING_PODS_ANNOTATION, FAILOVER_BUDGET_ANNOTATION, quantityBytes, ranges, selectorMatches } from '../../cli/status/checks';
import { exitCodeOf } from '../../cli/status/index';
import { ClusterSnapshot, Pod, StatusReport } from '../../cli/status/model';
import { boundClaim, iso, liveSnapshot, NOW, readyPod, REV1, REV2, synthChart, withPod } from './fixtures';

function workload(props: Partial<StatefulWorkloadProps> = {}): any[] {
  return synthChart((chart) => new StatefulWorkload(chart, 'w', {
    name: 'web',
    replicas: 3,
    containers: [{ name: 'app', image: 'nginx:1.27', ports: [{ name: 'http', port: 8080 }], mounts: [{ volume: 'data', path: '/data' }] }],
    volumeClaimTemplates: [{ name: 'data', size: Size.gibibytes(1), storageClass: StorageClass.fromStorageClassName('fast') }],
    ...props,
  }));
}

function redis(): any[] {
  return synthChart((chart) => new RedisCluster(chart, 'r', { name: 'redis', auth: { enabled: false } }), 'cache');
}

function rwop(props: Record<string, unknown> = {}): any[] {
  return synthChart((chart) => new RwopStatefulApp(chart, 'db', {
    name: 'db', image: 'postgres:16.4', ports: [{ name: 'pg', port: 5432 }], storageSize: Size.gibibytes(1), ...props,
  }));
}

function find(report: StatusReport, check: string, object?: string) {
  return report.checks.filter((c) => c.check === check && (object === undefined || c.object === object));
}

function levels(report: StatusReport): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of report.checks) out[c.object ? `${c.check} ${c.object}` : c.check] = c.level;
  return out;
}

describe('a healthy StatefulSet rendered by the library', () => {
  test('GIVEN a settled RedisCluster WHEN checked THEN every check is ok, the construct is recognised and the exit code is 0', () => {
    const report = checkStatefulSet(liveSnapshot(redis()));
    expect(report.construct).toBe('RedisCluster');
    expect(report.replicas).toEqual({ desired: 6, ready: 6, current: 6, updated: 6, available: 6 });
    expect(report.serviceName).toBe('redis-headless');
    expect(report.summary).toEqual({ result: 'ok', ok: 8, warning: 0, failure: 0 });
    expect(levels(report)).toEqual({
      'replicas': 'ok', 'pods': 'ok', 'pod': 'ok', 'claims': 'ok', 'claim': 'ok',
      'headless-service service/redis-headless': 'ok', 'rollout': 'ok', 'disruption-budget poddisruptionbudget/redis': 'ok',
    });
    expect(find(report, 'headless-service')[0].message).toBe('headless, selects all 6 pods, publishes not-ready addresses (as RedisCluster sets it)');
    expect(find(report, 'disruption-budget')[0].message).toBe('maxUnavailable 1: 1 disruption allowed now (healthy 6, desired 5, expected 6)');
    expect(exitCodeOf(report)).toBe(0);
  });

  test('GIVEN a RwopStatefulApp WHEN checked THEN its recorded failover budget is read from the annotation', () => {
    const report = checkStatefulSet(liveSnapshot(rwop({ liveness: StatefulProbe.fromCommand(['pg_isready', '-h', '127.0.0.1']), nodeLossAutomation: { acknowledgeNodesAreFenced: true } })));
    expect(report.construct).toBe('RwopStatefulApp');
    expect(report.failoverBudget).toEqual({ hungProcessSeconds: 44, nodeLossWithoutAutomationSeconds: 'unbounded', nodeLossWithAutomationSeconds: 70 });
    expect(report.claims).toEqual([{
      name: 'data-db-0', template: 'data', ordinal: 0, phase: 'Bound', capacity: '1Gi', accessModes: ['ReadWriteOncePod'], storageClass: 'standard', volume: 'pvc-data-db-0',
    }]);
    expect(report.summary.result).toBe('ok');
  });

  test('the annotation key is the one the library writes', () => {
    expect(FAILOVER_BUDGET_ANNOTATION).toBe(LIBRARY_ANNOTATION);
  });

  test('PlacementCenter is recognised, and a plain StatefulWorkload without a budget is ok', () => {
    const pc = synthChart((chart) => new PlacementCenter(chart, 'pc', { name: 'pc' }), 'mq');
    expect(checkStatefulSet(liveSnapshot(pc)).construct).toBe('PlacementCenter');
    const report = checkStatefulSet(liveSnapshot(workload()));
    expect(report.construct).toBe('StatefulWorkload');
    expect(find(report, 'disruption-budget')[0]).toMatchObject({ level: 'ok', message: expect.stringMatching(/^none: voluntary disruptions/) });
    expect(report.summary.result).toBe('ok');
  });
});

describe('pods and claims for every ordinal, and none beyond', () => {
  test('GIVEN a scale-down from 3 to 1 with whenScaled Retain WHEN checked THEN each kept claim is a warning that names the policy and the command to free it', () => {
    const snapshot = liveSnapshot(workload(), { spec: { replicas: 1 }, podOrdinals: [0], claimOrdinals: [0, 1, 2] });
    const report = checkStatefulSet(snapshot);
    expect(find(report, 'pods')[0]).toMatchObject({ level: 'ok', message: 'one pod for ordinal 0, none beyond' });
    const orphans = find(report, 'claims').filter((c) => c.object);
    expect(orphans.map((c) => [c.object, c.level])).toEqual([
      ['persistentvolumeclaim/data-web-1', 'warning'], ['persistentvolumeclaim/data-web-2', 'warning'],
    ]);
    expect(orphans[0].message).toBe('kept after a scale-down to 1 by persistentVolumeClaimRetentionPolicy.whenScaled Retain: ordinal 1 gets it (and its data) back '
      + 'when scaled up again; to free the volume: kubectl -n apps delete pvc data-web-1');
    expect(report.claims.map((c) => c.name)).toEqual(['data-web-0', 'data-web-1', 'data-web-2']);
    expect(report.summary.result).toBe('warning');
    expect(exitCodeOf(report)).toBe(2);
  });

  test('GIVEN whenScaled Delete and a claim still there after its pod left THEN the warning says the controller should have deleted it', () => {
    const snapshot = liveSnapshot(workload({ pvcRetention: { whenScaled: PvcRetentionAction.DELETE } }), { spec: { replicas: 2 }, podOrdinals: [0, 1], claimOrdinals: [0, 1, 2] });
    const [orphan] = find(checkStatefulSet(snapshot), 'claims', 'persistentvolumeclaim/data-web-2');
    expect(orphan.message).toMatch(/^left by a scale-down to 2, although persistentVolumeClaimRetentionPolicy.whenScaled is Delete/);
  });

  test('GIVEN pods beyond replicas that are terminating THEN they are being removed by the scale-down', () => {
    let snapshot = liveSnapshot(workload(), { spec: { replicas: 1 }, podOrdinals: [0, 1, 2] });
    for (const name of ['web-1', 'web-2']) {
      snapshot = withPod(snapshot, name, (p) => ({ ...p, metadata: { ...p.metadata, deletionTimestamp: iso(NOW + 20_000), deletionGracePeriodSeconds: 30 } }));
    }
    const report = checkStatefulSet(snapshot);
    expect(find(report, 'pods')[0]).toMatchObject({ level: 'warning', message: 'pods beyond replicas 1 (ordinals 1-2): being removed by the scale-down' });
    expect(find(report, 'pod', 'pod/web-2')[0]).toMatchObject({ level: 'warning', message: 'Terminating for 10 s (grace period 30 s)' });
  });

  test('GIVEN OrderedReady and ordinal 1 not Ready THEN the missing ordinal 2 is explained by the ordering', () => {
    let snapshot = liveSnapshot(workload(), { podOrdinals: [0, 1] });
    snapshot = withPod(snapshot, 'web-1', (p) => ({
      ...p,
      status: { ...p.status, conditions: [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [app]' }], containerStatuses: [{ name: 'app', ready: false, restartCount: 2 }] },
    }));
    const report = checkStatefulSet(snapshot);
    expect(find(report, 'pods')[0].message).toBe('no pod for ordinal 2: OrderedReady creates ordinal n+1 only once ordinal n is Ready, and ordinal 1 is not');
    expect(find(report, 'pod', 'pod/web-1')[0]).toMatchObject({ level: 'warning', message: expect.stringMatching(/^Running, not Ready \(ContainersNotReady: containers with unready status: \[app\]\); containers not ready: app/) });
    expect(find(report, 'claims').find((c) => !c.object)).toMatchObject({ level: 'warning', message: 'not created yet: data-web-2 (the controller creates each claim with its pod)' });
    expect(report.pods.find((p) => p.name === 'web-1')).toMatchObject({ ready: false, restarts: 2 });
  });

  test('GIVEN a pod that matches the selector but is not owned THEN it is a warning', () => {
    const snapshot = liveSnapshot(workload());
    const stranger: Pod = { ...readyPod(snapshot.statefulSet, 9, REV1), metadata: { ...snapshot.pods[0].metadata, name: 'debug', uid: 'uid-debug', ownerReferences: [] } };
    const report = checkStatefulSet({ ...snapshot, pods: [...snapshot.pods, stranger] });
    expect(find(report, 'pods', 'pod/debug')[0]).toMatchObject({ level: 'warning', message: expect.stringMatching(/^matches the StatefulSet's selector but is not one of its pods/) });
    expect(report.pods.at(-1)).toMatchObject({ name: 'debug', ordinal: undefined });
  });

  test('GIVEN a crash-looping container THEN the pod fails with the reason', () => {
    const snapshot = withPod(liveSnapshot(workload()), 'web-0', (p) => ({
      ...p, status: { ...p.status, containerStatuses: [{ name: 'app', ready: false, restartCount: 7, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 5m0s' } } }] },
    }));
    expect(find(checkStatefulSet(snapshot), 'pod', 'pod/web-0')[0]).toMatchObject({ level: 'failure', message: 'container app: CrashLoopBackOff (back-off 5m0s)' });
  });
});

describe('claims Bound with what the template asks for', () => {
  const base = () => liveSnapshot(workload());
  const withClaim = (s: ClusterSnapshot, name: string, change: (c: any) => any): ClusterSnapshot => ({ ...s, claims: s.claims.map((c) => (c.metadata.name === name ? change(c) : c)) });

  test('GIVEN a pre-existing claim with another access mode and class THEN it fails and says why the StatefulSet kept it', () => {
    const s = withClaim(base(), 'data-web-1', (c) => ({ ...c, spec: { ...c.spec, accessModes: ['ReadWriteMany'], storageClassName: 'nfs' } }));
    const [finding] = find(checkStatefulSet(s), 'claim', 'persistentvolumeclaim/data-web-1');
    expect(finding.level).toBe('failure');
    expect(finding.message).toMatch(/^access modes ReadWriteMany, but the template asks for ReadWriteOnce; storage class nfs, but the template asks for fast: a claim with this name existed before/);
  });

  test('GIVEN a Lost claim THEN failure; a Pending claim THEN warning; a smaller capacity THEN warning', () => {
    let s = withClaim(base(), 'data-web-0', (c) => ({ ...c, status: { phase: 'Lost' } }));
    s = withClaim(s, 'data-web-1', (c) => ({ ...c, spec: { ...c.spec, volumeName: undefined }, status: { phase: 'Pending' } }));
    s = withClaim(s, 'data-web-2', (c) => ({ ...c, status: { ...c.status, capacity: { storage: '512Mi' } } }));
    const report = checkStatefulSet(s);
    expect(levels(report)).toMatchObject({
      'claim persistentvolumeclaim/data-web-0': 'failure',
      'claim persistentvolumeclaim/data-web-1': 'warning',
      'claim persistentvolumeclaim/data-web-2': 'warning',
    });
    expect(find(report, 'claim', 'persistentvolumeclaim/data-web-2')[0].message).toMatch(/^capacity 512Mi is below the 1Gi the template asks for/);
  });

  test('GIVEN a claim missing under a running pod THEN failure', () => {
    const s = { ...base(), claims: base().claims.filter((c) => c.metadata.name !== 'data-web-2') };
    expect(find(checkStatefulSet(s), 'claims')[0]).toMatchObject({ level: 'failure', message: expect.stringMatching(/^missing: data-web-2, although the pod exists/) });
  });
});

describe('the headless Service', () => {
  test('GIVEN no Service THEN failure naming the DNS names the pods lose', () => {
    const report = checkStatefulSet(liveSnapshot(workload(), { withoutService: true }));
    expect(find(report, 'headless-service')[0]).toEqual({
      check: 'headless-service', object: 'service/web-headless', level: 'failure',
      message: 'not found: the pods get no DNS names (web-0.web-headless.apps.svc); apply the manifests again',
    });
  });

  test('GIVEN a RedisCluster whose Service no longer publishes not-ready addresses THEN failure; a Service with a ClusterIP and another selector THEN failure', () => {
    const s = liveSnapshot(redis());
    const svc = s.service!;
    const report = checkStatefulSet({ ...s, service: { ...svc, spec: { ...svc.spec, publishNotReadyAddresses: false } } });
    expect(find(report, 'headless-service')[0].message).toBe('publishNotReadyAddresses is off, but RedisCluster sets it: members must resolve each other before they are Ready, or the cluster never forms');
    const other = checkStatefulSet({ ...s, service: { ...svc, spec: { ...svc.spec, clusterIP: '10.96.0.7', selector: { app: 'other' } } } });
    expect(find(other, 'headless-service')[0].message).toMatch(/^not headless \(clusterIP 10.96.0.7\).*; its selector app=other selects none of the 6 pods: those get no DNS record/);
  });
});

describe('rollout progress', () => {
  const pc = (rollout: PlacementCenterRollout) => synthChart((chart) => new PlacementCenter(chart, 'pc', { name: 'pc', rollout }), 'mq');

  test('GIVEN a canary of 1 (partition 2) with ordinal 2 updated THEN a warning lists the ordinals still on the old revision', () => {
    const report = checkStatefulSet(liveSnapshot(pc(PlacementCenterRollout.canary(1)), { podRevision: (o) => (o >= 2 ? REV2 : REV1), updateRevision: REV2 }));
    expect(report.updateStrategy).toEqual({ type: 'RollingUpdate', partition: 2 });
    expect(report.revisions).toEqual({ current: REV1, update: REV2 });
    expect(find(report, 'rollout')[0]).toEqual({
      check: 'rollout', level: 'warning',
      message: 'partitioned rollout at partition 2: ordinal 2 runs the update revision rev-2, ordinals 0-1 still run rev-1; lower the partition to continue (0 updates every pod)',
    });
  });

  test('GIVEN partition 0 and ordinals 0-1 not updated yet THEN the rollout is in progress', () => {
    const report = checkStatefulSet(liveSnapshot(pc(PlacementCenterRollout.all()), { podRevision: (o) => (o >= 2 ? REV2 : REV1), updateRevision: REV2 }));
    expect(find(report, 'rollout')[0].message).toBe('rolling out rev-2 from the highest ordinal down to partition 0: ordinals 0-1 still run rev-1');
  });

  test('GIVEN OnDelete with old pods THEN they wait to be deleted', () => {
    const s = liveSnapshot(workload(), { spec: { updateStrategy: { type: 'OnDelete' } }, podRevision: () => REV1, updateRevision: REV2 });
    expect(find(checkStatefulSet(s), 'rollout')[0].message).toBe('OnDelete: ordinals 0-2 run rev-1, not rev-2, until each is deleted');
  });
});

describe('the disruption budget', () => {
  test('GIVEN a RedisCluster without its budget THEN failure', () => {
    const report = checkStatefulSet(liveSnapshot(redis(), { withoutBudgets: true }));
    expect(find(report, 'disruption-budget')[0]).toMatchObject({ level: 'failure', message: expect.stringMatching(/^no PodDisruptionBudget selects the pods, but RedisCluster renders one/) });
  });

  test('GIVEN two budgets THEN failure (evictions are refused); GIVEN 0 allowed THEN warning', () => {
    const s = liveSnapshot(workload({ disruptionBudget: DisruptionBudget.maxUnavailable(1) }));
    const b = s.disruptionBudgets[0];
    const two = checkStatefulSet({ ...s, disruptionBudgets: [b, { ...b, metadata: { ...b.metadata, name: 'extra' } }] });
    expect(find(two, 'disruption-budget')[0].message).toMatch(/^2 PodDisruptionBudgets select the pods \(web, extra\): the eviction API refuses/);
    const none = checkStatefulSet({ ...s, disruptionBudgets: [{ ...b, status: { ...b.status, observedGeneration: 1, disruptionsAllowed: 0, currentHealthy: 2 } }] });
    expect(find(none, 'disruption-budget')[0]).toMatchObject({ level: 'warning', message: 'maxUnavailable 1: 0 disruptions allowed now (healthy 2, desired 2, expected 3): a drain of a node with one of these pods waits until the unhealthy pods recover' });
  });
});

describe('ReadWriteOncePod conflicts and lost nodes', () => {
  test('GIVEN the app pod Pending because another pod holds its ReadWriteOncePod claim THEN failure naming that pod and its node', () => {
    let s = liveSnapshot(rwop());
    s = withPod(s, 'db-0', (p) => ({
      ...p,
      spec: { ...p.spec, nodeName: undefined },
      status: {
        phase: 'Pending',
        conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available: 3 node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode.' }],
      },
    }));
    const intruder: Pod = { metadata: { name: 'second-writer', uid: 'uid-x' }, spec: { nodeName: 'node-2', volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'data-db-0' } }] }, status: { phase: 'Running' } };
    const report = checkStatefulSet({ ...s, otherPods: [intruder] });
    const [finding] = find(report, 'pod', 'pod/db-0');
    expect(finding.level).toBe('failure');
    expect(finding.message).toMatch(/^Pending: claim data-db-0 \(ReadWriteOncePod\) is in use by pod second-writer on node node-2, and a ReadWriteOncePod claim has one user at a time/);
    expect(finding.message).toMatch(/the scheduler: 0\/3 nodes are available/);
    expect(exitCodeOf(report)).toBe(1);
  });

  const lost = (s: ClusterSnapshot, notReadyForMs: number, stuckMs: number): ClusterSnapshot => {
    const pod = s.pods[0];
    const node = pod.spec!.nodeName!;
    return {
      ...withPod(s, pod.metadata.name, (p) => ({
        ...p,
        metadata: { ...p.metadata, deletionTimestamp: iso(NOW - stuckMs + 30_000), deletionGracePeriodSeconds: 30 },
        status: { ...p.status, conditions: [{ type: 'Ready', status: 'False' }, { type: 'DisruptionTarget', status: 'True', reason: 'DeletionByTaintManager' }] },
      })),
      nodes: { [node]: { metadata: { name: node }, status: { conditions: [{ type: 'Ready', status: 'Unknown', lastTransitionTime: iso(NOW - notReadyForMs) }] } } },
    };
  };

  test('GIVEN a pod Terminating on a NotReady node without automation THEN failure with how long, the recorded budget and what to do', () => {
    const report = checkStatefulSet(lost(liveSnapshot(rwop({ nodeLossToleration: Duration.seconds(5) })), 95_000, 70_000));
    const [finding] = find(report, 'pod', 'pod/db-0');
    expect(finding.level).toBe('failure');
    expect(finding.message).toBe('Terminating for 70 s on node node-0, which is NotReady (Ready=Unknown for 95 s): a StatefulSet never starts a second pod with this identity, '
      + 'so no replacement starts until the node comes back, its Node object is deleted, or the pod is force-deleted; '
      + 'failover budget (stateful.cdk8s.io/failover-budget): node loss without automation unbounded, with automation off; '
      + 'once the node is known to be off: kubectl -n apps delete pod db-0 --force --grace-period=0, and kubectl taint node node-0 node.kubernetes.io/out-of-service=nodeshutdown:NoExecute so the volume is released at once');
    expect(report.pods[0]).toMatchObject({ phase: 'Terminating', nodeReady: false });
  });

  test('GIVEN the automation on THEN within its budget it is a warning, beyond it a failure', () => {
    const app = rwop({ nodeLossAutomation: { acknowledgeNodesAreFenced: true } });
    const within = find(checkStatefulSet(lost(liveSnapshot(app), 60_000, 20_000)), 'pod', 'pod/db-0')[0];
    expect(within.level).toBe('warning');
    expect(within.message).toMatch(/with automation 70 s: the failover controller has 10 s of its budget left to replace it$/);
    const beyond = find(checkStatefulSet(lost(liveSnapshot(app), 200_000, 150_000)), 'pod', 'pod/db-0')[0];
    expect(beyond.level).toBe('failure');
    expect(beyond.message).toMatch(/with automation 70 s, exceeded \(200 s since the node turned NotReady\): is the failover controller running \(kubectl -n apps get deployment db-failover\)\?/);
  });

  test('GIVEN nodes that cannot be read THEN a lost node is recognised from the pod conditions, and the gap is reported', () => {
    const s = lost(liveSnapshot(rwop()), 95_000, 70_000);
    const report = checkStatefulSet({ ...s, nodes: undefined, nodesUnreadable: 'not allowed to get nodes' });
    expect(find(report, 'pod', 'pod/db-0')[0]).toMatchObject({ level: 'failure', message: expect.stringMatching(/^Terminating for 70 s on node node-0, which is lost \(deleted by the taint manager\)/) });
    expect(find(report, 'nodes')[0]).toMatchObject({ level: 'warning', message: expect.stringMatching(/^node readiness unknown \(not allowed to get nodes\)/) });
  });

  test('GIVEN a NotReady node whose pod is not marked for deletion yet THEN a warning with the toleration', () => {
    const s = liveSnapshot(rwop({ nodeLossToleration: Duration.seconds(5) }));
    const report = checkStatefulSet({ ...s, nodes: { 'node-0': { metadata: { name: 'node-0' }, status: { conditions: [{ type: 'Ready', status: 'Unknown', lastTransitionTime: iso(NOW - 3000) }] } } } });
    expect(find(report, 'pod', 'pod/db-0')[0]).toMatchObject({
      level: 'warning', message: 'its node node-0 is not Ready for 3 s: Kubernetes marks the pod for deletion after its 5 s toleration, then it waits for the node',
    });
  });
});

describe('ranges, quantities, selectors and claim names', () => {
  test('ranges, quantities and selectors', () => {
    expect(ranges([5, 1, 2, 3, 7])).toBe('1-3, 5, 7');
    expect(quantityBytes('1Gi')).toBe(2 ** 30);
    expect(quantityBytes('500M')).toBe(5e8);
    expect(quantityBytes('lots')).toBeUndefined();
    expect(selectorMatches({ matchLabels: { a: '1' }, matchExpressions: [{ key: 'b', operator: 'In', values: ['x', 'y'] }, { key: 'c', operator: 'DoesNotExist' }] }, { a: '1', b: 'y' })).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: 'b', operator: 'NotIn', values: ['y'] }] }, { b: 'y' })).toBe(false);
    expect(selectorMatches(undefined, { a: '1' })).toBe(false);
  });

  test('claims named like another StatefulSet (web-1) are not taken for this one', () => {
    const s = liveSnapshot(workload());
    const report = checkStatefulSet({ ...s, claims: [...s.claims, { ...boundClaim(s.statefulSet, 'data', 0), metadata: { name: 'data-web-1-0' } }] });
    expect(report.claims.map((c) => c.name)).toEqual(['data-web-0', 'data-web-1', 'data-web-2']);
  });
});

describe('RedisCluster shard removal', () => {
  const draining = () => synthChart((chart) => new RedisCluster(chart, 'r', { name: 'redis', shards: 4, drainingShards: 1, auth: { enabled: false } }), 'cache');
  const jobOf = (manifests: any[], status: any, created = iso(NOW - 60_000)) => {
    const job = manifests.find((m) => m.kind === 'Job');
    return { ...job, metadata: { ...job.metadata, creationTimestamp: created }, status };
  };

  test('GIVEN no drain THEN there is no shard-removal check', () => {
    expect(find(checkStatefulSet(liveSnapshot(redis())), 'shard-removal')).toEqual([]);
  });

  test('GIVEN the drain Job running THEN a warning names the pods, the attempt and the command to follow it', () => {
    const manifests = draining();
    const report = checkStatefulSet({ ...liveSnapshot(manifests), drainJobs: [jobOf(manifests, { active: 1 })] });
    expect(find(report, 'shard-removal')).toEqual([{
      check: 'shard-removal', object: 'job/redis-drain-4-to-3', level: 'warning',
      message: 'draining the last 2 pods (ordinals 6-7): running, attempt 1 of 7; follow with kubectl logs -f job/redis-drain-4-to-3; lower shards only once it is complete',
    }]);
    expect(report.summary.result).toBe('warning');
  });

  test('GIVEN the Job complete THEN the next step; GIVEN it failed THEN failure with the logs command; GIVEN none THEN failure', () => {
    const manifests = draining();
    const complete = checkStatefulSet({ ...liveSnapshot(manifests), drainJobs: [jobOf(manifests, { succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] })] });
    expect(find(complete, 'shard-removal')[0]).toMatchObject({ level: 'warning',
      message: 'drained: the last 2 pods (ordinals 6-7) own no slots and left the cluster (they stay not ready); next: lower shards and set drainingShards 0, then apply' });
    const failed = checkStatefulSet({ ...liveSnapshot(manifests), drainJobs: [jobOf(manifests, { failed: 7, conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }] })] });
    expect(find(failed, 'shard-removal')[0]).toMatchObject({ level: 'failure',
      message: 'the drain of the last 2 pods (ordinals 6-7) failed after 7 attempts (BackoffLimitExceeded): see kubectl logs job/redis-drain-4-to-3; delete the Job and apply again to retry (it resumes); do not lower shards' });
    const none = checkStatefulSet({ ...liveSnapshot(manifests), drainJobs: [] });
    expect(find(none, 'shard-removal')[0]).toMatchObject({ level: 'failure',
      message: 'shards drain: the last 2 pods (ordinals 6-7), but no drain Job exists (redis-drain-<shards>-to-<remaining>); apply all manifests of the RedisCluster' });
    const unreadable = checkStatefulSet({ ...liveSnapshot(manifests), drainJobsUnreadable: 'not allowed to list jobs.batch' });
    expect(find(unreadable, 'shard-removal')[0].level).toBe('warning');
  });

  test('GIVEN the Job of an earlier removal next to the current one THEN the newest one counts', () => {
    const manifests = draining();
    const old = { ...jobOf(manifests, { succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] }, iso(NOW - 86_400_000)) };
    const report = checkStatefulSet({
      ...liveSnapshot(manifests),
      drainJobs: [{ ...old, metadata: { ...old.metadata, name: 'redis-drain-5-to-4' } }, jobOf(manifests, { active: 1 })],
    });
    expect(find(report, 'shard-removal')[0].object).toBe('job/redis-drain-4-to-3');
  });

  test('the annotation key is the one the library writes', () => {
    expect(draining().find((m) => m.kind === 'StatefulSet').metadata.annotations).toEqual({ [DRAINING_PODS_ANNOTATION]: '2' });
  });
});
