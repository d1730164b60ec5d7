/**
 * `pulumi-nodejs:dynamic/dm-switch:Vip`: where a VIP points (HAProxy, a Route53 record or an ENI
 * secondary IP) and which DM source reads through it. Changing `target` performs DM's VIP procedure:
 * pause every task of the source → check the rule against the target → move the VIP → verify → resume.
 */
import type * as pulumi from "@pulumi/pulumi";
import { secret } from "@pulumi/pulumi/output";
import { AddressInputs, DmEndpointInputs, Flavor, VipBackendInputs, VipOutputs, VipVerify } from "./providers/inputs";
import { DelegatedResource, holdsTlsKey, secretWhenKeyed, secretWhenTlsKeyed } from "./providers/load";
import type { SwitchTimeouts } from "./model";

/** The three timeouts (../model.ts), each an Input. */
type TimeoutInputs = { [K in keyof SwitchTimeouts]: pulumi.Input<SwitchTimeouts[K]> };

export interface VipArgs extends TimeoutInputs {
    /** dm-master's address and transport. */
    dm: pulumi.Input<DmEndpointInputs>;
    /** The DM source that reads through this VIP. */
    sourceId: pulumi.Input<string>;
    flavor: pulumi.Input<Flavor>;
    /** Every instance of the replication set by name, at its own address (not the VIP's). */
    instances: pulumi.Input<Record<string, pulumi.Input<AddressInputs>>>;
    /** The instance the VIP must point at: change it to switch. */
    target: pulumi.Input<string>;
    /** The VIP's address as DM reaches it. */
    address: pulumi.Input<AddressInputs>;
    /** A user that can read the GTID variables on every instance (usually the source's user). */
    user: pulumi.Input<string>;
    /** That user's password; kept secret end to end. */
    password: pulumi.Input<string>;
    backend: pulumi.Input<VipBackendInputs>;
    /**
     * How a move is verified before the tasks resume: "connect" compares server_id through `address`
     * with the target's; "backend" asks the backend where the VIP points (for a runner that cannot reach
     * the VIP, or moto, which moves no packets). @default "connect"
     */
    verify?: pulumi.Input<VipVerify>;
    /** Tasks to pause around a switch. @default every task of the source */
    tasks?: pulumi.Input<pulumi.Input<string>[]>;
}

export class Vip extends DelegatedResource {
    /** The instance the VIP points at (after a refresh: where it really points). */
    declare readonly target: pulumi.Output<string>;
    /** Tasks a failed switch left paused; the next `pulumi up` resumes them. */
    declare readonly pausedByUs: pulumi.Output<string[]>;
    declare readonly lastSwitch: pulumi.Output<VipOutputs["lastSwitch"]>;
    /** The steps the next switch will run, in dmctl words. */
    declare readonly plan: pulumi.Output<string[]>;

    constructor(name: string, args: VipArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            require.resolve("./providers/vipProvider"),
            "Vip",
            name,
            {
                ...args,
                dm: secretWhenKeyed(args.dm),
                // A MySQL TLS client key makes the instances (or the VIP's address) secret as a whole.
                instances: secretWhenTlsKeyed(args.instances),
                address: secretWhenTlsKeyed(args.address),
                password: secret(args.password),
                plan: undefined,
                pausedByUs: undefined,
                lastSwitch: undefined,
            },
            {
                ...opts,
                additionalSecretOutputs: [
                    "dm",
                    ...(holdsTlsKey(args.instances) ? ["instances"] : []),
                    ...(holdsTlsKey(args.address) ? ["address"] : []),
                    ...(opts?.additionalSecretOutputs ?? []),
                ],
            },
        );
    }
}
