/** Parsing ansible-playbook's default output (samples captured from ansible-core 2.14 on Debian 12). */
import { describe, expect, test } from "bun:test";
import { describeFailure, parseFailures, parseFatalError, parseRecap, resultMessage } from "../../src/methods/ansible-output.ts";

const OK = `
PLAY [localhost] ***************************************************************

TASK [write a file] ************************************************************
changed: [localhost]

PLAY RECAP *********************************************************************
localhost                  : ok=1    changed=1    unreachable=0    failed=0    skipped=0    rescued=0    ignored=0   
`;

const LOOP_FAIL = `
PLAY [localhost] ***************************************************************

TASK [ignored] *****************************************************************
fatal: [localhost]: FAILED! => {"changed": true, "cmd": ["false"], "msg": "non-zero return code", "rc": 1, "stderr": "", "stderr_lines": [], "stdout": "", "stdout_lines": []}
...ignoring

TASK [loop fail] ***************************************************************
failed: [localhost] (item=a) => {"ansible_loop_var": "item", "changed": true, "cmd": ["sh", "-c", "echo out-a; echo err-a >&2; exit 3"], "item": "a", "msg": "non-zero return code", "rc": 3, "stderr": "err-a", "stderr_lines": ["err-a"], "stdout": "out-a", "stdout_lines": ["out-a"]}
failed: [localhost] (item=b (x)) => {"ansible_loop_var": "item", "changed": true, "item": "b (x)", "msg": "non-zero return code", "rc": 3, "stderr": "err-b", "stdout": "out-b"}

PLAY RECAP *********************************************************************
localhost                  : ok=1    changed=1    unreachable=0    failed=1    skipped=0    rescued=0    ignored=1   
`;

const FAIL_MSG = `
TASK [the check] ***************************************************************
fatal: [localhost]: FAILED! => {"changed": false, "msg": "disk too small"}

PLAY RECAP *********************************************************************
localhost                  : ok=0    changed=0    unreachable=0    failed=1    skipped=0    rescued=0    ignored=0   
`;

const UNREACHABLE = `
TASK [Gathering Facts] *********************************************************\r
fatal: [localhost]: UNREACHABLE! => {"changed": false, "msg": "Failed to connect to the host via ssh: ssh: connect to host localhost port 22: Connection refused", "unreachable": true}\r
\r
PLAY RECAP *********************************************************************\r
localhost                  : ok=0    changed=0    unreachable=1    failed=0    skipped=0    rescued=0    ignored=0   \r
`;

const SYNTAX = `ERROR! couldn't resolve module/action 'bogus_module_zz'. This often indicates a misspelling, missing collection, or incorrect module path.

The error appears to be in '/tmp/ap/syn.yml': line 3, column 7, but may
be elsewhere in the file depending on the exact syntax problem.
`;

describe("ansible output", () => {
  test("a successful run has no failures and its recap counts", () => {
    expect(parseFailures(OK)).toEqual([]);
    expect(parseRecap(OK)).toEqual({ ok: 1, changed: 1, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 });
  });

  test("ignored failures are skipped; loop items keep their item and stderr", () => {
    const f = parseFailures(LOOP_FAIL);
    expect(f).toEqual([
      { task: "loop fail", host: "localhost", item: "a", unreachable: false, message: "non-zero return code: rc=3: err-a" },
      { task: "loop fail", host: "localhost", item: "b (x)", unreachable: false, message: "non-zero return code: rc=3: err-b" },
    ]);
    expect(parseRecap(LOOP_FAIL)?.ignored).toBe(1);
  });

  test("the fail module's msg is the reason", () => {
    expect(describeFailure(FAIL_MSG, 2)).toBe('task "the check" failed on localhost: disk too small');
  });

  test("unreachable hosts (terminal output with CRLF) are marked", () => {
    const [f] = parseFailures(UNREACHABLE);
    expect(f?.unreachable).toBe(true);
    expect(f?.task).toBe("Gathering Facts");
    expect(describeFailure(UNREACHABLE, 4)).toContain('task "Gathering Facts" could not reach localhost: Failed to connect');
    expect(parseRecap(UNREACHABLE)?.unreachable).toBe(1);
  });

  test("a bad playbook gives the ERROR! paragraph", () => {
    expect(parseFatalError(SYNTAX)).toBe(
      "ERROR! couldn't resolve module/action 'bogus_module_zz'. This often indicates a misspelling, missing collection, or incorrect module path. " +
        "The error appears to be in '/tmp/ap/syn.yml': line 3, column 7, but may be elsewhere in the file depending on the exact syntax problem.",
    );
    expect(describeFailure(SYNTAX, 4)).toStartWith("ERROR! couldn't resolve module/action 'bogus_module_zz'");
  });

  test("without anything recognisable: exit code and the last lines", () => {
    expect(describeFailure("a\nb\nc\nd\ne\nf\n", 250)).toBe("ansible-playbook exited with code 250: b | c | d | e | f");
    expect(describeFailure("", 1)).toBe("ansible-playbook exited with code 1 and printed nothing");
  });

  test("more than three failures are counted, not listed", () => {
    const many = Array.from({ length: 5 }, (_, i) => `TASK [t${i}] ***\nfatal: [h]: FAILED! => {"msg": "m${i}"}`).join("\n");
    const d = describeFailure(many, 2);
    expect(d).toContain('task "t2" failed on h: m2');
    expect(d).not.toContain("m3");
    expect(d).toEndWith("; and 2 more failed task result(s)");
  });

  test("result messages: module failures, long text clipped, non-JSON kept", () => {
    expect(resultMessage(JSON.stringify({ msg: "MODULE FAILURE", module_stderr: "Traceback\n  x\nValueError: boom\n", rc: 1 }))).toBe(
      "MODULE FAILURE: rc=1: Traceback | x | ValueError: boom",
    );
    expect(resultMessage(JSON.stringify({ msg: "x".repeat(1000) })).length).toBeLessThanOrEqual(401);
    expect(resultMessage("not json")).toBe("not json");
  });
});
