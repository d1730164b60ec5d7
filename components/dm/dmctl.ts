/**
 * Running dmctl safely: in a private temporary folder (dmctl writes `dmctl.log` into its working
 * directory), with secrets only in 0600 files of that folder (removed afterwards), never on the argument
 * list, and with dmctl's "exit 0 but `result: false`" failures turned into DmError.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs/promises";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { dmMembers } from "./address";
import { codeOf, DmEndpoint, DmError, oneLine } from "./types";

/** dmctl's JSON answer: `result`, `msg`, and per source `sources[].result/msg` (fields vary by command). */
export interface DmctlReply {
    result?: boolean;
    msg?: string;
    sources?: { result?: boolean; msg?: string; source?: string; worker?: string; [k: string]: unknown }[];
    [k: string]: unknown;
}

export interface DmctlRun {
    /** The operation's name for errors ("pause-task"). */
    operation: string;
    /** The task or source it concerns. */
    target: string;
    /** Arguments after the global flags; `{file:NAME}` is replaced with the path of `files[NAME]`. */
    args: string[];
    /** Files written (mode 0600) into the private folder before dmctl runs. */
    files?: Record<string, string>;
    /** Texts that must never appear in an error (passwords). */
    secrets?: string[];
    /** Do not fail on `sources[].result: false` (query-status reports an offline worker that way). */
    tolerateSourceFailures?: boolean;
}

const UNREACHABLE = /can't connect|connection refused|context deadline exceeded|Unavailable|transport/i;

function remedyFor(operation: string, ep: DmEndpoint, text: string): string {
    if (/Workaround:/.test(text) && !UNREACHABLE.test(text)) {
        return "";
    }
    if (UNREACHABLE.test(text)) {
        return `Check that dm-master runs at ${ep.address} and that the address and TLS settings are right.`;
    }
    if (/not exist|not found|haven't been added|has no source/i.test(text)) {
        return "Check the task and source names (dmctl query-status, operate-source show).";
    }
    if (/existing tasks/i.test(text)) {
        return "Stop the source's tasks first (stop-task), then retry.";
    }
    return `See dm-master's log for ${operation}, fix the cause, and retry.`;
}

/**
 * Why `tls` cannot be given to dmctl as it is, or undefined. dmctl (tidb's util.NewTLSConfig) turns on
 * TLS as soon as any of --ssl-ca/--ssl-cert/--ssl-key is set but checks dm-master's certificate only
 * against --ssl-ca: a client certificate without a CA would talk to any server, unverified. It also
 * drops --ssl-cert unless --ssl-key comes with it.
 */
export function dmctlTlsProblem(tls: DmEndpoint["tls"]): string | undefined {
    if (!tls || (!tls.cert && !tls.key)) {
        return undefined;
    }
    if (!tls.cert !== !tls.key) {
        return `TLS settings incomplete: tls.${tls.cert ? "key" : "cert"} is missing. Set both tls.cert and tls.key (the client certificate and its key), or neither.`;
    }
    if (!tls.ca) {
        return "TLS settings incomplete: tls.ca is missing, and without it dmctl does not verify dm-master's certificate. Set tls.ca to the PEM of the CA that signed dm-master's certificate (its ssl-ca).";
    }
    return undefined;
}

/** Temp folders of dmctl runs: `dm-switch-dmctl-<pid>-<random>`, holding task files and TLS keys (0600). */
const DIR_PREFIX = "dm-switch-dmctl-";

/**
 * Removes the dmctl temp folders of processes that are gone. A run removes its own folder when it ends,
 * but a process killed meanwhile cannot (the Pulumi engine stops a provider host that failed while other
 * dmctl runs were in flight), and the folder holds the downstream password and TLS keys. Returns the
 * folders removed.
 */
export async function removeStaleDmctlDirs(tmp: string = os.tmpdir()): Promise<string[]> {
    const removed: string[] = [];
    for (const name of await fs.readdir(tmp).catch(() => [] as string[])) {
        const pid = Number(/^dm-switch-dmctl-(\d+)-/.exec(name)?.[1]);
        if (!Number.isInteger(pid) || pid <= 0 || alive(pid)) {
            continue;
        }
        await fs.rm(path.join(tmp, name), { recursive: true, force: true });
        removed.push(name);
    }
    return removed;
}

function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (err) {
        // EPERM: alive, another user's.
        return (err as NodeJS.ErrnoException).code === "EPERM";
    }
}

let staleSwept: Promise<unknown> | undefined;

/** Per member list: the member that accepted a connection last. */
const lastReachable = new Map<string, string>();

/**
 * `address` with a member that accepts a TCP connection first (the one that did last time tried first),
 * the others after it in their order. dmctl tries the members of --master-addr in order and waits about
 * 3 s on one that is down before the next (seen with this DM: 3.2 s instead of 0.4 s per run), which an
 * address switch would pay on each of its dmctl runs. One member, or none reachable: `address` unchanged.
 * @param timeoutMs per member. @default 1000
 */
export async function reachableFirst(address: string, timeoutMs = 1000): Promise<string> {
    const members = dmMembers(address);
    if (members.length < 2) {
        return address;
    }
    const last = lastReachable.get(address);
    const order = last && members.includes(last) ? [last, ...members.filter((m) => m !== last)] : members;
    for (const m of order) {
        if (await accepts(m, timeoutMs)) {
            lastReachable.set(address, m);
            return [m, ...members.filter((x) => x !== m)].join(",");
        }
    }
    return address;
}

/** True when `member` (host:port, [ipv6]:port) accepts a TCP connection within `timeoutMs`. */
function accepts(member: string, timeoutMs: number): Promise<boolean> {
    const i = member.lastIndexOf(":");
    const host = member.slice(0, i).replace(/^\[(.*)\]$/, "$1");
    return new Promise((resolve) => {
        const socket = net.connect({ host, port: Number(member.slice(i + 1)), timeout: timeoutMs });
        const done = (ok: boolean) => {
            socket.destroy();
            resolve(ok);
        };
        socket
            .once("connect", () => done(true))
            .once("timeout", () => done(false))
            .once("error", () => done(false));
    });
}

/** Runs dmctl once; returns its JSON answer, or throws a one-line DmError. */
export async function runDmctl(ep: DmEndpoint, run: DmctlRun): Promise<DmctlReply> {
    const dmctl = ep.dmctlPath;
    if (!dmctl) {
        throw new DmError(
            `${run.operation} ${run.target}: no dmctl binary configured. Set dmctlPath to DM's dmctl.`,
            run.operation,
            run.target,
        );
    }
    const tlsProblem = dmctlTlsProblem(ep.tls);
    if (tlsProblem) {
        throw new DmError(`${run.operation} ${run.target}: ${tlsProblem}`, run.operation, run.target);
    }
    staleSwept ??= removeStaleDmctlDirs().catch(() => undefined);
    await staleSwept;
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), `${DIR_PREFIX}${process.pid}-`));
    try {
        const files: Record<string, string> = { ...run.files };
        const tlsArgs: string[] = [];
        for (const [key, flag] of [
            ["ca", "--ssl-ca"],
            ["cert", "--ssl-cert"],
            ["key", "--ssl-key"],
        ] as const) {
            const pem = ep.tls?.[key];
            if (pem) {
                files[`tls-${key}.pem`] = pem;
                tlsArgs.push(flag, path.join(dir, `tls-${key}.pem`));
            }
        }
        for (const [name, content] of Object.entries(files)) {
            await fs.writeFile(path.join(dir, name), content, { mode: 0o600 });
        }
        const args = run.args.map((a) => a.replace(/^\{file:(.+)\}$/, (_, name: string) => path.join(dir, name)));
        const argv = ["--master-addr", await reachableFirst(ep.address), ...tlsArgs, ...args];
        const { code, stdout, stderr, timedOut } = await spawnCollect(dmctl, argv, dir, ep.requestTimeoutMs ?? 60_000);
        const fail = (what: string): never => {
            const text = oneLine(what, run.secrets);
            throw new DmError(
                `${run.operation} ${run.target} failed: ${text.replace(/[.\s]*$/, "")}. ${remedyFor(run.operation, ep, text)}`.trim(),
                run.operation,
                run.target,
                codeOf(text),
            );
        };
        if (timedOut) {
            fail(`dmctl did not answer within ${ep.requestTimeoutMs ?? 60_000} ms`);
        }
        const reply = parseReply(stdout);
        if (reply === undefined) {
            // dmctl prints "Error: …" and exits non-zero when it cannot reach dm-master or rejects arguments.
            const line = `${stderr}\n${stdout}`.split("\n").find((l) => l.trim() !== "") ?? `dmctl exited with ${code}`;
            fail(line.replace(/^Error:\s*/, ""));
        }
        if (reply!.result === false) {
            fail(reply!.msg || "dm-master answered result false");
        }
        if (!run.tolerateSourceFailures) {
            const bad = (reply!.sources ?? []).filter((s) => s.result === false);
            if (bad.length > 0) {
                fail(bad.map((s) => `source ${s.source ?? "?"}: ${s.msg || "result false"}`).join("; "));
            }
        }
        return reply!;
    } finally {
        await fs.rm(dir, { recursive: true, force: true });
    }
}

function parseReply(stdout: string): DmctlReply | undefined {
    const start = stdout.indexOf("{");
    if (start < 0) {
        return undefined;
    }
    try {
        return JSON.parse(stdout.slice(start)) as DmctlReply;
    } catch {
        return undefined;
    }
}

/** The variables a child process gets from ours: what a program needs to run, find files and speak. */
const CHILD_ENV_KEYS = ["PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "TZ"];

/**
 * The environment of a child process dm-switch spawns (dmctl): only {@link CHILD_ENV_KEYS}. Never the
 * whole of ours: under Pulumi it holds PULUMI_CONFIG (the decrypted stack configuration, passwords and
 * keys included), cloud credentials and access tokens, none of which dmctl needs.
 */
export function childEnv(from: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const k of CHILD_ENV_KEYS) {
        if (from[k] !== undefined) {
            env[k] = from[k];
        }
    }
    return env;
}

function spawnCollect(cmd: string, argv: string[], cwd: string, timeoutMs: number) {
    return new Promise<{ code: number | null; stdout: string; stderr: string; timedOut: boolean }>(
        (resolve, reject) => {
            const child = spawn(cmd, argv, { cwd, env: childEnv(), stdio: ["ignore", "pipe", "pipe"] });
            let stdout = "";
            let stderr = "";
            let timedOut = false;
            child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
            child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
            const timer = setTimeout(() => {
                timedOut = true;
                child.kill("SIGKILL");
            }, timeoutMs);
            child.on("error", (err) => {
                clearTimeout(timer);
                reject(
                    new DmError(
                        `cannot run dmctl at ${cmd}: ${err.message}. Set dmctlPath to DM's dmctl binary.`,
                        "dmctl",
                        cmd,
                    ),
                );
            });
            child.on("close", (code) => {
                clearTimeout(timer);
                resolve({ code, stdout, stderr, timedOut });
            });
        },
    );
}

/**
 * Reads the few fields dm-switch needs from the YAML DM generates (`get-config`): nested block maps
 * of plain scalars, keyed by dotted path ("from.host"). Not a YAML parser: lists and flow style are skipped.
 */
export function readGeneratedYaml(text: string): Map<string, string> {
    const out = new Map<string, string>();
    const stack: { indent: number; key: string }[] = [];
    for (const line of text.split("\n")) {
        const m = /^( *)([A-Za-z0-9_.-]+):(?: (.*))?$/.exec(line);
        if (!m) {
            continue;
        }
        const indent = m[1].length;
        while (stack.length > 0 && stack[stack.length - 1].indent >= indent) {
            stack.pop();
        }
        const key = [...stack.map((s) => s.key), m[2]].join(".");
        const value = (m[3] ?? "").trim();
        if (value === "") {
            stack.push({ indent, key: m[2] });
        } else {
            out.set(key, unquote(value));
        }
    }
    return out;
}

function unquote(v: string): string {
    if (v.startsWith('"') && v.endsWith('"')) {
        try {
            return JSON.parse(v) as string;
        } catch {
            return v.slice(1, -1);
        }
    }
    if (v.startsWith("'") && v.endsWith("'")) {
        return v.slice(1, -1).replace(/''/g, "'");
    }
    return v;
}
