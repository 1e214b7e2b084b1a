#!/usr/bin/env node
/*
 * Failover controller for single-replica StatefulSets whose data volume is
 * ReadWriteOncePod.
 *
 * When the node running the selected pod has been NotReady/Unknown for longer
 * than a threshold, the controller (optionally) taints that node with
 * node.kubernetes.io/out-of-service=nodeshutdown:NoExecute, so that the
 * attach/detach controller force-detaches its volumes at once, and then
 * force-deletes the pod (grace period 0, uid precondition) so the StatefulSet
 * controller can create the replacement.
 *
 * It must only be deployed where nodes are fenced (powered off or isolated)
 * before they are reported lost: force-deleting a pod on a node that is still
 * running breaks the at-most-one guarantee of the StatefulSet.
 *
 * Plain Node.js (>= 18), built-in modules only. Configuration is read from
 * environment variables (see parseConfig). Replicas stay single-active through
 * a coordination.k8s.io/v1 Lease, using the client-go leader election
 * algorithm. Logs are JSON objects, one per line, on stdout.
 */
'use strict';

const fs = require('fs');
const os = require('os');
const http = require('http');
const https = require('https');
const { URL } = require('url');

const OUT_OF_SERVICE_TAINT_KEY = 'node.kubernetes.io/out-of-service';
const OUT_OF_SERVICE_TAINT_VALUE = 'nodeshutdown';
const OUT_OF_SERVICE_TAINT_EFFECT = 'NoExecute';

const ACTION_TAINT = 'taint-out-of-service';
const ACTION_FORCE_DELETE = 'force-delete-pod';
const VALID_ACTIONS = [ACTION_TAINT, ACTION_FORCE_DELETE];

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
const IN_CLUSTER_TOKEN_FILE = `${SERVICE_ACCOUNT_DIR}/token`;
const IN_CLUSTER_CA_FILE = `${SERVICE_ACCOUNT_DIR}/ca.crt`;

const USER_AGENT = 'rwop-failover-controller/1.0';
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
const LOG_LEVELS = { debug: 10, info: 20, warn: 30, error: 40 };

// ---------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------

class ConfigError extends Error {
  constructor(errors) {
    super(`invalid configuration: ${errors.join('; ')}`);
    this.name = 'ConfigError';
    this.errors = errors;
  }
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

function isValidLabelKey(key) {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : null;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== null && (prefix.length === 0 || prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix))) return false;
  return name.length > 0 && name.length <= 63 && LABEL_NAME.test(name);
}

function isValidLabelValue(value) {
  return value === '' || (value.length <= 63 && LABEL_NAME.test(value));
}

/** Splits a selector on the commas that are not inside "in (...)" value sets. */
function splitSelector(selector) {
  const terms = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      terms.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  terms.push(current);
  return terms.map((t) => t.trim());
}

/**
 * Checks a label selector (the syntax kubectl -l accepts) and returns a list
 * of problems. At least one key=value or "key in (...)" requirement is
 * demanded: the selected pods get force-deleted, so the selector must not be
 * able to match unrelated pods.
 */
function validateLabelSelector(selector) {
  const problems = [];
  let positive = 0;
  for (const term of splitSelector(selector)) {
    let m;
    if (term === '') {
      problems.push('contains an empty requirement');
    } else if ((m = /^([^\s=!(),]+)\s*(==|=|!=)\s*([^\s=!(),]*)$/.exec(term))) {
      if (!isValidLabelKey(m[1])) problems.push(`invalid label key "${m[1]}"`);
      if (!isValidLabelValue(m[3])) problems.push(`invalid label value "${m[3]}"`);
      if (m[2] !== '!=') positive++;
    } else if ((m = /^([^\s=!(),]+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(term))) {
      if (!isValidLabelKey(m[1])) problems.push(`invalid label key "${m[1]}"`);
      const values = m[3].split(',').map((v) => v.trim());
      for (const v of values) {
        if (!isValidLabelValue(v)) problems.push(`invalid label value "${v}"`);
      }
      if (m[2] === 'in') positive++;
    } else if ((m = /^(!?)\s*([^\s=!(),]+)$/.exec(term))) {
      if (!isValidLabelKey(m[2])) problems.push(`invalid label key "${m[2]}"`);
    } else {
      problems.push(`cannot parse requirement "${term}"`);
    }
  }
  if (problems.length === 0 && positive === 0) {
    problems.push('needs at least one key=value or "key in (...)" requirement so that it cannot match unrelated pods');
  }
  return problems;
}

function envValue(env, name) {
  const raw = env[name];
  if (raw === undefined || raw === null) return undefined;
  const trimmed = String(raw).trim();
  return trimmed === '' ? undefined : trimmed;
}

function parseSeconds(env, name, defaultValue, errors, { integer = false } = {}) {
  const raw = envValue(env, name);
  if (raw === undefined) return defaultValue;
  const value = Number(raw);
  const kind = integer ? 'an integer' : 'a number';
  if (!/^[0-9]+(\.[0-9]+)?$/.test(raw) || !Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    errors.push(`${name} must be ${kind} of seconds greater than 0 (got "${raw}")`);
    return defaultValue;
  }
  return value;
}

function parseBoolean(env, name, defaultValue, errors) {
  const raw = envValue(env, name);
  if (raw === undefined) return defaultValue;
  const lower = raw.toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(lower)) return true;
  if (['false', '0', 'no', 'off'].includes(lower)) return false;
  errors.push(`${name} must be true or false (got "${raw}")`);
  return defaultValue;
}

function isLoopbackHost(hostname) {
  const host = hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127(\.[0-9]{1,3}){3}$/.test(host);
}

function parseApiConfig(env, errors) {
  const server = envValue(env, 'KUBE_API_SERVER');
  const caFile = envValue(env, 'KUBE_CA_FILE');
  const tokenFile = envValue(env, 'KUBE_TOKEN_FILE');
  const certFile = envValue(env, 'KUBE_CLIENT_CERT_FILE');
  const keyFile = envValue(env, 'KUBE_CLIENT_KEY_FILE');

  if (server === undefined) {
    if (caFile || tokenFile || certFile || keyFile) {
      errors.push('KUBE_CA_FILE, KUBE_TOKEN_FILE, KUBE_CLIENT_CERT_FILE and KUBE_CLIENT_KEY_FILE are only used with KUBE_API_SERVER');
    }
    const host = envValue(env, 'KUBERNETES_SERVICE_HOST');
    const port = envValue(env, 'KUBERNETES_SERVICE_PORT');
    if (!host || !port) {
      errors.push('KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set (not running in a cluster): set KUBE_API_SERVER to run outside one');
      return null;
    }
    if (!/^[0-9]{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
      errors.push(`KUBERNETES_SERVICE_PORT must be a port number (got "${port}")`);
      return null;
    }
    const hostPart = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    return {
      server: `https://${hostPart}:${port}`,
      inCluster: true,
      caFile: IN_CLUSTER_CA_FILE,
      tokenFile: IN_CLUSTER_TOKEN_FILE,
      clientCertFile: undefined,
      clientKeyFile: undefined,
    };
  }

  let url;
  try {
    url = new URL(server);
  } catch (_) {
    errors.push(`KUBE_API_SERVER must be a URL (got "${server}")`);
    return null;
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    errors.push(`KUBE_API_SERVER must be an https URL, or http on a loopback address (got "${server}")`);
    return null;
  }
  if (url.search || url.hash || url.username || url.password) {
    errors.push(`KUBE_API_SERVER must not carry credentials, a query or a fragment (got "${server}")`);
    return null;
  }
  if (Boolean(certFile) !== Boolean(keyFile)) {
    errors.push('KUBE_CLIENT_CERT_FILE and KUBE_CLIENT_KEY_FILE must be set together');
  }
  if (url.protocol === 'https:' && !tokenFile && !(certFile && keyFile)) {
    errors.push('KUBE_API_SERVER needs credentials: KUBE_TOKEN_FILE, or KUBE_CLIENT_CERT_FILE and KUBE_CLIENT_KEY_FILE');
  }
  if (url.protocol === 'http:' && (caFile || certFile || keyFile)) {
    errors.push('KUBE_CA_FILE, KUBE_CLIENT_CERT_FILE and KUBE_CLIENT_KEY_FILE need an https KUBE_API_SERVER');
  }
  return {
    server: url.toString().replace(/\/+$/, ''),
    inCluster: false,
    caFile,
    tokenFile,
    clientCertFile: certFile,
    clientKeyFile: keyFile,
  };
}

/**
 * Reads and validates the configuration from an environment object.
 * Throws a ConfigError listing every problem found.
 */
function parseConfig(env, defaults = {}) {
  const errors = [];

  const namespace = envValue(env, 'NAMESPACE');
  if (namespace === undefined) errors.push('NAMESPACE is required');
  else if (namespace.length > 63 || !DNS1123_LABEL.test(namespace)) errors.push(`NAMESPACE must be a valid namespace name (got "${namespace}")`);

  const podSelector = envValue(env, 'POD_SELECTOR');
  if (podSelector === undefined) errors.push('POD_SELECTOR is required');
  else {
    for (const problem of validateLabelSelector(podSelector)) errors.push(`POD_SELECTOR ${problem}`);
  }

  const leaseName = envValue(env, 'LEASE_NAME');
  if (leaseName === undefined) errors.push('LEASE_NAME is required');
  else if (leaseName.length > 253 || !DNS1123_SUBDOMAIN.test(leaseName)) errors.push(`LEASE_NAME must be a valid object name (got "${leaseName}")`);

  const notReadyThresholdSeconds = parseSeconds(env, 'NOT_READY_THRESHOLD_SECONDS', 30, errors);
  const checkIntervalSeconds = parseSeconds(env, 'CHECK_INTERVAL_SECONDS', 2, errors);
  // Lease.spec.leaseDurationSeconds is an int32 in the API.
  const leaseDurationSeconds = parseSeconds(env, 'LEASE_DURATION_SECONDS', 15, errors, { integer: true });
  const renewDeadlineSeconds = parseSeconds(env, 'RENEW_DEADLINE_SECONDS', 10, errors);
  const retryPeriodSeconds = parseSeconds(env, 'RETRY_PERIOD_SECONDS', 2, errors);
  const requestTimeoutSeconds = parseSeconds(env, 'REQUEST_TIMEOUT_SECONDS', 5, errors);
  if (renewDeadlineSeconds >= leaseDurationSeconds) {
    errors.push(`RENEW_DEADLINE_SECONDS (${renewDeadlineSeconds}) must be less than LEASE_DURATION_SECONDS (${leaseDurationSeconds})`);
  }
  if (retryPeriodSeconds >= renewDeadlineSeconds) {
    errors.push(`RETRY_PERIOD_SECONDS (${retryPeriodSeconds}) must be less than RENEW_DEADLINE_SECONDS (${renewDeadlineSeconds})`);
  }

  const actionsRaw = envValue(env, 'ACTIONS');
  let actionList = VALID_ACTIONS.slice();
  if (actionsRaw !== undefined) {
    const requested = actionsRaw.split(',').map((a) => a.trim()).filter((a) => a !== '');
    const unknown = requested.filter((a) => !VALID_ACTIONS.includes(a));
    for (const a of unknown) errors.push(`ACTIONS has an unknown action "${a}" (valid: ${VALID_ACTIONS.join(', ')})`);
    if (requested.length === 0) errors.push(`ACTIONS must list at least one of ${VALID_ACTIONS.join(', ')}`);
    // Execution order is fixed (taint before delete) whatever the listed order.
    actionList = VALID_ACTIONS.filter((a) => requested.includes(a));
  }

  const dryRun = parseBoolean(env, 'DRY_RUN', false, errors);

  const logLevel = (envValue(env, 'LOG_LEVEL') || 'info').toLowerCase();
  if (!(logLevel in LOG_LEVELS)) errors.push(`LOG_LEVEL must be one of ${Object.keys(LOG_LEVELS).join(', ')} (got "${logLevel}")`);

  const hostname = defaults.hostname !== undefined ? defaults.hostname : os.hostname();
  const pid = defaults.pid !== undefined ? defaults.pid : process.pid;
  const identity = envValue(env, 'IDENTITY') || envValue(env, 'POD_NAME') || `${hostname}_${pid}`;

  const api = parseApiConfig(env, errors);

  if (errors.length > 0) throw new ConfigError(errors);

  return {
    namespace,
    podSelector,
    notReadyThresholdSeconds,
    actionList,
    actions: { taint: actionList.includes(ACTION_TAINT), forceDelete: actionList.includes(ACTION_FORCE_DELETE) },
    checkIntervalSeconds,
    leaseName,
    leaseDurationSeconds,
    renewDeadlineSeconds,
    retryPeriodSeconds,
    requestTimeoutSeconds,
    identity,
    dryRun,
    logLevel,
    api,
  };
}

// ---------------------------------------------------------------------------
// Time helpers
// ---------------------------------------------------------------------------

function toDate(t) {
  return t instanceof Date ? t : new Date(t);
}

/** metav1.MicroTime wire format: RFC 3339 with exactly six fractional digits. */
function formatMicroTime(t) {
  const iso = toDate(t).toISOString(); // 2026-01-02T03:04:05.123Z
  return `${iso.slice(0, 23)}000Z`;
}

/** metav1.Time wire format: RFC 3339 with whole seconds. */
function formatTime(t) {
  return `${toDate(t).toISOString().slice(0, 19)}Z`;
}

/** Parses an RFC 3339 timestamp (any fractional precision) to epoch ms; null when invalid. */
function parseTime(value) {
  if (typeof value !== 'string') return null;
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.exec(value.trim());
  if (!m) return null;
  const fraction = m[2] ? m[2].slice(0, 4).padEnd(4, '0') : '.000';
  const ms = Date.parse(`${m[1]}${fraction}${m[3].toUpperCase()}`);
  return Number.isNaN(ms) ? null : ms;
}

function toMillis(t) {
  return t instanceof Date ? t.getTime() : t;
}

/** A clock that wall-clock steps cannot move; used for all lease timing. */
function monotonicNow() {
  return Number(process.hrtime.bigint() / 1000000n);
}

// ---------------------------------------------------------------------------
// Node health and taints
// ---------------------------------------------------------------------------

function findReadyCondition(node) {
  const conditions = (node && node.status && node.status.conditions) || [];
  return conditions.find((c) => c && c.type === 'Ready') || null;
}

/**
 * Describes whether a node counts as lost at `now` (Date or epoch ms):
 * its Ready condition has not been "True" for at least thresholdSeconds, or
 * the Node object is gone (node === null). A node whose NotReady duration
 * cannot be measured is never treated as lost.
 */
function nodeLostStatus(node, now, thresholdSeconds) {
  if (node === null || node === undefined) {
    return { lost: true, reason: 'NodeNotFound', readyStatus: null, notReadyForSeconds: null };
  }
  const ready = findReadyCondition(node);
  if (!ready) {
    return { lost: false, reason: 'NoReadyCondition', readyStatus: null, notReadyForSeconds: null };
  }
  if (ready.status === 'True') {
    return { lost: false, reason: 'Ready', readyStatus: 'True', notReadyForSeconds: 0 };
  }
  const since = parseTime(ready.lastTransitionTime);
  if (since === null) {
    return { lost: false, reason: 'UnknownTransitionTime', readyStatus: ready.status, notReadyForSeconds: null };
  }
  const notReadyForSeconds = Math.round(toMillis(now) - since) / 1000;
  if (notReadyForSeconds >= thresholdSeconds) {
    return { lost: true, reason: 'NotReady', readyStatus: ready.status, notReadyForSeconds };
  }
  return { lost: false, reason: 'NotReadyBelowThreshold', readyStatus: ready.status, notReadyForSeconds };
}

function isNodeLost(node, now, thresholdSeconds) {
  return nodeLostStatus(node, now, thresholdSeconds).lost;
}

function isNodeReady(node) {
  const ready = findReadyCondition(node);
  return Boolean(ready && ready.status === 'True');
}

function hasOutOfServiceTaint(taints) {
  return Array.isArray(taints) && taints.some((t) => t && t.key === OUT_OF_SERVICE_TAINT_KEY);
}

/**
 * Returns the taint list with the out-of-service taint appended, keeping the
 * existing taints untouched. `changed` is false when a taint with that key is
 * already there (the controllers that honour it only look at the key).
 */
function addOutOfServiceTaint(taints, now) {
  const existing = Array.isArray(taints) ? taints.map((t) => ({ ...t })) : [];
  if (hasOutOfServiceTaint(existing)) return { changed: false, taints: existing };
  existing.push({
    key: OUT_OF_SERVICE_TAINT_KEY,
    value: OUT_OF_SERVICE_TAINT_VALUE,
    effect: OUT_OF_SERVICE_TAINT_EFFECT,
    timeAdded: formatTime(now),
  });
  return { changed: true, taints: existing };
}

// ---------------------------------------------------------------------------
// Leader election (client-go's tryAcquireOrRenew, on a coordination/v1 Lease)
// ---------------------------------------------------------------------------

function leaseRecord(spec) {
  const s = spec || {};
  return {
    holderIdentity: s.holderIdentity || '',
    leaseDurationSeconds: typeof s.leaseDurationSeconds === 'number' ? s.leaseDurationSeconds : 0,
    acquireTime: s.acquireTime || null,
    renewTime: s.renewTime || null,
    leaseTransitions: typeof s.leaseTransitions === 'number' ? s.leaseTransitions : 0,
  };
}

/** What this candidate knows of the lease: the record and the local time it last changed. */
function observeLease(spec, observedAt) {
  const record = leaseRecord(spec);
  return { ...record, raw: JSON.stringify(record), time: observedAt };
}

/**
 * Decides the next lease operation, as client-go does.
 *
 * lease: the Lease object read from the API, or null when it does not exist.
 * now: wall clock (Date or epoch ms), written into acquireTime/renewTime.
 * observed: the previous return's `observed` (or null on the first call).
 * options.leaseDurationSeconds: the duration this candidate writes.
 * options.monotonicNow: clock for expiry checks (defaults to `now`). Expiry is
 *   measured from when this candidate saw the record change, never from the
 *   renewTime written by another host, so clock skew between hosts is harmless.
 *
 * Returns { action: 'create' | 'update' | 'wait', observed, ... }:
 *   create: `spec` is the spec of the Lease to create;
 *   update: `lease` is the object to PUT (it keeps metadata.resourceVersion);
 *   wait: another holder has a valid lease (`holder`).
 */
function decideLease(lease, identity, now, observed, options = {}) {
  const leaseDurationSeconds = options.leaseDurationSeconds || 15;
  const clock = options.monotonicNow !== undefined ? options.monotonicNow : toMillis(now);
  const nowText = formatMicroTime(now);

  if (!lease) {
    return {
      action: 'create',
      observed: observed || null,
      spec: {
        holderIdentity: identity,
        leaseDurationSeconds,
        acquireTime: nowText,
        renewTime: nowText,
        leaseTransitions: 0,
      },
    };
  }

  const current = observeLease(lease.spec, clock);
  const seen = observed && observed.raw === current.raw ? observed : current;
  const isLeader = seen.holderIdentity === identity;
  const expiresAt = seen.time + seen.leaseDurationSeconds * 1000;
  const valid = expiresAt > clock;

  if (seen.holderIdentity !== '' && valid && !isLeader) {
    return { action: 'wait', observed: seen, holder: seen.holderIdentity, expiresInMs: expiresAt - clock };
  }

  const spec = {
    ...(lease.spec || {}),
    holderIdentity: identity,
    leaseDurationSeconds,
    acquireTime: isLeader && seen.acquireTime ? seen.acquireTime : nowText,
    renewTime: nowText,
    leaseTransitions: isLeader ? seen.leaseTransitions : seen.leaseTransitions + 1,
  };
  return {
    action: 'update',
    observed: seen,
    transition: !isLeader,
    previousHolder: seen.holderIdentity,
    lease: { ...lease, spec },
  };
}

/** The record client-go writes on release: no holder, so a candidate takes over at once. */
function releasedLease(lease, now) {
  const nowText = formatMicroTime(now);
  const spec = lease.spec || {};
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

// ---------------------------------------------------------------------------
// Logging
// ---------------------------------------------------------------------------

function errorText(err) {
  if (!err) return String(err);
  return err.message || String(err);
}

function createLogger({ level = 'info', write = (line) => process.stdout.write(line), clock = () => new Date() } = {}) {
  const min = LOG_LEVELS[level] || LOG_LEVELS.info;
  const emit = (lvl, msg, fields) => {
    if (LOG_LEVELS[lvl] < min) return;
    const entry = { time: clock().toISOString(), level: lvl, msg };
    for (const [k, v] of Object.entries(fields || {})) {
      if (k === 'time' || k === 'level' || k === 'msg' || v === undefined) continue;
      entry[k] = v instanceof Error ? errorText(v) : v;
    }
    write(`${JSON.stringify(entry)}\n`);
  };
  return {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
  };
}

// ---------------------------------------------------------------------------
// API client
// ---------------------------------------------------------------------------

class ApiError extends Error {
  constructor(method, path, status, body) {
    const detail = body && typeof body === 'object' && body.message ? body.message : typeof body === 'string' ? body.slice(0, 200) : '';
    super(`${method} ${path}: HTTP ${status}${detail ? `: ${detail}` : ''}`);
    this.name = 'ApiError';
    this.status = status;
    this.body = body;
  }
}

/**
 * A minimal Kubernetes API client. The bearer token is read from its file on
 * every request because projected service account tokens are rotated.
 */
function createApiClient(api, { timeoutMs = 5000, userAgent = USER_AGENT, readFile = fs.promises.readFile } = {}) {
  const base = new URL(api.server);
  const isHttps = base.protocol === 'https:';
  const basePath = base.pathname.replace(/\/+$/, '');
  const hostname = base.hostname.replace(/^\[|\]$/g, '');
  const port = base.port ? Number(base.port) : isHttps ? 443 : 80;
  const transport = isHttps ? https : http;
  const agentOptions = { keepAlive: true, maxSockets: 4 };
  if (isHttps) {
    if (api.caFile) agentOptions.ca = fs.readFileSync(api.caFile);
    if (api.clientCertFile) agentOptions.cert = fs.readFileSync(api.clientCertFile);
    if (api.clientKeyFile) agentOptions.key = fs.readFileSync(api.clientKeyFile);
  }
  const agent = new transport.Agent(agentOptions);

  async function request(method, path, { body, contentType = 'application/json', timeout = timeoutMs } = {}) {
    const headers = { Accept: 'application/json', 'User-Agent': userAgent };
    if (api.tokenFile) {
      const token = String(await readFile(api.tokenFile, 'utf8')).trim();
      if (token) headers.Authorization = `Bearer ${token}`;
    }
    let payload = null;
    if (body !== undefined) {
      payload = Buffer.from(JSON.stringify(body));
      headers['Content-Type'] = contentType;
      headers['Content-Length'] = String(payload.length);
    }

    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (err, value) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(value);
      };
      const req = transport.request(
        { hostname, port, method, path: basePath + path, headers, agent },
        (res) => {
          const chunks = [];
          let size = 0;
          res.on('data', (chunk) => {
            size += chunk.length;
            if (size > MAX_RESPONSE_BYTES) {
              req.destroy(new Error(`${method} ${path}: response larger than ${MAX_RESPONSE_BYTES} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          res.on('error', (err) => finish(err));
          res.on('aborted', () => finish(new Error(`${method} ${path}: response aborted`)));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed = null;
            if (text) {
              try {
                parsed = JSON.parse(text);
              } catch (_) {
                parsed = text;
              }
            }
            finish(null, { status: res.statusCode, body: parsed });
          });
        },
      );
      const timer = setTimeout(() => {
        req.destroy(new Error(`${method} ${path}: timed out after ${timeout} ms`));
      }, timeout);
      req.on('error', (err) => finish(err));
      if (payload) req.write(payload);
      req.end();
    });
  }

  return { request, close: () => agent.destroy() };
}

const enc = encodeURIComponent;
const leasePath = (ns, name) => `/apis/coordination.k8s.io/v1/namespaces/${enc(ns)}/leases${name ? `/${enc(name)}` : ''}`;
const podsPath = (ns) => `/api/v1/namespaces/${enc(ns)}/pods`;
const podPath = (ns, name) => `/api/v1/namespaces/${enc(ns)}/pods/${enc(name)}`;
const nodePath = (name) => `/api/v1/nodes/${enc(name)}`;

// ---------------------------------------------------------------------------
// Cancellable sleeping
// ---------------------------------------------------------------------------

class Stopper {
  constructor() {
    this.stopped = false;
    this.wakers = new Set();
  }

  sleep(ms) {
    return new Promise((resolve) => {
      if (this.stopped) return resolve();
      const wake = () => {
        clearTimeout(timer);
        this.wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.wakers.add(wake);
    });
  }

  stop() {
    this.stopped = true;
    for (const wake of [...this.wakers]) wake();
  }
}

// ---------------------------------------------------------------------------
// Leader elector
// ---------------------------------------------------------------------------

class LeaderElector {
  constructor({ client, namespace, name, identity, leaseDurationSeconds, renewDeadlineSeconds, retryPeriodSeconds, requestTimeoutMs = 5000, log, clock = () => Date.now(), mono = monotonicNow, random = Math.random }) {
    this.client = client;
    this.namespace = namespace;
    this.name = name;
    this.identity = identity;
    this.leaseDurationSeconds = leaseDurationSeconds;
    this.renewDeadlineMs = renewDeadlineSeconds * 1000;
    this.retryPeriodMs = retryPeriodSeconds * 1000;
    // A lease call that outlives the renew deadline is useless: it cannot keep us leader.
    this.requestTimeoutMs = Math.min(requestTimeoutMs, this.renewDeadlineMs);
    this.log = log;
    this.clock = clock;
    this.mono = mono;
    this.random = random;
    this.stopper = new Stopper();
    this.observed = null;
    this.lease = null; // last Lease object this candidate wrote successfully
    this.leading = false;
    this.lastRenew = -Infinity;
    this.loopDone = null;
    this.lastWaitHolder = null;
  }

  /** True only while the last successful renewal is younger than the renew deadline. */
  isLeading() {
    return this.leading && !this.stopper.stopped && this.mono() - this.lastRenew < this.renewDeadlineMs;
  }

  /** Milliseconds until this candidate must stop acting without a further renewal (0 when not leading). */
  leadershipLeftMs() {
    return this.isLeading() ? this.lastRenew + this.renewDeadlineMs - this.mono() : 0;
  }

  async tryAcquireOrRenew() {
    const now = this.clock();
    const mono = this.mono();
    const path = leasePath(this.namespace, this.name);
    const got = await this.client.request('GET', path, { timeout: this.requestTimeoutMs });
    let lease = null;
    if (got.status === 200) lease = got.body;
    else if (got.status !== 404) throw new ApiError('GET', path, got.status, got.body);

    const decision = decideLease(lease, this.identity, now, this.observed, { leaseDurationSeconds: this.leaseDurationSeconds, monotonicNow: mono });
    this.observed = decision.observed;

    if (decision.action === 'wait') return { ok: false, heldBy: decision.holder };

    let res;
    if (decision.action === 'create') {
      const body = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: this.name, namespace: this.namespace },
        spec: decision.spec,
      };
      res = await this.client.request('POST', leasePath(this.namespace), { body, timeout: this.requestTimeoutMs });
      if (res.status === 409) return { ok: false, conflict: true };
      if (res.status !== 200 && res.status !== 201) throw new ApiError('POST', leasePath(this.namespace), res.status, res.body);
    } else {
      res = await this.client.request('PUT', path, { body: decision.lease, timeout: this.requestTimeoutMs });
      if (res.status === 409) return { ok: false, conflict: true };
      if (res.status !== 200) throw new ApiError('PUT', path, res.status, res.body);
    }
    this.lease = res.body && typeof res.body === 'object' ? res.body : null;
    this.observed = observeLease(this.lease ? this.lease.spec : decision.spec || decision.lease.spec, mono);
    return { ok: true, startedAt: mono, transition: decision.action === 'create' || decision.transition, previousHolder: decision.previousHolder };
  }

  stepDown(reason, fields = {}) {
    if (!this.leading) return;
    this.leading = false;
    this.log.warn('lost leadership', { identity: this.identity, lease: this.name, reason, ...fields });
  }

  async runLoop() {
    while (!this.stopper.stopped) {
      let result;
      try {
        result = await this.tryAcquireOrRenew();
      } catch (err) {
        result = { ok: false, error: err };
        this.log.warn(this.leading ? 'failed to renew lease' : 'failed to acquire lease', { lease: this.name, error: errorText(err) });
      }
      // Shutting down: the lease written above is released by stopAndRelease, never acted on.
      if (this.stopper.stopped) break;
      if (result.ok) {
        this.lastRenew = result.startedAt;
        this.lastWaitHolder = null;
        if (!this.leading) {
          this.leading = true;
          this.log.info('became leader', {
            identity: this.identity,
            lease: this.name,
            namespace: this.namespace,
            leaseTransitions: this.observed.leaseTransitions,
            previousHolder: result.previousHolder || undefined,
          });
        } else {
          this.log.debug('renewed lease', { lease: this.name });
        }
      } else if (this.leading) {
        // Evidence that someone else wrote the lease ends leadership at once;
        // transient errors only do so once the renew deadline has passed.
        if (result.heldBy) this.stepDown('lease is held by another candidate', { holder: result.heldBy });
        else if (result.conflict) this.stepDown('lease was modified concurrently');
        else if (this.mono() - this.lastRenew >= this.renewDeadlineMs) this.stepDown('renew deadline exceeded', { renewDeadlineSeconds: this.renewDeadlineMs / 1000 });
      } else if (result.heldBy && result.heldBy !== this.lastWaitHolder) {
        this.lastWaitHolder = result.heldBy;
        this.log.info('lease held by another candidate', { lease: this.name, holder: result.heldBy });
      }
      if (this.stopper.stopped) break;
      // Candidates jitter like client-go so that they do not retry in lockstep.
      const delay = this.leading ? this.retryPeriodMs : this.retryPeriodMs * (1 + 0.2 * this.random());
      await this.stopper.sleep(delay);
    }
  }

  start() {
    this.loopDone = this.runLoop();
    return this.loopDone;
  }

  /**
   * Stops campaigning and, when the lease still names this candidate, releases
   * it so another replica takes over without waiting for expiry.
   */
  async stopAndRelease({ waitMs = this.requestTimeoutMs + 1000 } = {}) {
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

// ---------------------------------------------------------------------------
// Reconciler
// ---------------------------------------------------------------------------

class FailoverReconciler {
  constructor({ client, config, canAct, leadershipLeftMs = () => Infinity, log, clock = () => Date.now() }) {
    this.client = client;
    this.config = config;
    this.canAct = canAct;
    this.leadershipLeftMs = leadershipLeftMs;
    this.log = log;
    this.clock = clock;
    this.lostNodes = new Set(); // nodes already reported lost, to log once per outage
    this.taintedNodes = new Set(); // nodes this process tainted, watched to tell operators when they recover
    this.dryRunReported = new Set();
  }

  /** Writes must not outlive leadership, or one could land after a standby has taken over. */
  writeTimeoutMs() {
    const limit = this.config.requestTimeoutSeconds * 1000;
    return Math.max(1, Math.min(limit, this.leadershipLeftMs()));
  }

  async listPods() {
    const pods = [];
    let token = '';
    do {
      const query = new URLSearchParams({ labelSelector: this.config.podSelector, limit: '250' });
      if (token) query.set('continue', token);
      const path = `${podsPath(this.config.namespace)}?${query.toString()}`;
      const res = await this.client.request('GET', path);
      if (res.status !== 200) throw new ApiError('GET', path, res.status, res.body);
      pods.push(...((res.body && res.body.items) || []));
      token = (res.body && res.body.metadata && res.body.metadata.continue) || '';
    } while (token);
    return pods;
  }

  async getNode(name) {
    const path = nodePath(name);
    const res = await this.client.request('GET', path);
    if (res.status === 404) return null;
    if (res.status !== 200) throw new ApiError('GET', path, res.status, res.body);
    return res.body;
  }

  async reconcile() {
    const pods = await this.listPods();
    const nodes = new Map();
    for (const pod of pods) {
      if (!this.canAct()) return;
      const nodeName = pod.spec && pod.spec.nodeName;
      if (!nodeName) continue;
      const podName = pod.metadata && pod.metadata.name;
      try {
        if (!nodes.has(nodeName)) nodes.set(nodeName, await this.getNode(nodeName));
        const node = await this.handlePod(pod, nodeName, nodes.get(nodeName));
        if (node !== undefined) nodes.set(nodeName, node);
      } catch (err) {
        this.log.error('failed to handle pod', { pod: podName, node: nodeName, error: errorText(err) });
      }
    }
    await this.watchTaintedNodes();
    this.log.debug('reconciled', { pods: pods.length });
  }

  /** Acts on one pod; returns the node as last read (or undefined when unchanged). */
  async handlePod(pod, nodeName, node) {
    const podName = pod.metadata.name;
    const status = nodeLostStatus(node, this.clock(), this.config.notReadyThresholdSeconds);
    if (!status.lost) {
      if (status.reason === 'Ready') this.lostNodes.delete(nodeName);
      else this.log.debug('node not ready, below threshold', { node: nodeName, pod: podName, reason: status.reason, notReadyForSeconds: status.notReadyForSeconds });
      return undefined;
    }
    if (!this.lostNodes.has(nodeName)) {
      this.lostNodes.add(nodeName);
      this.log.warn('node lost', {
        node: nodeName,
        pod: podName,
        reason: status.reason,
        readyStatus: status.readyStatus,
        notReadyForSeconds: status.notReadyForSeconds,
        thresholdSeconds: this.config.notReadyThresholdSeconds,
      });
    }

    let current = node;
    if (this.config.actions.taint && current) {
      const outcome = await this.taintNode(current);
      current = outcome.node;
      // The delete waits until the taint is in place, so the volume is force-detached for the replacement.
      if (outcome.result === 'not-leader' || outcome.result === 'recovered') return current;
    }

    if (this.config.actions.forceDelete) {
      if (!this.canAct()) return current;
      await this.forceDeletePod(pod, nodeName);
    }
    return current;
  }

  /** Adds the out-of-service taint with optimistic concurrency, re-reading the node on conflict. */
  async taintNode(node) {
    let current = node;
    const name = node.metadata.name;
    for (let attempt = 1; attempt <= 5; attempt++) {
      const { changed, taints } = addOutOfServiceTaint(current.spec && current.spec.taints, this.clock());
      if (!changed) return { result: 'already', node: current };
      if (this.config.dryRun) {
        this.reportDryRun(`taint:${name}`, 'would taint node', { node: name, taint: `${OUT_OF_SERVICE_TAINT_KEY}=${OUT_OF_SERVICE_TAINT_VALUE}:${OUT_OF_SERVICE_TAINT_EFFECT}` });
        return { result: 'dry-run', node: current };
      }
      if (!this.canAct()) return { result: 'not-leader', node: current };
      const patch = { metadata: { resourceVersion: current.metadata.resourceVersion }, spec: { taints } };
      const path = nodePath(name);
      const res = await this.client.request('PATCH', path, { body: patch, contentType: 'application/merge-patch+json', timeout: this.writeTimeoutMs() });
      if (res.status === 200) {
        this.taintedNodes.add(name);
        this.log.info('tainted node', {
          node: name,
          taint: `${OUT_OF_SERVICE_TAINT_KEY}=${OUT_OF_SERVICE_TAINT_VALUE}:${OUT_OF_SERVICE_TAINT_EFFECT}`,
          note: `this controller never removes the taint; once the node is repaired, remove it with: kubectl taint node ${name} ${OUT_OF_SERVICE_TAINT_KEY}-`,
        });
        return { result: 'tainted', node: res.body && typeof res.body === 'object' ? res.body : current };
      }
      if (res.status === 404) return { result: 'gone', node: null };
      if (res.status !== 409) throw new ApiError('PATCH', path, res.status, res.body);

      this.log.debug('node changed while tainting, retrying', { node: name, attempt });
      current = await this.getNode(name);
      if (current === null) return { result: 'gone', node: null };
      if (!isNodeLost(current, this.clock(), this.config.notReadyThresholdSeconds)) {
        this.log.info('node no longer lost, not tainting', { node: name });
        this.lostNodes.delete(name);
        return { result: 'recovered', node: current };
      }
    }
    throw new Error(`node ${name} kept changing; taint not applied`);
  }

  async forceDeletePod(pod, nodeName) {
    const podName = pod.metadata.name;
    const uid = pod.metadata.uid;
    if (this.config.dryRun) {
      this.reportDryRun(`delete:${uid}`, 'would force-delete pod', { pod: podName, uid, node: nodeName });
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

  reportDryRun(key, msg, fields) {
    if (this.dryRunReported.has(key)) return;
    this.dryRunReported.add(key);
    this.log.info(msg, { ...fields, dryRun: true });
  }

  /** Reports (once) when a node this process tainted is Ready again; removing the taint stays with the operator. */
  async watchTaintedNodes() {
    for (const name of [...this.taintedNodes]) {
      if (!this.canAct()) return;
      let node;
      try {
        node = await this.getNode(name);
      } catch (err) {
        this.log.debug('failed to read tainted node', { node: name, error: errorText(err) });
        continue;
      }
      if (node === null || !hasOutOfServiceTaint(node.spec && node.spec.taints)) {
        this.taintedNodes.delete(name);
        if (node !== null) this.log.info('out-of-service taint was removed', { node: name });
      } else if (isNodeReady(node)) {
        this.taintedNodes.delete(name);
        this.lostNodes.delete(name);
        this.log.warn('tainted node is ready again', {
          node: name,
          note: `the out-of-service taint is left in place; remove it once the node is verified healthy: kubectl taint node ${name} ${OUT_OF_SERVICE_TAINT_KEY}-`,
        });
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Process entry point
// ---------------------------------------------------------------------------

function checkReadable(label, file, errors) {
  try {
    fs.accessSync(file, fs.constants.R_OK);
  } catch (err) {
    errors.push(`${label} ${file} is not readable: ${err.code || errorText(err)}`);
  }
}

function main() {
  let config;
  try {
    config = parseConfig(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    createLogger().error('invalid configuration', { errors: err.errors });
    process.stderr.write(`failover-controller: ${err.message}\n`);
    process.exit(2);
  }
  const log = createLogger({ level: config.logLevel });

  const fileErrors = [];
  const api = config.api;
  if (api.tokenFile) checkReadable(api.inCluster ? 'service account token' : 'KUBE_TOKEN_FILE', api.tokenFile, fileErrors);
  if (api.caFile && api.server.startsWith('https:')) checkReadable(api.inCluster ? 'service account CA' : 'KUBE_CA_FILE', api.caFile, fileErrors);
  if (api.clientCertFile) checkReadable('KUBE_CLIENT_CERT_FILE', api.clientCertFile, fileErrors);
  if (api.clientKeyFile) checkReadable('KUBE_CLIENT_KEY_FILE', api.clientKeyFile, fileErrors);
  if (fileErrors.length > 0) {
    log.error('invalid configuration', { errors: fileErrors });
    process.stderr.write(`failover-controller: invalid configuration: ${fileErrors.join('; ')}\n`);
    process.exit(2);
  }

  const client = createApiClient(api, { timeoutMs: config.requestTimeoutSeconds * 1000, userAgent: `${USER_AGENT} (${config.identity})` });
  const elector = new LeaderElector({
    client,
    namespace: config.namespace,
    name: config.leaseName,
    identity: config.identity,
    leaseDurationSeconds: config.leaseDurationSeconds,
    renewDeadlineSeconds: config.renewDeadlineSeconds,
    retryPeriodSeconds: config.retryPeriodSeconds,
    requestTimeoutMs: config.requestTimeoutSeconds * 1000,
    log,
  });
  const stopper = new Stopper();
  const canAct = () => !stopper.stopped && elector.isLeading();
  const reconciler = new FailoverReconciler({ client, config, canAct, leadershipLeftMs: () => elector.leadershipLeftMs(), log });

  log.info('starting', {
    identity: config.identity,
    namespace: config.namespace,
    podSelector: config.podSelector,
    actions: config.actionList,
    notReadyThresholdSeconds: config.notReadyThresholdSeconds,
    checkIntervalSeconds: config.checkIntervalSeconds,
    lease: config.leaseName,
    leaseDurationSeconds: config.leaseDurationSeconds,
    renewDeadlineSeconds: config.renewDeadlineSeconds,
    retryPeriodSeconds: config.retryPeriodSeconds,
    dryRun: config.dryRun,
    apiServer: api.server,
    inCluster: api.inCluster,
  });

  elector.start().catch((err) => {
    log.error('leader election loop failed', { error: errorText(err) });
    process.exit(1);
  });

  let reconciling = Promise.resolve();
  const reconcileLoop = async () => {
    while (!stopper.stopped) {
      if (canAct()) {
        reconciling = reconciler.reconcile().catch((err) => log.error('reconcile failed', { error: errorText(err) }));
        await reconciling;
      }
      await stopper.sleep(config.checkIntervalSeconds * 1000);
    }
  };
  reconcileLoop().catch((err) => {
    log.error('reconcile loop failed', { error: errorText(err) });
    process.exit(1);
  });

  let shuttingDown = false;
  const shutdown = async (signal) => {
    if (shuttingDown) {
      log.warn('second signal, exiting without releasing the lease', { signal });
      process.exit(1);
    }
    shuttingDown = true;
    log.info('shutting down', { signal });
    stopper.stop();
    // Give the current pass a moment: it checks canAct() before every write.
    await Promise.race([reconciling, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    await elector.stopAndRelease();
    client.close();
    log.info('stopped', { identity: config.identity });
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('unhandledRejection', (err) => {
    log.error('unhandled rejection', { error: errorText(err) });
    process.exit(1);
  });
}

if (require.main === module) {
  main();
} else {
  module.exports = {
    OUT_OF_SERVICE_TAINT_KEY,
    OUT_OF_SERVICE_TAINT_VALUE,
    OUT_OF_SERVICE_TAINT_EFFECT,
    VALID_ACTIONS,
    ConfigError,
    parseConfig,
    validateLabelSelector,
    formatMicroTime,
    formatTime,
    parseTime,
    nodeLostStatus,
    isNodeLost,
    isNodeReady,
    hasOutOfServiceTaint,
    addOutOfServiceTaint,
    leaseRecord,
    observeLease,
    decideLease,
    releasedLease,
    createLogger,
    createApiClient,
    ApiError,
    LeaderElector,
    FailoverReconciler,
    Stopper,
  };
}
