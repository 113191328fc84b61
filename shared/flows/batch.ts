// The CloudEvent that carries a batch of Hubble flows to Prophet: from a sidecar tailing the
// exporter file (`lines`: the JSONL as read) or from a Relay client (`flows`: parsed
// GetFlowsResponse envelopes or bare flows). Lines and flows go through the same reader as a file.
import { z } from "zod";
import { describeIssues, issuesFromZod, ProphetError } from "../errors.js";
import { FlowLineReader, merge, type FlowParseResult, type FlowReadOptions } from "./jsonl.js";

export const FLOW_BATCH_EVENT = "io.prophet.flows.batch";

/** At most this much JSONL text, and this many parsed flows, per event. */
export const MAX_BATCH_LINES_CHARS = 16 * 2 ** 20;
export const MAX_BATCH_FLOWS = 50_000;

export const flowBatchDataSchema = z
  .object({
    /** Cilium cluster the flows come from. */
    cluster: z.string().min(1).optional(),
    /** Node whose exporter wrote the lines; the default for lines that name none. */
    node: z.string().min(1).optional(),
    lines: z
      .string()
      .max(
        MAX_BATCH_LINES_CHARS,
        `lines is longer than ${MAX_BATCH_LINES_CHARS} characters: split the batch into several events`,
      )
      .optional(),
    flows: z
      .array(z.unknown())
      .max(MAX_BATCH_FLOWS, `more than ${MAX_BATCH_FLOWS} flows: split the batch into several events`)
      .optional(),
  })
  .refine((d) => d.lines !== undefined || d.flows !== undefined, {
    message: "a flow batch needs lines (JSONL text) or flows (parsed flows), or both",
  });
export type FlowBatchData = z.infer<typeof flowBatchDataSchema>;

/**
 * The flows of a batch event's data. A malformed batch throws a ProphetError (invalid_data, or
 * payload_too_large); a malformed flow inside it is only counted in `rejected`: lines are numbered
 * 1.. for `lines`, and continue after them for `flows` (the first entry of `flows` is line
 * lines-count + 1).
 */
export function flowsFromBatch(data: unknown, opts: Omit<FlowReadOptions, "nodeName"> = {}): FlowParseResult {
  const parsed = flowBatchDataSchema.safeParse(data);
  if (!parsed.success) {
    const issues = issuesFromZod(parsed.error.issues, "data");
    const tooBig = parsed.error.issues.some((i) => i.code === "too_big");
    throw new ProphetError(
      tooBig ? "payload_too_large" : "invalid_data",
      `invalid ${FLOW_BATCH_EVENT} data: ${describeIssues(issues)}`,
      issues,
    );
  }
  const { lines, flows, node } = parsed.data;
  const reader = new FlowLineReader({ ...opts, ...(node ? { nodeName: node } : {}) });
  const out = lines === undefined ? { flows: [], rejected: [], lines: 0, skipped: 0 } : reader.text(lines);
  if (flows) {
    const offset = lines === undefined ? 0 : lineCount(lines);
    const more: FlowParseResult = { flows: [], rejected: [], lines: 0, skipped: 0 };
    flows.forEach((f, i) => reader.value(f, offset + i + 1, more));
    merge(out, more);
  }
  return out;
}

function lineCount(text: string): number {
  let n = 1;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) n++;
  return n;
}
