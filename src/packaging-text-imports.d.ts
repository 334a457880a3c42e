// Packaging files embedded into the binary for `fetchit install` (src/cli/install-units.ts):
// `import x from "../../packaging/…" with { type: "text" }`.
declare module "*.service" {
  const text: string;
  export default text;
}
declare module "*.yaml" {
  const text: string;
  export default text;
}
