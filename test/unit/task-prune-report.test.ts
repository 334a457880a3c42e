import { describe, expect, test } from "bun:test";
import { pruneItems } from "../../src/podman/system.ts";
import { formatBytes, summarizePrune } from "../../src/tasks/prune.ts";

describe("prune report", () => {
  test("Podman 4 errors ({}), Podman 5 errors (strings) and null lists are normalised", () => {
    expect(pruneItems(null)).toEqual([]);
    expect(pruneItems([{ Id: "a", Size: 10 }, { Id: "b", Err: {} }, { Id: "c", Err: "in use", Size: 0 }, { Id: "d", Err: "" }, { Name: "net1", Error: null }])).toEqual([
      { id: "a", size: 10 },
      { id: "b", size: 0, error: "failed (Podman gave no reason)" },
      { id: "c", size: 0, error: "in use" },
      { id: "d", size: 0 },
      { id: "net1", size: 0 },
    ]);
  });

  test("summary counts what went (failures excluded) per kind and the bytes", () => {
    const s = summarizePrune({
      containers: [{ id: "c1", size: 1 }, { id: "c2", size: 1, error: "x" }],
      pods: [],
      images: [{ id: "i", size: 2_500_000 }],
      volumes: [{ id: "v", size: 0 }],
      networks: [],
      reclaimedBytes: 2_500_001,
    });
    expect(s.counts).toEqual({ containers: 1, pods: 0, images: 1, volumes: 1, networks: 0 });
    expect(s.removed).toBe(3);
    expect(s.text).toBe("removed 1 containers, 0 pods, 1 images, 1 volumes, 0 networks; reclaimed 2.5 MB");
  });

  test("bytes are printed like podman does (powers of 1000)", () => {
    expect([0, 999, 1000, 1536, 20_300_000, 1.2e9].map(formatBytes)).toEqual(["0 B", "999 B", "1.0 kB", "1.5 kB", "20.3 MB", "1.2 GB"]);
  });
});
