import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Chart, Duration, Size, Testing } from 'cdk8s';
import { Cpu, EnvValue, ImagePullPolicy, PersistentVolumeAccessMode, Volume } from 'cdk8s-plus-28';
import {
  DisruptionBudget, FailoverAction, FAILOVER_BUDGET_ANNOTATION, StatefulProbe, RwopStatefulApp, RwopStatefulAppProps, StorageClass,
  StorageProvisioner,
} from '../src';
import { findObject, synthValid } from './support/validate';

/** A check PostgreSQL answers itself (a TCP connect would pass for a hung server). */
const PG_ISREADY = StatefulProbe.fromCommand(['pg_isready', '-h', '127.0.0.1', '-p', '5432']);

function synth(props: Partial<RwopStatefulAppProps> = {}) {
  const chart = Testing.chart();
  const app = new RwopStatefulApp(chart, 'db', { image: 'postgres:16.4', name: 'db', ports: [{ name: 'pg', port: 5432 }], ...props });
  const manifests = synthValid(chart);
  return { app, chart, manifests, sts: findObject(manifests, 'StatefulSet', app.name) };
}

function container(sts: any) {
  return sts.spec.template.spec.containers[0];
}

describe('RwopStatefulApp defaults', () => {
  test('GIVEN only an image and a port WHEN synthesized THEN the manifests match the snapshot', () => {
    expect(synth().manifests).toMatchSnapshot();
  });

  test('the container takes the shared container options: imagePullPolicy reaches the container (IfNotPresent unless set)', () => {
    expect(container(synth().sts).imagePullPolicy).toBe('IfNotPresent');
    expect(container(synth({ imagePullPolicy: ImagePullPolicy.ALWAYS }).sts).imagePullPolicy).toBe('Always');
  });

  test('one replica, ReadWriteOncePod claim template named data, Retain/Retain, mounted at /data', () => {
    const { sts } = synth();
    expect(sts.spec.replicas).toBe(1);
    expect(sts.spec.volumeClaimTemplates).toHaveLength(1);
    expect(sts.spec.volumeClaimTemplates[0].metadata.name).toBe('data');
    expect(sts.spec.volumeClaimTemplates[0].spec.accessModes).toEqual(['ReadWriteOncePod']);
    expect(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('10Gi');
    expect(sts.spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: 'Retain', whenScaled: 'Retain' });
    expect(container(sts).volumeMounts).toContainEqual({ name: 'data', mountPath: '/data' });
  });

  test('liveness is tuned for fast detection with a probe-level grace period; startup is patient', () => {
    const c = container(synth().sts);
    expect(c.livenessProbe).toEqual({
      tcpSocket: { port: 5432 }, initialDelaySeconds: 0, periodSeconds: 5, timeoutSeconds: 1,
      failureThreshold: 2, successThreshold: 1, terminationGracePeriodSeconds: 5,
    });
    expect(c.readinessProbe.periodSeconds).toBe(5);
    expect(c.readinessProbe.terminationGracePeriodSeconds).toBeUndefined();
    expect(c.startupProbe).toMatchObject({ tcpSocket: { port: 5432 }, periodSeconds: 2, failureThreshold: 150 });
    expect(c.startupProbe.terminationGracePeriodSeconds).toBeUndefined();
  });

  test('tolerates node loss for 30 s and keeps a realistic pod grace period', () => {
    const spec = synth().sts.spec.template.spec;
    expect(spec.terminationGracePeriodSeconds).toBe(30);
    expect(spec.tolerations).toEqual([
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 },
    ]);
  });

  test('pods pass Pod Security Standards restricted', () => {
    const spec = synth().sts.spec.template.spec;
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container({ spec: { template: { spec } } }).securityContext).toEqual({
      allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, runAsNonRoot: true,
      capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(spec.volumes).toContainEqual({ name: 'writable-app-0', emptyDir: {} });
    expect(spec.automountServiceAccountToken).toBe(false);
  });

  test('with the default TCP liveness check a hung process has no bound: the kernel answers the check for it', () => {
    const { app, sts } = synth();
    expect(app.failoverBudget.hungProcess).toMatchObject({ bounded: false, terms: [] });
    expect(app.failoverBudget.hungProcess.note).toMatch(/TCP connect, which the kernel completes for a process that is stopped or deadlocked/);
    expect(JSON.parse(sts.metadata.annotations[FAILOVER_BUDGET_ANNOTATION]).hungProcessSeconds).toBe('unbounded');
    expect(() => synth({ failoverTargets: { hungProcess: Duration.seconds(60) } }))
      .toThrow(/failoverTargets.hungProcess is 60 s but the settings promise no bound .*give liveness an exec, HTTP or gRPC check the process answers itself/);
    // an HTTP or gRPC check needs the process too
    expect(synth({ liveness: StatefulProbe.fromHttpGet('/health', { port: 8080 }) }).app.failoverBudget.hungProcess.bounded).toBe(true);
    expect(synth({ liveness: StatefulProbe.fromGrpc({ port: 8080 }) }).app.failoverBudget.hungProcess.bounded).toBe(true);
  });

  test('the failover budget is computed term by term and recorded on the StatefulSet', () => {
    const { app, sts } = synth({ liveness: PG_ISREADY });
    const b = app.failoverBudget;
    // detection 2x5 + timeout 1 + probe grace 5 + back-off 10 + start 10 + startup period 2 + ready (0 + 5x1 + 1)
    expect(b.hungProcess.worstCaseSeconds).toBe(10 + 1 + 5 + 10 + 10 + 2 + 6);
    expect(b.nodeLossWithoutAutomation.bounded).toBe(false);
    expect(b.nodeLossWithoutAutomation.worstCaseSeconds).toBeUndefined();
    expect(b.nodeLossWithoutAutomation.note).toMatch(/Terminating/);
    expect(b.nodeLossWithAutomation).toBeUndefined();
    expect(JSON.parse(sts.metadata.annotations[FAILOVER_BUDGET_ANNOTATION])).toEqual({
      hungProcessSeconds: 44, nodeLossWithoutAutomationSeconds: 'unbounded', nodeLossWithAutomationSeconds: 'off',
    });
  });

  test('no failover controller objects unless asked for', () => {
    const { manifests, app } = synth();
    expect(app.failoverController).toBeUndefined();
    expect(manifests.map((m) => m.kind).sort()).toEqual(['Service', 'StatefulSet']);
  });
});

describe('RwopStatefulApp options', () => {
  test('existing claim: no claim template, a pod volume named data on that claim', () => {
    const { sts, app } = synth({ existingClaim: 'rwop-pvc' });
    expect(sts.spec.volumeClaimTemplates).toBeUndefined();
    expect(sts.spec.template.spec.volumes).toContainEqual({ name: 'data', persistentVolumeClaim: { claimName: 'rwop-pvc', readOnly: false } });
    expect(app.claimName).toBe('rwop-pvc');
  });

  test('StorageClass construct, size, mount path, env, command, args, resources, preStop, priority', () => {
    const chart = Testing.chart();
    const sc = new StorageClass(chart, 'sc', { name: 'manila-nfs', provisioner: StorageProvisioner.openstackManila({ shareType: 'default' }) });
    const app = new RwopStatefulApp(chart, 'app', {
      image: 'busybox:1.36', name: 'rwop-app', storageClass: sc, storageSize: Size.gibibytes(1), mountPath: '/mnt/data',
      command: ['sh', '-c'], args: ['exec my-server'], env: { MODE: EnvValue.fromValue('primary') },
      ports: [{ name: 'http', port: 8080 }],
      resources: { cpu: { request: Cpu.millis(250), limit: Cpu.units(1) }, memory: { request: Size.mebibytes(256), limit: Size.gibibytes(1) } },
      preStop: ['sh', '-c', 'my-server --drain'], scheduling: { priorityClassName: 'stateful-critical' }, terminationGracePeriod: Duration.seconds(45),
      nodeLossToleration: Duration.seconds(10), writablePaths: ['/tmp', '/var/run/app'],
    });
    const manifests = synthValid(chart);
    const sts = findObject(manifests, 'StatefulSet', 'rwop-app');
    const c = container(sts);
    expect(manifests).toMatchSnapshot();
    expect(sts.spec.volumeClaimTemplates[0].spec).toMatchObject({ storageClassName: 'manila-nfs', resources: { requests: { storage: '1Gi' } } });
    expect(c.volumeMounts[0]).toEqual({ name: 'data', mountPath: '/mnt/data' });
    expect(c.volumeMounts.map((m: any) => m.mountPath)).toEqual(['/mnt/data', '/tmp', '/var/run/app']);
    expect(c.command).toEqual(['sh', '-c']);
    expect(c.args).toEqual(['exec my-server']);
    expect(c.env).toEqual([{ name: 'MODE', value: 'primary' }]);
    expect(c.resources).toEqual({ requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '1Gi' } });
    expect(c.lifecycle).toEqual({ preStop: { exec: { command: ['sh', '-c', 'my-server --drain'] } } });
    expect(sts.spec.template.spec.priorityClassName).toBe('stateful-critical');
    expect(sts.spec.template.spec.terminationGracePeriodSeconds).toBe(45);
    expect(sts.spec.template.spec.tolerations[0].tolerationSeconds).toBe(10);
    expect(app.failoverBudget.nodeLossWithoutAutomation.terms[1].seconds).toBe(10);
  });

  test('user probes keep their check; unset timings take the construct defaults', () => {
    const { sts, app } = synth({
      liveness: StatefulProbe.fromHttpGet('/healthz', { port: 5432, failureThreshold: 3 }),
      readiness: StatefulProbe.fromCommand(['pg_isready'], { period: Duration.seconds(3) }),
      startup: StatefulProbe.fromHttpGet('/started', { port: 5432, failureThreshold: 30, period: Duration.seconds(10) }),
    });
    const c = container(sts);
    expect(c.livenessProbe).toMatchObject({ httpGet: { path: '/healthz', port: 5432 }, failureThreshold: 3, periodSeconds: 5, terminationGracePeriodSeconds: 5 });
    expect(c.readinessProbe).toMatchObject({ exec: { command: ['pg_isready'] }, periodSeconds: 3, failureThreshold: 2 });
    expect(c.startupProbe).toMatchObject({ httpGet: { path: '/started' }, periodSeconds: 10, failureThreshold: 30 });
    // detection 3x5 + 1 + 5 + 10 + start 10 + startup 10 + ready (0 + 3 + 1)
    expect(app.failoverBudget.hungProcess.worstCaseSeconds).toBe(15 + 1 + 5 + 10 + 10 + 10 + 4);
  });

  test('without ports and probes there is no liveness probe and the hung-process budget says unbounded', () => {
    const { sts, app } = synth({ ports: undefined });
    expect(container(sts).livenessProbe).toBeUndefined();
    expect(app.failoverBudget.hungProcess.bounded).toBe(false);
    expect(app.failoverBudget.hungProcess.note).toMatch(/no liveness probe/);
  });

  test('Kubernetes default probe timings give the slow budget the docs describe', () => {
    const k8sDefaults = StatefulProbe.fromCommand(['pg_isready', '-h', '127.0.0.1'], { period: Duration.seconds(10), failureThreshold: 3 });
    const { app } = synth({ liveness: k8sDefaults.withTimings({ terminationGracePeriod: Duration.seconds(30) }) });
    // 3x10 + 1 + 30 + 10 back-off, then start and ready terms
    expect(app.failoverBudget.hungProcess.terms.slice(0, 4).map((t) => t.seconds)).toEqual([30, 1, 30, 10]);
  });

  test('disruption budget and extra volumes pass through', () => {
    const chart = Testing.chart();
    new RwopStatefulApp(chart, 'app', {
      image: 'busybox:1.36', name: 'app', disruptionBudget: DisruptionBudget.maxUnavailable(0),
      volumes: [Volume.fromEmptyDir(chart, 'cache', 'cache')], mounts: [{ volume: 'cache', path: '/cache' }],
    });
    const manifests = synthValid(chart);
    expect(findObject(manifests, 'PodDisruptionBudget').spec).toEqual({
      maxUnavailable: 0,
      selector: { matchLabels: { 'app.kubernetes.io/name': 'app', 'app.kubernetes.io/instance': 'app' } },
    });
    const c = container(findObject(manifests, 'StatefulSet'));
    expect(c.volumeMounts).toContainEqual({ name: 'cache', mountPath: '/cache' });
  });
});

describe('RwopStatefulApp node-loss automation', () => {
  function withAutomation(extra: object = {}, props: Partial<RwopStatefulAppProps> = {}) {
    return synth({ namespace: 'data', nodeLossAutomation: { acknowledgeNodesAreFenced: true, ...extra }, ...props });
  }
  const appLabels = { 'app.kubernetes.io/name': 'db', 'app.kubernetes.io/instance': 'db' };

  test('renders a leader-elected controller with least-privilege RBAC and the shipped program', () => {
    const { manifests, app } = withAutomation();
    // the program is checked byte for byte below; the snapshot covers everything around it
    expect(manifests.map((m) => (m.kind === 'ConfigMap' ? { ...m, data: { 'controller.js': '<program>' } } : m))).toMatchSnapshot();
    const deployment = findObject(manifests, 'Deployment', 'db-failover');
    const spec = deployment.spec.template.spec;
    expect(deployment.spec.replicas).toBe(2);
    const env = Object.fromEntries(spec.containers[0].env.filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));
    expect(env).toEqual({
      WATCHED_POD: 'db-0', POD_SELECTOR: 'app.kubernetes.io/name=db,app.kubernetes.io/instance=db', LEASE_NAME: 'db-failover',
      ACTIONS: 'taint-out-of-service,force-delete-pod', NOT_READY_THRESHOLD_SECONDS: '30', HEARTBEAT_THRESHOLD_SECONDS: '30',
      CHECK_INTERVAL_SECONDS: '2', LEASE_DURATION_SECONDS: '15', RENEW_DEADLINE_SECONDS: '10', RETRY_PERIOD_SECONDS: '2', DRY_RUN: 'false',
      HEALTH_PORT: '8080',
    });
    expect(findObject(manifests, 'ClusterRole').rules).toEqual([{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'patch'] }]);
    // only the app's own pod, by name: the controller cannot list or delete any other pod
    expect(findObject(manifests, 'Role', 'db-failover').rules[0]).toEqual({ apiGroups: [''], resources: ['pods'], resourceNames: ['db-0'], verbs: ['get', 'delete'] });
    const program = findObject(manifests, 'ConfigMap').data['controller.js'];
    expect(program).toBe(fs.readFileSync(path.join(__dirname, '..', 'lib', 'assets', 'failover-controller.js'), 'utf-8'));
    expect(program).toContain('node.kubernetes.io/out-of-service');
    expect(spec.containers[0].command).toEqual(['node', '/opt/failover/controller.js']);
    expect(spec.containers[0].image).toBe('node:24.11.1-alpine3.22');
    expect(app.failoverController?.leaseName).toBe('db-failover');
    expect(findObject(manifests, 'PodDisruptionBudget', 'db-failover').spec).toEqual({
      maxUnavailable: 1, selector: { matchLabels: deployment.spec.selector.matchLabels },
    });
  });

  test('never constrains where the app runs: only preferences, apart from each other first', () => {
    const spec = findObject(withAutomation().manifests, 'Deployment').spec.template.spec;
    expect(spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution).toBeUndefined();
    expect(spec.affinity.podAffinity).toBeUndefined();
    expect(spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution).toEqual([
      { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: findObject(withAutomation().manifests, 'Deployment').spec.selector.matchLabels } } },
      { weight: 50, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: appLabels } } },
    ]);
    expect(spec.topologySpreadConstraints).toEqual([expect.objectContaining({ topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway' })]);
  });

  test('reads the node heartbeats through a read-only Role in kube-node-lease, only with heartbeat detection', () => {
    const { manifests } = withAutomation();
    const reader = findObject(manifests, 'Role', 'cdk8s-stateful.failover.data.db-failover');
    expect(reader.metadata.namespace).toBe('kube-node-lease');
    expect(reader.rules).toEqual([{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'list'] }]);
    expect(findObject(manifests, 'RoleBinding', 'cdk8s-stateful.failover.data.db-failover').subjects).toEqual([{ kind: 'ServiceAccount', name: 'db-failover', namespace: 'data' }]);
    const off = withAutomation({ heartbeatDetection: false });
    expect(off.manifests.filter((m) => m.metadata.namespace === 'kube-node-lease')).toEqual([]);
    expect(off.app.failoverController!.nodeLeaseReader).toBeUndefined();
    const env = findObject(off.manifests, 'Deployment').spec.template.spec.containers[0].env;
    expect(env).toContainEqual({ name: 'HEARTBEAT_THRESHOLD_SECONDS', value: '0' });
  });

  test('cluster-scoped names cannot collide across apps and namespaces', () => {
    const names = (namespace: string, name: string) => {
      const { manifests } = synth({ name, namespace, nodeLossAutomation: { acknowledgeNodesAreFenced: true } });
      return manifests.filter((m) => m.kind.startsWith('Cluster') || m.metadata.namespace === 'kube-node-lease').map((m) => `${m.kind}/${m.metadata.name}`);
    };
    const a = names('team-a', 'db');
    const b = names('team', 'a-db');
    expect(a).toEqual(['ClusterRole/cdk8s-stateful.failover.team-a.db-failover', 'ClusterRoleBinding/cdk8s-stateful.failover.team-a.db-failover',
      'Role/cdk8s-stateful.failover.team-a.db-failover', 'RoleBinding/cdk8s-stateful.failover.team-a.db-failover']);
    expect(a.filter((n) => b.includes(n))).toEqual([]);
  });

  test('the controller follows the app: its namespace, its priority class, a restart when the program changes, a liveness probe', () => {
    const { manifests } = withAutomation({}, { scheduling: { priorityClassName: 'stateful-critical' } });
    for (const m of manifests.filter((x) => !x.kind.startsWith('Cluster') && x.metadata.namespace !== 'kube-node-lease')) {
      expect([m.kind, m.metadata.namespace]).toEqual([m.kind, 'data']);
    }
    const template = findObject(manifests, 'Deployment').spec.template;
    expect(template.spec.priorityClassName).toBe('stateful-critical');
    const program = findObject(manifests, 'ConfigMap').data['controller.js'];
    expect(template.metadata.annotations).toEqual({ 'checksum/program': createHash('sha256').update(program).digest('hex') });
    expect(template.spec.containers[0].livenessProbe).toEqual({ httpGet: { path: '/healthz', port: 'health' }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 });
    expect(template.spec.containers[0].ports).toEqual([{ name: 'health', containerPort: 8080 }]);
    const own = withAutomation({ priorityClassName: 'controllers', image: 'registry.example/node:24@sha256:' + 'a'.repeat(64) }, { scheduling: { priorityClassName: 'stateful-critical' } });
    const ownSpec = findObject(own.manifests, 'Deployment').spec.template.spec;
    expect([ownSpec.priorityClassName, ownSpec.containers[0].image]).toEqual(['controllers', 'registry.example/node:24@sha256:' + 'a'.repeat(64)]);
    expect(findObject(withAutomation().manifests, 'Deployment').spec.template.spec.priorityClassName).toBeUndefined();
    // the chart's namespace serves as well as the prop
    const chart = new Chart(Testing.app(), 'c', { namespace: 'from-chart' });
    new RwopStatefulApp(chart, 'db', { image: 'postgres:16.4', name: 'db', ports: [{ name: 'pg', port: 5432 }], nodeLossAutomation: { acknowledgeNodesAreFenced: true } });
    const fromChart = synthValid(chart);
    expect(findObject(fromChart, 'Deployment').metadata.namespace).toBe('from-chart');
    expect(findObject(fromChart, 'ClusterRoleBinding').subjects).toEqual([{ kind: 'ServiceAccount', name: 'db-failover', namespace: 'from-chart' }]);
  });

  test('the default budget with automation is at most 60 s + expectedStartTime, the sum of its terms', () => {
    const tainted = withAutomation().app.failoverBudget.nodeLossWithAutomation!;
    // heartbeat silence 30 + 2 checks of 2, action 1, reschedule 2, attach 15, start 10, startup 2, ready 6
    expect(tainted.terms.map((t) => [t.name, t.seconds])).toEqual([
      ['heartbeat silence', 30], ['controller checks', 4], ['controller action', 1], ['reschedule', 2], ['attach and mount', 15],
      ['start', 10], ['startup probe', 2], ['ready', 6],
    ]);
    expect(tainted.worstCaseSeconds).toBe(70);
    expect(tainted.worstCaseSeconds! - 10).toBeLessThanOrEqual(60);
    const deleteOnly = withAutomation({ action: FailoverAction.FORCE_DELETE_POD }).app.failoverBudget.nodeLossWithAutomation!;
    expect(deleteOnly.terms.find((t) => t.name === 'detach wait')?.seconds).toBe(360);
    expect(deleteOnly.worstCaseSeconds).toBe(70 + 360);
    const taintOnly = withAutomation({ action: FailoverAction.TAINT_OUT_OF_SERVICE }).app.failoverBudget.nodeLossWithAutomation!;
    expect(taintOnly.terms.find((t) => t.name === 'PodGC')?.seconds).toBe(20);
  });

  test('without heartbeat detection the NotReady path counts: node-monitor grace, threshold and check', () => {
    const b = withAutomation({ heartbeatDetection: false }).app.failoverBudget.nodeLossWithAutomation!;
    expect(b.terms.slice(0, 4).map((t) => [t.name, t.seconds])).toEqual([
      ['node marked NotReady', 55], ['controller threshold', 30], ['controller check', 2], ['controller action', 1],
    ]);
    expect(b.worstCaseSeconds).toBe(55 + 30 + 2 + 1 + 2 + 15 + 10 + 2 + 6);
    // a heartbeat threshold slower than the NotReady path leaves the NotReady path in charge
    const slow = withAutomation({ heartbeatThreshold: Duration.minutes(5) }).app.failoverBudget.nodeLossWithAutomation!;
    expect(slow.terms[0].name).toBe('node marked NotReady');
  });

  test('a lease takeover slower than the detection is counted', () => {
    const { app } = withAutomation({ leaseDuration: Duration.seconds(60), renewDeadline: Duration.seconds(50), retryPeriod: Duration.seconds(10) });
    const terms = app.failoverBudget.nodeLossWithAutomation!.terms;
    // takeover 60 + 1.2 x 10 + 2 = 74, detection 34: 40 s more
    expect(app.failoverController!.leaseTakeoverSeconds).toBe(74);
    expect(terms.slice(0, 4).map((t) => [t.name, t.seconds])).toEqual([['heartbeat silence', 30], ['controller checks', 4], ['lease takeover', 40], ['controller action', 1]]);
    expect(terms[2].explanation).toMatch(/leaseDuration 60 \+ retryPeriod 10 with jitter \+ one check \(74 s\), 40 s after the detection above/);
  });

  test('cluster timings and controller timings change the budget', () => {
    const { app, manifests } = withAutomation({ notReadyThreshold: Duration.seconds(10), heartbeatThreshold: Duration.seconds(20), checkInterval: Duration.seconds(1), replicas: 3 }, {
      clusterTimings: { nodeMonitorGracePeriod: Duration.seconds(20), nodeMonitorPeriod: Duration.seconds(2), volumeAttach: Duration.seconds(5), reschedule: Duration.seconds(1) },
      expectedStartTime: Duration.seconds(3),
    });
    // heartbeat 20 + 2 x 1 beats NotReady 22 + 10 + 1
    expect(app.failoverBudget.nodeLossWithAutomation!.worstCaseSeconds).toBe(20 + 2 + 1 + 1 + 5 + 3 + 2 + 6);
    expect(findObject(manifests, 'Deployment').spec.replicas).toBe(3);
  });

  test('targets: met targets synthesize, missed targets fail synth with the computed numbers', () => {
    expect(() => synth({ liveness: PG_ISREADY, failoverTargets: { hungProcess: Duration.seconds(60) } })).not.toThrow();
    expect(() => synth({ liveness: PG_ISREADY, failoverTargets: { hungProcess: Duration.seconds(20) } }))
      .toThrow(/failoverTargets.hungProcess is 20 s but the settings promise 44 s \(detection 10 \+ last probe timeout 1/);
    expect(() => synth({ failoverTargets: { nodeLoss: Duration.minutes(5) } }))
      .toThrow(/failoverTargets.nodeLoss is 300 s but the settings promise no bound .*unbounded without nodeLossAutomation/);
    expect(() => withAutomation({}, { failoverTargets: { nodeLoss: Duration.seconds(70) } })).not.toThrow();
    expect(() => withAutomation({}, { failoverTargets: { nodeLoss: Duration.seconds(60) } }))
      .toThrow(/failoverTargets.nodeLoss is 60 s but the settings promise 70 s \(heartbeat silence 30 \+ controller checks 4/);
  });

  test('the budget renders as a Markdown table', () => {
    expect(withAutomation({}, { liveness: PG_ISREADY }).app.failoverBudget.toMarkdown()).toMatchSnapshot();
    expect(withAutomation().app.failoverBudget.toMarkdown()).toContain('| Hung process on a healthy node | unbounded | - |');
  });

  const bad: Array<[string, object, Partial<RwopStatefulAppProps>, RegExp]> = [
    ['no namespace anywhere', {}, { namespace: undefined }, /db: invalid namespace \(unset\): must be known at synth when nodeLossAutomation is on: set this prop or the chart's namespace/],
    ['heartbeat threshold below a kubelet renewal and a half', { heartbeatThreshold: Duration.seconds(10) }, {}, /db\/Failover: invalid heartbeatThreshold \(10 seconds\): must be a number of seconds from 15 to 3600/],
    ['heartbeat threshold without heartbeat detection', { heartbeatDetection: false, heartbeatThreshold: Duration.seconds(20) }, {}, /invalid heartbeatThreshold \(20 seconds\): has no effect with heartbeatDetection false/],
    ['renewDeadline >= lease', { renewDeadline: Duration.seconds(20) }, {}, /db\/Failover: invalid renewDeadline \(20 seconds\): must be shorter than the lease duration \(15 s\)/],
    ['retryPeriod >= renewDeadline', { retryPeriod: Duration.seconds(10) }, {}, /invalid retryPeriod \(10 seconds\): must be shorter than the renew deadline \(10 s\)/],
    ['check interval 0', { checkInterval: Duration.seconds(0) }, {}, /invalid checkInterval \(0 seconds\): must be a number of seconds greater than 0, at most 300/],
    ['fractional threshold', { heartbeatThreshold: Duration.millis(20500) }, {}, /invalid heartbeatThreshold \(20 seconds 500 millis\): must be a whole number of seconds/],
    ['action that is not a FailoverAction', { action: 'reboot' }, {}, /invalid action \("reboot"\): must be one of FailoverAction/],
    ['priority class not a name', { priorityClassName: 'Not A Name' }, {}, /invalid priorityClassName \("Not A Name"\): must be a DNS label/],
  ];
  test.each(bad)('bad input: %s', (_name, extra, props, message) => {
    expect(() => withAutomation(extra, props)).toThrow(message);
  });
});

describe('RwopStatefulApp bad input', () => {
  const cases: Array<[string, Partial<RwopStatefulAppProps>, RegExp]> = [
    ['replicas 2', { replicas: 2 }, /db: invalid replicas \(2\): must be 1: a ReadWriteOncePod volume can be used by one pod only/],
    ['access mode RWO', { accessMode: PersistentVolumeAccessMode.READ_WRITE_ONCE }, /invalid accessMode \("ReadWriteOnce"\): must be ReadWriteOncePod/],
    ['existing claim with size', { existingClaim: 'pvc', storageSize: Size.gibibytes(1) }, /invalid storageSize \(1048576 KiB\): cannot be combined with existingClaim/],
    ['size not whole MiB', { storageSize: Size.kibibytes(1500) }, /db: invalid storageSize \(1500 KiB\): must be a whole number of MiB/],
    ['grace 0', { terminationGracePeriod: Duration.seconds(0) }, /invalid terminationGracePeriod \(0 .*\): must be at least 1 s: with 0 an ordinary delete removes the pod object at once/],
    ['liveness successThreshold 2', { liveness: StatefulProbe.fromTcpSocket({ port: 5432, successThreshold: 2 }) }, /invalid liveness.successThreshold \(2\): must be 1 for a liveness probe/],
    ['startup successThreshold 3', { startup: StatefulProbe.fromTcpSocket({ port: 5432, successThreshold: 3 }) }, /invalid startup.successThreshold \(3\): must be 1 for a startup probe/],
    ['period 0', { liveness: StatefulProbe.fromTcpSocket({ port: 5432, period: Duration.seconds(0) }) }, /invalid liveness.period .*: must be a whole number of seconds, at least 1 s/],
    ['timeout 0.5 s', { readiness: StatefulProbe.fromTcpSocket({ port: 5432, timeout: Duration.millis(500) }) }, /invalid readiness.timeout .*: must be a whole number of seconds, at least 1 s/],
    ['readiness with probe grace', { readiness: StatefulProbe.fromTcpSocket({ port: 5432, terminationGracePeriod: Duration.seconds(3) }) }, /invalid readiness.terminationGracePeriod .*: is not allowed on a readiness probe/],
    ['probe port out of range', { liveness: StatefulProbe.fromTcpSocket({ port: 70000 }) }, /invalid liveness.port \(70000\): must be a whole number 1 to 65535/],
    ['fractional toleration', { nodeLossToleration: Duration.millis(1500) }, /invalid nodeLossToleration .*: must be a whole number of seconds, at least 0 s/],
    ['automation without acknowledgement', { nodeLossAutomation: { acknowledgeNodesAreFenced: false } }, /invalid acknowledgeNodesAreFenced \(false\): must be true to enable node-loss automation/],
    ['name not a DNS label', { name: 'My_DB' }, /invalid name \("My_DB"\): must be a DNS label/],
    ['name too long', { name: 'a'.repeat(53) }, /invalid name .*: must be a DNS label: at most 52 characters/],
    ['existing claim not a name', { existingClaim: 'Bad Claim' }, /invalid existingClaim \("Bad Claim"\): must be a DNS label/],
    ['port name too long', { ports: [{ name: 'a-very-long-port-name', port: 1 }] }, /invalid containers\[app\].ports\[\].name \("a-very-long-port-name"\): must be an IANA service name/],
    ['image with spaces', { image: 'postgres 16' }, /invalid containers\[app\].image \("postgres 16"\)/],
    ['storage class with existing claim', { existingClaim: 'pvc', storageClass: StorageClass.fromStorageClassName('fast') }, /invalid storageClass \("fast"\): cannot be combined with existingClaim/],
    ['request above limit', { resources: { memory: { request: Size.gibibytes(2), limit: Size.gibibytes(1) } } }, /invalid containers\[app\].resources.memory.request .*must not exceed the limit/],
  ];
  test.each(cases)('%s', (_name, props, message) => {
    expect(() => synth(props)).toThrow(message);
  });

  test('negative tolerations cannot even be expressed: cdk8s Duration refuses them', () => {
    expect(() => synth({ nodeLossToleration: Duration.seconds(-5) })).toThrow(/cannot be negative/);
  });

  test('hostPath volumes are refused because restricted pods cannot use them', () => {
    const chart = Testing.chart();
    expect(() => new RwopStatefulApp(chart, 'app', {
      image: 'busybox:1.36', volumes: [Volume.fromHostPath(chart, 'host', 'host', { path: '/var/lib' })],
    })).toThrow(/invalid volumes \("host"\): uses hostPath, which Pod Security Standards "restricted" forbids/);
  });
});
