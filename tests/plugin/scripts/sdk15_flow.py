"""Run by a Python that has together==1.5.35 (tests/plugin/test_sdk15.py drives it).

argv[1]: JSON {type: {"path": dataset, "params": 3.x-style parameters}}. Prints one JSON line with
the created job ids, waits for a line on stdin (the test completes the jobs meanwhile), then
prints one JSON line with each job's status, results and result-file rows.
"""

import json
import sys
import tempfile
from pathlib import Path

from together import Together

cases = json.loads(sys.argv[1])
client = Together()  # TOGETHER_API_KEY and TOGETHER_BASE_URL (with /v1) come from the environment
jobs = {}
for eval_type, case in cases.items():
    params = dict(case["params"])
    judge = params.pop("judge")
    file_id = client.files.upload(case["path"], purpose="eval", check=False).id
    created = client.evaluation.create(
        type=eval_type,
        judge_model=judge["model"],
        judge_model_source=judge["model_source"],
        judge_system_template=judge["system_template"],
        input_data_file_path=file_id,
        **params,
    )
    jobs[eval_type] = created.workflow_id
print(json.dumps({"jobs": jobs, "first_status": client.evaluation.status(jobs["classify"]).status.value}), flush=True)

sys.stdin.readline()

report = {}
for eval_type, workflow_id in jobs.items():
    status = client.evaluation.status(workflow_id)
    job = client.evaluation.retrieve(workflow_id)
    output = Path(tempfile.mkdtemp()) / "results.jsonl"
    client.files.retrieve_content(status.results["result_file_id"], output=str(output))
    report[eval_type] = {
        "status": status.status.value,
        "results": status.results,
        "retrieved_status": job.status.value,
        "rows": [json.loads(line) for line in output.read_text().splitlines()],
    }
print(json.dumps(report), flush=True)
