// Files embedded into the binary with `import x from "./file" with { type: "text" }`.
declare module "*.txt" {
  const text: string;
  export default text;
}
declare module "*.conf" {
  const text: string;
  export default text;
}
