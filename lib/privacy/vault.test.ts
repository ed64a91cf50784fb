import postgres from 'postgres';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../testing/db';
import { hasPlaintextPersonal, type PersonalField } from '../domain/patient/personal';
import { createPersonalDataVault, InvalidMasterKey, MasterKeyMismatch, MissingPatientId } from './vault';

const t = await createTestDatabase();
const masterKey = randomBytes(32).toString('base64');

const alice = { name: '김지은', phone: '010-1234-5678', birthDate: '1991-04-12' };
const bob = { name: 'Park Minho', phone: '010-9876-5432', birthDate: '1985-11-30' };

function registered(patientId: string, value: typeof alice) {
  return {
    type: 'PatientRegistered' as const,
    data: { patientId, locale: 'ko' as const, personal: { kind: 'plain', value } as PersonalField },
  };
}

function personalOf(event: { data: { personal: PersonalField } }): PersonalField {
  return event.data.personal;
}

function newPatientId(): string {
  return `p-${randomBytes(6).toString('hex')}`;
}

describe('personal data vault', () => {
  it('encrypts an event and decrypts it back', async () => {
    const vault = createPersonalDataVault(t.sql, masterKey);
    const id = newPatientId();
    const stored = await vault.encryptEvent(registered(id, alice));
    expect(hasPlaintextPersonal(stored)).toBe(false);
    const envelope = personalOf(stored);
    expect(envelope).toMatchObject({ kind: 'encrypted', alg: 'A256GCM', keyId: (await vault.keyFor(id)).keyId });
    expect(stored.data.patientId).toBe(id);
    expect(stored.data.locale).toBe('ko');

    // A fresh vault (empty cache, as in another process) reads it back through the table.
    const reader = createPersonalDataVault(t.sql, masterKey);
    const read = await reader.decryptEvent(stored);
    expect(personalOf(read)).toEqual({ kind: 'plain', value: alice });
  });

  it('uses one key per patient, created once, and a fresh iv per envelope', async () => {
    const vault = createPersonalDataVault(t.sql, masterKey);
    const id = newPatientId();
    const [k1, k2] = await Promise.all([vault.keyFor(id), createPersonalDataVault(t.sql, masterKey).keyFor(id)]);
    expect(k1.keyId).toBe(k2.keyId);
    const rows = await t.sql`select key_id from personal_data_keys where patient_id = ${id}`;
    expect(rows).toHaveLength(1);

    const a = personalOf(await vault.encryptEvent(registered(id, alice)));
    const b = personalOf(await vault.encryptEvent(registered(id, alice)));
    if (a.kind !== 'encrypted' || b.kind !== 'encrypted') throw new Error('not encrypted');
    expect(a.iv).not.toBe(b.iv);
    expect(a.ct).not.toBe(b.ct);
  });

  it('leaves events without personal data, and erased fields, unchanged', async () => {
    const vault = createPersonalDataVault(t.sql, masterKey);
    const consent = { type: 'ConsentGiven', data: { patientId: newPatientId(), purpose: 'marketing', version: '1', at: '2026-01-01T00:00:00Z' } };
    expect(await vault.encryptEvent(consent)).toBe(consent);
    expect(await vault.decryptEvent(consent)).toBe(consent);
    const erased = { type: 'ContactChanged', data: { patientId: newPatientId(), personal: { kind: 'erased' } as PersonalField } };
    expect(personalOf(await vault.encryptEvent(erased))).toEqual({ kind: 'erased' });
  });

  it('refuses to encrypt personal data without a patient id', async () => {
    const vault = createPersonalDataVault(t.sql, masterKey);
    const event = { type: 'Odd', data: { personal: { kind: 'plain', value: alice } as PersonalField } };
    await expect(vault.encryptEvent(event)).rejects.toBeInstanceOf(MissingPatientId);
  });

  it('does not store the plaintext: neither in the event nor in the key table', async () => {
    const vault = createPersonalDataVault(t.sql, masterKey);
    const id = newPatientId();
    const stored = await vault.encryptEvent(registered(id, alice));
    const json = JSON.stringify(stored);
    for (const secret of [alice.name, alice.phone, alice.birthDate, '01012345678', Buffer.from(alice.name).toString('base64')]) {
      expect(json).not.toContain(secret);
    }
    const rows = await t.sql`select * from personal_data_keys where patient_id = ${id}`;
    const table = JSON.stringify(rows);
    expect(table).not.toContain(alice.name);
    expect(table).not.toContain(alice.phone);
    // The data key itself is not stored in the clear either: the row holds it wrapped.
    expect(String(rows[0]?.wrapped_key)).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it("does not let one patient's envelope be read as another's", async () => {
    const vault = createPersonalDataVault(t.sql, masterKey);
    const a = newPatientId();
    const b = newPatientId();
    const storedA = await vault.encryptEvent(registered(a, alice));
    const storedB = await vault.encryptEvent(registered(b, bob));
    const envA = personalOf(storedA);
    const envB = personalOf(storedB);
    if (envA.kind !== 'encrypted' || envB.kind !== 'encrypted') throw new Error('not encrypted');

    // A's envelope pasted into B's event: read as erased, never as A's data.
    const swapped = { ...storedB, data: { ...storedB.data, personal: envA } };
    expect(personalOf(await vault.decryptEvent(swapped))).toEqual({ kind: 'erased' });

    // A's ciphertext relabelled with B's key id: fails authentication (AAD and key differ).
    const relabelled = { ...storedB, data: { ...storedB.data, personal: { ...envA, keyId: envB.keyId } } };
    expect(personalOf(await vault.decryptEvent(relabelled))).toEqual({ kind: 'erased' });

    // Sanity: both still read correctly in place.
    expect(personalOf(await vault.decryptEvent(storedA))).toEqual({ kind: 'plain', value: alice });
    expect(personalOf(await vault.decryptEvent(storedB))).toEqual({ kind: 'plain', value: bob });
  });

  it('reads a tampered envelope as erased', async () => {
    const vault = createPersonalDataVault(t.sql, masterKey);
    const stored = await vault.encryptEvent(registered(newPatientId(), alice));
    const env = personalOf(stored);
    if (env.kind !== 'encrypted') throw new Error('not encrypted');
    const ct = Buffer.from(env.ct, 'base64');
    ct[0] = ct[0]! ^ 1;
    const tampered = { ...stored, data: { ...stored.data, personal: { ...env, ct: ct.toString('base64') } } };
    expect(personalOf(await vault.decryptEvent(tampered))).toEqual({ kind: 'erased' });
    const badIv = { ...stored, data: { ...stored.data, personal: { ...env, iv: 'AAAA' } } };
    expect(personalOf(await vault.decryptEvent(badIv))).toEqual({ kind: 'erased' });
  });

  it('erase deletes the key: the events read as erased, never throw, and the cache is evicted', async () => {
    const vault = createPersonalDataVault(t.sql, masterKey);
    const id = newPatientId();
    const stored = await vault.encryptEvent(registered(id, alice));
    expect(personalOf(await vault.decryptEvent(stored))).toEqual({ kind: 'plain', value: alice }); // key now cached

    expect(await vault.erase(id)).toBe(true);
    expect(await vault.hasKey(id)).toBe(false);
    expect(await t.sql`select 1 from personal_data_keys where patient_id = ${id}`).toHaveLength(0);
    expect(personalOf(await vault.decryptEvent(stored))).toEqual({ kind: 'erased' });
    expect(personalOf(await createPersonalDataVault(t.sql, masterKey).decryptEvent(stored))).toEqual({ kind: 'erased' });
    expect(await vault.erase(id)).toBe(false); // erasing twice is harmless

    // A key made later for the same id is a new key: the shredded envelopes stay unreadable.
    const again = await vault.encryptEvent(registered(id, bob));
    expect(personalOf(await vault.decryptEvent(stored))).toEqual({ kind: 'erased' });
    expect(personalOf(await vault.decryptEvent(again))).toEqual({ kind: 'plain', value: bob });
  });

  it('an erasure evicts the key from every process’s cache at once (LISTEN/NOTIFY), long before the cache would expire', async () => {
    // Another process: its own connection pool, and a cache that would keep the key for ten minutes.
    const elsewhere = postgres(t.url, { max: 2, onnotice: () => {} });
    try {
      const cachedElsewhere = createPersonalDataVault(elsewhere, masterKey, { cacheTtlMs: 600_000 });
      const id = newPatientId();
      const stored = await createPersonalDataVault(t.sql, masterKey).encryptEvent(registered(id, alice));
      // Wait until the other process listens and has the key cached (the first read starts the listener).
      await expect.poll(async () => personalOf(await cachedElsewhere.decryptEvent(stored))).toEqual({ kind: 'plain', value: alice });
      // Once it listens, a read caches the key (a read before that does not: it could miss an eviction).
      await new Promise((r) => setTimeout(r, 300));
      expect(personalOf(await cachedElsewhere.decryptEvent(stored))).toEqual({ kind: 'plain', value: alice });
      await createPersonalDataVault(t.sql, masterKey).erase(id);
      await expect.poll(async () => personalOf(await cachedElsewhere.decryptEvent(stored)), { timeout: 2_000 }).toEqual({ kind: 'erased' });
    } finally {
      await elsewhere.end({ timeout: 1 });
    }
  });

  it('without the listener, another process sees an erasure once its cached key expires (the backstop)', async () => {
    let now = 1_000_000;
    const cachedElsewhere = createPersonalDataVault(t.sql, masterKey, { cacheTtlMs: 5_000, now: () => now, listenForErasures: false });
    const id = newPatientId();
    const stored = await cachedElsewhere.encryptEvent(registered(id, alice));
    await createPersonalDataVault(t.sql, masterKey).erase(id);
    expect(personalOf(await cachedElsewhere.decryptEvent(stored))).toEqual({ kind: 'plain', value: alice }); // still cached
    now += 5_001;
    expect(personalOf(await cachedElsewhere.decryptEvent(stored))).toEqual({ kind: 'erased' });
  });

  it('with the wrong master key, fails loudly at unwrap instead of showing data as erased', async () => {
    const vault = createPersonalDataVault(t.sql, masterKey);
    const id = newPatientId();
    const stored = await vault.encryptEvent(registered(id, alice));

    const wrong = createPersonalDataVault(t.sql, randomBytes(32));
    await expect(wrong.decryptEvent(stored)).rejects.toBeInstanceOf(MasterKeyMismatch);
    await expect(wrong.decryptEvent(stored)).rejects.toThrow(/PERSONAL_DATA_MASTER_KEY/);
    await expect(wrong.keyFor(id)).rejects.toBeInstanceOf(MasterKeyMismatch);
    await expect(wrong.encryptEvent(registered(id, bob))).rejects.toBeInstanceOf(MasterKeyMismatch);

    // Even with a forged master key id in the row, authentication of the wrapped key catches it.
    const [row] = await t.sql<{ wrapped_key: string }[]>`select wrapped_key from personal_data_keys where patient_id = ${id}`;
    const otherId = newPatientId();
    await createPersonalDataVault(t.sql, masterKey).keyFor(otherId);
    // Move A's wrapped key to another patient's row: the AAD (patient id) no longer matches.
    await t.sql`update personal_data_keys set wrapped_key = ${row!.wrapped_key} where patient_id = ${otherId}`;
    await expect(createPersonalDataVault(t.sql, masterKey).keyFor(otherId)).rejects.toThrow(/authentication of the wrapped key failed/);
  });

  it('rejects a master key that is not 32 bytes', () => {
    expect(() => createPersonalDataVault(t.sql, randomBytes(16).toString('base64'))).toThrow(InvalidMasterKey);
    expect(() => createPersonalDataVault(t.sql, '')).toThrow(InvalidMasterKey);
  });
});
