import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { isPseudonym, pseudonym, withPseudonym } from './pseudonym';

const original = process.env.PERSONAL_DATA_MASTER_KEY;
afterEach(() => {
  process.env.PERSONAL_DATA_MASTER_KEY = original;
});

describe('security-log pseudonyms', () => {
  it('are keyed by the master key: stable for one key, different under another, and reveal nothing of the value', () => {
    process.env.PERSONAL_DATA_MASTER_KEY = randomBytes(32).toString('base64');
    const a = pseudonym('email', 'Someone@Example.com');
    expect(a).toMatch(/^pseud:[A-Za-z0-9_-]{22}$/);
    expect(pseudonym('email', 'someone@example.com')).toBe(a);
    expect(pseudonym('ip', 'someone@example.com')).not.toBe(a);
    expect(a).not.toContain('someone');
    expect(pseudonym('email', a)).toBe(a); // pseudonymising twice changes nothing
    expect(isPseudonym(a)).toBe(true);
    expect(withPseudonym('ip', '198.51.100.7')).toEqual(['198.51.100.7', pseudonym('ip', '198.51.100.7')]);
    process.env.PERSONAL_DATA_MASTER_KEY = randomBytes(32).toString('base64');
    expect(pseudonym('email', 'someone@example.com')).not.toBe(a);
  });

  it('refuse to work without the key (a pseudonym anyone could recompute would be no pseudonym)', () => {
    delete process.env.PERSONAL_DATA_MASTER_KEY;
    expect(() => pseudonym('ip', '198.51.100.7')).toThrow(/PERSONAL_DATA_MASTER_KEY/);
  });
});
