#!/usr/bin/env bash
# Checks the GitOps and pipeline examples without a cluster:
#  - the Argo CD Lua health checks (docs/examples/argocd/*.lua) against the objects in
#    e2e/fixtures/health/*.json, run with lua5.1 + lua-cjson in a sandbox like Argo CD's (no io/os);
#  - argocd-cm.yaml embeds exactly those Lua files;
#  - every YAML file under docs/examples parses, and the ChaosExperiments in it (and the fixtures)
#    fit the CRD schema in crds/faultline.yaml (types, enums, required and unknown fields, patterns,
#    bounds; the CEL rules are not evaluated);
#  - extract_script.py pulls the expected commands out of the CI examples, and those commands run
#    under `bash -e` with stub faultline/kubectl (and wget/sha256sum/tar for the GitHub jobs'
#    install step), failing the job when faultline fails or the archive's checksum does not verify.
# Prints PASS/FAIL per check and exits 1 if any failed. Needs /usr/bin/lua5.1, lua-cjson and
# /usr/bin/python3 with PyYAML (Debian: lua5.1 lua-cjson python3-yaml).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
EXAMPLES=$ROOT/docs/examples
FIXTURES=$ROOT/e2e/fixtures/health
LUA=${LUA:-/usr/bin/lua5.1}
PYTHON=${PYTHON:-/usr/bin/python3}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

passed=0 failed=0
pass() { passed=$((passed + 1)); printf 'PASS %s\n' "$1"; }
fail() { failed=$((failed + 1)); printf 'FAIL %s\n' "$1"; [ -z "${2:-}" ] || printf '     %s\n' "$2"; }

for tool in "$LUA" "$PYTHON"; do
	[ -x "$tool" ] || { echo "FAIL $tool is missing (apt-get install lua5.1 lua-cjson python3-yaml)"; exit 1; }
done
"$LUA" -e 'require "cjson"' 2>/dev/null || { echo "FAIL lua-cjson is missing (apt-get install lua-cjson)"; exit 1; }
"$PYTHON" -c 'import yaml' 2>/dev/null || { echo "FAIL PyYAML is missing (apt-get install python3-yaml)"; exit 1; }

# ---------------------------------------------------------------- Argo CD Lua health checks
# health.lua SCRIPT FIXTURE: prints "status<TAB>message" as Argo CD would see hs.
cat >"$TMP/run_health.lua" <<'LUA'
local cjson = require "cjson"
local script, fixture = arg[1], arg[2]
local f = assert(io.open(fixture, "r"))
local obj = cjson.decode(f:read("*a"))
f:close()
-- Argo CD gives the script `obj` and the base, string, table and math libraries only.
local env = {
  obj = obj, ipairs = ipairs, pairs = pairs, type = type, tostring = tostring,
  tonumber = tonumber, next = next, select = select, unpack = unpack, error = error,
  pcall = pcall, string = string, table = table, math = math,
}
local chunk = assert(loadfile(script))
setfenv(chunk, env)
local hs = chunk()
if type(hs) ~= "table" then error("the script returned " .. type(hs) .. ", not a table") end
io.write(tostring(hs.status), "\t", tostring(hs.message), "\n")
LUA

# check_health LUA_FILE FIXTURE WANT_STATUS WANT_IN_MESSAGE
check_health() {
	local lua=$EXAMPLES/argocd/$1 fixture=$FIXTURES/$2 want=$3 text=$4 out status message
	if ! out=$("$LUA" "$TMP/run_health.lua" "$lua" "$fixture" 2>&1); then
		fail "health $1 $2" "lua error: $out"; return
	fi
	status=${out%%$'\t'*} message=${out#*$'\t'}
	if [ "$status" != "$want" ]; then
		fail "health $1 $2: $want" "got hs.status=$status, message: $message"
	elif [[ "$message" != *"$text"* ]]; then
		fail "health $1 $2: message" "hs.message '$message' lacks '$text'"
	else
		pass "health $1 $2: $status ($message)"
	fi
}

R=health-chaosresult.lua E=health-chaosexperiment.lua
check_health $R result-new.json Progressing "waiting for the operator"
check_health $R result-running.json Progressing "Running"
check_health $R result-pass.json Healthy "score 100 meets the expected 80"
check_health $R result-fail.json Degraded "score 50 is below the expected 80"
check_health $R result-error.json Degraded "does not carry the label chaos.faultline.dev/allow=true"
check_health $R result-timeout.json Degraded "did not start within queueTimeout"
check_health $R result-stopped.json Suspended "run ended: Stopped"
check_health $E experiment-suspended.json Suspended "schedule suspended; last run web-pod-delete-3"
check_health $E experiment-not-ready.json Degraded "InvalidSchedule: invalid schedule"
check_health $E experiment-pass.json Healthy "verdict Pass, score 100"
check_health $E experiment-fail.json Degraded "last run web-pod-delete-3: CompletedWithError, verdict Fail, score 50"
check_health $E experiment-running.json Progressing "last run web-pod-delete-4: Running"
check_health $E experiment-stale.json Progressing "observe generation 3"
check_health $E experiment-scheduled-waiting.json Healthy "next run at 2026-03-15T03:00:00Z"

# Every fixture is exercised above.
for fixture in "$FIXTURES"/*.json; do
	name=$(basename "$fixture")
	grep -q "$name" "${BASH_SOURCE[0]}" || fail "fixture $name is not checked by this test"
done

# ------------------------------------------------------------ YAML, argocd-cm, CRD schema
if out=$(cd "$ROOT" && "$PYTHON" - "$EXAMPLES" "$FIXTURES" crds/faultline.yaml 2>&1 <<'PY'
import glob, json, os, re, sys
import yaml

examples, fixtures, crd_file = sys.argv[1:4]
failures = 0

def report(ok, what, detail=""):
    global failures
    print(("PASS " if ok else "FAIL ") + what + ("" if ok or not detail else "\n     " + detail))
    failures += 0 if ok else 1

docs = {}
for path in sorted(glob.glob(os.path.join(examples, "**", "*.y*ml"), recursive=True)):
    rel = os.path.relpath(path, examples)
    try:
        with open(path) as f:
            docs[rel] = [d for d in yaml.safe_load_all(f) if d is not None]
        report(True, f"yaml {rel} parses ({len(docs[rel])} documents)")
    except yaml.YAMLError as err:
        report(False, f"yaml {rel} parses", str(err).replace("\n", " "))

# argocd-cm embeds the Lua files byte for byte.
cm = docs.get(os.path.join("argocd", "argocd-cm.yaml"), [{}])[0].get("data", {})
for kind, lua in (("ChaosResult", "health-chaosresult.lua"), ("ChaosExperiment", "health-chaosexperiment.lua")):
    key = f"resource.customizations.health.chaos.faultline.dev_{kind}"
    with open(os.path.join(examples, "argocd", lua)) as f:
        report(cm.get(key) == f.read(), f"argocd-cm {key} is {lua}")

# A structural-schema check of custom resources against the CRDs.
with open(crd_file) as f:
    crds = {d["spec"]["names"]["kind"]: d for d in yaml.safe_load_all(f)}

def schema_of(kind):
    versions = crds[kind]["spec"]["versions"]
    return next(v for v in versions if v["name"] == "v1alpha1")["schema"]["openAPIV3Schema"]

DURATION_UNITS = None

def check(value, schema, path, errors):
    if value is None:
        if not schema.get("nullable"):
            errors.append(f"{path}: null")
        return
    if schema.get("x-kubernetes-int-or-string"):
        if not isinstance(value, (int, str)) or isinstance(value, bool):
            errors.append(f"{path}: {value!r} is neither an integer nor a string")
        return
    if "anyOf" in schema or "oneOf" in schema:
        return  # not used by these CRDs' structural parts; accept
    t = schema.get("type")
    if t == "object":
        if not isinstance(value, dict):
            errors.append(f"{path}: expected an object"); return
        props = schema.get("properties", {})
        for req in schema.get("required", []):
            if req not in value:
                errors.append(f"{path}.{req}: required")
        for key, item in value.items():
            if key in props:
                check(item, props[key], f"{path}.{key}", errors)
            elif isinstance(schema.get("additionalProperties"), dict):
                check(item, schema["additionalProperties"], f"{path}.{key}", errors)
            elif not schema.get("x-kubernetes-preserve-unknown-fields") and schema.get("additionalProperties") is not True:
                errors.append(f"{path}.{key}: unknown field")
    elif t == "array":
        if not isinstance(value, list):
            errors.append(f"{path}: expected an array"); return
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            errors.append(f"{path}: more than {schema['maxItems']} items")
        for i, item in enumerate(value):
            check(item, schema.get("items", {}), f"{path}[{i}]", errors)
    elif t == "string":
        if not isinstance(value, str):
            errors.append(f"{path}: {value!r} is not a string"); return
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append(f"{path}: {value!r} does not match {schema['pattern']}")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append(f"{path}: longer than {schema['maxLength']}")
    elif t == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            errors.append(f"{path}: {value!r} is not an integer"); return
    elif t == "number":
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            errors.append(f"{path}: {value!r} is not a number"); return
    elif t == "boolean":
        if not isinstance(value, bool):
            errors.append(f"{path}: {value!r} is not a boolean"); return
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} is not one of {schema['enum']}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{path}: {value} is below {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{path}: {value} is above {schema['maximum']}")

def validate(obj, where):
    kind = obj.get("kind")
    if obj.get("apiVersion") != "chaos.faultline.dev/v1alpha1" or kind not in crds:
        return False
    errors = []
    for part in ("spec", "status"):
        if part in obj:
            check(obj[part], schema_of(kind)["properties"][part], part, errors)
    if "spec" not in obj:
        errors.append("spec: missing")
    report(not errors, f"schema {where}: {kind} {obj.get('metadata', {}).get('name')}", "; ".join(errors))
    return True

checked = 0
for rel, items in docs.items():
    for obj in items:
        if isinstance(obj, dict) and validate(obj, rel):
            checked += 1
for path in sorted(glob.glob(os.path.join(fixtures, "*.json"))):
    with open(path) as f:
        if validate(json.load(f), "fixture " + os.path.basename(path)):
            checked += 1
report(checked >= 16, f"schema: {checked} Faultline objects checked")

# A deliberately broken experiment must be refused, so the checker itself is tested.
bad = {"apiVersion": "chaos.faultline.dev/v1alpha1", "kind": "ChaosExperiment", "metadata": {"name": "bad"},
       "spec": {"schedul": "* * * * *", "concurrencyPolicy": "Sometimes", "faults": [{"type": "pod-delete"}]}}
errors = []
check(bad["spec"], schema_of("ChaosExperiment")["properties"]["spec"], "spec", errors)
report(len(errors) >= 3, "schema checker refuses an unknown field, a bad enum and a missing name", "; ".join(errors))
sys.exit(1 if failures else 0)
PY
); then
	printf '%s\n' "$out"; passed=$((passed + $(grep -c '^PASS' <<<"$out")))
else
	printf '%s\n' "$out"; passed=$((passed + $(grep -c '^PASS' <<<"$out" || true)))
	count=$(grep -c '^FAIL' <<<"$out" || true)
	failed=$((failed + (count > 0 ? count : 1)))
fi

# ------------------------------------------------------------------- extract_script.py
if out=$("$PYTHON" "$EXAMPLES/extract_script.py" --self-test 2>&1); then
	printf '%s\n' "$out"; passed=$((passed + $(grep -c '^PASS' <<<"$out")))
else
	printf '%s\n' "$out"; failed=$((failed + 1))
fi

# Run the extracted jobs under bash -e with stubs that log their arguments: the chaos job must
# pass faultline's exit status on (1 = Fail fails the job), the rollback job must stop an active
# run and undo the rollout.
mkdir -p "$TMP/bin"
cat >"$TMP/bin/faultline" <<'SH'
#!/bin/sh
echo "faultline $*" >>"$STUB_LOG"
case "$1" in --version) echo "faultline 0.1.0 (abc1234)" ;; esac
exit "${FAULTLINE_EXIT:-0}"
SH
cat >"$TMP/bin/kubectl" <<'SH'
#!/bin/sh
echo "kubectl $*" >>"$STUB_LOG"
case "$*" in *"get chaosexperiment"*) printf '%s' "${EXPERIMENT_PHASE:-}" ;; esac
exit 0
SH
# The GitHub jobs' install step: wget "downloads" empty files, sha256sum exits $SHA256_EXIT.
cat >"$TMP/bin/wget" <<'SH'
#!/bin/sh
echo "wget $*" >>"$STUB_LOG"
for url in "$@"; do case "$url" in http*) : >"${url##*/}" ;; esac; done
SH
cat >"$TMP/bin/sha256sum" <<'SH'
#!/bin/sh
echo "sha256sum $*" >>"$STUB_LOG"
exit "${SHA256_EXIT:-0}"
SH
cat >"$TMP/bin/tar" <<'SH'
#!/bin/sh
echo "tar $*" >>"$STUB_LOG"
SH
chmod +x "$TMP/bin/faultline" "$TMP/bin/kubectl" "$TMP/bin/wget" "$TMP/bin/sha256sum" "$TMP/bin/tar"

# run_job FILE JOB [VAR=VALUE...]: runs the extracted job; sets RC and LOG.
run_job() {
	local file=$1 job=$2; shift 2
	"$PYTHON" "$EXAMPLES/extract_script.py" "$EXAMPLES/$file" "$job" >"$TMP/job.sh"
	: >"$TMP/stub.log"
	rm -rf "$TMP/runner" "$TMP/github_path"; mkdir -p "$TMP/runner"
	RC=0
	(cd "$TMP" && env PATH="$TMP/bin:$PATH" STUB_LOG="$TMP/stub.log" NS=shop EXPERIMENT=web-pod-delete \
		FAULTLINE_VERSION=0.1.0 FAULTLINE_URL=https://downloads.example.com/faultline/0.1.0 \
		RUNNER_TEMP="$TMP/runner" GITHUB_PATH="$TMP/github_path" "$@" \
		bash -e "$TMP/job.sh" >/dev/null 2>&1) || RC=$?
	LOG=$(cat "$TMP/stub.log")
}

RUN='faultline run -f chaos/experiment.yaml -n shop --wait --timeout 10m --min-score 80 --junit chaos-junit.xml --report chaos-report.html'
for file in gitlab-ci.yml github-actions.yml; do
	run_job "$file" chaos FAULTLINE_EXIT=0
	if [ "$RC" = 0 ] && grep -qxF "$RUN" <<<"$LOG"; then pass "$file chaos: runs '$RUN', passes on exit 0"
	else fail "$file chaos on exit 0" "rc=$RC, calls: $LOG"; fi
	for code in 1 2 3; do
		run_job "$file" chaos FAULTLINE_EXIT=$code
		if [ "$RC" != 0 ]; then pass "$file chaos: faultline exit $code fails the job"
		else fail "$file chaos: faultline exit $code did not fail the job"; fi
	done
	if [ "$file" = gitlab-ci.yml ]; then stop_job=stop-chaos; else stop_job=rollback; fi
	run_job "$file" $stop_job
	if [ "$RC" = 0 ] && grep -qxF 'faultline stop web-pod-delete -n shop' <<<"$LOG"; then
		pass "$file $stop_job: stops the experiment's active run"
	else fail "$file $stop_job" "rc=$RC, calls: $LOG"; fi
	run_job "$file" rollback
	if [ "$RC" = 0 ] && grep -qxF 'kubectl -n shop rollout undo deployment/web' <<<"$LOG"; then
		pass "$file rollback: undoes the rollout"
	else fail "$file rollback" "rc=$RC, calls: $LOG"; fi
done

# The GitHub jobs install faultline from the archive: the checksum is checked before anything
# runs, and a mismatch fails the job.
run_job github-actions.yml chaos
if [ "$RC" = 0 ] && grep -qxF 'wget -q https://downloads.example.com/faultline/0.1.0/faultline-0.1.0-linux-amd64.tar.gz https://downloads.example.com/faultline/0.1.0/SHA256SUMS' <<<"$LOG" \
	&& [ "$(grep -m1 -vE '^(wget|sha256sum)' <<<"$LOG")" = 'tar -xzf faultline-0.1.0-linux-amd64.tar.gz' ] \
	&& grep -qxF "$TMP/runner/faultline-0.1.0-linux-amd64" "$TMP/github_path"; then
	pass "github-actions.yml chaos: downloads the archive and SHA256SUMS, checks, unpacks, adds it to GITHUB_PATH"
else fail "github-actions.yml chaos install step" "rc=$RC, calls: $LOG"; fi
for job in chaos rollback; do
	run_job github-actions.yml $job SHA256_EXIT=1
	if [ "$RC" != 0 ] && ! grep -q '^faultline\|^tar' <<<"$LOG"; then
		pass "github-actions.yml $job: a checksum mismatch fails the job before faultline runs"
	else fail "github-actions.yml $job with a bad checksum" "rc=$RC, calls: $LOG"; fi
done

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
