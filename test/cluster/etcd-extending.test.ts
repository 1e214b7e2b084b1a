/**
 * The construct of docs/extending.md, EtcdCluster (test/extending/etcd-cluster.ts, public API only), through the
 * same live checks as the library's own: admitted under Pod Security "restricted" with zero warnings and its pods
 * created by the real controllers; and the StatefulSet it renders runs as three real etcd processes (the etcd the
 * control plane is built with) that form a cluster, keep a key through the loss of a member and take it back.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { Chart, Testing } from 'cdk8s';
import { attachControlPlane } from './control-plane';
import { applyAll, Cleanup, prepare, useNamespace, waitForWorkloads } from './support/deploy';
import { Kube, waitFor } from './support/kube';
import { EtcdCluster } from '../extending/etcd-cluster';

const NS = 'cluster-etcd';
const cp = attachControlPlane();
let kube: Kube;
let cleanup: Cleanup;

useNamespace(NS, (k, c) => {
  kube = k;
  cleanup = c;
});

function synth(): any[] {
  const chart = new Chart(Testing.app(), 'c', { namespace: NS });
  new EtcdCluster(chart, 'etcd', { name: 'etcd' });
  return Testing.synth(chart);
}

describe('EtcdCluster under the live API server', () => {
  test('server-side apply under restricted accepts every object with zero warnings; the controllers create all three pods', async () => {
    const manifests = synth();
    await prepare(kube, cleanup, manifests);
    const applied = await applyAll(kube, cleanup, manifests);
    expect(applied.flatMap((a) => a.warnings)).toEqual([]);
    const [{ pods }] = await waitForWorkloads(kube, manifests);
    expect(pods.map((p) => p.metadata.name).sort()).toEqual(['etcd-0', 'etcd-1', 'etcd-2']);
  });
});

/** A member as the kubelet would start it: env from the downward API expanded in args ($(VAR)), DNS to loopback. */
interface Member {
  readonly name: string;
  readonly ip: string;
  readonly dataDir: string;
  process?: ChildProcess;
  log: string;
}

function request(url: string, body?: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: body === undefined ? 'GET' : 'POST', timeout: 5_000, headers: { 'content-type': 'application/json' } }, (res) => {
      let data = '';
      res.on('data', (chunk) => { data += chunk; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: timed out`)));
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('EtcdCluster: the rendered StatefulSet as three real etcd processes', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'etcd-extending-'));
  const net = 16 + Math.floor(Math.random() * 200);
  const etcd = path.join(cp.binDir, 'etcd');
  const sts = synth().find((m) => m.kind === 'StatefulSet');
  const container = sts.spec.template.spec.containers[0];
  const members: Member[] = [0, 1, 2].map((i) => ({ name: `etcd-${i}`, ip: `127.${net}.0.${10 + i}`, dataDir: path.join(root, `etcd-${i}`), log: '' }));
  const probe = (m: Member, p: any) => `http://${m.ip}:${p.httpGet.port}${p.httpGet.path}`;

  function argsOf(m: Member): string[] {
    const env: Record<string, string> = { POD_NAME: m.name, POD_NAMESPACE: NS };
    expect(container.env.map((e: any) => [e.name, e.valueFrom.fieldRef.fieldPath])).toEqual([['POD_NAME', 'metadata.name'], ['POD_NAMESPACE', 'metadata.namespace']]);
    return container.args.map((a: string) => {
      let arg = a.replace(/\$\(([A-Z_]+)\)/g, (_, v) => env[v]);
      // the cluster DNS: each pod's stable name resolves to its address; each pod listens on its own address
      for (const peer of members) arg = arg.split(`${peer.name}.${sts.spec.serviceName}.${NS}.svc.cluster.local`).join(peer.ip);
      return arg.replace(/0\.0\.0\.0/g, m.ip).replace(/^--data-dir=\/var\/lib\/etcd/, `--data-dir=${m.dataDir}`);
    });
  }

  function start(m: Member): void {
    fs.mkdirSync(m.dataDir, { recursive: true, mode: 0o700 });
    expect(container.command).toEqual(['etcd']);
    const child = spawn(etcd, argsOf(m), { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d) => { m.log += d; });
    child.stderr!.on('data', (d) => { m.log += d; });
    m.process = child;
  }

  async function stop(m: Member, signal: NodeJS.Signals): Promise<void> {
    const child = m.process;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
    m.process = undefined;
  }

  const ready = (m: Member) => request(probe(m, container.readinessProbe)).then((r) => r.status === 200, () => false);

  afterAll(async () => {
    for (const m of members) await stop(m, 'SIGKILL');
    fs.rmSync(root, { recursive: true, force: true });
  });

  test('three members started in parallel form one cluster: every readiness probe passes, a key written on one is read on another', async () => {
    for (const m of members) start(m);
    try {
      await waitFor('every member ready (the rendered readiness probe)', async () => (await Promise.all(members.map(ready))).every(Boolean), { timeoutMs: 60_000, intervalMs: 500 });
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${members.map((m) => `== ${m.name}\n${m.log.slice(-2000)}`).join('\n')}`);
    }
    expect((await request(probe(members[0], container.livenessProbe))).status).toBe(200);
    const put = await request(`http://${members[0].ip}:2379/v3/kv/put`, { key: b64('greeting'), value: b64('hello') });
    expect(put.status).toBe(200);
    const range = JSON.parse((await request(`http://${members[2].ip}:2379/v3/kv/range`, { key: b64('greeting') })).body);
    expect(Buffer.from(range.kvs[0].value, 'base64').toString()).toBe('hello');
    const list = JSON.parse((await request(`http://${members[1].ip}:2379/v3/cluster/member/list`, {})).body);
    expect(list.members.map((x: any) => x.name).sort()).toEqual(['etcd-0', 'etcd-1', 'etcd-2']);
  });

  test('with one member killed the two others keep a quorum and take writes; the member comes back from its data and catches up', async () => {
    await stop(members[1], 'SIGKILL');
    // when the killed member led, the two others first elect a leader: a client retries until then
    const put = await waitFor('a write through a remaining member', async () => {
      const r = await request(`http://${members[0].ip}:2379/v3/kv/put`, { key: b64('during'), value: b64('outage') }).catch(() => undefined);
      return r?.status === 200 ? r : undefined;
    }, { timeoutMs: 30_000, intervalMs: 500 });
    expect(put.status).toBe(200);
    start(members[1]);
    await waitFor('the restarted member ready', () => ready(members[1]), { timeoutMs: 60_000, intervalMs: 500 });
    // a serializable read answers from the member's own store: it has the key once it caught up
    const local = async () => {
      const range = JSON.parse((await request(`http://${members[1].ip}:2379/v3/kv/range`, { key: b64('during'), serializable: true })).body);
      return range.kvs ? Buffer.from(range.kvs[0].value, 'base64').toString() : undefined;
    };
    expect(await waitFor('the restarted member to hold the key written while it was down', local, { timeoutMs: 15_000, intervalMs: 200 })).toBe('outage');
  });
});
