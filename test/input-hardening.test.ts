import { ApiObject, App, Chart, Duration, JsonPatch, Size, Testing } from 'cdk8s';
import { Construct } from 'constructs';
import { ImagePullPolicy, PersistentVolumeAccessMode, PodManagementPolicy, Protocol, TaintEffect } from 'cdk8s-plus-28';
import {
  DisruptionBudget, IStatefulConstruct, PlacementCenter, StatefulProbe, PvcRetentionAction, RedisCluster, RwopStatefulApp, StatefulConstructProps, SpreadMode, StatefulWorkload, StatefulWorkloadProps, StorageClass,
  StorageProvisioner, UnhealthyPodEvictionPolicy,
} from '../src';
import { EtcdCluster } from './extending/etcd-cluster';
import { synthValid } from './support/validate';

const base: StatefulWorkloadProps = {
  name: 'web',
  containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ name: 'http', port: 8080 }], mounts: [{ volume: 'data', path: '/data' }] }],
  volumeClaimTemplates: [{ name: 'data', size: Size.gibibytes(1) }],
};

function workload(props: Partial<StatefulWorkloadProps>) {
  const chart = Testing.chart();
  new StatefulWorkload(chart, 'w', { ...base, ...props });
  return synthValid(chart);
}

const container = base.containers[0];
// values a JavaScript caller (or another jsii language) can pass although the TypeScript types forbid them
const anyValue = (v: unknown) => v as never;

describe('values the API server would reject are refused at synth, naming the prop', () => {
  const cases: Array<[string, Partial<StatefulWorkloadProps>, RegExp]> = [
    ['a label that overrides a selector label', { labels: { 'app.kubernetes.io/name': 'other' } },
      /test\/w: invalid labels\["app.kubernetes.io\/name"\] \("other"\): would override the selector label app.kubernetes.io\/name=web: the pods would stop matching/],
    ['a label key with two slashes', { labels: { 'a/b/c': 'x' } }, /invalid labels key \("a\/b\/c"\): must be a qualified name: an optional DNS-subdomain prefix and one "\/"/],
    ['a pod annotation key that is not a qualified name', { podAnnotations: { 'bad key': 'x' } }, /invalid podAnnotations key \("bad key"\): must be a qualified name/],
    ['pod annotations over 256 KiB', { podAnnotations: { big: 'x'.repeat(262_200) } }, /invalid podAnnotations\["big"\] .*: makes the pod annotations 262203 bytes; the API server accepts at most 262144/],
    ['a node selector key', { scheduling: { nodeSelector: { 'node role': 'db' } } }, /invalid scheduling.nodeSelector key \("node role"\)/],
    ['a node selector value', { scheduling: { nodeSelector: { role: 'db server' } } }, /invalid scheduling.nodeSelector\["role"\] \("db server"\): must be a label value/],
    ['a toleration key', { scheduling: { tolerations: [{ key: 'bad key!' }] } }, /invalid scheduling.tolerations\[0\].key \("bad key!"\)/],
    ['a toleration value', { scheduling: { tolerations: [{ key: 'dedicated', value: 'a b' }] } }, /invalid scheduling.tolerations\[0\].value \("a b"\)/],
    ['a service account name', { serviceAccountName: 'Not_A_Name' }, /invalid serviceAccountName \("Not_A_Name"\): must be a DNS subdomain/],
    ['a priority class name', { scheduling: { priorityClassName: 'UPPER' } }, /invalid scheduling.priorityClassName \("UPPER"\): must be a DNS subdomain/],
    ['a subPath that escapes the volume', { containers: [{ ...container, mounts: [{ volume: 'data', path: '/data', subPath: '../etc' }] }] },
      /invalid containers\[web\].mounts\[data\].subPath \("..\/etc"\): must be a relative path inside the volume, without ".."/],
    ['an absolute subPath', { containers: [{ ...container, mounts: [{ volume: 'data', path: '/data', subPath: '/etc' }] }] }, /invalid containers\[web\].mounts\[data\].subPath \("\/etc"\)/],
    ['an empty preStop command', { containers: [{ ...container, preStop: [] }] }, /invalid containers\[web\].preStop \(\[\]\): must name a command to run/],
    ['an exec probe with an empty command', { containers: [{ ...container, liveness: StatefulProbe.fromCommand(['']) }] }, /invalid containers\[web\].liveness.command .*: must name a command to run/],
    ['two claim templates of one name', { volumeClaimTemplates: [{ name: 'data', size: Size.gibibytes(1) }, { name: 'data', size: Size.gibibytes(2) }] },
      /invalid volumeClaimTemplates\[1\].name \("data"\): must be unique/],
    ['replicas above int32', { replicas: 2 ** 31 }, /invalid replicas \(2147483648\): must be a whole number 0 to 2147483647 \(int32\)/],
    ['an empty storage class name', { volumeClaimTemplates: [{ name: 'data', size: Size.gibibytes(1), storageClass: StorageClass.fromStorageClassName('') }] },
      /invalid volumeClaimTemplates\[0\].storageClass \(""\): must be a DNS subdomain/],
    ['a storage class name that is not a DNS subdomain', { volumeClaimTemplates: [{ name: 'data', size: Size.gibibytes(1), storageClass: StorageClass.fromStorageClassName('Fast SSD') }] },
      /invalid volumeClaimTemplates\[0\].storageClass \("Fast SSD"\)/],
    ['a NaN duration', { terminationGracePeriod: Duration.seconds(NaN) }, /test\/w: invalid terminationGracePeriod .*: must be a whole number of seconds/],
  ];
  test.each(cases)('%s', (_name, props, message) => {
    expect(() => workload(props)).toThrow(message);
  });
});

describe('enum-typed props are checked at run time (JavaScript and the other jsii languages bypass the types)', () => {
  const cases: Array<[string, Partial<StatefulWorkloadProps>, RegExp]> = [
    ['protocol', { containers: [{ ...container, ports: [{ name: 'http', port: 8080, protocol: anyValue('tcp') }] }] },
      /invalid containers\[web\].ports\[http\].protocol \("tcp"\): must be one of Protocol \("TCP", "UDP", "SCTP"\)/],
    ['imagePullPolicy', { containers: [{ ...container, imagePullPolicy: anyValue('always') }] }, /invalid containers\[web\].imagePullPolicy \("always"\): must be one of ImagePullPolicy/],
    ['podManagementPolicy', { podManagementPolicy: anyValue('parallel') }, /invalid podManagementPolicy \("parallel"\): must be one of PodManagementPolicy \("OrderedReady", "Parallel"\)/],
    ['access mode', { volumeClaimTemplates: [{ name: 'data', size: Size.gibibytes(1), accessModes: [anyValue('RWO')] }] }, /invalid volumeClaimTemplates\[0\].accessModes \("RWO"\): must be one of PersistentVolumeAccessMode/],
    ['node spread', { scheduling: { nodeSpread: anyValue('always') } }, /invalid scheduling.nodeSpread \("always"\): must be one of SpreadMode \("None", "Preferred", "Required"\)/],
    ['zone spread', { scheduling: { zoneSpread: anyValue('required') } }, /invalid scheduling.zoneSpread \("required"\): must be one of SpreadMode/],
    ['taint effect', { scheduling: { tolerations: [{ key: 'dedicated', effect: anyValue('noexecute') }] } }, /invalid scheduling.tolerations\[0\].effect \("noexecute"\): must be one of TaintEffect/],
    ['retention', { pvcRetention: { whenDeleted: anyValue('Keep') } }, /invalid pvcRetention.whenDeleted \("Keep"\): must be one of PvcRetentionAction \("Retain", "Delete"\)/],
    ['unhealthy pod eviction policy', { disruptionBudget: DisruptionBudget.maxUnavailable(1, { unhealthyPodEvictionPolicy: anyValue('always') }) },
      /invalid disruptionBudget.unhealthyPodEvictionPolicy \("always"\): must be one of UnhealthyPodEvictionPolicy/],
  ];
  test.each(cases)('%s', (_name, props, message) => {
    expect(() => workload(props)).toThrow(message);
  });

  test('valid enum values still pass', () => {
    expect(() => workload({
      podManagementPolicy: PodManagementPolicy.PARALLEL,
      containers: [{ ...container, imagePullPolicy: ImagePullPolicy.ALWAYS, ports: [{ name: 'dns', port: 53, protocol: Protocol.UDP }] }],
      volumeClaimTemplates: [{ name: 'data', size: Size.gibibytes(1), accessModes: [PersistentVolumeAccessMode.READ_WRITE_ONCE_POD] }],
      scheduling: { nodeSpread: SpreadMode.REQUIRED, tolerations: [{ key: 'dedicated', effect: TaintEffect.NO_SCHEDULE }] },
      pvcRetention: { whenDeleted: PvcRetentionAction.DELETE },
      disruptionBudget: DisruptionBudget.maxUnavailable(1, { unhealthyPodEvictionPolicy: UnhealthyPodEvictionPolicy.ALWAYS_ALLOW }),
    })).not.toThrow();
  });

  test('provisioner enums', () => {
    const chart = Testing.chart();
    expect(() => new StorageClass(chart, 'ebs', { provisioner: StorageProvisioner.awsEbs({ type: anyValue('gp4') }) }))
      .toThrow(/test\/ebs: invalid provisioner.type \("gp4"\): must be one of EbsVolumeType/);
    expect(() => new StorageClass(chart, 'pd', { provisioner: StorageProvisioner.gcePd({ type: anyValue('ssd') }) }))
      .toThrow(/test\/pd: invalid provisioner.type \("ssd"\): must be one of GcePdType/);
    expect(() => new StorageClass(chart, 'az', { provisioner: StorageProvisioner.azureDisk({ skuName: anyValue('premium') }) }))
      .toThrow(/test\/az: invalid provisioner.skuName \("premium"\): must be one of AzureDiskSku/);
  });

  test('storage class enums', () => {
    const chart = Testing.chart();
    expect(() => new StorageClass(chart, 'sc', { provisioner: StorageProvisioner.linstor(), reclaimPolicy: anyValue('Keep') }))
      .toThrow(/test\/sc: invalid reclaimPolicy \("Keep"\): must be one of ReclaimPolicy/);
    expect(() => new StorageClass(chart, 'sc2', { provisioner: StorageProvisioner.linstor(), volumeBindingMode: anyValue('Later') }))
      .toThrow(/test\/sc2: invalid volumeBindingMode \("Later"\): must be one of VolumeBindingMode/);
  });
});

describe('a required prop left out by a JavaScript caller gets the library\'s error, not a TypeError', () => {
  test.each([
    ['StatefulWorkload without containers', (c: Chart) => new StatefulWorkload(c, 'w', anyValue({ name: 'web' })), /test\/w: invalid containers \(unset\): is required/],
    ['StatefulWorkload without props', (c: Chart) => new StatefulWorkload(c, 'w', anyValue(undefined)), /test\/w: invalid props \(unset\): is required/],
    ['a container without image', (c: Chart) => new StatefulWorkload(c, 'w', anyValue({ containers: [{ name: 'web' }] })), /test\/w: invalid containers\[web\].image \(unset\): is required/],
    ['RwopStatefulApp without image', (c: Chart) => new RwopStatefulApp(c, 'db', anyValue({})), /test\/db: invalid image \(unset\): is required/],
    ['StorageClass without provisioner', (c: Chart) => new StorageClass(c, 'sc', anyValue({ name: 'fast' })), /test\/sc: invalid provisioner \(unset\): is required/],
    ['a toleration without key', (c: Chart) => new StatefulWorkload(c, 'w', { ...base, scheduling: { tolerations: [anyValue({ effect: 'NoSchedule' })] } }), /invalid scheduling.tolerations\[0\].key \(unset\): is required/],
  ] as Array<[string, (c: Chart) => unknown, RegExp]>)('%s', (_name, make, message) => {
    expect(() => make(Testing.chart())).toThrow(message);
  });
});

describe('conflicting settings are refused instead of silently resolved', () => {
  test('RwopStatefulApp: a toleration for a taint that nodeLossToleration already covers', () => {
    const chart = Testing.chart();
    expect(() => new RwopStatefulApp(chart, 'db', {
      image: 'postgres:16.4', scheduling: { tolerations: [{ key: 'node.kubernetes.io/not-ready', effect: TaintEffect.NO_EXECUTE, tolerationSeconds: Duration.seconds(5) }] },
    })).toThrow(/test\/db: invalid scheduling.tolerations\[0\].key \("node.kubernetes.io\/not-ready"\): is tolerated already, for nodeLossToleration/);
  });
});

describe('no two objects of one kind, name and namespace', () => {
  test('two workloads of one name in one chart fail synth, naming both construct paths', () => {
    const chart = Testing.chart();
    new StatefulWorkload(chart, 'a', base);
    new StatefulWorkload(chart, 'b', base);
    expect(() => Testing.synth(chart)).toThrow(/Service "web-headless" \(no namespace: both land in the namespace they are applied to\) is emitted twice, by test\/a\/Headless and by test\/b\/Headless/);
    expect(() => Testing.synth(chart)).toThrow(/StatefulSet "web" .* is emitted twice, by test\/a\/Resource and by test\/b\/Resource/);
  });

  test('a workload whose headless Service takes the name of another one\'s Service', () => {
    const chart = Testing.chart();
    new StatefulWorkload(chart, 'cache', { ...base, name: 'cache' });
    new StatefulWorkload(chart, 'other', { ...base, name: 'other', headlessService: { name: 'cache-headless' } });
    expect(() => Testing.synth(chart)).toThrow(/Service "cache-headless" .* is emitted twice, by test\/cache\/Headless and by test\/other\/Headless/);
  });

  test('cluster-scoped objects collide across charts and namespaces', () => {
    const app = new App();
    const a = new Chart(app, 'team-a', { namespace: 'team-a' });
    const b = new Chart(app, 'team-b', { namespace: 'team-b' });
    new StorageClass(a, 'fast', { name: 'fast', provisioner: StorageProvisioner.linstor() });
    new StorageClass(b, 'fast', { name: 'fast', provisioner: StorageProvisioner.linstor({ placementCount: 3 }) });
    expect(() => app.synthYaml()).toThrow(/StorageClass "fast" \(cluster-scoped: one per cluster\) is emitted twice, by team-a\/fast\/Resource and by team-b\/fast\/Resource/);
  });

  test('two PlacementCenters with the default StorageClass: one class "ssd" per cluster, so synth says to share it', () => {
    const app = new App();
    new PlacementCenter(new Chart(app, 'a', { namespace: 'mq-a' }), 'pc');
    new PlacementCenter(new Chart(app, 'b', { namespace: 'mq-b' }), 'pc');
    expect(() => app.synthYaml()).toThrow(/StorageClass "ssd" \(cluster-scoped: one per cluster\) is emitted twice, by a\/pc\/StorageClass\/Resource and by b\/pc\/StorageClass\/Resource: .*create it once and pass it to both/);
  });

  test('the same name in two namespaces, or two kinds of one name, is fine', () => {
    const app = new App();
    for (const ns of ['team-a', 'team-b']) new StatefulWorkload(new Chart(app, ns, { namespace: ns }), 'w', base);
    expect(() => app.synthYaml()).not.toThrow();
  });

  test('a user object that collides with one of the library\'s is caught too', () => {
    const chart = Testing.chart();
    new StatefulWorkload(chart, 'w', base);
    new ApiObject(chart, 'mine', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web-headless' } });
    expect(() => Testing.synth(chart)).toThrow(/Service "web-headless" .* is emitted twice, by test\/w\/Headless and by test\/mine/);
  });
});

describe('node.defaultChild is the StatefulSet on every construct (escape hatches reach it)', () => {
  test.each<[string, (chart: Chart) => Construct]>([
    ['StatefulWorkload', (chart) => new StatefulWorkload(chart, 'c', { name: 'w', containers: [{ name: 'app', image: 'app:1' }] })],
    ['RwopStatefulApp', (chart) => new RwopStatefulApp(chart, 'c', { name: 'db', image: 'postgres:16.4', storageSize: Size.gibibytes(1) })],
    ['RedisCluster', (chart) => new RedisCluster(chart, 'c', { name: 'redis' })],
    ['PlacementCenter', (chart) => new PlacementCenter(chart, 'c')],
  ])('%s', (_name, make) => {
    const chart = Testing.chart();
    const construct = make(chart);
    const child = construct.node.defaultChild as ApiObject;
    expect(child.kind).toBe('StatefulSet');
    child.addJsonPatch(JsonPatch.add('/metadata/labels/patched', 'yes'));
    const sts = Testing.synth(chart).find((m) => m.kind === 'StatefulSet');
    expect(sts.metadata.labels.patched).toBe('yes');
  });
});

describe('one props vocabulary and one interface for every stateful construct', () => {
  const shared: StatefulConstructProps = {
    namespace: 'apps',
    scheduling: { nodeSelector: { pool: 'stateful' }, tolerations: [{ key: 'dedicated', value: 'stateful', effect: TaintEffect.NO_SCHEDULE }], priorityClassName: 'stateful-critical' },
    podLabels: { team: 'platform' },
    podAnnotations: { 'example.com/owner': 'platform' },
    imagePullSecrets: ['registry-credentials'],
    serviceAccountName: 'stateful',
  };
  const makers: Array<[string, (chart: Chart, props: StatefulConstructProps) => IStatefulConstruct]> = [
    ['StatefulWorkload', (chart, props) => new StatefulWorkload(chart, 'c', { name: 'w', containers: [{ name: 'app', image: 'app:1' }], ...props })],
    ['RwopStatefulApp', (chart, props) => new RwopStatefulApp(chart, 'c', { name: 'db', image: 'postgres:16.4', ...props })],
    ['RedisCluster', (chart, props) => new RedisCluster(chart, 'c', { name: 'redis', ...props })],
    ['PlacementCenter', (chart, props) => new PlacementCenter(chart, 'c', props)],
    // a platform team's construct on the public API (docs/extending.md) follows the same contract
    ['EtcdCluster', (chart, props) => new EtcdCluster(chart, 'c', { name: 'etcd', ...props })],
  ];

  test.each(makers)('%s takes the shared props into its pods, and exposes the shared interface', (_name, make) => {
    const chart = Testing.chart();
    const construct = make(chart, shared);
    const sts = synthValid(chart, ['ServiceMonitor']).find((m) => m.kind === 'StatefulSet');
    const pod = sts.spec.template.spec;
    expect(sts.metadata.namespace).toBe('apps');
    expect(pod.nodeSelector).toEqual({ pool: 'stateful' });
    expect(pod.tolerations).toContainEqual({ key: 'dedicated', operator: 'Equal', value: 'stateful', effect: 'NoSchedule' });
    expect(pod.priorityClassName).toBe('stateful-critical');
    expect(pod.imagePullSecrets).toEqual([{ name: 'registry-credentials' }]);
    expect(pod.serviceAccountName).toBe('stateful');
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(sts.spec.template.metadata.labels.team).toBe('platform');
    expect(sts.metadata.labels.team).toBeUndefined();
    expect(sts.spec.template.metadata.annotations['example.com/owner']).toBe('platform');
    expect(construct.statefulSet).toBe(construct.workload.statefulSet);
    expect(construct.headlessService).toBe(construct.workload.headlessService);
    expect(construct.podDnsNames).toEqual(construct.workload.podDnsNames);
    expect(construct.podDisruptionBudget).toBe(construct.workload.podDisruptionBudget);
    expect(construct.node.defaultChild).toBe(construct.statefulSet);
  });

  test.each(makers)('%s refuses bad shared props with the same messages', (_name, make) => {
    const attempt = (props: StatefulConstructProps) => () => make(Testing.chart(), props);
    expect(attempt({ imagePullSecrets: ['Bad_Secret'] })).toThrow(/test\/c(\/Workload)?: invalid imagePullSecrets\[0\] \("Bad_Secret"\): must be a DNS subdomain/);
    expect(attempt({ podLabels: { 'app.kubernetes.io/instance': 'x' } })).toThrow(/invalid podLabels\["app.kubernetes.io\/instance"\] \("x"\): would override the label .*a selector label/);
    expect(attempt({ podLabels: { team: 'a b' } })).toThrow(/invalid podLabels\["team"\] \("a b"\)/);
    expect(attempt({ serviceAccountName: 'Bad Account' })).toThrow(/invalid serviceAccountName \("Bad Account"\)/);
    expect(attempt({ scheduling: { nodeSelector: { pool: 'a b' } } })).toThrow(/invalid scheduling.nodeSelector\["pool"\] \("a b"\)/);
  });
});
