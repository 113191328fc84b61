// The default workload demand model: requests/s with a daily cycle (peak mid-afternoon UTC) and
// a little deterministic noise; a pod serving `perPodRps` runs at 100 % of its CPU request.
import type { UtilizationModel, WorkloadBehaviour } from "./controllers/context.js";
import { hashSeed, seededRandom } from "./random.js";

export interface DemandProfile {
  baseRps: number;
  peakRps: number;
  perPodRps: number;
  /** Hour of day (UTC) with the most traffic; default 15. */
  peakHourUtc?: number;
}

export const defaultProfile: DemandProfile = { baseRps: 20, peakRps: 60, perPodRps: 40 };

export function demandAt(profile: DemandProfile, t: Date, factor = 1): number {
  const hour = t.getUTCHours() + t.getUTCMinutes() / 60;
  const phase = (2 * Math.PI * (hour - (profile.peakHourUtc ?? 15))) / 24;
  const daily = profile.baseRps + (profile.peakRps - profile.baseRps) * (0.5 + 0.5 * Math.cos(phase));
  const minute = Math.floor(t.getTime() / 60_000);
  const noise = 1 + (seededRandom(hashSeed(`${minute}`))() - 0.5) * 0.06;
  return daily * noise * factor;
}

/** Utilisation from per-workload profiles (keyed "ns/Kind/name") and the faults' demand factors. */
export function demandUtilization(
  profiles: Map<string, DemandProfile>,
  behaviour: Map<string, WorkloadBehaviour>,
): UtilizationModel {
  return (workload, now, ready) => {
    const p = profiles.get(workload) ?? defaultProfile;
    const factor = behaviour.get(workload)?.demandFactor ?? 1;
    return (100 * demandAt(p, now, factor)) / (Math.max(1, ready) * p.perPodRps);
  };
}

/** Requests/s a workload (keyed "ns/Kind/name") receives now, faults' demand factors included. */
export type DemandRate = (workload: string, now: Date) => { rps: number; perPodRps: number };

export function demandRate(
  profiles: Map<string, DemandProfile>,
  behaviour: Map<string, WorkloadBehaviour>,
): DemandRate {
  return (workload, now) => {
    const p = profiles.get(workload) ?? defaultProfile;
    return { rps: demandAt(p, now, behaviour.get(workload)?.demandFactor ?? 1), perPodRps: p.perPodRps };
  };
}
