import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, loggableError } from './logging';

/** A PostgreSQL unique violation as postgres.js raises it: its detail quotes the refused key. */
function uniqueViolation(): Error {
  return Object.assign(new Error('duplicate key value violates unique constraint "users_email_idx"'), {
    name: 'PostgresError',
    code: '23505',
    severity: 'ERROR',
    detail: 'Key (lower(email))=(leak.me@example.com) already exists.',
    where: 'SQL statement "insert into users values (\'Kim Leak\')"',
    table_name: 'users',
    constraint_name: 'users_email_idx',
    parameters: ['leak.me@example.com', 'Kim Leak'],
  });
}

describe('logs carry no personal data from errors', () => {
  it('keeps the message, code and names of a database error, never its detail, context or parameters (also as a cause)', () => {
    const wrapped = new Error('projection failed', { cause: uniqueViolation() });
    const logged = JSON.stringify(loggableError(wrapped));
    expect(logged).toContain('users_email_idx');
    expect(logged).toContain('23505');
    expect(logged).not.toContain('leak.me@example.com');
    expect(logged).not.toContain('Kim Leak');
  });

  it("the worker's logger serialises err that way", () => {
    const lines: string[] = [];
    const log = createLogger({ name: 'worker' }, new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }));
    log.error({ err: uniqueViolation() }, 'batch failed; retrying');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ msg: 'batch failed; retrying', err: { type: 'PostgresError', code: '23505', table_name: 'users' } });
    expect(lines[0]).not.toContain('leak.me@example.com');
  });
});
