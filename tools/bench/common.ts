/**
 * What bench:switch and bench:preview share: figures (min/median/max, aligned tables), settings read
 * from the environment, extra DM sources on a sandbox (one dm-worker and one task each, reading through
 * the same VIP), a stack of this project declaring several sources, and an empty program to compare with.
 * Benchmarks print figures; nothing here asserts a time.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import yaml from "js-yaml";
import { createDmClient, waitForStage } from "../../components/dm";
import { pollUntil, sleep } from "../../components/util/poll";
import type { Sandbox } from "../../sandbox";
import { dmWorkerDaemon } from "../../sandbox/dm";
import { freePort } from "../../sandbox/mariadb";
import { failureWithLogs, type Proc } from "../../sandbox/proc";
import { TABLE_DDL, taskFileText } from "../../sandbox/taskFile";
import { createTempStack, TempStack } from "../pulumiCli";
import { PROJECT_DIR, sandboxConfig } from "../sandboxStack";

/** min, median and max of a series of milliseconds. */
export interface Figures {
    n: number;
    min: number;
    median: number;
    max: number;
}

/** The figures of `xs`; NaN everywhere for an empty series (nothing was measured). */
export function figures(xs: number[]): Figures {
    const s = [...xs].sort((a, b) => a - b);
    const mid = Math.floor(s.length / 2);
    const median = s.length === 0 ? NaN : s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
    return { n: s.length, min: s[0] ?? NaN, median, max: s[s.length - 1] ?? NaN };
}

/** Milliseconds as printed in the tables: whole numbers, "-" when unknown. */
export function ms(x: number): string {
    return Number.isFinite(x) ? Math.round(x).toString() : "-";
}

/** Rows as aligned columns (text left, numbers right), two spaces apart. */
export function table(rows: (string | number)[][]): string[] {
    const cells = rows.map((r) => r.map(String));
    const widths = cells[0].map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
    const numeric = (c: string) => /^[-\d.×]+$/.test(c) && c !== "-";
    return cells.map((r) =>
        r
            .map((c, i) => (numeric(c) ? c.padStart(widths[i]) : c.padEnd(widths[i])))
            .join("  ")
            .trimEnd(),
    );
}

/** A whole number ≥ `min` from environment variable `name`, or `fallback`; throws naming the variable. */
export function intSetting(name: string, fallback: number, min = 1): number {
    const raw = process.env[name];
    if (raw === undefined || raw === "") {
        return fallback;
    }
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) {
        throw new Error(`${name}=${raw} must be a whole number ≥ ${min}; unset it for the default ${fallback}.`);
    }
    return n;
}

/** A list of whole numbers ≥ 1 from `name` ("2,10"), or `fallback`; throws naming the variable. */
export function intListSetting(name: string, fallback: number[]): number[] {
    const raw = process.env[name];
    if (raw === undefined || raw === "") {
        return fallback;
    }
    const xs = raw.split(",").map((x) => Number(x.trim()));
    if (xs.length === 0 || xs.some((n) => !Number.isInteger(n) || n < 1)) {
        throw new Error(
            `${name}=${raw} must be whole numbers ≥ 1 separated by commas (e.g. 2,10); unset it for ${fallback.join(",")}.`,
        );
    }
    return xs;
}

/** One line saying where the figures come from: machine, load, Node. */
export function environmentLine(): string {
    const load = os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(" ");
    return `${new Date().toISOString()}; ${os.cpus().length} cores, load average ${load}; node ${process.version}`;
}

/** DM's release version as dmctl reports it (`dmctl -V`), or why it could not be read. */
export function dmVersion(dmctlPath: string): string {
    const r = spawnSync(dmctlPath, ["-V"], { encoding: "utf8", timeout: 10_000 });
    return (
        /Release Version: (\S+)/.exec(`${r.stdout ?? ""}${r.stderr ?? ""}`)?.[1] ??
        `unknown (${dmctlPath} -V: ${r.error?.message ?? `exit ${r.status}`})`
    );
}

/** Re-exported for the benchmarks: the one sleep (components/util/poll.ts). */
export { sleep };

/** The last `n` lines of a command's output, for an error message. @default n 40 */
export function lastLines(text: string, n = 40): string {
    return text.trimEnd().split("\n").slice(-n).join("\n");
}

/** A DM source added to a sandbox: its own dm-worker and one incremental task on its own schema. */
export interface ExtraSource {
    /** The DM source id, `bench-source-<i>`. */
    id: string;
    /** Its dm-worker's name, `bench-worker-<i>`. */
    worker: string;
    /** Its task, `bench_task_<i>`. */
    task: string;
    /** The schema the task replicates, `bench_<i>` (table `t`, as the sandbox's own task schemas). */
    schema: string;
}

/** The extra sources and their workers; stop() before the sandbox's own stop(). */
export interface ExtraSources {
    /** In order: `bench-source-1` first. */
    sources: ExtraSource[];
    /** Process ids of the extra dm-workers that run. */
    pids(): number[];
    /** Stops every extra dm-worker (the sandbox's dm-master keeps their sources; it goes with the sandbox). */
    stop(): Promise<void>;
}

/** Resident memory of the processes, in MB, summed (from /proc; a process gone counts 0). */
export function rssMb(pids: number[]): number {
    return pids.reduce((sum, pid) => {
        try {
            const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
            return sum + (m ? Number(m[1]) / 1024 : 0);
        } catch {
            return sum;
        }
    }, 0);
}

/** CPU time (user + system) the processes have used so far, in seconds (from /proc; Linux's 100 ticks/s). */
function cpuSeconds(pids: number[]): number {
    return pids.reduce((sum, pid) => {
        try {
            // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
            const f = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
            return sum + (Number(f[11]) + Number(f[12])) / 100;
        } catch {
            return sum;
        }
    }, 0);
}

/** The share of one core the processes use over `sampleMs`, e.g. 0.35 = 35 % of one core. */
export async function cpuShare(pids: number[], sampleMs = 5000): Promise<number> {
    const before = cpuSeconds(pids);
    await sleep(sampleMs);
    return (cpuSeconds(pids) - before) / (sampleMs / 1000);
}

/** Runs `fn` over `items`, at most `parallel` at a time. */
export async function inBatches<T, R>(
    items: T[],
    parallel: number,
    fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
    const out: R[] = [];
    for (let i = 0; i < items.length; i += parallel) {
        out.push(...(await Promise.all(items.slice(i, i + parallel).map((x, j) => fn(x, i + j)))));
    }
    return out;
}

/**
 * Adds `count` DM sources `bench-source-<i>` to a running sandbox, all reading through the sandbox's VIP
 * (so from the same primary) with the sandbox's source account: each bound to its own new dm-worker
 * (DM binds one source per worker; a source without one has no tasks), each with one Running
 * incremental task `bench_task_<i>` on schema `bench_<i>`. On failure stops what it started and throws.
 * Options: `log` gets progress lines (@default none); `parallel` bounds how many workers start and how
 * many sources are set up at once on the 2-core machine (@default 6); `via(k)` is the address source k
 * (0-based) reads from, e.g. its own VIP (@default the sandbox's VIP for every source).
 */
export async function addSources(
    sb: Sandbox,
    count: number,
    o: { log?: (line: string) => void; parallel?: number; via?: (k: number) => { host: string; port: number } } = {},
): Promise<ExtraSources> {
    const log = o.log ?? (() => undefined);
    const parallel = o.parallel ?? 6;
    const dm = createDmClient({ transport: "openapi", address: sb.dm.masterAddr, dmctlPath: sb.dm.dmctlPath });
    const sources: ExtraSource[] = Array.from({ length: count }, (_, k) => ({
        id: `bench-source-${k + 1}`,
        worker: `bench-worker-${k + 1}`,
        task: `bench_task_${k + 1}`,
        schema: `bench_${k + 1}`,
    }));
    const workers: Proc[] = [];
    const stop = async () => {
        await inBatches(workers.splice(0), 10, (w) => w.stop());
    };
    try {
        const t0 = performance.now();
        await inBatches(sources, parallel, async (s) => {
            const w = dmWorkerDaemon({
                dir: path.join(sb.dir, "bench-workers", s.worker),
                binDir: sb.dm.binDir,
                port: await freePort(),
                masterAddr: sb.dm.masterAddr,
                name: s.worker,
            });
            await w.start();
            workers.push(w);
        });
        log(`bench: ${count} extra dm-workers ready (${((performance.now() - t0) / 1000).toFixed(1)} s)`);

        // Each task holds a few connections to the upstream and ~20 to the downstream (a pool of syncer
        // workers, the checkpoint, DDL): the sandbox's max-connections=300 is sized for a few tasks.
        const connections = 300 + 30 * (count + sb.tasks.length);
        for (const i of [sb.primary, sb.replica, sb.downstream]) {
            await i.query(`SET GLOBAL max_connections = ${connections}`);
        }
        // The tasks start before their schemas exist, so DM replicates the schemas downstream too.
        const t1 = performance.now();
        const start = String((await sb.primary.query("SELECT @@GLOBAL.gtid_binlog_pos AS g"))[0].g);
        for (const s of sources) {
            await sb.primary.query(`CREATE DATABASE \`${s.schema}\``);
            await sb.primary.query(TABLE_DDL.replace("CREATE TABLE t", `CREATE TABLE \`${s.schema}\`.t`));
        }
        await inBatches(sources, parallel, async (s, k) => {
            const at = o.via?.(k) ?? sb.vip;
            await dm.createSource({
                id: s.id,
                host: at.host,
                port: at.port,
                user: sb.source.user,
                password: sb.source.password,
                flavor: "mariadb",
                enableGtid: true,
                workerName: s.worker,
            });
            const bound = await pollUntil(
                async () => ((await dm.getSource(s.id))?.worker === s.worker ? true : undefined),
                { intervalMs: 100, timeoutMs: 20_000 },
            );
            if (!bound) {
                throw new Error(
                    `DM source ${s.id} was not bound to ${s.worker} within 20 s; see ${path.join(sb.dir, "dm-master", "dm-master.log")}.`,
                );
            }
            const text = taskFileText({
                name: s.task,
                schema: s.schema,
                sourceId: s.id,
                binlogGtid: start,
                target: { host: "127.0.0.1", port: sb.downstream.port, ...sb.admin },
            });
            const logs = [
                path.join(sb.dir, "dm-master", "dm-master.log"),
                path.join(sb.dir, "bench-workers", s.worker, "dm-worker", "dm-worker.log"),
            ];
            try {
                await dm.startTask(text);
                await waitForStage(dm, [s.task], s.id, ["Running"], { intervalMs: 100, timeoutMs: 30_000 });
            } catch (err) {
                throw failureWithLogs(
                    `${(err as Error).message.split("\n")[0]} (task ${s.task} on ${s.id}); see the logs below.`,
                    logs,
                );
            }
        });
        log(
            `bench: ${count} extra sources bound, each with a Running task (${((performance.now() - t1) / 1000).toFixed(1)} s)`,
        );
    } catch (err) {
        await stop().catch(() => undefined);
        throw err;
    }
    return { sources, pids: () => workers.flatMap((w) => (w.pid === undefined ? [] : [w.pid])), stop };
}

/**
 * The stack configuration for several sources of the sandbox, each in VIP mode behind the sandbox's one
 * VIP (HAProxy backend) and reading `reads`: the sandbox's single-source configuration (tools/sandboxStack.ts)
 * repeated per source id.
 */
export function sourcesConfig(sb: Sandbox, ids: string[], reads: "primary" | "replica"): Record<string, unknown> {
    const one = sandboxConfig(sb, { mode: "vip", reads });
    const [source] = one["dm-switch:sources"] as Record<string, unknown>[];
    return { ...one, "dm-switch:sources": ids.map((id) => ({ ...source, id })) };
}

/**
 * A temp stack of this project declaring the sources `ids` of the sandbox, with their passwords and the
 * downstream password set as secrets; configure() then declares any of them. The source password goes through stdin once; the other sources,
 * which use the same account, get a copy of its ciphertext (a passphrase-encrypted value is not bound to
 * its key), so 50 sources cost one `pulumi config set`, not 50.
 */
export async function createSourcesStack(
    sb: Sandbox,
    ids: string[],
    reads: "primary" | "replica",
    config: (ids: string[], reads: "primary" | "replica") => Record<string, unknown> = (i, r) =>
        sourcesConfig(sb, i, r),
): Promise<TempStack & { configure(ids: string[], reads: "primary" | "replica"): void }> {
    const stack = await createTempStack({ projectDir: PROJECT_DIR });
    const configure = (next: string[], r: "primary" | "replica") => stack.writeConfig(config(next, r));
    try {
        configure(ids, reads);
        await stack.setConfig(`dm-switch:passwords.${sb.source.id}`, sb.source.password, { secret: true, path: true });
        await stack.setConfig("dm-switch:downstreamPassword", sb.admin.password, { secret: true });
        const file = path.join(stack.stateDir, `Pulumi.${stack.stackName}.yaml`);
        const doc = yaml.load(fs.readFileSync(file, "utf8")) as { config: Record<string, Record<string, unknown>> };
        const secure = doc.config["dm-switch:passwords"]?.[sb.source.id];
        if (!secure || typeof secure !== "object") {
            throw new Error(
                `${file} holds no encrypted dm-switch:passwords.${sb.source.id} after 'pulumi config set --secret'; check the Pulumi CLI's output.`,
            );
        }
        stack.writeConfig({
            "dm-switch:passwords": Object.fromEntries([sb.source.id, ...ids].map((id) => [id, secure])),
        });
    } catch (err) {
        discardStack(stack);
        throw err;
    }
    return { ...stack, configure };
}

/**
 * Removes a temp stack's state folder without `pulumi destroy`: the benchmarks' stacks only describe a
 * sandbox that is torn down with them (destroying SourceBindings would ask DM to drop sources with tasks).
 */
export function discardStack(stack: TempStack): void {
    fs.rmSync(stack.stateDir, { recursive: true, force: true });
}

/** A Pulumi project whose program declares nothing (the baseline of bench:preview), in a temporary folder. */
export function emptyProject(): { dir: string; remove(): void } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dm-switch-empty-"));
    fs.writeFileSync(
        path.join(dir, "Pulumi.yaml"),
        "name: dm-switch-empty\ndescription: A program that declares nothing.\nmain: index.ts\nruntime:\n  name: nodejs\n  options:\n    packagemanager: npm\n",
    );
    fs.writeFileSync(
        path.join(dir, "package.json"),
        JSON.stringify({ name: "dm-switch-empty", private: true, main: "index.ts" }, null, 2),
    );
    fs.writeFileSync(
        path.join(dir, "index.ts"),
        "// Declares nothing: what every preview costs before the first resource.\nexport {};\n",
    );
    // The same @pulumi/pulumi and TypeScript runner as the project's own program.
    fs.symlinkSync(path.join(PROJECT_DIR, "node_modules"), path.join(dir, "node_modules"), "dir");
    return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
