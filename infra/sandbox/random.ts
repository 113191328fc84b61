// Seeded randomness for the simulation: the same seed replays identically.
import { seededRandom, type Random } from "../../shared/random.js";

export { seededRandom, type Random };

/** A seed from a string (e.g. a pod uid), for per-object streams that do not depend on step order. */
export function hashSeed(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}
