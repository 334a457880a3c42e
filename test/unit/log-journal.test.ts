/** The journal log format (sd-daemon priority prefixes, no timestamps) and its detection from $JOURNAL_STREAM. */
import { expect, test } from "bun:test";
import { closeSync, fstatSync, openSync } from "node:fs";
import { join } from "node:path";
import { makeLogger } from "../../src/cli/options.ts";
import { createLogger, isJournalStream } from "../../src/log.ts";
import { tempDir } from "../support/git.ts";

test("journal format: <3> error, <4> warn, <6> info, <7> debug; no timestamp; every line of a multi-line message prefixed", () => {
  const lines: string[] = [];
  const log = createLogger({ level: "debug", format: "journal", write: (l) => lines.push(l) });
  log.error("apply failed", { target: "web", err: new Error("boom") });
  log.warn("careful", { url: "https://bob:pw@example.com/r.git" });
  log.info("applied");
  log.debug("details");
  log.error("two\nlines");
  expect(lines).toEqual([
    "<3>apply failed target=web err=boom",
    "<4>careful url=https://***@example.com/r.git",
    "<6>applied",
    "<7>details",
    "<3>two\n<3>lines",
  ]);
});

test("isJournalStream: true only when JOURNAL_STREAM is the device:inode of the given fd", () => {
  const file = join(tempDir("fetchit-journal-"), "out");
  const fd = openSync(file, "w");
  try {
    const st = fstatSync(fd, { bigint: true });
    expect(isJournalStream({ JOURNAL_STREAM: `${st.dev}:${st.ino}` }, fd)).toBe(true);
    expect(isJournalStream({ JOURNAL_STREAM: `${st.dev}:${st.ino + 1n}` }, fd)).toBe(false);
    expect(isJournalStream({ JOURNAL_STREAM: "garbage" }, fd)).toBe(false);
    expect(isJournalStream({}, fd)).toBe(false);
  } finally {
    closeSync(fd);
  }
});

test("--log-format journal is accepted; a wrong value names the three formats", () => {
  const lines: string[] = [];
  makeLogger({ logFormat: "journal" }, {}, (l) => lines.push(l)).warn("x");
  expect(lines).toEqual(["<4>x"]);
  expect(() => makeLogger({ logFormat: "syslog" }, {})).toThrow("--log-format syslog: expected pretty, json or journal");
});
