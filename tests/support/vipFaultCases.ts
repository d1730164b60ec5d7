/**
 * The VIP fault cases that run alike on MariaDB (faultsVip.test.ts) and MySQL (mysqlFaults.test.ts): the
 * configurations switched between, putting the VIP where a case starts, and the cases themselves, each
 * checking the four promises of faultHelpers.ts.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { PROJECT_DIR } from "../../tools/sandboxStack";
import { assertConverges, assertFailedClearly, FaultRig, report, upUnderLoad } from "./faultHelpers";

/** The configurations switched between: a long catch-up wait (the hold), a short stage wait (a failed resume). */
export const toReplica = { mode: "vip", reads: "replica", catchUpTimeoutMs: 60_000, stageTimeoutMs: 5000 } as const;
export const toPrimary = { ...toReplica, reads: "primary" } as const;
/** The executor's line once every task is Paused. */
export const PAUSED = /step 2\/\d+ done in \d+ ms: [^\n]* are Paused/;

/** Puts the VIP on `at` by a plain switch when it points elsewhere, so that a case starts where it needs to. */
export async function vipAt(rig: FaultRig, at: "primary" | "replica"): Promise<void> {
    if ((await rig.sb.vipTarget()) !== at) {
        const r = await assertConverges(rig, at === "primary" ? toPrimary : toReplica, []);
        console.log(`  (VIP put back on the ${at} by pulumi up in ${r.ms} ms)`);
    }
}

/**
 * dm-master killed between pause and resume (held there by `hold`, which stops the replica's replication
 * until `release`): the error names the paused tasks; after a restart pulumi up resumes them.
 */
export async function dmMasterKilledCase(
    rig: FaultRig,
    hold: () => Promise<unknown>,
    release: () => Promise<unknown>,
    name: string,
): Promise<void> {
    await vipAt(rig, "primary");
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
    report(name, { "faulty up": r, "re-run": again }, load);
}

/** The target killed after pulumi preview passed: pulumi up refuses it before pausing anything; converges after a restart. */
export async function targetKilledAfterPreviewCase(rig: FaultRig, name: string): Promise<void> {
    await vipAt(rig, "primary");
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
        report(name, { preview, "faulty up": r, "re-run": again }, load);
    } finally {
        await rig.sb.replica.start().catch(() => undefined);
    }
}
