/**
 * The fault matrix's MySQL-relevant cases, live on MySQL (MySQL ≥ 8.4, DM 2409e0b, HAProxy, MariaDB
 * downstream), with the four promises of tests/support/faultHelpers.ts: a clear error, no task left
 * paused that the error does not name, a re-run of `pulumi up` that converges, and downstream equal to
 * upstream with every written row exactly once. The switch is held between pause and resume by stopping
 * the replica's replication (STOP REPLICA): the apply-time check waits for it to catch up.
 */
import { after, before, test } from "node:test";
import { FaultRig, startFaultRig } from "../support/faultHelpers";
import { dmMasterKilledCase, targetKilledAfterPreviewCase } from "../support/vipFaultCases";

let rig: FaultRig;

before(async () => {
    rig = await startFaultRig("vip", { flavor: "mysql" });
});

after(async () => {
    await rig?.dispose();
});

const hold = () => rig.sb.replica.query("STOP REPLICA");
const release = () => rig.sb.replica.query("START REPLICA");

test("MySQL: dm-master killed between pause and resume: the error names the paused tasks; after a restart pulumi up resumes them", () =>
    dmMasterKilledCase(rig, hold, release, "MySQL: dm-master killed"));

test("MySQL: the target killed after pulumi preview passed: pulumi up refuses it before pausing anything; converges after a restart", () =>
    targetKilledAfterPreviewCase(rig, "MySQL: target killed after preview"));
