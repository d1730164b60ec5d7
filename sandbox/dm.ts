/**
 * DM in the sandbox: dm-master (embedded etcd, OpenAPI on) and dm-worker daemons, each in its own
 * folder of the sandbox directory with its TOML configuration, its own log (`log-file`) and its
 * stdout/stderr; readiness is read from dm-master's OpenAPI (`/api/v1/cluster/masters|workers`).
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import * as path from "node:path";
import { daemon, DaemonSpec, portOpen, Proc } from "./proc";

/** The three DM binaries in `binDir`; throws naming the missing one and the remedy. */
export function dmBinaries(binDir: string): { master: string; worker: string; dmctl: string } {
    const bins = {
        master: path.join(binDir, "dm-master"),
        worker: path.join(binDir, "dm-worker"),
        dmctl: path.join(binDir, "dmctl"),
    };
    for (const f of Object.values(bins)) {
        if (!fs.existsSync(f)) {
            throw new Error(
                `DM binary ${f} is missing; run npm run setup, or set DM_BIN_DIR to a folder holding dm-master, dm-worker and dmctl.`,
            );
        }
    }
    return bins;
}

/** Paths of DM's `ssl-ca`, `ssl-cert`, `ssl-key` (sandbox/tls.ts makes them). */
export interface DmTlsFiles {
    ca: string;
    cert: string;
    key: string;
}

/** PEM contents of DM's TLS files: DM's certificate is also a client certificate, good for probes. */
const pemsOf = (f: DmTlsFiles | undefined) =>
    f && {
        ca: fs.readFileSync(f.ca, "utf8"),
        cert: fs.readFileSync(f.cert, "utf8"),
        key: fs.readFileSync(f.key, "utf8"),
    };

/** `ssl-*` lines of a DM config, none without TLS. */
const tlsLines = (f: DmTlsFiles | undefined) =>
    f
        ? [
              `ssl-ca = ${JSON.stringify(f.ca)}`,
              `ssl-cert = ${JSON.stringify(f.cert)}`,
              `ssl-key = ${JSON.stringify(f.key)}`,
          ]
        : [];

/**
 * GET on dm-master's OpenAPI: status and parsed JSON (undefined when not JSON). Never logged raw.
 * With `tls` (PEM contents: CA and client certificate) over HTTPS. @default tls undefined (HTTP)
 */
export function dmGet(
    masterAddr: string,
    urlPath: string,
    timeoutMs = 2000,
    tls?: { ca: string; cert: string; key: string },
): Promise<{ status: number; body: unknown }> {
    return new Promise((resolve, reject) => {
        const get = (url: string, opts: https.RequestOptions, cb: (res: http.IncomingMessage) => void) =>
            tls ? https.get(url, { ...opts, ...tls, agent: false }, cb) : http.get(url, opts, cb);
        const req = get(`${tls ? "https" : "http"}://${masterAddr}${urlPath}`, { timeout: timeoutMs }, (res) => {
            let text = "";
            res.setEncoding("utf8").on("data", (d: string) => (text += d));
            res.on("end", () => {
                let body: unknown;
                try {
                    body = JSON.parse(text);
                } catch {
                    body = undefined;
                }
                resolve({ status: res.statusCode ?? 0, body });
            });
        });
        req.on("timeout", () =>
            req.destroy(new Error(`no answer from dm-master at ${masterAddr} within ${timeoutMs} ms`)),
        );
        req.on("error", reject);
    });
}

/** A worker as `GET /api/v1/cluster/workers` lists it. */
export interface ClusterWorker {
    name: string;
    addr: string;
    /** "free", "bound", "offline", "relay". */
    bound_stage: string;
    bound_source_name: string;
}

/** The workers dm-master knows (`tls`: as dmGet). */
export async function clusterWorkers(
    masterAddr: string,
    tls?: { ca: string; cert: string; key: string },
): Promise<ClusterWorker[]> {
    const r = await dmGet(masterAddr, "/api/v1/cluster/workers", 2000, tls);
    return r.status === 200 ? ((r.body as { data?: ClusterWorker[] })?.data ?? []) : [];
}

/** `read` of the first member of `addresses` (comma-separated) that answers without an error. */
export async function anyMember<T>(addresses: string, read: (member: string) => Promise<T>): Promise<T> {
    let last: unknown;
    for (const m of addresses.split(",")) {
        try {
            return await read(m);
        } catch (e) {
            last = e;
        }
    }
    throw last;
}

/** True when dm-master answers its OpenAPI and its cluster has a live leader (`tls`: as dmGet). */
export async function masterReady(
    masterAddr: string,
    tls?: { ca: string; cert: string; key: string },
): Promise<boolean> {
    const r = await dmGet(masterAddr, "/api/v1/cluster/masters", 2000, tls);
    const masters = (r.body as { data?: { alive?: boolean; leader?: boolean }[] })?.data ?? [];
    return r.status === 200 && masters.some((m) => m.alive && m.leader);
}

/** Where dm-master listens and keeps its data. */
export interface DmMasterOptions {
    dir: string;
    binDir: string;
    /** master-addr (gRPC and OpenAPI). */
    port: number;
    /** Embedded etcd's peer URL port. */
    peerPort: number;
    /** The member's name in the cluster. @default "master1" */
    name?: string;
    /** Its folder in `dir`. @default "dm-master" */
    home?: string;
    /** etcd's `initial-cluster`, every member as `name=http://host:peerPort`. @default this member alone */
    initialCluster?: string;
    /** Serve gRPC, the OpenAPI and etcd over TLS with these files. @default undefined (no TLS) */
    tls?: DmTlsFiles;
    killOnExit?: boolean;
    log?(line: string): void;
}

/** Where dm-worker listens and which dm-master it joins. */
export interface DmWorkerOptions {
    dir: string;
    binDir: string;
    port: number;
    /** `join`: one dm-master's address, or every member's comma-separated. */
    masterAddr: string;
    /** @default "worker1" */
    name?: string;
    /** Its folder in `dir`. @default "dm-worker" */
    home?: string;
    /** Talk TLS to dm-master and serve it on worker-addr, with these files. @default undefined (no TLS) */
    tls?: DmTlsFiles;
    killOnExit?: boolean;
    log?(line: string): void;
}

const q = JSON.stringify;

/**
 * dm-master's token bucket for worker requests (`rpc-rate-limit` a second after a burst of `rpc-rate-burst`;
 * DM's defaults 10 and 40 when unset), from SANDBOX_DM_RPC_RATE="<limit>,<burst>" at start: bench:sources
 * measures with DM's defaults and with a raised limit, as a site with many sources may configure it.
 */
function rpcRateLines(): string[] {
    const raw = process.env.SANDBOX_DM_RPC_RATE;
    if (raw === undefined || raw === "") return [];
    const m = /^\s*(\d+(?:\.\d+)?)\s*,\s*(\d+)\s*$/.exec(raw);
    if (!m) {
        throw new Error(
            `SANDBOX_DM_RPC_RATE=${raw}: write "<limit>,<burst>" (e.g. 100,400), or unset it for DM's 10,40.`,
        );
    }
    return [`rpc-rate-limit = ${Number(m[1]).toFixed(1)}`, `rpc-rate-burst = ${m[2]}`];
}

/** dm-master's daemon; `pid` attaches to a running one. */
export function dmMasterDaemon(o: DmMasterOptions, pid?: number): Proc {
    const name = o.name ?? "master1";
    const home = path.join(o.dir, o.home ?? "dm-master");
    fs.mkdirSync(home, { recursive: true, mode: 0o700 });
    const addr = `127.0.0.1:${o.port}`;
    const peer = `http://127.0.0.1:${o.peerPort}`;
    const cfg = [
        `name = ${q(name)}`,
        `master-addr = ${q(addr)}`,
        `advertise-addr = ${q(addr)}`,
        `peer-urls = ${q(peer)}`,
        `advertise-peer-urls = ${q(peer)}`,
        `initial-cluster = ${q(o.initialCluster ?? `${name}=${peer}`)}`,
        `data-dir = ${q(path.join(home, "data"))}`,
        `log-file = ${q(path.join(home, "dm-master.log"))}`,
        "openapi = true",
        ...rpcRateLines(),
        ...tlsLines(o.tls),
    ];
    return dmDaemon("dm-master", o, { name, first: name === "master1", home, cfg }, pid, () =>
        masterReady(addr, pemsOf(o.tls)),
    );
}

/**
 * One DM member's daemon: its configuration `<home>/<program>.toml` (0600, it may name TLS key files),
 * its own log `<home>/<program>.log` and its output `<home>/stdout.log`; the first member goes by the
 * program's name alone.
 */
function dmDaemon(
    program: "dm-master" | "dm-worker",
    o: { binDir: string; killOnExit?: boolean; log?(line: string): void },
    m: { name: string; first: boolean; home: string; cfg: string[] },
    pid: number | undefined,
    ready: () => Promise<boolean>,
): Proc {
    const toml = path.join(m.home, `${program}.toml`);
    fs.writeFileSync(toml, [...m.cfg, ""].join("\n"), { mode: 0o600 });
    const bins = dmBinaries(o.binDir);
    const spec: DaemonSpec = {
        name: m.first ? program : `${program} ${m.name}`,
        command: program === "dm-master" ? bins.master : bins.worker,
        args: [`--config=${toml}`],
        identity: toml,
        cwd: m.home,
        logFile: path.join(m.home, "stdout.log"),
        extraLogs: [path.join(m.home, `${program}.log`)],
        readyTimeoutMs: 30_000,
        killOnExit: o.killOnExit,
        log: o.log,
        ready,
    };
    return daemon(spec, pid);
}

/** dm-worker's daemon; `pid` attaches to a running one. Ready = it listens and dm-master sees it online. */
export function dmWorkerDaemon(o: DmWorkerOptions, pid?: number): Proc {
    const name = o.name ?? "worker1";
    const home = path.join(o.dir, o.home ?? "dm-worker");
    fs.mkdirSync(home, { recursive: true, mode: 0o700 });
    const addr = `127.0.0.1:${o.port}`;
    const cfg = [
        `name = ${q(name)}`,
        `worker-addr = ${q(addr)}`,
        `advertise-addr = ${q(addr)}`,
        `join = ${q(o.masterAddr)}`,
        `log-file = ${q(path.join(home, "dm-worker.log"))}`,
        // No relay-dir here: with one, this DM build's syncer looks for relay logs in the source's relay-dir
        // ("relay-dir", relative to the worker's working directory) while relay writes them under the
        // worker's, and every checkpoint flush then pauses the task with error 28005 (auto-resumed). The
        // source's default puts relay logs in dm-worker/relay-dir, the worker's working directory.
        ...tlsLines(o.tls),
    ];
    // A killed worker stays listed (its keepalive lease runs out later): also require its port.
    return dmDaemon(
        "dm-worker",
        o,
        { name, first: name === "worker1", home, cfg },
        pid,
        async () =>
            (await portOpen(o.port)) &&
            (await anyMember(o.masterAddr, (m) => clusterWorkers(m, pemsOf(o.tls)))).some(
                (w) => w.name === name && w.bound_stage !== "offline",
            ),
    );
}
