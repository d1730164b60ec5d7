/**
 * A DmClient whose reads are asked of dm-master once: for one pass of checks over many resources (a
 * policy pack's preview), where a source's Vip and SourceBinding both need the same source and task
 * status. Changes (pause, resume, stop, start, create) go straight through and are never cached.
 *
 * What a read costs is the number of dm-workers dm-master asks: dm-master sends worker requests
 * through a token bucket (`rpc-rate-limit` 10 a second, `rpc-rate-burst` 40, shared by every client),
 * so past 40 every status read waits ~100 ms for a token. Hence, besides asking once:
 * - getSourceConfig answers from one listSourceConfigs, which asks no worker at all;
 * - sourceTaskStatus (every task of a source, one worker request) is asked once per source;
 * - over the OpenAPI, taskStatus reads the whole task once and filters by source: dm-master asks every
 *   source's worker of the task whatever the filter, so per-source reads of a task on k sources would
 *   cost k² worker requests instead of k. (dmctl asks only the named source: read per source there.)
 */
import { DmClient } from "./types";

/** `client` with every read asked once (see above); the memo lives as long as the returned client. */
export function memoizeReads(client: DmClient): DmClient {
    const memo = new Map<string, Promise<unknown>>();
    const once = <T>(key: string, read: () => Promise<T>): Promise<T> => {
        if (!memo.has(key)) {
            memo.set(key, read());
        }
        return memo.get(key) as Promise<T>;
    };
    const configs = () => once("source configs", () => client.listSourceConfigs());
    const wholeTask = client.endpoint.transport === "openapi";
    return {
        ...client,
        endpoint: client.endpoint,
        getSource: (id) => once(`source ${id}`, () => client.getSource(id)),
        listSources: () => once("sources", () => client.listSources()),
        getSourceConfig: async (id) => (await configs()).find((s) => s.id === id),
        listSourceConfigs: configs,
        tasksOfSource: (id) => once(`tasks of ${id}`, () => client.tasksOfSource(id)),
        taskStatus: async (task, sourceId) => {
            if (!wholeTask) {
                return once(`status ${task} ${sourceId ?? "*"}`, () => client.taskStatus(task, sourceId));
            }
            const all = await once(`status ${task} *`, () => client.taskStatus(task));
            return sourceId === undefined ? all : all.filter((s) => s.source === sourceId);
        },
        sourceTaskStatus: (id) => once(`status of source ${id}`, () => client.sourceTaskStatus(id)),
        getTaskConfig: (task) => once(`config ${task}`, () => client.getTaskConfig(task)),
    };
}
