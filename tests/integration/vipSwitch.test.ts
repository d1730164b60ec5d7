/**
 * The product end to end in VIP mode: this project's program run by the real Pulumi CLI against the
 * sandbox (real dm-master/dm-worker replicating MariaDB through a real HAProxy), under a write load.
 * Changing `reads` and running `pulumi up` pauses the source's tasks, checks the rule, moves HAProxy,
 * verifies, resumes; downstream ends equal to upstream. Prints the time replication was paused.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { verifyReplicated } from "../../sandbox/verify";
import { sandboxStackSuite } from "../support/sandboxStackSuite";

const s = sandboxStackSuite({ mode: "vip", reads: "primary" });
const RUNNING = ["Running", "Running"];

test("the first pulumi up adopts the sandbox's source and VIP without pausing anything", async () => {
    const r = await s.stack.run(["up", "--yes", "--skip-preview"]);
    assert.equal(r.code, 0, r.output);
    assert.doesNotMatch(r.output, /pause-task/);
    assert.equal(await s.sb.vipTarget(), "primary");
    assert.deepEqual(await s.stages(), RUNNING);
});

test("pulumi preview of a switch shows the plan in dmctl words and changes nothing", async () => {
    s.stack.configure({ mode: "vip", reads: "replica" });
    const r = await s.stack.run(["preview"]);
    assert.equal(r.code, 0, r.output);
    // The preview reads the tasks DM runs on the source: the plan names each one.
    assert.match(
        r.output,
        /dmctl --master-addr \S+ pause-task sandbox_task_0 -s sandbox-source; dmctl --master-addr \S+ pause-task sandbox_task_1 -s sandbox-source/,
    );
    assert.match(r.output, /~ +pulumi-nodejs:dynamic\/dm-switch:Vip sandbox-source-vip update/);
    assert.equal(await s.sb.vipTarget(), "primary");
    assert.deepEqual(await s.stages(), RUNNING);
});

async function switchTo(to: "primary" | "replica") {
    const { r, written } = await s.upUnderLoad({ mode: "vip", reads: to });
    const paused = /replication was paused for (\d+) ms/.exec(r.output);
    assert.ok(paused, `the paused time is reported:\n${r.output}`);
    console.log(
        `VIP switch to ${to} with 2 tasks: replication paused ${paused[1]} ms; pulumi up took ${r.ms} ms; ${written} rows written during it`,
    );
    assert.equal(await s.sb.vipTarget(), to);
}

test("pulumi up switches the VIP to the replica under load: nothing lost or duplicated downstream", async () => {
    await switchTo("replica");
    const state = await s.stack.exportState();
    const vip = state.deployment.resources?.find((x) => x.type === "pulumi-nodejs:dynamic/dm-switch:Vip");
    assert.equal(vip?.outputs?.target, "replica");
    assert.deepEqual(vip?.outputs?.pausedByUs, []);
    assert.ok(
        !JSON.stringify(state).includes(s.sb.source.password),
        "the source password is not in the state in plaintext",
    );
});

test("and back to the primary", async () => {
    await switchTo("primary");
});

test("a target that lags with replication stopped is refused at apply time; the tasks run on, the VIP stays", async () => {
    await s.sb.replica.query("STOP SLAVE");
    try {
        await s.sb.primary.query(
            `INSERT INTO ${s.sb.tasks[0].schema}.t (id, seq, payload) VALUES (900000001, 900000001, 'only on the primary')`,
        );
        s.stack.configure({ mode: "vip", reads: "replica", catchUpTimeoutMs: 500 });
        const r = await s.stack.run(["up", "--yes", "--skip-preview"]);
        assert.notEqual(r.code, 0, r.output);
        assert.match(r.output, /switching DM source sandbox-source to replica is not allowed/);
        assert.match(r.output, /0-\d+-\d+/, "the missing GTIDs are named");
        assert.equal(await s.sb.vipTarget(), "primary");
        assert.deepEqual(await s.stages(), RUNNING);
    } finally {
        await s.sb.replica.query("START SLAVE");
    }
    // Once the replica has caught up, the same up converges.
    const again = await s.stack.run(["up", "--yes", "--skip-preview"]);
    assert.equal(again.code, 0, again.output);
    assert.equal(await s.sb.vipTarget(), "replica");
    assert.ok((await verifyReplicated(s.sb, { timeoutMs: 60_000 })).equal);
});

test("a VIP moved by hand shows as drift in pulumi refresh, and pulumi up switches it back with the procedure", async () => {
    const { HaproxyVip } = await import("../../components/vipBackends/haproxy");
    await new HaproxyVip({
        socket: s.sb.vip.haproxySocket,
        backend: s.sb.vip.backend,
        servers: s.sb.vip.servers,
    }).moveTo("primary");
    const refresh = await s.stack.run(["refresh", "--yes", "--skip-preview"]);
    assert.equal(refresh.code, 0, refresh.output);
    const vip = (await s.stack.exportState()).deployment.resources?.find(
        (x) => x.type === "pulumi-nodejs:dynamic/dm-switch:Vip",
    );
    assert.equal(vip?.outputs?.target, "primary", "the state records where the VIP really points");
    const r = await s.stack.run(["up", "--yes", "--skip-preview"]);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /vip switch primary → replica/);
    assert.match(r.output, /replication was paused for \d+ ms/);
    assert.equal(await s.sb.vipTarget(), "replica");
    assert.deepEqual(await s.stages(), RUNNING);
});
