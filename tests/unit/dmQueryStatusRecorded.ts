/**
 * Real dm-master answers recorded from the sandbox (DM v9.0.0-alpha-1d4a644, MariaDB source, one dm-worker,
 * tasks sandbox_task_0 and sandbox_task_1): the bytes of gRPC `pb.Master/QueryStatus` for the source (no task
 * name), base64, and right after them each task's OpenAPI `GET /tasks/{t}/status` body. States: task 0 Running
 * and task 1 Paused; task 0 Paused by a DML error (its downstream table dropped); the dm-worker stopped.
 * The Running task's counters (tps, events) move between the two reads; the fields dm-switch reads do not.
 */
export const queryStatusRecorded = {
    runningAndPaused: {
        grpc: "CAEa/wEIARoZCg5zYW5kYm94LXNvdXJjZRIHd29ya2VyMSJxCg5zYW5kYm94X3Rhc2tfMBACGARSWwgIEAgYCCIVKGJpbmxvZy4wMDAwMDEsIDE2MDgpKgUwLTEtNjIVKGJpbmxvZy4wMDAwMDEsIDExNzYpOgUwLTEtNFoGcmVtb3RleAiAAQiIAQiQAeWtAZgBiRcibQoOc2FuZGJveF90YXNrXzEQAxgEIgIIAVJTCAoiFShiaW5sb2cuMDAwMDAxLCAxNjA4KSoFMC0xLTYyFShiaW5sb2cuMDAwMDAxLCAxNjA4KToFMC0xLTZQAVoGcmVtb3RleAqQAfO5AZgBpxc=",
        api: {
            sandbox_task_0: {
                data: [
                    {
                        name: "sandbox_task_0",
                        source_name: "sandbox-source",
                        stage: "Running",
                        sync_status: {
                            binlog_type: "remote",
                            blocking_ddls: null,
                            dump_io_total_bytes: 2953,
                            io_total_bytes: 22245,
                            master_binlog: "(binlog.000001, 1608)",
                            master_binlog_gtid: "0-1-6",
                            recent_tps: 0,
                            seconds_behind_master: 0,
                            synced: false,
                            syncer_binlog: "(binlog.000001, 1176)",
                            syncer_binlog_gtid: "0-1-4",
                            total_events: 8,
                            total_tps: 2,
                            unresolved_groups: null,
                        },
                        unit: "Sync",
                        unresolved_ddl_lock_id: "",
                        worker_name: "worker1",
                    },
                ],
                total: 1,
            },
            sandbox_task_1: {
                data: [
                    {
                        name: "sandbox_task_1",
                        source_name: "sandbox-source",
                        stage: "Paused",
                        sync_status: {
                            binlog_type: "remote",
                            blocking_ddls: null,
                            dump_io_total_bytes: 2983,
                            io_total_bytes: 23795,
                            master_binlog: "(binlog.000001, 1608)",
                            master_binlog_gtid: "0-1-6",
                            recent_tps: 0,
                            seconds_behind_master: 0,
                            synced: true,
                            syncer_binlog: "(binlog.000001, 1608)",
                            syncer_binlog_gtid: "0-1-6",
                            total_events: 10,
                            total_tps: 5,
                            unresolved_groups: null,
                        },
                        unit: "Sync",
                        unresolved_ddl_lock_id: "",
                        worker_name: "worker1",
                    },
                ],
                total: 1,
            },
        },
    },
    errored: {
        grpc: "CAEaogUIARoZCg5zYW5kYm94LXNvdXJjZRIHd29ya2VyMSKVBAoOc2FuZGJveF90YXNrXzAQAxgEIqYDEqMDCPPXAhIOc2NoZW1hLXRyYWNrZXIaCGludGVybmFsIgRoaWdoKsICc3RhcnRMb2NhdGlvbjogW3Bvc2l0aW9uOiAoYmlubG9nLjAwMDAwMSwgMTkyNCksIGd0aWQtc2V0OiAwLTEtOF0sIGVuZExvY2F0aW9uOiBbcG9zaXRpb246IChiaW5sb2cuMDAwMDAxLCAxOTYyKSwgZ3RpZC1zZXQ6IDAtMS04XTogZ2VuIGluc2VydCBzcWxzIGZhaWxlZCwgc291cmNlVGFibGU6IGBzYnRlc3RfMGAuYGVycl90YCwgdGFyZ2V0VGFibGU6IGBzYnRlc3RfMGAuYGVycl90YDogZmFpbGVkIHRvIGZldGNoIGRvd25zdHJlYW0gdGFibGUgYHNidGVzdF8wYC5gZXJyX3RgIGJ5IHNob3cgY3JlYXRlIHRhYmxlIHN0YXRlbWVudCBpbiBzY2hlbWEgdHJhY2tlcjI4RXJyb3IgMTE0NiAoNDJTMDIpOiBUYWJsZSAnc2J0ZXN0XzAuZXJyX3QnIGRvZXNuJ3QgZXhpc3RSVggNEAMiFShiaW5sb2cuMDAwMDAxLCAxOTkzKSoFMC0xLTgyFShiaW5sb2cuMDAwMDAxLCAxNzcwKToFMC0xLTdaBnJlbW90ZXgNgAEDkAHx1wGYAYkXImsKDnNhbmRib3hfdGFza18xEAMYBCICCAFSUQgKIhUoYmlubG9nLjAwMDAwMSwgMTk5MykqBTAtMS04MhUoYmlubG9nLjAwMDAwMSwgMTYwOCk6BTAtMS02WgZyZW1vdGV4CpAB87kBmAGnFw==",
        api: {
            sandbox_task_0: {
                data: [
                    {
                        error_msg:
                            "[code=44019:class=schema-tracker:scope=internal:level=high], Message: startLocation: [position: (binlog.000001, 1924), gtid-set: 0-1-8], endLocation: [position: (binlog.000001, 1962), gtid-set: 0-1-8]: gen insert sqls failed, sourceTable: `sbtest_0`.`err_t`, targetTable: `sbtest_0`.`err_t`: failed to fetch downstream table `sbtest_0`.`err_t` by show create table statement in schema tracker, RawCause: Error 1146 (42S02): Table 'sbtest_0.err_t' doesn't exist.\n",
                        name: "sandbox_task_0",
                        source_name: "sandbox-source",
                        stage: "Paused",
                        sync_status: {
                            binlog_type: "remote",
                            blocking_ddls: null,
                            dump_io_total_bytes: 2953,
                            io_total_bytes: 27633,
                            master_binlog: "(binlog.000001, 1993)",
                            master_binlog_gtid: "0-1-8",
                            recent_tps: 0,
                            seconds_behind_master: 0,
                            synced: false,
                            syncer_binlog: "(binlog.000001, 1770)",
                            syncer_binlog_gtid: "0-1-7",
                            total_events: 13,
                            total_tps: 2,
                            unresolved_groups: null,
                        },
                        unit: "Sync",
                        unresolved_ddl_lock_id: "",
                        worker_name: "worker1",
                    },
                ],
                total: 1,
            },
            sandbox_task_1: {
                data: [
                    {
                        name: "sandbox_task_1",
                        source_name: "sandbox-source",
                        stage: "Paused",
                        sync_status: {
                            binlog_type: "remote",
                            blocking_ddls: null,
                            dump_io_total_bytes: 2983,
                            io_total_bytes: 23795,
                            master_binlog: "(binlog.000001, 1993)",
                            master_binlog_gtid: "0-1-8",
                            recent_tps: 0,
                            seconds_behind_master: 0,
                            synced: false,
                            syncer_binlog: "(binlog.000001, 1608)",
                            syncer_binlog_gtid: "0-1-6",
                            total_events: 10,
                            total_tps: 2,
                            unresolved_groups: null,
                        },
                        unit: "Sync",
                        unresolved_ddl_lock_id: "",
                        worker_name: "worker1",
                    },
                ],
                total: 1,
            },
        },
    },
    workerOffline: {
        grpc: "CAEa2QESxAFbY29kZT0zODAyOTpjbGFzcz1kbS1tYXN0ZXI6c2NvcGU9aW50ZXJuYWw6bGV2ZWw9aGlnaF0sIE1lc3NhZ2U6IHNhbmRib3gtc291cmNlIHJlbGV2YW50IHdvcmtlci1jbGllbnQgbm90IGZvdW5kLCBXb3JrYXJvdW5kOiBQbGVhc2UgdXNlIGxpc3QtbWVtYmVyIGNvbW1hbmQgdG8gc2VlIGlmIHRoZSBzb21lIHdvcmtlcnMgYXJlIG9mZmxpbmUuGhAKDnNhbmRib3gtc291cmNl",
        api: {
            sandbox_task_0: {
                data: [
                    {
                        error_msg:
                            "[code=38029:class=dm-master:scope=internal:level=high], Message: sandbox-source relevant worker-client not found, Workaround: Please use list-member command to see if the some workers are offline.",
                        name: "sandbox_task_0",
                        source_name: "sandbox-source",
                        stage: "",
                        unit: "",
                        worker_name: "",
                    },
                ],
                total: 1,
            },
            sandbox_task_1: {
                data: [
                    {
                        error_msg:
                            "[code=38029:class=dm-master:scope=internal:level=high], Message: sandbox-source relevant worker-client not found, Workaround: Please use list-member command to see if the some workers are offline.",
                        name: "sandbox_task_1",
                        source_name: "sandbox-source",
                        stage: "",
                        unit: "",
                        worker_name: "",
                    },
                ],
                total: 1,
            },
        },
    },
};
