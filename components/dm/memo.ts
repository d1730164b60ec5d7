/**
 * A DmClient whose reads are asked of dm-master once: for one pass of checks over many resources (a
 * policy pack's preview), where a source's Vip and SourceBinding both need the same source and task
 * status, and each status query costs dm-master ~100 ms with many workers. Changes (pause, resume,
 * stop, start, create) go straight through and are never cached.
 */
import { DmClient } from "./types";

export function memoizeReads(client: DmClient): DmClient {
    const memo = new Map<string, Promise<unknown>>();
    const once = <T>(key: string, read: () => Promise<T>): Promise<T> => {
        if (!memo.has(key)) {
            memo.set(key, read());
        }
        return memo.get(key) as Promise<T>;
    };
    return {
        ...client,
        endpoint: client.endpoint,
        getSource: (id) => once(`source ${id}`, () => client.getSource(id)),
        listSources: () => once("sources", () => client.listSources()),
        tasksOfSource: (id) => once(`tasks of ${id}`, () => client.tasksOfSource(id)),
        taskStatus: (task, sourceId) => once(`status ${task} ${sourceId ?? "*"}`, () => client.taskStatus(task, sourceId)),
        getTaskConfig: (task) => once(`config ${task}`, () => client.getTaskConfig(task)),
    };
}
