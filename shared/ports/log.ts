/** The logging port: the subset of pino's interface the core uses. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};

/** Keys whose values never reach a log line (pino `redact` paths are built from these). */
export const secretKeys = [
  "password",
  "token",
  "apiKey",
  "api_key",
  "authorization",
  "secret",
  "key",
  "databaseUrl",
  "credentials",
] as const;

/** `postgres://user:pass@host/db` → `postgres://user:***@host/db` */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparseable url)";
  }
}
