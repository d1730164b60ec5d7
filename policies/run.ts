/**
 * Runs each dm-switch resource's preflight once and shares the outcome among the pack's policies,
 * and makes the policies out of pure checks.
 *
 * Why each policy is both a resource and a stack policy: the Pulumi engine (3.259) calls `Analyze`
 * for one resource at a time, waiting for each answer, so a check awaited in `validateResource` makes
 * a 50-source preview 50 checks long. Each pack process serves one deployment and is told whether it
 * is a preview (PULUMI_NODEJS_DRY_RUN). In a preview, `validateResource` only *starts* the check and
 * returns; every check then runs in parallel with the rest of the preview, and `validateStack` (at the
 * end of the preview, still before anything changes — a failed preview stops `pulumi up`) awaits them
 * all and reports each violation against its resource. In an update (`pulumi up --skip-preview`, or
 * the update after a preview), `validateResource` awaits the check and reports before the resource's
 * step runs, so nothing changes on a violation there either.
 */
import type {
    ReportViolation,
    ResourceValidation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
} from "@pulumi/policy";
import { createDmClient, DmClient, memoizeReads } from "../components/dm";
import { MysqlEndpoint, probe, ServerFacts } from "../components/mysql";
import { preflight, PreflightError, PreflightReport } from "../components/preflight";
import { isUnprovable, rawProps, Subject, subjectOf, Unprovable } from "./subject";

/** The outcome of one resource's check: a report, or why safety cannot be proven. */
export type Outcome = { subject: Subject; report: PreflightReport } | { unprovable: Unprovable };

/** A policy's pure check: the violation messages for one outcome (empty: none). */
export type Check = (outcome: Outcome) => string[];

/** The catch-up wait of the dm-gtid-containment policy when its config does not set one. @default 10000 */
export const DEFAULT_CATCH_UP_TIMEOUT_MS = 10_000;

/** Removes every secret from a text and keeps it on one line. */
export function scrub(text: string, secrets: string[]): string {
    let out = text;
    for (const s of secrets) {
        out = out.split(s).join("******");
    }
    return out.replace(/\s+/g, " ").trim();
}

/**
 * In a preview, one client per dm-master for the pack's process (one deployment): each source and task
 * status is read once, whichever resources ask, and the sources' configurations in one read that asks no
 * dm-worker (components/dm/memo.ts: dm-master lets through 10 worker requests a second after 40). In an
 * update, resources change between checks: each check reads DM itself.
 */
const dmClients = new Map<string, DmClient>();

function dmClientFor(dm: Subject["args"]["dm"]): DmClient {
    if (!isPreview()) {
        return createDmClient(dm);
    }
    const key = JSON.stringify(dm);
    if (!dmClients.has(key)) {
        dmClients.set(key, memoizeReads(createDmClient(dm)));
    }
    return dmClients.get(key)!;
}

/** How the preflight reads an instance's facts. */
export type Probe = (ep: MysqlEndpoint) => Promise<ServerFacts>;

/**
 * `read` asked once per instance — the same host, port, user, password, TLS and timeout — however many
 * checks ask: in a preview, a source's Vip and SourceBinding, and every source bound to the same
 * instances, share one probe of each (the facts of one moment, as when the checks run at once).
 */
export function probeOncePerInstance(read: Probe): Probe {
    const seen = new Map<string, Promise<ServerFacts>>();
    return (ep) => {
        const { host, port, user, password, tls, connectTimeoutMs } = ep;
        const key = JSON.stringify([host, port, user, password, tls ?? null, connectTimeoutMs ?? null]);
        if (!seen.has(key)) {
            seen.set(key, read(ep));
        }
        return seen.get(key)!;
    };
}

/** The preview's shared probe (reset with the started checks). */
let sharedProbe = probeOncePerInstance(probe);

/** Runs one subject's preflight; never rejects: a failure becomes an Unprovable. */
export async function outcomeOfSubject(subject: Subject): Promise<Outcome> {
    try {
        return {
            subject,
            report: await preflight({
                ...subject.args,
                dmClient: subject.args.dmClient ?? dmClientFor(subject.args.dm),
                probe: subject.args.probe ?? (isPreview() ? sharedProbe : undefined),
            }),
        };
    } catch (e) {
        const reach = e instanceof PreflightError && e.kind === "unreachable";
        return {
            unprovable: {
                resource: subject.resource,
                sourceId: subject.sourceId,
                target: subject.target,
                why: scrub(e instanceof Error ? e.message : String(e), subject.secrets).replace(/\.$/, ""),
                remedy: reach
                    ? `Make DM and ${subject.target} reachable from where the preview runs, then preview again.`
                    : "Correct the resource's inputs, then preview again.",
            },
        };
    }
}

/** Checks started in this process (one deployment), by URN. */
const started = new Map<string, Promise<Outcome>>();

/** The outcome for a resource: started once per URN, shared by every policy. undefined: not a dm-switch resource. */
export function outcomeFor(
    type: string,
    urn: string,
    name: string,
    props: Record<string, unknown>,
    catchUpTimeoutMs: number | undefined,
): Promise<Outcome> | undefined {
    const known = started.get(urn);
    if (known) {
        return known;
    }
    const subject = subjectOf(type, name, rawProps(props), catchUpTimeoutMs);
    if (!subject) {
        return undefined;
    }
    const run = isUnprovable(subject) ? Promise.resolve<Outcome>({ unprovable: subject }) : outcomeOfSubject(subject);
    started.set(urn, run);
    return run;
}

/** Forgets every started check, DM read and probe (unit tests). */
export function resetStartedChecks(): void {
    started.clear();
    dmClients.clear();
    sharedProbe = probeOncePerInstance(probe);
}

/** True in a preview (the language host sets this for the pack's process). */
export function isPreview(env: NodeJS.ProcessEnv = process.env): boolean {
    return env.PULUMI_NODEJS_DRY_RUN === "true";
}

function report(check: Check, outcome: Outcome, reportViolation: ReportViolation, urn?: string): void {
    for (const message of check(outcome)) {
        reportViolation(message, urn);
    }
}

/** A policy that is both a resource and a stack policy (see the top of this file). */
export type DmSwitchPolicy = Omit<ResourceValidationPolicy, "validateResource"> & {
    validateResource: ResourceValidation;
    validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => Promise<void>;
};

/**
 * Makes one of the pack's policies from its pure check. Mandatory by default; `catchUpTimeoutMs` is read
 * from the policy's config when `withCatchUp` (only a lagging target is worth waiting for).
 */
export function dmSwitchPolicy(p: {
    name: string;
    description: string;
    check: Check;
    withCatchUp?: boolean;
}): DmSwitchPolicy {
    const timeoutOf = (config: Record<string, unknown>): number =>
        p.withCatchUp
            ? typeof config.catchUpTimeoutMs === "number"
                ? config.catchUpTimeoutMs
                : DEFAULT_CATCH_UP_TIMEOUT_MS
            : 0;
    return {
        name: p.name,
        description: p.description,
        enforcementLevel: "mandatory",
        configSchema: p.withCatchUp
            ? {
                  properties: {
                      catchUpTimeoutMs: {
                          type: "integer",
                          minimum: 0,
                          default: DEFAULT_CATCH_UP_TIMEOUT_MS,
                          description:
                              "How long to wait for a lagging target to execute gtid-S before reporting it (0: no wait).",
                      },
                  },
              }
            : undefined,
        async validateResource(args: ResourceValidationArgs, reportViolation: ReportViolation) {
            const run = outcomeFor(
                args.type,
                args.urn,
                args.name,
                args.props,
                timeoutOf(args.getConfig<Record<string, unknown>>()),
            );
            if (run && !isPreview()) {
                report(p.check, await run, reportViolation);
            }
        },
        async validateStack(args: StackValidationArgs, reportViolation: ReportViolation) {
            if (!isPreview()) {
                return;
            }
            const timeout = timeoutOf(args.getConfig<Record<string, unknown>>());
            // Every check started by validateResource, plus any dm-switch resource it did not see.
            const runs = args.resources.flatMap((r) => {
                const run = outcomeFor(r.type, r.urn, r.name, r.props, timeout);
                return run ? [{ urn: r.urn, run }] : [];
            });
            const outcomes = await Promise.all(runs.map(async (r) => ({ urn: r.urn, outcome: await r.run })));
            for (const o of outcomes) {
                report(p.check, o.outcome, reportViolation, o.urn);
            }
        },
    };
}

/** The one message for a resource whose safety cannot be proven, whichever policy reports it. */
export function unprovableMessage(u: Unprovable): string {
    const source = u.sourceId ? `DM source ${u.sourceId}` : "a DM source";
    return `The safety of ${source} reading from ${u.target ?? "its target"} (${u.resource}) cannot be proven: ${u.why}. ${u.remedy}`;
}

/** A violation about one subject: "DM source S must not read from T (Vip v): <reason>". */
export function mustNotRead(s: Subject, reason: string): string {
    return `DM source ${s.sourceId} must not read from ${s.target} (${s.resource}): ${reason}`;
}
