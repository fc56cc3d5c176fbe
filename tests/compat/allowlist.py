"""Intended differences and pending scenarios (see tests/compat/README.md).

ALLOW: scenario -> reason. A scenario listed here that differs is reported ALLOWED with the
reason; a listed scenario that no longer differs is reported PASS. Every reason names the
rule (runtime-spec text or a husk design decision) that makes husk's behaviour the right one.

PENDING: scenario -> (issue 22 class, note). The fix lives in files another branch is
refactoring; the runner reports these as `PENDING (issue 22 class N)` and does not fail.
When one passes it is reported PASS with "enable it": then move it out of this list.
"""

ALLOW = {
    "kill-signal-SIGRTMIN+1":
        "husk also accepts real-time signal names (RTMIN+n, RTMAX-n); runc 1.1.5's signal table "
        "lacks them (runc 1.2 accepts them). A superset where runc only errors.",
    "ociversion-old":
        "runtime-spec config: ociVersion is REQUIRED and names the spec version the bundle "
        "complies with; husk refuses a major version other than 1 instead of guessing.",
    "ociversion-missing":
        "runtime-spec config: ociVersion is REQUIRED; runc 1.1.5 does not check it.",
    "config-no-process":
        "runtime-spec config: process is OPTIONAL at create and REQUIRED when start is called; "
        "husk's create accepts it and start refuses (runc refuses at create).",
    "features-keys":
        "runtime-spec 1.3 features.md: `potentiallyUnsafeConfigAnnotations` is a top-level key "
        "(runc 1.2+ has it); runc 1.1.5 predates it.",
    "proc-domainname":
        "runtime-spec 1.2 `domainname` is applied by husk; runc 1.1.5 ignores the field "
        "(support came in runc 1.2).",
    "hooks-poststop-fails":
        "runtime-spec lifecycle step 13: a failing poststop hook MUST be logged as a warning and "
        "the remaining steps go on; runc 1.1.5 logs it at level error. Exit codes are equal.",
    "hooks-state-on-stdin":
        "runc gives prestart/createRuntime hooks status \"creating\"; the runtime-tools validation "
        "suite (hooks_stdin, conformance/expected.txt: pass) requires \"created\" and runc fails it. "
        "husk keeps the suite's reading (measured: with \"creating\" hooks_stdin fails assertion 1).",
    "life-delete-created":
        "runtime-spec runtime.md delete: \"Attempting to delete a container that is not stopped MUST "
        "have no effect on the container and MUST generate an error\"; runc 1.1.5 kills and removes a "
        "`created` container without --force. husk follows the spec (conformance/runtime_test.cpp).",
    "mounts-mountinfo":
        "a masked directory is an empty read-only tmpfs; husk's also carries nosuid,nodev,noexec "
        "and size=0, one superblock for all of them (hardening, as runc 1.2+ and crun; made with "
        "the new mount API, no path to race on). The order (readonlyPaths, then maskedPaths), the "
        "source and the read-only superblock are runc's (issue 22 class 13).",
    "mounts-no-pivot": "as mounts-mountinfo (the --no-pivot path).",
    "cli-exec-unknown-flag":
        "`exec` stops option parsing at the first non-option word so the command's own flags "
        "pass through (`exec ID sh -c ...`); an unknown option before the id therefore fails as "
        "an exec failure (255, runc's exec-failure code) instead of a usage error (1). Both fail.",
}

PENDING = {
}
