/**
 * Request origins: a patient's IP and user agent are sealed under their key (never plaintext in the
 * event), readable while the key exists and "erased" after; other actors' stay as they are.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { EventMetadata } from '../eventstore';
import { createTestDatabase } from '../testing/db';
import { originReader, readOrigin, sealOrigin } from './origin';
import { createPersonalDataVault } from './vault';

const t = await createTestDatabase();
const vault = createPersonalDataVault(t.sql, randomBytes(32).toString('base64'));
const metadata = (role: string, id = `p-${randomBytes(4).toString('hex')}`): EventMetadata => ({
  actor: { id, role },
  occurredAt: '2025-03-02T00:00:00.000Z',
  commandId: 'c1',
  ip: '198.51.100.23',
  userAgent: 'Origin test browser/1.0',
});

describe('sealOrigin / readOrigin', () => {
  it("seals a patient's IP and user agent under their key, opens them while it exists, and reads erased after", async () => {
    const m = metadata('patient');
    const sealed = await sealOrigin(vault, m);
    expect(sealed).toMatchObject({ ip: null, userAgent: null, origin: { kind: 'encrypted', alg: 'A256GCM' } });
    expect(JSON.stringify(sealed)).not.toContain('198.51.100.23');
    expect(JSON.stringify(sealed)).not.toContain('Origin test browser');
    expect(await readOrigin(vault, sealed)).toEqual({ status: 'available', ip: '198.51.100.23', userAgent: 'Origin test browser/1.0', sealed: true });
    expect(await readOrigin(undefined, sealed)).toEqual({ status: 'encrypted' });
    await vault.erase(m.actor.id);
    expect(await readOrigin(vault, sealed)).toEqual({ status: 'erased' });
  });

  it("leaves staff's origin in plaintext, and records none for a patient when there is no vault to seal with", async () => {
    const staff = metadata('staff', 'staff-1');
    expect(await sealOrigin(vault, staff)).toBe(staff);
    expect(await readOrigin(vault, staff)).toEqual({ status: 'available', ip: '198.51.100.23', userAgent: 'Origin test browser/1.0', sealed: false });
    const unsealed = await sealOrigin(undefined, metadata('patient'));
    expect(unsealed).toMatchObject({ ip: null, userAgent: null });
    expect(unsealed).not.toHaveProperty('origin');
    expect(await readOrigin(vault, unsealed)).toEqual({ status: 'none' });
  });

  it("never opens an envelope with anyone's key but the actor's: another patient's sealed origin copied in reads as erased", async () => {
    const a = await sealOrigin(vault, metadata('patient'));
    const forged = { ...metadata('patient'), ip: null, userAgent: null, origin: a.origin! };
    await vault.keyFor(forged.actor.id);
    expect(await readOrigin(vault, forged)).toEqual({ status: 'erased' });
    expect(await readOrigin(vault, { ...forged, origin: { kind: 'plain', value: { ip: '1.2.3.4' } } })).toEqual({ status: 'erased' });
  });

  it("an event from before sealing (a patient's origin in plaintext) is shown while the patient has a key, and as erased after", async () => {
    const legacy = metadata('patient');
    await vault.keyFor(legacy.actor.id);
    expect(await readOrigin(vault, legacy)).toEqual({ status: 'available', ip: '198.51.100.23', userAgent: 'Origin test browser/1.0', sealed: false });
    await vault.erase(legacy.actor.id);
    expect(await readOrigin(vault, legacy)).toEqual({ status: 'erased' });
    // A page's reader asks for each actor's key once.
    let asked = 0;
    const read = originReader({ hasKey: async (id) => (asked++, vault.hasKey(id)) });
    for (let i = 0; i < 5; i++) expect(await read(legacy)).toEqual({ status: 'erased' });
    expect(asked).toBe(1);
  });
});
