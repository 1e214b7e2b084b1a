/**
 * Local Kubernetes control plane for integration tests.
 *
 * Wraps scripts/cluster/{build,up,down,node-loss}.sh: builds the binaries
 * (once, into a cache dir outside the repository), starts etcd,
 * kube-apiserver, kube-controller-manager, kube-scheduler and kwok on
 * 127.0.0.1 with kwok-simulated nodes, and stops everything again.
 *
 * Depends on Node.js built-ins only.
 *
 * Typical jest use:
 *
 *   // globalSetup
 *   const cp = await startControlPlane();
 *   Object.assign(process.env, cp.env);      // workers inherit KUBECONFIG etc.
 *   (globalThis as any).__controlPlane = cp;
 *
 *   // globalTeardown
 *   await (globalThis as any).__controlPlane?.stop();
 *
 *   // inside a test (a jest worker)
 *   const cp = await attachControlPlane();   // reads $K8S_WORK_DIR/cluster.json
 *   await cp.kubectlRun(['get', 'nodes']);
 *   await cp.stopNode('kwok-node-1', { wait: true });
 */
import * as childProcess from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface StartControlPlaneOptions {
  /** Run build.sh first (a no-op when every binary is cached). Default true. */
  readonly build?: boolean;
  /** Number of kwok nodes (KWOK_NODE_COUNT). Default 3. */
  readonly nodes?: number;
  /** Zones assigned round-robin to the nodes (KWOK_ZONES). Default zone-a, zone-b, zone-c. */
  readonly zones?: readonly string[];
  /** kube-controller-manager --node-monitor-grace-period, e.g. "20s". Default "40s". */
  readonly nodeMonitorGracePeriod?: string;
  /** kube-apiserver --default-{not-ready,unreachable}-toleration-seconds. Default 300. */
  readonly defaultTolerationSeconds?: number;
  /** --feature-gates for the Kubernetes components, e.g. "Foo=true,Bar=false". */
  readonly featureGates?: string;
  /** Create the default StorageClass "standard" (host-path provisioner). Default true. */
  readonly hostPathProvisioner?: boolean;
  /** Work dir to use (must not exist or be empty). Default: a new dir under /tmp. */
  readonly workDir?: string;
  /**
   * Stop the cluster automatically when this Node.js process exits without
   * calling stop() (a watchdog started by up.sh). Default true.
   */
  readonly stopWithProcess?: boolean;
  /** Extra environment for the scripts (see scripts/cluster/up.sh for the settings). */
  readonly env?: Readonly<Record<string, string>>;
  /** Receives the scripts' progress lines (stderr). Default: process.stderr. */
  readonly log?: (line: string) => void;
  /** Time limit of build.sh in ms. Default 90 minutes (a cold build takes a while on 2 cores). */
  readonly buildTimeoutMs?: number;
  /** Time limit of up.sh in ms. Default 5 minutes. */
  readonly upTimeoutMs?: number;
}

export interface KubectlResult {
  readonly stdout: string;
  readonly stderr: string;
}

export interface KubectlRunOptions {
  /** Written to kubectl's stdin (e.g. a manifest for `apply -f -`). */
  readonly input?: string;
  /** Time limit in ms. Default 120000. */
  readonly timeoutMs?: number;
}

export interface NodeLossOptions {
  /** Wait until the node's Ready condition is Unknown (stop) / True (restore). Default false. */
  readonly wait?: boolean;
  /** Time limit for the wait in ms. Default: node monitor grace period + 60s. */
  readonly timeoutMs?: number;
}

export interface ControlPlane {
  /** Admin kubeconfig (client certificate with O=system:masters). */
  readonly kubeconfig: string;
  /** API server URL, https://127.0.0.1:<port>. */
  readonly server: string;
  /** Work dir holding certificates, logs, PID files, cluster.json. */
  readonly workDir: string;
  /** Path of the kubectl binary built for this Kubernetes version. */
  readonly kubectl: string;
  /** Directory with all built binaries (kube-score, kube-linter when available, ...). */
  readonly binDir: string;
  /** Kubernetes version, e.g. "v1.37.2". */
  readonly k8sVersion: string;
  /** Names of the kwok nodes. */
  readonly nodes: readonly string[];
  /** Seconds up.sh took to bring the control plane up. */
  readonly startupSeconds: number;
  /** Environment describing the cluster: KUBECONFIG, K8S_WORK_DIR, KUBECTL, K8S_SERVER. */
  readonly env: Readonly<Record<string, string>>;
  /** Runs kubectl against this cluster. Rejects on a non-zero exit. */
  kubectlRun(args: readonly string[], opts?: KubectlRunOptions): Promise<KubectlResult>;
  /**
   * Simulates the loss of a node: kwok stops renewing its lease and updating
   * its pods, and the real node lifecycle controller marks it Ready=Unknown and
   * taints it unreachable after the node monitor grace period.
   */
  stopNode(name: string, opts?: NodeLossOptions): Promise<void>;
  /** Undoes stopNode: kwok manages the node again and it becomes Ready. */
  restoreNode(name: string, opts?: NodeLossOptions): Promise<void>;
  /** Stops every process of the cluster and removes the work dir. */
  stop(): Promise<void>;
}

interface ClusterJson {
  workDir: string;
  kubeconfig: string;
  server: string;
  k8sVersion: string;
  binDir: string;
  kubectl: string;
  nodes: string[];
  nodeMonitorGracePeriodSeconds: number;
  startupSeconds: number;
}

/** Directory of the shell scripts (override with CDK8S_CLUSTER_SCRIPTS_DIR). */
export function clusterScriptsDir(): string {
  const fromEnv = envVar('CDK8S_CLUSTER_SCRIPTS_DIR');
  if (fromEnv) {
    return path.resolve(fromEnv);
  }
  const starts = [typeof __dirname === 'string' ? __dirname : process.cwd(), process.cwd()];
  for (const start of starts) {
    let dir = path.resolve(start);
    for (;;) {
      const candidate = path.join(dir, 'scripts', 'cluster');
      if (fs.existsSync(path.join(candidate, 'up.sh'))) {
        return candidate;
      }
      const parent = path.dirname(dir);
      if (parent === dir) {
        break;
      }
      dir = parent;
    }
  }
  throw new Error('scripts/cluster/up.sh not found; set CDK8S_CLUSTER_SCRIPTS_DIR');
}

interface RunOptions {
  readonly env?: NodeJS.ProcessEnv | undefined;
  readonly input?: string | undefined;
  readonly timeoutMs?: number | undefined;
  readonly onStderrLine?: ((line: string) => void) | undefined;
}

function envVar(name: string): string | undefined {
  return process.env[name];
}

function run(command: string, args: readonly string[], opts: RunOptions = {}): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = childProcess.spawn(command, [...args], {
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let pending = '';
    let timedOut = false;
    const timer = opts.timeoutMs
      ? setTimeout(() => {
        timedOut = true;
        child.kill('SIGTERM');
      }, opts.timeoutMs)
      : undefined;
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr.push(chunk);
      if (opts.onStderrLine) {
        pending += chunk.toString('utf8');
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          opts.onStderrLine(line);
        }
      }
    });
    child.on('error', (err) => {
      if (timer) clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      if (opts.onStderrLine && pending) {
        opts.onStderrLine(pending);
      }
      const result = {
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      };
      if (code === 0) {
        resolve(result);
        return;
      }
      const why = timedOut ? `timed out after ${opts.timeoutMs}ms` : `exited with ${code ?? signal}`;
      const tail = result.stderr.trim().split('\n').slice(-40).join('\n');
      reject(new Error(`${path.basename(command)} ${args.join(' ')} ${why}\n${tail}`));
    });
    child.stdin.end(opts.input ?? '');
  });
}

function defaultLog(line: string): void {
  process.stderr.write(`${line}\n`);
}

function fromClusterJson(info: ClusterJson, scriptsDir: string): ControlPlane {
  const env: Record<string, string> = {
    KUBECONFIG: info.kubeconfig,
    K8S_WORK_DIR: info.workDir,
    KUBECTL: info.kubectl,
    K8S_SERVER: info.server,
  };
  const scriptEnv = (): NodeJS.ProcessEnv => ({ ...process.env, ...env });
  let stopped: Promise<void> | undefined;

  const nodeLoss = async (name: string, restore: boolean, opts: NodeLossOptions = {}): Promise<void> => {
    const args = [...(restore ? ['--restore'] : []), ...(opts.wait ? ['--wait'] : []), name];
    const timeoutMs = opts.timeoutMs ?? (info.nodeMonitorGracePeriodSeconds + 60) * 1000;
    await run(path.join(scriptsDir, 'node-loss.sh'), args, {
      env: { ...scriptEnv(), NODE_LOSS_TIMEOUT_SECONDS: String(Math.ceil(timeoutMs / 1000)) },
      timeoutMs: timeoutMs + 30_000,
    });
  };

  return {
    kubeconfig: info.kubeconfig,
    server: info.server,
    workDir: info.workDir,
    kubectl: info.kubectl,
    binDir: info.binDir,
    k8sVersion: info.k8sVersion,
    nodes: info.nodes,
    startupSeconds: info.startupSeconds,
    env,
    kubectlRun: (args, opts = {}) =>
      run(info.kubectl, ['--kubeconfig', info.kubeconfig, ...args], {
        input: opts.input,
        timeoutMs: opts.timeoutMs ?? 120_000,
      }),
    stopNode: (name, opts) => nodeLoss(name, false, opts),
    restoreNode: (name, opts) => nodeLoss(name, true, opts),
    stop: () => {
      stopped ??= run(path.join(scriptsDir, 'down.sh'), [info.workDir], { timeoutMs: 120_000 }).then(() => undefined);
      return stopped;
    },
  };
}

/**
 * Builds the binaries if needed, starts a control plane and returns how to
 * reach it. Rejects (after cleaning up) when the cluster does not come up.
 */
export async function startControlPlane(opts: StartControlPlaneOptions = {}): Promise<ControlPlane> {
  const scriptsDir = clusterScriptsDir();
  const log = opts.log ?? defaultLog;
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env };
  const set = (name: string, value: string | undefined): void => {
    if (value === undefined) {
      delete env[name];
    } else {
      env[name] = value;
    }
  };
  if (opts.nodes !== undefined) set('KWOK_NODE_COUNT', String(opts.nodes));
  if (opts.zones !== undefined) set('KWOK_ZONES', opts.zones.join(' '));
  if (opts.nodeMonitorGracePeriod !== undefined) set('NODE_MONITOR_GRACE_PERIOD', opts.nodeMonitorGracePeriod);
  if (opts.defaultTolerationSeconds !== undefined) set('DEFAULT_TOLERATION_SECONDS', String(opts.defaultTolerationSeconds));
  if (opts.featureGates !== undefined) set('KUBE_FEATURE_GATES', opts.featureGates);
  if (opts.hostPathProvisioner !== undefined) set('HOSTPATH_PROVISIONER', opts.hostPathProvisioner ? '1' : '0');
  set('K8S_WORK_DIR', opts.workDir);
  set('OWNER_PID', (opts.stopWithProcess ?? true) ? String(process.pid) : undefined);

  if (opts.build ?? true) {
    await run(path.join(scriptsDir, 'build.sh'), [], {
      env,
      timeoutMs: opts.buildTimeoutMs ?? 90 * 60_000,
      onStderrLine: (line) => {
        // Skip the module download chatter of a cold build.
        if (!line.startsWith('go: downloading')) log(line);
      },
    });
  }

  const startUp = (): Promise<KubectlResult> =>
    run(path.join(scriptsDir, 'up.sh'), [], {
      env,
      timeoutMs: opts.upTimeoutMs ?? 5 * 60_000,
      onStderrLine: log,
    });
  let up: KubectlResult;
  try {
    up = await startUp();
  } catch (err) {
    // A randomly chosen port can be taken between choosing and binding it;
    // up.sh has cleaned up after itself, so one more attempt is safe.
    if (opts.workDir !== undefined || !String(err).includes('address already in use')) {
      throw err;
    }
    log('[control-plane] port clash during startup; trying once more');
    up = await startUp();
  }
  const workDir = up.stdout.trim().split('\n').pop() ?? '';
  const info = JSON.parse(fs.readFileSync(path.join(workDir, 'cluster.json'), 'utf8')) as ClusterJson;
  return fromClusterJson(info, scriptsDir);
}

/**
 * Returns the control plane whose work dir is given (default: $K8S_WORK_DIR,
 * as exported by ControlPlane.env), e.g. inside a jest worker.
 */
export function attachControlPlane(workDir: string | undefined = envVar('K8S_WORK_DIR')): ControlPlane {
  if (!workDir) {
    throw new Error('no control plane: K8S_WORK_DIR is not set (did the jest globalSetup run?)');
  }
  const info = JSON.parse(fs.readFileSync(path.join(workDir, 'cluster.json'), 'utf8')) as ClusterJson;
  return fromClusterJson(info, clusterScriptsDir());
}
