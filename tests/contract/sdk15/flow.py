"""together 1.5.35: upload, create, poll, list, download and delete for one evaluation job.

Config keys: base_url (…/v1), control_url, key, type, parameters (without input_data_file_path),
dataset, output (path for the downloaded result file).
"""

from __future__ import annotations

from pathlib import Path

from _common import Recorder, advance, config, create_kwargs
from together import Together

cfg = config()
rec = Recorder()
c = Together(api_key=cfg["key"], base_url=cfg["base_url"], max_retries=0)

f = rec.step("upload", lambda: c.files.upload(cfg["dataset"], purpose="eval", check=False))
rec.step("file_retrieve", lambda: c.files.retrieve(f.id))
rec.step("files_list_before", lambda: c.files.list())
params = dict(cfg["parameters"], input_data_file_path=f.id)
created = rec.step("create", lambda: c.evaluation.create(**create_kwargs(cfg["type"], params)))
wid = created.workflow_id
rec.step("status_pending", lambda: c.evaluation.status(wid))
rec.step("retrieve_pending", lambda: c.evaluation.retrieve(wid))
rec.step("list_pending", lambda: c.evaluation.list(status="pending", limit=10))
rec.step("advance", lambda: advance(cfg["control_url"], 3600))
done = rec.step("status_done", lambda: c.evaluation.status(wid))
rec.step("retrieve_done", lambda: c.evaluation.retrieve(wid))
rec.step("list_completed", lambda: c.evaluation.list(status="completed", limit=5))
rec.step("list_pending_after", lambda: c.evaluation.list(status="pending"))
rec.step("list_all", lambda: c.evaluation.list())
rid = (done.results or {}).get("result_file_id")
rec.step("download", lambda: c.files.retrieve_content(rid, output=cfg["output"]))
rec.step("result_text", lambda: Path(cfg["output"]).read_text(encoding="utf-8"))
rec.step("result_file", lambda: c.files.retrieve(rid))
rec.step("files_list_after", lambda: c.files.list())
rec.step("delete", lambda: c.files.delete(f.id))
rec.expect_error("retrieve_deleted", lambda: c.files.retrieve(f.id))
rec.emit()
