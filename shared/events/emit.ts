import type { z } from "zod";
import type { EventDefinition } from "./catalog.js";
import { deriveEventId, type ProphetEvent } from "./envelope.js";

export interface EmitOptions {
  /** The event that caused this one; the new id is derived from it (see deriveEventId). */
  cause: ProphetEvent;
  /** The emitting function, as a URI-reference: `/prophet/<function>`. */
  source: string;
  subject?: string;
  /** Distinguishes several events of one type caused by the same event. */
  key?: string;
  time: Date;
}

export function makeEvent<S extends z.ZodType>(
  def: EventDefinition<S>,
  data: z.input<S>,
  opts: EmitOptions,
): ProphetEvent<z.input<S>> {
  return {
    specversion: "1.0",
    id: deriveEventId(opts.source, opts.cause.source, opts.cause.id, def.type, opts.key ?? ""),
    source: opts.source,
    type: def.type,
    ...(opts.subject !== undefined ? { subject: opts.subject } : {}),
    time: opts.time.toISOString(),
    datacontenttype: "application/json",
    ...(opts.cause.cluster !== undefined ? { cluster: opts.cause.cluster } : {}),
    data,
  };
}
