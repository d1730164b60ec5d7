/**
 * The Vip resource's provider: where a VIP points, and DM's VIP procedure when that changes.
 * Loaded by the dynamic provider host through ./load.ts.
 */
import * as pulumi from "@pulumi/pulumi";
import { executeSwitch, RuleViolationError, SwitchError, warnWrittenOnTarget } from "../switch/execute";
import { formatPlan, planVipSwitch } from "../switch/plan";
import { checkVipInputs, VipInputs, VipOutputs } from "./inputs";
import { PartialStateError } from "./load";
import { createDmClient } from "../dm";
import { tasksToCheck } from "../preflight/decide";
import { timeoutsOf } from "../switch/options";
import { liveTaskStages, switchPorts, vipBackend } from "./ports";

/** Fields that describe the switch or its result rather than the desired state. */
const NOT_DESIRED_STATE = new Set(["plan", "pausedByUs", "lastSwitch", "__provider"]);

function outputsOf(inputs: VipInputs, extra: Pick<VipOutputs, "pausedByUs" | "lastSwitch">): VipOutputs {
    // The password stays out of the outputs: nothing after a switch needs it.
    const { password: _password, ...rest } = inputs;
    return { ...rest, ...extra };
}

/**
 * What the plan would be: with each task's stage read from DM when it answers (the preview names the tasks
 * that are not running: another stack or an operator may be switching the source), from inputs otherwise.
 */
async function previewPlan(olds: Partial<VipInputs> | undefined, news: VipInputs): Promise<string[]> {
    if (!olds?.target || olds.target === news.target) {
        return [];
    }
    const { tasks, note } = await liveTaskStages(news);
    return [
        ...formatPlan(
            planVipSwitch({
                sourceId: news.sourceId,
                dmAddress: news.dm.address,
                tasks,
                from: olds.target,
                to: news.target,
            }),
        ),
        ...note,
    ];
}

/** Makes the VIP point at `inputs.target`, switching DM safely when it points elsewhere. */
async function converge(
    id: string,
    inputs: VipInputs,
    pausedByUs: string[],
    previous?: VipOutputs["lastSwitch"],
): Promise<VipOutputs> {
    const log = (line: string) => pulumi.log.info(`dm-switch ${inputs.sourceId}: ${line}`);
    const dm = createDmClient(inputs.dm, log);
    const backend = vipBackend(inputs.backend);
    const ports = switchPorts({
        dm,
        sourceId: inputs.sourceId,
        flavor: inputs.flavor,
        instances: inputs.instances,
        user: inputs.user,
        password: inputs.password,
        log,
        dmAddress: inputs.dm.address,
        requestedTasks: inputs.tasks,
        requireSource: true,
        vip: { backend, address: inputs.address, verify: inputs.verify },
    });
    // 1. The live world: every task of the source and its stage, and where the VIP points now; the
    //    backend's own checks (zone, record type, subnet, credentials) before any task is paused. The
    //    preflight runs before current(), so a missing zone or ENI is reported by the check that names
    //    the argument, not by whichever read failed first.
    //    Every task DM runs on the source, and any the `tasks` list names: the list checks, never narrows.
    const names = tasksToCheck(await dm.getSourceConfig(inputs.sourceId), inputs.tasks);
    const where = backend.preflight ? backend.preflight().then(() => backend.current()) : backend.current();
    const [status, from] = await Promise.all([ports.status(names), where]);
    const tasks = names.map((name) => ({ name, stage: status.get(name)?.stage ?? "" }));
    // 2. The plan, logged before anything changes.
    const plan = planVipSwitch({
        sourceId: inputs.sourceId,
        dmAddress: inputs.dm.address,
        tasks,
        from,
        to: inputs.target,
        pausedByUs,
    });
    formatPlan(plan).forEach(log);
    if (plan.steps.length === 0) {
        return outputsOf(inputs, { pausedByUs: [], lastSwitch: previous });
    }
    // 3. Execute; a failure leaves the world safe and says what it left paused.
    try {
        const report = await executeSwitch(plan, ports, { ...timeoutsOf(inputs), statusBefore: status });
        if (report.pausedMs !== undefined) {
            log(`replication was paused for ${report.pausedMs} ms`);
        }
        const written = warnWrittenOnTarget(report, (w) => pulumi.log.warn(`dm-switch ${inputs.sourceId}: ${w}`));
        const lastSwitch =
            from === inputs.target
                ? previous
                : {
                      from,
                      to: inputs.target,
                      gtidS: report.gtidS,
                      pausedMs: report.pausedMs,
                      ...written,
                      at: new Date().toISOString(),
                  };
        return outputsOf(inputs, { pausedByUs: [], lastSwitch });
    } catch (err) {
        if (err instanceof SwitchError || err instanceof RuleViolationError) {
            const now = err instanceof SwitchError ? err.now : from;
            const paused = err instanceof SwitchError ? err.pausedTasks : [];
            // Record where the VIP really points and what stays paused, so the next `pulumi up` converges.
            throw new PartialStateError(err.message, id, {
                ...outputsOf(inputs, { pausedByUs: paused, lastSwitch: previous }),
                target: now ?? "unknown",
            });
        }
        throw err;
    }
}

export const provider = {
    async check(olds: Partial<VipInputs> | undefined, news: VipInputs) {
        const failures = checkVipInputs(news);
        return { inputs: { ...news, plan: failures.length === 0 ? await previewPlan(olds, news) : [] }, failures };
    },

    async diff(_id: string, olds: VipOutputs, news: VipInputs): Promise<pulumi.dynamic.DiffResult> {
        const keys = new Set(
            [...Object.keys(olds), ...Object.keys(news)].filter((k) => !NOT_DESIRED_STATE.has(k) && k !== "password"),
        );
        const changed = [...keys].filter(
            (k) =>
                JSON.stringify((olds as unknown as Record<string, unknown>)[k]) !==
                JSON.stringify((news as unknown as Record<string, unknown>)[k]),
        );
        // Tasks a failed switch left paused make the resource differ from its desired state.
        if ((olds.pausedByUs ?? []).length > 0) {
            changed.push("pausedByUs");
        }
        if ((news.plan ?? []).length > 0) {
            // One message, not one per line: each is a round trip to the engine, and a preview of many sources prints many plans.
            pulumi.log.info(news.plan!.join("\n"));
        }
        return {
            changes: changed.length > 0,
            replaces: olds.sourceId !== undefined && olds.sourceId !== news.sourceId ? ["sourceId"] : [],
            deleteBeforeReplace: true,
        };
    },

    async create(inputs: VipInputs) {
        const id = `${inputs.sourceId}-vip`;
        return { id, outs: await converge(id, inputs, []) };
    },

    async read(id: string, props?: VipOutputs) {
        if (!props) {
            throw new Error(`importing a Vip is not supported: declare it with its target instead (${id})`);
        }
        // Where the VIP points now: a VIP moved by hand shows as drift in `pulumi refresh` and preview.
        const now = await vipBackend(props.backend).current();
        return { id, props: { ...props, target: now ?? "none" } };
    },

    async update(id: string, olds: VipOutputs, news: VipInputs) {
        return { outs: await converge(id, news, olds.pausedByUs ?? [], olds.lastSwitch) };
    },

    async delete() {
        // Deleting the resource stops managing the VIP; it keeps pointing where it points.
    },
} satisfies pulumi.dynamic.ResourceProvider<VipInputs, VipOutputs>;
