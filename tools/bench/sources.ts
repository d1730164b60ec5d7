/**
 * `npm run bench:sources`: many DM sources switched by one `pulumi up`. Pulumi runs the sources' Vip
 * resources in parallel; each pauses its own tasks, checks the rule, moves its own VIP and resumes. The
 * figure per source is what its provider reports ("replication was paused for N ms", from the first pause
 * call until every task runs again, checks included), next to `pulumi up`'s wall time.
 *
 * The sandbox (MariaDB primary and replica, DM 1d4a644) keeps its own source with its tasks; every other
 * source is bound to its own new dm-worker (DM binds one source per worker), has one incremental task on
 * its own schema, and reads through its own HAProxy VIP (one HAProxy process per source, every one
 * forwarding to the same primary or replica): so each Vip resource moves its own VIP, as sources of
 * different replication sets would, while one pair of servers serves them all on this 2-core machine.
 * Each round switches every source to the replica and back. A write load runs on the sandbox's own task
 * schemas; every other source's schema gets one row before each `pulumi up`. Ends with downstream =
 * upstream for every schema (count and checksum) and the sandbox's sequence check (no row lost or
 * duplicated). Prints figures and one summary block; asserts nothing about times.
 *
 * Settings (environment): BENCH_SOURCES (sources in the stack, the sandbox's own included, default 20),
 * BENCH_ROUNDS (default 3), BENCH_LOAD_ROWS (rows/s on the sandbox's task schemas, default 100; 0: none),
 * SANDBOX_DM_RPC_RATE (dm-master's `rpc-rate-limit,rpc-rate-burst`, default DM's 10,40: every source's
 * reads and pause/resume calls share that bucket, so it bounds how fast many sources can switch).
 */
import * as path from "node:path";
import { startSandbox } from "../../sandbox";
import { VIP_BACKEND, VIP_SERVERS, haproxyDaemon, type SandboxHaproxy } from "../../sandbox/haproxy";
import { startLoad } from "../../sandbox/load";
import { freePort } from "../../sandbox/mariadb";
import { checkSequences, verifyReplicated } from "../../sandbox/verify";
import { sandboxConfig } from "../sandboxStack";
import {
    addSources,
    createSourcesStack,
    discardStack,
    dmVersion,
    environmentLine,
    figures,
    inBatches,
    intSetting,
    lastLines,
    ms,
    sleep,
    table,
} from "./common";

const SOURCES = intSetting("BENCH_SOURCES", 20, 2);
const ROUNDS = intSetting("BENCH_ROUNDS", 3);
const LOAD_ROWS = intSetting("BENCH_LOAD_ROWS", 100, 0);
/** The issue's target for each source in a many-source `pulumi up`. */
const TARGET_MS = 1000;
const log = (line: string) => console.log(line);

type Side = "primary" | "replica";

/** One `pulumi up`: paused time per source id and the wall time. */
interface Round {
    to: Side;
    wallMs: number;
    paused: Map<string, number>;
}

/** The per-source "replication was paused for N ms" lines of one `pulumi up`'s output. */
function pausedBySource(output: string): Map<string, number> {
    const out = new Map<string, number>();
    for (const m of output.matchAll(/dm-switch (\S+): replication was paused for (\d+) ms/g)) {
        out.set(m[1], Number(m[2]));
    }
    return out;
}

async function main(): Promise<void> {
    log(`bench:sources: ${SOURCES} sources in one stack, ${ROUNDS} rounds × 2 directions, load ${LOAD_ROWS} rows/s`);
    const sb = await startSandbox({});
    const vips: { h: SandboxHaproxy; port: number }[] = [];
    let extra: Awaited<ReturnType<typeof addSources>> | undefined;
    let stack: Awaited<ReturnType<typeof createSourcesStack>> | undefined;
    try {
        log(
            `sandbox up in ${(sb.startupMs / 1000).toFixed(1)} s; its source ${sb.source.id} has ${sb.tasks.length} tasks`,
        );
        const t0 = performance.now();
        await inBatches(
            Array.from({ length: SOURCES - 1 }, (_, k) => k),
            5,
            async (k) => {
                const port = await freePort();
                const h = haproxyDaemon({
                    dir: path.join(sb.dir, "bench-vips", `vip-${k + 1}`),
                    vipPort: port,
                    statsPort: await freePort(),
                    primaryPort: sb.primary.port,
                    replicaPort: sb.replica.port,
                });
                await h.proc.start();
                vips[k] = { h, port };
            },
        );
        log(`bench: ${SOURCES - 1} more HAProxy VIPs ready (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
        extra = await addSources(sb, SOURCES - 1, { log, via: (k) => ({ host: "127.0.0.1", port: vips[k].port }) });
        const byId = new Map(extra.sources.map((s, k) => [s.id, vips[k]]));
        const config = (ids: string[], reads: Side) => {
            const one = sandboxConfig(sb, { mode: "vip", reads });
            const [source] = one["dm-switch:sources"] as Record<string, unknown>[];
            const sources = ids.map((id) => {
                const v = byId.get(id);
                return v === undefined
                    ? source
                    : {
                          ...source,
                          id,
                          vip: {
                              address: { host: "127.0.0.1", port: v.port },
                              haproxy: { socket: v.h.socket, backend: VIP_BACKEND, servers: { ...VIP_SERVERS } },
                          },
                      };
            });
            return { ...one, "dm-switch:sources": sources };
        };
        const ids = [sb.source.id, ...extra.sources.map((s) => s.id)];
        stack = await createSourcesStack(sb, ids, "primary", config);
        const adopt = await stack.run(["up", "--yes", "--skip-preview"]);
        if (adopt.code !== 0) {
            throw new Error(`the first pulumi up (adopting ${SOURCES} sources) failed:\n${lastLines(adopt.output)}`);
        }
        log(`first pulumi up (adopts ${SOURCES} sources and VIPs, nothing paused): ${adopt.ms} ms`);

        const load = LOAD_ROWS > 0 ? startLoad(sb, { rowsPerSec: LOAD_ROWS, via: "primary" }) : undefined;
        const rounds: Round[] = [];
        let marker = 0;
        let verdict = "";
        try {
            await sleep(1000);
            for (let round = 1; round <= ROUNDS; round++) {
                for (const to of ["replica", "primary"] as const) {
                    // A row per extra schema, so each source has something to replicate across the switch.
                    marker++;
                    await inBatches(extra.sources, 10, (s) =>
                        sb.primary.query(
                            `INSERT INTO \`${s.schema}\`.t (id, seq, payload) VALUES (${marker}, ${marker}, 'bench:sources')`,
                        ),
                    );
                    stack.configure(ids, to);
                    const r = await stack.run(["up", "--yes", "--skip-preview"]);
                    if (r.code !== 0) {
                        throw new Error(
                            `pulumi up switching to ${to} failed (exit ${r.code}):\n${lastLines(r.output)}`,
                        );
                    }
                    const paused = pausedBySource(r.output);
                    const missing = ids.filter((id) => !paused.has(id));
                    if (missing.length > 0) {
                        throw new Error(
                            `pulumi up switching to ${to} printed no paused time for ${missing.join(", ")}:\n${lastLines(r.output)}`,
                        );
                    }
                    const wrong = [
                        ...((await sb.vipTarget()) === to ? [] : [sb.source.id]),
                        ...(
                            await inBatches(extra.sources, 10, async (s) =>
                                (await byId.get(s.id)!.h.vip.current()) === to ? [] : [s.id],
                            )
                        ).flat(),
                    ];
                    if (wrong.length > 0) {
                        throw new Error(
                            `after pulumi up switched to ${to}, the VIP of ${wrong.join(", ")} points elsewhere`,
                        );
                    }
                    rounds.push({ to, wallMs: r.ms, paused });
                    const f = figures([...paused.values()]);
                    log(
                        `round ${round} → ${to.padEnd(7)} pulumi up ${ms(r.ms)} ms; paused per source min ${ms(f.min)}, median ${ms(f.median)}, max ${ms(f.max)} ms`,
                    );
                    await sleep(1000);
                }
            }
        } finally {
            const written = await load?.stop();
            const parts: string[] = [];
            if (written) {
                const v = await verifyReplicated(sb, { timeoutMs: 60_000 });
                const lastSeq = Object.fromEntries(Object.entries(written.schemas).map(([s, l]) => [s, l.lastSeq]));
                const seqs = Object.values(await checkSequences(sb, { expectedLastSeq: lastSeq }));
                const lost = seqs.reduce((n, s) => n + s.missing, 0);
                const dup = seqs.reduce((n, s) => n + s.duplicates, 0);
                parts.push(
                    `${sb.source.id}: ${written.written} rows written; ${v.equal ? "downstream = upstream (count + checksum)" : "downstream DIFFERS from upstream"}; ${lost} rows lost, ${dup} duplicated`,
                );
            }
            // The other sources' schemas, compared as the sandbox's own (count and checksum of every table).
            const others = await verifyReplicated(sb, {
                upstream: "primary",
                schemas: extra.sources.map((s) => s.schema),
                timeoutMs: 60_000,
            });
            const differ = Object.entries(others.schemas)
                .filter(([, v]) => !v.equal)
                .map(([schema]) => schema);
            parts.push(
                `the ${extra.sources.length} other sources: ${marker} rows each; ${differ.length === 0 ? "downstream = upstream in every schema (count + checksum)" : `downstream DIFFERS in ${differ.join(", ")}`}`,
            );
            verdict = parts.join("; ");
        }
        console.log(`\n${summary(rounds, ids, dmVersion(sb.dm.dmctlPath), verdict).join("\n")}`);
    } finally {
        if (stack) discardStack(stack);
        await extra?.stop().catch((e: Error) => log(`stopping the extra dm-workers: ${e.message}`));
        await inBatches(vips.filter(Boolean), 10, (v) => v.h.proc.stop()).catch((e: Error) =>
            log(`stopping the extra HAProxy VIPs: ${e.message}`),
        );
        await sb.stop();
    }
}

function summary(rounds: Round[], ids: string[], dm: string, verdict: string): string[] {
    const all = rounds.flatMap((r) => [...r.paused.values()]);
    const perSourceMax = ids.map((id) => Math.max(...rounds.map((r) => r.paused.get(id) ?? NaN)));
    const over = ids.filter((_, i) => perSourceMax[i] > TARGET_MS);
    const f = figures(all);
    const w = figures(rounds.map((r) => r.wallMs));
    const rows: (string | number)[][] = [
        ["measure", "n", "min", "median", "max"],
        ["replication paused, per source per switch", f.n, ms(f.min), ms(f.median), ms(f.max)],
        ["pulumi up wall time (all sources)", w.n, ms(w.min), ms(w.median), ms(w.max)],
    ];
    return [
        "==== bench:sources summary ====",
        environmentLine(),
        `${ids.length} DM sources (MariaDB, DM ${dm}), each in VIP mode behind its own HAProxy, switched together by one pulumi up; ${rounds.length} ups (${ROUNDS} rounds × 2 directions), load ${LOAD_ROWS} rows/s.`,
        `dm-master rpc-rate-limit,rpc-rate-burst: ${process.env.SANDBOX_DM_RPC_RATE || "10,40 (DM's defaults)"}.`,
        ...table(rows),
        `each source paused ≤ ${TARGET_MS} ms in every switch: ${over.length === 0 ? "met" : `not met (${over.length} sources went over: ${over.join(", ")})`}; the slowest source's worst switch ${ms(Math.max(...perSourceMax))} ms`,
        `downstream: ${verdict}`,
        "==== end ====",
    ];
}

main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
});
