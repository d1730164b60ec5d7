/**
 * The safety promise as an outsider tests it, on this project's own stack (index.ts, a Vip moving HAProxy)
 * over real DM, MariaDB and HAProxy: the pack's preview of a stack that is not switching passes while the
 * primary takes writes; the preview names tasks someone else paused; a lagging target is waited for with
 * every timeout left unset; and a task resumed with dmctl while dm-switch waits is refused before the VIP
 * moves.
 */
import assert from "node:assert/strict";
import { pollUntil, sleep } from "../../components/util/poll";
import * as path from "node:path";
import { test } from "node:test";
import { createDmClient } from "../../components/dm";
import { startLoad } from "../../sandbox/load";
import { verifyReplicated } from "../../sandbox/verify";
import { PROJECT_DIR } from "../../tools/sandboxStack";
import { sandboxStackSuite } from "../support/sandboxStackSuite";

const s = sandboxStackSuite({ mode: "vip", reads: "primary" });
const PACK = path.join(PROJECT_DIR, "policies");

/** Polls `cond` every 20 ms until it holds; fails naming `what` after `timeoutMs`. */
async function until(what: string, cond: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
    if (!(await pollUntil(async () => (await cond()) || undefined, { intervalMs: 20, timeoutMs }))) {
        throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    }
}

/** dmctl itself, as an operator runs it (the dmctl transport of the DM client). */
const dmctl = () => createDmClient({ transport: "dmctl", address: s.sb.dm.masterAddr, dmctlPath: s.sb.dm.dmctlPath });

/** A row written on the primary only while the replica's replication is stopped: the replica lags. */
async function lagReplica(id: number): Promise<void> {
    await s.sb.replica.query("STOP SLAVE");
    await s.sb.primary.query(
        `INSERT INTO ${s.sb.tasks[0].schema}.t (id, seq, payload) VALUES (?, ?, 'written while the replica was stopped')`,
        [id, id],
    );
}

test("the first pulumi up declares the source reading from the primary through the VIP", async () => {
    const r = await s.stack.run(["up", "--yes", "--skip-preview"]);
    assert.equal(r.code, 0, r.output);
    assert.equal(await s.sb.vipTarget(), "primary");
});

test("a preview with the pack passes ten times in a row while the primary takes ≥ 300 rows/s (no switch: reads is where the VIP points)", async () => {
    const load = startLoad(s.sb, { rowsPerSec: 400, via: "primary" });
    const codes: number[] = [];
    try {
        await sleep(1000);
        for (let i = 0; i < 10; i++) {
            const r = await s.stack.run(["preview", "--policy-pack", PACK]);
            codes.push(r.code ?? -1);
            assert.equal(r.code, 0, `preview ${i + 1} of 10:\n${r.output}`);
            assert.doesNotMatch(r.output, /is not in the replication set/);
        }
    } finally {
        const written = await load.stop();
        const rate = (written.written / written.elapsedMs) * 1000;
        console.log(`10 previews: exit codes ${codes.join(",")}; ${written.written} rows at ${rate.toFixed(0)} rows/s`);
        assert.ok(rate >= 300, `the primary took ${rate.toFixed(0)} rows/s, not ≥ 300`);
    }
});

test("the preview names a task someone else paused: it is checked and left as it is", async () => {
    const task = s.sb.tasks[1].name;
    await dmctl().pauseTask(task, [s.sb.source.id]);
    try {
        await until(`${task} is Paused`, async () => (await s.stages())[1] === "Paused");
        s.stack.configure({ mode: "vip", reads: "replica" });
        const r = await s.stack.run(["preview"]);
        assert.equal(r.code, 0, r.output);
        assert.match(r.output, new RegExp(`tasks not running before the switch stay as they are: ${task}`));
        assert.match(r.output, new RegExp(`pause-task ${s.sb.tasks[0].name} -s ${s.sb.source.id}`));
        assert.doesNotMatch(r.output, new RegExp(`pause-task ${task} -s`));
    } finally {
        s.stack.configure({ mode: "vip", reads: "primary" });
        await dmctl().resumeTask(task, [s.sb.source.id]);
    }
    await until("every task is Running", async () => (await s.stages()).every((x) => x === "Running"));
});

test("a task resumed with dmctl while dm-switch waits for a lagging target: the VIP does not move, dm-switch resumes what it paused", async () => {
    await lagReplica(900000011);
    let resumed = false;
    try {
        s.stack.configure({ mode: "vip", reads: "replica", catchUpTimeoutMs: 20_000 });
        const up = s.stack.run(["up", "--yes", "--skip-preview"]);
        // dm-switch has paused both tasks and waits for the replica: an operator resumes one of them.
        await until("dm-switch paused both tasks", async () => (await s.stages()).every((x) => x === "Paused"), 60_000);
        await dmctl().resumeTask(s.sb.tasks[0].name, [s.sb.source.id]);
        resumed = true;
        await until(`${s.sb.tasks[0].name} is Running`, async () => (await s.stages())[0] === "Running");
        await s.sb.replica.query("START SLAVE");
        const r = await up;
        assert.notEqual(r.code, 0, r.output);
        assert.match(
            r.output,
            new RegExp(
                `another switch of DM source ${s.sb.source.id} is under way \\(another stack, or dmctl\\): ${s.sb.tasks[0].name} is Running, not Paused as dm-switch left it`,
            ),
        );
        assert.match(r.output, /Tasks sandbox_task_0, sandbox_task_1 were resumed and read from primary/);
    } finally {
        await s.sb.replica.query("START SLAVE");
    }
    assert.ok(resumed);
    assert.equal(await s.sb.vipTarget(), "primary", "the VIP did not move");
    assert.deepEqual(await s.stages(), ["Running", "Running"]);
    const v = await verifyReplicated(s.sb, { timeoutMs: 60_000 });
    assert.ok(v.equal, JSON.stringify(v));
});

test("every timeout left unset: a target lagging a few seconds is waited for (10 s by default) and the switch completes", async () => {
    await lagReplica(900000012);
    let started = false;
    try {
        s.stack.configure({ mode: "vip", reads: "replica" });
        const up = s.stack.run(["up", "--yes", "--skip-preview"]);
        await until("dm-switch paused both tasks", async () => (await s.stages()).every((x) => x === "Paused"), 60_000);
        await sleep(1000);
        await s.sb.replica.query("START SLAVE");
        started = true;
        const r = await up;
        assert.equal(r.code, 0, r.output);
        assert.match(r.output, /replica lags behind gtid-S; waiting up to 10000 ms for it to catch up/);
    } finally {
        if (!started) {
            await s.sb.replica.query("START SLAVE");
        }
    }
    assert.equal(await s.sb.vipTarget(), "replica");
    assert.deepEqual(await s.stages(), ["Running", "Running"]);
    const v = await verifyReplicated(s.sb, { timeoutMs: 60_000 });
    assert.ok(v.equal, JSON.stringify(v));
});
