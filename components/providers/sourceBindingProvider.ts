/**
 * The SourceBinding resource's provider: DM's source registration, and DM's address procedure when
 * the source must read from another host:port (./addressProcedure.ts). Loaded by the dynamic provider host
 * through ./load.ts.
 *
 * A failed address switch that got as far as stop-task records the stopped tasks (DM's config of each
 * and gtid-S) in the resource's state; the next `pulumi up` finishes the switch from there: it
 * re-checks the rule, makes sure the source exists at the new address and starts the tasks from their
 * checkpoints. Tasks are never started against a target that fails the rule.
 */
import type * as pulumi from "@pulumi/pulumi";
import { createDmClient } from "../dm";
import { tasksToCheck } from "../preflight/decide";
import { settleAll } from "../switch/livePorts";
import { Address, formatPlan, planAddressSwitch } from "../switch/plan";
import {
    addressPorts,
    finishPlan,
    finishRun,
    nameOf,
    needsNoRelayStart,
    sameAddress,
    sourceConfig,
    StoppedTask,
} from "./addressProcedure";
import { checked, diffState, runSwitch, sourceLog } from "./common";
import { AddressInputs, checkSourceBindingInputs, SourceBindingInputs, SourceBindingOutputs } from "./inputs";
import { passwordDigest } from "./passwordDigest";
import {
    flavorFailure,
    KeptSource,
    passwordChanged,
    settingsChanges,
    settingsChangesOfInputs,
    settingsOfPartialState,
} from "./sourceSettings";
import { previewLines, readForPreview } from "./preview";

/** The binding's own fields that are not desired state: a failed run's record, secrets and their digest. */
const NOT_DESIRED_STATE = ["stoppedTasks", "downstreamPassword", "passwordDigest", "sourceFile"];
/**
 * Only another source id is another resource. A change of user, password or enableRelay is an update: the
 * address procedure at the same address (./sourceSettings.ts); a flavor change is refused by check.
 */
const REPLACING = ["sourceId"];

function outputsOf(
    inputs: SourceBindingInputs,
    extra: Pick<SourceBindingOutputs, "pausedByUs" | "stoppedTasks" | "lastSwitch">,
): SourceBindingOutputs {
    const { password: _p, downstreamPassword: _d, ...rest } = inputs;
    return { ...rest, passwordDigest: passwordDigest(inputs.password), ...extra };
}

/** Makes DM's source read from inputs.host:port, switching safely when it reads elsewhere. */
async function converge(
    id: string,
    inputs: SourceBindingInputs,
    olds?: SourceBindingOutputs,
): Promise<SourceBindingOutputs> {
    const log = sourceLog(inputs.sourceId).info;
    const dm = createDmClient(inputs.dm, log);
    const want: Address = { host: inputs.host, port: inputs.port };
    const stopped: StoppedTask[] = (olds?.stoppedTasks ?? []).map((s) => ({ ...s }));
    const live = await dm.getSource(inputs.sourceId);
    // DM's file of the source: kept by a failed run that stopped the source, or read before this run stops it.
    const kept: KeptSource = { file: olds?.sourceFile, created: false };
    // What a failed run leaves: the tasks it left paused or stopped, DM's address and settings of the source.
    const partialState = (pausedByUs: string[]) => ({
        ...outputsOf(inputs, { pausedByUs, stoppedTasks: stopped, lastSwitch: olds?.lastSwitch }),
        host: live?.host ?? inputs.host,
        port: live?.port ?? inputs.port,
        ...settingsOfPartialState(inputs, olds, live, kept),
    });
    if (stopped.length > 0) {
        // A previous run stopped the tasks and failed: the switch is finished forward, by its own plan.
        const plan = await finishPlan(dm, inputs, live, stopped, olds);
        const { ports, gtidS } = await finishRun(dm, inputs, plan, live, stopped, log, kept);
        formatPlan(plan).forEach(log);
        const lastSwitch = await runSwitch(id, inputs, ports, {
            plan,
            gtidS,
            // Where DM read from before the failed run is not known here (its source may be gone).
            from: undefined,
            to: plan.to,
            held: "stopped",
            partialState: () => partialState([]),
        });
        return outputsOf(inputs, { pausedByUs: [], lastSwitch });
    }
    if (!live) {
        log(`operate-source create ${inputs.sourceId} at ${want.host}:${want.port}`);
        await dm.createSource({ ...sourceConfig(inputs, want), baseFile: kept.file });
        return outputsOf(inputs, { pausedByUs: [], lastSwitch: olds?.lastSwitch });
    }
    const from = nameOf(inputs, live);
    const to = nameOf(inputs, want);
    const ports = addressPorts(
        dm,
        inputs,
        { [from]: { host: live.host, port: live.port }, [to]: want },
        stopped,
        log,
        kept,
    );
    // Every task DM runs on the source, and any the `tasks` list names: the list checks, never narrows.
    const names = tasksToCheck(live, inputs.tasks);
    const status = names.length > 0 ? await ports.status(names) : new Map();
    const tasks = names.map((name) => ({ name, stage: status.get(name)?.stage ?? "" }));
    // The same address with other settings (user, password, relay): the whole procedure, re-creating the source.
    const settings = from === to ? settingsChanges(inputs, live, olds) : [];
    const reconfigure = settings.length > 0 ? settings.join(", ") : undefined;
    const plan = planAddressSwitch({
        sourceId: inputs.sourceId,
        dmAddress: inputs.dm.address,
        tasks,
        from,
        to,
        toAddress: want,
        pausedByUs: olds?.pausedByUs,
        relay: inputs.enableRelay,
        // Relay off in DM while the inputs ask for it: a switch stopped before its start-relay step.
        liveRelay: needsNoRelayStart(live),
        reconfigure,
    });
    if (plan.steps.length === 0) {
        return outputsOf(inputs, { pausedByUs: [], lastSwitch: olds?.lastSwitch });
    }
    if (plan.steps.some((s) => s.kind === "start-tasks") && inputs.downstreamPassword === undefined) {
        throw new Error(
            `downstreamPassword is required to ${reconfigure ? `change the ${reconfigure} of` : "move"} source ${inputs.sourceId} while tasks use it (${names.join(", ")}): DM returns task configurations with the password masked`,
        );
    }
    if (plan.steps.some((s) => s.kind === "create-source")) {
        // Read before anything is paused: a source that cannot be read is refused with nothing changed.
        kept.file = await dm.getSourceFile(inputs.sourceId);
        if (kept.file === undefined) {
            throw new Error(
                `DM source ${inputs.sourceId} disappeared while its switch was planned: run 'pulumi up' again`,
            );
        }
    }
    formatPlan(plan).forEach(log);
    const lastSwitch = await runSwitch(id, inputs, ports, {
        plan,
        statusBefore: status,
        from,
        to,
        previous: olds?.lastSwitch,
        held: "stopped",
        // Stopped tasks are recorded as such (`stoppedTasks`), with their configuration, not as paused.
        partialState: (paused) => partialState(paused.filter((t) => !stopped.some((s) => s.name === t))),
    });
    return outputsOf(inputs, { pausedByUs: [], lastSwitch });
}

/** The plan of an address change, with each task's stage read from DM when it answers (see vipProvider's). */
async function previewPlan(
    olds: Partial<SourceBindingInputs> | undefined,
    news: SourceBindingInputs,
): Promise<string[]> {
    const settings = settingsChangesOfInputs(olds, news);
    if (!olds?.host || (sameAddress(olds as AddressInputs, news) && settings.length === 0)) {
        return [];
    }
    const reconfigure = sameAddress(olds as AddressInputs, news) ? settings.join(", ") : undefined;
    const from = nameOf({ ...news, instance: olds.instance, host: olds.host, port: olds.port! }, olds as AddressInputs);
    return previewLines(news, (tasks) =>
        planAddressSwitch({
            sourceId: news.sourceId,
            dmAddress: news.dm.address,
            tasks,
            from,
            to: nameOf(news, news),
            toAddress: news,
            relay: news.enableRelay,
            reconfigure,
        }),
    );
}

/**
 * The plan `pulumi up` runs to finish an address switch a failed run left with the tasks stopped (only the
 * state knows them: `check` cannot print it), from DM's source as it is now; when DM cannot be read, the
 * plan for a source that is stopped, and a note saying so.
 */
async function previewFinish(olds: SourceBindingOutputs, news: SourceBindingInputs): Promise<string[]> {
    const stopped = olds.stoppedTasks ?? [];
    const r = await readForPreview(news.dm, async (dm) =>
        finishPlan(dm, news, await dm.getSource(news.sourceId), stopped, olds),
    );
    if ("value" in r) {
        return [...formatPlan(r.value), ...r.note];
    }
    // With no live source, the plan reads nothing from DM.
    const assumed = await finishPlan(createDmClient(news.dm), news, undefined, stopped, olds);
    const why = `  (DM's source could not be read from DM at ${news.dm.address}: ${r.failed}; planned as if it were stopped. 'pulumi up' reads it before anything changes)`;
    return [...formatPlan(assumed), why];
}

export const provider = {
    async check(olds: Partial<SourceBindingInputs> | undefined, news: SourceBindingInputs) {
        const failures = checkSourceBindingInputs(news);
        const moving = olds?.host !== undefined && !sameAddress(olds as AddressInputs, news);
        if (moving && news.downstreamPassword === undefined) {
            failures.push({
                property: "downstreamPassword",
                reason: "downstreamPassword is required to change host/port: start-task needs the downstream password, which DM returns masked; set it (as a secret)",
            });
        }
        const settings = moving ? [] : settingsChangesOfInputs(olds, news);
        if (settings.length > 0 && news.downstreamPassword === undefined) {
            failures.push({
                property: "downstreamPassword",
                reason: `downstreamPassword is required to change ${settings.join(", ")}: the source is re-created and its tasks started again, and start-task needs the downstream password, which DM returns masked; set it (as a secret)`,
            });
        }
        if ((moving || settings.length > 0) && !news.dm?.dmctlPath) {
            // DM's whole source configuration is read and the source re-created from it with dmctl
            // (get-config source, operate-source create), and tasks stop and start with it, on either transport.
            failures.push({
                property: "dm",
                reason: `dm.dmctlPath is required to ${moving ? "change host/port" : `change ${settings.join(", ")}`}: the source is re-created from DM's own configuration of it and its tasks are stopped and started, which only dmctl can do; set dm.dmctlPath to DM's dmctl binary`,
            });
        }
        const flavor = flavorFailure(olds, news);
        if (flavor) {
            failures.push(flavor);
        }
        return checked(news, failures, () => previewPlan(olds, news));
    },

    async diff(_id: string, olds: SourceBindingOutputs, news: SourceBindingInputs): Promise<pulumi.dynamic.DiffResult> {
        const also = [
            // Tasks a failed address switch left stopped, like paused ones, are the next run's to start.
            ...((olds.stoppedTasks ?? []).length > 0 ? ["pausedByUs"] : []),
            // The password itself is never kept: its digest tells a rotation, which DM must get (a change of settings).
            ...(passwordChanged(olds, news) ? ["password"] : []),
            // A state written before digests were kept: an update records one (nothing is re-created for it).
            ...(olds.passwordDigest === undefined && olds.sourceId !== undefined ? ["passwordDigest"] : []),
        ];
        // A stopped switch is finished before anything else: its plan, not the inputs' one, is what the up runs.
        const finishing = (olds.stoppedTasks ?? []).length > 0;
        return diffState(olds, finishing ? { ...news, plan: await previewFinish(olds, news) } : news, {
            notDesired: NOT_DESIRED_STATE,
            also,
            replaceOn: REPLACING,
            deleteBeforeReplace: true,
        });
    },

    async create(inputs: SourceBindingInputs) {
        return { id: inputs.sourceId, outs: await converge(inputs.sourceId, inputs) };
    },

    async read(id: string, props?: SourceBindingOutputs) {
        if (!props) {
            throw new Error(
                `importing a SourceBinding is not supported: declare it with its host and port instead (${id})`,
            );
        }
        const live = await createDmClient(props.dm).getSource(props.sourceId);
        // DM's view: an address or user changed by hand shows as drift; a source removed by hand as gone.
        return live ? { id, props: { ...props, host: live.host, port: live.port, user: live.user } } : {};
    },

    async update(id: string, olds: SourceBindingOutputs, news: SourceBindingInputs) {
        return { outs: await converge(id, news, olds) };
    },

    async delete(_id: string, props: SourceBindingOutputs) {
        const dm = createDmClient(props.dm);
        const tasks = await dm.tasksOfSource(props.sourceId);
        if (tasks.length > 0 && !props.deleteWithTasks) {
            throw new Error(
                `DM source ${props.sourceId} is used by tasks ${tasks.join(", ")}: stop them first ('dmctl --master-addr ${props.dm.address} stop-task <task>'), ` +
                    `or set deleteWithTasks: true to stop them with the source (their checkpoints are kept)`,
            );
        }
        await settleAll(tasks, (t) => dm.stopTask(t));
        if (await dm.getSource(props.sourceId)) {
            await dm.stopSource(props.sourceId);
        }
    },
} satisfies pulumi.dynamic.ResourceProvider<SourceBindingInputs, SourceBindingOutputs>;
