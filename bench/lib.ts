/** Shared helpers for benchmarks (not tests): machine description, percentiles, result files, tables. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import type { ScratchDatabase } from '@/lib/db/scratch';

export interface Figure {
  name: string;
  value: number;
  unit: string;
}

export interface BenchResult {
  machine: Record<string, unknown>;
  figures: Figure[];
}

export const resultsDir = path.resolve(import.meta.dirname, 'results');

export function machineInfo(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    loadAverage1m: Math.round(os.loadavg()[0]! * 100) / 100,
    ...extra,
  };
}

/** machineInfo plus the PostgreSQL the benchmark ran on: version, server, durability settings. */
export async function benchMachine(scratch: ScratchDatabase, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const sql = postgres(scratch.url, { max: 1, onnotice: () => {} });
  try {
    const [pg] = await sql<{ version: string; fsync: string; synchronous_commit: string }[]>`
      select current_setting('server_version') as version, current_setting('fsync') as fsync, current_setting('synchronous_commit') as synchronous_commit`;
    return machineInfo({ postgres: `PostgreSQL ${pg!.version}`, postgresServer: scratch.server, fsync: pg!.fsync, synchronousCommit: pg!.synchronous_commit, ...extra });
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** p in [0, 100], nearest-rank on a copy of the samples. */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/**
 * The file a benchmark's result goes to: bench/results/<name>.json, or with BENCH_RESULT_PREFIX set
 * (bench/scale.ts runs the other benchmarks at 1M events with `scale-`) <prefix><name>.json, so a
 * run at another size does not overwrite the default one.
 */
export function resultFile(name: string): string {
  return path.join(resultsDir, `${process.env.BENCH_RESULT_PREFIX ?? ''}${name}.json`);
}

export function writeResult(name: string, result: BenchResult): string {
  fs.mkdirSync(resultsDir, { recursive: true });
  const file = resultFile(name);
  fs.writeFileSync(file, `${JSON.stringify(result, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
  return file;
}

export function printTable(title: string, figures: Figure[]): void {
  const width = Math.max(...figures.map((f) => f.name.length), 10);
  console.log(`\n${title}`);
  console.log(`${'figure'.padEnd(width)}  ${'value'.padStart(12)}  unit`);
  console.log(`${'-'.repeat(width)}  ${'-'.repeat(12)}  ----`);
  for (const f of figures) console.log(`${f.name.padEnd(width)}  ${String(f.value).padStart(12)}  ${f.unit}`);
}

/** Runs `worker(i)` on `concurrency` loops until `durationMs` has passed; returns operations done. */
export async function runFor(durationMs: number, concurrency: number, worker: (loop: number, iteration: number) => Promise<void>): Promise<{ ops: number; elapsedMs: number }> {
  const start = performance.now();
  const deadline = start + durationMs;
  let ops = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, loop) => {
      for (let i = 0; performance.now() < deadline; i++) {
        await worker(loop, i);
        ops++;
      }
    }),
  );
  return { ops, elapsedMs: performance.now() - start };
}

/** True when the module at `metaUrl` is the script node was started with. */
export function isMain(metaUrl: string): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  return path.resolve(entry) === path.resolve(new URL(metaUrl).pathname);
}
