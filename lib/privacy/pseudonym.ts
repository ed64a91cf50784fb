/**
 * Keyed pseudonyms for the security log (docs/privacy.md, "Erasure"): erasing a patient replaces
 * the e-mail address and client IP address of their security events by `pseud:<HMAC>`. The HMAC key
 * is derived from PERSONAL_DATA_MASTER_KEY (configuration, never in the database), so someone
 * reading the database cannot test guesses (every IPv4 address, a list of e-mails) against a
 * pseudonym; the app can, and that keeps sign-in throttling whole: its counts match a value and its
 * pseudonym (`withPseudonym`), so failures recorded before an erasure still count after it.
 */
import { createHmac, hkdfSync } from 'node:crypto';
import { requireSecret } from '../runtime/secrets';
import { parseMasterKey } from './vault';

export const PSEUDONYM_PREFIX = 'pseud:';
export type PseudonymKind = 'email' | 'ip';

let derived: { from: string; key: Buffer } | undefined;

function pseudonymKey(): Buffer {
  const master = requireSecret('PERSONAL_DATA_MASTER_KEY');
  if (derived?.from !== master) {
    derived = { from: master, key: Buffer.from(hkdfSync('sha256', parseMasterKey(master), Buffer.alloc(0), 'yeyak security-log pseudonyms v1', 32)) };
  }
  return derived.key;
}

export const isPseudonym = (value: string | null | undefined): boolean => typeof value === 'string' && value.startsWith(PSEUDONYM_PREFIX);

/** The pseudonym of an e-mail address (compared lower-case, as the log stores it) or an IP address; a pseudonym stays as it is. */
export function pseudonym(kind: PseudonymKind, value: string): string {
  if (isPseudonym(value)) return value;
  const normalised = kind === 'email' ? value.trim().toLowerCase() : value.trim();
  return PSEUDONYM_PREFIX + createHmac('sha256', pseudonymKey()).update(`${kind}\u0000${normalised}`).digest('base64url').slice(0, 22);
}

/** A value and its pseudonym: what a lookup in the security log must match. */
export const withPseudonym = (kind: PseudonymKind, value: string): string[] => [value, pseudonym(kind, value)];
