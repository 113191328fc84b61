import { z } from "zod";

const objectRef = z.object({
  apiVersion: z.string().min(1),
  kind: z.string().min(1),
  name: z.string().min(1),
  namespace: z.string().optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
});

/** data of Knative ApiServerSource events in Resource mode: the object itself. */
export const apiServerResourceDataSchema = z
  .object({
    apiVersion: z.string().min(1),
    kind: z.string().min(1),
    metadata: z
      .object({ name: z.string().min(1), namespace: z.string().optional(), uid: z.string().optional() })
      .passthrough(),
  })
  .passthrough();

/** data of Knative ApiServerSource events in Reference mode: a reference to the object. */
export const apiServerRefDataSchema = objectRef;

/** data of io.prophet.cluster.resource.changed: both ApiServerSource modes, one shape. */
export const resourceChangedDataSchema = z.object({
  change: z.enum(["add", "update", "delete"]),
  ref: objectRef,
  object: z.record(z.string(), z.unknown()).nullable(),
});
export type ResourceChangedData = z.infer<typeof resourceChangedDataSchema>;
