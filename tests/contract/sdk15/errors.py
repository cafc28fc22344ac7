"""together 1.5.35: how the client surfaces the emulator's error responses.

Config keys: base_url (…/v1), root_url (no /v1), control_url, key, other_key, dataset.
"""

from __future__ import annotations

from _common import Recorder, config, create_kwargs
from together import Together
from together.abstract import api_requestor
from together.types import TogetherRequest

cfg = config()
rec = Recorder()
c = Together(api_key=cfg["key"], base_url=cfg["base_url"], max_retries=0)
other = Together(api_key=cfg["other_key"], base_url=cfg["base_url"], max_retries=0)

JUDGE = {
    "model": "meta-llama/Llama-3.3-70B-Instruct-Turbo",
    "model_source": "serverless",
    "system_template": "Grade the answer to {{prompt}}.",
}

f = rec.step("upload", lambda: c.files.upload(cfg["dataset"], purpose="eval", check=False))
classify = {
    "judge": JUDGE,
    "labels": ["good", "bad"],
    "pass_labels": ["good"],
    "model_to_evaluate": "response",
    "input_data_file_path": f.id,
}
created = rec.step("create", lambda: c.evaluation.create(**create_kwargs("classify", classify)))

rec.expect_error("retrieve_unknown", lambda: c.evaluation.retrieve("eval-abcd-1767225600"))
rec.expect_error("status_unknown", lambda: c.evaluation.status("eval-abcd-1767225600"))
rec.expect_error("file_unknown", lambda: c.files.retrieve("file-00000000-0000-4000-8000-000000000000"))
rec.expect_error("other_tenant_retrieve", lambda: other.evaluation.retrieve(created.workflow_id))
rec.expect_error("other_tenant_status", lambda: other.evaluation.status(created.workflow_id))
rec.expect_error("other_tenant_file", lambda: other.files.retrieve(f.id))
rec.step("other_tenant_list", lambda: other.evaluation.list())

score = {
    "judge": JUDGE,
    "min_score": 5,
    "max_score": 1,
    "pass_threshold": 3,
    "model_to_evaluate": "response",
    "input_data_file_path": f.id,
}
rec.expect_error("score_min_above_max", lambda: c.evaluation.create(**create_kwargs("score", score)))
score_eq = dict(score, min_score=5, max_score=5, pass_threshold=5)
rec.expect_error("score_min_equals_max", lambda: c.evaluation.create(**create_kwargs("score", score_eq)))
score_thr = dict(score, min_score=1, max_score=10, pass_threshold=0)
rec.expect_error("score_threshold_outside", lambda: c.evaluation.create(**create_kwargs("score", score_thr)))
one_label = dict(classify, labels=["good"], pass_labels=["good"])
rec.expect_error("classify_one_label", lambda: c.evaluation.create(**create_kwargs("classify", one_label)))
not_subset = dict(classify, pass_labels=["great"])
rec.expect_error("classify_pass_not_subset", lambda: c.evaluation.create(**create_kwargs("classify", not_subset)))
hot = dict(
    classify,
    model_to_evaluate={
        "model": "m",
        "model_source": "serverless",
        "max_tokens": 10,
        "temperature": 2.5,
        "system_template": "s",
        "input_template": "{{prompt}}",
    },
)
rec.expect_error("model_temperature", lambda: c.evaluation.create(**create_kwargs("classify", hot)))


def no_auth_request():  # type: ignore[no-untyped-def]
    # The 1.5.35 client refuses to run without a key, so drop the header at the requestor level.
    requestor = api_requestor.APIRequestor(client=c.client)
    return requestor.request(
        options=TogetherRequest(method="GET", url="evaluations", headers={}, override_headers=True), stream=False
    )


rec.expect_error("no_authorization_header", no_auth_request)
blank = Together(api_key=" ", base_url=cfg["base_url"], max_retries=0)  # sends "Bearer  "
rec.expect_error("blank_key_list", lambda: blank.evaluation.list())
rec.expect_error("blank_key_upload", lambda: blank.files.upload(cfg["dataset"], purpose="eval", check=False))

no_v1 = Together(api_key=cfg["key"], base_url=cfg["root_url"], max_retries=0)
rec.expect_error("base_url_without_v1", lambda: no_v1.evaluation.list())
rec.emit()
