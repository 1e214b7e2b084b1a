/** The status command of cdk8s-stateful as a library (also reachable as 'cdk8s-stateful/status'). */
export * from './status/index';
