/**
 * What the MySQL/MariaDB probe tests share: two server UUIDs, `SHOW GLOBAL VARIABLES` rows from a map,
 * and the facts of a healthy MySQL 8.0 and MariaDB 10.11 server that a test overrides field by field.
 */
import { Row, ServerFacts } from "../../components/mysql";

/** A MySQL server UUID (the one MySQL's manual uses). */
export const UUID_A = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
/** A second server UUID. */
export const UUID_B = "a2c0f6d4-5b1e-11ee-8c99-0242ac120002";

/** `SHOW GLOBAL VARIABLES` rows (`Variable_name`, `Value`) for the given variables, in their order. */
export function variableRows(variables: Record<string, string>): Row[] {
    return Object.entries(variables).map(([Variable_name, Value]) => ({ Variable_name, Value }));
}

/** What both healthy servers share: nothing purged, binary logging the way DM reads it, not read-only. */
const HEALTHY = {
    gtidPurged: "",
    logReplicaUpdates: true,
    binlogFormat: "ROW",
    binlogRowImage: "FULL",
    logBin: true,
    readOnly: false,
};

/**
 * A healthy MySQL 8.0.36 primary (server_id 101, UUID_A, `UUID_A:1-100` executed, nothing purged, no
 * replica channel) with `o` over it.
 */
export function mysqlFacts(o: Partial<ServerFacts> = {}): ServerFacts {
    return {
        flavor: "mysql",
        version: "8.0.36",
        serverId: 101,
        serverUuid: UUID_A,
        gtidExecuted: `${UUID_A}:1-100`,
        gtidMode: "ON",
        enforceGtidConsistency: "ON",
        ...HEALTHY,
        ...o,
    };
}

/**
 * A healthy MariaDB 10.11.19 primary (server_id 1, domain 0, `0-1-100` in its binlog state, nothing
 * purged, strict mode, no replica connection) with `o` over it.
 */
export function mariadbFacts(o: Partial<ServerFacts> = {}): ServerFacts {
    return {
        flavor: "mariadb",
        version: "10.11.19-MariaDB-0+deb12u1-log",
        serverId: 1,
        gtidExecuted: "0-1-100",
        gtidStrictMode: true,
        gtidDomainId: 0,
        ...HEALTHY,
        ...o,
    };
}
