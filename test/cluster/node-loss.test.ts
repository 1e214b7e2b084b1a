/**
 * Group 5: the loss of the node that runs an RwopStatefulApp pod, without automation: the pod is marked for
 * deletion after its toleration and then stays Terminating, and no replacement starts. (The automation is proven,
 * with its Deployment applied and default cluster timings, in failover-automation.test.ts.)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Chart, Duration, Size, Testing } from 'cdk8s';
import { RwopStatefulApp, RwopStatefulAppProps, StorageClass, StorageProvisioner } from '../../src';
import { attachControlPlane } from './control-plane';
import { applyAll, Cleanup, persistentVolumeFor, refOf, waitForWorkloads } from './support/deploy';
import { condition, isPodReady, Kube, sleep, waitFor } from './support/kube';
import { writeResult } from './support/results';

const NS_MANUAL = 'cluster-node-loss-manual';
const STATIC_CLASS = 'cluster-node-loss-static';
const OUT_OF_SERVICE = 'node.kubernetes.io/out-of-service';
/** How long scenario (a) watches for a replacement that must not come. */
const OBSERVATION_WINDOW_SECONDS = 30;

const cp = attachControlPlane();
let kube: Kube;
let cleanup: Cleanup;
const lostNodes = new Set<string>();
const results: Record<string, unknown> = {};

/** A kube-controller-manager flag as the cluster was started with it (whole seconds). */
function controllerManagerSeconds(flag: string): number {
  const cmdline = fs.readFileSync(path.join(cp.workDir, 'logs', 'kube-controller-manager.cmdline'), 'utf8');
  const m = new RegExp(`--${flag}=(\\S+)`).exec(cmdline);
  if (!m) throw new Error(`kube-controller-manager runs without --${flag}`);
  let total = 0;
  for (const [, n, unit] of m[1].matchAll(/([0-9]+)(h|m|s)/g)) total += Number(n) * ({ h: 3600, m: 60, s: 1 } as Record<string, number>)[unit];
  return total;
}

const GRACE = controllerManagerSeconds('node-monitor-grace-period');
const MONITOR_PERIOD = controllerManagerSeconds('node-monitor-period');

function since(t0: number, t: number | undefined): number | undefined {
  return t === undefined ? undefined : Math.round((t - t0) / 100) / 10;
}

beforeAll(async () => {
  kube = Kube.connect();
  cleanup = new Cleanup(kube);
  for (const ns of [NS_MANUAL]) {
    cleanup.namespace(ns);
    await kube.createNamespace(ns);
  }
});

afterAll(async () => {
  const errors: unknown[] = [];
  for (const node of lostNodes) {
    await cp.restoreNode(node, { wait: true }).catch((err) => errors.push(err));
  }
  for (const node of cp.nodes) {
    const live = await kube.get('v1', 'Node', node);
    if ((live?.spec?.taints ?? []).some((t: any) => t.key === OUT_OF_SERVICE)) {
      await cp.kubectlRun(['taint', 'node', node, `${OUT_OF_SERVICE}-`]).catch((err) => errors.push(err));
    }
  }
  writeResult('node-loss.json', results);
  try {
    await cleanup?.run();
  } finally {
    kube?.close();
  }
  if (errors.length > 0) throw new Error(errors.map(String).join('; '));
});

function synthApp(namespace: string, props: Partial<RwopStatefulAppProps>): { app: RwopStatefulApp; manifests: any[] } {
  const chart = new Chart(Testing.app(), 'c', { namespace });
  // a class without provisioner and a volume without node affinity: the replacement may start on any node
  const cls = new StorageClass(chart, 'static', { name: STATIC_CLASS, provisioner: StorageProvisioner.custom('kubernetes.io/no-provisioner') });
  const app = new RwopStatefulApp(chart, 'app', {
    image: 'docker.io/library/postgres:16.4',
    ports: [{ name: 'postgres', port: 5432 }],
    storageClass: cls,
    storageSize: Size.gibibytes(1),
    ...props,
  });
  return { app, manifests: Testing.synth(chart) };
}

async function deployApp(namespace: string, app: RwopStatefulApp, manifests: any[]): Promise<any> {
  const pv = persistentVolumeFor(namespace, app.claimName, '1Gi', ['ReadWriteOncePod'], STATIC_CLASS);
  cleanup.object(refOf(pv));
  await kube.apply(pv);
  await applyAll(kube, cleanup, manifests);
  const [{ pods }] = await waitForWorkloads(kube, manifests.filter((m) => m.kind === 'StatefulSet'));
  expect(pods).toHaveLength(1);
  return pods[0];
}

async function appPods(namespace: string, name: string): Promise<any[]> {
  return kube.pods(namespace, `app.kubernetes.io/instance=${name}`);
}

test('(a) without automation: after its 5 s toleration the pod is marked for deletion, then stays Terminating and no replacement starts', async () => {
  const toleration = 5;
  const { app, manifests } = synthApp(NS_MANUAL, { name: 'manual', nodeLossToleration: Duration.seconds(toleration) });
  const pod = await deployApp(NS_MANUAL, app, manifests);
  const node = pod.spec.nodeName;

  const t0 = Date.now();
  lostNodes.add(node);
  await cp.stopNode(node);
  let notReadyAt: number | undefined;
  const marked = await waitFor(`${pod.metadata.name} marked for deletion`, async () => {
    if (notReadyAt === undefined) {
      const n = await kube.get('v1', 'Node', node);
      if (condition(n, 'Ready')?.status !== 'True') notReadyAt = Date.now();
    }
    const p = await kube.get('v1', 'Pod', pod.metadata.name, NS_MANUAL);
    return p?.metadata.deletionTimestamp && p;
  }, { timeoutMs: (GRACE + MONITOR_PERIOD + toleration + 60) * 1000, intervalMs: 250 });
  const markedAt = Date.now();
  expect(marked.metadata.uid).toBe(pod.metadata.uid);

  const lostNode = await kube.get('v1', 'Node', node);
  const taint = (lostNode.spec.taints ?? []).find((t: any) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute');
  expect(taint).toBeDefined();
  const disruption = condition(marked, 'DisruptionTarget');
  expect(disruption?.reason).toBe('DeletionByTaintManager');
  // the taint manager evicts once the toleration has run out (API times have whole seconds)
  const evictedAfter = (Date.parse(disruption.lastTransitionTime) - Date.parse(taint.timeAdded)) / 1000;
  expect(evictedAfter).toBeGreaterThanOrEqual(toleration - 1);
  expect(evictedAfter).toBeLessThanOrEqual(toleration + 5);

  // the bounded observation: the old pod stays, Terminating, and nothing replaces it
  const seen = new Set<string>();
  for (let i = 0; i < OBSERVATION_WINDOW_SECONDS; i++) {
    const pods = await appPods(NS_MANUAL, 'manual');
    for (const p of pods) seen.add(`${p.metadata.name}/${p.metadata.uid}/${p.metadata.deletionTimestamp ? 'Terminating' : p.status.phase}`);
    expect(pods.map((p) => ({ uid: p.metadata.uid, terminating: !!p.metadata.deletionTimestamp })))
      .toEqual([{ uid: pod.metadata.uid, terminating: true }]);
    await sleep(1000);
  }
  const observedUntil = Date.now();
  const summary = {
    node,
    tolerationSeconds: toleration,
    nodeNotReadySeconds: since(t0, notReadyAt),
    markedForDeletionSeconds: since(t0, markedAt),
    evictedAfterTaintSeconds: evictedAfter,
    observationWindowSeconds: since(markedAt, observedUntil),
    podsSeen: [...seen],
  };
  process.stdout.write(`node loss without automation (grace ${GRACE} s): node ${node} lost at 0 s, NotReady seen at ${summary.nodeNotReadySeconds} s, `
    + `pod marked for deletion at ${summary.markedForDeletionSeconds} s (${evictedAfter} s after the unreachable taint), `
    + `then Terminating with no replacement for ${summary.observationWindowSeconds} s of observation\n`);

  // the node comes back: its "kubelet" finishes the deletion and only then does the StatefulSet replace the pod
  const restoredAt = Date.now();
  await cp.restoreNode(node, { wait: true });
  lostNodes.delete(node);
  const replacement = await waitFor('replacement after the node came back', async () =>
    (await appPods(NS_MANUAL, 'manual')).find((p) => p.metadata.uid !== pod.metadata.uid && isPodReady(p)), { timeoutMs: 120_000 });
  results.withoutAutomation = { ...summary, replacementReadyAfterRestoreSeconds: since(restoredAt, Date.now()), replacementNode: replacement.spec.nodeName };
  // out of the way of scenario (b)
  await kube.delete('apps/v1', 'StatefulSet', 'manual', NS_MANUAL);
});
