/**
 * The contract suite against EventStoreDB. Needs a server: EVENTSTORE_URL=esdb://127.0.0.1:2113?tls=false
 * (a scratch insecure server; see docs/eventstore.md). Without it the whole run is reported as skipped,
 * never as passed. store.double.test.ts covers the backend against a server double meanwhile.
 */
import { describe } from 'vitest';
import { chainEvents, prepareEvents } from '../envelope';
import { eventStoreContract, ev } from '../testing/contract';
import type { EventStore } from '../types';
import { toEventData } from './mapping';
import { EsdbEventStore } from './store';

const url = process.env.EVENTSTORE_URL;
// A fixed key: a shared server keeps the streams of earlier runs, and the whole-log check reads them too.
const HMAC_KEY = 'test-key-for-the-event-store-contract-suite';

if (!url) console.log('[eventstore] EVENTSTORE_URL is not set: the EventStoreDB contract run is SKIPPED (PostgreSQL runs always).');

describe.skipIf(!url)('EventStoreDB backend', () => {
  eventStoreContract('EventStoreDB', {
    create: async () => new EsdbEventStore({ connectionString: url!, hmacKey: HMAC_KEY, standbyRetryMs: 500 }),
    // Persistent subscriptions notice a dead connection quickly, then retry its messages.
    takeoverMs: 15_000,
    // The server keeps the group with a live connection (keep-alive 10 s would drop a dead one).
    standbyWatchMs: 2000,
    tamper: async (store: EventStore, streamId: string) => {
      // EventStoreDB cannot change a stored event: forge the next one with a chain computed under another key.
      const esdb = store as EsdbEventStore;
      const [last] = await esdb.readStream(streamId, { direction: 'backwards', maxCount: 1 });
      const forged = chainEvents('not-the-real-key-not-the-real-key', streamId, prepareEvents(streamId, [ev('Forged')]), last!.revision + 1, last!.metadata.integrity.hash);
      await esdb.client.appendToStream(streamId, forged.events.map(toEventData), { expectedRevision: BigInt(last!.revision) });
      return last!.revision + 1;
    },
  });
});
