import { execFile, execFileSync, spawn } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Duration, Size } from 'cdk8s';
import {
  AppendFsync, MaxMemoryPolicy, renderRedisClusterFiles, renderRedisConf, renderRedisScripts, RedisClusterFilesOptions,
} from '../src/redis';
import { confQuote, shQuote } from '../src/redis/quote';
import { selectSections, shellFilesDir } from '../src/redis/shell-files';
import { ensureRedis, RedisFiles, RedisHarness, waitFor } from './support/redis-harness';
import { Testing } from 'cdk8s';
import { RedisCluster, RedisClusterProps, RedisFlavour, RedisResourcesPreset } from '../src';
import { findObject } from './support/validate';

/** The construct the render functions name in their errors (RedisCluster passes itself). */
const SCOPE = Testing.chart();

/** The ConfigMap data exactly as the construct synthesizes it: the real-Redis tests run what users deploy. */
function synthesizedFiles(props: RedisClusterProps): RedisFiles {
  return findObject(synth(props), 'ConfigMap', 'redis-config').data;
}

function synth(props: RedisClusterProps): any[] {
  const chart = Testing.chart();
  new RedisCluster(chart, 'redis', { name: 'redis', ...props });
  return Testing.synth(chart);
}

jest.setTimeout(240_000);

function confLines(conf: string): string[] {
  return conf.split('\n').filter(l => l && !l.startsWith('#'));
}

function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<{ code: number; output: string }> {
  return new Promise(resolve => {
    const child = execFile(cmd, args, { env: opts.env, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
    // The command may exit without reading its input.
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(opts.input ?? '');
  });
}

describe('renderRedisConf', () => {
  test('defaults: cluster mode, nodes.conf on the data dir, AOF everysec, default save points, full coverage', () => {
    expect(confLines(renderRedisConf(SCOPE))).toEqual([
      'port 6379',
      'cluster-enabled yes',
      'cluster-port 16379',
      'cluster-config-file nodes.conf',
      'cluster-node-timeout 15000',
      'cluster-require-full-coverage yes',
      'cluster-allow-reads-when-down no',
      'cluster-preferred-endpoint-type hostname',
      'bind * -::*',
      'protected-mode no',
      'daemonize no',
      'logfile ""',
      'appendonly yes',
      'appendfsync everysec',
      'aof-load-truncated yes',
      'save 3600 1 300 100 60 10000',
      'maxmemory-policy noeviction',
    ]);
  });

  test('typed options render as Redis units and enums; extra settings are split into quoted arguments', () => {
    const lines = confLines(renderRedisConf(SCOPE, {
      port: 7000,
      clusterNodeTimeout: Duration.seconds(5),
      clusterRequireFullCoverage: false,
      maxMemory: Size.gibibytes(2),
      maxMemoryPolicy: MaxMemoryPolicy.ALLKEYS_LFU,
      dataPersistence: { appendOnly: false, appendFsync: AppendFsync.ALWAYS, rdbSavePoints: [{ after: Duration.minutes(15), changes: 1 }] },
      extraSettings: { 'notify-keyspace-events': 'Ex', 'client-output-buffer-limit': 'pubsub 64mb 16mb 90', 'lazyfree-lazy-eviction': 'yes', 'tcp-keepalive': '' },
    }));
    expect(lines).toEqual(expect.arrayContaining([
      'port 7000', 'cluster-port 17000', 'cluster-node-timeout 5000', 'cluster-require-full-coverage no',
      'maxmemory 2gb', 'maxmemory-policy allkeys-lfu', 'appendonly no', 'appendfsync always', 'save 900 1',
      'notify-keyspace-events Ex', 'client-output-buffer-limit pubsub 64mb 16mb 90', 'lazyfree-lazy-eviction yes', 'tcp-keepalive ""',
    ]));
    expect(confLines(renderRedisConf(SCOPE, { maxMemory: Size.mebibytes(1536) }))).toContain('maxmemory 1536mb');
    expect(confLines(renderRedisConf(SCOPE, { maxMemory: Size.kibibytes(1024 * 1024 + 1) }))).toContain('maxmemory 1048577kb');
    expect(confLines(renderRedisConf(SCOPE, { dataPersistence: { rdbSavePoints: [] } }))).toContain('save ""');
  });

  test('values that are not plain words are double-quoted with escapes', () => {
    const conf = renderRedisConf(SCOPE, { extraSettings: { 'notify-keyspace-events': 'K"$x\\y' } });
    expect(confLines(conf)).toContain('notify-keyspace-events "K\\"$x\\\\y"');
    expect(confQuote('héllo')).toBe('"h\\xc3\\xa9llo"');
    expect(confQuote('')).toBe('""');
    expect(confQuote('10.0.0.1')).toBe('10.0.0.1');
  });

  // one validation layer: every bad setting is refused by the construct, in the error shape of the whole library
  test.each([
    [{ port: 0 }, 'test/redis: invalid port (0): must be a whole number 1 to 65535'],
    [{ port: 60000 }, 'test/redis: invalid port (60000): must be at most 55535: the cluster bus uses port + 10000'],
    [{ clusterNodeTimeout: Duration.millis(100) }, 'test/redis: invalid clusterNodeTimeout (100 millis): must be a whole number of milliseconds from 500 ms to 1 hour'],
    [{ maxMemory: Size.kibibytes(512) }, 'test/redis: invalid maxMemory (512 KiB): must be a whole number of KiB and at least 1 MiB'],
    [{ maxMemoryPolicy: 'lru' as MaxMemoryPolicy }, 'test/redis: invalid maxMemoryPolicy ("lru"): must be one of MaxMemoryPolicy ("noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl")'],
    [{ dataPersistence: { appendFsync: 'sometimes' as AppendFsync } }, 'test/redis: invalid dataPersistence.appendFsync ("sometimes"): must be one of AppendFsync ("always", "everysec", "no")'],
    [{ dataPersistence: { rdbSavePoints: [{ after: Duration.millis(1500), changes: 1 }] } }, 'test/redis: invalid dataPersistence.rdbSavePoints[0].after (1 second 500 millis): must be a whole number of seconds, at least 1 s'],
    [{ dataPersistence: { rdbSavePoints: [{ after: Duration.seconds(60), changes: 0 }] } }, 'test/redis: invalid dataPersistence.rdbSavePoints[0].changes (0): must be an integer of at least 1'],
    [{ extraSettings: { port: '6380' } }, 'test/redis: invalid extraSettings key ("port"): "port" is owned by the construct (use the port option); accepted: any other redis.conf directive'],
    [{ extraSettings: { requirepass: 'x' } }, 'test/redis: invalid extraSettings key ("requirepass"): "requirepass" is owned by the construct (the password comes from a Secret'],
    [{ extraSettings: { 'cluster-announce-ip': '1.2.3.4' } }, 'test/redis: invalid extraSettings key ("cluster-announce-ip"): "cluster-announce-ip" is owned by the construct (start.sh announces the pod address and hostname)'],
    [{ extraSettings: { dir: '/x' } }, 'test/redis: invalid extraSettings key ("dir"): "dir" is owned by the construct'],
    [{ extraSettings: { maxmemory: '1gb' } }, 'test/redis: invalid extraSettings key ("maxmemory"): "maxmemory" is owned by the construct (use the maxMemory option)'],
    [{ extraSettings: { appendonly: 'no' } }, 'test/redis: invalid extraSettings key ("appendonly"): "appendonly" is owned by the construct (use dataPersistence.appendOnly)'],
    [{ extraSettings: { 'Bad Key': 'x' } }, 'test/redis: invalid extraSettings key ("Bad Key"): must be a redis.conf directive name'],
    [{ extraSettings: { 'notify-keyspace-events': 'Ex\nrequirepass x' } }, 'test/redis: invalid extraSettings key "notify-keyspace-events" value ("Ex\\nrequirepass x"): must not contain control characters such as newlines (found "\\n")'],
  ])('RedisCluster rejects %j', (props, message) => {
    expect(() => synth(props as RedisClusterProps)).toThrow(message);
  });
});

describe('shQuote', () => {
  test.each([
    ['plain'], [''], ["it's"], ['$(touch /tmp/x) `id` $HOME'], ['a\nb'], ['"\\'], ["'''"], ['héllo wörld'], ['*?[a]'],
  ])('%j survives sh and bash word parsing unchanged', async (value) => {
    expect(shQuote(value).startsWith("'")).toBe(true);
    for (const shell of ['sh', 'bash']) {
      const { code, output } = await run(shell, ['-c', `printf '%s' ${shQuote(value)}`]);
      expect(code).toBe(0);
      expect(output).toBe(value);
    }
  });

  test('rejects NUL', () => {
    expect(() => shQuote('a\0b')).toThrow('must not contain NUL characters');
  });
});

const BASE: RedisClusterFilesOptions = { statefulSetName: 'redis', headlessServiceName: 'redis-headless', shards: 3, replicasPerShard: 1 };

describe('renderRedisScripts', () => {
  const COMBINATIONS: Array<[string, Partial<RedisClusterFilesOptions>]> = [
    ['defaults', {}],
    ['auth off, no replicas', { authEnabled: false, replicasPerShard: 0 }],
    ['ACL users', { acl: { passwordKey: 'password', clusterPasswordKey: 'cluster-password', metricsPasswordKey: 'metrics-password', usersFromSecret: true } }],
    ['TLS', { tls: { port: 6380 } }],
    ['ACL users and TLS', { acl: { passwordKey: 'password', clusterPasswordKey: 'cluster-password' }, tls: { port: 6380 } }],
    ['Valkey binaries', { binaries: { server: 'valkey-server', cli: 'valkey-cli' } }],
    ['a shard draining', { shards: 4, drainingShards: 1 }],
    ['shards draining with ACL users, TLS and Valkey', { shards: 6, drainingShards: 3, acl: { passwordKey: 'password', clusterPasswordKey: 'cluster-password' }, tls: { port: 6380 }, binaries: { server: 'valkey-server', cli: 'valkey-cli' } }],
  ];
  function requireShellcheck(): void {
    try {
      execFileSync('shellcheck', ['--version'], { stdio: 'ignore' });
    } catch {
      throw new Error('shellcheck is missing: run scripts/ensure-redis.sh (npm test does) or install Debian\'s shellcheck');
    }
  }

  test.each(COMBINATIONS)('every script parses under sh (dash) and bash and passes shellcheck (%s)', (_name, extra) => {
    const files = renderRedisClusterFiles(SCOPE, { ...BASE, ...extra });
    requireShellcheck();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redis-scripts-'));
    try {
      const scripts = Object.keys(files).filter(f => f.endsWith('.sh'));
      expect(scripts.length).toBeGreaterThanOrEqual(4);
      for (const file of scripts) {
        const p = path.join(dir, file);
        fs.writeFileSync(p, files[file]);
        expect(files[file].startsWith('#!/bin/sh\n')).toBe(true);
        // the shell files' headers and section lines are theirs only
        expect(files[file].split('\n').filter(l => /^\s*#(if|else|endif)\b|^# shellcheck shell=/.test(l))).toEqual([]);
        execFileSync('sh', ['-n', p]);
        execFileSync('bash', ['-n', p]);
        for (const shell of ['sh', 'bash']) {
          try {
            execFileSync('shellcheck', ['-s', shell, p], { encoding: 'utf8' });
          } catch (e) {
            throw new Error(`shellcheck -s ${shell} ${file}:\n${(e as { stdout?: string }).stdout}`);
          }
        }
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the shell files shipped in the package parse under sh (dash) and bash and pass shellcheck on their own', () => {
    requireShellcheck();
    const root = shellFilesDir();
    const list = (dir: string): string[] => fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap(e => (e.isDirectory()
      ? list(path.join(dir, e.name)) : e.name.endsWith('.sh') ? [path.join(dir, e.name)] : []));
    const files = list('').sort();
    expect(files).toEqual(expect.arrayContaining(['acl.sh', 'cluster-init.sh', 'drain.sh', 'shared/base.sh', 'liveness.sh', 'readiness.sh', 'start.sh', 'tls.sh']));
    for (const file of files) {
      const p = path.join(root, file);
      expect(fs.readFileSync(p, 'utf8').startsWith('# shellcheck shell=sh\n')).toBe(true);
      execFileSync('sh', ['-n', p]);
      execFileSync('bash', ['-n', p]);
    }
    for (const shell of ['sh', 'bash']) {
      try {
        execFileSync('shellcheck', ['-s', shell, ...files], { cwd: root, encoding: 'utf8' });
      } catch (e) {
        throw new Error(`shellcheck -s ${shell} (in ${root}):\n${(e as { stdout?: string }).stdout}`);
      }
    }
  });

  test('sections of a shell file keep the lines of the variant', () => {
    const text = ['a', '#if acl', 'acl', '  #if tls', '  acl+tls', '  #else', '  acl-tls', '  #endif', '#else', 'no acl', '#endif', '#if tls', 'tls', '#endif', 'z', ''].join('\n');
    expect(selectSections('f.sh', text, { acl: true, tls: true })).toBe('a\nacl\n  acl+tls\ntls\nz\n');
    expect(selectSections('f.sh', text, { acl: true, tls: false })).toBe('a\nacl\n  acl-tls\nz\n');
    expect(selectSections('f.sh', text, { acl: false, tls: true })).toBe('a\nno acl\ntls\nz\n');
    expect(selectSections('f.sh', 'a\n# if acl, a comment\n', undefined)).toBe('a\n# if acl, a comment\n');
    expect(() => selectSections('f.sh', text)).toThrow('f.sh: has #if sections, so a variant is needed');
    expect(() => selectSections('f.sh', '#if valkey\n#endif\n', { acl: false, tls: false })).toThrow('f.sh:1: a section line is #if acl, #if tls, #else or #endif, not "#if valkey"');
    expect(() => selectSections('f.sh', '#if acl\n#else\n#else\n#endif\n', { acl: false, tls: false })).toThrow('f.sh:3: #else without its #if');
    expect(() => selectSections('f.sh', 'a\n#endif\n', { acl: false, tls: false })).toThrow('f.sh:2: #endif without its #if');
    expect(() => selectSections('f.sh', '#if tls\n', { acl: false, tls: false })).toThrow('f.sh: #if without its #endif');
  });

  test('topology and paths are rendered as quoted settings', () => {
    const s = renderRedisScripts(SCOPE, { ...BASE, shards: 4, replicasPerShard: 2, port: 7000, clusterDomain: 'k8s.example' });
    expect(s.clusterInit).toContain("STS_NAME='redis'");
    expect(s.clusterInit).toContain("SHARDS='4'");
    expect(s.clusterInit).toContain("NODE_COUNT='12'");
    expect(s.clusterInit).toContain("BUS_PORT='17000'");
    expect(s.clusterInit).toContain("CLUSTER_DOMAIN='k8s.example'");
    expect(s.start).toContain("CONFIG_DIR=${REDIS_CONFIG_DIR:-'/etc/redis-cluster'}");
    expect(s.start).toContain('exec redis-server "$CONFIG_DIR/redis.conf" --include "$RUNTIME_CONF"');
    expect(s.liveness).toContain("PORT='7000'");
  });

  // what the scripts are rendered from is checked once, by the construct (names, counts and ports by the core and
  // RedisCluster, the settings only the scripts use where they are read), with its path and the prop as written
  test.each([
    [{ shards: 2 }, 'test/redis: invalid shards (2): must be a whole number 3 to 1000'],
    [{ shards: 1001 }, 'test/redis: invalid shards (1001): must be a whole number 3 to 1000'],
    [{ replicasPerShard: -1 }, 'test/redis: invalid replicasPerShard (-1): must be a whole number 0 to 5'],
    [{ name: 'Redis' }, 'invalid name ("Redis"): must be a DNS label'],
    [{ clusterDomain: 'bad domain' }, 'test/redis: invalid clusterDomain ("bad domain"): must be a DNS subdomain'],
    [{ commandTimeout: Duration.millis(500) }, 'test/redis: invalid commandTimeout (500 millis): must be a whole number of seconds, 1 s to 60 s'],
    [{ joinTimeout: Duration.seconds(5) }, 'test/redis: invalid joinTimeout (5 seconds): must be a whole number of seconds, 10 s to 86400 s'],
    [{ acl: { defaultUserRules: 'on >secret ~*' } }, 'test/redis: invalid acl.defaultUserRules ("on >secret ~*"): must not set passwords (found ">secret"): the password comes from the auth Secret and never enters the ConfigMap'],
    [{ acl: { defaultUserRules: 'nopass' } }, 'test/redis: invalid acl.defaultUserRules ("nopass"): must not set passwords (found "nopass")'],
    [{ acl: { defaultUserRules: '~*\nuser x on' } }, 'test/redis: invalid acl.defaultUserRules ("~*\\nuser x on"): must be ACL rules on one line, without control characters'],
    [{ acl: { reloadInterval: Duration.seconds(3601) } }, 'test/redis: invalid acl.reloadInterval (1 hour 1 second): must be a whole number of seconds, 1 s to 3600 s'],
    [{ auth: { existingSecretPasswordKey: 'pass word' } }, 'test/redis: invalid auth.existingSecretPasswordKey ("pass word"): must be a Secret data key'],
    [{ tls: { existingSecret: 'tls', reloadInterval: Duration.millis(10) } }, 'test/redis: invalid tls.reloadInterval (10 millis): must be a whole number of seconds, 1 s to 86400 s'],
  ])('RedisCluster rejects %j', (props, message) => {
    expect(() => synth(props as RedisClusterProps)).toThrow(message);
  });
});

/** Runs a probe script against a fake redis-cli that prints `reply` (or hangs); returns its calls too. */
async function probeWithFakeCli(script: string, reply: string, opts: { hang?: boolean } = {}): Promise<{ code: number; output: string; calls: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-redis-cli-'));
  const calls = path.join(dir, 'calls');
  try {
    fs.writeFileSync(path.join(dir, 'redis-cli'), [
      '#!/bin/sh',
      `printf 'auth=%s argv=%s\\n' "$REDISCLI_AUTH" "$*" >>${shQuote(calls)}`,
      opts.hang ? 'exec sleep 30' : `cat >/dev/null; printf '%s\\n' ${shQuote(reply)}`,
      '',
    ].join('\n'), { mode: 0o755 });
    fs.writeFileSync(path.join(dir, 'probe.sh'), script);
    const r = await run('sh', [path.join(dir, 'probe.sh')], { env: { PATH: `${dir}:${process.env.PATH}`, REDIS_PASSWORD: 'pw' } });
    return { ...r, calls: fs.existsSync(calls) ? fs.readFileSync(calls, 'utf8') : '' };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('probe decisions (fake redis-cli)', () => {
  const scripts = renderRedisScripts(SCOPE, { ...BASE, commandTimeout: Duration.seconds(1) });

  test.each([
    ['PONG', 0],
    ['LOADING Redis is loading the dataset in memory', 0],
    ['MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to \'no\'.', 0],
    ['(error) LOADING Redis is loading the dataset in memory', 0],
    ['NOAUTH Authentication required.', 1],
    ['Could not connect to Redis at 127.0.0.1:6379: Connection refused', 1],
    ['BUSY Redis is busy running a script', 1],
    ['', 1],
  ])('liveness on %j exits %i', async (reply, expected) => {
    const r = await probeWithFakeCli(scripts.liveness, reply);
    expect(r.code).toBe(expected);
  });

  test('the password reaches redis-cli through REDISCLI_AUTH, never argv; a hanging redis-cli fails the probe in time', async () => {
    const ok = await probeWithFakeCli(scripts.liveness, 'PONG');
    expect(ok.code).toBe(0);
    expect(ok.calls).toBe('auth=pw argv=-h 127.0.0.1 -p 6379 PING\n');
    const start = Date.now();
    const hung = await probeWithFakeCli(scripts.liveness, '', { hang: true });
    expect(hung.code).toBe(1);
    expect(Date.now() - start).toBeLessThan(10_000);
  });

  test.each([
    ['PONG\ncluster_state:ok\ncluster_slots_assigned:16384', 0],
    ['PONG\ncluster_state:fail\ncluster_slots_assigned:16384', 1],
    ['LOADING Redis is loading the dataset in memory\nLOADING Redis is loading the dataset in memory', 1],
    ['MASTERDOWN Link with MASTER is down', 1],
    ['PONG\nERR This instance has cluster support disabled', 1],
  ])('readiness on %j exits %i', async (reply, expected) => {
    const r = await probeWithFakeCli(scripts.readiness, reply);
    expect(r.code).toBe(expected);
  });
});

describe('real redis-server', () => {
  beforeAll(() => ensureRedis());

  test('liveness accepts a node that is LOADING its dataset; readiness does not', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redis-loading-'));
    const address = `127.${16 + Math.floor(Math.random() * 234)}.250.1`;
    const port = 7391;
    const scripts = renderRedisScripts(SCOPE, { ...BASE, port });
    fs.writeFileSync(path.join(dir, 'liveness.sh'), scripts.liveness);
    fs.writeFileSync(path.join(dir, 'readiness.sh'), scripts.readiness);
    const env = { PATH: process.env.PATH, REDIS_PASSWORD: 'pw', REDIS_LOCAL_HOST: address };
    const args = ['--port', String(port), '--bind', address, '--dir', dir, '--requirepass', 'pw', '--save', '', '--appendonly', 'no', '--enable-debug-command', 'yes'];
    const startServer = (extra: string[]) => {
      const child = spawn('redis-server', [...args, ...extra], { detached: true, stdio: 'ignore' });
      return { child, exited: new Promise(resolve => child.once('exit', resolve)) };
    };
    const cli = (...a: string[]) => run('redis-cli', ['-h', address, '-p', String(port), ...a], { env: { PATH: process.env.PATH, REDISCLI_AUTH: 'pw' } });
    let server = startServer([]);
    try {
      await waitFor('redis-server', async () => (await cli('PING')).output.trim() === 'PONG', 10_000, 100);
      await cli('DEBUG', 'POPULATE', '200000');
      await cli('SAVE');
      await cli('SHUTDOWN', 'NOSAVE');
      await server.exited;
      // key-load-delay slows loading (microseconds per key) so the LOADING phase lasts a few seconds.
      server = startServer(['--key-load-delay', '20', '--loading-process-events-interval-bytes', '1024']);
      await waitFor('LOADING reply', async () => (await cli('PING')).output.includes('LOADING'), 10_000, 50);
      const live = await run('sh', [path.join(dir, 'liveness.sh')], { env });
      const ready = await run('sh', [path.join(dir, 'readiness.sh')], { env });
      expect((await cli('PING')).output).toContain('LOADING');
      expect(live).toEqual({ code: 0, output: '' });
      expect(ready.code).toBe(1);
      expect(ready.output).toContain('PING answered: LOADING');
    } finally {
      try {
        process.kill(-server.child.pid!, 'SIGKILL');
      } catch {
        // already stopped
      }
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('real redis-server reads the synthesized redis.conf', () => {
  beforeAll(() => ensureRedis());

  test('a resources preset\'s derived maxmemory is what the server runs with (nano: 75 % of 128 MiB)', async () => {
    const files = synthesizedFiles({ resourcesPreset: RedisResourcesPreset.NANO, port: 7393 });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redis-preset-'));
    const address = `127.${16 + Math.floor(Math.random() * 234)}.251.1`;
    fs.writeFileSync(path.join(dir, 'redis.conf'), files['redis.conf']);
    const child = spawn('redis-server', [path.join(dir, 'redis.conf'), '--bind', address, '--dir', dir], { detached: true, stdio: 'ignore' });
    const cli = (...a: string[]) => run('redis-cli', ['-h', address, '-p', '7393', ...a]);
    try {
      await waitFor('redis-server', async () => (await cli('PING')).output.trim() === 'PONG', 10_000, 100);
      expect((await cli('CONFIG', 'GET', 'maxmemory')).output.trim().split('\n')).toEqual(['maxmemory', String(96 * 1024 * 1024)]);
    } finally {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already stopped
      }
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Waits until every running pod reports a healthy cluster of `nodes` nodes with all slots. */
async function waitHealthy(h: RedisHarness, nodes: number, timeoutMs = 90_000): Promise<void> {
  try {
    await waitFor(`a healthy cluster of ${nodes} nodes`, async () => {
      // every node counts: pods whose server exited at once must not make the check pass vacuously
      if (h.runningOrdinals().length !== nodes) return false;
      for (const o of h.runningOrdinals()) {
        const info = await h.clusterInfo(o);
        if (info.cluster_state !== 'ok' || info.cluster_slots_assigned !== '16384' || info.cluster_known_nodes !== String(nodes)) {
          return false;
        }
        const table = await h.clusterNodes(o);
        if (table.some(n => n.flags.some(f => f.startsWith('fail') || f === 'handshake') || n.link !== 'connected')) return false;
        if (h.runningOrdinals().some(p => !table.some(n => n.hostname === h.hostnameOf(p) && n.ip === h.addressOf(p)))) return false;
      }
      const readiness = await Promise.all(h.runningOrdinals().map(o => h.runScript(o, 'readiness.sh')));
      // The formation job of every pod has finished (it exits once its node is settled).
      return readiness.every(r => r.code === 0) && h.runningOrdinals().every(o => h.clusterInitDone(o));
    }, timeoutMs);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${h.logs()}`);
  }
}

/** Shards as {master ordinal, replica ordinals}, read from pod `via`'s CLUSTER NODES. */
async function shards(h: RedisHarness, via: number): Promise<Array<{ master: number; replicas: number[]; slots: number }>> {
  const table = await h.clusterNodes(via);
  const ordinal = (hostname: string) => Number(/-(\d+)\./.exec(hostname)![1]);
  return table.filter(n => n.flags.includes('master') && n.slots > 0)
    .map(m => ({
      master: ordinal(m.hostname),
      replicas: table.filter(r => r.masterId === m.id).map(r => ordinal(r.hostname)).sort((a, b) => a - b),
      slots: m.slots,
    }))
    .sort((a, b) => a.master - b.master);
}

async function myIds(h: RedisHarness): Promise<string[]> {
  return Promise.all(h.runningOrdinals().map(o => h.cli(o, 'CLUSTER', 'MYID')));
}

async function checkOutput(h: RedisHarness, ordinal: number): Promise<string> {
  return h.cliAt(h.addressOf(ordinal), ['--cluster', 'check', `${h.addressOf(ordinal)}:${h.port}`]);
}

const KEYS = Array.from({ length: 200 }, (_, i) => `key:${i}`);

async function readAllKeys(h: RedisHarness): Promise<void> {
  for (const k of KEYS) {
    expect(await h.clusterCommand(['GET', k])).toBe(`value-of-${k}`);
  }
}

describe('Redis Cluster from the rendered files (real redis-server, auth on)', () => {
  // A password that needs quoting in redis.conf and in sh.
  const password = 'p@ss "w\\rd" \'$HOME\' #1';
  const options: RedisClusterFilesOptions = {
    ...BASE,
    port: 7301,
    commandTimeout: Duration.seconds(2),
    joinTimeout: Duration.seconds(120),
    pollInterval: Duration.seconds(1),
    config: { clusterNodeTimeout: Duration.seconds(2) },
  };
  const props: RedisClusterProps = {
    port: 7301, commandTimeout: Duration.seconds(2), joinTimeout: Duration.seconds(120), clusterNodeTimeout: Duration.seconds(2),
  };
  let h: RedisHarness;
  let ids: string[];

  beforeAll(() => {
    const files = synthesizedFiles(props);
    // the construct renders the same files as the render functions with the same settings (poll interval aside)
    expect(files['redis.conf']).toBe(renderRedisClusterFiles(SCOPE, options)['redis.conf']);
    h = new RedisHarness({ files, statefulSetName: 'redis', password });
  });
  afterAll(async () => {
    await h?.dispose();
  });

  test('(1) 3 shards x 1 replica form a cluster: all slots covered, replica 2k+1 follows master 2k', async () => {
    const t0 = Date.now();
    for (let o = 0; o < 6; o++) h.start(o);
    await waitHealthy(h, 6);
    const check = await checkOutput(h, 0);
    expect(check).toContain('[OK] All nodes agree about slots configuration.');
    expect(check).toContain('[OK] All 16384 slots covered.');
    const info = await h.clusterInfo(3);
    expect(info.cluster_state).toBe('ok');
    expect(info.cluster_slots_assigned).toBe('16384');
    expect(info.cluster_size).toBe('3');
    expect((await shards(h, 5)).map(s => [s.master, s.replicas])).toEqual([[0, [1]], [2, [3]], [4, [5]]]);
    // No password in the ConfigMap files, the per-pod file is private.
    for (const content of Object.values(synthesizedFiles(props))) expect(content).not.toContain('w\\rd');
    const runtime = path.join(h.root, 'pod-0', 'run', 'redis-runtime.conf');
    expect(fs.statSync(runtime).mode & 0o777).toBe(0o600);
    // Clients are redirected to the stable DNS names.
    const moved = await Promise.all([0, 2, 4].map(o => h.cli(o, 'GET', 'some-key')));
    expect(moved.filter(r => r.startsWith('MOVED'))).toEqual(
      expect.arrayContaining([expect.stringMatching(/^MOVED \d+ redis-[024]\.redis-headless\.test\.svc\.cluster\.local:7301$/)]));
    // eslint-disable-next-line no-console
    console.log(`cluster formed in ${Date.now() - t0} ms`);
    ids = await myIds(h);
  });

  test('(2) every node killed and started again keeps its keys (AOF) and its node id; nothing is re-created', async () => {
    for (const k of KEYS) expect(await h.clusterCommand(['SET', k, `value-of-${k}`])).toBe('OK');
    // SIGKILL: no shutdown save, so the keys can only come back from the AOF (fsynced every second).
    await new Promise(resolve => setTimeout(resolve, 2_000));
    await h.stopAll('SIGKILL');
    expect(h.runningOrdinals()).toEqual([]);
    for (let o = 0; o < 6; o++) h.start(o);
    await waitHealthy(h, 6);
    expect(await myIds(h)).toEqual(ids);
    await readAllKeys(h);
    expect(fs.readdirSync(path.join(h.dataDir(0), 'appendonlydir')).length).toBeGreaterThan(0);
    const creatorLog = fs.readFileSync(h.logFile(0), 'utf8');
    expect(creatorLog.match(/creating the cluster/g)).toHaveLength(1);
    expect(creatorLog).toContain('nodes.conf found, rejoining the cluster');
  });

  test('(3a) a master that comes back on a different address rejoins; every node sees the new address', async () => {
    const before = h.addressOf(2);
    await h.stop(2);
    h.start(2, { newAddress: true });
    expect(h.addressOf(2)).not.toBe(before);
    await waitHealthy(h, 6);
    for (const o of h.runningOrdinals()) {
      const node2 = (await h.clusterNodes(o)).find(n => n.hostname === h.hostnameOf(2))!;
      expect(node2.ip).toBe(h.addressOf(2));
    }
    expect(await myIds(h)).toEqual(ids);
    const topology = await shards(h, 0);
    expect(topology).toHaveLength(3);
    expect(topology.every(s => s.replicas.length === 1)).toBe(true);
    await readAllKeys(h);
  });

  test('(3b) all nodes restart on new addresses at once and re-form the same cluster', async () => {
    const before = h.runningOrdinals().map(o => h.addressOf(o));
    await h.stopAll();
    for (let o = 0; o < 6; o++) h.start(o, { newAddress: true });
    const after = h.runningOrdinals().map(o => h.addressOf(o));
    expect(after.filter(a => before.includes(a))).toEqual([]);
    await waitHealthy(h, 6);
    expect(await myIds(h)).toEqual(ids);
    expect(await checkOutput(h, 5)).toContain('[OK] All 16384 slots covered.');
    await readAllKeys(h);
  });

  test('(3c) a replica that lost its data volume joins again as a new node of its shard; its old identity is forgotten', async () => {
    const oldId = await h.cli(3, 'CLUSTER', 'MYID');
    await h.stop(3);
    fs.rmSync(h.dataDir(3), { recursive: true, force: true });
    h.start(3);
    await waitHealthy(h, 6);
    const newId = await h.cli(3, 'CLUSTER', 'MYID');
    expect(newId).not.toBe(oldId);
    for (const o of h.runningOrdinals()) {
      expect((await h.clusterNodes(o)).map(n => n.id)).not.toContain(oldId);
    }
    const shard1 = (await shards(h, 0)).find(s => s.master === 2 || s.replicas.includes(2))!;
    expect([shard1.master, ...shard1.replicas].sort()).toEqual([2, 3]);
    await readAllKeys(h);
  });

  test('(3d) a master that lost its data volume and its address: its replica takes over, it rejoins as that replica\'s replica', async () => {
    const oldId = await h.cli(0, 'CLUSTER', 'MYID');
    await h.stop(0, 'SIGKILL');
    fs.rmSync(h.dataDir(0), { recursive: true, force: true });
    h.start(0, { newAddress: true });
    await waitHealthy(h, 6);
    for (const o of h.runningOrdinals()) {
      expect((await h.clusterNodes(o)).map(n => n.id)).not.toContain(oldId);
    }
    const shard0 = (await shards(h, 2)).find(s => s.master === 1)!;
    expect(shard0.replicas).toEqual([0]);
    await readAllKeys(h);
  });

  test('(4) growing from 3 to 4 shards adds a master with slots and its replica; keys stay readable', async () => {
    const grown = synthesizedFiles({ ...props, shards: 4 });
    h.setFiles(grown);
    h.start(6);
    h.start(7);
    await waitHealthy(h, 8, 180_000);
    const topology = await shards(h, 7);
    expect(topology).toHaveLength(4);
    expect(topology.every(s => s.slots > 0 && s.replicas.length === 1)).toBe(true);
    const shard3 = topology.find(s => s.master === 6)!;
    expect(shard3.replicas).toEqual([7]);
    expect(shard3.slots).toBeGreaterThan(16384 / 4 - 200);
    // Every master is within redis-cli's rebalance threshold (2 %) of a fair share.
    for (const s of topology) expect(Math.abs(s.slots - Math.floor(16384 / 4)) * 100).toBeLessThanOrEqual(2 * s.slots);
    const check = await checkOutput(h, 6);
    expect(check).toContain('[OK] All 16384 slots covered.');
    expect(check).not.toContain('[WARNING]');
    expect(check).not.toContain('[ERR]');
    await readAllKeys(h);
  });
});

describe('removing a shard (real redis-server, auth on): drain Job, then fewer shards', () => {
  const password = 'drain-pass';
  const props: RedisClusterProps = {
    port: 7311, commandTimeout: Duration.seconds(2), joinTimeout: Duration.seconds(120), clusterNodeTimeout: Duration.seconds(2),
  };
  let h: RedisHarness;
  let ids: string[];
  afterAll(async () => {
    await h?.dispose();
  });

  test('4 shards x 1 replica form a cluster and take keys', async () => {
    h = new RedisHarness({ files: synthesizedFiles({ ...props, shards: 4 }), statefulSetName: 'redis', password });
    for (let o = 0; o < 8; o++) h.start(o);
    await waitHealthy(h, 8, 120_000);
    for (const k of KEYS) expect(await h.clusterCommand(['SET', k, `value-of-${k}`])).toBe('OK');
    ids = await myIds(h);
    expect((await shards(h, 0)).map(s => s.master)).toEqual([0, 2, 4, 6]);
  });

  test('drainingShards 1: no pod restarts; the drain Job moves every slot of shard 3 to the other masters, forgets and resets its nodes; no key is lost', async () => {
    const draining = { ...props, shards: 4, drainingShards: 1 };
    const files = synthesizedFiles(draining);
    // the pods' checksum does not change: the drain files are read at the next start, no pod restarts
    const podTemplate = (p: RedisClusterProps) => findObject(synth(p), 'StatefulSet', 'redis').spec.template;
    expect(podTemplate(draining)).toEqual(podTemplate({ ...props, shards: 4 }));
    expect(files['draining-shards']).toBe('1\n');
    h.setFiles(files);
    const job = findObject(synth(draining), 'Job', 'redis-drain-4-to-3');
    const t0 = Date.now();
    const result = await h.runJob(job.spec.template.spec.containers[0]);
    expect({ code: result.code, output: result.output }).toEqual({ code: 0, output: expect.stringContaining('done: lower shards to 3') });
    // eslint-disable-next-line no-console
    console.log(`drained shard 3 in ${Date.now() - t0} ms`);
    expect(result.output).toMatch(/moving \d+ slots off shard 3 to the 3 remaining masters/);
    expect(result.output).toMatch(/resetting redis-6/);
    expect(result.output).toMatch(/resetting redis-7/);
    // the remaining masters own every slot, evenly (redis-cli's 2 % threshold), each with its replica
    const topology = await shards(h, 0);
    expect(topology.map(s => [s.master, s.replicas])).toEqual([[0, [1]], [2, [3]], [4, [5]]]);
    expect(topology.reduce((n, s) => n + s.slots, 0)).toBe(16384);
    for (const s of topology) expect(Math.abs(s.slots - Math.floor(16384 / 3)) * 100).toBeLessThanOrEqual(2 * s.slots);
    for (let o = 0; o < 6; o++) {
      const info = await h.clusterInfo(o);
      expect([o, info.cluster_state, info.cluster_known_nodes]).toEqual([o, 'ok', '6']);
    }
    // the drained nodes keep no peers and no data
    for (const o of [6, 7]) {
      expect((await h.clusterInfo(o)).cluster_known_nodes).toBe('1');
      expect(await h.cli(o, 'DBSIZE')).toBe('0');
    }
    await readAllKeys(h);
    // running it again finds nothing to do
    const again = await h.runJob(job.spec.template.spec.containers[0]);
    expect(again.code).toBe(0);
    expect(again.output).not.toMatch(/moving \d+ slots/);
  });

  test('a drained pod that restarts joins no cluster; a remaining one that restarts takes no slots back', async () => {
    await h.stop(6);
    h.start(6);
    await h.stop(2);
    h.start(2);
    await waitFor('the restarted pods settled', async () => h.clusterInitDone(2)
      && h.currentLog(6).includes('shard 3 is being drained: this node joins no cluster; done'), 60_000);
    expect((await h.clusterInfo(6)).cluster_known_nodes).toBe('1');
    expect((await h.clusterInfo(2)).cluster_state).toBe('ok');
    expect((await shards(h, 2)).map(s => s.master)).toEqual([0, 2, 4]);
  });

  test('shards 3: the last pods go, the others restart with the new files and stay one healthy cluster with every key', async () => {
    const files = synthesizedFiles({ ...props, shards: 3 });
    expect(files['draining-shards']).toBeUndefined();
    await h.stop(7);
    await h.stop(6);
    // the rolling update: every remaining pod restarts with the new ConfigMap
    h.setFiles(files);
    for (let o = 5; o >= 0; o--) {
      await h.stop(o);
      h.start(o);
      await waitHealthy(h, 6, 120_000);
    }
    expect(await myIds(h)).toEqual(ids.slice(0, 6));
    expect(await checkOutput(h, 0)).toContain('[OK] All 16384 slots covered.');
    await readAllKeys(h);
  });
});

describe('Redis Cluster in the plain three-pod shape: 3 shards, no replicas, auth off, every script under bash (real redis-server)', () => {
  let h: RedisHarness;
  afterAll(async () => {
    await h?.dispose();
  });

  test('3 masters form a cluster covering every slot', async () => {
    const files: RedisFiles = synthesizedFiles({
      shards: 3, replicasPerShard: 0, port: 7311, auth: { enabled: false },
      joinTimeout: Duration.seconds(120), clusterNodeTimeout: Duration.seconds(2),
    });
    // The same scripts under bash: start.sh and the probes directly, cluster-init through start.sh.
    const bashFiles = { ...files, 'start.sh': files['start.sh'].replace('REDIS_SERVER_PID=$$ sh ', () => 'REDIS_SERVER_PID=$$ bash ') };
    expect(bashFiles['start.sh']).toContain('REDIS_SERVER_PID=$$ bash "$CONFIG_DIR/cluster-init.sh" &');
    h = new RedisHarness({ files: bashFiles, statefulSetName: 'redis', shell: 'bash' });
    for (let o = 0; o < 3; o++) h.start(o);
    await waitHealthy(h, 3);
    expect((await shards(h, 0)).map(s => [s.master, s.replicas])).toEqual([[0, []], [1, []], [2, []]]);
    expect(await checkOutput(h, 1)).toContain('[OK] All 16384 slots covered.');
    expect(await h.clusterCommand(['SET', 'a', '1'])).toBe('OK');
    expect(await h.clusterCommand(['GET', 'a'])).toBe('1');
  });
});

/** Writes a Secret as the kubelet mounts it: one file per key. */
function writeSecretDir(dir: string, data: { [key: string]: string }): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f));
  for (const [key, value] of Object.entries(data)) fs.writeFileSync(path.join(dir, key), value, { mode: 0o440 });
}

describe('ACL users from Secrets (real redis-server)', () => {
  const defaultPassword = 'default pw "1" $HOME';
  const clusterPassword = 'cluster pw \\ 2';
  const metricsPassword = 'metrics-pw-3';
  const readerHash = createHash('sha256').update('reader pw').digest('hex');
  const props: RedisClusterProps = {
    port: 7321, commandTimeout: Duration.seconds(2), joinTimeout: Duration.seconds(120), clusterNodeTimeout: Duration.seconds(2),
    metrics: {},
    acl: { usersSecret: 'redis-users', defaultUserRules: '~* &* +@all -@admin -flushall -flushdb', reloadInterval: Duration.seconds(1) },
  };
  let h: RedisHarness;
  let secrets: string;
  let poll: { stop: () => Promise<string[]> } | undefined;
  const users = (appPasswords: string) => ({
    app: `on ${appPasswords} ~app:* +@read +@write +ping\n`,
    reader: `on #${readerHash} ~* +get +ping`,
    watcher: 'on >watch-pw -@all +ping +cluster|info',
  });

  beforeAll(() => {
    secrets = fs.mkdtempSync(path.join(os.tmpdir(), 'redis-secrets-'));
    writeSecretDir(path.join(secrets, 'auth'), { 'password': `${defaultPassword}\n`, 'cluster-password': clusterPassword, 'metrics-password': metricsPassword });
    writeSecretDir(path.join(secrets, 'users'), users('>app-pw'));
    h = new RedisHarness({
      files: synthesizedFiles(props), statefulSetName: 'redis', password: defaultPassword,
      env: { REDIS_AUTH_DIR: path.join(secrets, 'auth'), REDIS_USERS_DIR: path.join(secrets, 'users') },
    });
  });
  afterAll(async () => {
    await poll?.stop();
    await h?.dispose();
    if (secrets) fs.rmSync(secrets, { recursive: true, force: true });
  });

  /** One command as `user` against pod `ordinal`. */
  const as = (user: string, password: string, ordinal: number, ...args: string[]) => run('redis-cli', ['--user', user, '-h', h.addressOf(ordinal), '-p', String(h.port), ...args],
    { env: { PATH: process.env.PATH, REDISCLI_AUTH: password } }).then(r => r.output.trim());
  const NOPERM = /^NOPERM/;

  test('a cluster forms and replicas sync through the least-privilege users; no password in the ConfigMap or the ACL file', async () => {
    for (let o = 0; o < 6; o++) h.start(o);
    await waitHealthy(h, 6);
    expect((await shards(h, 0)).map(s => [s.master, s.replicas])).toEqual([[0, [1]], [2, [3]], [4, [5]]]);
    // the replication user authenticates (the first full sync waits for repl-diskless-sync-delay, 5 s)
    await waitFor('replica 1 in sync', async () => /master_link_status:up/.test(await h.cli(1, 'INFO', 'replication')), 30_000);
    const files = synthesizedFiles(props);
    for (const content of Object.values(files)) {
      for (const secret of [defaultPassword, clusterPassword, metricsPassword, 'app-pw', 'reader pw']) expect(content).not.toContain(secret);
    }
    const aclFile = path.join(h.root, 'pod-0', 'run', 'users.acl');
    expect(fs.statSync(aclFile).mode & 0o777).toBe(0o600);
    const acl = fs.readFileSync(aclFile, 'utf8');
    for (const secret of [defaultPassword, clusterPassword, metricsPassword]) expect(acl).not.toContain(secret);
    expect((await h.cli(0, 'ACL', 'WHOAMI'))).toBe('default');
    expect(await as('cluster-admin', clusterPassword, 0, 'ACL', 'WHOAMI')).toMatch(NOPERM);
  });

  test('each user can do what it should and nothing else', async () => {
    // default: data yes, admin and flushes no
    expect(await h.clusterCommand(['SET', 'k1', 'v1'])).toBe('OK');
    expect(await h.clusterCommand(['GET', 'k1'])).toBe('v1');
    for (const cmd of [['CONFIG', 'SET', 'maxmemory', '1'], ['FLUSHALL'], ['ACL', 'LIST'], ['CLUSTER', 'FORGET', 'x']]) {
      expect(await h.cli(0, ...cmd)).toMatch(NOPERM);
    }
    // application users from the users Secret
    const appSet = await Promise.all([0, 2, 4].map(o => as('app', 'app-pw', o, 'SET', 'app:1', 'x')));
    expect(appSet.filter(r => r === 'OK')).toHaveLength(1);
    expect(appSet.every(r => r === 'OK' || r.startsWith('MOVED'))).toBe(true);
    expect(await as('app', 'app-pw', 0, 'GET', 'k1')).toMatch(NOPERM);
    expect(await as('app', 'app-pw', 0, 'CONFIG', 'GET', 'maxmemory')).toMatch(NOPERM);
    expect(await as('reader', 'reader pw', 0, 'GET', 'k1')).not.toMatch(NOPERM);
    expect(await as('reader', 'reader pw', 0, 'SET', 'k1', 'x')).toMatch(NOPERM);
    expect(await as('app', 'wrong', 0, 'PING')).toMatch(/WRONGPASS/);
    // cluster-admin: cluster management, never keys, configuration or flushes
    expect(await as('cluster-admin', clusterPassword, 0, 'CLUSTER', 'INFO')).toMatch(/cluster_state:ok/);
    for (const cmd of [['GET', 'k1'], ['SET', 'k1', 'x'], ['FLUSHALL'], ['CONFIG', 'GET', 'masterauth'], ['KEYS', '*'], ['ACL', 'SETUSER', 'x']]) {
      expect(await as('cluster-admin', clusterPassword, 0, ...cmd)).toMatch(NOPERM);
    }
    // replication: syncing only
    expect(await as('replication', clusterPassword, 0, 'PING')).toBe('PONG');
    for (const cmd of [['GET', 'k1'], ['INFO'], ['CLUSTER', 'INFO']]) expect(await as('replication', clusterPassword, 0, ...cmd)).toMatch(NOPERM);
    // metrics: statistics only; CONFIG GET would reveal masterauth
    expect(await as('metrics', metricsPassword, 0, 'INFO', 'server')).toMatch(/redis_version:/);
    expect(await as('metrics', metricsPassword, 0, 'CLUSTER', 'INFO')).toMatch(/cluster_state:ok/);
    expect(await as('metrics', metricsPassword, 0, 'SLOWLOG', 'LEN')).toMatch(/^\d+$/);
    for (const cmd of [['CONFIG', 'GET', 'masterauth'], ['GET', 'k1'], ['KEYS', '*'], ['SCAN', '0'], ['CLIENT', 'KILL', 'ID', '1']]) {
      expect(await as('metrics', metricsPassword, 0, ...cmd)).toMatch(NOPERM);
    }
  });

  test('a master killed and started again rejoins with the ACL users; its replica resyncs', async () => {
    await h.stop(2, 'SIGKILL');
    h.start(2);
    await waitHealthy(h, 6);
    expect(await h.clusterCommand(['GET', 'k1'])).toBe('v1');
    const shard1 = (await shards(h, 0)).find(s => s.master === 2 || s.master === 3)!;
    expect(shard1.replicas).toHaveLength(1);
    await waitFor('the replica of shard 1 in sync', async () => /master_link_status:up/.test(await h.cli(shard1.replicas[0], 'INFO', 'replication')), 30_000);
  });

  /** Every running node reports (acl.sh status) that it runs with what the Secrets say now. */
  const waitApplied = (what: string) => waitFor(what, async () => {
    const r = await Promise.all(h.runningOrdinals().map(o => h.runScript(o, 'acl.sh', {}, ['status'])));
    return r.every(x => x.code === 0) ? r : false;
  }, 60_000, 500);
  const replicasInSync = async () => {
    for (const s of await shards(h, 0)) {
      for (const r of s.replicas) {
        await waitFor(`replica ${r} in sync`, async () => /master_link_status:up/.test(await h.cli(r, 'INFO', 'replication')), 30_000);
      }
    }
  };
  const newDefault = 'new default pw';
  const newCluster = 'new cluster pw';

  /** Asks every node for cluster_state every 250 ms as a user whose password does not change. */
  function pollClusterState(): { stop: () => Promise<string[]> } {
    const seen: string[] = [];
    let running = true;
    const loop = (async () => {
      while (running) {
        for (const o of h.runningOrdinals()) {
          const state = /cluster_state:(\w+)/.exec(await as('watcher', 'watch-pw', o, 'CLUSTER', 'INFO'));
          if (state) seen.push(state[1]);
        }
        await new Promise(resolve => setTimeout(resolve, 250));
      }
    })();
    return { stop: async () => { running = false; await loop; return seen; } };
  }

  test('rotation phase 1: new passwords next to the previous ones; nodes accept both and move replication to the new cluster password, without a restart', async () => {
    poll = pollClusterState();
    const pids = h.runningOrdinals().map(o => h.cli(o, 'INFO', 'server').then(i => /process_id:(\d+)/.exec(i)![1]));
    const before = await Promise.all(pids);
    writeSecretDir(path.join(secrets, 'auth'), {
      'password': newDefault, 'password.previous': defaultPassword,
      'cluster-password': newCluster, 'cluster-password.previous': clusterPassword, 'metrics-password': metricsPassword,
    });
    writeSecretDir(path.join(secrets, 'users'), users('>app-pw >app-pw2'));
    const status = await waitApplied('every node to apply phase 1');
    expect(status[0].output).toContain('rotation: previous passwords are still accepted');
    for (const o of h.runningOrdinals()) {
      expect(fs.readFileSync(path.join(h.root, `pod-${o}`, 'run', 'cluster-auth'), 'utf8')).toBe(newCluster);
      expect(h.currentLog(o)).toContain('replication and the scripts use the current cluster password');
      for (const pw of [defaultPassword, newDefault]) expect(await as('default', pw, o, 'PING')).toBe('PONG');
      for (const pw of ['app-pw', 'app-pw2']) expect(await as('app', pw, o, 'PING')).toBe('PONG');
      for (const pw of [clusterPassword, newCluster]) expect(await as('cluster-admin', pw, o, 'PING')).toBe('PONG');
    }
    await replicasInSync();
    await waitHealthy(h, 6);
    // no pod restarted: the same server processes
    expect(await Promise.all(h.runningOrdinals().map(o => h.cli(o, 'INFO', 'server').then(i => /process_id:(\d+)/.exec(i)![1])))).toEqual(before);
  });

  test('rotation phase 2: the previous passwords removed; only the new ones work, clients reconnect with them, the cluster stayed ok throughout', async () => {
    writeSecretDir(path.join(secrets, 'auth'), { 'password': newDefault, 'cluster-password': newCluster, 'metrics-password': metricsPassword });
    writeSecretDir(path.join(secrets, 'users'), users('>app-pw2'));
    const status = await waitApplied('every node to apply phase 2');
    expect(status[0].output).not.toContain('rotation:');
    for (const o of h.runningOrdinals()) {
      expect(await as('default', defaultPassword, o, 'PING')).toMatch(/WRONGPASS/);
      expect(await as('app', 'app-pw', o, 'PING')).toMatch(/WRONGPASS/);
      expect(await as('cluster-admin', clusterPassword, o, 'PING')).toMatch(/WRONGPASS/);
      expect(await as('app', 'app-pw2', o, 'PING')).toBe('PONG');
    }
    h.setPassword(newDefault);
    expect(await h.clusterCommand(['GET', 'k1'])).toBe('v1');
    expect(await h.clusterCommand(['SET', 'k2', 'v2'])).toBe('OK');
    await replicasInSync();
    await waitHealthy(h, 6);
    const seen = await poll!.stop();
    expect(seen.length).toBeGreaterThan(20);
    expect(seen.filter(s => s !== 'ok')).toEqual([]);
  });

  test('after the rotation a restarted replica starts with the new passwords and syncs', async () => {
    const replica = (await shards(h, 0))[0].replicas[0];
    await h.stop(replica);
    h.start(replica);
    await waitHealthy(h, 6);
    await waitFor('the restarted replica in sync', async () => /master_link_status:up/.test(await h.cli(replica, 'INFO', 'replication')), 30_000);
  });
});

describe('acl.sh build refuses broken Secrets with a clear message', () => {
  const acl = renderRedisClusterFiles(SCOPE, { ...BASE, acl: { passwordKey: 'password', clusterPasswordKey: 'cluster-password', usersFromSecret: true } })['acl.sh'];

  test('every ACL script parses under sh and bash', () => {
    const files = renderRedisClusterFiles(SCOPE, { ...BASE, acl: { passwordKey: 'password', clusterPasswordKey: 'cluster-password', metricsPasswordKey: 'm', usersFromSecret: true } });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redis-acl-scripts-'));
    try {
      for (const [file, content] of Object.entries(files)) {
        if (!file.endsWith('.sh')) continue;
        fs.writeFileSync(path.join(dir, file), content);
        execFileSync('sh', ['-n', path.join(dir, file)]);
        execFileSync('bash', ['-n', path.join(dir, file)]);
      }
      expect(files['cluster-init.sh']).toContain('timeout 300 redis-cli --user "$CLUSTER_USER" --cluster create');
      expect(files['start.sh']).not.toMatch(/REDIS_PASSWORD|requirepass/);
      expect(files['start.sh']).toContain('masteruser');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test.each<[string, { [k: string]: string }, { [k: string]: string }, string]>([
    ['a missing cluster password', { password: 'a' }, {}, 'the auth Secret has no usable key cluster-password'],
    ['a line break inside a password', { 'password': 'a\nb', 'cluster-password': 'c' }, {}, 'has a line break inside its value'],
    ['a reserved user name', { 'password': 'a', 'cluster-password': 'c' }, { 'cluster-admin': 'on +@all' }, 'user cluster-admin of the users Secret is reserved'],
    ['an empty user', { 'password': 'a', 'cluster-password': 'c' }, { app: '' }, 'user app of the users Secret has no rules on one line'],
  ])('%s', async (_name, auth, users, message) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redis-acl-'));
    try {
      writeSecretDir(path.join(dir, 'auth'), auth);
      writeSecretDir(path.join(dir, 'users'), users);
      fs.writeFileSync(path.join(dir, 'acl.sh'), acl);
      const r = await run('sh', [path.join(dir, 'acl.sh'), 'build'], {
        env: { PATH: process.env.PATH, REDIS_AUTH_DIR: path.join(dir, 'auth'), REDIS_USERS_DIR: path.join(dir, 'users'), REDIS_RUN_DIR: dir },
      });
      expect(r.code).toBe(1);
      expect(r.output).toContain(message);
      expect(fs.existsSync(path.join(dir, 'users.acl'))).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

// Valkey 8 binaries from scripts/ensure-valkey.sh (npm test runs it); without them these tests are skipped.
const VALKEY_BIN = path.join(__dirname, '..', '.cache', 'valkey-8.1.8');
const haveValkey = fs.existsSync(path.join(VALKEY_BIN, 'valkey-server')) && fs.existsSync(path.join(VALKEY_BIN, 'valkey-cli'));
if (!haveValkey) {
  // eslint-disable-next-line no-console
  console.warn(`no Valkey binaries in ${VALKEY_BIN} (bash scripts/ensure-valkey.sh provides them): the real-Valkey tests are skipped`);
}

(haveValkey ? describe : describe.skip)('Valkey 8 cluster from the rendered files (real valkey-server 8.1.8)', () => {
  const props: RedisClusterProps = {
    flavour: RedisFlavour.VALKEY_8, port: 7331, commandTimeout: Duration.seconds(2), joinTimeout: Duration.seconds(120), clusterNodeTimeout: Duration.seconds(2),
  };
  let h: RedisHarness;
  let ids: string[];

  beforeAll(() => {
    const files = synthesizedFiles(props);
    // only the Valkey binaries are on the pods' PATH under these names; the harness' own redis-cli talks to them
    expect(files['start.sh']).toContain('exec valkey-server "$CONFIG_DIR/redis.conf"');
    expect(files['cluster-init.sh']).toContain('timeout 300 valkey-cli --cluster create');
    expect(files['cluster-init.sh']).not.toMatch(/^[^#]*redis-cli /m);
    h = new RedisHarness({ files, statefulSetName: 'redis', password: 'valkey pw', env: { PATH: `${VALKEY_BIN}:${process.env.PATH}` } });
  });
  afterAll(async () => {
    await h?.dispose();
  });

  test('3 shards x 1 replica form a cluster on Valkey: all slots covered, replica 2k+1 follows master 2k', async () => {
    for (let o = 0; o < 6; o++) h.start(o);
    await waitHealthy(h, 6);
    expect(await h.cli(0, 'INFO', 'server')).toMatch(/valkey_version:8\.1\.8/);
    expect((await shards(h, 1)).map(s => [s.master, s.replicas])).toEqual([[0, [1]], [2, [3]], [4, [5]]]);
    expect(await checkOutput(h, 0)).toContain('[OK] All 16384 slots covered.');
    for (const k of KEYS) expect(await h.clusterCommand(['SET', k, `value-of-${k}`])).toBe('OK');
    ids = await myIds(h);
  });

  test('every node killed and started again on new addresses: the same cluster, node ids and keys (AOF)', async () => {
    await new Promise(resolve => setTimeout(resolve, 2_000));
    await h.stopAll('SIGKILL');
    for (let o = 0; o < 6; o++) h.start(o, { newAddress: true });
    await waitHealthy(h, 6);
    expect(await myIds(h)).toEqual(ids);
    await readAllKeys(h);
    expect(fs.readFileSync(h.logFile(0), 'utf8').match(/creating the cluster/g)).toHaveLength(1);
  });

  test('with ACL users a Valkey cluster forms and its internal users keep their limits (valkey-cli calls, acl.sh included)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'valkey-acl-'));
    writeSecretDir(path.join(dir, 'auth'), { 'password': 'default pw', 'cluster-password': 'cluster pw' });
    const files = synthesizedFiles({ ...props, port: 7361, acl: { defaultUserRules: '~* &* +@all -@admin', reloadInterval: Duration.seconds(1) } });
    const v = new RedisHarness({
      files, statefulSetName: 'redis', password: 'default pw', env: { PATH: `${VALKEY_BIN}:${process.env.PATH}`, REDIS_AUTH_DIR: path.join(dir, 'auth') },
    });
    try {
      for (let o = 0; o < 6; o++) v.start(o);
      await waitHealthy(v, 6);
      const as = (user: string, password: string, ...args: string[]) => run('redis-cli', ['--user', user, '-h', v.addressOf(0), '-p', '7361', ...args],
        { env: { PATH: process.env.PATH, REDISCLI_AUTH: password } }).then(r => r.output.trim());
      expect(await as('default', 'default pw', 'INFO', 'server')).toMatch(/valkey_version:8\.1\.8/);
      expect(await as('cluster-admin', 'cluster pw', 'CLUSTER', 'INFO')).toMatch(/cluster_state:ok/);
      expect(await as('cluster-admin', 'cluster pw', 'GET', 'k')).toMatch(/^NOPERM/);
      expect(await as('default', 'default pw', 'CONFIG', 'SET', 'maxmemory', '1')).toMatch(/^NOPERM/);
      await waitFor('replica 1 in sync', async () => /master_link_status:up/.test(await v.cli(1, 'INFO', 'replication')), 30_000);
      // the reload loop (valkey-cli as local-reload) applies a new default password
      writeSecretDir(path.join(dir, 'auth'), { 'password': 'new pw', 'password.previous': 'default pw', 'cluster-password': 'cluster pw' });
      await waitFor('the new default password accepted', async () => (await as('default', 'new pw', 'PING')) === 'PONG', 30_000);
    } finally {
      await v.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a replica that lost its data volume joins its shard again; its old identity is forgotten', async () => {
    const oldId = await h.cli(5, 'CLUSTER', 'MYID');
    await h.stop(5);
    fs.rmSync(h.dataDir(5), { recursive: true, force: true });
    h.start(5);
    await waitHealthy(h, 6);
    for (const o of h.runningOrdinals()) expect((await h.clusterNodes(o)).map(n => n.id)).not.toContain(oldId);
    await readAllKeys(h);
  });
});

/** A CA and a certificate signed by it, made with openssl (ECDSA P-256), as a Secret would mount them. */
function makeCertificates(dir: string, sans: string, serial: number, caDir?: string): void {
  fs.mkdirSync(dir, { recursive: true });
  const ca = caDir ?? dir;
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  if (!caDir) {
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=test-ca');
  }
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'tls.key.new', '-out', 'tls.csr', '-subj', '/CN=redis');
  fs.writeFileSync(path.join(dir, 'ext'), `subjectAltName=${sans}\nextendedKeyUsage=serverAuth,clientAuth\n`);
  openssl('x509', '-req', '-in', 'tls.csr', '-CA', path.join(ca, 'ca.crt'), '-CAkey', path.join(ca, 'ca.key'), '-set_serial', String(serial), '-out', 'tls.crt.new', '-days', '2', '-extfile', 'ext');
  if (caDir) fs.copyFileSync(path.join(caDir, 'ca.crt'), path.join(dir, 'ca.crt'));
  // key first, then the certificate: the reload loop sees a matching pair once both changed
  fs.renameSync(path.join(dir, 'tls.key.new'), path.join(dir, 'tls.key'));
  fs.renameSync(path.join(dir, 'tls.crt.new'), path.join(dir, 'tls.crt'));
}

describe('removing a shard with ACL users and TLS, no replicas (real redis-server)', () => {
  const props: RedisClusterProps = {
    port: 7351, commandTimeout: Duration.seconds(2), joinTimeout: Duration.seconds(120), clusterNodeTimeout: Duration.seconds(2),
    shards: 4, replicasPerShard: 0, acl: {}, tls: { existingSecret: 'redis-tls' },
  };
  let h: RedisHarness;
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redis-drain-acl-'));
    makeCertificates(path.join(dir, 'tls'), 'DNS:*.redis-headless.test.svc.cluster.local,DNS:localhost,IP:127.0.0.1', 2001);
    writeSecretDir(path.join(dir, 'auth'), { 'password': 'default-pw', 'cluster-password': 'cluster-pw', 'metrics-password': 'metrics-pw' });
    h = new RedisHarness({
      files: synthesizedFiles(props), statefulSetName: 'redis', password: 'default-pw',
      env: { REDIS_AUTH_DIR: path.join(dir, 'auth'), REDIS_TLS_DIR: path.join(dir, 'tls') },
    });
  });
  afterAll(async () => {
    await h?.dispose();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the drain Job authenticates as the cluster user over TLS with the mounted Secrets and empties the last master', async () => {
    for (let o = 0; o < 4; o++) h.start(o);
    await waitHealthy(h, 4);
    for (const k of KEYS) expect(await h.clusterCommand(['SET', k, `value-of-${k}`])).toBe('OK');
    const draining = { ...props, drainingShards: 1 };
    h.setFiles(synthesizedFiles(draining));
    const container = findObject(synth(draining), 'Job', 'redis-drain-4-to-3').spec.template.spec.containers[0];
    // the cluster user's password comes from the mounted auth Secret, not from an env var
    expect(container.env.map((e: { name: string }) => e.name)).toEqual(['POD_NAMESPACE']);
    expect(container.volumeMounts.map((m: { name: string }) => m.name)).toEqual(['config', 'auth', 'tls']);
    const result = await h.runJob(container);
    expect({ code: result.code, output: result.output }).toEqual({ code: 0, output: expect.stringContaining('done: lower shards to 3') });
    expect(result.output).toMatch(/moving \d+ slots off shard 3/);
    const topology = await shards(h, 0);
    expect(topology.map(s => s.master)).toEqual([0, 1, 2]);
    expect(topology.reduce((n, s) => n + s.slots, 0)).toBe(16384);
    expect((await h.clusterInfo(3)).cluster_known_nodes).toBe('1');
    for (let o = 0; o < 3; o++) expect((await h.clusterInfo(o)).cluster_known_nodes).toBe('3');
    await readAllKeys(h);
  });
});

// A Redis 8 server from scripts/ensure-redis8.sh (npm test runs it); without it these tests are skipped.
const REDIS8_BIN = path.join(__dirname, '..', '.cache', 'redis-8.2.3');
const haveRedis8 = fs.existsSync(path.join(REDIS8_BIN, 'redis-server'));
if (!haveRedis8) {
  // eslint-disable-next-line no-console
  console.warn(`no Redis 8 server in ${REDIS8_BIN} (bash scripts/ensure-redis8.sh provides it): the real-Redis-8 tests are skipped`);
}

(haveRedis8 ? describe : describe.skip)('Redis 8 cluster from the rendered files (real redis-server 8.2.3, Debian\'s redis-cli)', () => {
  const props: RedisClusterProps = {
    flavour: RedisFlavour.REDIS_8, port: 7361, commandTimeout: Duration.seconds(2), joinTimeout: Duration.seconds(120), clusterNodeTimeout: Duration.seconds(2),
  };
  let h: RedisHarness;
  let ids: string[];
  beforeAll(() => {
    // the Redis 8 server comes first on the pods' PATH; the scripts call redis-server and redis-cli as in the redis:8 image
    h = new RedisHarness({ files: synthesizedFiles({ ...props, shards: 4 }), statefulSetName: 'redis', password: 'redis8 pw', env: { PATH: `${REDIS8_BIN}:${process.env.PATH}` } });
  });
  afterAll(async () => {
    await h?.dispose();
  });

  test('4 shards x 1 replica form a cluster on Redis 8: all slots covered, replica 2k+1 follows master 2k', async () => {
    expect(synthesizedFiles(props)['start.sh']).toContain('exec redis-server "$CONFIG_DIR/redis.conf"');
    for (let o = 0; o < 8; o++) h.start(o);
    await waitHealthy(h, 8, 120_000);
    expect(await h.cli(0, 'INFO', 'server')).toMatch(/redis_version:8\.2\.3/);
    expect((await shards(h, 1)).map(s => [s.master, s.replicas])).toEqual([[0, [1]], [2, [3]], [4, [5]], [6, [7]]]);
    for (const k of KEYS) expect(await h.clusterCommand(['SET', k, `value-of-${k}`])).toBe('OK');
    ids = await myIds(h);
  });

  test('the drain Job removes the last shard: 3 masters own every slot, no key lost', async () => {
    const draining = { ...props, shards: 4, drainingShards: 1 };
    h.setFiles(synthesizedFiles(draining));
    const result = await h.runJob(findObject(synth(draining), 'Job', 'redis-drain-4-to-3').spec.template.spec.containers[0]);
    expect({ code: result.code, output: result.output }).toEqual({ code: 0, output: expect.stringContaining('done: lower shards to 3') });
    const topology = await shards(h, 0);
    expect(topology.map(s => [s.master, s.replicas])).toEqual([[0, [1]], [2, [3]], [4, [5]]]);
    expect(topology.reduce((n, s) => n + s.slots, 0)).toBe(16384);
    await readAllKeys(h);
  });

  test('with shards 3, every remaining node killed and started again on new addresses: the same cluster, node ids and keys (AOF)', async () => {
    await h.stop(7);
    await h.stop(6);
    h.setFiles(synthesizedFiles({ ...props, shards: 3 }));
    await new Promise(resolve => setTimeout(resolve, 2_000));
    await h.stopAll('SIGKILL');
    for (let o = 0; o < 6; o++) h.start(o, { newAddress: true });
    await waitHealthy(h, 6);
    expect(await myIds(h)).toEqual(ids.slice(0, 6));
    await readAllKeys(h);
  });
});

describe('TLS for clients, replication and the cluster bus (real redis-server)', () => {
  const props: RedisClusterProps = {
    port: 7341, commandTimeout: Duration.seconds(2), joinTimeout: Duration.seconds(120), clusterNodeTimeout: Duration.seconds(2),
    tls: { existingSecret: 'redis-tls', reloadInterval: Duration.seconds(1) },
  };
  const SANS = 'DNS:*.redis-headless.test.svc.cluster.local,DNS:redis.test.svc.cluster.local,DNS:localhost,IP:127.0.0.1';
  let h: RedisHarness;
  let certs: string;

  beforeAll(() => {
    certs = fs.mkdtempSync(path.join(os.tmpdir(), 'redis-tls-'));
    makeCertificates(certs, SANS, 1001);
    h = new RedisHarness({ files: synthesizedFiles(props), statefulSetName: 'redis', password: 'tls pw', env: { REDIS_TLS_DIR: certs } });
  });
  afterAll(async () => {
    await h?.dispose();
    if (certs) fs.rmSync(certs, { recursive: true, force: true });
  });

  const tlsCli = (ordinal: number, ca: string, ...args: string[]) => run('redis-cli', ['--tls', '--cacert', ca, '-h', h.addressOf(ordinal), '-p', '7342', ...args],
    { env: { PATH: process.env.PATH, REDISCLI_AUTH: 'tls pw' } }).then(r => r.output.trim());
  const servedSerial = (ordinal: number) => run('sh', ['-c', `openssl s_client -connect ${h.addressOf(ordinal)}:7342 </dev/null 2>/dev/null | openssl x509 -noout -serial`])
    .then(r => r.output.trim());

  test('a cluster forms over TLS (scripts, bus and replication) and serves TLS clients', async () => {
    for (let o = 0; o < 6; o++) h.start(o);
    await waitHealthy(h, 6);
    expect((await shards(h, 0)).map(s => [s.master, s.replicas])).toEqual([[0, [1]], [2, [3]], [4, [5]]]);
    expect(await h.cli(0, 'CONFIG', 'GET', 'tls-cluster')).toBe('tls-cluster\nyes');
    expect(await h.cli(0, 'CONFIG', 'GET', 'tls-replication')).toBe('tls-replication\nyes');
    await waitFor('replica 1 in sync over TLS', async () => /master_link_status:up/.test(await h.cli(1, 'INFO', 'replication')), 30_000);
    const ca = path.join(certs, 'ca.crt');
    const set = await Promise.all([0, 2, 4].map(o => tlsCli(o, ca, 'SET', 'tls-key', 'over-tls')));
    const owner = [0, 2, 4][set.indexOf('OK')];
    expect(set.filter(r => r === 'OK')).toHaveLength(1);
    expect(await tlsCli(owner, ca, 'GET', 'tls-key')).toBe('over-tls');
    expect(await tlsCli(owner, ca, 'CLUSTER', 'INFO')).toMatch(/cluster_state:ok/);
    // a plain TCP client on the TLS port gets nothing; a client that trusts another CA refuses the server
    expect(await h.cliAt(h.addressOf(owner), ['-p', '7342', 'PING']).catch(e => String(e))).not.toBe('PONG');
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'redis-other-ca-'));
    try {
      makeCertificates(other, 'DNS:localhost', 1);
      expect(await tlsCli(owner, path.join(other, 'ca.crt'), 'PING')).toMatch(/SSL|certificate|verify/i);
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
  });

  test('a renewed certificate is loaded by every node without a restart; the cluster stays ok', async () => {
    expect(await servedSerial(0)).toBe('serial=03E9');
    makeCertificates(certs, SANS, 1002, certs);
    await waitFor('every node to serve the renewed certificate', async () => {
      const serials = await Promise.all(h.runningOrdinals().map(servedSerial));
      return serials.every(s => s === 'serial=03EA');
    }, 30_000);
    expect(h.currentLog(3)).toContain('tls: loaded the renewed certificate');
    await waitHealthy(h, 6);
    expect(await tlsCli(0, path.join(certs, 'ca.crt'), 'PING')).toBe('PONG');
  });

  test('with plaintext off the client port is closed and TLS answers (redis.conf as synthesized)', async () => {
    const files = synthesizedFiles({ port: 7351, tls: { existingSecret: 'redis-tls', plaintext: false } });
    expect(files['redis.conf']).toMatch(/^port 0$/m);
    expect(files['redis.conf']).toMatch(/^tls-port 7351$/m);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redis-tls-only-'));
    const address = `127.${16 + Math.floor(Math.random() * 234)}.252.1`;
    fs.writeFileSync(path.join(dir, 'redis.conf'), files['redis.conf']);
    const child = spawn('redis-server', [path.join(dir, 'redis.conf'), '--bind', address, '--dir', dir,
      '--tls-cert-file', path.join(certs, 'tls.crt'), '--tls-key-file', path.join(certs, 'tls.key'), '--tls-ca-cert-file', path.join(certs, 'ca.crt')], { detached: true, stdio: 'ignore' });
    try {
      const tls = () => run('redis-cli', ['--tls', '--cacert', path.join(certs, 'ca.crt'), '-h', address, '-p', '7351', 'PING']).then(r => r.output.trim());
      await waitFor('redis-server over TLS', async () => (await tls()) === 'PONG', 10_000, 100);
      expect((await run('redis-cli', ['-h', address, '-p', '7351', 'PING'])).output.trim()).not.toBe('PONG');
      expect((await run('redis-cli', ['-h', address, '-p', '6379', 'PING'])).output).toMatch(/refused/);
    } finally {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already stopped
      }
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
