/** One pass of the failover controller: observe the node heartbeats, and (as leader) act on the watched pod's node. */
import { NODE_LEASE_NAMESPACE, OUT_OF_SERVICE_TAINT } from '../contract';
import { ApiClient, ApiError, KubeObject, leasePath, nodePath, objectBody, podPath } from './api';
import { ControllerConfig } from './config';
import { addOutOfServiceTaint, hasOutOfServiceTaint, HeartbeatTracker, isNodeLost, isNodeReady, nodeLostStatus } from './detection';
import { errorText, Logger, monotonicNow } from './util';

const TAINT_TEXT = `${OUT_OF_SERVICE_TAINT.key}=${OUT_OF_SERVICE_TAINT.value}:${OUT_OF_SERVICE_TAINT.effect}`;

export type TaintResult = 'already' | 'dry-run' | 'not-leader' | 'tainted' | 'gone' | 'recovered';
export type DeleteResult = 'dry-run' | 'deleted' | 'gone' | 'replaced';

/** Why a node counts as lost, as logged. */
export interface LostVerdict {
  readonly lost: boolean;
  readonly reason: string;
  readonly fields: Record<string, unknown>;
}

export interface ReconcilerOptions {
  readonly client: ApiClient;
  readonly config: ControllerConfig;
  /** True while this process may write (it leads and is not stopping). */
  readonly canAct: () => boolean;
  readonly leadershipLeftMs?: () => number;
  readonly log: Logger;
  readonly clock?: () => number;
  readonly mono?: () => number;
}

export class FailoverReconciler {
  public readonly heartbeats = new HeartbeatTracker();
  private readonly client: ApiClient;
  private readonly config: ControllerConfig;
  private readonly canAct: () => boolean;
  private readonly leadershipLeftMs: () => number;
  private readonly log: Logger;
  private readonly clock: () => number;
  private readonly mono: () => number;
  /** Nodes already reported lost, to log once per outage. */
  private readonly lostNodes = new Set<string>();
  /** Nodes this process tainted, watched to tell operators when they recover. */
  private readonly taintedNodes = new Set<string>();
  private readonly reported = new Set<string>();

  public constructor(o: ReconcilerOptions) {
    this.client = o.client;
    this.config = o.config;
    this.canAct = o.canAct;
    this.leadershipLeftMs = o.leadershipLeftMs ?? (() => Infinity);
    this.log = o.log;
    this.clock = o.clock ?? (() => Date.now());
    this.mono = o.mono ?? monotonicNow;
  }

  /** Writes must not outlive leadership, or one could land after a standby has taken over. */
  public writeTimeoutMs(): number {
    return Math.max(1, Math.min(this.config.requestTimeoutSeconds * 1000, this.leadershipLeftMs()));
  }

  /**
   * Every replica observes the heartbeats, so a standby that takes over already knows how long each node has been
   * silent; only the leader acts.
   */
  public async reconcile(): Promise<void> {
    if (this.config.heartbeatThresholdSeconds > 0) {
      try {
        await this.observeHeartbeats();
      } catch (err) {
        // Old observations would make every node look silent once the reads work again: start over instead.
        this.heartbeats.forget();
        this.log.warn('failed to read node heartbeats; heartbeat detection restarts from the next successful read', { error: errorText(err) });
      }
    }
    if (!this.canAct()) return;
    const pod = await this.getPod();
    const nodeName: string | undefined = pod?.spec?.nodeName;
    if (pod && nodeName) {
      try {
        await this.handlePod(pod, nodeName);
      } catch (err) {
        this.log.error('failed to handle pod', { pod: pod.metadata?.name, node: nodeName, error: errorText(err) });
      }
    }
    await this.watchTaintedNodes();
    this.log.debug('reconciled', { pod: this.config.watchedPod, node: nodeName });
  }

  public async observeHeartbeats(): Promise<void> {
    // resourceVersion=0: served from the API server's watch cache, cheap enough for every check
    const path = `${leasePath(NODE_LEASE_NAMESPACE)}?resourceVersion=0`;
    const res = await this.client.request('GET', path);
    if (res.status !== 200) throw new ApiError('GET', path, res.status, res.body);
    this.heartbeats.observe(objectBody(res)?.items ?? [], this.mono());
  }

  private async getPod(): Promise<KubeObject | null> {
    const path = podPath(this.config.namespace, this.config.watchedPod);
    const res = await this.client.request('GET', path);
    if (res.status === 404) return null;
    if (res.status !== 200) throw new ApiError('GET', path, res.status, res.body);
    const pod = objectBody(res);
    const labels: Record<string, string> = pod?.metadata?.labels ?? {};
    const mismatch = Object.entries(this.config.podSelector).filter(([k, v]) => labels[k] !== v);
    if (mismatch.length > 0) {
      this.reportOnce(`selector:${pod?.metadata?.uid}`, 'error', 'watched pod does not carry the expected labels, leaving it alone',
        { pod: this.config.watchedPod, expected: this.config.podSelector, labels });
      return null;
    }
    return pod;
  }

  public async getNode(name: string): Promise<KubeObject | null> {
    const path = nodePath(name);
    const res = await this.client.request('GET', path);
    if (res.status === 404) return null;
    if (res.status !== 200) throw new ApiError('GET', path, res.status, res.body);
    return objectBody(res);
  }

  /** Lost by heartbeat silence (fast path) or by a NotReady condition that lasted the threshold (fallback). */
  public verdict(node: KubeObject | null, nodeName: string): LostVerdict {
    const notReady = nodeLostStatus(node, this.clock(), this.config.notReadyThresholdSeconds);
    if (notReady.lost) {
      return { lost: true, reason: notReady.reason, fields: { readyStatus: notReady.readyStatus, notReadyForSeconds: notReady.notReadyForSeconds, thresholdSeconds: this.config.notReadyThresholdSeconds } };
    }
    if (this.config.heartbeatThresholdSeconds > 0) {
      const hb = this.heartbeats.status(nodeName, this.config.heartbeatThresholdSeconds, this.mono());
      const fields = { silentForSeconds: hb.silentForSeconds, silentNodes: hb.silentNodes, knownNodes: hb.knownNodes, heartbeatThresholdSeconds: this.config.heartbeatThresholdSeconds };
      if (hb.lost) return { lost: true, reason: hb.reason, fields };
      if (hb.reason === 'TooManySilent') {
        this.reportOnce(`too-many:${nodeName}:${hb.silentNodes}`, 'warn', 'not acting on heartbeat silence: half of the nodes or more are silent, which points at the control plane or the network; waiting for the NotReady fallback', { node: nodeName, ...fields });
      }
      return { lost: false, reason: hb.reason, fields };
    }
    return { lost: false, reason: notReady.reason, fields: { notReadyForSeconds: notReady.notReadyForSeconds } };
  }

  private async handlePod(pod: KubeObject, nodeName: string): Promise<void> {
    const podName: string = pod.metadata.name;
    const node = await this.getNode(nodeName);
    const verdict = this.verdict(node, nodeName);
    if (!verdict.lost) {
      if (isNodeReady(node) && verdict.reason !== 'HeartbeatSilent') this.lostNodes.delete(nodeName);
      return;
    }
    if (!this.lostNodes.has(nodeName)) {
      this.lostNodes.add(nodeName);
      this.log.warn('node lost', { node: nodeName, pod: podName, reason: verdict.reason, ...verdict.fields });
    }
    if (this.config.taint && node) {
      const outcome = await this.taintNode(node);
      // The delete waits until the taint is in place, so the volume is force-detached for the replacement.
      if (outcome === 'not-leader' || outcome === 'recovered') return;
    }
    if (this.config.forceDelete && this.canAct()) await this.forceDeletePod(pod, nodeName);
  }

  /** Adds the out-of-service taint with optimistic concurrency, re-reading the node on conflict. */
  public async taintNode(node: KubeObject): Promise<TaintResult> {
    let current: KubeObject | null = node;
    const name: string = node.metadata.name;
    for (let attempt = 1; attempt <= 5; attempt++) {
      const { changed, taints } = addOutOfServiceTaint(current.spec?.taints, this.clock());
      if (!changed) return 'already';
      if (this.config.dryRun) {
        this.reportOnce(`taint:${name}`, 'info', 'would taint node', { node: name, taint: TAINT_TEXT, dryRun: true });
        return 'dry-run';
      }
      if (!this.canAct()) return 'not-leader';
      const patch = { metadata: { resourceVersion: current.metadata.resourceVersion }, spec: { taints } };
      const path = nodePath(name);
      const res = await this.client.request('PATCH', path, { body: patch, contentType: 'application/merge-patch+json', timeout: this.writeTimeoutMs() });
      if (res.status === 200) {
        this.taintedNodes.add(name);
        this.log.info('tainted node', {
          node: name,
          taint: TAINT_TEXT,
          note: `this controller never removes the taint; once the node is repaired, remove it with: kubectl taint node ${name} ${OUT_OF_SERVICE_TAINT.key}-`,
        });
        return 'tainted';
      }
      if (res.status === 404) return 'gone';
      if (res.status !== 409) throw new ApiError('PATCH', path, res.status, res.body);
      this.log.debug('node changed while tainting, retrying', { node: name, attempt });
      current = await this.getNode(name);
      if (current === null) return 'gone';
      if (!this.verdict(current, name).lost) {
        this.log.info('node no longer lost, not tainting', { node: name });
        this.lostNodes.delete(name);
        return 'recovered';
      }
    }
    throw new Error(`node ${name} kept changing; taint not applied`);
  }

  public async forceDeletePod(pod: KubeObject, nodeName: string): Promise<DeleteResult> {
    const podName: string = pod.metadata.name;
    const uid: string = pod.metadata.uid;
    if (this.config.dryRun) {
      this.reportOnce(`delete:${uid}`, 'info', 'would force-delete pod', { pod: podName, uid, node: nodeName, dryRun: true });
      return 'dry-run';
    }
    const body = { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0, preconditions: { uid } };
    const path = podPath(this.config.namespace, podName);
    const res = await this.client.request('DELETE', path, { body, timeout: this.writeTimeoutMs() });
    if (res.status === 200 || res.status === 202) {
      this.log.info('force-deleted pod', { pod: podName, uid, node: nodeName, namespace: this.config.namespace });
      return 'deleted';
    }
    if (res.status === 404) {
      this.log.info('pod already gone', { pod: podName, uid, node: nodeName });
      return 'gone';
    }
    if (res.status === 409) {
      this.log.info('pod was replaced, not deleted', { pod: podName, uid, node: nodeName });
      return 'replaced';
    }
    throw new ApiError('DELETE', path, res.status, res.body);
  }

  /**
   * Ready again by both signals: a node tainted on heartbeat silence is still Ready=True for a while, so the Ready
   * condition alone would report it back at once.
   */
  private recovered(node: KubeObject, name: string): boolean {
    if (!isNodeReady(node) || isNodeLost(node, this.clock(), this.config.notReadyThresholdSeconds)) return false;
    if (this.config.heartbeatThresholdSeconds === 0) return true;
    const reason = this.heartbeats.status(name, this.config.heartbeatThresholdSeconds, this.mono()).reason;
    return reason === 'HeartbeatRecent' || reason === 'NoHeartbeatLease';
  }

  private reportOnce(key: string, level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown>): void {
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.log[level](msg, fields);
  }

  /** Reports (once) when a node this process tainted is Ready again; removing the taint stays with the operator. */
  private async watchTaintedNodes(): Promise<void> {
    for (const name of [...this.taintedNodes]) {
      if (!this.canAct()) return;
      let node: KubeObject | null;
      try {
        node = await this.getNode(name);
      } catch (err) {
        this.log.debug('failed to read tainted node', { node: name, error: errorText(err) });
        continue;
      }
      if (node === null || !hasOutOfServiceTaint(node.spec?.taints)) {
        this.taintedNodes.delete(name);
        if (node !== null) this.log.info('out-of-service taint was removed', { node: name });
      } else if (this.recovered(node, name)) {
        this.taintedNodes.delete(name);
        this.lostNodes.delete(name);
        this.log.warn('tainted node is ready again', {
          node: name,
          note: `the out-of-service taint is left in place; remove it once the node is verified healthy: kubectl taint node ${name} ${OUT_OF_SERVICE_TAINT.key}-`,
        });
      }
    }
  }
}
