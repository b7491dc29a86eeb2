#!/usr/bin/python3
"""Prints the shell commands of one CI job, so a test can run them with `bash -e`.

    extract_script.py FILE JOB    GitLab CI: the job's `script` list, one entry per line (a
                                  multi-line entry is printed as it is).
                                  GitHub Actions: the `run:` blocks of jobs.JOB.steps, in order,
                                  each in a subshell of its own (a `cd` does not carry over to
                                  the next step), and with the directories a step appends to
                                  $GITHUB_PATH put on PATH for the later steps, as the runner does.
    extract_script.py --self-test checks the lines extracted from gitlab-ci.yml and
                                  github-actions.yml next to this file.

The format is told apart by the file: a top-level `jobs:` map whose entries have `steps` is
GitHub Actions; anything else is GitLab CI. Needs PyYAML (run it with /usr/bin/python3 on Debian,
package python3-yaml). Exit status: 0, or 2 for an unknown job or an unreadable file.
"""

import os
import sys

import yaml


class ExtractError(Exception):
    pass


def _flatten(entries):
    """GitLab allows nested lists in `script` (from YAML anchors); flatten them in order."""
    for entry in entries:
        if isinstance(entry, list):
            yield from _flatten(entry)
        elif isinstance(entry, str):
            yield entry
        else:
            raise ExtractError(f"a script entry is not a string: {entry!r}")


def _is_github(doc):
    jobs = doc.get("jobs")
    return isinstance(jobs, dict) and any(isinstance(j, dict) and "steps" in j for j in jobs.values())


# After each GitHub step: what the runner does with the lines a step wrote to $GITHUB_PATH.
GITHUB_PATH_UPDATE = 'if [ -s "${GITHUB_PATH:-}" ]; then PATH=$(tr "\\n" : < "$GITHUB_PATH")$PATH; fi\n'


def _github_step(run):
    """One `run:` block as the runner runs it: a shell of its own, then the $GITHUB_PATH update."""
    return "(\n" + run.rstrip("\n") + "\n)\n" + GITHUB_PATH_UPDATE


def extract(path, job):
    """Returns the job's shell commands as a list of strings, in order."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as err:
        raise ExtractError(f"cannot read {path}: {err}") from err
    if not isinstance(doc, dict):
        raise ExtractError(f"{path} is not a YAML map")
    if _is_github(doc):
        jobs = doc["jobs"]
        if job not in jobs:
            raise ExtractError(f"{path} has no job {job!r}; its jobs: {', '.join(jobs)}")
        return [_github_step(step["run"]) for step in jobs[job].get("steps", []) if "run" in step]
    definition = doc.get(job)
    if not isinstance(definition, dict) or "script" not in definition:
        jobs = [k for k, v in doc.items() if isinstance(v, dict) and "script" in v]
        raise ExtractError(f"{path} has no job {job!r} with a script; its jobs: {', '.join(jobs)}")
    script = definition["script"]
    return list(_flatten(script if isinstance(script, list) else [script]))


def render(commands):
    """The commands as one shell text: each entry on its own line(s)."""
    return "".join(c if c.endswith("\n") else c + "\n" for c in commands)


# What each example job must run: every line here must appear, in this order, among the
# extracted lines (comments and blank lines are ignored).
EXPECTED = {
    ("gitlab-ci.yml", "chaos"): [
        "faultline --version",
        'faultline run -f chaos/experiment.yaml -n "$NS" --wait --timeout 10m --min-score 80'
        " --junit chaos-junit.xml --report chaos-report.html",
    ],
    ("gitlab-ci.yml", "stop-chaos"): [
        'faultline stop "$EXPERIMENT" -n "$NS"',
    ],
    ("gitlab-ci.yml", "rollback"): [
        'kubectl -n "$NS" rollout undo deployment/web',
        'kubectl -n "$NS" rollout status deployment/web --timeout=5m',
    ],
    ("github-actions.yml", "chaos"): [
        'cd "$RUNNER_TEMP"',
        'wget -q "$FAULTLINE_URL/faultline-$FAULTLINE_VERSION-linux-amd64.tar.gz" "$FAULTLINE_URL/SHA256SUMS"',
        "sha256sum -c SHA256SUMS",
        'tar -xzf "faultline-$FAULTLINE_VERSION-linux-amd64.tar.gz"',
        'echo "$RUNNER_TEMP/faultline-$FAULTLINE_VERSION-linux-amd64" >> "$GITHUB_PATH"',
        "faultline --version",
        'faultline run -f chaos/experiment.yaml -n "$NS" --wait --timeout 10m --min-score 80'
        " --junit chaos-junit.xml --report chaos-report.html",
    ],
    ("github-actions.yml", "rollback"): [
        'cd "$RUNNER_TEMP"',
        'wget -q "$FAULTLINE_URL/faultline-$FAULTLINE_VERSION-linux-amd64.tar.gz" "$FAULTLINE_URL/SHA256SUMS"',
        "sha256sum -c SHA256SUMS",
        'tar -xzf "faultline-$FAULTLINE_VERSION-linux-amd64.tar.gz"',
        'echo "$RUNNER_TEMP/faultline-$FAULTLINE_VERSION-linux-amd64" >> "$GITHUB_PATH"',
        'faultline stop "$EXPERIMENT" -n "$NS"',
        'kubectl -n "$NS" rollout undo deployment/web',
        'kubectl -n "$NS" rollout status deployment/web --timeout=5m',
    ],
}


def _lines(commands):
    out = []
    for line in render(commands).splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


def self_test():
    here = os.path.dirname(os.path.abspath(__file__))
    failures = 0
    for (name, job), expected in EXPECTED.items():
        lines = _lines(extract(os.path.join(here, name), job))
        position = 0
        missing = []
        for want in expected:
            try:
                position = lines.index(want, position) + 1
            except ValueError:
                missing.append(want)
        # A job may use only faultline, kubectl and POSIX shell: no other tool, no CI syntax.
        foreign = [line for line in lines if "${{" in line or "$CI_" in line or "docker " in line]
        if missing or foreign:
            failures += 1
            print(f"FAIL {name} {job}: missing {missing} foreign {foreign}; got {lines}")
        else:
            print(f"PASS {name} {job}: {len(lines)} lines")
    for name in ("gitlab-ci.yml", "github-actions.yml"):
        try:
            extract(os.path.join(here, name), "no-such-job")
            print(f"FAIL {name}: an unknown job was not refused")
            failures += 1
        except ExtractError:
            print(f"PASS {name}: an unknown job is refused")
    return 1 if failures else 0


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    if len(argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        sys.stdout.write(render(extract(argv[1], argv[2])))
    except ExtractError as err:
        print(f"extract_script.py: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
