// The fused fast path of the JSONL reader (jsonl.ts): one pass over a line's text that checks its JSON
// syntax strictly, validates the fields Prophet reads with their schema's rules, and builds the
// normalised Flow directly, without the intermediate Hubble-shaped object.
//
// Proof obligation: it returns a Flow only when JSON.parse + the read schema + the normaliser would
// give an equal one; whenever it is unsure (escaped or duplicate keys, an unusual shape, a value
// that fails its schema, a line that is not JSON) it returns undefined and the plain path decides,
// with the schema's own reasons. test/flows/member-wise.test.ts checks this against the plain path
// on sandbox lines and on seeded mutations of them.
//
// It reads the line's character codes (`C`: the bytes of an ASCII block, which index like its
// latin1 text), since a typed array reads much cheaper than a string, and compares texts seen before
// with `===` on slices (a memcmp). How each member is taken:
// - unread members (ethernet, Type, event_type, interface, Summary, unknown keys, ...): only their
//   JSON syntax matters to the read schema (z.object drops them), so `skipJson` checks it strictly
//   without building a value;
// - the endpoints (`source`, `destination`) and `node_labels`: long and the same text in line after
//   line, so found by a hash of their first characters and confirmed by comparison with a text
//   validated before (the endpoint's identity is cached with it);
// - the rest of the flow object after `destination` (Type, node_name, direction, interface,
//   summary, ...) is usually a run of members seen before as a whole: found and confirmed the same
//   way, with the values it sets and its keys (for duplicates) recorded when it was first walked;
// - short repeating members (verdict, traffic_direction, is_reply, node_name, *_names,
//   drop_reason_desc): compared in place with the last few texts seen, each validated once;
// - `time`: a `YYYY-MM-DDTHH:MM:SS.<digits>Z` time is valid exactly when its first 19 characters,
//   with any fraction, are (the schema's pattern: seconds, optional `\.\d+`, then Z or an offset),
//   so the schema runs once per second of flow time and the milliseconds come from the digits;
// - `uuid`, `IP`, `l4`, `l7`: hand-parsed in their usual shape (plain strings, integer ports,
//   boolean flags, the l7 type's names), since their texts are new in nearly every line;
// - anything else, and any of the above in an unusual shape: JSON.parse of the member's text and
//   its field's schema. Duplicate keys always go to the plain path (JSON.parse keeps the last).
import type { z } from "zod";
import { derivePeerIdentity, peerAt, type FlowNormaliser, type PeerIdentity } from "./normalise.js";
import {
  EnvelopeFieldsSchema,
  FlowEndpointSchema,
  FlowFieldsSchema,
  FlowReadSchema,
  FlowSchema,
  Layer7Schema,
  type FlowFields,
} from "./schema.js";
import type { Flow, FlowProtocol, FlowVerdict } from "./types.js";

const QUOTE = 34,
  BACKSLASH = 92,
  COLON = 58,
  COMMA = 44,
  LBRACE = 123,
  RBRACE = 125,
  LBRACKET = 91,
  RBRACKET = 93;

/** Keys of a bare flow line that make it something else (the plain path skips such lines). */
export const NOT_A_FLOW = ["lost_events", "node_status", "agent_event", "debug_event"];

// What the walker does with a member, by key.
const K_UNREAD = 0,
  K_TIME = 1,
  K_UUID = 2,
  K_VERDICT = 3,
  K_DROP_DESC = 4,
  K_IP = 5,
  K_L4 = 6,
  K_L7 = 7,
  K_SOURCE = 8,
  K_DESTINATION = 9,
  K_NODE_NAME = 10,
  K_NODE_LABELS = 11,
  K_SOURCE_NAMES = 12,
  K_DEST_NAMES = 13,
  K_DIRECTION = 14,
  K_IS_REPLY = 15,
  K_FLOW = 16,
  K_NOT_A_FLOW = 17;

/** Every field the read schema (and the envelope's) has, with what the walker does with it. */
const READ_KINDS: Record<string, number> = {
  time: K_TIME,
  uuid: K_UUID,
  verdict: K_VERDICT,
  drop_reason_desc: K_DROP_DESC,
  IP: K_IP,
  l4: K_L4,
  l7: K_L7,
  source: K_SOURCE,
  destination: K_DESTINATION,
  node_name: K_NODE_NAME,
  node_labels: K_NODE_LABELS,
  source_names: K_SOURCE_NAMES,
  destination_names: K_DEST_NAMES,
  traffic_direction: K_DIRECTION,
  is_reply: K_IS_REPLY,
};
/** The fields the fast path reads: every field of FlowReadSchema, checked at load and in the tests. */
export const FAST_READ_KEYS = Object.keys(READ_KINDS);
for (const k of Object.keys(FlowReadSchema.shape))
  if (!(k in READ_KINDS)) throw new Error(`fast-line: the read schema's field ${k} has no handler`);
for (const k of Object.keys(EnvelopeFieldsSchema.shape))
  if (k !== "time" && k !== "node_name") throw new Error(`fast-line: envelope field ${k} has no handler`);

/** Keys told apart without a slice: the flow's (full schema), the envelope's, the not-a-flow ones. */
const KEY_NAMES = [...new Set([...Object.keys(FlowSchema.shape), ...FAST_READ_KEYS, "flow", ...NOT_A_FLOW])];
const KIND_OF = Int8Array.from(KEY_NAMES, (k) =>
  k === "flow" ? K_FLOW : NOT_A_FLOW.includes(k) ? K_NOT_A_FLOW : (READ_KINDS[k] ?? K_UNREAD),
);
const ID_TIME = KEY_NAMES.indexOf("time");
const ID_NODE_NAME = KEY_NAMES.indexOf("node_name");
const ID_FLOW = KEY_NAMES.indexOf("flow");
/** Length and three characters tell the keys apart (checked at load); a hit is then confirmed. */
const keyCode = (len: number, first: number, mid: number, last: number): number =>
  ((len & 0x3f) << 24) | ((first & 0xff) << 16) | ((mid & 0xff) << 8) | (last & 0xff);
// An open-addressed table of the codes (cheaper than a Map lookup, once per key of every line).
const KEY_SLOTS = new Int32Array(1024).fill(-1);
const KEY_SLOT_CODES = new Int32Array(1024);
const keySlot = (code: number): number => Math.imul(code, 0x9e3779b1) >>> 22;
KEY_NAMES.forEach((k, id) => {
  const code = keyCode(k.length, k.charCodeAt(0), k.charCodeAt(k.length >> 1), k.charCodeAt(k.length - 1));
  let h = keySlot(code);
  for (; KEY_SLOTS[h] !== -1; h = (h + 1) & 1023)
    if (KEY_SLOT_CODES[h] === code) throw new Error(`flow key ${k} is not told apart by keyCode`);
  KEY_SLOTS[h] = id;
  KEY_SLOT_CODES[h] = code;
});
// Duplicate keys are found with two 32-bit masks per object.
if (KEY_NAMES.length > 64) throw new Error("fast-line: more than 64 flow keys");

/** The id of the known key at [at, at + len) in s, or -1. No slice: most keys are short strings. */
function keyId(s: string, at: number, len: number): number {
  if (len <= 0 || len > 63) return -1;
  const code = keyCode(len, C[at] as number, C[at + (len >> 1)] as number, C[at + len - 1] as number);
  let h = keySlot(code);
  let id = KEY_SLOTS[h] as number;
  while (id !== -1 && KEY_SLOT_CODES[h] !== code) {
    h = (h + 1) & 1023;
    id = KEY_SLOTS[h] as number;
  }
  if (id === -1) return -1;
  const bytes = KEY_BYTES[id] as Uint8Array;
  for (let i = 0; i < len; i++) if (C[at + i] !== bytes[i]) return -1;
  return id;
}

/**
 * The character codes of the line being parsed, C[i] === s.charCodeAt(i) over the line (its bytes
 * when the text is ASCII or Latin-1): a typed array reads cheaper than a string.
 */
let C: Buffer = Buffer.alloc(0);

const KEY_BYTES = KEY_NAMES.map((k) => Uint8Array.from(k, (ch) => ch.charCodeAt(0)));

// ---- Strict JSON syntax over s[i, e) (e: the end of the line; s may hold more lines after it).

/** The character at i, or -1 past the line's end. */
function at(s: string, i: number, e: number): number {
  return i < e ? (C[i] as number) : -1;
}

/** Past JSON whitespace (space, tab, LF, CR: exactly JSON's). */
function ws(s: string, i: number, e: number): number {
  while (i < e) {
    const c = C[i] as number;
    if (c === 32 || c === 9 || c === 10 || c === 13) i++;
    else break;
  }
  return i;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

/** From the opening quote at i to just past the closing one, escapes checked; -1 when not a JSON string. */
function skipString(s: string, i: number, e: number): number {
  for (let j = i + 1; j < e; j++) {
    const c = C[j] as number;
    if (c === QUOTE) return j + 1;
    if (c < 32) return -1;
    if (c === BACKSLASH) {
      const d = at(s, ++j, e);
      // \" \\ \/ \b \f \n \r \t
      if (d === 34 || d === 92 || d === 47 || d === 98 || d === 102 || d === 110 || d === 114 || d === 116)
        continue;
      if (d !== 117 /* u */ || j + 4 >= e) return -1;
      if (!isHex(C[j + 1] as number) || !isHex(C[j + 2] as number)) return -1;
      if (!isHex(C[j + 3] as number) || !isHex(C[j + 4] as number)) return -1;
      j += 4;
    }
  }
  return -1;
}

/** Like skipString for a string without escapes (its value is the text between the quotes); else -1. */
function plainString(s: string, i: number, e: number): number {
  for (let j = i + 1; j < e; j++) {
    const c = C[j] as number;
    if (c === QUOTE) return j + 1;
    if (c < 32 || c === BACKSLASH) return -1;
  }
  return -1;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)? from i; -1 when not a JSON number. */
function skipNumber(s: string, i: number, e: number): number {
  let j = i;
  if (at(s, j, e) === 45) j++;
  let c = at(s, j, e);
  if (c === 48) j++;
  else if (c >= 49 && c <= 57) {
    j++;
    while (isDigit(at(s, j, e))) j++;
  } else return -1;
  if (at(s, j, e) === 46) {
    j++;
    if (!isDigit(at(s, j, e))) return -1;
    while (isDigit(at(s, j, e))) j++;
  }
  c = at(s, j, e);
  if (c === 101 || c === 69) {
    j++;
    c = at(s, j, e);
    if (c === 43 || c === 45) j++;
    if (!isDigit(at(s, j, e))) return -1;
    while (isDigit(at(s, j, e))) j++;
  }
  return j;
}

function skipWord(s: string, i: number, e: number, word: string): number {
  if (i + word.length > e) return -1;
  for (let k = 0; k < word.length; k++) if (C[i + k] !== word.charCodeAt(k)) return -1;
  return i + word.length;
}

const MAX_DEPTH = 64;

/**
 * Just past the JSON value at i (no whitespace before it), its syntax checked as strictly as
 * JSON.parse does; -1 when it is not one (or nests deeper than MAX_DEPTH: the plain path decides).
 */
function skipJson(s: string, i: number, e: number, depth = 0): number {
  const c = at(s, i, e);
  if (c === QUOTE) return skipString(s, i, e);
  if (c === LBRACE) {
    if (depth >= MAX_DEPTH) return -1;
    let j = ws(s, i + 1, e);
    if (at(s, j, e) === RBRACE) return j + 1;
    for (;;) {
      if (at(s, j, e) !== QUOTE) return -1;
      j = skipString(s, j, e);
      if (j < 0) return -1;
      j = ws(s, j, e);
      if (at(s, j, e) !== COLON) return -1;
      j = skipJson(s, ws(s, j + 1, e), e, depth + 1);
      if (j < 0) return -1;
      j = ws(s, j, e);
      const d = at(s, j, e);
      if (d === RBRACE) return j + 1;
      if (d !== COMMA) return -1;
      j = ws(s, j + 1, e);
    }
  }
  if (c === LBRACKET) {
    if (depth >= MAX_DEPTH) return -1;
    let j = ws(s, i + 1, e);
    if (at(s, j, e) === RBRACKET) return j + 1;
    for (;;) {
      j = skipJson(s, j, e, depth + 1);
      if (j < 0) return -1;
      j = ws(s, j, e);
      const d = at(s, j, e);
      if (d === RBRACKET) return j + 1;
      if (d !== COMMA) return -1;
      j = ws(s, j + 1, e);
    }
  }
  if (c === 116) return skipWord(s, i, e, "true");
  if (c === 102) return skipWord(s, i, e, "false");
  if (c === 110) return skipWord(s, i, e, "null");
  return skipNumber(s, i, e);
}

/** A Latin-1 text's character codes. */
function codesOf(t: string): Uint8Array {
  const codes = new Uint8Array(t.length);
  for (let k = 0; k < t.length; k++) codes[k] = t.charCodeAt(k);
  return codes;
}
const NO_CODES = new Uint8Array(0);
const W_DNS = codesOf("dns");
const W_QUERY = codesOf("query");
const W_RCODE = codesOf("rcode");
const W_IPS = codesOf("ips");
/** The names l7.type may have (the schema's enum). */
const L7_TYPES = (Layer7Schema.shape.type.unwrap().options as string[]).map((name) => ({
  name,
  codes: codesOf(name),
}));

/** Whether the line's codes at [i, i + w.length) are w (and within the line). */
function is(i: number, e: number, w: Uint8Array): boolean {
  const n = w.length;
  if (i + n > e) return false;
  for (let k = 0; k < n; k++) if (C[i + k] !== w[k]) return false;
  return true;
}

const W_ACK = codesOf("ACK");
const W_ICMPV4 = codesOf("ICMPv4");
const W_ICMPV6 = codesOf("ICMPv6");
const W_SCTP = codesOf("SCTP");
const W_SYN = codesOf("SYN");
const W_TCP = codesOf("TCP");
const W_UDP = codesOf("UDP");
const W_CODE = codesOf("code");
const W_DESTINATION = codesOf("destination");
const W_DESTINATION_PORT = codesOf("destination_port");
const W_FLAGS = codesOf("flags");
const W_SOURCE = codesOf("source");
const W_SOURCE_PORT = codesOf("source_port");
const W_TYPE = codesOf("type");
const W_ENV_NODE = codesOf('},"node_name":');

/** Whether s[i, i + t.length) is t (and within the line). */
function same(s: string, i: number, e: number, t: string): boolean {
  const n = t.length;
  if (i + n > e) return false;
  if (n < 20) {
    for (let k = 0; k < n; k++) if (C[i + k] !== t.charCodeAt(k)) return false;
    return true;
  }
  // A slice compared with === is a memcmp.
  return s.slice(i, i + n) === t;
}

/** After a value: whitespace, `,` or `}` (so that a cached number or literal is not a prefix). */
function delimits(c: number): boolean {
  return c === COMMA || c === RBRACE || c === 32 || c === 9 || c === 13 || c === 10;
}

/**
 * A string's own copy, equal to it: a slice of a line would keep the whole input block it came from
 * alive in a cache or in a Flow kept as evidence.
 */
function own(s: string): string {
  return (" " + s).slice(1);
}

type ZodIssues = ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>;
type CacheEntry<T> = { ok: T; issues?: undefined } | { ok?: undefined; issues: ZodIssues };

/** Parses a value's text and validates it; undefined when it is not JSON. */
function validate(text: string, schema: z.ZodType | undefined): CacheEntry<unknown> | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!schema) return { ok: v };
  const r = schema.safeParse(v);
  return r.success ? { ok: r.data } : { issues: r.error.issues };
}

const MRU = 4;
const MAX_VALUES_PER_KEY = 4096;

/** A short repeating member's valid values: the last few texts (compared in place), then all by text. */
class ValueCache {
  readonly texts: string[] = [];
  readonly codes: Uint8Array[] = [];
  readonly values: unknown[] = [];
  next = 0;
  readonly byText = new Map<string, unknown>();
  constructor(readonly schema: z.ZodType) {}
}

const PREFIX = 40;
const MAX_PER_BUCKET = 8;

/**
 * A hash of the text s[i, i + n) from about 24 of its characters, every other one of the last 64 of
 * a long text, and its length: a Map lookup by a number instead of by a string, whose hash V8 would
 * compute from every character. Texts that differ only between the samples share a bucket; `same`
 * tells them apart.
 */
function sampleHash(s: string, i: number, n: number): number {
  let h = n;
  const step = ((n + 23) / 24) | 0;
  for (let k = i + n - 1; k >= i; k -= step) h = (Math.imul(h, 31) + (C[k] as number)) | 0;
  // Long texts (the rest of a flow) often differ only near their end (the interface, the summary).
  if (n > 96) for (let k = i + n - 2; k > i + n - 64; k -= 2) h = (Math.imul(h, 31) + (C[k] as number)) | 0;
  // A Smi: a Map keyed by a larger number hashes a heap number.
  return h & 0x3fffffff;
}

/** Validated texts (each with a value) by sampleHash; a hit is confirmed by comparing the text. */
class TextTable<T> {
  private readonly buckets = new Map<number, { text: string; value: T }[]>();
  private chars = 0;

  /** Emptied when its texts reach `maxChars` characters. */
  constructor(private readonly maxChars = 4_000_000) {}

  /** The entry whose text is at i in s (with hash h), if any. */
  find(h: number, s: string, i: number, e: number): { text: string; value: T } | undefined {
    const list = this.buckets.get(h);
    if (list) for (const m of list) if (same(s, i, e, m.text)) return m;
    return undefined;
  }

  add(h: number, text: string, value: T): void {
    if (this.chars >= this.maxChars) {
      this.buckets.clear();
      this.chars = 0;
    }
    this.chars += text.length + 64;
    let list = this.buckets.get(h);
    if (!list) this.buckets.set(h, (list = []));
    // Texts that share a hash (values that differ late, or between samples): the newest few.
    if (list.length >= MAX_PER_BUCKET) list.pop();
    list.unshift({ text, value });
  }
}

/**
 * The kinds of member a Segment may hold: all but those new in nearly every line (time, uuid, l4)
 * and those whose meaning depends on the level (`flow`, the not-a-flow keys).
 */
const SEGMENT_KINDS =
  (1 << K_UNREAD) |
  (1 << K_VERDICT) |
  (1 << K_DROP_DESC) |
  (1 << K_IP) |
  (1 << K_L7) |
  (1 << K_SOURCE) |
  (1 << K_DESTINATION) |
  (1 << K_NODE_NAME) |
  (1 << K_NODE_LABELS) |
  (1 << K_SOURCE_NAMES) |
  (1 << K_DEST_NAMES) |
  (1 << K_DIRECTION) |
  (1 << K_IS_REPLY);

/** The rest of a flow object after its destination, walked once: its keys and the values it sets. */
interface Segment {
  length: number;
  /** Its keys: bit id (the low and the high 32). */
  lo: number;
  hi: number;
  /** Bits 1 << kind of the values it sets. */
  mask: number;
  verdict: FlowVerdict | undefined;
  dropReason: string | undefined;
  ipSrc: string | undefined;
  ipDst: string | undefined;
  l7: L7;
  src: PeerIdentity;
  dst: PeerIdentity;
  node: string | undefined;
  srcNames: string[] | undefined;
  dstNames: string[] | undefined;
  direction: string | undefined;
  isReply: boolean | undefined;
}

/** One second's validated time prefix (`YYYY-MM-DDTHH:MM:SS`) and its milliseconds. */
class TimeCache {
  prefix = "";
  codes: Uint8Array = new Uint8Array(0);
  base = 0;
  constructor(readonly schema: z.ZodType) {}
}

const FIELD_SCHEMAS = FlowFieldsSchema.shape as Record<string, z.ZodType>;
const ENVELOPE_SCHEMAS = EnvelopeFieldsSchema.shape as Record<string, z.ZodType>;
const UNKNOWN = derivePeerIdentity(undefined);

type L4 = FlowFields["l4"];
type L7 = FlowFields["l7"];

/**
 * The fused parser: `flow(s, a, b)` is the Flow of the line s[a, b), or undefined for the plain path.
 * Keeps caches of what it has seen: use one per source.
 */
export class FastLineParser {
  // The keys seen in the envelope and in the flow object (bit id), for duplicates.
  private topLo = 0;
  private topHi = 0;
  private flowLo = 0;
  private flowHi = 0;
  private readonly verdicts = new ValueCache(FIELD_SCHEMAS.verdict as z.ZodType);
  private readonly directions = new ValueCache(FIELD_SCHEMAS.traffic_direction as z.ZodType);
  private readonly replies = new ValueCache(FIELD_SCHEMAS.is_reply as z.ZodType);
  private readonly dropReasons = new ValueCache(FIELD_SCHEMAS.drop_reason_desc as z.ZodType);
  private readonly nodeNames = new ValueCache(FIELD_SCHEMAS.node_name as z.ZodType);
  private readonly envNodeNames = new ValueCache(ENVELOPE_SCHEMAS.node_name as z.ZodType);
  private readonly sourceNames = new ValueCache(FIELD_SCHEMAS.source_names as z.ZodType);
  private readonly destNames = new ValueCache(FIELD_SCHEMAS.destination_names as z.ZodType);
  private readonly flowTimes = new TimeCache(FIELD_SCHEMAS.time as z.ZodType);
  private readonly envTimes = new TimeCache(ENVELOPE_SCHEMAS.time as z.ZodType);
  /**
   * Endpoints and node labels by kind, by the hash of their first PREFIX characters (of the whole
   * text, for a shorter one).
   */
  private readonly members = [
    new TextTable<CacheEntry<unknown>>(),
    new TextTable<CacheEntry<unknown>>(),
    new TextTable<CacheEntry<unknown>>(),
  ];
  /** Runs of members (see `segment`). */
  private readonly segments = new TextTable<Segment>(8_000_000);
  private kid = -1;
  /** How far from the line's end its flow object ended in the last envelope (see `segment`). */
  private envTail = 0;
  // Recording of a run of members, to be kept as a Segment.
  private recording = false;
  private recFrom = 0;
  private recTo = 0;
  private recHash = 0;
  private recIds: number[] = [];

  // The line's fields as the walk finds them.
  private v: unknown = undefined;
  private t = 0;
  private hasTime = false;
  private timeMs = 0;
  private hasEnvTime = false;
  private envTimeMs = 0;
  private uuid: string | undefined = undefined;
  private verdict: FlowVerdict | undefined = undefined;
  private dropReason: string | undefined = undefined;
  private ipSrc: string | undefined = undefined;
  private ipDst: string | undefined = undefined;
  private tcp = false;
  private udp = false;
  private sctp = false;
  private icmp4 = false;
  private icmp6 = false;
  private tcpSrc = -1;
  private tcpDst = -1;
  private udpSrc = -1;
  private udpDst = -1;
  private sctpSrc = -1;
  private sctpDst = -1;
  private synFlag = false;
  private ackFlag = false;
  private l7: L7 = undefined;
  private src: PeerIdentity = UNKNOWN;
  private dst: PeerIdentity = UNKNOWN;
  private node: string | undefined = undefined;
  private envNode: string | undefined = undefined;
  private srcNames: string[] | undefined = undefined;
  private dstNames: string[] | undefined = undefined;
  private direction: string | undefined = undefined;
  private isReply: boolean | undefined = undefined;

  constructor(
    private readonly normaliser: FlowNormaliser,
    private readonly nodeName: string | undefined,
  ) {}

  /**
   * The Flow of the line s[a, b), or undefined when the plain path must decide. `codes`: the
   * line's character codes at the same indices (codes[i] === s.charCodeAt(i) for a <= i < b).
   */
  flow(s: string, a: number, b: number, codes: Buffer): Flow | undefined {
    C = codes;
    this.topLo = this.topHi = this.flowLo = this.flowHi = 0;
    this.reset();
    const i = ws(s, a, b);
    if (at(s, i, b) !== LBRACE) return undefined;
    // `{"flow":` first: an exporter envelope; else a bare flow (which must not have a `flow` later).
    const k = ws(s, i + 1, b);
    const envelope = at(s, k, b) === QUOTE && same(s, k, b, '"flow"');
    const end = envelope ? this.envelope(s, i, b) : this.flowObject(s, i, b, true);
    if (end < 0 || ws(s, end, b) !== b) return undefined;
    return this.build();
  }

  private reset(): void {
    this.hasTime = false;
    this.hasEnvTime = false;
    this.uuid = undefined;
    this.verdict = undefined;
    this.dropReason = undefined;
    this.ipSrc = undefined;
    this.ipDst = undefined;
    this.tcp = this.udp = this.sctp = this.icmp4 = this.icmp6 = false;
    this.synFlag = this.ackFlag = false;
    this.l7 = undefined;
    this.src = UNKNOWN;
    this.dst = UNKNOWN;
    this.node = undefined;
    this.envNode = undefined;
    this.srcNames = undefined;
    this.dstNames = undefined;
    this.direction = undefined;
    this.isReply = undefined;
    this.recording = false;
  }

  /** The envelope object at i: `flow`, `node_name`, `time`; any other member is only checked. */
  private envelope(s: string, i: number, e: number): number {
    let j = ws(s, i + 1, e);
    for (;;) {
      if (at(s, j, e) !== QUOTE) return -1;
      const kEnd = this.key(s, j, e);
      if (kEnd < 0) return -1;
      const id = this.kid;
      j = ws(s, kEnd, e);
      if (at(s, j, e) !== COLON) return -1;
      j = ws(s, j + 1, e);
      if (id >= 0) {
        if (id < 32) {
          if (this.topLo & (1 << id)) return -1;
          this.topLo |= 1 << id;
        } else {
          if (this.topHi & (1 << (id - 32))) return -1;
          this.topHi |= 1 << (id - 32);
        }
      }
      if (id === ID_FLOW) {
        if (at(s, j, e) !== LBRACE) return -1;
        j = this.flowObject(s, j, e, false);
      } else if (id === ID_TIME) {
        j = this.time(s, j, e, this.envTimes);
        this.hasEnvTime = true;
        this.envTimeMs = this.t;
      } else if (id === ID_NODE_NAME) {
        j = this.cachedValue(this.envNodeNames, s, j, e);
        this.envNode = this.v as string;
      } else j = skipJson(s, j, e);
      if (j < 0) return -1;
      j = ws(s, j, e);
      const d = at(s, j, e);
      if (d === RBRACE) return j + 1;
      if (d !== COMMA) return -1;
      j = ws(s, j + 1, e);
    }
  }

  /** A flow object at i; `bare`: the line's top level (a `flow` or not-a-flow key sends it away). */
  private flowObject(s: string, i: number, e: number, bare: boolean): number {
    let j = ws(s, i + 1, e);
    if (at(s, j, e) === RBRACE) return j + 1;
    for (;;) {
      if (at(s, j, e) !== QUOTE) return -1;
      const kEnd = this.key(s, j, e);
      if (kEnd < 0) return -1;
      const id = this.kid;
      j = ws(s, kEnd, e);
      if (at(s, j, e) !== COLON) return -1;
      j = ws(s, j + 1, e);
      let kind = K_UNREAD;
      if (id >= 0) {
        if (id < 32) {
          if (this.flowLo & (1 << id)) return -1;
          this.flowLo |= 1 << id;
        } else {
          if (this.flowHi & (1 << (id - 32))) return -1;
          this.flowHi |= 1 << (id - 32);
        }
        kind = KIND_OF[id] as number;
      }
      if (this.recording) {
        if (SEGMENT_KINDS & (1 << kind)) {
          if (id >= 0) this.recIds.push(id);
        } else this.recording = false;
      }
      switch (kind) {
        case K_TIME:
          j = this.time(s, j, e, this.flowTimes);
          this.hasTime = true;
          this.timeMs = this.t;
          break;
        case K_UUID: {
          const end = plainString(s, j, e);
          if (end >= 0) {
            // From the codes: the string's own copy, not a slice of the line.
            this.uuid = C.toString("latin1", j + 1, end - 1);
            j = end;
          } else {
            j = this.generic(FIELD_SCHEMAS.uuid, s, j, e);
            this.uuid = this.v as string;
          }
          break;
        }
        case K_VERDICT:
          j = this.cachedValue(this.verdicts, s, j, e);
          this.verdict = this.v as FlowVerdict;
          break;
        case K_DROP_DESC:
          j = this.cachedValue(this.dropReasons, s, j, e);
          this.dropReason = this.v as string;
          break;
        case K_IP: {
          const end = this.ip(s, j, e);
          j = end >= 0 ? end : this.ipGeneric(s, j, e);
          break;
        }
        case K_L4: {
          const end = this.l4(s, j, e);
          j = end >= 0 ? end : this.l4Generic(s, j, e);
          break;
        }
        case K_L7: {
          // Hand-parsed in its usual shape (a response's latency makes nearly every text new).
          const end = this.l7Value(s, j, e);
          j = end >= 0 ? end : this.generic(FIELD_SCHEMAS.l7, s, j, e);
          this.l7 = this.v as L7;
          break;
        }
        case K_SOURCE:
          j = this.long(0, s, j, e);
          this.src = this.v as PeerIdentity;
          break;
        case K_DESTINATION:
          j = this.long(1, s, j, e);
          this.dst = this.v as PeerIdentity;
          break;
        case K_NODE_LABELS:
          j = this.long(2, s, j, e);
          break;
        case K_NODE_NAME:
          j = this.cachedValue(this.nodeNames, s, j, e);
          this.node = this.v as string;
          break;
        case K_SOURCE_NAMES:
          j = this.cachedValue(this.sourceNames, s, j, e);
          this.srcNames = this.v as string[];
          break;
        case K_DEST_NAMES:
          j = this.cachedValue(this.destNames, s, j, e);
          this.dstNames = this.v as string[];
          break;
        case K_DIRECTION:
          j = this.cachedValue(this.directions, s, j, e);
          this.direction = this.v as string;
          break;
        case K_IS_REPLY:
          j = this.cachedValue(this.replies, s, j, e);
          this.isReply = this.v as boolean;
          break;
        case K_FLOW:
        case K_NOT_A_FLOW:
          if (bare) return -1;
          j = this.unread(s, j, e);
          break;
        default:
          j = this.unread(s, j, e);
      }
      if (j < 0) return -1;
      // The rest of the object after the destination is usually a run seen before.
      if (kind === K_DESTINATION && !this.recording) {
        const to = this.segment(s, j, e, bare);
        if (to >= 0) return to;
      }
      j = ws(s, j, e);
      const d = at(s, j, e);
      if (d === RBRACE) {
        if (this.recording) {
          if (j + 1 === this.recTo) this.keepSegment(s);
          this.recording = false;
        }
        return j + 1;
      }
      if (d !== COMMA) return -1;
      j = ws(s, j + 1, e);
    }
  }

  /**
   * The rest of a flow object after its `destination` (the members after it and the closing brace)
   * repeats in line after line: found by its text up to where the object likely ends (before the
   * envelope's `node_name` or `time`, or the line's last brace), it applies the values recorded
   * when it was first walked. The text is compared whole, so the guess of its end only decides
   * whether there is a hit. Returns the index after the brace, or -1: then the walk goes on and
   * records the run, kept if it ends where the guess said.
   */
  private segment(s: string, from: number, e: number, bare: boolean): number {
    let q: number;
    if (bare) q = s.lastIndexOf("}", e - 1);
    else {
      // The envelope after the flow is usually as long as in the line before: try there first.
      q = e - this.envTail;
      if (!(q > from && is(q, e, W_ENV_NODE))) {
        q = s.lastIndexOf('},"node_name":', e - 1);
        if (q < from) q = s.lastIndexOf('},"time":', e - 1);
        this.envTail = e - q;
      }
    }
    if (q <= from || q >= e) return -1;
    const to = q + 1;
    const h = sampleHash(s, from, to - from);
    const g = this.segments.find(h, s, from, e)?.value;
    if (g === undefined || from + g.length !== to) {
      this.recording = true;
      this.recFrom = from;
      this.recTo = to;
      this.recHash = h;
      this.recIds.length = 0;
      return -1;
    }
    // Its keys must be new in this flow object (a duplicate: the walk goes on and finds it).
    if ((g.lo & this.flowLo) | (g.hi & this.flowHi)) return -1;
    this.flowLo |= g.lo;
    this.flowHi |= g.hi;
    const m = g.mask;
    if (m & (1 << K_VERDICT)) this.verdict = g.verdict;
    if (m & (1 << K_DROP_DESC)) this.dropReason = g.dropReason;
    if (m & (1 << K_IP)) {
      this.ipSrc = g.ipSrc;
      this.ipDst = g.ipDst;
    }
    if (m & (1 << K_L7)) this.l7 = g.l7;
    if (m & (1 << K_SOURCE)) this.src = g.src;
    if (m & (1 << K_DESTINATION)) this.dst = g.dst;
    if (m & (1 << K_NODE_NAME)) this.node = g.node;
    if (m & (1 << K_SOURCE_NAMES)) this.srcNames = g.srcNames;
    if (m & (1 << K_DEST_NAMES)) this.dstNames = g.dstNames;
    if (m & (1 << K_DIRECTION)) this.direction = g.direction;
    if (m & (1 << K_IS_REPLY)) this.isReply = g.isReply;
    return to;
  }

  /** Keeps the run recorded from recFrom to recTo, with the values it set. */
  private keepSegment(s: string): void {
    let mask = 0;
    let lo = 0;
    let hi = 0;
    for (const id of this.recIds) {
      mask |= 1 << (KIND_OF[id] as number);
      if (id < 32) lo |= 1 << id;
      else hi |= 1 << (id - 32);
    }
    this.segments.add(this.recHash, own(s.slice(this.recFrom, this.recTo)), {
      length: this.recTo - this.recFrom,
      lo,
      hi,
      mask,
      verdict: this.verdict,
      dropReason: this.dropReason,
      ipSrc: this.ipSrc === undefined ? undefined : own(this.ipSrc),
      ipDst: this.ipDst === undefined ? undefined : own(this.ipDst),
      l7: this.l7,
      src: this.src,
      dst: this.dst,
      node: this.node,
      srcNames: this.srcNames,
      dstNames: this.dstNames,
      direction: this.direction,
      isReply: this.isReply,
    });
  }
  /**
   * The key at j (its opening quote): just past it, with its id in `kid` (-1: not a known key). A
   * known key's text is the name itself, so it holds no escapes; other keys must be plain strings.
   */
  private key(s: string, j: number, e: number): number {
    const q = s.indexOf('"', j + 1);
    if (q < 0 || q >= e) return -1;
    this.kid = keyId(s, j + 1, q - j - 1);
    return this.kid >= 0 ? q + 1 : plainString(s, j, e);
  }

  /** An unread member: only its syntax matters (the read schema drops it). */
  private unread(s: string, i: number, e: number): number {
    return skipJson(s, i, e);
  }

  /** Any member: JSON.parse of its text and its schema; sets `v`. -1 when not valid. */
  private generic(schema: z.ZodType | undefined, s: string, i: number, e: number): number {
    const end = skipJson(s, i, e);
    if (end < 0) return -1;
    const r = validate(s.slice(i, end), schema);
    if (r === undefined || r.issues) return -1;
    this.v = r.ok;
    return end;
  }

  /** A repeating member: the last texts seen compared in place, then the map, then its schema. */
  private cachedValue(c: ValueCache, s: string, i: number, e: number): number {
    const texts = c.texts;
    for (let k = 0; k < texts.length; k++) {
      const t = texts[k] as string;
      const end = i + t.length;
      if (
        end < e &&
        delimits(C[end] as number) &&
        (t.length < 64 ? is(i, e, c.codes[k] as Uint8Array) : same(s, i, e, t))
      ) {
        this.v = c.values[k];
        return end;
      }
    }
    const end = skipJson(s, i, e);
    if (end < 0) return -1;
    let text = s.slice(i, end);
    let v = c.byText.get(text);
    if (v === undefined) {
      const r = validate(text, c.schema);
      if (r === undefined || r.issues) return -1;
      v = r.ok;
      if (c.byText.size >= MAX_VALUES_PER_KEY) c.byText.clear();
      text = own(text);
      c.byText.set(text, v);
    }
    const slot = c.next;
    c.next = (slot + 1) % MRU;
    c.texts[slot] = text;
    c.codes[slot] = text.length < 64 ? codesOf(text) : NO_CODES;
    c.values[slot] = v;
    this.v = v;
    return end;
  }

  /**
   * A time: the prefix cache for `YYYY-MM-DDTHH:MM:SS.<digits>Z`, else the schema and the
   * normaliser's timeMs. Sets `t` (NaN for a time Date.parse does not read: the plain path rejects).
   */
  private time(s: string, i: number, e: number, tc: TimeCache): number {
    const p = i + 1;
    if (at(s, i, e) === QUOTE && p + 22 <= e && C[p + 19] === 46 /* . */) {
      let j = p + 20;
      let ms = 0;
      let n = 0;
      for (let ch = at(s, j, e); isDigit(ch); ch = at(s, ++j, e)) {
        if (n < 3) ms = ms * 10 + (ch - 48);
        n++;
      }
      if (n > 0 && at(s, j, e) === 90 /* Z */ && at(s, j + 1, e) === QUOTE) {
        if (n === 1) ms *= 100;
        else if (n === 2) ms *= 10;
        if (tc.codes.length !== 19 || !is(p, e, tc.codes)) {
          // A new second: the whole time through the schema, once.
          const r = tc.schema.safeParse(s.slice(p, j + 1));
          if (!r.success) return -1;
          tc.prefix = own(s.slice(p, p + 19));
          tc.codes = codesOf(tc.prefix);
          tc.base = Date.parse(`${tc.prefix}Z`);
        }
        this.t = tc.base + ms;
        return j + 2;
      }
    }
    const end = this.generic(tc.schema, s, i, e);
    if (end >= 0) this.t = this.normaliser.timeMs(this.v as string);
    return end;
  }

  /** `IP` in its usual shape: an object whose source and destination are plain strings; else -1. */
  private ip(s: string, i: number, e: number): number {
    if (at(s, i, e) !== LBRACE) return -1;
    let j = ws(s, i + 1, e);
    let src: string | undefined;
    let dst: string | undefined;
    if (at(s, j, e) !== RBRACE)
      for (;;) {
        if (at(s, j, e) !== QUOTE) return -1;
        const kEnd = plainString(s, j, e);
        if (kEnd < 0) return -1;
        const len = kEnd - j - 2;
        const which =
          len === 6 && is(j + 1, e, W_SOURCE) ? 1 : len === 11 && is(j + 1, e, W_DESTINATION) ? 2 : 0;
        j = ws(s, kEnd, e);
        if (at(s, j, e) !== COLON) return -1;
        j = ws(s, j + 1, e);
        if (which === 0) j = skipJson(s, j, e);
        else {
          if (at(s, j, e) !== QUOTE) return -1;
          const end = plainString(s, j, e);
          if (end < 0) return -1;
          const value = s.slice(j + 1, end - 1);
          if (which === 1) {
            if (src !== undefined) return -1;
            src = value;
          } else {
            if (dst !== undefined) return -1;
            dst = value;
          }
          j = end;
        }
        if (j < 0) return -1;
        j = ws(s, j, e);
        const d = at(s, j, e);
        if (d === RBRACE) break;
        if (d !== COMMA) return -1;
        j = ws(s, j + 1, e);
      }
    this.ipSrc = src;
    this.ipDst = dst;
    return j + 1;
  }

  private ipGeneric(s: string, i: number, e: number): number {
    const end = this.generic(FIELD_SCHEMAS.IP, s, i, e);
    if (end < 0) return -1;
    const ip = this.v as FlowFields["IP"];
    this.ipSrc = ip?.source;
    this.ipDst = ip?.destination;
    return end;
  }

  /** `l4` in its usual shape: protocol objects with plain integer ports and boolean flags; else -1. */
  private l4(s: string, i: number, e: number): number {
    this.tcp = this.udp = this.sctp = this.icmp4 = this.icmp6 = false;
    this.synFlag = this.ackFlag = false;
    if (at(s, i, e) !== LBRACE) return -1;
    let j = ws(s, i + 1, e);
    if (at(s, j, e) === RBRACE) return j + 1;
    for (;;) {
      if (at(s, j, e) !== QUOTE) return -1;
      const kEnd = plainString(s, j, e);
      if (kEnd < 0) return -1;
      const len = kEnd - j - 2;
      const k = j + 1;
      j = ws(s, kEnd, e);
      if (at(s, j, e) !== COLON) return -1;
      j = ws(s, j + 1, e);
      if (len === 3 && is(k, e, W_TCP)) {
        if (this.tcp) return -1;
        this.tcp = true;
        j = this.ports(s, j, e, true);
        this.tcpSrc = this.srcPort;
        this.tcpDst = this.dstPort;
      } else if (len === 3 && is(k, e, W_UDP)) {
        if (this.udp) return -1;
        this.udp = true;
        j = this.ports(s, j, e, false);
        this.udpSrc = this.srcPort;
        this.udpDst = this.dstPort;
      } else if (len === 4 && is(k, e, W_SCTP)) {
        if (this.sctp) return -1;
        this.sctp = true;
        j = this.ports(s, j, e, false);
        this.sctpSrc = this.srcPort;
        this.sctpDst = this.dstPort;
      } else if (len === 6 && is(k, e, W_ICMPV4)) {
        if (this.icmp4) return -1;
        this.icmp4 = true;
        j = this.icmp(s, j, e);
      } else if (len === 6 && is(k, e, W_ICMPV6)) {
        if (this.icmp6) return -1;
        this.icmp6 = true;
        j = this.icmp(s, j, e);
      } else j = skipJson(s, j, e);
      if (j < 0) return -1;
      j = ws(s, j, e);
      const d = at(s, j, e);
      if (d === RBRACE) return j + 1;
      if (d !== COMMA) return -1;
      j = ws(s, j + 1, e);
    }
  }

  // ports()'s answer.
  private srcPort = -1;
  private dstPort = -1;

  /** {source_port, destination_port[, flags]}: ports as plain integers 0-65535. */
  private ports(s: string, i: number, e: number, tcp: boolean): number {
    this.srcPort = this.dstPort = -1;
    let flags = false;
    if (at(s, i, e) !== LBRACE) return -1;
    let j = ws(s, i + 1, e);
    if (at(s, j, e) === RBRACE) return j + 1;
    for (;;) {
      if (at(s, j, e) !== QUOTE) return -1;
      const kEnd = plainString(s, j, e);
      if (kEnd < 0) return -1;
      const len = kEnd - j - 2;
      const k = j + 1;
      j = ws(s, kEnd, e);
      if (at(s, j, e) !== COLON) return -1;
      j = ws(s, j + 1, e);
      if (len === 11 && is(k, e, W_SOURCE_PORT)) {
        if (this.srcPort >= 0) return -1;
        j = this.port(s, j, e);
        this.srcPort = this.t;
      } else if (len === 16 && is(k, e, W_DESTINATION_PORT)) {
        if (this.dstPort >= 0) return -1;
        j = this.port(s, j, e);
        this.dstPort = this.t;
      } else if (tcp && len === 5 && is(k, e, W_FLAGS)) {
        if (flags) return -1;
        flags = true;
        j = this.flags(s, j, e);
      } else j = skipJson(s, j, e);
      if (j < 0) return -1;
      j = ws(s, j, e);
      const d = at(s, j, e);
      if (d === RBRACE) return j + 1;
      if (d !== COMMA) return -1;
      j = ws(s, j + 1, e);
    }
  }

  /** 0 or [1-9]\d{0,4} up to 65535, not followed by more of a number; sets `t`. */
  private port(s: string, i: number, e: number): number {
    let c = at(s, i, e);
    if (!isDigit(c)) return -1;
    let n = c - 48;
    let j = i + 1;
    if (n !== 0) for (c = at(s, j, e); isDigit(c) && j - i < 5; c = at(s, ++j, e)) n = n * 10 + (c - 48);
    c = at(s, j, e);
    if (isDigit(c) || c === 46 || c === 101 || c === 69 || n > 65535) return -1;
    this.t = n;
    return j;
  }

  /** TCP flags: SYN and ACK as literal booleans, the rest only checked. */
  private flags(s: string, i: number, e: number): number {
    if (at(s, i, e) !== LBRACE) return -1;
    let syn: boolean | undefined;
    let ack: boolean | undefined;
    let j = ws(s, i + 1, e);
    if (at(s, j, e) !== RBRACE)
      for (;;) {
        if (at(s, j, e) !== QUOTE) return -1;
        const kEnd = plainString(s, j, e);
        if (kEnd < 0) return -1;
        const len = kEnd - j - 2;
        const which = len === 3 && is(j + 1, e, W_SYN) ? 1 : len === 3 && is(j + 1, e, W_ACK) ? 2 : 0;
        j = ws(s, kEnd, e);
        if (at(s, j, e) !== COLON) return -1;
        j = ws(s, j + 1, e);
        if (which === 0) j = skipJson(s, j, e);
        else {
          const c = at(s, j, e);
          const value = c === 116 ? true : c === 102 ? false : undefined;
          if (value === undefined) return -1;
          j = skipWord(s, j, e, value ? "true" : "false");
          if (which === 1) {
            if (syn !== undefined) return -1;
            syn = value;
          } else {
            if (ack !== undefined) return -1;
            ack = value;
          }
        }
        if (j < 0) return -1;
        j = ws(s, j, e);
        const d = at(s, j, e);
        if (d === RBRACE) break;
        if (d !== COMMA) return -1;
        j = ws(s, j + 1, e);
      }
    this.synFlag = syn === true;
    this.ackFlag = ack === true;
    return j + 1;
  }

  /** {type, code}: small plain integers (the schema's int), the rest only checked. */
  private icmp(s: string, i: number, e: number): number {
    if (at(s, i, e) !== LBRACE) return -1;
    let type = false;
    let code = false;
    let j = ws(s, i + 1, e);
    if (at(s, j, e) === RBRACE) return j + 1;
    for (;;) {
      if (at(s, j, e) !== QUOTE) return -1;
      const kEnd = plainString(s, j, e);
      if (kEnd < 0) return -1;
      const len = kEnd - j - 2;
      const which = len === 4 && is(j + 1, e, W_TYPE) ? 1 : len === 4 && is(j + 1, e, W_CODE) ? 2 : 0;
      j = ws(s, kEnd, e);
      if (at(s, j, e) !== COLON) return -1;
      j = ws(s, j + 1, e);
      if (which === 0) j = skipJson(s, j, e);
      else {
        if (which === 1 ? type : code) return -1;
        if (which === 1) type = true;
        else code = true;
        j = this.port(s, j, e);
      }
      if (j < 0) return -1;
      j = ws(s, j, e);
      const d = at(s, j, e);
      if (d === RBRACE) return j + 1;
      if (d !== COMMA) return -1;
      j = ws(s, j + 1, e);
    }
  }

  /**
   * `l7` in its usual shape: `type` one of the schema's names, `dns` with a plain `query`, a small
   * integer `rcode`, `ips` plain strings; the rest only checked. Sets `v` to what the read schema
   * makes of it; -1 for anything else.
   */
  private l7Value(s: string, i: number, e: number): number {
    if (at(s, i, e) !== LBRACE) return -1;
    let type: string | undefined;
    let dns: { query?: string; rcode?: number; ips?: string[] } | undefined;
    let j = ws(s, i + 1, e);
    if (at(s, j, e) !== RBRACE)
      for (;;) {
        if (at(s, j, e) !== QUOTE) return -1;
        const kEnd = plainString(s, j, e);
        if (kEnd < 0) return -1;
        const len = kEnd - j - 2;
        const which = len === 4 && is(j + 1, e, W_TYPE) ? 1 : len === 3 && is(j + 1, e, W_DNS) ? 2 : 0;
        j = ws(s, kEnd, e);
        if (at(s, j, e) !== COLON) return -1;
        j = ws(s, j + 1, e);
        if (which === 1) {
          if (type !== undefined || at(s, j, e) !== QUOTE) return -1;
          const end = plainString(s, j, e);
          if (end < 0) return -1;
          type = L7_TYPES.find((t) => t.codes.length === end - j - 2 && is(j + 1, e, t.codes))?.name;
          if (type === undefined) return -1;
          j = end;
        } else if (which === 2) {
          if (dns !== undefined) return -1;
          dns = {};
          j = this.dns(s, j, e, dns);
        } else j = skipJson(s, j, e);
        if (j < 0) return -1;
        j = ws(s, j, e);
        const d = at(s, j, e);
        if (d === RBRACE) break;
        if (d !== COMMA) return -1;
        j = ws(s, j + 1, e);
      }
    const l7: NonNullable<L7> = {};
    if (type !== undefined) l7.type = type as NonNullable<L7>["type"];
    if (dns !== undefined) l7.dns = dns;
    this.v = l7;
    return j + 1;
  }

  /** The `dns` object of `l7Value`, into `out`. */
  private dns(
    s: string,
    i: number,
    e: number,
    out: { query?: string; rcode?: number; ips?: string[] },
  ): number {
    if (at(s, i, e) !== LBRACE) return -1;
    let j = ws(s, i + 1, e);
    if (at(s, j, e) === RBRACE) return j + 1;
    for (;;) {
      if (at(s, j, e) !== QUOTE) return -1;
      const kEnd = plainString(s, j, e);
      if (kEnd < 0) return -1;
      const len = kEnd - j - 2;
      const k = j + 1;
      j = ws(s, kEnd, e);
      if (at(s, j, e) !== COLON) return -1;
      j = ws(s, j + 1, e);
      if (len === 5 && is(k, e, W_QUERY)) {
        if (out.query !== undefined || at(s, j, e) !== QUOTE) return -1;
        const end = plainString(s, j, e);
        if (end < 0) return -1;
        out.query = C.toString("latin1", j + 1, end - 1);
        j = end;
      } else if (len === 5 && is(k, e, W_RCODE)) {
        if (out.rcode !== undefined) return -1;
        j = this.smallInt(s, j, e);
        out.rcode = this.t;
      } else if (len === 3 && is(k, e, W_IPS)) {
        if (out.ips !== undefined || at(s, j, e) !== LBRACKET) return -1;
        const ips: string[] = [];
        j = ws(s, j + 1, e);
        if (at(s, j, e) !== RBRACKET)
          for (;;) {
            if (at(s, j, e) !== QUOTE) return -1;
            const end = plainString(s, j, e);
            if (end < 0) return -1;
            ips.push(C.toString("latin1", j + 1, end - 1));
            j = ws(s, end, e);
            const d = at(s, j, e);
            if (d === RBRACKET) break;
            if (d !== COMMA) return -1;
            j = ws(s, j + 1, e);
          }
        out.ips = ips;
        j++;
      } else j = skipJson(s, j, e);
      if (j < 0) return -1;
      j = ws(s, j, e);
      const d = at(s, j, e);
      if (d === RBRACE) return j + 1;
      if (d !== COMMA) return -1;
      j = ws(s, j + 1, e);
    }
  }

  /** -?(0|[1-9]\d{0,8}), not followed by more of a number (a safe integer); sets `t`. */
  private smallInt(s: string, i: number, e: number): number {
    let j = i;
    const negative = at(s, j, e) === 45;
    if (negative) j++;
    let c = at(s, j, e);
    if (!isDigit(c)) return -1;
    let n = c - 48;
    const first = j++;
    if (n !== 0) for (c = at(s, j, e); isDigit(c) && j - first < 9; c = at(s, ++j, e)) n = n * 10 + (c - 48);
    c = at(s, j, e);
    if (isDigit(c) || c === 46 || c === 101 || c === 69 || (negative && n === 0)) return -1;
    this.t = negative ? -n : n;
    return j;
  }

  private l4Generic(s: string, i: number, e: number): number {
    const end = this.generic(FIELD_SCHEMAS.l4, s, i, e);
    if (end < 0) return -1;
    const l4 = this.v as L4;
    const tcp = l4?.TCP;
    this.tcp = tcp !== undefined;
    this.tcpSrc = tcp?.source_port ?? -1;
    this.tcpDst = tcp?.destination_port ?? -1;
    this.synFlag = tcp?.flags?.SYN === true;
    this.ackFlag = tcp?.flags?.ACK === true;
    this.udp = l4?.UDP !== undefined;
    this.udpSrc = l4?.UDP?.source_port ?? -1;
    this.udpDst = l4?.UDP?.destination_port ?? -1;
    this.sctp = l4?.SCTP !== undefined;
    this.sctpSrc = l4?.SCTP?.source_port ?? -1;
    this.sctpDst = l4?.SCTP?.destination_port ?? -1;
    this.icmp4 = l4?.ICMPv4 !== undefined;
    this.icmp6 = l4?.ICMPv6 !== undefined;
    return end;
  }

  /**
   * An endpoint (0 source, 1 destination) or the node labels (2): a text seen before, found by its
   * prefix and confirmed by comparison, else validated and cached. Sets `v` (an endpoint's identity).
   */
  private long(kind: number, s: string, i: number, e: number): number {
    const table = this.members[kind] as TextTable<CacheEntry<unknown>>;
    const m =
      (i + PREFIX <= e ? table.find(sampleHash(s, i, PREFIX), s, i, e) : undefined) ??
      table.find(-at(s, i, e), s, i, e);
    if (m) {
      if (m.value.issues) return -1;
      this.v = m.value.ok;
      return i + m.text.length;
    }
    const end = skipJson(s, i, e);
    if (end < 0) return -1;
    const text = own(s.slice(i, end));
    let entry: CacheEntry<unknown> | undefined;
    if (kind === 2) entry = validate(text, FIELD_SCHEMAS.node_labels);
    else {
      entry = validate(text, FlowEndpointSchema);
      if (entry?.ok !== undefined)
        entry = { ok: derivePeerIdentity(entry.ok as z.infer<typeof FlowEndpointSchema>) };
    }
    if (entry === undefined) return -1;
    // Texts shorter than the prefix (`{}`, a reserved identity) under their first character.
    table.add(text.length >= PREFIX ? sampleHash(s, i, PREFIX) : -(C[i] as number), text, entry);
    if (entry.issues) return -1;
    this.v = entry.ok;
    return end;
  }

  /** The Flow from the fields found, as FlowNormaliser.build makes it (same fields, same order). */
  private build(): Flow | undefined {
    const timeMs = this.hasTime ? this.timeMs : this.hasEnvTime ? this.envTimeMs : NaN;
    // No time, or one Date.parse does not read: the plain path rejects the line with its reason.
    if (Number.isNaN(timeMs)) return undefined;
    let protocol: FlowProtocol = "OTHER";
    let sp = -1;
    let dp = -1;
    let syn = false;
    if (this.tcp) {
      protocol = "TCP";
      sp = this.tcpSrc;
      dp = this.tcpDst;
      syn = this.synFlag && !this.ackFlag;
    } else if (this.udp) {
      protocol = "UDP";
      sp = this.udpSrc;
      dp = this.udpDst;
    } else if (this.sctp) {
      protocol = "SCTP";
      sp = this.sctpSrc;
      dp = this.sctpDst;
    } else if (this.icmp4) protocol = "ICMPv4";
    else if (this.icmp6) protocol = "ICMPv6";
    const flow: Flow = {
      timeMs,
      verdict: this.verdict ?? "VERDICT_UNKNOWN",
      isReply: this.isReply === true,
      protocol,
      syn,
      src: peer(this.src, this.ipSrc, this.srcNames),
      dst: peer(this.dst, this.ipDst, this.dstNames),
    };
    if (this.dropReason !== undefined) flow.dropReason = this.dropReason;
    const direction = this.direction;
    if (direction === "INGRESS" || direction === "EGRESS") flow.direction = direction;
    if (sp >= 0) flow.srcPort = sp;
    if (dp >= 0) flow.dstPort = dp;
    const l7 = this.l7;
    const dns = l7?.dns;
    if (dns) {
      if (dns.query !== undefined)
        flow.dnsQuery = dns.query.endsWith(".") ? dns.query.slice(0, -1) : dns.query;
      // A copy: the value may be a segment's, shared by flows, and the answers are filled in downstream.
      if (dns.ips?.length) flow.dnsIps = dns.ips.slice();
      const rcode = dns.rcode ?? (l7?.type === "RESPONSE" ? 0 : undefined);
      if (rcode !== undefined) flow.dnsRcode = rcode;
    }
    const node = this.node ?? this.envNode ?? this.nodeName;
    if (node) flow.node = node;
    if (this.uuid !== undefined) flow.uuid = this.uuid;
    return flow;
  }
}

/** peerAt, with the address (a slice of the line) copied only when the peer is new. */
function peer(id: PeerIdentity, ip: string | undefined, names: string[] | undefined): Flow["src"] {
  if (ip === undefined || names?.length) return peerAt(id, ip === undefined ? ip : own(ip), names);
  const last = id.last;
  if (last !== undefined && last.ip === ip) return last;
  const p = id.byIp.get(ip) ?? peerAt(id, own(ip), undefined);
  id.last = p;
  return p;
}
