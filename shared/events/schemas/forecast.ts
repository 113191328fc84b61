import { z } from "zod";

const scaleRefSchema = z.object({
  namespace: z.string().min(1),
  name: z.string().min(1),
  nodePool: z.string().min(1),
});

const forecastPointSchema = z.object({
  at: z.iso.datetime({ offset: true }),
  mean: z.number(),
  lower95: z.number(),
  upper80: z.number(),
  upper95: z.number(),
});

/** data of io.prophet.forecast.computed */
export const forecastComputedDataSchema = z.object({
  scale: scaleRefSchema,
  at: z.iso.datetime({ offset: true }),
  query: z.string(),
  unit: z.enum(["replicas", "demand"]),
  stepSeconds: z.number().int().positive(),
  /** Models that made the forecast (the engine's fast path: one smoothing model or seasonal naive). */
  method: z.array(z.string()),
  /** The daily period in points, 0 when the history shows none (yet). */
  dailyPeriod: z.number().int().nonnegative(),
  historyPoints: z.number().int().nonnegative(),
  current: z.number(),
  predictedPeak: z.object({ value: z.number(), at: z.iso.datetime({ offset: true }) }),
  /** What the capacity is sized for: demand units over the lead-time window, headroom included. */
  target: z.number(),
  decidedBy: z.enum(["forecast", "seasonal-peak", "current"]),
  provisionFor: z.enum(["mean", "upper80", "upper95"]),
  leadTimeSeconds: z.number().nonnegative(),
  targetReplicas: z.number().int().nonnegative(),
  currentReplicas: z.number().nonnegative(),
  points: z.array(forecastPointSchema),
  accuracy: z.object({
    samples: z.number().int().nonnegative(),
    coverage: z.number().nullable(),
    mape: z.number().nullable(),
  }),
});
export type ForecastComputedData = z.infer<typeof forecastComputedDataSchema>;

/** data of io.prophet.capacity.changed */
export const capacityChangedDataSchema = z.object({
  scale: scaleRefSchema,
  at: z.iso.datetime({ offset: true }),
  action: z.enum(["provision", "recommend"]),
  /** false for action recommend (nothing was written) */
  applied: z.boolean(),
  strategy: z.enum(["capacityBuffer", "balloon", "static"]),
  /** Kind/namespace/name written (or that would be) */
  object: z.string(),
  /** Pods held in reserve before and after (nodes for a static pool: see staticNodes). */
  from: z.number().int().nonnegative(),
  to: z.number().int().nonnegative(),
  desired: z.number().int().nonnegative(),
  staticNodes: z.number().int().nonnegative().nullable(),
  /** Nodes the reserve needs beyond the free room of the pool's nodes (an estimate). */
  newNodes: z.number().int().nonnegative(),
  podShape: z.object({ cpu: z.string(), memory: z.string() }),
  reason: z.string(),
  limitedBy: z.string().nullable(),
});
export type CapacityChangedData = z.infer<typeof capacityChangedDataSchema>;
