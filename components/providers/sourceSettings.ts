/**
 * The settings of a SourceBinding besides its address — `user`, `password`, `enableRelay`, `flavor` — and
 * how a change of them is told. DM cannot change a live source's settings: the source is stopped and
 * created again (operate-source stop → create), which DM refuses while tasks use it, so a change of
 * settings runs the address procedure at the same address (pause → check → stop-task → stop → create
 * from DM's own file with the new settings → start-task from the checkpoint). Pure, no @pulumi/* import.
 */
import type { SourceInfo } from "../dm";
import { CheckFailure, SourceBindingInputs, SourceBindingOutputs } from "./inputs";
import { digestMatches, passwordDigest } from "./passwordDigest";

/**
 * What a run knows of DM's source while it changes it: DM's configuration file read before the source
 * was stopped (password masked), and whether the source has been created again with the inputs' settings.
 */
export interface KeptSource {
    file?: string;
    created: boolean;
}

const relayOf = (i: { enableRelay?: boolean } | undefined) => i?.enableRelay === true;

/**
 * The settings in which DM's source (`live`, as the last run left it: `olds`) differs from the inputs, in
 * the order user, password, enableRelay. `user` is DM's own; the password is compared through the digest
 * the last run kept (none kept: not known to differ); relay through the last run's inputs (DM's own view
 * mixes relay started by start-relay with the configuration's enable-relay).
 */
export function settingsChanges(
    inputs: SourceBindingInputs,
    live: Pick<SourceInfo, "user">,
    olds: SourceBindingOutputs | undefined,
): string[] {
    const out: string[] = [];
    if (live.user !== inputs.user) {
        out.push("user");
    }
    if (digestMatches(olds?.passwordDigest, inputs.password) === false) {
        out.push("password");
    }
    if (olds !== undefined && relayOf(olds) !== relayOf(inputs)) {
        out.push("enableRelay");
    }
    return out;
}

/** The same, for the preview (`check`): from the last run's inputs, which hold the old password as a secret. */
export function settingsChangesOfInputs(
    olds: Partial<SourceBindingInputs> | undefined,
    news: SourceBindingInputs,
): string[] {
    if (olds?.user === undefined) {
        return [];
    }
    return [
        ...(olds.user !== news.user ? ["user"] : []),
        ...(typeof olds.password === "string" && olds.password !== news.password ? ["password"] : []),
        ...(relayOf(olds) !== relayOf(news) ? ["enableRelay"] : []),
    ];
}

/**
 * A flavor change is refused: DM parses GTID sets by the source's flavor and the tasks' checkpoints hold
 * them in the old one's form, and an upstream server does not change its kind — a different flavor means
 * the old one was declared wrong, or another server.
 */
export function flavorFailure(
    olds: Partial<SourceBindingInputs> | undefined,
    news: SourceBindingInputs,
): CheckFailure | undefined {
    if (olds?.flavor === undefined || olds.flavor === news.flavor) {
        return undefined;
    }
    return {
        property: "flavor",
        reason:
            `flavor cannot change from ${JSON.stringify(olds.flavor)} to ${JSON.stringify(news.flavor)} on the live DM source ${news.sourceId}: ` +
            `its tasks' checkpoints hold GTID sets in the ${olds.flavor} form and a server does not change its kind. ` +
            `Set flavor back to ${JSON.stringify(olds.flavor)}; to read from a server of the other kind, remove this source (and its tasks) from the stack and declare a new one`,
    };
}

/** Whether `diff` sees a new password: against the digest the last run kept (none: not known, no change). */
export function passwordChanged(olds: SourceBindingOutputs, news: SourceBindingInputs): boolean {
    return typeof news.password === "string" && digestMatches(olds.passwordDigest, news.password) === false;
}

/**
 * The settings a failed run's state records: the inputs' once the source was created again with them,
 * else what DM still has (the last run's password digest and relay, DM's user), so that the next run
 * sees the change as still to do. `sourceFile` while the source is stopped and not created again.
 */
export function settingsOfPartialState(
    inputs: SourceBindingInputs,
    olds: SourceBindingOutputs | undefined,
    live: Pick<SourceInfo, "user"> | undefined,
    kept: KeptSource,
): Partial<SourceBindingOutputs> {
    const file = kept.created || kept.file === undefined ? {} : { sourceFile: kept.file };
    if (kept.created || live === undefined) {
        return { passwordDigest: passwordDigest(inputs.password), ...file };
    }
    return {
        user: live.user,
        passwordDigest: olds?.passwordDigest,
        enableRelay: olds ? olds.enableRelay : inputs.enableRelay,
        ...file,
    };
}
