// The sandbox's simulated clock: time moves in discrete ticks, either when a test calls advance()
// (deterministic, never waits on the wall clock) or driven by a timer at `speed` × real time.
import type { Clock } from "../../shared/ports/clock.js";

export type TickListener = (now: Date) => void;

export interface SandboxClockOptions {
  start?: Date | string;
  /** Simulated milliseconds per tick (default 1,000): the simulation's time resolution. */
  tickMs?: number;
}

export class SandboxClock implements Clock {
  private ms: number;
  readonly tickMs: number;
  private readonly listeners = new Set<TickListener>();
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;

  constructor(opts: SandboxClockOptions = {}) {
    this.ms = new Date(opts.start ?? "2026-01-05T08:00:00Z").getTime();
    this.tickMs = opts.tickMs ?? 1000;
    if (!(this.tickMs > 0)) throw new Error("tickMs must be positive");
  }

  now(): Date {
    return new Date(this.ms);
  }

  /** Called after every tick with the new time; returns an unsubscribe function. */
  onTick(listener: TickListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Moves time forward by `ms` in whole ticks (a remainder becomes one shorter last tick). */
  advance(ms: number): Date {
    if (ms < 0) throw new Error("a clock cannot go backwards");
    if (this.ticking) throw new Error("advance() called from inside a tick");
    let left = ms;
    while (left > 0) {
      const step = Math.min(this.tickMs, left);
      left -= step;
      this.tick(step);
    }
    return this.now();
  }

  private tick(step: number): void {
    this.ms += step;
    this.ticking = true;
    try {
      const now = this.now();
      for (const l of [...this.listeners]) l(now);
    } finally {
      this.ticking = false;
    }
  }

  get running(): boolean {
    return this.timer !== undefined;
  }

  /**
   * Drives the clock from the wall clock: every `tickMs / speed` wall milliseconds (at least 10 ms)
   * it advances by the simulated time that passed, so `speed` 60 runs a minute per wall second.
   */
  startRealTime(speed: number): void {
    if (!(speed > 0)) throw new Error("speed must be positive");
    this.stop();
    const intervalMs = Math.max(10, Math.min(1000, this.tickMs / speed));
    let last = Date.now();
    let owed = 0;
    this.timer = setInterval(() => {
      const wall = Date.now();
      owed += (wall - last) * speed;
      last = wall;
      const whole = Math.floor(owed / this.tickMs) * this.tickMs;
      if (whole > 0) {
        owed -= whole;
        this.advance(whole);
      }
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
