/**
 * Removing Redis shards against a real API server: the ValidatingAdmissionPolicy a RedisCluster ships refuses a
 * direct decrease of `shards` (or of `replicasPerShard`) and admits the two-step removal, whose first apply
 * creates the drain Job without changing a pod.
 */
import * as childProcess from 'node:child_process';
import * as path from 'node:path';
import { Chart, Testing } from 'cdk8s';
import { RedisCluster, RedisClusterProps } from '../../src';
import { applyAll, Cleanup, prepare, useNamespace } from './support/deploy';
import { ApiError, Kube, sleep, waitFor } from './support/kube';
import { attachControlPlane } from './control-plane';

const REPO = path.resolve(__dirname, '..', '..');
const cp = attachControlPlane();

const NS = 'cluster-redis-shards';
let kube: Kube;
let cleanup: Cleanup;

useNamespace(NS, (k, c) => {
  kube = k;
  cleanup = c;
});

function synth(props: RedisClusterProps): any[] {
  const chart = new Chart(Testing.app(), 'c', { namespace: NS });
  new RedisCluster(chart, 'redis', { name: 'redis', ...props });
  return Testing.synth(chart);
}

function statefulSet(manifests: any[]): any {
  return manifests.find((m) => m.kind === 'StatefulSet');
}

/** The API server's answer to applying the StatefulSet of `props`: undefined when admitted, else its message. */
async function refusal(props: RedisClusterProps, dryRun = false): Promise<string | undefined> {
  try {
    await kube.apply(statefulSet(synth(props)), { dryRun });
    return undefined;
  } catch (e) {
    if (e instanceof ApiError && e.response.status === 403) return e.message;
    throw e;
  }
}

const live = () => kube.get('apps/v1', 'StatefulSet', 'redis', NS);

describe('RedisCluster shard removal under a real API server', () => {
  beforeAll(async () => {
    // the status command as it ships: compiled, in its own process
    childProcess.execFileSync(process.execPath, [path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(REPO, 'tsconfig.cli.json')], { stdio: 'inherit' });
    const manifests = synth({ shards: 4 });
    await prepare(kube, cleanup, manifests);
    await applyAll(kube, cleanup, manifests);
    // a policy takes effect once the API server has loaded it: wait until it refuses a dry-run decrease
    await waitFor('the shard removal policy to be active', async () => (await refusal({ shards: 3 }, true)) !== undefined, { timeoutMs: 60_000, intervalMs: 500 });
  });

  test('a direct decrease of shards is refused with the two-step procedure in the message; nothing changes', async () => {
    const message = await refusal({ shards: 3 });
    expect(message).toContain(`ValidatingAdmissionPolicy 'cdk8s-stateful.redis-shards.${NS}.redis'`);
    expect(message).toContain(`RedisCluster ${NS}/redis: lowering the StatefulSet from 8 to 6 pods would delete pods that own hash slots (the previous apply declared 0 pods draining)`);
    expect(message).toContain('Remove shards in two applies: drainingShards N with the current shards, wait for the Job redis-drain-<shards>-to-<shards - N> to complete');
    expect((await live()).spec.replicas).toBe(8);
  });

  test('lowering replicasPerShard, which would drop pods that own slots too, is refused', async () => {
    expect(await refusal({ shards: 4, replicasPerShard: 0 })).toContain('lowering the StatefulSet from 8 to 4 pods');
  });

  test('step 1, drainingShards 1: admitted; the pod template is unchanged, the StatefulSet carries the drained pods, the drain Job exists', async () => {
    const generation = (await live()).metadata.generation;
    const manifests = synth({ shards: 4, drainingShards: 1 });
    await applyAll(kube, cleanup, manifests);
    const sts = await live();
    expect(sts.metadata.generation).toBe(generation);
    expect(sts.metadata.annotations['stateful.cdk8s.io/draining-pods']).toBe('2');
    const job = await kube.get('batch/v1', 'Job', 'redis-drain-4-to-3', NS);
    expect(job.spec.template.spec.containers[0].command).toEqual(['sh', '/etc/redis-cluster/drain.sh']);
    const config = await kube.get('v1', 'ConfigMap', 'redis-config', NS);
    expect(config.data['draining-shards']).toBe('1\n');
    // the status command reads the Job and says what comes next (kwok completes a Job's pods without running them)
    await waitFor('the drain Job to complete', async () => (await kube.get('batch/v1', 'Job', 'redis-drain-4-to-3', NS))?.status?.succeeded === 1,
      { timeoutMs: 60_000, intervalMs: 500 });
    const run = childProcess.spawnSync(process.execPath, [path.join(REPO, 'lib', 'cli', 'main.js'), 'status', NS, 'redis', '--kubeconfig', cp.kubeconfig, '-o', 'json'],
      { encoding: 'utf8', timeout: 60_000 });
    const report = JSON.parse(run.stdout);
    const check = report.checks.find((c: { check: string }) => c.check === 'shard-removal');
    expect(check).toMatchObject({ object: 'job/redis-drain-4-to-3', level: 'warning' });
    expect(check.message).toBe('drained: the last 2 pods (ordinals 6-7) own no slots and left the cluster (they stay not ready); next: lower shards and set drainingShards 0, then apply');
  });

  test('from there, dropping more pods than were drained is still refused', async () => {
    expect(await refusal({ shards: 3, replicasPerShard: 0 })).toContain('lowering the StatefulSet from 8 to 3 pods would delete pods that own hash slots (the previous apply declared 2 pods draining)');
  });

  test('step 2, shards 3: admitted; afterwards a further decrease is refused again', async () => {
    expect(await refusal({ shards: 3 })).toBeUndefined();
    expect((await live()).spec.replicas).toBe(6);
    // the draining annotation went with the apply that lowered shards
    await sleep(200);
    expect((await live()).metadata.annotations?.['stateful.cdk8s.io/draining-pods']).toBeUndefined();
    await kube.apply(statefulSet(synth({ shards: 4 })));
    expect(await refusal({ shards: 3 })).toContain('lowering the StatefulSet from 8 to 6 pods');
  });
});
