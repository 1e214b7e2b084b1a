/**
 * jest globalTeardown for the cluster test project: stops the control plane
 * started by global-setup.ts. KEEP_CLUSTER=1 (or REUSE_CLUSTER) leaves it running
 * (stop it later with scripts/cluster/down.sh "$K8S_WORK_DIR").
 */
import { globalControlPlane, keepCluster } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const controlPlane = globalControlPlane();
  if (!controlPlane) {
    return;
  }
  if (keepCluster()) {
    process.stderr.write(`KEEP_CLUSTER=1 or REUSE_CLUSTER: control plane left running in ${controlPlane.workDir}\n`);
    return;
  }
  await controlPlane.stop();
}
