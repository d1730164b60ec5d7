/**
 * dm-target-prerequisites: the instance a source reads from must be able to serve DM — GTID mode and
 * enforce_gtid_consistency (MySQL), log_slave_updates/log_replica_updates, ROW binlog format, the
 * flavor DM's source declares — and belong to the replication set DM reads from now.
 */
import { Check, dmSwitchPolicy, mustNotRead, Outcome, unprovableMessage } from "./run";

/** The violations of one resource's outcome (pure). */
export const checkTargetPrerequisites: Check = (o: Outcome): string[] => {
    if ("unprovable" in o) {
        return [unprovableMessage(o.unprovable)];
    }
    return [...o.report.sourceReasons, ...o.report.targetReasons].map((r) => mustNotRead(o.subject, r));
};

/** The policy (mandatory by default). */
export const targetPrerequisites = dmSwitchPolicy({
    name: "dm-target-prerequisites",
    description:
        "The instance a DM source reads from must have GTID on, log_slave_updates, ROW binlogs, and belong to the source's replication set.",
    check: checkTargetPrerequisites,
});
