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
    ) {
        super(
            `pulumi-nodejs:dynamic/dm-switch:${type}`,
            name,
            { ...props, __provider: providerText(modulePath) },
            opts,
        );
    }
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
