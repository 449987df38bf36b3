/**
 * Store records turned into what the API shows: group and satellite views with published state
 * references, derived lifecycle, desired digests and drift.
 *
 * @example
 * ```ts
 * import { satelliteViews } from "./views.ts";
 * declare const ctx: import("./context.ts").ControlContext;
 * const views = await satelliteViews(ctx, await ctx.store.listSatellites());
 * ```
 * @module
 */
import type { GroupView, SatelliteView } from "../schemas/control.ts";
import type { ControlContext } from "./context.ts";
import { deriveLifecycle, type Desired, hasDrift } from "./lifecycle.ts";
import { stateReference } from "./publisher.ts";
import type { GroupRecord, GroupSummary, SatelliteRecord, SeenRecord, StateKind } from "./store/types.ts";

function published(ctx: ControlContext, kind: StateKind, name: string, seq: number, digest: string | null) {
  return {
    reference: stateReference(ctx.registryPublicHost, ctx.config.registry.namespace, kind, name),
    seq,
    digest,
  };
}

/**
 * The API view of a group.
 *
 * @example
 * ```ts
 * declare const ctx: ControlContext;
 * declare const record: GroupRecord;
 * groupView(ctx, record).published.reference;
 * ```
 */
export function groupView(ctx: ControlContext, record: GroupRecord): GroupView {
  return {
    name: record.name,
    state: record.state,
    updatedAt: record.updatedAt,
    published: published(ctx, "group", record.name, record.published.seq, record.published.digest),
  };
}

/**
 * Desired state digests of a satellite: its own last push and its groups' last pushes.
 *
 * @example
 * ```ts
 * declare const sat: SatelliteRecord;
 * desiredFor(sat, new Map());
 * ```
 */
export function desiredFor(sat: SatelliteRecord, groups: Map<string, GroupSummary>): Desired {
  const desired: Desired = { groups: {} };
  if (sat.published.digest) desired.satellite = sat.published.digest;
  for (const name of sat.groups) {
    const digest = groups.get(name)?.published.digest;
    if (digest) desired.groups[name] = digest;
  }
  return desired;
}

/** One satellite with everything needed to show it. */
export interface SatelliteFacts {
  record: SatelliteRecord;
  seen: SeenRecord | null;
  view: SatelliteView;
  desired: Desired;
}

/**
 * Views of many satellites with one batch read of their groups (and, for many, of all reports).
 *
 * @example
 * ```ts
 * declare const ctx: ControlContext;
 * const [one] = await satelliteFacts(ctx, [await ctx.store.getSatellite("s1")!]);
 * ```
 */
export async function satelliteFacts(
  ctx: ControlContext,
  records: SatelliteRecord[],
): Promise<SatelliteFacts[]> {
  const groupNames = [...new Set(records.flatMap((r) => r.groups))];
  const groups = await ctx.store.getGroupSummaries(groupNames);
  const seenAll = records.length > 20 ? await ctx.store.listSeen() : null;
  const now = ctx.clock();
  const out: SatelliteFacts[] = [];
  for (const record of records) {
    const seen = seenAll ? seenAll.get(record.name) ?? null : await ctx.store.getSeen(record.name);
    const desired = desiredFor(record, groups);
    const lifecycle = deriveLifecycle(
      record,
      seen?.lastSeenAt ?? null,
      record.config.reportIntervalSeconds,
      now,
    );
    const view: SatelliteView = {
      name: record.name,
      groups: record.groups,
      config: record.config,
      lifecycle,
      createdAt: record.createdAt,
      registeredAt: record.registeredAt,
      lastSeenAt: seen?.lastSeenAt ?? null,
      revokedAt: record.revokedAt,
      device: record.device,
      published: published(ctx, "satellite", record.name, record.published.seq, record.published.digest),
      status: seen?.status ?? null,
      drift: lifecycle !== "revoked" && seen !== null && hasDrift(desired, seen.status.applied),
    };
    out.push({ record, seen, view, desired });
  }
  return out;
}

/**
 * Views of many satellites.
 *
 * @example
 * ```ts
 * declare const ctx: ControlContext;
 * await satelliteViews(ctx, await ctx.store.listSatellites());
 * ```
 */
export async function satelliteViews(
  ctx: ControlContext,
  records: SatelliteRecord[],
): Promise<SatelliteView[]> {
  return (await satelliteFacts(ctx, records)).map((f) => f.view);
}
