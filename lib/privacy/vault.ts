import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import type postgres from 'postgres';
import {
  ERASED,
  PersonalData,
  mapPersonalAsync,
  type EncryptedEnvelope,
  type PersonalField,
} from '../domain/patient/personal';

/**
 * Personal data vault: per-patient AES-256-GCM data keys, wrapped by a master key, kept in
 * `personal_data_keys`. See docs/privacy.md.
 *
 * Key hierarchy
 *   master key (PERSONAL_DATA_MASTER_KEY, 32 bytes, configuration)
 *     └─ wraps, per patient, a random 32-byte data key (AES-256-GCM, AAD = patient id)
 *          └─ encrypts each PersonalField of that patient's events (AES-256-GCM, AAD = key id)
 *
 * Erasure (crypto-shredding) deletes the patient's row: every envelope under that key is then
 * unreadable and reads as `{ kind: 'erased' }`; the events themselves stay immutable.
 *
 * Reads never fail because data is gone or does not decrypt: a missing key, an envelope from another
 * patient, or a tampered envelope all read as erased. A *configuration* fault is different and is
 * never hidden: a stored key that the configured master key cannot unwrap throws `MasterKeyMismatch`
 * (showing the data as erased there would silently lose every patient at once).
 */

const ALG = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const WRAP_VERSION = 'v1';

export class InvalidMasterKey extends Error {
  override readonly name = 'InvalidMasterKey';
}

/** A stored data key cannot be unwrapped with the configured master key. */
export class MasterKeyMismatch extends Error {
  override readonly name = 'MasterKeyMismatch';
  constructor(
    readonly patientId: string,
    detail: string,
  ) {
    super(
      `Cannot unwrap the personal data key of patient ${patientId}: ${detail}. ` +
        'PERSONAL_DATA_MASTER_KEY is not the key these data keys were wrapped with (restore the right key; do not generate a new one).',
    );
  }
}

/** An event carries personal data but no `data.patientId` to choose the key with. */
export class MissingPatientId extends Error {
  override readonly name = 'MissingPatientId';
}

/** Decodes and checks a master key: base64 (standard or url-safe) of exactly 32 bytes, or the bytes. */
export function parseMasterKey(masterKey: string | Uint8Array): Buffer {
  const bytes = typeof masterKey === 'string' ? Buffer.from(masterKey.trim(), 'base64') : Buffer.from(masterKey);
  if (bytes.length !== KEY_BYTES) {
    throw new InvalidMasterKey(
      `PERSONAL_DATA_MASTER_KEY must be ${KEY_BYTES} bytes (base64 of 32 random bytes); got ${bytes.length} bytes.`,
    );
  }
  return bytes;
}

/** A short public fingerprint of the master key, stored with each wrapped key to name a mismatch clearly. */
function masterKeyId(masterKey: Buffer): string {
  return createHmac('sha256', masterKey).update('yeyak personal data master key id').digest('base64url').slice(0, 11);
}

function seal(key: Buffer, plaintext: Buffer, aad: string): { iv: Buffer; ct: Buffer; tag: Buffer } {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALG, key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv, ct, tag: cipher.getAuthTag() };
}

/** Throws if authentication fails (wrong key, wrong AAD, tampered iv/ct/tag). */
function open(key: Buffer, parts: { iv: Buffer; ct: Buffer; tag: Buffer }, aad: string): Buffer {
  if (parts.iv.length !== IV_BYTES || parts.tag.length !== TAG_BYTES) throw new Error('malformed iv or tag');
  const decipher = createDecipheriv(ALG, key, parts.iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(parts.tag);
  return Buffer.concat([decipher.update(parts.ct), decipher.final()]);
}

export interface DataKeyInfo {
  readonly patientId: string;
  /** Named in every envelope under this key. A new key (after an erasure) has a new id. */
  readonly keyId: string;
}

interface CachedKey extends DataKeyInfo {
  readonly key: Buffer;
  readonly expiresAt: number;
}

/** A small LRU of unwrapped keys with a time to live (Map keeps insertion order: oldest first). */
class KeyCache {
  private readonly entries = new Map<string, CachedKey>();
  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  get(patientId: string): CachedKey | undefined {
    const entry = this.entries.get(patientId);
    if (!entry) return undefined;
    this.entries.delete(patientId);
    if (entry.expiresAt <= this.now()) return undefined;
    this.entries.set(patientId, entry); // most recently used last
    return entry;
  }

  set(info: DataKeyInfo, key: Buffer): void {
    if (this.maxEntries <= 0 || this.ttlMs <= 0) return;
    this.entries.delete(info.patientId);
    this.entries.set(info.patientId, { ...info, key, expiresAt: this.now() + this.ttlMs });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }

  delete(patientId: string): void {
    this.entries.delete(patientId);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}

export interface PersonalDataVaultOptions {
  /** Unwrapped keys kept in memory (default 1000). */
  cacheSize?: number;
  /**
   * How long an unwrapped key is reused without reading the table (default 60 s). An erasure anywhere
   * evicts the key from every vault at once (NOTIFY on KEY_ERASED_CHANNEL); this is only the backstop.
   */
  cacheTtlMs?: number;
  /**
   * Listen for erasures made by other processes (default true). Without it nothing stops a cached key
   * of an erased patient from being used elsewhere until cacheTtlMs passes.
   */
  listenForErasures?: boolean;
  /** Clock for the cache only (tests). */
  now?: () => number;
}

export interface PersonalDataVault {
  /** The patient's data key, created (random 256-bit, stored wrapped) on first use. */
  keyFor(patientId: string): Promise<DataKeyInfo>;
  /** plain → encrypted envelope under the patient's key; encrypted and erased fields are returned as they are. */
  encryptField(patientId: string, field: PersonalField): Promise<PersonalField>;
  /**
   * encrypted → plain; → erased when the patient's key is gone, the envelope names another key
   * (another patient's, or a key deleted by an earlier erasure) or fails authentication.
   * Throws only `MasterKeyMismatch` (configuration fault).
   */
  decryptField(patientId: string, field: PersonalField): Promise<PersonalField>;
  /** `encryptField` on the event's `data.personal`, keyed by its `data.patientId`. Events without personal data pass unchanged. */
  encryptEvent<E extends { type: string; data: unknown }>(event: E): Promise<E>;
  /** `decryptField` on the event's `data.personal`, keyed by its `data.patientId`. Never throws for erased or undecryptable data. */
  decryptEvent<E extends { type: string; data: unknown }>(event: E): Promise<E>;
  /** Crypto-shredding: deletes the patient's key (and evicts it here). Returns false if there was none. */
  erase(patientId: string): Promise<boolean>;
  /** Whether the patient currently has a key (false before first use and after erasure). */
  hasKey(patientId: string): Promise<boolean>;
}

interface KeyRow {
  patient_id: string;
  key_id: string;
  wrapped_key: string;
}

function patientIdOf(event: { type: string; data: unknown }): string {
  const data = event.data as { patientId?: unknown };
  if (typeof data.patientId !== 'string' || data.patientId.length === 0) {
    throw new MissingPatientId(`${event.type} carries personal data but no data.patientId to choose the key with.`);
  }
  return data.patientId;
}

function hasPersonalField(data: unknown): boolean {
  return typeof data === 'object' && data !== null && 'personal' in data;
}

/** Every erasure NOTIFYs the patient id here (at commit); every vault evicts that key from its cache. */
export const KEY_ERASED_CHANNEL = 'yeyak_key_erased';

export function createPersonalDataVault(
  sql: postgres.Sql,
  masterKey: string | Uint8Array,
  options: PersonalDataVaultOptions = {},
): PersonalDataVault {
  const master = parseMasterKey(masterKey);
  const masterId = masterKeyId(master);
  const cache = new KeyCache(options.cacheSize ?? 1000, options.cacheTtlMs ?? 60_000, options.now ?? Date.now);
  /** Counts erasures seen by this vault (its own and notified ones), so a key read that raced one is not cached. */
  let erasures = 0;
  /**
   * Keys are cached only while this vault listens for erasures: a key cached before the LISTEN was in
   * place could miss its eviction. Each (re)connect of the listening connection clears the cache, as
   * notifications sent while it was away are lost.
   */
  let listening = options.listenForErasures === false;
  let listenStarted = options.listenForErasures === false;
  function listenForErasures(): void {
    if (listenStarted) return;
    listenStarted = true;
    sql
      .listen(
        KEY_ERASED_CHANNEL,
        (patientId) => {
          erasures++;
          cache.delete(patientId);
        },
        () => {
          erasures++;
          cache.clear();
          listening = true;
        },
      )
      .catch(() => {
        listenStarted = false; // try again on the next key read; meanwhile nothing is cached
      });
  }

  function wrap(patientId: string, key: Buffer): string {
    const { iv, ct, tag } = seal(master, key, patientId);
    return [WRAP_VERSION, masterId, iv.toString('base64url'), ct.toString('base64url'), tag.toString('base64url')].join('.');
  }

  function unwrap(row: KeyRow): Buffer {
    const parts = row.wrapped_key.split('.');
    const [version, storedMasterId, iv, ct, tag] = parts;
    if (parts.length !== 5 || version !== WRAP_VERSION || !iv || !ct || !tag) {
      throw new MasterKeyMismatch(row.patient_id, `the stored key has an unknown format (${version ?? 'none'})`);
    }
    if (storedMasterId !== masterId) {
      throw new MasterKeyMismatch(row.patient_id, `it was wrapped by master key ${storedMasterId}, the configured one is ${masterId}`);
    }
    let key: Buffer;
    try {
      key = open(master, { iv: Buffer.from(iv, 'base64url'), ct: Buffer.from(ct, 'base64url'), tag: Buffer.from(tag, 'base64url') }, row.patient_id);
    } catch {
      throw new MasterKeyMismatch(row.patient_id, 'authentication of the wrapped key failed (wrong master key or a tampered row)');
    }
    if (key.length !== KEY_BYTES) throw new MasterKeyMismatch(row.patient_id, 'the unwrapped key has the wrong length');
    return key;
  }

  /** The patient's current key, from the cache or the table; undefined if there is none. */
  async function loadKey(patientId: string): Promise<CachedKey | undefined> {
    const cached = cache.get(patientId);
    if (cached) return cached;
    listenForErasures();
    const erasuresBefore = erasures;
    const rows = await sql<KeyRow[]>`
      select patient_id, key_id, wrapped_key from personal_data_keys where patient_id = ${patientId}`;
    const row = rows[0];
    if (!row) return undefined;
    const info = { patientId, keyId: row.key_id };
    const key = unwrap(row);
    // An erasure that ran while this read was in flight must not leave the old key cached.
    if (listening && erasures === erasuresBefore) cache.set(info, key);
    return { ...info, key, expiresAt: 0 };
  }

  async function getOrCreateKey(patientId: string): Promise<CachedKey> {
    if (patientId.length === 0) throw new MissingPatientId('patientId is empty');
    const existing = await loadKey(patientId);
    if (existing) return existing;
    const key = randomBytes(KEY_BYTES);
    const keyId = `patient-${patientId}#${randomBytes(9).toString('base64url')}`;
    // Two processes may create the first key at once: one insert wins, both then use the stored row.
    await sql`
      insert into personal_data_keys (patient_id, key_id, wrapped_key)
      values (${patientId}, ${keyId}, ${wrap(patientId, key)})
      on conflict (patient_id) do nothing`;
    const created = await loadKey(patientId);
    if (!created) throw new Error(`personal data key of patient ${patientId} vanished while being created (erased concurrently)`);
    return created;
  }

  async function encryptField(patientId: string, field: PersonalField): Promise<PersonalField> {
    if (field.kind !== 'plain') return field;
    const value = PersonalData.parse(field.value);
    const { keyId, key } = await getOrCreateKey(patientId);
    const { iv, ct, tag } = seal(key, Buffer.from(JSON.stringify(value), 'utf8'), keyId);
    const envelope: EncryptedEnvelope = {
      kind: 'encrypted',
      alg: 'A256GCM',
      keyId,
      iv: iv.toString('base64'),
      ct: ct.toString('base64'),
      tag: tag.toString('base64'),
    };
    return envelope;
  }

  async function decryptField(patientId: string, field: PersonalField): Promise<PersonalField> {
    if (field.kind !== 'encrypted') return field;
    const current = await loadKey(patientId); // MasterKeyMismatch propagates: a configuration fault
    // No key: erased (or never written). Another key id: another patient's envelope, or one written
    // under a key that an earlier erasure deleted.
    if (!current || current.keyId !== field.keyId) return ERASED;
    try {
      const plaintext = open(
        current.key,
        { iv: Buffer.from(field.iv, 'base64'), ct: Buffer.from(field.ct, 'base64'), tag: Buffer.from(field.tag, 'base64') },
        field.keyId,
      );
      const value = PersonalData.safeParse(JSON.parse(plaintext.toString('utf8')));
      return value.success ? { kind: 'plain', value: value.data } : ERASED;
    } catch {
      return ERASED;
    }
  }

  return {
    async keyFor(patientId) {
      const { keyId } = await getOrCreateKey(patientId);
      return { patientId, keyId };
    },
    encryptField,
    decryptField,
    async encryptEvent(event) {
      if (!hasPersonalField(event.data)) return event;
      const patientId = patientIdOf(event);
      return mapPersonalAsync(event, (field) => encryptField(patientId, field));
    },
    async decryptEvent(event) {
      if (!hasPersonalField(event.data)) return event;
      const data = event.data as { patientId?: unknown };
      // Without a patient id there is no key to trust: show the data as erased rather than fail.
      if (typeof data.patientId !== 'string' || data.patientId.length === 0) {
        return mapPersonalAsync(event, async (field) => (field.kind === 'encrypted' ? ERASED : field));
      }
      const patientId = data.patientId;
      return mapPersonalAsync(event, (field) => decryptField(patientId, field));
    },
    async erase(patientId) {
      erasures++;
      cache.delete(patientId);
      // The notification goes out when the delete commits: every other vault then evicts the key.
      const deleted = await sql.begin(async (tx) => {
        const rows = await tx`delete from personal_data_keys where patient_id = ${patientId} returning patient_id`;
        await tx`select pg_notify(${KEY_ERASED_CHANNEL}, ${patientId})`;
        return rows;
      });
      erasures++;
      cache.delete(patientId);
      return deleted.length > 0;
    },
    async hasKey(patientId) {
      const rows = await sql`select 1 from personal_data_keys where patient_id = ${patientId}`;
      return rows.length > 0;
    },
  };
}
