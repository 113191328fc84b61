// The tick's flow source: what Hubble Relay has buffered since the cursor (gRPC GetFlows without
// follow), or JSONL over HTTP (`?since=`, the sandbox's /sandbox/flows). Flows at or before the
// cursor are dropped (both sources include the cursor's own instant); the new cursor is the
// latest flow time read. A source that fails throws; the tick reports it and tries next minute.
import { ProphetError } from "../errors.js";
import { FlowLineReader, merge, type FlowParseResult } from "./jsonl.js";
import type { FlowSettings } from "./settings.js";

/** At most this many flows per tick (the rest wait for the next one: the cursor stops there). */
export const MAX_PULL_FLOWS = 500_000;
const PULL_TIMEOUT_MS = 20_000;

export async function pullFlows(
  settings: FlowSettings,
  cursor: string | null,
  now: Date,
): Promise<{ parsed: FlowParseResult; cursor: string | null; source: string } | undefined> {
  // First read: the last five minutes, not the Relay's whole buffer.
  const since = cursor ?? new Date(now.getTime() - 5 * 60_000).toISOString();
  const sinceMs = Date.parse(since);
  let parsed: FlowParseResult;
  let source: string;
  if (settings.relayAddress) {
    source = `relay ${settings.relayAddress}`;
    const { streamRelayFlows } = await import("./grpc/relay.js");
    parsed = { flows: [], rejected: [], lines: 0, skipped: 0 };
    const signal = AbortSignal.timeout(PULL_TIMEOUT_MS);
    for await (const batch of streamRelayFlows({ address: settings.relayAddress, since, signal })) {
      for (const item of batch) {
        if ("flow" in item) parsed.flows.push(item.flow);
        else parsed.rejected.push(item.rejected);
        parsed.lines++;
      }
      if (parsed.flows.length >= MAX_PULL_FLOWS) break;
    }
  } else if (settings.flowsUrl) {
    source = settings.flowsUrl;
    const url = new URL(settings.flowsUrl);
    url.searchParams.set("since", since);
    const res = await fetch(url, { signal: AbortSignal.timeout(PULL_TIMEOUT_MS) });
    if (!res.ok)
      throw new ProphetError(
        "handler_failed",
        `GET ${url.origin}${url.pathname}: ${res.status} ${res.statusText}`,
      );
    const reader = new FlowLineReader();
    parsed = { flows: [], rejected: [], lines: 0, skipped: 0 };
    for await (const chunk of res.body ?? []) merge(parsed, reader.push(chunk as Uint8Array));
    merge(parsed, reader.end());
  } else return undefined;
  parsed.flows = parsed.flows.filter((f) => f.timeMs > sinceMs);
  if (parsed.flows.length > MAX_PULL_FLOWS) parsed.flows.length = MAX_PULL_FLOWS;
  let last = sinceMs;
  for (const f of parsed.flows) if (f.timeMs > last) last = f.timeMs;
  return { parsed, cursor: last > sinceMs ? new Date(last).toISOString() : cursor, source };
}
