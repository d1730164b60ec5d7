/**
 * The resolved shapes the dynamic providers receive (`XInputs`) and store (`XOutputs`); the pure
 * validation their `check` runs is ./checks.ts (re-exported here). No I/O, no @pulumi/* import.
 */

import type {
    AddressInputs,
    DmEndpointInputs,
    Flavor,
    MysqlTlsInputs,
    SwitchTimeouts,
    UpstreamSettings,
} from "../model";
import type { EniBackendInputs, Route53BackendInputs } from "../vipBackends/awsInputs";

// The shared vocabulary is defined once, in ../model.ts.
export type { AddressInputs, DmEndpointInputs, Flavor, MysqlTlsInputs, Transport } from "../model";

export interface HaproxyBackendInputs {
    kind: "haproxy";
    /** HAProxy runtime API: a Unix socket path or `host:port`. */
    socket: string;
    backend: string;
    /** Instance name → HAProxy server name. */
    servers: Record<string, string>;
    /**
     * With `verify: "backend"`, accept the `servers` mapping without proof (see checkVipInputs). Leave it
     * false: HAProxy's VIP can always be verified with "connect". @default false
     */
    trustMapping?: boolean;
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

export type { SwitchTimeouts } from "../model";

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
    /**
     * The source's tasks, as a check: every task DM runs on the source is paused and checked whatever the
     * list says, and a list that is empty or omits one of them is refused. @default every task of the source
     */
    tasks?: string[];
    /** The steps a switch will run, for the preview (set by `check`). */
    plan?: string[];
}

/** A switch as the state records it (`lastSwitch`). */
export interface LastSwitch {
    /** The instance DM read from before; undefined when the VIP pointed at no known instance. */
    from?: string;
    to: string;
    /** gtid-S per task, read with the tasks paused. */
    gtidS: Record<string, string>;
    /** How long replication was paused (VIP) or stopped (address). @default undefined (not measured) */
    pausedMs?: number;
    /** Transactions written on the target itself during the switch (see `SwitchReport.writtenOnTarget`). @default undefined (none) */
    writtenOnTarget?: string;
    /** When (ISO 8601). */
    at: string;
}

export interface VipOutputs extends Omit<VipInputs, "password"> {
    /** Tasks dm-switch paused and could not resume yet: the next `pulumi up` resumes them. */
    pausedByUs: string[];
    /**
     * The last switch: from, to, gtid-S per task, replication paused for, transactions written on the
     * target itself during it (see `SwitchReport.writtenOnTarget`), when.
     */
    lastSwitch?: LastSwitch;
}

export interface SourceBindingInputs extends SwitchTimeouts, UpstreamSettings {
    dm: DmEndpointInputs;
    sourceId: string;
    /** The instance name of host:port, for messages and plans. */
    instance?: string;
    /** The source's tasks, as a check (see `VipInputs.tasks`). @default every task of the source */
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
    /** TLS of dm-switch's connections to host:port (the policy pack's probe of it). @default no TLS */
    tls?: MysqlTlsInputs;
    plan?: string[];
}

export interface SourceBindingOutputs extends Omit<SourceBindingInputs, "password" | "downstreamPassword"> {
    /** Tasks stopped or paused by dm-switch that a failed run could not start again. */
    pausedByUs: string[];
    /** Tasks a failed address switch left stopped: DM's config of each (masked password) and gtid-S to start from. */
    stoppedTasks?: { name: string; config: string; gtidS: string }[];
    /**
     * Salted digest of the password DM's source was created with (./passwordDigest.ts), never the password:
     * a changed password is a change of settings. @default undefined (a state written before digests were kept)
     */
    passwordDigest?: string;
    /**
     * DM's configuration file of the source (password masked), kept while a failed run has stopped the source
     * and not created it again: the next run creates it from this. @default undefined
     */
    sourceFile?: string;
    /** As `VipOutputs.lastSwitch`. */
    lastSwitch?: LastSwitch;
}

export interface CheckFailure {
    property: string;
    reason: string;
}

/** A VIP moved by another resource (see ../hookedVip.ts): the Vip's inputs without a backend. */
export interface VipIntentInputs extends Omit<VipInputs, "backend" | "verify" | "plan" | keyof SwitchTimeouts> {
    /** The resource that moves the VIP, for messages: "aws.route53.Record orders-vip". */
    vipResource: string;
}

// The pure validation `check` runs lives in ./checks.ts.
export { checkMysqlTls, checkSourceBindingInputs, checkVipInputs, checkVipIntentInputs } from "./checks";
