/** DM answers the unit tests build again and again: a Running subtask and a source's configuration. */
import type { SourceConfigInfo, SubtaskStatus } from "../../components/dm/types";

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
