/**
 * Runs the members of a synthesized PlacementCenter as local processes of the real RobustMQ broker-server, the way
 * the kubelet would run its pods: the container command with the container environment (downward API values and
 * $(VAR) references resolved), the ConfigMap files at the config mount, one directory per volume.
 *
 * Only what one host cannot share with itself is changed, and only by rules (no file is written by hand):
 * - ports: every member has its own network namespace in Kubernetes and listens on 1228, 58080 and 1778; here the
 *   three share 127.0.0.1, so each member gets its own numbers for the container ports (by port name);
 * - host names: the pods' DNS names do not resolve here, so each member's DNS name stands for 127.0.0.1 (with the
 *   member's gRPC port where it appears as a peer address);
 * - paths: each volume mount of the container is a directory of the member, and the image's /robustmq/libs is the
 *   directory of the locally built binary.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { parse, stringify } from 'smol-toml';
import { parseRaftStatus, type RaftStatus } from './robustmq-raft';

export type { RaftStatus } from './robustmq-raft';

/** What the construct synthesized, read from the manifests. */
export interface SynthesizedPlacementCenter {
  readonly statefulSet: any;
  readonly configMap: any;
}

export interface MemberPorts {
  readonly [portName: string]: number;
}

interface Member {
  readonly ordinal: number;
  readonly dir: string;
  readonly ports: MemberPorts;
  readonly env: NodeJS.ProcessEnv;
  readonly argv: string[];
  readonly logFile: string;
  proc?: ChildProcess;
  exited?: Promise<void>;
  /** The harness asked the process to end (stop, kill): no restart follows. */
  stopping?: boolean;
  /** The kubelet's restart of a container that exited on its own, pending its back-off. */
  restartTimer?: NodeJS.Timeout;
  /** Back-off of the next restart; the kubelet doubles it per restart, up to 5 minutes. */
  backOffMs: number;
}

/** A container that exited on its own, as the kubelet saw it (restartPolicy Always restarted it after `backOffMs`). */
export interface UnrequestedExit {
  readonly ordinal: number;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly at: number;
  readonly backOffMs: number;
  /** What the process exited on: its last ERROR line since it started, else its last line. */
  readonly lastLine: string;
}

/** The kubelet's container restart back-off: 10 s first, doubled per restart, at most 5 minutes. */
const KUBELET_BACKOFF_INITIAL_MS = 10_000;
const KUBELET_BACKOFF_MAX_MS = 300_000;

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every `intervalMs` until it returns a value (not undefined/false) or `timeoutMs` passes. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs: number, intervalMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value as T;
    } catch (e) {
      last = e;
    }
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await sleep(intervalMs);
  }
}

/** The kubelet's tcpSocket check: a TCP connection within the timeout. */
export function tcpCheck(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => { socket.destroy(); resolve(ok); };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    // the server binds 0.0.0.0, so the port must be free there
    server.listen({ port, host: '0.0.0.0' }, () => server.close(() => resolve(true)));
  });
}

/** Kubernetes' expansion of $(VAR) in env values: only variables defined earlier; $$ escapes. */
function expandEnv(value: string, defined: NodeJS.ProcessEnv): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name) => {
    if (m === '$$') return '$';
    return defined[name] !== undefined ? defined[name]! : m;
  });
}

export class RobustMqHarness {
  public readonly root: string;
  public readonly members: Member[] = [];
  /**
   * Members that exited without being asked to, in order. The pod's restartPolicy is Always, so the harness does what
   * the kubelet does: starts the container again after the back-off.
   */
  public readonly unrequestedExits: UnrequestedExit[] = [];
  private readonly container: any;
  private readonly stsName: string;

  public constructor(private readonly synthesized: SynthesizedPlacementCenter, private readonly binary: string) {
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), 'robustmq-real-'));
    this.container = synthesized.statefulSet.spec.template.spec.containers[0];
    this.stsName = synthesized.statefulSet.metadata.name;
  }

  public get replicas(): number {
    return this.synthesized.statefulSet.spec.replicas;
  }

  /** The container's readiness probe, as synthesized. */
  public get readinessProbe(): any {
    return this.container.readinessProbe;
  }

  /** Picks free ports and lays out every member's directories, files, environment and command. */
  public async prepare(): Promise<void> {
    const containerPorts: Array<{ name: string; containerPort: number }> = this.container.ports;
    const names = containerPorts.map((p) => p.name);
    // a block of free ports per member, the same offsets for every member
    let base = 20000 + Math.floor(Math.random() * 2000) * 10;
    const portsOf: MemberPorts[] = [];
    for (let ordinal = 0; ordinal < this.replicas; ordinal++) {
      for (let attempt = 0; ; attempt++) {
        if (attempt > 50) throw new Error('no free block of ports on 0.0.0.0');
        const candidate = Object.fromEntries(names.map((name, i) => [name, base + i]));
        base += 10;
        if ((await Promise.all(Object.values(candidate).map(portFree))).every(Boolean)) {
          portsOf.push(candidate);
          break;
        }
      }
    }

    const hostOf = (ordinal: number) => `${this.stsName}-${ordinal}.`;
    const grpcName = containerPorts.find((p) => p.name === 'grpc')!;
    const pods = Array.from({ length: this.replicas }, (_, ordinal) => ordinal);
    // "<pod DNS name>:<grpc port>" -> "127.0.0.1:<member grpc port>", "<pod DNS name>" -> "127.0.0.1"
    const mapHosts = (value: string): string => {
      let out = value;
      for (const ordinal of pods) {
        const pattern = new RegExp(`${escapeRegExp(hostOf(ordinal))}[a-z0-9.-]*?(?::${grpcName.containerPort})?(?=["\\s]|$)`, 'g');
        out = out.replace(pattern, (m) => (m.endsWith(`:${grpcName.containerPort}`) ? `127.0.0.1:${portsOf[ordinal].grpc}` : '127.0.0.1'));
      }
      return out;
    };

    for (const ordinal of pods) {
      const dir = path.join(this.root, `${this.stsName}-${ordinal}`);
      const ports = portsOf[ordinal];
      // each volume mount is a directory of the member; the image's libs directory is where the binary was built to
      const mounts: Array<[string, string]> = (this.container.volumeMounts as Array<{ name: string; mountPath: string }>)
        .map((m) => [m.mountPath, path.join(dir, m.name)]);
      mounts.push(['/robustmq/libs', path.dirname(this.binary)]);
      for (const [, local] of mounts) fs.mkdirSync(local, { recursive: true });
      const mapPath = (value: string): string => {
        for (const [mountPath, local] of mounts) {
          if (value === mountPath || value.startsWith(`${mountPath}/`)) return local + value.slice(mountPath.length);
        }
        return value;
      };
      const mapString = (value: string) => mapPath(mapHosts(value));

      // the ConfigMap's files at the config mount, with the rules above applied to every string and port key
      const configDir = mapPath('/etc/robustmq');
      for (const [file, content] of Object.entries<string>(this.synthesized.configMap.data)) {
        const doc = mapStrings(parse(content), mapString) as any;
        if ('grpc_port' in doc) {
          doc.grpc_port = ports.grpc;
          doc.http_port = ports.http;
          doc.storage_runtime.tcp_port = ports.engine;
        }
        fs.writeFileSync(path.join(configDir, file), stringify(doc));
      }

      // the container environment as the kubelet resolves it for pod <sts>-<ordinal>
      const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: dir };
      for (const e of this.container.env as Array<{ name: string; value?: string; valueFrom?: any }>) {
        const field = e.valueFrom?.fieldRef?.fieldPath;
        let value: string;
        if (field === "metadata.labels['apps.kubernetes.io/pod-index']") value = String(ordinal);
        else if (field === 'metadata.name') value = `${this.stsName}-${ordinal}`;
        else if (e.value !== undefined) value = expandEnv(e.value, env);
        else throw new Error(`env ${e.name}: no local equivalent for ${JSON.stringify(e.valueFrom)}`);
        env[e.name] = mapString(value);
      }
      const argv = [...this.container.command, ...(this.container.args ?? [])].map(mapString);
      this.members.push({ ordinal, dir, ports, env, argv, logFile: path.join(dir, 'server.log'), backOffMs: KUBELET_BACKOFF_INITIAL_MS });
    }
  }

  /** Starts the member's container process (the command as synthesized, with the mapped paths). */
  public start(ordinal: number): void {
    const m = this.members[ordinal];
    if (m.proc) throw new Error(`member ${ordinal} is already running`);
    clearTimeout(m.restartTimer);
    m.restartTimer = undefined;
    m.stopping = false;
    const log = fs.openSync(m.logFile, 'a');
    fs.writeSync(log, `\n==== start ${new Date().toISOString()}\n`);
    // the image's working directory is /robustmq; the process runs from the member's directory
    const proc = spawn(m.argv[0], m.argv.slice(1), { env: m.env, cwd: m.dir, detached: true, stdio: ['ignore', log, log] });
    fs.closeSync(log);
    m.proc = proc;
    m.exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    proc.once('exit', (code, signal) => {
      if (m.proc === proc) m.proc = undefined;
      if (m.stopping) return;
      // restartPolicy Always: the kubelet starts the container again after its back-off
      // what it exited on: its last ERROR line since this start, else its last line
      const lines = this.log(ordinal).split('\n==== start ').pop()!.replace(/\x1b\[[0-9;]*m/g, '').trim().split('\n');
      const lastLine = [...lines].reverse().find((l) => / ERROR /.test(l)) ?? lines[lines.length - 1] ?? '';
      this.unrequestedExits.push({ ordinal, code, signal, at: Date.now(), backOffMs: m.backOffMs, lastLine });
      m.restartTimer = setTimeout(() => { m.restartTimer = undefined; if (!m.proc) this.start(ordinal); }, m.backOffMs);
      m.backOffMs = Math.min(m.backOffMs * 2, KUBELET_BACKOFF_MAX_MS);
    });
  }

  public isRunning(ordinal: number): boolean {
    return this.members[ordinal].proc !== undefined;
  }

  /** SIGKILL: a crash. */
  public async kill(ordinal: number): Promise<void> {
    const m = this.members[ordinal];
    m.stopping = true;
    clearTimeout(m.restartTimer);
    m.restartTimer = undefined;
    if (!m.proc) return;
    killGroup(m.proc, 'SIGKILL');
    await m.exited;
  }

  /** SIGTERM, then SIGKILL after the grace period: what the kubelet does when it stops a container. */
  public async stop(ordinal: number, graceMs: number): Promise<'terminated' | 'killed'> {
    const m = this.members[ordinal];
    m.stopping = true;
    clearTimeout(m.restartTimer);
    m.restartTimer = undefined;
    if (!m.proc) return 'terminated';
    const proc = m.proc;
    killGroup(proc, 'SIGTERM');
    const exited = await Promise.race([m.exited!.then(() => true), sleep(graceMs).then(() => false)]);
    if (exited) return 'terminated';
    killGroup(proc, 'SIGKILL');
    await m.exited;
    return 'killed';
  }

  /** Stops every process; used on success and on failure. */
  public async stopAll(): Promise<void> {
    await Promise.all(this.members.map((m) => this.kill(m.ordinal)));
  }

  public dispose(): void {
    if (!process.env.ROBUSTMQ_HARNESS_KEEP) fs.rmSync(this.root, { recursive: true, force: true });
  }

  /** The readiness probe as the kubelet runs it against this member (tcpSocket on the mapped port). */
  public readinessCheck(ordinal: number): Promise<boolean> {
    const probe = this.readinessProbe;
    if (!probe.tcpSocket) throw new Error(`readiness probe ${JSON.stringify(probe)} is not a tcpSocket probe`);
    const name = (this.container.ports as Array<{ name: string; containerPort: number }>).find((p) => p.containerPort === probe.tcpSocket.port)!.name;
    return tcpCheck(this.members[ordinal].ports[name], probe.timeoutSeconds * 1000);
  }

  /**
   * Waits until the member is Ready as the kubelet decides it: the first probe after initialDelaySeconds, then one every
   * periodSeconds, until successThreshold successes in a row. Returns the seconds from `since` to Ready.
   */
  public async waitReady(ordinal: number, since: number, timeoutMs: number): Promise<number> {
    const probe = this.readinessProbe;
    await sleep(Math.max(0, since + probe.initialDelaySeconds * 1000 - Date.now()));
    const deadline = Date.now() + timeoutMs;
    let successes = 0;
    for (;;) {
      if (!this.isRunning(ordinal)) throw new Error(`member ${ordinal} exited before it was ready:\n${this.logTail(ordinal)}`);
      successes = (await this.readinessCheck(ordinal)) ? successes + 1 : 0;
      if (successes >= probe.successThreshold) return (Date.now() - since) / 1000;
      if (Date.now() >= deadline) throw new Error(`member ${ordinal} not ready after ${timeoutMs / 1000} s of probing:\n${this.logTail(ordinal)}`);
      await sleep(probe.periodSeconds * 1000);
    }
  }

  /** GET on the member's admin HTTP API from loopback (where it needs no token). */
  public async adminGet(ordinal: number, urlPath: string): Promise<{ status: number; body: string }> {
    const res = await fetch(`http://127.0.0.1:${this.members[ordinal].ports.http}${urlPath}`, { signal: AbortSignal.timeout(10_000) });
    return { status: res.status, body: await res.text() };
  }

  /**
   * The metadata Raft group's status through the member's admin API (GET /api/info, what `robust-ctl cluster status`
   * shows). The server asks the first reachable entry of meta_addrs, so `id` says which member answered.
   */
  public async raftStatus(ordinal: number): Promise<RaftStatus> {
    const { status, body } = await this.adminGet(ordinal, '/api/info');
    if (status !== 200) throw new Error(`GET /api/info on member ${ordinal}: HTTP ${status}: ${body.slice(0, 300)}`);
    return parseRaftStatus(body, `member ${ordinal}`);
  }

  /** The member's log since the harness started it first. */
  public log(ordinal: number): string {
    const file = this.members[ordinal].logFile;
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  }

  public logTail(ordinal: number, lines = 30): string {
    return `==== member ${ordinal} (${this.members[ordinal].logFile})\n${this.log(ordinal).split('\n').slice(-lines).join('\n')}`;
  }

  public logTails(lines = 30): string {
    return this.members.map((m) => this.logTail(m.ordinal, lines)).join('\n');
  }
}

function killGroup(proc: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-proc.pid!, signal);
  } catch {
    // already gone
  }
}

function mapStrings(value: unknown, map: (s: string) => string): unknown {
  if (typeof value === 'string') return map(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, map));
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, map)]));
  }
  return value;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
