import { Duration, Size, SizeRoundingBehavior } from 'cdk8s';

/** @internal */
export const DEFAULT_REDIS_PORT = 6379;
/** @internal */
export const CLUSTER_BUS_PORT_OFFSET = 10000;

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

/** @internal */
export function optionError(option: string, value: unknown, accepted: string): Error {
  return new Error(`invalid ${option} ${describeValue(value)}: ${accepted}`);
}

/** @internal */
export function checkPort(option: string, port: number): number {
  if (!Number.isInteger(port) || port < 1 || port + CLUSTER_BUS_PORT_OFFSET > 65535) {
    throw optionError(option, port, `must be an integer from 1 to ${65535 - CLUSTER_BUS_PORT_OFFSET} (the cluster bus uses port + ${CLUSTER_BUS_PORT_OFFSET})`);
  }
  return port;
}

