/**
 * The resolved inputs of the AWS VIP backends (a Route53 record, an ENI secondary private IP) and their
 * pure validation, which the Vip provider's `check` runs. No I/O, no AWS SDK, no @pulumi/* import: what
 * needs AWS (does the zone exist, are the ENIs in one subnet) is the backends' `preflight()`.
 */

/** Where and how the AWS API is reached; credentials always come from the standard AWS configuration. */
export interface AwsApiInputs {
    /**
     * AWS region of the API calls.
     * @default the standard AWS configuration (AWS_REGION, the profile's `region`); for Route53, a global
     * service, "us-east-1" when none is set
     */
    region?: string;
    /** API endpoint URL, for a VPC interface endpoint or an AWS-compatible API (moto). @default AWS's own */
    endpoint?: string;
    /** How long a change may take to be in effect before the move fails. @default 180000 (Route53), 30000 (ENI) */
    timeoutMs?: number;
    /** Pause between two reads while waiting for a change. @default 1000 (Route53), 250 (ENI) */
    intervalMs?: number;
    /**
     * With `verify: "backend"`, accept a mapping (Route53 values, ENI ids) that the inputs cannot prove
     * names the right instances: nothing then connects through the VIP. Only where no proof can exist, an
     * AWS-compatible API that moves no packets (moto). @default false
     */
    trustMapping?: boolean;
}

/** The VIP is a Route53 record (usually in a private hosted zone) that names the instance DM reads from. */
export interface Route53BackendInputs extends AwsApiInputs {
    kind: "route53";
    /** The hosted zone holding the record: "Z0123456789ABCDEFGHIJ" (a "/hostedzone/" prefix is accepted). */
    zoneId: string;
    /** The record's fully qualified name, inside the zone: "mysql.db.internal" (trailing dot optional). */
    recordName: string;
    /** @default "A" when every value is an IPv4 address, "CNAME" when every value is a host name */
    recordType?: "A" | "CNAME";
    /**
     * TTL written with the record, in seconds. Resolvers may keep answering the old value that long, so
     * a move waits the old record's TTL out before DM's tasks resume. @default 5
     */
    ttl?: number;
    /** Instance name → the record's value when the VIP points at that instance (an address or a host name). */
    values: Record<string, string>;
}

/** The VIP is a secondary private IP moved between the instances' network interfaces (one subnet). */
export interface EniBackendInputs extends AwsApiInputs {
    kind: "eni";
    /** The secondary private IPv4 address that is the VIP. */
    privateIp: string;
    /** Instance name → the ENI id ("eni-0123456789abcdef0") of that instance's host. */
    enis: Record<string, string>;
}

/** The longest TTL a move will wait out with DM's tasks paused (seconds); `ttl` may not exceed it. */
export const MAX_RECORD_TTL = 300;

/** The defaults the backends apply, in one place for the docs and the tests. */
export const AWS_VIP_DEFAULTS = {
    route53: { ttl: 5, timeoutMs: 180_000, intervalMs: 1000, region: "us-east-1" },
    eni: { timeoutMs: 30_000, intervalMs: 250 },
} as const;

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;
const ZONE_ID = /^(\/hostedzone\/)?[A-Z0-9]{1,32}$/;
const ENI_ID = /^eni-[0-9a-f]{8,17}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/** True for a dotted-quad IPv4 address. */
export function isIpv4(s: string): boolean {
    return IPV4.test(s);
}

/** A DNS name in the form Route53 compares: lower case, no trailing dot. */
export function normalizeDnsName(name: string): string {
    return name.trim().toLowerCase().replace(/\.$/, "");
}

/** True for a host name Route53 can hold: labels of letters, digits, '-', '_', at most 253 characters. */
export function isDnsName(name: string): boolean {
    const n = normalizeDnsName(name);
    return n.length > 0 && n.length <= 253 && !isIpv4(n) && n.split(".").every((l) => LABEL.test(l));
}

/** True when `name` is the zone's apex or a name under it (both as Route53 returns or takes them). */
export function isInZone(name: string, zoneName: string): boolean {
    const n = normalizeDnsName(name);
    const z = normalizeDnsName(zoneName);
    return n === z || n.endsWith(`.${z}`);
}

/** The zone id without the "/hostedzone/" prefix Route53 returns it with. */
export function bareZoneId(zoneId: string): string {
    return zoneId.replace(/^\/hostedzone\//, "");
}

/**
 * The record type a Route53 backend writes: `recordType` when set, else inferred from the values;
 * `undefined` when the values mix addresses and names (a failure of `checkRoute53Inputs`).
 */
export function route53RecordType(b: Pick<Route53BackendInputs, "recordType" | "values">): "A" | "CNAME" | undefined {
    if (b.recordType) {
        return b.recordType;
    }
    const values = Object.values(b.values ?? {});
    if (values.length > 0 && values.every((v) => typeof v === "string" && isIpv4(v))) {
        return "A";
    }
    if (values.length > 0 && values.every((v) => typeof v === "string" && isDnsName(v))) {
        return "CNAME";
    }
    return undefined;
}

type Failure = { property: string; reason: string };

function checkApi(b: AwsApiInputs, path: string, out: Failure[]) {
    if (b.region !== undefined && (typeof b.region !== "string" || !REGION.test(b.region))) {
        out.push({
            property: `${path}.region`,
            reason: `${path}.region must be an AWS region such as "eu-west-1", got ${JSON.stringify(b.region)}`,
        });
    }
    if (b.endpoint !== undefined) {
        let ok = false;
        try {
            ok = typeof b.endpoint === "string" && /^https?:$/.test(new URL(b.endpoint).protocol);
        } catch {
            ok = false;
        }
        if (!ok) {
            out.push({
                property: `${path}.endpoint`,
                reason: `${path}.endpoint must be an http(s) URL such as "https://ec2.eu-west-1.amazonaws.com", got ${JSON.stringify(b.endpoint)}; leave it out for AWS's own endpoint`,
            });
        }
    }
    if (b.trustMapping !== undefined && typeof b.trustMapping !== "boolean") {
        out.push({
            property: `${path}.trustMapping`,
            reason: `${path}.trustMapping must be true or false, got ${JSON.stringify(b.trustMapping)}`,
        });
    }
    for (const k of ["timeoutMs", "intervalMs"] as const) {
        const v = b[k];
        if (v !== undefined && (!Number.isInteger(v) || v <= 0)) {
            out.push({
                property: `${path}.${k}`,
                reason: `${path}.${k} must be a whole number of milliseconds above 0, got ${JSON.stringify(v)}`,
            });
        }
    }
}

/** Fails when two instances share one value: the backend could not tell which one the VIP points at. */
function checkDistinct(map: Record<string, string>, path: string, field: string, out: Failure[]) {
    const seen = new Map<string, string>();
    for (const [instance, value] of Object.entries(map)) {
        const key = String(value).toLowerCase();
        const other = seen.get(key);
        if (other !== undefined) {
            out.push({
                property: `${path}.${field}`,
                reason: `${path}.${field}: instances ${other} and ${instance} share ${JSON.stringify(value)}, so dm-switch could not tell which one the VIP points at; give each instance its own`,
            });
        }
        seen.set(key, instance);
    }
}

function isRecord(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Pure validation of a Route53 backend; `path` prefixes every property ("backend" → "backend.zoneId").
 * Whether the zone exists and what the record holds now is checked by the backend's `preflight()`.
 */
export function checkRoute53Inputs(b: Route53BackendInputs, path = "backend"): Failure[] {
    const out: Failure[] = [];
    if (typeof b.zoneId !== "string" || !ZONE_ID.test(b.zoneId)) {
        out.push({
            property: `${path}.zoneId`,
            reason: `${path}.zoneId must be a Route53 hosted zone id such as "Z0123456789ABCDEFGHIJ" (aws route53 list-hosted-zones), got ${JSON.stringify(b.zoneId)}`,
        });
    }
    if (typeof b.recordName !== "string" || !isDnsName(b.recordName)) {
        out.push({
            property: `${path}.recordName`,
            reason: `${path}.recordName must be the record's fully qualified name inside the zone, such as "mysql.db.internal", got ${JSON.stringify(b.recordName)}`,
        });
    }
    if (b.recordType !== undefined && b.recordType !== "A" && b.recordType !== "CNAME") {
        out.push({
            property: `${path}.recordType`,
            reason: `${path}.recordType must be "A" (values are IPv4 addresses) or "CNAME" (values are host names), got ${JSON.stringify(b.recordType)}`,
        });
    }
    if (b.ttl !== undefined && (!Number.isInteger(b.ttl) || b.ttl < 0 || b.ttl > MAX_RECORD_TTL)) {
        out.push({
            property: `${path}.ttl`,
            reason: `${path}.ttl must be a whole number of seconds from 0 to ${MAX_RECORD_TTL} (a move waits the TTL out with DM's tasks paused), got ${JSON.stringify(b.ttl)}`,
        });
    }
    if (!isRecord(b.values) || Object.keys(b.values).length === 0) {
        out.push({
            property: `${path}.values`,
            reason: `${path}.values must map each instance name to its record value, such as {"mysql-a": "10.0.1.10"}`,
        });
    } else {
        const values = b.values as Record<string, unknown>;
        const type = b.recordType === "A" || b.recordType === "CNAME" ? b.recordType : route53RecordType(b);
        for (const [instance, v] of Object.entries(values)) {
            const ok =
                typeof v === "string" &&
                (type === "A" ? isIpv4(v) : type === "CNAME" ? isDnsName(v) : isIpv4(v) || isDnsName(v));
            if (!ok) {
                const want =
                    type === "A"
                        ? "an IPv4 address (the record type is A)"
                        : type === "CNAME"
                          ? "a host name (the record type is CNAME)"
                          : "an IPv4 address or a host name";
                out.push({
                    property: `${path}.values.${instance}`,
                    reason: `${path}.values.${instance} must be ${want}, got ${JSON.stringify(v)}`,
                });
            }
        }
        if (
            type === undefined &&
            b.recordType === undefined &&
            Object.values(values).every((v) => typeof v === "string" && (isIpv4(v) || isDnsName(v)))
        ) {
            out.push({
                property: `${path}.values`,
                reason: `${path}.values mixes IPv4 addresses and host names, but one record holds one type: use only addresses (A) or only host names (CNAME)`,
            });
        }
        checkDistinct(b.values, path, "values", out);
    }
    checkApi(b, path, out);
    return out;
}

/**
 * Pure validation of an ENI backend; `path` prefixes every property ("backend" → "backend.privateIp").
 * Whether the ENIs exist and share a subnet is checked by the backend's `preflight()`.
 */
export function checkEniInputs(b: EniBackendInputs, path = "backend"): Failure[] {
    const out: Failure[] = [];
    if (typeof b.privateIp !== "string" || !isIpv4(b.privateIp)) {
        out.push({
            property: `${path}.privateIp`,
            reason: `${path}.privateIp must be the VIP's private IPv4 address, such as "10.0.1.100", got ${JSON.stringify(b.privateIp)}`,
        });
    }
    if (!isRecord(b.enis) || Object.keys(b.enis).length === 0) {
        out.push({
            property: `${path}.enis`,
            reason: `${path}.enis must map each instance name to its host's ENI id, such as {"mysql-a": "eni-0123456789abcdef0"}`,
        });
    } else {
        for (const [instance, id] of Object.entries(b.enis as Record<string, unknown>)) {
            if (typeof id !== "string" || !ENI_ID.test(id)) {
                out.push({
                    property: `${path}.enis.${instance}`,
                    reason: `${path}.enis.${instance} must be an ENI id such as "eni-0123456789abcdef0", got ${JSON.stringify(id)}`,
                });
            }
        }
        checkDistinct(b.enis, path, "enis", out);
    }
    checkApi(b, path, out);
    return out;
}

/**
 * With `verify: "backend"` nothing connects through the VIP, so a Route53 mapping that names the wrong
 * instance (two values swapped) would be "verified" by the record holding the value it was given. What
 * the inputs can prove is checked instead: each value must be the address dm-switch itself reaches that
 * instance at (an A value its IPv4 host, a CNAME value its host name). A value that differs from, or
 * cannot be compared with, the instance's host is refused. `hosts`: instance name → its host.
 */
export function checkRoute53Mapping(
    b: Route53BackendInputs,
    hosts: Record<string, string>,
    path = "backend",
): Failure[] {
    const out: Failure[] = [];
    const type = route53RecordType(b);
    for (const [instance, value] of Object.entries(isRecord(b.values) ? b.values : {})) {
        const host = hosts[instance];
        if (typeof host !== "string" || typeof value !== "string") {
            continue;
        }
        const same =
            type === "A"
                ? isIpv4(host) && host === value
                : isDnsName(host) && normalizeDnsName(host) === normalizeDnsName(value);
        if (!same) {
            out.push({
                property: `${path}.values.${instance}`,
                reason:
                    `${path}.values.${instance} is ${JSON.stringify(value)} but instances.${instance} is at ${JSON.stringify(host)}: with verify "backend" ` +
                    `nothing connects through the VIP, so only a value equal to the instance's own address proves the record names that instance; ` +
                    `use verify "connect" (run where the VIP is reachable), or give the instances the addresses the record holds`,
            });
        }
    }
    return out;
}
