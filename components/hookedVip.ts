/**
 * VIPs the stack manages as ordinary resources, switched safely by dm-switch's hooks:
 * - `route53RecordVip`: an `aws.route53.Record` (@pulumi/aws) whose value is the target's;
 * - `commandVip`: a `command.local.Command` (@pulumi/command) running a site script (keepalived,
 *   `ip addr`, a load balancer's CLI) with `DM_SWITCH_TARGET` and `DM_SWITCH_VALUE` in its environment.
 * Each also declares a `VipIntent`: which instance the VIP must point at and which DM source reads
 * through it, so that the policy pack checks the rule for it at preview like for a `Vip`.
 */
import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { vipHooks } from "./hooks";
import { AddressInputs, DmEndpointInputs, Flavor } from "./providers/inputs";
import { DelegatedResource, secretWhenKeyed } from "./providers/load";

/** What the hooks and the policy pack need to know of a hooked VIP. */
export interface HookedVipArgs {
    dm: pulumi.Input<DmEndpointInputs>;
    sourceId: string;
    flavor: Flavor;
    /** Every instance of the replication set by name, at its own address. */
    instances: Record<string, AddressInputs>;
    /** The instance the VIP must point at: change it to switch. */
    target: string;
    /** The VIP's address as DM reaches it. */
    address: AddressInputs;
    user: string;
    password: pulumi.Input<string>;
    tasks?: string[];
    stageTimeoutMs?: number;
    catchUpTimeoutMs?: number;
    advanceTimeoutMs?: number;
}

/**
 * `pulumi-nodejs:dynamic/dm-switch:VipIntent`: the VIP's intended target and DM source, as data. It
 * changes nothing itself (the hooked resource moves the VIP); the policy pack reads it.
 */
export class VipIntent extends DelegatedResource {
    declare readonly target: pulumi.Output<string>;

    constructor(name: string, args: Omit<HookedVipArgs, "stageTimeoutMs" | "catchUpTimeoutMs" | "advanceTimeoutMs"> & { vipResource: string }, opts?: pulumi.CustomResourceOptions) {
        super(require.resolve("./providers/vipIntentProvider"), "VipIntent", name, { ...args, dm: secretWhenKeyed(args.dm), password: pulumi.secret(args.password) }, opts);
    }
}

function hooksAndIntent(name: string, kind: string, args: HookedVipArgs, targetOf: (inputs: Record<string, unknown>) => string | undefined, parent?: pulumi.Resource) {
    const { stageTimeoutMs: _s, catchUpTimeoutMs: _c, advanceTimeoutMs: _a, ...intentArgs } = args;
    const intent = new VipIntent(`${name}-intent`, { ...intentArgs, vipResource: `${kind} ${name}` }, { parent });
    const hooks = vipHooks({ ...args, name, targetOf });
    return { intent, hooks };
}

export interface Route53RecordVipArgs extends HookedVipArgs {
    zoneId: pulumi.Input<string>;
    recordName: string;
    /** @default "A" */
    recordType?: "A" | "CNAME";
    /** @default 5 */
    ttl?: number;
    /** Instance name → the record's value when the VIP points at it. */
    values: Record<string, string>;
}

/** An `aws.route53.Record` as the VIP, with DM's VIP procedure around each change of its value. */
export function route53RecordVip(name: string, args: Route53RecordVipArgs, opts?: pulumi.CustomResourceOptions): { record: aws.route53.Record; intent: VipIntent } {
    const value = args.values[args.target];
    if (value === undefined) {
        throw new pulumi.RunError(`${name}: route53.values has no value for target ${args.target}: add one per instance (${Object.keys(args.instances).join(", ")})`);
    }
    const byValue = new Map(Object.entries(args.values).map(([instance, v]) => [v, instance]));
    const { intent, hooks } = hooksAndIntent(name, "aws.route53.Record", args, (inputs) => {
        const records = inputs.records as string[] | undefined;
        return records?.length === 1 ? byValue.get(records[0]) : undefined;
    }, opts?.parent);
    const record = new aws.route53.Record(
        name,
        { zoneId: args.zoneId, name: args.recordName, type: args.recordType ?? "A", ttl: args.ttl ?? 5, records: [value], allowOverwrite: true },
        { ...opts, hooks, dependsOn: [intent] },
    );
    return { record, intent };
}

export interface CommandVipArgs extends HookedVipArgs {
    /** A shell script that makes the VIP point at `$DM_SWITCH_TARGET` (value `$DM_SWITCH_VALUE`); it must fail on failure. */
    script: string;
    /** Instance name → a value the script uses (an address, a keepalived priority…). @default the instance's host */
    values?: Record<string, string>;
    /** Extra environment of the script (no secrets: the environment is stored in the state). */
    environment?: Record<string, string>;
}

/** A `command.local.Command` as the VIP mover, with DM's VIP procedure around each change of target. */
export function commandVip(name: string, args: CommandVipArgs, opts?: pulumi.CustomResourceOptions): { command: command.local.Command; intent: VipIntent } {
    if (!(args.target in args.instances)) {
        throw new pulumi.RunError(`${name}: target ${args.target} is not one of the instances (${Object.keys(args.instances).join(", ")})`);
    }
    const { intent, hooks } = hooksAndIntent(name, "command.local.Command", args, (inputs) => {
        const env = inputs.environment as Record<string, string> | undefined;
        return env?.DM_SWITCH_TARGET;
    }, opts?.parent);
    const value = args.values?.[args.target] ?? args.instances[args.target].host;
    // No `update` command: the engine runs `create` again as an update when the target changes, so the
    // update hooks (not create/delete ones) wrap the move.
    const cmd = new command.local.Command(
        name,
        { create: args.script, environment: { ...args.environment, DM_SWITCH_TARGET: args.target, DM_SWITCH_VALUE: value }, interpreter: ["/bin/sh", "-ec"] },
        { ...opts, hooks, dependsOn: [intent] },
    );
    return { command: cmd, intent };
}
