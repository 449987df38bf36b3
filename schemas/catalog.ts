/**
 * Every wire format and config file that gets a published JSON Schema, by file name. `generate.ts`
 * writes them to `schemas/json/`; a test fails when those files are stale.
 *
 * @example
 * ```ts
 * import { catalog } from "./catalog.ts";
 * Object.keys(catalog); // ["group-state", "satellite-state", ...]
 * ```
 * @module
 */
import type { z } from "zod";
import { BandwidthPolicy } from "./bandwidth.ts";
import {
  ControlConfig,
  CreateSatelliteRequest,
  FleetOverview,
  GroupSyncRequest,
  PatchSatelliteRequest,
  PutGroupRequest,
} from "./control.ts";
import { GroupState } from "./group_state.ts";
import { SatelliteConfig } from "./satellite_config.ts";
import { OtaConfig, SatelliteState, StateEnvelope } from "./satellite_state.ts";
import { ZtrRequest, ZtrResponse } from "./registration.ts";
import { StatusReport, StatusResponse } from "./status.ts";

/** Schema name (the JSON file's base name) to zod schema. */
export const catalog: Record<string, z.ZodType> = {
  "group-state": GroupState,
  "satellite-state": SatelliteState,
  "state-envelope": StateEnvelope,
  "ota-config": OtaConfig,
  "bandwidth-policy": BandwidthPolicy,
  "satellite-config": SatelliteConfig,
  "status-report": StatusReport,
  "status-response": StatusResponse,
  "ztr-request": ZtrRequest,
  "ztr-response": ZtrResponse,
  "ground-control-config": ControlConfig,
  "put-group-request": PutGroupRequest,
  "group-sync-request": GroupSyncRequest,
  "create-satellite-request": CreateSatelliteRequest,
  "patch-satellite-request": PatchSatelliteRequest,
  "fleet-overview": FleetOverview,
};
