/**
 * The pure validation the dynamic providers' `check` runs on their inputs (./inputs.ts): every failure names
 * the property and the remedy, and never echoes a secret. No I/O, no @pulumi/* import.
 */
import { dmAddressProblem } from "../dm/address";
import type { AddressInputs, DmEndpointInputs, MysqlTlsInputs } from "../model";
import { checkEniInputs, checkRoute53Inputs, checkRoute53Mapping } from "../vipBackends/awsInputs";
import { isHaproxyName } from "../vipBackends/haproxy";
import type { CheckFailure, HaproxyBackendInputs, SourceBindingInputs, VipInputs, VipIntentInputs } from "./inputs";

/** True for a port number TCP can use. */
const isPort = (p: number) => Number.isInteger(p) && p >= 1 && p <= 65535;

function checkDm(dm: DmEndpointInputs | undefined, out: CheckFailure[]) {
    // One dm-master, or every member of a dm-master cluster comma-separated (as dmctl's --master-addr).
    const problem = dmAddressProblem(dm?.address);
    if (problem) {
        out.push({ property: "dm", reason: problem });
    }
    if (dm?.transport !== undefined && dm.transport !== "openapi" && dm.transport !== "dmctl") {
        out.push({
            property: "dm",
            reason: `dm.transport must be "openapi" or "dmctl", got ${JSON.stringify(dm.transport)}`,
        });
    }
}

function checkAddress(name: string, a: AddressInputs | undefined, out: CheckFailure[]) {
    if (!a || typeof a.host !== "string" || a.host === "" || !isPort(a.port)) {
        // Never the whole object: it may hold a TLS key.
        out.push({
            property: name,
            reason: `${name} must be {host, port} with a port from 1 to 65535, got ${JSON.stringify(a && { host: a.host, port: a.port })}`,
        });
    }
    checkMysqlTls(`${name}.tls`, a?.tls, out);
}

const PEM = (label: RegExp) => new RegExp(`^\\s*-----BEGIN (${label.source})-----[\\s\\S]+-----END \\1-----\\s*$`);
const PEM_CERT = PEM(/CERTIFICATE/);
const PEM_KEY = PEM(/(?:RSA |EC |ENCRYPTED )?PRIVATE KEY/);

/** Pure validation of a MySQL TLS setting; never echoes the key. */
export function checkMysqlTls(name: string, tls: MysqlTlsInputs | undefined, out: CheckFailure[]) {
    if (tls === undefined) {
        return;
    }
    if (typeof tls !== "object" || tls === null || Array.isArray(tls)) {
        out.push({
            property: name,
            reason: `${name} must be {ca?, cert?, key?, servername?} (PEM texts), got ${typeof tls}`,
        });
        return;
    }
    for (const k of ["ca", "cert"] as const) {
        if (tls[k] !== undefined && (typeof tls[k] !== "string" || !PEM_CERT.test(tls[k]))) {
            out.push({
                property: `${name}.${k}`,
                reason: `${name}.${k} must be a PEM certificate text ("-----BEGIN CERTIFICATE-----…"), not a path; got ${JSON.stringify(String(tls[k]).slice(0, 40))}`,
            });
        }
    }
    if (tls.key !== undefined && (typeof tls.key !== "string" || !PEM_KEY.test(tls.key))) {
        out.push({
            property: `${name}.key`,
            reason: `${name}.key must be a PEM private key text ("-----BEGIN PRIVATE KEY-----…"), not a path (the value is a secret and not shown)`,
        });
    }
    if ((tls.cert === undefined) !== (tls.key === undefined)) {
        out.push({
            property: name,
            reason: `${name}: ${tls.cert === undefined ? "key" : "cert"} is set without ${tls.cert === undefined ? "cert" : "key"}; set both (the client certificate and its key) or neither`,
        });
    }
    if (
        tls.servername !== undefined &&
        (typeof tls.servername !== "string" || !/^[A-Za-z0-9.-]+$/.test(tls.servername))
    ) {
        out.push({
            property: `${name}.servername`,
            reason: `${name}.servername must be the host name the server's certificate holds, got ${JSON.stringify(tls.servername)}`,
        });
    }
}

/**
 * A name dm-switch passes to dmctl as an argument: a leading '-' would be read as a flag, and control
 * characters have no place in DM's names.
 */
const isDmctlArg = (s: unknown): s is string =>
    typeof s === "string" && s !== "" && !s.startsWith("-") && !/[\x00-\x1f\x7f]/.test(s);

function checkTasks(tasks: unknown, out: CheckFailure[]) {
    if (tasks === undefined) {
        return;
    }
    if (!Array.isArray(tasks) || tasks.some((t) => typeof t !== "string" || t === "")) {
        out.push({
            property: "tasks",
            reason: "tasks must be a list of DM task names, or left out for every task of the source",
        });
        return;
    }
    if (tasks.length === 0) {
        // DM's procedure pauses every task of the source: an empty list would check and pause none.
        out.push({
            property: "tasks",
            reason: "tasks is empty: DM's procedure pauses every task of the source; list every task, or leave tasks out",
        });
        return;
    }
    const bad = tasks.filter((t) => !isDmctlArg(t));
    if (bad.length > 0) {
        out.push({
            property: "tasks",
            reason: `tasks ${bad.map((t) => JSON.stringify(t)).join(", ")}: a DM task name may not start with '-' (dmctl would read it as a flag) nor hold control characters; rename the task`,
        });
    }
}

function checkCommon(
    i: { sourceId?: unknown; flavor?: unknown; user?: unknown; password?: unknown },
    out: CheckFailure[],
) {
    if (typeof i.sourceId !== "string" || !/^[A-Za-z0-9_.][A-Za-z0-9_.-]*$/.test(i.sourceId)) {
        out.push({
            property: "sourceId",
            reason: `sourceId must be a DM source name (letters, digits, '_', '.', '-', not starting with '-', which dmctl would read as a flag), got ${JSON.stringify(i.sourceId)}`,
        });
    }
    if (i.flavor !== "mysql" && i.flavor !== "mariadb") {
        out.push({
            property: "flavor",
            reason: `flavor must be "mysql" or "mariadb", got ${JSON.stringify(i.flavor)}`,
        });
    }
    if (typeof i.user !== "string" || i.user === "") {
        out.push({ property: "user", reason: "user must name the MySQL user DM replicates with" });
    }
    if (typeof i.password !== "string") {
        // Never echo the value: it is a secret.
        out.push({
            property: "password",
            reason: "password must be a string (set it with 'pulumi config set --secret')",
        });
    }
}

/** Pure input validation of a Vip; every failure names the property and the remedy. */
export function checkVipInputs(i: VipInputs): CheckFailure[] {
    const out = checkVipIntentInputs(i);
    const names = Object.keys(i.instances ?? {});
    const b = i.backend;
    const mapped =
        b?.kind === "haproxy" ? b.servers : b?.kind === "route53" ? b.values : b?.kind === "eni" ? b.enis : undefined;
    if (!mapped) {
        out.push({
            property: "backend",
            reason: `backend.kind must be "haproxy", "route53" or "eni", got ${JSON.stringify((b as { kind?: unknown })?.kind)}`,
        });
    } else {
        // Exactly the instances: an entry for an instance the stack does not know would be a server the
        // VIP can point at that no rule checks, and a missing one a target the VIP cannot move to.
        const missing = names.filter((n) => !(n in mapped));
        if (missing.length > 0) {
            out.push({
                property: "backend",
                reason: `the ${b.kind} backend has no entry for instance ${missing.join(", ")}: add one per instance`,
            });
        }
        const extra = Object.keys(mapped).filter((n) => !names.includes(n));
        if (extra.length > 0) {
            out.push({
                property: "backend",
                reason: `the ${b.kind} backend has an entry for ${extra.join(", ")}, which ${extra.length === 1 ? "is not an instance" : "are not instances"} (${names.join(", ")}): remove it, or add it to instances`,
            });
        }
    }
    if (b?.kind === "haproxy") {
        checkHaproxy(b, out);
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
    if (mapped && i.verify === "backend") {
        checkMappingProvable(i, out);
    }
    return out;
}

function checkHaproxy(b: HaproxyBackendInputs, out: CheckFailure[]) {
    if (!b.socket || !b.backend) {
        out.push({
            property: "backend",
            reason: "the haproxy backend needs socket (runtime API path or host:port) and backend (the backend section's name)",
        });
    }
    // Names go into runtime API commands ("disable server <backend>/<server>"): HAProxy's own name rule.
    const rule =
        "an HAProxy name (letters, digits, '-', '_', '.', ':'), as in the configuration's backend and server lines";
    if (b.backend && !isHaproxyName(b.backend)) {
        out.push({
            property: "backend.backend",
            reason: `backend.backend must be ${rule}, got ${JSON.stringify(b.backend)}`,
        });
    }
    const seen = new Map<string, string>();
    for (const [instance, server] of Object.entries(b.servers ?? {})) {
        if (!isHaproxyName(server)) {
            out.push({
                property: `backend.servers.${instance}`,
                reason: `backend.servers.${instance} must be ${rule}, got ${JSON.stringify(server)}`,
            });
        } else if (seen.has(server)) {
            out.push({
                property: "backend.servers",
                reason: `backend.servers: instances ${seen.get(server)} and ${instance} share ${JSON.stringify(server)}, so dm-switch could not tell which one the VIP points at; give each instance its own server`,
            });
        } else {
            seen.set(server, instance);
        }
    }
    if (b.trustMapping !== undefined && typeof b.trustMapping !== "boolean") {
        out.push({
            property: "backend.trustMapping",
            reason: `backend.trustMapping must be true or false, got ${JSON.stringify(b.trustMapping)}`,
        });
    }
}

/**
 * verify "backend" trusts the backend's own answer, which is only as right as the mapping: swapped values
 * would move the VIP to the wrong server and "verify" it. So the mapping must be provable from the inputs:
 * a Route53 value equal to its instance's address. An HAProxy server or an ENI names no address the inputs
 * hold, so those are refused (their addresses would have to be read from HAProxy/EC2 at apply time, which
 * the backends do not do yet); `trustMapping: true` accepts an unprovable mapping where no proof can
 * exist (an AWS-compatible API such as moto moves no packets).
 */
function checkMappingProvable(i: VipInputs, out: CheckFailure[]) {
    const b = i.backend;
    if (b.trustMapping === true) {
        return;
    }
    if (b.kind === "route53") {
        const hosts = Object.fromEntries(Object.entries(i.instances ?? {}).map(([n, a]) => [n, a?.host]));
        out.push(
            ...checkRoute53Mapping(b, hosts).map((f) => ({
                ...f,
                reason: `${f.reason}; or set backend.trustMapping: true only where no proof can exist (moto)`,
            })),
        );
        return;
    }
    const names = b.kind === "haproxy" ? "HAProxy server names" : "ENI ids";
    out.push({
        property: "verify",
        reason:
            `verify "backend" with the ${b.kind} backend would trust the mapping of instances to ${names} without proof (nothing connects through the VIP, ` +
            `and the inputs hold no address to compare): use verify "connect" (run where ${i.address?.host}:${i.address?.port} is reachable); ` +
            `set backend.trustMapping: true only where no proof can exist (moto)`,
    });
}

/** Pure input validation of what every VIP has, whatever moves it. */
export function checkVipIntentInputs(i: Omit<VipIntentInputs, "vipResource">): CheckFailure[] {
    const out: CheckFailure[] = [];
    checkDm(i.dm, out);
    checkCommon(i, out);
    checkAddress("address", i.address, out);
    const names = Object.keys(i.instances ?? {});
    if (names.length === 0) {
        out.push({
            property: "instances",
            reason: "instances must name at least one instance of the replication set, each {host, port}",
        });
    }
    for (const n of names) {
        checkAddress(`instances.${n}`, i.instances[n], out);
    }
    if (!names.includes(i.target)) {
        out.push({
            property: "target",
            reason: `target must be one of the instances (${names.join(", ")}), got ${JSON.stringify(i.target)}`,
        });
    }
    checkTasks(i.tasks, out);
    return out;
}

/** Pure input validation of a SourceBinding. */
export function checkSourceBindingInputs(i: SourceBindingInputs): CheckFailure[] {
    const out: CheckFailure[] = [];
    checkDm(i.dm, out);
    checkCommon(i, out);
    checkAddress("address", { host: i.host, port: i.port, tls: i.tls }, out);
    checkTasks(i.tasks, out);
    for (const [n, a] of Object.entries(i.instances ?? {})) {
        checkAddress(`instances.${n}`, a, out);
    }
    if (i.enableRelay !== undefined && typeof i.enableRelay !== "boolean") {
        out.push({
            property: "enableRelay",
            reason: `enableRelay must be true or false (a boolean, not a string), got ${JSON.stringify(i.enableRelay)}`,
        });
    }
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
