/**
 * What readAll costs the EventStoreDB backend against the server double: records the server sends
 * and requests per call, on a log of 5000 events (one system event per ten).
 *
 *   npx tsx lib/eventstore/esdb/testing/read-cost.ts
 */
import { newEventId } from '../../envelope';
import type { ReadAllOptions } from '../../types';
import { EsdbEventStore } from '../store';
import { EsdbServerDouble } from './server-double';

const server = new EsdbServerDouble({ latencyMs: 1 });
for (let i = 0; i < 5000; i++) {
  server.write(`s-${i % 50}`, [{ id: newEventId(), type: 'E', data: { i }, metadata: {} }]);
  if (i % 10 === 0) server.write(`$$s-${i}`, [{ id: newEventId(), type: '$metadata', data: {} }]);
}
const store = new EsdbEventStore({ connectionString: 'esdb://read-cost:2113?tls=false', hmacKey: 'cost-key-cost-key-cost-key', createClient: () => server.client() });
const cases: [string, ReadAllOptions][] = [
  ['maxCount 10', { maxCount: 10 }],
  ['maxCount 1000', { maxCount: 1000 }],
  ['backwards maxCount 1', { direction: 'backwards', maxCount: 1 }],
  ['filtered (1 stream of 50), maxCount 20', { filter: { streamPrefixes: ['s-7'] }, maxCount: 20 }],
  ['filtered (1 stream of 50), all of it', { filter: { streamPrefixes: ['s-7'] }, maxCount: 100_000 }],
];
for (const [name, options] of cases) {
  const sent = server.callCounts.get('eventsRead') ?? 0;
  const calls = server.callCounts.get('readAll') ?? 0;
  const start = process.hrtime.bigint();
  const got = (await store.readAll(options)).length;
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  console.log(`${name}: ${got} returned, ${(server.callCounts.get('eventsRead') ?? 0) - sent} records sent, ${(server.callCounts.get('readAll') ?? 0) - calls} requests, ${ms.toFixed(1)} ms`);
}
await store.close();
