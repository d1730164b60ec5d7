/**
 * The Vip resource's provider: where a VIP points, and DM's VIP procedure when that changes.
 * Loaded by the dynamic provider host through ./load.ts.
 */
import type * as pulumi from "@pulumi/pulumi";
import { createDmClient } from "../dm";
import { tasksToCheck } from "../preflight/decide";
import { SwitchError } from "../switch/execute";
import { formatPlan, planVipSwitch } from "../switch/plan";
import { checked, diffState, runSwitch, sourceLog, sourcePorts } from "./common";
import { checkVipInputs, VipInputs, VipOutputs } from "./inputs";
import { previewLines } from "./preview";
import { vipBackend } from "./vipBackend";

function outputsOf(inputs: VipInputs, extra: Pick<VipOutputs, "pausedByUs" | "lastSwitch">): VipOutputs {
    // The password stays out of the outputs: nothing after a switch needs it.
    const { password: _password, ...rest } = inputs;
    return { ...rest, ...extra };
}

/** What the plan would be, for the preview (./preview.ts: the tasks' stages as DM reports them). */
async function previewPlan(olds: Partial<VipInputs> | undefined, news: VipInputs): Promise<string[]> {
    if (!olds?.target || olds.target === news.target) {
        return [];
    }
    return previewLines(news, (tasks) =>
        planVipSwitch({
            sourceId: news.sourceId,
            dmAddress: news.dm.address,
            tasks,
            from: olds.target,
            to: news.target,
        }),
    );
}

/** Makes the VIP point at `inputs.target`, switching DM safely when it points elsewhere. */
async function converge(
    id: string,
    inputs: VipInputs,
    pausedByUs: string[],
    previous?: VipOutputs["lastSwitch"],
): Promise<VipOutputs> {
    const log = sourceLog(inputs.sourceId).info;
    const dm = createDmClient(inputs.dm, log);
    const backend = vipBackend(inputs.backend);
    const vip = { backend, address: inputs.address, verify: inputs.verify };
    const ports = sourcePorts(inputs, dm, log, { requireSource: true, vip });
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
    const lastSwitch = await runSwitch(id, inputs, ports, {
        plan,
        statusBefore: status,
        from,
        to: inputs.target,
        previous,
        held: "paused",
        // Record where the VIP really points and what stays paused, so the next `pulumi up` converges.
        partialState: (paused, err) => ({
            ...outputsOf(inputs, { pausedByUs: paused, lastSwitch: previous }),
            target: (err instanceof SwitchError ? err.now : from) ?? "unknown",
        }),
    });
    return outputsOf(inputs, { pausedByUs: [], lastSwitch });
}

export const provider = {
    async check(olds: Partial<VipInputs> | undefined, news: VipInputs) {
        return checked(news, checkVipInputs(news), () => previewPlan(olds, news));
    },

    async diff(_id: string, olds: VipOutputs, news: VipInputs): Promise<pulumi.dynamic.DiffResult> {
        return diffState(olds, news, { deleteBeforeReplace: true });
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
