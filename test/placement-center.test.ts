import { spawnSync } from 'child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { ApiObject, App, Chart, Duration, JsonPatch, Size, Testing } from 'cdk8s';
import { Cpu, EnvValue, PodManagementPolicy } from 'cdk8s-plus-28';
import { parse } from 'smol-toml';
import { DisruptionBudget, Probe, SpreadMode, StorageClass, StorageProvisioner } from '../src';
import {
  PlacementCenter, PlacementCenterProbes, PlacementCenterProps, PlacementCenterRollout,
} from '../src/placement-center';
import { findObject, synthValid } from './support/validate';

const GUIDE_COMMAND = ['/robustmq/libs/placement-center', '--conf', '/etc/robustmq/placement-center.toml'];
const GUIDE_SELECTOR = {
  'app': 'robustmq',
  'component': 'placement-center',
  'app.kubernetes.io/name': 'robustmq',
  'app.kubernetes.io/instance': 'placement-center',
  'app.kubernetes.io/component': 'placement-center',
};

function synth(props: PlacementCenterProps = {}) {
  const chart = Testing.chart();
  const pc = new PlacementCenter(chart, 'pc', props);
  const manifests = synthValid(chart);
  const sts = findObject(manifests, 'StatefulSet', pc.name);
  return { pc, chart, manifests, sts, spec: sts.spec.template.spec, container: sts.spec.template.spec.containers[0] };
}

function synthInNamespace(props: PlacementCenterProps, namespace: string) {
  const app = new App();
  const chart = new Chart(app, 'robustmq', { namespace });
  const pc = new PlacementCenter(chart, 'pc', props);
  const manifests = synthValid(chart);
  return { pc, manifests };
}

function tomlOf(manifests: any[]): any {
  return parse(findObject(manifests, 'ConfigMap').data['placement-center.toml']);
}

describe('PlacementCenter: the production guide contract', () => {
  test('GIVEN no props WHEN synthesized THEN the manifests match the snapshot', () => {
    expect(synth().manifests).toMatchSnapshot();
  });

  test('StatefulSet placement-center: 3 replicas, OrderedReady, RollingUpdate partition 0, headless Service placement-center-headless', () => {
    const { sts, manifests } = synth();
    expect(sts.metadata.name).toBe('placement-center');
    expect(sts.spec.replicas).toBe(3);
    expect(sts.spec.serviceName).toBe('placement-center-headless');
    expect(sts.spec.podManagementPolicy).toBe('OrderedReady');
    expect(sts.spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
    const svc = findObject(manifests, 'Service', 'placement-center-headless');
    expect(svc.spec.clusterIP).toBe('None');
    expect(svc.spec.publishNotReadyAddresses).toBe(true);
    expect(svc.spec.ports).toEqual([
      { name: 'grpc', port: 1228, targetPort: 'grpc', protocol: 'TCP' },
      { name: 'http', port: 1227, targetPort: 'http', protocol: 'TCP' },
    ]);
  });

  test('labels app=robustmq and component=placement-center on the StatefulSet, selector and pods, with the recommended labels', () => {
    const { sts, manifests } = synth();
    for (const labels of [sts.metadata.labels, sts.spec.template.metadata.labels]) {
      expect(labels).toMatchObject({ ...GUIDE_SELECTOR, 'app.kubernetes.io/part-of': 'robustmq', 'app.kubernetes.io/managed-by': 'cdk8s' });
    }
    expect(sts.spec.selector.matchLabels).toEqual(GUIDE_SELECTOR);
    expect(findObject(manifests, 'Service').spec.selector).toEqual(GUIDE_SELECTOR);
  });

  test('image, pull policy and the guide command, exec\'d by a node-id step', () => {
    const { container } = synth();
    expect(container.name).toBe('placement-center');
    expect(container.image).toBe('robustmq/placement-center:0.3.0');
    expect(container.imagePullPolicy).toBe('IfNotPresent');
    expect(container.command.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(container.command[2]).toMatch(/exec "\$@"$/);
    expect(container.command.slice(4)).toEqual(GUIDE_COMMAND);
  });

  test('ports grpc 1228 and http 1227 over TCP', () => {
    expect(synth().container.ports).toEqual([
      { name: 'grpc', containerPort: 1228, protocol: 'TCP' },
      { name: 'http', containerPort: 1227, protocol: 'TCP' },
    ]);
  });

  test('resources: requests cpu 500m / memory 512Mi, limits cpu 1000m / memory 1Gi', () => {
    expect(synth().container.resources).toEqual({
      requests: { cpu: '500m', memory: '512Mi' },
      limits: { cpu: '1000m', memory: '1Gi' },
    });
  });

  test('readiness GET /health/ready:1227 45/10/5/1/3 and liveness GET /health/alive:1227 90/30/15/1/5', () => {
    const { container } = synth();
    expect(container.readinessProbe).toEqual({
      httpGet: { path: '/health/ready', port: 1227 },
      initialDelaySeconds: 45, periodSeconds: 10, timeoutSeconds: 5, successThreshold: 1, failureThreshold: 3,
    });
    expect(container.livenessProbe).toEqual({
      httpGet: { path: '/health/alive', port: 1227 },
      initialDelaySeconds: 90, periodSeconds: 30, timeoutSeconds: 15, successThreshold: 1, failureThreshold: 5,
    });
    expect(container.startupProbe).toBeUndefined();
  });

  test('claim template data: ReadWriteOnce, 20Gi, StorageClass ssd, mounted at /robustmq/data and retained', () => {
    const { sts, container } = synth();
    expect(sts.spec.volumeClaimTemplates).toHaveLength(1);
    const claim = sts.spec.volumeClaimTemplates[0];
    expect(claim.metadata.name).toBe('data');
    expect(claim.spec).toEqual({ accessModes: ['ReadWriteOnce'], storageClassName: 'ssd', resources: { requests: { storage: '20Gi' } } });
    expect(container.volumeMounts).toContainEqual({ name: 'data', mountPath: '/robustmq/data' });
    expect(sts.spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: 'Retain', whenScaled: 'Retain' });
  });

  test('a ConfigMap with the TOML mounted read-only at /etc/robustmq', () => {
    const { pc, manifests, spec, container } = synth();
    const cm = findObject(manifests, 'ConfigMap', 'placement-center-config');
    expect(Object.keys(cm.data)).toEqual(['placement-center.toml']);
    expect(spec.volumes).toContainEqual({ name: 'config', configMap: { name: 'placement-center-config' } });
    expect(container.volumeMounts).toContainEqual({ name: 'config', mountPath: '/etc/robustmq', readOnly: true });
    expect(pc.configMapName).toBe('placement-center-config');
    expect(pc.configMap.kind).toBe('ConfigMap');
  });

  test('StorageClass ssd: gp3, iops "3000", throughput "125", expandable, Retain, through the EBS CSI driver', () => {
    const { pc, manifests } = synth();
    const sc = findObject(manifests, 'StorageClass', 'ssd');
    expect(sc.provisioner).toBe('ebs.csi.aws.com');
    expect(sc.parameters).toMatchObject({ type: 'gp3', iops: '3000', throughput: '125' });
    expect(sc.allowVolumeExpansion).toBe(true);
    expect(sc.reclaimPolicy).toBe('Retain');
    expect(sc.volumeBindingMode).toBe('WaitForFirstConsumer');
    expect(pc.storageClass?.storageClassName).toBe('ssd');
    expect(pc.storageClassName).toBe('ssd');
  });
});

describe('PlacementCenter: generated TOML', () => {
  test.each([3, 5])('with %i replicas it parses and lists every peer by its stable DNS name under ids 1..n', (replicas) => {
    const { pc, manifests } = synthInNamespace({ replicas }, 'mq');
    const toml = tomlOf(manifests);
    const expected: { [id: string]: string } = {};
    for (let i = 0; i < replicas; i++) {
      expected[String(i + 1)] = `placement-center-${i}.placement-center-headless.mq.svc.cluster.local:1228`;
    }
    expect(toml.node.nodes).toEqual(expected);
    expect(new Set(Object.values(toml.node.nodes)).size).toBe(replicas);
    expect(pc.peerAddresses).toEqual(Object.values(expected));
    expect(toml).toMatchObject({
      cluster_name: 'placement-center',
      node: { node_id: 1 },
      network: { local_ip: '0.0.0.0', grpc_port: 1228, http_port: 1227 },
      rocksdb: { data_path: '/robustmq/data' },
      log: { log_path: '/robustmq/logs' },
    });
    expect(pc.tomlConfig).toBe(findObject(manifests, 'ConfigMap').data['placement-center.toml']);
  });

  test.each([3, 5])('with %i replicas every member effectively runs with its own id, ordinal + 1, and the same peers', (replicas) => {
    const { pc } = synth({ replicas });
    const configs = Array.from({ length: replicas }, (_, ordinal) => parse(pc.effectiveConfig(ordinal)) as any);
    const ids = configs.map((c) => c.node.node_id);
    expect(ids).toEqual(Array.from({ length: replicas }, (_, i) => i + 1));
    expect(new Set(ids).size).toBe(replicas);
    for (const c of configs) {
      expect(c.node.nodes).toEqual(configs[0].node.nodes);
      expect(Object.keys(c.node.nodes)).toContain(String(c.node.node_id));
    }
    expect(pc.raftNodeId(replicas - 1)).toBe(replicas);
  });

  test('typed props reach the TOML; additionalConfig merges into the sections', () => {
    const { manifests, container } = synth({
      clusterName: 'prod-meta', grpcPort: 9228, httpPort: 9227, clusterDomain: 'corp.local',
      additionalConfig: { heartbeat: { heartbeat_timeout_ms: 30000 }, rocksdb: { max_open_files: 10000 }, network: { local_ip: '::' } },
    });
    const toml = tomlOf(manifests);
    expect(toml.cluster_name).toBe('prod-meta');
    expect(toml.network).toEqual({ local_ip: '::', grpc_port: 9228, http_port: 9227 });
    expect(toml.rocksdb).toEqual({ data_path: '/robustmq/data', max_open_files: 10000 });
    expect(toml.heartbeat).toEqual({ heartbeat_timeout_ms: 30000 });
    expect(toml.node.nodes['2']).toBe('placement-center-1.placement-center-headless.default.svc.corp.local:9228');
    expect(container.ports.map((p: any) => p.containerPort)).toEqual([9228, 9227]);
    expect(container.readinessProbe.httpGet.port).toBe(9227);
  });

  test('the pod template carries the SHA-256 of the TOML, so a config change rolls the members', () => {
    const a = synth().sts.spec.template.metadata.annotations['checksum/config'];
    const b = synth({ clusterName: 'other' }).sts.spec.template.metadata.annotations['checksum/config'];
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(b).not.toBe(a);
  });

  test('the namespace of the chart is used in the peer names and on every namespaced object', () => {
    const { pc, manifests } = synthInNamespace({}, 'robustmq');
    expect(pc.namespace).toBe('robustmq');
    expect(pc.peerAddresses[0]).toBe('placement-center-0.placement-center-headless.robustmq.svc.cluster.local:1228');
    for (const kind of ['Service', 'StatefulSet', 'ConfigMap', 'PodDisruptionBudget']) {
      expect(findObject(manifests, kind).metadata.namespace).toBe('robustmq');
    }
  });

  test('a namespace prop wins over the chart default and renames the peers', () => {
    const { pc, manifests } = synth({ namespace: 'meta', name: 'meta-pc' });
    expect(pc.headlessServiceName).toBe('meta-pc-headless');
    expect(tomlOf(manifests).node.nodes['1']).toBe('meta-pc-0.meta-pc-headless.meta.svc.cluster.local:1228');
    expect(findObject(manifests, 'ConfigMap').metadata).toMatchObject({ name: 'meta-pc-config', namespace: 'meta' });
  });
});

describe('PlacementCenter: per-pod node id', () => {
  let dir: string;
  let fake: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'placement-center-'));
    fake = join(dir, 'placement-center');
    // stands in for the binary: shows what the real process would see
    writeFileSync(fake, '#!/bin/sh\necho "pid=$$"\necho "node_id=$PLACEMENT_CENTER_NODE_NODE_ID"\necho "args=$*"\n');
    chmodSync(fake, 0o755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function runWrapper(env: { [key: string]: string }) {
    const [sh, flag, script, argv0, , ...args] = synth().container.command;
    const result = spawnSync(sh, [flag, script, argv0, fake, ...args], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, encoding: 'utf8' });
    const out = Object.fromEntries(result.stdout.trim().split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    return { result, out };
  }

  test('the pod gets POD_INDEX from the pod-index label and POD_NAME from the downward API, no fixed node id', () => {
    const env = synth().container.env;
    expect(env).toEqual([
      { name: 'POD_INDEX', valueFrom: { fieldRef: { fieldPath: "metadata.labels['apps.kubernetes.io/pod-index']" } } },
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    ]);
  });

  test.each([0, 1, 2, 3, 4])('ordinal %i runs the binary itself (exec) with node id ordinal + 1 and the guide arguments', (ordinal) => {
    const { result, out } = runWrapper({ POD_INDEX: String(ordinal), POD_NAME: `placement-center-${ordinal}` });
    expect(result.status).toBe(0);
    expect(out.node_id).toBe(String(ordinal + 1));
    expect(out.args).toBe(GUIDE_COMMAND.slice(1).join(' '));
    expect(out.pid).toBe(String(result.pid));
  });

  test.each([0, 4])('without the pod-index label (clusters before 1.28) ordinal %i is read from the pod name', (ordinal) => {
    const { result, out } = runWrapper({ POD_INDEX: '', POD_NAME: `placement-center-${ordinal}` });
    expect(result.status).toBe(0);
    expect(out.node_id).toBe(String(ordinal + 1));
  });

  test('a pod name without an ordinal stops the pod with a message instead of starting with a wrong id', () => {
    const { result } = runWrapper({ POD_INDEX: '', POD_NAME: 'placement-center' });
    expect(result.status).toBe(64);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/cannot derive the pod ordinal \(POD_INDEX='', POD_NAME='placement-center'\)/);
  });
});

describe('PlacementCenter: staged rollouts', () => {
  test('the guide phases for 3 replicas: partition 2 (ordinal 2), 1 (ordinals 1, 2), 0 (all)', () => {
    const phases = PlacementCenter.stagedRollout(3);
    expect(phases.map((p) => [p.phase, p.partition, p.updatedOrdinals])).toEqual([
      [1, 2, [2]],
      [2, 1, [1, 2]],
      [3, 0, [0, 1, 2]],
    ]);
    expect(phases[0].description).toBe('phase 1: partition 2 updates ordinal 2; ordinals 0-1 keep the old revision');
    expect(phases[1].description).toBe('phase 2: partition 1 updates ordinals 1, 2; ordinals 0 keep the old revision');
    expect(phases[2].description).toBe('phase 3: partition 0 updates ordinals 0, 1, 2; every member is on the new revision');
  });

  test('5 replicas go one member at a time: partition 4, 3, 2, 1, 0', () => {
    expect(PlacementCenter.stagedRollout(5).map((p) => p.partition)).toEqual([4, 3, 2, 1, 0]);
    expect(synth({ replicas: 5 }).pc.rolloutPhases.map((p) => p.partition)).toEqual([4, 3, 2, 1, 0]);
  });

  test('passing each phase\'s rollout renders its partition', () => {
    for (const phase of PlacementCenter.stagedRollout(3)) {
      const { sts, pc } = synth({ rollout: phase.rollout });
      expect(sts.spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { partition: phase.partition } });
      expect(pc.partition).toBe(phase.partition);
    }
  });

  test('canary counts members from the highest ordinal; partition is taken as given, up to replicas (hold every pod)', () => {
    expect(synth({ replicas: 5, rollout: PlacementCenterRollout.canary(2) }).pc.partition).toBe(3);
    expect(synth({ rollout: PlacementCenterRollout.partition(3) }).sts.spec.updateStrategy.rollingUpdate.partition).toBe(3);
    expect(synth({ rollout: PlacementCenterRollout.all() }).pc.partition).toBe(0);
  });
});

describe('PlacementCenter: quorum protection and spread', () => {
  test.each([[3, 1], [5, 1], [7, 1]])('with %i members the budget allows %i unavailable: never more than one member, so a majority stays up', (replicas, max) => {
    const { manifests } = synth({ replicas });
    const pdb = findObject(manifests, 'PodDisruptionBudget', 'placement-center');
    expect(pdb.spec).toEqual({ maxUnavailable: max, selector: { matchLabels: GUIDE_SELECTOR } });
    expect(replicas - max).toBeGreaterThan(replicas / 2);
  });

  test('non-HA counts must be asked for; their budget allows no disruption (1 of 1, 1 of 2 or 2 of 4 would lose the majority)', () => {
    expect(findObject(synth({ replicas: 1, allowNonHaReplicas: true }).manifests, 'PodDisruptionBudget').spec.maxUnavailable).toBe(0);
    expect(findObject(synth({ replicas: 2, allowNonHaReplicas: true }).manifests, 'PodDisruptionBudget').spec.maxUnavailable).toBe(0);
    expect(findObject(synth({ replicas: 4, allowNonHaReplicas: true }).manifests, 'PodDisruptionBudget').spec.maxUnavailable).toBe(1);
    expect(findObject(synth({ replicas: 5, disruptionBudget: DisruptionBudget.maxUnavailable(2) }).manifests, 'PodDisruptionBudget').spec.maxUnavailable).toBe(2);
  });

  test('a stricter budget is accepted; a non-HA setup may accept any budget', () => {
    expect(findObject(synth({ replicas: 5, disruptionBudget: DisruptionBudget.maxUnavailable(1) }).manifests, 'PodDisruptionBudget').spec.maxUnavailable).toBe(1);
    expect(findObject(synth({ disruptionBudget: DisruptionBudget.minAvailable(2) }).manifests, 'PodDisruptionBudget').spec.minAvailable).toBe(2);
    expect(findObject(synth({ replicas: 1, allowNonHaReplicas: true, disruptionBudget: DisruptionBudget.maxUnavailable(1) }).manifests, 'PodDisruptionBudget').spec.maxUnavailable).toBe(1);
  });

  test('members prefer different nodes by default', () => {
    expect(synth().spec.affinity).toEqual({
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [{
          weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: GUIDE_SELECTOR } },
        }],
      },
    });
    expect(synth().spec.topologySpreadConstraints).toBeUndefined();
  });

  test('GIVEN 5 replicas with required node and zone spread WHEN synthesized THEN the snapshot and the rules match', () => {
    const { manifests, spec } = synth({ replicas: 5, scheduling: { nodeSpread: SpreadMode.REQUIRED, zoneSpread: SpreadMode.REQUIRED } });
    expect(manifests).toMatchSnapshot();
    expect(spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution).toEqual([
      { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: GUIDE_SELECTOR } },
    ]);
    expect(spec.topologySpreadConstraints).toEqual([{
      maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: GUIDE_SELECTOR },
    }]);
    expect(findObject(manifests, 'PodDisruptionBudget').spec.maxUnavailable).toBe(1);
  });

  test('preferred zone spread schedules anyway; Parallel pod management can be chosen', () => {
    const { spec, sts } = synth({ scheduling: { zoneSpread: SpreadMode.PREFERRED }, podManagementPolicy: PodManagementPolicy.PARALLEL });
    expect(spec.topologySpreadConstraints[0].whenUnsatisfiable).toBe('ScheduleAnyway');
    expect(spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution).toHaveLength(1);
    expect(sts.spec.podManagementPolicy).toBe('Parallel');
  });
});

describe('PlacementCenter: probes for current releases', () => {
  test('GIVEN currentRelease probes WHEN synthesized THEN both check the gRPC port over TCP with the guide timings', () => {
    const { manifests, container } = synth({ probes: PlacementCenterProbes.currentRelease() });
    expect(manifests).toMatchSnapshot();
    expect(container.readinessProbe).toEqual({
      tcpSocket: { port: 1228 }, initialDelaySeconds: 45, periodSeconds: 10, timeoutSeconds: 5, successThreshold: 1, failureThreshold: 3,
    });
    expect(container.livenessProbe).toEqual({
      tcpSocket: { port: 1228 }, initialDelaySeconds: 90, periodSeconds: 30, timeoutSeconds: 15, successThreshold: 1, failureThreshold: 5,
    });
  });

  test('with adminPort, readiness asks the admin server\'s /health/ready and the port is published', () => {
    const { container, manifests } = synth({ probes: PlacementCenterProbes.currentRelease(), adminPort: 58080 });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/health/ready', port: 58080 });
    expect(container.livenessProbe.tcpSocket).toEqual({ port: 1228 });
    expect(container.ports).toContainEqual({ name: 'admin', containerPort: 58080, protocol: 'TCP' });
    expect(findObject(manifests, 'Service').spec.ports.map((p: any) => p.name)).toEqual(['grpc', 'http', 'admin']);
  });

  test('custom probes keep the guide timings they do not set; unset probes are not rendered', () => {
    const { container } = synth({
      probes: PlacementCenterProbes.custom({
        liveness: Probe.fromTcpSocket({ port: 1228, failureThreshold: 8 }),
        startup: Probe.fromTcpSocket({ port: 1228, period: Duration.seconds(5), failureThreshold: 60 }),
      }),
    });
    expect(container.livenessProbe).toEqual({
      tcpSocket: { port: 1228 }, initialDelaySeconds: 90, periodSeconds: 30, timeoutSeconds: 15, successThreshold: 1, failureThreshold: 8,
    });
    expect(container.startupProbe).toEqual({
      tcpSocket: { port: 1228 }, initialDelaySeconds: 0, periodSeconds: 5, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 60,
    });
    expect(container.readinessProbe).toBeUndefined();
  });
});

describe('PlacementCenter: storage', () => {
  test('GIVEN an existing StorageClass name WHEN synthesized THEN no class is created and the claims use it', () => {
    const { manifests, sts, pc } = synth({ storageClass: StorageClass.fromStorageClassName('gp3-retain'), storageSize: Size.gibibytes(50) });
    expect(manifests).toMatchSnapshot();
    expect(manifests.filter((m) => m.kind === 'StorageClass')).toHaveLength(0);
    expect(sts.spec.volumeClaimTemplates[0].spec).toMatchObject({ storageClassName: 'gp3-retain', resources: { requests: { storage: '50Gi' } } });
    expect(pc.storageClass).toBeUndefined();
    expect(pc.storageClassName).toBe('gp3-retain');
  });

  test('a StorageClass built elsewhere is used as is', () => {
    const chart = Testing.chart();
    const fast = new StorageClass(chart, 'fast', { name: 'fast', provisioner: StorageProvisioner.gcePd() });
    new PlacementCenter(chart, 'pc', { storageClass: fast });
    const manifests = synthValid(chart);
    expect(manifests.filter((m) => m.kind === 'StorageClass').map((m) => m.metadata.name)).toEqual(['fast']);
    expect(findObject(manifests, 'StatefulSet').spec.volumeClaimTemplates[0].spec.storageClassName).toBe('fast');
  });
});

describe('PlacementCenter: security and extension', () => {
  test('pods pass Pod Security Standards restricted with a numeric non-root user and a read-only root', () => {
    const { spec, container } = synth();
    expect(spec.securityContext).toEqual({
      runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, fsGroupChangePolicy: 'OnRootMismatch',
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, runAsNonRoot: true,
      capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' },
    });
    const writable = container.volumeMounts.filter((m: any) => m.name.startsWith('writable-')).map((m: any) => m.mountPath);
    expect(writable).toEqual(['/robustmq/logs', '/tmp']);
    expect(spec.automountServiceAccountToken).toBe(false);
  });

  test('the user can match the image\'s own account', () => {
    expect(synth({ security: { runAsUser: 999 } }).spec.securityContext).toMatchObject({ runAsUser: 999, runAsGroup: 999, fsGroup: 999 });
  });

  test('image, command, env and resources are overridable', () => {
    const { container } = synth({
      image: 'registry.example/robustmq/placement-center:0.3.1',
      command: ['/opt/pc/placement-center', '--conf', '/etc/robustmq/placement-center.toml'],
      env: { RUST_LOG: EnvValue.fromValue('info') },
      resources: { cpu: { request: Cpu.millis(250) }, memory: { request: Size.mebibytes(256), limit: Size.mebibytes(768) } },
    });
    expect(container.image).toBe('registry.example/robustmq/placement-center:0.3.1');
    expect(container.command.slice(4)).toEqual(['/opt/pc/placement-center', '--conf', '/etc/robustmq/placement-center.toml']);
    expect(container.env).toContainEqual({ name: 'RUST_LOG', value: 'info' });
    expect(container.resources).toEqual({ requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '768Mi' } });
  });

  test('the generated objects are exposed and the escape hatch works on them', () => {
    const chart = Testing.chart();
    const pc = new PlacementCenter(chart, 'pc');
    ApiObject.of(pc.statefulSet).addJsonPatch(JsonPatch.add('/spec/minReadySeconds', 10));
    pc.headlessService.metadata.addAnnotation('example.com/owner', 'platform');
    const manifests = synthValid(chart);
    expect(findObject(manifests, 'StatefulSet').spec.minReadySeconds).toBe(10);
    expect(findObject(manifests, 'Service').metadata.annotations).toEqual({ 'example.com/owner': 'platform' });
    expect(pc.podDisruptionBudget.kind).toBe('PodDisruptionBudget');
    expect(pc.workload.replicas).toBe(3);
    expect(pc.headlessServiceName).toBe('placement-center-headless');
    expect(pc.replicas).toBe(3);
  });
});

describe('PlacementCenter: bad input', () => {
  const cases: Array<[string, PlacementCenterProps, RegExp]> = [
    ['2 replicas', { replicas: 2 }, /pc: invalid replicas \(2\): must be an odd number of at least 3: Raft needs a majority \(2 of 2\) to elect a leader and commit, so 2 members cannot survive the loss of any member; set allowNonHaReplicas: true/],
    ['1 replica', { replicas: 1 }, /invalid replicas \(1\): .*majority \(1 of 1\).*so 1 member cannot survive the loss of any member/],
    ['4 replicas', { replicas: 4 }, /invalid replicas \(4\): must be an odd number of at least 3: Raft needs a majority \(3 of 4\) to elect a leader and commit, so 4 members survive no more failures \(1\) than 3 do/],
    ['0 replicas', { replicas: 0, allowNonHaReplicas: true }, /invalid replicas \(0\): must be a whole number 1 to 2147483647 \(int32\)/],
    ['fractional replicas', { replicas: 3.5 }, /invalid replicas \(3.5\): must be a whole number 1 to 2147483647 \(int32\)/],
    ['partition above replicas', { rollout: PlacementCenterRollout.partition(4) }, /invalid rollout.partition \(4\): must be a whole number 0 to 3/],
    ['negative partition', { rollout: PlacementCenterRollout.partition(-1) }, /invalid rollout.partition \(-1\): must be a whole number 0 to 3/],
    ['canary of no member', { rollout: PlacementCenterRollout.canary(0) }, /invalid rollout.canary \(0\): must be a whole number 1 to 3/],
    ['canary above replicas', { rollout: PlacementCenterRollout.canary(4) }, /invalid rollout.canary \(4\): must be a whole number 1 to 3/],
    ['http port on the grpc port', { httpPort: 1228 }, /invalid httpPort \(1228\): clashes with grpcPort \(1228\): each port needs its own number/],
    ['admin port on the http port', { adminPort: 1227 }, /invalid adminPort \(1227\): clashes with httpPort \(1227\)/],
    ['grpc port out of range', { grpcPort: 70000 }, /invalid grpcPort \(70000\): must be a whole number 1 to 65535/],
    ['storage size not whole MiB', { storageSize: Size.kibibytes(1500) }, /invalid storageSize \(1500 KiB\): must be a whole number of MiB/],
    ['memory not whole MiB', { resources: { memory: { request: Size.kibibytes(100) } } }, /invalid containers\[placement-center\].resources.memory.request \(100 KiB\): must be a whole number of MiB/],
    ['request above limit', { resources: { memory: { request: Size.gibibytes(2), limit: Size.gibibytes(1) } } }, /resources.memory.request .*must not exceed the limit/],
    ['liveness successThreshold 2', { probes: PlacementCenterProbes.custom({ liveness: Probe.fromTcpSocket({ port: 1228, successThreshold: 2 }) }) }, /invalid probes.liveness.successThreshold \(2\): must be 1 for a liveness probe/],
    ['period 0', { probes: PlacementCenterProbes.custom({ readiness: Probe.fromTcpSocket({ port: 1228, period: Duration.seconds(0) }) }) }, /invalid probes.readiness.period .*: must be a whole number of seconds, at least 1 s/],
    ['timeout 500 ms', { probes: PlacementCenterProbes.custom({ liveness: Probe.fromTcpSocket({ port: 1228, timeout: Duration.millis(500) }) }) }, /invalid probes.liveness.timeout .*: must be a whole number of seconds, at least 1 s/],
    ['failureThreshold 0', { probes: PlacementCenterProbes.custom({ readiness: Probe.fromTcpSocket({ port: 1228, failureThreshold: 0 }) }) }, /invalid probes.readiness.failureThreshold \(0\): must be a whole number 1 to 2147483647 \(int32\)/],
    ['readiness with probe grace', { probes: PlacementCenterProbes.custom({ readiness: Probe.fromTcpSocket({ port: 1228, terminationGracePeriod: Duration.seconds(5) }) }) }, /invalid probes.readiness.terminationGracePeriod .*: is not allowed on a readiness probe/],
    ['relative probe path', { probes: PlacementCenterProbes.custom({ readiness: Probe.fromHttpGet('health', { port: 1227 }) }) }, /invalid probes.readiness.path \("health"\): must be an absolute HTTP path/],
    ['probe on an unpublished port', { probes: PlacementCenterProbes.custom({ readiness: Probe.fromHttpGet('/health/ready', { port: 58080 }) }) }, /invalid probes.readiness.port \(58080\): must be a port of the container \(grpcPort 1228, httpPort 1227\); set adminPort/],
    ['name not a DNS label', { name: 'Placement_Center' }, /invalid name \("Placement_Center"\): must be a DNS label/],
    ['name too long', { name: 'p'.repeat(53) }, /invalid name .*: must be a DNS label: at most 52 characters/],
    ['bad cluster domain', { clusterDomain: 'Cluster Local' }, /invalid clusterDomain \("Cluster Local"\): must be a DNS subdomain/],
    ['bad namespace', { namespace: 'Robust MQ' }, /invalid namespace \("Robust MQ"\): must be a DNS label/],
    ['budget that loses the majority', { replicas: 5, disruptionBudget: DisruptionBudget.maxUnavailable(3) }, /invalid disruptionBudget.maxUnavailable \(3\): lets voluntary disruptions take 3 of 5 members, but Raft needs 3 up for a majority; use maxUnavailable <= 2 or minAvailable >= 3/],
    ['minAvailable below the majority', { disruptionBudget: DisruptionBudget.minAvailable(1) }, /invalid disruptionBudget.minAvailable \(1\): lets voluntary disruptions take 2 of 3 members/],
    ['config key the construct owns', { additionalConfig: { node: { node_id: 7 } } }, /invalid additionalConfig.node.node_id \(7\): is set by the construct \(ordinal \+ 1 per pod\)/],
    ['config port the props own', { additionalConfig: { network: { grpc_port: 1 } } }, /invalid additionalConfig.network.grpc_port \(1\): is set by the grpcPort prop/],
    ['config replacing a table', { additionalConfig: { network: 'host' } }, /invalid additionalConfig.network \("host"\): must be a table: the construct renders \[network\] with keys local_ip, grpc_port, http_port/],
    ['config null', { additionalConfig: { heartbeat: { heartbeat_timeout_ms: null } } }, /invalid additionalConfig.heartbeat.heartbeat_timeout_ms \(null\): must be a TOML value/],
    ['config not TOML', { additionalConfig: { system: { hook: () => 1 } } }, /invalid additionalConfig \(\["system"\]\): must hold only TOML values: cannot serialize values of type 'function'/],
    ['empty cluster name', { clusterName: ' ' }, /invalid clusterName \(" "\): must be a non-empty name/],
    ['env the construct sets', { env: { PLACEMENT_CENTER_NODE_NODE_ID: EnvValue.fromValue('1') } }, /invalid env \("PLACEMENT_CENTER_NODE_NODE_ID"\): is set by the construct/],
    ['empty command', { command: [] }, /invalid command \(\[\]\): must name the placement-center binary/],
    ['image with spaces', { image: 'robustmq/placement-center 0.3.0' }, /invalid containers\[placement-center\].image \("robustmq\/placement-center 0.3.0"\)/],
  ];
  test.each(cases)('%s', (_name, props, message) => {
    expect(() => synth(props)).toThrow(message);
  });

  test('ordinals outside the StatefulSet are refused', () => {
    const { pc } = synth();
    expect(() => pc.effectiveConfig(3)).toThrow(/pc: invalid ordinal \(3\): must be a whole number 0 to 2/);
    expect(() => pc.raftNodeId(-1)).toThrow(/invalid ordinal \(-1\)/);
  });

  test('stagedRollout needs at least one replica', () => {
    expect(() => PlacementCenter.stagedRollout(0)).toThrow(/PlacementCenter.stagedRollout: invalid replicas \(0\): must be a whole number >= 1/);
  });
});
