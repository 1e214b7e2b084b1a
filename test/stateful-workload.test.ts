import { ApiObject, Chart, Duration, JsonPatch, Size, Testing } from 'cdk8s';
import { EnvValue, PersistentVolumeAccessMode, PodManagementPolicy, Protocol, TaintEffect, Volume } from 'cdk8s-plus-28';
import {
  DisruptionBudget, StatefulProbe, PvcRetentionAction, SpreadMode, StatefulUpdateStrategy, StatefulWorkload, StatefulWorkloadProps, StorageClass,
  UnhealthyPodEvictionPolicy,
} from '../src';
import { findObject, synthValid } from './support/validate';

const base: StatefulWorkloadProps = {
  name: 'web',
  containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ name: 'http', port: 8080 }], mounts: [{ volume: 'data', path: '/data' }] }],
  volumeClaimTemplates: [{ name: 'data', size: Size.gibibytes(1), storageClass: StorageClass.fromStorageClassName('linstor-r2') }],
};

function synth(props: Partial<StatefulWorkloadProps> = {}, chart: Chart = Testing.chart()) {
  const workload = new StatefulWorkload(chart, 'w', { ...base, ...props });
  const manifests = synthValid(chart);
  return { workload, manifests, sts: findObject(manifests, 'StatefulSet'), svc: findObject(manifests, 'Service') };
}

describe('StatefulWorkload', () => {
  test('GIVEN the classic Redis StatefulSet shape WHEN synthesized THEN headless Service + StatefulSet + claim template named data', () => {
    const { sts, svc, workload, manifests } = synth({ name: 'redis', headlessService: { name: 'redis-headless' }, replicas: 3 });
    expect(manifests).toMatchSnapshot();
    expect(svc.spec.clusterIP).toBe('None');
    expect(svc.metadata.name).toBe('redis-headless');
    expect(sts.spec.serviceName).toBe('redis-headless');
    expect(sts.spec.volumeClaimTemplates[0].spec).toEqual({
      accessModes: ['ReadWriteOnce'], storageClassName: 'linstor-r2', resources: { requests: { storage: '1Gi' } },
    });
    expect(workload.podDnsNames).toEqual([0, 1, 2].map((i) => `redis-${i}.redis-headless.default.svc.cluster.local`));
    expect(workload.headlessServiceDnsName).toBe('redis-headless.default.svc.cluster.local');
  });

  test('recommended labels everywhere; selector uses only the stable ones', () => {
    const { sts, svc } = synth({ component: 'cache', partOf: 'shop', version: '1.27', labels: { team: 'platform' }, selectorLabels: { app: 'web' } });
    expect(sts.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'web', 'app.kubernetes.io/instance': 'web', 'app.kubernetes.io/component': 'cache', 'app': 'web' });
    expect(sts.spec.template.metadata.labels).toEqual({
      ...sts.spec.selector.matchLabels, 'app.kubernetes.io/part-of': 'shop', 'app.kubernetes.io/version': '1.27', 'app.kubernetes.io/managed-by': 'cdk8s', 'team': 'platform',
    });
    expect(svc.spec.selector).toEqual(sts.spec.selector.matchLabels);
  });

  test('StatefulSet controls: podManagementPolicy, partition, onDelete, minReady, retention', () => {
    let { sts } = synth({ replicas: 3, podManagementPolicy: PodManagementPolicy.PARALLEL, updateStrategy: StatefulUpdateStrategy.rollingUpdate({ partition: 2 }), minReady: Duration.seconds(10), pvcRetention: { whenScaled: PvcRetentionAction.DELETE } });
    expect(sts.spec.podManagementPolicy).toBe('Parallel');
    expect(sts.spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { partition: 2 } });
    expect(sts.spec.minReadySeconds).toBe(10);
    expect(sts.spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: 'Retain', whenScaled: 'Delete' });
    ({ sts } = synth({ updateStrategy: StatefulUpdateStrategy.onDelete() }));
    expect(sts.spec.updateStrategy).toEqual({ type: 'OnDelete' });
  });

  test('headless Service publishes every container port and optionally not-ready addresses', () => {
    const { svc } = synth({
      headlessService: { publishNotReadyAddresses: true },
      containers: [
        { name: 'a', image: 'redis:7.4.2', ports: [{ name: 'redis', port: 6379 }, { name: 'bus', port: 16379 }] },
        { name: 'b', image: 'exporter:1', ports: [{ name: 'metrics', port: 9121 }, { name: 'dns', port: 53, protocol: Protocol.UDP }] },
      ],
      volumeClaimTemplates: [],
    });
    expect(svc.metadata.name).toBe('web-headless');
    expect(svc.spec.publishNotReadyAddresses).toBe(true);
    expect(svc.spec.ports.map((p: any) => [p.name, p.port, p.protocol])).toEqual([['redis', 6379, 'TCP'], ['bus', 16379, 'TCP'], ['metrics', 9121, 'TCP'], ['dns', 53, 'UDP']]);
  });

  test('a workload without ports still gets a valid headless Service', () => {
    const { svc } = synth({ containers: [{ name: 'w', image: 'busybox:1.36' }], volumeClaimTemplates: [] });
    expect(svc.spec.ports).toBeUndefined();
  });

  test('scheduling: node and zone spread, tolerations, priority, node selector', () => {
    const { sts } = synth({
      scheduling: {
        nodeSpread: SpreadMode.REQUIRED, zoneSpread: SpreadMode.PREFERRED, priorityClassName: 'high', nodeSelector: { disk: 'ssd' },
        tolerations: [{ key: 'dedicated', value: 'db', effect: TaintEffect.NO_SCHEDULE }, { key: 'node.kubernetes.io/unreachable', effect: TaintEffect.NO_EXECUTE, tolerationSeconds: Duration.seconds(20) }],
      },
    });
    const spec = sts.spec.template.spec;
    expect(spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution).toEqual([{ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: sts.spec.selector.matchLabels } }]);
    expect(spec.topologySpreadConstraints).toEqual([{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: sts.spec.selector.matchLabels } }]);
    expect(spec.tolerations).toEqual([
      { key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 20 },
    ]);
    expect(spec.priorityClassName).toBe('high');
    expect(spec.nodeSelector).toEqual({ disk: 'ssd' });
    expect(synth().sts.spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight).toBe(100);
    expect(synth({ scheduling: { nodeSpread: SpreadMode.NONE } }).sts.spec.template.spec.affinity).toBeUndefined();
    expect(synth({ scheduling: { zoneSpread: SpreadMode.REQUIRED } }).sts.spec.template.spec.topologySpreadConstraints[0].whenUnsatisfiable).toBe('DoNotSchedule');
  });

  test('disruption budgets', () => {
    let pdb = findObject(synth({ replicas: 3, disruptionBudget: DisruptionBudget.maxUnavailable(1, { unhealthyPodEvictionPolicy: UnhealthyPodEvictionPolicy.ALWAYS_ALLOW }) }).manifests, 'PodDisruptionBudget');
    expect(pdb.spec).toMatchObject({ maxUnavailable: 1, unhealthyPodEvictionPolicy: 'AlwaysAllow' });
    pdb = findObject(synth({ replicas: 3, disruptionBudget: DisruptionBudget.minAvailable(2) }).manifests, 'PodDisruptionBudget');
    expect(pdb.spec).toMatchObject({ minAvailable: 2 });
    expect(synth().workload.podDisruptionBudget).toBeUndefined();
  });

  test('security: numeric non-root user, restricted container context, writable emptyDirs', () => {
    const { sts } = synth({ security: { runAsUser: 999, runAsGroup: 998, fsGroup: 997 }, containers: [{ name: 'web', image: 'nginx:1.27', writablePaths: ['/tmp', '/var/cache/nginx'] }], volumeClaimTemplates: [] });
    const spec = sts.spec.template.spec;
    expect(spec.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 999, runAsGroup: 998, fsGroup: 997, fsGroupChangePolicy: 'OnRootMismatch', seccompProfile: { type: 'RuntimeDefault' } });
    expect(spec.volumes).toEqual([{ name: 'writable-web-0', emptyDir: {} }, { name: 'writable-web-1', emptyDir: {} }]);
    expect(spec.containers[0].volumeMounts).toEqual([{ name: 'writable-web-0', mountPath: '/tmp' }, { name: 'writable-web-1', mountPath: '/var/cache/nginx' }]);
  });

  test('pod volumes, service account, annotations, grace period, probes', () => {
    const chart = Testing.chart();
    const { sts } = synth({
      volumes: [Volume.fromEmptyDir(chart, 'scratch', 'scratch')],
      containers: [{ name: 'web', image: 'nginx:1.27', mounts: [{ volume: 'scratch', path: '/scratch', readOnly: true, subPath: 'x' }], readiness: StatefulProbe.fromHttpGet('/ready', { port: 8080 }), startup: StatefulProbe.fromGrpc({ port: 9000, service: 'app' }) }],
      serviceAccountName: 'web', automountServiceAccountToken: true, podAnnotations: { 'checksum/config': 'abc' }, terminationGracePeriod: Duration.seconds(60),
    }, chart);
    const spec = sts.spec.template.spec;
    expect(spec.volumes).toEqual([{ name: 'scratch', emptyDir: {} }]);
    expect(spec.containers[0].volumeMounts).toEqual([{ name: 'scratch', mountPath: '/scratch', readOnly: true, subPath: 'x' }]);
    expect(spec.serviceAccountName).toBe('web');
    expect(spec.automountServiceAccountToken).toBe(true);
    expect(sts.spec.template.metadata.annotations).toEqual({ 'checksum/config': 'abc' });
    expect(spec.terminationGracePeriodSeconds).toBe(60);
    expect(spec.containers[0].readinessProbe).toEqual({ httpGet: { path: '/ready', port: 8080 }, initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, failureThreshold: 3, successThreshold: 1 });
    expect(spec.containers[0].startupProbe.grpc).toEqual({ port: 9000, service: 'app' });
  });

  test('namespace: prop, chart namespace, DNS names follow', () => {
    const chart = Testing.chart();
    const { workload, sts } = synth({ namespace: 'data', clusterDomain: 'k8s.local' }, chart);
    expect(sts.metadata.namespace).toBe('data');
    expect(workload.podDnsName(1)).toBe('web-1.web-headless.data.svc.k8s.local');
    const app = Testing.app();
    const nsChart = new Chart(app, 'ns', { namespace: 'cache' });
    expect(new StatefulWorkload(nsChart, 'w', base).podDnsName(0)).toBe('web-0.web-headless.cache.svc.cluster.local');
  });

  test('escape hatches work on the exposed objects', () => {
    const chart = Testing.chart();
    const workload = new StatefulWorkload(chart, 'w', base);
    ApiObject.of(workload.statefulSet).addJsonPatch(JsonPatch.add('/spec/revisionHistoryLimit', 5));
    workload.headlessService.metadata.addAnnotation('example.com/owner', 'platform');
    const manifests = synthValid(chart);
    expect(findObject(manifests, 'StatefulSet').spec.revisionHistoryLimit).toBe(5);
    expect(findObject(manifests, 'Service').metadata.annotations).toEqual({ 'example.com/owner': 'platform' });
  });

  test.each<[string, Partial<StatefulWorkloadProps>, RegExp]>([
    ['no containers', { containers: [] }, /test\/w: invalid containers \(\[\]\): must list at least one container/],
    ['negative replicas', { replicas: -1 }, /invalid replicas \(-1\): must be a whole number 0 to 2147483647 \(int32\)/],
    ['partition above replicas', { replicas: 3, updateStrategy: StatefulUpdateStrategy.rollingUpdate({ partition: 4 }) }, /invalid updateStrategy.partition \(4\): must be a whole number 0 to 3/],
    ['uid 0', { security: { runAsUser: 0 } }, /invalid security.runAsUser \(0\): must be a whole number 1 to 2147483647/],
    ['grace 0', { terminationGracePeriod: Duration.seconds(0) }, /invalid terminationGracePeriod .*must be at least 1 s/],
    ['mount of unknown volume', { containers: [{ name: 'w', image: 'x:1', mounts: [{ volume: 'nope', path: '/x' }] }] }, /invalid containers\[w\].mounts\[\].volume \("nope"\): must name a claim template or pod volume \(known: data\)/],
    ['relative mount path', { containers: [{ name: 'w', image: 'x:1', mounts: [{ volume: 'data', path: 'x' }] }] }, /invalid containers\[w\].mounts\[\].path \("x"\): must be an absolute path/],
    ['two mounts at one path', { containers: [{ name: 'w', image: 'x:1', mounts: [{ volume: 'data', path: '/tmp' }], writablePaths: ['/tmp'] }] }, /invalid containers\[w\].mounts \("\/tmp"\): mounts two volumes at the same path/],
    ['port clash', { containers: [{ name: 'a', image: 'x:1', ports: [{ name: 'one', port: 80 }] }, { name: 'b', image: 'x:1', ports: [{ name: 'two', port: 80 }] }] }, /invalid containers\[b\].ports\[two\].port \(80\): clashes with port "one"/],
    ['duplicate port name', { containers: [{ name: 'a', image: 'x:1', ports: [{ name: 'one', port: 80 }, { name: 'one', port: 81 }] }] }, /invalid containers\[a\].ports\[\].name \("one"\): must be unique/],
    ['duplicate container', { containers: [{ name: 'a', image: 'x:1' }, { name: 'a', image: 'x:1' }] }, /invalid containers\[\].name \("a"\): must be unique within the pod/],
    ['claim template size', { volumeClaimTemplates: [{ name: 'data', size: Size.kibibytes(10) }] }, /invalid volumeClaimTemplates\[0\].size \(10 KiB\): must be a whole number of MiB/],
    ['RWOP mixed', { volumeClaimTemplates: [{ name: 'data', size: Size.gibibytes(1), accessModes: [PersistentVolumeAccessMode.READ_WRITE_ONCE_POD, PersistentVolumeAccessMode.READ_WRITE_ONCE] }] }, /ReadWriteOncePod cannot be combined/],
    ['reserved claim name', { volumeClaimTemplates: [{ name: 'writable-x', size: Size.gibibytes(1) }], containers: [{ name: 'w', image: 'x:1' }] }, /must not start with "writable-"/],
    ['label value', { labels: { team: 'a b' } }, /invalid labels\["team"\] \("a b"\): must be a label value/],
    ['label key', { selectorLabels: { 'bad key': 'x' } }, /invalid selectorLabels key \("bad key"\): must be a qualified name/],
    ['toleration seconds without NoExecute', { scheduling: { tolerations: [{ key: 'x', tolerationSeconds: Duration.seconds(5) }] } }, /invalid scheduling.tolerations\[0\].tolerationSeconds .*applies only to effect TaintEffect.NO_EXECUTE/],
    ['minAvailable above replicas', { replicas: 2, disruptionBudget: DisruptionBudget.minAvailable(3) }, /invalid disruptionBudget.minAvailable \(3\): must be a whole number 0 to 2/],
    ['cpu 0', { containers: [{ name: 'w', image: 'x:1', resources: { cpu: { request: { amount: '0' } as any } } }] }, /invalid containers\[w\].resources.cpu.request \("0"\): must be a positive CPU amount/],
    ['env name', { containers: [{ name: 'w', image: 'x:1', env: { '1BAD': { value: 'x' } as any } }] }, /invalid containers\[w\].env \("1BAD"\): must be an environment variable name/],
    ['namespace', { namespace: 'Data' }, /invalid namespace \("Data"\): must be a DNS label/],
    ['probe http path', { containers: [{ name: 'w', image: 'x:1', liveness: StatefulProbe.fromHttpGet('healthz', { port: 80 }) }] }, /invalid containers\[w\].liveness.path \("healthz"\): must be an absolute HTTP path/],
    ['probe empty command', { containers: [{ name: 'w', image: 'x:1', liveness: StatefulProbe.fromCommand([]) }] }, /invalid containers\[w\].liveness.command \(\[\]\): must name a command to run/],
  ])('bad input: %s', (_name, props, message) => {
    expect(() => synth(props)).toThrow(message);
  });
});

test('a size that is not a whole number of KiB gets the construct error, not a conversion error', () => {
  expect(() => synth({ volumeClaimTemplates: [{ name: 'data', size: Size.kibibytes(1.5) }] }))
    .toThrow(/test\/w: invalid volumeClaimTemplates\[0\].size \(1.5 KiB\): must be a whole number of MiB/);
});

describe('StatefulWorkload extension points', () => {
  test('sidecars, init containers, env, volumes, pod labels and config files reach the pod; sidecar ports join the headless Service; every container is restricted', () => {
    const chart = Testing.chart();
    const w = new StatefulWorkload(chart, 'w', base);
    w.addVolume(Volume.fromEmptyDir(chart, 'Scratch', 'scratch'));
    w.addInitContainer({ name: 'prepare', image: 'busybox:1.37.0', command: ['sh', '-c', 'true'], mounts: [{ volume: 'data', path: '/data' }] });
    w.addSidecar({ name: 'exporter', image: 'exporter:1.0', ports: [{ name: 'metrics', port: 9100 }], liveness: StatefulProbe.fromHttpGet('/health', { port: 9100 }) });
    w.addContainer({ name: 'worker', image: 'worker:2.0', mounts: [{ volume: 'scratch', path: '/scratch' }] });
    w.addEnv('web', 'MODE', EnvValue.fromValue('primary'));
    w.addEnv('exporter', 'TARGET', EnvValue.fromValue('localhost:8080'));
    w.addPodLabel('team', 'platform');
    const cm = w.addConfigFiles('Settings', { files: { 'app.conf': 'a = 1\n' }, mountPath: '/etc/app', containers: ['web', 'exporter'] });
    const manifests = synthValid(chart);
    const sts = findObject(manifests, 'StatefulSet');
    const pod = sts.spec.template.spec;
    expect(pod.initContainers.map((c: any) => [c.name, c.restartPolicy])).toEqual([['prepare', undefined], ['exporter', 'Always']]);
    expect(pod.containers.map((c: any) => c.name)).toEqual(['web', 'worker']);
    for (const c of [...pod.initContainers, ...pod.containers]) {
      expect(c.securityContext).toEqual({
        allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' },
      });
    }
    expect(pod.containers[0].env).toEqual([{ name: 'MODE', value: 'primary' }]);
    expect(pod.initContainers[1].env).toEqual([{ name: 'TARGET', value: 'localhost:8080' }]);
    expect(pod.volumes.map((v: any) => v.name)).toEqual(['scratch', 'config-settings']);
    expect(pod.volumes[1]).toEqual({ name: 'config-settings', configMap: { name: 'web-settings' } });
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: 'config-settings', mountPath: '/etc/app', readOnly: true });
    expect(pod.initContainers[1].volumeMounts).toEqual([{ name: 'config-settings', mountPath: '/etc/app', readOnly: true }]);
    expect(pod.containers[1].volumeMounts).toEqual([{ name: 'scratch', mountPath: '/scratch' }]);
    expect(findObject(manifests, 'ConfigMap', 'web-settings').data).toEqual({ 'app.conf': 'a = 1\n' });
    expect(cm.name).toBe('web-settings');
    expect(sts.spec.template.metadata.annotations['checksum/config-settings']).toMatch(/^[0-9a-f]{64}$/);
    expect(sts.spec.template.metadata.labels.team).toBe('platform');
    expect(sts.metadata.labels.team).toBeUndefined();
    expect(sts.spec.selector.matchLabels.team).toBeUndefined();
    expect(findObject(manifests, 'Service').spec.ports.map((p: any) => [p.name, p.port])).toEqual([['http', 8080], ['metrics', 9100]]);
  });

  test('a workload whose only ports come from a sidecar gets them in its Service; without any, the Service has no ports', () => {
    const chart = Testing.chart();
    const w = new StatefulWorkload(chart, 'w', { name: 'quiet', containers: [{ name: 'app', image: 'app:1' }] });
    expect(findObject(Testing.synth(chart), 'Service').spec.ports).toBeUndefined();
    w.addSidecar({ name: 'proxy', image: 'proxy:1', ports: [{ name: 'proxy', port: 15001 }] });
    expect(findObject(synthValid(chart), 'Service').spec.ports).toEqual([{ name: 'proxy', port: 15001, targetPort: 'proxy', protocol: 'TCP' }]);
  });

  test('a changed config file changes the checksum, so the pods roll; restartOnChange false leaves no annotation', () => {
    const checksum = (content: string, restartOnChange?: boolean) => {
      const chart = Testing.chart();
      new StatefulWorkload(chart, 'w', base).addConfigFiles('Cfg', { files: { f: content }, mountPath: '/etc/f', restartOnChange });
      return findObject(Testing.synth(chart), 'StatefulSet').spec.template.metadata.annotations?.['checksum/config-cfg'];
    };
    expect(checksum('a')).not.toEqual(checksum('b'));
    expect(checksum('a')).toEqual(checksum('a'));
    expect(checksum('a', false)).toBeUndefined();
  });

  test('live files stay out of the checksum: changing them rolls no pod, changing another file still does', () => {
    const render = (files: { [f: string]: string }, liveFiles?: string[]) => {
      const chart = Testing.chart();
      new StatefulWorkload(chart, 'w', base).addConfigFiles('Cfg', { files, mountPath: '/etc/f', liveFiles });
      const manifests = Testing.synth(chart);
      return { manifests, checksum: findObject(manifests, 'StatefulSet').spec.template.metadata.annotations?.['checksum/config-cfg'] };
    };
    const before = render({ 'app.conf': 'a', 'job.sh': 'x' }, ['job.sh']);
    expect(render({ 'app.conf': 'a', 'job.sh': 'y' }, ['job.sh']).checksum).toEqual(before.checksum);
    expect(render({ 'app.conf': 'b', 'job.sh': 'x' }, ['job.sh']).checksum).not.toEqual(before.checksum);
    // the live file is still in the ConfigMap and mounted
    expect(findObject(before.manifests, 'ConfigMap', 'web-cfg').data).toEqual({ 'app.conf': 'a', 'job.sh': 'x' });
    // the checksum covers exactly the other files
    expect(before.checksum).toEqual(render({ 'app.conf': 'a' }).checksum);
    // every file live: nothing to roll on
    expect(render({ 'job.sh': 'x' }, ['job.sh']).checksum).toBeUndefined();
    // the ConfigMap comes before the StatefulSet, so a first apply creates it before a pod mounts it
    const kinds = before.manifests.map((m) => m.kind);
    expect(kinds.indexOf('ConfigMap')).toBeLessThan(kinds.indexOf('StatefulSet'));
  });

  test('a cluster domain that is no DNS subdomain is refused: every pod DNS name would be one no resolver answers', () => {
    expect(() => new StatefulWorkload(Testing.chart(), 'w', { ...base, clusterDomain: 'Cluster Local' }))
      .toThrow(/^test\/w: invalid clusterDomain \("Cluster Local"\): must be a DNS subdomain/);
  });

  test('podPlacement is where the pods may run, as rendered, for a Job that must run there too', () => {
    const chart = Testing.chart();
    const w = new StatefulWorkload(chart, 'w', {
      ...base,
      imagePullSecrets: ['regcred'],
      scheduling: { nodeSelector: { pool: 'db' }, priorityClassName: 'critical', tolerations: [{ key: 'dedicated', value: 'db', effect: TaintEffect.NO_SCHEDULE }] },
    });
    const pod = findObject(Testing.synth(chart), 'StatefulSet').spec.template.spec;
    expect(w.podPlacement).toEqual({
      nodeSelector: pod.nodeSelector, tolerations: pod.tolerations, priorityClassName: pod.priorityClassName, imagePullSecrets: pod.imagePullSecrets,
    });
    expect(pod.nodeSelector).toEqual({ pool: 'db' });
    expect(pod.imagePullSecrets).toEqual([{ name: 'regcred' }]);
    expect(new StatefulWorkload(Testing.chart(), 'w', base).podPlacement).toEqual({});
  });

  test.each<[string, (w: StatefulWorkload, chart: Chart) => void, RegExp]>([
    ['an init container with a probe', (w) => w.addInitContainer({ name: 'init', image: 'x:1', liveness: StatefulProbe.fromCommand(['true']) }),
      /test\/w: invalid addInitContainer\[init\]\.liveness .*is not available on an init container.*use addSidecar/],
    ['an init container with ports', (w) => w.addInitContainer({ name: 'init', image: 'x:1', ports: [{ name: 'p', port: 1 }] }), /invalid addInitContainer\[init\]\.ports/],
    ['a sidecar named like an app container', (w) => w.addSidecar({ name: 'web', image: 'x:1' }), /invalid addSidecar\[\]\.name \("web"\): must be unique within the pod/],
    ['a sidecar port clashing with an app port', (w) => w.addSidecar({ name: 's', image: 'x:1', ports: [{ name: 'other', port: 8080 }] }), /invalid addSidecar\[s\]\.ports\[other\]\.port \(8080\): clashes with port "http"/],
    ['a container mounting a volume that does not exist yet', (w) => w.addContainer({ name: 'c', image: 'x:1', mounts: [{ volume: 'later', path: '/l' }] }), /invalid addContainer\[c\]\.mounts\[\]\.volume \("later"\): must name a claim template or pod volume \(known: data\)/],
    ['env for a missing container', (w) => w.addEnv('nope', 'A', EnvValue.fromValue('1')), /invalid addEnv\("nope"\) containerName \("nope"\): must name a container of the pod \(known: web\)/],
    ['env set twice', (w) => { w.addEnv('web', 'A', EnvValue.fromValue('1')); w.addEnv('web', 'A', EnvValue.fromValue('2')); }, /invalid addEnv\("web"\) name \("A"\): is already set in this container/],
    ['a bad env name', (w) => w.addEnv('web', '1A', EnvValue.fromValue('1')), /must be an environment variable name/],
    ['a pod label overriding a selector label', (w) => w.addPodLabel('app.kubernetes.io/name', 'x'), /invalid addPodLabel\["app.kubernetes.io\/name"\] \("x"\): would override the label .* \(a selector label/],
    ['a bad pod label value', (w) => w.addPodLabel('team', 'a b'), /invalid addPodLabel\["team"\] \("a b"\)/],
    ['a hostPath volume', (w, chart) => w.addVolume(Volume.fromHostPath(chart, 'H', 'host', { path: '/var' })), /invalid addVolume \("host"\): uses hostPath, which Pod Security Standards "restricted" forbids/],
    ['a volume named like a claim template', (w, chart) => w.addVolume(Volume.fromEmptyDir(chart, 'E', 'data')), /invalid addVolume \("data"\): clashes with another volume/],
    ['config files without files', (w) => w.addConfigFiles('C', { files: {}, mountPath: '/c' }), /invalid addConfigFiles\("C"\)\.files \(\{\}\): must hold at least one file/],
    ['a config file name that is not a key', (w) => w.addConfigFiles('C', { files: { 'a/b': '' }, mountPath: '/c' }), /invalid addConfigFiles\("C"\)\.files \("a\/b"\): must be a ConfigMap key/],
    ['config files on a path already mounted', (w) => w.addConfigFiles('C', { files: { a: '' }, mountPath: '/data' }), /invalid addConfigFiles\("C"\)\.mountPath \("\/data"\): is already a mount path of container web/],
    ['config files for a missing container', (w) => w.addConfigFiles('C', { files: { a: '' }, mountPath: '/c', containers: ['x'] }), /invalid addConfigFiles\("C"\)\.containers \("x"\): must name a container/],
    ['config files with a relative path', (w) => w.addConfigFiles('C', { files: { a: '' }, mountPath: 'c' }), /invalid addConfigFiles\("C"\)\.mountPath \("c"\): must be an absolute path/],
    ['a live file that is not one of the files', (w) => w.addConfigFiles('C', { files: { a: '' }, mountPath: '/c', liveFiles: ['toString'] }), /invalid addConfigFiles\("C"\)\.liveFiles \("toString"\): must name one of the files \(a\)/],
  ])('refuses %s', (_name, act, message) => {
    const chart = Testing.chart();
    const w = new StatefulWorkload(chart, 'w', base);
    expect(() => act(w, chart)).toThrow(message);
  });
});
