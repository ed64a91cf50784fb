import { requireUser } from '../auth/guard';
import { db } from '../db/client';
import { readRegistry } from '../projections/engine';
import { allProjections } from '../projections/registry';
import { projectionSkips } from '../projections/schema';
import { PROJECTIONS_GROUP } from '../projections/worker';
import { appEventStore } from '../runtime/event-store';

export interface ProjectionStatusRow {
  name: string;
  codeVersion: number;
  builtVersion: number | null;
  status: 'live' | 'building' | 'outdated';
  checkpoint: string | null;
  checkpointAt: string | null;
  eventsApplied: number;
  lagEvents: number | null;
  lagMs: number | null;
  eventsPerSecond: number | null;
  statusAt: string | null;
  rebuild: {
    requestedAt: string | null;
    startedAt: string | null;
    finishedAt: string | null;
    running: boolean;
    events: number | null;
    /** Position reached / head position when it started (progress is by position). */
    total: number | null;
    eventsPerSecond: number | null;
    error: string | null;
  };
}

export interface ParkedRow {
  eventId: string;
  streamId: string;
  revision: number;
  type: string;
  position: string;
  reason: string;
  retryCount: number;
  parkedAt: string | null;
  replayRequested: boolean;
  skipRequested: boolean;
}

export interface ProjectionsStatus {
  group: string;
  activeConsumer: string | null;
  groupCheckpoint: string | null;
  parkedCount: number;
  projections: ProjectionStatusRow[];
  parked: ParkedRow[];
  at: string;
}

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

/** Everything the /admin/projections page shows (admin only). */
export async function projectionsStatus(): Promise<ProjectionsStatus> {
  await requireUser({ roles: ['admin'], callbackUrl: '/admin/projections' });
  const [rows, store] = await Promise.all([readRegistry(db()), appEventStore()]);
  const info = await store.groups.info(PROJECTIONS_GROUP).catch(() => undefined);
  const parked = info ? await store.groups.listParked(PROJECTIONS_GROUP, { maxCount: 200 }) : [];
  const skips = new Set((await db().select({ eventId: projectionSkips.eventId }).from(projectionSkips)).map((s) => s.eventId));
  const projections = allProjections.map((p): ProjectionStatusRow => {
    const r = rows.find((x) => x.name === p.name);
    const status = !r || r.status !== 'live' ? 'building' : r.version !== p.version ? 'outdated' : 'live';
    const running = !!r?.rebuildStartedAt && (!r.rebuildFinishedAt || r.rebuildFinishedAt < r.rebuildStartedAt);
    return {
      name: p.name,
      codeVersion: p.version,
      builtVersion: r?.version ?? null,
      status,
      checkpoint: r && r.checkpointPrepare > 0n ? `${r.checkpointCommit}/${r.checkpointPrepare}` : null,
      checkpointAt: iso(r?.checkpointAt),
      eventsApplied: r?.eventsApplied ?? 0,
      lagEvents: r?.lagEvents ?? null,
      lagMs: r?.lagMs ?? null,
      eventsPerSecond: r?.eventsPerSecond ?? null,
      statusAt: iso(r?.statusAt),
      rebuild: {
        requestedAt: iso(r?.rebuildRequestedAt),
        startedAt: iso(r?.rebuildStartedAt),
        finishedAt: iso(r?.rebuildFinishedAt),
        running,
        events: r?.rebuildEvents ?? null,
        total: r?.rebuildTotal ?? null,
        eventsPerSecond: r?.rebuildEventsPerSecond ?? null,
        error: r?.rebuildError ?? null,
      },
    };
  });
  return {
    group: PROJECTIONS_GROUP,
    activeConsumer: info?.activeConsumer?.id ?? null,
    groupCheckpoint: info?.checkpoint ? `${info.checkpoint.commit}/${info.checkpoint.prepare}` : null,
    parkedCount: info?.parkedCount ?? 0,
    projections,
    parked: parked.map((p) => ({
      eventId: p.event.eventId,
      streamId: p.event.streamId,
      revision: p.event.revision,
      type: p.event.type,
      position: `${p.event.position.commit}/${p.event.position.prepare}`,
      reason: p.reason,
      retryCount: p.retryCount,
      parkedAt: iso(p.parkedAt),
      replayRequested: p.replayRequested,
      skipRequested: skips.has(p.event.eventId),
    })),
    at: new Date().toISOString(),
  };
}
