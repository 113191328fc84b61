// Label matchers with Prometheus semantics: a missing label has the value "", regexes are fully anchored
// RE2 syntax. JavaScript's engine is close to RE2 for what label matchers use; RE2-only spellings are
// translated and JavaScript-only constructs (look-around, back-references) are refused, as RE2 refuses them.

import { getLabel, type Labels } from "./labels.js";

export type MatchType = "=" | "!=" | "=~" | "!~";

export interface Matcher {
  readonly name: string;
  readonly type: MatchType;
  readonly value: string;
  readonly re?: RegExp;
}

export class InvalidRegexError extends Error {}

const POSIX_CLASSES: Record<string, string> = {
  alnum: "0-9A-Za-z",
  alpha: "A-Za-z",
  ascii: "\\x00-\\x7F",
  blank: "\\t ",
  cntrl: "\\x00-\\x1F\\x7F",
  digit: "0-9",
  graph: "!-~",
  lower: "a-z",
  print: " -~",
  punct: "!-\\/:-@\\[-`{-~",
  space: "\\t\\n\\v\\f\\r ",
  upper: "A-Z",
  word: "0-9A-Za-z_",
  xdigit: "0-9A-Fa-f",
};

/** Translates an RE2 pattern into an anchored JavaScript RegExp. */
export function compileAnchoredRegex(pattern: string): RegExp {
  let flags = "";
  let src = pattern;
  const leading = /^\(\?([imsU]+)\)/.exec(src);
  if (leading) {
    for (const f of leading[1]!) {
      if (f === "i") flags += "i";
      else if (f === "s") flags += "s";
      else if (f === "m") flags += "m";
      else throw new InvalidRegexError(`unsupported regex flag "${f}" in ${JSON.stringify(pattern)}`);
    }
    src = src.slice(leading[0].length);
  }
  let out = "";
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === "\\") {
      const n = src[i + 1];
      if (n === undefined) throw new InvalidRegexError(`trailing backslash in ${JSON.stringify(pattern)}`);
      if (/[1-9]/.test(n))
        throw new InvalidRegexError(`invalid escape sequence \\${n} (back-references are not RE2)`);
      if (n === "Q") {
        const end = src.indexOf("\\E", i + 2);
        const lit = src.slice(i + 2, end < 0 ? undefined : end);
        out += lit.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
        i = end < 0 ? src.length : end + 1;
        continue;
      }
      if (n === "A") out += "^";
      else if (n === "z") out += "$";
      else if (n === "C") out += "[^]";
      else out += c + n;
      i++;
      continue;
    }
    if (c === "(" && src[i + 1] === "?") {
      const rest = src.slice(i + 2);
      if (rest.startsWith("P<")) {
        out += "(?<";
        i += 3;
        continue;
      }
      if (/^(=|!|<=|<!)/.test(rest)) {
        throw new InvalidRegexError(
          `invalid or unsupported Perl syntax: look-around in ${JSON.stringify(pattern)}`,
        );
      }
    }
    if (c === "[" && src[i + 1] === "[" && src[i + 2] === ":") {
      const m = /^\[\[:(\^?)([a-z]+):\]\]/.exec(src.slice(i));
      const cls = m ? POSIX_CLASSES[m[2]!] : undefined;
      if (m && cls) {
        out += `[${m[1]}${cls}]`;
        i += m[0].length - 1;
        continue;
      }
    }
    out += c;
  }
  // [:alpha:] inside a longer bracket expression, e.g. [[:alpha:]_]
  out = out.replace(/\[:(\^?)([a-z]+):\]/g, (whole, neg: string, name: string) => {
    const cls = POSIX_CLASSES[name];
    if (!cls || neg) return whole;
    return cls;
  });
  try {
    return new RegExp(`^(?:${out})$`, flags);
  } catch (err) {
    throw new InvalidRegexError(
      `invalid regular expression ${JSON.stringify(pattern)}: ${(err as Error).message}`,
    );
  }
}

export function newMatcher(name: string, type: MatchType, value: string): Matcher {
  if (type === "=~" || type === "!~") return { name, type, value, re: compileAnchoredRegex(value) };
  return { name, type, value };
}

export function matchesValue(m: Matcher, value: string): boolean {
  switch (m.type) {
    case "=":
      return value === m.value;
    case "!=":
      return value !== m.value;
    case "=~":
      return m.re!.test(value);
    case "!~":
      return !m.re!.test(value);
  }
}

export function matchesLabels(ms: readonly Matcher[], ls: Labels): boolean {
  for (const m of ms) if (!matchesValue(m, getLabel(ls, m.name))) return false;
  return true;
}

export function matchesEmpty(m: Matcher): boolean {
  return matchesValue(m, "");
}
