// The fast line reader (shared/flows/jsonl.ts and its fused fast path, fast-line.ts) against its
// reference, JSON.parse + the schema + the normaliser on every line: the same flows, the same
// rejections with the same reasons, the same skipped lines, on real sandbox lines and on thousands
// of seeded mutations of them (the caches must never let a changed text through as the value they
// saw before), read from a string, from bytes (the byte-code path), and from a stream cut anywhere.
import { beforeAll, describe, expect, it } from "vitest";
import { FlowLineReader, merge, type FlowParseResult } from "../../shared/flows/jsonl.js";
import { startSandbox } from "../../infra/sandbox/index.js";
import { FAST_READ_KEYS } from "../../shared/flows/fast-line.js";
import { parseFlowLines } from "../../shared/flows/jsonl.js";
import { FlowFieldsSchema, FlowReadSchema } from "../../shared/flows/schema.js";
import { seededRandom, type Random } from "../../shared/random.js";

let lines: string[] = [];

beforeAll(async () => {
  const sb = await startSandbox({ seed: 11, flowLog: false });
  const out: string[] = [];
  const stop = sb.flows.subscribe((l) => out.push(JSON.stringify(l)));
  while (out.length < 3_000) sb.clock.advance(20_000);
  stop();
  await sb.close();
  lines = out.slice(0, 3_000);
});

const both = (text: string) => ({
  memberWise: parseFlowLines(text),
  reference: parseFlowLines(text, { memberWise: false }),
});

/** A stream's batches, merged, the bytes cut in seeded places (lines split across chunks). */
function streamed(bytes: Buffer, rnd: Random): FlowParseResult {
  const reader = new FlowLineReader();
  const out: FlowParseResult = { flows: [], rejected: [], lines: 0, skipped: 0 };
  for (let at = 0; at < bytes.length;) {
    const n = 1 + Math.floor(rnd() * 200_000);
    merge(out, reader.push(bytes.subarray(at, at + n)));
    at += n;
  }
  return merge(out, reader.end());
}

/** Every way in (text; bytes in one piece, streamed), each equal to the reference on that input. */
function expectSameAsReference(lines: string[], seed: number): FlowParseResult {
  const text = lines.join("\n");
  // UTF-8 has no lone surrogates: the bytes of such a text read as U+FFFD, in the reference too.
  const bytes = Buffer.from(text);
  const reference = parseFlowLines(text, { memberWise: false });
  const bytesReference = parseFlowLines(bytes, { memberWise: false });
  const runs: [FlowParseResult, FlowParseResult][] = [
    [parseFlowLines(text), reference],
    [parseFlowLines(bytes), bytesReference],
    [streamed(bytes, seededRandom(seed)), bytesReference],
  ];
  for (const [r, ref] of runs) {
    expect(r.rejected).toEqual(ref.rejected);
    expect(r.flows).toEqual(ref.flows);
    expect(r.skipped).toBe(ref.skipped);
    expect(r.lines).toBe(ref.lines);
  }
  return reference;
}

const pick = <T>(rnd: Random, xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;

/** One seeded corruption of a line: broken JSON, wrong types, duplicate/unknown/escaped keys, ... */
function corrupt(line: string, rnd: Random): string {
  const at = Math.floor(rnd() * line.length);
  const kind = Math.floor(rnd() * 14);
  switch (kind) {
    case 0:
      return line.slice(0, at) + line.slice(at + 1);
    case 1:
      return (
        line.slice(0, at) +
        pick(rnd, ["{", "}", "[", "]", ",", ":", '"', "\\", " ", "0", "x", "\t"]) +
        line.slice(at)
      );
    case 2:
      return line.replace(
        /"verdict":"[A-Z_]+"/,
        pick(rnd, ['"verdict":5', '"verdict":"MAYBE"', '"verdict":null']),
      );
    case 3:
      return line.replace('{"flow":{', '{"flow":{"verdict":"DROPPED",');
    case 4:
      return line.replace('{"flow":{', '{"flow":{"zz_unknown":{"a":[1,2,{"b":null}]},');
    case 5:
      return line.replace('{"flow":{', '{"flow":{"ver\\u0064ict":"DROPPED",');
    case 6:
      return line.replace(/":/g, '": ').replace(/,"/g, ', "');
    case 7:
      return line.replace(/"time":"(\d{4})-/, '"time":"$1-13-');
    case 8:
      return line.replace(/"ID":(\d+)/, '"ID":$1.5');
    case 9:
      return line.replace(/"destination_port":(\d+)/, '"destination_port":70000');
    case 10:
      return JSON.stringify((JSON.parse(line) as { flow: unknown }).flow);
    case 11:
      return line.replace(/"labels":\["/, '"labels":[7,"');
    case 12:
      return line.replace(/"pod_name":"/, '"pod_name":"\\"');
    default:
      return line.slice(0, at);
  }
}

/** Replaces the first match of `re` in the line (the line itself when there is none). */
const sub = (line: string, re: RegExp, by: string): string => line.replace(re, by);

/** One seeded mutation aimed at the fast path's own parsers and caches. */
function mutate(line: string, rnd: Random): string {
  const kind = Math.floor(rnd() * 41);
  const digits = (n: number) => Array.from({ length: n }, () => Math.floor(rnd() * 10)).join("");
  switch (kind) {
    // time: fractions of any length, none, offsets, invalid dates and hours, lower-case z
    case 0:
      return sub(line, /"time":"([^".]+)\.\d+Z"/, `"time":"$1.${digits(1 + Math.floor(rnd() * 12))}Z"`);
    case 1:
      return sub(
        line,
        /"time":"([^".]+)\.\d+Z"/,
        pick(rnd, ['"time":"$1Z"', '"time":"$1.Z"', '"time":"$1.5z"']),
      );
    case 2:
      return sub(
        line,
        /"time":"([^".]+)\.(\d+)Z"/,
        pick(rnd, ['"time":"$1.$2+02:00"', '"time":"$1.$2-25:00"']),
      );
    case 3:
      return sub(
        line,
        /"time":"\d{4}-\d\d-\d\dT\d\d/,
        pick(rnd, [
          '"time":"2024-02-29T23',
          '"time":"2026-02-29T10',
          '"time":"2026-01-05T24',
          '"time":"0000-01-01T00',
        ]),
      );
    case 4:
      return sub(line, /"time":"[^"]*",/, "");
    case 5:
      return sub(line, /,"time":"[^"]*"\}$/, "}");
    case 6:
      return sub(
        line,
        /"time":"[^"]*"/,
        pick(rnd, ['"time":5', '"time":null', '"time":"2026-01-05T08:00:4\u0038.1Z"']),
      );
    // uuid
    case 7:
      return sub(
        line,
        /"uuid":"[^"]*"/,
        pick(rnd, ['"uuid":"\u0041b\n"', '"uuid":7', '"uuid":""', '"uuid":"a\tb"']),
      );
    // IP
    case 8:
      return sub(
        line,
        /"IP":\{"source":"[^"]*"/,
        pick(rnd, ['"IP":{"source":"10.0.0.\u0031"', '"IP":{"source":5', '"IP":{"source":null']),
      );
    case 9:
      return sub(
        line,
        /"IP":\{/,
        pick(rnd, [
          '"IP":{"source":"1.2.3.4",',
          '"IP":{"x":{"y":[1,{"z":"}"}]},',
          '"IP":{"destination":"::1",',
        ]),
      );
    case 10:
      return sub(
        line,
        /"IP":\{[^}]*\}/,
        pick(rnd, ['"IP":{}', '"IP":null', '"IP":[]', '"IP":{"source":"fe80::64d8:8aff:fe72:fc14"}']),
      );
    // l4
    case 11:
      return sub(
        line,
        /"(source|destination)_port":\d+/,
        `"$1_port":${pick(rnd, ["0", "65535", "65536", "-1", "1.0", "1e2", "080", "-0", "99999999999", "8.5", '"80"', "null"])}`,
      );
    case 12:
      return sub(
        line,
        /"flags":\{[^}]*\}/,
        pick(rnd, [
          '"flags":{"SYN":true}',
          '"flags":{"SYN":true,"ACK":false}',
          '"flags":{"SYN":null}',
          '"flags":{"SYN":"true"}',
          '"flags":{"SYN":true,"SYN":false}',
          '"flags":null',
          '"flags":{}',
          '"flags":{"ACK":true,"FIN":1}',
        ]),
      );
    case 13:
      return sub(
        line,
        /"l4":\{[^{]*\{/,
        pick(rnd, [
          '"l4":{"UDP":{',
          '"l4":{"SCTP":{',
          '"l4":{"TCP":{"source_port":1,',
          '"l4":{"TCP":{"source_port":1},"TCP":{',
          '"l4":{"ICMPv4":{"type":8},"TCP":{',
          '"l4":{"Other":{"a":1},"TCP":{',
        ]),
      );
    case 14:
      return sub(
        line,
        /"l4":\{.*?\}\}(\})?,"source"/,
        pick(rnd, [
          '"l4":{"ICMPv4":{"type":8,"code":0}},"source"',
          '"l4":{"ICMPv6":{"type":-1}},"source"',
          '"l4":{"ICMPv4":{"type":1.5}},"source"',
          '"l4":{"ICMPv4":{"type":9007199254740993}},"source"',
          '"l4":{},"source"',
          '"l4":null,"source"',
          '"l4":{"UDP":{"source_port":53},"TCP":{}},"source"',
        ]),
      );
    // the rest of the flow after the destination (the segment cache): changed, duplicated keys
    case 15:
      return sub(
        line,
        /"Summary":/,
        pick(rnd, [
          '"verdict":"DROPPED","Summary":',
          '"node_name":"other","Summary":',
          '"Type":"L7","Summary":',
          '"source":{},"Summary":',
          '"uuid":"dup","Summary":',
          '"l4":{},"Summary":',
        ]),
      );
    case 16:
      return sub(
        line,
        /"is_reply":true/,
        pick(rnd, [
          '"is_reply":"true"',
          '"is_reply":1',
          '"is_reply":false',
          '"is_reply":true,"is_reply":false',
        ]),
      );
    case 17:
      return sub(
        line,
        /"traffic_direction":"[A-Z_]+"/,
        pick(rnd, [
          '"traffic_direction":"EGRESS"',
          '"traffic_direction":"SIDEWAYS"',
          '"traffic_direction":"TRAFFIC_DIRECTION_UNKNOWN"',
        ]),
      );
    case 18:
      return sub(
        line,
        /"interface":\{"index":\d+/,
        pick(rnd, [
          '"interface":{"index":01',
          '"interface":{"index":1.',
          '"interface":{"index":-',
          '"interface":{"index":1e',
          '"interface":{"index":+1',
          '"interface":{"index":NaN',
          '"interface":{"index":.5',
          '"interface":{"index":1,}',
        ]),
      );
    case 19:
      return sub(
        line,
        /"Summary":"/,
        pick(rnd, [
          '"Summary":"\t',
          '"Summary":"\\x',
          '"Summary":"\\u12G4',
          '"Summary":"\\u00e9',
          '"Summary":"\\"',
          '"Summary":"\u0001',
        ]),
      );
    case 20:
      return sub(
        line,
        /"event_type":\{[^}]*\}/,
        pick(rnd, [
          '"event_type":[1,]',
          '"event_type":[1,2]',
          '"event_type":tru',
          '"event_type":true1',
          '"event_type":nul',
          '"event_type":{"a" :1 }',
          `"event_type":${"[".repeat(70)}${"]".repeat(70)}`,
          `"event_type":${"[".repeat(20)}${"]".repeat(20)}`,
        ]),
      );
    case 21:
      return sub(
        line,
        /"node_name":"[^"]*","event_type"/,
        pick(rnd, ['"node_name":"n\u00e9","event_type"', '"node_name":5,"event_type"', '"event_type"']),
      );
    case 22:
      return sub(
        line,
        /\},"node_name":"[^"]*","time"/,
        pick(rnd, [
          '},"node_name":"b","time"',
          '},"time"',
          '},"node_name":"b","node_name":"c","time"',
          '},"zz":1,"time"',
        ]),
      );
    // keys: unknown, escaped, with control characters; whitespace anywhere
    case 23:
      return sub(
        line,
        /"Type":/,
        pick(rnd, [
          '"zz_new":{"a":[1,"x"]},"Type":',
          '"Ty\\u0070e":"x","Type":',
          '"T\tpe":1,"Type":',
          '"flow":{},"Type":',
          '"lost_events":{},"Type":',
        ]),
      );
    case 24:
      return line.replace(/,"/g, pick(rnd, [', "', ',\t"', ',\r"', ' ,"']));
    case 25:
      return line.replace(/":/g, pick(rnd, ['" :', '":\t', '":\r\n'.slice(0, 3)]));
    // endpoints and the names: changed late, short, not objects, names added
    case 26:
      return sub(
        line,
        /"labels":\["([^"]*)"\]/,
        pick(rnd, ['"labels":["$1","x"]', '"labels":[]', '"labels":["$1" ]']),
      );
    case 27:
      return sub(
        line,
        /"source":\{[^}]*?"identity":(\d+)/,
        pick(rnd, ['"source":{"identity":-1', '"source":{"identity":1.5', '"source":{"identity":"2"']),
      );
    case 28:
      return sub(
        line,
        /"(source|destination)":\{/,
        pick(rnd, ['"$1":{},"x$1":{', '"$1":null,"x$1":{', '"$1":{"identity":2},"x$1":{']),
      );
    case 29:
      return sub(
        line,
        /"Type":/,
        pick(rnd, [
          '"destination_names":["api.example.com"],"Type":',
          '"source_names":[],"Type":',
          '"destination_names":[5],"Type":',
        ]),
      );
    // DNS
    case 30:
      return sub(
        line,
        /"Type":/,
        pick(rnd, [
          '"l7":{"type":"RESPONSE","dns":{"query":"a.b.","ips":["1.2.3.4"],"ttl":30}},"Type":',
          '"l7":{"type":"REQUEST","dns":{"query":"x.y","rcode":3}},"Type":',
          '"l7":{"type":"NOPE"},"Type":',
          '"l7":{"dns":{"ips":"1.2.3.4"}},"Type":',
          '"l7":{"type":"SAMPLE","dns":{}},"Type":',
          '"l7":{"type":"RESPONSE","latency_ns":"12","dns":{"query":"q.","ips":[],"rcode":0}},"Type":',
          '"l7":{"type":"RESPONSE","dns":{"query":"q\\u002e","ips":["1.1.1.1","\\u0031.2.3.4"]}},"Type":',
          '"l7":{"type":"RESPONSE","dns":{"ips":["1.1.1.1",5]}},"Type":',
          '"l7":{"type":"RESPONSE","dns":{"rcode":-0}},"Type":',
          '"l7":{"type":"RESPONSE","dns":{"rcode":-3}},"Type":',
          '"l7":{"type":"RESPONSE","dns":{"rcode":03}},"Type":',
          '"l7":{"type":"RESPONSE","dns":{"rcode":3.0}},"Type":',
          '"l7":{"type":"RESPONSE","dns":{"rcode":1e1}},"Type":',
          '"l7":{"type":"RESPONSE","dns":{"rcode":99999999999}},"Type":',
          '"l7":{"type":"RESPONSE","dns":{"rcode":9007199254740993}},"Type":',
          '"l7":{"type":"RESPONSE","dns":{"query":"a","query":"b"}},"Type":',
          '"l7":{"type":"REQUEST","type":"RESPONSE"},"Type":',
          '"l7":{"dns":null},"Type":',
          '"l7":{"type":"RESPONSE","dns":{"query":"a"},"dns":{"rcode":2}},"Type":',
          '"l7":{"type":"request"},"Type":',
          '"l7":{"http":{"code":200,"method":"GET"},"type":"RESPONSE"},"Type":',
          '"l7":{"type":"RESPONSE","dns":{"ips":["1.1.1.1",]}},"Type":',
          '"l7":{"type":"RESPONSE","dns":{"ips":[ "1.1.1.1" , "2.2.2.2" ]}},"Type":',
        ]),
      );
    case 39:
      return sub(
        line,
        /"(query|rcode|ips|type)":/,
        pick(rnd, ['"$1":null,"x":', '"$1" : ', '"$1":{"a":1},"$1":', '"zz":[],"$1":']),
      );
    case 31:
      return sub(
        line,
        /"drop_reason_desc":"[^"]*"|"verdict":"[A-Z]+"/,
        pick(rnd, [
          '"verdict":"DROPPED","drop_reason_desc":"POLICY_DENIED"',
          '"drop_reason_desc":7',
          '"verdict":"FORWARDED","verdict":"DROPPED"',
        ]),
      );
    // text outside ASCII (Latin-1, beyond it), a lone surrogate, NUL
    case 32:
      return sub(
        line,
        /"pod_name":"/,
        pick(rnd, [
          '"pod_name":"caf\u00e9-',
          '"pod_name":"\u65e5\u672c-',
          '"pod_name":"\ud800',
          '"pod_name":"\u0000',
        ]),
      );
    case 33:
      return sub(
        line,
        /"Summary":"/,
        pick(rnd, ['"Summary":"\u00e9 ', '"Summary":"\u2028 ', '"Summary":"\ud83d\ude00 ']),
      );
    // bare flows, envelopes that are not first, not-a-flow lines
    case 34: {
      const flow = JSON.stringify((JSON.parse(line) as { flow: unknown }).flow);
      return pick(rnd, [
        flow,
        flow.replace("{", '{"flow":{},'),
        flow.replace("{", '{"lost_events":{},'),
        `{"time":"2026-01-05T08:00:00Z","flow":${flow}}`,
      ]);
    }
    case 35:
      return sub(
        line,
        /^\{"flow":/,
        pick(rnd, ['{"node_name":"n","flow":', ' \t{"flow":', '{"flow" :', '{"flow":5,"x":']),
      );
    // truncated, an extra character, a removed one (anywhere)
    case 36:
      return line.slice(0, Math.floor(rnd() * line.length));
    case 37: {
      const at = Math.floor(rnd() * line.length);
      return (
        line.slice(0, at) +
        pick(rnd, ["{", "}", "[", "]", ",", ":", '"', "\\", " ", "0", "x", "\t", "-", "e", "."]) +
        line.slice(at)
      );
    }
    case 38: {
      const at = Math.floor(rnd() * line.length);
      return line.slice(0, at) + line.slice(at + 1);
    }
    default:
      return sub(
        line,
        /"ethernet":\{"source":"/,
        pick(rnd, [
          '"ethernet":{"source":"\\u0041',
          '"ethernet":{"source":1',
          '"ethernet":{"source":"x","source":"y","s',
        ]),
      );
  }
}

describe("the member-wise reader", () => {
  it("reads the sandbox's lines exactly as JSON.parse + the schema do", () => {
    const { memberWise, reference } = both(lines.join("\n"));
    expect(reference.flows.length).toBe(lines.length);
    expect(memberWise).toEqual(reference);
  });

  it("accepts and rejects thousands of seeded corruptions exactly as the reference does, with the same reasons", () => {
    const rnd = seededRandom(5);
    // Each corrupted line follows its original, so the caches have seen the good text first.
    const mixed: string[] = [];
    for (const line of lines) {
      mixed.push(line);
      mixed.push(corrupt(line, rnd));
    }
    const { memberWise, reference } = both(mixed.join("\n"));
    expect(reference.rejected.length).toBeGreaterThan(500);
    expect(reference.flows.length).toBeGreaterThan(lines.length);
    expect(memberWise.rejected).toEqual(reference.rejected);
    expect(memberWise.flows).toEqual(reference.flows);
    expect(memberWise.skipped).toBe(reference.skipped);
  });

  it("reads seeded mutations aimed at its parsers and caches exactly as the reference, from text, bytes and streams", () => {
    const rnd = seededRandom(17);
    // Originals first (the caches learn the good texts), then each mutation twice (a text the
    // cache learnt from a mutated line must not be taken for another), then originals again.
    const mixed: string[] = [];
    for (const line of lines) {
      mixed.push(line);
      const m = mutate(line, rnd);
      mixed.push(m, m);
      if (rnd() < 0.3) mixed.push(line);
    }
    const reference = expectSameAsReference(mixed, 3);
    expect(reference.rejected.length).toBeGreaterThan(1_000);
    expect(reference.flows.length).toBeGreaterThan(lines.length * 2);
  });

  it("reads invalid UTF-8 and over-long lines among good ones as the reference does", () => {
    const good = lines.slice(0, 200);
    const parts: Buffer[] = [];
    good.forEach((l, i) => {
      parts.push(Buffer.from(`${l}\n`));
      if (i % 20 === 0)
        parts.push(
          Buffer.concat([
            Buffer.from(l.slice(0, 50)),
            Buffer.from([0xff, 0xfe]),
            Buffer.from(`${l.slice(50)}\n`),
          ]),
        );
      if (i % 30 === 0)
        parts.push(Buffer.from(`${l.replace('"pod_name":"', '"pod_name":"\u00e9\u65e5')}\r\n`));
    });
    const bytes = Buffer.concat(parts);
    const reference = parseFlowLines(bytes, { memberWise: false });
    expect(reference.rejected.length).toBeGreaterThan(0);
    for (const r of [parseFlowLines(bytes), streamed(bytes, seededRandom(9))]) expect(r).toEqual(reference);
  });

  it("checks a time's second once: with any fraction of digits, it is valid exactly when the schema says so", () => {
    // The fast path's premise (fast-line.ts, time): `P.<digits>Z` is valid iff `P.0Z` is.
    const rnd = seededRandom(23);
    const time = FlowFieldsSchema.shape.time;
    for (let k = 0; k < 2_000; k++) {
      const n = (max: number) => String(Math.floor(rnd() * max)).padStart(2, "0");
      const p = `${pick(rnd, ["2024", "2026", "1999", "0000"])}-${n(14)}-${n(32)}T${n(26)}:${n(62)}:${n(62)}`;
      const fraction = Array.from({ length: 1 + Math.floor(rnd() * 12) }, () => Math.floor(rnd() * 10)).join(
        "",
      );
      expect(time.safeParse(`${p}.${fraction}Z`).success).toBe(time.safeParse(`${p}.0Z`).success);
    }
  });

  it("has a handler for every field the read schema has", () => {
    expect([...FAST_READ_KEYS].sort()).toEqual(Object.keys(FlowReadSchema.shape).sort());
  });
});
