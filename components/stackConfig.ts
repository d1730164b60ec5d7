/**
 * The stack configuration `index.ts` reads (keys `dm-switch:dm`, `dm-switch:instances`,
 * `dm-switch:sources`, secret `dm-switch:passwords`), validated purely so that bad input fails the
 * preview with the key, the problem and the remedy, before anything changes.
 */
import { AddressInputs, DmEndpointInputs, Flavor, VipBackendInputs, VipVerify } from "./providers/inputs";
import type { SourceVip } from "./source";

export interface SourceConfig {
    /** The DM source name. */
    id: string;
    flavor: Flavor;
    /** The MySQL user DM replicates with; its password is `dm-switch:passwords.<id>` (secret). */
    user: string;
    /** "vip": the source reads through a VIP that dm-switch moves; "address": dm-switch re-creates the source. */
    mode: "vip" | "address";
    /** The instance the source should read from: switching = changing this name. */
    reads: string;
    tasks?: string[];
    enableRelay?: boolean;
    /** VIP mode: the VIP's address and the backend that moves it (exactly one of haproxy, route53, eni). */
    vip?: {
        address: AddressInputs;
        haproxy?: Omit<Extract<VipBackendInputs, { kind: "haproxy" }>, "kind">;
        route53?: Omit<Extract<VipBackendInputs, { kind: "route53" }>, "kind">;
        eni?: Omit<Extract<VipBackendInputs, { kind: "eni" }>, "kind">;
        /** An `aws.route53.Record` managed by @pulumi/aws, switched by dm-switch's hooks. */
        route53Record?: { zoneId: string; recordName: string; recordType?: "A" | "CNAME"; ttl?: number; values: Record<string, string> };
        /** A site script run by a `command.local.Command` (@pulumi/command), switched by dm-switch's hooks. */
        command?: { script: string; values?: Record<string, string> };
        /**
         * How the Vip (haproxy, route53, eni) verifies a move: "connect" through `address`, or "backend"
         * (where the backend says the VIP points). @default "connect"
         */
        verify?: VipVerify;
    };
    stageTimeoutMs?: number;
    catchUpTimeoutMs?: number;
    advanceTimeoutMs?: number;
}

export interface StackConfig {
    dm: DmEndpointInputs;
    instances: Record<string, AddressInputs>;
    sources: SourceConfig[];
}

/** The ways a VIP can be moved: by the Vip resource (haproxy, route53, eni) or by a hooked resource. */
const VIP_KINDS = ["haproxy", "route53", "eni", "route53Record", "command"];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Every problem of the configuration, each naming its key and the remedy; [] when it is usable. */
export function validateStackConfig(raw: { dm?: unknown; instances?: unknown; sources?: unknown }): string[] {
    const errors: string[] = [];
    if (!isObject(raw.dm) || typeof raw.dm.address !== "string") {
        errors.push(`dm-switch:dm must be {address: "<dm-master host:port>", transport?: openapi|dmctl}: run 'pulumi config set --path dm-switch:dm.address 10.0.0.5:8261'`);
    }
    const instances = isObject(raw.instances) ? raw.instances : {};
    const names = Object.keys(instances);
    if (names.length === 0) {
        errors.push(`dm-switch:instances must name the replication set's instances, e.g. {mysql-a: {host: 10.0.0.11, port: 3306}}`);
    }
    for (const [n, a] of Object.entries(instances)) {
        if (!isObject(a) || typeof a.host !== "string" || !Number.isInteger(a.port)) {
            errors.push(`dm-switch:instances.${n} must be {host, port} with an integer port`);
        }
    }
    if (!Array.isArray(raw.sources) || raw.sources.length === 0) {
        errors.push(`dm-switch:sources must list at least one DM source, e.g. [{id: mysql-01, flavor: mysql, user: dm, mode: vip, reads: mysql-a, vip: {...}}]`);
        return errors;
    }
    const seen = new Set<string>();
    raw.sources.forEach((s: unknown, i: number) => {
        const key = `dm-switch:sources[${i}]`;
        if (!isObject(s)) {
            errors.push(`${key} must be an object`);
            return;
        }
        if (typeof s.id !== "string" || s.id === "") {
            errors.push(`${key}.id must be the DM source name`);
        } else if (seen.has(s.id)) {
            errors.push(`${key}.id: source ${s.id} is listed twice; each DM source once`);
        } else {
            seen.add(s.id);
        }
        if (s.flavor !== "mysql" && s.flavor !== "mariadb") {
            errors.push(`${key}.flavor must be "mysql" or "mariadb", got ${JSON.stringify(s.flavor)}`);
        }
        if (typeof s.user !== "string" || s.user === "") {
            errors.push(`${key}.user must name the MySQL user DM replicates with`);
        }
        if (typeof s.reads !== "string" || !names.includes(s.reads)) {
            errors.push(`${key}.reads: ${JSON.stringify(s.reads)} is not an instance; use one of ${names.join(", ")} (dm-switch:instances)`);
        }
        for (const t of ["stageTimeoutMs", "catchUpTimeoutMs", "advanceTimeoutMs"]) {
            if (s[t] !== undefined && !(Number.isInteger(s[t]) && (s[t] as number) >= 0)) {
                errors.push(`${key}.${t} must be a whole number of milliseconds ≥ 0, got ${JSON.stringify(s[t])}; remove it for the default`);
            }
        }
        if (s.mode === "vip") {
            const vip = isObject(s.vip) ? s.vip : undefined;
            const backends = vip ? VIP_KINDS.filter((b) => isObject(vip[b])) : [];
            if (!vip || !isObject(vip.address) || backends.length !== 1) {
                errors.push(`${key}.vip must be {address: {host, port}, and exactly one of ${VIP_KINDS.join(", ")}} in vip mode`);
            } else if (isObject(vip.command) && (typeof vip.command.script !== "string" || vip.command.script.trim() === "")) {
                errors.push(`${key}.vip.command.script must be the shell script that points the VIP at $DM_SWITCH_TARGET`);
            } else if (vip.verify !== undefined && (isObject(vip.route53Record) || isObject(vip.command))) {
                errors.push(`${key}.vip.verify applies to the haproxy, route53 and eni backends; a hooked VIP is verified through vip.address: remove vip.verify`);
            }
        } else if (s.mode !== "address") {
            errors.push(`${key}.mode must be "vip" (dm-switch moves a VIP) or "address" (dm-switch re-creates the source at the instance's address), got ${JSON.stringify(s.mode)}`);
        }
    });
    return errors;
}

/** How a source in VIP mode moves its VIP, as the Source component takes it. */
export function vipOf(s: SourceConfig): SourceVip | undefined {
    const v = s.vip;
    if (s.mode !== "vip" || !v) {
        return undefined;
    }
    if (v.route53Record) {
        return { address: v.address, route53Record: v.route53Record };
    }
    if (v.command) {
        return { address: v.address, command: v.command };
    }
    const backend: VipBackendInputs = v.haproxy ? { kind: "haproxy", ...v.haproxy } : v.route53 ? { kind: "route53", ...v.route53 } : { kind: "eni", ...v.eni! };
    return { address: v.address, backend, ...(v.verify !== undefined ? { verify: v.verify } : {}) };
}
