/**
 * Templates for fleets: Liquid (liquidjs) in strict mode. An undefined
 * variable or filter is an error naming it; templates cannot read files
 * (include/render/layout refused), run code or reach prototypes, and a
 * render is bounded in time and memory.
 */
import type { FS, Liquid } from "liquidjs";
import type { TemplateContext } from "./context.ts";

/** A template that cannot be rendered: what, where (line, column) and, for an undefined variable, its name. */
export class TemplateError extends Error {
  constructor(
    message: string,
    readonly line?: number,
    readonly column?: number,
    readonly variable?: string,
  ) {
    super(message);
    this.name = "TemplateError";
  }
}

const refuse = (): never => {
  throw new Error("templates cannot read files (include, render and layout are not available)");
};
const noFiles: FS = {
  exists: async () => false,
  existsSync: () => false,
  readFile: async () => refuse(),
  readFileSync: refuse,
  resolve: (_root: string, file: string) => file,
  contains: async () => false,
  containsSync: () => false,
  sep: "/",
};

let engine: Liquid | undefined;
/** Loaded on first use (require, not import): hosts with no template never pay for the library's memory. */
function liquid(): Liquid {
  const { Liquid: Engine } = require("liquidjs") as typeof import("liquidjs");
  engine ??= new Engine({
    strictVariables: true,
    strictFilters: true,
    ownPropertyOnly: true,
    lenientIf: true, // `{% if labels.x %}` and `| default:` work on undefined variables
    fs: noFiles,
    relativeReference: false,
    parseLimit: 1e6,
    renderLimit: 2000,
    memoryLimit: 1e7,
    cache: false,
  });
  return engine;
}

/** True when `text` holds Liquid markup ({{ … }} or {% … %}). */
export const isTemplate = (text: string): boolean => /\{\{|\{%/.test(text);

/** Renders `text` with the fleet context; throws TemplateError. */
export function renderTemplate(text: string, ctx: TemplateContext): string {
  try {
    return liquid().parseAndRenderSync(text, ctx as unknown as Record<string, unknown>);
  } catch (err) {
    throw toTemplateError(err);
  }
}

function toTemplateError(err: unknown): TemplateError {
  const e = err as Error & { token?: { getPosition?: () => [number, number] } };
  const pos = e.token?.getPosition?.();
  const bare = (e.message ?? String(err)).replace(/, line:\d+, col:\d+$/, "");
  const undef = /^undefined variable: (.+)$/.exec(bare);
  if (undef) {
    return new TemplateError(`undefined variable "${undef[1]}" (known: host, labels, values; set it as a label or value, or use | default: …)`, pos?.[0], pos?.[1], undef[1]);
  }
  return new TemplateError(bare, pos?.[0], pos?.[1]);
}

/** "line L, column C: message". */
export function describeTemplateError(err: TemplateError): string {
  return err.line ? `line ${err.line}, column ${err.column}: ${err.message}` : err.message;
}
