/**
 * The sandbox's VIP: an HAProxy TCP frontend whose backend holds the primary (enabled) and the replica
 * (declared, disabled). dm-switch moves it through the runtime API (components/vipBackends/haproxy.ts),
 * over the Unix socket or the loopback TCP admin port.
 *
 * No health checks: the VIP points where it was told, like a keepalived address, so a dead primary
 * stays "the target" until someone moves the VIP. Server states survive a graceful stop (saved to
 * `servers.state` and loaded on start); a kill forgets them and HAProxy comes back on the configuration
 * (VIP at the primary), as after a crash.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { haproxyCommand, HaproxyVip } from "../components/vipBackends/haproxy";
import { daemon, DaemonSpec, portOpen, Proc } from "./proc";

/** The backend behind the VIP and its two servers, named after the instances. */
export const VIP_BACKEND = "mariadb";
/** Instance name → HAProxy server name (the same words). */
export const VIP_SERVERS = { primary: "primary", replica: "replica" } as const;

/** Where HAProxy listens and what it forwards to. */
export interface HaproxyOptions {
    /** The sandbox directory; HAProxy's files go to `<dir>/haproxy`. */
    dir: string;
    /** The VIP: 127.0.0.1:vipPort. */
    vipPort: number;
    /** The runtime API on 127.0.0.1:statsPort (besides the Unix socket). */
    statsPort: number;
    primaryPort: number;
    replicaPort: number;
    /** Kill HAProxy when this Node process exits. @default true */
    killOnExit?: boolean;
    log?(line: string): void;
}

/** A running HAProxy and how to reach its runtime API. */
export interface SandboxHaproxy {
    proc: Proc;
    /** Unix socket of the runtime API (level admin). */
    socket: string;
    /** `127.0.0.1:<statsPort>`: the runtime API over TCP (level admin). */
    adminAddr: string;
    /** The VIP as dm-switch's HAProxy backend sees it. */
    vip: HaproxyVip;
}

/** The HAProxy binary: `HAPROXY_BIN`, else the first `haproxy` on PATH or in the sbin folders. */
export function haproxyBin(): string {
    if (process.env.HAPROXY_BIN) {
        return process.env.HAPROXY_BIN;
    }
    const dirs = [...(process.env.PATH ?? "").split(path.delimiter), "/usr/sbin", "/usr/local/sbin", "/sbin"];
    const found = dirs
        .filter((d) => d !== "")
        .map((d) => path.join(d, "haproxy"))
        .find((f) => fs.existsSync(f));
    if (!found) {
        throw new Error(
            "haproxy not found on PATH or in /usr/sbin; install it (npm run setup, or apt-get install haproxy) or set HAPROXY_BIN.",
        );
    }
    return found;
}

/** The configuration file's text. */
export function haproxyConfig(o: {
    socket: string;
    statsPort: number;
    stateFile: string;
    vipPort: number;
    primaryPort: number;
    replicaPort: number;
}): string {
    return [
        "global",
        `  stats socket ${o.socket} mode 600 level admin`,
        `  stats socket ipv4@127.0.0.1:${o.statsPort} level admin`,
        `  server-state-file ${o.stateFile}`,
        "  nbthread 1",
        "  log stderr format raw local0 notice",
        "defaults",
        "  mode tcp",
        "  log global",
        "  timeout connect 2s",
        // DM's binlog connection is quiet while nothing is written: no idle cut-off in a sandbox.
        "  timeout client 24h",
        "  timeout server 24h",
        "  load-server-state-from-file global",
        "frontend vip",
        `  bind 127.0.0.1:${o.vipPort}`,
        `  default_backend ${VIP_BACKEND}`,
        `backend ${VIP_BACKEND}`,
        `  server ${VIP_SERVERS.primary} 127.0.0.1:${o.primaryPort}`,
        `  server ${VIP_SERVERS.replica} 127.0.0.1:${o.replicaPort} disabled`,
        "",
    ].join("\n");
}

/** The daemon description; `pid` attaches to a running HAProxy (sandbox:down from another process). */
export function haproxyDaemon(o: HaproxyOptions, pid?: number): SandboxHaproxy {
    const home = path.join(o.dir, "haproxy");
    fs.mkdirSync(home, { recursive: true, mode: 0o700 });
    const socket = path.join(home, "admin.sock");
    const stateFile = path.join(home, "servers.state");
    const cfgFile = path.join(home, "haproxy.cfg");
    fs.writeFileSync(cfgFile, haproxyConfig({ socket, stateFile, ...o }), { mode: 0o600 });
    const adminAddr = `127.0.0.1:${o.statsPort}`;
    const vip = new HaproxyVip({ socket, backend: VIP_BACKEND, servers: { ...VIP_SERVERS } });
    const spec: DaemonSpec = {
        name: "haproxy",
        command: haproxyBin(),
        // -db: stay in the foreground (the sandbox holds the process id), logs to stderr.
        args: ["-db", "-f", cfgFile],
        identity: cfgFile,
        cwd: home,
        logFile: path.join(home, "haproxy.log"),
        readyTimeoutMs: 10_000,
        graceMs: 5000,
        killOnExit: o.killOnExit,
        log: o.log,
        ready: async () => (await portOpen(o.vipPort)) && (await vip.servers()).length === 2,
        beforeStop: async () =>
            fs.writeFileSync(stateFile, await haproxyCommand(socket, "show servers state"), { mode: 0o600 }),
        afterKill: () => fs.rmSync(stateFile, { force: true }),
    };
    return { proc: daemon(spec, pid), socket, adminAddr, vip };
}

/**
 * {@link startHaproxy}; when HAProxy finds its VIP or admin port taken (another process bound it after it was
 * chosen), again on the ports `choose` gives, three attempts in all. Returns HAProxy and the ports it got.
 */
export async function startHaproxyOnFreePorts(
    o: HaproxyOptions,
    choose: () => Promise<{ vipPort: number; statsPort: number }>,
): Promise<{ haproxy: SandboxHaproxy; vipPort: number; statsPort: number }> {
    let ports = { vipPort: o.vipPort, statsPort: o.statsPort };
    for (let attempt = 1; ; attempt++) {
        try {
            return { haproxy: await startHaproxy({ ...o, ...ports }), ...ports };
        } catch (e) {
            if (attempt >= 3 || !/Address already in use/.test((e as Error).message)) {
                throw e;
            }
            o.log?.(`haproxy: port ${ports.vipPort} or ${ports.statsPort} was taken; trying others`);
            ports = await choose();
        }
    }
}

/** Starts HAProxy and waits until the VIP listens and the runtime API lists both servers. */
export async function startHaproxy(o: HaproxyOptions): Promise<SandboxHaproxy> {
    const h = haproxyDaemon(o);
    fs.rmSync(path.join(o.dir, "haproxy", "servers.state"), { force: true });
    await h.proc.start();
    return h;
}
