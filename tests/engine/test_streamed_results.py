"""Datasets are read in a stream and result files are generated as a stream of chunks, in bounded
memory, with every summary, result-file byte and error message exactly as when every row was held
in memory and each result file was built whole."""

from __future__ import annotations

import codecs
import csv
import dataclasses
import inspect
import io
import json
from typing import Any

import pytest
from together_eval_emulator import Emulator
from together_eval_emulator.engine import _datasets, _results
from together_eval_emulator.engine._datasets import Dataset, DatasetError, parse_dataset
from together_eval_emulator.engine._files import GeneratedFile
from together_eval_emulator.engine._results import Judge, result_file, result_row, summarize

from tests.engine.streaming_support import CASES, csv_dataset, jsonl_dataset, pinned
from tests.support import CoreClient, classify_params, jsonl, qa_rows

# Digests of each case's final status reply and result file (`streaming_support.pinned`), as the
# version that held every row in memory and built each result file whole gave them.
PINNED = {
    "jsonl classify": (
        "221c15563c9a32b75d4aaa00b15fb20486617566d39aec4da290087604a73f38",
        "3689d0c7f72fa15b873f853f57c213619af343829bb5b1acd13f41e8e30096ee",
    ),
    "jsonl score, generated responses": (
        "08cf059d0d397634b5a4c4d7dee5ffc118f288c3aba4447e1b6351e0a9c58ca7",
        "935879ab27ac9b030f102cf45993d409d687446db3420710f0ab816d6abb50eb",
    ),
    "csv compare, failing rows": (
        "5a1a46ae720c553e37394fc7f2909f5f877ca7801981c48d7a2a32007496f9aa",
        "b5fe9f9af894c89c02afcfc6bcd128aaed6fd8d29598efaed2e3f42eadc385b3",
    ),
    "dataset problem": ("81ad179975d0d4b057948b1d6fa33bdbbf0d22a7e40b8ec45758ecf00685aecd", None),
}


@pytest.fixture(params=[_datasets.SLICE_BYTES, 4096], ids=["megabyte slices", "4 KB slices"])
def slices(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """Datasets read in slices of this many bytes: small ones split the pinned datasets in many."""
    monkeypatch.setattr(_datasets, "SLICE_BYTES", request.param)
    return int(request.param)


@pytest.mark.parametrize("case", list(CASES))
def test_summaries_and_result_files_are_byte_for_byte_as_before(case: str, slices: int) -> None:
    assert pinned(case) == PINNED[case]


def rows_whole(content: bytes, file_type: str) -> list[tuple[dict[str, Any], bytes]]:
    """Every row with its key, read the way a dataset was read before streaming: the whole file
    decoded, then split and parsed in one go."""
    text = content.decode("utf-8").removeprefix(codecs.BOM_UTF8.decode())
    if file_type == "jsonl":
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        return [(json.loads(line), line.encode()) for line in lines]
    records = [record for record in csv.reader(io.StringIO(text)) if record]
    rows = [dict(zip(records[0], record, strict=True)) for record in records[1:]]
    return [(row, _datasets.canonical(row).encode()) for row in rows]


def file_built_whole(judge: Judge, keyed: list[tuple[dict[str, Any], bytes]]) -> bytes:
    """A result file made the way it was before streaming: every row's line joined at once."""
    lines = [json.dumps(result_row(judge, judge.verdict(row, key)), ensure_ascii=False) for row, key in keyed]
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize("case", ["jsonl classify", "jsonl score, generated responses", "csv compare, failing rows"])
def test_the_streamed_result_file_is_the_file_built_whole(case: str, slices: int) -> None:
    filename, content, eval_type, parameters = CASES[case]
    client = CoreClient(Emulator(clock="manual"))
    workflow_id = client.create_id(eval_type, parameters(client.upload(content(), filename=filename)))
    client.advance(86_400 * 30)
    job = client.emulator.store.find_job(workflow_id)
    assert job is not None and job.dataset is not None
    keyed = rows_whole(content(), filename.rsplit(".", 1)[-1])
    chunks = list(result_file(job.judge, job.dataset))
    assert len(chunks) == -(-len(keyed) // _results.LINES_PER_CHUNK) > 1
    assert b"".join(chunks) == file_built_whole(job.judge, keyed)
    downloaded = client.request("GET", f"/v1/files/{job.result_file_id}/content")
    assert downloaded.body == b"".join(chunks)
    assert client.request("GET", f"/v1/files/{job.result_file_id}").json()["bytes"] == len(downloaded.body)
    incomplete = [json.loads(line) for line in downloaded.body.splitlines() if b'"is_incomplete": true' in line]
    assert bool(incomplete) == (case == "csv compare, failing rows")  # the failing rows are there, as before


def test_a_summary_is_one_pass_over_the_rows_keys() -> None:
    content = jsonl_dataset()
    dataset = parse_dataset(content, "jsonl", "unicode.jsonl")
    judge = Judge("classify", _classify(), 0, _results.Outcome(judge_fail_rate=0.2))
    keyed = rows_whole(content, "jsonl")
    assert [key for _, key in keyed] == list(dataset.keys())
    results, failed = summarize(judge, dataset)
    verdicts = [judge.verdict(row, key, text=False) for row, key in keyed]
    assert failed == sum(not verdict.successful for verdict in verdicts) > 0
    assert results["label_counts"] == {
        label: sum(verdict.label == label for verdict in verdicts) for label in ("good", "fair", "bad")
    }


def _classify() -> Any:
    from together_eval_emulator.engine._validation import validate_create

    return validate_create({"type": "classify", "parameters": CASES["jsonl classify"][3]("file-x")})[1]


def test_a_dataset_holds_its_bytes_and_facts_never_its_rows() -> None:
    content = jsonl_dataset()
    dataset = parse_dataset(content, "jsonl", "unicode.jsonl")
    fields = {field.name for field in dataclasses.fields(Dataset)}
    assert fields == {"content", "kind", "columns", "row_count", "fingerprint", "deepest_row"}
    assert dataset.content is content  # the uploaded bytes themselves: no copy
    assert (dataset.columns, dataset.row_count, dataset.deepest_row) == (("prompt", "response", "meta"), 2500, (5, 1))
    for rows in (dataset.rows(), dataset.keyed_rows(), dataset.keys()):
        assert inspect.isgenerator(rows)  # read again from the bytes each time, a slice at a time


def test_a_result_file_is_a_generator_that_makes_nothing_until_read(monkeypatch: pytest.MonkeyPatch) -> None:
    assert inspect.isgeneratorfunction(result_file)
    dataset = parse_dataset(jsonl(qa_rows(3)).encode(), "jsonl", "d.jsonl")

    def unread(_: Dataset) -> Any:
        raise AssertionError("read before the first chunk was asked for")

    monkeypatch.setattr(Dataset, "keyed_rows", unread)
    result_file(None, dataset)  # type: ignore[arg-type]  # neither the judge nor the rows are touched yet


def test_a_large_result_file_is_served_as_chunks_with_its_size() -> None:
    client = CoreClient(Emulator(clock="manual"))
    workflow_id = client.create_id("classify", classify_params(client.upload(jsonl(qa_rows(3000)))))
    client.advance(86_400)
    files = client.emulator.files
    file = files.get(client.key, client.status(workflow_id)["results"]["result_file_id"])
    first = files.content_loader(file)()  # measured, then read back from its spool
    second = files.content_loader(file)()  # its size known: generated as it is read
    assert isinstance(first, GeneratedFile) and isinstance(second, GeneratedFile)
    assert inspect.isgenerator(first.chunks) and inspect.isgenerator(second.chunks)
    whole = b"".join(first.chunks)
    assert len(whole) == first.size == second.size > 256 * 1024
    assert b"".join(second.chunks) == whole == files.content(file)


# ---------------------------------------------------------------- the checks of one streaming pass


def problem(content: bytes, file_type: str = "jsonl") -> str:
    with pytest.raises(DatasetError) as raised:
        parse_dataset(content, file_type, f"data.{file_type}")
    return str(raised.value)


SLICED = 64  # bytes per slice in the tests below: each problem lies in another slice than the rest


@pytest.fixture
def small_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_datasets, "SLICE_BYTES", SLICED)


def rows_of(n: int, **extra: Any) -> bytes:
    return "".join(json.dumps({"prompt": f"question {i}", "response": "r", **extra}) + "\n" for i in range(n)).encode()


@pytest.mark.usefixtures("small_slices")
def test_bytes_that_are_not_utf8_outrank_a_bad_line_before_them() -> None:
    content = rows_of(5) + b"not json\n" + rows_of(20) + b'{"prompt": "\xff"}\n'
    assert problem(content) == (
        f"File 'data.jsonl' is not valid UTF-8 (byte {len(content) - 4}). Upload a UTF-8 encoded JSONL or CSV file."
    )
    assert problem(content, "parquet").startswith("File 'data.parquet' is not valid UTF-8")


@pytest.mark.usefixtures("small_slices")
def test_a_bad_line_outranks_a_row_with_other_columns_before_it_and_is_numbered_across_slices() -> None:
    content = rows_of(3) + b'{"other": 1}\n' + b"\n\r\n" + rows_of(30) + b"[1, 2]\n" + rows_of(2)
    assert (
        problem(content) == "Line 37 of 'data.jsonl' is a JSON list, not an object. Each line must be one JSON object."
    )
    assert problem(content[: -len(rows_of(2)) - 7]) == (
        "Row 4 of 'data.jsonl' has columns ['other'] but row 1 has ['prompt', 'response']. Every row must contain "
        "the same fields."
    )


@pytest.mark.usefixtures("small_slices")
def test_a_csv_error_outranks_a_record_of_the_wrong_length_before_it() -> None:
    rows = "".join(f"q{i},r{i}\n" for i in range(40))
    assert problem(f"prompt,response\n{rows}only one\n{rows}".encode(), "csv") == (
        "Line 42 of 'data.csv' has 1 values but the header has 2 columns."
    )
    too_long = "x" * (csv.field_size_limit() + 1)
    assert problem(f"prompt,response\n{rows}only one\n{rows}{too_long},y\n".encode(), "csv") == (
        f"File 'data.csv' is not valid CSV (field larger than field limit ({csv.field_size_limit()}))."
    )


@pytest.mark.usefixtures("small_slices")
def test_the_deepest_row_is_found_across_slices() -> None:
    content = rows_of(10, meta=1) + rows_of(1, meta=[[1]]) + rows_of(10, meta=2) + rows_of(2, meta=[[[2]]])
    assert parse_dataset(content, "jsonl", "d.jsonl").deepest_row == (4, 22)


def test_a_parsed_dataset_is_kept_as_its_upload_bytes() -> None:
    client = CoreClient(Emulator(clock="manual"))
    file_id = client.upload(csv_dataset(), filename="answers.csv")
    files = client.emulator.files
    dataset = files.dataset(files.get(client.key, file_id))
    assert dataset.content is client.emulator.store.get_content(client.key, file_id)
    assert files.dataset(files.get(client.key, file_id)) is dataset  # parsed once per content


# ---------------------------------------------------------------- snapshots


@pytest.mark.parametrize("case", ["jsonl classify", "csv compare, failing rows"])
def test_a_state_snapshot_keeps_the_rows_and_their_result_file(case: str) -> None:
    filename, content, eval_type, parameters = CASES[case]
    donor = CoreClient(Emulator(clock="manual"))
    workflow_id = donor.create_id(eval_type, parameters(donor.upload(content(), filename=filename)))
    donor.advance(86_400 * 30)
    result_file_id = donor.status(workflow_id)["results"]["result_file_id"]
    state = donor.control("GET", "state")
    (job,) = state["tenants"][0]["jobs"]
    whole = rows_whole(content(), filename.rsplit(".", 1)[-1])
    if filename.endswith(".jsonl"):  # a JSONL file's own lines (its rows are read from them), no rows beside them
        assert job["dataset"]["lines"] == [key.decode() for _, key in whole] and "rows" not in job["dataset"]
    else:
        assert job["dataset"]["rows"] == [row for row, _ in whole] and "lines" not in job["dataset"]
    fresh = CoreClient(Emulator(clock="manual"))
    fresh.control("PUT", "state", state)
    assert fresh.control("GET", "state") == state
    for path in (f"/v1/files/{result_file_id}/content", f"/v1/evaluation/{workflow_id}"):
        assert fresh.request("GET", path).body == donor.request("GET", path).body


def test_a_snapshot_whose_rows_are_not_what_its_lines_hold_is_refused() -> None:
    donor = CoreClient(Emulator(clock="manual"))
    donor.create_id("classify", classify_params(donor.upload(jsonl(qa_rows(3)))))
    state = donor.control("GET", "state")
    dataset = state["tenants"][0]["jobs"][0]["dataset"]
    dataset["rows"] = [json.loads(line) for line in dataset["lines"]]  # as earlier exports wrote them
    assert (
        CoreClient(Emulator(clock="manual")).request("PUT", "/_emulator/state", json_body=state, key=None).status == 200
    )
    dataset["rows"][1]["prompt"] = "edited"
    reply = CoreClient(Emulator(clock="manual")).request("PUT", "/_emulator/state", json_body=state, key=None)
    assert reply.status == 400
    assert reply.json()["error"]["param"] == "tenants.0.jobs.0.dataset"
