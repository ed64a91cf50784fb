import { describe, expect, it } from 'vitest';
import { playwrightFailures, startOf, vitestFailures } from './test-failures';

describe('the failed tests named at the end of npm test', () => {
  it('Vitest: only the failed ones, by file and full name, with the error and fast-check seed but no stack', () => {
    const message = '\u001b[31mError: Property failed after 12 tests\u001b[39m\n{ seed: -1786, path: "11:0", endOnFailure: true }\nCounterexample: [1]\n    at run (file.ts:1:1)';
    const failures = vitestFailures(
      {
        numPassedTests: 1,
        numFailedTests: 1,
        numPendingTests: 0,
        numTodoTests: 0,
        testResults: [
          {
            name: '/repo/lib/auth/hostile-input.test.ts',
            assertionResults: [
              { fullName: 'hostile input payAction', status: 'failed', failureMessages: [message] },
              { fullName: 'hostile input cancel', status: 'passed', failureMessages: [] },
            ],
          },
        ],
      },
      '/repo',
    );
    expect(failures).toEqual(['lib/auth/hostile-input.test.ts › hostile input payAction: Error: Property failed after 12 tests | { seed: -1786, path: "11:0", endOnFailure: true } | Counterexample: [1]']);
  });

  it('Playwright: failed specs in nested describe blocks, with their location and first error', () => {
    const failures = playwrightFailures({
      stats: { expected: 1, unexpected: 1, skipped: 0, flaky: 0 },
      suites: [
        {
          title: 'booking.spec.ts',
          specs: [{ title: 'books a slot', file: 'booking.spec.ts', line: 7, ok: true, tests: [] }],
          suites: [
            {
              title: 'availability',
              specs: [{ title: 'a full slot is disabled', file: 'booking.spec.ts', line: 30, ok: false, tests: [{ results: [{}, { error: { message: 'expect(locator).toBeDisabled() failed\n  at x' } }] }] }],
            },
          ],
        },
      ],
    });
    expect(failures).toEqual(['booking.spec.ts:30 › availability › a full slot is disabled: expect(locator).toBeDisabled() failed']);
  });

  it('a missing message says so, and a long one is cut', () => {
    expect(startOf(undefined)).toBe('no message');
    expect(startOf('x'.repeat(1000))).toHaveLength(400);
  });
});
