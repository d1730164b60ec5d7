/**
 * DM's address procedure for a SourceBinding (./sourceBindingProvider.ts): its ports (stop/start of tasks,
 * re-creation of the source from DM's own file of it) and the plan that finishes a switch a failed run left
 * with the tasks stopped (components/switch/plan `planFinishStopped`). Tasks are never started against a
 * target that fails the rule.
 */
import { DmClient, SourceConfig, SourceInfo } from "../dm";
import { SwitchPorts } from "../switch/execute";
import { settleAll } from "../switch/livePorts";
import { Address, planFinishStopped, SwitchPlan } from "../switch/plan";
import { sourcePorts } from "./common";
import { AddressInputs, SourceBindingInputs, SourceBindingOutputs } from "./inputs";
import { KeptSource, settingsChanges } from "./sourceSettings";

/** A task a failed address switch left stopped, as the state records it. */
export type StoppedTask = NonNullable<SourceBindingOutputs["stoppedTasks"]>[number];

export const sameAddress = (a: AddressInputs | undefined, b: AddressInputs | undefined) =>
    !!a && !!b && a.host === b.host && a.port === b.port;

/** The instance name of an address: from `instances`, else `host:port`. */
export function nameOf(inputs: SourceBindingInputs, a: AddressInputs): string {
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
export function sourceConfig(
    inputs: SourceBindingInputs,
    at: Address,
    relay = inputs.enableRelay ?? false,
): SourceConfig {
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
 * DM's source needs no start-relay: relay runs (by its configuration, or start-relay), or no dm-worker is
 * bound to it, so relay cannot start now and is not asked to.
 */
export const needsNoRelayStart = (live: SourceInfo) => live.enableRelay || !!live.relay || !live.worker;

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
export function addressPorts(
    dm: DmClient,
    inputs: SourceBindingInputs,
    instances: Record<string, Address>,
    stopped: StoppedTask[],
    log: (l: string) => void,
    kept: KeptSource = { created: false },
): SwitchPorts {
    const base = sourcePorts({ ...inputs, instances }, dm, log);
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

/**
 * Stopped tasks whose subtask exists on the source again: a start-task of the failed run may have created
 * it though it failed (dm-master answers 38045 when the worker does not confirm in time, the subtask
 * already stored). A task DM cannot report is counted as not started.
 */
async function startedAgain(dm: DmClient, sourceId: string, tasks: string[]): Promise<string[]> {
    const exists = await Promise.all(
        tasks.map((t) =>
            dm.taskStatus(t, sourceId).then(
                (subs) => subs.some((s) => s.source === sourceId),
                () => false,
            ),
        ),
    );
    return tasks.filter((_, i) => exists[i]);
}

/**
 * The plan that finishes an address switch a failed run left with `stopped` tasks, from DM's source as it
 * is now (`live`; undefined: stopped). Reads which tasks a failed start-task created already (only when the
 * source is at the target: with no live source it reads nothing from DM). The same
 * plan the preview prints (the SourceBinding's diff) and `pulumi up` runs.
 */
export async function finishPlan(
    dm: DmClient,
    inputs: SourceBindingInputs,
    live: SourceInfo | undefined,
    stopped: StoppedTask[],
    olds: SourceBindingOutputs | undefined,
): Promise<SwitchPlan> {
    const want: Address = { host: inputs.host, port: inputs.port };
    const names = stopped.map((t) => t.name);
    const here = live !== undefined && sameAddress(live, want);
    // Settings the failed run did not get to (user, password, relay): the source is created again with them.
    const settings = here ? settingsChanges(inputs, live, olds) : [];
    return planFinishStopped({
        sourceId: inputs.sourceId,
        dmAddress: inputs.dm.address,
        stopped: names,
        created: here ? await startedAgain(dm, inputs.sourceId, names) : [],
        live: live && nameOf(inputs, live),
        liveRelay: !!live && needsNoRelayStart(live),
        to: nameOf(inputs, want),
        toAddress: want,
        relay: inputs.enableRelay,
        reconfigure: settings.length > 0 ? settings.join(", ") : undefined,
    });
}

/** The switch a finish plan runs: the ports of the target alone (no previous upstream is compared). */
export async function finishRun(
    dm: DmClient,
    inputs: SourceBindingInputs,
    plan: SwitchPlan,
    live: SourceInfo | undefined,
    stopped: StoppedTask[],
    log: (l: string) => void,
    kept: KeptSource,
): Promise<{ ports: SwitchPorts; gtidS: Record<string, string> }> {
    if (live && plan.steps.some((s) => s.kind === "stop-source")) {
        // Read before the source is stopped: it is created again from DM's own file of it.
        kept.file = (await dm.getSourceFile(inputs.sourceId)) ?? kept.file;
    }
    const ports = addressPorts(dm, inputs, { [plan.to]: { host: inputs.host, port: inputs.port } }, stopped, log, kept);
    return { ports, gtidS: Object.fromEntries(stopped.map((t) => [t.name, t.gtidS])) };
}
