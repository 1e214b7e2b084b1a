import { ResolvedProbeTimings } from './probe';

/** One term of a recovery-time sum. */
export interface BudgetTerm {
  /** Short name of the term. */
  readonly name: string;
  /** Its worst-case contribution in seconds. */
  readonly seconds: number;
  /** Where the number comes from. */
  readonly explanation: string;
}

/** Worst-case recovery of one failure scenario. */
export interface FailoverScenario {
  /** What fails. */
  readonly title: string;
  /** Whether recovery happens by itself within a bounded time. */
  readonly bounded: boolean;
  /**
   * Worst-case seconds from the failure to a Ready replacement.
   * @default - unbounded (see note)
   */
  readonly worstCaseSeconds?: number;
  /** The terms that add up to the worst case (for an unbounded scenario: the bounded part before the wait). */
  readonly terms: BudgetTerm[];
  /** Plain-words summary, including why a scenario is unbounded. */
  readonly note: string;
}

/**
 * Cluster timings in whole seconds (see ClusterTimings for their meaning and defaults).
 * @internal
 */
export interface ClusterTimingSeconds {
  readonly nodeMonitorGracePeriodSeconds?: number;
  readonly nodeMonitorPeriodSeconds?: number;
  readonly volumeAttachSeconds?: number;
  readonly maxWaitForUnmountSeconds?: number;
  readonly podGcPeriodSeconds?: number;
  readonly rescheduleSeconds?: number;
}

/** @internal */
export interface BudgetInputs {
  readonly liveness?: ResolvedProbeTimings;
  /** false when the liveness check is a TCP connect, which a hung process still passes. */
  readonly livenessNeedsAnswerFromProcess?: boolean;
  readonly readiness?: ResolvedProbeTimings;
  readonly startup?: ResolvedProbeTimings;
  readonly podGraceSeconds: number;
  readonly appStartSeconds: number;
  readonly nodeLossTolerationSeconds: number;
  readonly cluster: ClusterTimingSeconds;
  readonly automation?: {
    readonly thresholdSeconds: number;
    readonly checkIntervalSeconds: number;
    /** heartbeatThreshold (0: heartbeat detection off). */
    readonly heartbeatThresholdSeconds: number;
    /** heartbeatThreshold plus the checks it takes to see and act on the silence (see FailoverController). */
    readonly heartbeatDetectionSeconds?: number;
    readonly leaseDurationSeconds: number;
    readonly retryPeriodSeconds: number;
    readonly leaseTakeoverSeconds: number;
    readonly taint: boolean;
    readonly forceDelete: boolean;
  };
}

/** The kubelet's first restart back-off; repeated failures within 10 minutes back off up to 300 s. */
const RESTART_BACKOFF_SECONDS = 10;
/** API calls of the failover controller (taint, delete). */
const CONTROLLER_ACTION_SECONDS = 1;

/**
 * The worst-case recovery time a configuration can promise, computed term by term from its settings.
 */
export class FailoverBudget {
  /** @internal */
  public static _compute(inputs: BudgetInputs): FailoverBudget {
    return new FailoverBudget(inputs);
  }

  /** (a) The process hangs; the node is healthy. The liveness probe restarts the container in place. */
  public readonly hungProcess: FailoverScenario;
  /** (b) The node is lost and nothing but Kubernetes itself acts. */
  public readonly nodeLossWithoutAutomation: FailoverScenario;
  /**
   * (c) The node is lost and the failover controller acts.
   * @default - not set when the automation is off
   */
  public readonly nodeLossWithAutomation?: FailoverScenario;

  private constructor(inputs: BudgetInputs) {
    const c = inputs.cluster;
    const nmgp = c.nodeMonitorGracePeriodSeconds ?? 50;
    const nmp = c.nodeMonitorPeriodSeconds ?? 5;
    const attach = c.volumeAttachSeconds ?? 15;
    const unmountWait = c.maxWaitForUnmountSeconds ?? 360;
    const podGc = c.podGcPeriodSeconds ?? 20;
    const reschedule = c.rescheduleSeconds ?? 2;
    const startAndReady = startAndReadyTerms(inputs);

    if (inputs.liveness && inputs.livenessNeedsAnswerFromProcess === false) {
      this.hungProcess = {
        title: 'Hung process on a healthy node',
        bounded: false,
        terms: [],
        note: 'Unbounded: the liveness check is a TCP connect, which the kernel completes for a process that is stopped or '
          + 'deadlocked, so nothing restarts it; give liveness an exec, HTTP or gRPC check the process answers itself.',
      };
    } else if (inputs.liveness) {
      const l = inputs.liveness;
      const grace = l.terminationGracePeriodSeconds ?? inputs.podGraceSeconds;
      const terms: BudgetTerm[] = [
        { name: 'detection', seconds: l.failureThreshold * l.periodSeconds, explanation: `liveness failureThreshold ${l.failureThreshold} x periodSeconds ${l.periodSeconds}` },
        { name: 'last probe timeout', seconds: l.timeoutSeconds, explanation: `liveness timeoutSeconds ${l.timeoutSeconds}` },
        { name: 'kill', seconds: grace, explanation: l.terminationGracePeriodSeconds !== undefined ? `probe-level terminationGracePeriodSeconds ${grace}` : `pod terminationGracePeriodSeconds ${grace} (no probe-level grace)` },
        { name: 'restart back-off', seconds: RESTART_BACKOFF_SECONDS, explanation: 'kubelet back-off after an earlier restart within 10 minutes (the first restart is immediate; repeated ones wait up to 300 s)' },
        ...startAndReady,
      ];
      this.hungProcess = scenario('Hung process on a healthy node', terms,
        'The kubelet restarts the container in place; the pod, its node and its volume stay.');
    } else {
      this.hungProcess = {
        title: 'Hung process on a healthy node',
        bounded: false,
        terms: [],
        note: 'Unbounded: there is no liveness probe, so nothing restarts a hung process.',
      };
    }

    const notReady: BudgetTerm = { name: 'node marked NotReady', seconds: nmgp + nmp, explanation: `node-monitor-grace-period ${nmgp} + node-monitor-period ${nmp}` };
    this.nodeLossWithoutAutomation = {
      title: 'Node lost, no automation',
      bounded: false,
      terms: [
        notReady,
        { name: 'pod marked for deletion', seconds: inputs.nodeLossTolerationSeconds, explanation: `tolerationSeconds ${inputs.nodeLossTolerationSeconds} for node.kubernetes.io/not-ready and unreachable` },
      ],
      note: `Unbounded: the pod stays Terminating until the node comes back, its Node object is deleted or someone force-deletes it; `
        + `the StatefulSet never starts a second pod with the same identity before that. After a manual force delete the volume still waits ${unmountWait} s `
        + `(maxWaitForUnmountDuration) to detach unless the node is tainted node.kubernetes.io/out-of-service.`,
    };

    const a = inputs.automation;
    if (a) {
      const terms = detectionTerms(a, notReady);
      if (!a.forceDelete) {
        terms.push({ name: 'PodGC', seconds: podGc, explanation: `PodGC (every ${podGc} s) force-deletes the terminating pod on the out-of-service node` });
      }
      terms.push({ name: 'reschedule', seconds: reschedule, explanation: 'StatefulSet controller recreates the pod, scheduler places it' });
      if (!a.taint) {
        terms.push({ name: 'detach wait', seconds: unmountWait, explanation: `no out-of-service taint: the attach/detach controller waits maxWaitForUnmountDuration ${unmountWait} s` });
      }
      terms.push({ name: 'attach and mount', seconds: attach, explanation: `volume attach and mount on the new node (estimate ${attach} s)` });
      terms.push(...startAndReady);
      this.nodeLossWithAutomation = scenario('Node lost, failover controller on', terms,
        a.taint
          ? 'The controller taints the fenced node out-of-service (the volume is force-detached at once) and force-deletes the pod.'
          : 'The controller force-deletes the pod; without the out-of-service taint the volume waits for the detach timeout.');
    }
  }

  /** The budget as a Markdown table, one row per scenario. */
  public toMarkdown(): string {
    const rows = [this.hungProcess, this.nodeLossWithoutAutomation, ...(this.nodeLossWithAutomation ? [this.nodeLossWithAutomation] : [])];
    const lines = ['| scenario | worst case | terms |', '| --- | --- | --- |'];
    for (const s of rows) {
      const total = s.worstCaseSeconds === undefined ? 'unbounded' : `${s.worstCaseSeconds} s`;
      lines.push(`| ${s.title} | ${total} | ${s.terms.map((t) => `${t.name} ${t.seconds}`).join(' + ') || '-'} |`);
    }
    return lines.join('\n') + '\n';
  }

  /**
   * The budget as compact JSON text, as recorded in the StatefulSet annotation `stateful.cdk8s.io/failover-budget`.
   *
   * Keys `hungProcessSeconds`, `nodeLossWithoutAutomationSeconds` and `nodeLossWithAutomationSeconds`; each value is
   * a number of seconds, `"unbounded"`, or `"off"` when the scenario does not apply. Returned as text rather than as
   * a map so that every language gets one plain type.
   */
  public toJson(): string {
    const value = (s: FailoverScenario | undefined) => (s === undefined ? 'off' : s.worstCaseSeconds ?? 'unbounded');
    return JSON.stringify({
      hungProcessSeconds: value(this.hungProcess),
      nodeLossWithoutAutomationSeconds: value(this.nodeLossWithoutAutomation),
      nodeLossWithAutomationSeconds: value(this.nodeLossWithAutomation),
    });
  }
}

/**
 * The controller acts on whichever comes first, the heartbeat silence or the NotReady fallback. If the leader dies
 * with the node, a standby takes the Lease over meanwhile (every replica times the heartbeats), so the takeover only
 * counts where it is the longer of the two.
 */
function detectionTerms(a: NonNullable<BudgetInputs['automation']>, notReady: BudgetTerm): BudgetTerm[] {
  const check = a.checkIntervalSeconds;
  const viaNotReady: BudgetTerm[] = [
    notReady,
    { name: 'controller threshold', seconds: a.thresholdSeconds, explanation: `NotReady for notReadyThreshold ${a.thresholdSeconds} before the controller acts` },
    { name: 'controller check', seconds: check, explanation: `checkInterval ${check}` },
  ];
  const viaHeartbeat: BudgetTerm[] = a.heartbeatDetectionSeconds !== undefined ? [
    { name: 'heartbeat silence', seconds: a.heartbeatThresholdSeconds, explanation: `the node's kubelet Lease not renewed for heartbeatThreshold ${a.heartbeatThresholdSeconds}` },
    { name: 'controller checks', seconds: a.heartbeatDetectionSeconds - a.heartbeatThresholdSeconds, explanation: `the last renewal is seen up to one checkInterval ${check} late, the silence acted on at the next check` },
  ] : [];
  const sum = (terms: BudgetTerm[]) => terms.reduce((total, t) => total + t.seconds, 0);
  const detection = viaHeartbeat.length > 0 && sum(viaHeartbeat) <= sum(viaNotReady) ? viaHeartbeat : viaNotReady;
  const terms = [...detection];
  const beyond = a.leaseTakeoverSeconds - sum(detection);
  if (beyond > 0) {
    terms.push({
      name: 'lease takeover',
      seconds: beyond,
      explanation: `if the leader died with the node, a standby leads after leaseDuration ${a.leaseDurationSeconds} + retryPeriod ${a.retryPeriodSeconds} with jitter + one check `
        + `(${a.leaseTakeoverSeconds} s), ${beyond} s after the detection above`,
    });
  }
  terms.push({ name: 'controller action', seconds: CONTROLLER_ACTION_SECONDS, explanation: `${CONTROLLER_ACTION_SECONDS} s of API calls (taint, delete)` });
  return terms;
}

function scenario(title: string, terms: BudgetTerm[], note: string): FailoverScenario {
  return { title, bounded: true, worstCaseSeconds: terms.reduce((sum, t) => sum + t.seconds, 0), terms, note };
}

function startAndReadyTerms(inputs: BudgetInputs): BudgetTerm[] {
  const terms: BudgetTerm[] = [{ name: 'start', seconds: inputs.appStartSeconds, explanation: `expectedStartTime ${inputs.appStartSeconds}` }];
  const s = inputs.startup;
  if (s) {
    terms.push({ name: 'startup probe', seconds: s.periodSeconds, explanation: `startup periodSeconds ${s.periodSeconds} until the probe sees the started process` });
  }
  const r = inputs.readiness;
  if (r) {
    const seconds = r.initialDelaySeconds + r.periodSeconds * r.successThreshold + r.timeoutSeconds;
    terms.push({ name: 'ready', seconds, explanation: `readiness initialDelaySeconds ${r.initialDelaySeconds} + periodSeconds ${r.periodSeconds} x successThreshold ${r.successThreshold} + timeoutSeconds ${r.timeoutSeconds}` });
  }
  return terms;
}
