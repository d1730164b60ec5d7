/**
 * MySQL → DM → TiDB, DM's own path, live: the MySQL sandbox (MySQL ≥ 8.4 primary and GTID replica, DM
 * 2409e0b, HAProxy) with tidb-server (`-store unistore`) as the downstream. VIP and address switches by
 * `pulumi up` under ≥ 300 rows/s, the verifier comparing rows the same way (count, checksum, sequence
 * numbers); then one task in DM's `all` mode (dump + load of rows written before it, then incremental).
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { waitForStage } from "../../components/dm";
import { ignoredChecks, TABLE_DDL, taskFileText } from "../../sandbox/taskFile";
import { verifyReplicated } from "../../sandbox/verify";
import { sandboxStackSuite } from "../support/sandboxStackSuite";

const s = sandboxStackSuite({ mode: "vip", reads: "primary" }, { flavor: "mysql", downstream: "tidb" });

test("the downstream is TiDB", async () => {
    const v = String((await s.sb.downstream.query("SELECT VERSION() AS v"))[0].v);
    assert.match(v, /TiDB/);
    console.log(`downstream: ${v}`);
    const r = await s.stack.run(["up", "--yes", "--skip-preview"]);
    assert.equal(r.code, 0, r.output);
});

async function switchTo(mode: "vip" | "address", to: "primary" | "replica") {
    // 400 rows/s asked; the rate achieved is printed, not asserted (a busy machine writes less, as it runs slower).
    const { r, written, rowsPerSec } = await s.upUnderLoad({ mode, reads: to }, { rowsPerSec: 400 });
    const pause = /replication was (paused|stopped) for (\d+) ms/.exec(r.output);
    assert.ok(pause, `the pause is reported:\n${r.output}`);
    console.log(
        `MySQL → TiDB ${mode} switch to ${to}: replication ${pause[1]} ${pause[2]} ms; pulumi up took ${r.ms} ms; ${written} rows written during it (${rowsPerSec.toFixed(0)} rows/s)`,
    );
}

test("VIP switch to the replica and back under load into TiDB: downstream = upstream", async () => {
    await switchTo("vip", "replica");
    assert.equal(await s.sb.vipTarget(), "replica");
    await switchTo("vip", "primary");
    assert.equal(await s.sb.vipTarget(), "primary");
});

test("address switch to the replica and back under load into TiDB: downstream = upstream", async () => {
    await switchTo("address", "replica");
    assert.equal((await s.dm.getSource(s.sb.source.id))?.port, s.sb.replica.port);
    await switchTo("address", "primary");
    assert.equal((await s.dm.getSource(s.sb.source.id))?.port, s.sb.primary.port);
});

test("a task in DM's all mode dumps and loads the rows written before it into TiDB, then replicates what follows", async () => {
    const schema = "sbfull";
    await s.sb.primary.query(`CREATE DATABASE ${schema}`);
    await s.sb.primary.query(TABLE_DDL.replace("CREATE TABLE t", `CREATE TABLE ${schema}.t`));
    const values = (from: number, n: number) =>
        Array.from({ length: n }, (_, i) => `(${from + i}, ${from + i}, 'row ${from + i}')`).join(", ");
    await s.sb.primary.query(`INSERT INTO ${schema}.t (id, seq, payload) VALUES ${values(1, 500)}`);
    const name = "sandbox_task_full";
    const text = taskFileText({
        name,
        schema,
        sourceId: s.sb.source.id,
        binlogGtid: "",
        mode: "all",
        target: { host: "127.0.0.1", port: s.sb.downstream.port, ...s.sb.admin },
        ignoreChecks: ignoredChecks("mysql"),
    });
    const file = path.join(s.sb.dir, `${name}.yaml`);
    fs.writeFileSync(file, text, { mode: 0o600 });
    const t0 = performance.now();
    await s.dm.startTask(text);
    await waitForStage(s.dm, [name], s.sb.source.id, ["Running"], { intervalMs: 200, timeoutMs: 60_000 });
    await s.sb.primary.query(`INSERT INTO ${schema}.t (id, seq, payload) VALUES ${values(501, 100)}`);
    const v = await verifyReplicated(s.sb, { schemas: [schema], timeoutMs: 120_000 });
    const st = (await s.dm.taskStatus(name, s.sb.source.id))[0];
    console.log(
        `all mode: ${v.schemas[schema].downstreamRows} rows in TiDB (500 dumped and loaded, 100 replicated after) in ${(performance.now() - t0).toFixed(0)} ms; unit ${st.unit}, stage ${st.stage}`,
    );
    assert.ok(v.equal, JSON.stringify(v));
    assert.equal(v.schemas[schema].downstreamRows, 600);
    assert.equal(st.unit, "Sync", "after dump and load the task replicates incrementally");
    await s.dm.stopTask(name);
});
