/** Per dm-master address: the tail of its queue of status queries. */
const statusQueues = new Map<string, Promise<unknown>>();

/**
 * Runs `fn` after every status query already asked of `address` has finished. Seen here: 10 task-status
 * queries at once took 1 s, one after another 5–10 ms each. The cause found since: dm-master sends each
 * request to a dm-worker through a token bucket (`rpc-rate-limit` 10 a second after a burst of
 * `rpc-rate-burst` 40, dm/master/agent_pool.go), so once the bucket is empty every worker request waits
 * ~100 ms however it is asked: what costs is the number of worker requests (./memo.ts).
 */
function oneAtATime<T>(address: string, fn: () => Promise<T>): Promise<T> {
    const run = (statusQueues.get(address) ?? Promise.resolve()).then(fn, fn);
    statusQueues.set(
        address,
        run.catch(() => undefined),
    );
    return run;
}

/**
 * The OpenAPI v1 transport (DM ≥ 6.0, dm-master `openapi = true`). Requests go over one keep-alive
 * agent so that polling costs a few milliseconds; with TLS the agent carries the CA and client cert.
 *
 * What the API cannot do, and why stop/start-task go through dmctl here:
 * - `DELETE /api/v1/tasks/{t}` always drops the downstream checkpoint and metadata in the DM this
 *   project is built against (dm/master/openapi_controller.go `deleteTask` → `removeMetaData`).
 *   tiflow#12757 (July 2026) adds `?keep_meta=true`, but older masters ignore unknown query
 *   parameters and would drop the checkpoint silently, so dm-switch never sends it.
 * - `DELETE /api/v1/sources/{s}?force=true` removes the source's subtasks without touching meta, but it
 *   stops the source too and rebuilding the task needs its full config: `GET /api/v1/tasks/{t}` returns
 *   the downstream password in clear and a lossy conversion of the task.
 * So stopTask, startTask and getTaskConfig run dmctl (`stop-task`, `start-task <file>`, `get-config
 * task`) — dmctlPath must be set for them. Everything on the VIP path (status, pause, resume) is HTTP,
 * but the status of every task of a source at once: dm-master's gRPC QueryStatus (./grpcStatus.ts).
 * Likewise getSourceFile and createSource from a base file (`get-config source`, `operate-source create
 * <file>`): `GET /sources/{s}` answers only some of a source's fields and `POST /sources` sets the
 * others (case-sensitive, filters, checker, from.session, …) to DM's defaults.
 *
 * Other findings against a real dm-master: `POST /tasks/{t}/stop` without `source_name_list` answers
 * 200 for a task that does not exist, so pause/resume always name the sources; `GET …/status` ignores
 * its `source_name_list` filter; `GET /sources/{s}` answers 404 with an empty body for an unknown source;
 * `DELETE /sources/{s}` (no force) refuses while tasks exist, like `operate-source stop`;
 * `POST /sources` echoes the password, so no response body ever reaches an error text.
 */
import { ApiSource, ApiSubtask, ApiTask, sourceConfigsFromApi, sourceFromApi, subtaskFromApi } from "./apiStatus";
import {
    dmctlCreateSource,
    dmctlGetSourceFile,
    dmctlGetTaskConfig,
    dmctlStartRelay,
    dmctlStartTask,
    dmctlStopTask,
} from "./dmctlClient";
import { grpcSourceStatus } from "./grpcStatus";
import { openApiCaller } from "./openapiHttp";
import { configOf, DmClient, DmEndpoint, DmError, SourceInfo, SubtaskStatus } from "./types";

/** DM's answer to POST /sources with relay on after it has created the source and started relay (see createSource). */
const RELAY_STARTED_TWICE = 46030;

// The OpenAPI's answers mapped to dm-switch's shapes live in ./apiStatus.ts; importers of this module keep their names.
export { sourceConfigFromApi, sourceConfigsFromApi, sourceFromApi, subtaskFromApi } from "./apiStatus";

/**
 * The OpenAPI client of `ep.address`: one dm-master, or several (`a:8261,b:8261,c:8261`, ./address.ts)
 * tried in turn from the one that answered last (./openapiHttp.ts). `log` hears which member answers,
 * when that changes. @default log none
 */
export function createOpenApiClient(ep: DmEndpoint, log?: (line: string) => void): DmClient {
    const request = openApiCaller(ep, log);
    const call = (method: string, path: string, operation: string, target: string, body?: unknown) =>
        request({ method, path, operation, target, body });
    /** A request that does the same when sent twice (DM sets the task's expected stage). */
    const repeatable = (path: string, operation: string, target: string, body: unknown) =>
        request({ method: "POST", path, operation, target, body, idempotent: true });
    const get = (path: string, operation: string, target: string) => call("GET", path, operation, target);
    const enc = encodeURIComponent;

    const taskStatus = async (
        task: string,
        sourceId?: string,
        operation = "query-status",
    ): Promise<SubtaskStatus[]> => {
        const r = await oneAtATime(ep.address, () => get(`/tasks/${enc(task)}/status`, operation, task));
        if (r.status === 404) {
            throw new DmError(
                `${operation} ${task} failed: task ${task} does not exist. Check the task name (GET /api/v1/tasks).`,
                operation,
                task,
            );
        }
        const data = ((r.body as { data?: ApiSubtask[] })?.data ?? []).map((s) => subtaskFromApi(s, task));
        // dm-master ignores source_name_list on this path: filter here.
        return sourceId === undefined ? data : data.filter((s) => s.source === sourceId);
    };

    /** pause/resume name their sources: without a list, DM answers 200 for a task that does not exist. */
    const sourcesOf = async (task: string, operation: string, sourceIds?: string[]) =>
        sourceIds && sourceIds.length > 0
            ? sourceIds
            : [...new Set((await taskStatus(task, undefined, operation)).map((s) => s.source))];

    const getSource = async (id: string): Promise<SourceInfo | undefined> => {
        const r = await get(`/sources/${enc(id)}?with_status=true`, "get source", id);
        return r.status === 404 ? undefined : sourceFromApi(r.body as ApiSource);
    };

    return {
        endpoint: ep,
        getSource,
        async listSources() {
            const r = await get("/sources?with_status=true", "list sources", ep.address);
            return ((r.body as { data?: ApiSource[] })?.data ?? []).map(sourceFromApi);
        },
        getSourceFile: (id) => dmctlGetSourceFile(ep, id),
        async createSource(cfg) {
            if (cfg.baseFile !== undefined) {
                // POST /sources would reset every field its body does not carry to DM's default.
                return dmctlCreateSource(ep, cfg);
            }
            const source = {
                source_name: cfg.id,
                host: cfg.host,
                port: cfg.port,
                user: cfg.user,
                password: cfg.password,
                flavor: cfg.flavor,
                enable_gtid: cfg.enableGtid,
                enable: true,
                relay_config: {
                    enable_relay: cfg.enableRelay ?? false,
                    ...(cfg.relayBinlogGtid ? { relay_binlog_gtid: cfg.relayBinlogGtid } : {}),
                },
            };
            try {
                await request({
                    method: "POST",
                    path: "/sources",
                    operation: "operate-source create",
                    target: cfg.id,
                    body: { source, ...(cfg.workerName ? { worker_name: cfg.workerName } : {}) },
                    secrets: [cfg.password],
                });
            } catch (err) {
                // With relay on, this DM creates the source, starts relay from its configuration for the bound
                // worker, then starts relay a second time and answers 46030 ("can't `start-relay` with worker
                // name"): the source exists with relay on, as asked. Anything else is a real failure.
                if (!(cfg.enableRelay && err instanceof DmError && err.code === RELAY_STARTED_TWICE)) {
                    throw err;
                }
                const created = await getSource(cfg.id);
                if (!created?.enableRelay) {
                    throw err;
                }
            }
        },
        async startRelay(id, worker) {
            // DM 2409e0b answers POST …/relay/enable while the source's tasks run with error 46025 ("can only be
            // updated when relay is disabled and no tasks are running"), where dmctl start-relay starts it (seen
            // live on MySQL 9.7, tests/integration/mysqlRelay.test.ts): dmctl when it is configured.
            if (ep.dmctlPath) {
                return dmctlStartRelay(ep, id, worker);
            }
            await call("POST", `/sources/${enc(id)}/relay/enable`, "start-relay", id, { worker_name_list: [worker] });
        },
        async stopRelay(id, worker) {
            await call("POST", `/sources/${enc(id)}/relay/disable`, "stop-relay", id, { worker_name_list: [worker] });
        },
        async stopSource(id) {
            // No force: like operate-source stop, DM refuses while tasks exist (force would remove their subtasks).
            const r = await call("DELETE", `/sources/${enc(id)}`, "operate-source stop", id);
            if (r.status === 404) {
                throw new DmError(
                    `operate-source stop ${id} failed: source ${id} does not exist. Check the source id (GET /api/v1/sources).`,
                    "operate-source stop",
                    id,
                );
            }
        },
        async tasksOfSource(id) {
            const s = await getSource(id);
            if (!s) {
                throw new DmError(
                    `list tasks of source ${id} failed: source ${id} does not exist. Check the source id (GET /api/v1/sources).`,
                    "list tasks",
                    id,
                );
            }
            return s.taskNames;
        },
        async getSourceConfig(id) {
            const s = await getSource(id);
            return s && configOf(s);
        },
        async listSourceConfigs() {
            // Neither request reaches a dm-worker; GET /tasks answers each task's full config (with the
            // downstream password): only names are kept, and call() never puts a body into an error.
            const [sources, tasks] = await Promise.all([
                get("/sources", "list sources", ep.address),
                get("/tasks", "list tasks", ep.address),
            ]);
            return sourceConfigsFromApi(
                (sources.body as { data?: ApiSource[] })?.data ?? [],
                (tasks.body as { data?: ApiTask[] })?.data ?? [],
            );
        },
        taskStatus: (task, sourceId) => taskStatus(task, sourceId),
        // One worker request for every task of the source, through dm-master's gRPC (./grpcStatus.ts: it tries the members itself).
        sourceTaskStatus: grpcSourceStatus(ep),
        async pauseTask(task, sourceIds) {
            await repeatable(`/tasks/${enc(task)}/stop`, "pause-task", task, {
                source_name_list: await sourcesOf(task, "pause-task", sourceIds),
            });
        },
        async resumeTask(task, sourceIds) {
            await repeatable(`/tasks/${enc(task)}/start`, "resume-task", task, {
                source_name_list: await sourcesOf(task, "resume-task", sourceIds),
                remove_meta: false,
            });
        },
        getTaskConfig: (task) => dmctlGetTaskConfig(ep, task),
        stopTask: (task) => dmctlStopTask(ep, task),
        startTask: (taskConfig, opts) => dmctlStartTask(ep, taskConfig, opts),
    };
}

// The HTTP of one request and of the members' failover: ./openapiHttp.ts; importers of this module keep the name.
export { tlsFailure } from "./openapiHttp";
