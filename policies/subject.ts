/**
 * What a dm-switch resource asks of the preflight, read from its inputs as the policy engine presents
 * them. Pure: no I/O.
 *
 * How @pulumi/policy 1.21.0 presents inputs (read in its server.js/deserialize.js and seen in a real
 * preview): secrets arrive unwrapped — `props.password` is the plain password, with nothing marking it
 * secret — so nothing here or in the policies may print it; values unknown at preview arrive as
 * sentinel strings, and reading one through `props` throws an error that the SDK turns into an
 * *advisory* "can't run policy during preview" note. That silent downgrade is not acceptable for a
 * safety check, so the policies read the raw object and report unknown values themselves, as mandatory.
 */
import type { PreflightArgs } from "../components/preflight";
import type { AddressInputs, DmEndpointInputs, Flavor } from "../components/model";

/** The resource types the policies check (dynamic resources register `pulumi-nodejs:dynamic/<module>:<type>`). */
export const DM_SWITCH_TYPES = {
    Vip: "pulumi-nodejs:dynamic/dm-switch:Vip",
    VipIntent: "pulumi-nodejs:dynamic/dm-switch:VipIntent",
    SourceBinding: "pulumi-nodejs:dynamic/dm-switch:SourceBinding",
} as const;

/** The sentinels @pulumi/policy 1.21.0 (proxy.js) and @pulumi/pulumi (rpc.js) use for values unknown at preview. */
const UNKNOWN_SENTINELS = new Set([
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
    "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
    "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
    "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
    "030794c1-ac77-496b-92df-f27374a8bd58",
    "e48ece36-62e2-4504-bad9-02848725956a",
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
]);

/** The key under which the SDK's proxies hand out the object they wrap (proxy.js `getSpecialProxyTarget`). */
const PROXY_TARGET = "__getSpecialProxyTarget";

/** The plain object behind the SDK's proxies (reading through them throws on unknown values). */
export function rawProps(props: Record<string, unknown>): Record<string, unknown> {
    return (props[PROXY_TARGET] as Record<string, unknown> | undefined) ?? props;
}

/** Paths (`instances.mysql-b.host`) of every value unknown at preview under `value`. Proxies are unwrapped as they are met. */
export function unknownPaths(value: unknown, path = ""): string[] {
    if (typeof value === "string") {
        return UNKNOWN_SENTINELS.has(value) ? [path || "(the inputs)"] : [];
    }
    if (value === null || typeof value !== "object") {
        return [];
    }
    const raw = rawProps(value as Record<string, unknown>);
    const entries = Array.isArray(raw) ? raw.map((v, i) => [String(i), v] as const) : Object.entries(raw);
    return entries.filter(([k]) => k !== "__provider").flatMap(([k, v]) => unknownPaths(v, path ? `${path}.${k}` : k));
}

/** One dm-switch resource's check: what to ask the preflight, and how to name it in messages. */
export interface Subject {
    /** `Vip name`, `SourceBinding name`: the resource, for messages. */
    resource: string;
    sourceId: string;
    /** The instance's name the source will read from. */
    target: string;
    /** The resource's own `enableGtid` input (SourceBinding only). */
    enableGtidInput?: unknown;
    /** The preflight's arguments (holding the password: never print them). */
    args: PreflightArgs;
    /** Values to remove from any text before it is reported (the password, a TLS key). */
    secrets: string[];
}

/** Why a subject could not be built: the resource's inputs do not say what to check. */
export interface Unprovable {
    resource: string;
    sourceId?: string;
    target?: string;
    /** What is missing or unknown, one clause. */
    why: string;
    remedy: string;
}

const isAddress = (a: unknown): a is AddressInputs =>
    typeof a === "object" &&
    a !== null &&
    typeof (a as AddressInputs).host === "string" &&
    Number.isInteger((a as AddressInputs).port);

/** An address's TLS setting as the endpoint takes it (`{}` when the address has none). */
const tlsOf = (a: unknown): { tls?: AddressInputs["tls"] } => {
    const tls = typeof a === "object" && a !== null ? (a as AddressInputs).tls : undefined;
    return typeof tls === "object" && tls !== null ? { tls } : {};
};

const str = (v: unknown): string | undefined =>
    typeof v === "string" && v !== "" && !UNKNOWN_SENTINELS.has(v) ? v : undefined;

/**
 * The subject of a Vip, VipIntent or SourceBinding from its raw inputs; an Unprovable when they hold
 * unknown or missing values; undefined for any other resource type.
 */
export function subjectOf(
    type: string,
    name: string,
    props: Record<string, unknown>,
    catchUpTimeoutMs?: number,
): Subject | Unprovable | undefined {
    const kind = Object.entries(DM_SWITCH_TYPES).find(([, t]) => t === type)?.[0];
    if (!kind) {
        return undefined;
    }
    const resource = `${kind} ${name}`;
    const sourceId = str(props.sourceId);
    const unknown = unknownPaths(props);
    if (unknown.length > 0) {
        return {
            resource,
            sourceId,
            target: str(props.target) ?? str(props.instance),
            why: `${unknown.join(", ")} ${unknown.length === 1 ? "is" : "are"} unknown until another resource is created`,
            remedy: "Create that resource first (pulumi up --target <its URN>) or use values known at preview, then preview again.",
        };
    }
    const dm = props.dm as DmEndpointInputs | undefined;
    const flavor = props.flavor as Flavor;
    const user = str(props.user);
    const password = props.password;
    const missing: string[] = [];
    if (!sourceId) missing.push("sourceId");
    if (!dm || !str(dm.address)) missing.push("dm.address");
    if (flavor !== "mysql" && flavor !== "mariadb") missing.push("flavor (mysql or mariadb)");
    if (!user) missing.push("user");
    if (typeof password !== "string") missing.push("password");
    let target: PreflightArgs["target"] | undefined;
    let current: PreflightArgs["current"];
    if (kind === "SourceBinding") {
        if (str(props.host) && Number.isInteger(props.port)) {
            const at = `${props.host}:${props.port}`;
            // The binding's own TLS, else that of the instance at host:port (address mode names its instances).
            const named = Object.values((props.instances ?? {}) as Record<string, unknown>).find(
                (i) => isAddress(i) && i.host === props.host && i.port === props.port,
            );
            target = {
                name: str(props.instance) ?? at,
                host: props.host as string,
                port: props.port as number,
                user: user ?? "",
                password: String(password),
                ...tlsOf(props.tls !== undefined ? props : named),
            };
        } else {
            missing.push("host and port");
        }
    } else {
        const instances = (props.instances ?? {}) as Record<string, unknown>;
        const to = str(props.target);
        const at = to ? instances[to] : undefined;
        if (to && isAddress(at)) {
            target = {
                name: to,
                host: at.host,
                port: at.port,
                user: user ?? "",
                password: String(password),
                ...tlsOf(at),
            };
        } else {
            missing.push(to ? `instances.${to} ({host, port} of the target)` : "target");
        }
        if (isAddress(props.address)) {
            // The VIP is what DM reads from now: the target must be in the replication set of the server behind it.
            current = {
                name: `the VIP ${props.address.host}:${props.address.port}`,
                host: props.address.host,
                port: props.address.port,
                user: user ?? "",
                password: String(password),
                ...tlsOf(props.address),
            };
        } else {
            missing.push("address (the VIP's {host, port})");
        }
    }
    if (missing.length > 0 || !target) {
        return {
            resource,
            sourceId,
            target: target?.name ?? str(props.target),
            why: `its inputs lack ${missing.join(", ")}`,
            remedy: `Set ${missing.length === 1 ? "it" : "them"} on ${resource}.`,
        };
    }
    const tasks = Array.isArray(props.tasks)
        ? (props.tasks as unknown[]).filter((t): t is string => typeof t === "string")
        : undefined;
    const ownTimeout = typeof props.catchUpTimeoutMs === "number" ? props.catchUpTimeoutMs : undefined;
    const args: PreflightArgs = {
        dm: dm!,
        sourceId: sourceId!,
        flavor,
        target,
        current,
        currentFromDm: kind === "SourceBinding",
        // A VIP cannot move safely unless DM knows the source (and so every task reading through it).
        requireSource: kind !== "SourceBinding",
        tasks,
        catchUpTimeoutMs: catchUpTimeoutMs ?? ownTimeout,
    };
    const secrets = [String(password), dm?.tls?.key ?? "", target.tls?.key ?? "", current?.tls?.key ?? ""].filter(
        (s) => s.length > 0,
    );
    return {
        resource,
        sourceId: sourceId!,
        target: target.name,
        enableGtidInput: kind === "SourceBinding" ? props.enableGtid : undefined,
        args,
        secrets,
    };
}

/** True when `s` is an Unprovable rather than a Subject. */
export function isUnprovable(s: Subject | Unprovable): s is Unprovable {
    return !("args" in s);
}
