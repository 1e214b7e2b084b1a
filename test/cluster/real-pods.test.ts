/**
 * Real pods: a real kubelet node (scripts/cluster/node-up.sh: containerd, runc, a CNI bridge,
 * kube-proxy, CoreDNS for the cluster domain) runs the example app (example/main.ts), every chart
 * applied unmodified in a namespace that enforces Pod Security "restricted": the RedisCluster of the
 * "cache" chart, the PostgreSQL RwopStatefulApp and its failover controller of the "single-writer"
 * chart, and the PlacementCenter of the "robustmq" chart. The images are built locally
 * (scripts/cluster/node-images.sh) and tagged with the names the manifests use: the Redis and the
 * PostgreSQL in them are Debian's, the RobustMQ is built from the v0.4.11 source. The kwok nodes are
 * cordoned while this file runs.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Chart, Duration, Size, Testing } from 'cdk8s';
import { Cleanup, applyAll, applyServiceMonitorCrd, claimsOf, refOf, waitForWorkloads } from './support/deploy';
import { isPodReady, Kube, waitFor } from './support/kube';
import { synthExample, synthExampleFiles } from './support/matrix';
import { RealNode } from './support/real-node';
import { writeResult } from './support/results';
import { StatefulProbe, RwopStatefulApp, StorageClass, StorageProvisioner, VolumeBindingMode } from '../../src';
import { parseRaftStatus, type RaftStatus } from '../support/robustmq-raft';

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
/** The example's single-writer and robustmq charts (example/main.ts). */
const APPS_NS = 'apps';
const MQ_NS = 'robustmq';
const MQ_STS = 'placement-center';

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

/** The container images a set of manifests runs, as containerd names them (Docker Hub short names expanded). */
function imagesOf(manifests: any[]): string[] {
  const full = (image: string) => {
    const first = image.split('/')[0];
    const hasRegistry = image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
    if (hasRegistry) return image;
    return image.includes('/') ? `docker.io/${image}` : `docker.io/library/${image}`;
  };
  return [...new Set(manifests.filter((m) => m.kind === 'StatefulSet' || m.kind === 'Deployment')
    .flatMap((m) => [...(m.spec.template.spec.initContainers ?? []), ...m.spec.template.spec.containers].map((c: any) => full(c.image as string))))];
}

const ZERO_CAPS = '0000000000000000';

/** What was checked of one container of one pod (also written to the results). */
interface ContainerCheck {
  readonly pod: string;
  readonly container: string;
  readonly command: string;
  readonly uid: number;
  readonly gid: number;
  readonly rootFs: string;
  readonly capabilities: string;
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

  const securityChecks: ContainerCheck[] = [];
  const claimChecks: Array<{ namespace: string; pod: string; claim: string; uid: number; files: number; sample: string[] }> = [];

  /**
   * Pod Security "restricted" as it is in force, for every container of the pods: the live pod spec (non-root, no
   * privilege escalation, every capability dropped, a read-only root file system) and, for the containers running
   * now, the kernel's view of their main process on the machine (uid and gid not 0 and the ones the spec names,
   * every capability set empty, no_new_privs, a seccomp filter, the root file system mounted read-only).
   */
  function checkRestricted(pods: any[]): ContainerCheck[] {
    const out: ContainerCheck[] = [];
    for (const pod of pods) {
      const name = `${pod.metadata.namespace}/${pod.metadata.name}`;
      expect([name, pod.spec.nodeName]).toEqual([name, node!.info.name]);
      const podSc = pod.spec.securityContext ?? {};
      expect([name, podSc.runAsNonRoot, podSc.seccompProfile?.type]).toEqual([name, true, 'RuntimeDefault']);
      const specs = [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
      for (const c of specs) {
        const where = `${name} container ${c.name}`;
        const sc = c.securityContext ?? {};
        expect([where, sc.readOnlyRootFilesystem, sc.allowPrivilegeEscalation, sc.privileged ?? false, sc.capabilities?.drop, sc.capabilities?.add ?? []])
          .toEqual([where, true, false, false, ['ALL'], []]);
      }
      const statuses = [...(pod.status.initContainerStatuses ?? []), ...(pod.status.containerStatuses ?? [])].filter((st: any) => st.state?.running);
      // every app container runs, and so do the sidecars (restartPolicy Always)
      expect([name, statuses.map((st: any) => st.name).sort()]).toEqual([name, specs
        .filter((c: any) => pod.spec.containers.includes(c) || c.restartPolicy === 'Always').map((c: any) => c.name).sort()]);
      for (const st of statuses) {
        const where = `${name} container ${st.name}`;
        const c = specs.find((x: any) => x.name === st.name);
        const uid = c.securityContext?.runAsUser ?? podSc.runAsUser;
        const gid = c.securityContext?.runAsGroup ?? podSc.runAsGroup;
        const proc = node!.processOf(st.containerID);
        expect([where, proc.uids.every((u) => u !== 0), proc.gids.every((g) => g !== 0)]).toEqual([where, true, true]);
        if (uid !== undefined) expect([where, proc.uids]).toEqual([where, [uid, uid, uid, uid]]);
        if (gid !== undefined) expect([where, proc.gids]).toEqual([where, [gid, gid, gid, gid]]);
        expect([where, proc.capabilities]).toEqual([where, { inheritable: ZERO_CAPS, permitted: ZERO_CAPS, effective: ZERO_CAPS, bounding: ZERO_CAPS, ambient: ZERO_CAPS }]);
        expect([where, proc.noNewPrivs, proc.seccomp]).toEqual([where, true, 2]);
        expect([where, proc.rootMountOptions]).toEqual([where, expect.arrayContaining(['ro'])]);
        out.push({ pod: name, container: st.name, command: proc.command.join(' ').slice(0, 80), uid: proc.uids[0], gid: proc.gids[0],
          rootFs: proc.rootMountOptions.includes('ro') ? 'ro' : 'rw', capabilities: 'none' });
      }
    }
    securityChecks.push(...out);
    for (const r of out) log(`restricted: ${r.pod} ${r.container} (${r.command}): uid ${r.uid}, gid ${r.gid}, root ${r.rootFs}, capabilities ${r.capabilities}`);
    return out;
  }

  /** Files on the pod's claims (their local volumes on the machine) that the pod's uid wrote: at least one per claim. */
  function checkClaimsWritten(pod: any): void {
    const uid = pod.spec.securityContext?.runAsUser;
    expect(uid).toBeGreaterThan(0);
    for (const v of pod.spec.volumes ?? []) {
      if (!v.persistentVolumeClaim) continue;
      const claim = v.persistentVolumeClaim.claimName;
      const root = node!.volumePath(pod.metadata.namespace, claim);
      const files: string[] = [];
      const walk = (dir: string, depth: number) => {
        for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
          const full = path.join(dir, e.name);
          const st = fs.lstatSync(full);
          if (st.uid === uid) files.push(path.relative(root, full));
          if (e.isDirectory() && depth < 6) walk(full, depth + 1);
        }
      };
      walk(root, 0);
      const what = `${pod.metadata.namespace}/${pod.metadata.name} claim ${claim}`;
      expect([what, files.length > 0]).toEqual([what, true]);
      claimChecks.push({ namespace: pod.metadata.namespace, pod: pod.metadata.name, claim, uid, files: files.length, sample: files.slice(0, 5) });
      log(`claim ${what}: ${files.length} entries written by uid ${uid} (${files.slice(0, 4).join(', ')}${files.length > 4 ? ', ...' : ''})`);
    }
  }

  /** Deletes the namespaces of the tests before (their pods' CPU requests) and waits until they are gone. */
  async function freeNode(namespaces: string[]): Promise<void> {
    const t0 = Date.now();
    await kube.deleteNamespaces(namespaces, 240_000);
    log(`namespaces ${namespaces.join(' ')} deleted in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  }

  /** Local volumes for the claims of the StatefulSets in the manifests. */
  async function volumesFor(manifests: any[]): Promise<void> {
    for (const sts of manifests.filter((m) => m.kind === 'StatefulSet')) {
      for (const { name, template } of claimsOf(sts)) {
        const pv = node!.localVolume(sts.metadata.namespace, name, template.spec.resources.requests.storage, template.spec.accessModes, template.spec.storageClassName);
        cleanup.object(refOf(pv));
        await kube.apply(pv);
      }
    }
  }

  function expectImagesPresent(manifests: any[]): void {
    const images = node!.images();
    const absent = imagesOf(manifests).filter((i) => !images.includes(i));
    expect({ absent, present: images }).toEqual({ absent: [], present: expect.anything() });
  }

  test('the example app\'s RedisCluster forms a cluster through the headless Service names under Pod Security "restricted", and keeps its keys when every pod is deleted at once', async () => {
    const manifests = cacheManifests();
    const sts = manifests.find((m) => m.kind === 'StatefulSet' && m.metadata.name === STS);
    expect(sts).toBeDefined();

    // the images the manifests name are on the node (imagePullPolicy IfNotPresent: nothing is pulled)
    expectImagesPresent(manifests);

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
    // every container of every pod of the chart: restricted as the kernel sees it; each claim written by the pod's uid
    checkRestricted(await kube.pods(NS));
    for (const pod of pods) checkClaimsWritten(pod);
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

  const timings: Record<string, number> = {};
  const timed = (what: string, since: number): number => {
    const seconds = Number(((Date.now() - since) / 1000).toFixed(1));
    timings[what] = seconds;
    return seconds;
  };

  test('the example app\'s single-writer chart: PostgreSQL initializes its claim and serves with the password from the user\'s Secret, keeps its data across a pod replacement, and its failover controller holds its Lease', async () => {
    // the Redis Cluster and the other tests' pods leave the two CPUs to this chart and the next
    await freeNode([NS, RWOP_NS, CONTROLLER_NS]);
    const manifests = synthExampleFiles()['single-writer.k8s.yaml'];
    const sts = manifests.find((m) => m.kind === 'StatefulSet' && m.metadata.name === 'rwop-app');
    const deployment = manifests.find((m) => m.kind === 'Deployment');
    expect(sts.spec.template.spec.containers[0].image).toBe('docker.io/library/postgres:16.4');
    expect(deployment.metadata.name).toBe('rwop-app-failover');
    expectImagesPresent(manifests);

    // what a user provides: the restricted namespace, the password Secret, volumes (the chart's Manila class has no
    // provisioner here: each claim gets a local PV of that class, pre-bound to it, as the cache chart's do)
    cleanup.namespace(APPS_NS);
    await kube.createNamespace(APPS_NS);
    const password = crypto.randomBytes(18).toString('base64url');
    await kube.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'rwop-app-auth', namespace: APPS_NS }, type: 'Opaque', stringData: { password } });
    await volumesFor(manifests);

    const started = Date.now();
    const applied = await applyAll(kube, cleanup, manifests);
    expect(applied.filter((a) => a.warnings.length > 0).map((a) => `${a.manifest.kind}/${a.manifest.metadata.name}: ${a.warnings.join('; ')}`)).toEqual([]);
    await waitForWorkloads(kube, manifests, 10 * 60_000);
    log(`single-writer chart: PostgreSQL and ${deployment.spec.replicas} controller pods Ready ${timed('singleWriterReadySeconds', started)}s after the apply`);

    const pods = await kube.pods(APPS_NS);
    expect(pods.map((p) => p.metadata.name)).toContain('rwop-app-0');
    expect(pods).toHaveLength(1 + deployment.spec.replicas);
    checkRestricted(pods);

    // the entrypoint initialized PGDATA, a directory of the claim, as uid 999; the server answers over TCP on the pod's
    // DNS name (scram-sha-256) with the password from the Secret, and refuses another one
    const host = `rwop-app-0.rwop-app-headless.${APPS_NS}.svc.cluster.local`;
    const psql = (pw: string, sql: string) => node!.exec(APPS_NS, 'rwop-app-0', 'app', ['sh', '-c',
      `PGPASSWORD="${pw}" psql -h ${host} -U postgres -d postgres -v ON_ERROR_STOP=1 -tAc "${sql}" 2>&1 || echo "psql failed"`]);
    const fromSecret = '$(cat /run/secrets/postgres/password)';
    expect((await psql(fromSecret, 'SHOW data_directory')).trim()).toBe('/var/lib/postgresql/data/pgdata');
    expect(await psql(fromSecret, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('written before the pod was replaced')")).toMatch(/INSERT 0 1/);
    expect(await psql('not-the-password', 'SELECT 1')).toMatch(/password authentication failed for user "postgres"/);
    const version = (await psql(fromSecret, 'SHOW server_version')).trim();
    log(`PostgreSQL ${version} (the image's Debian package) serves ${host} with the Secret's password`);
    const pgdata = path.join(node!.volumePath(APPS_NS, 'data-rwop-app-0'), 'pgdata');
    const st = fs.statSync(path.join(pgdata, 'PG_VERSION'));
    expect([st.uid, st.gid]).toEqual([999, 999]);
    expect(fs.statSync(pgdata).mode & 0o777).toBe(0o700);
    checkClaimsWritten(pods.find((p) => p.metadata.name === 'rwop-app-0'));

    expect((await kube.cp.kubectlRun(['logs', '-n', APPS_NS, 'rwop-app-0'])).stdout).toMatch(/postgres-entrypoint: initialized/);
    // the pod replaced (deleted): the new one mounts the same RWOP claim, finds the database and does not run initdb
    const old = pods.find((p) => p.metadata.name === 'rwop-app-0').metadata.uid;
    const deleted = Date.now();
    await kube.delete('v1', 'Pod', 'rwop-app-0', APPS_NS);
    await waitFor('rwop-app-0 replaced and Ready', async () => {
      const pod = await kube.get('v1', 'Pod', 'rwop-app-0', APPS_NS);
      return pod && pod.metadata.uid !== old && isPodReady(pod) && !pod.metadata.deletionTimestamp;
    }, { timeoutMs: 180_000, intervalMs: 500 });
    log(`rwop-app-0 deleted: the new pod Ready on the same claim ${timed('postgresReplacedReadySeconds', deleted)}s later`);
    expect((await psql(fromSecret, 'SELECT v FROM kept')).trim()).toBe('written before the pod was replaced');
    const logs = (await kube.cp.kubectlRun(['logs', '-n', APPS_NS, 'rwop-app-0'])).stdout;
    expect(logs).not.toMatch(/postgres-entrypoint: initialized/);
    checkRestricted([await kube.get('v1', 'Pod', 'rwop-app-0', APPS_NS)]);

    // the failover controller of nodeLossAutomation: one of its pods holds the Lease through in-cluster credentials
    const leaseName = deployment.spec.template.spec.containers[0].env.find((e: any) => e.name === 'LEASE_NAME').value;
    const controllers = pods.filter((p) => p.metadata.name.startsWith('rwop-app-failover-')).map((p) => p.metadata.name);
    const lease = await waitFor(`Lease ${leaseName} held by a controller pod`, async () => {
      const l = await kube.get('coordination.k8s.io/v1', 'Lease', leaseName, APPS_NS);
      return l && controllers.includes(l.spec?.holderIdentity) ? l : undefined;
    }, { timeoutMs: 120_000, intervalMs: 500 });
    log(`single-writer chart: ${lease.spec.holderIdentity} holds Lease ${leaseName}`);
  }, 15 * 60_000);

  /** The metadata Raft group as a member reports it: GET /api/info on its admin port, from the pod's own loopback (where v0.4.11 asks no token). */
  async function raftStatusOf(pod: any): Promise<RaftStatus> {
    const c = pod.status.containerStatuses.find((x: any) => x.name === 'placement-center');
    const body = node!.inPodNetwork(c.containerID, ['curl', '-sS', '--max-time', '5', 'http://127.0.0.1:58080/api/info']);
    return parseRaftStatus(body, pod.metadata.name);
  }

  test('the example app\'s robustmq chart: the PlacementCenter members start in order, form one Raft group of three, and a member deleted comes back with its Raft id', async () => {
    await freeNode([NS, RWOP_NS, CONTROLLER_NS]);
    const manifests = synthExampleFiles()['robustmq.k8s.yaml'];
    const sts = manifests.find((m) => m.kind === 'StatefulSet' && m.metadata.name === MQ_STS);
    expect(sts.spec.podManagementPolicy).toBe('OrderedReady');
    expect(sts.spec.replicas).toBe(3);
    const container = sts.spec.template.spec.containers[0];
    expect(container.image).toBe('ghcr.io/robustmq/robustmq:v0.4.11');
    expect(container.command.slice(-3)).toEqual(['/robustmq/libs/broker-server', '--conf', '/etc/robustmq/server.toml']);
    // one real node per machine: the three members can share it because the chart's anti-affinity is preferred, not
    // required, and it has no spread constraint that refuses to schedule (the manifest is applied as synthesized)
    const affinity = sts.spec.template.spec.affinity ?? {};
    expect(affinity.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution).toBeUndefined();
    expect(affinity.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.[0]?.podAffinityTerm?.topologyKey).toBe('kubernetes.io/hostname');
    expect((sts.spec.template.spec.topologySpreadConstraints ?? []).filter((t: any) => t.whenUnsatisfiable === 'DoNotSchedule')).toEqual([]);
    expectImagesPresent(manifests);

    cleanup.namespace(MQ_NS);
    await kube.createNamespace(MQ_NS);
    await volumesFor(manifests);
    const started = Date.now();
    const applied = await applyAll(kube, cleanup, manifests);
    expect(applied.filter((a) => a.warnings.length > 0).map((a) => `${a.manifest.kind}/${a.manifest.metadata.name}: ${a.warnings.join('; ')}`)).toEqual([]);

    // OrderedReady: member n+1 is created only once member n is Ready
    const created = new Map<number, number>();
    const ready = new Map<number, number>();
    let restarted: string | undefined;
    await waitFor('three members Ready', async () => {
      for (const p of await kube.pods(MQ_NS)) {
        const ordinal = Number(p.metadata.name.slice(MQ_STS.length + 1));
        if (!created.has(ordinal)) created.set(ordinal, Date.parse(p.metadata.creationTimestamp));
        const cond = (p.status.conditions ?? []).find((x: any) => x.type === 'Ready');
        if (!ready.has(ordinal) && isPodReady(p)) ready.set(ordinal, Date.parse(cond.lastTransitionTime));
        if (p.status.containerStatuses?.[0]?.restartCount > 0) restarted = `${p.metadata.name} restarted: ${JSON.stringify(p.status.containerStatuses[0].lastState)}`;
      }
      return ready.size === 3 || restarted !== undefined;
    }, { timeoutMs: 10 * 60_000, intervalMs: 1000 });
    expect(restarted).toBeUndefined();
    await waitForWorkloads(kube, manifests, 60_000);
    for (const n of [1, 2]) expect([n, created.get(n)! >= ready.get(n - 1)!]).toEqual([n, true]);
    const order = [0, 1, 2].map((n) => `${MQ_STS}-${n} created +${Math.max(0, (created.get(n)! - started) / 1000).toFixed(0)}s Ready +${Math.max(0, (ready.get(n)! - started) / 1000).toFixed(0)}s`);
    log(`robustmq chart: ${order.join(', ')}; three members Ready ${timed('placementCenterReadySeconds', started)}s after the apply (readiness initialDelaySeconds ${container.readinessProbe.initialDelaySeconds})`);

    const pods = await kube.pods(MQ_NS);
    checkRestricted(pods);
    const dns = (n: number) => `${MQ_STS}-${n}.${MQ_STS}-headless.${MQ_NS}.svc.cluster.local:1228`;
    const expectedNodes = { 1: dns(0), 2: dns(1), 3: dns(2) };
    const byName = (name: string) => pods.find((p) => p.metadata.name === name);
    // one group: one leader, three voters known by their pods' DNS names, the same leader and term seen through every member
    const formedAt = Date.now();
    const status = await waitFor('one Raft group of three with one leader', async () => {
      const s = await raftStatusOf(byName(`${MQ_STS}-0`));
      return s.currentLeader !== undefined && s.voters.length === 1 && s.voters[0].join() === '1,2,3' ? s : undefined;
    }, { timeoutMs: 120_000, intervalMs: 1000 });
    expect(status.voters).toEqual([[1, 2, 3]]);
    expect(status.nodes).toEqual(expectedNodes);
    const views = await Promise.all(pods.map(raftStatusOf));
    expect(new Set(views.map((v) => `${v.currentLeader}/${v.term}/${v.voters.join('|')}`)).size).toBe(1);
    log(`robustmq chart: one Raft group, voters ${JSON.stringify(status.voters)}, leader ${status.currentLeader}, term ${status.term} (${((Date.now() - formedAt) / 1000).toFixed(1)}s after all Ready)`);
    // member 0 found no peer and bootstrapped the group; the others joined it
    const logsOf = async (pod: string) => (await kube.cp.kubectlRun(['logs', '-n', MQ_NS, pod])).stdout;
    expect(await logsOf(`${MQ_STS}-0`)).toMatch(/bootstrapping single-node cluster \(node 1\)/);
    expect(await logsOf(`${MQ_STS}-1`)).toMatch(/Joining cluster via peer/);
    expect(await logsOf(`${MQ_STS}-2`)).toMatch(/Joining cluster via peer/);
    for (const p of pods) checkClaimsWritten(p);

    // a member deleted: a follower that is not the one answering for the group; its pod comes back with the same name
    // and claim and recovers its own Raft id (ordinal + 1) from its data, with the membership unchanged
    const target = [3, 2].find((id) => id !== status.currentLeader && id !== status.id)!;
    const victim = `${MQ_STS}-${target - 1}`;
    const oldPod = byName(victim);
    const deleted = Date.now();
    await kube.delete('v1', 'Pod', victim, MQ_NS);
    const back = await waitFor(`${victim} replaced and Ready`, async () => {
      const p = await kube.get('v1', 'Pod', victim, MQ_NS);
      return p && p.metadata.uid !== oldPod.metadata.uid && isPodReady(p) && !p.metadata.deletionTimestamp ? p : undefined;
    }, { timeoutMs: 5 * 60_000, intervalMs: 1000 });
    const readyAgain = timed('placementCenterMemberReplacedReadySeconds', deleted);
    const rejoined = await waitFor(`${victim} (Raft id ${target}) back in the group`, async () => {
      const s = await raftStatusOf(byName(`${MQ_STS}-0`));
      const own = await raftStatusOf(back).catch(() => undefined);
      return s.voters.join('|') === '1,2,3' && own && own.currentLeader === s.currentLeader ? s : undefined;
    }, { timeoutMs: 120_000, intervalMs: 1000 });
    expect(rejoined.voters).toEqual([[1, 2, 3]]);
    expect(rejoined.nodes).toEqual(expectedNodes);
    expect(await logsOf(victim)).toMatch(new RegExp(`Node ${target} has persisted state, recovering existing cluster`));
    expect(await logsOf(victim)).not.toMatch(/Joining cluster via peer/);
    log(`robustmq chart: ${victim} deleted, Ready again after ${readyAgain}s (readiness initialDelaySeconds ${container.readinessProbe.initialDelaySeconds}), back in the group as Raft id ${target} (leader ${rejoined.currentLeader}, term ${rejoined.term}); address ${back.status.podIP} (was ${oldPod.status.podIP})`);
    checkRestricted([back]);
    checkClaimsWritten(back);
  }, 20 * 60_000);

  afterAll(() => {
    if (securityChecks.length > 0 || Object.keys(timings).length > 0) {
      writeResult('real-pods-example.json', { timings, containers: securityChecks, claims: claimChecks });
    }
  });
});
