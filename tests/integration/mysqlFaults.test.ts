/**
 * The fault matrix's MySQL-relevant cases, live on MySQL (MySQL ≥ 8.4, DM 2409e0b, HAProxy, MariaDB
 * downstream), with the four promises of tests/integration/faultHelpers.ts: a clear error, no task left
 * paused that the error does not name, a re-run of `pulumi up` that converges, and downstream equal to
 * upstream with every written row exactly once. The switch is held between pause and resume by stopping
 * the replica's replication (STOP REPLICA): the apply-time check waits for it to catch up.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { PROJECT_DIR } from "../../tools/sandboxStack";
import {
    assertConverges,
    assertFailedClearly,
    FaultRig,
    report,
    startFaultRig,
    upUnderLoad,
} from "../support/faultHelpers";

let rig: FaultRig;

before(async () => {
    rig = await startFaultRig("vip", { flavor: "mysql" });
});

after(async () => {
    await rig?.dispose();
});

const toReplica = { mode: "vip", reads: "replica", catchUpTimeoutMs: 60_000, stageTimeoutMs: 5000 } as const;
const toPrimary = { ...toReplica, reads: "primary" } as const;
const PAUSED = /step 2\/\d+ done in \d+ ms: [^\n]* are Paused/;

const hold = () => rig.sb.replica.query("STOP REPLICA");
const release = () => rig.sb.replica.query("START REPLICA");

async function vipAt(at: "primary" | "replica"): Promise<void> {
    if ((await rig.sb.vipTarget()) !== at) {
        await assertConverges(rig, at === "primary" ? toPrimary : toReplica, []);
    }
}

test("MySQL: dm-master killed between pause and resume: the error names the paused tasks; after a restart pulumi up resumes them", async () => {
    await vipAt("primary");
    await hold();
    const { r, load } = await upUnderLoad(rig, toReplica, {
        during: async () => {
            await rig.watch.waitFor(PAUSED);
            await rig.sb.dm.master.kill();
            await release();
        },
    });
    await release();
    await rig.sb.dm.master.start();
    const paused = await assertFailedClearly(
        rig,
        r,
        /switching DM source sandbox-source to replica failed: .*cannot reach dm-master/,
    );
    assert.match(r.output, /stay paused/);
    console.log(`  left paused and named in the error: ${paused.join(", ")}`);
    const again = await assertConverges(rig, toReplica, [load]);
    report("MySQL: dm-master killed", { "faulty up": r, "re-run": again }, load);
});

test("MySQL: the target killed after pulumi preview passed: pulumi up refuses it before pausing anything; converges after a restart", async () => {
    await vipAt("primary");
    rig.stack.configure(toReplica);
    const preview = await rig.stack.run(["preview", "--policy-pack", path.join(PROJECT_DIR, "policies")]);
    assert.equal(preview.code, 0, preview.output);
    await rig.sb.replica.kill();
    try {
        const { r, load } = await upUnderLoad(rig, toReplica);
        const paused = await assertFailedClearly(
            rig,
            r,
            /switching DM source sandbox-source to replica failed: .*ECONNREFUSED.*No task was paused/,
        );
        assert.deepEqual(paused, []);
        assert.equal(await rig.sb.vipTarget(), "primary");
        await rig.sb.replica.start();
        const again = await assertConverges(rig, toReplica, [load]);
        report("MySQL: target killed after preview", { preview, "faulty up": r, "re-run": again }, load);
    } finally {
        await rig.sb.replica.start().catch(() => undefined);
    }
});
