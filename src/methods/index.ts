/**
 * The static registry of methods (a compiled binary cannot discover modules at
 * run time). Kinds that the config accepts but that have no entry here are
 * reported as "not available yet" and never scheduled.
 */
import type { MethodKind } from "../config/types.ts";
import { ansible } from "./ansible.ts";
import { filetransfer } from "./filetransfer.ts";
import { kube } from "./kube.ts";
import { quadlet } from "./quadlet.ts";
import { raw } from "./raw.ts";
import { systemd } from "./systemd.ts";
import type { Method } from "./types.ts";

// biome-ignore lint: each entry is typed by its own config; the engine passes the matching entry.
export type AnyMethod = Method<any>;

export const methods: Partial<Record<MethodKind, AnyMethod>> = { raw, kube, filetransfer, ansible, systemd, quadlet };

export type { Method, MethodContext, DesiredFile, ApplyResult, FileFailure, Touched, HealthWindow } from "./types.ts";
