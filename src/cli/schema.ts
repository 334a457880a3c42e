/** `fetchit schema`: the config's JSON Schema for editors (yaml-language-server), or `--markdown` for the reference table in docs/config-reference.md. */
import { configJsonSchema, configReferenceMarkdown } from "../config/index.ts";

export function schemaCommand(opts: { markdown?: boolean }, print: (line: string) => void): void {
  print(opts.markdown ? configReferenceMarkdown() : JSON.stringify(configJsonSchema(), null, 2));
}
