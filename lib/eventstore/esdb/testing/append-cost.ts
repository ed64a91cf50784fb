/**
 * What an append costs the EventStoreDB backend, measured against the server double with a fixed
 * latency per request (a LAN round trip): wall time per append and requests per append.
 *
 *   npx tsx lib/eventstore/esdb/testing/append-cost.ts [latencyMs=1] [appends=300]
 */
import { ev } from '../../testing/contract';
import { EsdbEventStore } from '../store';
import { EsdbServerDouble } from './server-double';

const latencyMs = Number(process.argv[2] ?? 1);
const appends = Number(process.argv[3] ?? 300);

async function measure(eventsPerAppend: number, streams: number) {
  const server = new EsdbServerDouble({ latencyMs });
  const store = new EsdbEventStore({ connectionString: `esdb://cost-${eventsPerAppend}-${streams}:2113?tls=false`, hmacKey: 'cost-key-cost-key-cost-key', createClient: () => server.client() });
  const requests = () => (server.callCounts.get('read') ?? 0) + server.batchAppendCalls.reduce((n, c) => n + c.written.length, 0);
  const before = requests();
  const eventsReadBefore = server.callCounts.get('eventsRead') ?? 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < appends; i++) await store.append(`cost-${i % streams}`, Array.from({ length: eventsPerAppend }, () => ev('E', { i })));
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const perAppend = (requests() - before) / appends;
  const eventsRead = ((server.callCounts.get('eventsRead') ?? 0) - eventsReadBefore) / appends;
  await store.close();
  return { eventsPerAppend, streams, msPerAppend: +(ms / appends).toFixed(2), appendsPerSecond: Math.round((appends * 1000) / ms), requestsPerAppend: +perAppend.toFixed(2), eventsReadPerAppend: +eventsRead.toFixed(1) };
}

const rows = [];
for (const [events, streams] of [
  [1, 1],
  [1, 50],
  [5, 50],
  [5, 1],
]) rows.push(await measure(events!, streams!));
console.log(JSON.stringify({ latencyMs, appends, rows }, null, 1));
