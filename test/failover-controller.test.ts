import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { checkSettings, ControllerSettings, heartbeatDetectionSeconds, leaseTakeoverSeconds, settingsEnv } from '../src/failover/contract';
import { ApiClient, createApiClient } from '../src/failover/program/api';
import { ConfigError, ControllerConfig, parseConfig } from '../src/failover/program/config';
import {
  addOutOfServiceTaint, HeartbeatTracker, isNodeLost, nodeLostStatus,
} from '../src/failover/program/detection';
import { decideLease, LeaderElector, LeaseDecision, releasedLease } from '../src/failover/program/election';
import { healthResponse, startHealthServer } from '../src/failover/program/health';
import { FailoverReconciler } from '../src/failover/program/reconciler';
import { createLogger, formatMicroTime, formatTime, Logger, parseTime } from '../src/failover/program/util';
import { FakeApiServer, KubeObject } from './support/fake-apiserver';

/* eslint-disable @typescript-eslint/no-explicit-any */
const SCRIPT = path.resolve(__dirname, '../lib/assets/failover-controller.js');
const OOS = 'node.kubernetes.io/out-of-service';

const BASE_ENV = {
  NAMESPACE: 'db',
  WATCHED_POD: 'pg-0',
  POD_SELECTOR: 'app.kubernetes.io/name=pg,app.kubernetes.io/instance=main',
  LEASE_NAME: 'pg-failover',
  KUBE_API_SERVER: 'http://127.0.0.1:6443',
};

function configError(env: Record<string, string>): string[] {
  try {
    parseConfig(env, { hostname: 'host', pid: 1 });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).errors;
  }
  throw new Error('expected a configuration error');
}

function node(ready: string, lastTransitionTime: string | undefined, taints?: KubeObject[]): KubeObject {
  return {
    metadata: { name: 'n1' },
    spec: taints ? { taints } : {},
    status: { conditions: [{ type: 'Ready', status: ready, lastTransitionTime }] },
  };
}

function captureLogger(level: 'debug' | 'info' = 'debug'): { log: Logger; entries: KubeObject[] } {
  const entries: KubeObject[] = [];
  const log = createLogger({ level, write: (line: string) => entries.push(JSON.parse(line)) });
  return { log, entries };
}

async function waitFor<T>(what: string, probe: () => T | undefined | false | null, timeoutMs = 4000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5, 0);

function updateOf(d: LeaseDecision): Extract<LeaseDecision, { action: 'update' }> {
  if (d.action !== 'update') throw new Error(`expected an update, got ${d.action}`);
  return d;
}

describe('the settings contract', () => {
  const settings: ControllerSettings = {
    watchedPod: 'pg-0',
    podSelector: { 'app.kubernetes.io/name': 'pg', 'app.kubernetes.io/instance': 'main' },
    leaseName: 'pg-failover',
    taint: true,
    forceDelete: false,
    notReadyThresholdSeconds: 30,
    heartbeatThresholdSeconds: 25,
    checkIntervalSeconds: 3,
    leaseDurationSeconds: 15,
    renewDeadlineSeconds: 10,
    retryPeriodSeconds: 2,
    dryRun: true,
  };

  test('what the construct writes is what the program reads', () => {
    const env = Object.fromEntries(settingsEnv(settings).map((e) => [e.name, e.value]));
    expect(env).toEqual({
      WATCHED_POD: 'pg-0',
      POD_SELECTOR: 'app.kubernetes.io/name=pg,app.kubernetes.io/instance=main',
      LEASE_NAME: 'pg-failover',
      ACTIONS: 'taint-out-of-service',
      NOT_READY_THRESHOLD_SECONDS: '30',
      HEARTBEAT_THRESHOLD_SECONDS: '25',
      CHECK_INTERVAL_SECONDS: '3',
      LEASE_DURATION_SECONDS: '15',
      RENEW_DEADLINE_SECONDS: '10',
      RETRY_PERIOD_SECONDS: '2',
      DRY_RUN: 'true',
    });
    const parsed = parseConfig({ ...env, NAMESPACE: 'db', KUBE_API_SERVER: 'http://127.0.0.1:1' });
    expect(parsed).toMatchObject(settings);
  });

  test('one validation for both sides', () => {
    expect(checkSettings(settings)).toEqual([]);
    expect(checkSettings({ ...settings, heartbeatThresholdSeconds: 10 })).toEqual([
      { setting: 'heartbeatThresholdSeconds', value: 10, accepted: 'must be a number of seconds from 15 to 3600' },
    ]);
    expect(checkSettings({ ...settings, heartbeatThresholdSeconds: 0 })).toEqual([]);
    expect(checkSettings({ ...settings, taint: false, podSelector: {} }).map((p) => p.setting)).toEqual(['podSelector', 'taint']);
    expect(checkSettings({ ...settings, podSelector: { 'a/b/c': 'x' } })).toEqual([
      { setting: 'podSelector', value: 'a/b/c=x', accepted: 'must be label keys and values Kubernetes accepts' },
    ]);
  });

  test('detection and takeover worst cases', () => {
    expect(heartbeatDetectionSeconds({ heartbeatThresholdSeconds: 30, checkIntervalSeconds: 2 })).toBe(34);
    // 15 + 1.2 x 2 + 2 = 19.4, rounded up
    expect(leaseTakeoverSeconds({ leaseDurationSeconds: 15, retryPeriodSeconds: 2, checkIntervalSeconds: 2 })).toBe(20);
  });
});

describe('parseConfig', () => {
  test('applies the documented defaults', () => {
    const cfg = parseConfig(BASE_ENV, { hostname: 'host-a', pid: 42 });
    expect(cfg).toMatchObject({
      namespace: 'db',
      watchedPod: 'pg-0',
      podSelector: { 'app.kubernetes.io/name': 'pg', 'app.kubernetes.io/instance': 'main' },
      notReadyThresholdSeconds: 30,
      heartbeatThresholdSeconds: 30,
      taint: true,
      forceDelete: true,
      checkIntervalSeconds: 2,
      leaseName: 'pg-failover',
      leaseDurationSeconds: 15,
      renewDeadlineSeconds: 10,
      retryPeriodSeconds: 2,
      requestTimeoutSeconds: 5,
      identity: 'host-a_42',
      dryRun: false,
      api: { server: 'http://127.0.0.1:6443', inCluster: false },
    });
  });

  test('identity comes from IDENTITY, then POD_NAME', () => {
    expect(parseConfig({ ...BASE_ENV, POD_NAME: 'ctrl-0' }).identity).toBe('ctrl-0');
    expect(parseConfig({ ...BASE_ENV, POD_NAME: 'ctrl-0', IDENTITY: 'explicit' }).identity).toBe('explicit');
  });

  test('reports every missing required variable', () => {
    expect(configError({ KUBE_API_SERVER: 'http://127.0.0.1:1' })).toEqual([
      'NAMESPACE is required',
      'WATCHED_POD is required',
      'POD_SELECTOR is required',
      'LEASE_NAME is required',
    ]);
  });

  test('rejects malformed and out-of-range numbers', () => {
    expect(configError({ ...BASE_ENV, NOT_READY_THRESHOLD_SECONDS: 'abc' })).toEqual([
      'NOT_READY_THRESHOLD_SECONDS must be a number of seconds (got "abc")',
    ]);
    expect(configError({ ...BASE_ENV, CHECK_INTERVAL_SECONDS: '0' })).toEqual([
      'CHECK_INTERVAL_SECONDS (0) must be a number of seconds greater than 0, at most 300',
    ]);
    expect(configError({ ...BASE_ENV, NOT_READY_THRESHOLD_SECONDS: '-5' })).toEqual([
      'NOT_READY_THRESHOLD_SECONDS must be a number of seconds (got "-5")',
    ]);
    expect(configError({ ...BASE_ENV, LEASE_DURATION_SECONDS: '15.5' })).toEqual([
      'LEASE_DURATION_SECONDS (15.5) must be a whole number of seconds from 2 to 3600',
    ]);
    expect(configError({ ...BASE_ENV, HEARTBEAT_THRESHOLD_SECONDS: '5' })).toEqual([
      'HEARTBEAT_THRESHOLD_SECONDS (5) must be a number of seconds from 15 to 3600',
    ]);
    expect(parseConfig({ ...BASE_ENV, NOT_READY_THRESHOLD_SECONDS: '0.5' }).notReadyThresholdSeconds).toBe(0.5);
    expect(parseConfig({ ...BASE_ENV, HEARTBEAT_THRESHOLD_SECONDS: '0' }).heartbeatThresholdSeconds).toBe(0);
  });

  test('enforces renewDeadline < leaseDuration and retryPeriod < renewDeadline', () => {
    expect(configError({ ...BASE_ENV, LEASE_DURATION_SECONDS: '10' })).toEqual([
      'RENEW_DEADLINE_SECONDS (10) must be shorter than the lease duration (10 s)',
    ]);
    expect(configError({ ...BASE_ENV, RETRY_PERIOD_SECONDS: '10' })).toEqual([
      'RETRY_PERIOD_SECONDS (10) must be shorter than the renew deadline (10 s)',
    ]);
    const ok = parseConfig({ ...BASE_ENV, LEASE_DURATION_SECONDS: '3', RENEW_DEADLINE_SECONDS: '2', RETRY_PERIOD_SECONDS: '0.5' });
    expect([ok.leaseDurationSeconds, ok.renewDeadlineSeconds, ok.retryPeriodSeconds]).toEqual([3, 2, 0.5]);
  });

  test('parses ACTIONS in any order', () => {
    const reversed = parseConfig({ ...BASE_ENV, ACTIONS: ' force-delete-pod , taint-out-of-service ' });
    expect([reversed.taint, reversed.forceDelete]).toEqual([true, true]);
    const deleteOnly = parseConfig({ ...BASE_ENV, ACTIONS: 'force-delete-pod' });
    expect([deleteOnly.taint, deleteOnly.forceDelete]).toEqual([false, true]);
    expect(configError({ ...BASE_ENV, ACTIONS: 'taint-out-of-service,reboot' })).toEqual([
      'ACTIONS has an unknown action "reboot" (valid: taint-out-of-service, force-delete-pod)',
    ]);
    expect(configError({ ...BASE_ENV, ACTIONS: ',' })).toEqual([
      'ACTIONS ([]) must list at least one of taint-out-of-service, force-delete-pod',
    ]);
  });

  test('parses DRY_RUN', () => {
    expect(parseConfig({ ...BASE_ENV, DRY_RUN: 'TRUE' }).dryRun).toBe(true);
    expect(parseConfig({ ...BASE_ENV, DRY_RUN: '0' }).dryRun).toBe(false);
    expect(configError({ ...BASE_ENV, DRY_RUN: 'maybe' })).toEqual(['DRY_RUN must be true or false (got "maybe")']);
  });

  test('validates names and the pod selector', () => {
    expect(configError({ ...BASE_ENV, NAMESPACE: 'Prod_DB' })).toEqual(['NAMESPACE must be a valid namespace name (got "Prod_DB")']);
    expect(configError({ ...BASE_ENV, LEASE_NAME: 'bad name' })).toEqual(['LEASE_NAME (bad name) must be an object name (a DNS subdomain)']);
    expect(configError({ ...BASE_ENV, WATCHED_POD: 'Pg_0' })).toEqual(['WATCHED_POD (Pg_0) must be a pod name (a DNS subdomain)']);
    expect(configError({ ...BASE_ENV, POD_SELECTOR: '!app' })).toEqual(['POD_SELECTOR must be key=value pairs separated by commas (cannot parse "!app")']);
    expect(configError({ ...BASE_ENV, POD_SELECTOR: 'a=b,,c=d' })).toEqual(['POD_SELECTOR must be key=value pairs separated by commas (cannot parse "")']);
    expect(configError({ ...BASE_ENV, POD_SELECTOR: 'app=bad value' })).toEqual(['POD_SELECTOR must be key=value pairs separated by commas (cannot parse "app=bad value")']);
    expect(configError({ ...BASE_ENV, POD_SELECTOR: 'app=-x' })).toEqual(['POD_SELECTOR (app=-x) must be label keys and values Kubernetes accepts']);
  });

  test('in-cluster API access uses the service account files', () => {
    const env = { NAMESPACE: 'db', WATCHED_POD: 'pg-0', POD_SELECTOR: 'app=pg', LEASE_NAME: 'l', KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };
    expect(parseConfig(env).api).toEqual({
      server: 'https://10.96.0.1:443',
      inCluster: true,
      caFile: '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt',
      tokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token',
      clientCertFile: undefined,
      clientKeyFile: undefined,
    });
    expect(parseConfig({ ...env, KUBERNETES_SERVICE_HOST: 'fd00::1' }).api.server).toBe('https://[fd00::1]:443');
    expect(configError({ NAMESPACE: 'db', WATCHED_POD: 'pg-0', POD_SELECTOR: 'app=pg', LEASE_NAME: 'l' })).toEqual([
      'KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set (not running in a cluster): set KUBE_API_SERVER to run outside one',
    ]);
  });

  test('out-of-cluster API access needs TLS and credentials', () => {
    expect(configError({ ...BASE_ENV, KUBE_API_SERVER: 'http://10.0.0.5:6443' })).toEqual([
      'KUBE_API_SERVER must be an https URL, or http on a loopback address (got "http://10.0.0.5:6443")',
    ]);
    expect(configError({ ...BASE_ENV, KUBE_API_SERVER: 'https://api.example:6443' })).toEqual([
      'KUBE_API_SERVER needs credentials: KUBE_TOKEN_FILE, or KUBE_CLIENT_CERT_FILE and KUBE_CLIENT_KEY_FILE',
    ]);
    expect(configError({ ...BASE_ENV, KUBE_API_SERVER: 'https://api.example:6443', KUBE_CLIENT_CERT_FILE: '/c.crt' })).toEqual([
      'KUBE_CLIENT_CERT_FILE and KUBE_CLIENT_KEY_FILE must be set together',
      'KUBE_API_SERVER needs credentials: KUBE_TOKEN_FILE, or KUBE_CLIENT_CERT_FILE and KUBE_CLIENT_KEY_FILE',
    ]);
    const tls = parseConfig({
      ...BASE_ENV,
      KUBE_API_SERVER: 'https://api.example:6443/',
      KUBE_CA_FILE: '/ca.crt',
      KUBE_CLIENT_CERT_FILE: '/c.crt',
      KUBE_CLIENT_KEY_FILE: '/c.key',
    });
    expect(tls.api).toEqual({
      server: 'https://api.example:6443',
      inCluster: false,
      caFile: '/ca.crt',
      tokenFile: undefined,
      clientCertFile: '/c.crt',
      clientKeyFile: '/c.key',
    });
  });
});

describe('time formatting', () => {
  test('formats MicroTime with six fractional digits', () => {
    expect(formatMicroTime(new Date(T0))).toBe('2026-01-02T03:04:05.000000Z');
    expect(formatMicroTime(T0 + 123)).toBe('2026-01-02T03:04:05.123000Z');
    expect(formatTime(T0 + 999)).toBe('2026-01-02T03:04:05Z');
  });

  test('parses RFC 3339 timestamps of any precision', () => {
    expect(parseTime('2026-01-02T03:04:05Z')).toBe(T0);
    expect(parseTime('2026-01-02T03:04:05.123456Z')).toBe(T0 + 123);
    expect(parseTime('2026-01-02T04:04:05.5+01:00')).toBe(T0 + 500);
    expect(parseTime('yesterday')).toBeNull();
    expect(parseTime(undefined)).toBeNull();
  });
});

describe('isNodeLost', () => {
  const since = '2026-01-02T03:04:05Z';

  test('a node NotReady or Unknown for at least the threshold is lost', () => {
    expect(isNodeLost(node('Unknown', since), T0 + 30_000, 30)).toBe(true);
    expect(isNodeLost(node('False', since), T0 + 30_000, 30)).toBe(true);
    expect(isNodeLost(node('Unknown', since), T0 + 29_999, 30)).toBe(false);
    expect(nodeLostStatus(node('Unknown', since), new Date(T0 + 45_500), 30)).toEqual({
      lost: true,
      reason: 'NotReady',
      readyStatus: 'Unknown',
      notReadyForSeconds: 45.5,
    });
  });

  test('a Ready node is never lost, however old the transition', () => {
    expect(isNodeLost(node('True', since), T0 + 86_400_000, 30)).toBe(false);
    expect(nodeLostStatus(node('True', since), T0, 30).reason).toBe('Ready');
  });

  test('a missing Node object counts as lost', () => {
    expect(nodeLostStatus(null, T0, 30)).toEqual({ lost: true, reason: 'NodeNotFound', readyStatus: null, notReadyForSeconds: null });
  });

  test('an unmeasurable NotReady duration is not acted on', () => {
    expect(nodeLostStatus({ metadata: { name: 'n' }, status: { conditions: [] } }, T0, 30).reason).toBe('NoReadyCondition');
    expect(nodeLostStatus(node('Unknown', undefined), T0, 30).reason).toBe('UnknownTransitionTime');
    expect(isNodeLost(node('Unknown', 'garbage'), T0 + 3_600_000, 30)).toBe(false);
    // A transition "in the future" (clock skew) is below any threshold.
    expect(nodeLostStatus(node('Unknown', since), T0 - 10_000, 30)).toMatchObject({ lost: false, notReadyForSeconds: -10 });
  });
});

describe('addOutOfServiceTaint', () => {
  const unreachable = [
    { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule', timeAdded: '2026-01-02T03:00:00Z' },
    { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2026-01-02T03:00:05Z' },
  ];

  test('appends the taint and keeps the others', () => {
    const input = JSON.parse(JSON.stringify(unreachable));
    const { changed, taints } = addOutOfServiceTaint(input, T0);
    expect(changed).toBe(true);
    expect(taints).toEqual([
      ...unreachable,
      { key: OOS, value: 'nodeshutdown', effect: 'NoExecute', timeAdded: '2026-01-02T03:04:05Z' },
    ]);
    expect(input).toEqual(unreachable);
  });

  test('adds the taint only once', () => {
    const first = addOutOfServiceTaint(undefined, T0);
    expect(first.taints).toHaveLength(1);
    const second = addOutOfServiceTaint(first.taints, T0 + 60_000);
    expect(second.changed).toBe(false);
    expect(second.taints).toEqual(first.taints);
  });

  test('any taint with the out-of-service key counts as present', () => {
    const existing = [{ key: OOS, value: 'manual', effect: 'NoSchedule' }];
    expect(addOutOfServiceTaint(existing, T0)).toEqual({ changed: false, taints: existing });
  });
});

describe('decideLease', () => {
  const opts = { leaseDurationSeconds: 15 };
  const leaseOf = (spec: KubeObject, resourceVersion = '7'): KubeObject => ({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'pg-failover', namespace: 'db', resourceVersion },
    spec,
  });
  const heldByOther = leaseOf({
    holderIdentity: 'other',
    leaseDurationSeconds: 15,
    acquireTime: '2026-01-02T03:00:00.000000Z',
    renewTime: '2026-01-02T03:04:05.000000Z',
    leaseTransitions: 3,
  });

  test('creates a missing lease', () => {
    expect(decideLease(null, 'me', T0, null, opts)).toEqual({
      action: 'create',
      observed: null,
      spec: {
        holderIdentity: 'me',
        leaseDurationSeconds: 15,
        acquireTime: '2026-01-02T03:04:05.000000Z',
        renewTime: '2026-01-02T03:04:05.000000Z',
        leaseTransitions: 0,
      },
    });
  });

  test('takes over only once the lease has expired since it was observed', () => {
    const first = decideLease(heldByOther, 'me', T0, null, opts);
    expect(first).toMatchObject({ action: 'wait', holder: 'other', expiresInMs: 15_000 });
    const before = decideLease(heldByOther, 'me', T0 + 14_999, first.observed, opts);
    expect(before.action).toBe('wait');
    const after = updateOf(decideLease(heldByOther, 'me', T0 + 15_000, before.observed, opts));
    expect(after.transition).toBe(true);
    expect(after.lease.metadata.resourceVersion).toBe('7');
    expect(after.lease.spec).toEqual({
      holderIdentity: 'me',
      leaseDurationSeconds: 15,
      acquireTime: '2026-01-02T03:04:20.000000Z',
      renewTime: '2026-01-02T03:04:20.000000Z',
      leaseTransitions: 4,
    });
  });

  test('a renewal by the holder restarts the expiry clock', () => {
    const first = decideLease(heldByOther, 'me', T0, null, opts);
    const renewed = leaseOf({ ...heldByOther.spec, renewTime: '2026-01-02T03:04:15.000000Z' }, '8');
    const seen = decideLease(renewed, 'me', T0 + 10_000, first.observed, opts);
    expect(seen.action).toBe('wait');
    expect(decideLease(renewed, 'me', T0 + 24_999, seen.observed, opts).action).toBe('wait');
    expect(decideLease(renewed, 'me', T0 + 25_000, seen.observed, opts).action).toBe('update');
  });

  test('does not trust the remote renewTime (clock skew)', () => {
    const ancient = leaseOf({ ...heldByOther.spec, renewTime: '2000-01-01T00:00:00.000000Z' });
    expect(decideLease(ancient, 'me', T0, null, opts).action).toBe('wait');
  });

  test('expiry uses the monotonic clock when given', () => {
    const first = decideLease(heldByOther, 'me', T0, null, { ...opts, monotonicNow: 1_000 });
    // The wall clock jumped an hour ahead; the monotonic one moved 1 s.
    expect(decideLease(heldByOther, 'me', T0 + 3_600_000, first.observed, { ...opts, monotonicNow: 2_000 }).action).toBe('wait');
    expect(decideLease(heldByOther, 'me', T0, first.observed, { ...opts, monotonicNow: 16_000 }).action).toBe('update');
  });

  test('the holder renews keeping acquireTime and transitions', () => {
    const mine = leaseOf({ ...heldByOther.spec, holderIdentity: 'me', preferredHolder: 'me' });
    const d = updateOf(decideLease(mine, 'me', T0 + 2_000, null, opts));
    expect(d.transition).toBe(false);
    expect(d.lease.spec).toEqual({
      holderIdentity: 'me',
      leaseDurationSeconds: 15,
      acquireTime: '2026-01-02T03:00:00.000000Z',
      renewTime: '2026-01-02T03:04:07.000000Z',
      leaseTransitions: 3,
      preferredHolder: 'me',
    });
  });

  test('a released lease is taken over at once', () => {
    const released = releasedLease(heldByOther, T0);
    expect(released.spec).toEqual({
      holderIdentity: '',
      leaseDurationSeconds: 1,
      acquireTime: '2026-01-02T03:04:05.000000Z',
      renewTime: '2026-01-02T03:04:05.000000Z',
      leaseTransitions: 3,
    });
    const d = updateOf(decideLease(released, 'me', T0, null, opts));
    expect(d.lease.spec.leaseTransitions).toBe(4);
  });
});

describe('LeaderElector and FailoverReconciler against a fake API server', () => {
  let server: FakeApiServer;
  let client: ApiClient;

  beforeEach(async () => {
    server = new FakeApiServer();
    const url = await server.start();
    client = createApiClient({ server: url }, { timeoutMs: 1000 });
  });

  afterEach(async () => {
    client.close();
    await server.stop();
  });

  function elector(identity: string, log: Logger, overrides: KubeObject = {}): LeaderElector {
    return new LeaderElector({
      client,
      namespace: 'db',
      name: 'pg-failover',
      identity,
      leaseDurationSeconds: 2,
      renewDeadlineSeconds: 0.4,
      retryPeriodSeconds: 0.05,
      requestTimeoutMs: 1000,
      log,
      ...overrides,
    });
  }

  test('steps down when it cannot renew within the renew deadline', async () => {
    const { log, entries } = captureLogger();
    const e = elector('me', log);
    e.start();
    try {
      await waitFor('leadership', () => e.isLeading());
      expect(e.leadershipLeftMs()).toBeGreaterThan(0);
      expect(e.leadershipLeftMs()).toBeLessThanOrEqual(400);
      const leaseSpec = server.lease('db', 'pg-failover')!.spec;
      expect(leaseSpec).toMatchObject({ holderIdentity: 'me', leaseDurationSeconds: 2, leaseTransitions: 0 });
      server.failLeaseRequests = true;
      const failedAt = Date.now();
      await waitFor('step-down', () => !e.isLeading());
      expect(Date.now() - failedAt).toBeLessThan(600);
      expect(e.leadershipLeftMs()).toBe(0);
      const lost = await waitFor('lost leadership log', () => entries.find((x) => x.msg === 'lost leadership'));
      expect(lost).toMatchObject({ level: 'warn', reason: 'renew deadline exceeded', identity: 'me' });
      // Back online: the lease still names us, so we lead again without a new transition.
      server.failLeaseRequests = false;
      await waitFor('re-election', () => e.isLeading());
      expect(server.lease('db', 'pg-failover')!.spec.leaseTransitions).toBe(0);
    } finally {
      await e.stopAndRelease();
    }
  });

  test('steps down at once when another candidate holds the lease', async () => {
    const { log, entries } = captureLogger();
    const e = elector('me', log);
    e.start();
    try {
      await waitFor('leadership', () => e.isLeading());
      server.putLease('db', 'pg-failover', { holderIdentity: 'usurper', leaseDurationSeconds: 60, leaseTransitions: 1 });
      await waitFor('step-down', () => !e.isLeading(), 300);
      expect(entries.find((x) => x.msg === 'lost leadership')).toMatchObject({ reason: 'lease is held by another candidate', holder: 'usurper' });
      // Someone else's lease is not released on stop.
      expect(await e.stopAndRelease()).toBe(false);
      expect(server.lease('db', 'pg-failover')!.spec.holderIdentity).toBe('usurper');
    } finally {
      await e.stopAndRelease();
    }
  });

  test('stopAndRelease clears the holder so another candidate takes over at once', async () => {
    const a = elector('a', captureLogger().log, { leaseDurationSeconds: 30, renewDeadlineSeconds: 10, retryPeriodSeconds: 0.05 });
    const b = elector('b', captureLogger().log, { leaseDurationSeconds: 30, renewDeadlineSeconds: 10, retryPeriodSeconds: 0.05 });
    a.start();
    try {
      await waitFor('a leads', () => a.isLeading());
      b.start();
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(b.isLeading()).toBe(false);
      expect(await a.stopAndRelease()).toBe(true);
      expect(server.lease('db', 'pg-failover')!.spec).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
      await waitFor('b leads', () => b.isLeading(), 1000);
      expect(server.lease('db', 'pg-failover')!.spec).toMatchObject({ holderIdentity: 'b', leaseDurationSeconds: 30, leaseTransitions: 1 });
    } finally {
      await a.stopAndRelease();
      await b.stopAndRelease();
    }
  });

  function reconciler(overrides: Partial<ControllerConfig>, canAct = () => true, mono?: () => number): { r: FailoverReconciler; entries: KubeObject[] } {
    const { log, entries } = captureLogger();
    const config: ControllerConfig = {
      ...parseConfig({ ...BASE_ENV, POD_SELECTOR: 'app=pg' }),
      ...overrides,
    };
    return { r: new FailoverReconciler({ client, config, canAct, log, mono }), entries };
  }

  function mutations(): string[] {
    return server.requests.filter((x) => x.method !== 'GET').map((x) => `${x.method} ${x.path} ${x.status}`);
  }

  const longAgo = new Date(Date.now() - 10 * 60_000);

  test('retries the taint after a resourceVersion conflict and keeps concurrent taints', async () => {
    server.addNode('n1', { ready: 'Unknown', since: longAgo });
    const pod = server.addPod('db', 'pg-0', { nodeName: 'n1', labels: { app: 'pg' } });
    server.conflictOnNextNodePatch.add('n1');
    const { r, entries } = reconciler({});
    await r.reconcile();
    expect(mutations()).toEqual(['PATCH /api/v1/nodes/n1 409', 'PATCH /api/v1/nodes/n1 200', 'DELETE /api/v1/namespaces/db/pods/pg-0 200']);
    expect(server.nodes.get('n1')!.spec.taints).toEqual([expect.objectContaining({ key: OOS, value: 'nodeshutdown', effect: 'NoExecute' })]);
    const del = server.requests.find((x) => x.method === 'DELETE')!;
    expect(del.body).toEqual({ kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } });
    expect(entries.map((x) => x.msg)).toEqual(expect.arrayContaining(['node lost', 'tainted node', 'force-deleted pod']));
    // The next pass finds nothing to do and does not write.
    const before = mutations().length;
    await r.reconcile();
    expect(mutations()).toHaveLength(before);
  });

  test('a pod whose Node object is gone is force-deleted without tainting', async () => {
    server.addPod('db', 'pg-0', { nodeName: 'vanished', labels: { app: 'pg' } });
    const { r, entries } = reconciler({});
    await r.reconcile();
    expect(mutations()).toEqual(['DELETE /api/v1/namespaces/db/pods/pg-0 200']);
    expect(entries.find((x) => x.msg === 'node lost')).toMatchObject({ node: 'vanished', reason: 'NodeNotFound' });
  });

  test('honours ACTIONS=force-delete-pod', async () => {
    server.addNode('n1', { ready: 'False', since: longAgo });
    server.addPod('db', 'pg-0', { nodeName: 'n1', labels: { app: 'pg' } });
    const { r } = reconciler({ taint: false, forceDelete: true });
    await r.reconcile();
    expect(mutations()).toEqual(['DELETE /api/v1/namespaces/db/pods/pg-0 200']);
    expect(server.nodes.get('n1')!.spec.taints).toBeUndefined();
  });

  test('a uid precondition failure (pod already replaced) is not an error', async () => {
    server.addNode('n1', { ready: 'False', since: longAgo, taints: [{ key: OOS, value: 'nodeshutdown', effect: 'NoExecute' }] });
    const stale = server.addPod('db', 'pg-0', { nodeName: 'n1', labels: { app: 'pg' } });
    const { r, entries } = reconciler({});
    const replaced = { ...stale, metadata: { ...stale.metadata, uid: 'new-uid' } };
    server.pods.set('db/pg-0', replaced);
    expect(await r.forceDeletePod(stale, 'n1')).toBe('replaced');
    expect(server.pods.has('db/pg-0')).toBe(true);
    expect(entries.map((x) => x.msg)).toEqual(['pod was replaced, not deleted']);
  });

  test('DRY_RUN only logs what it would do', async () => {
    server.addNode('n1', { ready: 'Unknown', since: longAgo });
    const pod = server.addPod('db', 'pg-0', { nodeName: 'n1', labels: { app: 'pg' } });
    const { r, entries } = reconciler({ dryRun: true });
    await r.reconcile();
    await r.reconcile();
    expect(mutations()).toEqual([]);
    expect(entries.filter((x) => x.msg.startsWith('would')).map((x) => [x.msg, x.node, x.uid])).toEqual([
      ['would taint node', 'n1', undefined],
      ['would force-delete pod', 'n1', pod.metadata.uid],
    ]);
  });

  test('writes never outlive the remaining leadership', () => {
    const { log } = captureLogger();
    const config = parseConfig({ ...BASE_ENV, REQUEST_TIMEOUT_SECONDS: '5' });
    const limited = new FailoverReconciler({ client, config, canAct: () => true, leadershipLeftMs: () => 250, log });
    expect(limited.writeTimeoutMs()).toBe(250);
    const unlimited = new FailoverReconciler({ client, config, canAct: () => true, log });
    expect(unlimited.writeTimeoutMs()).toBe(5000);
  });

  test('does nothing when not leading', async () => {
    server.addNode('n1', { ready: 'Unknown', since: longAgo });
    server.addPod('db', 'pg-0', { nodeName: 'n1', labels: { app: 'pg' } });
    const { r } = reconciler({}, () => false);
    await r.reconcile();
    expect(mutations()).toEqual([]);
  });

  test('reports a tainted node that is Ready again and leaves the taint', async () => {
    server.addNode('n1', { ready: 'Unknown', since: longAgo });
    server.addPod('db', 'pg-0', { nodeName: 'n1', labels: { app: 'pg' } });
    const { r, entries } = reconciler({});
    await r.reconcile();
    const n1 = server.nodes.get('n1')!;
    n1.status.conditions[1] = { type: 'Ready', status: 'True', lastTransitionTime: new Date().toISOString() };
    await r.reconcile();
    await r.reconcile();
    expect(entries.filter((x) => x.msg === 'tainted node is ready again')).toHaveLength(1);
    expect(server.nodes.get('n1')!.spec.taints.map((t: KubeObject) => t.key)).toEqual([OOS]);
  });
});

describe('heartbeat detection', () => {
  const lease = (name: string, renewTime: string) => ({ metadata: { name }, spec: { renewTime } });

  test('a node is silent from the last renewal this process saw, on its own clock', () => {
    const t = new HeartbeatTracker();
    t.observe([lease('n1', 'a'), lease('n2', 'a'), lease('n3', 'a')], 0);
    t.observe([lease('n1', 'a'), lease('n2', 'b'), lease('n3', 'b')], 10_000);
    expect(t.status('n1', 30, 29_999)).toMatchObject({ lost: false, reason: 'HeartbeatRecent', silentForSeconds: 30 });
    expect(t.status('n1', 30, 30_000)).toEqual({ lost: true, reason: 'HeartbeatSilent', silentForSeconds: 30, silentNodes: 1, knownNodes: 3 });
    // the renewTime text is compared, never parsed: an "old" timestamp from a skewed kubelet clock is just a renewal
    t.observe([lease('n1', '2000-01-01T00:00:00.000000Z'), lease('n2', 'b'), lease('n3', 'b')], 31_000);
    expect(t.status('n1', 30, 31_000)).toMatchObject({ lost: false, silentForSeconds: 0 });
  });

  test('half of the nodes silent or more is not a node loss', () => {
    const t = new HeartbeatTracker();
    t.observe([lease('n1', 'a'), lease('n2', 'a'), lease('n3', 'a'), lease('n4', 'a')], 0);
    t.observe([lease('n1', 'a'), lease('n2', 'a'), lease('n3', 'b'), lease('n4', 'b')], 20_000);
    expect(t.status('n1', 30, 35_000)).toEqual({ lost: false, reason: 'TooManySilent', silentForSeconds: 35, silentNodes: 2, knownNodes: 4 });
  });

  test('a node without a Lease, and forgotten observations, never count as silent', () => {
    const t = new HeartbeatTracker();
    t.observe([lease('n1', 'a'), lease('n2', 'a'), lease('n3', 'a')], 0);
    expect(t.status('n9', 30, 60_000)).toMatchObject({ lost: false, reason: 'NoHeartbeatLease' });
    t.observe([lease('n1', 'a'), lease('n2', 'a')], 40_000);
    expect(t.size).toBe(2);
    t.forget();
    t.observe([lease('n1', 'a'), lease('n2', 'b')], 50_000);
    expect(t.status('n1', 30, 60_000)).toMatchObject({ lost: false, silentForSeconds: 10 });
  });
});

describe('the reconciler on heartbeats', () => {
  let server: FakeApiServer;
  let client: ApiClient;
  let now = 0;
  const mono = () => now;

  beforeEach(async () => {
    server = new FakeApiServer();
    client = createApiClient({ server: await server.start() }, { timeoutMs: 1000 });
    now = 0;
  });

  afterEach(async () => {
    client.close();
    await server.stop();
  });

  function setup(canAct: () => boolean = () => true): { r: FailoverReconciler; entries: KubeObject[] } {
    const { log, entries } = captureLogger();
    const config = parseConfig({ ...BASE_ENV, POD_SELECTOR: 'app=pg', HEARTBEAT_THRESHOLD_SECONDS: '30' });
    return { r: new FailoverReconciler({ client, config, canAct, log, mono }), entries };
  }

  function cluster(): void {
    // Ready as far as the node lifecycle controller knows: only the heartbeat tells the loss early
    for (const n of ['n1', 'n2', 'n3']) {
      server.addNode(n, { ready: 'True', since: new Date(Date.now() - 3_600_000) });
      server.renewNodeLease(n, new Date(Date.now() - 1000));
    }
    server.addPod('db', 'pg-0', { nodeName: 'n1', labels: { app: 'pg' } });
  }

  const writes = () => server.requests.filter((x) => x.method !== 'GET').map((x) => `${x.method} ${x.path}`);

  test('acts once the kubelet of the pod\'s node has been silent for the threshold, before any NotReady', async () => {
    cluster();
    const { r, entries } = setup();
    await r.reconcile();
    for (now = 10_000; now <= 40_000; now += 10_000) {
      server.renewNodeLease('n2', new Date(Date.now() + now));
      server.renewNodeLease('n3', new Date(Date.now() + now));
      await r.reconcile();
      if (now < 30_000) expect(writes().filter((w) => !w.includes('/leases'))).toEqual([]);
    }
    expect(writes().filter((w) => !w.includes('/leases'))).toEqual(['PATCH /api/v1/nodes/n1', 'DELETE /api/v1/namespaces/db/pods/pg-0']);
    expect(entries.find((e) => e.msg === 'node lost')).toMatchObject({ node: 'n1', reason: 'HeartbeatSilent', silentForSeconds: 30, silentNodes: 1, knownNodes: 3 });
    expect(server.requests.find((x) => x.path === '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases')!.query.get('resourceVersion')).toBe('0');
    // still Ready=True as far as the node lifecycle controller knows, but silent: not back yet
    now = 42_000;
    await r.reconcile();
    expect(entries.filter((e) => e.msg === 'tainted node is ready again')).toEqual([]);
    // the kubelet renews again: now it is back, reported once, the taint left in place
    server.renewNodeLease('n1', new Date(Date.now() + now));
    now = 44_000;
    await r.reconcile();
    await r.reconcile();
    expect(entries.filter((e) => e.msg === 'tainted node is ready again')).toHaveLength(1);
    expect(server.nodes.get('n1')!.spec.taints.map((t: KubeObject) => t.key)).toEqual([OOS]);
  });

  test('a standby times the heartbeats too, and acts at once when it takes over late', async () => {
    cluster();
    let leading = false;
    const { r } = setup(() => leading);
    await r.reconcile();
    now = 30_000;
    server.renewNodeLease('n2', new Date(Date.now() + now));
    server.renewNodeLease('n3', new Date(Date.now() + now));
    await r.reconcile();
    expect(writes().filter((w) => !w.includes('/leases'))).toEqual([]);
    leading = true;
    await r.reconcile();
    expect(writes().filter((w) => !w.includes('/leases'))).toEqual(['PATCH /api/v1/nodes/n1', 'DELETE /api/v1/namespaces/db/pods/pg-0']);
  });

  test('does not act when most nodes are silent at once, and says why', async () => {
    cluster();
    const { r, entries } = setup();
    await r.reconcile();
    now = 60_000;
    await r.reconcile();
    expect(writes().filter((w) => !w.includes('/leases'))).toEqual([]);
    expect(entries.find((e) => e.msg.startsWith('not acting on heartbeat silence'))).toMatchObject({ level: 'warn', node: 'n1', silentNodes: 3, knownNodes: 3 });
  });

  test('a failed heartbeat read starts the observation over instead of counting the gap as silence', async () => {
    cluster();
    const { r, entries } = setup();
    await r.reconcile();
    server.failNodeLeaseList = true;
    now = 20_000;
    await r.reconcile();
    expect(entries.find((e) => e.msg.startsWith('failed to read node heartbeats'))!.error).toMatch(/HTTP 403/);
    server.failNodeLeaseList = false;
    now = 40_000;
    server.renewNodeLease('n2', new Date(Date.now() + now));
    await r.reconcile();
    expect(r.heartbeats.status('n1', 30, now)).toMatchObject({ lost: false, silentForSeconds: 0 });
    expect(writes().filter((w) => !w.includes('/leases'))).toEqual([]);
  });

  test('leaves a watched pod alone when it does not carry the app\'s labels', async () => {
    server.addNode('n1', { ready: 'Unknown', since: new Date(Date.now() - 600_000) });
    server.addPod('db', 'pg-0', { nodeName: 'n1', labels: { app: 'impostor' } });
    const { r, entries } = setup();
    await r.reconcile();
    await r.reconcile();
    expect(writes()).toEqual([]);
    expect(entries.filter((e) => e.msg.startsWith('watched pod does not carry'))).toHaveLength(1);
  });
});

describe('health endpoint', () => {
  test('healthy while passes end, 503 with the age once they stop', () => {
    expect(healthResponse({ lastPassEnd: () => 1000, staleAfterMs: 27_000, mono: () => 28_000 })).toEqual({ status: 200, body: 'ok\n' });
    expect(healthResponse({ lastPassEnd: () => 1000, staleAfterMs: 27_000, mono: () => 28_001 })).toEqual({
      status: 503, body: 'stuck: the last reconcile pass ended 27.0 s ago (limit 27 s)\n',
    });
  });

  test('serves /healthz over HTTP and nothing else', async () => {
    let last = 0;
    const server = startHealthServer(0, { lastPassEnd: () => last, staleAfterMs: 1000, mono: () => 500 });
    await new Promise((resolve) => server.once('listening', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      last = -2000;
      const stuck = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect([stuck.status, await stuck.text()]).toEqual([503, 'stuck: the last reconcile pass ended 2.5 s ago (limit 1 s)\n']);
      expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(404);
    } finally {
      server.close();
    }
  });
});

// ---------------------------------------------------------------------------
// End to end: the real script as child processes against the fake API server
// ---------------------------------------------------------------------------

interface Controller {
  name: string;
  proc: ChildProcess;
  logs: KubeObject[];
  stderr: string;
  exit: Promise<number | null>;
}

describe('failover-controller process', () => {
  const server = new FakeApiServer();
  const children: Controller[] = [];
  let tmp: string;

  beforeAll(async () => {
    await server.start();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'failover-'));
  });

  afterAll(async () => {
    for (const c of children) {
      if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
      await c.exit;
    }
    await server.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  function launch(name: string, env: Record<string, string>): Controller {
    const proc = spawn(process.execPath, [SCRIPT], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const c: Controller = {
      name,
      proc,
      logs: [],
      stderr: '',
      exit: new Promise((resolve) => proc.on('exit', (code) => resolve(code))),
    };
    let buffered = '';
    proc.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.trim()) c.logs.push(JSON.parse(line));
      }
    });
    proc.stderr!.on('data', (chunk: Buffer) => (c.stderr += chunk.toString('utf8')));
    children.push(c);
    return c;
  }

  const messages = (c: Controller): string[] => c.logs.map((x) => x.msg);

  test('exits 2 with a clear message on bad configuration', async () => {
    const c = launch('bad', { NAMESPACE: 'db', WATCHED_POD: 'pg-0', LEASE_NAME: 'x', KUBE_API_SERVER: server.url, RETRY_PERIOD_SECONDS: '20' });
    expect(await c.exit).toBe(2);
    expect(c.stderr).toContain('invalid configuration: POD_SELECTOR is required; RETRY_PERIOD_SECONDS (20) must be shorter than the renew deadline (10 s)');
    expect(c.logs[0]).toMatchObject({ level: 'error', msg: 'invalid configuration' });
  });

  test('one leader taints the lost node, force-deletes its pod, and hands over on SIGTERM', async () => {
    const tokenFile = path.join(tmp, 'token');
    fs.writeFileSync(tokenFile, 'first-token\n');
    server.acceptedTokens.add('first-token');

    const now = Date.now();
    const unreachable = [
      { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule', timeAdded: '2026-01-02T03:00:00Z' },
      { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2026-01-02T03:00:05Z' },
    ];
    server.addNode('node-lost', { ready: 'Unknown', since: new Date(now - 5 * 60_000), taints: unreachable });
    server.addNode('node-ready', { ready: 'True', since: new Date(now - 60 * 60_000) });
    server.addNode('node-flapping', { ready: 'False', since: new Date(now - 5_000) });
    server.conflictOnNextNodePatch.add('node-lost');

    const labels = { 'app.kubernetes.io/name': 'pg', 'app.kubernetes.io/instance': 'main' };
    const lostPod = server.addPod('db', 'pg-0', { nodeName: 'node-lost', labels });
    server.addPod('db', 'pg-1', { nodeName: 'node-ready', labels });
    server.addPod('db', 'pg-2', { nodeName: 'node-flapping', labels });
    server.addPod('db', 'other-0', { nodeName: 'node-lost', labels: { 'app.kubernetes.io/name': 'cache' } });

    const env = {
      NAMESPACE: 'db',
      WATCHED_POD: 'pg-0',
      POD_SELECTOR: 'app.kubernetes.io/name=pg,app.kubernetes.io/instance=main',
      LEASE_NAME: 'pg-failover',
      KUBE_API_SERVER: server.url,
      KUBE_TOKEN_FILE: tokenFile,
      NOT_READY_THRESHOLD_SECONDS: '30',
      CHECK_INTERVAL_SECONDS: '0.1',
      LEASE_DURATION_SECONDS: '6',
      RENEW_DEADLINE_SECONDS: '4',
      RETRY_PERIOD_SECONDS: '0.1',
      LOG_LEVEL: 'debug',
    };
    const a = launch('ctrl-a', { ...env, IDENTITY: 'ctrl-a' });
    const b = launch('ctrl-b', { ...env, IDENTITY: 'ctrl-b' });
    try {
      const leader = await waitFor('a leader', () => [a, b].find((c) => messages(c).includes('became leader')));
      const follower = leader === a ? b : a;
      expect(server.lease('db', 'pg-failover')!.spec).toMatchObject({ holderIdentity: leader.name, leaseDurationSeconds: 6, leaseTransitions: 0 });
      expect(server.lease('db', 'pg-failover')!.spec.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

      await waitFor('pod force-deleted', () => !server.pods.has('db/pg-0'));
      // The service account token rotates: later requests must carry the new one.
      // Swapped atomically, as the kubelet does for projected tokens.
      server.acceptedTokens.add('second-token');
      fs.writeFileSync(`${tokenFile}.new`, 'second-token\n');
      fs.renameSync(`${tokenFile}.new`, tokenFile);
      // Let several more passes run over the remaining pods.
      const passes = leader.logs.filter((x) => x.msg === 'reconciled').length;
      await waitFor('more passes', () => leader.logs.filter((x) => x.msg === 'reconciled').length >= passes + 5);
      const latest = server.requests.slice(-6).map((x) => x.authorization);
      expect(latest).toEqual(Array(6).fill('Bearer second-token'));

      // The lost node got the taint, after one lost race, keeping the node lifecycle taints.
      expect(server.nodes.get('node-lost')!.spec.taints).toEqual([
        ...unreachable,
        { key: OOS, value: 'nodeshutdown', effect: 'NoExecute', timeAdded: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/) },
      ]);
      const patches = server.requests.filter((x) => x.method === 'PATCH');
      expect(patches.map((x) => [x.path, x.status, x.contentType])).toEqual([
        ['/api/v1/nodes/node-lost', 409, 'application/merge-patch+json'],
        ['/api/v1/nodes/node-lost', 200, 'application/merge-patch+json'],
      ]);

      // Only the pod on the lost node was deleted, with grace 0 and its uid as precondition.
      const deletes = server.requests.filter((x) => x.method === 'DELETE');
      expect(deletes.map((x) => [x.path, x.status, x.body])).toEqual([
        ['/api/v1/namespaces/db/pods/pg-0', 200, { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0, preconditions: { uid: lostPod.metadata.uid } }],
      ]);
      expect([...server.pods.keys()].sort()).toEqual(['db/other-0', 'db/pg-1', 'db/pg-2']);
      expect(server.nodes.get('node-ready')!.spec.taints).toBeUndefined();
      expect(server.nodes.get('node-flapping')!.spec.taints).toBeUndefined();

      // Exactly one instance acted; the other only campaigned for the lease.
      const writers = new Set(server.requests.filter((x) => !x.path.includes('/leases')).map((x) => x.userAgent));
      expect([...writers]).toEqual([`rwop-failover-controller/2.0 (${leader.name})`]);
      expect(messages(follower)).not.toContain('became leader');
      expect(messages(follower)).not.toContain('tainted node');
      expect(messages(follower)).not.toContain('force-deleted pod');
      expect(messages(follower)).toContain('lease held by another candidate');
      expect(messages(leader)).toEqual(expect.arrayContaining(['starting', 'became leader', 'node lost', 'tainted node', 'force-deleted pod']));
      expect(leader.logs.find((x) => x.msg === 'node lost')).toMatchObject({ level: 'warn', node: 'node-lost', pod: 'pg-0', reason: 'NotReady', readyStatus: 'Unknown' });
      expect(leader.logs.find((x) => x.msg === 'node lost')!.notReadyForSeconds).toBeGreaterThanOrEqual(300);
      expect(server.requests.filter((x) => x.status === 401)).toEqual([]);
      for (const entry of leader.logs) expect(Object.keys(entry).slice(0, 3)).toEqual(['time', 'level', 'msg']);

      // SIGTERM: the leader releases the lease and the follower takes over well before it would expire.
      const stoppedAt = Date.now();
      leader.proc.kill('SIGTERM');
      expect(await leader.exit).toBe(0);
      expect(messages(leader)).toEqual(expect.arrayContaining(['shutting down', 'released lease', 'stopped']));
      expect(server.leaseHistory.some((s) => s.holderIdentity === '' && s.leaseDurationSeconds === 1)).toBe(true);
      await waitFor('follower takes over', () => messages(follower).includes('became leader'), 3000);
      expect(Date.now() - stoppedAt).toBeLessThan(3000);
      expect(server.lease('db', 'pg-failover')!.spec).toMatchObject({ holderIdentity: follower.name, leaseTransitions: 1 });

      follower.proc.kill('SIGTERM');
      expect(await follower.exit).toBe(0);
      expect(server.lease('db', 'pg-failover')!.spec).toMatchObject({ holderIdentity: '', leaseTransitions: 1 });
      // Ready and recently-NotReady pods survived both leaders.
      expect([...server.pods.keys()].sort()).toEqual(['db/other-0', 'db/pg-1', 'db/pg-2']);
      expect(a.stderr + b.stderr).toBe('');
    } finally {
      for (const c of [a, b]) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
    }
  }, 15_000);
});
