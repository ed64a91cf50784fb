import { StreamNotFound, type EventStore, type RecordedEvent } from '../eventstore';

/** A stream's events, or none when it does not exist (yet): what tests of asynchronous reactions poll. */
export async function readStreamOrEmpty(store: EventStore, streamId: string): Promise<RecordedEvent[]> {
  try {
    return await store.readStream(streamId);
  } catch (e) {
    if (e instanceof StreamNotFound) return [];
    throw e;
  }
}
