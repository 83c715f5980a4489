"""Layer 1: prompt-injection and intent check on everything that reaches the model.

Checked texts: the task goal, constraints, guidance, quoted reference data, and everything fed back
from the sandbox (stdout, stderr, tracebacks: indirect injection). The text is normalised (NFKC,
casefold, zero-width and tag characters removed, whitespace collapsed, leetspeak undone) and
hidden payloads are decoded (base64, hex, rot13, Unicode tag characters) and checked again.
Weighted features per category are summed into a score, so paraphrases that hit several weak
features are caught while a single ambiguous word ("system", "password column", "ignore missing
values") is not. ``source="sandbox_output"`` is stricter: program output has no business
addressing the assistant. An optional second-opinion classifier can only add findings.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial

from pydantic import BaseModel, Field

from level5.api.verdicts import Finding, Verdict, worst

SANDBOX_OUTPUT = "sandbox_output"
BLOCK_SCORE = 3.0
ESCALATE_SCORE = 1.5
# Output of the sandbox gets no benefit of the doubt.
SANDBOX_FACTOR = 1.5

_ZERO_WIDTH = re.compile("[\u200b-\u200f\u2060-\u2064\ufeff\u00ad\u034f\u180e]")
_TAGS = re.compile("[\U000e0000-\U000e007f]+")
_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "|": "l"}
)
_BASE64 = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")
_HEX = re.compile(r"\b(?:[0-9a-fA-F]{2}){8,}\b")


@dataclass(frozen=True)
class _Feature:
    category: str
    weight: float
    pattern: re.Pattern[str]


def _f(category: str, weight: float, pattern: str) -> _Feature:
    return _Feature(category, weight, re.compile(pattern))


_W = r"(?:\s+\S+){0,4}?"  # up to four filler words between the parts of a phrase
_OBJECTS = r"(?:instruction|rule|directive|prompt|guideline|constraint|guardrail|polic|programming|order|command|context|message|restriction|guidance|task)"  # noqa: E501
_MODEL = r"\b(?:you|your|assistant|ai|model|llm|chatgpt|gpt|claude|ai agent|the agent|bot)\b"

_FEATURES = (
    # instruction override, several languages
    _f(
        "override",
        2.5,
        rf"\b(?:ignore|disregard|forget|skip|override|overrule|bypass|neglect|abandon|drop|discard|throw out|set aside|pay no attention to)\b{_W}\s+(?:previous|prior|above|earlier|preceding|former|original|initial|old|all|any|every|the|your|system|developer|safety)\b{_W}\s*{_OBJECTS}",  # noqa: E501
    ),
    _f(
        "override",
        2.0,
        rf"\b(?:previous|prior|above|earlier|original|old)\s+{_OBJECTS}\w*\s+(?:are|is)\s+(?:void|cancelled|canceled|obsolete|revoked|no longer (?:valid|apply|applicable))",  # noqa: E501
    ),
    _f(
        "override",
        1.5,
        r"\b(?:new|updated|real|actual|true)\s+(?:instructions|orders|directive|task)\s*(?::|are|is)",
    ),
    _f(
        "override",
        1.0,
        r"\b(?:from now on|instead,? you (?:will|must|should)|your (?:new|real) (?:task|goal|purpose) is)",
    ),
    _f(
        "override",
        2.0,
        r"\bignore (?:all |everything )?(?:of )?(?:the )?(?:above|previous|prior|preceding|foregoing)\b(?! (?:rows?|values?|columns?|lines?|entries|records|data|results?|step|output)\b)",  # noqa: E501
    ),
    _f(
        "exfiltration",
        2.0,
        r"\b(?:token|secrets?|keys?|credentials?|passwords?|env\w*)\b.{0,40}\b(?:send|email|post|upload|forward|transmit|leak)\w*\b.{0,30}\bto\b",
    ),
    _f("override", 2.5, r"ignorier\w*\s+(?:\S+\s+){0,3}(?:anweisung|befehl|regel|vorgabe)"),
    _f(
        "override",
        2.5,
        r"(?:ignore[zr]?|oublie[zr]?)\s+(?:\S+\s+){0,3}(?:instructions?|consignes?|regles?|règles?)",
    ),
    _f(
        "override",
        2.5,
        r"(?:ignora[rd]?|olvida[rd]?|ignore)\s+(?:\S+\s+){0,3}(?:instrucciones|instruções|istruzioni|reglas|regole|indicaciones)",
    ),
    _f("override", 2.5, r"(?:negeer|vergeet)\s+(?:\S+\s+){0,3}(?:instructies|regels)"),
    _f("override", 2.5, r"(?:игнорир|забудь|проигнорир)\w*\s+(?:\S+\s+){0,3}(?:инструкц|правил|указани)"),
    _f(
        "override",
        2.5,
        r"(?:忽略|无视|忽视|忘记|無視|忘れ).{0,12}(?:指令|指示|说明|規則|规则|命令|提示)|(?:指示|命令|ルール).{0,6}(?:無視|忘れ)",
    ),
    # role play and jailbreak framing
    _f(
        "roleplay",
        2.0,
        r"\b(?:you are now|you're now|from now on you are|pretend (?:to be|you are)|roleplay as|role-play as|simulate being|you will now be)\b",  # noqa: E501
    ),
    _f(
        "roleplay",
        2.5,
        r"\b(?:dan|do anything now|developer mode|dev mode|jailbreak|jailbroken|god mode|sudo mode|unrestricted mode|evil (?:mode|confidant)|aim mode)\b",  # noqa: E501
    ),
    _f(
        "roleplay",
        1.5,
        r"\b(?:no|without any|free of|free from)\s+(?:restrictions|limits|limitations|filters|rules|guidelines|censorship|ethical)",  # noqa: E501
    ),
    _f(
        "roleplay",
        1.0,
        r"\b(?:stay in character|hypothetically|for educational purposes only|in a fictional world)\b",
    ),
    # fake turns and delimiters
    _f(
        "delimiter",
        3.0,
        r"<\|(?:im_start|im_end|system|assistant|user|endoftext)\|>|\[/?inst\]|<</?sys>>|</?(?:system|assistant)>",
    ),
    _f(
        "delimiter",
        2.0,
        r"(?:^|\n|\s)#{2,}\s*(?:system|assistant|instruction|new instructions?)\b|(?:^|\n)\s*(?:system|assistant|developer)\s*(?:prompt)?\s*:",  # noqa: E501
    ),
    _f(
        "delimiter",
        1.5,
        r"\b(?:end of (?:user )?(?:input|prompt|document|data)|begin (?:system|admin) (?:prompt|message|override)|system override|admin override)\b",  # noqa: E501
    ),
    _f(
        "delimiter", 1.0, r"```\s*\n?\s*(?:now|next|then)?\s*(?:ignore|you|system|assistant|new instructions)"
    ),
    # disabling the safety machinery
    _f(
        "safety",
        2.5,
        r"\b(?:disable|turn off|switch off|bypass|skip|deactivate|remove|circumvent|evade|get around|avoid|suppress|don't run|do not run)\b{_W}\s*(?:the\s+)?(?:safety|review|sandbox|filter|guardrail|moderation|security|audit|redaction|content polic|checks?|restrictions|monitoring|logging)".replace(  # noqa: E501
            "{_W}", _W
        ),
    ),
    # exfiltration and credential access
    _f(
        "exfiltration",
        2.5,
        rf"\b(?:send|post|upload|exfiltrate|transmit|forward|leak|email|pipe|copy|dump)\b{_W}\s*(?:the\s+|all\s+)?(?:env\w*|environment|secret|api[ _-]?key|token|credential|password|ssh|private key|service[ -]?account|kubeconfig|cookie|session (?:cookie|token|id))",  # noqa: E501
    ),
    _f(
        "exfiltration",
        2.0,
        r"\b(?:webhook\.site|requestbin|pipedream|ngrok|burpcollaborator|interact\.sh|oast\.|pastebin|transfer\.sh)\b",
    ),
    _f("roleplay", 1.0, r"\bact as\b"),
    _f("exfiltration", 2.0, r"\b(?:nslookup|dig|host)\b.{0,40}(?:\$\(|`)|\$\((?:cat|env|printenv|whoami)"),
    _f(
        "credential",
        1.5,
        r"/var/run/secrets|serviceaccount/token|service account token|\.ssh/|id_rsa|\.aws/credentials|\.kube/config|\bkubeconfig\b|169\.254\.169\.254|metadata\.google\.internal",  # noqa: E501
    ),
    _f(
        "credential",
        1.5,
        r"\b(?:os\.environ|printenv|getenv|process\.env)\b|\benv(?:ironment)? var(?:iable)?s\b",
    ),
    _f("credential", 1.0, r"\b(?:api[ _-]?keys?|access tokens?|secret keys?|credentials|bearer tokens?)\b"),
    _f("network", 0.75, r"\b(?:curl|wget|netcat|\bnc\b|socket|urllib|requests\.(?:get|post))\b|https?://"),
    _f(
        "system",
        1.5,
        r"\b(?:reverse shell|bind shell|rm -rf|/etc/passwd|/etc/shadow|chmod \+?[0-7]{3,4}|sudo\b|os\.system|subprocess|/bin/(?:ba)?sh|bash -i|privilege escalation)\b",  # noqa: E501
    ),
    _f(
        "system",
        1.0,
        r"\b(?:run|execute|spawn)\b\s+(?:a\s+|this\s+|the\s+following\s+)?(?:shell|bash|terminal|command|system command)",  # noqa: E501
    ),
    _f(
        "persistence",
        2.0,
        r"\b(?:crontab|cron job|\.bashrc|\.profile|systemd (?:unit|service)|backdoor|persist(?:ence)?|startup script|keep (?:it )?running (?:after|forever))\b",  # noqa: E501
    ),
    _f(
        "leak",
        2.0,
        rf"\b(?:reveal|print|show|repeat|output|display|tell me|leak|dump)\b{_W}\s*(?:your|the)\s+(?:system\s+|initial\s+|hidden\s+|original\s+)?(?:prompt|instructions)",  # noqa: E501
    ),
)

_CATEGORY_RULES = {
    "override": "L5-INJ-001",
    "roleplay": "L5-INJ-002",
    "delimiter": "L5-INJ-003",
    "safety": "L5-INJ-004",
    "exfiltration": "L5-INJ-005",
    "credential": "L5-INJ-006",
    "network": "L5-INJ-007",
    "system": "L5-INJ-008",
    "persistence": "L5-INJ-009",
    "leak": "L5-INJ-010",
}
_CATEGORY_INTENT = {
    "exfiltration": "exfiltration",
    "credential": "credential_access",
    "network": "network_access",
    "system": "system_access",
    "persistence": "persistence",
}
_BENIGN_INTENTS = {
    "data_analysis": re.compile(
        r"\b(?:analy[sz]|dataset|csv|dataframe|column|mean|median|average|statistic|regression|correlat|aggregate|group by|plot|chart|histogram|trend|forecast)"  # noqa: E501
    ),
    "computation": re.compile(
        r"\b(?:compute|calculat|prime|fibonacci|factorial|solve|simulat|integral|matrix|sum of|optimi[sz])"
    ),
    "text_processing": re.compile(
        r"\b(?:text|word|sentence|parse|regex|tokeni[sz]|summari[sz]|translate|extract|spell|string)"
    ),
}


class InputVerdict(BaseModel):
    """Outcome of the input check: verdict, findings and the intents recognised in the text."""

    verdict: Verdict
    findings: list[Finding] = Field(default_factory=list)
    intents: list[str] = Field(default_factory=list)


def normalise(text: str) -> str:
    """NFKC, zero-width and tag characters removed, casefolded, leetspeak undone, whitespace collapsed."""
    text = _TAGS.sub("", _ZERO_WIDTH.sub("", unicodedata.normalize("NFKC", text))).casefold()
    # De-leet only digits and symbols inside words so that numbers in data stay numbers.
    text = re.sub(r"(?<=[a-z])[013457@$]+|[013457@$]+(?=[a-z])", lambda m: m.group().translate(_LEET), text)
    # Letters spelled out with separators ("i-g-n-o-r-e") are joined back into words.
    text = re.sub(r"\b(?:[a-z][-._ ]){3,}[a-z]\b", lambda m: re.sub(r"[-._ ]", "", m.group()), text)
    return re.sub(r"\s+", " ", text).strip()


def _hidden_layers(text: str) -> list[tuple[str, str]]:
    """Decoded payloads hidden in `text`: (how it was hidden, decoded text)."""
    layers: list[tuple[str, str]] = []
    tags = "".join(
        chr(ord(c) - 0xE0000) for run in _TAGS.findall(text) for c in run if 0x20 <= ord(c) - 0xE0000 < 0x7F
    )
    if tags:
        layers.append(("unicode tag characters", tags))
    for match in _BASE64.findall(text):
        decoded = _printable(partial(base64.b64decode, match + "=" * (-len(match) % 4)))
        if decoded:
            layers.append(("base64", decoded))
    for match in _HEX.findall(text):
        decoded = _printable(partial(binascii.unhexlify, match))
        if decoded:
            layers.append(("hex", decoded))
    layers.append(("rot13", codecs.decode(text, "rot13")))
    return layers


def _printable(decode: Callable[[], bytes]) -> str | None:
    """Decoded text when it is mostly printable, else None (random bytes are not a message)."""
    try:
        text = decode().decode("utf-8")
    except (ValueError, binascii.Error):
        return None
    letters = sum(c.isalpha() or c.isspace() for c in text)
    return text if text and letters / len(text) > 0.8 else None


def _score(normal: str) -> dict[str, float]:
    scores: dict[str, float] = {}
    for feature in _FEATURES:
        if feature.pattern.search(normal):
            scores[feature.category] = scores.get(feature.category, 0.0) + feature.weight
    return scores


def _line_of(text: str, category: str) -> int:
    for number, line in enumerate(text.splitlines() or [text], 1):
        if any(f.category == category and f.pattern.search(normalise(line)) for f in _FEATURES):
            return number
    return 1


def check_input(text: str, *, source: str) -> InputVerdict:
    """Check `text` from `source` (goal, constraints, guidance, reference_data, sandbox_output...)."""
    strict = source == SANDBOX_OUTPUT
    normal = normalise(text)
    scores = _score(normal)
    findings: list[Finding] = []
    if _TAGS.search(text) or len(_ZERO_WIDTH.findall(text)) > 2:
        findings.append(
            Finding(
                rule="L5-INJ-011", line=1, message="invisible characters hide text", verdict=Verdict.ESCALATE
            )
        )
    for how, decoded in _hidden_layers(text):
        hidden = _score(normalise(decoded))
        if sum(hidden.values()) >= ESCALATE_SCORE and sum(hidden.values()) > sum(scores.values()):
            findings.append(
                Finding(
                    rule="L5-INJ-012",
                    line=1,
                    message=f"instructions hidden with {how}",
                    verdict=Verdict.BLOCK,
                )
            )
            for category, value in hidden.items():
                scores[category] = max(scores.get(category, 0.0), value)
    addressed = bool(re.search(_MODEL, normal))
    total = sum(scores.values()) + (0.5 if addressed and scores else 0.0)
    if strict:
        total *= SANDBOX_FACTOR
        if addressed and re.search(
            r"\b(?:assistant|ai|model|llm|agent)\b[,:]?\s+(?:please\s+)?(?:now\s+)?(?:you\s+)?(?:must|should|need to|ignore|run|execute|send|stop)",  # noqa: E501
            normal,
        ):
            total += ESCALATE_SCORE
            scores.setdefault("override", ESCALATE_SCORE)
    verdict = (
        Verdict.BLOCK
        if total >= BLOCK_SCORE
        else Verdict.ESCALATE
        if total >= ESCALATE_SCORE
        else Verdict.ALLOW
    )
    if verdict is not Verdict.ALLOW:
        for category, value in sorted(scores.items(), key=lambda kv: -kv[1]):
            message = f"{category} features (weight {value:.1f}, total score {total:.1f}, source {source})"
            findings.append(
                Finding(
                    rule=_CATEGORY_RULES[category],
                    line=_line_of(text, category),
                    message=message,
                    verdict=verdict,
                )
            )
    intents = [intent for category, intent in _CATEGORY_INTENT.items() if category in scores]
    intents += [intent for intent, pattern in _BENIGN_INTENTS.items() if pattern.search(normal)]
    return InputVerdict(verdict=worst(f.verdict for f in findings), findings=findings, intents=intents)


SecondOpinion = Callable[[str, str], Awaitable[list[Finding]]]


async def check_input_with_second_opinion(
    text: str, *, source: str, classifier: SecondOpinion
) -> InputVerdict:
    """Deterministic check plus an async classifier (e.g. an LLM judge) that can only add findings."""
    result = check_input(text, source=source)
    try:
        extra = await classifier(text, source)
    except Exception:  # a failing second opinion never weakens or breaks the deterministic verdict
        extra = [
            Finding(
                rule="L5-INJ-013", line=1, message="second-opinion classifier failed", verdict=Verdict.ALLOW
            )
        ]
    findings = [*result.findings, *extra]
    return InputVerdict(
        verdict=worst([result.verdict, *(f.verdict for f in findings)]),
        findings=findings,
        intents=result.intents,
    )
