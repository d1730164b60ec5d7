/**
 * Dynamic resources whose provider loads its implementation at run time.
 *
 * Pulumi keeps a dynamic resource's provider as JavaScript text in the state and runs it in its provider
 * host, a plain Node process started in the project folder. Our implementation (DM client, mysql2, AWS
 * SDK) is far too large to travel that way, so the text is host.cjs: a few lines that register TypeScript
 * support (tsx) and require the implementation by a path relative to the project (the state stays valid
 * when the project is checked out elsewhere, as in CI). The text is written here, not made by
 * `pulumi.dynamic.Resource`'s closure serializer: loading that serializer alone (≈ 570 modules) costs
 * each preview and update about half a second.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { output, secret, type Output } from "@pulumi/pulumi/output";
import { CustomResource } from "@pulumi/pulumi/resource";
import type { DmEndpointInputs, Flavor, SwitchTimeouts } from "../model";
import type { LastSwitch } from "./inputs";

/**
 * An error after which the resource is in a state worth recording (for example: tasks paused, VIP
 * moved). The engine stores `properties` as the resource's outputs, so the next `pulumi up` sees them.
 */
export class PartialStateError extends Error {
    constructor(
        message: string,
        readonly id: string,
        readonly properties: Record<string, unknown>,
    ) {
        super(message);
        this.name = "PartialStateError";
    }
}

let hostText: string | undefined;

/** The provider text for the implementation at `modulePath` (`export const provider`), as the provider host evaluates it. */
export function providerText(modulePath: string): string {
    hostText ??= fs.readFileSync(path.join(__dirname, "host.cjs"), "utf8");
    const relative = path.relative(process.cwd(), modulePath);
    return `${hostText}\nexports.handler = () => exports.delegateTo(${JSON.stringify(relative)});\n`;
}

/** What a {@link DelegatedResource} declares beyond its inputs. */
export interface DelegatedOutputs {
    /** Outputs the provider writes that are no input: declared by name (undefined inputs) so that they can be read. @default none */
    outputs?: string[];
    /** Outputs to encrypt in the state, before the options' own `additionalSecretOutputs`. @default none */
    secret?: string[];
}

/**
 * `pulumi-nodejs:dynamic/dm-switch:<type>`, served by Pulumi's dynamic provider host with the provider
 * exported by `modulePath` — what `pulumi.dynamic.Resource` registers, with the provider given as text.
 */
export abstract class DelegatedResource extends CustomResource {
    constructor(
        modulePath: string,
        type: string,
        name: string,
        props: pulumi.Inputs,
        opts?: pulumi.CustomResourceOptions,
        declared: DelegatedOutputs = {},
    ) {
        const outputs = Object.fromEntries((declared.outputs ?? []).map((k) => [k, undefined]));
        const secrets = declared.secret ?? [];
        super(
            `pulumi-nodejs:dynamic/dm-switch:${type}`,
            name,
            { ...props, ...outputs, __provider: providerText(modulePath) },
            secrets.length > 0
                ? { ...opts, additionalSecretOutputs: [...secrets, ...(opts?.additionalSecretOutputs ?? [])] }
                : opts,
        );
    }
}

/**
 * A resource whose change runs DM's switch procedure (Vip, SourceBinding): its source's endpoint and
 * password as secrets (see {@link sourceSecrets}; the endpoint encrypted in the outputs too), and what the
 * provider records of the switch.
 */
export abstract class SwitchingResource extends DelegatedResource {
    /** Tasks a failed switch left paused (or stopped); the next `pulumi up` resumes (starts) them. */
    declare readonly pausedByUs: Output<string[]>;
    declare readonly lastSwitch: Output<LastSwitch | undefined>;
    /** The steps the next switch will run, in dmctl words. */
    declare readonly plan: Output<string[]>;

    /** `kind`: the provider module (`require.resolve`d), the type, and the resource's own outputs. */
    protected constructor(
        kind: { module: string; type: string } & DelegatedOutputs,
        name: string,
        args: SourceResourceArgs & pulumi.Inputs,
        opts?: pulumi.CustomResourceOptions,
    ) {
        super(kind.module, kind.type, name, { ...args, ...sourceSecrets(args) }, opts, {
            outputs: ["plan", "pausedByUs", "lastSwitch", ...(kind.outputs ?? [])],
            secret: ["dm", ...(kind.secret ?? [])],
        });
    }
}

/** The three timeouts (../model.ts), each an Input. */
export type TimeoutInputs = { [K in keyof SwitchTimeouts]: pulumi.Input<SwitchTimeouts[K]> };

/** What a Vip or a SourceBinding says of its DM source. */
export interface SourceResourceArgs extends TimeoutInputs {
    /** dm-master's address and transport. */
    dm: pulumi.Input<DmEndpointInputs>;
    /** The DM source (`source-id`); changing it replaces the resource. */
    sourceId: pulumi.Input<string>;
    /** The upstream's kind; it cannot change on a live source. */
    flavor: pulumi.Input<Flavor>;
    /**
     * The MySQL user DM replicates with (a SourceBinding's: changing it re-creates the source in place), or
     * one that can read the GTID variables on every instance (a Vip's: usually the source's user).
     */
    user: pulumi.Input<string>;
    /**
     * That user's password; kept secret end to end (a SourceBinding's state holds a salted digest of it, to
     * see a rotation, which re-creates the source in place).
     */
    password: pulumi.Input<string>;
    /**
     * The source's tasks, as a check: every task DM runs on the source is paused (stopped) around a switch
     * whatever the list says, and a list that omits one is refused. @default every task of the source
     */
    tasks?: pulumi.Input<pulumi.Input<string>[]>;
}

/**
 * A source's dm-master endpoint and password as resource inputs: the password always secret, the endpoint
 * when it holds a TLS client key (see {@link secretWhenKeyed}).
 */
export function sourceSecrets<D extends { tls?: { key?: string } }>(a: {
    dm: pulumi.Input<D>;
    password: pulumi.Input<string>;
}): { dm: Output<D>; password: Output<string> } {
    return { dm: secretWhenKeyed(a.dm), password: secret(a.password) };
}

/**
 * dm-master's endpoint as a resource input: secret as a whole when it holds a TLS client key, so that
 * the key is encrypted in the state (`additionalSecretOutputs` covers outputs only, not inputs).
 */
export function secretWhenKeyed<T extends { tls?: { key?: string } }>(dm: pulumi.Input<T>): Output<T> {
    return output(dm).apply((d) => (d.tls?.key ? secret(d) : output(d))) as Output<T>;
}

/** True when `v` holds, at any depth, a `tls` object with a `key` (a TLS client key: a secret). */
export function holdsTlsKey(v: unknown): boolean {
    // Plain data only: an Output or a resource is not walked (they reference each other in cycles).
    if (
        typeof v !== "object" ||
        v === null ||
        ![Object.prototype, Array.prototype, null].includes(Object.getPrototypeOf(v))
    ) {
        return false;
    }
    const tls = (v as { tls?: { key?: unknown } }).tls;
    if (typeof tls === "object" && tls !== null && typeof tls.key === "string" && tls.key !== "") {
        return true;
    }
    return Object.values(v).some(holdsTlsKey);
}

/**
 * A resource input (the instances, an address) as a secret as a whole when it holds a MySQL TLS client
 * key, so that the key is encrypted in the state; unchanged otherwise (no diff for stacks without one).
 */
export function secretWhenTlsKeyed<T>(v: pulumi.Input<T>): Output<T> {
    return output(v).apply((d) => (holdsTlsKey(d) ? secret(d) : output(d))) as Output<T>;
}
