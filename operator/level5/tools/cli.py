"""The ``level5`` command: run the text-level safety layers from a shell or CI.

Exit codes for verdicts: 0 allow, 1 block, 2 escalate. ``audit verify`` exits 0 when the chain is
intact and every iteration that ran has its launch, execution and evaluation records, each once, and 1
otherwise. ``redact`` filters standard input to standard output (placeholders keyed by
``--key`` or LEVEL5_REDACTION_KEY, so runs with the same key give the same placeholders).
``syscall-monitor`` runs the node's system-call collector (see level5.observability.syscalls) until SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from level5.api.sources import GOAL, SANDBOX_OUTPUT
from level5.api.spec import Language
from level5.api.verdicts import Verdict
from level5.model.classifier import InjectionClassifier
from level5.model.semantic import EmbeddedClassifier, SemanticScorer
from level5.observability.syscalls import DEFAULT_MAX_CONTAINERS, DEFAULT_TTL_SECONDS, serve
from level5.safety.audit import completeness, verify
from level5.safety.injection import check_input
from level5.safety.redaction import Redactor
from level5.safety.review.reviewer import review_code
from level5.tools.safety_eval import (
    EVAL_ALLOWED_LIBRARIES,
    Figure,
    Rates,
    SecondOpinionFigures,
    bandit_additions,
    embedded_classifier_figures,
    embedded_classifier_speed,
    injection_figures,
    injection_rates,
    injection_speed,
    one_line_text,
    redaction_figures,
    redaction_growth,
    redaction_rates,
    redaction_speed,
    review_rates,
    review_report,
    review_speed,
    second_opinion_figures,
)

EXIT_CODES = {Verdict.ALLOW: 0, Verdict.BLOCK: 1, Verdict.ESCALATE: 2}


def _review(args: argparse.Namespace) -> int:
    result = review_code(
        Path(args.file).read_text(encoding="utf-8"),
        allowed_libraries=[lib for lib in args.allowed_libraries.split(",") if lib],
        max_lines=args.max_lines,
    )
    print(result.model_dump_json(indent=2))
    return EXIT_CODES[result.verdict]


def _check_input(args: argparse.Namespace) -> int:
    result = check_input(Path(args.file).read_text(encoding="utf-8"), source=args.source)
    print(result.model_dump_json(indent=2))
    return EXIT_CODES[result.verdict]


def _checkpoint(text: str) -> tuple[int, str]:
    seq, _, digest = text.partition(":")
    if not seq.isdigit() or len(digest) != 64:
        raise SystemExit(f"--checkpoint: expected SEQ:SHA256 (an AgentTask's status.audit), got {text!r}")
    return int(seq), digest


def _audit_verify(args: argparse.Namespace) -> int:
    lines = Path(args.file).read_text(encoding="utf-8").splitlines()
    result = verify(
        lines, expected_last_seq=args.expected_last_seq, checkpoints=[_checkpoint(c) for c in args.checkpoint]
    )
    if not result.ok:
        print(result.model_dump_json(indent=2))
        print(f"audit chain broken at record {result.first_bad}: {result.reason}", file=sys.stderr)
        return 1
    complete = completeness(lines)
    print(json.dumps({**result.model_dump(), "completeness": complete.model_dump()}, indent=2))
    for step in complete.missing:
        print(f"missing audit record: {step}", file=sys.stderr)
    for step in complete.repeated:
        print(f"audit record written more than once: {step}", file=sys.stderr)
    return 0 if complete.ok else 1


def _redact(args: argparse.Namespace) -> int:
    result = Redactor(args.key.encode()).redact(sys.stdin.read())
    sys.stdout.write(result.text)
    if args.report:
        print(json.dumps({"counts": result.counts, "total": sum(result.counts.values())}), file=sys.stderr)
    return 0


def _rates_line(layer: str, label: str, rates: Rates) -> str:
    return (
        f"{layer}: {label} {rates.detection_rate:.1%} ({rates.detected}/{rates.attacks}), "
        f"false positives {rates.false_positive_rate:.1%} ({rates.false_positives}/{rates.benign})"
    )


def _figure_lines(layer: str, figures: list[Figure]) -> list[str]:
    """One line per family or kind and half: '<layer> [heldout] <name>: <measure> 83.3% (10/12)'."""
    return [f"{layer} [{f.split}] {f.name}: {f.measure} {f.rate:.1%} ({f.right}/{f.total})" for f in figures]


def _print_layers_1_and_5() -> None:
    """Layers 1 and 5 per family or kind and half, then their speeds."""
    print("\n".join(_figure_lines("injection", injection_figures())))
    print("\n".join(_figure_lines("redaction", redaction_figures())))
    redaction = redaction_speed()
    print(
        f"speed: redaction in one process {redaction.wall:.1f} MB/s ({redaction.cpu:.1f} MB per CPU-second; "
        f"make bench adds the chart's detector processes; 4x the text "
        f"took {redaction_growth():.1f}x the time, {redaction_growth(text_of=one_line_text):.1f}x as one "
        f"long line), injection {injection_speed():.0f} checks/s"
    )


def _half_totals(layer: str, figures: SecondOpinionFigures) -> list[str]:
    """Per half, all families: '<layer> [heldout12] all: detected 85/100 (rules alone 73/100), ...'."""
    totals: dict[str, dict[str, list[int]]] = {}
    for alone, combined in zip(figures.built_in, figures.with_second_opinion, strict=True):
        counts = totals.setdefault(alone.split, {}).setdefault(alone.measure, [0, 0, 0])
        counts[0] += combined.right
        counts[1] += combined.total
        counts[2] += alone.right
    return [
        f"{layer} [{split}] all: "
        + ", ".join(f"{measure} {c[0]}/{c[1]} (rules alone {c[2]}/{c[1]})" for measure, c in measures.items())
        for split, measures in totals.items()
    ]


def _print_embedded_classifier() -> None:
    """Layer 1 with its embedded classifier as the operator runs it (injectionClassifier.embedded): per
    family and half, per half, then its cost."""
    started = time.perf_counter()
    scorer = SemanticScorer.packaged()
    loaded = time.perf_counter() - started
    layer = "injection with the embedded classifier"
    figures = embedded_classifier_figures(EmbeddedClassifier(scorer))
    print("\n".join(_figure_lines(layer, figures.with_second_opinion)))
    print("\n".join(_half_totals(layer, figures)))
    speed = embedded_classifier_speed(scorer)
    print(
        f"speed: embedded classifier {speed.goal_ms:.0f} ms CPU per goal-sized text, "
        f"{speed.output_ms:.0f} ms per 8 KB of output (thresholds: goals {scorer.threshold(GOAL):.2f}, "
        f"output and data {scorer.threshold(SANDBOX_OUTPUT):.2f}; model loaded in "
        f"{loaded:.2f} s)"
    )


def _eval_safety(args: argparse.Namespace) -> int:
    print(_rates_line("review", "block rate", review_rates()))
    print(_rates_line("injection", "detection", injection_rates()))
    redaction = redaction_rates()
    per_type = ", ".join(f"{kind} {hit}/{total}" for kind, (hit, total) in redaction.per_type.items())
    print(f"{_rates_line('redaction', 'recall', redaction.overall)}; per type: {per_type}")
    # The review's detail comes after the three summary lines, which scripts and tests read by position.
    print("\n".join(review_report()))
    print("\n".join(review_report(language=Language.JAVASCRIPT)))
    print(_rates_line("bandit (not run by the review) would add", "stops", bandit_additions()))
    print(f"review speed: {review_speed():.1f} ms median for a 200-line benign script")
    _print_layers_1_and_5()
    _print_embedded_classifier()
    return 0


async def _second_opinion_figures(args: argparse.Namespace) -> SecondOpinionFigures:
    classifier = InjectionClassifier(args.url, args.model, timeout_seconds=args.timeout)
    try:
        return await second_opinion_figures(classifier, splits=args.splits.split(","))
    finally:
        await classifier.close()


def _eval_classifier(args: argparse.Namespace) -> int:
    """Layer 1 on some halves, without and with a classifier endpoint as its second opinion."""
    try:
        figures = asyncio.run(_second_opinion_figures(args))
    except ValueError as error:
        raise SystemExit(f"--splits: {error}") from error
    for alone, combined in zip(figures.built_in, figures.with_second_opinion, strict=True):
        print(
            f"injection [{alone.split}] {alone.name}: {alone.measure} {alone.rate:.1%} ({alone.right}/"
            f"{alone.total}) alone, {combined.rate:.1%} ({combined.right}/{combined.total}) with {args.model}"
        )
    for measure in ("detected", "allowed", "escalated"):
        totals = [
            (
                sum(f.right for f in half if f.measure == measure),
                sum(f.total for f in half if f.measure == measure),
            )
            for half in (figures.built_in, figures.with_second_opinion)
        ]
        if totals[0][1]:
            print(
                f"injection [{args.splits}] all: {measure} {totals[0][0]}/{totals[0][1]} alone, "
                f"{totals[1][0]}/{totals[1][1]} with {args.model}"
            )
    print(f"second opinion failed (the built-in verdict stood): {figures.failed}")
    return 0


def _syscall_monitor(args: argparse.Namespace) -> int:
    host, _, port = args.listen.rpartition(":")
    if not host or not port.isdigit():
        raise SystemExit(f"--listen: expected ADDR:PORT, got {args.listen!r}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with contextlib.ExitStack() as stack:
        record = stack.enter_context(Path(args.record).open("a", encoding="ascii")) if args.record else None
        asyncio.run(
            serve(
                Path(args.socket),
                host.strip("[]"),
                int(port),
                ttl=args.ttl,
                max_containers=args.max_containers,
                record=record,
            )
        )
    return 0


def parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and documentation)."""
    root = argparse.ArgumentParser(prog="level5", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)

    review = commands.add_parser("review", help="pre-execution review of a Python file")
    review.add_argument("file")
    review.add_argument("--allowed-libraries", default=",".join(EVAL_ALLOWED_LIBRARIES))
    review.add_argument("--max-lines", type=int, default=400)
    review.set_defaults(handler=_review)

    check = commands.add_parser("check-input", help="prompt-injection check of a text file")
    check.add_argument("file")
    check.add_argument(
        "--source", default="goal", help="goal, constraints, guidance, reference_data, sandbox_output"
    )
    check.set_defaults(handler=_check_input)

    audit = commands.add_parser("audit", help="audit trail tools").add_subparsers(
        dest="audit_command", required=True
    )
    audit_verify = audit.add_parser("verify", help="verify the hash chain of an audit log")
    audit_verify.add_argument("file")
    audit_verify.add_argument("--expected-last-seq", type=int, default=None)
    audit_verify.add_argument(
        "--checkpoint",
        action="append",
        default=[],
        help="SEQ:SHA256 that must be in the chain, e.g. from "
        "kubectl get agenttask T -o jsonpath='{.status.audit.seq}:{.status.audit.hash}' (repeatable)",
    )
    audit_verify.set_defaults(handler=_audit_verify)

    redact = commands.add_parser("redact", help="redact PII and secrets from standard input")
    redact.add_argument("--key", default=os.environ.get("LEVEL5_REDACTION_KEY", "level5-cli"))
    redact.add_argument("--report", action="store_true", help="JSON counts per type on standard error")
    redact.set_defaults(handler=_redact)

    evaluation = commands.add_parser("eval-safety", help="corpus figures, one line per layer")
    evaluation.set_defaults(handler=_eval_safety)

    classifier = commands.add_parser(
        "eval-classifier",
        help="layer 1 on corpus halves, without and with a prompt-injection classifier endpoint",
    )
    classifier.add_argument("--url", required=True, help="the classifier's OpenAI-compatible base URL")
    classifier.add_argument("--model", required=True, help="the model name at --url")
    classifier.add_argument(
        "--splits", default="heldout7", help="comma-separated corpus halves (the rows' split), e.g. heldout7"
    )
    classifier.add_argument("--timeout", type=float, default=60.0, help="seconds per classifier request")
    classifier.set_defaults(handler=_eval_classifier)

    monitor = commands.add_parser(
        "syscall-monitor",
        help="collect gVisor's trace points (remote sink) per container and serve the summaries over HTTP",
    )
    monitor.add_argument(
        "--socket", required=True, help="unix socket the pod-init config's remote sink names"
    )
    monitor.add_argument("--listen", required=True, help="ADDR:PORT of the HTTP API")
    monitor.add_argument("--ttl", type=float, default=DEFAULT_TTL_SECONDS, help="seconds a summary is kept")
    monitor.add_argument("--max-containers", type=int, default=DEFAULT_MAX_CONTAINERS)
    monitor.add_argument("--record", help="append every packet, hex-encoded, to this file (test data)")
    monitor.set_defaults(handler=_syscall_monitor)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``level5`` console script."""
    args = parser().parse_args(argv)
    code: int = args.handler(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
