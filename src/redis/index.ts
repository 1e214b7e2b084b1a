export * from './config';
export * from './scripts';
