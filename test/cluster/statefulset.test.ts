/**
 * Group 3: what the rendered StatefulSets do under the real StatefulSet,
 * PV binder, garbage collector, disruption controller and scheduler, on kwok
 * nodes: OrderedReady, claim naming and binding, scale-down order, claim
 * retention, partitioned rolling updates and the PodDisruptionBudget.
 */
import { Chart, Size, Testing } from 'cdk8s';
import {
  PlacementCenter, PlacementCenterRollout, PvcRetentionAction, StatefulWorkload, StatefulWorkloadProps, StorageClass, StorageProvisioner,
  VolumeBindingMode, ReclaimPolicy,
} from '../../src';
import { applyAll, Cleanup, useNamespace, persistentVolumeFor, refOf } from './support/deploy';
import { condition, isPodReady, Kube, ordinalOf, sleep, waitFor, Watch, WatchEvent } from './support/kube';

const NS = 'cluster-statefulset';
const STATIC_CLASS = 'cluster-statefulset-static';

let kube: Kube;
let cleanup: Cleanup;

useNamespace(NS, (k, c) => {
  kube = k;
  cleanup = c;
});

function synth(build: (chart: Chart) => void): any[] {
  const chart = new Chart(Testing.app(), 'c', { namespace: NS });
  build(chart);
  return Testing.synth(chart);
}

function workload(name: string, props: Partial<StatefulWorkloadProps>): any[] {
  return synth((chart) => {
    // no provisioner: every claim needs a pre-created PersistentVolume
    const cls = new StorageClass(chart, 'static', {
      name: STATIC_CLASS,
      provisioner: StorageProvisioner.custom('kubernetes.io/no-provisioner'),
      reclaimPolicy: ReclaimPolicy.RETAIN,
      volumeBindingMode: VolumeBindingMode.WAIT_FOR_FIRST_CONSUMER,
    });
    new StatefulWorkload(chart, name, {
      name,
      containers: [{
        name: 'app', image: 'docker.io/library/busybox:1.37.0', command: ['sleep', 'infinity'],
        ports: [{ name: 'http', port: 8080 }], mounts: [{ volume: 'data', path: '/data' }],
      }],
      volumeClaimTemplates: [{ name: 'data', size: Size.gibibytes(1), storageClass: cls }],
      ...props,
    });
  });
}

function statefulSetOf(manifests: any[]): any {
  return manifests.find((m) => m.kind === 'StatefulSet');
}

async function liveStatefulSet(name: string): Promise<any> {
  return kube.get('apps/v1', 'StatefulSet', name, NS);
}

async function waitReady(name: string, replicas: number): Promise<any> {
  return waitFor(`StatefulSet ${name}: ${replicas} ready`, async () => {
    const s = await liveStatefulSet(name);
    const st = s?.status ?? {};
    return (st.observedGeneration ?? 0) >= s.metadata.generation && (st.readyReplicas ?? 0) === replicas && (st.replicas ?? 0) === replicas && s;
  }, { timeoutMs: 120_000, intervalMs: 300 });
}

function podEvents(w: Watch, sts: string): WatchEvent[] {
  return w.events.filter((e) => e.object?.metadata?.name?.startsWith(`${sts}-`));
}

function firstIndex(events: WatchEvent[], pred: (e: WatchEvent) => boolean): number {
  return events.findIndex(pred);
}

const named = (name: string) => (e: WatchEvent) => e.object.metadata.name === name;

describe('OrderedReady, claim names and binding, scale-down (StatefulWorkload "ordered", static class, Retain/Retain)', () => {
  const name = 'ordered';
  let watch: Watch;

  afterAll(() => watch?.stop());

  test('ordinal n+1 is created only after ordinal n is Ready; a pod whose volume is missing holds the rest back', async () => {
    const manifests = workload(name, { replicas: 3 });
    const sts = statefulSetOf(manifests);
    const volume = (i: number) => persistentVolumeFor(NS, `data-${name}-${i}`, '1Gi', ['ReadWriteOnce'], STATIC_CLASS);
    // volumes for ordinals 1 and 2 only: ordinal 0 cannot be scheduled yet
    for (const i of [1, 2]) {
      cleanup.object(refOf(volume(i)));
      await kube.apply(volume(i));
    }
    watch = await kube.watch('v1', 'Pod', NS);
    await applyAll(kube, cleanup, manifests);
    expect(sts.spec.podManagementPolicy).toBe('OrderedReady');

    await sleep(8000);
    const early = await kube.pods(NS);
    expect(early.map((p) => p.metadata.name)).toEqual([`${name}-0`]);
    expect(early[0].spec.nodeName).toBeUndefined();
    const scheduled = condition(early[0], 'PodScheduled');
    process.stdout.write(`${name}-0 without a volume: PodScheduled=${scheduled?.status} ${scheduled?.reason}: ${scheduled?.message}\n`);
    expect(scheduled?.status).toBe('False');
    expect(await kube.get('v1', 'PersistentVolumeClaim', `data-${name}-1`, NS)).toBeUndefined();

    cleanup.object(refOf(volume(0)));
    await kube.apply(volume(0));
    await waitReady(name, 3);

    const events = podEvents(watch, name);
    for (const n of [0, 1]) {
      const readyAt = firstIndex(events, (e) => named(`${name}-${n}`)(e) && condition(e.object, 'Ready')?.status === 'True');
      const nextSeenAt = firstIndex(events, named(`${name}-${n + 1}`));
      expect({ n, readyAt: readyAt >= 0, nextSeenAt: nextSeenAt >= 0 }).toEqual({ n, readyAt: true, nextSeenAt: true });
      // watch events arrive in resourceVersion order: n's Ready update precedes n+1's creation
      expect({ n, readyBeforeNextCreated: readyAt < nextSeenAt }).toEqual({ n, readyBeforeNextCreated: true });
      const readyTime = Date.parse(condition(events[readyAt].object, 'Ready').lastTransitionTime);
      const created = Date.parse(events[nextSeenAt].object.metadata.creationTimestamp);
      expect(created).toBeGreaterThanOrEqual(readyTime);
    }
  });

  test('claims are named <template>-<statefulset>-<ordinal> and Bound to the pre-created volumes', async () => {
    const claims = (await kube.list('v1', 'PersistentVolumeClaim', NS)).filter((c) => c.metadata.name.endsWith(`-${name}-0`)
      || c.metadata.name.endsWith(`-${name}-1`) || c.metadata.name.endsWith(`-${name}-2`));
    expect(claims.map((c) => ({ name: c.metadata.name, phase: c.status.phase, volume: c.spec.volumeName, cls: c.spec.storageClassName })).sort((a, b) => a.name.localeCompare(b.name)))
      .toEqual([0, 1, 2].map((i) => ({ name: `data-${name}-${i}`, phase: 'Bound', volume: `pv-${NS}-data-${name}-${i}`, cls: STATIC_CLASS })));
    const pods = await kube.pods(NS);
    for (const p of pods.filter((x) => x.metadata.name.startsWith(`${name}-`))) {
      const vol = p.spec.volumes.find((v: any) => v.name === 'data');
      expect(vol.persistentVolumeClaim.claimName).toBe(`data-${p.metadata.name}`);
    }
  });

  test('scale-down removes the highest ordinal first, one at a time, and whenScaled Retain keeps the claims', async () => {
    const before = watch.events.length;
    await applyAll(kube, cleanup, workload(name, { replicas: 1 }));
    await waitReady(name, 1);
    await waitFor('only ordinal 0 left', async () => (await kube.pods(NS)).filter((p) => p.metadata.name.startsWith(`${name}-`)).length === 1);
    const events = podEvents(watch, name).filter((e) => watch.events.indexOf(e) >= before);
    const terminating = (n: number) => firstIndex(events, (e) => named(`${name}-${n}`)(e) && (e.type === 'DELETED' || !!e.object.metadata.deletionTimestamp));
    const gone = (n: number) => firstIndex(events, (e) => named(`${name}-${n}`)(e) && e.type === 'DELETED');
    expect(terminating(2)).toBeGreaterThanOrEqual(0);
    expect(gone(2)).toBeGreaterThanOrEqual(0);
    expect(terminating(1)).toBeGreaterThanOrEqual(0);
    // OrderedReady: ordinal 1 is only touched once ordinal 2 is completely gone
    expect(gone(2)).toBeLessThan(terminating(1));
    expect(firstIndex(events, (e) => named(`${name}-0`)(e) && (e.type === 'DELETED' || !!e.object.metadata.deletionTimestamp))).toBe(-1);

    await sleep(3000);
    for (const i of [1, 2]) {
      const claim = await kube.get('v1', 'PersistentVolumeClaim', `data-${name}-${i}`, NS);
      expect({ i, exists: !!claim, deleting: !!claim?.metadata.deletionTimestamp, phase: claim?.status.phase }).toEqual({ i, exists: true, deleting: false, phase: 'Bound' });
    }
  });

  test('deleting a StatefulSet with whenDeleted Retain keeps every claim', async () => {
    const live = await liveStatefulSet(name);
    expect(live.spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: 'Retain', whenScaled: 'Retain' });
    await kube.delete('apps/v1', 'StatefulSet', name, NS, { propagationPolicy: 'Background' });
    await waitFor('ordered pods gone', async () => (await kube.pods(NS)).every((p) => !p.metadata.name.startsWith(`${name}-`)), { timeoutMs: 60_000 });
    // give the garbage collector time to act, had it been told to
    await sleep(5000);
    for (const i of [0, 1, 2]) {
      const claim = await kube.get('v1', 'PersistentVolumeClaim', `data-${name}-${i}`, NS);
      expect({ i, exists: !!claim, deleting: !!claim?.metadata.deletionTimestamp, owners: claim?.metadata.ownerReferences ?? [] })
        .toEqual({ i, exists: true, deleting: false, owners: [] });
    }
  });
});

describe('claim retention Delete/Delete (StatefulWorkload "scratch", standard class)', () => {
  const name = 'scratch';
  const manifests = (replicas: number) => workload(name, {
    replicas,
    volumeClaimTemplates: [{ name: 'data', size: Size.gibibytes(1) }],
    pvcRetention: { whenScaled: PvcRetentionAction.DELETE, whenDeleted: PvcRetentionAction.DELETE },
  }).filter((m) => m.kind !== 'StorageClass');

  test('scale-down deletes the claims of the removed ordinals only', async () => {
    await applyAll(kube, cleanup, manifests(3));
    await waitReady(name, 3);
    const claims = async () => (await kube.list('v1', 'PersistentVolumeClaim', NS)).filter((c) => c.metadata.name.startsWith(`data-${name}-`));
    expect((await claims()).map((c) => c.metadata.name).sort()).toEqual([0, 1, 2].map((i) => `data-${name}-${i}`));
    await applyAll(kube, cleanup, manifests(1));
    await waitReady(name, 1);
    await waitFor('claims of ordinals 1 and 2 deleted', async () => (await claims()).map((c) => c.metadata.name).join(',') === `data-${name}-0`, { timeoutMs: 90_000 });
    const remaining = await claims();
    expect(remaining[0].metadata.deletionTimestamp).toBeUndefined();
  });

  test('deleting the StatefulSet deletes the remaining claims', async () => {
    await kube.delete('apps/v1', 'StatefulSet', name, NS, { propagationPolicy: 'Background' });
    await waitFor(`data-${name}-0 deleted`, async () => (await kube.get('v1', 'PersistentVolumeClaim', `data-${name}-0`, NS)) === undefined, { timeoutMs: 90_000 });
  });
});

describe('partitioned rolling update and the disruption budget (PlacementCenter, standard class)', () => {
  const manifests = (image: string, rollout: PlacementCenterRollout) => synth((chart) => {
    new PlacementCenter(chart, 'pc', { name: 'pc', image, rollout, storageClass: StorageClass.fromStorageClassName('standard') });
  });

  async function revisions(): Promise<{ current: string; update: string; pods: Record<number, { hash: string; image: string }> }> {
    const s = await liveStatefulSet('pc');
    const pods: Record<number, { hash: string; image: string }> = {};
    for (const p of await kube.pods(NS, 'app=robustmq,component=placement-center')) {
      pods[ordinalOf(p.metadata.name)] = { hash: p.metadata.labels['controller-revision-hash'], image: p.spec.containers[0].image };
    }
    return { current: s.status.currentRevision, update: s.status.updateRevision, pods };
  }

  test('partition 2 (canary of 1) updates ordinal 2 only; partition 0 then updates the rest', async () => {
    await applyAll(kube, cleanup, manifests('ghcr.io/robustmq/robustmq:v0.4.10', PlacementCenterRollout.canary(1)));
    await waitReady('pc', 3);
    const v1 = await revisions();
    expect(v1.current).toBe(v1.update);

    await applyAll(kube, cleanup, manifests('ghcr.io/robustmq/robustmq:v0.4.11', PlacementCenterRollout.canary(1)));
    const s = await liveStatefulSet('pc');
    expect(s.spec.updateStrategy).toMatchObject({ type: 'RollingUpdate', rollingUpdate: { partition: 2 } });
    await waitFor('ordinal 2 on the new revision', async () => {
      const st = (await liveStatefulSet('pc')).status;
      return st.updatedReplicas === 1 && st.readyReplicas === 3;
    }, { timeoutMs: 120_000 });
    // the controller would have moved on by now if the partition let it
    await sleep(4000);
    const canary = await revisions();
    expect(canary.update).not.toBe(canary.current);
    expect(canary.pods).toEqual({
      0: { hash: canary.current, image: 'ghcr.io/robustmq/robustmq:v0.4.10' },
      1: { hash: canary.current, image: 'ghcr.io/robustmq/robustmq:v0.4.10' },
      2: { hash: canary.update, image: 'ghcr.io/robustmq/robustmq:v0.4.11' },
    });

    await applyAll(kube, cleanup, manifests('ghcr.io/robustmq/robustmq:v0.4.11', PlacementCenterRollout.all()));
    await waitFor('every ordinal on the new revision', async () => {
      const st = (await liveStatefulSet('pc')).status;
      return st.updatedReplicas === 3 && st.readyReplicas === 3 && st.currentRevision === st.updateRevision;
    }, { timeoutMs: 120_000 });
    const all = await revisions();
    expect(all.update).toBe(canary.update);
    for (const i of [0, 1, 2]) expect(all.pods[i]).toEqual({ hash: all.update, image: 'ghcr.io/robustmq/robustmq:v0.4.11' });
  });

  test('the PodDisruptionBudget (maxUnavailable 1) lets one eviction of a drain through and refuses the next with 429', async () => {
    const pdb = await waitFor('PDB pc allows one disruption', async () => {
      const p = await kube.get('policy/v1', 'PodDisruptionBudget', 'pc', NS);
      return p?.status?.currentHealthy === 3 && p.status.disruptionsAllowed === 1 && p;
    });
    expect(pdb.spec.maxUnavailable).toBe(1);
    const evict = (pod: string) => kube.request('POST', `/api/v1/namespaces/${NS}/pods/${pod}/eviction`, {
      body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod, namespace: NS } },
    });
    const state = async () => {
      const p = await kube.get('policy/v1', 'PodDisruptionBudget', 'pc', NS);
      const pods = (await kube.pods(NS, 'app=robustmq,component=placement-center'))
        .map((x) => `${x.metadata.name}:${x.status.phase}/${isPodReady(x) ? 'Ready' : 'NotReady'}${x.metadata.deletionTimestamp ? '/Terminating' : ''}`);
      return `allowed=${p.status.disruptionsAllowed} healthy=${p.status.currentHealthy}/${p.status.desiredHealthy} pods=${pods.join(' ')}`;
    };
    const cordon = (unschedulable: boolean) => Promise.all(kube.cp.nodes.map((n) => kube.call('PATCH', `/api/v1/nodes/${n}`, {
      body: { spec: { unschedulable: unschedulable || null } }, contentType: 'application/merge-patch+json',
    })));
    // as kubectl drain does: cordon first, so an evicted member cannot come back (kwok would make it Ready within milliseconds)
    await cordon(true);
    try {
      const first = await evict('pc-1');
      const between = await state();
      const second = await evict('pc-2');
      process.stdout.write(`eviction pc-1: HTTP ${first.status}; then ${between}; eviction pc-2: HTTP ${second.status}: ${second.body?.message} `
        + `(${(second.body?.details?.causes ?? []).map((c: any) => c.message).join('; ')})\n`);
      expect(first.status).toBe(201);
      expect(second.status).toBe(429);
      expect(second.body.message).toMatch(/disruption budget/);
      expect(second.body.details.causes).toEqual(expect.arrayContaining([expect.objectContaining({ reason: 'DisruptionBudget' })]));
      const pc2 = await kube.get('v1', 'Pod', 'pc-2', NS);
      expect(pc2.metadata.deletionTimestamp).toBeUndefined();
      expect(isPodReady(pc2)).toBe(true);
    } finally {
      await cordon(false);
    }
    await waitReady('pc', 3);
  });
});
