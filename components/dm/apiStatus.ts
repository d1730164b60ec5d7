/**
 * dm-master's OpenAPI answers mapped to dm-switch's shapes: a subtask's status (`GET /tasks/{t}/status`),
 * shared by the OpenAPI transport's per-task read and its per-source read (./grpcStatus.ts, which maps
 * dm-master's gRPC answer to this shape first so that both read the same), and a source (`GET /sources`).
 * Pure: no I/O.
 */
import { oneLine, parseStage, SourceConfigInfo, SourceInfo, SubtaskStatus, subtaskStatus } from "./types";

export interface ApiSubtask {
    name?: string;
    source_name?: string;
    worker_name?: string;
    stage?: string;
    unit?: string;
    error_msg?: string;
    sync_status?: {
        syncer_binlog_gtid?: string;
        master_binlog_gtid?: string;
        dump_io_total_bytes?: number;
        binlog_type?: string;
    } | null;
}

/** DM's text on one line. */
export const line = (s: string | undefined) => oneLine(s ?? "");

export function subtaskFromApi(s: ApiSubtask, task: string): SubtaskStatus {
    return subtaskStatus({
        task: s.name ?? task,
        source: s.source_name ?? "",
        worker: s.worker_name ?? "",
        stage: s.stage,
        unit: s.unit,
        sync: s.sync_status && {
            syncerBinlogGtid: s.sync_status.syncer_binlog_gtid,
            masterBinlogGtid: s.sync_status.master_binlog_gtid,
            dumpIOTotalBytes: s.sync_status.dump_io_total_bytes,
            binlogType: s.sync_status.binlog_type,
        },
        // dm-master ends each error with ".\n": one entry per `[code=…]`.
        errors: s.error_msg
            ? line(s.error_msg)
                  .split(/(?=\[code=)/)
                  .map((m) => m.trim())
                  .filter((m) => m !== "")
            : [],
    });
}

export interface ApiSource {
    source_name?: string;
    host?: string;
    port?: number;
    user?: string;
    flavor?: string;
    enable_gtid?: boolean;
    relay_config?: { enable_relay?: boolean } | null;
    task_name_list?: string[] | null;
    status_list?: {
        worker_name?: string;
        error_msg?: string;
        relay_status?: {
            stage?: string;
            relay_binlog_gtid?: string;
            relay_catch_up_master?: boolean;
            relay_dir?: string;
        } | null;
    }[];
}

/** `GET /tasks` (no status): each task's name and its sources. Its target config holds the downstream password: read nothing else. */
export interface ApiTask {
    name?: string;
    source_config?: { source_conf?: { source_name?: string }[] | null } | null;
}

/** A source's configuration; `taskNames` from `task_name_list` (present with `with_status=true`) unless given. */
export function sourceConfigFromApi(s: ApiSource, taskNames?: string[]): SourceConfigInfo {
    return {
        id: s.source_name ?? "",
        host: s.host ?? "",
        port: s.port ?? 0,
        user: s.user ?? "",
        flavor: s.flavor ?? "",
        enableGtid: s.enable_gtid ?? false,
        enableRelay: s.relay_config?.enable_relay ?? false,
        taskNames: [...(taskNames ?? s.task_name_list ?? [])].sort(),
    };
}

/** Every source's configuration with its task names, from `GET /sources` and `GET /tasks` (both without status). */
export function sourceConfigsFromApi(sources: ApiSource[], tasks: ApiTask[]): SourceConfigInfo[] {
    const names = new Map<string, string[]>();
    for (const t of tasks) {
        for (const c of t.source_config?.source_conf ?? []) {
            if (t.name && c.source_name) {
                names.set(c.source_name, [...(names.get(c.source_name) ?? []), t.name]);
            }
        }
    }
    return sources.map((s) => sourceConfigFromApi(s, [...new Set(names.get(s.source_name ?? "") ?? [])]));
}

export function sourceFromApi(s: ApiSource): SourceInfo {
    const st = s.status_list?.[0];
    const relay = st?.relay_status;
    return {
        ...sourceConfigFromApi(s),
        worker: st?.worker_name ? st.worker_name : undefined,
        relay: relay
            ? {
                  stage: parseStage(relay.stage),
                  relayBinlogGtid: relay.relay_binlog_gtid ?? "",
                  relayCatchUpMaster: relay.relay_catch_up_master ?? false,
                  relaySubDir: relay.relay_dir ?? "",
                  errors: [],
              }
            : undefined,
        errors: (s.status_list ?? []).map((x) => line(x.error_msg)).filter((m) => m !== ""),
    };
}
