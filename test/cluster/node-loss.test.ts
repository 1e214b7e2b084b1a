/**
 * Group 5: the loss of the node that runs an RwopStatefulApp pod, timed.
 * (a) Without automation the pod is marked for deletion after its toleration
 *     and then stays Terminating: no replacement starts.
 * (b) With the failover automation (the construct's own controller.js, env,
 *     ServiceAccount and RBAC, two leader-elected instances run on the host)
 *     a Ready replacement runs on another node within the construct's budget.
 */
import * as childProcess from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Chart, Duration, Size, Testing } from 'cdk8s';
import { FailoverAction, RwopStatefulApp, RwopStatefulAppProps, StorageClass, StorageProvisioner } from '../../src';
import { attachControlPlane } from './control-plane';
import { applyAll, Cleanup, persistentVolumeFor, refOf, waitForWorkloads } from './support/deploy';
import { condition, isPodReady, Kube, sleep, waitFor } from './support/kube';
import { writeResult } from './support/results';

const NS_MANUAL = 'cluster-node-loss-manual';
const NS_AUTO = 'cluster-node-loss-auto';
const STATIC_CLASS = 'cluster-node-loss-static';
const OUT_OF_SERVICE = 'node.kubernetes.io/out-of-service';
/** How long scenario (a) watches for a replacement that must not come. */
const OBSERVATION_WINDOW_SECONDS = 30;

const cp = attachControlPlane();
let kube: Kube;
let cleanup: Cleanup;
const lostNodes = new Set<string>();
const controllers: childProcess.ChildProcess[] = [];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-stateful-node-loss-'));
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
  for (const ns of [NS_MANUAL, NS_AUTO]) {
    cleanup.namespace(ns);
    await kube.createNamespace(ns);
  }
});

afterAll(async () => {
  const errors: unknown[] = [];
  await stopControllers();
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
    fs.rmSync(tmp, { recursive: true, force: true });
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

async function stopControllers(): Promise<void> {
  await Promise.all(controllers.splice(0).map((c) => new Promise<void>((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null) return resolve();
    const kill = setTimeout(() => c.kill('SIGKILL'), 5000);
    c.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    c.kill('SIGTERM');
  })));
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

/** The Deployment's container env, resolved for a process on the host (the downward API fields by hand). */
function hostEnv(deployment: any, namespace: string, identity: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of deployment.spec.template.spec.containers[0].env) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') env[e.name] = namespace;
    else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') env[e.name] = identity;
    else throw new Error(`no host value for env ${e.name}`);
  }
  return env;
}

interface LogLine {
  readonly instance: number;
  readonly receivedAt: number;
  readonly entry: any;
}

test('(b) with the failover automation: a Ready replacement runs on another node within the computed failover budget', async () => {
  const automation = { acknowledgeNodesAreFenced: true, action: FailoverAction.TAINT_AND_FORCE_DELETE, notReadyThreshold: Duration.seconds(5), checkInterval: Duration.seconds(2) };
  const { app, manifests } = synthApp(NS_AUTO, {
    name: 'auto',
    nodeLossAutomation: automation,
    // the budget for this cluster: its node monitor timings, no volume attach (no CSI), nothing to start (kwok)
    clusterTimings: {
      nodeMonitorGracePeriod: Duration.seconds(GRACE),
      nodeMonitorPeriod: Duration.seconds(MONITOR_PERIOD),
      volumeAttach: Duration.seconds(0),
      reschedule: Duration.seconds(2),
    },
    expectedStartTime: Duration.seconds(0),
  });
  const budget = app.failoverBudget.nodeLossWithAutomation!;
  expect(budget.bounded).toBe(true);
  const deployment = manifests.find((m) => m.kind === 'Deployment');
  const configMap = manifests.find((m) => m.kind === 'ConfigMap' && m.metadata.name === deployment.spec.template.spec.volumes[0].configMap.name);
  const serviceAccount = deployment.spec.template.spec.serviceAccountName;

  // the controller's two replicas run on the host, so the Deployment itself is not applied
  const pod = await deployApp(NS_AUTO, app, manifests.filter((m) => m.kind !== 'Deployment'));
  const node = pod.spec.nodeName;

  const script = path.join(tmp, 'controller.js');
  fs.writeFileSync(script, configMap.data['controller.js']);
  const tokenFile = path.join(tmp, 'token');
  const token = await cp.kubectlRun(['create', 'token', serviceAccount, '-n', NS_AUTO, '--duration=2h']);
  fs.writeFileSync(tokenFile, token.stdout.trim(), { mode: 0o600 });

  const logs: LogLine[] = [];
  for (const instance of [0, 1]) {
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      ...hostEnv(deployment, NS_AUTO, `${deployment.metadata.name}-host-${instance}`),
      KUBE_API_SERVER: cp.server,
      KUBE_CA_FILE: kube.caFile,
      KUBE_TOKEN_FILE: tokenFile,
    };
    // timeout(1) bounds the process even if this test runner dies without cleaning up
    const child = childProcess.spawn('timeout', ['-s', 'TERM', '1800', process.execPath, script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    controllers.push(child);
    let pending = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines.filter(Boolean)) {
        let entry: any;
        try {
          entry = JSON.parse(line);
        } catch {
          entry = { msg: line };
        }
        logs.push({ instance, receivedAt: Date.now(), entry });
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => logs.push({ instance, receivedAt: Date.now(), entry: { level: 'stderr', msg: chunk.toString('utf8') } }));
  }
  const logged = (msg: string, instance?: number) => logs.filter((l) => l.entry.msg === msg && (instance === undefined || l.instance === instance));

  const leader = (await waitFor('one controller instance to become leader', async () => {
    const leaders = logged('became leader');
    return leaders.length > 0 && leaders;
  }, { timeoutMs: 30_000 }))[0].instance;
  const standby = 1 - leader;
  await waitFor('the standby to see the lease held', async () => logged('lease held by another candidate', standby).length > 0, { timeoutMs: 30_000 });
  expect(logged('became leader')).toHaveLength(1);

  const t0 = Date.now();
  lostNodes.add(node);
  await cp.stopNode(node);
  let notReadyAt: number | undefined;
  const replacement = await waitFor('a Ready replacement on another node', async () => {
    if (notReadyAt === undefined) {
      const n = await kube.get('v1', 'Node', node);
      if (condition(n, 'Ready')?.status !== 'True') notReadyAt = Date.now();
    }
    return (await appPods(NS_AUTO, 'auto')).find((p) => p.metadata.uid !== pod.metadata.uid && isPodReady(p) && p.spec.nodeName !== node);
  }, { timeoutMs: (budget.worstCaseSeconds! + 60) * 1000, intervalMs: 250 });
  const readyAt = Date.now();
  const measured = (readyAt - t0) / 1000;

  const lostNode = await kube.get('v1', 'Node', node);
  const outOfService = (lostNode.spec.taints ?? []).find((t: any) => t.key === OUT_OF_SERVICE);
  const at = (msg: string) => since(t0, logged(msg, leader)[0]?.receivedAt);
  const timeline = {
    nodeLost: 0,
    nodeNotReadySeen: since(t0, notReadyAt),
    controllerNodeLost: at('node lost'),
    controllerTainted: at('tainted node'),
    controllerForceDeleted: at('force-deleted pod'),
    replacementReady: since(t0, readyAt),
  };
  results.withAutomation = {
    node,
    replacement: { name: replacement.metadata.name, node: replacement.spec.nodeName },
    measuredSeconds: measured,
    budgetSeconds: budget.worstCaseSeconds,
    budgetTerms: budget.terms.map((t) => ({ name: t.name, seconds: t.seconds, explanation: t.explanation })),
    settings: {
      nodeMonitorGracePeriodSeconds: GRACE, nodeMonitorPeriodSeconds: MONITOR_PERIOD,
      notReadyThresholdSeconds: 5, checkIntervalSeconds: 2, action: automation.action, controllerInstances: 2,
    },
    timeline,
  };
  process.stdout.write(`node loss with automation: replacement Ready on ${replacement.spec.nodeName} ${measured.toFixed(1)} s after node ${node} was lost; `
    + `budget ${budget.worstCaseSeconds} s (${budget.terms.map((t) => `${t.name} ${t.seconds}`).join(' + ')}); timeline ${JSON.stringify(timeline)}\n`);

  expect(outOfService).toMatchObject({ key: OUT_OF_SERVICE, effect: 'NoExecute' });
  expect(logged('node lost', leader).map((l) => l.entry)).toEqual([expect.objectContaining({ node, pod: pod.metadata.name })]);
  expect(logged('tainted node', leader).map((l) => l.entry.node)).toEqual([node]);
  expect(logged('force-deleted pod', leader).map((l) => ({ pod: l.entry.pod, uid: l.entry.uid }))).toEqual([{ pod: pod.metadata.name, uid: pod.metadata.uid }]);
  for (const msg of ['node lost', 'tainted node', 'force-deleted pod']) expect(logged(msg, standby)).toEqual([]);
  expect(logs.filter((l) => l.entry.level === 'error' || l.entry.level === 'stderr')).toEqual([]);
  expect(replacement.spec.nodeName).not.toBe(node);
  expect(measured).toBeLessThanOrEqual(budget.worstCaseSeconds!);

  // leader election: when the active instance stops, it releases the lease and the standby takes over
  const stoppedAt = Date.now();
  controllers[leader].kill('SIGTERM');
  await waitFor('the standby to take over the lease', async () => logged('became leader', standby).length > 0, { timeoutMs: 30_000 });
  (results.withAutomation as Record<string, unknown>).leaderHandoverSeconds = since(stoppedAt, logged('became leader', standby)[0].receivedAt);
  expect(logged('released lease', leader)).toHaveLength(1);

  // the node is repaired: bring it back and lift the out-of-service taint, as the operator would
  await cp.restoreNode(node, { wait: true });
  lostNodes.delete(node);
  await cp.kubectlRun(['taint', 'node', node, `${OUT_OF_SERVICE}-`]);
  const restored = await kube.get('v1', 'Node', node);
  expect((restored.spec.taints ?? []).filter((t: any) => t.key === OUT_OF_SERVICE)).toEqual([]);
});
