/**
 * The dm-switch stack: DM sources and the instances they read from, from stack configuration.
 * Switching a source = changing its `reads` in Pulumi.<stack>.yaml and running `pulumi up`.
 */
// Pulumi's modules one by one (see components/source.ts).
import { Config } from "@pulumi/pulumi/config";
import { RunError } from "@pulumi/pulumi/errors";
import { all, type Output } from "@pulumi/pulumi/output";
// Not the ./components barrel: it loads the hooked VIPs' providers (@pulumi/aws, @pulumi/command) every stack would pay for.
import { Source } from "./components/source";
import { StackConfig, validateStackConfig, vipOf } from "./components/stackConfig";

// Pulumi's program host formats a stack trace, through source maps, for every promise it makes (its leak
// report): ≈ 1 s of a 50-source preview. V8's own format costs next to nothing; dm-switch's errors say
// what went wrong in words, and a crash still shows where (positions in the code tsx compiled).
Reflect.deleteProperty(Error, "prepareStackTrace");
process.setSourceMapsEnabled(false);

const config = new Config("dm-switch");
const raw = {
    dm: config.getObject("dm"),
    instances: config.getObject("instances"),
    sources: config.getObject("sources"),
};
// Which keys were set with --secret (the SDK keeps that internal): a TLS key anywhere else is plaintext in the stack file.
const { isConfigSecret } = require("@pulumi/pulumi/runtime/config") as { isConfigSecret: (key: string) => boolean };
const secretKeys = Object.keys(raw).filter((k) => isConfigSecret(`dm-switch:${k}`));
const errors = validateStackConfig(raw, secretKeys);
if (errors.length > 0) {
    throw new RunError(`the stack configuration is not usable:\n- ${errors.join("\n- ")}`);
}
const stack = raw as StackConfig;
const passwords = config.requireSecretObject<Record<string, string>>("passwords");
/** A TLS client key for dm-master: a secret of its own, merged into the DM endpoint (which then is secret as a whole). */
const tlsKey = config.getSecret("dmTlsKey");
const dm = tlsKey ? all([stack.dm, tlsKey]).apply(([d, key]) => ({ ...d, tls: { ...d.tls, key } })) : stack.dm;
/** The tasks' downstream password: address-mode switches start tasks again with it (DM masks it). */
const downstreamPassword = config.getSecret("downstreamPassword")?.apply((p) => (p === "" ? undefined : p));

export const sources: Record<string, Output<string>> = {};
for (const s of stack.sources) {
    const password = passwords.apply((p) => {
        if (typeof p?.[s.id] !== "string") {
            throw new RunError(
                `dm-switch:passwords has no entry for source ${s.id}: run 'pulumi config set --secret --path "dm-switch:passwords.${s.id}" <password>'`,
            );
        }
        return p[s.id];
    });
    const source = new Source(s.id, {
        dm,
        sourceId: s.id,
        flavor: s.flavor,
        user: s.user,
        password,
        downstreamPassword,
        instances: stack.instances,
        reads: s.reads,
        tasks: s.tasks,
        enableRelay: s.enableRelay,
        vip: vipOf(s),
        stageTimeoutMs: s.stageTimeoutMs,
        catchUpTimeoutMs: s.catchUpTimeoutMs,
        advanceTimeoutMs: s.advanceTimeoutMs,
    });
    sources[s.id] = source.reads;
}
