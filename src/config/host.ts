/**
 * The top-level `host:` block (who this host is, for fleets) and the render
 * step that fills `{{ … }}` in every string under `targetConfigs` when the
 * config is loaded or reloaded. Not in FetchIt.
 */
import { Type } from "@sinclair/typebox";
import type { ConfigIssue } from "../errors.ts";
import { buildContext, type ContextSources, type HostBlock, type TemplateContext } from "../fleet/context.ts";
import { describeTemplateError, isTemplate, renderTemplate, TemplateError } from "../fleet/template.ts";
import { formatPath, isRecord, type Segment } from "./path.ts";
import { STRICT } from "./schema-methods.ts";

export const HostSchema = Type.Object(
  {
    labels: Type.Optional(
      Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]), {
        description:
          "Labels of this host for templates (`{{ labels.site }}`) and rollout waves (`wave`), e.g. {site: lab, wave: 0}. FETCHIT_LABEL_<key>=value in the environment adds or overrides one, so a baked image can keep one config for every host. Default: none.",
      }),
    ),
    valuesFile: Type.Optional(
      Type.String({
        description:
          "YAML file with values for templates (`{{ values.db.port }}`); FETCHIT_VALUE_<key>=value in the environment adds or overrides a top-level value. A missing file named here is an error; a relative path is resolved against the directory fetchit started in. Default: /etc/fetchit/values.yaml as root, ~/.fetchit/values.yaml otherwise, used when present.",
      }),
    ),
  },
  {
    ...STRICT,
    description:
      "Who this host is, for fleets: labels and values that templates (`{{ … }}` in every string under targetConfigs and in repository files ending in .tmpl) can use next to the host's facts (host.hostname, host.machineId, host.arch, host.os.id, host.os.versionId, host.user; `fetchit facts` prints them all). Not in FetchIt.",
  },
);

/** The template context for a (normalised) config document, with issues of its host block. */
export function configContext(doc: Record<string, unknown>, src: ContextSources): { context: TemplateContext; issues: ConfigIssue[] } {
  const block = isRecord(doc.host) ? (doc.host as HostBlock) : undefined;
  const labels = block && isRecord(block.labels) ? block.labels : undefined;
  const valuesFile = block && typeof block.valuesFile === "string" ? block.valuesFile : undefined;
  return buildContext({ labels, valuesFile }, src);
}

/**
 * Renders every string under `targetConfigs` that holds `{{ … }}` or `{% … %}`,
 * in place. Each failure is an issue at the string's path naming the variable.
 */
export function renderTargetConfigs(doc: Record<string, unknown>, ctx: TemplateContext): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const walk = (node: unknown, path: Segment[]): unknown => {
    if (typeof node === "string") {
      if (!isTemplate(node)) return node;
      try {
        return renderTemplate(node, ctx);
      } catch (err) {
        const msg = err instanceof TemplateError ? describeTemplateError(err) : String(err);
        issues.push({ path: formatPath(path), message: `template: ${msg}` });
        return node;
      }
    }
    if (Array.isArray(node)) return node.map((v, i) => walk(v, [...path, i]));
    if (isRecord(node)) {
      for (const [k, v] of Object.entries(node)) node[k] = walk(v, [...path, k]);
    }
    return node;
  };
  if (doc.targetConfigs !== undefined) doc.targetConfigs = walk(doc.targetConfigs, ["targetConfigs"]);
  return issues;
}
