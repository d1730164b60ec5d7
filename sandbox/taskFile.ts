/**
 * The sandbox's DM task files and schemas. Pure: text only.
 *
 * Each task replicates its own schema (`sbtest_<i>`): two tasks of one source that write the same
 * tables downstream collide (`Duplicate entry`, the second pauses with error 10006).
 *
 * Prechecks: two are ignored, everything else an incremental task runs stays on (meta_position,
 * server_id, binlog_enable, binlog_format, binlog_row_image, binlog_db, table_schema, target_privilege;
 * meta_position needs REPLICATION MASTER ADMIN for `SHOW SLAVE HOSTS`, which is granted).
 * - `replication_privilege` fails for a correctly privileged account: DM parses `SHOW GRANTS` with TiDB's
 *   SQL parser (dm/pkg/checker/privilege.go `VerifyPrivileges`), and MariaDB ≥ 10.5.2 prints the
 *   privileges DM needs under names that parser does not know (`REPLICATION CLIENT` is shown as
 *   `BINLOG MONITOR`, and `REPLICATION MASTER ADMIN`): "line 1 column 47 near MONITOR ON *.*".
 * - `version` only warns ("Migrating from MariaDB is still experimental"), but a warning makes
 *   `dmctl start-task` print the check report inside a JSON string with raw newlines and tabs, which
 *   components/dm/dmctl.ts cannot parse, so start-task through the DM client fails on any warning.
 *   Drop it from the list (SandboxOptions.ignoreChecks) once that parser copes.
 * Seen with DM at tiflow 1d4a644a7d48 and MariaDB 10.11.
 */

/** Prechecks ignored by default (see above). */
export const IGNORED_CHECKS: readonly string[] = ["replication_privilege", "version"];

/** The privileges of the DM source account on MariaDB 10.11 for incremental replication. */
export const SOURCE_GRANTS = "SELECT, REPLICATION SLAVE, BINLOG MONITOR, REPLICATION MASTER ADMIN";

/**
 * The source account's privileges per flavour. MySQL ≥ 8.4: SHOW BINARY LOG STATUS and SHOW REPLICA STATUS
 * need REPLICATION CLIENT, the binlog dump REPLICATION SLAVE; DM's dump (all mode) asks for RELOAD, LOCK TABLES
 * and PROCESS (without PROCESS its precheck `dumper_conn_number_checker` warns, and a warning breaks dmctl
 * start-task's answer, see above).
 */
export function sourceGrants(flavor: "mariadb" | "mysql"): string {
    return flavor === "mysql"
        ? "SELECT, RELOAD, LOCK TABLES, PROCESS, REPLICATION SLAVE, REPLICATION CLIENT"
        : SOURCE_GRANTS;
}

/** The prechecks ignored by default per flavour (MariaDB: see above). */
export function ignoredChecks(flavor: "mariadb" | "mysql"): readonly string[] {
    return flavor === "mysql" ? MYSQL_IGNORED_CHECKS : IGNORED_CHECKS;
}

/**
 * MySQL: `version` — DM 2409e0b warns that MySQL 9.7 is above the versions it supports (a warning breaks
 * dmctl start-task's parse, see above).
 */
export const MYSQL_IGNORED_CHECKS: readonly string[] = ["version"];

/** The load's table in every task schema: `seq` is the load's sequence number, `id` one per write attempt. */
export const TABLE_DDL =
    "CREATE TABLE t (id BIGINT PRIMARY KEY, seq BIGINT NOT NULL, payload VARCHAR(64) NOT NULL, " +
    "written_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), KEY k_seq (seq)) " +
    // Explicit: DM creates the table downstream from this statement, and TiDB's default (utf8mb4_bin) would
    // differ from the upstream's, which DM's table-structure precheck reports as a warning at every start-task.
    "DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci";

/** What one task file says. */
export interface TaskFileInput {
    name: string;
    schema: string;
    sourceId: string;
    /** Where the incremental task starts (the primary's gtid_binlog_pos before the schema was created); unused in all mode. */
    binlogGtid: string;
    /**
     * DM's task mode: "all" dumps the schema's tables, loads them downstream, then replicates from the dump's
     * position (no meta). DM's load step works into TiDB only (into MariaDB it creates its error tables with
     * TiDB syntax: error 1064). @default "incremental"
     */
    mode?: "incremental" | "all";
    target: { host: string; port: number; user: string; password: string };
    /** `ignore-checking-items`. @default IGNORED_CHECKS */
    ignoreChecks?: readonly string[];
    /** The syncer's checkpoint flush interval in seconds: short, so gtid-S is fresh in tests. @default 1 */
    checkpointFlushIntervalSec?: number;
}

const q = JSON.stringify;

/** Task names and schemas: `sandbox_task_<i>` replicating `sbtest_<i>`. */
export function taskNames(count: number): { name: string; schema: string }[] {
    return Array.from({ length: count }, (_, i) => ({ name: `sandbox_task_${i}`, schema: `sbtest_${i}` }));
}

/** A block-style YAML task file (the shape components/dm/taskFile.ts edits before start-task). */
export function taskFileText(t: TaskFileInput): string {
    const list = `only_${t.schema}`;
    return [
        `name: ${q(t.name)}`,
        `task-mode: ${t.mode ?? "incremental"}`,
        `ignore-checking-items: [${(t.ignoreChecks ?? IGNORED_CHECKS).map((c) => q(c)).join(", ")}]`,
        "meta-schema: dm_meta",
        "target-database:",
        `  host: ${q(t.target.host)}`,
        `  port: ${t.target.port}`,
        `  user: ${q(t.target.user)}`,
        `  password: ${q(t.target.password)}`,
        "mysql-instances:",
        `  - source-id: ${q(t.sourceId)}`,
        ...((t.mode ?? "incremental") === "incremental" ? ["    meta:", `      binlog-gtid: ${q(t.binlogGtid)}`] : []),
        `    block-allow-list: ${q(list)}`,
        `    syncer-config-name: "sandbox"`,
        "block-allow-list:",
        `  ${list}:`,
        `    do-dbs: [${q(t.schema)}]`,
        "syncers:",
        "  sandbox:",
        `    checkpoint-flush-interval: ${t.checkpointFlushIntervalSec ?? 1}`,
        "",
    ].join("\n");
}
