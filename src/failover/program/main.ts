/**
 * Failover controller for single-replica StatefulSets on a ReadWriteOncePod volume.
 *
 * When the node of the watched pod is lost (its kubelet heartbeat Lease silent for a threshold, or its Ready
 * condition not True for a threshold), the leader taints the node node.kubernetes.io/out-of-service, so that the
 * attach/detach controller force-detaches its volumes at once, and force-deletes the pod (grace period 0, uid
 * precondition), so that the StatefulSet controller creates the replacement.
 *
 * Only for clusters whose lost nodes are fenced (powered off or isolated): force-deleting a pod on a node that
 * still runs breaks the at-most-one guarantee of the StatefulSet.
 *
 * Replicas stay single-active through a coordination.k8s.io/v1 Lease. Configuration comes from environment
 * variables (see ../contract.ts and ./config.ts); logs are JSON lines on stdout.
 */
import * as fs from 'fs';
import { createApiClient, USER_AGENT } from './api';
import { ConfigError, parseConfig } from './config';
import { LeaderElector } from './election';
import { startHealthServer } from './health';
import { FailoverReconciler } from './reconciler';
import { createLogger, errorText, monotonicNow, Stopper } from './util';

function readable(label: string, file: string, errors: string[]): void {
  try {
    fs.accessSync(file, fs.constants.R_OK);
  } catch (err) {
    errors.push(`${label} ${file} is not readable: ${(err as NodeJS.ErrnoException).code ?? errorText(err)}`);
  }
}

export function main(): void {
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
  const healthPort = Number(process.env.HEALTH_PORT ?? '0');
  const fileErrors: string[] = [];
  if (!Number.isInteger(healthPort) || healthPort < 0 || healthPort > 65535) fileErrors.push(`HEALTH_PORT must be a port number or 0 (got "${process.env.HEALTH_PORT}")`);
  const api = config.api;
  if (api.tokenFile) readable(api.inCluster ? 'service account token' : 'KUBE_TOKEN_FILE', api.tokenFile, fileErrors);
  if (api.caFile && api.server.startsWith('https:')) readable(api.inCluster ? 'service account CA' : 'KUBE_CA_FILE', api.caFile, fileErrors);
  if (api.clientCertFile) readable('KUBE_CLIENT_CERT_FILE', api.clientCertFile, fileErrors);
  if (api.clientKeyFile) readable('KUBE_CLIENT_KEY_FILE', api.clientKeyFile, fileErrors);
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

  // A pass makes a few requests, each bounded by the request timeout; much longer without one ending means stuck.
  let lastPassEnd = monotonicNow();
  const staleAfterMs = (config.checkIntervalSeconds + 4 * config.requestTimeoutSeconds + 5) * 1000;
  const health = healthPort > 0 ? startHealthServer(healthPort, { lastPassEnd: () => lastPassEnd, staleAfterMs, mono: monotonicNow }) : undefined;

  log.info('starting', {
    identity: config.identity,
    namespace: config.namespace,
    watchedPod: config.watchedPod,
    podSelector: config.podSelector,
    actions: { taint: config.taint, forceDelete: config.forceDelete },
    notReadyThresholdSeconds: config.notReadyThresholdSeconds,
    heartbeatThresholdSeconds: config.heartbeatThresholdSeconds,
    checkIntervalSeconds: config.checkIntervalSeconds,
    lease: config.leaseName,
    leaseDurationSeconds: config.leaseDurationSeconds,
    renewDeadlineSeconds: config.renewDeadlineSeconds,
    retryPeriodSeconds: config.retryPeriodSeconds,
    dryRun: config.dryRun,
    apiServer: api.server,
    inCluster: api.inCluster,
    healthPort: healthPort || undefined,
  });

  elector.start().catch((err) => {
    log.error('leader election loop failed', { error: errorText(err) });
    process.exit(1);
  });

  let reconciling: Promise<void> = Promise.resolve();
  const reconcileLoop = async () => {
    while (!stopper.stopped) {
      reconciling = reconciler.reconcile().catch((err) => log.error('reconcile failed', { error: errorText(err) }));
      await reconciling;
      lastPassEnd = monotonicNow();
      await stopper.sleep(config.checkIntervalSeconds * 1000);
    }
  };
  reconcileLoop().catch((err) => {
    log.error('reconcile loop failed', { error: errorText(err) });
    process.exit(1);
  });

  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) {
      log.warn('second signal, exiting without releasing the lease', { signal });
      process.exit(1);
    }
    shuttingDown = true;
    log.info('shutting down', { signal });
    stopper.stop();
    health?.close();
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

if (require.main === module) main();
