'use strict';
// The constructs the scaling benchmark instantiates, and the props of one instance.
// Each instance gets its own StorageClass so the per-instance shape matches the issue's
// "StatefulSet + Service + StorageClass" measurement; names are the only thing that varies.

const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const LIB = path.join(ROOT, 'lib', 'src');
const NAMESPACE = 'apps';

/** Loads the built library, or returns undefined with the reason (lib/ not built yet). */
function loadLib() {
  try {
    return { lib: require(LIB) };
  } catch (e) {
    return { error: `cannot load ${path.relative(ROOT, LIB)}: ${e.message.split('\n')[0]} (run npm run build)` };
  }
}

const CONSTRUCTS = [
  {
    key: 'rwop',
    title: 'RwopStatefulApp',
    exportName: 'RwopStatefulApp',
    prefix: 'app-',
    add(lib, cdk8s, chart, name) {
      const storageClass = new lib.StorageClass(chart, `${name}-sc`, {
        name: `${name}-sc`,
        provisioner: lib.StorageProvisioner.openstackManila({ shareType: 'default' }),
      });
      new lib.RwopStatefulApp(chart, name, {
        name,
        image: 'docker.io/library/postgres:16.4',
        ports: [{ name: 'postgres', port: 5432 }],
        storageClass,
        storageSize: cdk8s.Size.gibibytes(1),
        mountPath: '/var/lib/postgresql/data',
        writablePaths: ['/tmp', '/var/run/postgresql'],
        security: { runAsUser: 999 },
        liveness: lib.StatefulProbe.fromCommand(['pg_isready', '-h', '127.0.0.1', '-p', '5432']),
        scheduling: { priorityClassName: 'system-cluster-critical' },
        failoverTargets: { hungProcess: cdk8s.Duration.seconds(60) },
      });
    },
  },
  {
    key: 'redis',
    title: 'RedisCluster',
    exportName: 'RedisCluster',
    prefix: 'redis-',
    add(lib, cdk8s, chart, name) {
      // the example app's cache chart: 3 shards x 1 replica, its own StorageClass, metrics and a NetworkPolicy
      new lib.RedisCluster(chart, name, {
        name,
        shards: 3,
        replicasPerShard: 1,
        persistence: { size: cdk8s.Size.gibibytes(1), storageProvisioner: lib.StorageProvisioner.linstor({ placementCount: 2 }) },
        maxMemory: cdk8s.Size.mebibytes(768),
        maxMemoryPolicy: lib.MaxMemoryPolicy.ALLKEYS_LRU,
        auth: { existingSecret: 'redis-auth', existingSecretPasswordKey: 'password' },
        networkPolicy: { allowedClientLabels: { 'redis-client': 'true' } },
        metrics: { serviceMonitor: true },
      });
    },
  },
  {
    key: 'placement',
    title: 'PlacementCenter',
    exportName: 'PlacementCenter',
    prefix: 'pc-',
    add(lib, cdk8s, chart, name) {
      // the construct's default class is always named "ssd"; one per instance needs its own name
      const storageClass = new lib.StorageClass(chart, `${name}-ssd`, {
        name: `${name}-ssd`,
        provisioner: lib.StorageProvisioner.awsEbs({ type: lib.EbsVolumeType.GP3, iops: 3000, throughput: 125 }),
        allowVolumeExpansion: true,
        reclaimPolicy: lib.ReclaimPolicy.RETAIN,
      });
      new lib.PlacementCenter(chart, name, { name, storageClass });
    },
  },
];

function constructByKey(key) {
  const c = CONSTRUCTS.find((x) => x.key === key);
  if (!c) throw new Error(`unknown construct "${key}" (known: ${CONSTRUCTS.map((x) => x.key).join(', ')})`);
  return c;
}

/** Why a construct cannot be benchmarked right now, or undefined when it can. */
function unavailableReason(lib, construct) {
  if (!lib) return 'library not built';
  if (typeof lib[construct.exportName] !== 'function') return `not available (${construct.exportName} is not exported from lib/src)`;
  return undefined;
}

function instanceName(construct, i) {
  return `${construct.prefix}${i}`;
}

module.exports = { ROOT, LIB, NAMESPACE, CONSTRUCTS, constructByKey, loadLib, unavailableReason, instanceName };
