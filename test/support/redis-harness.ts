/**
 * Runs real redis-server processes from the files of the Redis ConfigMap, the way the pods do:
 * `sh start.sh` with HOSTNAME=<name>-<ordinal>, POD_IP, POD_NAMESPACE and REDIS_PASSWORD set.
 *
 * Each pod gets a loopback address 127.<net>.<generation>.<10 + ordinal>; a pod that "moves"
 * comes back with the next generation, i.e. a different address. The pods' DNS names resolve
 * through a hosts file that the harness keeps current (start.sh's REDIS_RESOLVER hook), the
 * data volume is a per-ordinal directory that survives restarts, and the ConfigMap mount a
 * per-start copy of the files.
 */
import { ChildProcess, execFile, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** The ConfigMap data: redis.conf, start.sh, cluster-init.sh, liveness.sh, readiness.sh. */
export type RedisFiles = { [file: string]: string };

export interface RedisHarnessOptions {
  /** ConfigMap data the pods start from (can be replaced per start, e.g. after a scale-up). */
  readonly files: RedisFiles;
  /** StatefulSet name: pods are <name>-<ordinal>. */
  readonly statefulSetName: string;
  /** Headless Service of the pods' DNS names (default <name>-headless). */
  readonly headlessServiceName?: string;
  /** Cluster DNS domain of the pods' DNS names (default cluster.local). */
  readonly clusterDomain?: string;
  /** Shell that runs start.sh and the probe scripts, like the container command would. */
  readonly shell?: string;
  /** Password given to the pods as REDIS_PASSWORD; unset = no auth. */
  readonly password?: string;
  /** Namespace given to the pods as POD_NAMESPACE. */
  readonly namespace?: string;
  /** Further environment of every pod (e.g. REDIS_AUTH_DIR: where a mounted Secret would be). */
  readonly env?: NodeJS.ProcessEnv;
}

export interface StartOptions {
  /** Come back on a new address (the next generation). */
  readonly newAddress?: boolean;
  /** Files for this start instead of the current ones. */
  readonly files?: RedisFiles;
}

export interface ClusterNode {
  readonly id: string;
  readonly ip: string;
  readonly hostname: string;
  readonly flags: string[];
  readonly masterId: string | undefined;
  readonly link: string;
  readonly slots: number;
}

export interface ScriptResult {
  readonly code: number;
  readonly output: string;
}

interface Pod {
  generation: number;
  /** Size of the log when the pod last started: what follows belongs to this start. */
  logOffset: number;
  process?: ChildProcess;
  exited?: Promise<void>;
}

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const running = new Set<number>();
let exitHookInstalled = false;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort when a test run dies without afterAll: no redis-server outlives the run.
  process.on('exit', () => {
    for (const pid of running) killGroup(pid, 'SIGKILL');
  });
}

function onPath(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Installs Debian's redis-server/redis-tools through scripts/ensure-redis.sh when missing. */
export function ensureRedis(): void {
  if (onPath('redis-server') && onPath('redis-cli')) return;
  try {
    execFileSync('bash', [path.join(REPO_ROOT, 'scripts', 'ensure-redis.sh')], { stdio: 'inherit', timeout: 300_000 });
  } catch (e) {
    throw new Error(`scripts/ensure-redis.sh failed (${(e as Error).message}); install redis-server and redis-tools`);
  }
  if (!onPath('redis-server') || !onPath('redis-cli')) {
    throw new Error('redis-server or redis-cli is still missing after scripts/ensure-redis.sh; install Debian\'s redis-server and redis-tools');
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms));
}

/** Polls `probe` until it returns a value other than undefined/false; fails with the last reason. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs: number, intervalMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v as T;
      last = v;
    } catch (e) {
      last = (e as Error).message;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
    }
    await sleep(intervalMs);
  }
}

export class RedisHarness {
  public readonly root: string;
  public readonly port: number;
  private files: RedisFiles;
  private readonly name: string;
  private readonly dnsSuffix: string;
  private readonly namespace: string;
  private password: string | undefined;
  private readonly shell: string;
  private readonly extraEnv: NodeJS.ProcessEnv;
  private readonly net: number;
  private readonly pods = new Map<number, Pod>();

  constructor(options: RedisHarnessOptions) {
    ensureRedis();
    installExitHook();
    for (const f of ['redis.conf', 'start.sh', 'cluster-init.sh', 'liveness.sh', 'readiness.sh']) {
      if (typeof options.files[f] !== 'string') throw new Error(`RedisHarness: files lack ${f}`);
    }
    this.files = options.files;
    this.port = RedisHarness.portOf(options.files);
    this.name = options.statefulSetName;
    this.namespace = options.namespace ?? 'test';
    this.dnsSuffix = `${options.headlessServiceName ?? `${this.name}-headless`}.${this.namespace}.svc.${options.clusterDomain ?? 'cluster.local'}`;
    this.password = options.password;
    this.shell = options.shell ?? 'sh';
    this.extraEnv = options.env ?? {};
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), 'redis-harness-'));
    // A random second octet keeps concurrent harnesses (and runs) on separate addresses.
    this.net = 16 + Math.floor(Math.random() * 234);
    fs.writeFileSync(path.join(this.root, 'hosts'), '');
    fs.writeFileSync(path.join(this.root, 'resolve.sh'), [
      '#!/bin/sh',
      '# Resolves <pod>.<anything> from the harness hosts file, printing "address name" like getent.',
      'pod=${1%%.*}',
      'while read -r name address; do',
      '  if [ "$name" = "$pod" ]; then printf \'%s %s\\n\' "$address" "$1"; exit 0; fi',
      `done < '${path.join(this.root, 'hosts')}'`,
      'exit 2',
      '',
    ].join('\n'), { mode: 0o755 });
  }

  private static portOf(files: RedisFiles): number {
    const m = /^port (\d+)$/m.exec(files['redis.conf']);
    if (!m) throw new Error('RedisHarness: redis.conf has no "port" line');
    return Number(m[1]);
  }

  /** The password the harness' own redis-cli calls use from now on (after a rotation). */
  public setPassword(password: string | undefined): void {
    this.password = password;
  }

  /** Replaces the files that later starts use (what a ConfigMap update does). */
  public setFiles(files: RedisFiles): void {
    if (RedisHarness.portOf(files) !== this.port) throw new Error('RedisHarness: the port cannot change');
    this.files = files;
  }

  public podName(ordinal: number): string {
    return `${this.name}-${ordinal}`;
  }

  public hostnameOf(ordinal: number): string {
    return `${this.podName(ordinal)}.${this.dnsSuffix}`;
  }

  public addressOf(ordinal: number): string {
    const pod = this.pods.get(ordinal);
    if (!pod) throw new Error(`pod ${ordinal} was never started`);
    return `127.${this.net}.${pod.generation}.${10 + ordinal}`;
  }

  public dataDir(ordinal: number): string {
    return path.join(this.root, `pod-${ordinal}`, 'data');
  }

  public logFile(ordinal: number): string {
    return path.join(this.root, `pod-${ordinal}`, 'log');
  }

  public isRunning(ordinal: number): boolean {
    return this.pods.get(ordinal)?.process !== undefined;
  }

  public runningOrdinals(): number[] {
    return [...this.pods.keys()].filter(o => this.isRunning(o)).sort((a, b) => a - b);
  }

  private writeHosts(): void {
    const lines = this.runningOrdinals().map(o => `${this.podName(o)} ${this.addressOf(o)}`);
    const file = path.join(this.root, 'hosts');
    fs.writeFileSync(`${file}.tmp`, lines.join('\n') + '\n');
    fs.renameSync(`${file}.tmp`, file);
  }

  private podDirs(ordinal: number) {
    const base = path.join(this.root, `pod-${ordinal}`);
    return { base, config: path.join(base, 'config'), data: path.join(base, 'data'), run: path.join(base, 'run') };
  }

  /** The environment of the pod's container, as the StatefulSet would set it. */
  public podEnv(ordinal: number): NodeJS.ProcessEnv {
    const dirs = this.podDirs(ordinal);
    const address = this.addressOf(ordinal);
    return {
      PATH: process.env.PATH,
      HOSTNAME: this.podName(ordinal),
      POD_IP: address,
      POD_NAMESPACE: this.namespace,
      ...(this.password !== undefined ? { REDIS_PASSWORD: this.password } : {}),
      // Outside a pod: mounts are directories, DNS is the hosts file, each pod has its own address.
      REDIS_CONFIG_DIR: dirs.config,
      REDIS_DATA_DIR: dirs.data,
      REDIS_RUN_DIR: dirs.run,
      REDIS_BIND: address,
      REDIS_LOCAL_HOST: address,
      REDIS_RESOLVER: path.join(this.root, 'resolve.sh'),
      ...this.extraEnv,
    };
  }

  /** Starts pod `ordinal` (its data directory is kept across starts). */
  public start(ordinal: number, options: StartOptions = {}): void {
    if (this.isRunning(ordinal)) throw new Error(`pod ${ordinal} is already running`);
    const pod = this.pods.get(ordinal) ?? { generation: 0, logOffset: 0 };
    if (this.pods.has(ordinal) && options.newAddress) pod.generation += 1;
    this.pods.set(ordinal, pod);
    const dirs = this.podDirs(ordinal);
    // A fresh copy of the ConfigMap on every start; a fresh emptyDir for /tmp.
    fs.rmSync(dirs.config, { recursive: true, force: true });
    fs.rmSync(dirs.run, { recursive: true, force: true });
    for (const d of [dirs.config, dirs.data, dirs.run]) fs.mkdirSync(d, { recursive: true });
    for (const [file, content] of Object.entries(options.files ?? this.files)) {
      fs.writeFileSync(path.join(dirs.config, file), content, { mode: 0o444 });
    }
    pod.logOffset = fs.existsSync(this.logFile(ordinal)) ? fs.statSync(this.logFile(ordinal)).size : 0;
    const log = fs.openSync(this.logFile(ordinal), 'a');
    const child = spawn(this.shell, [path.join(dirs.config, 'start.sh')], {
      cwd: dirs.base,
      env: this.podEnv(ordinal),
      detached: true,
      stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    pod.process = child;
    running.add(child.pid!);
    pod.exited = new Promise(resolve => child.once('exit', () => {
      running.delete(child.pid!);
      pod.process = undefined;
      resolve();
    }));
    this.writeHosts();
  }

  /**
   * Stops pod `ordinal`: `signal` (SIGTERM, as at pod deletion, or SIGKILL, as at a node crash) to its
   * process group (redis-server and cluster-init), SIGKILL after 15 s.
   */
  public async stop(ordinal: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const pod = this.pods.get(ordinal);
    if (!pod?.process) return;
    const pid = pod.process.pid!;
    killGroup(pid, signal);
    let timer: NodeJS.Timeout | undefined;
    const killed = await Promise.race([
      pod.exited!.then(() => false),
      new Promise<boolean>(resolve => { timer = setTimeout(() => resolve(true), 15_000); }),
    ]);
    clearTimeout(timer);
    if (killed) {
      killGroup(pid, 'SIGKILL');
      await pod.exited;
    }
    // Whatever cluster-init left in the group goes too.
    killGroup(pid, 'SIGKILL');
    this.writeHosts();
  }

  public async stopAll(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await Promise.all(this.runningOrdinals().map(o => this.stop(o, signal)));
  }

  /** Stops everything and removes the temp directory (kept when REDIS_HARNESS_KEEP is set). */
  /**
   * Runs a Job's container the way the Job does: its command with the ConfigMap files where the container mounts
   * them, the env vars its spec sets (the downward-API namespace, the password from the Secret; any other is an
   * error), the harness DNS, and a loopback address of its own. Resolves with the exit code and output.
   */
  public runJob(container: { command?: string[]; env?: Array<{ name: string }>; volumeMounts?: Array<{ name: string; mountPath: string }> },
    options: { files?: RedisFiles; timeoutMs?: number } = {}): Promise<ScriptResult> {
    const dir = fs.mkdtempSync(path.join(this.root, 'job-'));
    const configMount = (container.volumeMounts ?? []).find(m => m.name === 'config');
    if (!configMount || !container.command) throw new Error('RedisHarness.runJob: the container has no command or no config mount');
    for (const [file, content] of Object.entries(options.files ?? this.files)) {
      fs.writeFileSync(path.join(dir, file), content, { mode: 0o444 });
    }
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, REDIS_RESOLVER: path.join(this.root, 'resolve.sh'), ...this.extraEnv };
    for (const { name } of container.env ?? []) {
      if (name === 'POD_NAMESPACE') env.POD_NAMESPACE = this.namespace;
      else if (name === 'REDIS_PASSWORD') env.REDIS_PASSWORD = this.password;
      else throw new Error(`RedisHarness.runJob: no value for env var ${name}`);
    }
    const command = container.command.map(a => (a.startsWith(`${configMount.mountPath}/`) ? path.join(dir, a.slice(configMount.mountPath.length + 1)) : a));
    return new Promise(resolve => {
      execFile(command[0], command.slice(1), { env, cwd: dir, timeout: options.timeoutMs ?? 180_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        resolve({ code, output: `${stdout}${stderr}` });
      });
    });
  }

  public async dispose(): Promise<void> {
    await this.stopAll();
    if (!process.env.REDIS_HARNESS_KEEP) {
      fs.rmSync(this.root, { recursive: true, force: true });
    }
  }

  /** One redis-cli command against pod `ordinal`; the reply with CRs removed. */
  public cli(ordinal: number, ...args: string[]): Promise<string> {
    return this.cliAt(this.addressOf(ordinal), args);
  }

  public cliAt(address: string, args: string[], input?: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = execFile('redis-cli', ['-h', address, '-p', String(this.port), ...args], {
        env: { PATH: process.env.PATH, ...(this.password !== undefined ? { REDISCLI_AUTH: this.password } : {}) },
        timeout: 60_000,
        maxBuffer: 64 * 1024 * 1024,
      }, (err, stdout, stderr) => {
        const out = `${stdout}${stderr}`.replace(/\r/g, '').trim();
        if (err && (err as NodeJS.ErrnoException & { killed?: boolean }).killed) reject(new Error(`redis-cli ${args.join(' ')} timed out`));
        else resolve(out);
      });
      child.stdin!.on('error', () => undefined);
      if (input !== undefined) child.stdin!.end(input);
      else child.stdin!.end();
    });
  }

  public async clusterInfo(ordinal: number): Promise<{ [field: string]: string }> {
    const out = await this.cli(ordinal, 'CLUSTER', 'INFO');
    const info: { [field: string]: string } = {};
    for (const line of out.split('\n')) {
      const i = line.indexOf(':');
      if (i > 0) info[line.slice(0, i)] = line.slice(i + 1);
    }
    return info;
  }

  public async clusterNodes(ordinal: number): Promise<ClusterNode[]> {
    const out = await this.cli(ordinal, 'CLUSTER', 'NODES');
    if (!out.includes('myself')) throw new Error(`CLUSTER NODES on pod ${ordinal}: ${out}`);
    return out.split('\n').filter(l => l.trim()).map(line => {
      const [id, addr, flags, master, , , , link, ...slots] = line.split(' ');
      const hostport = addr.split('@')[0];
      return {
        id,
        ip: hostport.slice(0, hostport.lastIndexOf(':')),
        hostname: addr.includes(',') ? addr.split(',')[1] : '',
        flags: flags.split(','),
        masterId: master === '-' ? undefined : master,
        link,
        slots: slots.filter(s => !s.startsWith('[')).reduce((n, r) => {
          const [a, b] = r.split('-').map(Number);
          return n + (b === undefined ? 1 : b - a + 1);
        }, 0),
      };
    });
  }

  /** Maps a redirect target "<pod>.<...>:port" (or "ip:port") to a pod address, as DNS would. */
  private redirectAddress(target: string): string {
    const host = target.slice(0, target.lastIndexOf(':'));
    const m = /^(.+)-(\d+)\./.exec(host);
    if (m && m[1] === this.name) return this.addressOf(Number(m[2]));
    return host;
  }

  /** Runs a single-key command through the cluster like a cluster client: follows MOVED and ASK. */
  public async clusterCommand(args: string[], via?: number): Promise<string> {
    let address = this.addressOf(via ?? this.runningOrdinals()[0]);
    let asking = false;
    for (let hop = 0; hop < 10; hop++) {
      const reply = asking
        ? (await this.cliAt(address, [], `ASKING\n${args.join(' ')}\n`)).split('\n').slice(1).join('\n')
        : await this.cliAt(address, args);
      const redirect = /^(MOVED|ASK) \d+ (\S+)$/.exec(reply);
      if (!redirect) return reply;
      asking = redirect[1] === 'ASK';
      address = this.redirectAddress(redirect[2]);
    }
    throw new Error(`too many redirects for ${args.join(' ')}`);
  }

  /** Runs one of the ConfigMap scripts in pod `ordinal`'s environment (what an exec probe does). */
  public runScript(ordinal: number, file: string, extraEnv: NodeJS.ProcessEnv = {}, args: string[] = []): Promise<ScriptResult> {
    const script = path.join(this.podDirs(ordinal).config, file);
    return new Promise(resolve => {
      execFile(this.shell, [script, ...args], { env: { ...this.podEnv(ordinal), ...extraEnv }, timeout: 30_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        resolve({ code, output: `${stdout}${stderr}` });
      });
    });
  }

  /** The log of pod `ordinal` since its last start. */
  public currentLog(ordinal: number): string {
    const pod = this.pods.get(ordinal);
    if (!pod || !fs.existsSync(this.logFile(ordinal))) return '';
    return fs.readFileSync(this.logFile(ordinal)).subarray(pod.logOffset).toString('utf8');
  }

  /** cluster-init.sh of the current start has finished successfully (and exited). */
  public clusterInitDone(ordinal: number): boolean {
    return /cluster-init: \S+ is a member of a healthy cluster; done$/m.test(this.currentLog(ordinal));
  }

  /** The tail of every pod's log, for failure messages. */
  public logs(lines = 40): string {
    return [...this.pods.keys()].sort((a, b) => a - b).map(o => {
      const file = this.logFile(o);
      const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n') : '';
      return `==== ${this.podName(o)} (${file})\n${text}`;
    }).join('\n');
  }
}
