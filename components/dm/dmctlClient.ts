/**
 * The dmctl transport: every operation is one or a few dmctl runs (≈ 0.1 s each, more under load).
 * stopTask, startTask and getTaskConfig here serve the OpenAPI transport too (see ./openapi.ts).
 */
import { readGeneratedYaml, runDmctl } from "./dmctl";
import { maskSourceFile, overlaySourceFile, sourceFileAddress, sourceFileUser } from "./sourceFile";
import { editTaskFile, taskNameOf } from "./taskFile";
import { DmctlSourceStatus, messages, relayFrom, subtasksFromQueryStatus, subtasksOfSource } from "./dmctlStatus";
import {
    DmClient,
    DmEndpoint,
    DmError,
    DmSourceConfig,
    oneLine,
    SourceConfigInfo,
    SourceInfo,
    StartTaskOptions,
} from "./types";

// query-status answers are read in ./dmctlStatus.ts; importers of this module keep these names.
export { subtasksFromQueryStatus, subtasksOfSource } from "./dmctlStatus";

/** The source config file `operate-source create` reads; strings JSON-quoted (valid YAML). */
export function sourceYaml(cfg: DmSourceConfig): string {
    const q = JSON.stringify;
    return [
        `source-id: ${q(cfg.id)}`,
        `flavor: ${q(cfg.flavor)}`,
        `enable-gtid: ${cfg.enableGtid}`,
        `enable-relay: ${cfg.enableRelay ?? false}`,
        ...(cfg.relayBinlogGtid ? [`relay-binlog-gtid: ${q(cfg.relayBinlogGtid)}`] : []),
        "from:",
        `  host: ${q(cfg.host)}`,
        `  port: ${cfg.port}`,
        `  user: ${q(cfg.user)}`,
        `  password: ${q(cfg.password)}`,
        "",
    ].join("\n");
}

/** `get-config source`: DM's whole configuration of the source (password masked); undefined when DM has none. */
export async function dmctlGetSourceFile(ep: DmEndpoint, id: string): Promise<string | undefined> {
    try {
        const reply = await runDmctl(ep, {
            operation: "get-config source",
            target: id,
            args: ["get-config", "source", id],
        });
        // DM masks the password itself; masked again so that no DM version's answer can carry it further.
        return maskSourceFile(String(reply.cfg ?? ""));
    } catch (err) {
        if (err instanceof DmError && /source not found/.test(err.message)) {
            return undefined;
        }
        throw err;
    }
}

/** `operate-source create` from a file: DM's own (cfg.baseFile, the fields dm-switch sets overlaid) or a new one. */
export async function dmctlCreateSource(ep: DmEndpoint, cfg: DmSourceConfig): Promise<void> {
    let file: string;
    try {
        file = cfg.baseFile !== undefined ? overlaySourceFile(cfg.baseFile, cfg) : sourceYaml(cfg);
    } catch (err) {
        throw new DmError(
            `operate-source create ${cfg.id}: ${(err as Error).message}. Pass DM's configuration of this source (get-config source ${cfg.id}).`,
            "operate-source create",
            cfg.id,
        );
    }
    try {
        await runDmctl(ep, {
            operation: "operate-source create",
            target: cfg.id,
            args: ["operate-source", "create", "{file:source.yaml}", ...(cfg.workerName ? ["-w", cfg.workerName] : [])],
            files: { "source.yaml": file },
            secrets: [cfg.password],
        });
    } catch (err) {
        // dm-master answers 38045 ("fail to get expected result") when no dm-worker confirms the source in time
        // (none free, or the worker restarting), with the source already stored: DM binds it once a worker
        // comes, as POST /sources does without waiting. Stored as asked is created; anything else failed.
        if (!(err instanceof DmError && err.code === WORKER_DID_NOT_CONFIRM)) {
            throw err;
        }
        const stored = await dmctlGetSourceFile(ep, cfg.id).catch(() => undefined);
        const at = stored === undefined ? undefined : sourceFileAddress(stored);
        if (!stored || at?.host !== cfg.host || at.port !== cfg.port || sourceFileUser(stored) !== cfg.user) {
            throw err;
        }
    }
}

/** DM's answer when a worker does not confirm an operation in time (the operation itself may be stored). */
const WORKER_DID_NOT_CONFIRM = 38045;

/** `start-relay -s <id> <worker>`: starts relay on the worker without touching the source's configuration. */
export async function dmctlStartRelay(ep: DmEndpoint, id: string, worker: string): Promise<void> {
    await runDmctl(ep, { operation: "start-relay", target: id, args: ["start-relay", "-s", id, worker] });
}

/** `stop-task`: removes the subtasks; DM keeps the downstream checkpoint. */
export async function dmctlStopTask(ep: DmEndpoint, task: string): Promise<void> {
    await runDmctl(ep, { operation: "stop-task", target: task, args: ["stop-task", task] });
}

/** `start-task <file>` with meta rewritten to gtid-S; never `--remove-meta`. */
export async function dmctlStartTask(ep: DmEndpoint, taskConfig: string, opts: StartTaskOptions = {}): Promise<void> {
    const name = taskNameOf(taskConfig) ?? "(unnamed task)";
    let file: string;
    try {
        file = editTaskFile(taskConfig, opts);
    } catch (err) {
        throw new DmError(
            `start-task ${name}: ${(err as Error).message}. Pass the task's own configuration file.`,
            "start-task",
            name,
        );
    }
    const secrets = opts.targetPassword ? [opts.targetPassword] : [];
    const pw = /^\s*password:\s*(.+?)\s*$/m.exec(file)?.[1]?.replace(/^(["'])(.*)\1$/, "$2");
    if (pw && pw !== "******") {
        secrets.push(pw);
    }
    await runDmctl(ep, {
        operation: "start-task",
        target: name,
        args: ["start-task", "{file:task.yaml}"],
        files: { "task.yaml": file },
        secrets,
    });
}

/** `get-config task`: the YAML DM rebuilds from its subtasks (target password masked). */
export async function dmctlGetTaskConfig(ep: DmEndpoint, task: string): Promise<string> {
    const reply = await runDmctl(ep, {
        operation: "get-config task",
        target: task,
        args: ["get-config", "task", task],
    });
    return String(reply.cfg ?? "");
}

export function createDmctlClient(ep: DmEndpoint): DmClient {
    const run = (operation: string, target: string, args: string[], tolerate = false) =>
        runDmctl(ep, { operation, target, args, tolerateSourceFailures: tolerate });

    const allTasks = async () => {
        const reply = await run("query-status", "(all tasks)", ["query-status"]);
        return ((reply.tasks ?? []) as { taskName?: string; sources?: string[] }[]).map((t) => ({
            name: t.taskName ?? "",
            sources: t.sources ?? [],
        }));
    };

    /** `get-config source`: DM's configuration of the source; undefined when DM has none. */
    const configYaml = async (id: string): Promise<Map<string, string> | undefined> => {
        try {
            return readGeneratedYaml(
                String((await run("get-config source", id, ["get-config", "source", id])).cfg ?? ""),
            );
        } catch (err) {
            if (err instanceof DmError && /source not found/.test(err.message)) {
                return undefined;
            }
            throw err;
        }
    };

    const configFrom = (
        id: string,
        y: Map<string, string>,
        tasks: { name: string; sources: string[] }[],
    ): SourceConfigInfo => ({
        id,
        host: y.get("from.host") ?? "",
        port: Number(y.get("from.port") ?? 0),
        user: y.get("from.user") ?? "",
        flavor: y.get("flavor") ?? "",
        enableGtid: y.get("enable-gtid") === "true",
        enableRelay: y.get("enable-relay") === "true",
        taskNames: tasks
            .filter((t) => t.sources.includes(id))
            .map((t) => t.name)
            .sort(),
    });

    const getSource = async (id: string): Promise<SourceInfo | undefined> => {
        const y = await configYaml(id);
        if (!y) {
            return undefined;
        }
        const [tasks, status] = await Promise.all([
            allTasks(),
            run("query-status", id, ["query-status", "-s", id], true),
        ]);
        const src = (status.sources ?? [])[0] as DmctlSourceStatus | undefined;
        const worker = src?.sourceStatus?.worker;
        return {
            ...configFrom(id, y, tasks),
            worker: worker ? worker : undefined,
            relay: relayFrom(src),
            errors: [
                ...(src?.result === false && src.msg ? [oneLine(src.msg)] : []),
                ...messages(src?.sourceStatus?.result),
            ],
        };
    };

    const sourceIds = async () => {
        const reply = await run("operate-source show", "(all sources)", ["operate-source", "show"], true);
        return [...new Set((reply.sources ?? []).map((s) => s.source ?? "").filter((s) => s !== ""))];
    };

    return {
        endpoint: ep,
        getSource,
        async listSources() {
            const all = await Promise.all((await sourceIds()).map(getSource));
            return all.filter((s): s is SourceInfo => s !== undefined);
        },
        async getSourceConfig(id) {
            const y = await configYaml(id);
            return y && configFrom(id, y, await allTasks());
        },
        async listSourceConfigs() {
            // dmctl's task list is one query-status of every source (dm-master asks each worker once): read it once.
            const [ids, tasks] = await Promise.all([sourceIds(), allTasks()]);
            const all = await Promise.all(
                ids.map(async (id) => {
                    const y = await configYaml(id);
                    return y && configFrom(id, y, tasks);
                }),
            );
            return all.filter((s): s is SourceConfigInfo => s !== undefined);
        },
        getSourceFile: (id) => dmctlGetSourceFile(ep, id),
        createSource: (cfg) => dmctlCreateSource(ep, cfg),
        async stopSource(id) {
            await run("operate-source stop", id, ["operate-source", "stop", id]);
        },
        async startRelay(id, worker) {
            await run("start-relay", id, ["start-relay", "-s", id, worker]);
        },
        async stopRelay(id, worker) {
            await run("stop-relay", id, ["stop-relay", "-s", id, worker]);
        },
        async tasksOfSource(id) {
            // get-config fails for an unknown source: the same answer as the OpenAPI transport.
            const [tasks] = await Promise.all([allTasks(), run("list tasks", id, ["get-config", "source", id])]);
            return tasks
                .filter((t) => t.sources.includes(id))
                .map((t) => t.name)
                .sort();
        },
        async taskStatus(task, sourceId) {
            const reply = await run(
                "query-status",
                task,
                ["query-status", task, ...(sourceId ? ["-s", sourceId] : [])],
                true,
            );
            return subtasksFromQueryStatus(task, reply).filter((s) => sourceId === undefined || s.source === sourceId);
        },
        async sourceTaskStatus(sourceId) {
            return subtasksOfSource(
                sourceId,
                await run("query-status", sourceId, ["query-status", "-s", sourceId], true),
            );
        },
        async pauseTask(task, sourceIds) {
            await run("pause-task", task, ["pause-task", task, ...(sourceIds ?? []).flatMap((s) => ["-s", s])]);
        },
        async resumeTask(task, sourceIds) {
            await run("resume-task", task, ["resume-task", task, ...(sourceIds ?? []).flatMap((s) => ["-s", s])]);
        },
        getTaskConfig: (task) => dmctlGetTaskConfig(ep, task),
        stopTask: (task) => dmctlStopTask(ep, task),
        startTask: (taskConfig, opts) => dmctlStartTask(ep, taskConfig, opts),
    };
}
