/**
 * Request origins (client IP address and user agent) in event metadata (docs/privacy.md, "Request
 * origins"). A patient's own IP and user agent are their personal data, and events are immutable:
 * so when the actor is a patient they are never written in plaintext. `sealOrigin` moves them into
 * `metadata.origin`, a PersonalField encrypted under that patient's key (`ip` and `userAgent` set
 * to null), and erasing the patient shreds it with everything else. Staff, auditors, admins and the
 * system are not data subjects who can be erased: their IP and user agent stay in plaintext, as the
 * record of who handled what from where.
 */
import { EncryptedEnvelope, plain, type PersonalField as Field } from '../domain/patient/personal';
import type { EventMetadata, JsonObject } from '../eventstore';

/** The roles whose request origin is sealed: the erasable data subjects. */
export const isDataSubject = (role: string | undefined): boolean => role === 'patient';

export interface OriginSealer {
  encryptField?(patientId: string, field: Field): Promise<Field>;
}

export interface OriginOpener {
  decryptField?(patientId: string, field: Field): Promise<Field>;
  /** Whether the patient still has a key: a legacy plaintext origin of an erased patient is not shown. */
  hasKey?(patientId: string): Promise<boolean>;
}

// A user agent can be longer than anyone needs; the sealed value is bounded (PersonalData.userAgent).
const MAX_USER_AGENT = 1000;

/**
 * The metadata to store for an event: unchanged for other actors; for a patient, IP and user agent
 * sealed under their key, or, with no vault to seal them with, left out (never kept in plaintext).
 */
export async function sealOrigin(privacy: OriginSealer | undefined, metadata: EventMetadata): Promise<EventMetadata> {
  if (!isDataSubject(metadata.actor.role)) return metadata;
  const ip = metadata.ip ?? null;
  const userAgent = metadata.userAgent ? metadata.userAgent.slice(0, MAX_USER_AGENT) : null;
  const { origin: _ignored, ...rest } = metadata as EventMetadata & { origin?: unknown };
  const stripped = { ...rest, ip: null, userAgent: null };
  if ((!ip && !userAgent) || !privacy?.encryptField) return stripped;
  const origin = await privacy.encryptField(metadata.actor.id, plain({ ...(ip ? { ip } : {}), ...(userAgent ? { userAgent } : {}) }));
  return { ...stripped, origin: origin as unknown as JsonObject };
}

export type OriginView =
  /** Recorded in plaintext (a non-patient actor), or sealed and still readable. */
  | { readonly status: 'available'; readonly ip: string | null; readonly userAgent: string | null; readonly sealed: boolean }
  /** Sealed under a patient's key that has been erased (or cannot be read). */
  | { readonly status: 'erased' }
  /** Sealed, and the caller has no vault to open it with. */
  | { readonly status: 'encrypted' }
  /** Nothing recorded (a process manager, a script). */
  | { readonly status: 'none' };

const text = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);

/** What an event's metadata says about where the request came from, opening a sealed origin with `vault` when given. */
export async function readOrigin(vault: OriginOpener | undefined, metadata: Record<string, unknown>): Promise<OriginView> {
  if (metadata.origin !== undefined && metadata.origin !== null) {
    const sealed = EncryptedEnvelope.safeParse(metadata.origin);
    const actor = metadata.actor as { id?: unknown } | undefined;
    // Only an envelope under the actor's key is read; anything else in its place reads as erased.
    if (!sealed.success || typeof actor?.id !== 'string') return { status: 'erased' };
    if (!vault?.decryptField) return { status: 'encrypted' };
    const opened = await vault.decryptField(actor.id, sealed.data);
    if (opened.kind !== 'plain') return { status: 'erased' };
    return { status: 'available', ip: opened.value.ip ?? null, userAgent: opened.value.userAgent ?? null, sealed: true };
  }
  const ip = text(metadata.ip);
  const userAgent = text(metadata.userAgent);
  if (!ip && !userAgent) return { status: 'none' };
  // Events from before sealing hold a patient's origin in plaintext (immutable): once the patient
  // is erased it is not shown either.
  const actor = metadata.actor as { id?: unknown; role?: string } | undefined;
  if (isDataSubject(actor?.role) && typeof actor?.id === 'string' && vault?.hasKey && !(await vault.hasKey(actor.id))) return { status: 'erased' };
  return { status: 'available', ip, userAgent, sealed: false };
}

/** readOrigin for many events of few actors (a page): the key check of legacy origins once per actor. */
export function originReader(vault: OriginOpener | undefined): (metadata: Record<string, unknown>) => Promise<OriginView> {
  if (!vault?.hasKey) return (metadata) => readOrigin(vault, metadata);
  const known = new Map<string, Promise<boolean>>();
  const hasKey = vault.hasKey.bind(vault);
  const memo: OriginOpener = {
    ...(vault.decryptField ? { decryptField: vault.decryptField.bind(vault) } : {}),
    hasKey: (patientId) => {
      let k = known.get(patientId);
      if (!k) known.set(patientId, (k = hasKey(patientId)));
      return k;
    },
  };
  return (metadata) => readOrigin(memo, metadata);
}
