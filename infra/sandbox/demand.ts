// The default workload demand model: requests/s with a daily cycle (peak mid-afternoon UTC) or a
// business-day ramp (flat at night, a steep morning rise, a plateau, an evening decay), and a
// little deterministic noise; a pod serving `perPodRps` runs at 100 % of its CPU request.
import type { UtilizationModel, WorkloadBehaviour } from "./controllers/context.js";
import { hashSeed, seededRandom } from "./random.js";

export interface DemandProfile {
  baseRps: number;
  peakRps: number;
  perPodRps: number;
  /** "cosine" (default): a daily cosine peaking at peakHourUtc; "ramp": see the ramp fields. */
  shape?: "cosine" | "ramp";
  /** Hour of day (UTC) with the most traffic; default 15. Cosine only. */
  peakHourUtc?: number;
  /** Ramp: when the morning rise from baseRps starts (UTC hour, fractions allowed); default 7. */
  rampStartHourUtc?: number;
  /** Ramp: how long the rise to peakRps takes; default 30. */
  rampMinutes?: number;
  /** Ramp: when the evening decay back to baseRps starts (UTC hour); default 18. */
  decayStartHourUtc?: number;
  /** Ramp: how long the decay takes; default 180. */
  decayMinutes?: number;
}

export const defaultProfile: DemandProfile = { baseRps: 20, peakRps: 60, perPodRps: 40 };

/** 0 → 1 with zero slope at both ends (smoothstep), clamped outside [0, 1]. */
function smooth(x: number): number {
  const t = Math.min(1, Math.max(0, x));
  return t * t * (3 - 2 * t);
}

/** Share of the way from baseRps to peakRps at `hour` (0–24, UTC). */
function level(profile: DemandProfile, hour: number): number {
  if (profile.shape === "ramp") {
    const start = profile.rampStartHourUtc ?? 7;
    const rise = Math.max(1, profile.rampMinutes ?? 30) / 60;
    const decay = profile.decayStartHourUtc ?? 18;
    const fall = Math.max(1, profile.decayMinutes ?? 180) / 60;
    return smooth((hour - start) / rise) * (1 - smooth((hour - decay) / fall));
  }
  const phase = (2 * Math.PI * (hour - (profile.peakHourUtc ?? 15))) / 24;
  return 0.5 + 0.5 * Math.cos(phase);
}

export function demandAt(profile: DemandProfile, t: Date, factor = 1): number {
  const hour =
    t.getUTCHours() + t.getUTCMinutes() / 60 + (profile.shape === "ramp" ? t.getUTCSeconds() / 3600 : 0);
  const daily = profile.baseRps + (profile.peakRps - profile.baseRps) * level(profile, hour);
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
