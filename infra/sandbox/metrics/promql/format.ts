// Number formatting identical to Go's strconv.FormatFloat(f, 'f', -1, 64), which Prometheus uses in JSON.

export function formatFloat(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  const s = String(v);
  const e = s.indexOf("e");
  if (e < 0) return s;
  // Expand JavaScript's exponent form; both languages print the shortest round-tripping digits.
  const neg = s[0] === "-";
  const mantissa = s.slice(neg ? 1 : 0, e);
  const exp = Number(s.slice(e + 1));
  const dot = mantissa.indexOf(".");
  const digits = mantissa.replace(".", "");
  const intLen = (dot < 0 ? mantissa.length : dot) + exp;
  let out: string;
  if (intLen <= 0) out = "0." + "0".repeat(-intLen) + digits;
  else if (intLen >= digits.length) out = digits + "0".repeat(intLen - digits.length);
  else out = digits.slice(0, intLen) + "." + digits.slice(intLen);
  return neg ? "-" + out : out;
}

/** Milliseconds as the JSON number Prometheus writes for a timestamp: seconds with up to three decimals. */
export function formatTimestamp(ms: number): string {
  const neg = ms < 0;
  const abs = Math.abs(ms);
  const whole = Math.floor(abs / 1000);
  const frac = abs - whole * 1000;
  let out = String(whole);
  if (frac !== 0) out += "." + String(frac).padStart(3, "0");
  return neg ? "-" + out : out;
}
