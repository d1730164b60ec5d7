/**
 * dm-gtid-containment: DM's rule for every task of the source — gtid-S ⊇ gtid-P (DM still has
 * everything the target purged) and gtid-E ⊇ gtid-S (the target executed everything DM replicated) —
 * with each task in the Sync unit and free of errors, and a `tasks` list that leaves none of them out. It holds in steady state too, so it also guards
 * stacks that are not switching. A lagging target gets one bounded wait (config `catchUpTimeoutMs`).
 */
import { Check, dmSwitchPolicy, mustNotRead, Outcome, unprovableMessage } from "./run";

/** The violations of one resource's outcome (pure). */
export const checkGtidContainment: Check = (o: Outcome): string[] => {
    if ("unprovable" in o) {
        return [unprovableMessage(o.unprovable)];
    }
    return [...o.report.taskListReasons, ...o.report.tasks.flatMap((t) => t.reasons)].map((r) =>
        mustNotRead(o.subject, r),
    );
};

/** The policy (mandatory by default). */
export const gtidContainment = dmSwitchPolicy({
    name: "dm-gtid-containment",
    description:
        "Every task of a DM source must have gtid-S ⊇ gtid-P and gtid-E ⊇ gtid-S against the instance the source reads from.",
    check: checkGtidContainment,
    withCatchUp: true,
});
