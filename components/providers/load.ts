/**
 * Dynamic providers that load their implementation at run time.
 *
 * Pulumi serializes a dynamic provider's closures into the state and runs them in its provider host,
 * a plain Node process started in the project folder. Serializing our implementation (DM client,
 * mysql2, AWS SDK) would be fragile and large, so the serialized provider captures one path, relative
 * to the project, and on each call registers TypeScript support (tsx) and requires the implementation
 * by that path. A relative path keeps the state valid when the project is checked out elsewhere (CI).
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";

/** The provider-host key under which Pulumi keeps the serialized provider in a resource's state. */
const PROVIDER_KEY = "__provider";

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

type AnyProvider = pulumi.dynamic.ResourceProvider<Record<string, unknown>, Record<string, unknown>>;

/**
 * One provider object per module: Pulumi serializes a dynamic provider once per object (its cache is keyed
 * by the object), and serializing costs tens of milliseconds, so a stack of many sources shares them.
 */
const loaded = new Map<string, pulumi.dynamic.ResourceProvider>();

/** Makes a dynamic provider whose every method is delegated to `export const provider` of `modulePath`. */
export function loadProvider(modulePath: string): pulumi.dynamic.ResourceProvider {
    const relative = path.relative(process.cwd(), modulePath);
    if (!loaded.has(relative)) {
        loaded.set(relative, delegateTo(relative));
    }
    return loaded.get(relative)!;
}

function delegateTo(relative: string): pulumi.dynamic.ResourceProvider {
    const impl = (): AnyProvider => {
        const here = process.cwd();
        // TypeScript support once per provider host process; the module itself comes from require's cache after the first call.
        const g = globalThis as { dmSwitchTsx?: boolean };
        if (!g.dmSwitchTsx) {
            require(require.resolve("tsx/cjs/api", { paths: [here] })).register();
            g.dmSwitchTsx = true;
        }
        return require(require.resolve(`./${relative}`, { paths: [here] })).provider;
    };
    // The engine keeps an update's or create's partial state only when the error carries the id, the
    // properties and the serialized provider (pulumi's dynamic provider host reads `id`/`properties`).
    // The engine's wire format (protobuf Struct) rejects `undefined`: results travel as plain JSON data.
    const plain = <T>(value: T): T => (value === undefined ? value : JSON.parse(JSON.stringify(value)));
    const withPartialState = async <T>(news: Record<string, unknown>, call: () => Promise<T>): Promise<T> => {
        try {
            return await call();
        } catch (err) {
            if (err instanceof Error && err.name === "PartialStateError") {
                const e = err as PartialStateError;
                throw Object.assign(new Error(e.message), {
                    id: e.id,
                    properties: plain({ ...e.properties, [PROVIDER_KEY]: news[PROVIDER_KEY] }),
                    reasons: [e.message],
                });
            }
            throw err;
        }
    };
    return {
        check: async (olds, news) => {
            const p = impl();
            return p.check ? plain(await p.check(olds, news)) : { inputs: news };
        },
        diff: async (id, olds, news) => {
            const p = impl();
            return p.diff ? p.diff(id, olds, news) : {};
        },
        create: (inputs) => withPartialState(inputs, async () => plain(await impl().create(inputs))),
        read: async (id, props) => {
            const p = impl();
            return p.read ? plain(await p.read(id, props)) : { id, props };
        },
        update: (id, olds, news) =>
            withPartialState(news, async () => {
                const p = impl();
                return p.update ? plain(await p.update(id, olds, news)) : { outs: news };
            }),
        delete: async (id, props) => {
            const p = impl();
            if (p.delete) {
                await p.delete(id, props);
            }
        },
    };
}

/**
 * dm-master's endpoint as a resource input: secret as a whole when it holds a TLS client key, so that
 * the key is encrypted in the state (`additionalSecretOutputs` covers outputs only, not inputs).
 */
export function secretWhenKeyed<T extends { tls?: { key?: string } }>(dm: pulumi.Input<T>): pulumi.Output<T> {
    return pulumi.output(dm).apply((d) => (d.tls?.key ? pulumi.secret(d) : pulumi.output(d))) as pulumi.Output<T>;
}
