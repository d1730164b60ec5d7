/**
 * Daemons of the sandbox (HAProxy, dm-master, dm-worker): started detached with their output in a log
 * file, awaited through a readiness probe, stopped or killed by process id — also from another process
 * (`sandbox:down` reads the ids from the sandbox's description).
 *
 * A sandbox started by a test must not outlive the test process: every daemon of a non-persistent
 * sandbox is registered here and killed when the process exits, even on an uncaught exception or
 * SIGINT/SIGTERM (Node runs no `exit` handler for a signal unless someone listens to it).
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { pollUntil, sleep } from "../components/util/poll";

/** A process of the sandbox that fault tests stop, kill and start again. */
export interface Proc {
    /** What it is: "haproxy", "dm-master", "dm-worker". */
    readonly name: string;
    /** The running process id; undefined while it is stopped. */
    readonly pid: number | undefined;
    /** Where its output goes (and, for DM, its own log next to it). */
    readonly logFile: string;
    /** Graceful stop (SIGTERM; SIGKILL after the grace time); resolves once the process is gone. */
    stop(): Promise<void>;
    /** SIGKILL: what a crash looks like; resolves once the process is gone. */
    kill(): Promise<void>;
    /** Starts it again with the same command and configuration and waits until it is ready. */
    start(): Promise<void>;
}

/** How to run and probe one daemon. */
export interface DaemonSpec {
    name: string;
    command: string;
    args: string[];
    cwd: string;
    /** Text the command line of a running instance contains (its config file path): how an id from a description is recognised. @default command */
    identity?: string;
    /** stdout and stderr are appended here. */
    logFile: string;
    /** More logs whose last lines explain a failure (DM writes its own log file). @default [] */
    extraLogs?: string[];
    /** Resolves true once the daemon serves; false or a throw means "not yet". */
    ready(): Promise<boolean>;
    /** @default 30000 */
    readyTimeoutMs?: number;
    /** Time between SIGTERM and SIGKILL. @default 10000 */
    graceMs?: number;
    /** Runs before a graceful stop (HAProxy saves its server states). @default undefined */
    beforeStop?(): Promise<void>;
    /** Runs after a kill (HAProxy forgets saved states, as a crash would). @default undefined */
    afterKill?(): void;
    /** Register the process for killing when this Node process exits. @default true */
    killOnExit?: boolean;
    /** Progress lines. @default no output */
    log?(line: string): void;
}

/** The programs a sandbox runs. */
const DAEMONS = new Set(["mariadbd", "mysqld", "haproxy", "dm-master", "dm-worker"]);

/** True while `pid` is a live process (a zombie nobody has reaped counts as gone). */
export function alive(pid: number | undefined): boolean {
    if (!pid) {
        return false;
    }
    try {
        process.kill(pid, 0);
    } catch (e) {
        return (e as NodeJS.ErrnoException).code === "EPERM";
    }
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
    } catch {
        return false;
    }
}

/** The command line of `pid`, NUL-separated arguments joined by spaces ("" when it is gone). */
export function commandLine(pid: number): string {
    try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
    } catch {
        return "";
    }
}

/** Waits until `pid` is gone; false after `timeoutMs`. */
export async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
    return (await pollUntil(() => (alive(pid) ? undefined : true), { intervalMs: 20, timeoutMs })) ?? false;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function terminate(pid: number, graceMs: number): Promise<void> {
    try {
        process.kill(pid, "SIGTERM");
    } catch {
        return;
    }
    if (!(await waitGone(pid, graceMs))) {
        await killHard(pid);
    }
}

/** SIGKILL; resolves once the process is gone. */
export async function killHard(pid: number): Promise<void> {
    try {
        process.kill(pid, "SIGKILL");
    } catch {
        return;
    }
    if (!(await waitGone(pid, 10_000))) {
        throw new Error(`process ${pid} survived SIGKILL for 10 s; kill it by hand (kill -9 ${pid}).`);
    }
}

/** The last `n` lines of a log file, or a note that there is none. */
export function tail(file: string, n = 25): string {
    try {
        const size = fs.statSync(file).size;
        const fd = fs.openSync(file, "r");
        try {
            const len = Math.min(size, 64 * 1024);
            const buf = Buffer.alloc(len);
            fs.readSync(fd, buf, 0, len, size - len);
            const lines = buf.toString("utf8").split("\n");
            return lines
                .slice(Math.max(0, lines.length - n - 1))
                .join("\n")
                .trimEnd();
        } finally {
            fs.closeSync(fd);
        }
    } catch {
        return `(no log at ${file})`;
    }
}

/** An error whose first line says what failed and what to do, followed by the last lines of the logs. */
export function failureWithLogs(summary: string, logs: string[]): Error {
    const parts = logs.map((f) => `--- last lines of ${f} ---\n${tail(f)}`);
    return new Error([summary, ...parts].join("\n"));
}

/** True when something accepts TCP connections on 127.0.0.1:`port`. */
export function portOpen(port: number, timeoutMs = 500): Promise<boolean> {
    return new Promise((resolve) => {
        const c = net.createConnection({ host: "127.0.0.1", port, timeout: timeoutMs });
        const done = (ok: boolean) => {
            c.destroy();
            resolve(ok);
        };
        c.on("connect", () => done(true));
        c.on("timeout", () => done(false));
        c.on("error", () => done(false));
    });
}

/** True when nothing listens on 127.0.0.1:`port` (a listener can bind it). */
export function portFree(port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const s = net.createServer();
        s.once("error", () => resolve(false));
        s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
    });
}

// Processes to kill when this Node process exits (sandboxes of tests, not `sandbox:up`).
const owned = new Set<number>();
let hooked = false;

function killOwned(): void {
    for (const pid of owned) {
        try {
            process.kill(pid, "SIGKILL");
        } catch {
            // already gone
        }
    }
    owned.clear();
}

/** Registers `pid` to be SIGKILLed when this process exits; see the module comment. */
export function killOnExit(pid: number): void {
    owned.add(pid);
    if (hooked) {
        return;
    }
    hooked = true;
    process.on("exit", killOwned);
    for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
        // Only when nobody else handles the signal: then Node's default would exit without `exit` handlers.
        if (process.listenerCount(sig) === 0) {
            process.once(sig, () => {
                killOwned();
                process.exit(128 + (sig === "SIGINT" ? 2 : sig === "SIGTERM" ? 15 : 1));
            });
        }
    }
}

/** Takes `pid` off the exit list (it was stopped, or the sandbox is meant to outlive this process). */
export function forget(pid: number | undefined): void {
    if (pid) {
        owned.delete(pid);
    }
}

/** Starts the daemon and waits until it is ready; on failure it is killed and the error carries its log. */
export async function startDaemon(spec: DaemonSpec): Promise<Proc> {
    const proc = daemon(spec, undefined);
    await proc.start();
    return proc;
}

/**
 * A Proc for a daemon that may already run as `pid` (another process started it). start() launches a
 * new one; stop() and kill() only act on `pid` when its command line is still the daemon's, so a
 * recycled process id is never signalled.
 */
export function daemon(spec: DaemonSpec, pid: number | undefined): Proc {
    let current =
        pid !== undefined && alive(pid) && commandLine(pid).includes(spec.identity ?? spec.command) ? pid : undefined;
    const logs = [spec.logFile, ...(spec.extraLogs ?? [])];

    type Exit = { code: number | null; signal: string | null } | undefined;
    const waitReady = async (child: number, ended: () => Exit) => {
        const timeoutMs = spec.readyTimeoutMs ?? 30_000;
        const outcome = await pollUntil(
            async () => {
                const exited = ended();
                if (exited || !alive(child)) {
                    return exited
                        ? exited.signal
                            ? `was killed by ${exited.signal}`
                            : `exited with code ${exited.code}`
                        : "is gone";
                }
                return (await spec.ready().catch(() => false)) ? "ready" : undefined;
            },
            { intervalMs: 100, timeoutMs },
        );
        if (outcome === "ready") {
            return;
        }
        if (outcome !== undefined) {
            throw failureWithLogs(
                `${spec.name} ${outcome} while starting; see its log below (a port in use, a bad configuration?).`,
                logs,
            );
        }
        await killHard(child);
        throw failureWithLogs(
            `${spec.name} was not ready within ${timeoutMs} ms; it was killed. See its log below.`,
            logs,
        );
    };

    return {
        name: spec.name,
        logFile: spec.logFile,
        get pid() {
            return current !== undefined && alive(current) ? current : undefined;
        },
        async start() {
            if (current !== undefined && alive(current)) {
                throw new Error(`${spec.name} already runs as process ${current}; stop() or kill() it before start().`);
            }
            const out = fs.openSync(spec.logFile, "a", 0o600);
            // Per child: a late exit event of a killed predecessor must not fail this start.
            let exited: Exit;
            const child = spawn(spec.command, spec.args, {
                cwd: spec.cwd,
                detached: true,
                stdio: ["ignore", out, out],
            });
            fs.closeSync(out);
            child.on("exit", (code, signal) => (exited = { code, signal }));
            child.on("error", (e) => (exited = { code: null, signal: e.message }));
            child.unref();
            if (child.pid === undefined) {
                await sleep(10);
                throw failureWithLogs(
                    `${spec.name} could not be started (${spec.command}): ${exited?.signal ?? "no process id"}. Check the binary path.`,
                    logs,
                );
            }
            current = child.pid;
            if (spec.killOnExit ?? true) {
                killOnExit(child.pid);
            }
            const t0 = performance.now();
            await waitReady(child.pid, () => exited);
            spec.log?.(`${spec.name}: ready as process ${child.pid} (${(performance.now() - t0).toFixed(0)} ms)`);
        },
        async stop() {
            if (current === undefined) {
                return;
            }
            if (alive(current)) {
                await spec.beforeStop?.().catch(() => undefined);
                await terminate(current, spec.graceMs ?? 10_000);
            }
            forget(current);
            current = undefined;
        },
        async kill() {
            if (current === undefined) {
                return;
            }
            await killHard(current);
            forget(current);
            current = undefined;
            spec.afterKill?.();
        },
    };
}

/**
 * Processes whose command line names a path inside `dir` (every daemon of a sandbox is started with a
 * configuration file in its directory): the last resort of sandbox:down when ids were never recorded,
 * for example after sandbox:up was interrupted.
 */
export function processesIn(dir: string): number[] {
    // Only the sandbox's own programs: never the shell or Node process that mentions the folder.
    const needle = dir.endsWith("/") ? dir : `${dir}/`;
    return fs
        .readdirSync("/proc")
        .filter((e) => /^\d+$/.test(e))
        .map(Number)
        .filter((pid) => {
            const cmd = commandLine(pid);
            return DAEMONS.has(path.basename(cmd.split(" ")[0])) && cmd.includes(needle) && alive(pid);
        });
}
