/**
 * Real pods: a real kubelet node (scripts/cluster/node-up.sh: containerd, runc, a CNI bridge,
 * kube-proxy, CoreDNS for the cluster domain) runs the example app's RedisCluster (example/main.ts,
 * the "cache" chart), applied unmodified in a namespace that enforces Pod Security "restricted".
 * The Redis in the image is Debian's (see scripts/cluster/node-images.sh), tagged with the name the
 * manifests use. The kwok nodes are cordoned while this file runs.
 */
import * as crypto from 'node:crypto';
import { Cleanup, applyAll, applyServiceMonitorCrd, claimsOf, refOf, waitForWorkloads } from './support/deploy';
import { isPodReady, Kube, waitFor } from './support/kube';
import { synthExample } from './support/matrix';
import { RealNode } from './support/real-node';

const NS = 'cache';
const STS = 'redis';
const SELECTOR = 'app.kubernetes.io/component=redis,app.kubernetes.io/instance=redis,app.kubernetes.io/name=redis-cluster';
const HEADLESS = 'redis-headless';
const CLIENT_SERVICE = `redis.${NS}.svc.cluster.local`;
const KEY_COUNT = 200;

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
});
