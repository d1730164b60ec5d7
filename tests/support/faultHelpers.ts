/**
 * Shared rig of the fault tests (tests/integration/faults*.test.ts): one sandbox and one real stack of
 * this project per test file, `pulumi up` under a write load with a fault injected while it runs, and
 * the four things every fault case must end with — a clear error, no task left paused that the error
 * does not name, a re-run of `pulumi up` that converges, and downstream equal to upstream with no row
 * lost or duplicated.
 *
 * Faults are injected on cue: the provider's progress lines stream through Pulumi's output
 * ({@link OutputWatch}), so a test can wait for "… are Paused" and only then kill dm-master.
 */
import assert from "node:assert/strict";
import { createDmClient, DmClient } from "../../components/dm";
import { Sandbox, SandboxOptions, startSandbox } from "../../sandbox";
import { LoadResult, startLoad } from "../../sandbox/load";
import type { MariadbInstance } from "../../sandbox/mariadb";
import { connect } from "../../sandbox/sql";
import { checkSequences, verifyReplicated } from "../../sandbox/verify";
import { pollUntil, sleep } from "../../components/util/poll";
import { PulumiResult } from "../../tools/pulumiCli";
import { createSandboxStack, SandboxSourceOptions, SandboxStack } from "../../tools/sandboxStack";

/**
 * Pulumi's output as it streams, for waiting on a line. Only output after the last {@link mark} counts,
 * so a line printed by an earlier `pulumi up` never triggers a fault in the next one.
 */
export class OutputWatch {
    private text = "";
    private from = 0;
    private waiters: { re: RegExp; resolve: (m: string) => void }[] = [];

    /** Feeds a chunk of output (TempStackOptions.onOutput). */
    readonly push = (chunk: string): void => {
        this.text += chunk;
        for (const w of [...this.waiters]) {
            const m = w.re.exec(this.text.slice(this.from));
            if (m) {
                this.waiters.splice(this.waiters.indexOf(w), 1);
                w.resolve(m[0]);
            }
        }
    };

    /** Forgets what was printed so far: later waits only see newer output. */
    mark(): void {
        this.from = this.text.length;
    }

    /**
     * Resolves with the matched text once `re` matches the output since the last mark.
     * @param timeoutMs how long to wait before failing with the pattern in the message. @default 120000
     */
    waitFor(re: RegExp, timeoutMs = 120_000): Promise<string> {
        return new Promise((resolve, reject) => {
            const timer = setTimeout(() => {
                this.waiters = this.waiters.filter((w) => w.re !== re);
                reject(
                    new Error(
                        `pulumi printed nothing matching ${re} within ${timeoutMs} ms; its output since the mark:\n${this.text.slice(this.from)}`,
                    ),
                );
            }, timeoutMs);
            this.waiters.push({
                re,
                resolve: (m) => {
                    clearTimeout(timer);
                    resolve(m);
                },
            });
            this.push("");
        });
    }
}

/** One sandbox, a DM client on it and a stack of this project that reads from the primary. */
export interface FaultRig {
    sb: Sandbox;
    dm: DmClient;
    stack: SandboxStack;
    watch: OutputWatch;
    /** Stops the stack and the sandbox. */
    dispose(): Promise<void>;
}

/**
 * Starts the sandbox (2 tasks), creates the stack in `mode` reading from the primary and runs the first
 * `pulumi up`, which adopts the source (and the VIP) as they are. `sandbox`: more sandbox options (e.g. the MySQL flavour).
 */
export async function startFaultRig(mode: "vip" | "address", sandbox: SandboxOptions = {}): Promise<FaultRig> {
    const t0 = performance.now();
    // On this shared machine another process may take a free port between its probe and dm-master's bind
    // (seen: "creating peer listener failed … address already in use"); the sandbox retries only MariaDB's.
    const sb = await startSandbox({ tasks: 2, ...sandbox }).catch((err: Error) => {
        if (!/address already in use/.test(err.message)) {
            throw err;
        }
        console.log(`fault rig (${mode}): a sandbox port was taken while starting; starting once more`);
        return startSandbox({ tasks: 2, ...sandbox });
    });
    const watch = new OutputWatch();
    let stack: SandboxStack | undefined;
    const dispose = async () => {
        try {
            await stack?.dispose();
        } finally {
            await sb.stop();
        }
    };
    try {
        const dm = createDmClient({ transport: "openapi", address: sb.dm.masterAddr, dmctlPath: sb.dm.dmctlPath });
        stack = await createSandboxStack(sb, { mode, reads: "primary" }, { onOutput: watch.push });
        const first = await stack.run(["up", "--yes", "--skip-preview"]);
        assert.equal(first.code, 0, `the first pulumi up adopts the sandbox:\n${first.output}`);
        console.log(
            `fault rig (${mode}): sandbox and first pulumi up in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
        );
        return { sb, dm, stack, watch, dispose };
    } catch (err) {
        await dispose();
        throw err;
    }
}

/** Each task's stage on the sandbox's source ("" when DM lists no subtask for it). */
export async function stagesOf(rig: FaultRig): Promise<Record<string, string>> {
    const all = await Promise.all(rig.sb.tasks.map((t) => rig.dm.taskStatus(t.name, rig.sb.source.id)));
    return Object.fromEntries(rig.sb.tasks.map((t, i) => [t.name, all[i][0]?.stage ?? ""]));
}

/** What one `pulumi up` under load did. */
export interface UpUnderLoad {
    r: PulumiResult;
    /** The load's result: per schema, the last sequence number written. */
    load: LoadResult;
}

/** What {@link upUnderLoad} runs around the `pulumi up`. */
export interface FaultHooks {
    /** Runs once the load has written for a second, before the stack is reconfigured (set the fault up). @default nothing */
    before?: () => Promise<void>;
    /** Runs while `pulumi up` runs (wait for a line with {@link OutputWatch.waitFor}, then inject the fault). @default nothing */
    during?: () => Promise<void>;
}

/**
 * Starts a write load on the primary (200 rows/s), reconfigures the stack, runs `pulumi up` and, while
 * it runs, `hooks.during`; stops the load once both are done. A hook that throws fails the case after
 * the up has finished, never leaving it running.
 */
export async function upUnderLoad(
    rig: FaultRig,
    config: SandboxSourceOptions,
    hooks: FaultHooks = {},
): Promise<UpUnderLoad> {
    const load = startLoad(rig.sb, { rowsPerSec: 200, via: "primary" });
    try {
        await sleep(1000);
        await hooks.before?.();
        rig.stack.configure(config);
        rig.watch.mark();
        const up = rig.stack.run(["up", "--yes", "--skip-preview"]);
        const fault = hooks.during?.().then(
            () => undefined,
            (e: Error) => e,
        );
        const r = await up;
        const failed = await fault;
        if (failed) {
            throw new Error(`injecting the fault failed: ${failed.message}\npulumi up's output:\n${r.output}`);
        }
        return { r, load: await load.stop() };
    } catch (err) {
        await load.stop();
        throw err;
    }
}

/** The errors in `pulumi up`'s output: its "error:" lines and the "* …" lines under "N errors occurred:". */
export function errorsIn(output: string): string {
    return output
        .split("\n")
        .filter((l) => /error:|^\s*\* /.test(l))
        .join("\n");
}

/** Neither the source's nor the downstream's password appears in pulumi's output, not even in an error. */
export function assertNoPassword(rig: FaultRig, r: PulumiResult): void {
    for (const secret of [rig.sb.source.password, rig.sb.admin.password]) {
        assert.ok(!r.output.includes(secret), "a password appears in pulumi's output");
    }
}

/**
 * A failed up's checks: it failed, with an error matching `expected`, and every task not Running now is
 * named in an error line of its output (no task is left paused silently). Returns the tasks left paused.
 */
export async function assertFailedClearly(rig: FaultRig, r: PulumiResult, expected: RegExp): Promise<string[]> {
    assert.notEqual(r.code, 0, `pulumi up should have failed:\n${r.output}`);
    assertNoPassword(rig, r);
    const errors = errorsIn(r.output);
    assert.match(errors, expected, `the error says what went wrong:\n${r.output}`);
    const stages = await stagesOf(rig);
    const notRunning = Object.entries(stages).filter(([, s]) => s !== "Running");
    for (const [task, stage] of notRunning) {
        assert.match(
            errors,
            new RegExp(`\\b${task}\\b`),
            `task ${task} is ${stage || "not listed"} but no error names it:\n${r.output}`,
        );
    }
    return notRunning.map(([t]) => t);
}

/**
 * Runs `pulumi up` again (nothing injected) and checks it converges: exit 0, DM's source reads from
 * `reads` (through the VIP or at its address), every task Running; then downstream equals upstream
 * and holds each load's rows exactly once.
 */
export async function assertConverges(
    rig: FaultRig,
    config: SandboxSourceOptions,
    loads: LoadResult[],
): Promise<PulumiResult> {
    rig.stack.configure(config);
    rig.watch.mark();
    const again = await rig.stack.run(["up", "--yes", "--skip-preview"]);
    assert.equal(again.code, 0, `the re-run of pulumi up converges:\n${again.output}`);
    assertNoPassword(rig, again);
    if (config.mode === "vip") {
        assert.equal(await rig.sb.vipTarget(), config.reads, "the VIP points at the configured instance");
    } else {
        const source = await rig.dm.getSource(rig.sb.source.id);
        assert.equal(source?.port, rig.sb[config.reads].port, `DM's source reads from ${config.reads}`);
    }
    assert.deepEqual(await stagesOf(rig), Object.fromEntries(rig.sb.tasks.map((t) => [t.name, "Running"])));
    await assertDownstreamEqual(rig, loads);
    return again;
}

/** Downstream equals upstream (count and checksum per table) and holds 1…lastSeq of every load once. */
export async function assertDownstreamEqual(rig: FaultRig, loads: LoadResult[]): Promise<void> {
    const t0 = performance.now();
    const v = await verifyReplicated(rig.sb, { timeoutMs: 60_000 });
    assert.ok(v.equal, `downstream equals upstream: ${JSON.stringify(v)}`);
    const expectedLastSeq: Record<string, number> = {};
    for (const l of loads) {
        for (const [schema, s] of Object.entries(l.schemas)) {
            expectedLastSeq[schema] = Math.max(expectedLastSeq[schema] ?? 0, s.lastSeq);
        }
    }
    const seqs = await checkSequences(rig.sb, { expectedLastSeq });
    assert.ok(
        Object.values(seqs).every((s) => s.ok),
        `no row lost or duplicated downstream: ${JSON.stringify(seqs)}`,
    );
    const rows = Object.values(seqs).reduce((a, s) => a + s.rows, 0);
    console.log(
        `  downstream equal to ${v.upstream} after ${(performance.now() - t0).toFixed(0)} ms: ${rows} rows, none lost or duplicated`,
    );
}

/** Runs statements on one connection with `sql_log_bin=0`: changes local to `inst`, no errant GTID. */
export async function unlogged(
    inst: MariadbInstance,
    admin: { user: string; password: string },
    statements: [string, unknown[]?][],
): Promise<Record<string, unknown>[][]> {
    const conn = await connect({ host: inst.host, port: inst.port, ...admin });
    try {
        await conn.query("SET SESSION sql_log_bin = 0");
        const out: Record<string, unknown>[][] = [];
        for (const [sql, params] of statements) {
            const [rows] = await conn.query(sql, params);
            out.push(Array.isArray(rows) ? (rows as Record<string, unknown>[]) : []);
        }
        return out;
    } finally {
        await conn.end().catch(() => conn.destroy());
    }
}

/**
 * FLUSH BINARY LOGS, then PURGE BINARY LOGS TO the new log until it is the only one (MariaDB keeps a
 * log until its binlog checkpoint is written, up to about a second here). Returns `@@gtid_binlog_state`
 * at the flush: what the instance now reports as purged.
 */
export async function purgeAllBinlogs(
    inst: MariadbInstance,
    admin: { user: string; password: string },
    timeoutMs = 15_000,
): Promise<string> {
    const [, state, logs] = await unlogged(inst, admin, [
        ["FLUSH BINARY LOGS"],
        ["SELECT @@GLOBAL.gtid_binlog_state AS g"],
        ["SHOW BINARY LOGS"],
    ]);
    const newest = String(logs.at(-1)?.Log_name);
    let left: Record<string, unknown>[] = [];
    const purged = await pollUntil(
        async () => {
            [, left] = await unlogged(inst, admin, [["PURGE BINARY LOGS TO ?", [newest]], ["SHOW BINARY LOGS"]]);
            return left.length === 1 || undefined;
        },
        { intervalMs: 100, timeoutMs },
    );
    if (!purged) {
        throw new Error(
            `${inst.name}: binary logs ${left.map((l) => String(l.Log_name)).join(", ")} still there ${timeoutMs} ms after PURGE BINARY LOGS TO '${newest}'.`,
        );
    }
    return String(state[0].g);
}

/** Prints a case's figures: how long each `pulumi up` took and what the load wrote. */
export function report(name: string, runs: Record<string, PulumiResult>, load?: LoadResult): void {
    const times = Object.entries(runs)
        .map(([k, r]) => `${k} ${r.ms} ms (exit ${r.code})`)
        .join(", ");
    console.log(
        `${name}: ${times}${load ? `; ${load.written} rows written during the faulty up, ${load.errors} write errors` : ""}`,
    );
    for (const [k, r] of Object.entries(runs)) {
        const bullets = [...new Set(r.output.split("\n").filter((l) => /^\s*\* /.test(l)))].map((l) => l.trim());
        bullets.forEach((b) => console.log(`  ${k} error: ${b}`));
    }
}
