/**
 * The provider of dm-switch's dynamic resources, as Pulumi's dynamic provider host runs it.
 *
 * Pulumi keeps a dynamic resource's provider as JavaScript text in the resource's `__provider` input and
 * evaluates it in its provider host (a plain Node process started in the project folder) as a module
 * whose `exports.handler()` returns the provider. This file is that text, plain JavaScript, followed by
 * one line naming the implementation module (components/providers/load.ts `providerText`). It stays
 * small: every method registers TypeScript support (tsx) once per process and delegates to
 * `export const provider` of the module, found by a path relative to the project folder so the state
 * stays valid when the project is checked out elsewhere (CI).
 */
"use strict";

/** The provider-host key under which Pulumi keeps the provider text in a resource's inputs. */
const PROVIDER_KEY = "__provider";

/** The engine's wire format (protobuf Struct) rejects `undefined`: results travel as plain JSON data. */
function plain(value) {
    return value === undefined ? value : JSON.parse(JSON.stringify(value));
}

/** A provider whose every method is delegated to `export const provider` of the module at `relative`. */
function delegateTo(relative) {
    const impl = () => {
        const here = process.cwd();
        if (!globalThis.dmSwitchTsx) {
            require(require.resolve("tsx/cjs/api", { paths: [here] })).register();
            globalThis.dmSwitchTsx = true;
        }
        return require(require.resolve(`./${relative}`, { paths: [here] })).provider;
    };
    // The engine keeps an update's or create's partial state only when the error carries the id, the
    // properties and the provider text (the dynamic provider host reads `id`/`properties`).
    const withPartialState = async (news, call) => {
        try {
            return await call();
        } catch (err) {
            if (err instanceof Error && err.name === "PartialStateError") {
                throw Object.assign(new Error(err.message), {
                    id: err.id,
                    properties: plain({ ...err.properties, [PROVIDER_KEY]: news[PROVIDER_KEY] }),
                    reasons: [err.message],
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

exports.delegateTo = delegateTo;
