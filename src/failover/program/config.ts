/** The program's configuration: the construct's settings from the environment, plus how to reach the API server. */
import * as os from 'os';
import {
  ACTION_FORCE_DELETE, ACTION_TAINT, ACTIONS, checkSettings, ControllerSettings, isDnsLabel, SETTING_ENV,
} from '../contract';
import { ApiAccess } from './api';
import { LOG_LEVELS, LogLevel } from './util';

export interface ControllerConfig extends ControllerSettings {
  readonly namespace: string;
  readonly identity: string;
  readonly requestTimeoutSeconds: number;
  readonly logLevel: LogLevel;
  readonly api: ApiAccess;
}

export class ConfigError extends Error {
  public readonly errors: string[];
  public constructor(errors: string[]) {
    super(`invalid configuration: ${errors.join('; ')}`);
    this.name = 'ConfigError';
    this.errors = errors;
  }
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

type Env = Readonly<Record<string, string | undefined>>;

function envValue(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === null) return undefined;
  const trimmed = String(raw).trim();
  return trimmed === '' ? undefined : trimmed;
}

function parseNumber(env: Env, name: string, defaultValue: number, errors: string[]): number {
  const raw = envValue(env, name);
  if (raw === undefined) return defaultValue;
  if (!/^[0-9]+(\.[0-9]+)?$/.test(raw)) {
    errors.push(`${name} must be a number of seconds (got "${raw}")`);
    return Number.NaN;
  }
  return Number(raw);
}

function parseBoolean(env: Env, name: string, defaultValue: boolean, errors: string[]): boolean {
  const raw = envValue(env, name);
  if (raw === undefined) return defaultValue;
  const lower = raw.toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(lower)) return true;
  if (['false', '0', 'no', 'off'].includes(lower)) return false;
  errors.push(`${name} must be true or false (got "${raw}")`);
  return defaultValue;
}

/** "k=v,k2=v2" as the construct writes it; anything else is refused, so the selector stays an exact match. */
function parseSelector(raw: string, errors: string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const term of raw.split(',')) {
    const m = /^([^=\s]+)=([^=,\s]*)$/.exec(term.trim());
    if (!m) {
      errors.push(`POD_SELECTOR must be key=value pairs separated by commas (cannot parse "${term.trim()}")`);
      continue;
    }
    labels[m[1]] = m[2];
  }
  return labels;
}

function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127(\.[0-9]{1,3}){3}$/.test(host);
}

function parseApiAccess(env: Env, errors: string[]): ApiAccess {
  const server = envValue(env, 'KUBE_API_SERVER');
  const caFile = envValue(env, 'KUBE_CA_FILE');
  const tokenFile = envValue(env, 'KUBE_TOKEN_FILE');
  const certFile = envValue(env, 'KUBE_CLIENT_CERT_FILE');
  const keyFile = envValue(env, 'KUBE_CLIENT_KEY_FILE');
  const none = { server: '' };

  if (server === undefined) {
    if (caFile || tokenFile || certFile || keyFile) {
      errors.push('KUBE_CA_FILE, KUBE_TOKEN_FILE, KUBE_CLIENT_CERT_FILE and KUBE_CLIENT_KEY_FILE are only used with KUBE_API_SERVER');
    }
    const host = envValue(env, 'KUBERNETES_SERVICE_HOST');
    const port = envValue(env, 'KUBERNETES_SERVICE_PORT');
    if (!host || !port) {
      errors.push('KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set (not running in a cluster): set KUBE_API_SERVER to run outside one');
      return none;
    }
    if (!/^[0-9]{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
      errors.push(`KUBERNETES_SERVICE_PORT must be a port number (got "${port}")`);
      return none;
    }
    const hostPart = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    return {
      server: `https://${hostPart}:${port}`,
      inCluster: true,
      caFile: `${SERVICE_ACCOUNT_DIR}/ca.crt`,
      tokenFile: `${SERVICE_ACCOUNT_DIR}/token`,
      clientCertFile: undefined,
      clientKeyFile: undefined,
    };
  }

  let url: URL;
  try {
    url = new URL(server);
  } catch {
    errors.push(`KUBE_API_SERVER must be a URL (got "${server}")`);
    return none;
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    errors.push(`KUBE_API_SERVER must be an https URL, or http on a loopback address (got "${server}")`);
    return none;
  }
  if (url.search || url.hash || url.username || url.password) {
    errors.push(`KUBE_API_SERVER must not carry credentials, a query or a fragment (got "${server}")`);
    return none;
  }
  if (Boolean(certFile) !== Boolean(keyFile)) errors.push('KUBE_CLIENT_CERT_FILE and KUBE_CLIENT_KEY_FILE must be set together');
  if (url.protocol === 'https:' && !tokenFile && !(certFile && keyFile)) {
    errors.push('KUBE_API_SERVER needs credentials: KUBE_TOKEN_FILE, or KUBE_CLIENT_CERT_FILE and KUBE_CLIENT_KEY_FILE');
  }
  if (url.protocol === 'http:' && (caFile || certFile || keyFile)) {
    errors.push('KUBE_CA_FILE, KUBE_CLIENT_CERT_FILE and KUBE_CLIENT_KEY_FILE need an https KUBE_API_SERVER');
  }
  return { server: url.toString().replace(/\/+$/, ''), inCluster: false, caFile, tokenFile, clientCertFile: certFile, clientKeyFile: keyFile };
}

/** Reads the configuration from an environment; throws a ConfigError that lists every problem. */
export function parseConfig(env: Env, defaults: { hostname?: string; pid?: number } = {}): ControllerConfig {
  const errors: string[] = [];
  const required = (name: string): string => {
    const value = envValue(env, name);
    if (value === undefined) errors.push(`${name} is required`);
    return value ?? '';
  };

  const namespace = required('NAMESPACE');
  if (namespace && !isDnsLabel(namespace)) errors.push(`NAMESPACE must be a valid namespace name (got "${namespace}")`);
  const watchedPod = required(SETTING_ENV.watchedPod);
  const selectorText = required(SETTING_ENV.podSelector);
  const errorsBeforeSelector = errors.length;
  const podSelector = selectorText ? parseSelector(selectorText, errors) : {};
  const selectorUnparsable = errors.length > errorsBeforeSelector;
  const leaseName = required(SETTING_ENV.leaseName);

  let taint = true;
  let forceDelete = true;
  const actionsRaw = envValue(env, 'ACTIONS');
  if (actionsRaw !== undefined) {
    const requested = actionsRaw.split(',').map((a) => a.trim()).filter((a) => a !== '');
    for (const a of requested.filter((x) => !(ACTIONS as readonly string[]).includes(x))) {
      errors.push(`ACTIONS has an unknown action "${a}" (valid: ${ACTIONS.join(', ')})`);
    }
    taint = requested.includes(ACTION_TAINT);
    forceDelete = requested.includes(ACTION_FORCE_DELETE);
  }

  const settings: ControllerSettings = {
    watchedPod,
    podSelector,
    leaseName,
    taint,
    forceDelete,
    notReadyThresholdSeconds: parseNumber(env, SETTING_ENV.notReadyThresholdSeconds, 30, errors),
    heartbeatThresholdSeconds: parseNumber(env, SETTING_ENV.heartbeatThresholdSeconds, 30, errors),
    checkIntervalSeconds: parseNumber(env, SETTING_ENV.checkIntervalSeconds, 2, errors),
    leaseDurationSeconds: parseNumber(env, SETTING_ENV.leaseDurationSeconds, 15, errors),
    renewDeadlineSeconds: parseNumber(env, SETTING_ENV.renewDeadlineSeconds, 10, errors),
    retryPeriodSeconds: parseNumber(env, SETTING_ENV.retryPeriodSeconds, 2, errors),
    dryRun: parseBoolean(env, SETTING_ENV.dryRun, false, errors),
  };
  // Values already reported as unparsable are not reported again as out of range.
  for (const p of checkSettings(settings)) {
    if (typeof p.value === 'number' && Number.isNaN(p.value)) continue;
    if ((p.setting === 'watchedPod' || p.setting === 'leaseName') && p.value === '') continue;
    if (p.setting === 'podSelector' && (selectorText === '' || selectorUnparsable)) continue;
    const name = p.setting === 'taint' ? 'ACTIONS' : SETTING_ENV[p.setting];
    errors.push(`${name} ${p.value === undefined ? '' : `(${typeof p.value === 'string' ? p.value : JSON.stringify(p.value)}) `}${p.accepted}`);
  }

  const requestTimeoutSeconds = parseNumber(env, 'REQUEST_TIMEOUT_SECONDS', 5, errors);
  if (!(requestTimeoutSeconds > 0)) errors.push(`REQUEST_TIMEOUT_SECONDS must be greater than 0 (got "${envValue(env, 'REQUEST_TIMEOUT_SECONDS')}")`);
  const logLevel = (envValue(env, 'LOG_LEVEL') ?? 'info').toLowerCase();
  if (!(logLevel in LOG_LEVELS)) errors.push(`LOG_LEVEL must be one of ${Object.keys(LOG_LEVELS).join(', ')} (got "${logLevel}")`);
  const hostname = defaults.hostname ?? os.hostname();
  const pid = defaults.pid ?? process.pid;
  const identity = envValue(env, 'IDENTITY') ?? envValue(env, 'POD_NAME') ?? `${hostname}_${pid}`;
  const api = parseApiAccess(env, errors);

  if (errors.length > 0) throw new ConfigError(errors);
  return { ...settings, namespace, identity, requestTimeoutSeconds, logLevel: logLevel as LogLevel, api };
}
