/**
 * `npm run bench:switch`: how long replication is paused when a DM source switches instances in VIP
 * mode, dm-switch's `pulumi up` next to a bash script doing DM's VIP procedure with dmctl and HAProxy's
 * socket (tools/bench/switch-dmctl.sh), on the same sandbox in the same run, under a light write load.
 *
 * Both are measured the same way, from the first pause call until every task is Running again: dm-switch's
 * provider reports it ("replication was paused for N ms", its checks included); the script times itself.
 * `pulumi up`'s wall time (engine, program, provider start) is printed too. Each round switches to the
 * replica and back with each tool, the tool going first alternating between rounds; the stack's state and
 * HAProxy agree after every pair. Ends with downstream = upstream (count and checksum) and no row lost or
 * duplicated. Prints figures and one summary block; asserts nothing about times.
 *
 * Settings (environment): BENCH_TASKS (task counts, default "2,10,50": one sandbox each), BENCH_ROUNDS
 * (default 5), BENCH_LOAD_ROWS (rows/s written to the primary during the rounds, default 100; 0: none),
 * BENCH_FLAVORS (the sandbox's upstream servers, default "mariadb,mysql": MariaDB and MySQL ≥ 8.4 in the
 * same run, one sandbox per flavour and task count; MySQL is read by DM 2409e0b).
 */
import { spawn } from "node:child_process";
import * as path from "node:path";
import { startSandbox, type Sandbox } from "../../sandbox";
import { startLoad } from "../../sandbox/load";
import { checkSequences, verifyReplicated } from "../../sandbox/verify";
import { createSandboxStack } from "../sandboxStack";
import {
    discardStack,
    dmVersion,
    environmentLine,
    figures,
    Figures,
    intListSetting,
    intSetting,
    lastLines,
    ms,
    sleep,
    table,
} from "./common";

const TASK_COUNTS = intListSetting("BENCH_TASKS", [2, 10, 50]);
const ROUNDS = intSetting("BENCH_ROUNDS", 5);
const LOAD_ROWS = intSetting("BENCH_LOAD_ROWS", 100, 0);
const FLAVORS = flavorsSetting();

/** BENCH_FLAVORS: a comma-separated list of "mariadb" and "mysql". @default ["mariadb", "mysql"] */
function flavorsSetting(): ("mariadb" | "mysql")[] {
    const raw = process.env.BENCH_FLAVORS;
    if (raw === undefined || raw.trim() === "") {
        return ["mariadb", "mysql"];
    }
    const list = raw.split(",").map((s) => s.trim());
    const bad = list.filter((s) => s !== "mariadb" && s !== "mysql");
    if (bad.length > 0) {
        throw new Error(
            `BENCH_FLAVORS=${raw}: ${bad.join(", ")} is not a flavour; write mariadb, mysql or "mariadb,mysql".`,
        );
    }
    return list as ("mariadb" | "mysql")[];
}
const SCRIPT = path.join(__dirname, "switch-dmctl.sh");
/** After each switch, so the next starts from steady replication. */
const SETTLE_MS = 1000;
/** The VIP plan's steps (components/switch/plan.ts planVipSwitch), for the breakdown. */
const DM_SWITCH_STEPS = [
    "pause-task",
    "await-paused",
    "check-rule",
    "move-vip",
    "verify-vip",
    "resume-task",
    "await-running",
    "confirm-reading",
];
const SCRIPT_STEPS = ["pause-task", "await-paused", "move-vip", "resume-task", "await-running"];
/**
 * Paused medians targeted for one source (2 tasks ≤ 100 ms, 10 ≤ 250 ms, 50 ≤ 1 s: the status of every task is read
 * in one dm-worker request), besides the first issue's < 2 s and ≤ 1.2× the script.
 */
const TARGET_MS: Record<number, number> = { 2: 100, 10: 250, 50: 1000 };

interface Sample {
    pausedMs: number;
    wallMs: number;
    steps: Record<string, number>;
}

interface Result {
    tasks: number;
    /** The upstream servers: "MariaDB 10.11.…", "MySQL 9.7.4-2". */
    server: string;
    /** DM's release version in the sandbox. */
    dm: string;
    dmSwitch: Sample[];
    script: Sample[];
    rowsWritten: number;
    verdict: string;
}

const log = (line: string) => console.log(line);

async function dmSwitchOnce(
    stack: Awaited<ReturnType<typeof createSandboxStack>>,
    to: "primary" | "replica",
): Promise<Sample> {
    stack.configure({ mode: "vip", reads: to });
    const r = await stack.run(["up", "--yes", "--skip-preview"]);
    if (r.code !== 0) {
        throw new Error(`pulumi up switching to ${to} failed (exit ${r.code}):\n${lastLines(r.output)}`);
    }
    const paused = /replication was paused for (\d+) ms/.exec(r.output);
    if (!paused) {
        throw new Error(
            `pulumi up switching to ${to} printed no "replication was paused for N ms":\n${lastLines(r.output)}`,
        );
    }
    const steps: Record<string, number> = {};
    for (const m of r.output.matchAll(/step (\d+)\/(\d+) done in (\d+) ms/g)) {
        const name =
            Number(m[2]) === DM_SWITCH_STEPS.length ? DM_SWITCH_STEPS[Number(m[1]) - 1] : `step ${m[1]}/${m[2]}`;
        steps[name] = Number(m[3]);
    }
    return { pausedMs: Number(paused[1]), wallMs: r.ms, steps };
}

function scriptOnce(sb: Sandbox, from: "primary" | "replica", to: "primary" | "replica"): Promise<Sample> {
    const env = {
        ...process.env,
        DMCTL: sb.dm.dmctlPath,
        DM_MASTER_ADDR: sb.dm.masterAddr,
        DM_SOURCE: sb.source.id,
        DM_TASKS: sb.tasks.map((t) => t.name).join(" "),
        HAPROXY_SOCKET: sb.vip.haproxySocket,
        HAPROXY_BACKEND: sb.vip.backend,
    };
    const t0 = performance.now();
    return new Promise((resolve, reject) => {
        const child = spawn("bash", [SCRIPT, "--from", sb.vip.servers[from], "--to", sb.vip.servers[to]], {
            env,
            stdio: ["ignore", "pipe", "pipe"],
        });
        let out = "";
        child.stdout.on("data", (d: Buffer) => (out += d));
        child.stderr.on("data", (d: Buffer) => (out += d));
        child.on("error", (e) => reject(new Error(`cannot run bash ${SCRIPT}: ${e.message}`)));
        child.on("close", (code) => {
            const wallMs = performance.now() - t0;
            const paused = /^paused_ms=(\d+)$/m.exec(out);
            if (code !== 0 || !paused) {
                return reject(new Error(`${SCRIPT} switching to ${to} failed (exit ${code}):\n${lastLines(out)}`));
            }
            const steps = Object.fromEntries(
                [...out.matchAll(/^step (\S+) (\d+) ms$/gm)].map((m) => [m[1], Number(m[2])]),
            );
            resolve({ pausedMs: Number(paused[1]), wallMs, steps });
        });
    });
}

async function benchTasks(tasks: number, flavor: "mariadb" | "mysql"): Promise<Result> {
    log(`\n== ${flavor}, ${tasks} tasks: starting a sandbox`);
    const sb = await startSandbox({ tasks, flavor });
    let stack: Awaited<ReturnType<typeof createSandboxStack>> | undefined;
    try {
        log(
            `sandbox up in ${(sb.startupMs / 1000).toFixed(1)} s; source ${sb.source.id} with tasks ${sb.tasks.map((t) => t.name).join(", ")}`,
        );
        stack = await createSandboxStack(sb, { mode: "vip", reads: "primary" });
        const adopt = await stack.run(["up", "--yes", "--skip-preview"]);
        if (adopt.code !== 0) {
            throw new Error(
                `the first pulumi up (adopting the source and the VIP) failed:\n${lastLines(adopt.output)}`,
            );
        }
        log(`first pulumi up (adopts the source and the VIP, nothing paused): ${adopt.ms} ms`);
        const load = LOAD_ROWS > 0 ? startLoad(sb, { rowsPerSec: LOAD_ROWS, via: "primary" }) : undefined;
        const version = String((await sb.primary.query("SELECT @@version AS v"))[0].v);
        const result: Result = {
            tasks,
            server: `${flavor === "mysql" ? "MySQL" : "MariaDB"} ${version}`,
            dm: dmVersion(sb.dm.dmctlPath),
            dmSwitch: [],
            script: [],
            rowsWritten: 0,
            verdict: "",
        };
        try {
            await sleep(SETTLE_MS);
            for (let round = 1; round <= ROUNDS; round++) {
                const order = round % 2 === 1 ? (["dm-switch", "script"] as const) : (["script", "dm-switch"] as const);
                for (const tool of order) {
                    for (const [from, to] of [
                        ["primary", "replica"],
                        ["replica", "primary"],
                    ] as const) {
                        const s = tool === "dm-switch" ? await dmSwitchOnce(stack, to) : await scriptOnce(sb, from, to);
                        const now = await sb.vipTarget();
                        if (now !== to) {
                            throw new Error(`after ${tool} switched to ${to} the VIP points at ${now ?? "no server"}`);
                        }
                        (tool === "dm-switch" ? result.dmSwitch : result.script).push(s);
                        log(
                            `round ${round} ${tool.padEnd(9)} → ${to.padEnd(7)} paused ${String(s.pausedMs).padStart(5)} ms, wall ${ms(s.wallMs).padStart(5)} ms`,
                        );
                        await sleep(SETTLE_MS);
                    }
                }
            }
        } finally {
            const written = await load?.stop();
            result.rowsWritten = written?.written ?? 0;
            if (written) {
                const v = await verifyReplicated(sb, { timeoutMs: 60_000 });
                const lastSeq = Object.fromEntries(Object.entries(written.schemas).map(([s, l]) => [s, l.lastSeq]));
                const seqs = Object.values(await checkSequences(sb, { expectedLastSeq: lastSeq }));
                const lost = seqs.reduce((n, s) => n + s.missing, 0);
                const dup = seqs.reduce((n, s) => n + s.duplicates, 0);
                result.verdict = `${v.equal ? "downstream = upstream (count + checksum)" : "downstream DIFFERS from upstream"}; ${lost} rows lost, ${dup} duplicated downstream`;
            } else {
                result.verdict = "no load (BENCH_LOAD_ROWS=0): nothing verified";
            }
        }
        return result;
    } finally {
        if (stack) {
            discardStack(stack);
        }
        await sb.stop();
    }
}

function breakdown(samples: Sample[], steps: string[]): string {
    return steps
        .map((s) => `${s} ${ms(figures(samples.map((x) => x.steps[s] ?? NaN).filter(Number.isFinite)).median)}`)
        .join(", ");
}

function summary(results: Result[]): string[] {
    const rows: (string | number)[][] = [["upstream", "tasks", "measure", "n", "min", "median", "max"]];
    let server = "";
    const row = (tasks: number, what: string, f: Figures) =>
        rows.push([server, tasks, what, f.n, ms(f.min), ms(f.median), ms(f.max)]);
    const verdicts: string[] = [];
    for (const r of results) {
        server = r.server.split(" ").slice(0, 2).join(" ");
        const dm = figures(r.dmSwitch.map((s) => s.pausedMs));
        const sc = figures(r.script.map((s) => s.pausedMs));
        row(r.tasks, "dm-switch: replication paused", dm);
        row(r.tasks, "dm-switch: pulumi up wall time", figures(r.dmSwitch.map((s) => s.wallMs)));
        row(r.tasks, "dmctl script: replication paused", sc);
        row(r.tasks, "dmctl script: wall time", figures(r.script.map((s) => s.wallMs)));
        const ratio = dm.median / sc.median;
        const target = TARGET_MS[r.tasks];
        verdicts.push(
            `${r.server}, DM ${r.dm}, ${r.tasks} tasks: paused, median dm-switch / script = ${ratio.toFixed(2)}× (issue: ≤ 1.2×: ${ratio <= 1.2 ? "met" : "not met"}); ` +
                `dm-switch median ${ms(dm.median)} ms (issue < 2000 ms: ${dm.median < 2000 ? "met" : "not met"}` +
                `${target ? `; target ≤ ${target} ms: ${dm.median <= target ? "met" : "not met"}` : ""}); max ${ms(dm.max)} ms`,
            `  dm-switch steps (median ms): ${breakdown(r.dmSwitch, DM_SWITCH_STEPS)}`,
            `  script steps (median ms):    ${breakdown(r.script, SCRIPT_STEPS)}`,
            `  under load: ${r.rowsWritten} rows written at ${LOAD_ROWS} rows/s during the rounds; ${r.verdict}`,
        );
    }
    return [
        "==== bench:switch summary ====",
        environmentLine(),
        `VIP switch of one DM source (sandbox: ${[...new Set(results.map((r) => `${r.server} read by DM ${r.dm}`))].join("; ")}; HAProxy), ${ROUNDS} rounds × 2 directions per tool, alternating which tool goes first.`,
        "replication paused = first pause call → every task Running again (dm-switch: as its provider reports it, checks included).",
        ...table(rows),
        ...verdicts,
        "==== end ====",
    ];
}

async function main(): Promise<void> {
    log(
        `bench:switch: ${FLAVORS.join(" and ")}; ${TASK_COUNTS.join(" and ")} tasks, ${ROUNDS} rounds, load ${LOAD_ROWS} rows/s`,
    );
    const results: Result[] = [];
    for (const flavor of FLAVORS) {
        for (const n of TASK_COUNTS) {
            results.push(await benchTasks(n, flavor));
        }
    }
    console.log(`\n${summary(results).join("\n")}`);
}

main().catch((err: Error) => {
    console.error(`bench:switch failed: ${err.message}`);
    process.exitCode = 1;
});
