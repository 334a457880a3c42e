/** Version and commit: the commit is embedded by build.ts (`--define FETCHIT_COMMIT`); "dev" when run from source. */
import pkg from "../package.json" with { type: "json" };

declare const FETCHIT_COMMIT: string | undefined;

export const VERSION: string = pkg.version;
export const COMMIT: string = typeof FETCHIT_COMMIT === "string" ? FETCHIT_COMMIT : "dev";
