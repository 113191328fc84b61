// The simulated clock: discrete ticks on advance(), and real-time driving at `speed` × (checked
// with fake timers, so nothing waits on the wall clock).
import { afterEach, describe, expect, it, vi } from "vitest";
import { SandboxClock } from "../../infra/sandbox/clock.js";

afterEach(() => {
  vi.useRealTimers();
});

describe("SandboxClock", () => {
  it("advance() moves time in whole ticks and calls listeners once per tick", () => {
    const clock = new SandboxClock({ start: "2026-01-01T00:00:00Z", tickMs: 1000 });
    const seen: string[] = [];
    clock.onTick((now) => seen.push(now.toISOString()));
    clock.advance(2500);
    expect(seen).toEqual([
      "2026-01-01T00:00:01.000Z",
      "2026-01-01T00:00:02.000Z",
      "2026-01-01T00:00:02.500Z",
    ]);
    expect(clock.now().toISOString()).toBe("2026-01-01T00:00:02.500Z");
    expect(() => clock.advance(-1)).toThrow(/backwards/);
  });

  it("refuses re-entrant advance from a tick listener", () => {
    const clock = new SandboxClock();
    clock.onTick(() => clock.advance(1000));
    expect(() => clock.advance(1000)).toThrow(/inside a tick/);
  });

  it("at speed 60 one wall second is one simulated minute", () => {
    vi.useFakeTimers({ now: new Date("2030-01-01T00:00:00Z") });
    const clock = new SandboxClock({ start: "2026-01-01T00:00:00Z" });
    let ticks = 0;
    clock.onTick(() => ticks++);
    clock.startRealTime(60);
    const start = clock.now().getTime();
    vi.advanceTimersByTime(10_000);
    // Ticks are whole seconds, taken as wall time accrues: at most one tick still owed.
    const elapsed = clock.now().getTime() - start;
    expect(elapsed).toBeGreaterThanOrEqual(599_000);
    expect(elapsed).toBeLessThanOrEqual(600_000);
    expect(ticks).toBe(elapsed / 1000);
    clock.stop();
    const stopped = clock.now().toISOString();
    vi.advanceTimersByTime(1000);
    expect(clock.now().toISOString()).toBe(stopped);
  });
});
