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
import { HookedVipInputs, vipHooks } from "./hooks";
import type { PendingSwitch } from "./providers/hookedSwitch";
import { DelegatedResource, sourceSecrets } from "./providers/load";

/**
 * What the hooks and the policy pack need to know of a hooked VIP (change `target` to switch); the resource
 * that moves it is named by the function that declares it.
 */
export type HookedVipArgs = Omit<HookedVipInputs, "vipResource">;

/**
 * `pulumi-nodejs:dynamic/dm-switch:VipIntent`: the VIP's intended target and DM source, which the policy
 * pack reads; and the owner of the pause around a move: its update (before the hooked resource's) pauses
 * the tasks, checks the rule and records them and the pending switch in its state (providers/hookedSwitch.ts).
 */
export class VipIntent extends DelegatedResource {
    declare readonly target: pulumi.Output<string>;
    /** Tasks dm-switch paused and has not seen running again. */
    declare readonly pausedByUs: pulumi.Output<string[]>;
    /** The switch paused for in this run, until the VipResume finishes it. */
    declare readonly pending: pulumi.Output<PendingSwitch | undefined>;

    constructor(name: string, args: HookedVipArgs & { vipResource: string }, opts?: pulumi.CustomResourceOptions) {
        super(
            require.resolve("./providers/vipIntentProvider"),
            "VipIntent",
            name,
            { ...args, ...sourceSecrets(args) },
            opts,
            { outputs: ["pausedByUs", "pending"] },
        );
    }
}

/**
 * `pulumi-nodejs:dynamic/dm-switch:VipResume`: the end of a hooked VIP's switch, after the hooked
 * resource. Its `pending` input is the VipIntent's, so it is updated in every run that paused for a
 * move: it verifies through the VIP, resumes the tasks and confirms they read from the target.
 */
export class VipResume extends DelegatedResource {
    constructor(
        name: string,
        args: HookedVipArgs & { vipResource: string; pending: pulumi.Input<PendingSwitch | undefined> },
        opts?: pulumi.CustomResourceOptions,
    ) {
        const { target: _target, ...rest } = args;
        super(
            require.resolve("./providers/vipResumeProvider"),
            "VipResume",
            name,
            { ...rest, ...sourceSecrets(args) },
            opts,
        );
    }
}

/**
 * The VipIntent before the hooked resource, its hooks, and a function that declares the VipResume after it.
 * Order in the engine: VipIntent (pause, check, record) → hooked resource (move; onError resumes or names)
 * → VipResume (verify, resume, confirm).
 */
function hooksAndIntent(
    name: string,
    kind: string,
    args: HookedVipArgs,
    targetOf: (inputs: Record<string, unknown>) => string | undefined,
    opts?: pulumi.CustomResourceOptions,
) {
    const vipResource = `${kind} ${name}`;
    const intent = new VipIntent(
        `${name}-intent`,
        { ...args, vipResource },
        { parent: opts?.parent, dependsOn: opts?.dependsOn },
    );
    const hooks = vipHooks({ ...args, name, targetOf, vipResource, pending: intent.pending });
    const resumeAfter = (mover: pulumi.Resource) =>
        new VipResume(
            `${name}-resume`,
            { ...args, vipResource, pending: intent.pending },
            { parent: opts?.parent, dependsOn: [mover] },
        );
    return { intent, hooks, resumeAfter };
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
export function route53RecordVip(
    name: string,
    args: Route53RecordVipArgs,
    opts?: pulumi.CustomResourceOptions,
): { record: aws.route53.Record; intent: VipIntent; resume: VipResume } {
    const value = args.values[args.target];
    if (value === undefined) {
        throw new pulumi.RunError(
            `${name}: route53.values has no value for target ${args.target}: add one per instance (${Object.keys(args.instances).join(", ")})`,
        );
    }
    const byValue = new Map(Object.entries(args.values).map(([instance, v]) => [v, instance]));
    const { zoneId: _z, recordName: _n, recordType: _t, ttl: _ttl, values: _v, ...hooked } = args;
    const { intent, hooks, resumeAfter } = hooksAndIntent(
        name,
        "aws.route53.Record",
        hooked,
        (inputs) => {
            const records = inputs.records as string[] | undefined;
            return records?.length === 1 ? byValue.get(records[0]) : undefined;
        },
        opts,
    );
    const record = new aws.route53.Record(
        name,
        {
            zoneId: args.zoneId,
            name: args.recordName,
            type: args.recordType ?? "A",
            ttl: args.ttl ?? 5,
            records: [value],
            allowOverwrite: true,
        },
        { ...opts, hooks, dependsOn: [intent] },
    );
    return { record, intent, resume: resumeAfter(record) };
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
export function commandVip(
    name: string,
    args: CommandVipArgs,
    opts?: pulumi.CustomResourceOptions,
): { command: command.local.Command; intent: VipIntent; resume: VipResume } {
    if (!(args.target in args.instances)) {
        throw new pulumi.RunError(
            `${name}: target ${args.target} is not one of the instances (${Object.keys(args.instances).join(", ")})`,
        );
    }
    const { script: _s, values: _v, environment: _e, ...hooked } = args;
    const { intent, hooks, resumeAfter } = hooksAndIntent(
        name,
        "command.local.Command",
        hooked,
        (inputs) => {
            const env = inputs.environment as Record<string, string> | undefined;
            return env?.DM_SWITCH_TARGET;
        },
        opts,
    );
    const value = args.values?.[args.target] ?? args.instances[args.target].host;
    // No `update` command: the engine runs `create` again as an update when the target changes, so the
    // update hooks (not create/delete ones) wrap the move.
    const cmd = new command.local.Command(
        name,
        {
            create: args.script,
            environment: { ...args.environment, DM_SWITCH_TARGET: args.target, DM_SWITCH_VALUE: value },
            interpreter: ["/bin/sh", "-ec"],
        },
        { ...opts, hooks, dependsOn: [intent] },
    );
    return { command: cmd, intent, resume: resumeAfter(cmd) };
}
