import { z } from "zod";

/**
 * data of io.prophet.schedule.tick: every platform's timer (Knative PingSource, EventBridge
 * schedules, Cloud Scheduler, Azure timer triggers, the local cron) becomes this one type.
 */
export const scheduleTickDataSchema = z.object({
  schedule: z.string().min(1),
  scheduledTime: z.iso.datetime({ offset: true }),
  payload: z.unknown().optional(),
});
export type ScheduleTickData = z.infer<typeof scheduleTickDataSchema>;

/** data of dev.knative.sources.ping: whatever the PingSource's `data` was (JSON or text). */
export const knativePingDataSchema = z.unknown();
