// The member-wise line reader (shared/flows/jsonl.ts) against its reference, JSON.parse + the schema
// on every line: the same flows, the same rejections with the same reasons, the same skipped lines,
// on real sandbox lines and on thousands of seeded corruptions of them (the cache must never let a
// changed text through as the value it saw before).
import { beforeAll, describe, expect, it } from "vitest";
import { startSandbox } from "../../infra/sandbox/index.js";
import { emptyFields, parseFlowLines } from "../../shared/flows/jsonl.js";
import { FlowFieldsSchema } from "../../shared/flows/schema.js";
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

  it("starts every flow's fields from one literal that names every field the schema reads", () => {
    expect(Object.keys(emptyFields()).sort()).toEqual(Object.keys(FlowFieldsSchema.shape).sort());
  });
});
