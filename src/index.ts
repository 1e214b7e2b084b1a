export * from './probe';
export * from './storage-class';
export * from './stateful-workload';
export * from './failover-budget';
export * from './failover-controller';
export * from './rwop-stateful-app';
