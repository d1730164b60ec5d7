/**
 * DM's address procedure for a SourceBinding (./sourceBindingProvider.ts): its ports (stop/start of tasks,
 * re-creation of the source from DM's own file of it) and the finish of a switch a failed run left with the
 * tasks stopped. Tasks are never started against a target that fails the rule.
 */
import { DmClient, SourceConfig, SourceInfo, waitForStage } from "../dm";
import { RuleViolationError, SwitchPorts } from "../switch/execute";
import { settleAll } from "../switch/livePorts";
import { resolveOptions, timeoutsOf } from "../switch/options";
import { Address } from "../switch/plan";
import { decideWaitingOnce } from "../switch/rule";
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
 * Relay on as the inputs ask, for a source re-created with relay off by an address switch that stopped
 * before its start-relay step: started explicitly on the source's worker.
 */
export async function ensureRelay(dm: DmClient, inputs: SourceBindingInputs, log: (l: string) => void): Promise<void> {
    if (!inputs.enableRelay) {
        return;
    }
    const s = await dm.getSource(inputs.sourceId);
    if (s && !s.enableRelay && !s.relay && s.worker) {
        log(`start-relay -s ${inputs.sourceId} ${s.worker} (relay is on in the inputs, off in DM)`);
        await dm.startRelay(inputs.sourceId, s.worker);
    }
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

/** A previous run stopped the tasks and failed: finish the switch forward, never starting against a bad target. */
export async function finishStopped(
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
