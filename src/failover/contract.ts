/**
 * The contract between the FailoverController construct and the program it ships: the settings the construct
 * decides, the environment variables that carry them into the container, and the one validation of their values
 * that both sides apply (the construct at synth, the program at start).
 *
 * Nothing here is part of the public API: the program is bundled from src/failover/program into one file.
 */
import { isDnsSubdomain, isLabelKey, isLabelValue } from '../names';

export { isDnsLabel } from '../names';

/** The taint that makes Kubernetes treat a node as shut down (KEP-2268): volumes force-detach at once. */
export const OUT_OF_SERVICE_TAINT = { key: 'node.kubernetes.io/out-of-service', value: 'nodeshutdown', effect: 'NoExecute' } as const;

/** Where kubelets renew their heartbeat Lease, one per node, named after the node. */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

/** The actions, in the order they always run (taint before delete, so the replacement finds the volume detached). */
export const ACTION_TAINT = 'taint-out-of-service';
export const ACTION_FORCE_DELETE = 'force-delete-pod';
export const ACTIONS = [ACTION_TAINT, ACTION_FORCE_DELETE] as const;

/** The smallest heartbeat threshold: kubelets renew their Lease every 10 s by default, so one late renewal must not count as a loss. */
export const MIN_HEARTBEAT_THRESHOLD_SECONDS = 15;

/** Port of the program's /healthz endpoint (unprivileged, the container runs without capabilities). */
export const HEALTH_PORT = 8080;
export const HEALTH_PATH = '/healthz';

/** What the construct decides for the program. */
export interface ControllerSettings {
  /** The one pod the controller watches and may force-delete (`<statefulset>-0`). */
  readonly watchedPod: string;
  /** Labels the watched pod must carry before the controller touches it. */
  readonly podSelector: Readonly<Record<string, string>>;
  /** Name of the Lease used for leader election. */
  readonly leaseName: string;
  readonly taint: boolean;
  readonly forceDelete: boolean;
  /** Act once the node's Ready condition has not been True for this long (0: as soon as it is not). */
  readonly notReadyThresholdSeconds: number;
  /** Act once the node's kubelet heartbeat Lease has not been renewed for this long (0: heartbeat detection off). */
  readonly heartbeatThresholdSeconds: number;
  readonly checkIntervalSeconds: number;
  readonly leaseDurationSeconds: number;
  readonly renewDeadlineSeconds: number;
  readonly retryPeriodSeconds: number;
  readonly dryRun: boolean;
}

/** The environment variable that carries each setting. */
export const SETTING_ENV: { readonly [K in keyof ControllerSettings]: string } = {
  watchedPod: 'WATCHED_POD',
  podSelector: 'POD_SELECTOR',
  leaseName: 'LEASE_NAME',
  taint: 'ACTIONS',
  forceDelete: 'ACTIONS',
  notReadyThresholdSeconds: 'NOT_READY_THRESHOLD_SECONDS',
  heartbeatThresholdSeconds: 'HEARTBEAT_THRESHOLD_SECONDS',
  checkIntervalSeconds: 'CHECK_INTERVAL_SECONDS',
  leaseDurationSeconds: 'LEASE_DURATION_SECONDS',
  renewDeadlineSeconds: 'RENEW_DEADLINE_SECONDS',
  retryPeriodSeconds: 'RETRY_PERIOD_SECONDS',
  dryRun: 'DRY_RUN',
};

/** The settings as the container's environment, in a stable order. */
export function settingsEnv(s: ControllerSettings): Array<{ name: string; value: string }> {
  const actions = [...(s.taint ? [ACTION_TAINT] : []), ...(s.forceDelete ? [ACTION_FORCE_DELETE] : [])];
  const values: Array<[string, string]> = [
    [SETTING_ENV.watchedPod, s.watchedPod],
    [SETTING_ENV.podSelector, formatSelector(s.podSelector)],
    [SETTING_ENV.leaseName, s.leaseName],
    ['ACTIONS', actions.join(',')],
    [SETTING_ENV.notReadyThresholdSeconds, String(s.notReadyThresholdSeconds)],
    [SETTING_ENV.heartbeatThresholdSeconds, String(s.heartbeatThresholdSeconds)],
    [SETTING_ENV.checkIntervalSeconds, String(s.checkIntervalSeconds)],
    [SETTING_ENV.leaseDurationSeconds, String(s.leaseDurationSeconds)],
    [SETTING_ENV.renewDeadlineSeconds, String(s.renewDeadlineSeconds)],
    [SETTING_ENV.retryPeriodSeconds, String(s.retryPeriodSeconds)],
    [SETTING_ENV.dryRun, String(s.dryRun)],
  ];
  return values.map(([name, value]) => ({ name, value }));
}

export function formatSelector(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');
}

/** One setting that is out of range, with what is accepted (worded for both a prop and an env var). */
export interface SettingProblem {
  readonly setting: keyof ControllerSettings;
  readonly value: unknown;
  readonly accepted: string;
}

/**
 * Every range and relation the settings must satisfy. The construct turns each problem into an error naming its
 * prop; the program refuses to start and names the variable.
 */
export function checkSettings(s: ControllerSettings): SettingProblem[] {
  const problems: SettingProblem[] = [];
  const seconds = (setting: keyof ControllerSettings, value: number, min: number, max: number, minExclusive = false) => {
    const low = minExclusive ? value <= min : value < min;
    if (!Number.isFinite(value) || low || value > max) {
      problems.push({ setting, value, accepted: `must be a number of seconds ${minExclusive ? 'greater than' : 'from'} ${min}${minExclusive ? ',' : ''} ${minExclusive ? 'at most' : 'to'} ${max}` });
      return false;
    }
    return true;
  };
  if (!isDnsSubdomain(s.watchedPod)) problems.push({ setting: 'watchedPod', value: s.watchedPod, accepted: 'must be a pod name (a DNS subdomain)' });
  const selectorKeys = Object.keys(s.podSelector);
  if (selectorKeys.length === 0) {
    problems.push({ setting: 'podSelector', value: s.podSelector, accepted: 'must name at least one label, so that it cannot match unrelated pods' });
  }
  for (const [key, value] of Object.entries(s.podSelector)) {
    if (!isLabelKey(key) || !isLabelValue(value)) {
      problems.push({ setting: 'podSelector', value: `${key}=${value}`, accepted: 'must be label keys and values Kubernetes accepts' });
    }
  }
  if (!isDnsSubdomain(s.leaseName)) problems.push({ setting: 'leaseName', value: s.leaseName, accepted: 'must be an object name (a DNS subdomain)' });
  if (!s.taint && !s.forceDelete) problems.push({ setting: 'taint', value: [], accepted: `must list at least one of ${ACTIONS.join(', ')}` });
  seconds('notReadyThresholdSeconds', s.notReadyThresholdSeconds, 0, 3600);
  if (s.heartbeatThresholdSeconds !== 0) {
    seconds('heartbeatThresholdSeconds', s.heartbeatThresholdSeconds, MIN_HEARTBEAT_THRESHOLD_SECONDS, 3600);
  }
  seconds('checkIntervalSeconds', s.checkIntervalSeconds, 0, 300, true);
  // Lease.spec.leaseDurationSeconds is an int32 in the API.
  if (!Number.isInteger(s.leaseDurationSeconds) || s.leaseDurationSeconds < 2 || s.leaseDurationSeconds > 3600) {
    problems.push({ setting: 'leaseDurationSeconds', value: s.leaseDurationSeconds, accepted: 'must be a whole number of seconds from 2 to 3600' });
  } else if (seconds('renewDeadlineSeconds', s.renewDeadlineSeconds, 0, 3600, true)) {
    if (s.renewDeadlineSeconds >= s.leaseDurationSeconds) {
      problems.push({ setting: 'renewDeadlineSeconds', value: s.renewDeadlineSeconds, accepted: `must be shorter than the lease duration (${s.leaseDurationSeconds} s)` });
    } else if (seconds('retryPeriodSeconds', s.retryPeriodSeconds, 0, 3600, true) && s.retryPeriodSeconds >= s.renewDeadlineSeconds) {
      problems.push({ setting: 'retryPeriodSeconds', value: s.retryPeriodSeconds, accepted: `must be shorter than the renew deadline (${s.renewDeadlineSeconds} s)` });
    }
  }
  return problems;
}

/**
 * Worst case from the last renewal of the leader's own Lease to a standby acting as leader: the lease must expire
 * as the standby observed it (leaseDuration), the standby retries with up to 20 % jitter, and acts on its next check.
 */
export function leaseTakeoverSeconds(s: Pick<ControllerSettings, 'leaseDurationSeconds' | 'retryPeriodSeconds' | 'checkIntervalSeconds'>): number {
  return Math.ceil(s.leaseDurationSeconds + 1.2 * s.retryPeriodSeconds + s.checkIntervalSeconds);
}

/**
 * Worst case from a node's last heartbeat to the controller acting on its silence: the renewal is seen up to one
 * check later, and the silence is acted on at the first check after the threshold.
 */
export function heartbeatDetectionSeconds(s: Pick<ControllerSettings, 'heartbeatThresholdSeconds' | 'checkIntervalSeconds'>): number {
  return Math.ceil(s.heartbeatThresholdSeconds + 2 * s.checkIntervalSeconds);
}
