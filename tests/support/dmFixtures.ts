/**
 * DM answers the unit tests build again and again (a Running subtask, a source's configuration, a
 * source as DM lists it), and a DM client that answers reads from them and refuses every change.
 */
import type { DmClient } from "../../components/dm";
import type { SourceConfigInfo, SourceInfo, SubtaskStatus } from "../../components/dm/types";

/** A subtask of `task` on `source`, Running in the Sync unit at gtid 0-1-100; `over` changes any field. */
export function runningSubtask(task: string, source: string, over: Partial<SubtaskStatus> = {}): SubtaskStatus {
    return {
        task,
        source,
        worker: `w-${source}`,
        stage: "Running",
        rawStage: "Running",
        unit: "Sync",
        syncerBinlogGtid: "0-1-100",
        masterBinlogGtid: "",
        errors: [],
        ...over,
    };
}

/** A MariaDB source at 127.0.0.1:3306 with GTID on and relay off, as DM lists it; `over` changes any field. */
export function sourceConfigInfo(id: string, over: Partial<SourceConfigInfo> = {}): SourceConfigInfo {
    return {
        id,
        host: "127.0.0.1",
        port: 3306,
        user: "dm",
        flavor: "mariadb",
        enableGtid: true,
        enableRelay: false,
        taskNames: [],
        ...over,
    };
}

/** The source `id` as DM lists it: {@link sourceConfigInfo} with no worker and no error; `over` changes any field. */
export function sourceInfo(id: string, over: Partial<SourceInfo> = {}): SourceInfo {
    return { ...sourceConfigInfo(id), errors: [], ...over };
}

/**
 * DM with sources s1 and s2 (registered at `at`), each with one Running task (`task-s1` at 0-1-100,
 * `task-s2` at 0-1-200). Each read is noted in `calls` (`getSourceConfig s1`, `taskStatus task-s2`, …);
 * every change is rejected: a check must not change DM.
 */
export function fakeDm(calls: string[], at: { host: string; port: number }): DmClient {
    const cfg = (id: string) => sourceConfigInfo(id, { ...at, taskNames: [`task-${id}`] });
    const status = (task: string, source: string) =>
        runningSubtask(task, source, { syncerBinlogGtid: source === "s1" ? "0-1-100" : "0-1-200" });
    const never = () => Promise.reject(new Error("a check must not change DM"));
    return {
        endpoint: { transport: "openapi", address: "127.0.0.1:8261" },
        getSource: async (id) => (calls.push(`getSource ${id}`), undefined),
        listSources: async () => (calls.push("listSources"), []),
        getSourceConfig: async (id) => (calls.push(`getSourceConfig ${id}`), cfg(id)),
        listSourceConfigs: async () => (calls.push("listSourceConfigs"), [cfg("s1"), cfg("s2")]),
        tasksOfSource: async (id) => (calls.push(`tasksOfSource ${id}`), [`task-${id}`]),
        taskStatus: async (task) => (calls.push(`taskStatus ${task}`), [status(task, task.replace("task-", ""))]),
        getSourceFile: async (id) => (calls.push(`getSourceFile ${id}`), undefined),
        sourceTaskStatus: async (id) => (
            calls.push(`sourceTaskStatus ${id}`),
            { source: id, subtasks: [status(`task-${id}`, id)] }
        ),
        createSource: never,
        stopSource: never,
        startRelay: never,
        stopRelay: never,
        pauseTask: never,
        resumeTask: never,
        getTaskConfig: never,
        stopTask: never,
        startTask: never,
    };
}
