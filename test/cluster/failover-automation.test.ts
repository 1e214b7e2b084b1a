/**
 * Node-loss automation as users run it: the RwopStatefulApp manifests applied whole (the controller's Deployment,
 * RBAC and disruption budget included), without a priority class, on clusters with Kubernetes' default
 * node-monitor grace period (50 s) and kubelet-like heartbeats (a 40 s node Lease renewed every 10 s).
 *
 * kwok runs no containers, so the controller program runs as host processes: one per pod of the applied Deployment,
 * with that pod's name as identity, the program from the rendered ConfigMap, the Deployment's environment and a
 * token of its ServiceAccount (so its RBAC is what is tested). When a node is lost, the processes whose pods ran
 * there are killed with it (SIGKILL: no lease release). Scheduling of the app and of the controller pods is real.
 */
import * as childProcess from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Chart, Duration, Size, Testing } from 'cdk8s';
import { RwopStatefulApp, StorageClass, StorageProvisioner } from '../../src';
import { ControlPlane, startControlPlane } from './control-plane';
import { applyAll, Cleanup, persistentVolumeFor, refOf, waitForWorkloads } from './support/deploy';
import { condition, isPodReady, Kube, RESTRICTED_LABELS, sleep, waitFor } from './support/kube';
import { writeResult } from './support/results';

const OUT_OF_SERVICE = 'node.kubernetes.io/out-of-service';
const STATIC_CLASS = 'failover-automation-static';
/** Timed runs on the 3-node cluster (the issue asks for at least 5). */
const TIMED_RUNS = Number(process.env.FAILOVER_TIMED_RUNS ?? 5);
/** Kubernetes' defaults: what users get, not a shortened grace period. */
const CLUSTER_ENV = { NODE_MONITOR_GRACE_PERIOD: '50s', KWOK_NODE_LEASE_DURATION_SECONDS: '40' };

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-stateful-failover-'));
const results: Record<string, unknown> = { clusterSettings: { nodeMonitorGracePeriod: '50s', nodeLeaseDurationSeconds: 40, nodeLeaseRenewSeconds: 10 } };

afterAll(() => {
  writeResult('failover-automation.json', results);
  fs.rmSync(tmp, { recursive: true, force: true });
});

interface LogLine {
  readonly receivedAt: number;
  readonly entry: any;
}

/** One host process of the controller, standing in for one pod of the applied Deployment. */
class ControllerProcess {
  public readonly logs: LogLine[] = [];
  public readonly exited: Promise<void>;
  private readonly child: childProcess.ChildProcess;

  public constructor(public readonly podName: string, public readonly nodeName: string, public readonly healthPort: number, script: string, env: NodeJS.ProcessEnv) {
    // timeout(1) bounds the process even if the test runner dies without cleaning up
    // detached: its own process group, so that kill() reaches the program and not only timeout(1)
    this.child = childProcess.spawn('timeout', ['-s', 'KILL', '1800', process.execPath, script], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    let pending = '';
    this.child.stdout!.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines.filter(Boolean)) {
        let entry: any;
        try {
          entry = JSON.parse(line);
        } catch {
          entry = { level: 'stdout', msg: line };
        }
        this.logs.push({ receivedAt: Date.now(), entry });
      }
    });
    this.child.stderr!.on('data', (chunk: Buffer) => this.logs.push({ receivedAt: Date.now(), entry: { level: 'stderr', msg: chunk.toString('utf8') } }));
  }

  public logged(msg: string): LogLine[] {
    return this.logs.filter((l) => l.entry.msg === msg);
  }

  public get leading(): boolean {
    const became = this.logged('became leader').length;
    return became > 0 && became > this.logged('lost leadership').length && this.alive;
  }

  public get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The node died: no signal handler runs, the lease is not released. */
  public async kill(): Promise<void> {
    if (this.alive) process.kill(-this.child.pid!, 'SIGKILL');
    await this.exited;
  }

  public async stop(): Promise<void> {
    if (!this.alive) return;
    const force = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    this.child.kill('SIGTERM');
    await this.exited;
    clearTimeout(force);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** A cluster of its own for this file, with the default timings. */
class Cluster {
  public static async start(nodes: number): Promise<Cluster> {
    const cp = await startControlPlane({ nodes, env: CLUSTER_ENV });
    return new Cluster(cp);
  }

  public readonly kube: Kube;
  public readonly cleanup: Cleanup;
  public readonly processes: ControllerProcess[] = [];
  private readonly lost = new Set<string>();

  private constructor(public readonly cp: ControlPlane) {
    this.kube = new Kube(cp);
    this.cleanup = new Cleanup(this.kube);
  }

  public synthApp(namespace: string): { app: RwopStatefulApp; manifests: any[] } {
    const chart = new Chart(Testing.app(), 'c', { namespace });
    // a class without provisioner and a volume without node affinity: the replacement may start on any node
    const cls = new StorageClass(chart, 'static', { name: STATIC_CLASS, provisioner: StorageProvisioner.custom('kubernetes.io/no-provisioner') });
    const app = new RwopStatefulApp(chart, 'app', {
      name: 'app',
      image: 'docker.io/library/postgres:16.4',
      ports: [{ name: 'postgres', port: 5432 }],
      storageClass: cls,
      storageSize: Size.gibibytes(1),
      nodeLossAutomation: { acknowledgeNodesAreFenced: true },
      // kwok: nothing to attach and nothing to start; everything else at its default
      clusterTimings: { volumeAttach: Duration.seconds(0) },
      expectedStartTime: Duration.seconds(0),
    });
    return { app, manifests: Testing.synth(chart) };
  }

  /** Applies the app's manifests in a new restricted namespace: all of them, or all but the controller Deployment. */
  public async deploy(namespace: string, manifests: any[], opts: { withDeployment?: boolean } = {}): Promise<void> {
    this.cleanup.namespace(namespace);
    await this.kube.createNamespace(namespace, RESTRICTED_LABELS);
    const pv = persistentVolumeFor(namespace, 'data-app-0', '1Gi', ['ReadWriteOncePod'], STATIC_CLASS);
    this.cleanup.object(refOf(pv));
    await this.kube.apply(pv);
    const applied = (opts.withDeployment ?? true) ? manifests : manifests.filter((m) => m.kind !== 'Deployment');
    await applyAll(this.kube, this.cleanup, applied);
    await waitForWorkloads(this.kube, applied);
  }

  public async appPod(namespace: string): Promise<any> {
    return (await this.kube.pods(namespace, 'app.kubernetes.io/instance=app'))[0];
  }

  public async controllerPods(namespace: string): Promise<any[]> {
    return this.kube.pods(namespace, 'app.kubernetes.io/instance=app-failover');
  }

  /** Starts one host process per Ready controller pod (those `which` picks), each as that pod. */
  public async startControllers(namespace: string, manifests: any[], which: (pod: any) => boolean = () => true): Promise<ControllerProcess[]> {
    const deployment = manifests.find((m) => m.kind === 'Deployment');
    const spec = deployment.spec.template.spec;
    const configMap = manifests.find((m) => m.kind === 'ConfigMap' && m.metadata.name === spec.volumes[0].configMap.name);
    const script = path.join(tmp, `${namespace}-controller.js`);
    fs.writeFileSync(script, configMap.data['controller.js']);
    const token = (await this.cp.kubectlRun(['create', 'token', spec.serviceAccountName, '-n', namespace, '--duration=2h'])).stdout.trim();
    const tokenFile = path.join(tmp, `${namespace}-token`);
    fs.writeFileSync(tokenFile, token, { mode: 0o600 });
    const started: ControllerProcess[] = [];
    for (const pod of (await this.controllerPods(namespace)).filter((p) => isPodReady(p) && which(p))) {
      const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
      for (const e of spec.containers[0].env) {
        if (e.value !== undefined) env[e.name] = e.value;
        else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') env[e.name] = namespace;
        else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') env[e.name] = pod.metadata.name;
        else throw new Error(`no host value for env ${e.name}`);
      }
      // the one difference from the pod: several processes share this host's network, so each gets its own port
      const healthPort = await freePort();
      Object.assign(env, { HEALTH_PORT: String(healthPort), KUBE_API_SERVER: this.cp.server, KUBE_CA_FILE: this.kube.caFile, KUBE_TOKEN_FILE: tokenFile });
      const p = new ControllerProcess(pod.metadata.name, pod.spec.nodeName, healthPort, script, env);
      this.processes.push(p);
      started.push(p);
    }
    return started;
  }

  public async waitForLeader(processes: ControllerProcess[]): Promise<ControllerProcess> {
    return waitFor('a controller to lead', async () => processes.find((p) => p.leading), { timeoutMs: 30_000 });
  }

  public async loseNode(node: string): Promise<void> {
    this.lost.add(node);
    await this.cp.stopNode(node);
    // the processes of the controller pods on that node die with it
    await Promise.all(this.processes.filter((p) => p.nodeName === node).map((p) => p.kill()));
  }

  public async restoreNode(node: string): Promise<void> {
    await this.cp.restoreNode(node, { wait: true });
    this.lost.delete(node);
  }

  public async untaint(node: string): Promise<void> {
    const live = await this.kube.get('v1', 'Node', node);
    if ((live?.spec?.taints ?? []).some((t: any) => t.key === OUT_OF_SERVICE)) await this.cp.kubectlRun(['taint', 'node', node, `${OUT_OF_SERVICE}-`]);
  }

  /** Puts the cluster back for the next run: controllers stopped, nodes back and untainted, namespaces gone. */
  public async reset(): Promise<void> {
    await Promise.all(this.processes.splice(0).map((p) => p.stop()));
    for (const node of [...this.lost]) await this.restoreNode(node);
    for (const node of this.cp.nodes) await this.untaint(node);
    await this.cleanup.run();
  }

  public async stop(): Promise<void> {
    try {
      await this.reset();
    } finally {
      this.kube.close();
      await this.cp.stop();
    }
  }
}

async function healthStatus(p: ControllerProcess): Promise<number> {
  return (await fetch(`http://127.0.0.1:${p.healthPort}/healthz`)).status;
}

/** Pods preempted, and scheduling failures since `since` (the replacement must schedule at its first attempt). */
async function schedulingTrouble(kube: Kube, namespace: string, since: number): Promise<string[]> {
  const at = (e: any) => Date.parse(e.eventTime ?? e.lastTimestamp ?? e.firstTimestamp ?? e.metadata.creationTimestamp);
  return (await kube.list('v1', 'Event', namespace))
    .filter((e) => e.reason === 'Preempted' || (e.reason === 'FailedScheduling' && at(e) >= since - 1000))
    .map((e) => `${e.reason} ${e.involvedObject?.name}: ${e.message}`);
}

interface Failover {
  readonly startedAt: number;
  readonly measuredSeconds: number;
  readonly replacement: any;
  readonly timeline: Record<string, number | undefined>;
}

/** Loses the app pod's node and waits for a Ready replacement elsewhere, timing what the active controller did. */
async function failOver(cluster: Cluster, namespace: string, budgetSeconds: number): Promise<Failover> {
  const pod = await cluster.appPod(namespace);
  const node = pod.spec.nodeName;
  const t0 = Date.now();
  await cluster.loseNode(node);
  let notReadyAt: number | undefined;
  const replacement = await waitFor('a Ready replacement on another node', async () => {
    if (notReadyAt === undefined && condition(await cluster.kube.get('v1', 'Node', node), 'Ready')?.status !== 'True') notReadyAt = Date.now();
    const p = await cluster.appPod(namespace);
    return p && p.metadata.uid !== pod.metadata.uid && isPodReady(p) && p.spec.nodeName !== node && p;
  }, { timeoutMs: (budgetSeconds + 90) * 1000, intervalMs: 250 });
  const readyAt = Date.now();
  const since = (t: number | undefined) => (t === undefined ? undefined : Math.round((t - t0) / 100) / 10);
  for (const p of cluster.processes) {
    const lines = p.logs.filter((l) => l.receivedAt >= t0 - 1000 && l.entry.level !== 'debug').map((l) => `  +${since(l.receivedAt)} s ${JSON.stringify(l.entry)}`);
    process.stdout.write(`controller ${p.podName} on ${p.nodeName}${p.alive ? '' : ' (killed with its node)'}:\n${lines.join('\n')}\n`);
  }
  const first = (msg: string) => since(cluster.processes.flatMap((p) => p.logged(msg)).map((l) => l.receivedAt).filter((t) => t >= t0).sort((a, b) => a - b)[0]);
  return {
    startedAt: t0,
    measuredSeconds: (readyAt - t0) / 1000,
    replacement,
    timeline: {
      nodeLost: 0,
      newLeader: first('became leader'),
      controllerSawNodeLost: first('node lost'),
      tainted: first('tainted node'),
      forceDeleted: first('force-deleted pod'),
      nodeNotReady: since(notReadyAt),
      replacementReady: since(readyAt),
    },
  };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

describe('3 nodes, default node-monitor grace, the manifests applied as users do, no priority class', () => {
  let cluster: Cluster;
  const runs: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    cluster = await Cluster.start(3);
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  test('the controller replicas never keep the replacement off a node, and the failover stays inside the budget', async () => {
    for (let run = 1; run <= TIMED_RUNS; run++) {
      const namespace = `failover-3n-${run}`;
      const { app, manifests } = cluster.synthApp(namespace);
      const budget = app.failoverBudget.nodeLossWithAutomation!;
      await cluster.deploy(namespace, manifests);
      const appNode = (await cluster.appPod(namespace)).spec.nodeName;
      const controllerNodes = (await cluster.controllerPods(namespace)).map((p) => p.spec.nodeName);
      // preferences spread them over the two other nodes: the arrangement that used to leave the replacement nowhere to go
      expect(controllerNodes.sort()).toEqual(cluster.cp.nodes.filter((n) => n !== appNode).sort());
      const processes = await cluster.startControllers(namespace, manifests);
      expect(processes).toHaveLength(2);
      const leader = await cluster.waitForLeader(processes);
      // every replica times the heartbeats before the loss, not only the leader
      await waitFor('both replicas to have read the node heartbeats twice', async () => processes.every((p) => p.alive), { timeoutMs: 10_000 });
      await sleep(4000);
      expect(await Promise.all(processes.map(healthStatus))).toEqual([200, 200]);

      const f = await failOver(cluster, namespace, budget.worstCaseSeconds!);
      const lostNode = appNode;
      expect(f.replacement.spec.nodeName).not.toBe(lostNode);
      expect(controllerNodes).toContain(f.replacement.spec.nodeName);
      expect(await schedulingTrouble(cluster.kube, namespace, f.startedAt)).toEqual([]);
      expect(leader.logged('node lost').map((l) => l.entry)).toEqual([expect.objectContaining({ node: lostNode, reason: 'HeartbeatSilent' })]);
      for (const p of processes.filter((x) => x !== leader)) expect(p.logged('tainted node')).toEqual([]);
      for (const p of processes) expect(p.logs.filter((l) => l.entry.level === 'error' || l.entry.level === 'stderr')).toEqual([]);
      expect(f.measuredSeconds).toBeLessThanOrEqual(budget.worstCaseSeconds!);
      const lost = await cluster.kube.get('v1', 'Node', lostNode);
      expect((lost.spec.taints ?? []).find((t: any) => t.key === OUT_OF_SERVICE)).toMatchObject({ value: 'nodeshutdown', effect: 'NoExecute' });
      runs.push({ run, measuredSeconds: f.measuredSeconds, budgetSeconds: budget.worstCaseSeconds, lostNode, replacementNode: f.replacement.spec.nodeName, timeline: f.timeline });
      process.stdout.write(`run ${run}: replacement Ready on ${f.replacement.spec.nodeName} after ${f.measuredSeconds.toFixed(1)} s (budget ${budget.worstCaseSeconds} s); ${JSON.stringify(f.timeline)}\n`);

      if (run === 1) {
        // the node comes back: the taint stays until a person removes it, and the app does not go back there
        await cluster.restoreNode(lostNode);
        await sleep(3 * 2000);
        const back = await cluster.kube.get('v1', 'Node', lostNode);
        expect(condition(back, 'Ready')?.status).toBe('True');
        expect((back.spec.taints ?? []).map((t: any) => t.key)).toContain(OUT_OF_SERVICE);
        expect(leader.logged('tainted node is ready again')).toHaveLength(1);
        const before = await cluster.appPod(namespace);
        await cluster.kube.delete('v1', 'Pod', before.metadata.name, namespace);
        const again = await waitFor('the app pod recreated and Ready', async () => {
          const p = await cluster.appPod(namespace);
          return p && p.metadata.uid !== before.metadata.uid && isPodReady(p) && p;
        }, { timeoutMs: 60_000 });
        expect(again.spec.nodeName).not.toBe(lostNode);
        expect((await cluster.controllerPods(namespace)).map((p) => p.spec.nodeName)).not.toContain(lostNode);
        expect((await cluster.kube.get('v1', 'Node', lostNode)).spec.taints.map((t: any) => t.key)).toContain(OUT_OF_SERVICE);
      }
      await cluster.reset();
    }
    const measured = runs.map((r) => r.measuredSeconds as number);
    results.threeNodes = { runs, medianSeconds: median(measured), worstSeconds: Math.max(...measured), budgetSeconds: runs[0].budgetSeconds };
    process.stdout.write(`3 nodes: median ${median(measured).toFixed(1)} s, worst ${Math.max(...measured).toFixed(1)} s over ${runs.length} runs; budget ${runs[0].budgetSeconds} s\n`);
  });
});

describe('5 nodes, the leader on the app\'s node', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await Cluster.start(5);
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  test('the leader dies with the node, the standby takes the Lease over and fails the app over inside the budget', async () => {
    const namespace = 'failover-5n';
    const { app, manifests } = cluster.synthApp(namespace);
    const budget = app.failoverBudget.nodeLossWithAutomation!;
    await cluster.deploy(namespace, manifests, { withDeployment: false });
    const appNode = (await cluster.appPod(namespace)).spec.nodeName;
    // Put a controller replica on the app's node (something the preferences avoid, and a crowded cluster can force):
    // with every other node cordoned both replicas land there; one is then moved away.
    const others = cluster.cp.nodes.filter((n) => n !== appNode);
    for (const n of others) await cluster.cp.kubectlRun(['cordon', n]);
    try {
      await applyAll(cluster.kube, cluster.cleanup, manifests.filter((m) => m.kind === 'Deployment'));
      await waitForWorkloads(cluster.kube, manifests.filter((m) => m.kind === 'Deployment'));
    } finally {
      for (const n of others) await cluster.cp.kubectlRun(['uncordon', n]);
    }
    const [stay, move] = await cluster.controllerPods(namespace);
    expect([stay.spec.nodeName, move.spec.nodeName]).toEqual([appNode, appNode]);
    await cluster.kube.delete('v1', 'Pod', move.metadata.name, namespace);
    const pods = await waitFor('the moved replica Ready on another node', async () => {
      const ps = await cluster.controllerPods(namespace);
      return ps.length === 2 && ps.every(isPodReady) && ps.some((p) => p.spec.nodeName !== appNode) && ps;
    }, { timeoutMs: 60_000 });
    // the replica on the app's node starts first and leads; the other one waits as the standby
    const [active] = await cluster.startControllers(namespace, manifests, (p) => p.spec.nodeName === appNode);
    await waitFor('the replica on the app\'s node to lead', async () => active.leading, { timeoutMs: 30_000 });
    const [standby] = await cluster.startControllers(namespace, manifests, (p) => p.spec.nodeName !== appNode);
    expect(pods.map((p: any) => p.metadata.name).sort()).toEqual([active.podName, standby.podName].sort());
    await waitFor('the standby to see the lease held', async () => standby.logged('lease held by another candidate').length > 0, { timeoutMs: 30_000 });
    await sleep(4000);

    const f = await failOver(cluster, namespace, budget.worstCaseSeconds!);
    expect(active.alive).toBe(false);
    expect(active.logged('released lease')).toEqual([]);
    const newLeader = standby;
    expect(newLeader.logged('became leader')).toHaveLength(1);
    expect(newLeader!.logged('node lost').map((l) => l.entry)).toEqual([expect.objectContaining({ node: appNode, reason: 'HeartbeatSilent' })]);
    expect(newLeader!.logged('force-deleted pod')).toHaveLength(1);
    expect(f.measuredSeconds).toBeLessThanOrEqual(budget.worstCaseSeconds!);
    expect(await schedulingTrouble(cluster.kube, namespace, f.startedAt)).toEqual([]);
    results.fiveNodesLeaderOnAppNode = { measuredSeconds: f.measuredSeconds, budgetSeconds: budget.worstCaseSeconds, appNode, replacementNode: f.replacement.spec.nodeName, timeline: f.timeline };
    process.stdout.write(`5 nodes, leader on the app's node: replacement Ready on ${f.replacement.spec.nodeName} after ${f.measuredSeconds.toFixed(1)} s `
      + `(budget ${budget.worstCaseSeconds} s); ${JSON.stringify(f.timeline)}\n`);
  });
});
