import { describe, expect, it } from "vitest";
import { createLogger } from "../../infra/runtime/logger.js";
import { redactUrl } from "../../shared/ports/log.js";

describe("logs never carry secrets", () => {
  it("censors secret-looking keys at any of the first three levels", () => {
    const lines: string[] = [];
    const log = createLogger("info", {}, { write: (s: string) => void lines.push(s) });
    log.info(
      {
        token: "t0k",
        request: { authorization: "Bearer abc" },
        cfg: { db: { password: "hunter2" } },
        user: "alice",
      },
      "hello",
    );
    const line = lines.join("");
    for (const secret of ["t0k", "Bearer abc", "hunter2"]) expect(line).not.toContain(secret);
    expect(line).toContain("alice");
    expect(line).toContain("[redacted]");
  });

  it("masks the password of a connection URL", () => {
    expect(redactUrl("postgres://prophet:s3cret@db:5432/prophet")).toBe(
      "postgres://prophet:***@db:5432/prophet",
    );
  });
});
