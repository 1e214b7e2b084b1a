/**
 * A real kubelet node for the cluster suite (scripts/cluster/node-up.sh): containerd with runc, a CNI
 * bridge, kube-proxy and a cluster DNS, next to the kwok nodes. A test file starts it in beforeAll and
 * stops it in afterAll, so that the other files schedule onto kwok nodes only, as before; while it runs,
 * the kwok nodes are cordoned, so that the pods of the manifests (applied unmodified) land on it.
 */
import * as childProcess from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { clusterScriptsDir } from '../control-plane';
import { Kube, waitFor } from './kube';

export interface RealNodeInfo {
  readonly name: string;
  readonly dir: string;
  readonly podCidr: string;
  readonly dns: string;
  readonly containerdSocket: string;
  readonly volumeDir: string;
  readonly startupSeconds: number;
}

function runScript(script: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = childProcess.spawn(path.join(clusterScriptsDir(), script), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => {
      err.push(c);
      process.stderr.write(c);
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else reject(new Error(`${script} ${args.join(' ')} exited with ${code}\n${Buffer.concat(err).toString('utf8').split('\n').slice(-40).join('\n')}`));
    });
  });
}

/** A container's main process as the machine's kernel sees it. */
export interface ContainerProcess {
  readonly pid: number;
  readonly command: string[];
  /** Real, effective, saved and file-system uid. */
  readonly uids: number[];
  readonly gids: number[];
  /** Supplementary groups. */
  readonly groups: number[];
  /** The capability sets as hex masks, from /proc/<pid>/status. */
  readonly capabilities: { inheritable: string; permitted: string; effective: string; bounding: string; ambient: string };
  readonly noNewPrivs: boolean;
  /** 0 none, 1 strict, 2 filter. */
  readonly seccomp: number;
  readonly rootMountOptions: string[];
}

export class RealNode {
  /** Starts the real node (node-up.sh; builds or imports its images first) and cordons the kwok nodes. */
  public static async start(kube: Kube): Promise<RealNode> {
    const workDir = kube.cp.workDir;
    await runScript('node-up.sh', [workDir], 15 * 60_000);
    const info = JSON.parse(fs.readFileSync(path.join(workDir, 'node', 'node.json'), 'utf8')) as RealNodeInfo;
    const node = new RealNode(kube, info);
    await node.cordonOthers(true);
    return node;
  }

  private constructor(private readonly kube: Kube, public readonly info: RealNodeInfo) {}

  /** Uncordons the kwok nodes and stops the real node (node-down.sh). */
  public async stop(): Promise<void> {
    try {
      await this.cordonOthers(false);
    } finally {
      await runScript('node-down.sh', [this.kube.cp.workDir], 5 * 60_000);
    }
  }

  private async cordonOthers(cordon: boolean): Promise<void> {
    for (const name of this.kube.cp.nodes) {
      await this.kube.call('PATCH', `/api/v1/nodes/${name}`, {
        body: { spec: { unschedulable: cordon ? true : null } }, contentType: 'application/merge-patch+json',
      });
    }
  }

  /** Names of the images containerd holds (what pods with imagePullPolicy IfNotPresent can use). */
  public images(): string[] {
    const out = childProcess.execFileSync('ctr', ['--address', this.info.containerdSocket, '--namespace', 'k8s.io', 'images', 'ls', '-q'], { encoding: 'utf8' });
    return out.split('\n').filter((l) => l && !l.startsWith('sha256:'));
  }

  /**
   * A local PersistentVolume for one claim, pre-bound to it, on this node: a new empty directory owned
   * by root with mode 0700, so that only the pod's fsGroup (which the kubelet applies to local volumes)
   * makes it writable for a non-root pod.
   */
  public localVolume(namespace: string, claim: string, storage: string, accessModes: string[], storageClassName: string): any {
    const dir = this.volumePath(namespace, claim);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.chmodSync(dir, 0o700);
    return {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: `local-${namespace}-${claim}`.slice(0, 253), labels: { 'cdk8s-stateful-test/namespace': namespace } },
      spec: {
        capacity: { storage },
        accessModes,
        storageClassName,
        volumeMode: 'Filesystem',
        persistentVolumeReclaimPolicy: 'Retain',
        claimRef: { namespace, name: claim },
        local: { path: dir },
        nodeAffinity: {
          required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [this.info.name] }] }] },
        },
      },
    };
  }

  /** Runs a command in a container (kubectl exec through the API server and the kubelet); resolves to its stdout. */
  public async exec(namespace: string, pod: string, container: string, command: string[], timeoutMs = 60_000): Promise<string> {
    const res = await this.kube.cp.kubectlRun(['exec', '-n', namespace, pod, '-c', container, '--', ...command], { timeoutMs });
    return res.stdout;
  }

  /**
   * Sends a signal from the machine to the main process of a container (a container's init ignores
   * SIGSTOP sent from inside its own PID namespace). containerId is the pod status' containerID.
   */
  public signalContainer(containerId: string, signal: NodeJS.Signals): number {
    const pid = this.containerPid(containerId);
    process.kill(pid, signal);
    return pid;
  }

  /** The machine's process id of a container's main process (runc state). containerId is the pod status' containerID. */
  public containerPid(containerId: string): number {
    const id = containerId.replace(/^containerd:\/\//, '');
    const state = JSON.parse(childProcess.execFileSync('runc', ['--root', path.join(this.info.dir, 'containerd', 'runc', 'k8s.io'), 'state', id], { encoding: 'utf8' }));
    if (!(state.pid > 0)) throw new Error(`container ${id} has no process (${JSON.stringify(state)})`);
    return state.pid as number;
  }

  /**
   * What the kernel says about a container's main process, read from the machine's /proc (so it does not depend on
   * what the image holds): its user and group ids, its capability sets, no_new_privs, the seccomp mode, and the
   * mount options of its root file system.
   */
  public processOf(containerId: string): ContainerProcess {
    const pid = this.containerPid(containerId);
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string): string => {
      const m = new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status);
      if (!m) throw new Error(`/proc/${pid}/status has no ${name}`);
      return m[1].trim();
    };
    const ids = (name: string) => field(name).split(/\s+/).map(Number);
    // mountinfo: id parent major:minor root mount-point options ...; the root of the process is its container's root
    const root = fs.readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n').map((l) => l.split(' ')).filter((f) => f[4] === '/');
    if (root.length === 0) throw new Error(`/proc/${pid}/mountinfo has no mount at /`);
    return {
      pid,
      command: fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean),
      uids: ids('Uid'),
      gids: ids('Gid'),
      groups: field('Groups').split(/\s+/).filter(Boolean).map(Number),
      capabilities: { inheritable: field('CapInh'), permitted: field('CapPrm'), effective: field('CapEff'), bounding: field('CapBnd'), ambient: field('CapAmb') },
      noNewPrivs: field('NoNewPrivs') === '1',
      seccomp: Number(field('Seccomp')),
      // the last mount at / is the one the process sees
      rootMountOptions: root[root.length - 1][5].split(','),
    };
  }

  /**
   * Runs a program of the machine (curl, for example) in the network namespace of a container's pod: its loopback is
   * the pod's, whatever the image holds. Resolves to its stdout.
   */
  public inPodNetwork(containerId: string, command: string[], timeoutMs = 30_000): string {
    const pid = this.containerPid(containerId);
    return childProcess.execFileSync('nsenter', [`--net=/proc/${pid}/ns/net`, '--', ...command], { encoding: 'utf8', timeout: timeoutMs });
  }

  /** The directory on the machine that backs the local PersistentVolume of a claim (localVolume). */
  public volumePath(namespace: string, claim: string): string {
    return path.join(this.info.volumeDir, namespace, claim);
  }

  /** Waits until the node is Ready. */
  public async waitReady(timeoutMs = 60_000): Promise<void> {
    await waitFor(`node ${this.info.name} Ready`, async () => {
      const n = await this.kube.get('v1', 'Node', this.info.name);
      return (n?.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
    }, { timeoutMs });
  }
}
