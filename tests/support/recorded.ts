/**
 * Real dm-master answers, kept as recorded in tests/support/recorded/*.json.
 *
 * - `recorded` (dmctl.json, openapi.json): DM built from tiflow 1d4a644, MariaDB 10.11 source, recorded from
 *   a dm-master, dm-worker and two MariaDB servers on loopback: dmctl JSON output (and one dmctl stderr)
 *   and OpenAPI v1 bodies.
 * - `queryStatusRecorded` (queryStatus.json): recorded from the sandbox (DM v9.0.0-alpha-1d4a644, MariaDB
 *   source, one dm-worker, tasks sandbox_task_0 and sandbox_task_1): the bytes of gRPC
 *   `pb.Master/QueryStatus` for the source (no task name), base64, and right after them each task's OpenAPI
 *   `GET /tasks/{t}/status` body. States: task 0 Running and task 1 Paused; task 0 Paused by a DML error
 *   (its downstream table dropped); the dm-worker stopped. The Running task's counters (tps, events) move
 *   between the two reads; the fields dm-switch reads do not.
 */
import dmctl from "./recorded/dmctl.json";
import openapi from "./recorded/openapi.json";
import queryStatus from "./recorded/queryStatus.json";

export const recorded = { ...dmctl, ...openapi };
export const queryStatusRecorded = queryStatus;
