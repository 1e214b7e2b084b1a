/**
 * jest globalSetup for the cluster test project: starts the local control
 * plane once and exports KUBECONFIG, K8S_WORK_DIR, KUBECTL and K8S_SERVER so
 * that the test workers (which inherit the environment) can reach it, e.g.
 * through attachControlPlane().
 *
 * Settings are read from the environment (see scripts/cluster/up.sh), e.g.
 * NODE_MONITOR_GRACE_PERIOD=30s npm run test:cluster
 * REUSE_CLUSTER=<work dir of a running up.sh cluster> runs the suite against
 * that cluster instead and leaves it running.
 */
import { attachControlPlane, ControlPlane, startControlPlane } from './control-plane';

export const CONTROL_PLANE_GLOBAL = '__cdk8sStatefulControlPlane';

/** Suite defaults: a short grace period keeps the node-loss tests to seconds, five nodes fit five required-spread replicas. */
const SUITE_DEFAULTS = { NODE_MONITOR_GRACE_PERIOD: '20s', KWOK_NODE_COUNT: '5' };

/** True when KEEP_CLUSTER=1 or REUSE_CLUSTER is set: the cluster outlives the jest run. */
export function keepCluster(): boolean {
  const name = 'KEEP_CLUSTER';
  return process.env[name] === '1' || reusedWorkDir() !== undefined;
}

function reusedWorkDir(): string | undefined {
  const name = 'REUSE_CLUSTER';
  return process.env[name] || undefined;
}

export default async function globalSetup(): Promise<void> {
  const reuse = reusedWorkDir();
  let controlPlane: ControlPlane;
  if (reuse) {
    controlPlane = attachControlPlane(reuse);
  } else {
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(SUITE_DEFAULTS)) env[name] = process.env[name] ?? value;
    controlPlane = await startControlPlane({ stopWithProcess: !keepCluster(), env });
  }
  Object.assign(process.env, controlPlane.env);
  (globalThis as Record<string, unknown>)[CONTROL_PLANE_GLOBAL] = controlPlane;
}

export function globalControlPlane(): ControlPlane | undefined {
  return (globalThis as Record<string, unknown>)[CONTROL_PLANE_GLOBAL] as ControlPlane | undefined;
}
