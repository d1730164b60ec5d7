/**
 * The report of a switch (./execute.ts) as the resources say it: the transactions written on a replica
 * target during the switch (looked for after the resume) and the warning about them.
 */
import type { SwitchPorts, SwitchReport } from "./types";

/** How much of a long GTID set a warning quotes. */
const QUOTE_MAX = 200;

/**
 * The warning for {@link SwitchReport.writtenOnTarget}: a replica target took writes of its own during the
 * switch, and DM at this build has lost rows of a server written by two servers. Undefined when there were
 * none.
 */
export function writtenOnTargetWarning(report: SwitchReport): string | undefined {
    const w = report.writtenOnTarget;
    if (w === undefined) {
        return undefined;
    }
    const gtids =
        w.gtids.length > QUOTE_MAX ? `${w.gtids.slice(0, QUOTE_MAX)}… (${w.gtids.length} characters)` : w.gtids;
    const who =
        w.replica === true
            ? `${w.target} replicates from another server and took writes of its own while the tasks were paused for the switch: ${gtids}`
            : `${w.target} took writes of its own while the tasks were paused for the switch (${gtids}), after none before; whether it replicates from another server cannot be read with the source's account`;
    return (
        `${who}. DM at this build has lost rows when the server it reads is written by two servers around a switch: check that these reached the downstream; ` +
        "keep writes off a replica during a switch, and before a failover stop writes on the old primary and let the target apply all of them (dm-switch's README, Known limits)"
    );
}

/**
 * Says {@link writtenOnTargetWarning} through `warn` when there is one; returns the field the resources'
 * `lastSwitch` output records it in (empty when nothing was written).
 */
export function warnWrittenOnTarget(report: SwitchReport, warn: (line: string) => void): { writtenOnTarget?: string } {
    const warning = writtenOnTargetWarning(report);
    if (warning === undefined) {
        return {};
    }
    warn(warning);
    return { writtenOnTarget: report.writtenOnTarget!.gtids };
}

/** The target read with the resume (or start-task): see {@link SwitchPorts.targetGtids}. */
export interface TargetAtResume {
    executed: string;
    server: string;
    replica: boolean | undefined;
}

/**
 * {@link SwitchReport.writtenOnTarget}: the target's own transactions from gtid-E at the check
 * (`executedAtCheck`) to `after`, its read at the resume (undefined when it could not be read). Never
 * throws: the switch is done by then, and a set that cannot be compared only leaves the question open
 * (said in the log).
 */
export function findWrittenOnTarget(
    ports: Pick<SwitchPorts, "writtenBy" | "log">,
    target: string,
    executedAtCheck: string,
    after: TargetAtResume | undefined,
): SwitchReport["writtenOnTarget"] {
    if (after === undefined) {
        ports.log(
            `${target} could not be read at the resume: transactions written on it during the switch were not looked for`,
        );
        return undefined;
    }
    try {
        const gtids = ports.writtenBy(executedAtCheck, after.executed, after.server);
        // Replication status unknown: a target with no transaction of its own at the check was not
        // being written, a replica as far as can be seen.
        const replica =
            gtids === ""
                ? false
                : (after.replica ?? (ports.writtenBy("", executedAtCheck, after.server) === "" ? undefined : false));
        return replica === false ? undefined : { target, gtids, replica };
    } catch (err) {
        ports.log(
            `transactions written on ${target} during the switch were not looked for: ${err instanceof Error ? err.message : String(err)}`,
        );
        return undefined;
    }
}
