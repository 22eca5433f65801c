"""The VST trained as a VQ-VAE (`vst.objective=reconstruct`, the cpu/paper default): tokens learned
without labels, as LLM-AR and T2M-GPT tokenise motion.

Each window's encoder output is quantised to its nearest code and a decoder reconstructs the
window's own motion from the code alone: its poses (relative to each person's centre), the pose
velocities between them, each joint's displacement and the centre trajectory, for both persons.
The codebook starts from k-means on the embeddings of an autoencoder warm-up (`vst.epochs`), then
`vst.vq_epochs` train encoder, decoder and codebook together (EMA updates, commitment loss,
dead-code restarts). A label term (`vst.label_weight` x cross-entropy of the class head on the
quantised vector) is a knob, 0 by default: the tokens mean motion, not the class.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from bench.errors import BenchError
from bench.methods.lvlm_var.codebook import init_codebook, vq_epochs

CONTEXT_BLOCKS = {"none": 1, "neighbours": 3, "clip": 4}  # features.with_context's copies


def motion_target(features: np.ndarray, pose_frames: int, context: str,
                  velocity_weight: float) -> tuple[np.ndarray, np.ndarray]:
    """What the decoder reconstructs from a window's raw features (features.clip_windows's
    layout: per person poses (P x V x 3), displacement (V x 3), centre track (P x 3); then the
    window's time and the second-person flag, which are left out), and a weight per column
    (`velocity_weight` on the pose velocities, 1 elsewhere)."""
    own = features.shape[1] // CONTEXT_BLOCKS[context]
    per_person = (own - 2) // 2
    joints, rem = divmod(per_person // 3 - pose_frames, pose_frames + 1)
    if rem or joints < 1 or per_person * 2 + 2 != own:
        raise BenchError(f"VST features of width {features.shape[1]} do not have the window "
                         f"layout the reconstruction target expects (pose_frames={pose_frames})")
    parts, weights = [], []
    for m in range(2):
        block = features[:, m * per_person:(m + 1) * per_person]
        poses = block[:, :pose_frames * joints * 3].reshape(len(block), pose_frames, joints * 3)
        velocity = np.diff(poses, axis=1).reshape(len(block), -1)
        rest = block[:, pose_frames * joints * 3:]
        parts += [poses.reshape(len(block), -1), velocity, rest]
        weights += [np.ones(poses[0].size), np.full(velocity.shape[1], velocity_weight),
                    np.ones(rest.shape[1])]
    w = np.concatenate(weights).astype(np.float32)
    return np.concatenate(parts, axis=1).astype(np.float32), w / w.mean()


def decoder(dim: int, hidden: int, out_dim: int) -> nn.Module:
    return nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, hidden), nn.GELU(),
                         nn.Linear(hidden, out_dim))


def train_vqvae(cfg: dict, gen: torch.Generator, enc: nn.Module, data, vq, epochs=None) -> dict:
    """Train `enc` and `vq` as a VQ-VAE on `data` (a vst.WindowStream with reconstruction
    targets); returns the training statistics. cfg is the `vst.*` section, prefix stripped.
    `epochs`: a codebook.EpochLog told the mean loss of each epoch."""

    device = data.mean.device
    dec = decoder(int(cfg["dim"]), int(cfg["hidden"]), len(data.t_mean)).to(device)
    colw = data.colw
    label_weight = float(cfg["label_weight"])
    ce = nn.CrossEntropyLoss()
    opt = torch.optim.AdamW(list(enc.parameters()) + list(dec.parameters()),
                            lr=float(cfg["lr"]), weight_decay=1e-4)
    bs = int(cfg["batch_size"])

    def recon(z: torch.Tensor, batch) -> torch.Tensor:
        return (((dec(z) - batch.target) ** 2) * colw).mean()

    for _ in range(int(cfg["epochs"])):  # autoencoder warm-up: codes start from good embeddings
        enc.train()
        total, steps = 0.0, 0
        for batch in data.epoch(bs, gen):
            z = enc(batch.inputs)
            loss = recon(z, batch)
            if label_weight > 0:
                loss = loss + label_weight * ce(enc.head(z), batch.y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total, steps = total + loss.detach(), steps + 1
        if epochs is not None:
            epochs.epoch("autoencoder", float(total) / max(steps, 1))
    init_codebook(enc, vq, data, cfg, gen)

    def task_loss(z_q: torch.Tensor, batch) -> torch.Tensor:
        loss = recon(z_q, batch)
        return loss + label_weight * ce(enc.head(z_q), batch.y) if label_weight > 0 else loss

    restarts = vq_epochs(enc, vq, data, cfg, gen, opt, task_loss, epochs)
    return {**_final_stats(enc, dec, vq, data, colw), "dead_code_restarts": restarts}


@torch.no_grad()
def _final_stats(enc, dec, vq, data, colw) -> dict:
    enc.eval()
    dec.eval()
    err = recon_q = correct = 0.0
    for batch in data.ordered(4096):
        z = enc(batch.inputs)
        code, dist = vq.nearest(z)
        q = vq.codebook[code]
        err += float(dist.clamp(min=0).sum())
        # standardised target: 1.0 is what predicting the mean of every column would score
        recon_q += float(((((dec(q) - batch.target) ** 2) * colw).mean(1)).sum())
        correct += float((enc.head(q).argmax(1) == batch.y).sum())
    n = max(len(data), 1)
    return {"quantisation_error": err / n, "reconstruction_error": recon_q / n,
            "window_acc": correct / n}
