/**
 * jest globalSetup for the cluster test project: starts the local control
 * plane once and exports KUBECONFIG, K8S_WORK_DIR, KUBECTL and K8S_SERVER so
 * that the test workers (which inherit the environment) can reach it, e.g.
 * through attachControlPlane().
 *
 * Settings are read from the environment (see scripts/cluster/up.sh), e.g.
 * NODE_MONITOR_GRACE_PERIOD=20s npm run test:cluster
 */
import { ControlPlane, startControlPlane } from './control-plane';

export const CONTROL_PLANE_GLOBAL = '__cdk8sStatefulControlPlane';

/** True when KEEP_CLUSTER=1: the cluster outlives the jest run. */
export function keepCluster(): boolean {
  const name = 'KEEP_CLUSTER';
  return process.env[name] === '1';
}

export default async function globalSetup(): Promise<void> {
  const controlPlane = await startControlPlane({ stopWithProcess: !keepCluster() });
  Object.assign(process.env, controlPlane.env);
  (globalThis as Record<string, unknown>)[CONTROL_PLANE_GLOBAL] = controlPlane;
}

export function globalControlPlane(): ControlPlane | undefined {
  return (globalThis as Record<string, unknown>)[CONTROL_PLANE_GLOBAL] as ControlPlane | undefined;
}
