/** Leader election on a coordination.k8s.io/v1 Lease, as client-go's tryAcquireOrRenew does it. */
import { ApiClient, ApiError, KubeObject, leasePath, objectBody } from './api';
import { errorText, formatMicroTime, Logger, monotonicNow, Stopper } from './util';

export interface LeaseRecord {
  readonly holderIdentity: string;
  readonly leaseDurationSeconds: number;
  readonly acquireTime: string | null;
  readonly renewTime: string | null;
  readonly leaseTransitions: number;
}

/** What a candidate knows of the lease: the record and the local (monotonic) time it last changed. */
export interface ObservedLease extends LeaseRecord {
  readonly raw: string;
  readonly time: number;
}

export function leaseRecord(spec: KubeObject | undefined): LeaseRecord {
  const s = spec ?? {};
  return {
    holderIdentity: s.holderIdentity || '',
    leaseDurationSeconds: typeof s.leaseDurationSeconds === 'number' ? s.leaseDurationSeconds : 0,
    acquireTime: s.acquireTime || null,
    renewTime: s.renewTime || null,
    leaseTransitions: typeof s.leaseTransitions === 'number' ? s.leaseTransitions : 0,
  };
}

export function observeLease(spec: KubeObject | undefined, observedAt: number): ObservedLease {
  const record = leaseRecord(spec);
  return { ...record, raw: JSON.stringify(record), time: observedAt };
}

export type LeaseDecision =
  | { readonly action: 'create'; readonly observed: ObservedLease | null; readonly spec: KubeObject }
  | { readonly action: 'update'; readonly observed: ObservedLease; readonly transition: boolean; readonly previousHolder: string; readonly lease: KubeObject }
  | { readonly action: 'wait'; readonly observed: ObservedLease; readonly holder: string; readonly expiresInMs: number };

/**
 * Decides the next lease operation. Expiry is measured from when this candidate saw the record change (on
 * `monotonicNow`), never from the renewTime another host wrote, so clock skew between hosts is harmless.
 */
export function decideLease(lease: KubeObject | null, identity: string, now: Date | number, observed: ObservedLease | null,
  options: { leaseDurationSeconds?: number; monotonicNow?: number } = {}): LeaseDecision {
  const leaseDurationSeconds = options.leaseDurationSeconds ?? 15;
  const clock = options.monotonicNow ?? new Date(now).getTime();
  const nowText = formatMicroTime(now);
  if (!lease) {
    return {
      action: 'create',
      observed,
      spec: { holderIdentity: identity, leaseDurationSeconds, acquireTime: nowText, renewTime: nowText, leaseTransitions: 0 },
    };
  }
  const current = observeLease(lease.spec, clock);
  const seen = observed && observed.raw === current.raw ? observed : current;
  const isLeader = seen.holderIdentity === identity;
  const expiresAt = seen.time + seen.leaseDurationSeconds * 1000;
  if (seen.holderIdentity !== '' && expiresAt > clock && !isLeader) {
    return { action: 'wait', observed: seen, holder: seen.holderIdentity, expiresInMs: expiresAt - clock };
  }
  const spec = {
    ...(lease.spec ?? {}),
    holderIdentity: identity,
    leaseDurationSeconds,
    acquireTime: isLeader && seen.acquireTime ? seen.acquireTime : nowText,
    renewTime: nowText,
    leaseTransitions: isLeader ? seen.leaseTransitions : seen.leaseTransitions + 1,
  };
  return { action: 'update', observed: seen, transition: !isLeader, previousHolder: seen.holderIdentity, lease: { ...lease, spec } };
}

/** The record client-go writes on release: no holder, so a candidate takes over at once. */
export function releasedLease(lease: KubeObject, now: Date | number): KubeObject {
  const nowText = formatMicroTime(now);
  const spec = lease.spec ?? {};
  return {
    ...lease,
    spec: {
      ...spec,
      holderIdentity: '',
      leaseDurationSeconds: 1,
      acquireTime: nowText,
      renewTime: nowText,
      leaseTransitions: typeof spec.leaseTransitions === 'number' ? spec.leaseTransitions : 0,
    },
  };
}

export interface LeaderElectorOptions {
  readonly client: ApiClient;
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly leaseDurationSeconds: number;
  readonly renewDeadlineSeconds: number;
  readonly retryPeriodSeconds: number;
  readonly requestTimeoutMs?: number;
  readonly log: Logger;
  readonly clock?: () => number;
  readonly mono?: () => number;
  readonly random?: () => number;
}

interface AttemptResult {
  readonly ok: boolean;
  readonly startedAt?: number;
  readonly transition?: boolean;
  readonly previousHolder?: string;
  readonly heldBy?: string;
  readonly conflict?: boolean;
  readonly error?: unknown;
}

export class LeaderElector {
  public readonly identity: string;
  private readonly client: ApiClient;
  private readonly namespace: string;
  private readonly name: string;
  private readonly leaseDurationSeconds: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly requestTimeoutMs: number;
  private readonly log: Logger;
  private readonly clock: () => number;
  private readonly mono: () => number;
  private readonly random: () => number;
  private readonly stopper = new Stopper();
  private observed: ObservedLease | null = null;
  /** Last Lease object this candidate wrote successfully. */
  private lease: KubeObject | null = null;
  private leading = false;
  private lastRenew = -Infinity;
  private loopDone: Promise<void> | null = null;
  private lastWaitHolder: string | null = null;

  public constructor(o: LeaderElectorOptions) {
    this.client = o.client;
    this.namespace = o.namespace;
    this.name = o.name;
    this.identity = o.identity;
    this.leaseDurationSeconds = o.leaseDurationSeconds;
    this.renewDeadlineMs = o.renewDeadlineSeconds * 1000;
    this.retryPeriodMs = o.retryPeriodSeconds * 1000;
    // A lease call that outlives the renew deadline is useless: it cannot keep us leader.
    this.requestTimeoutMs = Math.min(o.requestTimeoutMs ?? 5000, this.renewDeadlineMs);
    this.log = o.log;
    this.clock = o.clock ?? (() => Date.now());
    this.mono = o.mono ?? monotonicNow;
    this.random = o.random ?? Math.random;
  }

  /** True only while the last successful renewal is younger than the renew deadline. */
  public isLeading(): boolean {
    return this.leading && !this.stopper.stopped && this.mono() - this.lastRenew < this.renewDeadlineMs;
  }

  /** Milliseconds until this candidate must stop acting without a further renewal (0 when not leading). */
  public leadershipLeftMs(): number {
    return this.isLeading() ? this.lastRenew + this.renewDeadlineMs - this.mono() : 0;
  }

  public async tryAcquireOrRenew(): Promise<AttemptResult> {
    const now = this.clock();
    const mono = this.mono();
    const path = leasePath(this.namespace, this.name);
    const got = await this.client.request('GET', path, { timeout: this.requestTimeoutMs });
    let lease: KubeObject | null = null;
    if (got.status === 200) lease = objectBody(got);
    else if (got.status !== 404) throw new ApiError('GET', path, got.status, got.body);

    const decision = decideLease(lease, this.identity, now, this.observed, { leaseDurationSeconds: this.leaseDurationSeconds, monotonicNow: mono });
    this.observed = decision.observed;
    if (decision.action === 'wait') return { ok: false, heldBy: decision.holder };

    let written: KubeObject;
    if (decision.action === 'create') {
      const body = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.name, namespace: this.namespace }, spec: decision.spec };
      const res = await this.client.request('POST', leasePath(this.namespace), { body, timeout: this.requestTimeoutMs });
      if (res.status === 409) return { ok: false, conflict: true };
      if (res.status !== 200 && res.status !== 201) throw new ApiError('POST', leasePath(this.namespace), res.status, res.body);
      written = objectBody(res) ?? body;
    } else {
      const res = await this.client.request('PUT', path, { body: decision.lease, timeout: this.requestTimeoutMs });
      if (res.status === 409) return { ok: false, conflict: true };
      if (res.status !== 200) throw new ApiError('PUT', path, res.status, res.body);
      written = objectBody(res) ?? decision.lease;
    }
    this.lease = written;
    this.observed = observeLease(written.spec, mono);
    return {
      ok: true,
      startedAt: mono,
      transition: decision.action === 'create' || decision.transition,
      previousHolder: decision.action === 'update' ? decision.previousHolder : undefined,
    };
  }

  private stepDown(reason: string, fields: Record<string, unknown> = {}): void {
    if (!this.leading) return;
    this.leading = false;
    this.log.warn('lost leadership', { identity: this.identity, lease: this.name, reason, ...fields });
  }

  private async runLoop(): Promise<void> {
    while (!this.stopper.stopped) {
      let result: AttemptResult;
      try {
        result = await this.tryAcquireOrRenew();
      } catch (err) {
        result = { ok: false, error: err };
        this.log.warn(this.leading ? 'failed to renew lease' : 'failed to acquire lease', { lease: this.name, error: errorText(err) });
      }
      // Shutting down: the lease written above is released by stopAndRelease, never acted on.
      if (this.stopper.stopped) break;
      if (result.ok) {
        this.lastRenew = result.startedAt!;
        this.lastWaitHolder = null;
        if (!this.leading) {
          this.leading = true;
          this.log.info('became leader', {
            identity: this.identity,
            lease: this.name,
            namespace: this.namespace,
            leaseTransitions: this.observed?.leaseTransitions,
            previousHolder: result.previousHolder || undefined,
          });
        } else {
          this.log.debug('renewed lease', { lease: this.name });
        }
      } else if (this.leading) {
        // Evidence that someone else wrote the lease ends leadership at once; transient errors only once the renew
        // deadline has passed.
        if (result.heldBy) this.stepDown('lease is held by another candidate', { holder: result.heldBy });
        else if (result.conflict) this.stepDown('lease was modified concurrently');
        else if (this.mono() - this.lastRenew >= this.renewDeadlineMs) this.stepDown('renew deadline exceeded', { renewDeadlineSeconds: this.renewDeadlineMs / 1000 });
      } else if (result.heldBy && result.heldBy !== this.lastWaitHolder) {
        this.lastWaitHolder = result.heldBy;
        this.log.info('lease held by another candidate', { lease: this.name, holder: result.heldBy });
      }
      if (this.stopper.stopped) break;
      // Candidates jitter like client-go so that they do not retry in lockstep.
      await this.stopper.sleep(this.leading ? this.retryPeriodMs : this.retryPeriodMs * (1 + 0.2 * this.random()));
    }
  }

  public start(): Promise<void> {
    this.loopDone = this.runLoop();
    return this.loopDone;
  }

  /** Stops campaigning and, when the lease still names this candidate, releases it so a standby takes over at once. */
  public async stopAndRelease(options: { waitMs?: number } = {}): Promise<boolean> {
    const waitMs = options.waitMs ?? this.requestTimeoutMs + 1000;
    const wasLeading = this.leading;
    this.stopper.stop();
    this.leading = false;
    if (this.loopDone) {
      // Let an in-flight renewal finish, or its write could land after the release.
      await Promise.race([this.loopDone, new Promise((resolve) => setTimeout(resolve, waitMs).unref())]);
    }
    if (wasLeading) this.log.info('stopped leading', { identity: this.identity, lease: this.name });
    if (!this.lease || !this.observed || this.observed.holderIdentity !== this.identity) return false;
    const path = leasePath(this.namespace, this.name);
    try {
      const res = await this.client.request('PUT', path, { body: releasedLease(this.lease, this.clock()), timeout: this.requestTimeoutMs });
      if (res.status === 200) {
        this.log.info('released lease', { identity: this.identity, lease: this.name });
        return true;
      }
      if (res.status === 409) {
        this.log.info('lease changed since last renewal, not released', { lease: this.name });
        return false;
      }
      throw new ApiError('PUT', path, res.status, res.body);
    } catch (err) {
      this.log.warn('failed to release lease', { lease: this.name, error: errorText(err) });
      return false;
    }
  }
}
