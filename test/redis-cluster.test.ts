import { Chart, Duration, Size, Testing } from 'cdk8s';
import { Cpu, ImagePullPolicy } from 'cdk8s-plus-28';
import * as toml from 'smol-toml';
import {
  DisruptionBudget, MaxMemoryPolicy, RedisCluster, RedisClusterProps, RedisFlavour, RedisResourcesPreset, SpreadMode, StorageClass, StorageProvisioner,
} from '../src';
import { findObject, synthValid } from './support/validate';

function synth(props: RedisClusterProps = {}, chart: Chart = Testing.chart()) {
  const redis = new RedisCluster(chart, 'redis', { name: 'redis', ...props });
  const manifests = synthValid(chart, ['ServiceMonitor', 'Certificate']);
  const sts = findObject(manifests, 'StatefulSet');
  return { redis, manifests, sts, pod: sts.spec.template.spec, container: sts.spec.template.spec.containers[0] };
}

function env(container: any): { [name: string]: any } {
  return Object.fromEntries(container.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
}

describe('RedisCluster defaults', () => {
  test('GIVEN no props WHEN synthesized THEN the manifests match the snapshot', () => {
    const { manifests } = synth();
    expect(manifests).toMatchSnapshot();
  });

  test('3 shards x 1 replica = 6 pods, Parallel start, headless Service with both ports publishing not-ready pods', () => {
    const { sts, manifests, redis } = synth();
    expect(sts.spec.replicas).toBe(6);
    expect(sts.spec.podManagementPolicy).toBe('Parallel');
    expect(sts.spec.serviceName).toBe('redis-headless');
    const headless = findObject(manifests, 'Service', 'redis-headless');
    expect(headless.spec.clusterIP).toBe('None');
    expect(headless.spec.publishNotReadyAddresses).toBe(true);
    expect(headless.spec.ports.map((p: any) => [p.name, p.port])).toEqual([['redis', 6379], ['cluster-bus', 16379]]);
    const client = findObject(manifests, 'Service', 'redis');
    expect(client.spec.clusterIP).toBeUndefined();
    expect(client.spec.ports).toEqual([{ name: 'redis', port: 6379, targetPort: 'redis' }]);
    expect(redis.clientServiceDnsName).toBe('redis.default.svc.cluster.local');
    expect(redis.podDnsNames).toEqual([0, 1, 2, 3, 4, 5].map((i) => `redis-${i}.redis-headless.default.svc.cluster.local`));
    expect(redis.clusterNodes[0]).toBe('redis-0.redis-headless.default.svc.cluster.local:6379');
  });

  test('data claims named data (PVCs data-redis-<ordinal>), retained, 8Gi', () => {
    const { sts } = synth();
    expect(sts.spec.volumeClaimTemplates).toHaveLength(1);
    expect(sts.spec.volumeClaimTemplates[0].metadata.name).toBe('data');
    expect(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('8Gi');
    expect(sts.spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: 'Retain', whenScaled: 'Retain' });
  });

  test('official image pinned, uid 999, restricted security, config and scripts from the ConfigMap', () => {
    const { pod, container, manifests, redis } = synth();
    expect(container.image).toBe('docker.io/library/redis:7.4.2');
    expect(pod.securityContext).toMatchObject({ runAsUser: 999, runAsGroup: 999, fsGroup: 999, runAsNonRoot: true });
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(container.command).toEqual(['sh', '/etc/redis-cluster/start.sh']);
    expect(container.volumeMounts).toEqual([
      { name: 'data', mountPath: '/data' },
      { name: 'writable-redis-0', mountPath: '/tmp' },
      { name: 'config', mountPath: '/etc/redis-cluster', readOnly: true },
    ]);
    const cm = findObject(manifests, 'ConfigMap', 'redis-config');
    expect(Object.keys(cm.data).sort()).toEqual(['cluster-init.sh', 'liveness.sh', 'readiness.sh', 'redis.conf', 'start.sh']);
    expect(cm.data['redis.conf']).toBe(redis.redisConf);
    expect(pod.volumes).toContainEqual({ name: 'config', configMap: { name: 'redis-config' } });
  });

  test('redis.conf: cluster mode, AOF on, nodes.conf on the data volume, no password', () => {
    const conf = synth().redis.redisConf;
    const lines = conf.split('\n');
    expect(lines).toContain('cluster-enabled yes');
    expect(lines).toContain('cluster-config-file nodes.conf');
    expect(synth().redis.files['start.sh']).toContain('/data');
    expect(lines).toContain('appendonly yes');
    expect(lines).toContain('appendfsync everysec');
    expect(lines).toContain('port 6379');
    expect(conf).not.toMatch(/requirepass|masterauth/);
  });

  test('auth is on by default from a Secret the user owns; no password in any manifest', () => {
    const { container, redis, manifests } = synth();
    expect(env(container).REDIS_PASSWORD).toEqual({ secretKeyRef: { name: 'redis-auth', key: 'password' } });
    expect(redis.authSecretName).toBe('redis-auth');
    expect(redis.authSecretKey).toBe('password');
    expect(manifests.filter((m) => m.kind === 'Secret')).toHaveLength(0);
  });

  test('probes understand Redis: liveness tolerates LOADING, readiness needs cluster_state ok, long startup', () => {
    const { container, manifests } = synth();
    const cm = findObject(manifests, 'ConfigMap');
    expect(container.livenessProbe).toMatchObject({ exec: { command: ['sh', '/etc/redis-cluster/liveness.sh'] }, periodSeconds: 5, timeoutSeconds: 5, failureThreshold: 5 });
    expect(container.readinessProbe).toMatchObject({ exec: { command: ['sh', '/etc/redis-cluster/readiness.sh'] }, periodSeconds: 5, failureThreshold: 3 });
    expect(container.startupProbe).toMatchObject({ exec: { command: ['sh', '/etc/redis-cluster/liveness.sh'] }, periodSeconds: 10, failureThreshold: 180 });
    expect(cm.data['liveness.sh']).toContain('LOADING');
    expect(cm.data['readiness.sh']).toMatch(/field cluster_state[\s\S]*ok/);
  });

  test('PDB maxUnavailable 1 and preferred node spread', () => {
    const { manifests, pod } = synth();
    expect(findObject(manifests, 'PodDisruptionBudget').spec.maxUnavailable).toBe(1);
    expect(pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey).toBe('kubernetes.io/hostname');
  });

  test('a config change rolls the pods through the checksum annotation', () => {
    const a = synth().sts.spec.template.metadata.annotations['checksum/config'];
    const b = synth({ maxMemory: Size.mebibytes(512) }).sts.spec.template.metadata.annotations['checksum/config'];
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(b).not.toBe(a);
  });
});

describe('RedisCluster options', () => {
  test('the plain three-pod shape: 3 shards, no replicas', () => {
    const { sts, redis } = synth({ shards: 3, replicasPerShard: 0 });
    expect(sts.spec.replicas).toBe(3);
    expect(redis.clusterInitScript).toMatch(/REPLICAS='0'/);
  });

  test('topology, port, image, uid, memory and persistence settings reach the manifests and redis.conf', () => {
    const { sts, container, redis, manifests, pod } = synth({
      shards: 5, replicasPerShard: 2, port: 7000, image: 'registry.example.com/redis:7.4.2', security: { runAsUser: 1001 },
      maxMemory: Size.mebibytes(512), maxMemoryPolicy: MaxMemoryPolicy.ALLKEYS_LRU, clusterNodeTimeout: Duration.seconds(5),
      clusterRequireFullCoverage: false, dataPersistence: { rdbSavePoints: [] }, extraSettings: { 'hz': '20' },
      resources: { cpu: { request: Cpu.millis(500) }, memory: { request: Size.gibibytes(1), limit: Size.gibibytes(2) } },
      startupTimeout: Duration.minutes(5), scheduling: { priorityClassName: 'cache', zoneSpread: SpreadMode.PREFERRED, nodeSpread: SpreadMode.REQUIRED },
      disruptionBudget: DisruptionBudget.minAvailable(12),
    });
    expect(manifests).toMatchSnapshot();
    expect(sts.spec.replicas).toBe(15);
    expect(container.image).toBe('registry.example.com/redis:7.4.2');
    expect(pod.securityContext).toMatchObject({ runAsUser: 1001, runAsGroup: 1001, fsGroup: 1001 });
    expect(container.ports).toEqual([{ name: 'redis', containerPort: 7000, protocol: 'TCP' }, { name: 'cluster-bus', containerPort: 17000, protocol: 'TCP' }]);
    expect(container.resources).toEqual({ requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '2Gi' } });
    expect(container.startupProbe.failureThreshold).toBe(30);
    expect(pod.priorityClassName).toBe('cache');
    expect(pod.topologySpreadConstraints[0].topologyKey).toBe('topology.kubernetes.io/zone');
    expect(pod.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution).toHaveLength(1);
    expect(findObject(manifests, 'PodDisruptionBudget').spec.minAvailable).toBe(12);
    const lines = redis.redisConf.split('\n');
    expect(lines).toEqual(expect.arrayContaining(['port 7000', 'maxmemory-policy allkeys-lru', 'cluster-node-timeout 5000', 'cluster-require-full-coverage no', 'save ""', 'hz 20']));
    expect(lines.find((l) => l.startsWith('maxmemory '))).toMatch(/^maxmemory (536870912|512mb)$/);
  });

  test('command and join timeouts reach the scripts and the probe timeouts', () => {
    const { container, redis } = synth({ commandTimeout: Duration.seconds(2), joinTimeout: Duration.minutes(3) });
    expect(container.livenessProbe.timeoutSeconds).toBe(3);
    expect(container.readinessProbe.timeoutSeconds).toBe(3);
    expect(container.startupProbe.timeoutSeconds).toBe(3);
    expect(redis.clusterInitScript).toContain("CMD_TIMEOUT='2'");
    expect(redis.clusterInitScript).toContain("JOIN_TIMEOUT='180'");
    expect(() => synth({ commandTimeout: Duration.seconds(0) })).toThrow(/test\/redis: invalid commandTimeout \(0 seconds\): must be a whole number of seconds, 1 s to 60 s/);
    expect(() => synth({ joinTimeout: Duration.seconds(5) })).toThrow(/test\/redis: invalid joinTimeout \(5 seconds\): must be a whole number of seconds, 10 s/);
  });

  test('auth from a named Secret and key; auth off removes the password env', () => {
    let { container, redis } = synth({ auth: { existingSecret: 'cache-secret', existingSecretPasswordKey: 'redis-password' } });
    expect(env(container).REDIS_PASSWORD).toEqual({ secretKeyRef: { name: 'cache-secret', key: 'redis-password' } });
    expect(redis.authSecretName).toBe('cache-secret');
    ({ container, redis } = synth({ auth: { enabled: false } }));
    expect(env(container).REDIS_PASSWORD).toBeUndefined();
    expect(redis.authSecretName).toBeUndefined();
    expect(redis.files['start.sh']).toMatch(/AUTH_REQUIRED='0'/);
  });

  test('storage: an existing class by name, or a class the construct creates', () => {
    let { sts, manifests } = synth({ persistence: { storageClass: StorageClass.fromStorageClassName('linstor-r2'), size: Size.gibibytes(1) } });
    expect(sts.spec.volumeClaimTemplates[0].spec).toMatchObject({ storageClassName: 'linstor-r2', resources: { requests: { storage: '1Gi' } } });
    expect(manifests.filter((m) => m.kind === 'StorageClass')).toHaveLength(0);
    ({ sts, manifests } = synth({ persistence: { storageProvisioner: StorageProvisioner.linstor() } }));
    const sc = findObject(manifests, 'StorageClass');
    expect(sc).toMatchObject({ metadata: { name: 'redis' }, provisioner: 'linstor.csi.linbit.com', reclaimPolicy: 'Retain' });
    expect(sts.spec.volumeClaimTemplates[0].spec.storageClassName).toBe('redis');
  });

  test('metrics: exporter sidecar with auth, metrics port on the services, ServiceMonitor from the imported CRD class', () => {
    const { pod, manifests, redis } = synth({ metrics: { serviceMonitor: true, scrapeInterval: Duration.seconds(15), serviceMonitorLabels: { release: 'prom' } } });
    const exporter = pod.containers[1];
    expect(exporter.name).toBe('metrics');
    expect(exporter.image).toBe('docker.io/oliver006/redis_exporter:v1.66.0');
    // an exporter outage restarts the exporter but never takes the Redis node out of its Services
    expect(exporter.livenessProbe.httpGet).toEqual({ path: '/health', port: 9121 });
    expect(exporter.readinessProbe).toBeUndefined();
    expect(env(exporter)).toMatchObject({ REDIS_ADDR: 'redis://127.0.0.1:6379', REDIS_EXPORTER_IS_CLUSTER: 'true', REDIS_PASSWORD: { secretKeyRef: { name: 'redis-auth', key: 'password' } } });
    expect(findObject(manifests, 'Service', 'redis').spec.ports.map((p: any) => p.name)).toEqual(['redis', 'metrics']);
    const sm = findObject(manifests, 'ServiceMonitor');
    expect(sm.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(sm.metadata.labels.release).toBe('prom');
    expect(sm.spec).toEqual({
      selector: { matchLabels: { ...findObject(manifests, 'StatefulSet').spec.selector.matchLabels, 'stateful.cdk8s.io/service': 'client' } },
      endpoints: [{ port: 'metrics', interval: '15s' }],
    });
    // both Services publish the metrics port; the ServiceMonitor selects one of them, so every pod is scraped once
    const matching = manifests.filter((m: any) => m.kind === 'Service' && Object.entries(sm.spec.selector.matchLabels).every(([k, v]) => m.metadata.labels[k] === v));
    expect(matching.map((m: any) => m.metadata.name)).toEqual(['redis']);
    expect(findObject(manifests, 'Service', 'redis-headless').spec.ports.map((p: any) => p.name)).toContain('metrics');
    expect(redis.serviceMonitor).toBeDefined();
  });

  test('without replicas the budget allows no eviction, and one that does is refused', () => {
    const { manifests } = synth({ replicasPerShard: 0 });
    expect(findObject(manifests, 'PodDisruptionBudget').spec.maxUnavailable).toBe(0);
    expect(findObject(synth({ replicasPerShard: 0, disruptionBudget: DisruptionBudget.minAvailable(3) }).manifests, 'PodDisruptionBudget').spec.minAvailable).toBe(3);
    expect(() => synth({ replicasPerShard: 0, disruptionBudget: DisruptionBudget.maxUnavailable(1) }))
      .toThrow(/invalid disruptionBudget \("maxUnavailable 1"\): lets a drain evict a pod, but with replicasPerShard 0 every pod is the only copy of its slots/);
    expect(() => synth({ replicasPerShard: 0, disruptionBudget: DisruptionBudget.minAvailable(2) }))
      .toThrow(/invalid disruptionBudget \("minAvailable 2"\): lets a drain evict a pod/);
    expect(findObject(synth({ replicasPerShard: 1 }).manifests, 'PodDisruptionBudget').spec.maxUnavailable).toBe(1);
  });

  test('network policy: clients by label on the client port, bus port only between members', () => {
    const { manifests, redis } = synth({ networkPolicy: { allowedClientLabels: { 'redis-client': 'true' }, allowedClientNamespaceLabels: { team: 'shop' } }, metrics: {} });
    const np = findObject(manifests, 'NetworkPolicy');
    const members = { podSelector: { matchLabels: findObject(manifests, 'StatefulSet').spec.selector.matchLabels } };
    expect(np.spec.policyTypes).toEqual(['Ingress']);
    expect(np.spec.ingress).toEqual([
      { from: [members, { podSelector: { matchLabels: { 'redis-client': 'true' } }, namespaceSelector: { matchLabels: { team: 'shop' } } }], ports: [{ port: 6379, protocol: 'TCP' }] },
      { from: [members], ports: [{ port: 16379, protocol: 'TCP' }] },
      { from: [{ namespaceSelector: {} }], ports: [{ port: 9121, protocol: 'TCP' }] },
    ]);
    expect(redis.networkPolicy).toBeDefined();
    expect(synth({ networkPolicy: { enabled: false } }).manifests.filter((m) => m.kind === 'NetworkPolicy')).toHaveLength(0);
  });

  test('namespace and cluster domain reach the DNS names the nodes announce', () => {
    const app = Testing.app();
    const chart = new Chart(app, 'c', { namespace: 'cache' });
    const { redis } = synth({ clusterDomain: 'k8s.internal' }, chart);
    expect(redis.podDnsNames[0]).toBe('redis-0.redis-headless.cache.svc.k8s.internal');
    expect(redis.files['start.sh']).toContain("CLUSTER_DOMAIN='k8s.internal'");
  });

  test('escape hatch reaches the StatefulSet', () => {
    const chart = Testing.chart();
    const redis = new RedisCluster(chart, 'r', { name: 'redis' });
    redis.statefulSet.metadata.addAnnotation('example.com/tier', 'cache');
    expect(findObject(synthValid(chart), 'StatefulSet').metadata.annotations).toEqual({ 'example.com/tier': 'cache' });
    expect(toml).toBeDefined();
  });
});

describe('RedisCluster bad input', () => {
  test.each<[string, RedisClusterProps, RegExp]>([
    ['fewer than 3 shards', { shards: 2 }, /test\/redis: invalid shards \(2\): must be a whole number 3 to 1000/],
    ['negative replicas', { replicasPerShard: -1 }, /invalid replicasPerShard \(-1\): must be a whole number 0 to 5/],
    ['port too high for the bus', { port: 60000 }, /invalid port \(60000\): must be at most 55535: the cluster bus uses port \+ 10000/],
    ['metrics port clash', { metrics: { port: 16379 } }, /invalid metrics.port \(16379\): clashes with the client port 6379 or the cluster bus port 16379/],
    ['empty auth key', { auth: { existingSecretPasswordKey: '' } }, /invalid auth.existingSecretPasswordKey \(""\): must be a Secret data key/],
    ['bad secret name', { auth: { existingSecret: 'Bad_Secret' } }, /invalid auth.existingSecret \("Bad_Secret"\): must be a DNS subdomain/],
    ['auth off with a secret', { auth: { enabled: false, existingSecret: 's' } }, /invalid auth.enabled \(false\): cannot be false while auth.existingSecret/],
    ['maxMemory not a whole KiB', { maxMemory: Size.kibibytes(0.5) }, /test\/redis: invalid maxMemory \(0.5 KiB\): must be a whole number of KiB and at least 1 MiB/],
    ['owned directive', { extraSettings: { requirepass: 'x' } }, /test\/redis: invalid extraSettings key \("requirepass"\): "requirepass" is owned by the construct/],
    ['newline in a setting', { extraSettings: { hz: '10\nrequirepass x' } }, /invalid extraSettings key "hz" value .*must not contain control characters/],
    ['cluster node timeout', { clusterNodeTimeout: Duration.millis(100) }, /invalid clusterNodeTimeout .*must be a whole number of milliseconds from 500 ms/],
    ['storage class and provisioner', { persistence: { storageClass: StorageClass.fromStorageClassName('x'), storageProvisioner: StorageProvisioner.linstor() } }, /invalid persistence.storageProvisioner \("linstor.csi.linbit.com"\): cannot be combined with persistence.storageClass/],
    ['volume size', { persistence: { size: Size.kibibytes(100) } }, /invalid volumeClaimTemplates\[0\].size \(100 KiB\): must be a whole number of MiB/],
    ['name too long', { name: 'r'.repeat(46) }, /invalid name .*at most 45 characters/],
    ['uid 0', { security: { runAsUser: 0 } }, /invalid security.runAsUser \(0\): must be a whole number 1 to 2147483647/],
    ['startup timeout', { startupTimeout: Duration.seconds(5) }, /invalid startupTimeout .*at least 10 s/],
    ['scrape interval without ServiceMonitor', { metrics: { scrapeInterval: Duration.seconds(10) } }, /invalid metrics.serviceMonitor \(unset\): must be true when scrapeInterval or serviceMonitorLabels are set/],
    ['metrics off with options', { metrics: { enabled: false, serviceMonitor: true } }, /invalid metrics.enabled \(false\): cannot be false while other metrics options are set/],
    ['network policy off with labels', { networkPolicy: { enabled: false, allowedClientLabels: { a: 'b' } } }, /invalid networkPolicy.enabled \(false\): cannot be false/],
    ['bad client label', { networkPolicy: { allowedClientLabels: { a: 'b c' } } }, /invalid networkPolicy.allowedClientLabels\["a"\] \("b c"\): must be a label value/],
    ['draining with 3 shards', { drainingShards: 1 }, /test\/redis: invalid drainingShards \(1\): must be an integer from 0 to 0 \(a Redis Cluster keeps at least 3 of its 3 shards\); to remove N shards, first apply drainingShards N with the current shards, then lower shards by N with drainingShards 0/],
    ['draining too many', { shards: 5, drainingShards: 3 }, /invalid drainingShards \(3\): must be an integer from 0 to 2 \(a Redis Cluster keeps at least 3 of its 5 shards\)/],
    ['negative draining', { shards: 5, drainingShards: -1 }, /invalid drainingShards \(-1\): must be an integer from 0 to 2/],
    ['fractional draining', { shards: 5, drainingShards: 1.5 }, /invalid drainingShards \(1.5\): must be an integer from 0 to 2/],
  ])('%s', (_name, props, message) => {
    expect(() => synth(props)).toThrow(message);
  });
});

describe('RedisCluster resource presets', () => {
  test('GIVEN resourcesPreset small WHEN synthesized THEN the manifests match the snapshot', () => {
    expect(synth({ resourcesPreset: RedisResourcesPreset.SMALL }).manifests).toMatchSnapshot();
  });

  test.each<[RedisResourcesPreset, string, string, string]>([
    [RedisResourcesPreset.NANO, '100m', '128Mi', '96mb'],
    [RedisResourcesPreset.MICRO, '250m', '256Mi', '192mb'],
    [RedisResourcesPreset.SMALL, '500m', '512Mi', '384mb'],
    [RedisResourcesPreset.MEDIUM, '500m', '1Gi', '768mb'],
    [RedisResourcesPreset.LARGE, '1', '2Gi', '1536mb'],
    [RedisResourcesPreset.XLARGE, '2', '4Gi', '3gb'],
    [RedisResourcesPreset.XXLARGE, '2', '8Gi', '6gb'],
  ])('preset %s: CPU request %s, memory request = limit %s, maxmemory %s (75 %% of the limit)', (preset, cpu, memory, maxmemory) => {
    const { container, redis } = synth({ resourcesPreset: preset });
    expect(container.resources).toEqual({ requests: { cpu, memory }, limits: { memory } });
    expect(redis.redisConf.split('\n')).toContain(`maxmemory ${maxmemory}`);
    expect(redis.maxMemory).toBeDefined();
  });

  test('an explicit maxMemory wins over the derived one, up to the limit; the exporter keeps its own resources', () => {
    const { redis, pod } = synth({ resourcesPreset: RedisResourcesPreset.MEDIUM, maxMemory: Size.mebibytes(900), metrics: {} });
    expect(redis.redisConf.split('\n')).toContain('maxmemory 900mb');
    expect(pod.containers[1].resources.limits.memory).toBe('128Mi');
    expect(synth({ resourcesPreset: RedisResourcesPreset.MEDIUM, maxMemory: Size.gibibytes(1) }).redis.redisConf.split('\n')).toContain('maxmemory 1gb');
  });

  test('without a preset nothing is derived: defaults and explicit resources keep maxmemory unset', () => {
    expect(synth().redis.maxMemory).toBeUndefined();
    expect(synth().redis.redisConf).not.toMatch(/^maxmemory /m);
    const explicit = synth({ resources: { memory: { request: Size.gibibytes(2), limit: Size.gibibytes(2) } } });
    expect(explicit.redis.redisConf).not.toMatch(/^maxmemory /m);
  });

  test.each<[string, RedisClusterProps, RegExp]>([
    ['preset and resources', { resourcesPreset: RedisResourcesPreset.SMALL, resources: { cpu: { request: Cpu.millis(100) } } },
      /^test\/redis: invalid resourcesPreset \("small"\): cannot be combined with resources: choose a preset or explicit resources$/],
    ['unknown preset', { resourcesPreset: 'huge' as RedisResourcesPreset },
      /^test\/redis: invalid resourcesPreset \("huge"\): must be one of nano, micro, small, medium, large, xlarge, 2xlarge$/],
    ['maxMemory above the preset limit', { resourcesPreset: RedisResourcesPreset.NANO, maxMemory: Size.mebibytes(200) },
      /^test\/redis: invalid maxMemory \(204800 KiB\): must not exceed the Redis container's memory limit \(128 MiB from resourcesPreset nano\): the kernel would kill the node before Redis evicts or refuses writes; accepted: at most the limit, better about 75 % of it \(96 MiB\), or a higher limit$/],
    ['maxMemory above the explicit limit', { resources: { memory: { limit: Size.gibibytes(2) } }, maxMemory: Size.mebibytes(2049) },
      /^test\/redis: invalid maxMemory \(2098176 KiB\): must not exceed the Redis container's memory limit \(2048 MiB from resources.memory.limit\)/],
    ['maxMemory above the default limit', { maxMemory: Size.gibibytes(2) },
      /^test\/redis: invalid maxMemory \(2097152 KiB\): must not exceed the Redis container's memory limit \(1024 MiB from the default resources\)/],
  ])('%s', (_name, props, message) => {
    expect(() => synth(props)).toThrow(message);
  });
});

describe('RedisCluster ACL users', () => {
  test('GIVEN acl with a users Secret and metrics WHEN synthesized THEN the manifests match the snapshot', () => {
    expect(synth({ acl: { usersSecret: 'redis-users' }, metrics: {} }).manifests).toMatchSnapshot();
  });

  test('the auth and users Secrets are mounted read-only (not env, so changes reach running pods); the exporter logs in as metrics', () => {
    const { pod, container, redis, manifests } = synth({ acl: { usersSecret: 'redis-users', defaultUserRules: 'off' }, metrics: {} });
    expect(pod.volumes).toEqual(expect.arrayContaining([
      { name: 'auth', secret: { secretName: 'redis-auth', defaultMode: 0o440 } },
      { name: 'users', secret: { secretName: 'redis-users', defaultMode: 0o440 } },
    ]));
    expect(container.volumeMounts).toEqual(expect.arrayContaining([
      { name: 'auth', mountPath: '/etc/redis-auth', readOnly: true },
      { name: 'users', mountPath: '/etc/redis-users', readOnly: true },
    ]));
    expect(env(container).REDIS_PASSWORD).toBeUndefined();
    expect(env(pod.containers[1])).toMatchObject({ REDIS_USER: 'metrics', REDIS_PASSWORD: { secretKeyRef: { name: 'redis-auth', key: 'metrics-password' } } });
    expect(redis.aclUsersSecretName).toBe('redis-users');
    const cm = findObject(manifests, 'ConfigMap', 'redis-config');
    expect(Object.keys(cm.data).sort()).toEqual(['acl.sh', 'cluster-init.sh', 'liveness.sh', 'readiness.sh', 'redis.conf', 'start.sh']);
    expect(cm.data['acl.sh']).toContain("DEFAULT_USER_RULES='off'");
    expect(cm.data['acl.sh']).toContain("USERS_FROM_SECRET='1'");
    expect(cm.data['acl.sh']).toContain("METRICS_PASSWORD_KEY='metrics-password'");
    expect(cm.data['liveness.sh']).toContain('redis-cli --user "$CLUSTER_USER" -h');
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, fsGroup: 999 });
  });

  test('named keys; without metrics no metrics user; without usersSecret no users volume', () => {
    const { pod, redis } = synth({ auth: { existingSecretPasswordKey: 'default' }, acl: { clusterPasswordKey: 'internal' } });
    expect(pod.volumes.map((v: any) => v.name)).toEqual(['auth', 'writable-redis-0', 'config']);
    const acl = redis.files['acl.sh'];
    expect(acl).toContain("PASSWORD_KEY='default'");
    expect(acl).toContain("CLUSTER_PASSWORD_KEY='internal'");
    expect(acl).toContain("METRICS_PASSWORD_KEY=''");
    expect(acl).toContain("USERS_FROM_SECRET='0'");
    expect(acl).toContain("DEFAULT_USER_RULES='~* &* +@all'");
  });

  test('the reload loop runs beside the server at the reload interval, as a user whose password never leaves the pod', () => {
    const { redis } = synth({ acl: { reloadInterval: Duration.seconds(30) } });
    expect(redis.files['acl.sh']).toContain("RELOAD_INTERVAL='30'");
    expect(redis.files['acl.sh']).toContain("RELOAD_USER='local-reload'");
    expect(redis.files['start.sh']).toContain('REDIS_SERVER_PID=$$ sh "$CONFIG_DIR/acl.sh" watch &');
    expect(synth({ acl: {} }).redis.files['acl.sh']).toContain("RELOAD_INTERVAL='10'");
  });

  test('acl off renders exactly the configuration without acl', () => {
    expect(synth({ acl: { enabled: false } }).manifests).toEqual(synth().manifests);
  });

  test.each<[string, RedisClusterProps, RegExp]>([
    ['acl without auth', { auth: { enabled: false }, acl: {} }, /^test\/redis: invalid acl \("enabled"\): needs auth/],
    ['acl off with options', { acl: { enabled: false, usersSecret: 'u' } }, /^test\/redis: invalid acl.enabled \(false\): cannot be false while other acl options are set/],
    ['password in the default rules', { acl: { defaultUserRules: '~* >hunter2' } }, /^test\/redis: invalid acl.defaultUserRules \("~\* >hunter2"\): must not set passwords \(found ">hunter2"\)/],
    ['hash in the default rules', { acl: { defaultUserRules: '#abc' } }, /invalid acl.defaultUserRules \("#abc"\): must not set passwords/],
    ['key clash', { acl: { clusterPasswordKey: 'password' } }, /^test\/redis: invalid acl.clusterPasswordKey \("password"\): must differ from auth.existingSecretPasswordKey \(password\)/],
    ['bad key', { acl: { metricsPasswordKey: 'a/b' } }, /^test\/redis: invalid acl.metricsPasswordKey \("a\/b"\): must be a Secret data key/],
    ['users Secret = auth Secret', { acl: { usersSecret: 'redis-auth' } }, /^test\/redis: invalid acl.usersSecret \("redis-auth"\): must differ from the auth Secret/],
    ['bad users Secret name', { acl: { usersSecret: 'Users' } }, /^test\/redis: invalid acl.usersSecret \("Users"\): must be a DNS subdomain/],
    ['reload interval below 1 s', { acl: { reloadInterval: Duration.millis(500) } }, /^test\/redis: invalid acl.reloadInterval \(500 millis\): must be a whole number of seconds, 1 s to 3600 s/],
    ['acl off with a reload interval', { acl: { enabled: false, reloadInterval: Duration.seconds(5) } }, /invalid acl.enabled \(false\): cannot be false while other acl options are set/],
  ])('%s', (_name, props, message) => {
    expect(() => synth(props)).toThrow(message);
  });
});

describe('RedisCluster flavours', () => {
  test('GIVEN flavour VALKEY_8 WHEN synthesized THEN the manifests match the snapshot', () => {
    expect(synth({ flavour: RedisFlavour.VALKEY_8 }).manifests).toMatchSnapshot();
  });

  test.each<[RedisFlavour, string]>([
    [RedisFlavour.REDIS_7_4, 'docker.io/library/redis:7.4.2'],
    [RedisFlavour.REDIS_8, 'docker.io/library/redis:8.2.2'],
    [RedisFlavour.VALKEY_8, 'docker.io/valkey/valkey:8.1.4'],
  ])('%s runs the pinned image %s as uid 999', (flavour, image) => {
    const { container, pod, redis } = synth({ flavour });
    expect(container.image).toBe(image);
    expect(pod.securityContext.runAsUser).toBe(999);
    expect(redis.flavour).toBe(flavour);
  });

  test('Redis 7.4 is the default; Redis 8 changes only the image; Valkey calls valkey-server and valkey-cli', () => {
    const base = synth();
    expect(base.redis.flavour).toBe(RedisFlavour.REDIS_7_4);
    expect(synth({ flavour: RedisFlavour.REDIS_7_4 }).manifests).toEqual(base.manifests);
    expect(synth({ flavour: RedisFlavour.REDIS_8 }).redis.files).toEqual(base.redis.files);
    const valkey = synth({ flavour: RedisFlavour.VALKEY_8, acl: {} }).redis.files;
    expect(valkey['redis.conf']).toBe(base.redis.files['redis.conf']);
    expect(valkey['start.sh']).toContain('exec valkey-server "$CONFIG_DIR/redis.conf" --include "$RUNTIME_CONF"');
    expect(valkey['liveness.sh']).toContain('valkey-cli --user "$CLUSTER_USER" -h "$_cli_host"');
    expect(valkey['acl.sh']).toContain('valkey-cli --user "$RELOAD_USER" -h "$LOCAL_HOST"');
    for (const [file, content] of Object.entries(valkey)) {
      // every call goes to the Valkey binaries; comments, setting descriptions and log messages may still say redis-cli
      const calls = content.split('\n').filter(l => !l.trim().startsWith('#') && !/^[A-Z_]+=/.test(l) && !/log "/.test(l));
      expect([file, calls.filter(l => /redis-(cli|server) /.test(l))]).toEqual([file, []]);
    }
  });

  test('an explicit image wins over the flavour default', () => {
    expect(synth({ flavour: RedisFlavour.VALKEY_8, image: 'registry.example.com/valkey:8.1.4' }).container.image).toBe('registry.example.com/valkey:8.1.4');
  });

  test('an unknown flavour is refused', () => {
    expect(() => synth({ flavour: 'keydb' as RedisFlavour })).toThrow(/^test\/redis: invalid flavour \("keydb"\): must be one of redis-7.4, redis-8, valkey-8$/);
  });
});

describe('RedisCluster TLS', () => {
  test('GIVEN tls from a cert-manager issuer with metrics and a NetworkPolicy WHEN synthesized THEN the manifests match the snapshot', () => {
    expect(synth({ tls: { issuer: { name: 'ca-issuer', kind: 'ClusterIssuer' } }, metrics: {}, networkPolicy: {} }).manifests).toMatchSnapshot();
  });

  test('the Certificate covers every pod, both Services and localhost; its Secret is mounted read-only in Redis and the exporter', () => {
    const app = Testing.app();
    const chart = new Chart(app, 'c', { namespace: 'cache' });
    const { manifests, pod, container, redis } = synth({ tls: { issuer: { name: 'ca-issuer', kind: 'ClusterIssuer' } }, metrics: {} }, chart);
    const cert = findObject(manifests, 'Certificate');
    expect(cert.apiVersion).toBe('cert-manager.io/v1');
    expect(cert.metadata).toMatchObject({ name: 'redis-tls', namespace: 'cache' });
    expect(cert.spec).toMatchObject({
      secretName: 'redis-tls',
      issuerRef: { name: 'ca-issuer', kind: 'ClusterIssuer', group: 'cert-manager.io' },
      dnsNames: [
        '*.redis-headless.cache.svc.cluster.local', 'redis-headless.cache.svc.cluster.local', 'redis-headless.cache.svc', 'redis-headless.cache', 'redis-headless',
        'redis.cache.svc.cluster.local', 'redis.cache.svc', 'redis.cache', 'redis', 'localhost',
      ],
      ipAddresses: ['127.0.0.1'],
    });
    for (const host of redis.podDnsNames) expect(host).toMatch(/^redis-\d+\.redis-headless\.cache\.svc\.cluster\.local$/);
    expect(redis.certificate).toBeDefined();
    expect(redis.tlsPort).toBe(6380);
    expect(pod.volumes).toContainEqual({ name: 'tls', secret: { secretName: 'redis-tls', defaultMode: 0o440 } });
    expect(container.volumeMounts).toContainEqual({ name: 'tls', mountPath: '/etc/redis-tls', readOnly: true });
    expect(container.ports.map((p: any) => [p.name, p.containerPort])).toEqual([['redis', 6379], ['redis-tls', 6380], ['cluster-bus', 16379]]);
    const exporter = pod.containers[1];
    expect(exporter.volumeMounts).toEqual([{ name: 'tls', mountPath: '/etc/redis-tls', readOnly: true }]);
    expect(env(exporter)).toMatchObject({
      REDIS_ADDR: 'rediss://localhost:6380', REDIS_EXPORTER_TLS_CA_CERT_FILE: '/etc/redis-tls/ca.crt',
      REDIS_EXPORTER_TLS_CLIENT_CERT_FILE: '/etc/redis-tls/tls.crt', REDIS_EXPORTER_TLS_CLIENT_KEY_FILE: '/etc/redis-tls/tls.key',
    });
    expect(findObject(manifests, 'Service', 'redis').spec.ports.map((p: any) => p.name)).toEqual(['redis', 'redis-tls', 'metrics']);
    expect(findObject(manifests, 'Service', 'redis-headless').spec.ports.map((p: any) => p.name)).toEqual(['redis', 'redis-tls', 'cluster-bus', 'metrics']);
  });

  test('redis.conf, probes and scripts: TLS on the TLS port for clients, bus and replication; a reload loop for renewed certificates', () => {
    const { redis, container } = synth({ tls: { existingSecret: 'my-tls', reloadInterval: Duration.seconds(30) } });
    const lines = redis.redisConf.split('\n');
    expect(lines).toEqual(expect.arrayContaining(['port 6379', 'tls-port 6380', 'tls-cluster yes', 'tls-replication yes', 'tls-auth-clients optional', 'cluster-port 16379']));
    expect(redis.files['liveness.sh']).toContain('redis-cli --tls --cacert "$TLS_DIR/ca.crt" --cert "$TLS_DIR/tls.crt" --key "$TLS_DIR/tls.key" -h "$_cli_host"');
    expect(redis.files['liveness.sh']).toContain("PORT='6380'");
    expect(redis.files['cluster-init.sh']).toContain("BUS_PORT='16379'");
    expect(redis.files['tls.sh']).toContain("TLS_RELOAD_INTERVAL='30'");
    expect(redis.files['start.sh']).toContain('REDIS_SERVER_PID=$$ sh "$CONFIG_DIR/tls.sh" watch &');
    // the new scripts carry no pattern that secret scanners flag in ConfigMaps
    expect(redis.files['tls.sh']).not.toContain('${REDIS_PASSWORD');
    expect(synth({ acl: {}, tls: { existingSecret: 'x' } }).redis.files['acl.sh']).not.toContain('${REDIS_PASSWORD');
    expect(redis.tlsSecretName).toBe('my-tls');
    expect(container.volumeMounts).toContainEqual({ name: 'tls', mountPath: '/etc/redis-tls', readOnly: true });
  });

  test('plaintext off: TLS on the client port, no plain port anywhere; with ACL the reload loop logs in as local-reload', () => {
    const { redis, container, manifests } = synth({ tls: { existingSecret: 'my-tls', plaintext: false }, acl: {}, networkPolicy: {} });
    expect(redis.redisConf.split('\n')).toEqual(expect.arrayContaining(['port 0', 'tls-port 6379']));
    expect(redis.tlsPort).toBe(6379);
    expect(container.ports.map((p: any) => p.name)).toEqual(['redis-tls', 'cluster-bus']);
    expect(findObject(manifests, 'Service', 'redis').spec.ports.map((p: any) => p.name)).toEqual(['redis-tls']);
    expect(findObject(manifests, 'NetworkPolicy').spec.ingress[0].ports).toEqual([{ port: 6379, protocol: 'TCP' }]);
    expect(redis.files['tls.sh']).toContain("RELOAD_USER='local-reload'");
    expect(redis.files['acl.sh']).toContain('redis-cli --tls --cacert "$TLS_DIR/ca.crt" --cert "$TLS_DIR/tls.crt" --key "$TLS_DIR/tls.key" --user "$RELOAD_USER" -h');
  });

  test('tls off renders exactly the configuration without tls', () => {
    expect(synth({ tls: { enabled: false } }).manifests).toEqual(synth().manifests);
  });

  test.each<[string, RedisClusterProps, RegExp]>([
    ['no certificate source', { tls: {} }, /^test\/redis: invalid tls \("neither existingSecret nor issuer"\): needs exactly one certificate source/],
    ['two certificate sources', { tls: { existingSecret: 's', issuer: { name: 'i' } } }, /^test\/redis: invalid tls \("existingSecret and issuer"\): needs exactly one certificate source/],
    ['TLS port = plaintext port', { tls: { existingSecret: 's', port: 6379 } }, /^test\/redis: invalid tls.port \(6379\): clashes with the plaintext client port/],
    ['TLS port = bus port', { tls: { existingSecret: 's', port: 16379 } }, /^test\/redis: invalid tls.port \(16379\): clashes with the cluster bus port/],
    ['TLS port = metrics port', { tls: { existingSecret: 's', port: 9121 }, metrics: {} }, /^test\/redis: invalid tls.port \(9121\): clashes with the metrics port/],
    ['bad issuer kind', { tls: { issuer: { name: 'i', kind: 'cluster issuer' } } }, /^test\/redis: invalid tls.issuer.kind \("cluster issuer"\): must be a Kubernetes kind/],
    ['bad Secret name', { tls: { existingSecret: 'My_Tls' } }, /^test\/redis: invalid tls.existingSecret \("My_Tls"\): must be a DNS subdomain/],
    ['tls off with options', { tls: { enabled: false, existingSecret: 's' } }, /^test\/redis: invalid tls.enabled \(false\): cannot be false while other tls options are set/],
    ['reload interval', { tls: { existingSecret: 's', reloadInterval: Duration.millis(10) } }, /^test\/redis: invalid tls.reloadInterval \(10 millis\): must be a whole number of seconds, 1 s to 86400 s/],
    ['owned directive', { extraSettings: { 'tls-cert-file': '/x' } }, /invalid extraSettings key \("tls-cert-file"\): "tls-cert-file" is owned by the construct \(the certificate comes from the tls Secret\)/],
  ])('%s', (_name, props, message) => {
    expect(() => synth(props)).toThrow(message);
  });
});

describe('RedisCluster shard removal', () => {
  test('GIVEN drainingShards 1 of 4 WHEN synthesized THEN the manifests match the snapshot', () => {
    expect(synth({ shards: 4, drainingShards: 1 }).manifests).toMatchSnapshot();
  });

  test('draining changes no pod: the pod template (and its config checksum) stays as it was; the ConfigMap gains drain.sh and draining-shards', () => {
    const before = synth({ shards: 5 });
    const during = synth({ shards: 5, drainingShards: 2 });
    expect(during.sts.spec.template).toEqual(before.sts.spec.template);
    expect(during.sts.spec.replicas).toBe(10);
    const data = findObject(during.manifests, 'ConfigMap', 'redis-config').data;
    expect(data['draining-shards']).toBe('2\n');
    expect(data['drain.sh']).toContain("DRAINING_SHARDS='2'");
    expect(Object.keys(findObject(before.manifests, 'ConfigMap', 'redis-config').data)).not.toContain('drain.sh');
    // the next apply may remove the drained shards' pods: 2 shards x (1 + 1)
    expect(during.sts.metadata.annotations).toEqual({ 'stateful.cdk8s.io/draining-pods': '4' });
    expect(before.sts.metadata.annotations).toBeUndefined();
    expect(before.manifests.filter(m => m.kind === 'Job')).toEqual([]);
  });

  test('probes: liveness and readiness timings change, the checks stay the scripts; defaults fill what is not set', () => {
    const { container } = synth({
      commandTimeout: Duration.seconds(2),
      probes: {
        liveness: { period: Duration.seconds(10), failureThreshold: 6, terminationGracePeriod: Duration.seconds(20) },
        readiness: { timeout: Duration.seconds(5), successThreshold: 2, initialDelay: Duration.seconds(3) },
      },
    });
    expect(container.livenessProbe).toEqual({
      exec: { command: ['sh', '/etc/redis-cluster/liveness.sh'] },
      initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 6, successThreshold: 1, terminationGracePeriodSeconds: 20,
    });
    expect(container.readinessProbe).toEqual({
      exec: { command: ['sh', '/etc/redis-cluster/readiness.sh'] },
      initialDelaySeconds: 3, periodSeconds: 5, timeoutSeconds: 5, failureThreshold: 3, successThreshold: 2,
    });
    // the startup probe keeps following startupTimeout
    expect(container.startupProbe).toMatchObject({ exec: { command: ['sh', '/etc/redis-cluster/liveness.sh'] }, periodSeconds: 10, failureThreshold: 180, timeoutSeconds: 3 });
  });

  test.each<[string, RedisClusterProps, RegExp]>([
    ['a liveness timeout the redis-cli call does not fit in', { probes: { liveness: { timeout: Duration.seconds(2) } } },
      /^test\/redis: invalid probes.liveness.timeout \(2 seconds\): must be at least 5 s: the probe script waits up to commandTimeout \(4 s\) for redis-cli/],
    ['a readiness timeout below a raised commandTimeout', { commandTimeout: Duration.seconds(10), probes: { readiness: { timeout: Duration.seconds(10) } } },
      /^test\/redis: invalid probes.readiness.timeout \(10 seconds\): must be at least 11 s/],
    ['a liveness success threshold', { probes: { liveness: { successThreshold: 2 } } },
      /^test\/redis: invalid probes.liveness.successThreshold \(2\): must be 1 for a liveness probe/],
    ['a readiness grace period', { probes: { readiness: { terminationGracePeriod: Duration.seconds(5) } } },
      /^test\/redis: invalid probes.readiness.terminationGracePeriod \(5 seconds\): is not allowed on a readiness probe/],
    ['a period that is not whole seconds', { probes: { liveness: { period: Duration.millis(1500) } } },
      /^test\/redis: invalid probes.liveness.period \(1 second 500 millis\): must be a whole number of seconds/],
  ])('probes: refuses %s', (_name, props, message) => {
    expect(() => synth(props)).toThrow(message);
  });

  test('imagePullPolicy and security reach the Redis container and the drain Job alike', () => {
    const { manifests, container, pod } = synth({
      shards: 4, drainingShards: 1, imagePullPolicy: ImagePullPolicy.ALWAYS, security: { runAsUser: 1001, runAsGroup: 2001, fsGroup: 3001 },
    });
    const jobPod = findObject(manifests, 'Job', 'redis-drain-4-to-3').spec.template.spec;
    expect(container.imagePullPolicy).toBe('Always');
    expect(jobPod.containers[0].imagePullPolicy).toBe('Always');
    expect(pod.securityContext).toMatchObject({ runAsUser: 1001, runAsGroup: 2001, fsGroup: 3001 });
    expect(jobPod.securityContext).toMatchObject({ runAsUser: 1001, runAsGroup: 2001, fsGroup: 3001 });
  });

  test('the drain Job runs drain.sh in the Redis image as the Redis user, restricted, without a token, and no Service, budget or NetworkPolicy member selects its pods', () => {
    const { manifests, redis } = synth({
      shards: 5, drainingShards: 2, image: 'example.org/redis:7.4.2', imagePullSecrets: ['registry'],
      scheduling: { priorityClassName: 'critical', nodeSelector: { pool: 'cache' }, tolerations: [{ key: 'dedicated', value: 'cache' }] },
    });
    const job = findObject(manifests, 'Job', 'redis-drain-5-to-3');
    expect(redis.drainJob).toBeDefined();
    const pod = job.spec.template.spec;
    expect(pod.containers[0]).toMatchObject({
      image: 'example.org/redis:7.4.2',
      command: ['sh', '/etc/redis-cluster/drain.sh'],
      env: [
        { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
        { name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: 'redis-auth', key: 'password' } } },
      ],
      volumeMounts: [{ name: 'config', mountPath: '/etc/redis-cluster', readOnly: true }],
      securityContext: { readOnlyRootFilesystem: true, runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
    });
    expect(pod).toMatchObject({ restartPolicy: 'Never', automountServiceAccountToken: false, priorityClassName: 'critical', securityContext: { runAsUser: 999, runAsNonRoot: true } });
    expect(job.spec.template.spec.containers[0].imagePullPolicy).toBe('IfNotPresent');
    // it runs where the Redis pods may, and pulls as they do
    const redisPod = findObject(manifests, 'StatefulSet').spec.template.spec;
    expect([pod.nodeSelector, pod.tolerations, pod.imagePullSecrets]).toEqual([{ pool: 'cache' }, [{ key: 'dedicated', operator: 'Equal', value: 'cache' }], [{ name: 'registry' }]]);
    expect([redisPod.nodeSelector, redisPod.tolerations, redisPod.imagePullSecrets]).toEqual([pod.nodeSelector, pod.tolerations, pod.imagePullSecrets]);
    expect(pod.volumes).toEqual([{ name: 'config', configMap: { name: 'redis-config' } }]);
    const podLabels = job.spec.template.metadata.labels;
    const matches = (selector: { [k: string]: string }) => Object.entries(selector).every(([k, v]) => podLabels[k] === v);
    expect(matches(findObject(manifests, 'StatefulSet').spec.selector.matchLabels)).toBe(false);
    expect(manifests.filter(m => m.kind === 'Service').map(m => matches(m.spec.selector))).toEqual([false, false]);
    expect(matches(findObject(manifests, 'PodDisruptionBudget').spec.selector.matchLabels)).toBe(false);
  });

  test('with ACL users and TLS the Job mounts the auth and TLS Secrets instead of a password env var; with networkPolicy its pods reach the client ports and admit nothing', () => {
    const { manifests } = synth({ shards: 4, drainingShards: 1, acl: { usersSecret: 'users' }, tls: { existingSecret: 'redis-tls' }, networkPolicy: {} });
    const pod = findObject(manifests, 'Job', 'redis-drain-4-to-3').spec.template.spec;
    expect(pod.containers[0].env.map((e: any) => e.name)).toEqual(['POD_NAMESPACE']);
    expect(pod.containers[0].volumeMounts.map((m: any) => [m.name, m.mountPath])).toEqual([['config', '/etc/redis-cluster'], ['auth', '/etc/redis-auth'], ['tls', '/etc/redis-tls']]);
    expect(pod.volumes.slice(1)).toEqual([{ name: 'auth', secret: { secretName: 'redis-auth', defaultMode: 0o440 } }, { name: 'tls', secret: { secretName: 'redis-tls', defaultMode: 0o440 } }]);
    const drain = findObject(manifests, 'ConfigMap', 'redis-config').data['drain.sh'];
    expect(drain).toContain("CLUSTER_PASSWORD_KEY='cluster-password'");
    expect(drain).toContain('--user "$CLUSTER_USER" --cluster rebalance');
    expect(drain).toContain('--tls --cacert "$TLS_DIR/ca.crt"');
    const np = findObject(manifests, 'NetworkPolicy', 'redis');
    expect(np.spec.ingress[0].from).toContainEqual({ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'redis-cluster', 'app.kubernetes.io/instance': 'redis', 'app.kubernetes.io/component': 'drain' } } });
    expect(np.spec.ingress[0].ports.map((p: any) => p.port)).toEqual([6379, 6380]);
    // the Job's pods serve nothing: their own policy admits no ingress
    expect(findObject(manifests, 'NetworkPolicy', 'redis-drain').spec).toEqual({
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'redis-cluster', 'app.kubernetes.io/instance': 'redis', 'app.kubernetes.io/component': 'drain' } },
      policyTypes: ['Ingress'],
    });
    const plain = synth({ shards: 4, networkPolicy: {} }).manifests;
    expect(findObject(plain, 'NetworkPolicy').spec.ingress[0].from).toHaveLength(1);
    expect(plain.filter(m => m.kind === 'NetworkPolicy')).toHaveLength(1);
  });

  test('names at their limits: a 45-character name draining 3 of 1000 shards gives a Job name of 63 characters', () => {
    const name = 'r'.repeat(45);
    const chart = Testing.chart();
    new RedisCluster(chart, 'redis', { name, shards: 1000, replicasPerShard: 0, drainingShards: 3 });
    const job = findObject(synthValid(chart, ['ServiceMonitor']), 'Job');
    expect(job.metadata.name).toBe(`${name}-drain-1000-to-997`);
    expect(job.metadata.name.length).toBe(63);
  });

  test('the removal guard: a ValidatingAdmissionPolicy and binding per cluster, named by namespace and name, selecting its StatefulSet; off with shardRemovalGuard false', () => {
    const chart = new Chart(Testing.app(), 'c', { namespace: 'data' });
    new RedisCluster(chart, 'a', { name: 'a' });
    new RedisCluster(chart, 'b', { name: 'b', shardRemovalGuard: false });
    const manifests = synthValid(chart, []);
    const policies = manifests.filter(m => m.kind === 'ValidatingAdmissionPolicy');
    expect(policies.map(p => p.metadata)).toEqual([expect.objectContaining({ name: 'cdk8s-stateful.redis-shards.data.a' })]);
    expect(policies[0].metadata.namespace).toBeUndefined();
    expect(policies[0].spec.matchConstraints).toEqual({
      resourceRules: [{ apiGroups: ['apps'], apiVersions: ['v1'], operations: ['UPDATE'], resources: ['statefulsets'] }],
      objectSelector: { matchLabels: { 'app.kubernetes.io/name': 'redis-cluster', 'app.kubernetes.io/instance': 'a', 'app.kubernetes.io/component': 'redis' } },
    });
    expect(policies[0].spec.validations[0].expression).toContain('oldObject.spec.replicas - object.spec.replicas <= ');
    const binding = findObject(manifests, 'ValidatingAdmissionPolicyBinding');
    expect(binding.spec).toEqual({
      policyName: 'cdk8s-stateful.redis-shards.data.a', validationActions: ['Deny'],
      matchResources: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'data' } } },
    });
    // without a namespace the objects go wherever they are applied: the labels alone select
    expect(findObject(synth().manifests, 'ValidatingAdmissionPolicyBinding').spec.matchResources).toBeUndefined();
  });

  test('two clusters of the same name in two namespaces of one app get guards of their own', () => {
    const app = Testing.app();
    for (const ns of ['one', 'two']) new RedisCluster(new Chart(app, ns, { namespace: ns }), 'redis', { name: 'redis' });
    const names = app.charts.flatMap(c => c.toJson()).filter(m => m.kind.startsWith('ValidatingAdmissionPolicy')).map(m => `${m.kind}/${m.metadata.name}`);
    expect(names.sort()).toEqual([
      'ValidatingAdmissionPolicy/cdk8s-stateful.redis-shards.one.redis', 'ValidatingAdmissionPolicy/cdk8s-stateful.redis-shards.two.redis',
      'ValidatingAdmissionPolicyBinding/cdk8s-stateful.redis-shards.one.redis', 'ValidatingAdmissionPolicyBinding/cdk8s-stateful.redis-shards.two.redis',
    ]);
    expect(() => app.synth()).not.toThrow();
  });
});
