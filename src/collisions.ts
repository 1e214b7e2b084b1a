import { ApiObject } from 'cdk8s';
import { IConstruct } from 'constructs';

/** Kinds without a namespace: their names must be unique in the whole cluster, whatever chart emits them. */
const CLUSTER_SCOPED_KINDS = new Set([
  'Namespace', 'Node', 'PersistentVolume', 'StorageClass', 'CSIDriver', 'VolumeAttachment', 'PriorityClass', 'RuntimeClass',
  'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'APIService', 'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding', 'IngressClass',
]);

const REGISTERED = Symbol.for('cdk8s-stateful.collision-check');

/**
 * Makes synthesis of the app fail when two of its API objects share group, kind, namespace and name: kubectl would
 * apply both and the second would silently overwrite the first. Registered once per app, by every construct of
 * the library; it checks every object of the app, the user's own included.
 * @internal
 */
export function registerCollisionCheck(scope: IConstruct): void {
  const root = scope.node.root;
  if ((root as unknown as Record<symbol, boolean>)[REGISTERED]) return;
  Object.defineProperty(root, REGISTERED, { value: true });
  root.node.addValidation({ validate: () => findCollisions(root) });
}

/** @internal */
export function findCollisions(root: IConstruct): string[] {
  const seen = new Map<string, ApiObject>();
  const errors: string[] = [];
  for (const c of root.node.findAll()) {
    if (!ApiObject.isApiObject(c)) continue;
    const obj = c as ApiObject;
    const group = obj.apiVersion.includes('/') ? obj.apiVersion.split('/')[0] : '';
    const clusterScoped = CLUSTER_SCOPED_KINDS.has(obj.kind);
    const namespace = clusterScoped ? '' : obj.metadata.namespace ?? '';
    const key = `${group}|${obj.kind}|${namespace}|${obj.name}`;
    const first = seen.get(key);
    if (first === undefined) {
      seen.set(key, obj);
      continue;
    }
    const where = clusterScoped ? ' (cluster-scoped: one per cluster)'
      : namespace === '' ? ' (no namespace: both land in the namespace they are applied to)' : ` in namespace "${namespace}"`;
    errors.push(`${obj.kind} "${obj.name}"${where} is emitted twice, by ${first.node.path} and by ${obj.node.path}: `
      + 'the second would overwrite the first when applied; give one of them another name (its name prop) or, for an object '
      + 'both should share (a StorageClass, say), create it once and pass it to both');
  }
  return errors;
}
