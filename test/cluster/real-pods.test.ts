/**
 * Real pods: a real kubelet node (scripts/cluster/node-up.sh: containerd, runc, a CNI bridge,
 * kube-proxy, CoreDNS for the cluster domain) runs the example app's RedisCluster (example/main.ts,
 * the "cache" chart), applied unmodified in a namespace that enforces Pod Security "restricted".
 * The Redis in the image is Debian's (see scripts/cluster/node-images.sh), tagged with the name the
 * manifests use. The kwok nodes are cordoned while this file runs.
 */
import * as crypto from 'node:crypto';
import { Chart, Duration, Size, Testing } from 'cdk8s';
import { Cleanup, applyAll, applyServiceMonitorCrd, claimsOf, refOf, waitForWorkloads } from './support/deploy';
import { isPodReady, Kube, waitFor } from './support/kube';
import { synthExample } from './support/matrix';
import { RealNode } from './support/real-node';
import { writeResult } from './support/results';
import { StatefulProbe, RwopStatefulApp, StorageClass, StorageProvisioner, VolumeBindingMode } from '../../src';

const NS = 'cache';
const STS = 'redis';
const SELECTOR = 'app.kubernetes.io/component=redis,app.kubernetes.io/instance=redis,app.kubernetes.io/name=redis-cluster';
const HEADLESS = 'redis-headless';
const CLIENT_SERVICE = `redis.${NS}.svc.cluster.local`;
const KEY_COUNT = 200;
/** Hung-process runs: two restarts of one pod (the second waits out the kubelet's 10 s back-off), twice. */
const HUNG_RUNS_PER_POD = 2;
const HUNG_PODS = Number(process.env.REAL_NODE_HUNG_PODS ?? 2);
const RWOP_NS = 'real-rwop';
const CONTROLLER_NS = 'real-failover';

function log(line: string): void {
  process.stderr.write(`[real-pods] ${line}\n`);
}

/** The cache chart of the example app: its namespace's objects and the storage classes its claims use. */
function cacheManifests(): any[] {
  const all = synthExample();
  const inNamespace = all.filter((m) => m.metadata?.namespace === NS);
  const classes = new Set(inNamespace.filter((m) => m.kind === 'StatefulSet')
    .flatMap((s) => (s.spec.volumeClaimTemplates ?? []).map((t: any) => t.spec.storageClassName)));
  return [...all.filter((m) => m.kind === 'StorageClass' && classes.has(m.metadata.name)), ...inNamespace];
}

interface ClusterNode {
  readonly id: string;
  readonly ip: string;
  readonly hostname: string;
  readonly flags: string[];
  readonly masterId: string;
  readonly link: string;
  readonly slots: number;
}

function parseClusterNodes(text: string): ClusterNode[] {
  return text.split('\n').map((l) => l.trim()).filter(Boolean).map((line) => {
    const [id, addr, flags, masterId, , , , link, ...slotRanges] = line.split(/\s+/);
    const [hostport, ...rest] = addr.split(',');
    const ip = hostport.split('@')[0].replace(/:\d+$/, '');
    let slots = 0;
    for (const r of slotRanges) {
      if (r.startsWith('[')) continue;
      const [a, b] = r.split('-').map(Number);
      slots += b === undefined ? 1 : b - a + 1;
    }
    return { id, ip, hostname: rest[0] ?? '', flags: flags.split(','), masterId, link, slots };
  });
}

function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

describe('real pods on a real kubelet node', () => {
  let kube: Kube;
  let cleanup: Cleanup;
  let node: RealNode | undefined;

  beforeAll(async () => {
    kube = Kube.connect();
    cleanup = new Cleanup(kube);
    node = await RealNode.start(kube);
    log(`real node ${node.info.name} up in ${node.info.startupSeconds}s`);
  });

  afterAll(async () => {
    try {
      await cleanup.run();
    } finally {
      try {
        await node?.stop();
      } finally {
        kube.close();
      }
    }
  });

  const redisCli = (pod: string, args: string): Promise<string> =>
    node!.exec(NS, pod, 'redis', ['sh', '-c', `REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli ${args}`]);

  /** Why the cluster is not (yet) what it must be, or undefined when it is: every check seen from every pod's data. */
  async function clusterProblem(pods: any[]): Promise<string | undefined> {
    const ipOf = new Map<string, string>(pods.map((p) => [`${p.metadata.name}.${HEADLESS}.${NS}.svc.cluster.local`, p.status.podIP]));
    const info = parseInfo(await redisCli(`${STS}-0`, '-h 127.0.0.1 CLUSTER INFO'));
    if (info.cluster_state !== 'ok') return `cluster_state ${info.cluster_state}`;
    if (info.cluster_slots_assigned !== '16384' || info.cluster_slots_ok !== '16384') return `slots assigned ${info.cluster_slots_assigned}, ok ${info.cluster_slots_ok}`;
    if (info.cluster_known_nodes !== '6' || info.cluster_size !== '3') return `known nodes ${info.cluster_known_nodes}, size ${info.cluster_size}`;
    const nodes = parseClusterNodes(await redisCli(`${STS}-0`, '-h 127.0.0.1 CLUSTER NODES'));
    for (const n of nodes) {
      if (n.flags.some((f) => f === 'fail' || f === 'fail?' || f === 'handshake' || f === 'noaddr')) return `${n.hostname} flags ${n.flags.join(',')}`;
      if (n.link !== 'connected') return `${n.hostname} link ${n.link}`;
      if (ipOf.get(n.hostname) !== n.ip) return `${n.hostname || n.id} known at ${n.ip}, pod address ${ipOf.get(n.hostname)}`;
    }
    const ordinal = (n: ClusterNode) => Number(/^redis-(\d+)\./.exec(n.hostname)![1]);
    const masters = nodes.filter((n) => n.flags.includes('master'));
    if (masters.length !== 3 || masters.some((m) => m.slots === 0)) return `masters ${masters.map((m) => `${m.hostname}:${m.slots}`).join(' ')}`;
    for (const m of masters) {
      const replicas = nodes.filter((n) => n.flags.includes('slave') && n.masterId === m.id);
      if (replicas.length !== 1) return `${m.hostname} has ${replicas.length} replicas`;
      // shard N is ordinals 2N and 2N+1 (one replica per shard)
      if (Math.floor(ordinal(replicas[0]) / 2) !== Math.floor(ordinal(m) / 2)) return `${m.hostname} is replicated by ${replicas[0].hostname}, a member of another shard`;
    }
    return undefined;
  }

  async function waitForCluster(what: string, timeoutMs: number): Promise<void> {
    let last: string | undefined = 'not checked';
    await waitFor(what, async () => {
      const pods = await kube.pods(NS, SELECTOR);
      last = await clusterProblem(pods).catch((err) => String(err).split('\n')[0]);
      return last === undefined;
    }, { timeoutMs, intervalMs: 2000 }).catch((err) => {
      throw new Error(`${String(err)}; last problem: ${last}`);
    });
  }

  test('the example app\'s RedisCluster forms a cluster through the headless Service names under Pod Security "restricted", and keeps its keys when every pod is deleted at once', async () => {
    const manifests = cacheManifests();
    const sts = manifests.find((m) => m.kind === 'StatefulSet' && m.metadata.name === STS);
    expect(sts).toBeDefined();

    // the images the manifests name are on the node (imagePullPolicy IfNotPresent: nothing is pulled)
    const images = node!.images();
    const wanted = [...new Set(manifests.filter((m) => m.kind === 'StatefulSet')
      .flatMap((m) => [...(m.spec.template.spec.initContainers ?? []), ...m.spec.template.spec.containers].map((c: any) => c.image as string)))];
    const absent = wanted.filter((i) => !images.includes(i));
    expect({ absent, present: images }).toEqual({ absent: [], present: expect.anything() });

    // what a user provides: the restricted namespace, the password Secret, the ServiceMonitor CRD, volumes
    // the example app's namespace may still be finalizing after another file
    await waitFor(`namespace ${NS} gone`, async () => (await kube.get('v1', 'Namespace', NS)) === undefined, { timeoutMs: 240_000, intervalMs: 1000 });
    cleanup.namespace(NS);
    await kube.createNamespace(NS);
    await kube.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'redis-auth', namespace: NS }, type: 'Opaque',
      stringData: { password: crypto.randomBytes(18).toString('base64url') } });
    await applyServiceMonitorCrd(kube, cleanup);
    for (const { name, template } of claimsOf(sts)) {
      const pv = node!.localVolume(NS, name, template.spec.resources.requests.storage, template.spec.accessModes, template.spec.storageClassName);
      cleanup.object(refOf(pv));
      await kube.apply(pv);
    }

    const started = Date.now();
    const applied = await applyAll(kube, cleanup, manifests);
    expect(applied.filter((a) => a.warnings.length > 0).map((a) => `${a.manifest.kind}/${a.manifest.metadata.name}: ${a.warnings.join('; ')}`)).toEqual([]);
    await waitForWorkloads(kube, manifests, 10 * 60_000);
    await waitForCluster('the Redis cluster to form', 5 * 60_000);
    log(`cluster formed, every pod Ready, in ${((Date.now() - started) / 1000).toFixed(1)}s`);

    const pods = await kube.pods(NS, SELECTOR);
    expect(pods.map((p) => p.spec.nodeName)).toEqual(pods.map(() => node!.info.name));
    // restricted: a non-root uid, a read-only root file system; the claim is written by that uid
    expect((await node!.exec(NS, `${STS}-0`, 'redis', ['id', '-u'])).trim()).toBe('999');
    expect(await node!.exec(NS, `${STS}-0`, 'redis', ['sh', '-c', 'touch /root-fs-probe 2>/dev/null && echo writable || echo read-only'])).toBe('read-only\n');
    expect(await node!.exec(NS, `${STS}-0`, 'redis', ['sh', '-c', 'ls /data/appendonlydir >/dev/null && test -f /data/nodes.conf && stat -c "%u %g" /data/nodes.conf'])).toBe('999 999\n');
    // the cluster DNS: pod names of the headless Service, the client Service, and nothing outside the cluster domain
    const ip3 = pods.find((p) => p.metadata.name === `${STS}-3`)!.status.podIP;
    expect((await node!.exec(NS, `${STS}-0`, 'redis', ['getent', 'hosts', `${STS}-3.${HEADLESS}.${NS}.svc.cluster.local`])).split(/\s+/)[0]).toBe(ip3);
    const svc = await kube.get('v1', 'Service', 'redis', NS);
    expect((await node!.exec(NS, `${STS}-0`, 'redis', ['getent', 'hosts', CLIENT_SERVICE])).split(/\s+/)[0]).toBe(svc.spec.clusterIP);
    expect(await node!.exec(NS, `${STS}-0`, 'redis', ['sh', '-c', 'getent hosts example.com >/dev/null && echo resolved || echo unresolved'])).toBe('unresolved\n');

    // keys through the client Service (kube-proxy), redirected by the cluster to the pods' DNS names
    const write = await node!.exec(NS, `${STS}-0`, 'redis', ['sh', '-c',
      `i=0; while [ "$i" -lt ${KEY_COUNT} ]; do REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli -c -h ${CLIENT_SERVICE} SET "key:$i" "value:$i"; i=$((i + 1)); done`], 300_000);
    expect(write.split('\n').filter(Boolean).filter((l) => l !== 'OK')).toEqual([]);
    expect(write.split('\n').filter(Boolean)).toHaveLength(KEY_COUNT);
    // appendfsync everysec, and the replicas catch up
    await new Promise((r) => setTimeout(r, 3000));

    // every pod deleted at once
    const before = new Map<string, { uid: string; ip: string }>(pods.map((p) => [p.metadata.name, { uid: p.metadata.uid, ip: p.status.podIP }]));
    const deleted = Date.now();
    await kube.call('DELETE', `/api/v1/namespaces/${NS}/pods?${new URLSearchParams({ labelSelector: SELECTOR })}`);
    await waitFor('every pod replaced', async () => {
      const now = await kube.pods(NS, SELECTOR);
      return now.length === 6 && now.every((p) => before.get(p.metadata.name)?.uid !== p.metadata.uid && isPodReady(p) && !p.metadata.deletionTimestamp);
    }, { timeoutMs: 10 * 60_000, intervalMs: 1000 });
    await waitForCluster('the Redis cluster to re-form', 5 * 60_000);
    const after = await kube.pods(NS, SELECTOR);
    const moved = after.filter((p) => before.get(p.metadata.name)?.ip !== p.status.podIP).map((p) => p.metadata.name);
    log(`every pod deleted at once: back Ready with the cluster re-formed in ${((Date.now() - deleted) / 1000).toFixed(1)}s; new addresses: ${moved.join(' ') || 'none'}`);

    const read = await node!.exec(NS, `${STS}-1`, 'redis', ['sh', '-c',
      `i=0; while [ "$i" -lt ${KEY_COUNT} ]; do printf '%s ' "$i"; REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli -c -h ${CLIENT_SERVICE} GET "key:$i"; i=$((i + 1)); done`], 300_000);
    const wrong = read.split('\n').filter(Boolean).filter((l) => {
      const [i, v] = l.split(' ');
      return v !== `value:${i}`;
    });
    expect(wrong).toEqual([]);
    expect(read.split('\n').filter(Boolean)).toHaveLength(KEY_COUNT);
  });

  test('a RwopStatefulApp whose process is frozen (SIGSTOP) is restarted by its liveness probe and Ready again within its hung-process budget', async () => {
    // Debian's Redis as the app: the liveness and readiness checks are a PING (a TCP check would
    // still pass: the kernel completes the handshake for a stopped process)
    const chart = new Chart(Testing.app(), 'rwop', { namespace: RWOP_NS });
    const local = new StorageClass(chart, 'local', {
      name: 'real-node-local',
      provisioner: StorageProvisioner.custom('kubernetes.io/no-provisioner'),
      volumeBindingMode: VolumeBindingMode.WAIT_FOR_FIRST_CONSUMER,
    });
    const app = new RwopStatefulApp(chart, 'app', {
      name: 'kv',
      image: 'docker.io/library/redis:7.4.2',
      command: ['redis-server', '--dir', '/data', '--appendonly', 'yes'],
      ports: [{ name: 'redis', port: 6379 }],
      storageClass: local,
      storageSize: Size.gibibytes(1),
      liveness: StatefulProbe.fromCommand(['redis-cli', 'ping']),
      expectedStartTime: Duration.seconds(5),
      failoverTargets: { hungProcess: Duration.seconds(60) },
    });
    const budget = app.failoverBudget.hungProcess;
    expect(budget.bounded).toBe(true);
    const manifests = Testing.synth(chart);
    const sts = manifests.find((m) => m.kind === 'StatefulSet');

    cleanup.namespace(RWOP_NS);
    await kube.createNamespace(RWOP_NS);
    for (const { name, template } of claimsOf(sts)) {
      const pv = node!.localVolume(RWOP_NS, name, template.spec.resources.requests.storage, template.spec.accessModes, template.spec.storageClassName);
      cleanup.object(refOf(pv));
      await kube.apply(pv);
    }
    const applied = await applyAll(kube, cleanup, manifests);
    expect(applied.filter((a) => a.warnings.length > 0).map((a) => `${a.manifest.kind}/${a.manifest.metadata.name}: ${a.warnings.join('; ')}`)).toEqual([]);

    const runs: Array<{ pod: number; restart: number; seconds: number }> = [];
    for (let p = 0; p < HUNG_PODS; p++) {
      if (p > 0) {
        // a new pod: the kubelet's restart back-off starts over
        const old = (await kube.get('v1', 'Pod', 'kv-0', RWOP_NS)).metadata.uid;
        await kube.delete('v1', 'Pod', 'kv-0', RWOP_NS);
        await waitFor('kv-0 replaced', async () => {
          const pod = await kube.get('v1', 'Pod', 'kv-0', RWOP_NS);
          return pod && pod.metadata.uid !== old;
        }, { timeoutMs: 120_000, intervalMs: 500 });
      }
      await waitForWorkloads(kube, manifests, 180_000);
      for (let r = 1; r <= HUNG_RUNS_PER_POD; r++) {
        // The freeze must hit a running app, not one in its startup phase (there the startup probe, 5 minutes
        // here, is what counts): the kubelet can report a restarted container Ready within 0.1 s, before its
        // startup probe has run, so wait until the container has run for longer than a startup probe period.
        const pod = await waitFor('kv-0 started, Ready and running for 6 s', async () => {
          const p2 = await kube.get('v1', 'Pod', 'kv-0', RWOP_NS);
          const c = p2?.status?.containerStatuses?.[0];
          const since = Date.parse(c?.state?.running?.startedAt ?? '');
          return c?.started === true && c.ready === true && isPodReady(p2) && Date.now() - since >= 6000 ? p2 : undefined;
        }, { timeoutMs: 120_000, intervalMs: 500 });
        expect((await node!.exec(RWOP_NS, 'kv-0', pod.spec.containers[0].name, ['redis-cli', 'ping'])).trim()).toBe('PONG');
        expect(pod.spec.nodeName).toBe(node!.info.name);
        const status = pod.status.containerStatuses.find((c: any) => c.name === 'kv') ?? pod.status.containerStatuses[0];
        const restarts = status.restartCount;
        const frozenAt = Date.now();
        node!.signalContainer(status.containerID, 'SIGSTOP');
        // Ready again after a restart: a new container (higher restart count, started after the freeze)
        // that passed its startup and readiness probes, and the pod's Ready condition True since then
        const frozenSecond = Math.floor(frozenAt / 1000) * 1000;
        await waitFor('kv-0 restarted and Ready', async () => {
          const now = await kube.get('v1', 'Pod', 'kv-0', RWOP_NS);
          const c = now.status.containerStatuses[0];
          const ready = (now.status.conditions ?? []).find((x: any) => x.type === 'Ready');
          return c.restartCount > restarts && c.started === true && c.ready === true
            && Date.parse(c.state?.running?.startedAt ?? '') >= frozenSecond
            && isPodReady(now) && Date.parse(ready.lastTransitionTime) >= frozenSecond;
        }, { timeoutMs: (budget.worstCaseSeconds! + 120) * 1000, intervalMs: 200 });
        const seconds = (Date.now() - frozenAt) / 1000;
        // Ready means serving: the new process answers
        expect((await node!.exec(RWOP_NS, 'kv-0', pod.spec.containers[0].name, ['redis-cli', 'ping'])).trim()).toBe('PONG');
        runs.push({ pod: p, restart: r, seconds });
        log(`hung process, pod ${p + 1} restart ${r}: Ready again after ${seconds.toFixed(1)}s (budget ${budget.worstCaseSeconds}s)`);
      }
    }
    writeResult('real-pods-hung-process.json', { budgetSeconds: budget.worstCaseSeconds, terms: budget.terms, runs });
    for (const r of runs) expect(r.seconds).toBeLessThanOrEqual(budget.worstCaseSeconds!);
  });

  test('the failover controller runs in real pods and wins its Lease through in-cluster credentials and its RBAC', async () => {
    const chart = new Chart(Testing.app(), 'ctl', { namespace: CONTROLLER_NS });
    const local = new StorageClass(chart, 'local', {
      name: 'real-node-local',
      provisioner: StorageProvisioner.custom('kubernetes.io/no-provisioner'),
      volumeBindingMode: VolumeBindingMode.WAIT_FOR_FIRST_CONSUMER,
    });
    new RwopStatefulApp(chart, 'app', {
      name: 'guarded',
      image: 'docker.io/library/redis:7.4.2',
      command: ['redis-server', '--dir', '/data', '--appendonly', 'yes'],
      ports: [{ name: 'redis', port: 6379 }],
      storageClass: local,
      storageSize: Size.gibibytes(1),
      liveness: StatefulProbe.fromCommand(['redis-cli', 'ping']),
      nodeLossAutomation: { acknowledgeNodesAreFenced: true },
    });
    const manifests = Testing.synth(chart);
    const deployment = manifests.find((m) => m.kind === 'Deployment');
    expect(deployment).toBeDefined();
    const env = Object.fromEntries(deployment.spec.template.spec.containers[0].env.filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));
    const leaseName = env.LEASE_NAME as string;

    cleanup.namespace(CONTROLLER_NS);
    await kube.createNamespace(CONTROLLER_NS);
    const sts = manifests.find((m) => m.kind === 'StatefulSet');
    for (const { name, template } of claimsOf(sts)) {
      const pv = node!.localVolume(CONTROLLER_NS, name, template.spec.resources.requests.storage, template.spec.accessModes, template.spec.storageClassName);
      cleanup.object(refOf(pv));
      await kube.apply(pv);
    }
    const started = Date.now();
    const applied = await applyAll(kube, cleanup, manifests);
    expect(applied.filter((a) => a.warnings.length > 0).map((a) => `${a.manifest.kind}/${a.manifest.metadata.name}: ${a.warnings.join('; ')}`)).toEqual([]);
    await waitForWorkloads(kube, manifests, 300_000);

    const selector = Object.entries(deployment.spec.selector.matchLabels).map(([k, v]) => `${k}=${v}`).join(',');
    const pods = await kube.pods(CONTROLLER_NS, selector);
    expect(pods).toHaveLength(deployment.spec.replicas ?? 1);
    expect(pods.map((p) => p.spec.nodeName)).toEqual(pods.map(() => node!.info.name));
    const names = pods.map((p) => p.metadata.name as string);

    // one of them holds the Lease, and keeps renewing it
    const lease = await waitFor(`Lease ${leaseName} held by a controller pod`, async () => {
      const l = await kube.get('coordination.k8s.io/v1', 'Lease', leaseName, CONTROLLER_NS);
      return l && names.includes(l.spec?.holderIdentity) ? l : undefined;
    }, { timeoutMs: 120_000, intervalMs: 500 });
    log(`failover controller: ${lease.spec.holderIdentity} holds Lease ${leaseName} ${((Date.now() - started) / 1000).toFixed(1)}s after the apply`);
    const renewed = await waitFor(`Lease ${leaseName} renewed`, async () => {
      const l = await kube.get('coordination.k8s.io/v1', 'Lease', leaseName, CONTROLLER_NS);
      return l.spec.holderIdentity === lease.spec.holderIdentity && l.spec.renewTime !== lease.spec.renewTime ? l : undefined;
    }, { timeoutMs: 60_000, intervalMs: 500 });
    expect(renewed.spec.holderIdentity).toBe(lease.spec.holderIdentity);

    // the program ran in the pods (logs through the kubelet), without an error
    for (const name of names) {
      const logs = (await kube.cp.kubectlRun(['logs', '-n', CONTROLLER_NS, name])).stdout;
      expect(logs.split('\n').filter((l) => /"level":"(error|fatal)"/.test(l))).toEqual([]);
      expect(logs.length).toBeGreaterThan(0);
    }
  });
});

