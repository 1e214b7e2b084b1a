import { describeValue } from '../validation';

/** @internal */
export const DEFAULT_REDIS_PORT = 6379;
/** @internal */
export const CLUSTER_BUS_PORT_OFFSET = 10000;

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

