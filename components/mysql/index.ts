/**
 * The MySQL/MariaDB probe dm-switch's preflight and switch use: read a server's facts (flavour, ids,
 * gtid-E, gtid-P, the settings DM needs, replica status), judge them, and wait for catch-up.
 * mysql2 only; no @pulumi/* import. The pure half (`factsFromRows`, `targetPrerequisites`,
 * `sameReplicationSet`) does no I/O; GTID text is parsed and compared by components/gtid.
 */
export * from "./types";
export {
    factsFromRows,
    targetPrerequisites,
    sameReplicationSet,
    sameServer,
    detectFlavor,
    replicaStatusSql,
    replicationFromRows,
    purgedFromOldestBinlog,
    PROBE_VARIABLES,
} from "./facts";
export {
    probe,
    readProbeRows,
    withConnection,
    VARIABLES_SQL,
    MYSQL_GTID_SQL,
    MARIADB_GTID_SQL,
    ER_SPECIFIC_ACCESS_DENIED_ERROR,
} from "./probe";
export type { SameSetVerdict } from "./facts";
export { waitForCatchUp, waitForCatchUpWith } from "./wait";
export type { CatchUpOptions, CatchUpResult } from "./wait";
