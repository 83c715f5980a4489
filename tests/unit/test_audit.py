"""Unit tests for layer 6 (tamper-evident audit trail)."""

import asyncio
import json
from pathlib import Path

import pytest

from level5.safety.audit import AuditError, AuditLog, FileSink, StreamSink, verify


def read_lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def append_text(path: Path, text: str) -> None:
    with path.open("a") as handle:
        handle.write(text)


async def write_log(path: Path, n: int) -> list[str]:
    log = AuditLog(FileSink(path))
    await asyncio.gather(*(log.append("step", f"task-{i % 3}", i, {"i": i}) for i in range(n)))
    return read_lines(path)


async def test_chain_verifies_and_resumes(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    lines = await write_log(path, 20)
    assert verify(lines).ok and verify(lines).records == 20
    resumed = AuditLog(FileSink(path))
    record = await resumed.append("review", "task-x", None, {"verdict": "allow"})
    assert record.seq == 20
    assert verify(read_lines(path)).ok


@pytest.mark.parametrize("attack", ["edit", "delete", "swap", "insert"])
async def test_tampering_is_detected(tmp_path: Path, attack: str) -> None:
    lines = await write_log(tmp_path / "a.jsonl", 6)
    if attack == "edit":
        record = json.loads(lines[3])
        record["data"]["i"] = 99
        lines[3] = json.dumps(record)
    elif attack == "delete":
        del lines[2]
    elif attack == "swap":
        lines[1], lines[2] = lines[2], lines[1]
    else:
        lines.insert(2, lines[2])
    result = verify(lines)
    assert not result.ok
    assert result.first_bad is not None and result.first_bad <= 3


async def test_truncation_needs_checkpoint(tmp_path: Path) -> None:
    lines = await write_log(tmp_path / "a.jsonl", 5)
    assert verify(lines[:3]).ok
    assert not verify(lines[:3], expected_last_seq=4).ok


async def test_corrupt_tail_refuses_to_extend(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    await write_log(path, 2)
    append_text(path, '{"seq": 2, "partial\n')
    with pytest.raises(AuditError):
        await AuditLog(FileSink(path)).append("x", "t", 0, {})


async def test_stream_sink(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="level5.safety.audit")
    record = await AuditLog(StreamSink()).append("k", "t", 1, {"a": 1})
    assert record.hash in caplog.text
