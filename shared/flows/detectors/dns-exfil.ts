// dns-exfil: DNS tunnelling and exfiltration from one identity:
//  - a subdomain label longer than `maxLabelLength`, or a long label with high Shannon entropy
//    (encoded data), judged left of the registered domain and not for names the identity learnt;
//  - many distinct names under one registered domain within a minute (each query a new chunk);
//  - a query rate far above the identity's learnt rate (or the absolute minimum while learning).
// The registered domain is the last two labels, three under a common two-part public suffix
// (`co.uk`, `com.au`, …): no full public-suffix list, so a few suffixes group coarser than a PSL.
import { learnedRate } from "../baseline.js";
import type { Flow } from "../types.js";
import type { AnalyzerConfig } from "./config.js";
import type { FlowDetector } from "./detector.js";
import { actor, FlowRing, overScore, stateFor, Suppressor, who } from "./report.js";

const TWO_PART_SUFFIXES = new Set(
  "co.uk org.uk ac.uk gov.uk com.au net.au org.au co.jp ne.jp or.jp com.br com.cn net.cn com.mx co.in co.nz co.za com.tr com.sg co.kr com.hk com.tw".split(
    " ",
  ),
);

export function registeredDomain(name: string): string {
  const labels = name.toLowerCase().replace(/\.$/, "").split(".");
  const n = labels.length;
  if (n <= 2) return labels.join(".");
  const lastTwo = `${labels[n - 2]}.${labels[n - 1]}`;
  return TWO_PART_SUFFIXES.has(lastTwo) ? `${labels[n - 3]}.${lastTwo}` : lastTwo;
}

const counts = new Int32Array(128);

/** Shannon entropy in bits per character of `s[from, to)`. */
export function labelEntropy(s: string, from = 0, to = s.length): number {
  const n = to - from;
  if (n <= 0) return 0;
  counts.fill(0);
  for (let i = from; i < to; i++) counts[Math.min(s.charCodeAt(i), 127)]!++;
  let sum = 0;
  for (let c = 0; c < 128; c++) {
    const k = counts[c]!;
    if (k > 0) sum += k * Math.log2(k);
  }
  return Math.log2(n) - sum / n;
}

interface QueryInfo {
  domain: string;
  ignored: boolean;
  /** Longest label left of the registered domain, and the highest entropy among long ones. */
  longest: string;
  entropy: number;
}

interface MinuteState {
  minute: number;
  queries: number;
  names: Map<string, Set<string>>;
  recent: FlowRing;
}

const QUERY_CACHE = 16_384;
const DOMAINS_PER_MINUTE = 256;

export function dnsExfilDetector(config: AnalyzerConfig): FlowDetector {
  const c = config.dnsExfil;
  const ignore = c.ignoreDomains.map((d) => d.toLowerCase());
  const suppressor = new Suppressor(config.suppressFor, config.maxEvidence, config.maxSuppressedKeys);
  const cache = new Map<string, QueryInfo>();
  const states = new Map<string, MinuteState>();
  const maxStates = config.baseline.maxIdentities;
  const create = (): MinuteState => ({
    minute: -1,
    queries: 0,
    names: new Map(),
    recent: new FlowRing(config.maxEvidence),
  });

  function inspect(query: string): QueryInfo {
    let info = cache.get(query);
    if (info) return info;
    const lower = query.toLowerCase();
    const domain = registeredDomain(lower);
    const ignored = ignore.some((d) => lower === d || lower.endsWith(`.${d}`));
    let longest = "";
    let entropy = 0;
    const end = lower.length - domain.length - 1; // the subdomain part, without the dot
    let start = 0;
    for (let i = 0; i <= end; i++) {
      if (i === end || lower.charCodeAt(i) === 46) {
        const len = i - start;
        if (len > longest.length) longest = lower.slice(start, i);
        if (len >= c.entropyMinLength) entropy = Math.max(entropy, labelEntropy(lower, start, i));
        start = i + 1;
      }
    }
    info = { domain, ignored, longest, entropy };
    if (cache.size >= QUERY_CACHE) cache.clear();
    cache.set(query, info);
    return info;
  }

  function report(flow: Flow, s: MinuteState, key: string, score: number, reason: string, message: string) {
    return suppressor.offer(key, flow, () => ({
      detector: "dns-exfil" as const,
      ...actor(flow),
      score,
      reason,
      message,
      evidence: s.recent.toArray(),
      key,
    }));
  }

  return {
    name: "dns-exfil",
    needsBaseline: false,
    observe(v) {
      const flow = v.flow;
      const query = flow.dnsQuery;
      if (query === undefined || flow.isReply || flow.src.namespace === undefined) return undefined;
      const id = flow.src.identity;
      const s = stateFor(states, id, maxStates, create);
      const minute = Math.floor(flow.timeMs / 60_000);
      if (minute > s.minute) {
        s.minute = minute;
        s.queries = 0;
        s.names.clear();
      }
      s.queries++;
      const info = inspect(query);
      if (!info.ignored) s.recent.push(flow);

      const learnt = v.src?.enforcingSinceMs !== undefined ? v.src : undefined;
      const rateBar = Math.max(c.minQueriesPerMinute, c.rateFactor * (learnt ? learnedRate(learnt.dns) : 0));
      if (s.queries >= rateBar) {
        const normal = learnt ? `${learnedRate(learnt.dns).toFixed(1)}/min learnt` : "still learning";
        const found = report(
          flow,
          s,
          `dns-exfil|${id}|rate`,
          overScore(s.queries, rateBar),
          "query_rate_spike",
          `${who(flow.src)} sent ${s.queries} DNS queries in the current minute (${normal}); latest ${query}`,
        );
        if (found) return found;
      }
      if (info.ignored) return undefined;

      let names = s.names.get(info.domain);
      if (names === undefined && s.names.size < DOMAINS_PER_MINUTE)
        s.names.set(info.domain, (names = new Set()));
      if (names && names.size <= c.subdomainsPerMinute * 4 && !names.has(query)) {
        names.add(query);
        if (names.size >= c.subdomainsPerMinute)
          return report(
            flow,
            s,
            `dns-exfil|${id}|${info.domain}|subdomains`,
            Math.min(1, overScore(names.size, c.subdomainsPerMinute) + 0.2),
            "many_unique_subdomains",
            `${who(flow.src)} queried ${names.size} distinct names under ${info.domain} in one minute; latest ${query}`,
          );
      }

      const long = info.longest.length > c.maxLabelLength;
      const random = info.entropy >= c.entropyBits;
      if (!long && !random) return undefined;
      if (learnt && !learnt.dnsNamesOverflow && learnt.dnsNames.has(query)) return undefined;
      return report(
        flow,
        s,
        `dns-exfil|${id}|${info.domain}|label`,
        long && random ? 0.75 : 0.6,
        long ? "long_dns_label" : "high_entropy_dns_label",
        `${who(flow.src)} queried ${query} under ${info.domain}: label of ${info.longest.length} characters` +
          (info.entropy > 0 ? `, ${info.entropy.toFixed(2)} bits/char entropy` : ""),
      );
    },
  };
}
