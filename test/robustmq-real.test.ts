/**
 * The PlacementCenter that the example app synthesizes, run on the real RobustMQ broker-server of the release it
 * targets: three members on 127.0.0.1, started one after another as OrderedReady does, with the configuration from the
 * rendered ConfigMap and the command and environment of the rendered StatefulSet (see test/support/robustmq-harness.ts
 * for the three things a single host changes: ports, host names, paths).
 *
 * Needs the binary that scripts/ensure-robustmq.sh builds from the RobustMQ source (npm run test:robustmq runs both);
 * plain `npm test` leaves this file out.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import { parseAllDocuments } from 'yaml';
import { PlacementCenter } from '../src';
import { RaftStatus, RobustMqHarness, tcpCheck, waitFor } from './support/robustmq-harness';
import { findObject } from './support/validate';

jest.setTimeout(900_000);

const REPO = path.join(__dirname, '..');

/** The broker-server that scripts/ensure-robustmq.sh builds, if it is there. */
function cachedBinary(): string | undefined {
  const bin = process.env.ROBUSTMQ_BIN ?? execFileSync('bash', [path.join(REPO, 'scripts/ensure-robustmq.sh'), '--print-bin'], { encoding: 'utf8' }).trim();
  return fs.existsSync(bin) ? bin : undefined;
}
const BINARY = cachedBinary();
const MISSING = 'no RobustMQ broker-server is built: run npm run test:robustmq with ROBUSTMQ_SOURCE set to the RobustMQ v0.4.11 source '
  + '(a .tar.gz of the tree or a checkout); it builds the server once into the cache (scripts/ensure-robustmq.sh) and runs this file';
// npm run test:robustmq requires the server; a jest run that merely picks this file up skips it when there is none
const REQUIRED = process.env.ROBUSTMQ_REAL_REQUIRED === '1';
if (!BINARY && !REQUIRED) process.stdout.write(`robustmq-real: skipped: ${MISSING}\n`);
const suite = BINARY || REQUIRED ? describe : describe.skip;

/** The example app's RobustMQ chart (example/main.ts): namespace robustmq, a PlacementCenter with no props. */
function synthesizeExample() {
  const chart = new Chart(Testing.app(), 'robustmq', { namespace: 'robustmq' });
  const pc = new PlacementCenter(chart, 'PlacementCenter');
  const manifests = Testing.synth(chart);
  return { pc, statefulSet: findObject(manifests, 'StatefulSet'), configMap: findObject(manifests, 'ConfigMap') };
}

const seconds = (ms: number) => Math.round(ms / 100) / 10;

suite('PlacementCenter on the real RobustMQ v0.4.11 broker-server', () => {
  const example = synthesizeExample();
  let harness: RobustMqHarness;
  const report: string[] = [];
  const note = (line: string) => { report.push(line); process.stdout.write(`robustmq-real: ${line}\n`); };

  beforeAll(async () => {
    if (!BINARY) throw new Error(MISSING);
    harness = new RobustMqHarness({ statefulSet: example.statefulSet, configMap: example.configMap }, BINARY);
    await harness.prepare();
  });

  afterAll(async () => {
    await harness?.stopAll();
    harness?.dispose();
    if (report.length) process.stdout.write(`robustmq-real summary:\n  ${report.join('\n  ')}\n`);
  });

  test('what runs is what the example app synthesized into dist/', () => {
    const dist = parseAllDocuments(fs.readFileSync(path.join(REPO, 'dist/robustmq.k8s.yaml'), 'utf8')).map((d) => d.toJSON());
    expect(example.configMap).toEqual(findObject(dist, 'ConfigMap'));
    expect(example.statefulSet).toEqual(findObject(dist, 'StatefulSet'));
    expect(example.statefulSet.spec.podManagementPolicy).toBe('OrderedReady');
    expect(example.pc.release.version).toBe('0.4.11');
  });

  test('started one after another as OrderedReady does, the members form one Raft cluster of three with one leader', async () => {
    try {
      const start = Date.now();
      for (let ordinal = 0; ordinal < harness.replicas; ordinal++) {
        // the probe sees nothing before the process runs
        expect(await harness.readinessCheck(ordinal)).toBe(false);
        const startedAt = Date.now();
        harness.start(ordinal);
        const ready = await harness.waitReady(ordinal, startedAt, 120_000);
        note(`member ${ordinal} Ready ${ready.toFixed(1)} s after its start (readiness tcpSocket, initialDelaySeconds ${harness.readinessProbe.initialDelaySeconds})`);
      }
      note(`three members Ready ${seconds(Date.now() - start)} s after the first start`);

      const grpcPorts = harness.members.map((m) => m.ports.grpc);
      const status = await waitFor('one leader with three voters, every follower replicated', async () => {
        const s = await harness.raftStatus(0);
        const replicated = s.replication && [1, 2, 3].every((id) => (s.replication![String(id)] ?? -1) >= s.lastLogIndex - 5);
        return s.currentLeader !== undefined && s.voters.length === 1 && s.voters[0].join() === '1,2,3' && (s.state !== 'Leader' || replicated) ? s : undefined;
      }, 120_000, 1000);
      expect(status.voters).toEqual([[1, 2, 3]]);
      // the cluster knows each member by the address in meta_addrs: member i is Raft id i + 1
      expect(status.nodes).toEqual({ 1: `127.0.0.1:${grpcPorts[0]}`, 2: `127.0.0.1:${grpcPorts[1]}`, 3: `127.0.0.1:${grpcPorts[2]}` });
      // every member's admin API reports the same leader and term
      const views: RaftStatus[] = await Promise.all(harness.members.map((m) => harness.raftStatus(m.ordinal)));
      expect(new Set(views.map((v) => `${v.currentLeader}/${v.term}`)).size).toBe(1);
      if (status.state === 'Leader') {
        expect(Object.keys(status.replication!).sort()).toEqual(['1', '2', '3']);
      }
      note(`one cluster: voters ${JSON.stringify(status.voters)}, leader ${status.currentLeader}, term ${status.term}, `
        + `answered by ${status.id} (${status.state})${status.replication ? `, replication ${JSON.stringify(status.replication)}` : ''}`);
      // member 0 found no peer and bootstrapped the cluster; the others joined it
      expect(harness.log(0)).toMatch(/bootstrapping single-node cluster \(node 1\)/);
      expect(harness.log(1)).toMatch(/Joining cluster via peer 1/);
      expect(harness.log(2)).toMatch(/Joining cluster via peer \d/);
      for (const m of harness.members) expect(harness.isRunning(m.ordinal)).toBe(true);
    } catch (e) {
      process.stdout.write(harness.logTails());
      throw e;
    }
  });

  test('a member restarted keeps its Raft id and its data and rejoins', async () => {
    try {
      const before = await harness.raftStatus(0);
      // a follower that is not the member answering for the cluster, so the answers keep coming from the same member
      const target = [3, 2, 1].find((id) => id !== before.currentLeader && id !== before.id)!;
      const ordinal = target - 1;
      const grace = (example.statefulSet.spec.template.spec.terminationGracePeriodSeconds ?? 30) * 1000;
      const how = await harness.stop(ordinal, grace);
      expect(await harness.readinessCheck(ordinal)).toBe(false);
      const indexWhileDown = (await harness.raftStatus(0)).lastLogIndex;
      const restartedAt = Date.now();
      harness.start(ordinal);
      const rejoined = await waitFor(`member ${ordinal} (id ${target}) back in the cluster`, async () => {
        const s = await harness.raftStatus(0);
        if (s.voters.join('|') !== '1,2,3') return undefined;
        if (!/has persisted state, recovering existing cluster/.test(harness.log(ordinal))) return undefined;
        // on the leader: entries written since the restart (the member registers itself) have reached the member
        if (s.state === 'Leader') {
          const matched = s.replication?.[String(target)] ?? -1;
          return s.lastLogIndex > indexWhileDown && matched > indexWhileDown && matched >= s.lastLogIndex - 1 ? s : undefined;
        }
        return s;
      }, 120_000, 500);
      if (rejoined.state === 'Leader') note(`member ${ordinal} (id ${target}) caught up to log index ${rejoined.replication![String(target)]} (${indexWhileDown} while it was down)`);
      // the same identity: it recovered its own state (id ordinal + 1), nobody joined, membership unchanged
      expect(harness.log(ordinal)).toMatch(new RegExp(`Node ${target} has persisted state, recovering existing cluster`));
      expect(rejoined.voters).toEqual([[1, 2, 3]]);
      expect(rejoined.nodes[String(target)]).toBe(`127.0.0.1:${harness.members[ordinal].ports.grpc}`);
      expect(await harness.readinessCheck(ordinal)).toBe(true);
      note(`member ${ordinal} (id ${target}) stopped (${how}), restarted, back in the cluster with its id after ${seconds(Date.now() - restartedAt)} s`);
    } catch (e) {
      process.stdout.write(harness.logTails());
      throw e;
    }
  });

  test('the leader killed: the others elect a new leader (measured), and the old leader rejoins as a follower', async () => {
    try {
      const before = await harness.raftStatus(0);
      const oldLeader = before.currentLeader!;
      const leaderOrdinal = oldLeader - 1;
      const seen: { tcp?: number; admin?: number; notReady?: number } = {};
      const survivor = [0, 1, 2].find((o) => o !== leaderOrdinal)!;
      const killedAt = Date.now();
      await harness.kill(leaderOrdinal);
      expect(await harness.readinessCheck(leaderOrdinal)).toBe(false);
      const after = await waitFor('a new leader', async () => {
        const s = await harness.raftStatus(survivor);
        return s.currentLeader !== undefined && s.currentLeader !== oldLeader && s.term > before.term ? s : undefined;
      }, 120_000, 250);
      const failover = (Date.now() - killedAt) / 1000;
      expect(after.voters).toEqual([[1, 2, 3]]);
      // A member still starting when the leader dies exits (v0.4.11's broker-server calls exit(1) when its start-up
      // calls to the meta service fail, e.g. "Failed to initialize default tenant"); the kubelet restarts it after its
      // back-off and the election completes once it votes again. Reported, not hidden.
      const exits = harness.unrequestedExits.filter((x) => x.at >= killedAt);
      for (const x of exits) {
        expect(x.ordinal).not.toBe(leaderOrdinal);
        note(`member ${x.ordinal} exited on its own ${seconds(x.at - killedAt)} s after the kill (code ${x.code}, last line: ${x.lastLine.slice(0, 160)}); `
          + `restarted after the kubelet's ${x.backOffMs / 1000} s back-off`);
      }
      note(`leader ${oldLeader} killed (SIGKILL): leader ${after.currentLeader} elected in term ${after.term}, ${failover.toFixed(1)} s after the kill`
        + (exits.length ? ` (with ${exits.length} member restart${exits.length > 1 ? 's' : ''} on the way)` : ''));

      const restartedAt = Date.now();
      harness.start(leaderOrdinal);
      // readiness as the kubelet's TCP check sees it, next to the admin API's own check (which loopback may call): the
      // gRPC port opens first, /api/health/ready also waits for the engine port, opened once the meta service answers
      const timeline = await waitFor('the restarted member ready to both checks', async () => {
        const tcp = await harness.readinessCheck(leaderOrdinal);
        const admin = await harness.adminGet(leaderOrdinal, '/api/health/ready').then((r) => r.status, () => 0);
        const at = (Date.now() - restartedAt) / 1000;
        seen.tcp ??= tcp ? at : undefined;
        seen.admin ??= admin === 200 ? at : undefined;
        if (admin !== 200 && admin !== 0) seen.notReady = admin;
        return seen.tcp !== undefined && seen.admin !== undefined ? { ...seen } : undefined;
      }, 120_000, 100);
      expect(timeline.tcp).toBeLessThanOrEqual(timeline.admin!);
      note(`restarted member ${leaderOrdinal}: TCP check on gRPC passes ${timeline.tcp!.toFixed(1)} s after the start, `
        + `/api/health/ready from loopback answers 200 after ${timeline.admin!.toFixed(1)} s${timeline.notReady ? ` (${timeline.notReady} before)` : ''}`);
      const back = await waitFor(`member ${leaderOrdinal} (id ${oldLeader}) following leader ${after.currentLeader}`, async () => {
        // with id 1 reachable again, the answers come from it: its own view
        const s = await harness.raftStatus(survivor);
        return s.id === oldLeader && s.state === 'Follower' && s.currentLeader === after.currentLeader ? s : undefined;
      }, 120_000, 500);
      expect(back.voters).toEqual([[1, 2, 3]]);
      expect(harness.log(leaderOrdinal)).toMatch(new RegExp(`Node ${oldLeader} has persisted state, recovering existing cluster`));
      expect(await harness.readinessCheck(leaderOrdinal)).toBe(true);
      note(`old leader ${oldLeader} restarted: follower of ${back.currentLeader} in term ${back.term} after ${seconds(Date.now() - restartedAt)} s`);
    } catch (e) {
      process.stdout.write(harness.logTails());
      throw e;
    }
  });

  test('readiness as the probe sees it: the gRPC port of a running member answers, a stopped member fails the check', async () => {
    const probe = harness.readinessProbe;
    expect(probe).toEqual({ tcpSocket: { port: 1228 }, initialDelaySeconds: 45, periodSeconds: 10, timeoutSeconds: 5, successThreshold: 1, failureThreshold: 3 });
    expect(example.statefulSet.spec.template.spec.containers[0].livenessProbe.tcpSocket).toEqual({ port: 1228 });
    for (const m of harness.members) expect(await harness.readinessCheck(m.ordinal)).toBe(true);
    // with the cluster up, the admin API's own readiness endpoint agrees from loopback (a kubelet, not on loopback, gets 401)
    for (const m of harness.members) {
      const ready = await waitFor(`/api/health/ready on member ${m.ordinal}`, async () => {
        const r = await harness.adminGet(m.ordinal, '/api/health/ready');
        return r.status === 200 ? r : undefined;
      }, 60_000, 500);
      expect(ready.body).toContain('all configured ports are ready');
    }
    await harness.stop(2, 30_000);
    expect(await harness.readinessCheck(2)).toBe(false);
    expect(await tcpCheck(harness.members[2].ports.http, 1000)).toBe(false);
  });
});
