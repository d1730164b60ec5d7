/**
 * The preflight's decision, from facts already gathered: may DM source S switch to target T now, and
 * if not, why. Pure: no I/O, no @pulumi/* import; ./index.ts gathers the facts and calls this.
 *
 * The rule is DM's (seed steps 1–4): for every task of the source, gtid-S ⊇ gtid-P and gtid-E ⊇ gtid-S,
 * decided by the one implementation in components/gtid. A task must be in the Sync unit and free of
 * errors, else gtid-S is not a position DM can resume from.
 */
import { DmVersion, gtidTags, taggedGtidRefusals } from "../dm/capabilities";
import { checkSwitch } from "../gtid";
import type { SourceConfigInfo, SourceInfo, SubtaskStatus } from "../dm/types";
import type { ServerFacts } from "../mysql/types";
import type { Flavor } from "../model";

/** The GTID rule's verdict for one task (components/gtid `checkSwitch`). */
export type GtidVerdict = ReturnType<typeof checkSwitch>;

/** Stages in which a subtask's checkpoint is a position DM resumes from after the switch. */
const SWITCHABLE_STAGES = new Set(["Running", "Paused", "Stopped"]);

/** What ./index.ts gathered, in parallel, from DM and from the target. */
export interface PreflightFacts {
    sourceId: string;
    flavor: Flavor;
    /** The target instance's name (for messages). */
    target: string;
    /** The target's `host:port`. */
    targetAddress: string;
    /** DM's configuration of the source (its status, if read, is not used); undefined when DM has no source with this id. */
    source?: SourceConfigInfo | SourceInfo;
    /**
     * Tasks that were asked for explicitly; undefined = every task DM lists for the source. The list cannot
     * narrow the checks: DM's procedure pauses every task of the source, so a list that is empty or omits a
     * task DM runs on the source is refused, and every task is checked.
     */
    requestedTasks?: string[];
    /**
     * The dm-master asked, when DM must know the source (a VIP about to move: every task reading through it
     * must be paused); undefined when a source DM does not know is not a reason (a SourceBinding creates it,
     * or the VIP already points at the target).
     */
    requireSourceAt?: string;
    /** Each task with its subtask on the source; `status` undefined when the task has none there. */
    tasks: { task: string; status?: SubtaskStatus }[];
    /** The target's facts, as components/mysql `probe` read them. */
    facts: ServerFacts;
    /** Unmet target prerequisites, each a sentence with its remedy (components/mysql `targetPrerequisites`). */
    prerequisites: string[];
    /**
     * Whether the target belongs to the replication set of the instance DM reads from now; undefined
     * when that instance was not given (nothing to compare with).
     */
    sameReplicationSet?: { same: boolean; current: string; reason?: string };
    /** The bounded wait for a lagging target, when one was made. */
    catchUp?: CatchUp;
    /**
     * gtid_executed of the server DM reads from now, named for messages (MySQL: its tagged GTIDs are
     * refused as the target's are). @default undefined (not read)
     */
    upstream?: { side: string; gtidSet: string };
    /**
     * What dm-master says it is (components/dm `readDmVersion`), read when a MySQL set holds tagged GTIDs:
     * whether this DM applies them. @default undefined (not read, or unreadable: no DM is assumed to)
     */
    dmVersion?: DmVersion;
}

/** The version a refusal names when dm-master's could not be read. */
const UNREAD_DM: DmVersion = { release: "(version unreadable)", gitHash: "" };

/** The bounded wait for a lagging target to execute gtid-S. */
export interface CatchUp {
    timeoutMs: number;
    waitedMs: number;
    caughtUp: boolean;
}

/** One task's part of the report. */
export interface PreflightTask {
    task: string;
    /** DM's stage of the subtask on the source ("" when the task has no subtask there). */
    stage: string;
    /** DM's processing unit (Sync, Load, Dump…), "" when unknown. */
    unit: string;
    /** gtid-S: the syncer's checkpoint GTID set, as DM reported it. */
    syncerGtid: string;
    /** The GTID rule's verdict; undefined when the task is not in a state the rule applies to. */
    verdict?: GtidVerdict;
    /** Whether this task allows the switch. */
    ok: boolean;
    /** Why not, one sentence each; empty when ok. */
    reasons: string[];
}

/** Whether the switch is allowed and why, changing nothing. */
export interface PreflightReport {
    ok: boolean;
    sourceId: string;
    target: string;
    targetAddress: string;
    /** False when DM has no such source: there is no replication to protect yet. */
    sourceExists: boolean;
    /** DM's `enable-gtid` for the source; undefined when DM has no such source. */
    enableGtid?: boolean;
    tasks: PreflightTask[];
    /** The target's facts (never a password). */
    facts: ServerFacts;
    /** Unmet target prerequisites with their remedies; empty when all hold. */
    prerequisites: string[];
    sameReplicationSet?: PreflightFacts["sameReplicationSet"];
    catchUp?: CatchUp;
    /** Why DM's source is not in GTID mode (enable-gtid: false); empty when it is or does not exist. */
    enableGtidReasons: string[];
    /** Reasons about DM's configuration of the source other than enable-gtid (flavor). */
    sourceReasons: string[];
    /** Reasons about the target (flavor, prerequisites, replication set). */
    targetReasons: string[];
    /** Reasons about the `tasks` list (empty, or omitting a task DM runs on the source). */
    taskListReasons: string[];
    /** Every reason the switch is not allowed, one sentence each (source, tasks, target); empty when ok. */
    reasons: string[];
}

/** The verdict of one task, with the rule applied only when the subtask is where DM can resume from. */
export function decideTask(f: PreflightFacts, t: PreflightFacts["tasks"][number]): PreflightTask {
    const where = `task ${t.task}`;
    const s = t.status;
    if (!s) {
        const listed = f.source?.taskNames.length ? f.source.taskNames.join(", ") : "none";
        return {
            task: t.task,
            stage: "",
            unit: "",
            syncerGtid: "",
            ok: false,
            reasons: [
                `${where} has no subtask on DM source ${f.sourceId} (DM lists: ${listed}): correct the tasks list.`,
            ],
        };
    }
    const base = { task: t.task, stage: s.stage, unit: s.unit, syncerGtid: s.syncerBinlogGtid };
    const reasons: string[] = [];
    if (s.errors.length > 0) {
        reasons.push(
            `${where} has errors (${s.errors.join("; ")}): resolve them (dmctl query-status ${t.task}) before switching.`,
        );
    }
    if (s.stage === "Offline") {
        reasons.push(
            `${where} is Offline: its dm-worker cannot be reached, so gtid-S cannot be read; bring the source's dm-worker online, then check again.`,
        );
    } else if (!SWITCHABLE_STAGES.has(s.stage)) {
        reasons.push(
            `${where} is ${s.stage} (DM printed "${s.rawStage}"): wait until it is Running or Paused, then check again.`,
        );
    }
    // An Offline subtask reports no unit: the reason above says all there is to say.
    if (s.unit !== "Sync" && s.stage !== "Offline") {
        reasons.push(
            `${where} is in the ${s.unit || "unknown"} unit, not Sync: a source can switch only while its tasks replicate incrementally; wait until the task reaches Sync.`,
        );
    }
    if (reasons.length > 0) {
        return { ...base, ok: false, reasons };
    }
    const verdict = checkSwitch({
        flavor: f.flavor,
        syncer: s.syncerBinlogGtid,
        purged: f.facts.gtidPurged,
        executed: f.facts.gtidExecuted,
    });
    const after =
        f.catchUp && verdict.syncerNotInExecuted !== ""
            ? ` (after waiting ${f.catchUp.waitedMs} ms for ${f.target} to catch up)`
            : "";
    return { ...base, verdict, ok: verdict.ok, reasons: verdict.reasons.map((r) => `${where}${after}: ${r}`) };
}

/** The whole report. `ok` only when DM's source, every task and the target allow the switch. */
export function decide(f: PreflightFacts): PreflightReport {
    const enableGtidReasons: string[] = [];
    const sourceReasons: string[] = [];
    const s = f.source;
    if (!s && f.requireSourceAt !== undefined) {
        sourceReasons.push(
            `DM at ${f.requireSourceAt} has no source ${f.sourceId}: the VIP cannot move before every task reading through it is paused; check sourceId and dm.address ('dmctl --master-addr ${f.requireSourceAt} operate-source show').`,
        );
    }
    if (s && !s.enableGtid) {
        enableGtidReasons.push(
            `DM source ${f.sourceId} runs with enable-gtid: false: DM can switch instances only in GTID mode; recreate the source with enable-gtid: true.`,
        );
    }
    if (s && s.flavor !== "" && s.flavor.toLowerCase() !== f.flavor) {
        sourceReasons.push(
            `DM source ${f.sourceId} has flavor ${s.flavor}, not ${f.flavor}: set flavor to "${s.flavor.toLowerCase()}".`,
        );
    }
    const targetReasons: string[] = [];
    if (f.facts.flavor !== f.flavor) {
        targetReasons.push(
            `target ${f.target} (${f.targetAddress}) is ${f.facts.flavor}, not ${f.flavor}: set flavor to "${f.facts.flavor}" or choose another target.`,
        );
    }
    targetReasons.push(...f.prerequisites.map((p) => `target ${f.target} (${f.targetAddress}): ${p}`));
    if (f.flavor === "mysql") {
        // MySQL ≥ 8.4 tagged GTIDs: DM at the builds seen drops such transactions silently (components/dm/capabilities.ts).
        const sets = [
            ...(f.upstream ? [f.upstream] : []),
            { side: `target ${f.target} (${f.targetAddress})`, gtidSet: f.facts.gtidExecuted },
        ];
        targetReasons.push(...taggedGtidRefusals(f.dmVersion ?? UNREAD_DM, sets));
    }
    const same = f.sameReplicationSet;
    if (same && !same.same) {
        targetReasons.push(
            `target ${f.target} (${f.targetAddress}) is not in the replication set of ${same.current}${same.reason ? ` (${same.reason})` : ""}: DM can switch only between instances of one replication set; choose one of them.`,
        );
    }
    const taskListReasons = taskListProblems(f);
    const tasks = f.tasks.map((t) => decideTask(f, t));
    const reasons = [
        ...enableGtidReasons,
        ...sourceReasons,
        ...taskListReasons,
        ...tasks.flatMap((t) => t.reasons),
        ...targetReasons,
    ];
    return {
        ok: reasons.length === 0,
        sourceId: f.sourceId,
        target: f.target,
        targetAddress: f.targetAddress,
        sourceExists: s !== undefined,
        enableGtid: s?.enableGtid,
        tasks,
        facts: f.facts,
        prerequisites: f.prerequisites,
        sameReplicationSet: same,
        catchUp: f.catchUp,
        enableGtidReasons,
        sourceReasons,
        targetReasons,
        taskListReasons,
        reasons,
    };
}

/** An explicit `tasks` list that would leave a task of the source out of the procedure. */
function taskListProblems(f: PreflightFacts): string[] {
    const asked = f.requestedTasks;
    if (asked === undefined) {
        return [];
    }
    const remedy = "DM's procedure pauses every task of the source: list every task, or leave tasks out";
    if (asked.length === 0) {
        return [`the tasks list of DM source ${f.sourceId} is empty: ${remedy}.`];
    }
    const omitted = (f.source?.taskNames ?? []).filter((t) => !asked.includes(t));
    return omitted.length === 0
        ? []
        : [`the tasks list of DM source ${f.sourceId} omits ${omitted.join(", ")}, which DM runs on it: ${remedy}.`];
}

/** Every task to check: those DM lists for the source and those asked for (a task DM does not list is refused by decideTask). */
export function tasksToCheck(
    source: SourceConfigInfo | SourceInfo | undefined,
    requested: string[] | undefined,
): string[] {
    const all = [...(source?.taskNames ?? [])];
    for (const t of requested ?? []) {
        if (!all.includes(t)) {
            all.push(t);
        }
    }
    return all;
}

/**
 * gtid-S of each task worth waiting for: when the only thing wrong is that the target lags (it lacks
 * part of gtid-S and nothing it needs is purged), a bounded wait may make the switch allowed. Empty when
 * waiting cannot help (any other reason) or nothing lags.
 */
export function catchUpTargets(report: PreflightReport): string[] {
    const lagging = report.tasks.filter(
        (t) => t.verdict && !t.verdict.ok && t.verdict.purgedNotInSyncer === "" && t.verdict.syncerNotInExecuted !== "",
    );
    const lagReasons = lagging.reduce((n, t) => n + t.reasons.length, 0);
    if (lagging.length === 0 || lagReasons !== report.reasons.length) {
        return [];
    }
    return lagging.map((t) => t.syncerGtid);
}

/** Whether DM's version matters to the decision: a MySQL set holding tagged GTIDs (read it only then). */
export function needsDmVersion(flavor: string, ...gtidSets: (string | undefined)[]): boolean {
    return flavor === "mysql" && gtidSets.some((g) => g !== undefined && gtidTags(g).length > 0);
}
