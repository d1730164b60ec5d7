/**
 * `pulumi-nodejs:dynamic/dm-switch:Vip`: where a VIP points (HAProxy, a Route53 record or an ENI
 * secondary IP) and which DM source reads through it. Changing `target` performs DM's VIP procedure:
 * pause every task of the source → check the rule against the target → move the VIP → verify → resume.
 */
import type * as pulumi from "@pulumi/pulumi";
import { AddressInputs, VipBackendInputs, VipVerify } from "./providers/inputs";
import { holdsTlsKey, secretWhenTlsKeyed, SourceResourceArgs, SwitchingResource } from "./providers/load";

/** A Vip: the DM source reads through the VIP. */
export interface VipArgs extends SourceResourceArgs {
    /** Every instance of the replication set by name, at its own address (not the VIP's). */
    instances: pulumi.Input<Record<string, pulumi.Input<AddressInputs>>>;
    /** The instance the VIP must point at: change it to switch. */
    target: pulumi.Input<string>;
    /** The VIP's address as DM reaches it. */
    address: pulumi.Input<AddressInputs>;
    backend: pulumi.Input<VipBackendInputs>;
    /**
     * How a move is verified before the tasks resume: "connect" compares server_id through `address`
     * with the target's; "backend" asks the backend where the VIP points (for a runner that cannot reach
     * the VIP, or moto, which moves no packets). @default "connect"
     */
    verify?: pulumi.Input<VipVerify>;
}

export class Vip extends SwitchingResource {
    /** The instance the VIP points at (after a refresh: where it really points). */
    declare readonly target: pulumi.Output<string>;

    constructor(name: string, args: VipArgs, opts?: pulumi.CustomResourceOptions) {
        // A MySQL TLS client key makes the instances (or the VIP's address) secret as a whole.
        const keyed = (["instances", "address"] as const).filter((k) => holdsTlsKey(args[k]));
        const tls = { instances: secretWhenTlsKeyed(args.instances), address: secretWhenTlsKeyed(args.address) };
        const kind = { module: require.resolve("./providers/vipProvider"), type: "Vip", secret: keyed };
        super(kind, name, { ...args, ...tls }, opts);
    }
}
