import { spawnSync } from 'child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { ApiObject, App, Chart, Duration, JsonPatch, Size, Testing } from 'cdk8s';
import { Cpu, EnvValue, PodManagementPolicy } from 'cdk8s-plus-28';
import { parse } from 'smol-toml';
import { DisruptionBudget, StatefulProbe, SpreadMode, StorageClass, StorageProvisioner } from '../src';
import {
  PlacementCenter, PlacementCenterProbes, PlacementCenterProps, PlacementCenterRollout,
} from '../src/placement-center';
import { PlacementCenterRelease } from '../src/placement-center-release';
import { findObject, synthValid } from './support/validate';

const COMMAND = ['/robustmq/libs/broker-server', '--conf', '/etc/robustmq/server.toml'];
const LEGACY_COMMAND = ['/robustmq/libs/placement-center', '--conf', '/etc/robustmq/placement-center.toml'];
const LEGACY = { release: PlacementCenterRelease.legacyPlacementCenter('0.1.28'), image: 'registry.example/robustmq/placement-center:0.1.28' };
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

function tomlOf(manifests: any[], file = 'server.toml'): any {
  return parse(findObject(manifests, 'ConfigMap').data[file]);
}

/** Every key path of a parsed TOML document, with its value (tables are walked, their leaves listed). */
function leaves(table: any, path: string[] = []): Array<[string[], unknown]> {
  return Object.entries(table).flatMap(([key, value]): Array<[string[], unknown]> =>
    (typeof value === 'object' && value !== null && !Array.isArray(value) && !['meta_addrs', 'nodes'].includes(key)
      ? leaves(value, [...path, key]) : [[[...path, key], value]]));
}

describe('PlacementCenter: defaults, the production settings on RobustMQ v0.4.11', () => {
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
      { name: 'http', port: 58080, targetPort: 'http', protocol: 'TCP' },
      { name: 'engine', port: 1778, targetPort: 'engine', protocol: 'TCP' },
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

  test('the pinned v0.4.11 image and its broker-server with the mounted configuration, exec\'d by a node-id step', () => {
    const { container, pc } = synth();
    expect(container.name).toBe('placement-center');
    expect(container.image).toBe('ghcr.io/robustmq/robustmq:v0.4.11');
    expect(container.imagePullPolicy).toBe('IfNotPresent');
    expect(container.command.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(container.command[2]).toMatch(/exec "\$@"$/);
    expect(container.command.slice(4)).toEqual(COMMAND);
    expect(container.args).toBeUndefined();
    expect(pc.release.version).toBe('0.4.11');
  });

  test('ports grpc 1228, http 58080 (the admin HTTP API) and engine 1778 over TCP', () => {
    expect(synth().container.ports).toEqual([
      { name: 'grpc', containerPort: 1228, protocol: 'TCP' },
      { name: 'http', containerPort: 58080, protocol: 'TCP' },
      { name: 'engine', containerPort: 1778, protocol: 'TCP' },
    ]);
  });

  test('resources: requests cpu 500m / memory 512Mi, limits cpu 1000m / memory 1Gi', () => {
    expect(synth().container.resources).toEqual({
      requests: { cpu: '500m', memory: '512Mi' },
      limits: { cpu: '1000m', memory: '1Gi' },
    });
  });

  test('readiness and liveness connect to the gRPC port 1228 with the guide timings 45/10/5/1/3 and 90/30/15/1/5', () => {
    const { container } = synth();
    expect(container.readinessProbe).toEqual({
      tcpSocket: { port: 1228 },
      initialDelaySeconds: 45, periodSeconds: 10, timeoutSeconds: 5, successThreshold: 1, failureThreshold: 3,
    });
    expect(container.livenessProbe).toEqual({
      tcpSocket: { port: 1228 },
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

  test('a ConfigMap with the server and logging configuration mounted read-only at /etc/robustmq', () => {
    const { pc, manifests, spec, container } = synth();
    const cm = findObject(manifests, 'ConfigMap', 'placement-center-config');
    expect(Object.keys(cm.data).sort()).toEqual(['logger.toml', 'server.toml']);
    expect(cm.data['logger.toml']).toBe(pc.loggerConfig);
    expect(parse(pc.loggerConfig)).toEqual({ stdout: { kind: 'console', level: 'info' } });
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
    expect(toml.meta_addrs).toEqual(expected);
    expect(new Set(Object.values(toml.meta_addrs)).size).toBe(replicas);
    expect(pc.peerAddresses).toEqual(Object.values(expected));
    expect(toml).toEqual({
      cluster_name: 'placement-center',
      broker_id: 1,
      broker_ip: 'placement-center-0.placement-center-headless.mq.svc.cluster.local',
      roles: ['meta', 'engine'],
      grpc_port: 1228,
      http_port: 58080,
      data_path: '/robustmq/data',
      meta_addrs: expected,
      log: { log_config: '/etc/robustmq/logger.toml', log_path: '/robustmq/logs' },
      storage_runtime: { tcp_port: 1778, data_path: ['/robustmq/data/engine'] },
    });
    expect(pc.tomlConfig).toBe(findObject(manifests, 'ConfigMap').data['server.toml']);
  });

  test.each([3, 5])('with %i replicas every member effectively runs with its own id, ordinal + 1, and the same peers', (replicas) => {
    const { pc } = synth({ replicas });
    const configs = Array.from({ length: replicas }, (_, ordinal) => parse(pc.effectiveConfig(ordinal)) as any);
    const ids = configs.map((c) => c.broker_id);
    expect(ids).toEqual(Array.from({ length: replicas }, (_, i) => i + 1));
    expect(new Set(ids).size).toBe(replicas);
    for (const c of configs) {
      expect(c.meta_addrs).toEqual(configs[0].meta_addrs);
      // a member advertises the address its peers know it by
      expect(c.meta_addrs[String(c.broker_id)]).toBe(`${c.broker_ip}:1228`);
    }
    expect(pc.raftNodeId(replicas - 1)).toBe(replicas);
  });

  test('typed props reach the TOML, the ports and the probes; additionalConfig merges into the tables', () => {
    const { manifests, container } = synth({
      clusterName: 'prod-meta', grpcPort: 9228, httpPort: 9080, clusterDomain: 'corp.local',
      additionalConfig: {
        meta_runtime: { heartbeat_timeout_ms: 30000 },
        storage_runtime: { io_thread_num: 4 },
        admin: { username: 'ops' },
        mqtt_runtime: { limit: { tenant: { max_topics: 1000 } } },
        runtime: { pprof_enable: false },
      },
    });
    const toml = tomlOf(manifests);
    expect(toml.cluster_name).toBe('prod-meta');
    expect([toml.grpc_port, toml.http_port]).toEqual([9228, 9080]);
    expect(toml.meta_runtime).toEqual({ heartbeat_timeout_ms: 30000 });
    expect(toml.storage_runtime).toEqual({ tcp_port: 1778, data_path: ['/robustmq/data/engine'], io_thread_num: 4 });
    expect(toml.admin).toEqual({ username: 'ops' });
    expect(toml.mqtt_runtime).toEqual({ limit: { tenant: { max_topics: 1000 } } });
    expect(toml.runtime).toEqual({ pprof_enable: false });
    expect(toml.meta_addrs['2']).toBe('placement-center-1.placement-center-headless.default.svc.corp.local:9228');
    expect(container.ports.map((p: any) => p.containerPort)).toEqual([9228, 9080, 1778]);
    expect(container.readinessProbe.tcpSocket.port).toBe(9228);
    expect(container.livenessProbe.tcpSocket.port).toBe(9228);
    expect(container.env).toContainEqual({ name: 'ROBUST_MQ_SERVER_BROKER_IP', value: '"$(POD_NAME).placement-center-headless.default.svc.corp.local"' });
  });

  test('broker_id and broker_ip come before the first table: the release overrides only keys it finds there as top-level keys', () => {
    const { pc } = synth();
    const firstTable = pc.tomlConfig.split('\n').findIndex((l) => l.startsWith('['));
    const lines = pc.tomlConfig.split('\n').slice(0, firstTable);
    expect(lines).toContain('broker_id = 1');
    expect(lines).toContain('broker_ip = "placement-center-0.placement-center-headless.default.svc.cluster.local"');
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
    expect(tomlOf(manifests).meta_addrs['1']).toBe('meta-pc-0.meta-pc-headless.meta.svc.cluster.local:1228');
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
    writeFileSync(fake, [
      '#!/bin/sh',
      'echo "pid=$$"',
      'echo "broker_id=${ROBUST_MQ_SERVER_BROKER_ID:-}"',
      'echo "node_id=${PLACEMENT_CENTER_NODE_NODE_ID:-}"',
      'echo "args=$*"',
      '',
    ].join('\n'));
    chmodSync(fake, 0o755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function runWrapper(env: { [key: string]: string }, props: PlacementCenterProps = {}) {
    const [sh, flag, script, argv0, , ...args] = synth(props).container.command;
    const result = spawnSync(sh, [flag, script, argv0, fake, ...args], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, encoding: 'utf8' });
    const out = Object.fromEntries(result.stdout.trim().split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    return { result, out };
  }

  test('the pod gets POD_INDEX from the pod-index label, POD_NAME from the downward API, and its broker_ip from POD_NAME', () => {
    const env = synth().container.env;
    expect(env).toEqual([
      { name: 'POD_INDEX', valueFrom: { fieldRef: { fieldPath: "metadata.labels['apps.kubernetes.io/pod-index']" } } },
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      // Kubernetes expands $(POD_NAME) because it is defined earlier; the quotes make it a TOML string
      { name: 'ROBUST_MQ_SERVER_BROKER_IP', value: '"$(POD_NAME).placement-center-headless.default.svc.cluster.local"' },
    ]);
  });

  test.each([0, 1, 2, 3, 4])('ordinal %i runs the binary itself (exec) with broker_id ordinal + 1 and the release\'s arguments', (ordinal) => {
    const { result, out } = runWrapper({ POD_INDEX: String(ordinal), POD_NAME: `placement-center-${ordinal}` });
    expect(result.status).toBe(0);
    expect(out.broker_id).toBe(String(ordinal + 1));
    expect(out.node_id).toBe('');
    expect(out.args).toBe(COMMAND.slice(1).join(' '));
    expect(out.pid).toBe(String(result.pid));
  });

  test.each([0, 2])('on the legacy release ordinal %i gets PLACEMENT_CENTER_NODE_NODE_ID = ordinal + 1 and the placement-center arguments', (ordinal) => {
    const { result, out } = runWrapper({ POD_INDEX: String(ordinal), POD_NAME: `placement-center-${ordinal}` }, LEGACY);
    expect(result.status).toBe(0);
    expect(out.node_id).toBe(String(ordinal + 1));
    expect(out.broker_id).toBe('');
    expect(out.args).toBe(LEGACY_COMMAND.slice(1).join(' '));
  });

  test.each([0, 4])('without the pod-index label (clusters before 1.28) ordinal %i is read from the pod name', (ordinal) => {
    const { result, out } = runWrapper({ POD_INDEX: '', POD_NAME: `placement-center-${ordinal}` });
    expect(result.status).toBe(0);
    expect(out.broker_id).toBe(String(ordinal + 1));
  });

  test('a pod name without an ordinal stops the pod with a message instead of starting with a wrong id', () => {
    const { result } = runWrapper({ POD_INDEX: '', POD_NAME: 'placement-center' });
    expect(result.status).toBe(64);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/cannot derive the pod ordinal \(POD_INDEX='', POD_NAME='placement-center'\)/);
  });
});

describe('PlacementCenter: releases', () => {
  test('current() is v0.4.11: the broker-server binary, server.toml, broker_id through ROBUST_MQ_SERVER_BROKER_ID', () => {
    const r = PlacementCenterRelease.current();
    expect([r.version, r.isLegacy, r.defaultImage, r.binary, r.configFileName, r.defaultHttpPort, r.nodeIdVariable]).toEqual(
      ['0.4.11', false, 'ghcr.io/robustmq/robustmq:v0.4.11', '/robustmq/libs/broker-server', 'server.toml', 58080, 'ROBUST_MQ_SERVER_BROKER_ID']);
    expect(r.command).toEqual(COMMAND);
    expect(r.displayName).toBe('RobustMQ v0.4.11');
    expect(PlacementCenterRelease.V0_4_11.command).toEqual(r.command);
  });

  test('GIVEN the legacy release WHEN synthesized THEN the placement-center format, binary, variable and ports of v0.1.x', () => {
    const { manifests, container, pc } = synth(LEGACY);
    expect(manifests).toMatchSnapshot();
    expect(container.image).toBe(LEGACY.image);
    expect(container.command.slice(4)).toEqual(LEGACY_COMMAND);
    expect(container.command[2]).toContain('PLACEMENT_CENTER_NODE_NODE_ID=$((ordinal + 1))');
    expect(container.env.map((e: any) => e.name)).toEqual(['POD_INDEX', 'POD_NAME']);
    expect(container.ports.map((p: any) => [p.name, p.containerPort])).toEqual([['grpc', 1228], ['http', 1227]]);
    const cm = findObject(manifests, 'ConfigMap');
    expect(Object.keys(cm.data).sort()).toEqual(['logger.toml', 'placement-center.toml']);
    expect(tomlOf(manifests, 'placement-center.toml')).toEqual({
      cluster_name: 'placement-center',
      node: { node_id: 1, nodes: {
        1: 'placement-center-0.placement-center-headless.default.svc.cluster.local:1228',
        2: 'placement-center-1.placement-center-headless.default.svc.cluster.local:1228',
        3: 'placement-center-2.placement-center-headless.default.svc.cluster.local:1228',
      } },
      network: { local_ip: '0.0.0.0', grpc_port: 1228, http_port: 1227 },
      rocksdb: { data_path: '/robustmq/data' },
      // v0.1.x has no default for log_config: a [log] table without it does not parse
      log: { log_config: '/etc/robustmq/logger.toml', log_path: '/robustmq/logs' },
    });
    expect(parse(pc.effectiveConfig(2))).toMatchObject({ node: { node_id: 3 } });
    expect(pc.release.displayName).toBe('RobustMQ v0.1.28 placement-center');
    expect(container.readinessProbe.tcpSocket).toEqual({ port: 1228 });
  });

  test('the legacy logging configuration follows the appender names of its version (renamed to snake case in v0.1.27)', () => {
    const early = synth({ ...LEGACY, release: PlacementCenterRelease.legacyPlacementCenter('v0.1.24') }).pc;
    expect(parse(early.loggerConfig)).toEqual({ stdout: { kind: 'Console', level: 'Info' } });
    expect(early.release.version).toBe('0.1.24');
    expect(parse(synth(LEGACY).pc.loggerConfig)).toEqual({ stdout: { kind: 'console', level: 'info' } });
  });

  test.each([
    ['current', {}],
    ['legacy', LEGACY],
  ])('every key the construct renders for the %s release is one that release reads, with a value of its kind', (_name, props) => {
    const { pc } = synth(props as PlacementCenterProps);
    const config = parse(pc.tomlConfig);
    const rendered = leaves(config);
    expect(rendered.length).toBeGreaterThan(5);
    for (const [path, value] of rendered) {
      expect(() => pc.release._checkKey(pc, path.join('.'), path, value)).not.toThrow();
    }
  });

  test('a config key the release does not read is refused, naming the keys it reads there', () => {
    expect(() => synth({ additionalConfig: { heartbeat: { heartbeat_timeout_ms: 30000 } } })).toThrow(
      /pc: invalid additionalConfig.heartbeat \(\{"heartbeat_timeout_ms":30000\}\): is not a key RobustMQ v0.4.11 reads; its top-level keys: cluster_name, broker_id, .*meta_runtime/);
    expect(() => synth({ additionalConfig: { meta_runtime: { heartbeat_timeout: 30000 } } })).toThrow(
      /invalid additionalConfig.meta_runtime.heartbeat_timeout \(30000\): is not a key RobustMQ v0.4.11 reads; its keys of \[meta_runtime\]: heartbeat_timeout_ms, heartbeat_check_time_ms/);
    expect(() => synth({ ...LEGACY, additionalConfig: { meta_runtime: { heartbeat_timeout_ms: 1 } } })).toThrow(
      /invalid additionalConfig.meta_runtime .*: is not a key RobustMQ v0.1.28 placement-center reads; its top-level keys: cluster_name, node, network, system, heartbeat, rocksdb, log, prometheus/);
    expect(synth({ ...LEGACY, additionalConfig: { heartbeat: { heartbeat_timeout_ms: 30000 }, rocksdb: { max_open_files: 10000 } } }).pc.tomlConfig)
      .toContain('[heartbeat]\nheartbeat_timeout_ms = 30000');
  });

  test('a value of the wrong kind is refused with the kind the release reads', () => {
    expect(() => synth({ additionalConfig: { meta_runtime: { heartbeat_timeout_ms: '30s' } } })).toThrow(
      /invalid additionalConfig.meta_runtime.heartbeat_timeout_ms \("30s"\): must be a whole number: RobustMQ v0.4.11 reads meta_runtime.heartbeat_timeout_ms as one/);
    expect(() => synth({ additionalConfig: { admin: 'root' } })).toThrow(
      /invalid additionalConfig.admin \("root"\): must be a table: RobustMQ v0.4.11 reads \[admin\] with keys username, password, jwt_secret, token_ttl_hours/);
    expect(() => synth({ additionalConfig: { runtime: { pprof_enable: 'yes' } } })).toThrow(/must be true or false/);
    expect(() => synth({ additionalConfig: { kafka_runtime: { sasl: { mechanisms: [1] } } } })).toThrow(/must be an array of strings/);
    expect(() => synth({ additionalConfig: { mqtt_runtime: { system_monitor: { os_cpu_high_watermark: 'high' } } } })).toThrow(/must be a number/);
    expect(() => synth({ additionalConfig: { admin: { username: { first: 'a' } } } })).toThrow(
      /invalid additionalConfig.admin.username \(\{"first":"a"\}\): must be a string/);
    expect(() => synth({ additionalConfig: { cluster_limit: { max_connection_per_ip: { x: 1 } } } })).toThrow(/must be a whole number/);
  });

  test('a key path that runs past a value is refused (internal check used for every rendered key)', () => {
    const { pc } = synth();
    expect(() => pc.release._checkKey(pc, 'x', ['grpc_port', 'port'], 1)).toThrow(
      'pc: invalid x (1): is not a key RobustMQ v0.4.11 reads: grpc_port is a whole number, not a table');
    expect(() => pc.release._checkKey(pc, 'x', ['meta_addrs'], { 1: 2 })).toThrow('pc: invalid x ({"1":2}): must be a table of strings');
  });

  test.each(['0.1.23', '0.1.29', '0.4.11', 'latest', '1'])('legacyPlacementCenter(%j) is refused with the versions it covers', (version) => {
    expect(() => PlacementCenterRelease.legacyPlacementCenter(version)).toThrow(
      `PlacementCenterRelease.legacyPlacementCenter: invalid version (${JSON.stringify(version)}): must be 0.1.24 to 0.1.28, the releases whose placement-center reads the format rendered here`);
  });

  test('the legacy release has no published image, so one must be named', () => {
    expect(() => synth({ release: PlacementCenterRelease.legacyPlacementCenter('0.1.28') })).toThrow(
      'pc: invalid image (unset): must be set for RobustMQ v0.1.28 placement-center: RobustMQ published no image of the standalone placement-center, so name the one you run');
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

describe('PlacementCenter: probes', () => {
  test('tcpSocket() is the default: TCP on the gRPC port for readiness and liveness, also on a moved port', () => {
    expect(synth({ probes: PlacementCenterProbes.tcpSocket() }).container.readinessProbe).toEqual(synth().container.readinessProbe);
    const { container } = synth({ grpcPort: 7228 });
    expect(container.readinessProbe.tcpSocket).toEqual({ port: 7228 });
    expect(container.livenessProbe.tcpSocket).toEqual({ port: 7228 });
  });

  test('GIVEN an exec probe against the loopback admin API WHEN synthesized THEN it is rendered as given', () => {
    const ready = StatefulProbe.fromCommand(['curl', '-fsS', '-o', '/dev/null', 'http://127.0.0.1:58080/api/health/ready']);
    const { manifests, container } = synth({ probes: PlacementCenterProbes.custom({ readiness: ready, liveness: StatefulProbe.fromTcpSocket({ port: 1228 }) }) });
    expect(manifests).toMatchSnapshot();
    expect(container.readinessProbe).toEqual({
      exec: { command: ['curl', '-fsS', '-o', '/dev/null', 'http://127.0.0.1:58080/api/health/ready'] },
      initialDelaySeconds: 45, periodSeconds: 10, timeoutSeconds: 5, successThreshold: 1, failureThreshold: 3,
    });
  });

  test('custom probes keep the guide timings they do not set; unset probes are not rendered', () => {
    const { container } = synth({
      probes: PlacementCenterProbes.custom({
        liveness: StatefulProbe.fromTcpSocket({ port: 1228, failureThreshold: 8 }),
        startup: StatefulProbe.fromTcpSocket({ port: 1228, period: Duration.seconds(5), failureThreshold: 60 }),
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
      image: 'registry.example/robustmq/robustmq:v0.4.11',
      command: ['/opt/robustmq/broker-server', '--conf=/etc/robustmq/server.toml'],
      env: { RUST_BACKTRACE: EnvValue.fromValue('1') },
      resources: { cpu: { request: Cpu.millis(250) }, memory: { request: Size.mebibytes(256), limit: Size.mebibytes(768) } },
    });
    expect(container.image).toBe('registry.example/robustmq/robustmq:v0.4.11');
    expect(container.command.slice(4)).toEqual(['/opt/robustmq/broker-server', '--conf=/etc/robustmq/server.toml']);
    expect(container.env).toContainEqual({ name: 'RUST_BACKTRACE', value: '1' });
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
    expect(pc.podDisruptionBudget?.kind).toBe('PodDisruptionBudget');
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
    ['http port on the engine port', { httpPort: 1778 }, /invalid httpPort \(1778\): clashes with the engine port \(1778\) of RobustMQ v0.4.11: each port needs its own number/],
    ['grpc port on the engine port', { grpcPort: 1778 }, /invalid grpcPort \(1778\): clashes with the engine port \(1778\) of RobustMQ v0.4.11/],
    ['grpc port out of range', { grpcPort: 70000 }, /invalid grpcPort \(70000\): must be a whole number 1 to 65535/],
    ['storage size not whole MiB', { storageSize: Size.kibibytes(1500) }, /invalid storageSize \(1500 KiB\): must be a whole number of MiB/],
    ['memory not whole MiB', { resources: { memory: { request: Size.kibibytes(100) } } }, /invalid containers\[placement-center\].resources.memory.request \(100 KiB\): must be a whole number of MiB/],
    ['request above limit', { resources: { memory: { request: Size.gibibytes(2), limit: Size.gibibytes(1) } } }, /resources.memory.request .*must not exceed the limit/],
    ['liveness successThreshold 2', { probes: PlacementCenterProbes.custom({ liveness: StatefulProbe.fromTcpSocket({ port: 1228, successThreshold: 2 }) }) }, /invalid probes.liveness.successThreshold \(2\): must be 1 for a liveness probe/],
    ['period 0', { probes: PlacementCenterProbes.custom({ readiness: StatefulProbe.fromTcpSocket({ port: 1228, period: Duration.seconds(0) }) }) }, /invalid probes.readiness.period .*: must be a whole number of seconds, at least 1 s/],
    ['timeout 500 ms', { probes: PlacementCenterProbes.custom({ liveness: StatefulProbe.fromTcpSocket({ port: 1228, timeout: Duration.millis(500) }) }) }, /invalid probes.liveness.timeout .*: must be a whole number of seconds, at least 1 s/],
    ['failureThreshold 0', { probes: PlacementCenterProbes.custom({ readiness: StatefulProbe.fromTcpSocket({ port: 1228, failureThreshold: 0 }) }) }, /invalid probes.readiness.failureThreshold \(0\): must be a whole number 1 to 2147483647 \(int32\)/],
    ['readiness with probe grace', { probes: PlacementCenterProbes.custom({ readiness: StatefulProbe.fromTcpSocket({ port: 1228, terminationGracePeriod: Duration.seconds(5) }) }) }, /invalid probes.readiness.terminationGracePeriod .*: is not allowed on a readiness probe/],
    ['relative probe path', { probes: PlacementCenterProbes.custom({ readiness: StatefulProbe.fromHttpGet('health', { port: 58080 }) }) }, /invalid probes.readiness.path \("health"\): must be an absolute HTTP path/],
    ['probe on an unpublished port', { probes: PlacementCenterProbes.custom({ readiness: StatefulProbe.fromHttpGet('/health/ready', { port: 8080 }) }) }, /invalid probes.readiness.port \(8080\): must be a port of the container \(grpcPort 1228, httpPort 58080, the engine port 1778\)$/],
    ['name not a DNS label', { name: 'Placement_Center' }, /invalid name \("Placement_Center"\): must be a DNS label/],
    ['name too long', { name: 'p'.repeat(53) }, /invalid name .*: must be a DNS label: at most 52 characters/],
    ['bad cluster domain', { clusterDomain: 'Cluster Local' }, /invalid clusterDomain \("Cluster Local"\): must be a DNS subdomain/],
    ['bad namespace', { namespace: 'Robust MQ' }, /invalid namespace \("Robust MQ"\): must be a DNS label/],
    ['budget that loses the majority', { replicas: 5, disruptionBudget: DisruptionBudget.maxUnavailable(3) }, /invalid disruptionBudget.maxUnavailable \(3\): lets voluntary disruptions take 3 of 5 members, but Raft needs 3 up for a majority; use maxUnavailable <= 2 or minAvailable >= 3/],
    ['minAvailable below the majority', { disruptionBudget: DisruptionBudget.minAvailable(1) }, /invalid disruptionBudget.minAvailable \(1\): lets voluntary disruptions take 2 of 3 members/],
    ['config key the construct owns', { additionalConfig: { broker_id: 7 } }, /invalid additionalConfig.broker_id \(7\): is set by the construct \(ordinal \+ 1 per pod\)/],
    ['config roles', { additionalConfig: { roles: ['meta'] } }, /invalid additionalConfig.roles \(\["meta"\]\): is set by the construct \(meta and engine: the meta role alone exits at start\)/],
    ['config peers', { additionalConfig: { meta_addrs: { 1: 'x:1228' } } }, /invalid additionalConfig.meta_addrs .*: is set by the construct \(one peer per replica\)/],
    ['config port the props own', { additionalConfig: { grpc_port: 1 } }, /invalid additionalConfig.grpc_port \(1\): is set by the grpcPort prop/],
    ['config engine port', { additionalConfig: { storage_runtime: { tcp_port: 1779 } } }, /invalid additionalConfig.storage_runtime.tcp_port \(1779\): is set by the construct \(the container port "engine", 1778\)/],
    ['config log path', { additionalConfig: { log: { log_config: '/x' } } }, /invalid additionalConfig.log.log_config \("\/x"\): is set by the construct \(\/etc\/robustmq\/logger.toml, in the ConfigMap\)/],
    ['legacy config key the construct owns', { ...LEGACY, additionalConfig: { node: { node_id: 7 } } }, /invalid additionalConfig.node.node_id \(7\): is set by the construct \(ordinal \+ 1 per pod\)/],
    ['legacy config port the props own', { ...LEGACY, additionalConfig: { network: { http_port: 1 } } }, /invalid additionalConfig.network.http_port \(1\): is set by the httpPort prop/],
    ['config replacing a table', { additionalConfig: { storage_runtime: 'fast' } }, /invalid additionalConfig.storage_runtime \("fast"\): must be a table: RobustMQ v0.4.11 reads \[storage_runtime\] with keys tcp_port, max_segment_size/],
    ['config null', { additionalConfig: { meta_runtime: { heartbeat_timeout_ms: null } } }, /invalid additionalConfig.meta_runtime.heartbeat_timeout_ms \(null\): must be a TOML value/],
    ['config array with null', { additionalConfig: { kafka_runtime: { sasl: { mechanisms: ['PLAIN', null] } } } }, /invalid additionalConfig.kafka_runtime.sasl.mechanisms \(\["PLAIN",null\]\): must hold TOML values only/],
    ['config function', { additionalConfig: { runtime: { server_worker_threads: () => 1 } } }, /invalid additionalConfig.runtime.server_worker_threads \(undefined\): must be a whole number/],
    ['config key under a value', { additionalConfig: { cluster_limit: { max_connection_per_ip: 1 }, data_path: 'x' } }, /invalid additionalConfig.data_path \("x"\): is set by the construct/],
    ['empty cluster name', { clusterName: ' ' }, /invalid clusterName \(" "\): must be a non-empty name/],
    ['env the construct sets', { env: { ROBUST_MQ_SERVER_BROKER_ID: EnvValue.fromValue('1') } }, /invalid env \("ROBUST_MQ_SERVER_BROKER_ID"\): is set by the construct \(ROBUST_MQ_SERVER_BROKER_ID, ROBUST_MQ_SERVER_BROKER_IP, POD_NAME, POD_INDEX carry each pod's identity\)/],
    ['env for broker_ip', { env: { ROBUST_MQ_SERVER_BROKER_IP: EnvValue.fromValue('"10.0.0.1"') } }, /invalid env \("ROBUST_MQ_SERVER_BROKER_IP"\): is set by the construct/],
    ['legacy env the construct sets', { ...LEGACY, env: { PLACEMENT_CENTER_NODE_NODE_ID: EnvValue.fromValue('1') } }, /invalid env \("PLACEMENT_CENTER_NODE_NODE_ID"\): is set by the construct \(PLACEMENT_CENTER_NODE_NODE_ID, POD_NAME, POD_INDEX carry/],
    ['empty command', { command: [] }, /invalid command \(\[\]\): must name the server binary/],
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
