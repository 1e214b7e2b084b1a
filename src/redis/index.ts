export * from './config';
export * from './scripts';
export * from './resources';
export * from './flavour';
