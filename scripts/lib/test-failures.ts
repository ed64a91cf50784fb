/**
 * The failed tests of a run, one line each (file › title: the start of the error), from the JSON
 * reports of Vitest and Playwright. `npm test` prints them last, so that the tail of a long CI log
 * says which tests failed and why, not only how many.
 */
import path from 'node:path';

export interface VitestResults {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  testResults?: { name: string; assertionResults?: { fullName: string; status: string; failureMessages?: string[] }[] }[];
}

interface PlaywrightSuite {
  title: string;
  specs?: { title: string; file: string; line: number; ok: boolean; tests?: { results?: { error?: { message?: string } }[] }[] }[];
  suites?: PlaywrightSuite[];
}
export interface PlaywrightResults {
  stats: { expected: number; unexpected: number; skipped: number; flaky: number };
  suites?: PlaywrightSuite[];
}

export function vitestFailures(results: VitestResults, root = process.cwd()): string[] {
  return (results.testResults ?? []).flatMap((file) =>
    (file.assertionResults ?? [])
      .filter((t) => t.status === 'failed')
      .map((t) => `${path.relative(root, file.name)} › ${t.fullName}: ${startOf(t.failureMessages?.[0])}`),
  );
}

export function playwrightFailures(results: PlaywrightResults): string[] {
  const failed: string[] = [];
  const walk = (suites: readonly PlaywrightSuite[], titles: readonly string[]) => {
    for (const suite of suites) {
      // A file's own suite is titled by its file name, already in each spec's location.
      const within = suite.title && !/\.(spec|test)\.[cm]?[jt]s$/.test(suite.title) ? [...titles, suite.title] : titles;
      for (const spec of suite.specs ?? []) {
        if (spec.ok) continue;
        const error = spec.tests?.flatMap((t) => t.results ?? []).find((r) => r.error)?.error?.message;
        failed.push(`${spec.file}:${spec.line} › ${[...within, spec.title].join(' › ')}: ${startOf(error)}`);
      }
      walk(suite.suites ?? [], within);
    }
  };
  walk(results.suites ?? [], []);
  return failed;
}

/** The start of an error message: up to three lines without stack frames or terminal colours (fast-check puts
 * the seed that reproduces a failure on its second line), at most 400 characters. */
export function startOf(message: string | undefined): string {
  // eslint-disable-next-line no-control-regex
  const lines = (message ?? 'no message').replace(/\u001b\[[0-9;]*m/g, '').split('\n').map((l) => l.trim());
  return lines.filter((l) => l && !l.startsWith('at ')).slice(0, 3).join(' | ').slice(0, 400);
}
