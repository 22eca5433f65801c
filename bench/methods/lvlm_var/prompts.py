"""Prompt templates and token-id assembly (built piece by piece, never through a processor).

A prompt is: the chat preamble with the system text, the user turn (instruction, then one
placeholder per semantic token, or the tokens' own vocabulary entries), the assistant turn opened
with "Action:". The answer continues with " <class>." then " Explanation: <text>" and the turn's end
token. Each piece is tokenised on its own, so the ids of a class name are the same in training,
in class scoring and in generation.
"""
from __future__ import annotations

from dataclasses import dataclass, field

TEMPLATES = {
    # SmolLM2-Instruct's ChatML turns (the tiny profile's tokenizer has the same specials).
    "chatml": {"bos": False, "end": "<|im_end|>",
               "before": "<|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n{instruction}\n"
                         "Motion tokens:",
               "after": "<|im_end|>\n<|im_start|>assistant\n"},
    # LLaVA-1.5 (Vicuna v1) turns.
    "llava15": {"bos": True, "end": None,
                "before": "{system} USER: {instruction}\nMotion tokens:", "after": " ASSISTANT:"},
}
ANSWER_LEAD = "Action:"
EXPLANATION_LEAD = " Explanation:"
NARRATION_LEAD = "\nThe tokens read as motion:"  # prompt.token_narration (decode.py)


@dataclass
class PromptBuilder:
    tokenizer: object
    template: str
    system: str
    instruction: str
    placeholder_id: int
    code_token_ids: list | None = None  # vocab injection: token ids of the codes
    candidates: list | None = None  # class names listed in the instruction (prompt.list_classes)
    _cache: dict = field(default_factory=dict, repr=False)

    def _ids(self, text: str) -> list[int]:
        if text not in self._cache:
            self._cache[text] = list(self.tokenizer(text, add_special_tokens=False)["input_ids"])
        return self._cache[text]

    @property
    def spec(self) -> dict:
        return TEMPLATES[self.template]

    @property
    def end_id(self) -> int:
        end = self.spec["end"]
        return self.tokenizer.convert_tokens_to_ids(end) if end else self.tokenizer.eos_token_id

    def token_ids(self, tokens: list[int]) -> list[int]:
        if self.code_token_ids is None:
            return [self.placeholder_id] * len(tokens)
        return [self.code_token_ids[t] for t in tokens]

    def shared(self) -> list[int]:
        """The part of every prompt before the semantic tokens (computed once, then cached)."""
        spec = self.spec
        ids = [self.tokenizer.bos_token_id] if spec["bos"] else []
        instruction = self.instruction
        if self.candidates:
            instruction += " Possible actions: " + "; ".join(self.candidates) + "."
        return ids + self._ids(spec["before"].format(system=self.system, instruction=instruction))

    def sample_prefix(self, tokens: list[int], narration: str = "") -> list[int]:
        """The sample's part of the prompt: its tokens, what they read as in words (where
        given), the end of the user turn, "Action:"."""
        said = self._ids(NARRATION_LEAD) + self._ids(" " + narration) if narration else []
        return (self.token_ids(tokens) + said + self._ids(self.spec["after"])
                + self._ids(ANSWER_LEAD))

    def prefix(self, tokens: list[int], narration: str = "") -> list[int]:
        """Prompt ids up to and including "Action:" (the point where class names are scored)."""
        return self.shared() + self.sample_prefix(tokens, narration)

    def class_ids(self, name: str) -> list[int]:
        """The scored continuation of a class: " <name>" then "."."""
        return self._ids(" " + name) + self._ids(".")

    def scored_continuations(self, names: list[str]) -> list[list[int]]:
        """What class scoring measures the likelihood of: each " <name>", plus the "." that ends
        it only when one name's tokens are a prefix of another's (then the end must count)."""
        seqs = [self._ids(" " + n) for n in names]
        prefix_free = len({tuple(s) for s in seqs}) == len(seqs) and not any(
            a is not b and len(a) < len(b) and b[:len(a)] == a for a in seqs for b in seqs)
        return seqs if prefix_free else [s + self._ids(".") for s in seqs]

    def explanation_lead(self) -> list[int]:
        return self._ids(EXPLANATION_LEAD)

    def explanation_ids(self, text: str) -> list[int]:
        return self._ids(" " + text) + [self.end_id]

    def training_example(self, tokens: list[int], class_name: str, explanation: str,
                         class_weight: float, narration: str = "") -> tuple[list[int], list[float]]:
        """ids after the shared part and per-token loss weights (0 for the prompt: the loss
        covers the answer only)."""
        prefix = self.sample_prefix(tokens, narration)
        cls = self.class_ids(class_name)
        rest = self.explanation_lead() + self.explanation_ids(explanation)
        weights = [0.0] * len(prefix) + [class_weight] * len(cls) + [1.0] * len(rest)
        return prefix + cls + rest, weights


def template_text() -> list[str]:
    """Fixed text of every template (for training the tiny profile's tokenizer)."""
    out = [ANSWER_LEAD, EXPLANATION_LEAD, NARRATION_LEAD, "."]
    for spec in TEMPLATES.values():
        out += [spec["before"], spec["after"]]
    return out
