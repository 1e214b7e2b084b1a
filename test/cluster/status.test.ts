/**
 * `cdk8s-stateful status` against the live control plane: the compiled command, run as a user runs it, on a
 * healthy app, a scale-down with retained claims, a partitioned rollout, a ReadWriteOncePod conflict, a pod stuck
 * Terminating after node loss, a namespace the user may not read, and the errors a user meets first.
 */
import * as childProcess from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Chart, Duration, Size, Testing } from 'cdk8s';
import { PlacementCenter, PlacementCenterRollout, RedisCluster, RwopStatefulApp, StatefulWorkload, StorageClass } from '../../src';
import { StatusReport } from '../../cli/status/model';
import { renderReport } from '../../cli/status/render';
import { attachControlPlane } from './control-plane';
import { applyAll, Cleanup, prepare, useNamespace, waitForWorkloads } from './support/deploy';
import { condition, Kube, waitFor } from './support/kube';
import { writeResult } from './support/results';

const NS = 'cluster-status';
const NS_DENIED = 'cluster-status-denied';
const REPO = path.resolve(__dirname, '..', '..');
const CLI = path.join(REPO, 'lib', 'cli', 'main.js');
const CONTEXT = 'cdk8s-stateful-test';

const cp = attachControlPlane();
let kube: Kube;
let cleanup: Cleanup;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-stateful-status-'));
const lostNodes = new Set<string>();
const results: Record<string, unknown> = {};

useNamespace(NS, (k, c) => {
  kube = k;
  cleanup = c;
});

beforeAll(() => {
  // the tests run the command as it ships: compiled, in its own process
  childProcess.execFileSync(process.execPath, [path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(REPO, 'tsconfig.cli.json')], { stdio: 'inherit' });
});

afterAll(async () => {
  for (const node of lostNodes) await cp.restoreNode(node, { wait: true });
  writeResult('status.json', results);
  fs.rmSync(tmp, { recursive: true, force: true });
});

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

function runStatus(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = childProcess.spawn(process.execPath, [CLI, 'status', ...args], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmp, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), ms: Date.now() - started }));
  });
}

/** The admin kubeconfig, as KUBECONFIG, with the context named like kubectl --context. */
async function statusJson(namespace: string, name: string, extra: string[] = []): Promise<{ run: Run; report: StatusReport }> {
  const run = await runStatus([namespace, name, '--context', CONTEXT, '-o', 'json', ...extra], { KUBECONFIG: cp.kubeconfig });
  let report: StatusReport;
  try {
    report = JSON.parse(run.stdout) as StatusReport;
  } catch {
    throw new Error(`status ${namespace} ${name} printed no JSON (exit ${run.code}): ${run.stdout}\n${run.stderr}`);
  }
  return { run, report };
}

function checks(report: StatusReport, check: string, object?: string) {
  return report.checks.filter((c) => c.check === check && (object === undefined || c.object === object));
}

function synth(build: (chart: Chart) => void): any[] {
  const chart = new Chart(Testing.app(), 'c', { namespace: NS });
  build(chart);
  return Testing.synth(chart);
}

const standard = StorageClass.fromStorageClassName('standard');

/** Volatile values of a report (addresses, nodes, revisions, volume names, times) replaced by stable ones. */
function normalise(report: StatusReport): StatusReport {
  const revisions = new Map<string, string>();
  const rev = (r: string | undefined) => {
    if (r === undefined) return r;
    if (!revisions.has(r)) revisions.set(r, r === report.revisions.update && report.revisions.current !== r ? '<update-revision>' : '<current-revision>');
    return revisions.get(r);
  };
  rev(report.revisions.current);
  rev(report.revisions.update);
  let text = JSON.stringify({
    ...report,
    checkedAt: '<time>',
    revisions: { current: rev(report.revisions.current), update: rev(report.revisions.update) },
    pods: report.pods.map((p) => ({ ...p, ip: '<ip>', node: '<node>', revision: rev(p.revision) })),
    claims: report.claims.map((c) => ({ ...c, volume: '<volume>' })),
  });
  for (const [r, placeholder] of revisions) text = text.split(r).join(placeholder!);
  return JSON.parse(text.replace(/kwok-node-\d+/g, '<node>'));
}

describe('a healthy app like the example (RedisCluster: 3 shards x 1 replica, auth, metrics, NetworkPolicy)', () => {
  test('--watch follows it until every check is ok; exit 0; the function API gives the same answer', async () => {
    const manifests = synth((chart) => new RedisCluster(chart, 'r', {
      name: 'redis',
      shards: 3,
      replicasPerShard: 1,
      persistence: { size: Size.gibibytes(1), storageClass: standard },
      auth: { existingSecret: 'redis-auth', existingSecretPasswordKey: 'password' },
      networkPolicy: { allowedClientLabels: { 'redis-client': 'true' } },
      metrics: { serviceMonitor: true },
    }));
    await prepare(kube, cleanup, manifests);
    await applyAll(kube, cleanup, manifests);

    // from right after the apply: the command follows the pods, claims and budget until they settle
    const watched = await runStatus([NS, 'redis', '-o', 'json', '--watch', '--timeout', '3m', '--interval', '1s'], { KUBECONFIG: cp.kubeconfig });
    const lines = watched.stdout.trim().split('\n').map((l) => JSON.parse(l) as StatusReport);
    expect({ code: watched.code, stderr: watched.stderr }).toEqual({ code: 0, stderr: '' });
    expect(lines.at(-1)!.summary.result).toBe('ok');
    results.healthyWatch = { seconds: watched.ms / 1000, reports: lines.length, firstResult: lines[0].summary };

    const { run, report } = await statusJson(NS, 'redis');
    expect(run.code).toBe(0);
    expect(report.construct).toBe('RedisCluster');
    expect(report.replicas).toEqual({ desired: 6, ready: 6, current: 6, updated: 6, available: 6 });
    expect(report.serviceName).toBe('redis-headless');
    expect(report.pods.map((p) => [p.ordinal, p.name, p.phase, p.ready, p.restarts])).toEqual([0, 1, 2, 3, 4, 5].map((i) => [i, `redis-${i}`, 'Running', true, 0]));
    for (const p of report.pods) expect(p).toMatchObject({ ip: expect.stringMatching(/^\d+\.\d+\.\d+\.\d+$/), node: expect.stringMatching(/^kwok-node-\d$/), nodeReady: true });
    expect(report.claims.map((c) => [c.name, c.phase, c.capacity, c.accessModes, c.storageClass])).toEqual(
      [0, 1, 2, 3, 4, 5].map((i) => [`data-redis-${i}`, 'Bound', '1Gi', ['ReadWriteOnce'], 'standard']));
    for (const c of report.claims) expect(c.volume).toMatch(/^pvc-/);
    expect(report.checks.map((c) => [c.check, c.level])).toEqual([
      ['replicas', 'ok'], ['pods', 'ok'], ['pod', 'ok'], ['claims', 'ok'], ['claim', 'ok'], ['headless-service', 'ok'], ['rollout', 'ok'], ['disruption-budget', 'ok'],
    ]);
    expect(checks(report, 'headless-service')[0].message).toBe('headless, selects all 6 pods, publishes not-ready addresses (as RedisCluster sets it)');
    expect(checks(report, 'disruption-budget')[0].message).toBe('maxUnavailable 1: 1 disruption allowed now (healthy 6, desired 5, expected 6)');
    results.healthy = { ms: run.ms, summary: report.summary };

    const script = `require(${JSON.stringify(path.join(REPO, 'status'))}).statefulSetStatus({ namespace: '${NS}', name: 'redis', kubeconfig: ${JSON.stringify(cp.kubeconfig)} })`
      + '.then((r) => console.log(JSON.stringify(r.summary)))';
    const fromFunction = childProcess.execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(JSON.parse(fromFunction)).toEqual(report.summary);
  });
});

describe('a scale-down with retained claims (StatefulWorkload, Retain/Retain)', () => {
  const web = (replicas: number) => synth((chart) => new StatefulWorkload(chart, 'web', {
    name: 'web',
    replicas,
    containers: [{ name: 'app', image: 'docker.io/library/busybox:1.37.0', command: ['sleep', 'infinity'], ports: [{ name: 'http', port: 8080 }], mounts: [{ volume: 'data', path: '/data' }] }],
    volumeClaimTemplates: [{ name: 'data', size: Size.gibibytes(1), storageClass: standard }],
  }));

  test('3 -> 1: pods ok, each kept claim a warning with whenScaled Retain; exit 2', async () => {
    await applyAll(kube, cleanup, web(3));
    await waitForWorkloads(kube, web(3));
    await applyAll(kube, cleanup, web(1));
    await waitFor('web scaled to 1', async () => (await kube.pods(NS, 'app.kubernetes.io/instance=web')).length === 1, { timeoutMs: 120_000 });
    const { run, report } = await statusJson(NS, 'web');
    expect(run.code).toBe(2);
    expect(report.replicas).toMatchObject({ desired: 1, ready: 1 });
    expect(report.claimRetention).toEqual({ whenDeleted: 'Retain', whenScaled: 'Retain' });
    expect(checks(report, 'pods')[0]).toEqual({ check: 'pods', level: 'ok', message: 'one pod for ordinal 0, none beyond' });
    expect(report.claims.map((c) => [c.name, c.ordinal, c.phase])).toEqual([['data-web-0', 0, 'Bound'], ['data-web-1', 1, 'Bound'], ['data-web-2', 2, 'Bound']]);
    expect(checks(report, 'claims').filter((c) => c.object)).toEqual([1, 2].map((i) => ({
      check: 'claims', object: `persistentvolumeclaim/data-web-${i}`, level: 'warning',
      message: `kept after a scale-down to 1 by persistentVolumeClaimRetentionPolicy.whenScaled Retain: ordinal ${i} gets it (and its data) back when scaled up again; `
        + `to free the volume: kubectl -n ${NS} delete pvc data-web-${i}`,
    })));
    expect(report.summary).toMatchObject({ result: 'warning', failure: 0, warning: 2 });
    results.scaleDown = report.summary;
  });
});

describe('a partitioned rollout in progress (PlacementCenter, canary of 1)', () => {
  const pc = (image: string) => synth((chart) => new PlacementCenter(chart, 'pc', { name: 'pc', image, rollout: PlacementCenterRollout.canary(1), storageClass: standard }));

  test('ordinal 2 on the update revision, 0-1 on the current one; exit 2; the human output (snapshot)', async () => {
    await applyAll(kube, cleanup, pc('robustmq/placement-center:0.3.0'));
    await waitForWorkloads(kube, pc('robustmq/placement-center:0.3.0'));
    await applyAll(kube, cleanup, pc('robustmq/placement-center:0.3.1'));
    await waitFor('ordinal 2 updated and Ready', async () => {
      const st = (await kube.get('apps/v1', 'StatefulSet', 'pc', NS)).status;
      return st.updatedReplicas === 1 && st.readyReplicas === 3 && st.currentRevision !== st.updateRevision;
    }, { timeoutMs: 120_000 });
    await waitFor('budget observed', async () => (await kube.get('policy/v1', 'PodDisruptionBudget', 'pc', NS))?.status?.disruptionsAllowed === 1);
    const live = (await kube.get('apps/v1', 'StatefulSet', 'pc', NS)).status;

    const { run, report } = await statusJson(NS, 'pc');
    expect(run.code).toBe(2);
    expect(report.construct).toBe('PlacementCenter');
    expect(report.updateStrategy).toEqual({ type: 'RollingUpdate', partition: 2 });
    expect(report.revisions).toEqual({ current: live.currentRevision, update: live.updateRevision });
    expect(report.pods.map((p) => [p.ordinal, p.revision])).toEqual([[0, live.currentRevision], [1, live.currentRevision], [2, live.updateRevision]]);
    expect(checks(report, 'rollout')).toEqual([{
      check: 'rollout', level: 'warning',
      message: `partitioned rollout at partition 2: ordinal 2 runs the update revision ${live.updateRevision}, ordinals 0-1 still run ${live.currentRevision}; `
        + 'lower the partition to continue (0 updates every pod)',
    }]);
    expect(report.summary).toMatchObject({ result: 'warning', warning: 1, failure: 0 });

    const human = await runStatus([NS, 'pc', '--kubeconfig', cp.kubeconfig]);
    expect(human.code).toBe(2);
    expect(human.stdout).not.toMatch(/\u001b/);
    const expected = renderReport(normalise(report));
    expect(expected).toMatchSnapshot();
    // the command printed that table, up to the volatile values
    const squash = (text: string) => text.replace(/checked \S+\)/, 'checked <time>)').split(/\s+/).join(' ');
    const tokens = (text: string) => squash(text).replace(/\b\d+\.\d+\.\d+\.\d+\b/g, '<ip>').replace(/kwok-node-\d+/g, '<node>').replace(/pvc-[0-9a-f-]{36}/g, '<volume>')
      .split(live.updateRevision).join('<update-revision>').split(live.currentRevision).join('<current-revision>');
    expect(tokens(human.stdout)).toBe(tokens(expected));
    results.rolloutHuman = human.stdout;
  });
});

describe('a ReadWriteOncePod conflict (RwopStatefulApp)', () => {
  test('the app pod is Pending because another pod holds its claim: a failure naming that pod; exit 1', async () => {
    // the claim the StatefulSet will adopt, taken first by another pod
    await kube.apply({
      apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data-solo-0', namespace: NS },
      spec: { accessModes: ['ReadWriteOncePod'], storageClassName: 'standard', resources: { requests: { storage: '1Gi' } } },
    });
    await kube.apply({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'second-writer', namespace: NS },
      spec: {
        securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
        containers: [{ name: 'writer', image: 'docker.io/library/busybox:1.37.0', command: ['sleep', 'infinity'],
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } }, volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
        volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data-solo-0' } }],
      },
    });
    const holder = await waitFor('second-writer running', async () => {
      const p = await kube.get('v1', 'Pod', 'second-writer', NS);
      return p?.status?.phase === 'Running' && p;
    }, { timeoutMs: 60_000 });
    await applyAll(kube, cleanup, synth((chart) => new RwopStatefulApp(chart, 'solo', {
      name: 'solo', image: 'docker.io/library/postgres:16.4', ports: [{ name: 'pg', port: 5432 }], storageSize: Size.gibibytes(1),
    })));
    await waitFor('solo-0 refused by the scheduler', async () => condition(await kube.get('v1', 'Pod', 'solo-0', NS), 'PodScheduled')?.reason === 'Unschedulable', { timeoutMs: 60_000 });

    const { run, report } = await statusJson(NS, 'solo');
    expect(run.code).toBe(1);
    expect(report.construct).toBe('RwopStatefulApp');
    expect(report.pods.map((p) => [p.name, p.phase, p.ready])).toEqual([['solo-0', 'Pending', false]]);
    expect(report.claims.map((c) => [c.name, c.phase, c.accessModes])).toEqual([['data-solo-0', 'Bound', ['ReadWriteOncePod']]]);
    const [finding] = checks(report, 'pod', 'pod/solo-0');
    expect(finding.level).toBe('failure');
    expect(finding.message).toMatch(new RegExp(`^Pending: claim data-solo-0 \\(ReadWriteOncePod\\) is in use by pod second-writer on node ${holder.spec.nodeName}, `
      + 'and a ReadWriteOncePod claim has one user at a time, so this pod cannot be scheduled until that pod is gone; stop or delete the other pod; the scheduler: .*ReadWriteOncePod'));
    expect(checks(report, 'replicas')[0]).toMatchObject({ level: 'warning', message: '0/1 ready; not Ready: ordinal 0 (details below)' });
    results.rwopConflict = finding.message;
    await kube.delete('apps/v1', 'StatefulSet', 'solo', NS);
    await kube.delete('v1', 'Pod', 'second-writer', NS, { gracePeriodSeconds: 0 });
  });
});

describe('a pod stuck Terminating after node loss (RwopStatefulApp, toleration 5 s, no automation)', () => {
  test('failure with how long it is stuck, the recorded failover budget and what to do; --watch gives up at its timeout', async () => {
    const manifests = synth((chart) => new RwopStatefulApp(chart, 'lost', {
      name: 'lost', image: 'docker.io/library/postgres:16.4', ports: [{ name: 'pg', port: 5432 }], storageSize: Size.gibibytes(1),
      nodeLossToleration: Duration.seconds(5),
    }));
    await applyAll(kube, cleanup, manifests);
    const [{ pods: [pod] }] = await waitForWorkloads(kube, manifests.filter((m) => m.kind === 'StatefulSet'));
    const node = pod.spec.nodeName;
    lostNodes.add(node);
    const lostAt = Date.now();
    await cp.stopNode(node);
    try {
      await waitFor('lost-0 marked for deletion', async () => (await kube.get('v1', 'Pod', 'lost-0', NS))?.metadata.deletionTimestamp, { timeoutMs: 120_000, intervalMs: 500 });
      const markedAfter = (Date.now() - lostAt) / 1000;

      const { run, report } = await statusJson(NS, 'lost');
      expect(run.code).toBe(1);
      expect(report.failoverBudget).toEqual({ hungProcessSeconds: 'unbounded', nodeLossWithoutAutomationSeconds: 'unbounded', nodeLossWithAutomationSeconds: 'off' });
      expect(report.pods).toEqual([expect.objectContaining({ name: 'lost-0', phase: 'Terminating', node, nodeReady: false, ready: false })]);
      const [finding] = checks(report, 'pod', 'pod/lost-0');
      expect(finding.level).toBe('failure');
      expect(finding.message).toMatch(new RegExp(`^Terminating for \\d+ s on node ${node}, which is NotReady \\(Ready=Unknown for \\d+ s\\): `
        + 'a StatefulSet never starts a second pod with this identity, so no replacement starts until the node comes back, its Node object is deleted, or the pod is force-deleted; '
        + 'failover budget \\(stateful.cdk8s.io/failover-budget\\): node loss without automation unbounded, with automation off; '
        + `once the node is known to be off: kubectl -n ${NS} delete pod lost-0 --force --grace-period=0, and kubectl taint node ${node} node.kubernetes.io/out-of-service=nodeshutdown:NoExecute`));

      const watched = await runStatus([NS, 'lost', '--kubeconfig', cp.kubeconfig, '--watch', '--timeout', '4s', '--interval', '1s']);
      expect(watched.code).toBe(1);
      expect(watched.stderr).toMatch(/^status: not settled after 4 s \(\d+ checks\); the last result is shown above\n$/);
      expect(watched.stdout).toMatch(/FAILURE: 1 failed/);
      results.nodeLoss = { node, markedForDeletionAfterSeconds: markedAfter, finding: finding.message, watchMs: watched.ms };
      results.nodeLossHuman = (await runStatus([NS, 'lost', '--kubeconfig', cp.kubeconfig])).stdout;
    } finally {
      // the pod stays Terminating (and holds its namespace) until its node is back
      await cp.restoreNode(node, { wait: true });
      lostNodes.delete(node);
    }
    await kube.delete('apps/v1', 'StatefulSet', 'lost', NS);
  });
});

describe('who may read what', () => {
  let tokenKubeconfig: string;

  beforeAll(async () => {
    cleanup.namespace(NS_DENIED);
    await kube.createNamespace(NS_DENIED);
    // a reader with the documented namespace permissions in NS, nothing in NS_DENIED and no access to nodes
    await kube.apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'status-reader', namespace: NS } });
    await kube.apply({
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'status-reader', namespace: NS },
      rules: [
        { apiGroups: ['apps'], resources: ['statefulsets'], verbs: ['get', 'list'] },
        { apiGroups: [''], resources: ['services'], verbs: ['get'] },
        { apiGroups: [''], resources: ['pods', 'persistentvolumeclaims'], verbs: ['list'] },
        { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: ['list'] },
      ],
    });
    await kube.apply({
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'status-reader', namespace: NS },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'status-reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'status-reader', namespace: NS }],
    });
    const token = (await cp.kubectlRun(['create', 'token', 'status-reader', '-n', NS, '--duration=1h'])).stdout.trim();
    tokenKubeconfig = path.join(tmp, 'reader.kubeconfig');
    fs.writeFileSync(tokenKubeconfig, JSON.stringify({
      apiVersion: 'v1', kind: 'Config',
      clusters: [{ name: 'test', cluster: { 'server': cp.server, 'certificate-authority': kube.caFile } }],
      users: [{ name: 'reader', user: { token } }],
      contexts: [{ name: 'reader', context: { cluster: 'test', user: 'reader' } }],
      'current-context': 'reader',
    }), { mode: 0o600 });
  });

  test('in a namespace the user may not read: exit 3, the refused verb and resource, and the user', async () => {
    const run = await runStatus([NS_DENIED, 'anything', '--kubeconfig', tokenKubeconfig]);
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`error: RBAC: not allowed to get statefulsets.apps in namespace ${NS_DENIED} (the API server: statefulsets.apps "anything" is forbidden: `
      + `User "system:serviceaccount:${NS}:status-reader" cannot get resource "statefulsets" in API group "apps" in the namespace "${NS_DENIED}"); `
      + 'status needs: get statefulsets.apps and services; list pods, persistentvolumeclaims and poddisruptionbudgets.policy (optional: get nodes; list jobs.batch while RedisCluster shards drain)\n');
    results.forbidden = run.stderr.trim();
  });

  test('with the namespace permissions but not nodes: the report, plus a warning that node readiness is unknown', async () => {
    const run = await runStatus([NS, 'web', '--kubeconfig', tokenKubeconfig, '-o', 'json']);
    const report = JSON.parse(run.stdout) as StatusReport;
    expect(run.code).toBe(2);
    expect(checks(report, 'nodes')).toEqual([{ check: 'nodes', level: 'warning',
      message: 'node readiness unknown (not allowed to get nodes); a pod stuck on a lost node is recognised from its own conditions only' }]);
    expect(report.pods.map((p) => p.nodeReady)).toEqual([undefined]);
  });

  test('without list on persistentvolumeclaims: the refused verb and resource', async () => {
    await kube.apply({
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'status-reader', namespace: NS },
      rules: [
        { apiGroups: ['apps'], resources: ['statefulsets'], verbs: ['get'] },
        { apiGroups: [''], resources: ['services'], verbs: ['get'] },
        { apiGroups: [''], resources: ['pods'], verbs: ['list'] },
        { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: ['list'] },
      ],
    });
    const run = await waitFor('the narrower Role to take effect', async () => {
      const r = await runStatus([NS, 'web', '--kubeconfig', tokenKubeconfig]);
      return r.code === 3 && r;
    }, { timeoutMs: 30_000, intervalMs: 500 });
    expect(run.stderr).toMatch(new RegExp(`^error: RBAC: not allowed to list persistentvolumeclaims in namespace ${NS} \\(the API server: persistentvolumeclaims is forbidden: `
      + `User "system:serviceaccount:${NS}:status-reader" cannot list resource "persistentvolumeclaims"`));
  });
});

describe('errors a user meets first', () => {
  test('a missing StatefulSet names the ones that exist; a missing kubeconfig, an unknown context and an unreachable server are explained; exit 3', async () => {
    const missing = await runStatus([NS, 'nope', '--kubeconfig', cp.kubeconfig]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(new RegExp(`^error: StatefulSet ${NS}/nope not found; StatefulSets in ${NS}: .*\\bweb\\b`));

    const noConfig = await runStatus([NS, 'web']);
    expect(noConfig.code).toBe(3);
    expect(noConfig.stderr).toBe(`error: no kubeconfig: ${path.join(tmp, '.kube', 'config')} does not exist, KUBECONFIG is not set and this is not a pod with a service account; `
      + 'pass --kubeconfig <file> or set KUBECONFIG\n');

    const badContext = await runStatus([NS, 'web', '--kubeconfig', cp.kubeconfig, '--context', 'prod']);
    expect(badContext.stderr).toBe(`error: context "prod" (--context) is not in kubeconfig ${cp.kubeconfig}; contexts: ${CONTEXT}\n`);

    const unreachable = path.join(tmp, 'unreachable.kubeconfig');
    const admin = fs.readFileSync(cp.kubeconfig, 'utf8');
    fs.writeFileSync(unreachable, admin.replace(cp.server, 'https://127.0.0.1:9'));
    const down = await runStatus([NS, 'web', '--kubeconfig', unreachable]);
    expect(down.code).toBe(3);
    expect(down.stderr).toBe(`error: cannot reach the API server https://127.0.0.1:9 (context "${CONTEXT}"): ECONNREFUSED; is the cluster running and the address right?\n`);

    const broken = path.join(tmp, 'broken.kubeconfig');
    fs.writeFileSync(broken, 'apiVersion: v1\nkind: Config\nclusters: [\n');
    const unreadable = await runStatus([NS, 'web', '--kubeconfig', broken]);
    expect({ code: unreadable.code, stderr: unreadable.stderr }).toEqual({ code: 3, stderr: expect.stringMatching(new RegExp(`^error: cannot read kubeconfig ${broken}: `)) });

    const noCurrent = path.join(tmp, 'no-current.kubeconfig');
    fs.writeFileSync(noCurrent, admin.replace(/^current-context:.*$/m, ''));
    const contextless = await runStatus([NS, 'web'], { KUBECONFIG: noCurrent });
    expect(contextless.stderr).toBe(`error: kubeconfig ${noCurrent} has no current context; pass --context (contexts: ${CONTEXT})\n`);

    const usage = await runStatus([NS, 'web', '--output', 'yaml']);
    expect(usage.code).toBe(64);
  });
});
