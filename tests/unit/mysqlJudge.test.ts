/**
 * Judging probe facts without a server: DM's prerequisites on a target and "same replication set"
 * evidence. (The MariaDB per-domain comparison itself is components/gtid's: tests/unit/gtidMariadb.test.ts.)
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { sameReplicationSet, ServerFacts, targetPrerequisites } from "../../components/mysql";
import { mariadbFacts as mariadb, mysqlFacts as mysql, UUID_A as A, UUID_B as B } from "../support/mysqlFixtures";

const C = "0e3a7c2a-0000-11ee-0000-000000000003";

const prerequisites: { name: string; facts: ServerFacts; reasons: string[] }[] = [
    { name: "a healthy MySQL server, read-only or not", facts: mysql({ readOnly: true }), reasons: [] },
    { name: "a healthy MariaDB server", facts: mariadb(), reasons: [] },
    {
        name: "a MySQL 5.7 server with nothing right",
        facts: mysql({
            version: "5.7.44",
            serverId: 0,
            gtidMode: "OFF_PERMISSIVE",
            enforceGtidConsistency: "WARN",
            logReplicaUpdates: false,
            binlogFormat: "MIXED",
            binlogRowImage: "MINIMAL",
            logBin: false,
        }),
        reasons: [
            "binary logging is off (log_bin=OFF): start the server with log-bin so that DM can read its binlog.",
            "binlog_format is MIXED; DM needs ROW: SET GLOBAL binlog_format=ROW and set it in the server's configuration.",
            "binlog_row_image is MINIMAL; DM needs FULL: SET GLOBAL binlog_row_image=FULL and set it in the server's configuration.",
            "log_replica_updates (log_slave_updates before MySQL 8.0.26) is OFF: the server does not log the transactions it replicates, so DM would miss them after a switch; enable it and restart.",
            "gtid_mode is OFF_PERMISSIVE; DM with enable-gtid needs ON: enable GTIDs on the server.",
            "enforce_gtid_consistency is WARN; GTID replication needs ON: SET GLOBAL enforce_gtid_consistency=ON.",
            "server_id is 0: replication and DM need a unique non-zero server_id; set server_id in the configuration.",
        ],
    },
    {
        // Whether its tagged GTIDs can be read depends on the DM in use: the decision judges them (preflightDecide).
        name: "a MySQL 8.4 server with tagged GTIDs meets the server's own prerequisites",
        facts: mysql({ version: "8.4.3", gtidExecuted: `${A}:1-100:orders:1-5` }),
        reasons: [],
    },
    {
        name: "a MariaDB replica that does not log what it replicates, without strict mode",
        facts: mariadb({ logReplicaUpdates: false, gtidStrictMode: false }),
        reasons: [
            "log_slave_updates is OFF: the server does not log the transactions it replicates, so DM would miss them after a switch; enable it and restart.",
            "gtid_strict_mode is OFF: GTID sequence numbers may go backwards, so a catch-up comparison cannot be trusted; SET GLOBAL gtid_strict_mode=ON.",
        ],
    },
];

for (const c of prerequisites) {
    test(`targetPrerequisites of ${c.name}`, () => {
        assert.deepEqual(targetPrerequisites(c.facts), c.reasons);
    });
}

const db1 = { hostname: "db-1", port: 3306, datadir: "/var/lib/mysql/" };
const db2 = { hostname: "db-2", port: 3306, datadir: "/var/lib/mysql/" };

/** `a` is the server DM reads from now, `b` the target. */
const sets: { name: string; a: ServerFacts; b: ServerFacts; ok: boolean; reason: string; recheck?: boolean }[] = [
    {
        name: "MySQL primary and its replica share the primary's UUID",
        a: mysql(),
        b: mysql({ serverId: 102, serverUuid: B, gtidExecuted: `${A}:1-90` }),
        ok: true,
        reason: `both histories hold transactions of server ${A}.`,
    },
    {
        name: "MySQL: a fresh replica's own UUID in the other's history counts",
        a: mysql({ gtidExecuted: `${A}:1-100,${B}:1-3` }),
        b: mysql({ serverId: 102, serverUuid: B, gtidExecuted: `${B}:1-3` }),
        ok: true,
        reason: `both histories hold transactions of server ${B}.`,
    },
    {
        name: "MySQL: the same server read twice under writes (recorded facts without the location)",
        a: mysql(),
        b: mysql({ serverUuid: A.toUpperCase(), gtidExecuted: `${A}:1-101` }),
        ok: true,
        reason: `the same server (server_id 101 (server_uuid ${A})).`,
    },
    {
        name: "MySQL: the same server read twice under writes, through a VIP and directly",
        a: mysql({ identity: db1 }),
        b: mysql({ identity: db1, gtidExecuted: `${A}:1-140` }),
        ok: true,
        reason: `the same server (server_id 101 (server_uuid ${A}) at db-1:3306 (/var/lib/mysql/)).`,
    },
    {
        name: "MySQL: two servers with one server_uuid (a copied data directory)",
        a: mysql({ identity: db1 }),
        b: mysql({ serverId: 102, identity: db2, gtidExecuted: `${A}:1-90` }),
        ok: false,
        reason: `server_id 102 (server_uuid ${A}) at db-2:3306 (/var/lib/mysql/) and server_id 101 (server_uuid ${A}) at db-1:3306 (/var/lib/mysql/) are two servers with one server_uuid (a copied data directory): members of one replication set need distinct server_uuids.`,
    },
    {
        name: "MySQL: a server ahead of the current one for that one's own transactions is no replica of it",
        a: mysql({ identity: db1 }),
        b: mysql({ serverId: 102, serverUuid: B, identity: db2, gtidExecuted: `${A}:1-150` }),
        ok: false,
        reason: `it holds transactions of server_id 101 (server_uuid ${A}) at db-1:3306 (/var/lib/mysql/) that this server has not written (${A}:101-150): it is not a replica of it.`,
        recheck: true,
    },
    {
        name: "MySQL: unrelated servers",
        a: mysql(),
        b: mysql({ serverId: 9, serverUuid: C, gtidExecuted: `${C}:1-5` }),
        ok: false,
        reason: "gtid_executed of the two servers share no server UUID: they do not belong to one replication set.",
    },
    {
        name: "MySQL: no history yet",
        a: mysql(),
        b: mysql({ serverId: 9, serverUuid: C, gtidExecuted: "" }),
        ok: false,
        reason: "a server has executed no GTID transaction yet: no evidence that both belong to one replication set.",
    },
    {
        name: "different flavours",
        a: mysql(),
        b: mariadb(),
        ok: false,
        reason: "one server is mysql and the other mariadb: they cannot replicate from each other.",
    },
    {
        name: "MariaDB primary and replica share (domain 0, server 1)",
        a: mariadb({ gtidExecuted: "0-1-100,1-1-4" }),
        b: mariadb({ serverId: 2, gtidExecuted: "0-1-90" }),
        ok: true,
        reason: "both binlog states hold domain-server 0-1.",
    },
    {
        name: "MariaDB: same domain, different originating servers",
        a: mariadb(),
        b: mariadb({ serverId: 7, gtidExecuted: "0-7-100" }),
        ok: false,
        reason: "gtid_binlog_state of the two servers share no (domain, server_id): they do not belong to one replication set.",
    },
    {
        name: "MariaDB: an impostor with the primary's server_id and domain and a higher sequence number",
        a: mariadb({ identity: db1 }),
        b: mariadb({ identity: { ...db1, port: 3310, datadir: "/srv/other/" }, gtidExecuted: "0-1-500" }),
        ok: false,
        reason: "both servers have server_id 1 (server_id 1 at db-1:3310 (/srv/other/); server_id 1 at db-1:3306 (/var/lib/mysql/)): members of one replication set need distinct server_ids.",
    },
    {
        name: "MariaDB: the same server read twice under writes (its binlog state moved between the reads)",
        a: mariadb({ identity: db1 }),
        b: mariadb({ identity: db1, gtidExecuted: "0-1-130" }),
        ok: true,
        reason: "the same server (server_id 1 at db-1:3306 (/var/lib/mysql/)).",
    },
    {
        name: "MariaDB: recorded facts without the location cannot tell one server from another with its id",
        a: mariadb(),
        b: mariadb(),
        ok: false,
        reason: "both servers have server_id 1 (server_id 1; server_id 1): members of one replication set need distinct server_ids.",
    },
    {
        name: "MariaDB: a replica read after the primary has more of the primary's stream: read the primary again",
        a: mariadb({ identity: db1 }),
        b: mariadb({ serverId: 2, identity: db2, gtidExecuted: "0-1-120" }),
        ok: false,
        reason: "it holds transactions of server_id 1 at db-1:3306 (/var/lib/mysql/) that this server has not written (0-1-120): it is not a replica of it.",
        recheck: true,
    },
    {
        name: "MariaDB: no GTID logged yet",
        a: mariadb(),
        b: mariadb({ serverId: 2, gtidExecuted: "" }),
        ok: false,
        reason: "a server has logged no GTID yet: no evidence that both belong to one replication set.",
    },
];

for (const c of sets) {
    test(`sameReplicationSet: ${c.name}`, () => {
        assert.deepEqual(sameReplicationSet(c.a, c.b), {
            ok: c.ok,
            reason: c.reason,
            ...(c.recheck ? { recheck: true } : {}),
        });
        if (!c.recheck) {
            assert.equal(sameReplicationSet(c.b, c.a).ok, c.ok, "the same verdict either way round");
        }
    });
}

test("sameReplicationSet: a malformed MariaDB gtid_binlog_state is a TypeError naming the server", () => {
    assert.throws(() => sameReplicationSet(mariadb(), mariadb({ serverId: 2, gtidExecuted: "0-2-5,0-2" })), {
        name: "TypeError",
        message:
            "gtid_binlog_state of server_id 2: element 2 \"0-2\" at offset 6 of the mariadb GTID set: expected domain-server-seq, three decimal numbers joined by '-' (e.g. 0-1-42)",
    });
});
