"""together 1.5.35 AsyncTogether (aiohttp): create, retrieve, status, list around a clock advance.

Config keys: base_url (…/v1), control_url, key, type, parameters (with input_data_file_path).
"""

from __future__ import annotations

import asyncio

from _common import Recorder, advance, config, create_kwargs
from together import AsyncTogether


async def main() -> None:
    cfg = config()
    rec = Recorder()
    c = AsyncTogether(api_key=cfg["key"], base_url=cfg["base_url"], max_retries=0)
    kwargs = create_kwargs(cfg["type"], cfg["parameters"])
    created = await rec.astep("create", lambda: c.evaluation.create(**kwargs))
    wid = created.workflow_id
    await rec.astep("retrieve_pending", lambda: c.evaluation.retrieve(wid))
    await rec.astep("status_pending", lambda: c.evaluation.status(wid))
    await rec.astep("list_pending", lambda: c.evaluation.list(status="pending", limit=5))
    rec.step("advance", lambda: advance(cfg["control_url"], 3600))
    await rec.astep("status_done", lambda: c.evaluation.status(wid))
    await rec.astep("retrieve_done", lambda: c.evaluation.retrieve(wid))
    await rec.astep("list_completed", lambda: c.evaluation.list(status="completed"))
    await rec.aexpect_error("retrieve_unknown", lambda: c.evaluation.retrieve("eval-ffff-1767225600"))
    rec.emit()


asyncio.run(main())
