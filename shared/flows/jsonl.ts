// Hubble flow JSONL (the exporter file, `hubble observe -o json`, a bare flow per line) → Flows.
// One bad line never loses the others: it is counted in `rejected` with the reason.
//
// Speed: JSON.parse alone of a whole 1.5 KB sandbox line runs at ~270k lines/s on one core. The
// endpoint records (`source`, `destination`, and Hubble's `node_labels`) are most of a line and repeat
// in line after line, so the reader cuts them out as text, parses and validates each distinct text
// once (cached), and JSON.parses only the rest of the line with `{}`/`[]` in their place. Substituting
// a well-formed value for a well-formed value keeps a document well-formed, so a line is accepted
// exactly when JSON.parse would accept it; anything the scanner does not expect takes the plain path.
import { createReadStream } from "node:fs";
import { isUtf8 } from "node:buffer";
import type { z } from "zod";
import { describeIssues, issuesFromZod } from "../errors.js";
import { derivePeerIdentity, FlowNormaliser, type PeerIdentity } from "./normalise.js";
import {
  EnvelopeFieldsSchema,
  ExporterLineSchema,
  FlowEndpointSchema,
  FlowFieldsSchema,
  FlowReadSchema,
  FlowSchema,
  type FlowFields,
  type FlowRead,
} from "./schema.js";
import type { Flow } from "./types.js";

export interface FlowRejection {
  /** 1-based line number in the input (blank lines count). */
  line: number;
  reason: string;
}

export interface FlowParseResult {
  flows: Flow[];
  rejected: FlowRejection[];
  /** Non-blank lines read: flows + rejected + skipped. */
  lines: number;
  /** Lines that are valid but carry no flow (`lost_events`, `node_status`, agent/debug events). */
  skipped: number;
}

export interface FlowReadOptions {
  /** Longer lines are rejected (default 1 MiB). */
  maxLineBytes?: number;
  /**
   * "read" (default): the fields Prophet reads are validated with the schema's rules, unknown and
   * unread fields are accepted. "full": every line is validated against the full FlowSchema (slower).
   */
  validation?: "read" | "full";
  /** Node name for flows whose line names none (e.g. a batch from one node's exporter). */
  nodeName?: string;
}

export const DEFAULT_MAX_LINE_BYTES = 2 ** 20;

const NOT_A_FLOW = ["lost_events", "node_status", "agent_event", "debug_event"];
const MAX_CACHED = 20_000;
const QUOTE = 34,
  BACKSLASH = 92,
  COLON = 58,
  COMMA = 44,
  LBRACE = 123,
  RBRACE = 125,
  LBRACKET = 91,
  RBRACKET = 93;

const PREFIX = 40;
const MAX_PER_PREFIX = 8;

interface Member {
  text: string;
  entry: CacheEntry<unknown>;
}

type ZodIssues = ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>;
type CacheEntry<T> = { ok: T; issues?: undefined } | { ok?: undefined; issues: ZodIssues };

// The envelope with its flow, for lines the fast path does not take.
const EnvelopeReadSchema = EnvelopeFieldsSchema.extend({ flow: FlowReadSchema });

export function emptyResult(): FlowParseResult {
  return { flows: [], rejected: [], lines: 0, skipped: 0 };
}

/**
 * Parses lines into flows; keeps caches of the endpoints it has seen, so use one per source and
 * feed it all of that source's lines (`push` handles chunks split anywhere, even inside a UTF-8
 * character).
 */
export class FlowLineReader {
  private readonly normaliser = new FlowNormaliser();
  private readonly endpoints = new Map<string, CacheEntry<PeerIdentity>>();
  private readonly nodeLabels = new Map<string, CacheEntry<true>>();
  private readonly maxLineBytes: number;
  private readonly full: boolean;
  private readonly nodeName: string | undefined;
  // Stream state.
  private carry: Buffer | undefined;
  private dropping = false;
  private lineNo = 0;
  private started = false;
  // Scanner output: the flow's object and array members, as [start, end) in the line.
  private readonly cutKeys: string[] = [];
  private readonly cutStarts: number[] = [];
  private readonly cutEnds: number[] = [];
  private readonly cutHits: (Member | undefined)[] = [];
  private cuts = 0;
  private envelope = false;
  /**
   * Cut-out members by key, then by their first PREFIX characters: the texts seen, each with its
   * validated value (or the identity of an endpoint). A hit is confirmed with startsWith, which
   * also tells where the value ends without scanning it.
   */
  private readonly members = new Map<string, Map<string, Member[]>>();
  private cached = 0;

  constructor(opts: FlowReadOptions = {}) {
    this.maxLineBytes = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.full = opts.validation === "full";
    this.nodeName = opts.nodeName;
  }

  /** All lines of a text (one call = one whole input; line numbers start at 1). */
  text(input: string, out: FlowParseResult = emptyResult()): FlowParseResult {
    let pos = input.charCodeAt(0) === 0xfeff ? 1 : 0;
    let lineNo = 0;
    while (pos <= input.length) {
      let nl = input.indexOf("\n", pos);
      if (nl < 0) nl = input.length;
      lineNo++;
      this.line(input.slice(pos, nl), lineNo, out);
      pos = nl + 1;
    }
    return out;
  }

  /** The next chunk of a byte stream; returns the flows of the lines it completed. */
  push(chunk: Uint8Array | string): FlowParseResult {
    const out = emptyResult();
    let buf =
      typeof chunk === "string"
        ? Buffer.from(chunk)
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (!this.started && buf.length) {
      this.started = true;
      if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3);
    }
    let pos = 0;
    if (this.dropping || this.carry) {
      const nl = buf.indexOf(10);
      if (nl < 0) {
        if (!this.dropping) this.keep(buf);
        return out;
      }
      this.lineNo++;
      if (this.dropping) this.rejectLong(out);
      else this.bytesLine(Buffer.concat([this.carry as Buffer, buf.subarray(0, nl)]), out);
      this.dropping = false;
      this.carry = undefined;
      pos = nl + 1;
    }
    const last = buf.lastIndexOf(10);
    if (last >= pos) {
      this.block(buf.subarray(pos, last), out);
      pos = last + 1;
    }
    if (pos < buf.length) this.keep(buf.subarray(pos));
    return out;
  }

  /** The end of the stream: the last line, when it had no newline. */
  end(): FlowParseResult {
    const out = emptyResult();
    if (this.dropping || this.carry) {
      this.lineNo++;
      if (this.dropping) this.rejectLong(out);
      else this.bytesLine(this.carry as Buffer, out);
    }
    this.dropping = false;
    this.carry = undefined;
    return out;
  }

  private keep(tail: Buffer): void {
    const carry = this.carry ? Buffer.concat([this.carry, tail]) : Buffer.from(tail);
    if (carry.length > this.maxLineBytes) {
      this.dropping = true;
      this.carry = undefined;
    } else this.carry = carry;
  }

  private rejectLong(out: FlowParseResult): void {
    out.lines++;
    out.rejected.push({ line: this.lineNo, reason: this.longReason() });
  }

  private longReason(): string {
    return `line longer than ${this.maxLineBytes} bytes (maxLineBytes)`;
  }

  /** Complete lines (without the last newline). */
  private block(bytes: Buffer, out: FlowParseResult): void {
    if (isUtf8(bytes)) {
      const text = bytes.toString("utf8");
      let pos = 0;
      while (pos <= text.length) {
        let nl = text.indexOf("\n", pos);
        if (nl < 0) nl = text.length;
        this.line(text.slice(pos, nl), ++this.lineNo, out);
        pos = nl + 1;
      }
      return;
    }
    let pos = 0;
    while (pos <= bytes.length) {
      let nl = bytes.indexOf(10, pos);
      if (nl < 0) nl = bytes.length;
      this.lineNo++;
      this.bytesLine(bytes.subarray(pos, nl), out);
      pos = nl + 1;
    }
  }

  private bytesLine(bytes: Buffer, out: FlowParseResult): void {
    if (bytes.length > this.maxLineBytes) return this.rejectLong(out);
    if (!isUtf8(bytes)) {
      if (isBlank(bytes.toString("latin1"))) return;
      out.lines++;
      out.rejected.push({ line: this.lineNo, reason: "not UTF-8" });
      return;
    }
    this.line(bytes.toString("utf8"), this.lineNo, out);
  }

  /** One line of text (without its newline). */
  line(raw: string, lineNo: number, out: FlowParseResult): void {
    const s = raw.charCodeAt(raw.length - 1) === 13 ? raw.slice(0, -1) : raw;
    if (s.length === 0 || (s.charCodeAt(0) <= 32 && isBlank(s))) return;
    out.lines++;
    if (s.length * 3 > this.maxLineBytes && Buffer.byteLength(s) > this.maxLineBytes) {
      out.rejected.push({ line: lineNo, reason: this.longReason() });
      return;
    }
    const r = this.full || !this.scan(s) ? this.plain(s) : this.fast(s);
    if (typeof r === "string") out.rejected.push({ line: lineNo, reason: r });
    else if (r === null) out.skipped++;
    else out.flows.push(r);
  }

  /** The cut-out path: a flow, a rejection reason, or null for a line without a flow. */
  private fast(s: string): Flow | string | null {
    let rest = "";
    let pos = 0;
    for (let k = 0; k < this.cuts; k++) {
      const a = this.cutStarts[k] as number;
      rest += s.slice(pos, a) + (s.charCodeAt(a) === LBRACE ? "{}" : "[]");
      pos = this.cutEnds[k] as number;
    }
    rest += s.slice(pos);
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(rest) as Record<string, unknown>;
    } catch {
      return this.plain(s); // for the parser's own message, with positions in the real line
    }
    const envelope = this.envelope;
    const prefix = envelope ? "flow." : "";
    let envTime: string | undefined;
    let envNode: string | undefined;
    if (envelope) {
      const env = EnvelopeFieldsSchema.safeParse(obj);
      if (!env.success) return describeIssues(issuesFromZod(env.error.issues));
      envTime = env.data.time;
      envNode = env.data.node_name;
    } else if (NOT_A_FLOW.some((k) => k in obj)) return null;
    // The placeholders pass or fail the field's type like the real value would; the values come
    // from the member cache.
    const fields = FlowFieldsSchema.safeParse(envelope ? obj.flow : obj);
    if (!fields.success) return describeIssues(issuesFromZod(fields.error.issues, prefix.slice(0, -1)));
    const data = fields.data as Record<string, unknown>;
    let src = UNKNOWN;
    let dst = UNKNOWN;
    for (let k = 0; k < this.cuts; k++) {
      const key = this.cutKeys[k] as string;
      const e =
        this.cutHits[k]?.entry ?? this.member(key, s, this.cutStarts[k] as number, this.cutEnds[k] as number);
      if (e === undefined) return this.plain(s);
      if (e.issues) return describeIssues(issuesFromZod(e.issues, `${prefix}${key}`));
      if (key === "source") src = e.ok as PeerIdentity;
      else if (key === "destination") dst = e.ok as PeerIdentity;
      else if (key in data) data[key] = e.ok;
    }
    return this.flow(fields.data, src, dst, prefix, envNode, envTime);
  }

  /** The plain path: the whole line through JSON.parse and the schema. */
  private plain(s: string): Flow | string | null {
    let obj: unknown;
    try {
      obj = JSON.parse(s);
    } catch (err) {
      return `invalid JSON: ${(err as Error).message}`;
    }
    return this.object(obj);
  }

  /** A parsed GetFlowsResponse or flow (a batch's `flows`, a Relay message). */
  value(obj: unknown, lineNo: number, out: FlowParseResult): void {
    out.lines++;
    const r = this.object(obj);
    if (typeof r === "string") out.rejected.push({ line: lineNo, reason: r });
    else if (r === null) out.skipped++;
    else out.flows.push(r);
  }

  private object(obj: unknown): Flow | string | null {
    if (typeof obj !== "object" || obj === null || Array.isArray(obj))
      return "not a JSON object (a GetFlowsResponse or a flow)";
    const envelope = "flow" in obj;
    if (!envelope && NOT_A_FLOW.some((k) => k in obj)) return null;
    let flow: FlowRead;
    let envNode: string | undefined;
    let envTime: string | undefined;
    if (envelope) {
      const env = (this.full ? ExporterLineSchema : EnvelopeReadSchema).safeParse(obj);
      if (!env.success) return describeIssues(issuesFromZod(env.error.issues));
      flow = env.data.flow;
      envNode = env.data.node_name;
      envTime = env.data.time;
    } else {
      const f = (this.full ? FlowSchema : FlowReadSchema).safeParse(obj);
      if (!f.success) return describeIssues(issuesFromZod(f.error.issues));
      flow = f.data;
    }
    const n = this.normaliser;
    return this.flow(
      flow,
      n.identity(flow.source),
      n.identity(flow.destination),
      envelope ? "flow." : "",
      envNode,
      envTime,
    );
  }

  private flow(
    f: FlowFields,
    src: PeerIdentity,
    dst: PeerIdentity,
    prefix: string,
    envNode: string | undefined,
    envTime: string | undefined,
  ): Flow | string {
    if (f.time === undefined && envTime === undefined)
      return `${prefix}time: a flow needs a time (neither the flow nor its envelope has one)`;
    const flow = this.normaliser.build(f, src, dst, envNode ?? this.nodeName, envTime);
    if (Number.isNaN(flow.timeMs)) return `${prefix}time: not a valid date`;
    return flow;
  }

  /** The cached member whose text starts at v, if any. */
  private hit(key: string, s: string, v: number): Member | undefined {
    const candidates = this.members.get(key)?.get(s.slice(v, v + PREFIX));
    if (candidates) for (const m of candidates) if (s.startsWith(m.text, v)) return m;
    return undefined;
  }

  /** Validates a member not seen before and caches it; undefined when it is not JSON. */
  private member(key: string, s: string, start: number, end: number): CacheEntry<unknown> | undefined {
    const text = s.slice(start, end);
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      return undefined;
    }
    let entry: CacheEntry<unknown>;
    if (key === "source" || key === "destination") {
      const r = FlowEndpointSchema.safeParse(v);
      entry = r.success ? { ok: derivePeerIdentity(r.data) } : { issues: r.error.issues };
    } else {
      const schema = (FlowFieldsSchema.shape as Record<string, z.ZodType>)[key];
      const r = schema ? schema.safeParse(v) : { success: true as const, data: v };
      entry = r.success ? { ok: r.data } : { issues: r.error.issues };
    }
    if (this.cached >= MAX_CACHED) {
      this.members.clear();
      this.cached = 0;
    }
    let byPrefix = this.members.get(key);
    if (!byPrefix) this.members.set(key, (byPrefix = new Map()));
    const prefix = text.slice(0, PREFIX);
    const list = byPrefix.get(prefix) ?? [];
    // Values that differ only late (ports in l4) share a prefix: keep the newest few.
    if (list.length >= MAX_PER_PREFIX) list.pop();
    list.unshift({ text, entry });
    byPrefix.set(prefix, list);
    this.cached++;
    return entry;
  }

  /**
   * Finds the flow's object and array members to cut out. False: the line is not an object of the
   * expected shape (or has what the fast path does not handle, like duplicate or escaped keys);
   * the plain path decides.
   */
  private scan(s: string): boolean {
    this.cuts = 0;
    this.envelope = false;
    const start = ws(s, 0);
    if (s.charCodeAt(start) !== LBRACE) return false;
    this.topCuts = false;
    const end = this.walk(s, start, 0);
    return end >= 0 && ws(s, end) === s.length && !(this.envelope && this.topCuts);
  }

  private topCuts = false;

  /** Walks an object's members from its `{`; returns the index after its `}`, or -1. */
  private walk(s: string, open: number, level: number): number {
    let i = ws(s, open + 1);
    if (s.charCodeAt(i) === RBRACE) return i + 1;
    for (;;) {
      if (s.charCodeAt(i) !== QUOTE) return -1;
      const keyEnd = skipString(s, i);
      if (keyEnd < 0) return -1;
      let v = ws(s, keyEnd);
      if (s.charCodeAt(v) !== COLON) return -1;
      v = ws(s, v + 1);
      const c = s.charCodeAt(v);
      let end: number;
      if (level === 0 && keyEnd - i === 6 && s.startsWith("flow", i + 1)) {
        if (this.envelope || c !== LBRACE) return -1;
        this.envelope = true;
        end = this.walk(s, v, 1);
      } else if ((c === LBRACE || c === LBRACKET) && isCutKey(s, i + 1, keyEnd - i - 2)) {
        const key = s.slice(i + 1, keyEnd - 1);
        const hit = this.hit(key, s, v);
        end = hit ? v + hit.text.length : skipValue(s, v);
        if (end < 0 || key.includes("\\")) return -1;
        for (let k = 0; k < this.cuts; k++) if (this.cutKeys[k] === key) return -1;
        if (level === 0) this.topCuts = true;
        this.cutKeys[this.cuts] = key;
        this.cutStarts[this.cuts] = v;
        this.cutEnds[this.cuts] = end;
        this.cutHits[this.cuts] = hit;
        this.cuts++;
      } else end = skipValue(s, v);
      if (end < 0) return -1;
      i = ws(s, end);
      const d = s.charCodeAt(i);
      if (d === COMMA) i = ws(s, i + 1);
      else if (d === RBRACE) return i + 1;
      else return -1;
    }
  }
}

const UNKNOWN = derivePeerIdentity(undefined);

/**
 * The members worth cutting out: large, and the same text in line after line. (Cutting every
 * object member costs more than it saves: l4 and ethernet differ between connections.)
 */
function isCutKey(s: string, at: number, len: number): boolean {
  return (
    (len === 6 && s.startsWith("source", at)) ||
    (len === 11 && (s.startsWith("destination", at) || s.startsWith("node_labels", at)))
  );
}

function ws(s: string, i: number): number {
  for (;;) {
    const c = s.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13) i++;
    else return i;
  }
}

function isBlank(s: string): boolean {
  return s.trim().length === 0;
}

/** From an opening quote to just after the closing one; -1 when unterminated. */
function skipString(s: string, i: number): number {
  let from = i + 1;
  for (;;) {
    const q = s.indexOf('"', from);
    if (q < 0) return -1;
    let b = q - 1;
    while (s.charCodeAt(b) === BACKSLASH) b--;
    if ((q - 1 - b) % 2 === 0) return q + 1;
    from = q + 1;
  }
}

/** Just past the value at i (strings and brackets matched; scalars up to a delimiter); -1 if unbalanced. */
function skipValue(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c === QUOTE) return skipString(s, i);
  if (c === LBRACE || c === LBRACKET) {
    let depth = 0;
    for (let j = i; j < s.length; j++) {
      const d = s.charCodeAt(j);
      if (d === QUOTE) {
        const e = skipString(s, j);
        if (e < 0) return -1;
        j = e - 1;
      } else if (d === LBRACE || d === LBRACKET) depth++;
      else if ((d === RBRACE || d === RBRACKET) && --depth === 0) return j + 1;
    }
    return -1;
  }
  let j = i;
  for (; j < s.length; j++) {
    const d = s.charCodeAt(j);
    if (d === COMMA || d === RBRACE || d === RBRACKET || d <= 32) break;
  }
  return j === i ? -1 : j;
}

/** Flows of a whole input: JSONL text or bytes (invalid UTF-8 lines are rejected, the rest kept). */
export function parseFlowLines(input: string | Uint8Array, opts: FlowReadOptions = {}): FlowParseResult {
  const reader = new FlowLineReader(opts);
  if (typeof input === "string") return reader.text(input);
  return merge(reader.push(input), reader.end());
}

/** Flows of a byte stream (a Node Readable, a file), one result per chunk that completed lines. */
export async function* flowBatches(
  source: AsyncIterable<Uint8Array | string>,
  opts: FlowReadOptions = {},
): AsyncGenerator<FlowParseResult> {
  const reader = new FlowLineReader(opts);
  for await (const chunk of source) {
    const r = reader.push(chunk);
    if (r.lines) yield r;
  }
  const r = reader.end();
  if (r.lines) yield r;
}

/** Reads a JSONL file in batches; returns the totals. */
export async function readFlowFile(
  path: string,
  onBatch: (batch: FlowParseResult) => void | Promise<void>,
  opts: FlowReadOptions & { highWaterMark?: number } = {},
): Promise<{ lines: number; flows: number; rejected: number; skipped: number }> {
  const totals = { lines: 0, flows: 0, rejected: 0, skipped: 0 };
  const stream = createReadStream(path, { highWaterMark: opts.highWaterMark ?? 2 ** 20 });
  for await (const batch of flowBatches(stream, opts)) {
    totals.lines += batch.lines;
    totals.flows += batch.flows.length;
    totals.rejected += batch.rejected.length;
    totals.skipped += batch.skipped;
    await onBatch(batch);
  }
  return totals;
}

export function merge(a: FlowParseResult, b: FlowParseResult): FlowParseResult {
  if (!b.lines) return a;
  for (const f of b.flows) a.flows.push(f);
  for (const r of b.rejected) a.rejected.push(r);
  a.lines += b.lines;
  a.skipped += b.skipped;
  return a;
}
