// Shared by the detectors: suppression of repeated keys, and a ring of recent flows as evidence.
import type { Flow } from "../types.js";
import type { Detection } from "./detector.js";

interface KeyState {
  untilMs: number;
  count: number;
  firstMs: number;
  held: Flow[];
}

export type Finding = Omit<Detection, "firstMs" | "lastMs" | "count">;

/**
 * Reports a key at most once per window; repeats inside it are counted and their flows held as
 * evidence for the next report. Bounded: past `maxKeys` the expired keys go, then the oldest.
 */
export class Suppressor {
  private readonly keys = new Map<string, KeyState>();
  constructor(
    private readonly windowMs: number,
    private readonly maxEvidence: number,
    private readonly maxKeys: number,
  ) {}

  /** A detection to report, or undefined while the key is suppressed. `build` runs only to report. */
  offer(key: string, flow: Flow, build: () => Finding): Detection | undefined {
    const t = flow.timeMs;
    const s = this.keys.get(key);
    if (s && t < s.untilMs) {
      s.count++;
      if (s.held.length < this.maxEvidence) s.held.push(flow);
      return undefined;
    }
    const found = build();
    // Flows held while suppressed come first, without those the detector's own evidence repeats.
    const own = new Set(found.evidence);
    const held = (s?.held ?? []).filter((f) => !own.has(f));
    const room = Math.max(0, this.maxEvidence - found.evidence.length);
    const evidence = [...held.slice(Math.max(0, held.length - room)), ...found.evidence].slice(
      -this.maxEvidence,
    );
    const next: KeyState = {
      untilMs: t + this.windowMs,
      count: (s?.count ?? 0) + 1,
      firstMs: s?.firstMs ?? t,
      held: [],
    };
    if (s) this.keys.delete(key);
    this.keys.set(key, next);
    if (this.keys.size > this.maxKeys) this.trim(t);
    return { ...found, key, evidence, firstMs: next.firstMs, lastMs: t, count: next.count };
  }

  private trim(t: number): void {
    for (const [k, s] of this.keys) if (s.untilMs <= t) this.keys.delete(k);
    const target = Math.floor(this.maxKeys * 0.75);
    for (const k of this.keys.keys()) {
      if (this.keys.size <= target) break;
      this.keys.delete(k);
    }
  }
}

/** The last `size` flows, cheap to write on every flow. */
export class FlowRing {
  private readonly flows: Flow[] = [];
  private next = 0;
  constructor(private readonly size: number) {}

  push(flow: Flow): void {
    if (this.flows.length < this.size) this.flows.push(flow);
    else this.flows[this.next] = flow;
    this.next = (this.next + 1) % this.size;
  }

  /** Oldest first. */
  toArray(): Flow[] {
    return this.flows.length < this.size
      ? [...this.flows]
      : [...this.flows.slice(this.next), ...this.flows.slice(0, this.next)];
  }
}

/** A bounded map of per-identity detector state; the oldest identity goes when full. */
export function stateFor<T>(map: Map<string, T>, key: string, max: number, create: () => T): T {
  let s = map.get(key);
  if (s === undefined) {
    if (map.size >= max) {
      const oldest = map.keys().next();
      if (!oldest.done) map.delete(oldest.value);
    }
    s = create();
    map.set(key, s);
  }
  return s;
}

/** `shop/cart`, or `shop/cart (pod shop/cart-7d9f-x2)` when the pod is known. */
export function who(peer: { identity: string; namespace?: string; pod?: string }): string {
  return peer.pod && peer.namespace ? `${peer.identity} (pod ${peer.namespace}/${peer.pod})` : peer.identity;
}

/** `203.0.113.5:443/TCP`. */
export function address(flow: Flow): string {
  const ip = flow.dst.ip ?? flow.dst.identity;
  const host = ip.includes(":") ? `[${ip}]` : ip;
  return flow.dstPort ? `${host}:${flow.dstPort}/${flow.protocol}` : `${host} ${flow.protocol}`;
}

/** Where the source of a flow is, for the `identity`/`namespace`/`pod` fields of a detection. */
export function actor(flow: Flow): Pick<Detection, "identity" | "namespace" | "pod"> {
  const { identity, namespace, pod } = flow.src;
  return {
    identity,
    ...(namespace !== undefined ? { namespace } : {}),
    ...(pod !== undefined ? { pod } : {}),
  };
}

export const clamp01 = (x: number): number => (x < 0 ? 0 : x > 1 ? 1 : x);

/** 0.6 at the threshold, rising towards 1 as the count reaches twice it. */
export const overScore = (value: number, threshold: number): number =>
  clamp01(0.6 + 0.4 * Math.min(1, (value - threshold) / Math.max(threshold, 1)));
