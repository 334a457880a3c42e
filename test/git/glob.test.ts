import { describe, expect, test } from "bun:test";
import { compileGlob, globToRegexSource, matchGlob } from "../../src/git/glob.ts";

const cases: Array<[pattern: string, path: string, expected: boolean]> = [
  // `*` crosses `/`, as gobwas without separators does in FetchIt
  ["*.json", "a.json", true],
  ["*.json", "sub/a.json", true],
  ["*.json", "sub/deeper/a.json", true],
  ["*.json", "a.json.bak", false],
  ["*", "any/thing/at/all", true],
  ["**", "any/thing", true],
  ["**/*.yaml", "x/y.yaml", true],
  ["**/*.yaml", "y.yaml", false],
  ["sub/*", "sub/a/b", true],
  ["sub/*", "other/sub/a", false],
  ["a*b", "a/x/b", true],
  // `?` is exactly one character, including `/`
  ["a?c", "abc", true],
  ["a?c", "a/c", true],
  ["a?c", "ac", false],
  ["?", "😀", true],
  // character classes
  ["[abc].txt", "b.txt", true],
  ["[abc].txt", "d.txt", false],
  ["[a-c]x", "bx", true],
  ["[a-c]x", "dx", false],
  ["[!a-c]x", "dx", true],
  ["[!a-c]x", "bx", false],
  ["[-a]", "-", true],
  ["[a\\-c]", "-", true],
  ["[a\\-c]", "b", false],
  // alternatives, also nested and with wildcards
  ["{a,b}.yaml", "a.yaml", true],
  ["{a,b}.yaml", "c.yaml", false],
  ["*.{yaml,yml}", "pods/x.yml", true],
  ["{pods/*,svc}.yaml", "pods/deep/x.yaml", true],
  ["{a,{b,c}d}", "cd", true],
  ["{a,{b,c}d}", "d", false],
  ["{,x}y", "y", true],
  // outside braces `}` and `,` are ordinary characters
  ["a},b", "a},b", true],
  // escapes and regex metacharacters are literal
  ["a\\*", "a*", true],
  ["a\\*", "ab", false],
  ["a.b", "axb", false],
  ["(x)+$", "(x)+$", true],
  ["x-y/z|w", "x-y/z|w", true],
];

describe("compileGlob (FetchIt / gobwas semantics without separators)", () => {
  for (const [pattern, path, expected] of cases) {
    test(`${pattern} ${expected ? "matches" : "does not match"} ${path}`, () => {
      expect(compileGlob(pattern)(path)).toBe(expected);
    });
  }

  test("absent, empty and all-star patterns match everything", () => {
    for (const p of [undefined, "", "*", "**", "***"]) {
      expect(compileGlob(p)("a/b/c.txt")).toBe(true);
      expect(compileGlob(p)("")).toBe(true);
    }
  });

  test("matching is anchored at both ends", () => {
    expect(matchGlob("a", "ba")).toBe(false);
    expect(matchGlob("a", "ab")).toBe(false);
  });

  test("a matcher is reusable", () => {
    const m = compileGlob("*.service");
    expect(["a.service", "x/b.service", "c.timer"].map(m)).toEqual([true, true, false]);
  });

  test("malformed patterns throw a message naming the pattern", () => {
    expect(() => compileGlob("[abc")).toThrow('invalid glob "[abc": unclosed [');
    expect(() => compileGlob("{a,b")).toThrow("unclosed {");
    expect(() => compileGlob("a\\")).toThrow("dangling");
  });

  test("translates to the expected regular expression", () => {
    expect(globToRegexSource("*.{yaml,yml}")).toBe(".*\\.(?:yaml|yml)");
  });
});
