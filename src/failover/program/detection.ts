/** How the controller decides that a node is lost: its Ready condition, and the silence of its kubelet heartbeat Lease. */
import { OUT_OF_SERVICE_TAINT } from '../contract';
import { KubeObject } from './api';
import { formatTime, parseTime } from './util';

export type NotReadyReason = 'NodeNotFound' | 'NoReadyCondition' | 'Ready' | 'UnknownTransitionTime' | 'NotReady' | 'NotReadyBelowThreshold';

export interface NotReadyStatus {
  readonly lost: boolean;
  readonly reason: NotReadyReason;
  readonly readyStatus: string | null;
  readonly notReadyForSeconds: number | null;
}

function readyCondition(node: KubeObject | null | undefined): KubeObject | undefined {
  const conditions: KubeObject[] = node?.status?.conditions ?? [];
  return conditions.find((c) => c && c.type === 'Ready');
}

/**
 * Whether a node counts as lost at `now` by its Ready condition: not "True" for at least thresholdSeconds, or the
 * Node object is gone. A node whose NotReady duration cannot be measured is never treated as lost.
 */
export function nodeLostStatus(node: KubeObject | null | undefined, now: Date | number, thresholdSeconds: number): NotReadyStatus {
  if (node === null || node === undefined) return { lost: true, reason: 'NodeNotFound', readyStatus: null, notReadyForSeconds: null };
  const ready = readyCondition(node);
  if (!ready) return { lost: false, reason: 'NoReadyCondition', readyStatus: null, notReadyForSeconds: null };
  if (ready.status === 'True') return { lost: false, reason: 'Ready', readyStatus: 'True', notReadyForSeconds: 0 };
  const since = parseTime(ready.lastTransitionTime);
  if (since === null) return { lost: false, reason: 'UnknownTransitionTime', readyStatus: ready.status, notReadyForSeconds: null };
  const notReadyForSeconds = Math.round(new Date(now).getTime() - since) / 1000;
  if (notReadyForSeconds >= thresholdSeconds) return { lost: true, reason: 'NotReady', readyStatus: ready.status, notReadyForSeconds };
  return { lost: false, reason: 'NotReadyBelowThreshold', readyStatus: ready.status, notReadyForSeconds };
}

export function isNodeLost(node: KubeObject | null | undefined, now: Date | number, thresholdSeconds: number): boolean {
  return nodeLostStatus(node, now, thresholdSeconds).lost;
}

export function isNodeReady(node: KubeObject | null | undefined): boolean {
  return readyCondition(node)?.status === 'True';
}

export type HeartbeatReason = 'HeartbeatSilent' | 'HeartbeatRecent' | 'NoHeartbeatLease' | 'TooManySilent';

export interface HeartbeatStatus {
  readonly lost: boolean;
  readonly reason: HeartbeatReason;
  /** Seconds since this process saw the node's Lease renewed (or first saw it); null without a Lease. */
  readonly silentForSeconds: number | null;
  readonly silentNodes: number;
  readonly knownNodes: number;
}

interface Observation {
  readonly renewTime: string;
  readonly observedAt: number;
}

/**
 * Tracks kubelet heartbeat Leases by observation, the way the node lifecycle controller does: a Lease counts as
 * renewed when its renewTime changes, timed on this process's monotonic clock. The renewTime written by the kubelet
 * is never compared with this host's clock, so clock skew cannot make a healthy node look silent. A process that
 * starts (or becomes leader) while a node is already silent waits the whole threshold from its first look.
 */
export class HeartbeatTracker {
  private readonly seen = new Map<string, Observation>();

  /** Records one list of the node Leases taken at `mono`; Leases no longer listed are forgotten. */
  public observe(leases: KubeObject[], mono: number): void {
    const listed = new Set<string>();
    for (const lease of leases) {
      const name: string | undefined = lease?.metadata?.name;
      if (!name) continue;
      listed.add(name);
      const renewTime = String(lease.spec?.renewTime ?? '');
      const previous = this.seen.get(name);
      if (!previous || previous.renewTime !== renewTime) this.seen.set(name, { renewTime, observedAt: mono });
    }
    for (const name of [...this.seen.keys()]) if (!listed.has(name)) this.seen.delete(name);
  }

  public forget(): void {
    this.seen.clear();
  }

  public get size(): number {
    return this.seen.size;
  }

  /**
   * Whether `node` is lost by heartbeat. When half of the known nodes or more are silent at once, the cause is more
   * likely the control plane or the network than dead machines, and nothing is declared lost on this path (the
   * node lifecycle controller reasons the same way about zone-wide disruptions).
   */
  public status(node: string, thresholdSeconds: number, mono: number): HeartbeatStatus {
    const silentFor = (o: Observation) => (mono - o.observedAt) / 1000;
    const knownNodes = this.seen.size;
    let silentNodes = 0;
    for (const o of this.seen.values()) if (silentFor(o) >= thresholdSeconds) silentNodes++;
    const mine = this.seen.get(node);
    if (!mine) return { lost: false, reason: 'NoHeartbeatLease', silentForSeconds: null, silentNodes, knownNodes };
    const silent = silentFor(mine);
    // rounded for the logs only: the decision uses the exact value
    const silentForSeconds = Math.round(silent * 10) / 10;
    if (silent < thresholdSeconds) return { lost: false, reason: 'HeartbeatRecent', silentForSeconds, silentNodes, knownNodes };
    if (silentNodes * 2 >= knownNodes) return { lost: false, reason: 'TooManySilent', silentForSeconds, silentNodes, knownNodes };
    return { lost: true, reason: 'HeartbeatSilent', silentForSeconds, silentNodes, knownNodes };
  }
}

export function hasOutOfServiceTaint(taints: KubeObject[] | undefined): boolean {
  return Array.isArray(taints) && taints.some((t) => t && t.key === OUT_OF_SERVICE_TAINT.key);
}

/**
 * The taint list with the out-of-service taint appended, the existing taints untouched. `changed` is false when a
 * taint with that key is already there (the controllers that honour it only look at the key).
 */
export function addOutOfServiceTaint(taints: KubeObject[] | undefined, now: Date | number): { changed: boolean; taints: KubeObject[] } {
  const existing = Array.isArray(taints) ? taints.map((t) => ({ ...t })) : [];
  if (hasOutOfServiceTaint(existing)) return { changed: false, taints: existing };
  existing.push({ ...OUT_OF_SERVICE_TAINT, timeAdded: formatTime(now) });
  return { changed: true, taints: existing };
}
