import { z } from 'zod';

/**
 * Personal data in patient events, and how it is protected.
 *
 * Every event field that carries personal data is a `PersonalField`, one of three shapes:
 *   { kind: 'plain', value: { name?, phone?, birthDate?, email? } }   — what `decide` emits
 *   { kind: 'encrypted', alg: 'A256GCM', keyId, iv, ct, tag }         — what the store holds
 *   { kind: 'erased' }                                                 — what a reader sees once the key is gone
 *
 * The command layer (not the domain) owns the per-patient key:
 *  - before append, it maps every plain field to an encrypted envelope with `mapPersonal` /
 *    `mapPersonalAsync` (ct = AES-256-GCM of JSON.stringify(value), iv/tag base64, keyId naming the
 *    patient's key); `hasPlaintextPersonal(event)` lets the append path refuse anything it missed;
 *  - after read, it maps envelopes back to plain; when the key has been deleted (crypto-shredding
 *    after PatientDataErased) or cannot decrypt, it maps them to `{ kind: 'erased' }` — never an error.
 * The deciders and evolve accept all three shapes, so state folds the same either way.
 */
export const PersonalData = z.object({
  name: z.string().min(1).max(200).optional(),
  phone: z.string().regex(/^\+?[0-9-]{7,20}$/, 'phone digits').optional(),
  birthDate: z.iso.date().optional(),
  email: z.email().max(320).optional(),
  /**
   * A reservation's free-text note (ReservationRequested's `personal`): patients write health details
   * there, so it is encrypted under their key and unreadable once they are erased.
   */
  note: z.string().max(1000).optional(),
  /**
   * Where a patient's own request came from (client address, user agent): kept out of the event's
   * plaintext metadata and sealed under their key as `metadata.origin` (lib/privacy/origin.ts).
   */
  ip: z.string().max(100).optional(),
  userAgent: z.string().max(1000).optional(),
});
export type PersonalData = z.infer<typeof PersonalData>;

const b64 = z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'base64');

export const EncryptedEnvelope = z.object({
  kind: z.literal('encrypted'),
  alg: z.literal('A256GCM'),
  /** Names the patient's key (e.g. `patient-<id>#1`); erasing the patient deletes it. */
  keyId: z.string().min(1).max(200),
  iv: b64,
  ct: b64,
  tag: b64,
});
export type EncryptedEnvelope = z.infer<typeof EncryptedEnvelope>;

export const PlainPersonal = z.object({ kind: z.literal('plain'), value: PersonalData });
export const ErasedPersonal = z.object({ kind: z.literal('erased') });

export const PersonalField = z.discriminatedUnion('kind', [PlainPersonal, EncryptedEnvelope, ErasedPersonal]);
export type PersonalField = z.infer<typeof PersonalField>;

export const ERASED: PersonalField = { kind: 'erased' };

export const plain = (value: PersonalData): PersonalField => ({ kind: 'plain', value });

/** What a reader can show: the data, "erased", or "encrypted" (not decrypted by the caller). */
export type PersonalView =
  | { readonly status: 'available'; readonly data: PersonalData }
  | { readonly status: 'erased' }
  | { readonly status: 'encrypted' };

/** Merge fields oldest → newest into one view; any erased field makes the whole view erased. */
export function viewPersonal(fields: readonly PersonalField[]): PersonalView {
  let data: PersonalData = {};
  let encrypted = false;
  for (const f of fields) {
    if (f.kind === 'erased') return { status: 'erased' };
    if (f.kind === 'encrypted') encrypted = true;
    else data = { ...data, ...f.value };
  }
  return encrypted ? { status: 'encrypted' } : { status: 'available', data };
}

type WithPersonal = { type: string; data: unknown };

function hasPersonal(data: unknown): data is { personal: PersonalField } {
  return typeof data === 'object' && data !== null && 'personal' in data;
}

/**
 * Apply `f` to the personal field of an event, if it has one (by convention `data.personal`).
 * Returns a new event; other events are returned unchanged.
 */
export function mapPersonal<E extends WithPersonal>(event: E, f: (field: PersonalField) => PersonalField): E {
  if (!hasPersonal(event.data)) return event;
  return { ...event, data: { ...event.data, personal: f(event.data.personal) } };
}

/** `mapPersonal` for an asynchronous transform (e.g. WebCrypto). */
export async function mapPersonalAsync<E extends WithPersonal>(
  event: E,
  f: (field: PersonalField) => Promise<PersonalField>,
): Promise<E> {
  if (!hasPersonal(event.data)) return event;
  return { ...event, data: { ...event.data, personal: await f(event.data.personal) } };
}

/** True if the event still carries personal data in plaintext (the append path must refuse it). */
export function hasPlaintextPersonal(event: WithPersonal): boolean {
  return hasPersonal(event.data) && event.data.personal.kind === 'plain';
}
