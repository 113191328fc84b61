// Remembers the LLM's explanations so the same problem, alerting again, does not cost another
// call. The key is a SHA-256 of everything the model would see — model, schema, system prompt,
// the findings text and the names to mask — so any change in the findings' content asks again.
// The key is taken before masking: masking is deterministic for one LlmPort (one mask key), so
// equal findings give equal masked prompts, and a per-process random key (ADR 0005) does not
// defeat the cache. Only grounded answers are kept; failures are never cached.
//
// The cache is in memory, per LlmPort instance (one per container, built with the deps), bounded
// and least-recently-used: explanations hold real names after unmasking, and keeping them out of
// the store keeps the store free of LLM text that nobody asked to persist.
import { createHash } from "node:crypto";
import type { LlmPort, NameHint } from "../ports/llm.js";

export class ExplanationCache<V> {
  private readonly entries = new Map<string, V>();
  constructor(readonly maxEntries = 500) {}

  get(key: string): V | undefined {
    const v = this.entries.get(key);
    if (v === undefined) return undefined;
    this.entries.delete(key); // re-insert: most recently used last
    this.entries.set(key, v);
    return v;
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}

const perPort = new WeakMap<LlmPort, ExplanationCache<unknown>>();

/** The cache belonging to one LLM port; it lives and dies with the port. */
export function cacheOf<V>(llm: LlmPort): ExplanationCache<V> {
  let c = perPort.get(llm);
  if (!c) {
    c = new ExplanationCache<unknown>();
    perPort.set(llm, c);
  }
  return c as ExplanationCache<V>;
}

export function explanationKey(parts: {
  model: string;
  schemaName: string;
  system: string;
  prompt: string;
  names: readonly NameHint[];
}): string {
  const h = createHash("sha256");
  for (const p of [parts.model, parts.schemaName, parts.system, parts.prompt]) h.update(p).update("\u0000");
  for (const n of parts.names) h.update(n.kind).update("\u0001").update(n.value).update("\u0000");
  return h.digest("hex");
}
