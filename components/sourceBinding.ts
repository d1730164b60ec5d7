/**
 * `pulumi-nodejs:dynamic/dm-switch:SourceBinding`: a DM source registration (operate-source create).
 * Changing `host`/`port` performs DM's address procedure: check the rule against the new instance →
 * stop-task → operate-source stop → operate-source create at the new address → start-task from the
 * checkpoint (meta = gtid-S, never removing it). Changing `user`, `password` or `enableRelay` runs the same
 * procedure at the same address: the source is created again from DM's own configuration of it (every
 * field the stack does not set is kept) with the new settings. `flavor` cannot change (check refuses it).
 */
import type * as pulumi from "@pulumi/pulumi";
import { secret } from "@pulumi/pulumi/output";
import { AddressInputs, DmEndpointInputs, Flavor, MysqlTlsInputs, SourceBindingOutputs } from "./providers/inputs";
import { DelegatedResource, secretWhenKeyed, secretWhenTlsKeyed } from "./providers/load";
import type { SwitchTimeouts } from "./model";

/** The three timeouts (../model.ts), each an Input. */
type TimeoutInputs = { [K in keyof SwitchTimeouts]: pulumi.Input<SwitchTimeouts[K]> };

export interface SourceBindingArgs extends TimeoutInputs {
    dm: pulumi.Input<DmEndpointInputs>;
    /** The DM source name (`source-id`); changing it replaces the binding. */
    sourceId: pulumi.Input<string>;
    /** The instance name of host:port, for messages and plans. */
    instance?: pulumi.Input<string>;
    host: pulumi.Input<string>;
    port: pulumi.Input<number>;
    /** The MySQL user DM replicates with; changing it re-creates the source in place (see above). */
    user: pulumi.Input<string>;
    /** Its password; kept secret end to end (the state holds a salted digest, to see a rotation, which re-creates the source in place). */
    password: pulumi.Input<string>;
    /** The upstream's kind; it cannot change on a live source. */
    flavor: pulumi.Input<Flavor>;
    /** Must be true: DM switches instances only in GTID mode. @default true */
    enableGtid?: pulumi.Input<boolean>;
    /** The source's relay log; changing it re-creates the source in place. @default false */
    enableRelay?: pulumi.Input<boolean>;
    /** Tasks to stop and start around an address change. @default every task of the source */
    tasks?: pulumi.Input<pulumi.Input<string>[]>;
    /** The tasks' downstream password, required to change host/port or the settings above while tasks use the source (DM masks it). */
    downstreamPassword?: pulumi.Input<string | undefined>;
    /** Instances of the replication set by name, to name host:port in plans. */
    instances?: pulumi.Input<Record<string, pulumi.Input<AddressInputs>>>;
    /** TLS of dm-switch's connections to host:port (the policy pack's probe); secret when it holds a key. @default no TLS */
    tls?: pulumi.Input<MysqlTlsInputs>;
    /** Delete the source even while tasks use it. @default false */
    deleteWithTasks?: pulumi.Input<boolean>;
}

export class SourceBinding extends DelegatedResource {
    declare readonly host: pulumi.Output<string>;
    declare readonly port: pulumi.Output<number>;
    /** Tasks a failed switch left paused or stopped; the next `pulumi up` starts them. */
    declare readonly pausedByUs: pulumi.Output<string[]>;
    declare readonly lastSwitch: pulumi.Output<SourceBindingOutputs["lastSwitch"]>;
    declare readonly plan: pulumi.Output<string[]>;

    constructor(name: string, args: SourceBindingArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            require.resolve("./providers/sourceBindingProvider"),
            "SourceBinding",
            name,
            {
                enableGtid: true,
                ...args,
                dm: secretWhenKeyed(args.dm),
                ...(args.instances !== undefined ? { instances: secretWhenTlsKeyed(args.instances) } : {}),
                ...(args.tls !== undefined ? { tls: secretWhenTlsKeyed({ tls: args.tls }).apply((t) => t.tls) } : {}),
                password: secret(args.password),
                downstreamPassword: args.downstreamPassword === undefined ? undefined : secret(args.downstreamPassword),
                plan: undefined,
                pausedByUs: undefined,
                stoppedTasks: undefined,
                lastSwitch: undefined,
            },
            {
                ...opts,
                additionalSecretOutputs: [
                    "dm",
                    "stoppedTasks",
                    "passwordDigest",
                    "sourceFile",
                    ...(opts?.additionalSecretOutputs ?? []),
                ],
            },
        );
    }
}
