/**
 * A VIP made by an HAProxy TCP frontend: the instance the VIP points at is the one server of the
 * backend that is not in maintenance. Driven through HAProxy's runtime API (`stats socket … level admin`),
 * over a Unix socket path or `host:port`.
 */
import * as net from "node:net";
import { VipBackend, VipSplitError } from "./types";

export interface HaproxyVipConfig {
    /** Runtime API address: a Unix socket path, or `host:port` for a TCP stats socket. */
    socket: string;
    /** The backend section behind the VIP's frontend. */
    backend: string;
    /** Instance name → HAProxy server name in that backend. */
    servers: Record<string, string>;
    /** @default 5000 */
    timeoutMs?: number;
}

// srv_admin_state flags (HAProxy's server.h): forced, inherited and resolution maintenance, and drain.
// CMAINT (0x04, "disabled" in the configuration) stays set after `enable server`, so it is not tested.
const ADMIN_NOT_SERVING = 0x01 | 0x02 | 0x20 | 0x08 | 0x10;

/**
 * HAProxy's own rule for proxy and server names (cfgparse.c `invalid_char`): letters, digits, '-', '_',
 * '.', ':'. Anything else in a name would end up inside a runtime API command, where a newline or ';'
 * starts another command and a space shifts the arguments.
 */
const HAPROXY_NAME = /^[A-Za-z0-9_.:-]+$/;

/** True for a name HAProxy accepts for a backend or a server (and so safe inside a runtime API command). */
export function isHaproxyName(name: unknown): name is string {
    return typeof name === "string" && HAPROXY_NAME.test(name);
}

/**
 * Sends one runtime API command, on one line, and returns HAProxy's answer (HAProxy closes the connection
 * after it). A command holding a line break or ';' is refused before anything is sent: HAProxy would run
 * what follows as another command.
 */
export function haproxyCommand(socket: string, command: string, timeoutMs = 5000): Promise<string> {
    if (/[\r\n;]/.test(command)) {
        return Promise.reject(
            new Error(
                `HAProxy runtime API ${socket}: refusing to send ${JSON.stringify(command)}: a line break or ';' in it would start another command`,
            ),
        );
    }
    return new Promise((resolve, reject) => {
        const tcp = /^(.+):(\d+)$/.exec(socket);
        const conn = tcp ? net.createConnection(Number(tcp[2]), tcp[1]) : net.createConnection(socket);
        let out = "";
        const timer = setTimeout(() => conn.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        conn.on("connect", () => conn.end(`${command}\n`));
        conn.on("data", (d) => (out += d));
        conn.on("error", (err) => {
            clearTimeout(timer);
            reject(
                new Error(
                    `HAProxy runtime API ${socket} failed on '${command}': ${err.message}. ` +
                        `Check that HAProxy runs with 'stats socket ${socket} level admin'.`,
                ),
            );
        });
        conn.on("close", () => {
            clearTimeout(timer);
            resolve(out);
        });
    });
}

export interface HaproxyServerState {
    name: string;
    address: string;
    port: number;
    opState: number;
    adminState: number;
    serving: boolean;
}

/** Parses `show servers state <backend>` (format version 1). */
export function parseServersState(text: string, backend: string): HaproxyServerState[] {
    const lines = text.split("\n").map((l) => l.trim());
    if (lines[0] !== "1") {
        throw new Error(
            `HAProxy backend ${backend}: unexpected answer to 'show servers state': ${lines[0] || "(empty)"}`,
        );
    }
    const header = (lines[1] ?? "").replace(/^#\s*/, "").split(/\s+/);
    const col = (n: string) => header.indexOf(n);
    const rows: HaproxyServerState[] = [];
    for (const line of lines.slice(2)) {
        if (!line || line.startsWith("#")) {
            continue;
        }
        const f = line.split(/\s+/);
        if (f[col("be_name")] !== backend) {
            continue;
        }
        const opState = Number(f[col("srv_op_state")]);
        const adminState = Number(f[col("srv_admin_state")]);
        rows.push({
            name: f[col("srv_name")],
            address: f[col("srv_addr")],
            port: Number(f[col("srv_port")]),
            opState,
            adminState,
            serving: (adminState & ADMIN_NOT_SERVING) === 0 && opState !== 0,
        });
    }
    return rows;
}

export class HaproxyVip implements VipBackend {
    readonly description: string;

    constructor(private readonly cfg: HaproxyVipConfig) {
        this.description = `HAProxy backend ${cfg.backend} at ${cfg.socket}`;
        // Checked again here although the provider's check refuses such names: this class is also used
        // directly, and a name goes verbatim into runtime API commands.
        const bad = [
            ...(isHaproxyName(cfg.backend) ? [] : [`backend ${JSON.stringify(cfg.backend)}`]),
            ...Object.entries(cfg.servers ?? {})
                .filter(([, s]) => !isHaproxyName(s))
                .map(([i, s]) => `servers.${i} ${JSON.stringify(s)}`),
        ];
        if (bad.length > 0) {
            throw new Error(
                `HAProxy VIP at ${cfg.socket}: ${bad.join(", ")} is not an HAProxy name (letters, digits, '-', '_', '.', ':'); use the name of the backend section and of its server lines`,
            );
        }
    }

    private async command(cmd: string): Promise<string> {
        const out = (await haproxyCommand(this.cfg.socket, cmd, this.cfg.timeoutMs)).trim();
        // Runtime API commands that change state answer nothing on success, and a sentence on failure.
        if (/^(No such|Can't find|Unknown command|Permission denied|Require)/i.test(out)) {
            throw new Error(`${this.description}: '${cmd}' was refused: ${out}`);
        }
        return out;
    }

    async servers(): Promise<HaproxyServerState[]> {
        const text = await haproxyCommand(
            this.cfg.socket,
            `show servers state ${this.cfg.backend}`,
            this.cfg.timeoutMs,
        );
        if (/Can't find backend/i.test(text)) {
            throw new Error(
                `${this.description}: no such backend; set 'backend' to a backend section of the HAProxy configuration.`,
            );
        }
        return parseServersState(text, this.cfg.backend);
    }

    async current(): Promise<string | undefined> {
        const byServer = new Map(Object.entries(this.cfg.servers).map(([instance, server]) => [server, instance]));
        const serving = (await this.servers()).filter((s) => s.serving);
        const unknown = serving.filter((s) => !byServer.has(s.name));
        if (unknown.length > 0) {
            throw new Error(
                `${this.description}: server ${unknown.map((s) => s.name).join(", ")} is enabled but not one of the stack's instances (${[...byServer.keys()].join(", ")}); disable it or add it to 'servers'.`,
            );
        }
        const instances = serving.map((s) => byServer.get(s.name)!);
        if (instances.length > 1) {
            throw new VipSplitError(this.description, instances);
        }
        return instances[0];
    }

    /**
     * Disables every other server first, then enables the target, then closes the sessions still open
     * to the old servers, so no connection of DM's can keep talking to the old instance.
     */
    async moveTo(target: string): Promise<void> {
        const server = this.cfg.servers[target];
        if (!server) {
            throw new Error(
                `${this.description}: instance ${target} has no server in 'servers' (${Object.keys(this.cfg.servers).join(", ")}).`,
            );
        }
        const others = Object.values(this.cfg.servers).filter((s) => s !== server);
        for (const s of others) {
            await this.command(`disable server ${this.cfg.backend}/${s}`);
        }
        await this.command(`enable server ${this.cfg.backend}/${server}`);
        for (const s of others) {
            await this.command(`shutdown sessions server ${this.cfg.backend}/${s}`);
        }
        const now = await this.current();
        if (now !== target) {
            throw new Error(`${this.description}: after moving to ${target} the VIP points at ${now ?? "no server"}.`);
        }
    }
}
