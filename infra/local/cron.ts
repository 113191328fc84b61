// Local timers: each function's schedules fire io.prophet.schedule.tick into the bus. The id is
// the schedule name and the minute it was due, so a tick is processed once even if two hosts run.
import { Cron } from "croner";
import { ScheduleTick } from "../../shared/events/catalog.js";
import type { ProphetEvent } from "../../shared/events/envelope.js";
import type { ScheduleTickData } from "../../shared/events/schemas/schedule.js";
import type { Deps, ProphetFunction } from "../../shared/function.js";

export function scheduleTick(schedule: string, at: Date, cluster?: string): ProphetEvent<ScheduleTickData> {
  const minute = new Date(Math.floor(at.getTime() / 60_000) * 60_000).toISOString();
  return {
    specversion: "1.0",
    id: `${schedule}@${minute}${cluster ? `@${cluster}` : ""}`,
    source: "/prophet/cron",
    type: ScheduleTick.type,
    subject: schedule,
    time: minute,
    datacontenttype: "application/json",
    ...(cluster ? { cluster } : {}),
    data: { schedule, scheduledTime: minute },
  };
}

/**
 * A tick for the default cluster and one per other registered cluster (the invocation runs each
 * with that cluster's ports), so every cluster's SLOs, capacity, flows and remediations are served.
 */
export function ticksForClusters(
  tick: ProphetEvent<ScheduleTickData>,
  deps: Pick<Deps, "cluster" | "clusters">,
): ProphetEvent<ScheduleTickData>[] {
  const others = deps.clusters?.names().filter((n) => n !== deps.cluster) ?? [];
  const at = new Date(tick.data.scheduledTime);
  return [tick, ...others.map((c) => scheduleTick(tick.data.schedule, at, c))];
}

export function startCron(
  functions: readonly ProphetFunction[],
  fire: (tick: ProphetEvent<ScheduleTickData>) => Promise<void>,
): { stop(): void } {
  const jobs: Cron[] = [];
  for (const fn of functions) {
    for (const s of fn.schedules ?? []) {
      jobs.push(
        new Cron(s.cron, { timezone: "UTC", protect: true }, async () => {
          await fire(scheduleTick(s.name, new Date()));
        }),
      );
    }
  }
  return { stop: () => jobs.forEach((j) => j.stop()) };
}
