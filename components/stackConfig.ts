/**
 * The stack configuration `index.ts` reads (keys `dm-switch:dm`, `dm-switch:instances`,
 * `dm-switch:sources`, secret `dm-switch:passwords`), validated purely so that bad input fails the
 * preview with the key, the problem and the remedy, before anything changes.
 */
import { AddressInputs, DmEndpointInputs, Flavor, SwitchTimeouts, TIMEOUT_KEYS } from "./model";
import { CheckFailure, checkMysqlTls, VipBackendInputs, VipVerify } from "./providers/inputs";
import type { SourceVip } from "./source";
import { dmAddressProblem } from "./dm/address";

/** One DM source of the stack (an entry of `dm-switch:sources`): where it reads and how it is switched. */
export interface StackSource extends SwitchTimeouts {
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
    /** The source's relay log: true or false (a YAML boolean, not a string). @default false */
    enableRelay?: boolean;
    /** VIP mode: the VIP's address and the backend that moves it (exactly one of haproxy, route53, eni). */
    vip?: {
        address: AddressInputs;
        haproxy?: Omit<Extract<VipBackendInputs, { kind: "haproxy" }>, "kind">;
        route53?: Omit<Extract<VipBackendInputs, { kind: "route53" }>, "kind">;
        eni?: Omit<Extract<VipBackendInputs, { kind: "eni" }>, "kind">;
        /** An `aws.route53.Record` managed by @pulumi/aws, switched by dm-switch's hooks. */
        route53Record?: {
            zoneId: string;
            recordName: string;
            recordType?: "A" | "CNAME";
            ttl?: number;
            values: Record<string, string>;
        };
        /** A site script run by a `command.local.Command` (@pulumi/command), switched by dm-switch's hooks. */
        command?: { script: string; values?: Record<string, string> };
        /**
         * How the Vip (haproxy, route53, eni) verifies a move: "connect" through `address`, or "backend"
         * (where the backend says the VIP points). @default "connect"
         */
        verify?: VipVerify;
    };
}

/** @deprecated The stack's source is {@link StackSource}; DM's own source configuration is `DmSourceConfig` (components/dm). */
export type SourceConfig = StackSource;

export interface StackConfig {
    dm: DmEndpointInputs;
    instances: Record<string, AddressInputs>;
    sources: StackSource[];
}

/** The ways a VIP can be moved: by the Vip resource (haproxy, route53, eni) or by a hooked resource. */
const VIP_KINDS = ["haproxy", "route53", "eni", "route53Record", "command"];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

const isPort = (p: unknown) => Number.isInteger(p) && (p as number) >= 1 && (p as number) <= 65535;

/** A DM source id or task name as dmctl takes it: a leading '-' would be read as a flag. */
const DM_NAME = /^[A-Za-z0-9_.][A-Za-z0-9_.-]*$/;

/** `{host, port, tls?}` at `key`: the port in range, the TLS setting well formed (its key never echoed). */
function checkAddressConfig(key: string, a: unknown, errors: string[]) {
    if (!isObject(a) || typeof a.host !== "string" || a.host === "" || !isPort(a.port)) {
        errors.push(
            `${key} must be {host, port} with a port from 1 to 65535, got ${JSON.stringify(isObject(a) ? { host: a.host, port: a.port } : a)}`,
        );
        return;
    }
    const failures: CheckFailure[] = [];
    checkMysqlTls("tls", a.tls as AddressInputs["tls"], failures);
    errors.push(...failures.map((f) => `${key}.${f.reason}`));
}

/** Paths (`instances.mysql-a.tls.key`) of every TLS client key under `v`. */
function tlsKeyPaths(v: unknown, at: string): string[] {
    if (Array.isArray(v)) {
        return v.flatMap((x, i) => tlsKeyPaths(x, `${at}[${i}]`));
    }
    if (!isObject(v)) {
        return [];
    }
    const own = isObject(v.tls) && v.tls.key !== undefined ? [`${at}.tls.key`] : [];
    return [...own, ...Object.entries(v).flatMap(([k, x]) => (k === "tls" ? [] : tlsKeyPaths(x, `${at}.${k}`)))];
}

/**
 * Every problem of the configuration, each naming its key and the remedy; [] when it is usable.
 * `secretKeys`: the configuration keys set with `--secret` (`dm`, `instances`, `sources`): a TLS key
 * anywhere else is in the stack file in plaintext.
 */
export function validateStackConfig(
    raw: { dm?: unknown; instances?: unknown; sources?: unknown },
    secretKeys: string[] = [],
): string[] {
    const errors: string[] = [];
    if (!isObject(raw.dm) || raw.dm.address === undefined) {
        errors.push(
            `dm-switch:dm must be {address: "<dm-master host:port>", transport?: openapi|dmctl}: run 'pulumi config set --path dm-switch:dm.address 10.0.0.5:8261'`,
        );
    } else {
        // One dm-master, or every member of a dm-master cluster comma-separated (as dmctl's --master-addr).
        const problem = dmAddressProblem(raw.dm.address, "dm-switch:dm.address");
        if (problem) {
            errors.push(problem);
        }
    }
    for (const k of ["dm", "instances", "sources"] as const) {
        if (secretKeys.includes(k)) {
            continue;
        }
        for (const p of tlsKeyPaths(raw[k], `dm-switch:${k}`)) {
            const remedy =
                p === "dm-switch:dm.tls.key"
                    ? `run 'pulumi config rm --path ${p}' and set it with 'pulumi config set --secret dm-switch:dmTlsKey < client-key.pem'`
                    : `run 'pulumi config rm --path ${p}' and set it again with 'pulumi config set --secret --path ${p} -- "$(cat client-key.pem)"'`;
            errors.push(`${p} is a private key in plaintext in the stack configuration: ${remedy}`);
        }
    }
    const instances = isObject(raw.instances) ? raw.instances : {};
    const names = Object.keys(instances);
    if (names.length === 0) {
        errors.push(
            `dm-switch:instances must name the replication set's instances, e.g. {mysql-a: {host: 10.0.0.11, port: 3306}}`,
        );
    }
    for (const [n, a] of Object.entries(instances)) {
        checkAddressConfig(`dm-switch:instances.${n}`, a, errors);
    }
    const withTls = names.filter(
        (n) => isObject(instances[n]) && (instances[n] as Record<string, unknown>).tls !== undefined,
    );
    const withKey = names.filter((n) => tlsKeyPaths(instances[n], "").length > 0);
    if (!Array.isArray(raw.sources) || raw.sources.length === 0) {
        errors.push(
            `dm-switch:sources must list at least one DM source, e.g. [{id: mysql-01, flavor: mysql, user: dm, mode: vip, reads: mysql-a, vip: {...}}]`,
        );
        return errors;
    }
    const seen = new Set<string>();
    raw.sources.forEach((s: unknown, i: number) => {
        const key = `dm-switch:sources[${i}]`;
        if (!isObject(s)) {
            errors.push(`${key} must be an object`);
            return;
        }
        if (typeof s.id !== "string" || !DM_NAME.test(s.id)) {
            errors.push(
                `${key}.id must be the DM source name (letters, digits, '_', '.', '-', not starting with '-', which dmctl would read as a flag), got ${JSON.stringify(s.id)}`,
            );
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
            errors.push(
                `${key}.reads: ${JSON.stringify(s.reads)} is not an instance; use one of ${names.join(", ")} (dm-switch:instances)`,
            );
        }
        if (
            s.tasks !== undefined &&
            (!Array.isArray(s.tasks) || !s.tasks.every((t) => typeof t === "string" && DM_NAME.test(t)))
        ) {
            errors.push(
                `${key}.tasks must list DM task names (none empty or starting with '-', which dmctl would read as a flag), got ${JSON.stringify(s.tasks)}; leave it out for every task of the source`,
            );
        }
        if (s.enableRelay !== undefined && typeof s.enableRelay !== "boolean") {
            errors.push(
                `${key}.enableRelay must be true or false (a YAML boolean, not a string), got ${JSON.stringify(s.enableRelay)}`,
            );
        }
        for (const t of TIMEOUT_KEYS) {
            if (s[t] !== undefined && !(Number.isInteger(s[t]) && (s[t] as number) >= 0)) {
                errors.push(
                    `${key}.${t} must be a whole number of milliseconds ≥ 0, got ${JSON.stringify(s[t])}; remove it for the default`,
                );
            }
        }
        if (s.mode === "vip") {
            const vip = isObject(s.vip) ? s.vip : undefined;
            const backends = vip ? VIP_KINDS.filter((b) => isObject(vip[b])) : [];
            const hooked = vip && (isObject(vip.route53Record) || isObject(vip.command));
            if (!vip || !isObject(vip.address) || backends.length !== 1) {
                errors.push(
                    `${key}.vip must be {address: {host, port}, and exactly one of ${VIP_KINDS.join(", ")}} in vip mode`,
                );
            } else if (hooked && (withKey.length > 0 || tlsKeyPaths(vip.address, "").length > 0)) {
                // The hooked VIP's resources do not hold the instances as a secret yet: a key would be in the state in plaintext.
                errors.push(
                    `${key}.vip: a hooked VIP (route53Record, command) cannot use a MySQL TLS client key yet (instances ${withKey.join(", ") || "-"}, vip.address); ` +
                        "use a CA only (tls.ca), or the haproxy, route53 or eni backend",
                );
            } else if (
                isObject(vip.command) &&
                (typeof vip.command.script !== "string" || vip.command.script.trim() === "")
            ) {
                errors.push(
                    `${key}.vip.command.script must be the shell script that points the VIP at $DM_SWITCH_TARGET`,
                );
            } else if (vip.verify !== undefined && (isObject(vip.route53Record) || isObject(vip.command))) {
                errors.push(
                    `${key}.vip.verify applies to the haproxy, route53 and eni backends; a hooked VIP is verified through vip.address: remove vip.verify`,
                );
            }
            if (vip && isObject(vip.address)) {
                checkAddressConfig(`${key}.vip.address`, vip.address, errors);
            }
        } else if (s.mode === "address" && withTls.length > 0) {
            // The address procedure's connections (SourceBinding provider) do not carry an instance's TLS yet.
            errors.push(
                `${key}: mode "address" cannot use instances with tls (${withTls.join(", ")}) yet; use mode "vip", or remove tls from those instances`,
            );
        } else if (s.mode !== "address") {
            errors.push(
                `${key}.mode must be "vip" (dm-switch moves a VIP) or "address" (dm-switch re-creates the source at the instance's address), got ${JSON.stringify(s.mode)}`,
            );
        }
    });
    return errors;
}

/** How a source in VIP mode moves its VIP, as the Source component takes it. */
export function vipOf(s: StackSource): SourceVip | undefined {
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
    const backend: VipBackendInputs = v.haproxy
        ? { kind: "haproxy", ...v.haproxy }
        : v.route53
          ? { kind: "route53", ...v.route53 }
          : { kind: "eni", ...v.eni! };
    return { address: v.address, backend, ...(v.verify !== undefined ? { verify: v.verify } : {}) };
}
