/**
 * Group 4: the ReadWriteOncePod claim of an RwopStatefulApp really has one
 * user: the scheduler refuses a second pod that mounts it, and gives the
 * ReadWriteOncePod reason.
 */
import { Chart, Size, Testing } from 'cdk8s';
import { RwopStatefulApp } from '../../src';
import { applyAll, Cleanup, useNamespace, waitForWorkloads } from './support/deploy';
import { condition, Kube, sleep, waitFor } from './support/kube';

const NS = 'cluster-rwop-scheduling';

let kube: Kube;
let cleanup: Cleanup;

useNamespace(NS, (k, c) => {
  kube = k;
  cleanup = c;
});

/** A pod that passes Pod Security "restricted" and mounts the claim. */
function intruder(claimName: string): any {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'second-writer', namespace: NS },
    spec: {
      securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [{
        name: 'writer',
        image: 'docker.io/library/busybox:1.37.0',
        command: ['sleep', 'infinity'],
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
        volumeMounts: [{ name: 'data', mountPath: '/data' }],
      }],
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName } }],
    },
  };
}

test('a second pod that mounts the claim is refused by the scheduler with the ReadWriteOncePod reason', async () => {
  const chart = new Chart(Testing.app(), 'c', { namespace: NS });
  // the cluster's default class (host-path provisioner) provisions ReadWriteOncePod volumes
  const app = new RwopStatefulApp(chart, 'app', { name: 'solo', image: 'docker.io/library/postgres:16.4', ports: [{ name: 'pg', port: 5432 }], storageSize: Size.gibibytes(1) });
  const manifests = Testing.synth(chart);
  await applyAll(kube, cleanup, manifests);
  const [{ pods }] = await waitForWorkloads(kube, manifests);
  const holder = pods[0];
  const claim = await kube.get('v1', 'PersistentVolumeClaim', app.claimName, NS);
  expect({ claim: app.claimName, modes: claim.spec.accessModes, phase: claim.status.phase }).toEqual({ claim: 'data-solo-0', modes: ['ReadWriteOncePod'], phase: 'Bound' });

  const res = await kube.apply(intruder(app.claimName));
  expect(res.warnings).toEqual([]);
  const refused = await waitFor('second-writer to be refused by the scheduler', async () => {
    const p = await kube.get('v1', 'Pod', 'second-writer', NS);
    const c = condition(p, 'PodScheduled');
    return c?.status === 'False' && c.reason === 'Unschedulable' && p;
  }, { timeoutMs: 60_000 });
  const message = condition(refused, 'PodScheduled').message as string;
  process.stdout.write(`second-writer: PodScheduled=False: ${message}\n`);
  expect(message).toMatch(/ReadWriteOncePod/);
  const events = (await kube.list('v1', 'Event', NS, { fieldSelector: 'involvedObject.name=second-writer,reason=FailedScheduling' }));
  expect(events.some((e) => /ReadWriteOncePod/.test(e.message))).toBe(true);

  // still refused a while later, and the holder is untouched
  await sleep(5000);
  const later = await kube.get('v1', 'Pod', 'second-writer', NS);
  expect(later.spec.nodeName).toBeUndefined();
  const holderNow = await kube.get('v1', 'Pod', holder.metadata.name, NS);
  expect(holderNow.metadata.uid).toBe(holder.metadata.uid);

  // the refusal is about the claim's single user: once the holder is gone the same pod is scheduled
  await kube.call('PATCH', `/apis/apps/v1/namespaces/${NS}/statefulsets/solo/scale`, {
    body: { spec: { replicas: 0 } }, contentType: 'application/merge-patch+json',
  });
  const scheduled = await waitFor('second-writer scheduled after the holder left', async () => {
    const p = await kube.get('v1', 'Pod', 'second-writer', NS);
    return p?.spec.nodeName && p;
  }, { timeoutMs: 90_000 });
  expect(scheduled.spec.nodeName).toMatch(/^kwok-node-/);
});
