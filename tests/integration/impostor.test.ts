/**
 * A server outside the replication set that looks like its primary — the same server_id and GTID domain,
 * an unrelated history with a higher sequence number — is refused by the pack's preview and by `pulumi up`
 * without the pack alike, with nothing paused or stopped and no row of it reaching the downstream. Real
 * Pulumi CLI, DM, MariaDB; this project's stack in address mode.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { ADMIN, MariadbInstance, startMariadb } from "../../sandbox/mariadb";
import { verifyReplicated } from "../../sandbox/verify";
import { PROJECT_DIR, sandboxConfig } from "../../tools/sandboxStack";
import { sandboxStackSuite } from "../support/sandboxStackSuite";

const s = sandboxStackSuite({ mode: "address", reads: "primary" });
const PACK = path.join(PROJECT_DIR, "policies");
let dir: string;
let impostor: MariadbInstance;

before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "dm-switch-impostor-"));
    // server_id 1 and domain 0, as the sandbox's primary.
    impostor = await startMariadb({ dir, name: "impostor", serverId: 1 });
});

after(async () => {
    await impostor?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
});

/** The stack reading from the impostor (an instance of the stack's set, as a typo in an address would make it). */
function readImpostor(): void {
    const config = sandboxConfig(s.sb, { mode: "address", reads: "primary" });
    const sources = config["dm-switch:sources"] as Record<string, unknown>[];
    s.stack.writeConfig({
        ...config,
        "dm-switch:instances": {
            ...(config["dm-switch:instances"] as object),
            impostor: { host: impostor.host, port: impostor.port },
        },
        "dm-switch:sources": [{ ...sources[0], reads: "impostor" }],
    });
}

test("the first pulumi up registers the source at the primary", async () => {
    const r = await s.stack.run(["up", "--yes", "--skip-preview"]);
    assert.equal(r.code, 0, r.output);
});

test("an impostor with the primary's server_id and domain and a higher sequence number is refused by the preview and by pulumi up without the pack", async () => {
    // The impostor: the source's account, the task's schema, and an unrelated history ahead of the primary's.
    const [{ state }] = (await s.sb.primary.query("SELECT @@GLOBAL.gtid_binlog_state AS state")) as { state: string }[];
    const seq = Number(/0-1-(\d+)/.exec(state)?.[1] ?? 0) + 1000;
    const schema = s.sb.tasks[0].schema;
    const [{ ddl }] = (await s.sb.primary.query(`SHOW CREATE TABLE ${schema}.t`)).map((row) => ({
        ddl: String(row["Create Table"]),
    }));
    await impostor.query(`CREATE USER ?@'127.0.0.1' IDENTIFIED BY ?`, [s.sb.source.user, s.sb.source.password]);
    await impostor.query(`GRANT ALL PRIVILEGES ON *.* TO ?@'127.0.0.1'`, [s.sb.source.user]);
    await impostor.query(`CREATE DATABASE ${schema}`);
    const conn = await import("mysql2/promise").then((m) =>
        m.createConnection({
            host: impostor.host,
            port: impostor.port,
            user: ADMIN.user,
            password: ADMIN.password,
            database: schema,
        }),
    );
    try {
        await conn.query(ddl);
        await conn.query(`SET SESSION gtid_seq_no = ${seq}`);
        await conn.query("INSERT INTO t (id, seq, payload) VALUES (800000001, 800000001, 'an unrelated history')");
    } finally {
        await conn.end();
    }
    const [{ state: impostorState }] = (await impostor.query("SELECT @@GLOBAL.gtid_binlog_state AS state")) as {
        state: string;
    }[];
    assert.match(impostorState, new RegExp(`^0-1-${seq}$`), "same domain and server_id, a higher sequence number");

    readImpostor();
    const preview = await s.stack.run(["preview", "--policy-pack", PACK]);
    assert.notEqual(preview.code, 0, preview.output);
    assert.match(preview.output, /dm-target-prerequisites/);
    assert.match(
        preview.output,
        /impostor \(127\.0\.0\.1:\d+\) is not in the replication set of .*both servers have server_id 1/,
    );

    const up = await s.stack.run(["up", "--yes", "--skip-preview"]);
    assert.notEqual(up.code, 0, up.output);
    assert.match(
        up.output,
        /switching DM source sandbox-source to impostor is not allowed: target impostor \(127\.0\.0\.1:\d+\) is not in the replication set of primary \(127\.0\.0\.1:\d+\) \(both servers have server_id 1 .*\): DM can switch only between instances of one replication set; choose one of them\. No task was paused/,
    );
    assert.doesNotMatch(up.output, /pause-task .* done|stop-task .* done/);
    const live = await s.dm.getSource(s.sb.source.id);
    assert.deepEqual(
        [live?.host, live?.port],
        ["127.0.0.1", s.sb.primary.port],
        "the source still reads from the primary",
    );
    assert.deepEqual(await s.stages(), ["Running", "Running"]);
    const down = await s.sb.downstream.query(`SELECT COUNT(*) AS n FROM ${schema}.t WHERE id = 800000001`);
    assert.equal(Number(down[0].n), 0, "no row of the impostor reached the downstream");
    const v = await verifyReplicated(s.sb, { upstream: "primary", timeoutMs: 60_000 });
    assert.ok(v.equal, JSON.stringify(v));
});

test("back to the primary: nothing to switch, pulumi up converges", async () => {
    s.stack.configure({ mode: "address", reads: "primary" });
    const r = await s.stack.run(["up", "--yes", "--skip-preview"]);
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(await s.stages(), ["Running", "Running"]);
});
