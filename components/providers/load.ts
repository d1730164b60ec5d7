/**
 * Dynamic providers that load their implementation at run time.
 *
 * Pulumi serializes a dynamic provider's closures into the state and runs them in its provider host,
 * a plain Node process. Serializing our whole implementation (DM client, mysql2, AWS SDK) would be
 * fragile and large, so the serialized provider captures two absolute paths only and, on each call,
 * registers TypeScript support (tsx) and requires the implementation module by path.
 */
import * as pulumi from "@pulumi/pulumi";

/** Makes a dynamic provider whose every method is delegated to `export const provider` of `modulePath`. */
export function loadProvider<T>(modulePath: string): pulumi.dynamic.ResourceProvider<T> {
    const tsxApi = require.resolve("tsx/cjs/api");
    const impl = (): pulumi.dynamic.ResourceProvider<T> => {
        require(tsxApi).register();
        return require(modulePath).provider;
    };
    return {
        check: (olds, news) => (impl().check ? impl().check!(olds, news) : Promise.resolve({ inputs: news })),
        diff: (id, olds, news) => (impl().diff ? impl().diff!(id, olds, news) : Promise.resolve({})),
        create: (inputs) => impl().create(inputs),
        read: (id, props) => (impl().read ? impl().read!(id, props) : Promise.resolve({ id, props })),
        update: (id, olds, news) => (impl().update ? impl().update!(id, olds, news) : Promise.resolve({ outs: news })),
        delete: (id, props) => (impl().delete ? impl().delete!(id, props) : Promise.resolve()),
    };
}
