/**
 * The product end to end in VIP mode on MySQL: this project's program run by the real Pulumi CLI against
 * the MySQL sandbox (MySQL ≥ 8.4 primary and GTID replica, DM 2409e0b, HAProxy, MariaDB downstream)
 * under ≥ 300 rows/s. `pulumi up` pauses the tasks, checks the rule on MySQL's UUID-keyed sets, moves
 * HAProxy, resumes; downstream ends equal to upstream, no row lost or duplicated. Then a lagging replica
 * is refused at apply time with the missing GTIDs in MySQL's form.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { verifyReplicated } from "../../sandbox/verify";
import { sandboxStackSuite } from "../support/sandboxStackSuite";

const s = sandboxStackSuite({ mode: "vip", reads: "primary" }, { flavor: "mysql" });
const RUNNING = ["Running", "Running"];
const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";

test("the sandbox is MySQL ≥ 8.4 read by the DM build that reads it", async () => {
    const v = String((await s.sb.primary.query("SELECT @@version AS v"))[0].v);
    assert.ok(Number(v.split(".")[0]) >= 9 || v.startsWith("8.4"), `MySQL ${v}`);
    assert.match(s.sb.dm.binDir, /dm-2409e0b$/);
    assert.equal(s.sb.source.flavor, "mysql");
    const r = await s.stack.run(["up", "--yes", "--skip-preview"]);
    assert.equal(r.code, 0, r.output);
    assert.equal(await s.sb.vipTarget(), "primary");
    assert.deepEqual(await s.stages(), RUNNING);
});

async function switchTo(to: "primary" | "replica") {
    // 400 rows/s asked; the rate achieved is printed, not asserted (a busy machine writes less, as it runs slower).
    const { r, written, rowsPerSec } = await s.upUnderLoad({ mode: "vip", reads: to }, { rowsPerSec: 400 });
    const paused = /replication was paused for (\d+) ms/.exec(r.output);
    assert.ok(paused, `the paused time is reported:\n${r.output}`);
    console.log(
        `MySQL VIP switch to ${to} with 2 tasks: replication paused ${paused[1]} ms; pulumi up took ${r.ms} ms; ${written} rows written during it (${rowsPerSec.toFixed(0)} rows/s)`,
    );
    assert.equal(await s.sb.vipTarget(), to);
}

test("pulumi up switches the VIP to the MySQL replica under load: nothing lost or duplicated downstream", async () => {
    await switchTo("replica");
});

test("and back to the MySQL primary", async () => {
    await switchTo("primary");
});

test("a MySQL replica that lags with replication stopped is refused at apply time, naming the missing GTIDs by server_uuid", async () => {
    await s.sb.replica.query("STOP REPLICA");
    try {
        await s.sb.primary.query(
            `INSERT INTO ${s.sb.tasks[0].schema}.t (id, seq, payload) VALUES (900000001, 900000001, 'only on the primary')`,
        );
        const uuid = String((await s.sb.primary.query("SELECT @@server_uuid AS u"))[0].u);
        s.stack.configure({ mode: "vip", reads: "replica", catchUpTimeoutMs: 500 });
        const r = await s.stack.run(["up", "--yes", "--skip-preview"]);
        assert.notEqual(r.code, 0, r.output);
        assert.match(r.output, /switching DM source sandbox-source to replica is not allowed/);
        assert.match(r.output, new RegExp(`${uuid}:\\d+`), `the missing GTIDs are named in MySQL's form:\n${r.output}`);
        console.log(
            r.output
                .split("\n")
                .find((l) => l.includes(uuid))
                ?.trim(),
        );
        assert.doesNotMatch(r.output, new RegExp(`0-\\d+-\\d+`));
        assert.equal(await s.sb.vipTarget(), "primary");
        assert.deepEqual(await s.stages(), RUNNING);
    } finally {
        await s.sb.replica.query("START REPLICA");
    }
    const again = await s.stack.run(["up", "--yes", "--skip-preview"]);
    assert.equal(again.code, 0, again.output);
    assert.equal(await s.sb.vipTarget(), "replica");
    assert.ok((await verifyReplicated(s.sb, { timeoutMs: 60_000 })).equal);
    assert.match(String((await s.sb.replica.query("SELECT @@server_uuid AS u"))[0].u), new RegExp(`^${UUID}$`));
});
