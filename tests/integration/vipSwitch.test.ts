/**
 * The product end to end in VIP mode: this project's program run by the real Pulumi CLI against the
 * sandbox (real dm-master/dm-worker replicating MariaDB through a real HAProxy), under a write load.
 * Changing `reads` and running `pulumi up` pauses the source's tasks, checks the rule, moves HAProxy,
 * verifies, resumes; downstream ends equal to upstream. Prints the time replication was paused.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createDmClient, DmClient } from "../../components/dm";
import { Sandbox, startSandbox } from "../../sandbox";
import { startLoad } from "../../sandbox/load";
import { checkSequences, verifyReplicated } from "../../sandbox/verify";
import { createSandboxStack, SandboxStack } from "../../tools/sandboxStack";

let sb: Sandbox;
let stack: SandboxStack;
let dm: DmClient;

before(async () => {
    sb = await startSandbox({ tasks: 2 });
    dm = createDmClient({ transport: "openapi", address: sb.dm.masterAddr, dmctlPath: sb.dm.dmctlPath });
    stack = await createSandboxStack(sb, { mode: "vip", reads: "primary" });
});

after(async () => {
    await stack?.dispose();
    await sb?.stop();
});

async function stages(): Promise<string[]> {
    const all = await Promise.all(sb.tasks.map((t) => dm.taskStatus(t.name, sb.source.id)));
    return all.flat().map((s) => `${s.task}:${s.stage}`);
}

const running = () => sb.tasks.map((t) => `${t.name}:Running`);

test("the first pulumi up adopts the sandbox's source and VIP without pausing anything", async () => {
    const r = await stack.run(["up", "--yes", "--skip-preview"]);
    assert.equal(r.code, 0, r.output);
    assert.doesNotMatch(r.output, /pause-task/);
    assert.equal(await sb.vipTarget(), "primary");
    assert.deepEqual(await stages(), running());
});

test("pulumi preview of a switch shows the plan in dmctl words and changes nothing", async () => {
    stack.configure({ mode: "vip", reads: "replica" });
    const r = await stack.run(["preview"]);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /dmctl --master-addr \S+ pause-task <every task of sandbox-source> -s sandbox-source|pause-task/);
    assert.match(r.output, /~ +pulumi-nodejs:dynamic\/dm-switch:Vip sandbox-source-vip update/);
    assert.equal(await sb.vipTarget(), "primary");
    assert.deepEqual(await stages(), running());
});

async function switchUnderLoad(to: "primary" | "replica") {
    const load = startLoad(sb, { rowsPerSec: 200, via: "primary" });
    await new Promise((r) => setTimeout(r, 1500));
    stack.configure({ mode: "vip", reads: to });
    const r = await stack.run(["up", "--yes", "--skip-preview"]);
    const written = await load.stop();
    assert.equal(r.code, 0, r.output);
    const paused = /replication was paused for (\d+) ms/.exec(r.output);
    assert.ok(paused, `the paused time is reported:\n${r.output}`);
    console.log(`VIP switch to ${to} with ${sb.tasks.length} tasks: replication paused ${paused[1]} ms; pulumi up took ${r.ms} ms; ${written.written} rows written during it`);
    assert.equal(await sb.vipTarget(), to);
    assert.deepEqual(await stages(), running());
    const v = await verifyReplicated(sb, { timeoutMs: 60_000 });
    assert.ok(v.equal, JSON.stringify(v));
    const expectedLastSeq = Object.fromEntries(Object.entries(written.schemas).map(([schema, l]) => [schema, l.lastSeq]));
    const seqs = await checkSequences(sb, { expectedLastSeq });
    assert.ok(Object.values(seqs).every((s) => s.ok), `no row lost or duplicated downstream: ${JSON.stringify(seqs)}`);
    assert.ok(written.written > 0);
}

test("pulumi up switches the VIP to the replica under load: nothing lost or duplicated downstream", async () => {
    await switchUnderLoad("replica");
    const state = await stack.exportState();
    const vip = state.deployment.resources?.find((x) => x.type === "pulumi-nodejs:dynamic/dm-switch:Vip");
    assert.equal(vip?.outputs?.target, "replica");
    assert.deepEqual(vip?.outputs?.pausedByUs, []);
    assert.ok(!JSON.stringify(state).includes(sb.source.password), "the source password is not in the state in plaintext");
});

test("and back to the primary", async () => {
    await switchUnderLoad("primary");
});

test("a target that lags with replication stopped is refused at apply time; the tasks run on, the VIP stays", async () => {
    await sb.replica.query("STOP SLAVE");
    try {
        await sb.primary.query(`INSERT INTO ${sb.tasks[0].schema}.t (id, seq, payload) VALUES (900000001, 900000001, 'only on the primary')`);
        stack.configure({ mode: "vip", reads: "replica", catchUpTimeoutMs: 500 });
        const r = await stack.run(["up", "--yes", "--skip-preview"]);
        assert.notEqual(r.code, 0, r.output);
        assert.match(r.output, /switching DM source sandbox-source to replica is not allowed/);
        assert.match(r.output, /0-\d+-\d+/, "the missing GTIDs are named");
        assert.equal(await sb.vipTarget(), "primary");
        assert.deepEqual(await stages(), running());
    } finally {
        await sb.replica.query("START SLAVE");
    }
    // Once the replica has caught up, the same up converges.
    const again = await stack.run(["up", "--yes", "--skip-preview"]);
    assert.equal(again.code, 0, again.output);
    assert.equal(await sb.vipTarget(), "replica");
    assert.ok((await verifyReplicated(sb, { timeoutMs: 60_000 })).equal);
});
