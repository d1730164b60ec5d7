#!/usr/bin/env bash
# DM's VIP procedure by hand, as an operator's script does it with dmctl and HAProxy's runtime API: the
# baseline `npm run bench:switch` (tools/bench/switch.ts) measures dm-switch against.
#
#   1. pause-task <task> -s <source> for every task, in parallel (dmctl exits 0 on a server-side failure:
#      each answer's "result" is checked);
#   2. query-status -s <source> until every task is Paused;
#   3. HAProxy runtime API through socat: disable the old server, enable the new one, close the sessions
#      still open to the old one (what components/vipBackends/haproxy.ts does);
#   4. resume-task <task> -s <source> for every task, in parallel;
#   5. query-status -s <source> until every task is Running.
# Unlike dm-switch it checks no GTID rule and does not verify who answers behind the VIP.
#
# Usage: switch-dmctl.sh --from <server> --to <server>
# Environment (all required): DMCTL (path of dmctl), DM_MASTER_ADDR (host:port of dm-master), DM_SOURCE,
#   DM_TASKS (task names, space-separated), HAPROXY_SOCKET (Unix socket path, or host:port), HAPROXY_BACKEND.
#   STAGE_TIMEOUT_MS (default 30000) bounds each wait.
# No password is involved: pause-task, resume-task and query-status take none, nor does HAProxy's socket.
# Prints one line per step with its duration, then `paused_ms=<N>`: first pause call → every task Running.
set -euo pipefail
export LC_ALL=C # EPOCHREALTIME with a dot

from="" to=""
while [ $# -gt 0 ]; do
  case "$1" in
    --from) from="${2:-}"; shift 2 ;;
    --to) to="${2:-}"; shift 2 ;;
    *) echo "switch-dmctl.sh: unknown argument $1; usage: switch-dmctl.sh --from <server> --to <server>" >&2; exit 2 ;;
  esac
done
for v in DMCTL DM_MASTER_ADDR DM_SOURCE DM_TASKS HAPROXY_SOCKET HAPROXY_BACKEND; do
  if [ -z "${!v:-}" ]; then
    echo "switch-dmctl.sh: environment variable $v is not set; see the top of this script for what each one is." >&2
    exit 2
  fi
done
if [ -z "$from" ] || [ -z "$to" ] || [ "$from" = "$to" ]; then
  echo "switch-dmctl.sh: --from and --to must name two different HAProxy servers of backend $HAPROXY_BACKEND." >&2
  exit 2
fi
read -r -a tasks <<<"$DM_TASKS"
timeout_us=$(( ${STAGE_TIMEOUT_MS:-30000} * 1000 ))
case "$HAPROXY_SOCKET" in
  /*) haproxy_addr="UNIX-CONNECT:$HAPROXY_SOCKET" ;;
  *) haproxy_addr="TCP:$HAPROXY_SOCKET" ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" # dmctl may write dmctl.log into its working directory

now_us() { local t=$EPOCHREALTIME; echo "${t/./}"; }
paused=0
fail() {
  echo "switch-dmctl.sh: $1" >&2
  if [ "$paused" = 1 ]; then
    echo "switch-dmctl.sh: tasks ${tasks[*]} may stay paused on $DM_SOURCE; check where the VIP points, then run '$DMCTL --master-addr $DM_MASTER_ADDR resume-task <task> -s $DM_SOURCE'." >&2
  fi
  exit 1
}
dmctl() { "$DMCTL" --master-addr "$DM_MASTER_ADDR" "$@"; }
# A dmctl answer is good when it says "result": true and nowhere "result": false.
answered_ok() { grep -q '"result": true' "$1" && ! grep -q '"result": false' "$1"; }

# Runs `dmctl <op> <task> -s <source>` for every task at once; fails naming the task DM refused.
each_task() {
  local op=$1 t pids=()
  for t in "${tasks[@]}"; do
    dmctl "$op" "$t" -s "$DM_SOURCE" >"$op.$t.out" 2>&1 &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do
    t=${tasks[$i]}
    if ! wait "${pids[$i]}" || ! answered_ok "$op.$t.out"; then
      fail "$op $t -s $DM_SOURCE failed: $(tr -s ' \n' ' ' <"$op.$t.out" | cut -c1-300)"
    fi
  done
}

# Polls query-status -s <source> (one call lists every subtask of the source) until each task is at $1.
await_stage() {
  local want=$1 start=$(now_us) line name stage pending
  while :; do
    dmctl query-status -s "$DM_SOURCE" >status.out 2>&1 || true
    declare -A seen=()
    if answered_ok status.out; then
      while read -r name stage; do seen[$name]=$stage; done < <(
        awk -F'"' '/"name":/ { n = $4 } /"stage":/ && n != "" { print n, $4; n = "" }' status.out
      )
    fi
    pending=()
    for t in "${tasks[@]}"; do
      [ "${seen[$t]:-}" = "$want" ] || pending+=("$t:${seen[$t]:-unknown}")
    done
    unset seen
    [ ${#pending[@]} -eq 0 ] && return 0
    if [ $(( $(now_us) - start )) -gt "$timeout_us" ]; then
      fail "timed out after ${STAGE_TIMEOUT_MS:-30000} ms waiting for $want: ${pending[*]}"
    fi
  done
}

# One HAProxy runtime API command; a command that changes state answers nothing when it succeeds.
haproxy_cmd() {
  local out
  out=$(printf '%s\n' "$1" | socat -t 5 - "$haproxy_addr") || fail "HAProxy runtime API $HAPROXY_SOCKET cannot be reached for '$1'"
  out=$(printf '%s' "$out" | tr -d '\n')
  [ -z "$out" ] || fail "HAProxy refused '$1': $out"
}

step_start=0
step() { echo "step $1 $(( ($(now_us) - step_start) / 1000 )) ms"; step_start=$(now_us); }

t0=$(now_us)
step_start=$t0
paused=1
each_task pause-task
step pause-task
await_stage Paused
step await-paused
haproxy_cmd "disable server $HAPROXY_BACKEND/$from"
haproxy_cmd "enable server $HAPROXY_BACKEND/$to"
haproxy_cmd "shutdown sessions server $HAPROXY_BACKEND/$from"
step move-vip
each_task resume-task
step resume-task
await_stage Running
step await-running
paused=0
echo "paused_ms=$(( ($(now_us) - t0) / 1000 ))"
