/** Time as a port: production reads the wall clock, tests and the sandbox advance a simulated one. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock that moves only when told to. */
export class SimulatedClock implements Clock {
  private ms: number;
  constructor(start: Date | string = "2026-01-01T00:00:00Z") {
    this.ms = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.ms);
  }
  advance(ms: number): Date {
    if (ms < 0) throw new Error("a clock cannot go backwards");
    this.ms += ms;
    return this.now();
  }
  set(to: Date | string): void {
    this.ms = new Date(to).getTime();
  }
}
