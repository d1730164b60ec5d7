/**
 * Starts moto, the AWS API server the Route53 and ENI tests run against, from the virtual environment
 * `npm run setup` installs. Loopback only, a free port, its output kept to explain a failed start.
 */
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { pollUntil } from "../components/util/poll";
import { motoVenv, VERSIONS } from "./env";

/** A running moto server. */
export interface Moto {
    /** The endpoint URL every AWS client of a test points at: "http://127.0.0.1:PORT". */
    endpoint: string;
    /** Forgets every resource created so far (POST /moto-api/reset). */
    reset(): Promise<void>;
    /**
     * Creates an IAM user holding only `policy` (inline) and returns its access key. Call it while IAM
     * enforcement is off.
     */
    iamUser(name: string, policy: object): Promise<{ accessKeyId: string; secretAccessKey: string }>;
    /**
     * Turns moto's IAM enforcement on (every later request is authenticated and authorized against moto's
     * IAM: actions only, not resources or conditions) or off.
     */
    enforceIam(on: boolean): Promise<void>;
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

/** One IAM query API call to moto; unsigned, which moto accepts while IAM enforcement is off. */
async function iamCall(endpoint: string, params: Record<string, string>): Promise<string> {
    const r = await fetch(endpoint, {
        method: "POST",
        headers: {
            "Content-Type": "application/x-www-form-urlencoded",
            // moto routes a request to a service by the credential scope of its Authorization header.
            Authorization:
                "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0",
        },
        body: new URLSearchParams({ ...params, Version: "2010-05-08" }).toString(),
    });
    const text = await r.text();
    if (!r.ok) {
        throw new Error(`moto IAM ${params.Action} failed: HTTP ${r.status} ${text}`);
    }
    return text;
}

async function iamUser(endpoint: string, name: string, policy: object) {
    await iamCall(endpoint, { Action: "CreateUser", UserName: name });
    await iamCall(endpoint, {
        Action: "PutUserPolicy",
        UserName: name,
        PolicyName: `${name}-policy`,
        PolicyDocument: JSON.stringify(policy),
    });
    const key = await iamCall(endpoint, { Action: "CreateAccessKey", UserName: name });
    const field = (f: string) => new RegExp(`<${f}>([^<]+)</${f}>`).exec(key)?.[1];
    const accessKeyId = field("AccessKeyId");
    const secretAccessKey = field("SecretAccessKey");
    if (!accessKeyId || !secretAccessKey) {
        throw new Error(`moto IAM CreateAccessKey answered no key: ${key}`);
    }
    return { accessKeyId, secretAccessKey };
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
    // moto runs under a small sh in its own process group: stop() ends the group, and if this process dies
    // without stopping it, the pipe on sh's stdin closes and sh ends moto (nothing leaks on a shared machine).
    const watchdog = 'exec 3<&0; ("$0" "$@" 3<&-) & m=$!; (read -r _ <&3; kill $m 2>/dev/null) & wait $m';
    const child = spawn("sh", ["-c", watchdog, bin, "-H", "127.0.0.1", "-p", String(port)], {
        stdio: ["pipe", "pipe", "pipe"],
        detached: true,
    });
    let out = "";
    const keep = (d: Buffer) => {
        // Only the tail matters for a diagnosis; a long test run logs every request.
        out = (out + d.toString()).slice(-20_000);
    };
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    let spawnError: Error | undefined;
    child.on("error", (err) => (spawnError = err));

    const group = (signal: NodeJS.Signals) => {
        try {
            process.kill(-child.pid!, signal);
        } catch {
            // the group is gone already
        }
    };
    const stop = async () => {
        if (child.pid !== undefined) {
            group("SIGTERM");
            const timer = setTimeout(() => group("SIGKILL"), 5000);
            await exited(child);
            clearTimeout(timer);
        }
        child.stdin!.destroy();
    };
    const started = await pollUntil(
        async () => {
            if (spawnError || child.exitCode !== null || child.signalCode !== null) {
                return "exited";
            }
            try {
                const r = await fetch(`${endpoint}/moto-api/data.json`, { signal: AbortSignal.timeout(2000) });
                return r.ok ? "answers" : undefined;
            } catch {
                return undefined; // not listening yet
            }
        },
        { intervalMs: 100, timeoutMs: opts.timeoutMs ?? 60_000 },
    );
    if (started !== "answers") {
        await stop();
        throw new Error(
            started === "exited"
                ? `moto_server did not start (${spawnError?.message ?? `exit ${child.exitCode ?? child.signalCode}`}); its output:\n${out.trim() || "(none)"}`
                : `moto_server did not answer on ${endpoint} within ${opts.timeoutMs ?? 60_000} ms; its output:\n${out.trim() || "(none)"}`,
        );
    }
    return {
        endpoint,
        async reset() {
            const r = await fetch(`${endpoint}/moto-api/reset`, { method: "POST" });
            if (!r.ok) {
                throw new Error(`moto reset failed: HTTP ${r.status} ${await r.text()}`);
            }
        },
        iamUser: (name, policy) => iamUser(endpoint, name, policy),
        async enforceIam(on) {
            // The number of requests still served without authentication: 0 = enforce from now on.
            const r = await fetch(`${endpoint}/moto-api/reset-auth`, { method: "POST", body: on ? "0" : "inf" });
            if (!r.ok) {
                throw new Error(`moto reset-auth failed: HTTP ${r.status} ${await r.text()}`);
            }
        },
        stop,
        output: () => out,
    };
}
