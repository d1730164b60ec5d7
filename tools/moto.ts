/**
 * Starts moto, the AWS API server the Route53 and ENI tests run against, from the virtual environment
 * `npm run setup` installs. Loopback only, a free port, its output kept to explain a failed start.
 */
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { motoVenv, VERSIONS } from "./env";

/** A running moto server. */
export interface Moto {
    /** The endpoint URL every AWS client of a test points at: "http://127.0.0.1:PORT". */
    endpoint: string;
    /** Forgets every resource created so far (POST /moto-api/reset). */
    reset(): Promise<void>;
    /** Stops the server and waits for it to exit. */
    stop(): Promise<void>;
    /** What the server printed so far (its request log). */
    output(): string;
}

/** Options of `startMoto`. */
export interface StartMotoOptions {
    /** How long moto may take to answer its first request. @default 60000 */
    timeoutMs?: number;
}

function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.on("error", reject);
        s.listen(0, "127.0.0.1", () => {
            const port = (s.address() as net.AddressInfo).port;
            s.close(() => resolve(port));
        });
    });
}

function exited(child: ChildProcess): Promise<void> {
    return new Promise((resolve) =>
        child.exitCode !== null || child.signalCode !== null ? resolve() : child.once("exit", () => resolve()),
    );
}

/**
 * Runs `<venv>/bin/moto_server -H 127.0.0.1 -p <free port>` and resolves once it answers HTTP. Fails
 * with moto's own output when the venv is missing, the server exits, or it does not answer in time.
 */
export async function startMoto(opts: StartMotoOptions = {}): Promise<Moto> {
    const bin = path.join(motoVenv(), "bin", "moto_server");
    if (!fs.existsSync(bin)) {
        throw new Error(`moto ${VERSIONS.moto} is not installed at ${bin}; run 'npm run setup' first.`);
    }
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    const child = spawn(bin, ["-H", "127.0.0.1", "-p", String(port)], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const keep = (d: Buffer) => {
        // Only the tail matters for a diagnosis; a long test run logs every request.
        out = (out + d.toString()).slice(-20_000);
    };
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    let spawnError: Error | undefined;
    child.on("error", (err) => (spawnError = err));

    const stop = async () => {
        if (child.exitCode === null && child.signalCode === null) {
            child.kill("SIGTERM");
            const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
            await exited(child);
            clearTimeout(timer);
        }
    };
    const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
    for (;;) {
        if (spawnError || child.exitCode !== null || child.signalCode !== null) {
            await stop();
            throw new Error(
                `moto_server did not start (${spawnError?.message ?? `exit ${child.exitCode ?? child.signalCode}`}); its output:\n${out.trim() || "(none)"}`,
            );
        }
        try {
            const r = await fetch(`${endpoint}/moto-api/data.json`, { signal: AbortSignal.timeout(2000) });
            if (r.ok) {
                break;
            }
        } catch {
            // not listening yet
        }
        if (Date.now() > deadline) {
            await stop();
            throw new Error(
                `moto_server did not answer on ${endpoint} within ${opts.timeoutMs ?? 60_000} ms; its output:\n${out.trim() || "(none)"}`,
            );
        }
        await new Promise((r) => setTimeout(r, 100));
    }
    return {
        endpoint,
        async reset() {
            const r = await fetch(`${endpoint}/moto-api/reset`, { method: "POST" });
            if (!r.ok) {
                throw new Error(`moto reset failed: HTTP ${r.status} ${await r.text()}`);
            }
        },
        stop,
        output: () => out,
    };
}
