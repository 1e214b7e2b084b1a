import { ApiObject, Chart, Duration, JsonPatch, Size, SizeRoundingBehavior } from 'cdk8s';
import { IConstruct } from 'constructs';
import { isDnsLabel, isDnsSubdomain, isLabelKey, isLabelValue } from './names';

/**
 * The one shape every bad-input error takes: who (construct path), which prop, what value, what is accepted.
 * @internal
 */
export function propError(scope: IConstruct, prop: string, value: unknown, accepted: string): Error {
  return new Error(`${scope.node.path}: invalid ${prop} ${describeValue(value)}: ${accepted}`);
}

/** @internal */
export function describeValue(value: unknown): string {
  if (value instanceof Duration) {
    return `(${value.toHumanString()})`;
  }
  if (value instanceof Size) {
    return `(${value.toKibibytes({ rounding: SizeRoundingBehavior.NONE })} KiB)`;
  }
  if (value === undefined) {
    return '(unset)';
  }
  return `(${JSON.stringify(value)})`;
}

/** Every integer field of the Kubernetes API this library writes is an int32. */
export const INT32_MAX = 2147483647;


/** @internal */
export function checkDnsLabel(scope: IConstruct, prop: string, value: string, maxLength = 63): string {
  if (!isDnsLabel(value, maxLength)) {
    throw propError(scope, prop, value,
      `must be a DNS label: at most ${maxLength} characters of lower-case letters, digits and '-', starting and ending with a letter or digit`);
  }
  return value;
}

/** @internal */
export function checkDnsSubdomain(scope: IConstruct, prop: string, value: string): string {
  if (!isDnsSubdomain(value)) {
    throw propError(scope, prop, value,
      'must be a DNS subdomain: at most 253 characters of lower-case letters, digits, \'-\' and \'.\'');
  }
  return value;
}

/** @internal */
export function checkInteger(scope: IConstruct, prop: string, value: number, min: number, max = INT32_MAX): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === INT32_MAX ? `${min} to ${INT32_MAX} (int32)` : `${min} to ${max}`;
    throw propError(scope, prop, value, `must be a whole number ${range}`);
  }
  return value;
}

/** @internal */
export function checkPort(scope: IConstruct, prop: string, value: number): number {
  return checkInteger(scope, prop, value, 1, 65535);
}

/**
 * Whole seconds, because every Kubernetes duration field these constructs write is an integer of seconds.
 * @internal
 */
export function wholeSeconds(scope: IConstruct, prop: string, value: Duration, min: number, max = INT32_MAX): number {
  const range = max === INT32_MAX ? `at least ${min} s` : `${min} s to ${max} s`;
  let ms: number;
  try {
    ms = value.toMilliseconds();
  } catch (err) {
    // a Duration of NaN or another unit cdk8s cannot convert: say which prop, not only what cdk8s says
    throw propError(scope, prop, String(value), `must be a whole number of seconds, ${range} (${(err as Error).message})`);
  }
  if (!Number.isFinite(ms) || ms % 1000 !== 0 || ms / 1000 < min || ms / 1000 > max) {
    throw propError(scope, prop, value, `must be a whole number of seconds, ${range}`);
  }
  return ms / 1000;
}

/**
 * A Size as the shortest exact Kubernetes quantity (20Gi, 512Mi); sizes below one MiB or not a whole number of MiB are refused.
 * @internal
 */
export function sizeQuantity(scope: IConstruct, prop: string, value: Size, minMebibytes = 1): string {
  const kib = value.toKibibytes({ rounding: SizeRoundingBehavior.NONE });
  if (!Number.isInteger(kib) || kib % 1024 !== 0 || kib / 1024 < minMebibytes) {
    throw propError(scope, prop, value, `must be a whole number of MiB, at least ${minMebibytes} MiB (for example Size.gibibytes(20))`);
  }
  const mib = kib / 1024;
  if (mib % (1024 * 1024) === 0) return `${mib / (1024 * 1024)}Ti`;
  if (mib % 1024 === 0) return `${mib / 1024}Gi`;
  return `${mib}Mi`;
}

/** @internal */
export function checkLabels(scope: IConstruct, prop: string, labels: { [key: string]: string } | undefined): void {
  for (const [key, value] of Object.entries(labels ?? {})) {
    checkQualifiedName(scope, `${prop} key`, key);
    checkLabelValue(scope, `${prop}["${key}"]`, value);
  }
}

/**
 * A label, annotation, node-selector or taint key: an optional DNS-subdomain prefix and one "/", then a name.
 * @internal
 */
export function checkQualifiedName(scope: IConstruct, prop: string, key: string): string {
  if (!isLabelKey(key)) {
    throw propError(scope, prop, key, 'must be a qualified name: an optional DNS-subdomain prefix and one "/", then at most 63 characters of [A-Za-z0-9-_.] starting and ending alphanumeric');
  }
  return key;
}

/** @internal */
export function checkLabelValue(scope: IConstruct, prop: string, value: string): string {
  if (!isLabelValue(value)) {
    throw propError(scope, prop, value, 'must be a label value: at most 63 characters of [A-Za-z0-9-_.], starting and ending alphanumeric');
  }
  return value;
}

/**
 * A value of a string enum, checked at run time too: JavaScript callers and the other jsii languages can pass any string.
 * @internal
 */
export function checkEnum<T extends string>(scope: IConstruct, prop: string, value: T, enumObject: { [key: string]: string }, enumName: string): T {
  const values = Object.values(enumObject);
  if (!values.includes(value)) {
    throw propError(scope, prop, value, `must be one of ${enumName} (${values.map((v) => JSON.stringify(v)).join(', ')})`);
  }
  return value;
}

/**
 * A prop the API requires; checked at run time for JavaScript callers, who can leave it out.
 * @internal
 */
export function required<T>(scope: IConstruct, prop: string, value: T | undefined | null): T {
  if (value === undefined || value === null) throw propError(scope, prop, value, 'is required');
  return value;
}

/**
 * cdk8s gives every object the chart's namespace; cluster-scoped objects must not carry one.
 * @internal
 */
export function clusterScoped(obj: ApiObject): void {
  if (Chart.of(obj).namespace !== undefined) {
    obj.addJsonPatch(JsonPatch.remove('/metadata/namespace'));
  }
}

/**
 * A pod termination grace period in whole seconds; 0 is refused because it turns every delete into a force delete.
 * @internal
 */
export function gracePeriodSeconds(scope: IConstruct, prop: string, value: Duration): number {
  const seconds = wholeSeconds(scope, prop, value, 0);
  if (seconds === 0) {
    throw propError(scope, prop, value,
      'must be at least 1 s: with 0 an ordinary delete removes the pod object at once like a force delete (two pods with one identity become possible) and the kubelet skips the preStop hook');
  }
  return seconds;
}
