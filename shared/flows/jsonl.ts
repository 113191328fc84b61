// Hubble flow JSONL (the exporter file, `hubble observe -o json`, a bare flow per line) → Flows.
// One bad line never loses the others: it is counted in `rejected` with the reason.
//
// Speed: JSON.parse alone of a whole 1.5 KB sandbox line runs at ~270k lines/s on one core. So the
// reader walks a line's members itself (the envelope's and its flow's) and takes each value from
// where it is cheapest: the endpoint records (`source`, `destination`, Hubble's `node_labels`) are
// most of a line and repeat in line after line, so they are found by a prefix and confirmed by
// comparison without being scanned; other repeating members (verdict, direction, interface, ...)
// are looked up by their text; only the members that are new in nearly every line (time, uuid, l4,
// addresses) are parsed, each on its own. Every value was JSON.parsed and validated with its field's
// schema when first seen, and the walker checks the punctuation between them, so a line is accepted
// exactly when JSON.parse and the schema would accept it. Anything it does not expect (unknown or
// escaped or duplicate keys) and every rejection take the plain path, for the schema's own reasons.
import { createReadStream } from "node:fs";
import { isAscii, isUtf8 } from "node:buffer";
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
  /** false: every line through JSON.parse and the schema (the reference the tests compare with). */
  memberWise?: boolean;
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
  private readonly memberWise: boolean;
  // Stream state.
  private carry: Buffer | undefined;
  private dropping = false;
  private lineNo = 0;
  private started = false;
  // Scanner output: the members of the line's top level and of its flow, as [start, end) in the line.
  private readonly top = new Members();
  private readonly inner = new Members();
  private envelope = false;
  /** Per-line stamps of the known keys seen, for duplicates (JSON.parse keeps the last; we go plain). */
  private readonly seen = new Uint32Array(KEY_NAMES.length * 2);
  private gen = 0;
  /**
   * Endpoints and node labels by key, then by their first PREFIX characters: the texts seen, each
   * with its validated value (or the identity of an endpoint). A hit is confirmed by comparison,
   * which also tells where the value ends without scanning it.
   */
  private readonly members = new Map<string, Map<string, Member[]>>();
  private cached = 0;
  /** Every other repeating member by key, then by its whole text: the validated value. */
  private readonly values = new Map<string, Map<string, CacheEntry<unknown>>>();

  constructor(opts: FlowReadOptions = {}) {
    this.maxLineBytes = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.full = opts.validation === "full";
    this.nodeName = opts.nodeName;
    this.memberWise = !this.full && opts.memberWise !== false;
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
    // ASCII (the usual case) copies straight into a one-byte string, 2-3x faster than decoding UTF-8.
    const ascii = isAscii(bytes);
    if (ascii || isUtf8(bytes)) {
      const text = bytes.toString(ascii ? "latin1" : "utf8");
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
    const r = (this.memberWise ? this.fast(s) : undefined) ?? this.plain(s);
    if (typeof r === "string") out.rejected.push({ line: lineNo, reason: r });
    else if (r === null) out.skipped++;
    else out.flows.push(r);
  }

  /**
   * The member-wise path: a flow, a rejection reason, null for a line without a flow, or undefined
   * when the plain path must decide (anything unexpected, and every rejection, so that reasons are
   * the schema's own).
   */
  private fast(s: string): Flow | string | null | undefined {
    if (!this.scan(s)) return undefined;
    const envelope = this.envelope;
    let envTime: string | undefined;
    let envNode: string | undefined;
    const top = this.top;
    if (envelope) {
      for (let k = 0; k < top.n; k++) {
        const key = top.keys[k] as string;
        if (key === "flow") continue;
        const e = this.memberValue(key, s, top.starts[k] as number, top.ends[k] as number, ENVELOPE_SCHEMAS);
        if (e === undefined || e.issues) return undefined;
        if (key === "time") envTime = e.ok as string;
        else if (key === "node_name") envNode = e.ok as string;
      }
    }
    const m = envelope ? this.inner : top;
    if (!envelope)
      for (let k = 0; k < m.n; k++) if (NOT_A_FLOW.includes(m.keys[k] as string)) return undefined;
    const data = emptyFields() as Record<string, unknown>;
    let src = UNKNOWN;
    let dst = UNKNOWN;
    for (let k = 0; k < m.n; k++) {
      const key = m.keys[k] as string;
      const a = m.starts[k] as number;
      const e =
        (m.hits[k] as Member | undefined)?.entry ??
        (LONG_KEYS.has(key)
          ? this.member(key, s, a, m.ends[k] as number)
          : this.memberValue(key, s, a, m.ends[k] as number, FIELD_SCHEMAS));
      if (e === undefined || e.issues) return undefined;
      if (key === "source") src = e.ok as PeerIdentity;
      else if (key === "destination") dst = e.ok as PeerIdentity;
      else if (key in FIELD_SCHEMAS) data[key] = e.ok;
    }
    return this.flow(data as FlowFields, src, dst, envelope ? "flow." : "", envNode, envTime);
  }

  /**
   * A member's value, validated with its field's schema (only as JSON when the field has none):
   * from the cache for the members that repeat, parsed every time for the others.
   */
  private memberValue(
    key: string,
    s: string,
    a: number,
    b: number,
    schemas: Record<string, z.ZodType>,
  ): CacheEntry<unknown> | undefined {
    const volatile = VOLATILE_KEYS.has(key);
    let byText: Map<string, CacheEntry<unknown>> | undefined;
    let text = s.slice(a, b);
    // A timestamp is only read (into timeMs), so its slice will do, when it holds no escapes.
    if (key === "time" && isPlainString(s, a, b)) {
      const r = (schemas.time as z.ZodType).safeParse(s.slice(a + 1, b - 1));
      return r.success ? { ok: r.data } : { issues: r.error.issues };
    }
    if (!volatile) {
      byText = this.values.get(key);
      const e = byText?.get(text);
      if (e) return e;
    }
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      return undefined;
    }
    const schema = schemas[key];
    let entry: CacheEntry<unknown>;
    if (schema) {
      const r = schema.safeParse(v);
      entry = r.success ? { ok: r.data } : { issues: r.error.issues };
    } else entry = { ok: v };
    if (!volatile) {
      if (!byText) this.values.set(key, (byText = new Map()));
      else if (byText.size >= MAX_VALUES_PER_KEY) byText.clear();
      text = flat(text);
      byText.set(text, entry);
    }
    return entry;
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
    // A slice compared with === is a memcmp; startsWith compares a character at a time (5x slower).
    if (candidates) for (const m of candidates) if (s.slice(v, v + m.text.length) === m.text) return m;
    return undefined;
  }

  /** Validates a member not seen before and caches it; undefined when it is not JSON. */
  private member(key: string, s: string, start: number, end: number): CacheEntry<unknown> | undefined {
    // A copy, not a slice: a slice would keep the whole input block it came from alive.
    const text = flat(s.slice(start, end));
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
    this.cached++;
    let byPrefix = this.members.get(key);
    if (!byPrefix) this.members.set(key, (byPrefix = new Map()));
    const prefix = text.slice(0, PREFIX);
    const list = byPrefix.get(prefix) ?? [];
    // Values that differ only late (ports in l4) share a prefix: keep the newest few.
    if (list.length >= MAX_PER_PREFIX) list.pop();
    list.unshift({ text, entry });
    byPrefix.set(prefix, list);
    return entry;
  }

  /**
   * Finds the members of the line and of its flow. False: the line is not an object of the expected
   * shape (or has what this path does not handle, like duplicate or escaped keys); the plain path
   * decides.
   */
  private scan(s: string): boolean {
    this.top.n = 0;
    this.inner.n = 0;
    this.envelope = false;
    if (++this.gen === 0xffffffff) {
      this.seen.fill(0);
      this.gen = 1;
    }
    const start = ws(s, 0);
    if (s.charCodeAt(start) !== LBRACE) return false;
    const end = this.walk(s, start, this.top, 0);
    return end >= 0 && ws(s, end) === s.length;
  }

  /** Walks an object's members from its `{`; returns the index after its `}`, or -1. */
  private walk(s: string, open: number, out: Members, level: number): number {
    let i = ws(s, open + 1);
    if (s.charCodeAt(i) === RBRACE) return i + 1;
    for (;;) {
      if (s.charCodeAt(i) !== QUOTE) return -1;
      const keyEnd = skipString(s, i);
      if (keyEnd < 0) return -1;
      // Known keys only: an unknown one may hold escapes or control characters (JSON.parse decides).
      const id = keyId(s, i + 1, keyEnd - i - 2);
      if (id < 0) return -1;
      const key = KEY_NAMES[id] as string;
      const slot = level * KEY_NAMES.length + id;
      if (this.seen[slot] === this.gen) return -1;
      this.seen[slot] = this.gen;
      let v = ws(s, keyEnd);
      if (s.charCodeAt(v) !== COLON) return -1;
      v = ws(s, v + 1);
      const c = s.charCodeAt(v);
      let end: number;
      let hit: Member | undefined;
      if (level === 0 && key === "flow") {
        if (c !== LBRACE) return -1;
        this.envelope = true;
        end = this.walk(s, v, this.inner, 1);
      } else if ((c === LBRACE || c === LBRACKET) && LONG_KEYS.has(key)) {
        hit = this.hit(key, s, v);
        end = hit ? v + hit.text.length : skipValue(s, v);
      } else end = skipValue(s, v);
      if (end < 0) return -1;
      const n = out.n++;
      out.keys[n] = key;
      out.starts[n] = v;
      out.ends[n] = end;
      out.hits[n] = hit;
      i = ws(s, end);
      const d = s.charCodeAt(i);
      if (d === COMMA) i = ws(s, i + 1);
      else if (d === RBRACE) return i + 1;
      else return -1;
    }
  }
}

/** An object's members as the scanner found them (reused from line to line). */
class Members {
  n = 0;
  readonly keys: string[] = [];
  readonly starts: number[] = [];
  readonly ends: number[] = [];
  readonly hits: (Member | undefined)[] = [];
}

const UNKNOWN = derivePeerIdentity(undefined);

const FIELD_SCHEMAS = FlowFieldsSchema.shape as Record<string, z.ZodType>;
const ENVELOPE_SCHEMAS = EnvelopeFieldsSchema.shape as Record<string, z.ZodType>;
/** The keys the fast path takes: the flow's (full schema), the envelope's, and the not-a-flow ones. */
const KEY_NAMES = [...new Set([...Object.keys(FlowSchema.shape), "flow", ...NOT_A_FLOW])];
/** Length and three characters tell the keys apart (checked at load); a hit is then confirmed. */
const keyCode = (len: number, first: number, mid: number, last: number): number =>
  len * 16_777_216 + first * 65_536 + mid * 256 + last;
const KEY_CODES = new Map<number, number>();
KEY_NAMES.forEach((k, id) => {
  const code = keyCode(k.length, k.charCodeAt(0), k.charCodeAt(k.length >> 1), k.charCodeAt(k.length - 1));
  if (KEY_CODES.has(code)) throw new Error(`flow key ${k} is not told apart by keyCode`);
  KEY_CODES.set(code, id);
});

/** The id of the known key at [at, at + len) in s, or -1. No slice: most keys are short strings. */
function keyId(s: string, at: number, len: number): number {
  if (len <= 0 || len > 255) return -1;
  const id = KEY_CODES.get(
    keyCode(len, s.charCodeAt(at), s.charCodeAt(at + (len >> 1)), s.charCodeAt(at + len - 1)),
  );
  if (id === undefined) return -1;
  const name = KEY_NAMES[id] as string;
  for (let i = 0; i < len; i++) if (s.charCodeAt(at + i) !== name.charCodeAt(i)) return -1;
  return id;
}
/** Long, and the same text in line after line: found by a prefix (see `hit`). */
const LONG_KEYS = new Set(["source", "destination", "node_labels"]);
/**
 * New in nearly every line (timestamps, ids, ephemeral ports, client addresses: in a sandbox run 2 in
 * 3 l4 texts and 1 in 10 IP texts are new), or mutable downstream (l7's DNS answers): parsed every
 * time instead of cached.
 */
const VOLATILE_KEYS = new Set(["time", "uuid", "l4", "IP", "ethernet", "l7"]);
const MAX_VALUES_PER_KEY = 4096;

/** The read fields, all unset: one hidden class for every flow (adding keys one by one makes many). */
export function emptyFields(): FlowFields {
  return {
    time: undefined,
    uuid: undefined,
    verdict: undefined,
    drop_reason_desc: undefined,
    IP: undefined,
    l4: undefined,
    l7: undefined,
    node_name: undefined,
    node_labels: undefined,
    source_names: undefined,
    destination_names: undefined,
    traffic_direction: undefined,
    is_reply: undefined,
  };
}

/** A JSON string at [a, b) with no escapes or control characters: its value is the text inside. */
function isPlainString(s: string, a: number, b: number): boolean {
  if (s.charCodeAt(a) !== QUOTE) return false;
  for (let i = a + 1; i < b - 1; i++) {
    const c = s.charCodeAt(i);
    if (c < 32 || c === BACKSLASH) return false;
  }
  return true;
}

/** A string's own copy (a V8 sliced string keeps its parent alive). */
function flat(s: string): string {
  return Buffer.from(s, "utf8").toString("utf8");
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
