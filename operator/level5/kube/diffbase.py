"""kopf's diff-base (the "last handled configuration" it compares each watch event of an AgentTask against),
built from only what it keeps.

kopf builds that essence for every watch event of every object: it deep-copies the whole body and then drops
the status and the metadata except labels and annotations. An AgentTask's body is mostly what is dropped (its
status with the iteration history, and `metadata.managedFields`, which mirrors every field again), so during
a 1,000-task ramp this copy was the largest single use of the operator's CPU on its event loop (4.3 of 54
CPU-seconds in a profiled 300-task ramp, 1.8 ms an event). `SlimDiffBaseStorage` hands kopf's own `build` a
body without the status and with only the metadata it keeps, so the essence (and thus every stored
annotation) is the same, built from a fraction of the copying."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

import kopf

KEPT_METADATA = ("labels", "annotations", "ownerReferences")
"""What kopf's essence takes from metadata (labels and annotations), and what it reads to name its keys."""


class SlimDiffBaseStorage(kopf.AnnotationsDiffBaseStorage):
    """kopf's annotation diff-base storage; the essence is built from the spec and the kept metadata only
    (extra fields, which kopf restores from the status for handlers watching it, still come from the body)."""

    def build(self, *, body: kopf.Body, extra_fields: Iterable[Any] | None = None) -> kopf.BodyEssence:
        if extra_fields:  # a handler watches status fields: kopf's own path, nothing left out
            return super().build(body=body, extra_fields=extra_fields)
        raw = dict(body)
        metadata = raw.get("metadata") or {}
        slim = {key: value for key, value in raw.items() if key != "status"}
        slim["metadata"] = {key: metadata[key] for key in KEPT_METADATA if key in metadata}
        return super().build(body=kopf.Body(cast(kopf.RawBody, slim)))
