/**
 * The resolved shapes the dynamic providers receive (`XInputs`) and store (`XOutputs`), and the pure
 * validation their `check` runs. No I/O, no @pulumi/* import.
 */

import { checkEniInputs, checkRoute53Inputs, EniBackendInputs, Route53BackendInputs } from "../vipBackends/awsInputs";

export type Flavor = "mysql" | "mariadb";
export type Transport = "openapi" | "dmctl";

export interface DmEndpointInputs {
    /** dm-master's address, `host:port` (the OpenAPI is served on the same port). */
    address: string;
    /** @default "openapi" */
    transport?: Transport;
    /** PEM contents for a DM cluster with TLS; `key` is a secret. */
    tls?: { ca?: string; cert?: string; key?: string };
    /** dmctl to use with the dmctl transport. @default "dmctl" on PATH */
    dmctlPath?: string;
}

export interface AddressInputs {
    host: string;
    port: number;
}

export interface HaproxyBackendInputs {
    kind: "haproxy";
    /** HAProxy runtime API: a Unix socket path or `host:port`. */
    socket: string;
    backend: string;
    /** Instance name → HAProxy server name. */
    servers: Record<string, string>;
}

// The AWS backends' inputs and their pure validation live beside the backends.
export type { EniBackendInputs, Route53BackendInputs } from "../vipBackends/awsInputs";

export type VipBackendInputs = HaproxyBackendInputs | Route53BackendInputs | EniBackendInputs;

/**
 * How a Vip checks a move: "connect" reads server_id through the VIP's address and from the target;
 * "backend" asks the backend where the VIP points (after the backend's own wait), for a runner that
 * cannot reach the VIP, or an AWS-compatible API such as moto that moves no packets.
 */
export type VipVerify = "connect" | "backend";

export interface SwitchTimeouts {
    /** How long a task may take to reach Paused or Running. @default 30000 */
    stageTimeoutMs?: number;
    /** How long to wait for a lagging target to catch up with gtid-S. @default 10000 */
    catchUpTimeoutMs?: number;
    /**
     * After a switch, how long to wait for each syncer's checkpoint to move past gtid-S and relay (if
     * enabled) to read from the new server; 0 skips it. @default 60000 (DM flushes checkpoints every 30 s)
     */
    advanceTimeoutMs?: number;
}

export interface VipInputs extends SwitchTimeouts {
    dm: DmEndpointInputs;
    /** The DM source that reads through this VIP. */
    sourceId: string;
    flavor: Flavor;
    /** The replication set: each instance's own address (not the VIP's). */
    instances: Record<string, AddressInputs>;
    /** The instance the VIP must point at. */
    target: string;
    /** The VIP's address as DM reaches it, to verify which server answers there. */
    address: AddressInputs;
    /** A user that can read the GTID variables on every instance (usually the source's user). */
    user: string;
    password: string;
    backend: VipBackendInputs;
    /** How a move is verified before the tasks resume. @default "connect" */
    verify?: VipVerify;
    /** Tasks to pause around a switch. @default every task of the source, as DM reports it */
    tasks?: string[];
    /** The steps a switch will run, for the preview (set by `check`). */
    plan?: string[];
}

export interface VipOutputs extends Omit<VipInputs, "password"> {
    /** Tasks dm-switch paused and could not resume yet: the next `pulumi up` resumes them. */
    pausedByUs: string[];
    /**
     * The last switch: from, to, gtid-S per task, replication paused for, transactions written on the
     * target itself during it (see `SwitchReport.writtenOnTarget`), when.
     */
    lastSwitch?: { from?: string; to: string; gtidS: Record<string, string>; pausedMs?: number; writtenOnTarget?: string; at: string };
}

export interface SourceBindingInputs extends SwitchTimeouts {
    dm: DmEndpointInputs;
    sourceId: string;
    /** The instance name of host:port, for messages and plans. */
    instance?: string;
    host: string;
    port: number;
    user: string;
    password: string;
    flavor: Flavor;
    /** Must be true: DM can switch instances only in GTID mode. */
    enableGtid: boolean;
    enableRelay?: boolean;
    /** Tasks to stop and start around an address change. @default every task of the source */
    tasks?: string[];
    /** Delete (operate-source stop) even while tasks use the source. @default false */
    deleteWithTasks?: boolean;
    /**
     * The downstream password of the source's tasks: DM hands task configurations back with it masked,
     * and start-task needs it. Required to change host/port while tasks use the source.
     */
    downstreamPassword?: string;
    /** Instances of the replication set by name, to name `host:port` in plans. @default undefined */
    instances?: Record<string, AddressInputs>;
    plan?: string[];
}

export interface SourceBindingOutputs extends Omit<SourceBindingInputs, "password" | "downstreamPassword"> {
    /** Tasks stopped or paused by dm-switch that a failed run could not start again. */
    pausedByUs: string[];
    /** Tasks a failed address switch left stopped: DM's config of each (masked password) and gtid-S to start from. */
    stoppedTasks?: { name: string; config: string; gtidS: string }[];
    /** As `VipOutputs.lastSwitch`. */
    lastSwitch?: { from?: string; to: string; gtidS: Record<string, string>; pausedMs?: number; writtenOnTarget?: string; at: string };
}

export interface CheckFailure {
    property: string;
    reason: string;
}

const HOST_PORT = /^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/;

function checkDm(dm: DmEndpointInputs | undefined, out: CheckFailure[]) {
    if (!dm || typeof dm.address !== "string" || !HOST_PORT.test(dm.address)) {
        out.push({ property: "dm", reason: `dm.address must be dm-master's host:port (for example "10.0.0.5:8261"), got ${JSON.stringify(dm?.address)}` });
    }
    if (dm?.transport !== undefined && dm.transport !== "openapi" && dm.transport !== "dmctl") {
        out.push({ property: "dm", reason: `dm.transport must be "openapi" or "dmctl", got ${JSON.stringify(dm.transport)}` });
    }
}

function checkAddress(name: string, a: AddressInputs | undefined, out: CheckFailure[]) {
    if (!a || typeof a.host !== "string" || a.host === "" || !Number.isInteger(a.port) || a.port < 1 || a.port > 65535) {
        out.push({ property: name, reason: `${name} must be {host, port} with a port from 1 to 65535, got ${JSON.stringify(a)}` });
    }
}

function checkCommon(i: { sourceId?: unknown; flavor?: unknown; user?: unknown; password?: unknown }, out: CheckFailure[]) {
    if (typeof i.sourceId !== "string" || !/^[A-Za-z0-9_.-]+$/.test(i.sourceId)) {
        out.push({ property: "sourceId", reason: `sourceId must be a DM source name (letters, digits, '_', '.', '-'), got ${JSON.stringify(i.sourceId)}` });
    }
    if (i.flavor !== "mysql" && i.flavor !== "mariadb") {
        out.push({ property: "flavor", reason: `flavor must be "mysql" or "mariadb", got ${JSON.stringify(i.flavor)}` });
    }
    if (typeof i.user !== "string" || i.user === "") {
        out.push({ property: "user", reason: "user must name the MySQL user DM replicates with" });
    }
    if (typeof i.password !== "string") {
        // Never echo the value: it is a secret.
        out.push({ property: "password", reason: "password must be a string (set it with 'pulumi config set --secret')" });
    }
}

/** A VIP moved by another resource (see ../hookedVip.ts): the Vip's inputs without a backend. */
export interface VipIntentInputs extends Omit<VipInputs, "backend" | "verify" | "plan" | keyof SwitchTimeouts> {
    /** The resource that moves the VIP, for messages: "aws.route53.Record orders-vip". */
    vipResource: string;
}

/** Pure input validation of a Vip; every failure names the property and the remedy. */
export function checkVipInputs(i: VipInputs): CheckFailure[] {
    const out = checkVipIntentInputs(i);
    const names = Object.keys(i.instances ?? {});
    const b = i.backend;
    const mapped = b?.kind === "haproxy" ? b.servers : b?.kind === "route53" ? b.values : b?.kind === "eni" ? b.enis : undefined;
    if (!mapped) {
        out.push({ property: "backend", reason: `backend.kind must be "haproxy", "route53" or "eni", got ${JSON.stringify((b as { kind?: unknown })?.kind)}` });
    } else {
        const missing = names.filter((n) => !(n in mapped));
        if (missing.length > 0) {
            out.push({ property: "backend", reason: `the ${b.kind} backend has no entry for instance ${missing.join(", ")}: add one per instance` });
        }
    }
    if (b?.kind === "haproxy" && (!b.socket || !b.backend)) {
        out.push({ property: "backend", reason: "the haproxy backend needs socket (runtime API path or host:port) and backend (the backend section's name)" });
    }
    if (b?.kind === "route53") {
        out.push(...checkRoute53Inputs(b));
    }
    if (b?.kind === "eni") {
        out.push(...checkEniInputs(b));
    }
    if (i.verify !== undefined && i.verify !== "connect" && i.verify !== "backend") {
        out.push({
            property: "verify",
            reason: `verify must be "connect" (server_id through the VIP's address) or "backend" (where the backend says the VIP points), got ${JSON.stringify(i.verify)}`,
        });
    }
    return out;
}

/** Pure input validation of what every VIP has, whatever moves it. */
export function checkVipIntentInputs(i: Omit<VipIntentInputs, "vipResource">): CheckFailure[] {
    const out: CheckFailure[] = [];
    checkDm(i.dm, out);
    checkCommon(i, out);
    checkAddress("address", i.address, out);
    const names = Object.keys(i.instances ?? {});
    if (names.length === 0) {
        out.push({ property: "instances", reason: "instances must name at least one instance of the replication set, each {host, port}" });
    }
    for (const n of names) {
        checkAddress(`instances.${n}`, i.instances[n], out);
    }
    if (!names.includes(i.target)) {
        out.push({ property: "target", reason: `target must be one of the instances (${names.join(", ")}), got ${JSON.stringify(i.target)}` });
    }
    if (i.tasks !== undefined && (!Array.isArray(i.tasks) || i.tasks.some((t) => typeof t !== "string" || t === ""))) {
        out.push({ property: "tasks", reason: "tasks must be a list of DM task names, or left out for every task of the source" });
    }
    return out;
}

/** Pure input validation of a SourceBinding. */
export function checkSourceBindingInputs(i: SourceBindingInputs): CheckFailure[] {
    const out: CheckFailure[] = [];
    checkDm(i.dm, out);
    checkCommon(i, out);
    checkAddress("address", { host: i.host, port: i.port }, out);
    if (i.enableGtid !== true) {
        out.push({
            property: "enableGtid",
            reason:
                "enableGtid must be true: DM can switch a source to another instance of the replication set only in GTID mode " +
                "(enable-gtid: true in the source configuration); set enableGtid: true",
        });
    }
    return out;
}
