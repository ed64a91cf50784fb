/**
 * Resident memory of the processes a benchmark started (bench/http.ts): the web server and the worker,
 * found among this process's descendants by their script, sampled from /proc/<pid>/status (VmRSS).
 * `npm start` runs each through tsx: a launcher process, the Node process that runs the script (the one
 * measured), and tsx's esbuild service under it; the launcher and esbuild are reported beside it.
 */
import fs from 'node:fs';

interface ProcessRow {
  pid: number;
  ppid: number;
  cmdline: string;
}

function processes(): ProcessRow[] {
  const rows: ProcessRow[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command name in /proc/<pid>/stat may hold spaces and parentheses: the fields follow the last ')'.
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      rows.push({ pid: Number(entry), ppid, cmdline });
    } catch {
      /* exited meanwhile */
    }
  }
  return rows;
}

function descendantsOf(root: number, rows: ProcessRow[]): ProcessRow[] {
  const out: ProcessRow[] = [];
  const queue = [root];
  while (queue.length) {
    const parent = queue.shift()!;
    for (const r of rows) if (r.ppid === parent) { out.push(r); queue.push(r.pid); }
  }
  return out;
}

/** VmRSS of `pid` in MiB, or null when it has exited. */
export function rssMiB(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

export interface RoleProcesses {
  /** The Node process running the script. */
  main: number;
  /** The tsx launcher above it and helpers below it (esbuild). */
  others: number[];
}

/** Among this process's descendants: the process running `script` (the one with tsx's loader), its launcher and its own children. */
export function findScriptProcess(script: string): RoleProcesses | null {
  const rows = processes();
  const mine = descendantsOf(process.pid, rows).filter((r) => r.cmdline.includes(script));
  const main = mine.find((r) => r.cmdline.includes('loader.mjs')) ?? mine.at(-1);
  if (!main) return null;
  const others = [...mine.filter((r) => r.pid !== main.pid), ...descendantsOf(main.pid, rows)].map((r) => r.pid);
  return { main: main.pid, others };
}

export interface RssSummary {
  peakMiB: number;
  endMiB: number;
  /** The launcher and helpers' peak together (beside the main process). */
  othersPeakMiB: number;
  samples: number;
  /** The peak while each part ran (named with mark()). */
  peakByPartMiB: Record<string, number>;
}

/** Samples the main process (and the others) every `everyMs` until stop(); mark(part) names what runs from now on. */
export function sampleRss(roles: Record<string, RoleProcesses>, everyMs = 250): { mark(part: string): void; stop(): Record<string, RssSummary> } {
  const summary: Record<string, RssSummary> = Object.fromEntries(Object.keys(roles).map((k) => [k, { peakMiB: 0, endMiB: 0, othersPeakMiB: 0, samples: 0, peakByPartMiB: {} }]));
  let part = 'start';
  const sample = () => {
    for (const [name, p] of Object.entries(roles)) {
      const main = rssMiB(p.main);
      if (main === null) continue;
      const s = summary[name]!;
      s.peakMiB = Math.max(s.peakMiB, main);
      s.endMiB = main;
      s.othersPeakMiB = Math.max(s.othersPeakMiB, p.others.reduce((n, pid) => n + (rssMiB(pid) ?? 0), 0));
      s.samples++;
      s.peakByPartMiB[part] = Math.round(Math.max(s.peakByPartMiB[part] ?? 0, main));
    }
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    mark(next: string) {
      sample();
      part = next;
    },
    stop() {
      clearInterval(timer);
      sample();
      return summary;
    },
  };
}

/** CPU time (user + system) `pid` has used so far, in ms; null when it has exited. */
export function cpuMs(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime: fields 14 and 15 of stat, 12 and 13 after the command name and state.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

/** Linux's USER_HZ: 100 on every architecture Node runs on. */
const CLOCK_TICKS = 100;

/** CPU time used so far by every PostgreSQL server process on this machine (all databases: the benchmark's server is shared), in ms. */
export function postgresCpuMs(): number {
  let total = 0;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'postgres') total += cpuMs(Number(entry)) ?? 0;
    } catch {
      /* exited meanwhile */
    }
  }
  return total;
}
