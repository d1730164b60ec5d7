/**
 * The MariaDB launcher (sandbox/mariadb.ts) and the MySQL/MariaDB probe against a real MariaDB
 * primary + replica started on loopback. Prints timings; asserts none.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { probe, sameReplicationSet, targetPrerequisites, waitForCatchUp } from "../../components/mysql";
import { ADMIN, freePort, MariadbInstance, purgeBinaryLogs, replicate, startMariadb } from "../../sandbox/mariadb";
import { mariadbFacts } from "../support/mysqlFixtures";
import { adminEndpoint, probeErrors } from "../support/probe";

let dir: string;
let primary: MariadbInstance;
let replica: MariadbInstance;
const { errors, probeError } = probeErrors();
const ep = adminEndpoint;

before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "dm-switch-mysql-probe-"));
    const t = Date.now();
    [primary, replica] = await Promise.all([
        startMariadb({ dir, name: "primary", serverId: 1, log: (l) => console.log(l) }),
        startMariadb({ dir, name: "replica", serverId: 2, log: (l) => console.log(l) }),
    ]);
    await replicate(replica, primary);
    console.log(`primary + replica started and replicating in ${Date.now() - t} ms`);
});

after(async () => {
    await Promise.all([primary?.stop(), replica?.stop()]);
    for (const e of errors) assert.equal(e.includes(ADMIN.password), false, `the password appeared in an error: ${e}`);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test("the launcher starts a primary and a replica that replicates with GTIDs", async () => {
    const [p] = await primary.query(
        "SELECT @@server_id AS id, @@gtid_strict_mode AS strict, @@log_slave_updates AS lsu, @@binlog_format AS fmt, @@binlog_row_image AS img",
    );
    assert.deepEqual(p, { id: 1, strict: 1, lsu: 1, fmt: "ROW", img: "FULL" });
    const [r] = await replica.query("SELECT @@server_id AS id, @@gtid_binlog_state AS state");
    assert.deepEqual(r, { id: 2, state: "" }, "the accounts were created without GTIDs");
    await primary.query("CREATE DATABASE launcher_check");
    await primary.query("CREATE TABLE launcher_check.t (id INT PRIMARY KEY)");
    await primary.query("INSERT INTO launcher_check.t VALUES (?), (?)", [1, 2]);
    const [{ pos }] = await primary.query("SELECT @@gtid_binlog_pos AS pos");
    assert.equal(pos, "0-1-3");
    const [{ waited }] = await replica.query("SELECT MASTER_GTID_WAIT(?, 10) AS waited", [pos]);
    assert.equal(waited, 0);
    assert.deepEqual(await replica.query("SELECT id FROM launcher_check.t ORDER BY id"), [{ id: 1 }, { id: 2 }]);
    const [{ state }] = await replica.query("SELECT @@gtid_binlog_state AS state");
    assert.equal(state, "0-1-3", "the replica logs what it replicates (log_slave_updates)");
});

test("the launcher restarts an instance on the same data and port, and only ADMIN logs in over TCP", async () => {
    const port = replica.port;
    await replica.stop();
    await replica.start();
    assert.equal(replica.port, port);
    const [{ state }] = await replica.query("SELECT @@gtid_binlog_state AS state");
    assert.equal(state, "0-1-3");
    const mysql = await import("mysql2/promise");
    const root = await mysql.createConnection({ host: "127.0.0.1", port, user: "root", password: "" }).then(
        () => "connected",
        (e: Error) => e.message,
    );
    assert.match(root, /Access denied/);
    assert.equal(ADMIN.user, "dmswitch_admin");
});

test("probe reads flavour, ids, GTID sets, settings and replica status of both servers", async () => {
    const [p, r] = await Promise.all([probe(ep(primary)), probe(ep(replica))]);
    assert.match(p.version, /^10\.\d+\.\d+-MariaDB/);
    // Where each server says it lives: its own port and data directory (what tells two servers apart).
    const at = (i: typeof primary) => ({ hostname: os.hostname(), port: i.port, datadir: `${i.dataDir}/` });
    assert.deepEqual(
        p,
        mariadbFacts({ version: p.version, serverId: 1, gtidExecuted: "0-1-3", identity: at(primary) }),
    );
    assert.deepEqual(
        r,
        mariadbFacts({
            version: p.version,
            serverId: 2,
            gtidExecuted: "0-1-3",
            identity: at(replica),
            replication: {
                running: true,
                ioRunning: true,
                sqlRunning: true,
                secondsBehind: 0,
                sources: [{ host: "127.0.0.1", port: primary.port, channel: "" }],
            },
        }),
    );
    assert.deepEqual(targetPrerequisites(p), []);
    assert.deepEqual(targetPrerequisites(r), []);
    assert.deepEqual(sameReplicationSet(p, r), { ok: true, reason: "both binlog states hold domain-server 0-1." });
});

test("writes on the primary reach the replica's gtidExecuted, and waitForCatchUp says so", async () => {
    await primary.query("INSERT INTO launcher_check.t VALUES (3), (4)");
    await primary.query("INSERT INTO launcher_check.t VALUES (5)");
    const { gtidExecuted } = await probe(ep(primary));
    assert.equal(gtidExecuted, "0-1-5");
    const onReplica = await waitForCatchUp(ep(replica), "mariadb", gtidExecuted, 10000);
    console.log(`replica caught up with ${gtidExecuted} in ${onReplica.waitedMs} ms`);
    assert.equal(onReplica.caughtUp, true);
    assert.equal((await probe(ep(replica))).gtidExecuted, "0-1-5");
    // The primary is not a replica: MASTER_GTID_WAIT would never return there; its binlog state answers.
    const onPrimary = await waitForCatchUp(ep(primary), "mariadb", gtidExecuted, 10000);
    assert.equal(onPrimary.caughtUp, true);
});

test("waitForCatchUp is false within its timeout when the replica is stopped and the primary moved on", async () => {
    await replica.query("STOP SLAVE");
    await primary.query("INSERT INTO launcher_check.t VALUES (6)");
    const { gtidExecuted } = await probe(ep(primary));
    assert.equal(gtidExecuted, "0-1-6");
    const stopped = await probe(ep(replica));
    assert.deepEqual(stopped.replication, {
        running: false,
        ioRunning: false,
        sqlRunning: false,
        secondsBehind: null,
        sources: [{ host: "127.0.0.1", port: primary.port, channel: "" }],
    });
    const lagging = await waitForCatchUp(ep(replica), "mariadb", gtidExecuted, 1500);
    console.log(`stopped replica: caughtUp ${lagging.caughtUp} after ${lagging.waitedMs} ms (timeout 1500 ms)`);
    assert.equal(lagging.caughtUp, false);
    const ahead = await waitForCatchUp(ep(primary), "mariadb", "0-1-999", 300, { intervalMs: 50 });
    console.log(`primary polled for 0-1-999: caughtUp ${ahead.caughtUp} after ${ahead.waitedMs} ms (timeout 300 ms)`);
    assert.equal(ahead.caughtUp, false);
    await replica.query("START SLAVE");
    const resumed = await waitForCatchUp(ep(replica), "mariadb", gtidExecuted, 10000);
    console.log(`restarted replica caught up in ${resumed.waitedMs} ms`);
    assert.equal(resumed.caughtUp, true);
});

test("gtidPurged is what the oldest remaining binary log starts from after FLUSH and PURGE BINARY LOGS", async () => {
    await primary.query("INSERT INTO launcher_check.t VALUES (7)");
    const t = Date.now();
    const newest = await purgeBinaryLogs(primary);
    console.log(`purged up to ${newest} in ${Date.now() - t} ms`);
    await primary.query("INSERT INTO launcher_check.t VALUES (8)");
    const p = await probe(ep(primary));
    assert.equal(p.gtidPurged, "0-1-7");
    assert.equal(p.gtidExecuted, "0-1-8");
    assert.equal((await probe(ep(replica))).gtidPurged, "", "the replica purged nothing");
});

test("a wrong password is a ProbeError naming the endpoint, without the password", async () => {
    const password = `wrong-${ADMIN.password}`;
    const err = await probeError(probe(ep(primary, { password })));
    assert.equal(
        err.message,
        `probe of 127.0.0.1:${primary.port} failed while connecting as ${ADMIN.user}: ` +
            `Access denied for user '${ADMIN.user}'@'127.0.0.1' (using password: YES). Check the user ${ADMIN.user} and its password.`,
    );
    assert.equal(err.code, "ER_ACCESS_DENIED_ERROR");
    assert.equal(err.message.includes(password), false);
});

test("an unreachable port is a ProbeError naming the endpoint", async () => {
    const port = await freePort();
    const err = await probeError(probe({ host: "127.0.0.1", port, user: ADMIN.user, password: ADMIN.password }));
    assert.equal(
        err.message,
        `probe of 127.0.0.1:${port} failed while connecting as ${ADMIN.user}: connect ECONNREFUSED 127.0.0.1:${port}. ` +
            `Nothing listens on 127.0.0.1:${port}: check the host and port, and that the server runs.`,
    );
    assert.equal(err.endpoint, `127.0.0.1:${port}`);
});

test("a user with REPLICATION CLIENT only is probed without the replica status, and told why", async () => {
    const password = "probe-user-pw-1";
    const weakEp = ep(replica, { user: "probe_weak", password });
    // Accounts are made on the primary and reach the replica by replication (no errant GTID there).
    const onPrimary = async (sql: string) => {
        await primary.query(sql, [password]);
        const { gtidExecuted } = await probe(ep(primary));
        assert.equal((await waitForCatchUp(ep(replica), "mariadb", gtidExecuted, 10000)).caughtUp, true);
    };
    await onPrimary("CREATE USER 'probe_weak'@'127.0.0.1' IDENTIFIED BY ?");
    await onPrimary("GRANT REPLICATION CLIENT ON *.* TO 'probe_weak'@'127.0.0.1'");
    const weak = await probe(weakEp);
    const { replication, ...rest } = await probe(ep(replica));
    assert.ok(replication, "the replica's status, read with all privileges");
    assert.deepEqual(weak, {
        ...rest,
        replicationUnreadable:
            "Access denied; you need (at least one of) the SUPER, SLAVE MONITOR privilege(s) for this operation",
    });
    const wait = await waitForCatchUp(weakEp, "mariadb", rest.gtidExecuted, 1000);
    assert.equal(wait.caughtUp, true, "the catch-up wait polls gtid_binlog_state instead");
    // Without REPLICATION CLIENT even the binary logs are closed: a ProbeError naming the grant.
    await onPrimary("REVOKE BINLOG MONITOR ON *.* FROM 'probe_weak'@'127.0.0.1'");
    const err = await probeError(probe(weakEp));
    assert.equal(
        err.message,
        `probe of 127.0.0.1:${replica.port} failed while running SHOW BINARY LOGS: Access denied; you need ` +
            "(at least one of) the SUPER, BINLOG MONITOR privilege(s) for this operation. " +
            "Grant probe_weak REPLICATION CLIENT (on MariaDB ≥ 10.5 also SLAVE MONITOR).",
    );
    assert.equal(err.code, "ER_SPECIFIC_ACCESS_DENIED_ERROR");
});
