import { describe, expect, it } from "vitest";
import { loadConfig } from "../shared/config.js";

describe("configuration from the environment", () => {
  it("uses the embedded defaults when nothing is set", () => {
    const cfg = loadConfig({});
    expect(cfg).toMatchObject({
      PORT: 8080,
      PROPHET_DATA_DIR: ".prophet",
      PROPHET_SINK: "auto",
      PROPHET_CRON: true,
    });
    expect(cfg.DATABASE_URL).toBeUndefined();
  });

  it("names every bad variable and what it expects", () => {
    expect(() =>
      loadConfig({ PORT: "eighty", DATABASE_URL: "mysql://x", PROPHET_CRON: "maybe" }),
    ).toThrowError(
      /PORT: expected a port number[\s\S]*DATABASE_URL: expected a postgres:\/\/[\s\S]*got \(hidden\)[\s\S]*PROPHET_CRON: expected true or false/,
    );
  });

  it("treats empty strings as unset", () => {
    expect(loadConfig({ PORT: "", K_SINK: "" }).PORT).toBe(8080);
  });
});
