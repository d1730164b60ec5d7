/**
 * The MariaDB launcher (sandbox/mariadb.ts) and the MySQL/MariaDB probe against a real MariaDB
 * primary + replica started on loopback. Prints timings; asserts none.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { ADMIN, MariadbInstance, replicate, startMariadb } from "../../sandbox/mariadb";

let dir: string;
let primary: MariadbInstance;
let replica: MariadbInstance;

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
