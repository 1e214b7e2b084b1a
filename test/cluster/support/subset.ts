/**
 * "Nothing is lost": every field of an applied manifest must be in the live
 * object with the same value. The live object may have more (defaults, status).
 *
 * Only what the API server legitimately canonicalizes is normalized; each rule
 * is listed in NORMALIZATIONS (and in docs/verified-against-kubernetes.md).
 */

export interface Difference {
  readonly path: string;
  readonly expected: unknown;
  readonly actual: unknown;
}

/** A rule that lets a written value and the value read back differ. */
interface Normalization {
  readonly id: string;
  readonly why: string;
  readonly applies: (path: string, expected: unknown, actual: unknown) => boolean;
}

const QUANTITY = /^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?$/;
const SUFFIX: Record<string, bigint> = {
  '': 1n, 'm': 1n, 'k': 1000n, 'M': 1000n ** 2n, 'G': 1000n ** 3n, 'T': 1000n ** 4n, 'P': 1000n ** 5n, 'E': 1000n ** 6n,
  'Ki': 1024n, 'Mi': 1024n ** 2n, 'Gi': 1024n ** 3n, 'Ti': 1024n ** 4n, 'Pi': 1024n ** 5n, 'Ei': 1024n ** 6n,
};

/** Exact value of a quantity in thousandths (so "1", "1000m" and "1.0" compare equal); undefined if not a quantity. */
export function quantityMillis(q: unknown): bigint | undefined {
  if (typeof q !== 'string' && typeof q !== 'number') return undefined;
  const m = QUANTITY.exec(String(q));
  if (!m) return undefined;
  const [whole, fraction = ''] = m[1].split('.');
  const suffix = m[2] ?? '';
  const scaled = BigInt(whole + fraction) * SUFFIX[suffix] * (suffix === 'm' ? 1n : 1000n);
  const divisor = 10n ** BigInt(fraction.length);
  return scaled % divisor === 0n ? scaled / divisor : undefined;
}

/** Paths whose values are resource.Quantity in the Kubernetes API. */
const QUANTITY_PATH = /(\.resources\.(requests|limits)\.[^.]+|\.capacity\.[^.]+|\.emptyDir\.sizeLimit)$/;

/**
 * Fields that are plain (non-pointer) Go values tagged omitempty: the zero value the library writes explicitly
 * (false, 0) is dropped when the object is serialized, and reading it back gives "absent", which means the same.
 */
const OMITTED_ZERO_FIELDS: Array<{ path: RegExp; goField: string }> = [
  { path: /Probe\.initialDelaySeconds$/, goField: 'core/v1 Probe.InitialDelaySeconds int32 `json:"initialDelaySeconds,omitempty"`' },
  { path: /\.spec\.publishNotReadyAddresses$/, goField: 'core/v1 ServiceSpec.PublishNotReadyAddresses bool `json:"publishNotReadyAddresses,omitempty"`' },
  { path: /\.persistentVolumeClaim\.readOnly$/, goField: 'core/v1 PersistentVolumeClaimVolumeSource.ReadOnly bool `json:"readOnly,omitempty"`' },
];

export const NORMALIZATIONS: Normalization[] = [
  {
    id: 'quantity-canonical-form',
    why: 'resource.Quantity values are stored in canonical form ("1000m" reads back as "1", "1024Mi" as "1Gi"); the amounts are compared exactly instead',
    applies: (p, e, a) => QUANTITY_PATH.test(p) && quantityMillis(e) !== undefined && quantityMillis(e) === quantityMillis(a),
  },
  {
    id: 'omitempty-zero-value',
    why: `the zero value of a non-pointer omitempty field reads back as absent: ${OMITTED_ZERO_FIELDS.map((f) => f.goField).join('; ')}`,
    applies: (p, e, a) => a === undefined && (e === false || e === 0) && OMITTED_ZERO_FIELDS.some((f) => f.path.test(p)),
  },
];

/** Which normalizations were needed, with how often (for the report). */
export type NormalizationUse = Record<string, number>;

/** Differences between `expected` (what was written) and `actual` (what was read back), as a deep subset. */
export function subsetDifferences(expected: unknown, actual: unknown, path = '', used: NormalizationUse = {}): Difference[] {
  if (expected === undefined || expected === null) return [];
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return [{ path, expected, actual }];
    return expected.flatMap((e, i) => subsetDifferences(e, actual[i], `${path}[${i}]`, used));
  }
  if (typeof expected === 'object') {
    if (typeof actual !== 'object' || actual === null || Array.isArray(actual)) {
      return [{ path, expected, actual }];
    }
    return Object.entries(expected as Record<string, unknown>).flatMap(([k, v]) =>
      subsetDifferences(v, (actual as Record<string, unknown>)[k], `${path}.${k}`, used));
  }
  if (expected === actual) return [];
  for (const n of NORMALIZATIONS) {
    if (n.applies(path, expected, actual)) {
      used[n.id] = (used[n.id] ?? 0) + 1;
      return [];
    }
  }
  return [{ path, expected, actual }];
}
