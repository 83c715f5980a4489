"""Unit tests for layer 6 (tamper-evident audit trail)."""

import asyncio
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from level5.safety.audit import AuditError, AuditLog, FileSink, StreamSink, completeness, verify


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


async def test_once_kinds_are_written_once_per_step_even_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    first = await AuditLog(FileSink(path)).append("launch", "ns/t", 1, {"step": "uid/1/launch"})
    resumed = AuditLog(FileSink(path))  # a restarted operator repeats the step
    again = await resumed.append("launch", "ns/t", 1, {"step": "uid/1/launch"})
    await resumed.append("prompt", "ns/t", 1, {"step": "uid/1/prompt"})
    await resumed.append("prompt", "ns/t", 1, {"step": "uid/1/prompt"})  # a judge's prompt: may recur
    assert again == first
    kinds = [json.loads(line)["kind"] for line in read_lines(path)]
    assert kinds == ["launch", "prompt", "prompt"]


async def test_a_log_without_a_tasks_checkpoint_is_refused_and_never_restarted(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(FileSink(path))
    records = [await log.append("step", "ns/t", 1, {"i": i}) for i in range(3)]
    assert await AuditLog(FileSink(path)).check((records[2].seq, records[2].hash)) is None
    path.unlink()  # the operator's storage was lost: a fresh, empty log
    fresh = AuditLog(FileSink(path))
    problem = await fresh.check((records[2].seq, records[2].hash))
    assert problem is not None and "cut short or replaced" in problem
    with pytest.raises(AuditError, match="cut short"):
        await fresh.append("step", "ns/other", 1, {})
    assert not path.exists()
    rewritten = AuditLog(FileSink(path))
    await rewritten.append("step", "ns/t", 1, {"i": 0})
    await rewritten.append("step", "ns/t", 1, {"i": 1})
    await rewritten.append("step", "ns/t", 1, {"i": "changed"})
    problem = await AuditLog(FileSink(path)).check((records[2].seq, records[2].hash))
    assert problem is not None and "rewritten" in problem


def test_completeness_names_each_missing_and_repeated_record() -> None:
    def line(seq: int, kind: str, step: str) -> str:
        return json.dumps({"seq": seq, "kind": kind, "task": "ns/t", "iteration": 1, "time": "t",
                           "data": {"step": step}, "prevHash": "0", "hash": "0"})  # fmt: skip

    lines = [
        line(0, "launch", "u/1/launch"),
        line(1, "execution", "u/1/execution"),
        line(2, "evaluation", "u/1/evaluation"),
        line(3, "execution", "u/2/execution"),  # iteration 2: launch and evaluation missing
        line(4, "launch", "u/3/launch"),
        line(5, "kill", "u/3/kill"),  # killed: complete without execution and evaluation
        line(6, "execution", "u/1/execution"),  # written twice
    ]
    check = completeness(lines)
    assert check.iterations == 3
    assert check.missing == ["u/2/evaluation", "u/2/launch"]
    assert check.repeated == ["u/1/execution"]
    assert not check.ok
    assert completeness(lines[:3]).ok


async def test_a_writer_that_was_paused_continues_the_chain_another_extended(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    first, second = AuditLog(FileSink(path)), AuditLog(FileSink(path))  # the active and the standby
    await first.append("step", "ns/t", 1, {"i": 0})
    await second.append("step", "ns/t", 1, {"i": 1})  # the standby took over
    await first.append("step", "ns/t", 1, {"i": 2})  # and the first is active again
    assert verify(read_lines(path)).ok and verify(read_lines(path)).records == 3


FILE_SIZE_LIMIT = textwrap.dedent(
    """
    import asyncio, resource, signal, sys
    from level5.safety.audit import AuditLog, AuditWriteError, FileSink

    async def main(path: str) -> None:
        log = AuditLog(FileSink(path))
        await log.append("prompt", "ns/t", 1, {"step": "a"})
        # The file may grow by 100 more bytes: the next record gets part of its line written, then EFBIG,
        # as a disk that fills up mid-record (SIGXFSZ ignored, so write() reports it).
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        size = __import__("os").path.getsize(path)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size + 100, resource.RLIM_INFINITY))
        try:
            await log.append("execution", "ns/t", 1, {"step": "b", "output": "x" * 500})
        except AuditWriteError as exc:
            print("refused:", exc)
        resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        await log.append("execution", "ns/t", 1, {"step": "b", "output": "x" * 500})

    asyncio.run(main(sys.argv[1]))
    """
)


def test_a_record_cut_off_by_a_full_disk_is_removed_and_the_chain_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    done = subprocess.run(
        [sys.executable, "-c", FILE_SIZE_LIMIT, str(path)], capture_output=True, text=True, check=True
    )
    assert "refused:" in done.stdout and "audit record not written" in done.stdout, done
    lines = path.read_text().splitlines()
    assert [json.loads(line)["kind"] for line in lines] == ["prompt", "execution"]
    assert verify(lines).ok
