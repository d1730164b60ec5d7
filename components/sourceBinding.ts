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
import { AddressInputs, MysqlTlsInputs } from "./providers/inputs";
import { secretWhenTlsKeyed, SourceResourceArgs, SwitchingResource } from "./providers/load";

/** A SourceBinding: the DM source reads from host:port. */
export interface SourceBindingArgs extends SourceResourceArgs {
    /** The instance name of host:port, for messages and plans. */
    instance?: pulumi.Input<string>;
    host: pulumi.Input<string>;
    port: pulumi.Input<number>;
    /** Must be true: DM switches instances only in GTID mode. @default true */
    enableGtid?: pulumi.Input<boolean>;
    /** The source's relay log; changing it re-creates the source in place. @default false */
    enableRelay?: pulumi.Input<boolean>;
    /**
     * The tasks' downstream password, required to change host/port, user, password or enableRelay while tasks
     * use the source (DM masks it).
     */
    downstreamPassword?: pulumi.Input<string | undefined>;
    /** Instances of the replication set by name, to name host:port in plans. */
    instances?: pulumi.Input<Record<string, pulumi.Input<AddressInputs>>>;
    /** TLS of dm-switch's connections to host:port (the policy pack's probe); secret when it holds a key. @default no TLS */
    tls?: pulumi.Input<MysqlTlsInputs>;
    /** Delete the source even while tasks use it. @default false */
    deleteWithTasks?: pulumi.Input<boolean>;
}

export class SourceBinding extends SwitchingResource {
    declare readonly host: pulumi.Output<string>;
    declare readonly port: pulumi.Output<number>;

    constructor(name: string, args: SourceBindingArgs, opts?: pulumi.CustomResourceOptions) {
        const kind = {
            module: require.resolve("./providers/sourceBindingProvider"),
            type: "SourceBinding",
            outputs: ["stoppedTasks"],
            secret: ["stoppedTasks", "passwordDigest", "sourceFile"],
        };
        const secrets = {
            ...(args.instances !== undefined ? { instances: secretWhenTlsKeyed(args.instances) } : {}),
            ...(args.tls !== undefined ? { tls: secretWhenTlsKeyed({ tls: args.tls }).apply((t) => t.tls) } : {}),
            downstreamPassword: args.downstreamPassword === undefined ? undefined : secret(args.downstreamPassword),
        };
        super(kind, name, { enableGtid: true, ...args, ...secrets }, opts);
    }
}
