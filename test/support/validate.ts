import { Chart, Testing } from 'cdk8s';

/**
 * Validates every object against the Kubernetes OpenAPI schema (kubernetes-models) and returns the synthesized manifests.
 * Objects of kinds the schema package does not model (custom resources) must be listed in `customKinds`.
 */
export function synthValid(chart: Chart, customKinds: string[] = []): any[] {
  const manifests = Testing.synth(chart);
  for (const manifest of manifests) validateManifest(manifest, customKinds);
  return manifests;
}

export function validateManifest(manifest: any, customKinds: string[] = []): void {
  const { apiVersion, kind } = manifest;
  if (customKinds.includes(kind)) return;
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : [undefined, apiVersion];
  const modulePath = group ? `kubernetes-models/${group}/${version}/${kind}` : `kubernetes-models/${version}/${kind}`;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const model = require(modulePath)[kind];
  if (!model) throw new Error(`no schema model for ${apiVersion} ${kind}`);
  try {
    new model(manifest).validate();
  } catch (e) {
    throw new Error(`${kind} ${manifest.metadata?.name} fails the Kubernetes schema: ${(e as Error).message}`);
  }
}

export function findObject(manifests: any[], kind: string, name?: string): any {
  const found = manifests.filter((m) => m.kind === kind && (name === undefined || m.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0];
}
