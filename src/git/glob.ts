/**
 * Glob matching with FetchIt's semantics: gobwas/glob compiled WITHOUT
 * separators, so `*` (and `**`) match any run of characters including `/`.
 * `*.json` therefore matches `sub/a.json`, as it does in FetchIt.
 *
 * Supported syntax: `*`, `**`, `?` (any one character), `[abc]`, `[a-z]`,
 * `[!abc]` (negation, gobwas style), `{a,b*,c{d,e}}` (alternatives, nestable),
 * and `\x` to match `x` literally. Outside braces, `}` and `,` are ordinary
 * characters. Pure functions, no I/O.
 */

/** Tests one path (relative to the method's targetPath) against a compiled glob. */
export type GlobMatcher = (path: string) => boolean;

/**
 * Compiles `pattern` into a matcher. An empty or absent pattern and `**`
 * match everything (FetchIt's default glob is `**`).
 * @throws Error when the pattern is malformed (unclosed `[` or `{`, dangling `\`).
 */
export function compileGlob(pattern: string | undefined): GlobMatcher {
  if (pattern === undefined || pattern === "" || /^\*+$/.test(pattern)) return () => true;
  const re = new RegExp(`^${globToRegexSource(pattern)}$`, "su");
  return (path) => re.test(path);
}

/** True when `path` matches `pattern` (compiles on every call; prefer {@link compileGlob} in loops). */
export function matchGlob(pattern: string | undefined, path: string): boolean {
  return compileGlob(pattern)(path);
}

/** Translates a glob into the source of an equivalent (unanchored) regular expression. */
export function globToRegexSource(pattern: string): string {
  return new GlobParser(pattern).parseSequence(false);
}

function globError(pattern: string, why: string): Error {
  return new Error(`invalid glob ${JSON.stringify(pattern)}: ${why}`);
}

function escapeRegex(ch: string): string {
  return ch.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&");
}

function escapeClassChar(ch: string): string {
  return ch.replace(/[\\\]\[^-]/g, "\\$&");
}

class GlobParser {
  pos = 0;
  constructor(private readonly pattern: string) {}

  /** Parses until the end, or (inside braces) until an unnested `,` or `}`. */
  parseSequence(inBraces: boolean): string {
    let out = "";
    while (this.pos < this.pattern.length) {
      const ch = this.pattern[this.pos]!;
      if (inBraces && (ch === "," || ch === "}")) return out;
      this.pos++;
      out += this.parseToken(ch);
    }
    return out;
  }

  private parseToken(ch: string): string {
    switch (ch) {
      case "*":
        while (this.pattern[this.pos] === "*") this.pos++;
        return ".*";
      case "?":
        return ".";
      case "[":
        return this.parseClass();
      case "{":
        return this.parseAlternatives();
      case "\\":
        return escapeRegex(this.takeEscaped());
      default:
        return escapeRegex(ch);
    }
  }

  private takeEscaped(): string {
    const next = this.pattern[this.pos];
    if (next === undefined) throw globError(this.pattern, "dangling \\ at end");
    this.pos++;
    return next;
  }

  /** `[abc]`, `[a-z]`, `[!abc]`; called after the `[`. */
  private parseClass(): string {
    let negate = false;
    if (this.pattern[this.pos] === "!") {
      negate = true;
      this.pos++;
    }
    let body = "";
    let first = true;
    for (;;) {
      const ch = this.pattern[this.pos];
      if (ch === undefined) throw globError(this.pattern, "unclosed [");
      this.pos++;
      if (ch === "]" && !first) break;
      const isRange = ch === "-" && !first && this.pattern[this.pos] !== "]";
      body += isRange ? "-" : escapeClassChar(ch === "\\" ? this.takeEscaped() : ch);
      first = false;
    }
    return negate ? `[^${body}]` : `[${body}]`;
  }

  /** `{a,b,c}`; called after the `{`. Alternatives may contain any glob syntax. */
  private parseAlternatives(): string {
    const alternatives: string[] = [];
    for (;;) {
      alternatives.push(this.parseSequence(true));
      const ch = this.pattern[this.pos];
      if (ch === undefined) throw globError(this.pattern, "unclosed {");
      this.pos++;
      if (ch === "}") break;
    }
    return `(?:${alternatives.join("|")})`;
  }
}
