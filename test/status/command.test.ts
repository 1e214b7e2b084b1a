import * as path from 'node:path';
import { Size } from 'cdk8s';
import { RedisCluster, RwopStatefulApp, StatefulProbe } from '../../src';
import { parseDuration, parseStatusArgs } from '../../cli/status/args';
import { checkStatefulSet } from '../../cli/status/checks';
import { runStatusCommand } from '../../cli/status/command';
import { explainRequestError, resolveKubeconfigSource, StatusError } from '../../cli/status/kube';
import { renderReport } from '../../cli/status/render';
import { ClusterSnapshot } from '../../cli/status/model';
import { liveSnapshot, NOW, REV1, REV2, synthChart } from './fixtures';

function io(isTTY = false, snapshots?: ClusterSnapshot[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  let read = 0;
  // the last snapshot repeats once the list is used up
  const source = snapshots && { snapshot: async () => ({ ...snapshots[Math.min(read++, snapshots.length - 1)], readAt: NOW + read * 1000 }) };
  return {
    out, err, reads: () => read,
    io: { stdout: { write: (t: string) => out.push(t), isTTY }, stderr: { write: (t: string) => err.push(t) }, env, source },
  };
}

function redisSnapshot(): ClusterSnapshot {
  return liveSnapshot(synthChart((chart) => new RedisCluster(chart, 'r', { name: 'redis', auth: { enabled: false }, replicasPerShard: 0 }), 'cache'));
}

function rollingSnapshot(): ClusterSnapshot {
  const manifests = synthChart((chart) => new RedisCluster(chart, 'r', { name: 'redis', auth: { enabled: false }, replicasPerShard: 0 }), 'cache');
  return liveSnapshot(manifests, { podRevision: (o) => (o === 2 ? REV2 : REV1), updateRevision: REV2 });
}

describe('command line', () => {
  test('GIVEN namespace and name only THEN table output, no watch, kubectl-like defaults', () => {
    expect(parseStatusArgs(['apps', 'db'])).toEqual({
      namespace: 'apps', name: 'db', kubeconfig: undefined, context: undefined, output: 'table', watch: false,
      timeoutMs: 300_000, intervalMs: 2000, requestTimeoutMs: 30_000,
    });
    expect(parseStatusArgs(['apps', 'db', '-o', 'json', '--context=kind', '--kubeconfig', '/k', '-w', '--timeout', '1m30s', '--interval=500ms'])).toMatchObject({
      output: 'json', context: 'kind', kubeconfig: '/k', watch: true, timeoutMs: 90_000, intervalMs: 500,
    });
    expect(parseStatusArgs(['apps', 'db', '--request-timeout', '5s'])).toMatchObject({ requestTimeoutMs: 5000 });
    expect(parseStatusArgs(['apps', '--help'])).toBe('help');
  });

  test.each([
    [[], 'expected <namespace> <statefulset>, got neither'],
    [['apps'], 'expected <namespace> <statefulset>, got only "apps"'],
    [['apps', 'db', 'x'], 'expected <namespace> <statefulset>, got 3 arguments: apps db x'],
    [['Apps', 'db'], 'invalid namespace "Apps": a namespace is a DNS label (lower-case letters, digits and \'-\', at most 63 characters)'],
    [['apps', 'db_1'], 'invalid StatefulSet name "db_1": lower-case letters, digits, \'-\' and \'.\', starting and ending with a letter or digit'],
    [['apps', 'db', '--output', 'yaml'], '--output: "yaml" is not a format; use table or json'],
    [['apps', 'db', '--kubeconfig'], '--kubeconfig needs a value'],
    [['apps', 'db', '--context', '--watch'], '--context needs a value'],
    [['apps', 'db', '--context='], '--context needs a non-empty value'],
    [['apps', 'db', '--context', 'a', '--context', 'b'], '--context given twice'],
    [['apps', 'db', '--namespace', 'x'], 'unknown option --namespace; options: --kubeconfig, --context, -o/--output, -w/--watch, --timeout, --interval, --request-timeout, -h/--help'],
    [['apps', 'db', '--timeout', '5m'], '--timeout applies only with --watch'],
    [['apps', 'db', '-w', '--timeout', '5'], '--timeout: invalid duration "5": use a number with a unit, for example 500ms, 90s, 5m or 1m30s'],
    [['apps', 'db', '-w', '--interval', '0s'], '--interval: the duration must be more than 0 (got "0s")'],
    [['apps', 'db', '--watch=yes'], '--watch takes no value'],
  ])('GIVEN %j THEN the error says what is accepted', (argv, message) => {
    expect(() => parseStatusArgs(argv as string[])).toThrow(message);
  });

  test('durations', () => {
    expect(parseDuration('--timeout', '2h')).toBe(7_200_000);
    expect(parseDuration('--timeout', '1.5s')).toBe(1500);
    expect(() => parseDuration('--timeout', '5 m')).toThrow(/invalid duration "5 m"/);
  });

  test('GIVEN a bad flag WHEN the command runs THEN exit 64 with the error and a pointer to --help on stderr', async () => {
    const { out, err, io: streams } = io();
    expect(await runStatusCommand(['apps', 'db', '--output', 'yaml'], streams)).toBe(64);
    expect(out).toEqual([]);
    expect(err.join('')).toBe('error: --output: "yaml" is not a format; use table or json\nRun \'cdk8s-stateful status --help\' for usage.\n');
  });

  test('GIVEN --help THEN the usage on stdout and exit 0', async () => {
    const { out, io: streams } = io();
    expect(await runStatusCommand(['--help'], streams)).toBe(0);
    expect(out.join('')).toMatch(/^Usage: cdk8s-stateful status <namespace> <statefulset> \[options\]/);
    expect(out.join('')).toMatch(/Exit codes: 0 every check ok; 1 a check failed; 2 warnings only; 3 the status could not be read/);
  });

  test('GIVEN a missing kubeconfig WHEN the command runs THEN exit 3 with the file named', async () => {
    const { err, io: streams } = io();
    expect(await runStatusCommand(['apps', 'db', '--kubeconfig', '/nonexistent/kubeconfig'], streams)).toBe(3);
    expect(err.join('')).toBe('error: kubeconfig /nonexistent/kubeconfig (--kubeconfig) does not exist\n');
  });
});

describe('output and exit codes', () => {
  test('GIVEN a terminal THEN colours; GIVEN a pipe or NO_COLOR THEN none; exit code from the worst level', async () => {
    const tty = io(true, [rollingSnapshot()]);
    expect(await runStatusCommand(['cache', 'redis'], tty.io)).toBe(2);
    expect(tty.out.join('')).toMatch(/\u001b\[33mwarning/);
    const pipe = io(false, [rollingSnapshot()]);
    expect(await runStatusCommand(['cache', 'redis'], pipe.io)).toBe(2);
    expect(pipe.out.join('')).not.toMatch(/\u001b/);
    const noColor = io(true, [rollingSnapshot()], { NO_COLOR: '1' });
    await runStatusCommand(['cache', 'redis'], noColor.io);
    expect(noColor.out.join('')).not.toMatch(/\u001b/);
    const healthy = io(false, [redisSnapshot()]);
    expect(await runStatusCommand(['cache', 'redis', '-o', 'json'], healthy.io)).toBe(0);
    expect(JSON.parse(healthy.out.join('')).summary).toEqual({ result: 'ok', ok: 8, warning: 0, failure: 0 });
  });

  test('GIVEN --watch with -o json THEN one JSON line per change until every check is ok, exit 0', async () => {
    const run = io(false, [rollingSnapshot(), rollingSnapshot(), redisSnapshot()]);
    expect(await runStatusCommand(['cache', 'redis', '-o', 'json', '--watch', '--interval', '10ms'], run.io)).toBe(0);
    expect(run.reads()).toBe(3);
    const lines = run.out.join('').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.summary.result)).toEqual(['warning', 'ok']);
    expect(run.err).toEqual([]);
  });

  test('GIVEN --watch on a terminal THEN the screen is redrawn each round; at the timeout THEN the last code and a note on stderr', async () => {
    const run = io(true, [rollingSnapshot()]);
    expect(await runStatusCommand(['cache', 'redis', '--watch', '--interval', '10ms', '--timeout', '50ms'], run.io)).toBe(2);
    expect(run.reads()).toBeGreaterThan(1);
    expect(run.out.every((chunk) => chunk.startsWith('\u001b[H\u001b[2J'))).toBe(true);
    expect(run.out[0]).toMatch(/watching every 10 ms until every check is ok \(gives up in \d+ s\)\n$/);
    expect(run.err.join('')).toMatch(/^status: not settled after 50 ms \(\d+ checks\); the last result is shown above\n$/);
  });
});

describe('kubeconfig like kubectl', () => {
  const env = (vars: Record<string, string>, files: string[]) => ({ env: vars, home: '/home/u', exists: (f: string) => files.includes(f) });

  test('--kubeconfig, then KUBECONFIG (the files that exist), then ~/.kube/config, then the in-cluster service account', () => {
    expect(resolveKubeconfigSource({ kubeconfig: '/k' }, env({ KUBECONFIG: '/e' }, ['/k', '/e']))).toEqual({ kind: 'files', paths: ['/k'], from: '--kubeconfig' });
    expect(resolveKubeconfigSource({}, env({ KUBECONFIG: `/a${path.delimiter}/b${path.delimiter}/c` }, ['/a', '/c']))).toEqual({ kind: 'files', paths: ['/a', '/c'], from: 'KUBECONFIG' });
    expect(resolveKubeconfigSource({}, env({}, ['/home/u/.kube/config']))).toEqual({ kind: 'files', paths: ['/home/u/.kube/config'], from: '/home/u/.kube/config' });
    expect(resolveKubeconfigSource({}, env({ KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, ['/var/run/secrets/kubernetes.io/serviceaccount/token'])))
      .toEqual({ kind: 'in-cluster' });
  });

  test('GIVEN nothing to read THEN errors that say where kubectl would have looked', () => {
    expect(() => resolveKubeconfigSource({}, env({}, []))).toThrow('no kubeconfig: /home/u/.kube/config does not exist, KUBECONFIG is not set and this is not a pod with a service account; pass --kubeconfig <file> or set KUBECONFIG');
    expect(() => resolveKubeconfigSource({}, env({ KUBECONFIG: '/gone' }, []))).toThrow('KUBECONFIG names /gone, and none of it exists; fix KUBECONFIG or pass --kubeconfig');
    expect(() => resolveKubeconfigSource({ kubeconfig: '/gone' }, env({}, []))).toThrow(StatusError);
  });

  test('request errors name the verb, the resource and what status needs', () => {
    const where = { verb: 'list', resource: 'pods', namespace: 'apps', server: 'https://127.0.0.1:6443', context: 'admin' };
    const forbidden = explainRequestError({ code: 403, body: JSON.stringify({ message: 'pods is forbidden: User "bob" cannot list resource "pods" in API group "" in the namespace "apps"' }) }, where);
    expect(forbidden.kind).toBe('forbidden');
    expect(forbidden.message).toBe('RBAC: not allowed to list pods in namespace apps (the API server: pods is forbidden: User "bob" cannot list resource "pods" in API group "" in the namespace "apps"); '
      + 'status needs: get statefulsets.apps and services; list pods, persistentvolumeclaims and poddisruptionbudgets.policy (optional: get nodes; list jobs.batch while RedisCluster shards drain)');
    expect(explainRequestError({ code: 401, body: '{"message":"Unauthorized"}' }, where).message).toMatch(/^the API server https:\/\/127.0.0.1:6443 rejected the credentials of context "admin" \(401 Unauthorized\)/);
    expect(explainRequestError(Object.assign(new Error('request to https://127.0.0.1:6443/api failed, reason: connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), where))
      .toMatchObject({ kind: 'unreachable', message: 'cannot reach the API server https://127.0.0.1:6443 (context "admin"): ECONNREFUSED; is the cluster running and the address right?' });
    expect(explainRequestError({ code: 404, body: '' }, where).kind).toBe('not-found');
  });
});

describe('human output', () => {
  test('GIVEN a RedisCluster in a partitioned rollout THEN a compact table (snapshot), colour only when asked', () => {
    const manifests = synthChart((chart) => new RedisCluster(chart, 'r', { name: 'redis', auth: { enabled: false }, replicasPerShard: 0 }), 'cache');
    const report = checkStatefulSet(liveSnapshot(manifests, { podRevision: (o) => (o === 2 ? REV2 : REV1), updateRevision: REV2, spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } } }));
    const text = renderReport(report);
    expect(text).toMatchSnapshot();
    expect(text).not.toMatch(/\u001b/);
    expect(renderReport(report, { color: true })).toMatch(/\u001b\[33mwarning/);
  });

  test('GIVEN a RwopStatefulApp THEN the header shows its failover budget', () => {
    const manifests = synthChart((chart) => new RwopStatefulApp(chart, 'db', {
      name: 'db', image: 'postgres:16.4', ports: [{ name: 'pg', port: 5432 }], storageSize: Size.gibibytes(1),
      liveness: StatefulProbe.fromCommand(['pg_isready', '-h', '127.0.0.1']),
    }));
    expect(renderReport(checkStatefulSet(liveSnapshot(manifests)))).toMatch(/^ {2}Failover budget: hung process 44 s, node loss unbounded without automation, automation off$/m);
  });
});
