/**
 * The SourceBinding resource's provider: DM's source registration, and DM's address procedure when
 * the source must read from another host:port. Loaded by the dynamic provider host through ./load.ts.
 *
 * A failed address switch that got as far as stop-task records the stopped tasks (DM's config of each
 * and gtid-S) in the resource's state; the next `pulumi up` finishes the switch from there: it
 * re-checks the rule, makes sure the source exists at the new address and starts the tasks from their
 * checkpoints. Tasks are never started against a target that fails the rule.
 */
import * as pulumi from "@pulumi/pulumi";
import { createDmClient, DmClient, SourceConfig, SourceInfo, waitForStage } from "../dm";
import { executeSwitch, RuleViolationError, SwitchError, SwitchPorts, warnWrittenOnTarget } from "../switch/execute";
import { Address, formatPlan, planAddressSwitch } from "../switch/plan";
import { AddressInputs, checkSourceBindingInputs, SourceBindingInputs, SourceBindingOutputs } from "./inputs";
import { PartialStateError } from "./load";
import { passwordDigest } from "./passwordDigest";
import {
    flavorFailure,
    KeptSource,
    passwordChanged,
    settingsChanges,
    settingsChangesOfInputs,
    settingsOfPartialState,
} from "./sourceSettings";
import { liveTaskStages, settleAll, switchPorts } from "./ports";
import { tasksToCheck } from "../preflight/decide";
import { resolveOptions, timeoutsOf } from "../switch/options";
import { decideWaitingOnce } from "../switch/rule";

type StoppedTask = NonNullable<SourceBindingOutputs["stoppedTasks"]>[number];

const NOT_DESIRED_STATE = new Set([
    "plan",
    "pausedByUs",
    "stoppedTasks",
    "lastSwitch",
    "__provider",
    "password",
    "downstreamPassword",
    "passwordDigest",
    "sourceFile",
]);
/**
 * Only another source id is another resource. A change of user, password or enableRelay is an update: the
 * address procedure at the same address (./sourceSettings.ts); a flavor change is refused by check.
 */
const REPLACING = ["sourceId"] as const;

const sameAddress = (a: AddressInputs | undefined, b: AddressInputs | undefined) =>
    !!a && !!b && a.host === b.host && a.port === b.port;

/** The instance name of an address: from `instances`, else `host:port`. */
function nameOf(inputs: SourceBindingInputs, a: AddressInputs): string {
    if (sameAddress(a, inputs) && inputs.instance) {
        return inputs.instance;
    }
    const named = Object.entries(inputs.instances ?? {}).find(([, i]) => sameAddress(i, a));
    return named ? named[0] : `${a.host}:${a.port}`;
}

/**
 * The source's configuration at `at`. `relay` false for the address procedure of a relay-enabled source:
 * relay is started once the tasks run (see the plan's start-relay step). @default inputs.enableRelay
 */
function sourceConfig(inputs: SourceBindingInputs, at: Address, relay = inputs.enableRelay ?? false): SourceConfig {
    return {
        id: inputs.sourceId,
        host: at.host,
        port: at.port,
        user: inputs.user,
        password: inputs.password,
        flavor: inputs.flavor,
        enableGtid: true,
        enableRelay: relay,
    };
}

/**
 * Relay on as the inputs ask, for a source re-created with relay off by an address switch that stopped
 * before its start-relay step: started explicitly on the source's worker.
 */
async function ensureRelay(dm: DmClient, inputs: SourceBindingInputs, log: (l: string) => void): Promise<void> {
    if (!inputs.enableRelay) {
        return;
    }
    const s = await dm.getSource(inputs.sourceId);
    if (s && !s.enableRelay && !s.relay && s.worker) {
        log(`start-relay -s ${inputs.sourceId} ${s.worker} (relay is on in the inputs, off in DM)`);
        await dm.startRelay(inputs.sourceId, s.worker);
    }
}

function outputsOf(
    inputs: SourceBindingInputs,
    extra: Pick<SourceBindingOutputs, "pausedByUs" | "stoppedTasks" | "lastSwitch">,
): SourceBindingOutputs {
    const { password: _p, downstreamPassword: _d, ...rest } = inputs;
    return { ...rest, passwordDigest: passwordDigest(inputs.password), ...extra };
}

/**
 * operate-source stop, after stop-relay when relay runs for the source's worker by start-relay (an address
 * switch with relay on leaves it so): DM refuses to stop a source with relay workers (46023). Relay started
 * by the source's own enable-relay stops with the source.
 */
async function stopSource(dm: DmClient, id: string, log: (l: string) => void): Promise<void> {
    const s = await dm.getSource(id);
    if (s?.relay && !s.enableRelay && s.worker) {
        log(`stop-relay -s ${id} ${s.worker} (relay runs for the worker: DM stops no source with relay workers)`);
        await dm.stopRelay(id, s.worker);
    }
    await dm.stopSource(id);
}

/** The address procedure's ports: the VIP procedure's, plus stop/start of tasks and source re-creation. */
function addressPorts(
    dm: DmClient,
    inputs: SourceBindingInputs,
    instances: Record<string, Address>,
    stopped: StoppedTask[],
    log: (l: string) => void,
    kept: KeptSource = { created: false },
): SwitchPorts {
    const base = switchPorts({
        dm,
        sourceId: inputs.sourceId,
        flavor: inputs.flavor,
        instances,
        user: inputs.user,
        password: inputs.password,
        log,
        dmAddress: inputs.dm.address,
        requestedTasks: inputs.tasks,
    });
    return {
        ...base,
        async stopTasks(tasks) {
            // The tasks are paused: their status holds gtid-S, which is what the checkpoint keeps after stop-task.
            const [status, configs] = await Promise.all([
                base.status(tasks),
                Promise.all(tasks.map((t) => dm.getTaskConfig(t))),
            ]);
            tasks.forEach((name, i) =>
                stopped.push({ name, config: configs[i], gtidS: status.get(name)?.syncerGtid ?? "" }),
            );
            await settleAll(tasks, (t) => dm.stopTask(t));
        },
        async startTasks(tasks) {
            await startStopped(
                dm,
                inputs,
                stopped.filter((s) => tasks.includes(s.name)),
                stopped,
            );
        },
        // Relay, when on, starts after the tasks (start-relay step): DM's checkpoints name the old relay subdirectory.
        // From DM's own file of the source (read before the plan ran): every field the stack does not set is kept.
        async createSource(at) {
            await dm.createSource({ ...sourceConfig(inputs, at, false), baseFile: kept.file });
            kept.created = true;
        },
        stopSource: () => stopSource(dm, inputs.sourceId, log),
        async startRelay() {
            const s = await dm.getSource(inputs.sourceId);
            if (!s?.worker) {
                throw new Error(
                    `source ${inputs.sourceId} is bound to no dm-worker: relay cannot start; check 'dmctl operate-source show' and the workers`,
                );
            }
            await dm.startRelay(inputs.sourceId, s.worker);
        },
    };
}

/** start-task for each stopped task from its checkpoint (meta = gtid-S); removes started ones from `stopped`. */
async function startStopped(dm: DmClient, inputs: SourceBindingInputs, tasks: StoppedTask[], stopped: StoppedTask[]) {
    await settleAll(tasks, async (t) => {
        await dm.startTask(t.config, {
            binlogGtid: t.gtidS ? { [inputs.sourceId]: t.gtidS } : undefined,
            targetPassword: inputs.downstreamPassword,
        });
        stopped.splice(stopped.indexOf(t), 1);
    });
}

/** A previous run stopped the tasks and failed: finish the switch forward, never starting against a bad target. */
async function finishStopped(
    dm: DmClient,
    inputs: SourceBindingInputs,
    live: SourceInfo | undefined,
    stopped: StoppedTask[],
    log: (l: string) => void,
    olds: SourceBindingOutputs | undefined,
    kept: KeptSource,
) {
    const want: Address = { host: inputs.host, port: inputs.port };
    const to = nameOf(inputs, want);
    const ports = addressPorts(dm, inputs, { [to]: want }, stopped, log);
    log(
        `finishing an address switch to ${to}: tasks ${stopped.map((s) => s.name).join(", ")} are stopped with their checkpoints kept`,
    );
    // The decision the policy pack makes, on the checkpoints the tasks stopped at (they have no subtask now).
    const status = new Map(
        stopped.map((t) => [t.name, { stage: "Stopped", unit: "Sync", syncerGtid: t.gtidS, errors: [] }]),
    );
    const opts = resolveOptions(timeoutsOf(inputs));
    // Stopped tasks cannot move: the statuses after the wait are the same.
    const decision = await decideWaitingOnce(ports, to, opts.catchUpTimeoutMs, undefined, status);
    if (!decision.ok) {
        throw new RuleViolationError(
            `the tasks cannot start on ${to}: ${decision.reasons.join(" ")} The tasks stay stopped with their checkpoints kept.`,
        );
    }
    // Settings the failed run did not get to (user, password, relay): the source is created again with them.
    const settings = live && sameAddress(live, want) ? settingsChanges(inputs, live, olds) : [];
    if (live && (!sameAddress(live, want) || settings.length > 0)) {
        kept.file = (await dm.getSourceFile(inputs.sourceId)) ?? kept.file;
        log(
            `operate-source stop ${inputs.sourceId} (${settings.length > 0 ? `new settings: ${settings.join(", ")}` : `still at ${live.host}:${live.port}`})`,
        );
        await stopSource(dm, inputs.sourceId, log);
        live = undefined;
    }
    if (!live) {
        log(
            `operate-source create ${inputs.sourceId} at ${want.host}:${want.port}${kept.file ? ", from DM's configuration of it" : ""}`,
        );
        await dm.createSource({ ...sourceConfig(inputs, want, false), baseFile: kept.file });
        kept.created = true;
    }
    const names = stopped.map((s) => s.name);
    // A start-task of the failed run may have created its subtask even though it failed: dm-master answers
    // 38045 ("fail to get expected result") when the worker does not confirm in time, with the subtask
    // already stored. Starting it again fails (46014, already exists); DM runs it from its checkpoint.
    const exists = await Promise.all(
        stopped.map((t) =>
            dm.taskStatus(t.name, inputs.sourceId).then(
                (subs) => subs.some((s) => s.source === inputs.sourceId),
                () => false,
            ),
        ),
    );
    const created = stopped.filter((_, i) => exists[i]);
    if (created.length > 0) {
        log(
            `${created.map((t) => t.name).join(", ")} exist already on ${inputs.sourceId} (started by the failed run): not started again`,
        );
        created.forEach((t) => stopped.splice(stopped.indexOf(t), 1));
    }
    await startStopped(dm, inputs, [...stopped], stopped);
    await waitForStage(dm, names, inputs.sourceId, ["Running"], { timeoutMs: opts.stageTimeoutMs });
    log(`started ${names.join(", ")} from their checkpoints on ${to}`);
}

/** Makes DM's source read from inputs.host:port, switching safely when it reads elsewhere. */
async function converge(
    id: string,
    inputs: SourceBindingInputs,
    olds?: SourceBindingOutputs,
): Promise<SourceBindingOutputs> {
    const log = (line: string) => pulumi.log.info(`dm-switch ${inputs.sourceId}: ${line}`);
    const dm = createDmClient(inputs.dm, log);
    const want: Address = { host: inputs.host, port: inputs.port };
    const stopped: StoppedTask[] = (olds?.stoppedTasks ?? []).map((s) => ({ ...s }));
    const live = await dm.getSource(inputs.sourceId);
    // DM's file of the source: kept by a failed run that stopped the source, or read before this run stops it.
    const kept: KeptSource = { file: olds?.sourceFile, created: false };
    const partial = (err: Error, pausedByUs: string[]) =>
        new PartialStateError(err.message, id, {
            ...outputsOf(inputs, { pausedByUs, stoppedTasks: stopped, lastSwitch: olds?.lastSwitch }),
            host: live?.host ?? inputs.host,
            port: live?.port ?? inputs.port,
            ...settingsOfPartialState(inputs, olds, live, kept),
        });
    if (stopped.length > 0) {
        try {
            await finishStopped(dm, inputs, live, stopped, log, olds, kept);
            await ensureRelay(dm, inputs, log);
        } catch (err) {
            throw partial(err instanceof Error ? err : new Error(String(err)), []);
        }
        return outputsOf(inputs, {
            pausedByUs: [],
            lastSwitch: { to: nameOf(inputs, want), gtidS: {}, at: new Date().toISOString() },
        });
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
        reconfigure,
    });
    if (plan.steps.length === 0) {
        await ensureRelay(dm, inputs, log);
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
    try {
        const report = await executeSwitch(plan, ports, { ...timeoutsOf(inputs), statusBefore: status });
        if (report.pausedMs !== undefined) {
            log(`replication was stopped for ${report.pausedMs} ms`);
        }
        const written = warnWrittenOnTarget(report, (w) => pulumi.log.warn(`dm-switch ${inputs.sourceId}: ${w}`));
        const lastSwitch =
            from === to
                ? olds?.lastSwitch
                : {
                      from,
                      to,
                      gtidS: report.gtidS,
                      pausedMs: report.pausedMs,
                      ...written,
                      at: new Date().toISOString(),
                  };
        return outputsOf(inputs, { pausedByUs: [], lastSwitch });
    } catch (err) {
        if (err instanceof SwitchError || err instanceof RuleViolationError) {
            throw partial(
                err,
                err instanceof SwitchError ? err.pausedTasks.filter((t) => !stopped.some((s) => s.name === t)) : [],
            );
        }
        throw err;
    }
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
    const { tasks, note } = await liveTaskStages(news);
    const from = nameOf({ ...news, instance: olds.instance, host: olds.host, port: olds.port! }, olds as AddressInputs);
    return [
        ...formatPlan(
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
        ),
        ...note,
    ];
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
        return { inputs: { ...news, plan: failures.length === 0 ? await previewPlan(olds, news) : [] }, failures };
    },

    async diff(_id: string, olds: SourceBindingOutputs, news: SourceBindingInputs): Promise<pulumi.dynamic.DiffResult> {
        const o = olds as unknown as Record<string, unknown>;
        const n = news as unknown as Record<string, unknown>;
        const keys = new Set([...Object.keys(o), ...Object.keys(n)].filter((k) => !NOT_DESIRED_STATE.has(k)));
        const changed = [...keys].filter((k) => JSON.stringify(o[k]) !== JSON.stringify(n[k]));
        if ((olds.pausedByUs ?? []).length > 0 || (olds.stoppedTasks ?? []).length > 0) {
            changed.push("pausedByUs");
        }
        // The password itself is never kept: its digest tells a rotation, which DM must get (a change of settings).
        if (passwordChanged(olds, news)) {
            changed.push("password");
        }
        if (olds.passwordDigest === undefined && olds.sourceId !== undefined) {
            // A state written before digests were kept: an update records one (nothing is re-created for it).
            changed.push("passwordDigest");
        }
        if ((news.plan ?? []).length > 0) {
            // One message, not one per line: each is a round trip to the engine, and a preview of many sources prints many plans.
            pulumi.log.info(news.plan!.join("\n"));
        }
        return {
            changes: changed.length > 0,
            replaces: REPLACING.filter((k) => o[k] !== undefined && JSON.stringify(o[k]) !== JSON.stringify(n[k])),
            deleteBeforeReplace: true,
        };
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
