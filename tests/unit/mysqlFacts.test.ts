/**
 * The probe's parsing without a server (its statements: mysqlStatements.test.ts): result sets of MySQL 5.7, 8.0 and 8.4 (no MySQL
 * server can run here: their rows are written after the servers' documented column names and value
 * formats, trimmed to the columns the probe reads plus a few neighbours) and of MariaDB 10.11
 * (recorded from the local server started by sandbox/mariadb.ts, trimmed the same way).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { factsFromRows, ProbeRows, purgedFromOldestBinlog, Row, ServerFacts } from "../../components/mysql";
import { mariadbFacts, mysqlFacts, UUID_A, UUID_B, variableRows } from "../support/mysqlFixtures";

/** The settings every healthy MySQL server in these recordings shares. */
const MYSQL_BASE = {
    binlog_format: "ROW",
    binlog_row_image: "FULL",
    enforce_gtid_consistency: "ON",
    gtid_mode: "ON",
    log_bin: "ON",
};

/** MySQL 5.7 replica: `log_slave_updates` only, SHOW SLAVE STATUS (Slave_*, Master_*), a multi-line gtid_executed. */
const mysql57: ProbeRows = {
    variables: variableRows({
        ...MYSQL_BASE,
        log_slave_updates: "ON",
        read_only: "ON",
        server_id: "102",
        server_uuid: UUID_B,
        super_read_only: "OFF",
        version: "5.7.44-log",
    }),
    gtid: { gtid_executed: `${UUID_A}:1-1000,\n${UUID_B}:1-5`, gtid_purged: `${UUID_A}:1-200` },
    replicaStatus: [
        {
            Slave_IO_State: "Waiting for master to send event",
            Master_Host: "mysql-a.internal",
            Master_Port: 3306,
            Slave_IO_Running: "Yes",
            Slave_SQL_Running: "Yes",
            Last_Error: "",
            Seconds_Behind_Master: "0",
            Last_IO_Error: "",
            Last_SQL_Error: "",
            Master_UUID: UUID_A,
            Retrieved_Gtid_Set: `${UUID_A}:201-1000`,
            Executed_Gtid_Set: `${UUID_A}:1-1000,\n${UUID_B}:1-5`,
            Auto_Position: 1,
            Channel_Name: "",
        },
    ],
};

/** MySQL 8.0.36 primary: both `log_replica_updates` and its old alias, no replica channel. */
const mysql80: ProbeRows = {
    variables: variableRows({
        ...MYSQL_BASE,
        log_replica_updates: "ON",
        log_slave_updates: "ON",
        read_only: "OFF",
        server_id: "101",
        server_uuid: UUID_A,
        super_read_only: "OFF",
        version: "8.0.36",
    }),
    gtid: { gtid_executed: `${UUID_A}:1-1000`, gtid_purged: "" },
    replicaStatus: [],
};

/** MySQL 8.4.3 replica on two channels (one failing), `log_replica_updates` only, tagged GTIDs. */
const mysql84: ProbeRows = {
    variables: variableRows({
        ...MYSQL_BASE,
        log_replica_updates: "ON",
        read_only: "ON",
        server_id: "103",
        server_uuid: UUID_B,
        super_read_only: "ON",
        version: "8.4.3",
    }),
    gtid: { gtid_executed: `${UUID_A}:1-1000:orders:1-5`, gtid_purged: "" },
    replicaStatus: [
        {
            Replica_IO_State: "Waiting for source to send event",
            Source_Host: "10.0.0.1",
            Source_Port: 3306,
            Replica_IO_Running: "Yes",
            Replica_SQL_Running: "Yes",
            Last_Error: "",
            Seconds_Behind_Source: "2",
            Last_IO_Error: "",
            Last_SQL_Error: "",
            Channel_Name: "a",
        },
        {
            Replica_IO_State: "Connecting to source",
            Source_Host: "10.0.0.2",
            Source_Port: 3307,
            Replica_IO_Running: "Connecting",
            Replica_SQL_Running: "Yes",
            Last_Error: "",
            Seconds_Behind_Source: null,
            Last_IO_Error: "error connecting to master 'repl@10.0.0.2:3307' - retry-time: 60 retries: 3",
            Last_SQL_Error: "",
            Channel_Name: "b",
        },
    ],
};

/** MariaDB 10.11.19 replica, recorded (SHOW ALL SLAVES STATUS trimmed). */
const mariadb1011: ProbeRows = {
    variables: variableRows({
        binlog_format: "ROW",
        binlog_row_image: "FULL",
        gtid_domain_id: "0",
        gtid_strict_mode: "ON",
        log_bin: "ON",
        log_slave_updates: "ON",
        read_only: "OFF",
        server_id: "2",
        version: "10.11.19-MariaDB-0+deb12u1-log",
    }),
    gtid: { gtid_binlog_state: "0-1-2" },
    replicaStatus: [
        {
            Connection_name: "",
            Slave_SQL_State: "Slave has read all relay log; waiting for more updates",
            Slave_IO_State: "Waiting for master to send event",
            Master_Host: "127.0.0.1",
            Master_Port: 39469,
            Slave_IO_Running: "Yes",
            Slave_SQL_Running: "Yes",
            Last_Error: "",
            Seconds_Behind_Master: 0,
            Last_IO_Error: "",
            Last_SQL_Error: "",
            Master_Server_Id: 1,
            Using_Gtid: "Slave_Pos",
            Gtid_IO_Pos: "0-1-2",
            Gtid_Slave_Pos: "0-1-2",
        },
    ],
    oldestBinlogEvents: [
        {
            Log_name: "binlog.000002",
            Pos: 4,
            Event_type: "Format_desc",
            Server_id: 1,
            End_log_pos: 256,
            Info: "Server ver: 10.11.19-MariaDB-0+deb12u1-log, Binlog ver: 4",
        },
        {
            Log_name: "binlog.000002",
            Pos: 256,
            Event_type: "Gtid_list",
            Server_id: 1,
            End_log_pos: 299,
            Info: "[0-1-1]",
        },
        {
            Log_name: "binlog.000002",
            Pos: 299,
            Event_type: "Binlog_checkpoint",
            Server_id: 1,
            End_log_pos: 339,
            Info: "binlog.000001",
        },
        {
            Log_name: "binlog.000002",
            Pos: 339,
            Event_type: "Binlog_checkpoint",
            Server_id: 1,
            End_log_pos: 379,
            Info: "binlog.000002",
        },
    ],
};

/** MariaDB 10.6 primary with two domains, binary logging off (then nothing is purged). */
const mariadb106NoBinlog: ProbeRows = {
    variables: variableRows({
        binlog_format: "MIXED",
        binlog_row_image: "FULL",
        gtid_domain_id: "1",
        gtid_strict_mode: "OFF",
        log_bin: "OFF",
        log_slave_updates: "OFF",
        read_only: "OFF",
        server_id: "0",
        version: "10.6.16-MariaDB",
    }),
    gtid: { gtid_binlog_state: "0-1-10,\n1-2-7" },
    replicaStatus: [],
};

const expected: { name: string; rows: ProbeRows; facts: ServerFacts }[] = [
    {
        name: "MySQL 5.7 replica (log_slave_updates, SHOW SLAVE STATUS, multi-line gtid_executed)",
        rows: mysql57,
        facts: mysqlFacts({
            version: "5.7.44-log",
            serverId: 102,
            serverUuid: UUID_B,
            gtidExecuted: `${UUID_A}:1-1000,${UUID_B}:1-5`,
            gtidPurged: `${UUID_A}:1-200`,
            readOnly: true,
            replication: {
                running: true,
                ioRunning: true,
                sqlRunning: true,
                secondsBehind: 0,
                sources: [{ host: "mysql-a.internal", port: 3306, channel: "" }],
            },
        }),
    },
    {
        name: "MySQL 8.0 primary (log_replica_updates, no channel)",
        rows: mysql80,
        facts: mysqlFacts({
            version: "8.0.36",
            serverId: 101,
            serverUuid: UUID_A,
            gtidExecuted: `${UUID_A}:1-1000`,
            gtidPurged: "",
            readOnly: false,
        }),
    },
    {
        name: "MySQL 8.4 replica (two channels, one connecting, tagged GTIDs, super_read_only)",
        rows: mysql84,
        facts: mysqlFacts({
            version: "8.4.3",
            serverId: 103,
            serverUuid: UUID_B,
            gtidExecuted: `${UUID_A}:1-1000:orders:1-5`,
            gtidPurged: "",
            readOnly: true,
            replication: {
                running: false,
                ioRunning: false,
                sqlRunning: true,
                secondsBehind: null,
                lastError: `channel "b": error connecting to master 'repl@10.0.0.2:3307' - retry-time: 60 retries: 3`,
                sources: [
                    { host: "10.0.0.1", port: 3306, channel: "a" },
                    { host: "10.0.0.2", port: 3307, channel: "b" },
                ],
            },
        }),
    },
    {
        name: "MariaDB 10.11 replica (recorded: gtid_binlog_state, Gtid_list of the oldest log)",
        rows: mariadb1011,
        facts: mariadbFacts({
            version: "10.11.19-MariaDB-0+deb12u1-log",
            serverId: 2,
            gtidExecuted: "0-1-2",
            gtidPurged: "0-1-1",
            replication: {
                running: true,
                ioRunning: true,
                sqlRunning: true,
                secondsBehind: 0,
                sources: [{ host: "127.0.0.1", port: 39469, channel: "" }],
            },
        }),
    },
    {
        name: "MariaDB 10.6 without binary logging (two domains, nothing purged)",
        rows: mariadb106NoBinlog,
        facts: mariadbFacts({
            version: "10.6.16-MariaDB",
            serverId: 0,
            gtidExecuted: "0-1-10,1-2-7",
            gtidStrictMode: false,
            gtidDomainId: 1,
            logReplicaUpdates: false,
            binlogFormat: "MIXED",
            logBin: false,
        }),
    },
];

for (const c of expected) {
    test(`factsFromRows reads ${c.name}`, () => {
        assert.deepEqual(factsFromRows(c.rows), c.facts);
    });
}

test("factsFromRows rejects rows that are not a MySQL or MariaDB server's, naming what is missing", () => {
    assert.throws(
        () =>
            factsFromRows({ ...mysql80, variables: mysql80.variables.filter((r) => r.Variable_name !== "gtid_mode") }),
        {
            name: "TypeError",
            message: "the server did not report the global variable gtid_mode; is it MySQL ≥ 5.7 or MariaDB ≥ 10.0?",
        },
    );
    assert.throws(
        () => factsFromRows({ ...mariadb1011, oldestBinlogEvents: mariadb1011.oldestBinlogEvents?.slice(0, 1) }),
        {
            message: "no Gtid_list event among the first 1 events of binlog.000002; is it a MariaDB ≥ 10.0 binary log?",
        },
    );
});

test("gtid-P from a Gtid_list event: brackets and whitespace dropped, 64-bit sequence numbers exact, [] empty", () => {
    const gtidList = (Info: string): Row[] => [{ Log_name: "binlog.000002", Event_type: "Gtid_list", Info }];
    assert.equal(
        purgedFromOldestBinlog(gtidList("[0-1-5, 1-2-18446744073709551615]")),
        "0-1-5,1-2-18446744073709551615",
    );
    assert.equal(purgedFromOldestBinlog(gtidList("[]")), "");
    assert.throws(() => purgedFromOldestBinlog(gtidList(`[0-1-5,${UUID_A}:1-5]`)), {
        name: "TypeError",
        message: `the Gtid_list event of binlog.000002: element 2 "${UUID_A}:1-5" at offset 6 of the mariadb GTID set: this is a MySQL GTID set (uuid:interval), not a MariaDB one: give the source's flavor as mysql`,
    });
});
