/**
 * Shapes of the MySQL/MariaDB probe: where a server is, what it said about itself, and the error a
 * person gets when it cannot be asked. Pure: no I/O, no @pulumi/* import.
 */

import type { Flavor } from "../model";

export type { Flavor } from "../model";

/** Where a MySQL/MariaDB server listens and how to log in. */
export interface MysqlEndpoint {
    host: string;
    port: number;
    user: string;
    /** A secret: never in an error text, a log line or a process argument. */
    password: string;
    /** Connection timeout. @default 5000 */
    connectTimeoutMs?: number;
    /**
     * TLS: PEM texts (not paths). `{}` asks for TLS verified against the system CAs. The certificate is
     * always verified, chain and name: the name is `servername` when set (a certificate for a DNS name
     * reached by address, or through a VIP), else `host`. `key` is a secret. @default no TLS
     */
    tls?: { ca?: string; cert?: string; key?: string; servername?: string };
}

/** One replication channel (MySQL) or connection (MariaDB multi-source) the server replicates through. */
export interface ReplicationSource {
    /** The host the replica connects to (`Source_Host` / `Master_Host`). */
    host: string;
    port: number;
    /** MySQL `Channel_Name` / MariaDB `Connection_name`; `""` for the default one. */
    channel: string;
}

/** The replica side of a server; absent from {@link ServerFacts} when the server replicates from nobody. */
export interface ReplicationFacts {
    /** Both threads run, on every channel. */
    running: boolean;
    sqlRunning: boolean;
    /** `Yes` only: `Connecting` counts as not running. */
    ioRunning: boolean;
    /** The first non-empty IO/SQL error, prefixed with its channel when there are several. */
    lastError?: string;
    /** `Seconds_Behind_Source`/`_Master`; `null` while a thread is stopped (the largest over channels). */
    secondsBehind?: number | null;
    /** Every channel's upstream. */
    sources: ReplicationSource[];
}

/** What the probe learned about one server: the inputs of the switch rule and of DM's prerequisites. */
export interface ServerFacts {
    flavor: Flavor;
    /** `@@version`, for example `8.0.36` or `10.11.19-MariaDB-0+deb12u1-log`. */
    version: string;
    serverId: number;
    /** MySQL `server_uuid`; MariaDB has none. */
    serverUuid?: string;
    /** gtid-E. MySQL `@@GLOBAL.gtid_executed`; MariaDB `@@GLOBAL.gtid_binlog_state`. Whitespace removed. */
    gtidExecuted: string;
    /**
     * gtid-P: what is no longer in the binary logs. MySQL `@@GLOBAL.gtid_purged`; MariaDB the `Gtid_list`
     * event at the start of the oldest binary log (`""` when binary logging is off).
     */
    gtidPurged: string;
    /** MySQL `gtid_mode` (`ON`, `OFF`, `ON_PERMISSIVE`, `OFF_PERMISSIVE`). */
    gtidMode?: string;
    /** MySQL `enforce_gtid_consistency` (`ON`, `OFF`, `WARN`). */
    enforceGtidConsistency?: string;
    /** MariaDB `gtid_strict_mode`. */
    gtidStrictMode?: boolean;
    /** MariaDB `gtid_domain_id`. */
    gtidDomainId?: number;
    /** `log_replica_updates` (MySQL ≥ 8.0.26) or `log_slave_updates`: the server logs what it replicates. */
    logReplicaUpdates: boolean;
    binlogFormat: string;
    /** `binlog_row_image` (`FULL`, `MINIMAL`, `NOBLOB`). */
    binlogRowImage?: string;
    logBin: boolean;
    /** `read_only` or (MySQL) `super_read_only`. */
    readOnly: boolean;
    /** Present when the server is a replica (some channel is configured). */
    replication?: ReplicationFacts;
    /**
     * Set when the user may not read the replica status (MariaDB ≥ 10.5 needs SLAVE MONITOR, which DM's
     * documented grants lack): the server's error. `replication` is then absent although the server
     * may be a replica; nothing else in the facts depends on it.
     */
    replicationUnreadable?: string;
    /**
     * Where the server says it lives (`@@hostname`, `@@port`, `@@datadir`): with server_id and server_uuid,
     * what tells one server from another without depending on when it was read (facts.ts `sameServer`).
     * Absent from facts recorded before it was read.
     */
    identity?: { hostname: string; port: number; datadir: string };
}

/** A row as mysql2 returns it: column name → value. */
export type Row = Record<string, unknown>;

/**
 * The result sets {@link ServerFacts} are built from: what `readProbeRows` collects from a live server,
 * and what unit tests record. Each field names the statement that produced it.
 */
export interface ProbeRows {
    /** `SHOW GLOBAL VARIABLES WHERE Variable_name IN (…)`: `{Variable_name, Value}` rows. */
    variables: Row[];
    /**
     * One row. MySQL: `SELECT @@GLOBAL.gtid_executed AS gtid_executed, @@GLOBAL.gtid_purged AS gtid_purged`;
     * MariaDB: `SELECT @@GLOBAL.gtid_binlog_state AS gtid_binlog_state`. (Read with SELECT, not SHOW
     * VARIABLES, which cuts values at 1024 characters on MySQL.)
     */
    gtid: Row;
    /** `SHOW REPLICA STATUS` (MySQL ≥ 8.0.22), `SHOW SLAVE STATUS` (older MySQL), `SHOW ALL SLAVES STATUS` (MariaDB). */
    replicaStatus: Row[];
    /** The server's error when the replica status was denied (then `replicaStatus` is `[]`). */
    replicaStatusDenied?: string;
    /** MariaDB with binary logging: `SHOW BINLOG EVENTS IN '<oldest log>' LIMIT 4` (holds the `Gtid_list` event). */
    oldestBinlogEvents?: Row[];
}

/** Runs one statement and returns its rows (`[]` for statements without rows): the probe's only I/O. */
export type Query = (sql: string, params?: unknown[]) => Promise<Row[]>;

/**
 * The probe could not connect or read what it needs. The message names the endpoint (`host:port`),
 * the step that failed and the remedy, on one line, and never contains the password.
 */
export class ProbeError extends Error {
    constructor(
        message: string,
        /** `host:port` of the server. */
        readonly endpoint: string,
        /** mysql2's or Node's error code (`ER_ACCESS_DENIED_ERROR`, `ECONNREFUSED`, …) when there is one. */
        readonly code?: string,
    ) {
        super(message);
        this.name = "ProbeError";
    }
}
