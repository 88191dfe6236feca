#!/usr/bin/env bash
# Local AWS for jobfleet: LocalStack's open-source runtime (localstack-core 4.14.0) on the host,
# no Docker, with DynamoDB Local 3.1.0 from Maven Central. Everything lives in .cache/local-aws/.
#
#   bash scripts/local-aws.sh install   # idempotent; near-instant when already installed
#   bash scripts/local-aws.sh start     # installs if needed, starts in the background, waits until ready
#   bash scripts/local-aws.sh stop      # stops what this script started (LocalStack + DynamoDB Local java)
#   bash scripts/local-aws.sh status    # does it answer, and where
#   bash scripts/local-aws.sh logs [-f] # the LocalStack log
#
# Settings (environment):
#   LOCAL_AWS_PORT           port on 127.0.0.1 (default 4566)
#   AWS_ENDPOINT_URL         if set and it answers, `start` uses it and starts nothing
#   LOCAL_AWS_PYTHON         a Python >= 3.13 to build the venv with (default: searched)
#   LOCAL_AWS_JAVA_HOME      a JDK >= 17 (default: JAVA_HOME, else the `java` on PATH)
#   LOCAL_AWS_START_TIMEOUT  seconds to wait for readiness (default 180)
#   LOCAL_AWS_HOME           cache folder (default <repo>/.cache/local-aws)
#   LOCAL_AWS_RESULT_FILE    if set, `start` writes started|reused|external there (for test setup)
#   LOCAL_AWS_DEBUG=1        LocalStack DEBUG logging
# See docs/local-aws.md.
set -euo pipefail

LOCALSTACK_VERSION=4.14.0
DDB_LOCAL_VERSION=3.1.0
DEP_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.6.1
# LocalStack 4.14.0 runs DynamoDB Local with the Java it would install as "21" (see
# localstack/services/dynamodb/packages.py: java_version = "21"); we link it to the machine's JDK.
LS_JAVA_VERSION=21
SERVICES_DEFAULT=dynamodb,dynamodbstreams,sqs,s3,cloudformation,iam,sts,ssm,events,logs,cloudwatch

# Pins from LocalStack's own lock file requirements-runtime.txt at tag v4.14.0 (compiled for
# Python 3.13). Without them pip takes newer releases, and e.g. cbor2 6.x breaks the runtime
# ("No module named 'cbor2._decoder'" -> "No component plugins found").
LS_CONSTRAINTS="airspeed-ext==0.6.9 annotated-types==0.7.0 antlr4-python3-runtime==4.13.2 apispec==6.9.0
argparse==1.4.0 asn1crypto==1.5.1 attrs==25.4.0 aws-sam-translator==1.107.0 aws-xray-sdk==2.15.0 awscli==1.44.44
awscrt==0.31.2 boto3==1.42.54 botocore==1.42.54 cachetools==7.0.1 cbor2==5.8.0 certifi==2026.1.4 cffi==2.0.0
cfn-lint==1.45.0 charset-normalizer==3.4.4 click==8.3.1 colorama==0.4.6 constantly==23.10.4 crontab==1.0.5
cryptography==46.0.5 decorator==5.2.1 dill==0.3.6 dnslib==0.9.26 dnspython==2.8.0 docker==7.1.0 docutils==0.19
events==0.5 graphql-core==3.2.7 grpcio==1.78.1 h11==0.16.0 h2==4.3.0 hpack==4.1.0 hypercorn==0.18.0
hyperframe==6.1.0 hyperlink==21.0.0 idna==3.11 incremental==24.11.0 isodate==0.7.2 jinja2==3.1.6 jmespath==1.1.0
joserfc==1.6.2 jpype1==1.6.0 jsonpatch==1.33 jsonpath-ng==1.7.0 jsonpath-rw==1.4.0 jsonpointer==3.0.0
jsonschema==4.26.0 jsonschema-path==0.3.4 jsonschema-specifications==2025.9.1 kclpy-ext==3.0.5
lazy-object-proxy==1.12.0 localstack-twisted==25.5.0 markdown-it-py==4.0.0 markupsafe==3.0.3 mdurl==0.1.2
more-itertools==10.8.0 moto-ext==5.1.24 mpmath==1.3.0 multipart==1.3.0 networkx==3.6.1 openapi-core==0.22.0
openapi-schema-validator==0.6.3 openapi-spec-validator==0.7.2 opensearch-protobufs==0.19.0 opensearch-py==3.1.0
packaging==26.0 pathable==0.4.4 plux==1.14.0 ply==3.11 priority==1.3.0 protobuf==6.33.5 psutil==7.2.2
py-partiql-parser==0.6.3 pyasn1==0.6.2 pycparser==3.0 pydantic==2.12.5 pydantic-core==2.41.5 pygments==2.19.2
pymongo==4.16.0 pyopenssl==25.3.0 pyparsing==3.3.2 python-dateutil==2.9.0.post0 python-dotenv==1.2.1
pyyaml==6.0.3 readerwriterlock==1.0.9 referencing==0.36.2 regex==2026.2.19 requests==2.32.5
requests-aws4auth==1.3.1 responses==0.26.0 rfc3339-validator==0.1.4 rich==14.3.3 rolo==0.8.1 rpds-py==0.30.0
rsa==4.7.2 s3transfer==0.16.0 semver==3.0.4 six==1.17.0 sympy==1.14.0 typing-extensions==4.15.0
typing-inspection==0.4.2 urllib3==2.6.3 werkzeug==3.1.6 wrapt==2.1.1 wsproto==1.3.2 xmltodict==1.0.4 zope-interface==8.2"

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${LOCAL_AWS_HOME:-$REPO_ROOT/.cache/local-aws}"
PORT="${LOCAL_AWS_PORT:-4566}"
ENDPOINT="http://127.0.0.1:$PORT"
VENV="$CACHE/venv"
LIB="$CACHE/lib"                       # shared var/lib/localstack/lib of every instance
DDB_DIR="$LIB/dynamodb-local/2"        # where LocalStack looks for DynamoDB Local
JAVA_LINK="$LIB/java/$LS_JAVA_VERSION"  # where LocalStack looks for its Java
STAMPS="$CACHE/stamps"
LOGS="$CACHE/logs"
BUILD="$CACHE/build"
RUN="$CACHE/run/$PORT"                 # one folder per port: pid file, log, FILESYSTEM_ROOT
FS_ROOT="$RUN/filesystem"
PIDFILE="$RUN/localstack.pid"
LOGFILE="$RUN/localstack.log"
START_TIMEOUT="${LOCAL_AWS_START_TIMEOUT:-180}"

say() { printf 'local-aws: %s\n' "$*"; }
warn() { printf 'local-aws: WARNING: %s\n' "$*" >&2; }
die() { printf 'local-aws: ERROR: %s\n' "$*" >&2; exit 1; }

# step_failed STEP LOG FIX: the message for a failed install step.
step_failed() {
  local step="$1" log="$2" fix="$3"
  {
    printf '\nlocal-aws: ERROR: install step "%s" failed.\n' "$step"
    printf '  log: %s (last lines below)\n' "$log"
    if [ -f "$log" ]; then tail -n 30 "$log" | sed 's/^/    | /'; fi
    printf '  fix: %s\n' "$fix"
    printf '  then run `bash scripts/local-aws.sh install` again: it redoes only the unfinished steps\n'
    printf '  (or `rm -rf %s` to start from nothing).\n' "$CACHE"
  } >&2
  exit 1
}

# run_logged LOG CMD...: run CMD with its output in LOG, printing a dot every 3 s.
run_logged() {
  local log="$1"; shift
  "$@" >>"$log" 2>&1 &
  local pid=$! rc=0 n=0
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1; n=$((n + 1))
    if [ $((n % 3)) -eq 0 ]; then printf '.'; fi
  done
  wait "$pid" || rc=$?
  [ "$n" -ge 3 ] && printf '\n'
  return "$rc"
}

stamp_ok() { [ -f "$STAMPS/$1" ] && [ "$(cat "$STAMPS/$1")" = "$2" ]; }
stamp_write() { mkdir -p "$STAMPS"; printf '%s' "$2" >"$STAMPS/$1"; }

sha() { sha256sum | cut -c1-16; }

# ---------------------------------------------------------------- Python
python_ok() { "$1" -c 'import sys, venv, ssl; sys.exit(0 if sys.version_info >= (3, 13) else 1)' >/dev/null 2>&1; }

# LocalStack 4.14.0 needs Python >= 3.13: on 3.11 it fails on `Lock | None` (packages/api.py) and
# on PEP 695 generics (services/stores.py); its own lock file is compiled for 3.13.
find_python() {
  local c
  if [ -n "${LOCAL_AWS_PYTHON:-}" ]; then
    python_ok "$LOCAL_AWS_PYTHON" || die "LOCAL_AWS_PYTHON=$LOCAL_AWS_PYTHON is not a working Python >= 3.13 (with venv and ssl)"
    command -v "$LOCAL_AWS_PYTHON"; return 0
  fi
  local pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
  if command -v pyenv >/dev/null 2>&1; then pyenv_root="$(pyenv root 2>/dev/null || echo "$pyenv_root")"; fi
  for c in python3.14 python3.13 \
    "$pyenv_root"/versions/3.14*/bin/python3 "$pyenv_root"/versions/3.13*/bin/python3 \
    /usr/local/bin/python3.14 /usr/local/bin/python3.13 /usr/bin/python3.14 /usr/bin/python3.13 python3; do
    if [[ "$c" == */* ]]; then [ -x "$c" ] || continue; else command -v "$c" >/dev/null 2>&1 || continue; fi
    if python_ok "$c"; then
      if [[ "$c" == */* ]]; then printf '%s\n' "$c"; else "$c" -c 'import sys; print(sys.executable)'; fi
      return 0
    fi
  done
  return 1
}

install_venv() {
  local py fp log="$LOGS/pip.log" t0=$SECONDS
  if [ -x "$VENV/bin/python" ] && stamp_ok venv "localstack=$LOCALSTACK_VERSION constraints=$(printf '%s' "$LS_CONSTRAINTS" | sha) python=$(cat "$STAMPS/venv.python" 2>/dev/null)"; then
    say "[1/3] Python venv with localstack-core $LOCALSTACK_VERSION: up to date"
    return 0
  fi
  py="$(find_python)" || die "no Python >= 3.13 found. LocalStack $LOCALSTACK_VERSION does not run on older Pythons
  (3.11 fails with: TypeError: unsupported operand type(s) for |: 'builtin_function_or_method' and 'NoneType').
  fix: install one (e.g. pyenv install 3.13) and/or set LOCAL_AWS_PYTHON=/path/to/python3.13"
  fp="localstack=$LOCALSTACK_VERSION constraints=$(printf '%s' "$LS_CONSTRAINTS" | sha) python=$py"
  mkdir -p "$LOGS" "$CACHE"
  : >"$log"
  say "[1/3] Python venv with localstack-core[runtime]==$LOCALSTACK_VERSION (python: $py; log: $log)"
  # A venv from an earlier, different or broken attempt is rebuilt from scratch.
  if [ -e "$VENV" ] && { [ ! -x "$VENV/bin/python" ] || [ "$(cat "$STAMPS/venv.python" 2>/dev/null)" != "$py" ] \
       || ! "$VENV/bin/python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 13) else 1)' 2>/dev/null; }; then
    say "      removing the old venv $VENV"
    rm -rf "$VENV"
  fi
  rm -f "$STAMPS/venv"
  if [ ! -x "$VENV/bin/python" ]; then
    "$py" -m venv "$VENV" >>"$log" 2>&1 || step_failed "python venv" "$log" "check that '$py -m venv' works (Debian: apt-get install python3-venv), or set LOCAL_AWS_PYTHON"
  fi
  printf '%s\n' "$py" >"$CACHE/.python.tmp"; mkdir -p "$STAMPS"; mv "$CACHE/.python.tmp" "$STAMPS/venv.python"
  printf '%s\n' $LS_CONSTRAINTS >"$CACHE/constraints.txt"
  say "      pip install (about 40 s the first time; dots show it is working)"
  run_logged "$log" "$VENV/bin/python" -m pip install --disable-pip-version-check --no-input --progress-bar off \
      -c "$CACHE/constraints.txt" "localstack-core[runtime]==$LOCALSTACK_VERSION" \
    || step_failed "pip install localstack-core[runtime]==$LOCALSTACK_VERSION" "$log" \
         "check that PyPI answers (pip config list; PIP_INDEX_URL / proxy settings) and that the disk has room"
  "$VENV/bin/python" -c 'import localstack.runtime.main, localstack.aws.components, cbor2._decoder, boto3' >>"$log" 2>&1 \
    || step_failed "check of the installed localstack-core" "$log" "rm -rf $VENV (a broken venv) and rerun"
  stamp_write venv "$fp"
  say "      done ($((SECONDS - t0)) s)"
}

# ---------------------------------------------------------------- Java
java_major() { "$1" -version 2>&1 | sed -nE '1s/.*version "([0-9]+)(\.[0-9]+)*.*/\1/p' | sed 's/^1$/8/'; }

find_java_home() {
  local h cand=()
  [ -n "${LOCAL_AWS_JAVA_HOME:-}" ] && cand+=("$LOCAL_AWS_JAVA_HOME")
  [ -n "${JAVA_HOME:-}" ] && cand+=("$JAVA_HOME")
  if command -v java >/dev/null 2>&1; then cand+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")"); fi
  for h in /usr/lib/jvm/*; do cand+=("$h"); done
  for h in "${cand[@]}"; do
    [ -x "$h/bin/java" ] && [ -x "$h/bin/javac" ] && [ -x "$h/bin/jar" ] || continue
    local m; m="$(java_major "$h/bin/java")"
    if [ -n "$m" ] && [ "$m" -ge 17 ]; then readlink -f "$h"; return 0; fi
  done
  return 1
}

install_java_link() {
  local jh
  jh="$(find_java_home)" || die "no JDK >= 17 (with java, javac, jar) found. DynamoDB Local 3.x needs Java 17+.
  fix: apt-get install openjdk-17-jdk-headless, or set LOCAL_AWS_JAVA_HOME=/path/to/jdk"
  if [ -L "$JAVA_LINK" ] && [ "$(readlink "$JAVA_LINK")" = "$jh" ] && [ -x "$JAVA_LINK/bin/java" ]; then
    say "[2/3] Java link for LocalStack ($JAVA_LINK -> $jh): up to date"
  else
    mkdir -p "$(dirname "$JAVA_LINK")"
    rm -rf "$JAVA_LINK"
    ln -s "$jh" "$JAVA_LINK"
    say "[2/3] Java link for LocalStack: $JAVA_LINK -> $jh (Java $(java_major "$jh/bin/java"))"
  fi
  JAVA_HOME_USED="$jh"
}

# ---------------------------------------------------------------- DynamoDB Local
install_ddb() {
  local jh="$JAVA_HOME_USED" log="$LOGS/maven.log" stage="$BUILD/dynamodb-local.stage" fp t0=$SECONDS
  fp="ddblocal=$DDB_LOCAL_VERSION plugin=$DEP_PLUGIN layout=1"
  if stamp_ok ddb "$fp" && [ -f "$DDB_DIR/DynamoDBLocal.jar" ] && [ -f "$DDB_DIR/ddb-local-loader-0.1.jar" ] \
     && ls "$DDB_DIR"/DynamoDBLocal_lib/libsqlite4java-linux-*.so >/dev/null 2>&1; then
    say "[3/3] DynamoDB Local $DDB_LOCAL_VERSION: up to date"
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn (Maven) not found; it fetches DynamoDB Local from Maven Central.
  fix: apt-get install maven"
  mkdir -p "$LOGS" "$BUILD/ddb-pom" "$BUILD/agent/src"
  rm -f "$STAMPS/ddb"
  : >"$log"
  say "[3/3] DynamoDB Local $DDB_LOCAL_VERSION from Maven Central (log: $log)"
  cat >"$BUILD/ddb-pom/pom.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.jobfleet</groupId>
  <artifactId>dynamodb-local-deps</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>software.amazon.dynamodb</groupId>
      <artifactId>DynamoDBLocal</artifactId>
      <version>$DDB_LOCAL_VERSION</version>
    </dependency>
  </dependencies>
</project>
EOF
  rm -rf "$stage"
  mkdir -p "$stage/DynamoDBLocal_lib"
  run_logged "$log" env JAVA_HOME="$jh" mvn -B -ntp -f "$BUILD/ddb-pom/pom.xml" "$DEP_PLUGIN:copy-dependencies" \
      -DincludeScope=runtime -DoutputDirectory="$stage/DynamoDBLocal_lib" \
    || step_failed "mvn copy-dependencies software.amazon.dynamodb:DynamoDBLocal:$DDB_LOCAL_VERSION" "$log" \
         "check that Maven Central answers (~/.m2/settings.xml mirrors / proxy), e.g. mvn dependency:get -Dartifact=software.amazon.dynamodb:DynamoDBLocal:$DDB_LOCAL_VERSION"
  (
    cd "$stage/DynamoDBLocal_lib"
    ls DynamoDBLocal-*.jar >/dev/null 2>&1 || { echo "DynamoDBLocal jar missing after mvn" >>"$log"; exit 1; }
    ls libsqlite4java-linux-*.so >/dev/null 2>&1 || { echo "sqlite4java native library missing after mvn" >>"$log"; exit 1; }
    # sqlite4java may look for the unversioned name too (libsqlite4java-linux-amd64.so).
    for f in libsqlite4java-*-[0-9]*.* sqlite4java-*-[0-9]*.dll; do
      [ -e "$f" ] || continue
      u="$(printf '%s' "$f" | sed -E 's/-[0-9][0-9.]*\.(so|dylib|dll)$/.\1/')"
      cp -f "$f" "$u"
    done
  ) || step_failed "DynamoDB Local library layout" "$log" "rm -rf ~/.m2/repository/software/amazon/dynamodb and rerun"
  # No-op javaagent: LocalStack always passes -javaagent:ddb-local-loader-0.1.jar (its real agent only
  # lifts the 20-GSI limit and would be downloaded from GitHub).
  cat >"$BUILD/agent/src/NoopAgent.java" <<'EOF'
public final class NoopAgent {
  public static void premain(String args, java.lang.instrument.Instrumentation inst) {}
  public static void agentmain(String args, java.lang.instrument.Instrumentation inst) {}
}
EOF
  printf 'Manifest-Version: 1.0\nPremain-Class: NoopAgent\nAgent-Class: NoopAgent\n\n' >"$BUILD/agent/manifest.txt"
  rm -rf "$BUILD/agent/classes"
  {
    "$jh/bin/javac" --release 11 -d "$BUILD/agent/classes" "$BUILD/agent/src/NoopAgent.java" \
      && "$jh/bin/jar" cfm "$stage/ddb-local-loader-0.1.jar" "$BUILD/agent/manifest.txt" -C "$BUILD/agent/classes" .
  } >>"$log" 2>&1 || step_failed "build of the no-op javaagent" "$log" "check the JDK at $jh (javac, jar)"
  # Launcher jar: LocalStack runs `java -jar DynamoDBLocal.jar`; ours has only a manifest whose
  # Class-Path lists the Maven jars. Manifest lines are wrapped at 70 bytes (continuations start with a space).
  (
    cd "$stage"
    cp="$(ls DynamoDBLocal_lib/*.jar | tr '\n' ' ')"
    {
      echo "Manifest-Version: 1.0"
      echo "Main-Class: software.amazon.dynamodb.services.local.main.ServerRunner"
      printf 'Class-Path: %s\n' "$cp" | fold -w 70 | sed '2,$s/^/ /'
      echo
    } >"$BUILD/launcher-manifest.txt"
    "$jh/bin/jar" cfm DynamoDBLocal.jar "$BUILD/launcher-manifest.txt"
    # smoke test: the launcher, the agent and the classpath load
    "$jh/bin/java" -javaagent:ddb-local-loader-0.1.jar -Djava.library.path=DynamoDBLocal_lib -jar DynamoDBLocal.jar -help
  ) >>"$log" 2>&1 || step_failed "DynamoDB Local launcher jar" "$log" "check the JDK at $jh; see the log"
  # Publish atomically: LocalStack counts DynamoDB Local as installed once DynamoDBLocal.jar exists.
  mkdir -p "$(dirname "$DDB_DIR")"
  rm -rf "$DDB_DIR"
  mv "$stage" "$DDB_DIR"
  stamp_write ddb "$fp"
  say "      done ($((SECONDS - t0)) s): $DDB_DIR"
}

cmd_install() {
  mkdir -p "$CACHE"
  exec 8>"$CACHE/.install.lock"
  wait_for_lock 8 "$CACHE/.install.lock" "another install is running"
  local t0=$SECONDS
  install_venv
  install_java_link
  install_ddb
  exec 8>&-
  say "install complete ($((SECONDS - t0)) s)"
}

# ---------------------------------------------------------------- runtime helpers
health_json() { curl -s --max-time 3 "$ENDPOINT/_localstack/health" 2>/dev/null || true; }
localstack_answers() { health_json | grep -q '"services"'; }
# warn_without_streams PID: an instance this script started before it enabled the v2 DynamoDB
# Streams provider answers, but its streams need kinesis-mock (not installable here), so status
# events would not flow. (Health lists dynamodbstreams as running either way, so the check reads
# the process's environment.)
warn_without_streams() {
  [ -r "/proc/$1/environ" ] || return 0
  if ! tr '\0' '\n' <"/proc/$1/environ" | grep -qx 'PROVIDER_OVERRIDE_DYNAMODBSTREAMS=v2'; then
    warn "this LocalStack (pid $1) was started without the v2 DynamoDB Streams provider; status events
  will not flow. Restart it: bash scripts/local-aws.sh stop && bash scripts/local-aws.sh start"
  fi
}
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }
endpoint_answers() { curl -s -o /dev/null --max-time 5 "$1" 2>/dev/null; }

pidfile_get() { [ -f "$PIDFILE" ] && sed -n "s/^$1=//p" "$PIDFILE" | head -n1 || true; }

# our_pid_alive PID: the process runs and is a LocalStack runtime (guards against pid reuse).
our_pid_alive() {
  local pid="$1"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'localstack.runtime.main'
}

descendants() {
  local p c
  for p in "$@"; do
    for c in $(ps -o pid= --ppid "$p" 2>/dev/null); do echo "$c"; descendants "$c"; done
  done
}

# Processes whose command line mentions this instance's FILESYSTEM_ROOT: the DynamoDB Local java,
# which LocalStack starts in a session of its own (start_new_session=True), so it is not in our
# process group and survives a killed LocalStack.
instance_orphans() {
  local pid args
  while read -r pid args; do
    [ "$pid" = "$$" ] && continue
    case "$args" in *"$FS_ROOT/"*) echo "$pid" ;; esac
  done < <(ps -eo pid=,args= 2>/dev/null)
}

kill_pids() {
  local sig="$1"; shift
  local p
  for p in "$@"; do kill "-$sig" "$p" 2>/dev/null || true; done
}

# pid_running PID: exists and is not a zombie (a LocalStack that this very script started and that
# exited stays a zombie until the script ends; kill -0 would still succeed).
pid_running() {
  local st
  st="$(sed -E 's/^.*\) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" || true
  [ -n "$st" ] && [ "$st" != Z ]
}

any_alive() {
  local p
  for p in "$@"; do pid_running "$p" && return 0; done
  return 1
}

# group_alive PGID: some non-zombie process is in that process group.
group_alive() {
  ps -eo pgid=,stat= 2>/dev/null | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { found = 1 } END { exit !found }'
}

# stop_instance PID: TERM the process group, wait, then KILL whatever is left (group, children, java).
stop_instance() {
  local pid="$1" pids i
  pids="$( { [ -n "$pid" ] && descendants "$pid"; instance_orphans; } | sort -u | tr '\n' ' ')"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  fi
  # shellcheck disable=SC2086
  kill_pids TERM $pids
  for i in $(seq 1 60); do
    # shellcheck disable=SC2086
    if ! { [ -n "$pid" ] && group_alive "$pid"; } && ! any_alive $pid $pids; then return 0; fi
    sleep 0.25
  done
  warn "still running after 15 s; sending SIGKILL"
  [ -n "$pid" ] && { kill -KILL -- "-$pid" 2>/dev/null || true; }
  # shellcheck disable=SC2086
  kill_pids KILL $pid $pids $(instance_orphans)
  sleep 0.5
}

# wait_for_lock FD FILE WHY: take the lock on FD (open on FILE), saying WHY when it has to wait.
wait_for_lock() {
  if ! flock -n "$1"; then
    say "$3; waiting for it (lock: $2)"
    flock -w 900 "$1" || die "gave up waiting for the lock $2"
  fi
}

# port_lock: serialise start and stop of one port (held until the script exits).
port_lock() {
  mkdir -p "$RUN"
  exec 7>"$RUN/.lock"
  wait_for_lock 7 "$RUN/.lock" "another start/stop on port $PORT is running"
}

# live_leases: how many live processes hold a lease (a file named after their pid) in $RUN/leases;
# removes the leases of dead ones. The jest global setup takes one per run.
live_leases() {
  local f n=0 name
  for f in "$RUN"/leases/*; do
    [ -e "$f" ] || continue
    name="$(basename "$f")"
    if [[ "$name" =~ ^[0-9]+$ ]] && kill -0 "$name" 2>/dev/null; then n=$((n + 1)); else rm -f "$f"; fi
  done
  echo "$n"
}

result() { if [ -n "${LOCAL_AWS_RESULT_FILE:-}" ]; then printf '%s\n' "$1" >"$LOCAL_AWS_RESULT_FILE"; fi; }

print_endpoint() {
  say "endpoint: $1"
  say "use it with: export AWS_ENDPOINT_URL=$1 AWS_REGION=\${AWS_REGION:-us-east-1} AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test"
}

# wait_ready PID: DynamoDB (a real ListTables), SQS and S3 must answer.
wait_ready() {
  local pid="$1"
  "$VENV/bin/python" - "$ENDPOINT" "$pid" "$START_TIMEOUT" <<'PY'
import os, sys, time, json, urllib.request
endpoint, pid, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
deadline = time.time() + timeout
def out(s):
    sys.stdout.write(s); sys.stdout.flush()
def alive():
    try:  # a zombie (exited child of the calling script) counts as dead
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False
out("local-aws: waiting for LocalStack")
while True:
    if not alive():
        out("\n"); sys.exit(3)
    try:
        with urllib.request.urlopen(endpoint + "/_localstack/health", timeout=2) as r:
            if "services" in json.loads(r.read()):
                break
    except Exception:
        pass
    if time.time() > deadline:
        out("\n"); sys.exit(2)
    out("."); time.sleep(0.5)
out(" gateway up; checking DynamoDB, SQS, S3")
import boto3
from botocore.config import Config
cfg = Config(retries={"max_attempts": 1}, connect_timeout=3, read_timeout=30, s3={"addressing_style": "path"})
kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test", config=cfg)
checks = [
    ("DynamoDB", lambda: boto3.client("dynamodb", **kw).list_tables(Limit=1)),
    ("SQS", lambda: boto3.client("sqs", **kw).list_queues(MaxResults=1)),
    ("S3", lambda: boto3.client("s3", **kw).list_buckets()),
]
last = {}
for name, call in checks:
    while True:
        if not alive():
            out("\n"); print("local-aws: LocalStack exited; last error from %s: %s" % (name, last.get(name))); sys.exit(3)
        try:
            call(); out(" " + name + " ok"); break
        except Exception as e:
            last[name] = e
        if time.time() > deadline:
            out("\n"); print("local-aws: %s did not answer; last error: %s" % (name, last.get(name))); sys.exit(2)
        out("."); time.sleep(0.5)
out("\n")
PY
}

fail_start() {
  local msg="$1" pid="${2:-}"
  {
    printf '\nlocal-aws: ERROR: %s\n' "$msg"
    printf '  log: %s (last 40 lines below)\n' "$LOGFILE"
    tail -n 40 "$LOGFILE" 2>/dev/null | sed 's/^/    | /'
    printf '  more: bash scripts/local-aws.sh logs\n'
  } >&2
  if [ -n "$pid" ]; then stop_instance "$pid"; fi
  rm -f "$PIDFILE"
  exit 1
}

cmd_start() {
  local t0=$SECONDS pid rc=0
  if [ -n "${AWS_ENDPOINT_URL:-}" ]; then
    if endpoint_answers "$AWS_ENDPOINT_URL"; then
      say "AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL answers: using it, starting nothing"
      result external
      print_endpoint "$AWS_ENDPOINT_URL"
      return 0
    fi
    warn "AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL does not answer; starting a local LocalStack at $ENDPOINT instead"
  fi
  cmd_install
  port_lock

  pid="$(pidfile_get pid)"
  if [ -f "$PIDFILE" ]; then
    if our_pid_alive "$pid"; then
      if localstack_answers; then
        say "already running (started by this script, pid $pid)"
        warn_without_streams "$pid"
        result reused
        print_endpoint "$ENDPOINT"
        return 0
      fi
      say "pid $pid (started by this script) runs but does not answer yet; waiting for it"
      wait_ready "$pid" || rc=$?
      if [ "$rc" -eq 0 ]; then
        result reused
        print_endpoint "$ENDPOINT"
        return 0
      fi
      [ "$rc" -eq 3 ] || fail_start "LocalStack (pid $pid) did not become ready" "$pid"
      rc=0   # it exited meanwhile (e.g. was being stopped): start a new one
    fi
    say "removing stale pid file (pid ${pid:-?} no longer runs)"
    stop_instance ""   # leftovers of that run (DynamoDB Local java)
    rm -f "$PIDFILE"
  fi

  if localstack_answers; then
    say "LocalStack already answers at $ENDPOINT (not started by this script): reusing it"
    result reused
    print_endpoint "$ENDPOINT"
    return 0
  fi
  if port_in_use; then
    die "port $PORT on 127.0.0.1 is taken by another program (not LocalStack).
  $(command -v ss >/dev/null 2>&1 && ss -ltnp 2>/dev/null | grep -E "[:.]$PORT\b" | head -3)
  fix: choose another port, e.g. LOCAL_AWS_PORT=4567 bash scripts/local-aws.sh start
       (then use AWS_ENDPOINT_URL=http://127.0.0.1:4567), or stop the program that holds $PORT."
  fi
  if [ -n "$(instance_orphans)" ]; then
    say "stopping leftovers of an earlier run on port $PORT"
    stop_instance ""
  fi

  # Per-port FILESYSTEM_ROOT (LocalStack clears its tmp folder on start and stop), sharing the
  # installed lib folder (DynamoDB Local, Java link).
  mkdir -p "$FS_ROOT/var/lib/localstack"
  if [ ! -L "$FS_ROOT/var/lib/localstack/lib" ] || [ "$(readlink "$FS_ROOT/var/lib/localstack/lib")" != "$LIB" ]; then
    rm -rf "$FS_ROOT/var/lib/localstack/lib"
    ln -s "$LIB" "$FS_ROOT/var/lib/localstack/lib"
  fi
  [ -f "$LOGFILE" ] && mv -f "$LOGFILE" "$LOGFILE.1"
  rm -f "$RUN/.pid.tmp"
  # PROVIDER_OVERRIDE_DYNAMODB(STREAMS)=v2: DynamoDB Streams served by DynamoDB Local itself. The
  # default (v1) streams provider needs kinesis-mock, a download from GitHub (see docs/local-aws.md).
  say "starting LocalStack $LOCALSTACK_VERSION on $ENDPOINT (log: $LOGFILE)"
  (
    cd "$RUN"
    # setsid: own session and process group, so it survives the calling shell and `stop` can
    # signal the whole group. The inner bash records its pid, then becomes python (exec).
    # OVERRIDE_IN_DOCKER=0: this machine has /.dockerenv, and LocalStack would otherwise think it
    # runs in its container and ignore FILESYSTEM_ROOT (using /var/lib/localstack, /tmp/localstack).
    exec nohup setsid bash -c 'echo $$ >"$0"; exec "$@"' "$RUN/.pid.tmp" \
      env -u AWS_ENDPOINT_URL -u AWS_PROFILE -u PYTHONPATH -u PYTHONHOME -u VIRTUAL_ENV \
      OVERRIDE_IN_DOCKER=0 \
      GATEWAY_LISTEN="127.0.0.1:$PORT" \
      LOCALSTACK_HOST="127.0.0.1:$PORT" \
      SQS_ENDPOINT_STRATEGY=path \
      DNS_ADDRESS=0 \
      SKIP_SSL_CERT_DOWNLOAD=1 \
      DISABLE_EVENTS=1 \
      FILESYSTEM_ROOT="$FS_ROOT" \
      SERVICES="${LOCAL_AWS_SERVICES:-$SERVICES_DEFAULT}" \
      EAGER_SERVICE_LOADING=1 \
      DYNAMODB_IN_MEMORY=1 \
      PROVIDER_OVERRIDE_DYNAMODB=v2 \
      PROVIDER_OVERRIDE_DYNAMODBSTREAMS=v2 \
      DEBUG="${LOCAL_AWS_DEBUG:-0}" \
      "$VENV/bin/python" -m localstack.runtime.main
  ) </dev/null >>"$LOGFILE" 2>&1 7>&- 8>&- &
  disown $! 2>/dev/null || true
  local i
  for i in $(seq 1 50); do [ -s "$RUN/.pid.tmp" ] && break; sleep 0.1; done
  pid="$(cat "$RUN/.pid.tmp" 2>/dev/null || true)"
  rm -f "$RUN/.pid.tmp"
  [ -n "$pid" ] || fail_start "LocalStack did not start (no pid)"
  cat >"$PIDFILE" <<EOF
pid=$pid
port=$PORT
endpoint=$ENDPOINT
started_by=scripts/local-aws.sh
started_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
log=$LOGFILE
EOF
  wait_ready "$pid" || rc=$?
  case "$rc" in
    0) ;;
    2) fail_start "LocalStack did not become ready within $START_TIMEOUT s (LOCAL_AWS_START_TIMEOUT)" "$pid" ;;
    *) fail_start "LocalStack exited during start-up" "$pid" ;;
  esac
  result started
  say "ready in $((SECONDS - t0)) s (started by this script, pid $pid; stop with: bash scripts/local-aws.sh stop)"
  print_endpoint "$ENDPOINT"
}

cmd_stop() {
  local pid n
  port_lock
  if [ "${LOCAL_AWS_STOP_UNLESS_LEASED:-0}" = 1 ] && [ -f "$PIDFILE" ]; then
    n="$(live_leases)"
    if [ "$n" -gt 0 ]; then
      say "leaving LocalStack on port $PORT running: $n other process(es) hold a lease in $RUN/leases"
      return 0
    fi
  fi
  pid="$(pidfile_get pid)"
  if [ ! -f "$PIDFILE" ]; then
    if [ -n "$(instance_orphans)" ]; then say "stopping leftovers of an earlier run on port $PORT"; stop_instance ""; fi
    say "nothing started by this script on port $PORT (no pid file); nothing to stop"
    return 0
  fi
  if our_pid_alive "$pid"; then
    say "stopping LocalStack (pid $pid, port $PORT)"
    stop_instance "$pid"
    say "stopped"
  else
    say "pid ${pid:-?} no longer runs; cleaning up"
    stop_instance ""
  fi
  rm -f "$PIDFILE"
}

cmd_status() {
  local pid h
  pid="$(pidfile_get pid)"
  if [ -n "${AWS_ENDPOINT_URL:-}" ]; then
    if endpoint_answers "$AWS_ENDPOINT_URL"; then say "AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL answers"; else say "AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL does not answer"; fi
  fi
  h="$(health_json)"
  if printf '%s' "$h" | grep -q '"services"'; then
    if our_pid_alive "$pid"; then
      say "LocalStack answers at $ENDPOINT (started by this script, pid $pid; log: $LOGFILE)"
    else
      say "LocalStack answers at $ENDPOINT (not started by this script)"
    fi
    say "running: $(printf '%s' "$h" | grep -oE '"[a-z0-9-]+": "(running|available)"' | sed -E 's/"([^"]+)".*/\1/' | tr '\n' ' ')"
    return 0
  fi
  if our_pid_alive "$pid"; then
    say "pid $pid (started by this script) runs but $ENDPOINT does not answer (starting up? see: bash scripts/local-aws.sh logs)"
  elif [ -f "$PIDFILE" ]; then
    say "nothing answers at $ENDPOINT; stale pid file $PIDFILE (pid ${pid:-?} no longer runs): \`start\` or \`stop\` cleans it"
  elif port_in_use; then
    say "nothing LocalStack answers at $ENDPOINT; port $PORT is taken by another program"
  else
    say "nothing answers at $ENDPOINT"
  fi
  return 3
}

cmd_logs() {
  [ -f "$LOGFILE" ] || die "no log yet at $LOGFILE"
  if [ "${1:-}" = "-f" ]; then exec tail -n 50 -f "$LOGFILE"; fi
  tail -n "${LOCAL_AWS_LOG_LINES:-200}" "$LOGFILE"
}

usage() {
  sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  logs) shift; cmd_logs "$@" ;;
  -h | --help | help) usage ;;
  *) usage >&2; exit 2 ;;
esac
