import { z } from 'zod';
import { EventSchemaError } from './errors';

/**
 * Every domain event is `{ type, schemaVersion, data }`. The event store's envelope (eventId,
 * metadata, revision…) wraps it; nothing in the domain depends on the envelope.
 */
export interface DomainEvent<T extends string = string, V extends number = number, D = unknown> {
  readonly type: T;
  readonly schemaVersion: V;
  readonly data: D;
}

/** An event as read from storage, before upcasting and validation. */
export interface RawEvent {
  readonly type: string;
  readonly schemaVersion: number;
  readonly data: unknown;
}

/** The zod schema of one event type at its current version. */
export function eventSchema<T extends string, V extends number, D extends z.ZodType>(
  type: T,
  schemaVersion: V,
  data: D,
) {
  return z.object({ type: z.literal(type), schemaVersion: z.literal(schemaVersion), data });
}

type AnyEvent = { type: string; schemaVersion: number; data: unknown };
type VersionsOf<E extends AnyEvent> = { [K in E['type']]: Extract<E, { type: K }>['schemaVersion'] };

/** Builds events with their current schemaVersion filled in: `ev('SlotHeld', { … })`. */
export function eventFactory<E extends AnyEvent>(versions: VersionsOf<E>) {
  return <T extends E['type']>(type: T, data: Extract<E, { type: T }>['data']): Extract<E, { type: T }> =>
    ({ type, schemaVersion: versions[type], data }) as Extract<E, { type: T }>;
}

/** A step that turns the data of version `n` of an event into the data of version `n + 1`. */
export type UpcastStep = (data: Record<string, unknown>) => Record<string, unknown>;

/**
 * upcasters: { [type]: { [fromVersion]: step } }. Upcasting applies the steps from the stored
 * version up to the current one, then validates against the current schema.
 */
export type Upcasters = Readonly<Record<string, Readonly<Record<number, UpcastStep>>>>;

/**
 * An `upcast(raw)` for one aggregate: older versions are brought to the current one, and the
 * result is parsed with the aggregate's event union. Unknown types, versions newer than this
 * code, and data that still fails its schema throw EventSchemaError.
 */
export function makeUpcaster<E extends AnyEvent>(
  union: z.ZodType<E>,
  versions: VersionsOf<E>,
  upcasters: Upcasters = {},
): (raw: RawEvent) => E {
  const current = versions as Record<string, number>;
  return (raw) => {
    const target = current[raw.type];
    if (target === undefined) {
      throw new EventSchemaError(`unknown event type ${raw.type}`, raw.type, raw.schemaVersion);
    }
    let version = raw.schemaVersion;
    if (!Number.isInteger(version) || version < 1 || version > target) {
      throw new EventSchemaError(
        `${raw.type} schemaVersion ${String(version)} is not readable (current is ${target})`,
        raw.type,
        version,
      );
    }
    let data = raw.data as Record<string, unknown>;
    while (version < target) {
      const step = upcasters[raw.type]?.[version];
      if (!step) {
        throw new EventSchemaError(`no upcaster for ${raw.type} v${version}`, raw.type, version);
      }
      data = step(data);
      version += 1;
    }
    const parsed = union.safeParse({ type: raw.type, schemaVersion: version, data });
    if (!parsed.success) {
      throw new EventSchemaError(
        `${raw.type} v${raw.schemaVersion} does not match its schema: ${parsed.error.message}`,
        raw.type,
        raw.schemaVersion,
        parsed.error,
      );
    }
    return parsed.data;
  };
}
