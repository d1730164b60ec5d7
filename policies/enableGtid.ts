/**
 * dm-enable-gtid: a DM source must run in GTID mode (`enable-gtid: true`): DM can switch a source to
 * another instance of the replication set only by GTID. Checked on the resource's own input
 * (SourceBinding `enableGtid`) and on DM's configuration of the source.
 */
import { Check, dmSwitchPolicy, Outcome, unprovableMessage } from "./run";

/** The violations of one resource's outcome (pure). */
export const checkEnableGtid: Check = (o: Outcome): string[] => {
    if ("unprovable" in o) {
        return [unprovableMessage(o.unprovable)];
    }
    const out: string[] = [];
    const input = o.subject.enableGtidInput;
    if (input !== undefined && input !== true) {
        out.push(
            `DM source ${o.subject.sourceId} must run with enable-gtid: true (${o.subject.resource} sets enableGtid: ${JSON.stringify(input)}): DM can switch instances only in GTID mode; set enableGtid: true.`,
        );
    }
    return [...out, ...o.report.enableGtidReasons];
};

/** The policy (mandatory by default). */
export const enableGtid = dmSwitchPolicy({
    name: "dm-enable-gtid",
    description: "A DM source must run with enable-gtid: true: DM switches instances only by GTID.",
    check: checkEnableGtid,
});
