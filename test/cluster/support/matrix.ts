/**
 * The configurations the cluster suite deploys and lints: every construct with
 * its defaults, each major option on and each option off. Synthesized from the
 * TypeScript sources, one chart (and namespace) per case.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Chart, Duration, Size, Testing } from 'cdk8s';
import { Cpu, EnvValue, ImagePullPolicy, k8s, PodManagementPolicy, Protocol, TaintEffect } from 'cdk8s-plus-28';
import { parseAllDocuments } from 'yaml';
import { EtcdCluster } from '../../extending/etcd-cluster';
import {
  AzureDiskSku, DisruptionBudget, EbsVolumeType, FailoverAction, GcePdType, PlacementCenter, PlacementCenterRelease,
  PlacementCenterRollout, StatefulProbe, PvcRetentionAction, ReclaimPolicy, RedisCluster, RedisFlavour, RedisResourcesPreset, RwopStatefulApp, SpreadMode, StatefulUpdateStrategy,
  StatefulWorkload, StorageClass, StorageProvisioner, UnhealthyPodEvictionPolicy, VolumeBindingMode,
} from '../../../src';

/** Objects a case needs that the library deliberately leaves to its user. */
export interface CasePrerequisites {
  /** PersistentVolumeClaims to create in the case's namespace (for existingClaim). */
  readonly claims?: Array<{ name: string; storage: string; accessModes: string[]; storageClassName?: string }>;
}

export interface MatrixCase {
  /** Short id, also the namespace suffix. */
  readonly id: string;
  /** What the case covers. */
  readonly title: string;
  /** Namespace of the case's chart. */
  readonly namespace: string;
  readonly prerequisites?: CasePrerequisites;
  /** Synthesizes the case (construct validations run). */
  synth(): any[];
}

/** Namespace prefix of the matrix cases. */
export const MATRIX_NAMESPACE_PREFIX = 'mx-';

const POSTGRES = 'docker.io/library/postgres:16.4';

function makeCase(id: string, title: string, build: (chart: Chart) => void, prerequisites?: CasePrerequisites): MatrixCase {
  const namespace = `${MATRIX_NAMESPACE_PREFIX}${id}`;
  return {
    id,
    title,
    namespace,
    prerequisites,
    synth: () => {
      const chart = new Chart(Testing.app(), id, { namespace });
      build(chart);
      return Testing.synth(chart);
    },
  };
}

export const MATRIX: MatrixCase[] = [
  // ----------------------------- RwopStatefulApp -----------------------------
  makeCase('rwop-defaults', 'RwopStatefulApp: image and port only', (chart) => {
    new RwopStatefulApp(chart, 'app', { name: 'db', image: POSTGRES, ports: [{ name: 'postgres', port: 5432 }] });
  }),
  makeCase('rwop-existing-claim', 'RwopStatefulApp: existingClaim instead of a claim template', (chart) => {
    new RwopStatefulApp(chart, 'app', {
      name: 'db', image: POSTGRES, ports: [{ name: 'postgres', port: 5432 }], existingClaim: 'shared-data',
    });
  }, { claims: [{ name: 'shared-data', storage: '1Gi', accessModes: ['ReadWriteOncePod'] }] }),
  makeCase('rwop-automation', 'RwopStatefulApp: node-loss automation on (failover controller)', (chart) => {
    new RwopStatefulApp(chart, 'app', {
      name: 'db', image: POSTGRES, ports: [{ name: 'postgres', port: 5432 }],
      nodeLossAutomation: { acknowledgeNodesAreFenced: true, notReadyThreshold: Duration.seconds(10), action: FailoverAction.TAINT_AND_FORCE_DELETE },
      failoverTargets: { nodeLoss: Duration.minutes(3) },
    });
  }),
  makeCase('rwop-tuned', 'RwopStatefulApp: own probes, resources, preStop, priority class, storage class, budget', (chart) => {
    const fast = new StorageClass(chart, 'fast', {
      name: 'mx-rwop-fast',
      provisioner: StorageProvisioner.custom('example.com/fast-csi', { tier: 'gold' }),
      reclaimPolicy: ReclaimPolicy.DELETE,
    });
    new RwopStatefulApp(chart, 'app', {
      name: 'db',
      image: POSTGRES,
      ports: [{ name: 'postgres', port: 5432 }],
      command: ['docker-entrypoint.sh'],
      args: ['postgres', '-c', 'max_connections=50'],
      env: { PGDATA: EnvValue.fromValue('/var/lib/postgresql/data/pgdata') },
      resources: { cpu: { request: Cpu.millis(250), limit: Cpu.units(1) }, memory: { request: Size.mebibytes(256), limit: Size.mebibytes(512) } },
      storageClass: fast,
      storageSize: Size.gibibytes(2),
      mountPath: '/var/lib/postgresql/data',
      writablePaths: ['/tmp', '/var/run/postgresql'],
      liveness: StatefulProbe.fromTcpSocket({ port: 5432 }),
      readiness: StatefulProbe.fromCommand(['pg_isready', '-h', '127.0.0.1']),
      startup: StatefulProbe.fromCommand(['pg_isready', '-h', '127.0.0.1'], { period: Duration.seconds(5), failureThreshold: 60 }),
      terminationGracePeriod: Duration.seconds(60),
      preStop: ['pg_ctl', 'stop', '-m', 'fast'],
      nodeLossToleration: Duration.seconds(10),
      scheduling: { priorityClassName: 'mx-stateful-critical', tolerations: [{ key: 'dedicated', value: 'db', effect: TaintEffect.NO_SCHEDULE }] },
      security: { runAsUser: 999, fsGroup: 999 },
      disruptionBudget: DisruptionBudget.maxUnavailable(0),
      expectedStartTime: Duration.seconds(20),
    });
  }),

  // ------------------------------- RedisCluster ------------------------------
  makeCase('redis-defaults', 'RedisCluster: defaults (3 shards x 1 replica, auth on)', (chart) => {
    new RedisCluster(chart, 'redis', { name: 'redis' });
  }),
  makeCase('redis-3x0', 'RedisCluster: 3 shards, 0 replicas', (chart) => {
    new RedisCluster(chart, 'redis', { name: 'redis', shards: 3, replicasPerShard: 0 });
  }),
  makeCase('redis-auth-off', 'RedisCluster: auth off', (chart) => {
    new RedisCluster(chart, 'redis', { name: 'redis', auth: { enabled: false } });
  }),
  makeCase('redis-metrics', 'RedisCluster: metrics exporter and ServiceMonitor', (chart) => {
    new RedisCluster(chart, 'redis', {
      name: 'redis',
      metrics: { serviceMonitor: true, scrapeInterval: Duration.seconds(15), serviceMonitorLabels: { release: 'prometheus' } },
    });
  }),
  makeCase('redis-netpol', 'RedisCluster: NetworkPolicy with client pods and namespaces', (chart) => {
    new RedisCluster(chart, 'redis', {
      name: 'redis',
      networkPolicy: { allowedClientLabels: { 'redis-client': 'true' }, allowedClientNamespaceLabels: { team: 'shop' } },
    });
  }),
  makeCase('redis-storage', 'RedisCluster: own StorageClass (storageProvisioner), zone spread, custom port', (chart) => {
    new RedisCluster(chart, 'redis', {
      name: 'mx-redis-ebs',
      port: 7000,
      persistence: { size: Size.gibibytes(2), storageProvisioner: StorageProvisioner.awsEbs({ type: EbsVolumeType.GP3, iops: 4000, throughput: 250 }) },
      scheduling: { zoneSpread: SpreadMode.PREFERRED },
      maxMemory: Size.mebibytes(512),
    });
  }),

  makeCase('redis-preset', 'RedisCluster: resourcesPreset small (maxmemory derived)', (chart) => {
    new RedisCluster(chart, 'redis', { name: 'redis', resourcesPreset: RedisResourcesPreset.SMALL });
  }),
  makeCase('redis-acl', 'RedisCluster: ACL users from Secrets, metrics user, rotation loop', (chart) => {
    new RedisCluster(chart, 'redis', { name: 'redis', acl: { usersSecret: 'redis-users', defaultUserRules: '~* &* +@all -@admin' }, metrics: {} });
  }),
  makeCase('redis-tls', 'RedisCluster: TLS from a cert-manager Certificate, plaintext off, metrics and NetworkPolicy', (chart) => {
    new RedisCluster(chart, 'redis', {
      name: 'redis', tls: { issuer: { name: 'ca-issuer', kind: 'ClusterIssuer' }, plaintext: false }, metrics: {}, networkPolicy: {},
    });
  }),
  makeCase('redis-valkey', 'RedisCluster: Valkey 8 flavour', (chart) => {
    new RedisCluster(chart, 'redis', { name: 'redis', flavour: RedisFlavour.VALKEY_8 });
  }),
  makeCase('redis-draining', 'RedisCluster: 5 shards, the last 2 draining (drain Job) with ACL users, TLS and a NetworkPolicy', (chart) => {
    new RedisCluster(chart, 'redis', {
      name: 'redis', shards: 5, drainingShards: 2, acl: {}, tls: { issuer: { name: 'ca-issuer', kind: 'ClusterIssuer' } }, networkPolicy: {},
    });
  }),

  // ------------------------------ PlacementCenter -----------------------------
  makeCase('pc-defaults', 'PlacementCenter: defaults (3 members on RobustMQ v0.4.11, own "ssd" class, TCP probes)', (chart) => {
    new PlacementCenter(chart, 'pc');
  }),
  makeCase('pc-ha5', 'PlacementCenter: 5 members, required node and zone spread', (chart) => {
    new PlacementCenter(chart, 'pc', {
      replicas: 5,
      storageClass: StorageClass.fromStorageClassName('standard'),
      scheduling: { nodeSpread: SpreadMode.REQUIRED, zoneSpread: SpreadMode.REQUIRED },
    });
  }),
  makeCase('pc-legacy', 'PlacementCenter: the legacy v0.1.28 placement-center format', (chart) => {
    new PlacementCenter(chart, 'pc', {
      release: PlacementCenterRelease.legacyPlacementCenter('0.1.28'),
      image: 'registry.example/robustmq/placement-center:0.1.28',
      storageClass: StorageClass.fromStorageClassName('standard'),
    });
  }),
  makeCase('pc-existing-class', 'PlacementCenter: existing storage class, extra config and env', (chart) => {
    new PlacementCenter(chart, 'pc', {
      storageClass: StorageClass.fromStorageClassName('standard'),
      storageSize: Size.gibibytes(5),
      additionalConfig: { meta_runtime: { heartbeat_timeout_ms: 30000 } },
      env: { RUST_BACKTRACE: EnvValue.fromValue('1') },
      disruptionBudget: DisruptionBudget.minAvailable(2),
    });
  }),
  makeCase('pc-canary', 'PlacementCenter: canary rollout (partition 2)', (chart) => {
    new PlacementCenter(chart, 'pc', {
      rollout: PlacementCenterRollout.canary(1),
      storageClass: StorageClass.fromStorageClassName('standard'),
    });
  }),

  // ----------------------------- StatefulWorkload -----------------------------
  makeCase('sw-minimal', 'StatefulWorkload: one container, no ports, no claims', (chart) => {
    new StatefulWorkload(chart, 'sw', {
      name: 'worker',
      containers: [{
        name: 'worker', image: 'docker.io/library/busybox:1.37.0', command: ['sleep', 'infinity'],
        resources: { cpu: { request: Cpu.millis(10), limit: Cpu.millis(100) }, memory: { request: Size.mebibytes(16), limit: Size.mebibytes(32) } },
        liveness: StatefulProbe.fromCommand(['sh', '-c', 'test -d /proc/1']),
        readiness: StatefulProbe.fromCommand(['true']),
      }],
    });
  }),
  makeCase('sw-full', 'StatefulWorkload: every option set, plus a NetworkPolicy of the user (kube-score clean)', (chart) => {
    const sw = new StatefulWorkload(chart, 'sw', {
      name: 'store',
      replicas: 3,
      podManagementPolicy: PodManagementPolicy.PARALLEL,
      updateStrategy: StatefulUpdateStrategy.onDelete(),
      minReady: Duration.seconds(5),
      pvcRetention: { whenDeleted: PvcRetentionAction.DELETE, whenScaled: PvcRetentionAction.DELETE },
      headlessService: { name: 'store-peers', publishNotReadyAddresses: true },
      volumeClaimTemplates: [
        { name: 'data', size: Size.gibibytes(1) },
        { name: 'wal', size: Size.mebibytes(512), storageClass: StorageClass.fromStorageClassName('standard') },
      ],
      containers: [
        {
          name: 'store',
          image: 'docker.io/library/busybox:1.37.0',
          imagePullPolicy: ImagePullPolicy.ALWAYS,
          command: ['sh', '-c', 'exec httpd -f -p 8080'],
          ports: [{ name: 'http', port: 8080 }, { name: 'gossip', port: 7946, protocol: Protocol.UDP }],
          resources: {
            cpu: { request: Cpu.millis(50), limit: Cpu.millis(500) },
            memory: { request: Size.mebibytes(32), limit: Size.mebibytes(64) },
            ephemeralStorage: { request: Size.mebibytes(64), limit: Size.mebibytes(256) },
          },
          liveness: StatefulProbe.fromTcpSocket({ port: 8080, period: Duration.seconds(10) }),
          readiness: StatefulProbe.fromHttpGet('/ready', { port: 8080, successThreshold: 2 }),
          startup: StatefulProbe.fromGrpc({ port: 8080, failureThreshold: 30 }),
          mounts: [{ volume: 'data', path: '/data' }, { volume: 'wal', path: '/wal', subPath: 'wal' }],
          writablePaths: ['/tmp'],
          preStop: ['sh', '-c', 'sleep 2'],
        },
        {
          name: 'sidecar',
          image: 'docker.io/library/busybox:1.37.0',
          imagePullPolicy: ImagePullPolicy.ALWAYS,
          command: ['sleep', 'infinity'],
          resources: {
            cpu: { request: Cpu.millis(10), limit: Cpu.millis(50) },
            memory: { request: Size.mebibytes(8), limit: Size.mebibytes(16) },
            ephemeralStorage: { request: Size.mebibytes(8), limit: Size.mebibytes(32) },
          },
          mounts: [{ volume: 'data', path: '/data', readOnly: true }],
        },
      ],
      disruptionBudget: DisruptionBudget.minAvailable(2, { unhealthyPodEvictionPolicy: UnhealthyPodEvictionPolicy.ALWAYS_ALLOW }),
      scheduling: {
        nodeSpread: SpreadMode.REQUIRED,
        zoneSpread: SpreadMode.PREFERRED,
        nodeSelector: { 'topology.kubernetes.io/region': 'region-1' },
        tolerations: [{ key: 'dedicated', effect: TaintEffect.NO_EXECUTE, tolerationSeconds: Duration.seconds(60) }],
      },
      security: { runAsUser: 20000, runAsGroup: 30000, fsGroup: 40000 },
      terminationGracePeriod: Duration.seconds(10),
      appName: 'store', component: 'database', partOf: 'shop', version: '1.0.0',
      labels: { team: 'storage' },
      podAnnotations: { 'example.com/owner': 'storage-team' },
    });
    // the extension points: an init container, a native sidecar with a port and probes, env, a pod label, config files
    const small = {
      cpu: { request: Cpu.millis(10), limit: Cpu.millis(50) },
      memory: { request: Size.mebibytes(8), limit: Size.mebibytes(16) },
      ephemeralStorage: { request: Size.mebibytes(8), limit: Size.mebibytes(32) },
    };
    sw.addInitContainer({
      name: 'prepare', image: 'docker.io/library/busybox:1.37.0', imagePullPolicy: ImagePullPolicy.ALWAYS,
      command: ['sh', '-c', 'mkdir -p /data/db'], resources: small, mounts: [{ volume: 'data', path: '/data' }],
    });
    sw.addSidecar({
      name: 'metrics', image: 'docker.io/library/busybox:1.37.0', imagePullPolicy: ImagePullPolicy.ALWAYS,
      command: ['sh', '-c', 'exec httpd -f -p 9100'], ports: [{ name: 'metrics', port: 9100 }], resources: small,
      liveness: StatefulProbe.fromCommand(['pidof', 'httpd']), readiness: StatefulProbe.fromTcpSocket({ port: 9100, period: Duration.seconds(5) }),
    });
    sw.addEnv('store', 'STORE_MODE', EnvValue.fromValue('primary'));
    sw.addPodLabel('tier', 'data');
    sw.addConfigFiles('Settings', { files: { 'store.conf': 'mode = primary\n' }, mountPath: '/etc/store', containers: ['store', 'metrics'] });
    // the core renders no NetworkPolicy; a user adds one next to it
    new k8s.KubeNetworkPolicy(chart, 'policy', {
      metadata: { name: 'store' },
      spec: {
        podSelector: { matchLabels: sw.selectorLabels },
        policyTypes: ['Ingress', 'Egress'],
        ingress: [{ from: [{ podSelector: { matchLabels: sw.selectorLabels } }], ports: [{ port: k8s.IntOrString.fromNumber(8080), protocol: 'TCP' }] }],
        egress: [{ to: [{ podSelector: { matchLabels: sw.selectorLabels } }] }],
      },
    });
  }),

  // ------------------- the construct of docs/extending.md -------------------
  makeCase('etcd-extending', 'EtcdCluster of docs/extending.md (public API only): 3 members, a backup sidecar added by a platform team', (chart) => {
    const etcd = new EtcdCluster(chart, 'etcd', { name: 'etcd' });
    etcd.workload.addSidecar({
      name: 'backup', image: 'docker.io/library/busybox:1.37.0', command: ['sleep', 'infinity'],
      resources: { cpu: { request: Cpu.millis(10) }, memory: { request: Size.mebibytes(16), limit: Size.mebibytes(64) } },
      mounts: [{ volume: 'data', path: '/var/lib/etcd', readOnly: true }],
    });
  }),

  // -------------------------------- StorageClass -------------------------------
  makeCase('storage-classes', 'StorageClass: every provisioner and option', (chart) => {
    new StorageClass(chart, 'ebs-io2', { name: 'mx-ebs-io2', provisioner: StorageProvisioner.awsEbs({ type: EbsVolumeType.IO2, iops: 10000, kmsKeyId: 'alias/data' }) });
    new StorageClass(chart, 'gce', {
      name: 'mx-gce-regional',
      provisioner: StorageProvisioner.gcePd({ type: GcePdType.PD_SSD, regional: true }),
      allowedTopologies: [{ key: 'topology.kubernetes.io/zone', values: ['zone-a', 'zone-b'] }],
    });
    new StorageClass(chart, 'azure', {
      name: 'mx-azure', provisioner: StorageProvisioner.azureDisk({ skuName: AzureDiskSku.PREMIUM_ZRS, cachingMode: 'None' }),
      reclaimPolicy: ReclaimPolicy.DELETE, volumeBindingMode: VolumeBindingMode.IMMEDIATE, allowVolumeExpansion: false,
    });
    new StorageClass(chart, 'linstor', { name: 'mx-linstor-r3', provisioner: StorageProvisioner.linstor({ placementCount: 3, storagePool: 'nvme' }) });
    new StorageClass(chart, 'manila', {
      name: 'mx-manila', provisioner: StorageProvisioner.openstackManila({ shareType: 'default', shareNetworkId: 'net-1', availability: 'nova' }),
      mountOptions: ['nfsvers=4.1', 'noatime'],
    });
    new StorageClass(chart, 'plain', { name: 'mx-plain', provisioner: StorageProvisioner.custom('kubernetes.io/no-provisioner') });
  }),
];

/** The example app (example/main.ts), synthesized from the current sources; all charts, in file order. */
export function synthExample(): any[] {
  return Object.values(synthExampleFiles()).flat();
}

/** The example app (example/main.ts), synthesized from the current sources: each chart's file and its objects. */
export function synthExampleFiles(): Record<string, any[]> {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-stateful-example-'));
  const name = 'CDK8S_OUTDIR';
  const previous = process.env[name];
  process.env[name] = outdir;
  try {
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require('../../../example/main');
    });
    const files = fs.readdirSync(outdir).filter((f) => f.endsWith('.k8s.yaml')).sort();
    if (files.length === 0) throw new Error(`the example app wrote no manifests to ${outdir}`);
    return Object.fromEntries(files.map((f) => [f, parseAllDocuments(fs.readFileSync(path.join(outdir, f), 'utf8')).map((d) => d.toJSON()).filter(Boolean)]));
  } finally {
    if (previous === undefined) delete process.env[name];
    else process.env[name] = previous;
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}
