/**
 * Real dm-master answers (DM built from tiflow 1d4a644, MariaDB 10.11 source), recorded from a dm-master,
 * dm-worker and two MariaDB servers on loopback: dmctl JSON output and OpenAPI v1 bodies.
 */
export const recorded = {
    dmctlQueryStatusRunning: {
        result: true,
        msg: "",
        sources: [
            {
                result: true,
                msg: "",
                sourceStatus: {
                    source: "mariadb-01",
                    worker: "w1",
                    result: null,
                    relayStatus: null,
                },
                subTaskStatus: [
                    {
                        name: "task-s1",
                        stage: "Running",
                        unit: "Sync",
                        result: null,
                        unresolvedDDLLockID: "",
                        sync: {
                            totalEvents: "0",
                            totalTps: "0",
                            recentTps: "0",
                            masterBinlog: "(bin.000001, 2071)",
                            masterBinlogGtid: "0-11-10",
                            syncerBinlog: "(, 0)",
                            syncerBinlogGtid: "0-11-10",
                            blockingDDLs: [],
                            unresolvedGroups: [],
                            synced: true,
                            binlogType: "remote",
                            secondsBehindMaster: "0",
                            blockDDLOwner: "",
                            conflictMsg: "",
                            totalRows: "0",
                            totalRps: "0",
                            recentRps: "0",
                            ioTotalBytes: "13676",
                            dumpIOTotalBytes: "2885",
                        },
                        validation: null,
                    },
                ],
            },
        ],
    },
    dmctlQueryStatusPaused: {
        result: true,
        msg: "",
        sources: [
            {
                result: true,
                msg: "",
                sourceStatus: {
                    source: "mariadb-01",
                    worker: "w1",
                    result: null,
                    relayStatus: null,
                },
                subTaskStatus: [
                    {
                        name: "task-s1",
                        stage: "Paused",
                        unit: "Sync",
                        result: {
                            isCanceled: true,
                            errors: [],
                            detail: null,
                        },
                        unresolvedDDLLockID: "",
                        sync: {
                            totalEvents: "2",
                            totalTps: "0",
                            recentTps: "0",
                            masterBinlog: "(bin.000001, 2071)",
                            masterBinlogGtid: "0-11-10",
                            syncerBinlog: "(, 0)",
                            syncerBinlogGtid: "0-11-10",
                            blockingDDLs: [],
                            unresolvedGroups: [],
                            synced: true,
                            binlogType: "remote",
                            secondsBehindMaster: "0",
                            blockDDLOwner: "",
                            conflictMsg: "",
                            totalRows: "2",
                            totalRps: "0",
                            recentRps: "0",
                            ioTotalBytes: "25485",
                            dumpIOTotalBytes: "2993",
                        },
                        validation: null,
                    },
                ],
            },
        ],
    },
    dmctlQueryStatusOffline: {
        result: true,
        msg: "",
        sources: [
            {
                result: false,
                msg: "[code=38029:class=dm-master:scope=internal:level=high], Message: mariadb-01 relevant worker-client not found, Workaround: Please use list-member command to see if the some workers are offline.",
                sourceStatus: {
                    source: "mariadb-01",
                    worker: "",
                    result: null,
                    relayStatus: null,
                },
                subTaskStatus: [],
            },
        ],
    },
    dmctlQueryStatusUnknown: {
        result: false,
        msg: "task nope has no source or not exist",
        sources: [],
    },
    dmctlQueryStatusAll: {
        result: true,
        msg: "",
        tasks: [
            {
                taskName: "task-s1",
                taskStatus: "Running",
                sources: ["mariadb-01"],
            },
            {
                taskName: "task-s2",
                taskStatus: "Running",
                sources: ["mariadb-01"],
            },
        ],
    },
    dmctlPauseUnknown: {
        op: "Pause",
        result: false,
        msg: "task nope has no source or not exist, please check the task name and status",
        sources: [],
    },
    dmctlOperateSourceStopBusy: {
        result: false,
        msg: "[code=46010:class=dm-master:scope=internal:level=medium], Message: source with name mariadb-01 need to operate has existing tasks [task-s1 task-s2], Workaround: Please `stop-task` first.",
        sources: [],
    },
    dmctlGetConfigTask: {
        result: true,
        msg: "",
        cfg: 'name: task-s1\ntask-mode: incremental\nis-sharding: false\nshard-mode: ""\nstrict-optimistic-shard-mode: false\nignore-checking-items:\n- all\nmeta-schema: dm_meta\nenable-heartbeat: false\nheartbeat-update-interval: 1\nheartbeat-report-interval: 10\ntimezone: ""\ncase-sensitive: false\ncollation_compatible: loose\ntarget-database:\n  host: 127.0.0.1\n  port: 23307\n  user: dm\n  password: \'******\'\n  max-allowed-packet: null\n  session: {}\n  security: null\nmysql-instances:\n- source-id: mariadb-01\n  meta:\n    binlog-name: ""\n    binlog-pos: 0\n    binlog-gtid: 0-11-10\n  filter-rules: []\n  column-mapping-rules: []\n  route-rules: []\n  expression-filters: []\n  black-white-list: ""\n  block-allow-list: balist-01\n  mydumper-config-name: dump-01\n  mydumper: null\n  mydumper-thread: 0\n  loader-config-name: load-01\n  loader: null\n  loader-thread: 0\n  syncer-config-name: sync-01\n  syncer: null\n  syncer-thread: 0\n  validator-config-name: validator-01\nonline-ddl: true\nshadow-table-rules: []\ntrash-table-rules: []\nonline-ddl-scheme: ""\nroutes: {}\nfilters: {}\ncolumn-mappings: {}\nexpression-filter: {}\nblack-white-list: {}\nblock-allow-list:\n  balist-01:\n    do-tables: []\n    do-dbs:\n    - s1\n    ignore-tables: []\n    ignore-dbs: []\nmydumpers:\n  dump-01:\n    mydumper-path: ./bin/mydumper\n    threads: 4\n    chunk-filesize: "64"\n    statement-size: 0\n    rows: 0\n    where: ""\n    skip-tz-utc: true\n    extra-args: ""\nloaders:\n  load-01:\n    pool-size: 16\n    dir: ./dumped_data\n    sorting-dir-physical: ""\n    import-mode: logical\n    on-duplicate: ""\n    on-duplicate-logical: replace\n    on-duplicate-physical: none\n    disk-quota-physical: 0\n    checksum-physical: required\n    analyze: optional\n    range-concurrency: 0\n    compress-kv-pairs: ""\n    pd-addr: ""\nsyncers:\n  sync-01:\n    meta-file: ""\n    worker-count: 16\n    batch: 100\n    queue-size: 1024\n    checkpoint-flush-interval: 30\n    compact: false\n    multiple-rows: false\n    max-retry: 0\n    auto-fix-gtid: false\n    enable-gtid: false\n    disable-detect: false\n    safe-mode: false\n    safe-mode-duration: 60s\n    enable-ansi-quotes: false\nvalidators:\n  validator-01:\n    mode: none\n    worker-count: 4\n    validate-interval: 10s\n    check-interval: 5s\n    row-error-delay: 30m0s\n    meta-flush-interval: 5m0s\n    batch-query-size: 100\n    max-pending-row-size: 500m\n    max-pending-row-count: 2147483647\nclean-dump-file: true\nansi-quotes: false\nremove-meta: false\nexperimental:\n  async-checkpoint-flush: false\n',
    },
    dmctlGetConfigSource: {
        result: true,
        msg: "",
        cfg: 'enable: true\nenable-gtid: true\nauto-fix-gtid: false\nrelay-dir: relay-dir\nmeta-dir: ""\nflavor: mariadb\ncharset: ""\nenable-relay: false\nrelay-binlog-name: ""\nrelay-binlog-gtid: ""\nsource-id: mariadb-01\nfrom:\n  host: 127.0.0.1\n  port: 23306\n  user: dm\n  password: \'******\'\n  max-allowed-packet: null\n  session: {}\n  security: null\npurge:\n  interval: 3600\n  expires: 0\n  remain-space: 15\nchecker:\n  check-enable: true\n  backoff-rollback: 5m0s\n  backoff-max: 5m0s\n  check-interval: 5s\n  backoff-min: 1s\n  backoff-jitter: true\n  backoff-factor: 2\nserver-id: 429566161\ntracer: {}\ncase-sensitive: false\nfilters: []\n',
    },
    dmctlUnreachableStderr:
        "Error: [code=48001:class=dmctl:scope=internal:level=high], Message: can't connect to 127.0.0.1:1, RawCause: context deadline exceeded, Workaround: Please check your network connection.\n",
    apiStatusRunning: {
        data: [
            {
                name: "task-s1",
                source_name: "mariadb-01",
                stage: "Running",
                sync_status: {
                    binlog_type: "remote",
                    blocking_ddls: null,
                    dump_io_total_bytes: 2911,
                    io_total_bytes: 16522,
                    master_binlog: "(bin.000001, 2283)",
                    master_binlog_gtid: "0-11-11",
                    recent_tps: 0,
                    seconds_behind_master: 0,
                    synced: false,
                    syncer_binlog: "(, 0)",
                    syncer_binlog_gtid: "0-11-10",
                    total_events: 2,
                    total_tps: 0,
                    unresolved_groups: null,
                },
                unit: "Sync",
                unresolved_ddl_lock_id: "",
                worker_name: "w1",
            },
        ],
        total: 1,
    },
    apiStatusPaused: {
        data: [
            {
                name: "task-s1",
                source_name: "mariadb-01",
                stage: "Paused",
                sync_status: {
                    binlog_type: "remote",
                    blocking_ddls: null,
                    dump_io_total_bytes: 2911,
                    io_total_bytes: 20209,
                    master_binlog: "(bin.000001, 2283)",
                    master_binlog_gtid: "0-11-11",
                    recent_tps: 0,
                    seconds_behind_master: 0,
                    synced: true,
                    syncer_binlog: "(bin.000001, 2283)",
                    syncer_binlog_gtid: "0-11-11",
                    total_events: 3,
                    total_tps: 0,
                    unresolved_groups: null,
                },
                unit: "Sync",
                unresolved_ddl_lock_id: "",
                worker_name: "w1",
            },
        ],
        total: 1,
    },
    apiStatusOffline: {
        data: [
            {
                error_msg:
                    "[code=38029:class=dm-master:scope=internal:level=high], Message: mariadb-01 relevant worker-client not found, Workaround: Please use list-member command to see if the some workers are offline.",
                name: "task-s1",
                source_name: "mariadb-01",
                stage: "",
                unit: "",
                worker_name: "",
            },
        ],
        total: 1,
    },
    apiStatusUnknown: {
        error_code: 46018,
        error_msg:
            "[code=46018:class=scheduler:scope=internal:level=medium], Message: task with name nope not exist, Workaround: Please use `query-status` command to see tasks.",
    },
    apiSource: {
        enable: true,
        enable_gtid: true,
        flavor: "mariadb",
        host: "127.0.0.1",
        password: "******",
        port: 23306,
        purge: {
            expires: 0,
            interval: 3600,
            remain_space: 15,
        },
        relay_config: {
            enable_relay: false,
            relay_binlog_gtid: "",
            relay_binlog_name: "",
            relay_dir: "relay-dir",
        },
        security: null,
        source_name: "mariadb-01",
        status_list: [
            {
                source_name: "mariadb-01",
                worker_name: "w1",
            },
        ],
        task_name_list: ["task-s2", "task-s1"],
        user: "dm",
    },
    apiSourceOffline: {
        enable: true,
        enable_gtid: true,
        flavor: "mariadb",
        host: "127.0.0.1",
        password: "******",
        port: 23306,
        purge: {
            expires: 0,
            interval: 3600,
            remain_space: 15,
        },
        relay_config: {
            enable_relay: false,
            relay_binlog_gtid: "",
            relay_binlog_name: "",
            relay_dir: "relay-dir",
        },
        security: null,
        source_name: "mariadb-01",
        status_list: [
            {
                error_msg:
                    "[code=38029:class=dm-master:scope=internal:level=high], Message: mariadb-01 relevant worker-client not found, Workaround: Please use list-member command to see if the some workers are offline.",
                source_name: "mariadb-01",
                worker_name: "",
            },
        ],
        task_name_list: ["task-s2", "task-s1"],
        user: "dm",
    },
    apiDeleteSourceBusy: {
        error_code: 46010,
        error_msg:
            "[code=46010:class=dm-master:scope=internal:level=medium], Message: source with name mariadb-01 need to operate has existing tasks [task-s1 task-s2], Workaround: Please `stop-task` first.",
    },
};
