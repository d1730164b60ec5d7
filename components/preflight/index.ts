/**
 * Preflight: the seed's steps 1–4 as code. Reads gtid-S from DM and gtid-P/gtid-E and the
 * prerequisites from the target — in parallel — and says whether DM source S may switch to the target
 * now, and why. It changes nothing: no pause, no write, read-only queries only.
 *
 * With the tasks Running, gtid-S is a snapshot that only grows: a target that lacks part of it now
 * gets one bounded wait to catch up. The apply-time re-check, with the tasks paused, is the providers'.
 */
import { createDmClient, DmClient, SourceConfigInfo, SubtaskStatus } from "../dm";
import {
    MysqlEndpoint,
    probe,
    ProbeError,
    sameServer,
    ServerFacts,
    targetPrerequisites,
    waitForCatchUp,
} from "../mysql";
import { DmEndpointInputs, Flavor, SwitchTimeouts, TIMEOUT_DEFAULTS } from "../model";
import { formatPlan, planAddressSwitch, planVipSwitch } from "../switch/plan";
import { statusOnSource } from "../dm/sourceStatus";
import { readDmVersion } from "../dm/version";
import {
    catchUpTargets,
    CatchUp,
    decide,
    needsDmVersion,
    PreflightFacts,
    PreflightReport,
    tasksToCheck,
} from "./decide";
import { judgeSameSet } from "./sameSet";

export { catchUpTargets, decide, decideTask, tasksToCheck } from "./decide";
export { judgeSameSet } from "./sameSet";
export type { CatchUp, GtidVerdict, PreflightFacts, PreflightReport, PreflightTask } from "./decide";

/** What to check: DM source `sourceId` switching to `target`. */
/** `catchUpTimeoutMs`: the bounded wait for a lagging target (0: no wait). */
export interface PreflightArgs extends Pick<SwitchTimeouts, "catchUpTimeoutMs"> {
    /** dm-master and how to reach it. */
    dm: DmEndpointInputs;
    sourceId: string;
    flavor: Flavor;
    /** The instance the source would read from, with a user allowed to read its GTID variables. */
    target: MysqlEndpoint & { name: string };
    /**
     * The instance (or VIP) DM reads from now: when given, the target must be in its replication set.
     * @default undefined (no comparison)
     */
    current?: MysqlEndpoint & { name?: string };
    /**
     * Without `current`: compare with the address DM's source is registered at (read from DM), when it
     * differs from the target's, using the target's user. @default false
     */
    currentFromDm?: boolean;
    /**
     * The resource's `tasks` list: it cannot narrow the checks (every task DM runs on the source is checked)
     * and is refused when empty or when it omits one of them. @default undefined (every task DM lists)
     */
    tasks?: string[];
    /**
     * DM must know the source unless `current` is the target itself (a VIP: moving it needs every task
     * reading through it paused; a SourceBinding creates its source). @default false
     */
    requireSource?: boolean;
    /** Also return the steps the switch would run, in dmctl words. @default undefined (no steps) */
    mode?: "vip" | "address";
    /** A DM client to use instead of one made from `dm` (tests, or a caller that already has one). @default undefined */
    dmClient?: DmClient;
    /**
     * Reads the facts of the target and of the current instance (a pass of checks over one deployment
     * shares one probe per instance: policies/run.ts). The re-probe after a catch-up wait always reads
     * the server itself. @default components/mysql `probe`
     */
    probe?: (ep: MysqlEndpoint) => Promise<ServerFacts>;
}

/** The report, plus the steps of the switch when `mode` was given. */
export interface PreflightResult extends PreflightReport {
    /** The switch's steps in dmctl words; undefined unless `mode` was given. */
    steps?: string[];
}

/** Which side could not be read. */
export type PreflightSide = "dm" | "target" | "current";

/**
 * The preflight could not gather its facts, so nothing can be said about safety. `kind` tells
 * "cannot reach" (network, timeouts, a failing server) from "bad input" (wrong password, bad address).
 */
export class PreflightError extends Error {
    constructor(
        message: string,
        readonly kind: "unreachable" | "bad-input",
        /** Every side that failed. */
        readonly sides: PreflightSide[],
    ) {
        super(message);
        this.name = "PreflightError";
    }
}

/** mysql2/Node error codes that are the caller's to fix (user, password, grants, host name), not reachability. */
const BAD_INPUT_CODES = new Set([
    "ER_ACCESS_DENIED_ERROR",
    "ER_ACCESS_DENIED_NO_PASSWORD_ERROR",
    "ER_NOT_SUPPORTED_AUTH_MODE",
    "ER_SPECIFIC_ACCESS_DENIED_ERROR",
    "ER_DBACCESS_DENIED_ERROR",
    "ER_TABLEACCESS_DENIED_ERROR",
    "ENOTFOUND",
]);

function fail(
    side: PreflightSide,
    what: string,
    err: unknown,
): { side: PreflightSide; message: string; badInput: boolean } {
    const message = err instanceof Error ? err.message : String(err);
    const code = err instanceof ProbeError ? err.code : undefined;
    return {
        side,
        message: `${what}: ${message}`,
        badInput: err instanceof TypeError || (code !== undefined && BAD_INPUT_CODES.has(code)),
    };
}

/** `Promise.allSettled` whose failures become one PreflightError naming every side that failed. */
async function settle<T extends unknown[]>(jobs: {
    [K in keyof T]: { side: PreflightSide; what: string; run: Promise<T[K]> };
}): Promise<T> {
    const results = await Promise.allSettled(jobs.map((j) => j.run));
    const failures = results.flatMap((r, i) =>
        r.status === "rejected" ? [fail(jobs[i].side, jobs[i].what, r.reason)] : [],
    );
    if (failures.length > 0) {
        const kind = failures.every((f) => f.badInput) ? "bad-input" : "unreachable";
        throw new PreflightError(
            failures.map((f) => f.message).join(" "),
            kind,
            failures.map((f) => f.side),
        );
    }
    return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as T;
}

async function readDm(dm: DmClient, sourceId: string, requested: string[] | undefined) {
    // The configuration and task names only: the tasks' status comes from their own reads below.
    const source: SourceConfigInfo | undefined = await dm.getSourceConfig(sourceId);
    const names = tasksToCheck(source, requested);
    const known = new Set(source?.taskNames ?? []);
    // Every task of the source in one dm-worker request (dm-master throttles them; per task when DM cannot).
    const subs = await statusOnSource(
        dm,
        sourceId,
        names.filter((t) => known.has(t)),
        () => undefined,
    );
    const tasks = names.map((task): { task: string; status?: SubtaskStatus } =>
        known.has(task) ? { task, status: subs.get(task) } : { task },
    );
    return { source, tasks };
}

function where(ep: MysqlEndpoint): string {
    return `${ep.host}:${ep.port}`;
}

/** The instance to compare the target with: `current`, or (with currentFromDm) where DM's source is registered. */
function currentOf(
    args: PreflightArgs,
    source: SourceConfigInfo | undefined,
): (MysqlEndpoint & { name?: string }) | undefined {
    if (args.current || !args.currentFromDm || !source || source.host === "") {
        return args.current;
    }
    if (source.host === args.target.host && source.port === args.target.port) {
        return undefined;
    }
    const { name: _name, ...target } = args.target;
    return {
        ...target,
        host: source.host,
        port: source.port,
        name: `the address DM's source ${args.sourceId} is registered at`,
    };
}

/** Gathers DM's and the target's facts in parallel and decides (./decide.ts). Throws PreflightError when it cannot. */
export async function preflight(args: PreflightArgs): Promise<PreflightResult> {
    const dm = args.dmClient ?? createDmClient(args.dm);
    const targetAt = where(args.target);
    const firstProbe = args.probe ?? probe;
    // 1–2. DM (gtid-S of every task) and the target (gtid-P, gtid-E, prerequisites), in parallel.
    const fromDm = readDm(dm, args.sourceId, args.tasks);
    // An explicit current instance is probed at once; DM's registered address only once DM answered.
    const currentJob = args.current
        ? Promise.resolve(args.current)
        : args.currentFromDm
          ? fromDm.then((d) => currentOf(args, d.source))
          : Promise.resolve(undefined);
    // A DM failure is reported by the DM job: the current job then has nothing to probe.
    const currentRun = currentJob
        .catch(() => undefined)
        .then(async (c) => (c ? { endpoint: c, facts: await firstProbe(c) } : undefined));
    const [dmFacts, facts, current] = await settle<
        [
            Awaited<typeof fromDm>,
            ServerFacts,
            { endpoint: MysqlEndpoint & { name?: string }; facts: ServerFacts } | undefined,
        ]
    >([
        { side: "dm", what: `DM at ${args.dm.address}`, run: fromDm },
        { side: "target", what: `target ${args.target.name} (${targetAt})`, run: firstProbe(args.target) },
        { side: "current", what: "the instance DM reads from now", run: currentRun },
    ]);
    const base: Omit<PreflightFacts, "facts" | "prerequisites" | "catchUp"> = {
        sourceId: args.sourceId,
        flavor: args.flavor,
        target: args.target.name,
        targetAddress: targetAt,
        source: dmFacts.source,
        requestedTasks: args.tasks,
        requireSourceAt:
            args.requireSource && !(current && sameServer(current.facts, facts)) ? args.dm.address : undefined,
        upstream: current
            ? { side: `the source's upstream ${nameOf(current.endpoint)}`, gtidSet: current.facts.gtidExecuted }
            : undefined,
        // Only a set holding tagged GTIDs makes DM's version matter; unreadable, no DM is assumed to apply them.
        dmVersion: needsDmVersion(args.flavor, facts.gtidExecuted, current?.facts.gtidExecuted)
            ? await readDmVersion(args.dm).catch(() => undefined)
            : undefined,
        tasks: dmFacts.tasks,
        sameReplicationSet: current
            ? await settle<[PreflightFacts["sameReplicationSet"]]>([
                  {
                      side: "current",
                      what: "the instance DM reads from now",
                      run: judgeSameSet(nameOf(current.endpoint), current.facts, facts, () => probe(current.endpoint)),
                  },
              ]).then(([v]) => v)
            : undefined,
    };
    // 3. The rule, the task states and the prerequisites.
    let report = decide({ ...base, facts, prerequisites: targetPrerequisites(facts) });

    // One bounded wait when the only thing wrong is a lagging target (gtid-S is a growing snapshot).
    const awaited = catchUpTargets(report);
    const timeoutMs = args.catchUpTimeoutMs ?? TIMEOUT_DEFAULTS.catchUpTimeoutMs;
    if (awaited.length > 0 && timeoutMs > 0) {
        const start = Date.now();
        let caughtUp = true;
        for (const gtid of awaited) {
            const left = Math.max(0, timeoutMs - (Date.now() - start));
            const [r] = await settle<[{ caughtUp: boolean }]>([
                {
                    side: "target",
                    what: `waiting for target ${args.target.name} (${targetAt}) to catch up`,
                    run: waitForCatchUp(args.target, args.flavor, gtid, left),
                },
            ]);
            caughtUp &&= r.caughtUp;
        }
        const [again] = await settle<[ServerFacts]>([
            { side: "target", what: `target ${args.target.name} (${targetAt})`, run: probe(args.target) },
        ]);
        const catchUp: CatchUp = { timeoutMs, waitedMs: Date.now() - start, caughtUp };
        report = decide({ ...base, facts: again, prerequisites: targetPrerequisites(again), catchUp });
    }
    return args.mode ? { ...report, steps: stepsOf(args, report) } : report;
}

function nameOf(current: MysqlEndpoint & { name?: string }): string {
    return current.name ? `${current.name} (${where(current)})` : where(current);
}

function stepsOf(args: PreflightArgs, report: PreflightReport): string[] {
    const input = {
        sourceId: args.sourceId,
        dmAddress: args.dm.address,
        tasks: report.tasks.map((t) => ({ name: t.task, stage: t.stage })),
        from: args.current?.name,
        to: args.target.name,
    };
    const plan =
        args.mode === "vip"
            ? planVipSwitch(input)
            : planAddressSwitch({ ...input, toAddress: { host: args.target.host, port: args.target.port } });
    return formatPlan(plan);
}
