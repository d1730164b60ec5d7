/**
 * The pure half of the probe: turns the result sets a server returned into {@link ServerFacts}, and
 * judges facts — can DM read from this server, do two servers belong to one replication set. No I/O,
 * no @pulumi/* import: unit-tested with recorded rows of MySQL 5.7/8.0/8.4 and MariaDB 10.x.
 */
import {
    formatGtidSet,
    fromServer,
    GtidParseError,
    mariadbEntries,
    MariadbGtidSet,
    parseGtidSet,
    parseMariadb,
    subtract,
} from "../gtid";
import { Flavor, ProbeRows, ReplicationFacts, ReplicationSource, Row, ServerFacts } from "./types";

/** The global variables the probe reads with one `SHOW GLOBAL VARIABLES`; each flavour has a subset. */
export const PROBE_VARIABLES = [
    "version",
    "server_id",
    "server_uuid",
    "gtid_mode",
    "enforce_gtid_consistency",
    "gtid_strict_mode",
    "gtid_domain_id",
    "log_replica_updates",
    "log_slave_updates",
    "binlog_format",
    "binlog_row_image",
    "log_bin",
    "read_only",
    "super_read_only",
    // What names the server itself and does not move under writes (sameServer).
    "hostname",
    "port",
    "datadir",
] as const;

/** `SHOW GLOBAL VARIABLES` rows as a map (lower-case names; MySQL 5.7 may answer `VARIABLE_NAME`/`VARIABLE_VALUE`). */
export function variableMap(rows: Row[]): Map<string, string> {
    const m = new Map<string, string>();
    for (const r of rows) {
        const name = r.Variable_name ?? r.VARIABLE_NAME;
        const value = r.Value ?? r.VARIABLE_VALUE;
        if (typeof name === "string") m.set(name.toLowerCase(), value == null ? "" : String(value));
    }
    return m;
}

/** MariaDB when `version` says so or when it has MariaDB's `gtid_strict_mode` (MySQL has neither). */
export function detectFlavor(vars: Map<string, string>): Flavor {
    return /mariadb/i.test(vars.get("version") ?? "") || vars.has("gtid_strict_mode") ? "mariadb" : "mysql";
}

/** `major.minor.patch` of a version string ≥ the given one (`"8.0.36-log"` ≥ `[8, 0, 22]`). */
export function versionAtLeast(version: string, min: [number, number, number]): boolean {
    const v = (/^(\d+)\.(\d+)\.(\d+)/.exec(version) ?? []).slice(1).map(Number);
    if (v.length !== 3) return false;
    for (let i = 0; i < 3; i++) if (v[i] !== min[i]) return v[i] > min[i];
    return true;
}

/** The statement that lists replication channels: SHOW REPLICA STATUS exists from MySQL 8.0.22; 8.4 dropped SHOW SLAVE STATUS. */
export function replicaStatusSql(flavor: Flavor, version: string): string {
    if (flavor === "mariadb") return "SHOW ALL SLAVES STATUS";
    return versionAtLeast(version, [8, 0, 22]) ? "SHOW REPLICA STATUS" : "SHOW SLAVE STATUS";
}

const on = (v: string | undefined) => ["ON", "1", "TRUE", "YES"].includes((v ?? "").toUpperCase());
const noSpace = (v: unknown) => (v == null ? "" : String(v).replace(/\s+/g, ""));
const first = (r: Row, ...names: string[]) => names.map((n) => r[n]).find((v) => v !== undefined && v !== null);

function required(vars: Map<string, string>, name: string): string {
    const v = vars.get(name);
    if (v === undefined)
        throw new TypeError(
            `the server did not report the global variable ${name}; is it MySQL ≥ 5.7 or MariaDB ≥ 10.0?`,
        );
    return v;
}

/** Replication facts from the status rows (one per channel/connection); undefined when there are none. */
export function replicationFromRows(rows: Row[]): ReplicationFacts | undefined {
    if (rows.length === 0) return undefined;
    const yes = (v: unknown) => v === "Yes";
    const channels = rows.map((r) => {
        const io = yes(first(r, "Replica_IO_Running", "Slave_IO_Running"));
        const sql = yes(first(r, "Replica_SQL_Running", "Slave_SQL_Running"));
        const behind = first(r, "Seconds_Behind_Source", "Seconds_Behind_Master");
        const error = [first(r, "Last_IO_Error"), first(r, "Last_SQL_Error"), first(r, "Last_Error")].find((e) => e) as
            string | undefined;
        const source: ReplicationSource = {
            host: String(first(r, "Source_Host", "Master_Host") ?? ""),
            port: Number(first(r, "Source_Port", "Master_Port") ?? 0),
            channel: String(first(r, "Channel_Name", "Connection_name") ?? ""),
        };
        return { io, sql, behind: behind == null || behind === "" ? null : Number(behind), error, source };
    });
    const errors = channels.filter((c) => c.error);
    const facts: ReplicationFacts = {
        running: channels.every((c) => c.io && c.sql),
        ioRunning: channels.every((c) => c.io),
        sqlRunning: channels.every((c) => c.sql),
        secondsBehind: channels.some((c) => c.behind === null)
            ? null
            : Math.max(...channels.map((c) => c.behind as number)),
        sources: channels.map((c) => c.source),
    };
    if (errors.length > 0) {
        facts.lastError =
            channels.length === 1
                ? errors[0].error
                : errors.map((c) => `channel "${c.source.channel}": ${c.error}`).join("; ");
    }
    return facts;
}

/**
 * MariaDB's gtid-P: the `Gtid_list` event that opens the oldest binary log lists the binlog state
 * before that log, i.e. every GTID no binary log holds any more. `[]` (a fresh server) is `""`.
 */
export function purgedFromOldestBinlog(events: Row[]): string {
    const list = events.find((e) => e.Event_type === "Gtid_list");
    if (!list) {
        const log = events[0]?.Log_name ?? "the oldest binary log";
        throw new TypeError(
            `no Gtid_list event among the first ${events.length} events of ${String(log)}; is it a MariaDB ≥ 10.0 binary log?`,
        );
    }
    const body = String(list.Info ?? "")
        .replace(/\s+/g, "")
        .replace(/^\[(.*)\]$/, "$1");
    return formatGtidSet(
        mariadbSet(body, `the Gtid_list event of ${String(list.Log_name ?? "the oldest binary log")}`),
    );
}

/**
 * MariaDB GTID text (a `gtid_binlog_state`, a position, a `Gtid_list` without its brackets) parsed by
 * components/gtid, so that the probe, the catch-up wait and the switch rule compare positions one way
 * (per domain). A malformed text is a TypeError whose message starts with `what` (callers treat a
 * TypeError as bad input, not as an unreachable server); its `cause` is the {@link GtidParseError}.
 */
export function mariadbSet(text: string, what: string): MariadbGtidSet {
    try {
        return parseMariadb(text);
    } catch (e) {
        if (e instanceof GtidParseError) throw new TypeError(`${what}: ${e.detail}`, { cause: e });
        throw e;
    }
}

/**
 * Builds the facts from the rows `readProbeRows` collected (or a test recorded). Throws a TypeError
 * naming what is missing when the rows are not those of a MySQL ≥ 5.7 / MariaDB ≥ 10.0 server.
 */
export function factsFromRows(rows: ProbeRows): ServerFacts {
    const vars = variableMap(rows.variables);
    const flavor = detectFlavor(vars);
    const logBin = on(required(vars, "log_bin"));
    const facts: ServerFacts = {
        flavor,
        version: required(vars, "version"),
        serverId: Number(required(vars, "server_id")),
        gtidExecuted: "",
        gtidPurged: "",
        logReplicaUpdates: on(vars.get("log_replica_updates") ?? required(vars, "log_slave_updates")),
        binlogFormat: required(vars, "binlog_format").toUpperCase(),
        logBin,
        readOnly: on(vars.get("read_only")) || on(vars.get("super_read_only")),
    };
    if (vars.has("hostname") && vars.has("port") && vars.has("datadir")) {
        facts.identity = {
            hostname: vars.get("hostname")!,
            port: Number(vars.get("port")),
            datadir: vars.get("datadir")!,
        };
    }
    if (vars.has("binlog_row_image")) facts.binlogRowImage = String(vars.get("binlog_row_image")).toUpperCase();
    if (flavor === "mysql") {
        facts.serverUuid = required(vars, "server_uuid");
        facts.gtidMode = required(vars, "gtid_mode").toUpperCase();
        facts.enforceGtidConsistency = required(vars, "enforce_gtid_consistency").toUpperCase();
        if (!("gtid_executed" in rows.gtid))
            throw new TypeError("the GTID row lacks gtid_executed (SELECT @@GLOBAL.gtid_executed).");
        facts.gtidExecuted = noSpace(rows.gtid.gtid_executed);
        facts.gtidPurged = noSpace(rows.gtid.gtid_purged);
    } else {
        facts.gtidStrictMode = on(required(vars, "gtid_strict_mode"));
        facts.gtidDomainId = Number(required(vars, "gtid_domain_id"));
        if (!("gtid_binlog_state" in rows.gtid)) {
            throw new TypeError("the GTID row lacks gtid_binlog_state (SELECT @@GLOBAL.gtid_binlog_state).");
        }
        facts.gtidExecuted = noSpace(rows.gtid.gtid_binlog_state);
        if (logBin) {
            if (!rows.oldestBinlogEvents)
                throw new TypeError("binary logging is on but the oldest binary log's events are missing.");
            facts.gtidPurged = purgedFromOldestBinlog(rows.oldestBinlogEvents);
        }
    }
    const replication = replicationFromRows(rows.replicaStatus);
    if (replication) facts.replication = replication;
    if (rows.replicaStatusDenied !== undefined) facts.replicationUnreadable = rows.replicaStatusDenied;
    return facts;
}

/**
 * What keeps DM from reading this server's binlog safely after a switch (issue 5's list), as
 * sentences a person can act on; `[]` when nothing does. Checked:
 * - binary logging on, `binlog_format=ROW`, `binlog_row_image=FULL` (DM replicates row events and
 *   needs every column);
 * - `log_replica_updates`/`log_slave_updates` on: a replica that does not log what it replicates
 *   lacks, in its binlog, the changes DM must read after the switch;
 * - MySQL: `gtid_mode=ON` and `enforce_gtid_consistency=ON` (DM runs with `enable-gtid: true`); tagged
 *   GTIDs depend on what the DM in use does with them, so the decision refuses them knowing its version
 *   (components/preflight decide, components/dm/capabilities.ts);
 * - MariaDB: `gtid_strict_mode=ON`: without it a domain's sequence numbers may go backwards, and the
 *   per-domain comparison that decides gtid-E ⊇ gtid-S would not be sound;
 * - a non-zero `server_id`.
 * Read-only servers are fine: DM only reads.
 */
export function targetPrerequisites(f: ServerFacts): string[] {
    const out: string[] = [];
    if (!f.logBin)
        out.push("binary logging is off (log_bin=OFF): start the server with log-bin so that DM can read its binlog.");
    if (f.binlogFormat !== "ROW") {
        out.push(
            `binlog_format is ${f.binlogFormat}; DM needs ROW: SET GLOBAL binlog_format=ROW and set it in the server's configuration.`,
        );
    }
    if (f.binlogRowImage !== undefined && f.binlogRowImage !== "FULL") {
        out.push(
            `binlog_row_image is ${f.binlogRowImage}; DM needs FULL: SET GLOBAL binlog_row_image=FULL and set it in the server's configuration.`,
        );
    }
    if (!f.logReplicaUpdates) {
        const name =
            f.flavor === "mysql" ? "log_replica_updates (log_slave_updates before MySQL 8.0.26)" : "log_slave_updates";
        out.push(
            `${name} is OFF: the server does not log the transactions it replicates, so DM would miss them after a switch; enable it and restart.`,
        );
    }
    if (f.flavor === "mysql") {
        if (f.gtidMode !== "ON")
            out.push(`gtid_mode is ${f.gtidMode}; DM with enable-gtid needs ON: enable GTIDs on the server.`);
        if (f.enforceGtidConsistency !== "ON") {
            out.push(
                `enforce_gtid_consistency is ${f.enforceGtidConsistency}; GTID replication needs ON: SET GLOBAL enforce_gtid_consistency=ON.`,
            );
        }
    } else if (!f.gtidStrictMode) {
        out.push(
            "gtid_strict_mode is OFF: GTID sequence numbers may go backwards, so a catch-up comparison cannot be trusted; SET GLOBAL gtid_strict_mode=ON.",
        );
    }
    if (f.serverId === 0)
        out.push(
            "server_id is 0: replication and DM need a unique non-zero server_id; set server_id in the configuration.",
        );
    return out;
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/** How a server's identity is printed in reasons: `server_id 1 at db-1:3306 (/var/lib/mysql/)`. */
function named(f: ServerFacts): string {
    const at = f.identity ? ` at ${f.identity.hostname}:${f.identity.port} (${f.identity.datadir})` : "";
    return `server_id ${f.serverId}${f.serverUuid ? ` (server_uuid ${f.serverUuid})` : ""}${at}`;
}

/**
 * Whether two reads are of one server, judged by what does not move under writes: the flavour, the
 * server_id, the server_uuid (MySQL) and where the server says it lives (hostname, port, data directory),
 * all read from the server itself — so a read through a VIP or a proxy names the server behind it. Two
 * reads without the location (recorded facts) are one server only if MySQL's server_uuid says so.
 */
export function sameServer(a: ServerFacts, b: ServerFacts): boolean {
    if (a.flavor !== b.flavor || a.serverId !== b.serverId) return false;
    if ((a.serverUuid ?? "").toLowerCase() !== (b.serverUuid ?? "").toLowerCase()) return false;
    if (a.identity && b.identity) {
        return (
            a.identity.hostname === b.identity.hostname &&
            a.identity.port === b.identity.port &&
            a.identity.datadir === b.identity.datadir
        );
    }
    return a.flavor === "mysql" && a.serverUuid !== undefined && a.identity === undefined && b.identity === undefined;
}

/** The verdict of {@link sameReplicationSet}. */
export interface SameSetVerdict {
    ok: boolean;
    /** Why, one sentence. */
    reason?: string;
    /**
     * Set when the only objection is that the target holds transactions of the current server that the
     * current server's read lacks: read the current server again (it may have written them after its read,
     * when both were read at once under writes) and ask again; the objection stands if it persists.
     */
    recheck?: boolean;
}

/**
 * Whether `target` belongs to the replication set of `current` (the server DM reads from now) — the
 * precondition of DM's switch procedure — from facts that do not depend on when each server was read:
 * - different flavours never do;
 * - one server (see {@link sameServer}) always does;
 * - two servers with the same server_id (or, MySQL, the same server_uuid: a cloned data directory) never
 *   do: members of one replication set need distinct ids, and a server that shares the current one's id
 *   and GTID domain can hold a higher sequence number of an unrelated history;
 * - otherwise they must share history: a server UUID (MySQL) or a `(domain, originating server_id)` pair
 *   (MariaDB) in both GTID sets — one server's transactions reached both;
 * - and `target` must not hold transactions of `current`'s own server that `current` has not written: a
 *   replica cannot be ahead of the server whose transactions it copies ({@link SameSetVerdict.recheck}).
 * Under writes both GTID sets move; none of these conditions depends on them being read at one moment,
 * except the last, which a second read of `current` settles.
 */
export function sameReplicationSet(current: ServerFacts, target: ServerFacts): SameSetVerdict {
    if (current.flavor !== target.flavor)
        return {
            ok: false,
            reason: `one server is ${current.flavor} and the other ${target.flavor}: they cannot replicate from each other.`,
        };
    if (sameServer(current, target)) return { ok: true, reason: `the same server (${named(current)}).` };
    if (current.serverUuid && current.serverUuid.toLowerCase() === target.serverUuid?.toLowerCase()) {
        return {
            ok: false,
            reason: `${named(target)} and ${named(current)} are two servers with one server_uuid (a copied data directory): members of one replication set need distinct server_uuids.`,
        };
    }
    if (current.serverId === target.serverId) {
        return {
            ok: false,
            reason: `both servers have server_id ${current.serverId} (${named(target)}; ${named(current)}): members of one replication set need distinct server_ids.`,
        };
    }
    const shared = sharedHistory(current, target);
    if (!shared.ok) return shared;
    const origin = current.flavor === "mysql" ? current.serverUuid : String(current.serverId);
    if (origin && current.gtidExecuted !== "" && target.gtidExecuted !== "") {
        const own = (f: ServerFacts) => fromServer(parseGtidSet(f.flavor, f.gtidExecuted), origin);
        const ahead = formatGtidSet(subtract(own(target), own(current)));
        if (ahead !== "") {
            return {
                ok: false,
                recheck: true,
                reason: `it holds transactions of ${named(current)} that this server has not written (${ahead.length > 200 ? `${ahead.slice(0, 200)}…` : ahead}): it is not a replica of it.`,
            };
        }
    }
    return shared;
}

/** A server UUID (MySQL) or a (domain, originating server_id) pair (MariaDB) in both histories. */
function sharedHistory(a: ServerFacts, b: ServerFacts): SameSetVerdict {
    if (a.flavor === "mysql") {
        const uuids = (f: ServerFacts) =>
            new Set(
                [...(f.gtidExecuted.match(UUID) ?? []), ...(f.serverUuid ? [f.serverUuid] : [])].map((u) =>
                    u.toLowerCase(),
                ),
            );
        const ua = uuids(a);
        const shared = [...uuids(b)].filter((u) => ua.has(u));
        if (shared.length > 0)
            return { ok: true, reason: `both histories hold transactions of server ${shared.sort()[0]}.` };
        if (a.gtidExecuted === "" || b.gtidExecuted === "") {
            return {
                ok: false,
                reason: "a server has executed no GTID transaction yet: no evidence that both belong to one replication set.",
            };
        }
        return {
            ok: false,
            reason: "gtid_executed of the two servers share no server UUID: they do not belong to one replication set.",
        };
    }
    const pairs = (f: ServerFacts) =>
        new Set(
            mariadbEntries(mariadbSet(f.gtidExecuted, `gtid_binlog_state of server_id ${f.serverId}`)).map(
                (g) => `${g.domain}-${g.server}`,
            ),
        );
    const pa = pairs(a);
    const pb = pairs(b);
    const shared = [...pb].filter((p) => pa.has(p)).sort();
    if (shared.length > 0) return { ok: true, reason: `both binlog states hold domain-server ${shared[0]}.` };
    if (pa.size === 0 || pb.size === 0) {
        return {
            ok: false,
            reason: "a server has logged no GTID yet: no evidence that both belong to one replication set.",
        };
    }
    return {
        ok: false,
        reason: "gtid_binlog_state of the two servers share no (domain, server_id): they do not belong to one replication set.",
    };
}
