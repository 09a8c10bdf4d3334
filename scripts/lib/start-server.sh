# Starts a Byrd server for a test script, as byrd-testkit does for the
# Rust suites: `byrd serve` on a free loopback port (--listen 127.0.0.1:0)
# with a fresh data folder, ready once it prints its readiness line on
# stdout, {"event":"listening","address":"HOST:PORT"}. Source it, then:
#
#   start_byrd_server BINARY WORK_DIR [serve flags...]
#
# Settings beyond the flags come from the environment (export
# BYRD_JWT_SECRET, BYRD_ADMIN_EMAIL, ...; `env NAME=VALUE ... start_byrd_server`
# does not work on a function, so export them). The data folder is
# WORK_DIR/data, the log (stderr) WORK_DIR/server.log. On success it sets
# BYRD_SERVER_PID and BYRD_SERVER_ADDRESS (HOST:PORT) and returns 0; if the
# server exits or stays silent for 30 s it prints the log and returns 1.
# stop_byrd_server ends it; call it from the caller's EXIT trap.

start_byrd_server() {
  local binary=$1 work=$2
  shift 2
  "$binary" serve --listen 127.0.0.1:0 --data-dir "$work/data" "$@" \
    >"$work/server.out" 2>"$work/server.log" &
  BYRD_SERVER_PID=$!
  BYRD_SERVER_ADDRESS=
  local _
  for _ in $(seq 1 300); do
    BYRD_SERVER_ADDRESS=$(grep -m 1 '"event":"listening"' "$work/server.out" 2>/dev/null |
      grep -o '"address":"[^"]*"' | cut -d '"' -f 4 || true)
    [[ -n $BYRD_SERVER_ADDRESS ]] && return 0
    if ! kill -0 "$BYRD_SERVER_PID" 2>/dev/null; then
      echo "the server exited:" >&2
      cat "$work/server.log" >&2
      BYRD_SERVER_PID=
      return 1
    fi
    sleep 0.1
  done
  echo "the server printed no readiness line within 30 s:" >&2
  cat "$work/server.log" >&2
  return 1
}

stop_byrd_server() {
  if [[ -n ${BYRD_SERVER_PID:-} ]]; then
    kill "$BYRD_SERVER_PID" 2>/dev/null || true
    wait "$BYRD_SERVER_PID" 2>/dev/null || true
    BYRD_SERVER_PID=
  fi
}
