/**
 * Every DomainError code the domain and the command side can throw has a Korean and an English
 * message under `domainErrors.<code>` (lib/i18n/messages/{ko,en}/domain-errors.json), which the
 * server-action wrapper (app/actions/validated.ts) shows. The codes are found by scanning the
 * sources: the literal code of every DomainError subclass's `super('<code>', …)` and of every
 * `new …Error('<code>', …)`, and `<thing>.not_found` / `.already_exists` / `.invalid_transition` for
 * the generic errors' `new NotFoundError('<thing>')`… A generic error built from a non-literal is
 * reported too, so a new code cannot slip past the scan.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import en from '../i18n/messages/en/domain-errors.json';
import ko from '../i18n/messages/ko/domain-errors.json';

const ROOTS = ['lib/domain', 'lib/commands', 'lib/payments', 'lib/process-managers'];
const GENERIC: Record<string, string> = { NotFoundError: 'not_found', AlreadyExistsError: 'already_exists', InvalidTransitionError: 'invalid_transition' };
const CODE = /^[a-z][a-z_]*\.[a-z][a-z_]*$/;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.ts$/.test(name) && !/\.test\.ts$/.test(name) && !/testing\.ts$|fixtures\.ts$/.test(name) ? [path] : [];
  });
}

/** The codes thrown anywhere in the sources, and the constructions the scan could not read. */
export function scanDomainErrorCodes(): { codes: Map<string, string>; unreadable: string[] } {
  const codes = new Map<string, string>();
  const unreadable: string[] = [];
  for (const file of ROOTS.flatMap(sources)) {
    const text = readFileSync(file, 'utf8');
    // super('code', …) and new SomethingError('code', …): a literal that looks like a code.
    for (const m of text.matchAll(/(?:super|new\s+\w+Error)\(\s*(['"`])([^'"`$]+)\1/g)) {
      if (CODE.test(m[2]!)) codes.set(m[2]!, file);
    }
    for (const m of text.matchAll(/new\s+(NotFoundError|AlreadyExistsError|InvalidTransitionError)\(\s*([^,)]*)/g)) {
      const literal = /^(['"])([a-z][a-z_]*)\1$/.exec(m[2]!.trim());
      if (literal) codes.set(`${literal[2]}.${GENERIC[m[1]!]}`, file);
      else unreadable.push(`${file}: new ${m[1]}(${m[2]})`);
    }
    // Codes passed through a variable (PaymentGatewayError(code, …), InvalidInputError(code, …)) must be literals at the call.
    for (const m of text.matchAll(/new\s+(PaymentGatewayError|InvalidInputError|DomainError)\(\s*([^,)]*)/g)) {
      if (!/^(['"]).+\1$/.test(m[2]!.trim())) unreadable.push(`${file}: new ${m[1]}(${m[2]})`);
    }
  }
  return { codes, unreadable };
}

function lookup(messages: unknown, code: string): unknown {
  return code.split('.').reduce<unknown>((node, part) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[part] : undefined), (messages as { domainErrors?: unknown }).domainErrors);
}

describe('domain error messages', () => {
  const { codes, unreadable } = scanDomainErrorCodes();

  it('the scan reads every construction and finds the codes we know of', () => {
    expect(unreadable).toEqual([]);
    for (const known of ['schedule.slot_over_capacity', 'booking.beyond_horizon', 'reservation.not_found', 'reservation.start_passed', 'command.invalid', 'payment.declined']) {
      expect([...codes.keys()]).toContain(known);
    }
  });

  it.each([
    ['ko', ko],
    ['en', en],
  ])('every code has a %s message under domainErrors.<code>', (_locale, messages) => {
    const missing = [...codes.keys()].filter((code) => {
      const message = lookup(messages, code);
      return typeof message !== 'string' || message.trim().length === 0;
    });
    expect(missing.map((c) => `${c} (thrown in ${codes.get(c)})`)).toEqual([]);
  });

  it('no message for a code nothing throws (a renamed code leaves no stale message)', () => {
    const keys = (node: unknown, prefix = ''): string[] =>
      node && typeof node === 'object' ? Object.entries(node).flatMap(([k, v]) => keys(v, prefix ? `${prefix}.${k}` : k)) : [prefix];
    expect(keys((ko as { domainErrors?: unknown }).domainErrors).filter((k) => !codes.has(k))).toEqual([]);
  });
});
