/**
 * The public pages' read cache (DESIGN §5): what the catalogue and availability queries read from the
 * read models is kept in this process's memory and dropped when the worker commits a change to the
 * catalogue or schedule read models. The projections NOTIFY `PUBLIC_CHANGES_CHANNEL` in the batch's
 * transaction (delivered at commit) with the clinics they changed; the web process LISTENs here.
 *
 * Never stale for long: an entry also expires after its TTL (the safety net for a notification lost
 * while the listening connection was down; a reconnect drops everything), and nothing is cached until
 * the LISTEN is in place. A value read while its tag was invalidated is served to that caller but not
 * kept. Concurrent misses of one key share one read.
 *
 * Time-dependent answers (past slots, minimum notice, expired holds) are computed per request from
 * the cached rows, never cached themselves.
 */
import type postgres from 'postgres';
import { appDatabase } from '../db/client';
import { PUBLIC_CHANGES_CHANNEL, parsePublicChange } from '../projections/read-models/catalogue';

interface Entry {
  value: unknown;
  tags: readonly string[];
  expiresAt: number;
}

export class PublicCache {
  private readonly entries = new Map<string, Entry>();
  private readonly pending = new Map<string, { promise: Promise<unknown>; tags: readonly string[] }>();
  /** Bumped per tag on every invalidation; a read that saw its tag change is not stored. */
  private readonly generations = new Map<string, number>();
  private epoch = 0;
  private listening = false;
  private started: Promise<void> | undefined;

  constructor(
    private readonly sqlOf: () => postgres.Sql = () => appDatabase().sql,
    private readonly maxEntries = 5000,
  ) {}

  /** Starts the LISTEN once; resolves when it is in place (or failed: then nothing is cached). */
  listen(): Promise<void> {
    this.started ??= this.sqlOf()
      .listen(
        PUBLIC_CHANGES_CHANNEL,
        (payload) => {
          const change = parsePublicChange(payload);
          if (!change || change.ids === '*') return this.clear();
          this.invalidate([change.kind, ...change.ids.map((id) => `${change.kind}:${id}`)]);
        },
        // Called on every (re)connect: notifications may have been missed meanwhile.
        () => {
          this.clear();
          this.listening = true;
        },
      )
      .then(
        () => undefined,
        () => {
          // No LISTEN, no caching (every read goes to the database); try again a little later.
          this.listening = false;
          setTimeout(() => (this.started = undefined), 5_000).unref();
        },
      );
    return this.started;
  }

  /**
   * The cached value of `key`, or `read()`'s (stored under `tags` for `ttlMs`). Tags are
   * `catalogue`, `catalogue:<clinicId>`, `schedule`, `schedule:<clinicId>`: a change to one clinic
   * drops its own tag and the kind-wide one (lists that show every clinic tag themselves with that).
   */
  async get<T>(key: string, tags: readonly string[], ttlMs: number, read: () => Promise<T>): Promise<T> {
    await this.listen();
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && hit.expiresAt > now) return hit.value as T;
    if (hit) this.entries.delete(key);
    const inFlight = this.pending.get(key);
    if (inFlight) return inFlight.promise as Promise<T>;
    const before = this.snapshot(tags);
    const promise = read().then(
      (value) => {
        if (this.pending.get(key)?.promise === promise) this.pending.delete(key);
        if (this.listening && this.snapshot(tags) === before) {
          if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
          this.entries.set(key, { value, tags, expiresAt: Date.now() + ttlMs });
        }
        return value;
      },
      (error: unknown) => {
        if (this.pending.get(key)?.promise === promise) this.pending.delete(key);
        throw error;
      },
    );
    this.pending.set(key, { promise, tags });
    return promise;
  }

  invalidate(tags: readonly string[]): void {
    const dropped = new Set(tags);
    for (const tag of tags) this.generations.set(tag, (this.generations.get(tag) ?? 0) + 1);
    for (const [key, entry] of this.entries) if (entry.tags.some((t) => dropped.has(t))) this.entries.delete(key);
    // A read in flight under a dropped tag must not be handed to later callers either.
    for (const [key, p] of this.pending) if (p.tags.some((t) => dropped.has(t))) this.pending.delete(key);
  }

  clear(): void {
    this.epoch += 1;
    this.entries.clear();
    this.pending.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  private snapshot(tags: readonly string[]): string {
    return `${this.epoch}/${tags.map((t) => this.generations.get(t) ?? 0).join(',')}`;
  }
}

const globalForCache = globalThis as unknown as { yeyakPublicCache?: PublicCache };

/** The web process's one public cache (on the app's pool). */
export function publicCache(): PublicCache {
  globalForCache.yeyakPublicCache ??= new PublicCache();
  return globalForCache.yeyakPublicCache;
}
