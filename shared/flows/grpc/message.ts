// proto-loader objects (keepCase, enums and 64-bit integers as strings, no defaults, oneofs) are
// protojson except for the well-known types: a Timestamp is {seconds, nanos} instead of RFC 3339
// and a BoolValue is {value} instead of a bool; oneofs add a field naming the case. These convert
// between the two, so the Relay path reuses the JSONL schema and normaliser.

type Obj = Record<string, unknown>;
interface Timestamp {
  seconds?: string | number;
  nanos?: number;
}

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** {seconds, nanos} → RFC 3339 with nanoseconds, as protojson prints it. */
export function timestampToRfc3339(t: Timestamp): string {
  const seconds = Number(t.seconds ?? 0);
  const nanos = t.nanos ?? 0;
  const base = new Date(seconds * 1000).toISOString().slice(0, 19);
  return nanos ? `${base}.${String(nanos).padStart(9, "0")}Z` : `${base}Z`;
}

/** RFC 3339 → {seconds, nanos} (nanoseconds kept from the text). */
export function rfc3339ToTimestamp(s: string): { seconds: string; nanos: number } {
  const ms = Date.parse(s);
  const frac = /\.(\d+)/.exec(s)?.[1] ?? "";
  return { seconds: String(Math.floor(ms / 1000)), nanos: Number(frac.slice(0, 9).padEnd(9, "0")) };
}

/** A GetFlowsResponse from proto-loader → the protojson envelope the line reader takes. */
export function responseFromProto(msg: Obj): Obj {
  delete msg.response_types;
  if (isObj(msg.time)) msg.time = timestampToRfc3339(msg.time);
  if (isObj(msg.flow)) msg.flow = flowFromProto(msg.flow);
  return msg;
}

export function flowFromProto(f: Obj): Obj {
  if (isObj(f.time)) f.time = timestampToRfc3339(f.time);
  // BoolValue: present but empty is false.
  if (isObj(f.is_reply)) f.is_reply = f.is_reply.value === true;
  if (isObj(f.l4)) delete f.l4.protocol;
  if (isObj(f.l7)) delete f.l7.record;
  // Enum numbers this subset of the .proto does not name arrive as numbers.
  for (const k of ["drop_reason_desc", "trace_observation_point", "trace_reason"])
    if (typeof f[k] === "number") f[k] = String(f[k]);
  return f;
}

/** A protojson envelope or bare flow → the object proto-loader serialises (for servers, tests). */
export function responseToProto(line: Obj): Obj {
  const env = isObj(line.flow) ? line : { flow: line };
  const out: Obj = { ...env, flow: flowToProto(env.flow as Obj) };
  if (typeof env.time === "string") out.time = rfc3339ToTimestamp(env.time);
  return out;
}

export function flowToProto(f: Obj): Obj {
  const out: Obj = { ...f };
  if (typeof f.time === "string") out.time = rfc3339ToTimestamp(f.time);
  if (typeof f.is_reply === "boolean") out.is_reply = { value: f.is_reply };
  return out;
}
