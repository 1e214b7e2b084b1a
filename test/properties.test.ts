/**
 * Property-based tests: random valid props must synthesize objects that pass the Kubernetes schema and the library's
 * own invariants; random invalid values must throw the library's error naming the prop.
 *
 * fast-check prints the seed, the path and the shrunk counterexample of a failure; rerun one with
 * FC_SEED=<seed> FC_PATH=<path> npx jest test/properties.test.ts. FC_RUNS raises the number of runs.
 */
import { Chart, Duration, Size, Testing } from 'cdk8s';
import { Protocol, TaintEffect } from 'cdk8s-plus-28';
import * as fc from 'fast-check';
import {
  DisruptionBudget, FailoverAction, PlacementCenter, PlacementCenterRollout, PvcRetentionAction, RedisCluster, RedisFlavour, RedisResourcesPreset,
  RwopStatefulApp, SpreadMode, StatefulProbe, StatefulUpdateStrategy, StatefulWorkload, StatefulWorkloadProps,
} from '../src';
import { validateManifest } from './support/validate';

const RUNS = Number(process.env.FC_RUNS ?? 150);
const params: fc.Parameters<unknown> = {
  numRuns: RUNS,
  seed: process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED),
  path: process.env.FC_PATH,
  endOnFailure: false,
};

// --- generators ------------------------------------------------------------------------------------------------

const lower = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz'.split(''));
const alnum = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'.split(''));
/** A DNS label of 1..max characters. */
function dnsLabel(max: number): fc.Arbitrary<string> {
  return fc.tuple(lower, fc.array(fc.oneof(alnum, fc.constant('-')), { maxLength: Math.max(0, max - 2) }), alnum)
    .map(([a, mid, z]) => (max === 1 ? a : `${a}${mid.join('')}${z}`.slice(0, max)))
    .filter((s) => /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(s));
}
const labelValue = fc.stringMatching(/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,20}[A-Za-z0-9])?$/);
const labelKey = fc.tuple(fc.option(fc.constantFrom('example.com', 'team.io', 'a.b.c'), { nil: undefined }), fc.stringMatching(/^[a-z][a-z0-9]{0,10}$/))
  .map(([prefix, name]) => (prefix ? `${prefix}/${name}` : name))
  .filter((k) => !k.startsWith('app.kubernetes.io'));
const labels = fc.dictionary(labelKey, labelValue, { maxKeys: 3 });
const seconds = (min: number, max: number) => fc.integer({ min, max }).map((n) => Duration.seconds(n));

const workloadProps: fc.Arbitrary<StatefulWorkloadProps> = fc.record({
  name: dnsLabel(30),
  replicas: fc.integer({ min: 0, max: 5 }),
  containerCount: fc.integer({ min: 1, max: 3 }),
  portsPer: fc.integer({ min: 0, max: 2 }),
  claims: fc.integer({ min: 0, max: 2 }),
  writable: fc.boolean(),
  labels,
  podAnnotations: fc.dictionary(labelKey, fc.string({ maxLength: 30 }), { maxKeys: 2 }),
  nodeSelector: fc.dictionary(labelKey, labelValue, { maxKeys: 2 }),
  tolerationKeys: fc.array(labelKey, { maxLength: 2 }),
  nodeSpread: fc.constantFrom(SpreadMode.NONE, SpreadMode.PREFERRED, SpreadMode.REQUIRED),
  zoneSpread: fc.constantFrom(SpreadMode.NONE, SpreadMode.PREFERRED, SpreadMode.REQUIRED),
  budget: fc.option(fc.integer({ min: 0, max: 1 }), { nil: undefined }),
  retention: fc.constantFrom(PvcRetentionAction.RETAIN, PvcRetentionAction.DELETE),
  publishNotReady: fc.boolean(),
  partitionFraction: fc.double({ min: 0, max: 1, noNaN: true }),
  uid: fc.integer({ min: 1, max: 65535 }),
  grace: fc.integer({ min: 1, max: 600 }),
}).map((r) => {
  const claimNames = Array.from({ length: r.claims }, (_, i) => `data${i}`);
  let port = 8000;
  return {
    name: r.name,
    replicas: r.replicas,
    containers: Array.from({ length: r.containerCount }, (_, c) => ({
      name: `c${c}`,
      image: `example/app:1.${c}`,
      ports: Array.from({ length: r.portsPer }, (__, p) => ({ name: `p${c}x${p}`, port: port++, protocol: p % 2 ? Protocol.UDP : Protocol.TCP })),
      mounts: c === 0 ? claimNames.map((v) => ({ volume: v, path: `/var/${v}` })) : [],
      writablePaths: r.writable ? ['/tmp'] : [],
    })),
    volumeClaimTemplates: claimNames.map((n) => ({ name: n, size: Size.gibibytes(1) })),
    labels: r.labels,
    podAnnotations: r.podAnnotations,
    scheduling: {
      nodeSelector: r.nodeSelector,
      tolerations: r.tolerationKeys.map((key) => ({ key, effect: TaintEffect.NO_SCHEDULE })),
      nodeSpread: r.nodeSpread,
      zoneSpread: r.zoneSpread,
    },
    disruptionBudget: r.budget === undefined ? undefined : DisruptionBudget.maxUnavailable(Math.min(r.budget, Math.max(r.replicas, 1))),
    pvcRetention: { whenDeleted: r.retention, whenScaled: r.retention },
    headlessService: { publishNotReadyAddresses: r.publishNotReady },
    updateStrategy: StatefulUpdateStrategy.rollingUpdate({ partition: Math.floor(r.partitionFraction * r.replicas) }),
    security: { runAsUser: r.uid },
    terminationGracePeriod: Duration.seconds(r.grace),
  };
});

// --- invariants ------------------------------------------------------------------------------------------------

function subset(sub: Record<string, string>, of: Record<string, string>): boolean {
  return Object.entries(sub).every(([k, v]) => of[k] === v);
}

/** What every synthesized set of objects must satisfy, whatever the props. */
function checkInvariants(manifests: any[]): void {
  const keys = new Set<string>();
  for (const m of manifests) {
    // custom resources: their CRDs are not in the schema package (the cluster suite validates them against the CRDs)
    validateManifest(m, ['ServiceMonitor', 'Certificate']);
    const key = `${m.apiVersion}|${m.kind}|${m.metadata.namespace ?? ''}|${m.metadata.name}`;
    if (keys.has(key)) throw new Error(`two objects ${key}`);
    keys.add(key);
  }
  for (const sts of manifests.filter((m) => m.kind === 'StatefulSet')) {
    const podLabels = sts.spec.template.metadata.labels;
    if (!subset(sts.spec.selector.matchLabels, podLabels)) throw new Error(`StatefulSet ${sts.metadata.name}: selector does not match the pod template`);
    const svc = manifests.find((m) => m.kind === 'Service' && m.metadata.name === sts.spec.serviceName);
    if (!svc) throw new Error(`StatefulSet ${sts.metadata.name}: serviceName ${sts.spec.serviceName} is not emitted`);
    if (!subset(svc.spec.selector, podLabels)) throw new Error(`Service ${svc.metadata.name} selects none of the pods`);
    const containerPorts = new Set(sts.spec.template.spec.containers.flatMap((c: any) => (c.ports ?? []).map((p: any) => p.name)));
    for (const p of svc.spec.ports ?? []) {
      if (typeof p.targetPort === 'string' && !containerPorts.has(p.targetPort)) throw new Error(`Service ${svc.metadata.name}: targetPort ${p.targetPort} names no container port`);
    }
    const volumes = new Set([...(sts.spec.template.spec.volumes ?? []).map((v: any) => v.name), ...(sts.spec.volumeClaimTemplates ?? []).map((t: any) => t.metadata.name)]);
    for (const c of sts.spec.template.spec.containers) {
      for (const vm of c.volumeMounts ?? []) if (!volumes.has(vm.name)) throw new Error(`container ${c.name} mounts unknown volume ${vm.name}`);
      if (c.securityContext.readOnlyRootFilesystem !== true || c.securityContext.allowPrivilegeEscalation !== false) throw new Error(`container ${c.name} is not restricted`);
    }
    if ((sts.spec.updateStrategy.rollingUpdate?.partition ?? 0) > sts.spec.replicas) throw new Error('partition above replicas');
  }
  for (const pdb of manifests.filter((m) => m.kind === 'PodDisruptionBudget')) {
    const owners = manifests.filter((m) => (m.kind === 'StatefulSet' || m.kind === 'Deployment') && subset(pdb.spec.selector.matchLabels, m.spec.template.metadata.labels));
    if (owners.length !== 1) throw new Error(`PodDisruptionBudget ${pdb.metadata.name} selects the pods of ${owners.length} workloads`);
  }
}

// --- properties ------------------------------------------------------------------------------------------------

describe('random valid props', () => {
  test('StatefulWorkload: schema-valid objects with matching selectors, existing targets, unique names', () => {
    fc.assert(fc.property(workloadProps, (props) => {
      const chart = Testing.chart();
      new StatefulWorkload(chart, 'w', props);
      checkInvariants(Testing.synth(chart));
    }), params);
  });

  test('two instances in one chart, or in two namespaces, never collide when their names differ', () => {
    fc.assert(fc.property(workloadProps, workloadProps, fc.boolean(), (a, b, sameChart) => {
      fc.pre(a.name !== b.name && `${a.name}-headless` !== b.name && `${b.name}-headless` !== a.name);
      const app = Testing.app();
      const one = new Chart(app, 'one', { namespace: 'ns-one' });
      const two = sameChart ? one : new Chart(app, 'two', { namespace: 'ns-two' });
      new StatefulWorkload(one, 'a', a);
      new StatefulWorkload(two, 'b', b);
      const manifests = app.charts.flatMap((c) => Testing.synth(c));
      checkInvariants(manifests);
    }), params);
  });

  test('RwopStatefulApp: valid objects, a budget that is the sum of its terms, the automation inside 60 s + start by default', () => {
    const rwop = fc.record({
      name: dnsLabel(40),
      namespace: fc.option(dnsLabel(20), { nil: undefined }),
      port: fc.integer({ min: 1, max: 65535 }),
      sizeGi: fc.integer({ min: 1, max: 2000 }),
      start: fc.integer({ min: 0, max: 300 }),
      toleration: fc.integer({ min: 0, max: 600 }),
      liveness: fc.constantFrom('default', 'exec', 'http'),
      automation: fc.option(fc.record({
        action: fc.constantFrom(FailoverAction.TAINT_AND_FORCE_DELETE, FailoverAction.TAINT_OUT_OF_SERVICE, FailoverAction.FORCE_DELETE_POD),
        heartbeat: fc.option(seconds(15, 120), { nil: undefined }),
        notReady: fc.option(seconds(0, 120), { nil: undefined }),
        check: fc.option(seconds(1, 10), { nil: undefined }),
      }), { nil: undefined }),
    });
    fc.assert(fc.property(rwop, (r) => {
      const chart = new Chart(Testing.app(), 'c', { namespace: r.namespace ?? 'apps' });
      const app = new RwopStatefulApp(chart, 'app', {
        name: r.name,
        image: 'postgres:16.4',
        ports: [{ name: 'pg', port: r.port }],
        liveness: r.liveness === 'exec' ? StatefulProbe.fromCommand(['pg_isready']) : r.liveness === 'http' ? StatefulProbe.fromHttpGet('/health', { port: r.port }) : undefined,
        storageSize: Size.gibibytes(r.sizeGi),
        expectedStartTime: Duration.seconds(r.start),
        nodeLossToleration: Duration.seconds(r.toleration),
        nodeLossAutomation: r.automation && {
          acknowledgeNodesAreFenced: true,
          action: r.automation.action,
          heartbeatThreshold: r.automation.heartbeat,
          notReadyThreshold: r.automation.notReady,
          checkInterval: r.automation.check,
        },
      });
      checkInvariants(Testing.synth(chart));
      const b = app.failoverBudget;
      // the default liveness check is a TCP connect, which a hung process passes: no bound then
      expect(b.hungProcess.bounded).toBe(r.liveness !== 'default');
      for (const s of [b.hungProcess, b.nodeLossWithAutomation].filter((x) => x?.bounded)) {
        expect(s!.worstCaseSeconds).toBe(s!.terms.reduce((sum, t) => sum + t.seconds, 0));
      }
      const a = r.automation;
      if (a && a.heartbeat === undefined && a.check === undefined && a.action === FailoverAction.TAINT_AND_FORCE_DELETE) {
        expect(b.nodeLossWithAutomation!.worstCaseSeconds).toBeLessThanOrEqual(60 + r.start);
      }
    }), params);
  });
});

describe('random valid props for RedisCluster and PlacementCenter', () => {
  test('RedisCluster: valid objects, one pod per shard and replica, a ServiceMonitor that selects one Service', () => {
    const redis = fc.record({
      name: dnsLabel(30),
      shards: fc.integer({ min: 3, max: 12 }),
      replicasPerShard: fc.integer({ min: 0, max: 3 }),
      port: fc.integer({ min: 1024, max: 55535 }),
      flavour: fc.constantFrom(RedisFlavour.REDIS_7_4, RedisFlavour.REDIS_8, RedisFlavour.VALKEY_8),
      preset: fc.option(fc.constantFrom(RedisResourcesPreset.NANO, RedisResourcesPreset.SMALL, RedisResourcesPreset.LARGE), { nil: undefined }),
      metrics: fc.boolean(),
      serviceMonitor: fc.boolean(),
      networkPolicy: fc.boolean(),
      auth: fc.boolean(),
      draining: fc.integer({ min: 0, max: 9 }),
    });
    fc.assert(fc.property(redis, (r) => {
      const chart = new Chart(Testing.app(), 'c', { namespace: 'cache' });
      const drainingShards = r.draining % (r.shards - 2);
      new RedisCluster(chart, 'redis', {
        name: r.name, shards: r.shards, replicasPerShard: r.replicasPerShard, port: r.port, flavour: r.flavour, resourcesPreset: r.preset, drainingShards,
        metrics: r.metrics ? { serviceMonitor: r.serviceMonitor } : undefined,
        networkPolicy: r.networkPolicy ? {} : undefined,
        auth: r.auth ? { existingSecret: 'redis-auth', existingSecretPasswordKey: 'password' } : { enabled: false },
      });
      const manifests = Testing.synth(chart);
      checkInvariants(manifests);
      expect(manifests.find((m) => m.kind === 'StatefulSet').spec.replicas).toBe(r.shards * (1 + r.replicasPerShard));
      // a drain Job exactly while shards drain, and no Service or budget selects its pods
      const jobs = manifests.filter((m) => m.kind === 'Job');
      expect(jobs.map((j) => j.metadata.name)).toEqual(drainingShards > 0 ? [`${r.name}-drain-${r.shards}-to-${r.shards - drainingShards}`] : []);
      for (const j of jobs) {
        for (const m of manifests.filter((o) => o.kind === 'Service' || o.kind === 'PodDisruptionBudget')) {
          expect(subset(m.spec.selector.matchLabels ?? m.spec.selector, j.spec.template.metadata.labels)).toBe(false);
        }
      }
      const sm = manifests.find((m) => m.kind === 'ServiceMonitor');
      if (sm) {
        const selected = manifests.filter((m) => m.kind === 'Service' && subset(sm.spec.selector.matchLabels, m.metadata.labels ?? {}));
        expect(selected).toHaveLength(1);
      }
    }), params);
  });

  test('PlacementCenter: valid objects, an odd number of members, a partition inside the replicas', () => {
    const pc = fc.record({
      name: dnsLabel(30),
      replicas: fc.constantFrom(3, 5, 7),
      sizeGi: fc.integer({ min: 1, max: 500 }),
      canary: fc.integer({ min: 0, max: 7 }),
    });
    fc.assert(fc.property(pc, (r) => {
      const chart = new Chart(Testing.app(), 'c', { namespace: 'mq' });
      new PlacementCenter(chart, 'pc', {
        name: r.name, replicas: r.replicas, storageSize: Size.gibibytes(r.sizeGi),
        rollout: r.canary === 0 ? PlacementCenterRollout.all() : PlacementCenterRollout.canary(Math.min(r.canary, r.replicas)),
      });
      const manifests = Testing.synth(chart);
      checkInvariants(manifests);
      const sts = manifests.find((m) => m.kind === 'StatefulSet');
      expect(sts.spec.replicas).toBe(r.replicas);
      expect(sts.spec.podManagementPolicy).toBe('OrderedReady');
    }), params);
  });
});

describe('random invalid values throw the library\'s error naming the prop', () => {
  const notDnsLabel = fc.oneof(
    fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(s)),
    dnsLabel(20).map((s) => s + 'a'.repeat(60)),
  );

  test('names', () => {
    fc.assert(fc.property(notDnsLabel, (name) => {
      const chart = Testing.chart();
      expect(() => new StatefulWorkload(chart, 'w', { containers: [{ name: 'c', image: 'x:1' }], name })).toThrow(/^test\/w: invalid name .*: must be a DNS label/);
    }), params);
  });

  test('label keys and values', () => {
    const badKey = fc.oneof(fc.constant('a/b/c'), fc.constant('/x'), fc.constant('x/'), fc.string({ minLength: 1, maxLength: 10 }).map((s) => ` ${s}`), fc.constant('a'.repeat(64)));
    fc.assert(fc.property(badKey, labelValue, (key, value) => {
      const chart = Testing.chart();
      expect(() => new StatefulWorkload(chart, 'w', { containers: [{ name: 'c', image: 'x:1' }], labels: { [key]: value } }))
        .toThrow(/^test\/w: invalid labels key .*: must be a qualified name/);
    }), params);
  });

  test('integers outside what the API server takes', () => {
    const bad = fc.oneof(fc.integer({ min: -1000, max: -1 }), fc.integer({ min: 2 ** 31, max: 2 ** 40 }), fc.double({ min: 0.1, max: 10, noInteger: true }), fc.constant(Number.NaN));
    fc.assert(fc.property(bad, (replicas) => {
      const chart = Testing.chart();
      expect(() => new StatefulWorkload(chart, 'w', { containers: [{ name: 'c', image: 'x:1' }], replicas }))
        .toThrow(/^test\/w: invalid replicas .*: must be a whole number 0 to 2147483647 \(int32\)/);
    }), params);
  });

  test('durations that are not whole seconds', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 999 }), fc.integer({ min: 0, max: 100 }), (millis, whole) => {
      const chart = Testing.chart();
      expect(() => new StatefulWorkload(chart, 'w', { containers: [{ name: 'c', image: 'x:1' }], terminationGracePeriod: Duration.millis(whole * 1000 + millis) }))
        .toThrow(/^test\/w: invalid terminationGracePeriod .*: must be a whole number of seconds/);
    }), params);
  });
});
