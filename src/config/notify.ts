/**
 * The `notify:` list (webhooks; not in FetchIt): its schema and its rule.
 * Kept apart from schema.ts so the webhook feature reads as one piece.
 */
import { Type } from "@sinclair/typebox";
import type { ConfigIssue } from "../errors.ts";
import { formatPath, isRecord } from "./path.ts";
import { STRICT } from "./schema-methods.ts";
import type { FetchitConfig } from "./types.ts";

/** What a webhook can be sent for. */
export const NOTIFY_EVENTS = ["apply-succeeded", "apply-failed", "drift-repaired", "config-reload-rejected", "rolled_back", "rollback_failed"] as const;
export type NotifyEventName = (typeof NOTIFY_EVENTS)[number];

/** One `notify[]` entry. */
export const NotifyEntrySchema = Type.Object(
  {
    url: Type.String({ description: "http:// or https:// URL that receives a POST with a JSON body (event, host, target, method, commit, summary, time) for each event. Required." }),
    events: Type.Optional(
      Type.Array(Type.Union(NOTIFY_EVENTS.map((e) => Type.Literal(e))), {
        description:
          "Events sent to this URL: apply-succeeded (a new commit applied), apply-failed (an apply or fetch failed; sent once per distinct failure, not every retry), drift-repaired (self-heal recreated something), config-reload-rejected (a new config was invalid; the old one keeps running), rolled_back (a commit failed its health gate, the last good commit was re-applied and the commit quarantined), rollback_failed (the last good commit failed its gate too; things are left as they are). Default: all of them.",
      }),
    ),
    authEnv: Type.Optional(
      Type.String({
        description:
          "Name of an environment variable whose value is sent as the Authorization header (e.g. \"Bearer abc\"); the value never appears in logs or state. Default: none (no Authorization header).",
      }),
    ),
  },
  { ...STRICT, description: "A webhook receiving fetchit's events." },
);

export const NotifyListSchema = Type.Array(NotifyEntrySchema, {
  description:
    "Webhooks notified of applies, failures, drift repairs and rejected config reloads. Deliveries are queued (never delaying an apply), time out after 10 s and are retried after 1 s, 5 s and 30 s, then dropped with a warning. Default: none. Not in FetchIt (it has no notifications).",
});

/** Effective events of an entry: its list, else all. */
export function entryEvents(entry: { events?: readonly NotifyEventName[] }): readonly NotifyEventName[] {
  return entry.events?.length ? entry.events : NOTIFY_EVENTS;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Rule `notify-urls`: http(s) URLs that parse, env var names that can exist. */
export function notifyIssues(config: FetchitConfig): ConfigIssue[] {
  const list: unknown = config.notify;
  if (!Array.isArray(list)) return [];
  return list.flatMap((entry, i): ConfigIssue[] => {
    if (!isRecord(entry)) return [];
    const out: ConfigIssue[] = [];
    if (typeof entry.url === "string") {
      let ok = false;
      try {
        ok = ["http:", "https:"].includes(new URL(entry.url).protocol);
      } catch {}
      if (!ok) out.push({ path: formatPath(["notify", i, "url"]), message: `expected an http:// or https:// URL, got ${JSON.stringify(entry.url.replace(/\/\/[^/@]*@/, "//***@"))}` });
    }
    if (typeof entry.authEnv === "string" && !ENV_NAME.test(entry.authEnv)) {
      out.push({ path: formatPath(["notify", i, "authEnv"]), message: `expected the name of an environment variable (letters, digits, _), got ${JSON.stringify(entry.authEnv)}` });
    }
    return out;
  });
}
