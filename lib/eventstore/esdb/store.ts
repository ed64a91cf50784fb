/** EventStoreDB backend (work in progress). */
import type { EventStore } from '../types';

export class EsdbEventStore {
  constructor(_options: { connectionString: string; hmacKey: string | Buffer; onError?: (error: unknown) => void }) {
    throw new Error('The EventStoreDB backend is not implemented yet');
  }
}
export type _Check = EventStore;
