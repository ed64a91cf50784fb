export * from './decider';
export * from './errors';
export * from './events';
export * from './money';
export * from './streams';
export * from './time';
