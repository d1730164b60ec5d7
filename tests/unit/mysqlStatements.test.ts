/**
 * The exact statements the probe and the catch-up wait send, per flavour and version, through a fake
 * connection that answers from canned rows and records what it was asked. (The MariaDB ones also run
 * live in tests/integration/mysqlProbe.test.ts; the MySQL ones cannot run here.)
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Query, readProbeRows, Row, waitForCatchUp, waitForCatchUpWith } from "../../components/mysql";
import { UUID_A, variableRows } from "../support/mysqlFixtures";

type Asked = [string, unknown[] | undefined][];

/** A fake connection: `answer` maps a statement (and its parameters) to rows; every call is recorded. */
function fake(answer: (sql: string, params?: unknown[]) => Row[]): { q: Query; asked: Asked } {
    const asked: Asked = [];
    return {
        asked,
        q: async (sql, params) => {
            asked.push([sql, params]);
            return answer(sql, params);
        },
    };
}

const VARIABLES =
    "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('version', 'server_id', 'server_uuid', 'gtid_mode', " +
    "'enforce_gtid_consistency', 'gtid_strict_mode', 'gtid_domain_id', 'log_replica_updates', 'log_slave_updates', " +
    "'binlog_format', 'binlog_row_image', 'log_bin', 'read_only', 'super_read_only', 'hostname', 'port', 'datadir')";
const MYSQL_GTID = "SELECT @@GLOBAL.gtid_executed AS gtid_executed, @@GLOBAL.gtid_purged AS gtid_purged";
const MARIADB_GTID = "SELECT @@GLOBAL.gtid_binlog_state AS gtid_binlog_state";

/** A server that answers the probe: its variables decide the flavour and the statements that follow. */
function server(variables: Record<string, string>) {
    const rows = variableRows(variables);
    return fake((sql) => {
        if (sql === VARIABLES) return rows;
        if (sql === MYSQL_GTID) return [{ gtid_executed: "", gtid_purged: "" }];
        if (sql === MARIADB_GTID) return [{ gtid_binlog_state: "0-1-2" }];
        if (/^SHOW (REPLICA|SLAVE|ALL SLAVES) STATUS$/.test(sql)) return [];
        if (sql === "SHOW BINARY LOGS")
            return [{ Log_name: "binlog.000007", File_size: 530 }, { Log_name: "binlog.000008" }];
        if (sql === "SHOW BINLOG EVENTS IN ? LIMIT 4") return [{ Event_type: "Gtid_list", Info: "[0-1-1]" }];
        throw new Error(`unexpected statement ${sql}`);
    });
}

const sequences: { name: string; variables: Record<string, string>; statements: Asked }[] = [
    {
        name: "MySQL 5.7.44",
        variables: { version: "5.7.44-log", log_bin: "ON" },
        statements: [
            [VARIABLES, undefined],
            [MYSQL_GTID, undefined],
            ["SHOW SLAVE STATUS", undefined],
        ],
    },
    {
        name: "MySQL 8.0.21",
        variables: { version: "8.0.21", log_bin: "ON" },
        statements: [
            [VARIABLES, undefined],
            [MYSQL_GTID, undefined],
            ["SHOW SLAVE STATUS", undefined],
        ],
    },
    {
        name: "MySQL 8.0.22",
        variables: { version: "8.0.22", log_bin: "ON" },
        statements: [
            [VARIABLES, undefined],
            [MYSQL_GTID, undefined],
            ["SHOW REPLICA STATUS", undefined],
        ],
    },
    {
        name: "MySQL 8.4.3",
        variables: { version: "8.4.3", log_bin: "ON" },
        statements: [
            [VARIABLES, undefined],
            [MYSQL_GTID, undefined],
            ["SHOW REPLICA STATUS", undefined],
        ],
    },
    {
        name: "MariaDB 10.11 with binary logging",
        variables: { version: "10.11.19-MariaDB-0+deb12u1-log", log_bin: "ON", gtid_strict_mode: "ON" },
        statements: [
            [VARIABLES, undefined],
            [MARIADB_GTID, undefined],
            ["SHOW ALL SLAVES STATUS", undefined],
            ["SHOW BINARY LOGS", undefined],
            ["SHOW BINLOG EVENTS IN ? LIMIT 4", ["binlog.000007"]],
        ],
    },
    {
        name: "MariaDB without binary logging",
        variables: { version: "10.6.16-MariaDB", log_bin: "OFF", gtid_strict_mode: "ON" },
        statements: [
            [VARIABLES, undefined],
            [MARIADB_GTID, undefined],
            ["SHOW ALL SLAVES STATUS", undefined],
        ],
    },
    {
        name: "MariaDB whose version does not say MariaDB (detected by gtid_strict_mode)",
        variables: { version: "10.11.6-log", log_bin: "OFF", gtid_strict_mode: "OFF" },
        statements: [
            [VARIABLES, undefined],
            [MARIADB_GTID, undefined],
            ["SHOW ALL SLAVES STATUS", undefined],
        ],
    },
];

for (const c of sequences) {
    test(`readProbeRows asks ${c.name} exactly its statements`, async () => {
        const { q, asked } = server(c.variables);
        await readProbeRows(q);
        assert.deepEqual(asked, c.statements);
    });
}

test("readProbeRows retries when the oldest binary log is purged between two statements", async () => {
    let lists = 0;
    const { q, asked } = fake((sql, params) => {
        if (sql === VARIABLES) return variableRows({ version: "10.11.19-MariaDB", log_bin: "ON" });
        if (sql === "SHOW BINARY LOGS") return [{ Log_name: ++lists === 1 ? "binlog.000001" : "binlog.000002" }];
        if (sql.startsWith("SHOW BINLOG EVENTS") && params?.[0] === "binlog.000001") {
            throw Object.assign(
                new Error("Error when executing command SHOW BINLOG EVENTS: Could not find target log"),
                { errno: 1220 },
            );
        }
        return sql.startsWith("SHOW BINLOG EVENTS") ? [{ Event_type: "Gtid_list", Info: "[0-1-1]" }] : [];
    });
    const rows = await readProbeRows(q);
    assert.deepEqual(rows.oldestBinlogEvents, [{ Event_type: "Gtid_list", Info: "[0-1-1]" }]);
    assert.deepEqual(asked.slice(3), [
        ["SHOW BINARY LOGS", undefined],
        ["SHOW BINLOG EVENTS IN ? LIMIT 4", ["binlog.000001"]],
        ["SHOW BINARY LOGS", undefined],
        ["SHOW BINLOG EVENTS IN ? LIMIT 4", ["binlog.000002"]],
    ]);
});

const SET = `${UUID_A}:1-57`;

test("MySQL waits with WAIT_FOR_EXECUTED_GTID_SET, the timeout rounded up to whole seconds", async () => {
    for (const [result, caughtUp] of [
        [0, true],
        [1, false],
    ] as const) {
        const { q, asked } = fake(() => [{ result }]);
        const r = await waitForCatchUpWith(q, "mysql", `${SET},\n`, 2500);
        assert.equal(r.caughtUp, caughtUp);
        assert.deepEqual(asked, [["SELECT WAIT_FOR_EXECUTED_GTID_SET(?, ?) AS result", [`${SET},`, 3]]]);
    }
});

test("MySQL with a timeout of 0 only checks, with GTID_SUBSET", async () => {
    const { q, asked } = fake(() => [{ done: 1 }]);
    assert.equal((await waitForCatchUpWith(q, "mysql", SET, 0)).caughtUp, true);
    assert.deepEqual(asked, [["SELECT GTID_SUBSET(?, @@GLOBAL.gtid_executed) AS done", [SET]]]);
});

test("an empty GTID set is reached at once, without a statement", async () => {
    const { q, asked } = fake(() => []);
    assert.equal((await waitForCatchUpWith(q, "mariadb", " ", 1000)).caughtUp, true);
    assert.deepEqual(asked, []);
});

test("MariaDB that is not a replica: gtid_binlog_state is polled, MASTER_GTID_WAIT never used", async () => {
    const states = ["0-1-4", "0-1-4", "0-1-5,1-2-9"];
    const { q, asked } = fake((sql) => (sql === MARIADB_GTID ? [{ gtid_binlog_state: states.shift() }] : []));
    const r = await waitForCatchUpWith(q, "mariadb", "0-1-5,1-2-3", 5000, { intervalMs: 1 });
    assert.equal(r.caughtUp, true);
    assert.deepEqual(asked, [
        [MARIADB_GTID, undefined],
        ["SHOW ALL SLAVES STATUS", undefined],
        [MARIADB_GTID, undefined],
        [MARIADB_GTID, undefined],
    ]);
});

test("MariaDB replica: MASTER_GTID_WAIT on the position (one GTID per domain), in slices of at most a second", async () => {
    let waits = 0;
    const { q, asked } = fake((sql) => {
        if (sql === MARIADB_GTID) return [{ gtid_binlog_state: waits < 2 ? "0-1-4" : "0-2-7,1-3-2" }];
        if (sql === "SHOW ALL SLAVES STATUS") return [{ Connection_name: "", Slave_SQL_Running: "Yes" }];
        return [{ result: ++waits < 2 ? -1 : 0 }];
    });
    const r = await waitForCatchUpWith(q, "mariadb", "0-1-5,0-2-7,1-3-2", 5000);
    assert.equal(r.caughtUp, true);
    const waitsAsked = asked.filter(([sql]) => sql.startsWith("SELECT MASTER_GTID_WAIT"));
    assert.deepEqual(
        waitsAsked.map(([sql, p]) => [sql, p?.[0], (p?.[1] as number) <= 1]),
        [
            ["SELECT MASTER_GTID_WAIT(?, ?) AS result", "0-2-7,1-3-2", true],
            ["SELECT MASTER_GTID_WAIT(?, ?) AS result", "0-2-7,1-3-2", true],
        ],
    );
});

const perDomain: { name: string; state: string; want: string; caughtUp: boolean }[] = [
    {
        name: "another server's higher sequence number in a domain reaches it",
        state: "0-1-10,0-2-12,1-3-4",
        want: "0-1-12,1-3-4",
        caughtUp: true,
    },
    {
        name: "a domain behind or missing is not reached",
        state: "0-1-10,0-2-12,1-3-4",
        want: "0-2-13,2-5-1",
        caughtUp: false,
    },
];
for (const c of perDomain) {
    test(`MariaDB decides caught-up per domain: ${c.name}`, async () => {
        const { q } = fake((sql) => (sql === MARIADB_GTID ? [{ gtid_binlog_state: c.state }] : []));
        assert.equal((await waitForCatchUpWith(q, "mariadb", c.want, 0)).caughtUp, c.caughtUp);
    });
}

test("MariaDB replica: the position keeps each domain's highest sequence number, whichever server wrote it", async () => {
    let waited = false;
    const { q, asked } = fake((sql) => {
        if (sql === MARIADB_GTID) return [{ gtid_binlog_state: waited ? "0-2-12,1-3-4" : "0-1-4" }];
        if (sql === "SHOW ALL SLAVES STATUS") return [{ Connection_name: "" }];
        waited = true;
        return [{ result: 0 }];
    });
    assert.equal((await waitForCatchUpWith(q, "mariadb", "0-1-10,0-2-12,1-3-4", 5000)).caughtUp, true);
    assert.deepEqual(
        asked.filter(([sql]) => sql.startsWith("SELECT MASTER_GTID_WAIT")).map(([, p]) => p?.[0]),
        ["0-2-12,1-3-4"],
    );
});

test("MariaDB replica that never gets there: false once the timeout has passed", async () => {
    const { q } = fake((sql) => {
        if (sql === MARIADB_GTID) return [{ gtid_binlog_state: "0-1-4" }];
        if (sql === "SHOW ALL SLAVES STATUS") return [{ Connection_name: "" }];
        return [{ result: -1 }];
    });
    const r = await waitForCatchUpWith(q, "mariadb", "0-1-5", 30);
    console.log(`gave up after ${r.waitedMs} ms (timeout 30 ms)`);
    assert.equal(r.caughtUp, false);
});

const malformed: { gtid: string; message: string }[] = [
    {
        gtid: "0-1-x",
        message:
            "waitForCatchUp argument gtid: element 1 \"0-1-x\" at offset 0 of the mariadb GTID set: expected domain-server-seq, three decimal numbers joined by '-' (e.g. 0-1-42)",
    },
    {
        gtid: `0-1-5,${SET}`,
        message: `waitForCatchUp argument gtid: element 2 "${SET}" at offset 6 of the mariadb GTID set: this is a MySQL GTID set (uuid:interval), not a MariaDB one: give the source's flavor as mysql`,
    },
];
for (const c of malformed) {
    test(`a malformed MariaDB GTID (${c.gtid}) is a TypeError naming the argument, before any connection`, async () => {
        await assert.rejects(
            waitForCatchUp({ host: "127.0.0.1", port: 1, user: "u", password: "p" }, "mariadb", c.gtid, 1000),
            { name: "TypeError", message: c.message },
        );
    });
}

test("a malformed gtid_binlog_state from the server is a TypeError naming it", async () => {
    const { q } = fake(() => [{ gtid_binlog_state: "0-1-4,,0-2-5" }]);
    await assert.rejects(waitForCatchUpWith(q, "mariadb", "0-1-5", 1000), {
        name: "TypeError",
        message: `gtid_binlog_state: element 2 "" at offset 6 of the mariadb GTID set: empty element (two commas in a row, or a comma at an end): remove the extra ","`,
    });
});

test("an aborted signal stops a MariaDB wait with the signal's reason", async () => {
    const { q } = fake((sql) => (sql === MARIADB_GTID ? [{ gtid_binlog_state: "0-1-4" }] : []));
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 20);
    await assert.rejects(waitForCatchUpWith(q, "mariadb", "0-1-5", 60000, { intervalMs: 5, signal: ac.signal }), {
        name: "AbortError",
    });
});

test("a denied replica status is recorded, not fatal; other denials are", async () => {
    const denied = Object.assign(
        new Error("Access denied; you need (at least one of) the SUPER, SLAVE MONITOR privilege(s)"),
        { errno: 1227 },
    );
    const { q } = fake((sql) => {
        if (sql === VARIABLES) return variableRows({ version: "10.11.19-MariaDB", log_bin: "OFF" });
        if (sql === "SHOW ALL SLAVES STATUS") throw denied;
        return [{ gtid_binlog_state: "0-1-2" }];
    });
    const rows = await readProbeRows(q);
    assert.deepEqual([rows.replicaStatus, rows.replicaStatusDenied], [[], denied.message]);
    const other = fake((sql) => {
        if (sql === VARIABLES) return variableRows({ version: "10.11.19-MariaDB" });
        throw Object.assign(new Error("Access denied for SELECT"), { errno: 1142 });
    });
    await assert.rejects(readProbeRows(other.q), { message: "Access denied for SELECT" });
});
