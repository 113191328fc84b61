// Hubble flow JSONL (the exporter file, `hubble observe -o json`, a bare flow per line) → Flows.
// One bad line never loses the others: it is counted in `rejected` with the reason.
//
// Speed: JSON.parse alone of a whole 1.5 KB sandbox line runs at ~270k lines/s on one core, and the
// read schema and the normaliser after it cost as much again. So each line first goes through the
// fused fast path (fast-line.ts): one strict pass over the text that validates what Prophet reads
// with the schema's rules (each repeating value once, then compared in place) and builds the Flow
// directly. It accepts a line only when JSON.parse + the schema would; anything it does not expect
// (escaped or duplicate keys, unusual shapes) and every rejection take the plain path, JSON.parse
// and the schema, for the schema's own reasons.
import { open } from "node:fs/promises";
import { isAscii, isUtf8 } from "node:buffer";
import { describeIssues, issuesFromZod } from "../errors.js";
import { FastLineParser, NOT_A_FLOW } from "./fast-line.js";
import { FlowNormaliser, type PeerIdentity } from "./normalise.js";
import {
  EnvelopeFieldsSchema,
  ExporterLineSchema,
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
/** A character the fast path's byte codes cannot hold (such lines take the plain path). */
const NOT_LATIN1 = /[\u0100-\uffff]/;
/** Lines are decoded in slabs of about this size (see `block`). */
const SLAB_BYTES = 64 * 1024;

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
  private readonly maxLineBytes: number;
  private readonly full: boolean;
  private readonly nodeName: string | undefined;
  /** The fused fast path; undefined: every line through JSON.parse and the schema. */
  private readonly fast: FastLineParser | undefined;
  // Stream state.
  private carry: Buffer | undefined;
  private dropping = false;
  private lineNo = 0;
  private started = false;

  constructor(opts: FlowReadOptions = {}) {
    this.maxLineBytes = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.full = opts.validation === "full";
    this.nodeName = opts.nodeName;
    this.fast =
      !this.full && opts.memberWise !== false
        ? new FastLineParser(this.normaliser, this.nodeName)
        : undefined;
  }

  /** All lines of a text (one call = one whole input; line numbers start at 1). */
  text(input: string, out: FlowParseResult = emptyResult()): FlowParseResult {
    let pos = input.charCodeAt(0) === 0xfeff ? 1 : 0;
    let lineNo = 0;
    while (pos <= input.length) {
      let nl = input.indexOf("\n", pos);
      if (nl < 0) nl = input.length;
      lineNo++;
      this.lineAt(input, pos, nl, lineNo, out);
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
    // In slabs of whole lines: a string of a megabyte would be an external one, whose churn makes V8
    // run full collections; a slab is an ordinary heap string that a scavenge frees.
    let from = 0;
    for (;;) {
      let to = bytes.length;
      if (to - from > SLAB_BYTES) {
        to = bytes.lastIndexOf(10, from + SLAB_BYTES);
        if (to < from) to = bytes.indexOf(10, from + SLAB_BYTES);
        if (to < 0) to = bytes.length;
      }
      this.slab(bytes.subarray(from, to), out);
      if (to >= bytes.length) return;
      from = to + 1;
    }
  }

  /** Complete lines (without the last newline). */
  private slab(bytes: Buffer, out: FlowParseResult): void {
    // ASCII (the usual case) copies straight into a one-byte string, 2-3x faster than decoding UTF-8.
    const ascii = isAscii(bytes);
    if (ascii || isUtf8(bytes)) {
      const text = bytes.toString(ascii ? "latin1" : "utf8");
      // ASCII: the bytes are the text's character codes, at the same indices.
      const codes = ascii ? bytes : undefined;
      let pos = 0;
      while (pos <= text.length) {
        let nl = text.indexOf("\n", pos);
        if (nl < 0) nl = text.length;
        this.lineAt(text, pos, nl, ++this.lineNo, out, codes);
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
    this.lineAt(raw, 0, raw.length, lineNo, out);
  }

  /** The line s[a, b) of a block (without its newline): no slice of the block unless needed. */
  private lineAt(
    s: string,
    a: number,
    b: number,
    lineNo: number,
    out: FlowParseResult,
    codes?: Buffer,
  ): void {
    if (b > a && s.charCodeAt(b - 1) === 13) b--;
    if (b === a || (s.charCodeAt(a) <= 32 && isBlank(s.slice(a, b)))) return;
    out.lines++;
    if ((b - a) * 3 > this.maxLineBytes && Buffer.byteLength(s.slice(a, b)) > this.maxLineBytes) {
      out.rejected.push({ line: lineNo, reason: this.longReason() });
      return;
    }
    const f = this.fast ? this.fastLine(s, a, b, codes) : undefined;
    if (f !== undefined) {
      out.flows.push(f);
      return;
    }
    const r = this.plain(a === 0 && b === s.length ? s : s.slice(a, b));
    if (typeof r === "string") out.rejected.push({ line: lineNo, reason: r });
    else if (r === null) out.skipped++;
    else out.flows.push(r);
  }

  /** The fast path, given the line's character codes or with its own (Latin-1 text only). */
  private fastLine(s: string, a: number, b: number, codes: Buffer | undefined): Flow | undefined {
    const fast = this.fast as FastLineParser;
    if (codes) return fast.flow(s, a, b, codes);
    const line = a === 0 && b === s.length ? s : s.slice(a, b);
    if (NOT_LATIN1.test(line)) return undefined;
    return fast.flow(line, 0, line.length, Buffer.from(line, "latin1"));
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
}

function isBlank(s: string): boolean {
  return s.trim().length === 0;
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
  const add = async (batch: FlowParseResult) => {
    if (!batch.lines) return;
    totals.lines += batch.lines;
    totals.flows += batch.flows.length;
    totals.rejected += batch.rejected.length;
    totals.skipped += batch.skipped;
    await onBatch(batch);
  };
  const reader = new FlowLineReader(opts);
  // Two buffers read into again and again (the reader copies what it keeps; a stream's new
  // megabyte per chunk is external memory, whose churn makes V8 run full collections): the next
  // chunk is read while this one is parsed.
  const size = opts.highWaterMark ?? 2 ** 20;
  let buf = Buffer.allocUnsafe(size);
  let spare = Buffer.allocUnsafe(size);
  const file = await open(path, "r");
  let pending = file.read(buf, 0, size, null);
  try {
    for (;;) {
      const { bytesRead } = await pending;
      if (bytesRead === 0) break;
      const chunk = buf.subarray(0, bytesRead);
      [buf, spare] = [spare, buf];
      pending = file.read(buf, 0, size, null);
      await add(reader.push(chunk));
    }
  } finally {
    await pending.catch(() => undefined);
    await file.close();
  }
  await add(reader.end());
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
