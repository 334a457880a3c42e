/** `fetchit schema`: the config's JSON Schema, for editors (yaml-language-server). */
import { configJsonSchema } from "../config/index.ts";

export function schemaCommand(print: (line: string) => void): void {
  print(JSON.stringify(configJsonSchema(), null, 2));
}
