/**
 * `dm-switch:index:Source`: one DM source and how it is switched. In VIP mode the source is bound to
 * the VIP's address and a Vip resource moves the VIP; in address mode the binding itself moves.
 */
// Pulumi's modules one by one, not "@pulumi/pulumi": its index loads the automation API and the closure
// serializer (≈ 570 modules, half a second) into every preview of a stack that uses neither.
import type * as pulumi from "@pulumi/pulumi";
import { ResourceError } from "@pulumi/pulumi/errors";
import { output } from "@pulumi/pulumi/output";
import { ComponentResource } from "@pulumi/pulumi/resource";
import type { AddressInputs, DmEndpointInputs, Flavor, SwitchTimeouts } from "./model";
import type { VipBackendInputs, VipVerify } from "./providers/inputs";
import type { CommandVipArgs, HookedVipArgs, Route53RecordVipArgs } from "./hookedVip";
import { SourceBinding } from "./sourceBinding";
import { Vip } from "./vip";

/** What moves a source's VIP: exactly one of a Vip backend, a hooked Route53 record, a hooked command. */
export interface SourceVip {
    address: AddressInputs;
    backend?: VipBackendInputs;
    /** How the Vip verifies a move (with `backend` only). @default "connect" */
    verify?: VipVerify;
    route53Record?: Omit<Route53RecordVipArgs, keyof HookedVipArgs>;
    command?: Omit<CommandVipArgs, keyof HookedVipArgs>;
}

export interface SourceArgs extends SwitchTimeouts {
    dm: pulumi.Input<DmEndpointInputs>;
    sourceId: string;
    flavor: Flavor;
    user: string;
    password: pulumi.Input<string>;
    /** The tasks' downstream password: needed by address mode to start tasks again (DM masks it). */
    downstreamPassword?: pulumi.Input<string | undefined>;
    /** The replication set's instances at their own addresses. */
    instances: Record<string, AddressInputs>;
    /** The instance the source should read from. */
    reads: string;
    tasks?: string[];
    enableRelay?: boolean;
    /** VIP mode when given: the VIP's address and what moves it. Address mode otherwise. */
    vip?: SourceVip;
}

/** Loaded only by stacks with a hooked VIP: it brings @pulumi/aws and @pulumi/command (~0.7 s to load). */
const hookedVip = (): typeof import("./hookedVip") => require("./hookedVip");

export class Source extends ComponentResource {
    readonly binding: SourceBinding;
    /** The dynamic Vip, when a Vip backend moves the VIP. */
    readonly vip?: Vip;
    /** The hooked resource that moves the VIP otherwise (an aws.route53.Record or a command.local.Command). */
    readonly vipMover?: pulumi.CustomResource;
    /** Where the source reads now: the VIP's target, or the instance of its address. */
    readonly reads: pulumi.Output<string>;

    constructor(name: string, args: SourceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("dm-switch:index:Source", name, {}, opts);
        const reads = args.instances[args.reads];
        if (!reads) {
            throw new ResourceError(
                `source ${args.sourceId}: reads ${args.reads} is not one of the instances (${Object.keys(args.instances).join(", ")})`,
                this,
            );
        }
        const common = {
            dm: args.dm,
            sourceId: args.sourceId,
            flavor: args.flavor,
            user: args.user,
            password: args.password,
            tasks: args.tasks,
        };
        const timeouts = {
            stageTimeoutMs: args.stageTimeoutMs,
            catchUpTimeoutMs: args.catchUpTimeoutMs,
            advanceTimeoutMs: args.advanceTimeoutMs,
        };
        const bindAt = args.vip ? args.vip.address : reads;
        this.binding = new SourceBinding(
            `${name}-binding`,
            {
                ...common,
                ...timeouts,
                instance: args.vip ? "vip" : args.reads,
                instances: args.vip ? undefined : args.instances,
                host: bindAt.host,
                port: bindAt.port,
                ...(bindAt.tls ? { tls: bindAt.tls } : {}),
                enableGtid: true,
                enableRelay: args.enableRelay,
                downstreamPassword: args.downstreamPassword,
            },
            { parent: this },
        );
        const vip = args.vip;
        const hooked = {
            ...common,
            ...timeouts,
            instances: args.instances,
            target: args.reads,
            address: vip?.address ?? reads,
        };
        const child = { parent: this, dependsOn: [this.binding] };
        if (vip?.backend) {
            this.vip = new Vip(
                `${name}-vip`,
                { ...hooked, backend: vip.backend, ...(vip.verify ? { verify: vip.verify } : {}) },
                child,
            );
        } else if (vip?.route53Record) {
            this.vipMover = hookedVip().route53RecordVip(
                `${name}-vip`,
                { ...hooked, ...vip.route53Record },
                child,
            ).record;
        } else if (vip?.command) {
            this.vipMover = hookedVip().commandVip(`${name}-vip`, { ...hooked, ...vip.command }, child).command;
        } else if (vip) {
            throw new ResourceError(`source ${args.sourceId}: vip needs one of backend, route53Record, command`, this);
        }
        this.reads = this.vip ? this.vip.target : output(args.reads);
        this.registerOutputs({ reads: this.reads });
    }
}
