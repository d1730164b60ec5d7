/**
 * The I/O half of the probe: one mysql2 connection, the statements that read a server's facts, and
 * errors a person can act on. mysql2 is imported inside the functions so that a Pulumi dynamic
 * provider capturing them stays small.
 */
import * as net from "node:net";
import { detectFlavor, factsFromRows, PROBE_VARIABLES, replicaStatusSql, variableMap } from "./facts";
import { MysqlEndpoint, ProbeError, ProbeRows, Query, Row, ServerFacts } from "./types";

/** The first statement of every probe: both flavours' variables at once (each server answers its subset). */
export const VARIABLES_SQL = `SHOW GLOBAL VARIABLES WHERE Variable_name IN (${PROBE_VARIABLES.map((n) => `'${n}'`).join(", ")})`;

/** gtid-E and gtid-P of MySQL (SELECT: SHOW VARIABLES cuts values at 1024 characters). */
export const MYSQL_GTID_SQL = "SELECT @@GLOBAL.gtid_executed AS gtid_executed, @@GLOBAL.gtid_purged AS gtid_purged";

/** gtid-E of MariaDB. */
export const MARIADB_GTID_SQL = "SELECT @@GLOBAL.gtid_binlog_state AS gtid_binlog_state";

/** "Access denied; you need (at least one of) the … privilege(s) for this operation". */
export const ER_SPECIFIC_ACCESS_DENIED_ERROR = 1227;

/** MariaDB's "Could not find target log" (the oldest log was purged between two statements). */
const ER_ERROR_WHEN_EXECUTING_COMMAND = 1220;

/**
 * Runs the probe's statements through `q`, in order: {@link VARIABLES_SQL}; the flavour's GTID
 * statement; the replica status; and on MariaDB with binary logging `SHOW BINARY LOGS` then
 * `SHOW BINLOG EVENTS IN '<oldest>' LIMIT 4` (retried when that log is purged in between).
 */
export async function readProbeRows(q: Query): Promise<ProbeRows> {
    const variables = await q(VARIABLES_SQL);
    const vars = variableMap(variables);
    const flavor = detectFlavor(vars);
    const [gtid] = await q(flavor === "mysql" ? MYSQL_GTID_SQL : MARIADB_GTID_SQL);
    // The replica status is context, not a fact the switch rule needs: a user without the privilege to
    // read it (SLAVE MONITOR on MariaDB ≥ 10.5, REPLICATION CLIENT on MySQL) is probed without it, and
    // the facts say so (replicationUnreadable).
    let denied: string | undefined;
    const replicaStatus = await q(replicaStatusSql(flavor, vars.get("version") ?? "")).catch(
        (e: { errno?: number; message?: string }) => {
            if (e.errno !== ER_SPECIFIC_ACCESS_DENIED_ERROR) throw e;
            denied = String(e.message);
            return [];
        },
    );
    const rows: ProbeRows = { variables, gtid: gtid ?? {}, replicaStatus };
    if (denied !== undefined) rows.replicaStatusDenied = denied;
    if (flavor === "mariadb" && (vars.get("log_bin") ?? "").toUpperCase() === "ON") {
        for (let attempt = 1; ; attempt++) {
            const name = (await q("SHOW BINARY LOGS"))[0]?.Log_name;
            if (typeof name !== "string")
                throw new TypeError("SHOW BINARY LOGS listed no binary log although log_bin is ON.");
            try {
                rows.oldestBinlogEvents = await q("SHOW BINLOG EVENTS IN ? LIMIT 4", [name]);
                break;
            } catch (e) {
                if ((e as { errno?: number }).errno !== ER_ERROR_WHEN_EXECUTING_COMMAND || attempt >= 3) throw e;
            }
        }
    }
    return rows;
}

/**
 * Connects to `ep` and reads its {@link ServerFacts}: flavour, ids, gtid-E and gtid-P, the settings DM
 * depends on and the replica status. Read-only: it changes nothing on the server. Throws
 * {@link ProbeError}. The user needs REPLICATION CLIENT (seen enough on MariaDB 10.11); without the
 * right to read the replica status (MariaDB ≥ 10.5: SLAVE MONITOR) the facts carry `replicationUnreadable`.
 */
export function probe(ep: MysqlEndpoint): Promise<ServerFacts> {
    return withConnection(ep, "probe", async (q, setStep) => {
        const rows = await readProbeRows(q);
        setStep("reading the results");
        return factsFromRows(rows);
    });
}

/** mysql2 reports every TLS failure as HANDSHAKE_SSL_ERROR: Node's own code, from the text it keeps. */
function tlsCode(code: string | undefined, message: string): string | undefined {
    if (code !== "HANDSHAKE_SSL_ERROR") return code;
    if (/self[- ]signed|unable to (verify|get)|signature failure/i.test(message))
        return "UNABLE_TO_VERIFY_LEAF_SIGNATURE";
    if (/altnames|does not match certificate/i.test(message)) return "ERR_TLS_CERT_ALTNAME_INVALID";
    if (/expired|not yet valid/i.test(message)) return "CERT_HAS_EXPIRED";
    return code;
}

/** Why a step failed, for a person: the remedy by mysql2/Node error code. */
function remedy(code: string | undefined, ep: MysqlEndpoint): string {
    switch (code) {
        case "ECONNREFUSED":
            return `Nothing listens on ${ep.host}:${ep.port}: check the host and port, and that the server runs.`;
        case "ETIMEDOUT":
            return `No answer within ${ep.connectTimeoutMs ?? 5000} ms: check the host, port and firewall, or raise connectTimeoutMs.`;
        case "ENOTFOUND":
        case "EAI_AGAIN":
            return `The host name ${ep.host} does not resolve: check it.`;
        case "ER_ACCESS_DENIED_ERROR":
        case "ER_ACCESS_DENIED_NO_PASSWORD_ERROR":
        case "ER_NOT_SUPPORTED_AUTH_MODE":
            return `Check the user ${ep.user} and its password.`;
        case "ER_SPECIFIC_ACCESS_DENIED_ERROR":
        case "ER_DBACCESS_DENIED_ERROR":
        case "ER_TABLEACCESS_DENIED_ERROR":
            return `Grant ${ep.user} REPLICATION CLIENT (on MariaDB ≥ 10.5 also SLAVE MONITOR).`;
        case "HANDSHAKE_NO_SSL_SUPPORT":
        case "HANDSHAKE_SSL_ERROR":
            return "Check the server's TLS setup and the endpoint's tls settings.";
        case "DEPTH_ZERO_SELF_SIGNED_CERT":
        case "SELF_SIGNED_CERT_IN_CHAIN":
        case "UNABLE_TO_VERIFY_LEAF_SIGNATURE":
        case "UNABLE_TO_GET_ISSUER_CERT_LOCALLY":
        case "UNABLE_TO_GET_ISSUER_CERT":
        case "CERT_SIGNATURE_FAILURE":
            return `The server's certificate is not signed by ${ep.tls?.ca ? "tls.ca" : "a system CA (no tls.ca is set)"}: set tls.ca to the PEM of the CA that signed the server's certificate (its ssl_ca).`;
        case "ERR_TLS_CERT_ALTNAME_INVALID":
            return `The server's certificate does not hold the name ${ep.tls?.servername ?? ep.host}: set tls.servername to a name it holds, or reissue it with that name.`;
        case "CERT_HAS_EXPIRED":
        case "CERT_NOT_YET_VALID":
            return "The server's certificate is outside its validity period: renew it.";
        default:
            return "Check that the endpoint is a MySQL ≥ 5.7 or MariaDB ≥ 10.0 server the user may query.";
    }
}

/** An error's message on one line, without the secrets (the password, a TLS key). */
function clean(message: string, secrets: (string | undefined)[]): string {
    let line = message.replace(/\s*\n\s*/g, " ").trim();
    for (const s of secrets) {
        if (s) line = line.split(s).join("***");
    }
    return line;
}

/**
 * mysql2's connection options for `ep`'s TLS: the chain always verified (rejectUnauthorized) and the name
 * too (verifyIdentity; mysql2 checks neither name nor SNI unless asked). mysql2 takes the name from `host`,
 * so with `servername` the connection is opened to `ep.host` by our own socket and `host` names the certificate.
 */
export function tlsOptions(ep: MysqlEndpoint): { ssl?: object; host: string; stream?: () => net.Socket } {
    const tls = ep.tls;
    if (!tls) {
        return { host: ep.host };
    }
    const ssl = { ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: true, verifyIdentity: true };
    if (tls.servername && tls.servername !== ep.host) {
        return { ssl, host: tls.servername, stream: () => net.connect(ep.port, ep.host).setNoDelay(true) };
    }
    return { ssl, host: ep.host };
}

/**
 * Opens one connection to `ep`, runs `fn` with a {@link Query} over it, and closes it. Every failure —
 * connecting, a statement, or `fn` itself — becomes a {@link ProbeError} naming `what`, the endpoint
 * and the step: the statement that was running, or what `fn` last named through `setStep`.
 */
export async function withConnection<T>(
    ep: MysqlEndpoint,
    what: string,
    fn: (q: Query, setStep: (step: string) => void) => Promise<T>,
): Promise<T> {
    const where = `${ep.host}:${ep.port}`;
    let step = `connecting as ${ep.user}`;
    const fail = (e: unknown): never => {
        // The caller's own abort is not the server's failure: pass it through unchanged.
        if (e instanceof ProbeError || (e as Error)?.name === "AbortError") throw e;
        const err = e as { message?: string; code?: string };
        const code = typeof err.code === "string" ? err.code : undefined;
        const message = clean(String(err.message ?? e), [ep.password, ep.tls?.key]);
        throw new ProbeError(
            `${what} of ${where} failed while ${step}: ${message}. ${remedy(tlsCode(code, message), ep)}`,
            where,
            code,
        );
    };
    const mysql = require("mysql2/promise") as typeof import("mysql2/promise");
    if (ep.tls) step = `connecting as ${ep.user} with TLS (verifying ${ep.tls.servername ?? ep.host})`;
    const conn = await mysql
        .createConnection({
            ...tlsOptions(ep),
            port: ep.port,
            user: ep.user,
            password: ep.password,
            connectTimeout: ep.connectTimeoutMs ?? 5000,
            supportBigNumbers: true,
            bigNumberStrings: true,
            dateStrings: true,
        })
        .catch(fail);
    // A connection that dies later (server killed mid-wait) emits 'error'; the pending query rejects too.
    conn.on("error", () => undefined);
    const q: Query = async (sql, params) => {
        step = `running ${sql}`;
        const [rows] = await conn.query(sql, params);
        return Array.isArray(rows) ? (rows as Row[]) : [];
    };
    try {
        return await fn(q, (s) => (step = s)).catch(fail);
    } finally {
        await conn.end().catch(() => conn.destroy());
    }
}
