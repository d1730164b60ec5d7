/**
 * `npm run bench:preview`: what the policy pack costs. `pulumi preview --policy-pack policies` of this
 * project's stack declaring 1, 10 and 50 DM sources, next to the same stack previewed without the pack
 * and to an empty program, in one run against one sandbox.
 *
 * The setup makes every check do its real work: each source is bound to its own dm-worker and has a
 * Running incremental task (a source without a worker has no task, and the pack then checks no GTID
 * rule for it: printed at start), all reading through the sandbox's HAProxy VIP from its MariaDB primary.
 * Each source is a SourceBinding and a Vip; the pack checks both: DM's source and task status, a probe of
 * the target and of the VIP. The previewed change switches every source to the replica (healthy, so the
 * pack passes). Rounds rotate the four previews; after them a preview with the replica stopped and lagging
 * must report every source, which shows each check read live state.
 *
 * Settings (environment): BENCH_SOURCES (default "1,10,50"), BENCH_ROUNDS (default 3), BENCH_PACK (another
 * policy pack folder, e.g. one whose policies do nothing, to see what the engine alone costs per resource;
 * default this project's policies/). Prints figures
 * and one summary block; asserts nothing about times.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { preflight } from "../../components/preflight";
import { pollUntil } from "../../components/util/poll";
import { Outcome, outcomeOfSubject, resetStartedChecks } from "../../policies/run";
import { DM_SWITCH_TYPES, isUnprovable, subjectOf } from "../../policies/subject";
import { startSandbox, type Sandbox } from "../../sandbox";
import { createDmClient } from "../../components/dm";
import { createTempStack, PulumiResult, TempStack } from "../pulumiCli";
import { PROJECT_DIR } from "../sandboxStack";
import {
    addSources,
    createSourcesStack,
    discardStack,
    dmVersion,
    emptyProject,
    environmentLine,
    cpuShare,
    ExtraSources,
    figures,
    intListSetting,
    intSetting,
    lastLines,
    ms,
    rssMb,
    sleep,
    table,
} from "./common";

/** Ascending: the one stack grows from size to size (shrinking it would ask DM to drop sources with tasks). */
const SIZES = intListSetting("BENCH_SOURCES", [1, 10, 50]).sort((a, b) => a - b);
const ROUNDS = intSetting("BENCH_ROUNDS", 3);
const PACK = process.env.BENCH_PACK ?? path.join(PROJECT_DIR, "policies");
const log = (line: string) => console.log(line);
/** "1 source", "10 sources". */
const sourcesLabel = (n: number) => `${n} source${n === 1 ? "" : "s"}`;

/** Preview times by label ("empty, pack", "50 sources, no pack", …). */
const times = new Map<string, number[]>();

/** At most four seconds a source (the default five minutes did not hold 200 sources under load). */
const timeoutFor = (sources: number) => ({ timeoutMs: Math.max(300_000, sources * 4000) });

function preview(stack: TempStack, withPack: boolean, sources = 0): Promise<PulumiResult> {
    return stack.run(["preview", ...(withPack ? ["--policy-pack", PACK] : [])], timeoutFor(sources));
}

async function timed(stack: TempStack, label: string, withPack: boolean, sources: number): Promise<void> {
    const r = await preview(stack, withPack, sources);
    if (r.code !== 0 || /\[mandatory\]/.test(r.output)) {
        throw new Error(`pulumi preview (${label}) failed (exit ${r.code}):\n${lastLines(r.output)}`);
    }
    times.set(label, [...(times.get(label) ?? []), r.ms]);
    log(`preview ${label.padEnd(24)} ${String(r.ms).padStart(6)} ms`);
}

/** What the pack's check does for a source DM knows but cannot bind (no free dm-worker): printed, one line. */
async function unboundSource(sb: Sandbox): Promise<string> {
    const dm = createDmClient({ transport: "openapi", address: sb.dm.masterAddr, dmctlPath: sb.dm.dmctlPath });
    const id = "bench-unbound";
    const endpoint = { user: sb.source.user, password: sb.source.password };
    await dm.createSource({
        id,
        host: sb.vip.host,
        port: sb.vip.port,
        ...endpoint,
        flavor: "mariadb",
        enableGtid: true,
    });
    try {
        const info = await dm.getSource(id);
        const report = await preflight({
            dm: { address: sb.dm.masterAddr, transport: "openapi" },
            sourceId: id,
            flavor: "mariadb",
            target: { name: "replica", host: "127.0.0.1", port: sb.replica.port, ...endpoint },
            current: { name: "the VIP", host: sb.vip.host, port: sb.vip.port, ...endpoint },
        });
        return (
            `a source with no dm-worker (${id}): DM lists worker ${info?.worker ?? "none"} and ${info?.taskNames.length ?? 0} tasks; ` +
            `the check probes the target and the VIP, applies the GTID rule to ${report.tasks.length} tasks and says ok=${report.ok}`
        );
    } finally {
        await dm.stopSource(id);
    }
}

/**
 * The checks the pack runs for `ids` — a Vip and a SourceBinding per source, built from their inputs as
 * policies/subject.ts reads them and run by policies/run.ts as in a preview (sharing DM reads and probes)
 * — all at once in this process, without Pulumi: what the checks themselves cost. Returns the time until
 * all settled and why any did not pass (one entry per check).
 */
async function directChecks(sb: Sandbox, ids: string[]): Promise<{ ms: number; failed: string[] }> {
    const inputs = {
        dm: { address: sb.dm.masterAddr, transport: "openapi", dmctlPath: sb.dm.dmctlPath },
        flavor: "mariadb",
        user: sb.source.user,
        password: sb.source.password,
    };
    const vip = { host: sb.vip.host, port: sb.vip.port };
    const instances = {
        primary: { host: "127.0.0.1", port: sb.primary.port },
        replica: { host: "127.0.0.1", port: sb.replica.port },
    };
    const subjects = ids.flatMap((sourceId) => [
        subjectOf(DM_SWITCH_TYPES.Vip, `${sourceId}-vip`, {
            ...inputs,
            sourceId,
            instances,
            target: "replica",
            address: vip,
        }),
        subjectOf(DM_SWITCH_TYPES.SourceBinding, `${sourceId}-binding`, {
            ...inputs,
            sourceId,
            instance: "primary",
            ...vip,
        }),
    ]);
    const dryRun = process.env.PULUMI_NODEJS_DRY_RUN;
    process.env.PULUMI_NODEJS_DRY_RUN = "true";
    resetStartedChecks();
    try {
        const t0 = performance.now();
        const outcomes = await Promise.all(
            subjects.map((s) =>
                !s || isUnprovable(s) ? Promise.resolve<Outcome>({ unprovable: s! }) : outcomeOfSubject(s),
            ),
        );
        const took = performance.now() - t0;
        const failed = outcomes.flatMap((o) =>
            "unprovable" in o
                ? [`${o.unprovable.resource}: ${o.unprovable.why}`]
                : !o.report.ok || o.report.tasks.length === 0
                  ? [`${o.subject.resource} → ${o.subject.target}: ${o.report.reasons.join(" ") || "no task checked"}`]
                  : [],
        );
        return { ms: took, failed };
    } finally {
        resetStartedChecks();
        if (dryRun === undefined) delete process.env.PULUMI_NODEJS_DRY_RUN;
        else process.env.PULUMI_NODEJS_DRY_RUN = dryRun;
    }
}

/**
 * DM's task-status over the OpenAPI, one task after another once dm-master's bucket of worker requests
 * has refilled (`rpc-rate-limit` 10 a second, `rpc-rate-burst` 40), and the one read of every source's
 * configuration and tasks the pack makes instead of a status read per source. One line.
 */
async function statusCalls(sb: Sandbox, tasks: { task: string; source: string }[]): Promise<string> {
    const dm = createDmClient({ transport: "openapi", address: sb.dm.masterAddr });
    await sleep(5000);
    const one: number[] = [];
    for (const t of tasks) {
        const t0 = performance.now();
        await dm.taskStatus(t.task, t.source);
        one.push(performance.now() - t0);
    }
    const t0 = performance.now();
    const configs = await dm.listSourceConfigs();
    const list = performance.now() - t0;
    const [first, rest] = [one.slice(0, 40), one.slice(40)];
    return (
        `DM query-status over the OpenAPI, ${tasks.length} tasks on ${tasks.length} workers one after another after a 5 s rest: ` +
        `median ${ms(figures(first).median)} ms for the first ${first.length}` +
        (rest.length > 0 ? `, ${ms(figures(rest).median)} ms for the other ${rest.length}` : "") +
        ` (dm-master lets 10 worker requests a second through after a burst of 40); ` +
        `the configuration and tasks of all ${configs.length} sources, which asks no worker: ${ms(list)} ms`
    );
}

/** The replica stopped and behind DM: a preview with the pack must name every source. Returns a summary line. */
async function laggingReplica(
    sb: Sandbox,
    stack: TempStack,
    schemas: string[],
    tasks: { task: string; source: string }[],
): Promise<string> {
    const dm = createDmClient({ transport: "openapi", address: sb.dm.masterAddr });
    const seqOf = async (q: Sandbox["primary"]) =>
        Number(String((await q.query("SELECT @@GLOBAL.gtid_binlog_pos AS g"))[0].g).split("-")[2]);
    const packConfig = path.join(stack.stateDir, "policy-config.json");
    fs.writeFileSync(packConfig, JSON.stringify({ "dm-gtid-containment": { catchUpTimeoutMs: 0 } }));
    await sb.replica.query("STOP SLAVE");
    try {
        // DM flushes a task's checkpoint (gtid-S) only while it processes events: write to every schema until all passed the replica.
        const replicaSeq = await seqOf(sb.replica);
        let id = 900_000_000;
        let behind = tasks.length;
        const passed = await pollUntil(
            async () => {
                for (const s of schemas) {
                    await sb.primary.query(`INSERT INTO \`${s}\`.t (id, seq, payload) VALUES (?, ?, 'bench lag')`, [
                        ++id,
                        id,
                    ]);
                }
                await sleep(1500);
                const seqs = await Promise.all(
                    tasks.map(async (t) =>
                        Number(((await dm.taskStatus(t.task, t.source))[0]?.syncerBinlogGtid ?? "").split("-")[2] ?? 0),
                    ),
                );
                behind = seqs.filter((s) => s <= replicaSeq).length;
                return behind === 0 ? true : undefined;
            },
            { intervalMs: 0, timeoutMs: 60_000 },
        );
        if (!passed) {
            throw new Error(
                `${behind} of ${tasks.length} tasks did not get past the stopped replica's 0-1-${replicaSeq} within 60 s`,
            );
        }
        const r = await stack.run(
            ["preview", "--policy-pack", PACK, "--policy-pack-config", packConfig],
            timeoutFor(tasks.length),
        );
        const named = new Set(
            [
                ...r.output.matchAll(
                    /DM source (\S+) must not read from replica \(Vip [^)]+\): task \S+: the target lacks/g,
                ),
            ].map((m) => m[1]),
        );
        return (
            `replica stopped and behind DM: preview with the pack exit ${r.code} in ${r.ms} ms, ` +
            `dm-gtid-containment names ${named.size} of ${tasks.length} sources (missing GTIDs each)`
        );
    } finally {
        await sb.replica.query("START SLAVE");
        const pos = String((await sb.primary.query("SELECT @@GLOBAL.gtid_binlog_pos AS g"))[0].g);
        await sb.replica.query("SELECT MASTER_GTID_WAIT(?, 30) AS w", [pos]);
    }
}

async function main(): Promise<void> {
    const max = Math.max(...SIZES);
    log(`bench:preview: stacks of ${SIZES.join(", ")} sources, ${ROUNDS} rounds`);
    const sb = await startSandbox({ tasks: 1 });
    let extra: ExtraSources | undefined;
    let stack: Awaited<ReturnType<typeof createSourcesStack>> | undefined;
    let empty: TempStack | undefined;
    const emptyDir = emptyProject();
    const notes: string[] = [];
    try {
        log(`sandbox up in ${(sb.startupMs / 1000).toFixed(1)} s`);
        extra = await addSources(sb, max - 1, { log });
        const ids = [sb.source.id, ...extra.sources.map((s) => s.id)];
        const dmPids = [sb.dm.master.pid, sb.dm.worker.pid, ...extra.pids()].filter(
            (p): p is number => p !== undefined,
        );
        const workerRss = rssMb(dmPids.slice(1)) / Math.max(1, dmPids.length - 1);
        const idle = await cpuShare(dmPids);
        notes.push(
            `DM ${dmVersion(sb.dm.dmctlPath)}: ${ids.length} sources, each bound to its own dm-worker (≈ ${workerRss.toFixed(0)} MB RSS each) ` +
                `with one Running incremental task on its own schema, all reading through one HAProxy VIP from one MariaDB primary; ` +
                `idle, dm-master and the ${dmPids.length - 1} dm-workers use ${(idle * 100).toFixed(0)} % of one core.`,
        );
        notes.push(await unboundSource(sb));
        log(notes[notes.length - 1]);

        empty = await createTempStack({ projectDir: emptyDir.dir });
        stack = await createSourcesStack(sb, ids, "primary");
        // One preview first, not counted: the first run of a session reads everything from disk.
        await preview(empty, true);
        for (const n of SIZES) {
            stack.configure(ids.slice(0, n), "primary");
            // Adopting hundreds of sources at once can outlast a dm-master read on this 2-core machine; an up
            // converges, so a failed one is run again (at most twice), said in the output.
            const sources = stack;
            const adopt = () => sources.run(["up", "--yes", "--skip-preview"], timeoutFor(n));
            let up = await adopt();
            for (let again = 1; up.code !== 0 && again <= 2; again++) {
                log(`pulumi up adopting ${n} sources failed (exit ${up.code}); running it again (${again}/2):`);
                log(lastLines(up.output, 8));
                up = await adopt();
            }
            if (up.code !== 0) {
                throw new Error(`pulumi up adopting ${n} sources failed:\n${lastLines(up.output)}`);
            }
            const src = sourcesLabel(n);
            log(
                `\n${src}: pulumi up (adopting them, nothing switched) ${up.ms} ms; previews switch every one to the replica`,
            );
            stack.configure(ids.slice(0, n), "replica");
            const runs: [TempStack, string, boolean, number][] = [
                [empty, "empty, pack", true, 0],
                [stack, `${src}, pack`, true, n],
                [empty, "empty, no pack", false, 0],
                [stack, `${src}, no pack`, false, n],
            ];
            for (let round = 0; round < ROUNDS; round++) {
                for (let k = 0; k < runs.length; k++) {
                    const [st, label, withPack, sources] = runs[(k + round) % runs.length];
                    await timed(st, label, withPack, sources);
                }
            }
            for (let round = 0; round < ROUNDS; round++) {
                // As before a preview, dm-master's bucket of worker requests (10 a second, up to 40) has refilled.
                await sleep(5000);
                const d = await directChecks(sb, ids.slice(0, n));
                times.set(`${src}, checks only`, [...(times.get(`${src}, checks only`) ?? []), d.ms]);
                const why = d.failed.length > 0 ? `; ${d.failed.length} failed, e.g. ${d.failed[0]}` : "";
                log(
                    `the pack's ${2 * n} checks for ${src}, run directly in parallel (no Pulumi): ${ms(d.ms)} ms${why}`,
                );
                if (d.failed.length > 0) {
                    notes.push(
                        `${src}, checks only, round ${round + 1}: ${d.failed.length} of ${2 * n} checks failed, e.g. ${d.failed[0]}`,
                    );
                }
            }
        }
        const schemas = ["sbtest_0", ...extra.sources.map((s) => s.schema)].slice(0, max);
        const tasks = [
            { task: sb.tasks[0].name, source: sb.source.id },
            ...extra.sources.map((s) => ({ task: s.task, source: s.id })),
        ].slice(0, max);
        notes.push(await statusCalls(sb, tasks));
        log(notes[notes.length - 1]);
        stack.configure(ids.slice(0, max), "replica");
        notes.push(await laggingReplica(sb, stack, schemas, tasks));
        log(notes[notes.length - 1]);
    } finally {
        if (stack) discardStack(stack);
        if (empty) discardStack(empty);
        emptyDir.remove();
        await extra?.stop();
        await sb.stop();
    }
    console.log(`\n${summary(notes).join("\n")}`);
}

function summary(notes: string[]): string[] {
    const rows: (string | number)[][] = [["run", "n", "min", "median", "max"]];
    const labels = [
        "empty, no pack",
        "empty, pack",
        ...SIZES.flatMap((n) => [
            `${sourcesLabel(n)}, no pack`,
            `${sourcesLabel(n)}, pack`,
            `${sourcesLabel(n)}, checks only`,
        ]),
    ];
    for (const l of labels) {
        const f = figures(times.get(l) ?? []);
        rows.push([l, f.n, ms(f.min), ms(f.median), ms(f.max)]);
    }
    const med = (l: string) => figures(times.get(l) ?? []).median;
    const max = Math.max(...SIZES);
    const big = med(`${sourcesLabel(max)}, pack`);
    const ratio = big / med("empty, pack");
    const lines = SIZES.map((n) => {
        const s = sourcesLabel(n);
        return `${s}: the pack adds ${ms(med(`${s}, pack`) - med(`${s}, no pack`))} ms to the stack's preview (median); the empty program's pack costs ${ms(med("empty, pack") - med("empty, no pack"))} ms`;
    });
    return [
        "==== bench:preview summary ====",
        environmentLine(),
        ...notes.slice(0, 2),
        "wall time of `pulumi preview` (ms); each stack previews a switch of every source to the healthy replica; the pack passes.",
        '"checks only": the pack\'s checks (a Vip and a SourceBinding per source, sharing DM reads and probes as in a preview) run all at once in one Node process without Pulumi, each round after a 5 s rest:',
        ...table(rows),
        ...lines,
        `ratio ${sourcesLabel(max)} with the pack / empty with the pack (medians): ${ratio.toFixed(2)}× (issue: ≤ 3×: ${ratio <= 3 ? "met" : "not met"}); ` +
            `/ empty without the pack: ${(big / med("empty, no pack")).toFixed(2)}×`,
        ...notes.slice(2),
        "==== end ====",
    ];
}

main().catch((err: Error) => {
    console.error(`bench:preview failed: ${err.message}`);
    process.exitCode = 1;
});
