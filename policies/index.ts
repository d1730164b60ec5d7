/**
 * The dm-switch policy pack: `pulumi preview --policy-pack policies` proves, before anything changes,
 * that every DM source the stack declares can read from the instance it points to without losing or
 * repeating rows. Policies are mandatory by default; set a level or `catchUpTimeoutMs` per policy with
 * `--policy-pack-config <file.json>`, e.g. `{"dm-gtid-containment": {"catchUpTimeoutMs": 30000}}`.
 * The checks live in one file per policy; this file only declares the pack.
 */
import { PolicyPack } from "@pulumi/policy";
import { enableGtid } from "./enableGtid";
import { gtidContainment } from "./gtidContainment";
import { targetPrerequisites } from "./targetPrerequisites";

// dm-gtid-containment comes first: the check it starts (with its catch-up wait) is the one all share.
new PolicyPack("dm-switch", {
    policies: [gtidContainment, enableGtid, targetPrerequisites],
});
