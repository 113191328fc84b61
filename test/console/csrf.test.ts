// The request guard on its own: which state-changing requests a host accepts from whom.
import { describe, expect, it } from "vitest";
import { hostOrigins, requestGuard } from "../../infra/console/csrf.js";

const guard = requestGuard(() => hostOrigins("127.0.0.1", 8080, "https://prophet.example.com/base"));
const own = "http://127.0.0.1:8080";

describe("request guard", () => {
  it("lists the host's own origins: its address, the loopback names, the public URL", () => {
    expect(hostOrigins("127.0.0.1", 8080, undefined)).toEqual([
      "http://127.0.0.1:8080",
      "http://localhost:8080",
      "http://[::1]:8080",
    ]);
    expect(hostOrigins("0.0.0.0", 80, "https://p.example.com/x")).toContain("https://p.example.com");
    expect(hostOrigins("0.0.0.0", 80, undefined)).not.toContain("http://0.0.0.0:80");
  });

  it("lets machines through: no Origin, no Sec-Fetch-Site, no cookie (the CLI, Alertmanager, brokers)", () => {
    expect(guard.refusal("POST", "/api/approvals/r1/approve", { "sec-fetch-mode": "cors" })).toBeUndefined();
    expect(guard.refusal("POST", "/alertmanager", {})).toBeUndefined();
    expect(guard.fromBrowser({ "sec-fetch-mode": "cors" })).toBe(false);
  });

  it("never guards reads", () => {
    expect(guard.refusal("GET", "/api/approvals", { origin: "http://evil.example" })).toBeUndefined();
  });

  it("refuses a foreign Origin or a cross-site fetch on every POST, whatever the path", () => {
    for (const path of ["/api/approvals/r1/approve", "/approvals/r1", "/", "/events", "/query"]) {
      expect(guard.refusal("POST", path, { origin: "http://evil.example" })?.code, path).toBe("forbidden");
      expect(guard.refusal("POST", path, { "sec-fetch-site": "cross-site" })?.code, path).toBe("forbidden");
      expect(guard.refusal("POST", path, { "sec-fetch-site": "same-site" })?.code, path).toBe("forbidden");
      expect(guard.refusal("POST", path, { origin: "null" })?.code, path).toBe("forbidden");
    }
    // A DNS-rebound name is not this host either.
    expect(guard.refusal("POST", "/events", { origin: "http://rebind.example:8080" })?.code).toBe(
      "forbidden",
    );
    expect(guard.refusal("POST", "/events", { origin: "https://prophet.example.com" })).toBeUndefined();
  });

  it("requires the session token from a browser on /api: cookie and header equal, issued by this host", () => {
    const { token, setCookie } = guard.session({});
    expect(setCookie).toBe(`prophet_csrf=${token}; Path=/; HttpOnly; SameSite=Strict`);
    const browser = { origin: own, "sec-fetch-site": "same-origin" };
    const path = "/api/approvals/r1/approve";
    expect(guard.refusal("POST", path, browser)?.message).toMatch(/CSRF/);
    expect(guard.refusal("POST", path, { ...browser, cookie: `prophet_csrf=${token}` })?.message).toMatch(
      /CSRF/,
    );
    expect(
      guard.refusal("POST", path, {
        ...browser,
        cookie: `a=b; prophet_csrf=${token}`,
        "x-prophet-csrf": token,
      }),
    ).toBeUndefined();
    // Equal but not issued here (another process's key, or made up).
    const other = requestGuard(() => [own]).session({}).token;
    expect(
      guard.refusal("POST", path, { ...browser, cookie: `prophet_csrf=${other}`, "x-prophet-csrf": other }),
    ).toBeDefined();
    // A valid cookie keeps its session; a new page load does not rotate it.
    expect(guard.session({ cookie: `prophet_csrf=${token}` })).toEqual({ token });
  });

  it("serves the console page only under the host's own names", () => {
    expect(guard.ownHost({ host: "127.0.0.1:8080" })).toBe(true);
    expect(guard.ownHost({ host: "localhost:8080" })).toBe(true);
    expect(guard.ownHost({ host: "prophet.example.com" })).toBe(true);
    expect(guard.ownHost({ host: "rebind.example:8080" })).toBe(false);
  });
});
