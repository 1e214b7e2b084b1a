import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { findObject, validateManifest } from './support/validate';

const root = path.join(__dirname, '..');
const compiled = path.join(root, 'lib-example', 'main.js');

function synthExample(): { [file: string]: string } {
  if (!fs.existsSync(compiled)) throw new Error(`${compiled} is missing: run "npm run build" first`);
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'example-'));
  try {
    execFileSync(process.execPath, [compiled], { cwd: root, env: { ...process.env, CDK8S_OUTDIR: outdir } });
    return Object.fromEntries(fs.readdirSync(outdir).sort().map((f) => [f, fs.readFileSync(path.join(outdir, f), 'utf-8')]));
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

describe('the example app', () => {
  const files = synthExample();
  const manifests = Object.values(files).flatMap((text) => YAML.parseAllDocuments(text).map((d) => d.toJSON()));

  test('uses every construct of the library and every object passes the Kubernetes schema', () => {
    expect(Object.keys(files)).toEqual(['cache.k8s.yaml', 'robustmq.k8s.yaml', 'single-writer.k8s.yaml']);
    for (const m of manifests) validateManifest(m, ['ServiceMonitor']);
    const statefulSets = manifests.filter((m) => m.kind === 'StatefulSet').map((m) => m.metadata.name).sort();
    expect(statefulSets).toEqual(['placement-center', 'redis', 'rwop-app']);
    expect(findObject(manifests, 'StatefulSet', 'rwop-app').spec.volumeClaimTemplates[0].spec.accessModes).toEqual(['ReadWriteOncePod']);
    expect(findObject(manifests, 'Deployment', 'rwop-app-failover')).toBeDefined();
    expect(findObject(manifests, 'ServiceMonitor', 'redis').apiVersion).toBe('monitoring.coreos.com/v1');
  });

  test('the PostgreSQL of the single-writer chart keeps PGDATA in a directory of its claim and reads its password from the Secret rwop-app-auth', () => {
    const pod = findObject(manifests, 'StatefulSet', 'rwop-app').spec.template.spec;
    const app = pod.containers.find((c: any) => c.name === 'app');
    // initdb refuses the claim's root when it holds lost+found; the official image refuses to initdb without a password
    expect(app.env).toEqual([
      { name: 'PGDATA', value: '/var/lib/postgresql/data/pgdata' },
      { name: 'POSTGRES_PASSWORD_FILE', value: '/run/secrets/postgres/password' },
    ]);
    expect(app.volumeMounts).toContainEqual({ name: 'data', mountPath: '/var/lib/postgresql/data' });
    expect(app.volumeMounts).toContainEqual({ name: 'auth', mountPath: '/run/secrets/postgres', readOnly: true });
    expect(pod.volumes).toContainEqual({ name: 'auth', secret: { secretName: 'rwop-app-auth' } });
    // no password in the manifests
    expect(manifests.filter((m) => m.kind === 'Secret')).toEqual([]);
  });

  test('cluster-scoped objects carry no namespace, namespaced ones carry their chart namespace', () => {
    const clusterScoped = ['StorageClass', 'PriorityClass', 'ClusterRole', 'ClusterRoleBinding', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding'];
    for (const m of manifests) {
      if (clusterScoped.includes(m.kind)) expect([m.kind, m.metadata.namespace]).toEqual([m.kind, undefined]);
      // the failover controller reads node heartbeats through a Role of its own in kube-node-lease
      else if (m.metadata.namespace === 'kube-node-lease') expect([m.kind, m.metadata.name]).toEqual([m.kind, 'cdk8s-stateful.failover.apps.rwop-app-failover']);
      else expect([m.kind, m.metadata.namespace]).toEqual([m.kind, expect.stringMatching(/^(apps|cache|robustmq)$/)]);
    }
  });

  test('dist/ holds exactly what the example synthesizes', () => {
    const dist = path.join(root, 'dist');
    const committed = Object.fromEntries(fs.readdirSync(dist).sort().map((f) => [f, fs.readFileSync(path.join(dist, f), 'utf-8')]));
    expect(committed).toEqual(files);
  });
});
