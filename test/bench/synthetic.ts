// Seeded synthetic metric series shared by the speed and provisioning benchmarks.
import { seededRandom } from "../../shared/random.js";

export { seededRandom };

export function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/** Daily-seasonal demand at 5-minute steps: a level, a daily curve, a weekly swell, noise and a slow trend. */
export function dailyDemand(points: number, rand: () => number, perDay = 288): number[] {
  const level = 50 + 150 * rand();
  const amplitude = level * (0.2 + 0.5 * rand());
  const phase = rand() * 2 * Math.PI;
  const trend = (rand() - 0.3) * level * 0.0005;
  const noise = level * (0.02 + 0.05 * rand());
  return Array.from({ length: points }, (_, t) => {
    const day = Math.sin((2 * Math.PI * t) / perDay + phase);
    const week = 0.1 * Math.sin((2 * Math.PI * t) / (perDay * 7));
    return Math.max(0, level * (1 + week) + amplitude * day + trend * t + noise * gaussian(rand));
  });
}
