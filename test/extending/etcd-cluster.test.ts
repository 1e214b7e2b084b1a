import * as fs from 'fs';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import { EtcdCluster } from './etcd-cluster';
import { findObject, synthValid } from '../support/validate';

function synth(build: (chart: Chart) => void, namespace?: string): any[] {
  const chart = new Chart(Testing.app(), 'c', { namespace });
  build(chart);
  return synthValid(chart);
}

describe('EtcdCluster, a construct written against the public API only (docs/extending.md)', () => {
  test('it imports nothing but the package index, cdk8s, cdk8s-plus-28 and constructs', () => {
    const source = fs.readFileSync(path.join(__dirname, 'etcd-cluster.ts'), 'utf8');
    const imports = [...source.matchAll(/from '([^']+)'/g)].map((m) => m[1]).sort();
    expect(imports).toEqual(['../../src', 'cdk8s', 'cdk8s-plus-28', 'constructs']);
  });

  test('GIVEN defaults in namespace kv WHEN synthesized THEN the manifests match the snapshot', () => {
    expect(synth((chart) => new EtcdCluster(chart, 'etcd', { name: 'etcd' }), 'kv')).toMatchSnapshot();
  });

  test('three members that know each other by their stable names from the first start, restricted, one down at a time', () => {
    const manifests = synth((chart) => new EtcdCluster(chart, 'etcd', { name: 'etcd' }), 'kv');
    const sts = findObject(manifests, 'StatefulSet');
    expect(sts.spec.replicas).toBe(3);
    expect(sts.spec.podManagementPolicy).toBe('Parallel');
    const c = sts.spec.template.spec.containers[0];
    expect(c.args).toContain('--initial-cluster=' + [0, 1, 2].map((i) => `etcd-${i}=http://etcd-${i}.etcd-headless.$(POD_NAMESPACE).svc.cluster.local:2380`).join(','));
    expect(c.args).toContain('--initial-advertise-peer-urls=http://$(POD_NAME).etcd-headless.$(POD_NAMESPACE).svc.cluster.local:2380');
    expect(c.env.map((e: any) => e.name)).toEqual(['POD_NAME', 'POD_NAMESPACE']);
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 2381 });
    expect(c.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(findObject(manifests, 'Service').spec.publishNotReadyAddresses).toBe(true);
    expect(findObject(manifests, 'PodDisruptionBudget').spec.maxUnavailable).toBe(1);
  });

  test('node.defaultChild is the StatefulSet; a platform team adds a backup sidecar through the extension points', () => {
    const manifests = synth((chart) => {
      const etcd = new EtcdCluster(chart, 'etcd', { name: 'etcd', replicas: 5 });
      expect((etcd.node.defaultChild as any).kind).toBe('StatefulSet');
      etcd.workload.addSidecar({ name: 'backup', image: 'example.org/etcd-backup:1.0.0', ports: [{ name: 'backup', port: 8081 }], mounts: [{ volume: 'data', path: '/var/lib/etcd', readOnly: true }] });
      etcd.workload.addPodLabel('team', 'platform');
      expect(etcd.clientUrls[4]).toBe('http://etcd-4.etcd-headless.default.svc.cluster.local:2379');
    });
    const sts = findObject(manifests, 'StatefulSet');
    expect(sts.spec.template.spec.initContainers.map((c: any) => [c.name, c.restartPolicy])).toEqual([['backup', 'Always']]);
    expect(findObject(manifests, 'Service').spec.ports.map((p: any) => p.name)).toEqual(['client', 'peer', 'metrics', 'backup']);
  });

  test('an even number of members is refused with the path and what is accepted', () => {
    expect(() => synth((chart) => new EtcdCluster(chart, 'etcd', { replicas: 4 }))).toThrow(
      'c/etcd: invalid replicas (4): must be 3, 5 or 7 (an odd number of members keeps a Raft quorum through one or more failures)');
  });
});
