/**
 * A subtask's status as dm-master's OpenAPI reports it (`GET /tasks/{t}/status`), mapped to SubtaskStatus:
 * shared by the OpenAPI transport's per-task read and its per-source read (./grpcStatus.ts), which maps
 * dm-master's gRPC answer to this shape first so that both read the same.
 */
import { bytesOf, parseStage, SubtaskStatus } from "./types";

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
export const line = (s: string | undefined) => (s ?? "").replace(/\s+/g, " ").trim();

export function subtaskFromApi(s: ApiSubtask, task: string): SubtaskStatus {
    return {
        task: s.name ?? task,
        source: s.source_name ?? "",
        worker: s.worker_name ?? "",
        stage: parseStage(s.stage),
        rawStage: s.stage ?? "",
        unit: s.unit ?? "",
        syncerBinlogGtid: s.sync_status?.syncer_binlog_gtid ?? "",
        masterBinlogGtid: s.sync_status?.master_binlog_gtid ?? "",
        ...bytesOf(s.sync_status?.binlog_type === "local" ? undefined : s.sync_status?.dump_io_total_bytes),
        // dm-master ends each error with ".\n": one entry per `[code=…]`.
        errors: s.error_msg
            ? line(s.error_msg)
                  .split(/(?=\[code=)/)
                  .map((m) => m.trim())
                  .filter((m) => m !== "")
            : [],
    };
}
