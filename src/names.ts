/**
 * The name and label syntax of the Kubernetes API, as predicates without dependencies: the constructs (through
 * src/validation.ts) and the bundled failover controller program (through src/failover/contract.ts) share them.
 * @internal
 */

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** @internal */
export function isDnsLabel(value: unknown, max = 63): boolean {
  return typeof value === 'string' && value.length <= max && DNS1123_LABEL.test(value);
}

/** @internal */
export function isDnsSubdomain(value: unknown): boolean {
  return typeof value === 'string' && value.length <= 253 && DNS1123_SUBDOMAIN.test(value);
}

/** A label, annotation, node-selector or taint key: an optional DNS-subdomain prefix and one "/", then a name. @internal */
export function isLabelKey(key: unknown): boolean {
  if (typeof key !== 'string') return false;
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && !isDnsSubdomain(prefix)) return false;
  return name.length > 0 && name.length <= 63 && LABEL_NAME.test(name);
}

/** @internal */
export function isLabelValue(value: unknown): boolean {
  return typeof value === 'string' && (value === '' || (value.length <= 63 && LABEL_NAME.test(value)));
}
