"""Building blocks shared by our CTR-GCN and MS-G3D: multi-scale temporal convolution, graphs.

Tensors are (N*M, C, T, V) inside the backbones, as in MMAction2's own GCNs.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn


def temporal_conv(in_c: int, out_c: int, kernel: int = 1, stride: int = 1,
                  dilation: int = 1) -> nn.Sequential:
    """Conv over time only (kernel k x 1), 'same' padding, then BatchNorm."""
    pad = (kernel + (kernel - 1) * (dilation - 1) - 1) // 2
    return nn.Sequential(
        nn.Conv2d(in_c, out_c, (kernel, 1), stride=(stride, 1), padding=(pad, 0),
                  dilation=(dilation, 1)),
        nn.BatchNorm2d(out_c))


def residual_branch(in_c: int, out_c: int, stride: int) -> nn.Module:
    """The skip path of a block: identity where shapes agree, else a strided 1x1 conv + BN."""
    if in_c == out_c and stride == 1:
        return nn.Identity()
    return temporal_conv(in_c, out_c, 1, stride)


class MultiScaleTCN(nn.Module):
    """Parallel temporal branches (CTR-GCN, MS-G3D): one per dilation (1x1 reduce, ReLU, k x 1
    dilated conv), a 3 x 1 max-pool branch and a plain 1x1 branch, concatenated.

    `residual`: add the input (identity, or a strided 1x1 conv where shapes differ); `act`: ReLU
    at the end (MS-G3D's MS-TCN has it, CTR-GCN puts its ReLU after its unit-level residual).
    """

    def __init__(self, in_c: int, out_c: int, kernel: int = 3, stride: int = 1,
                 dilations=(1, 2, 3, 4), residual: bool = True, act: bool = True):
        super().__init__()
        count = len(dilations) + 2
        width = out_c // count
        last = out_c - width * (count - 1)  # the 1x1 branch takes the remainder

        def reduce(c):
            return [nn.Conv2d(in_c, c, 1), nn.BatchNorm2d(c), nn.ReLU(inplace=True)]

        self.branches = nn.ModuleList(
            nn.Sequential(*reduce(width), temporal_conv(width, width, kernel, stride, d))
            for d in dilations)
        self.branches.append(nn.Sequential(
            *reduce(width), nn.MaxPool2d((3, 1), stride=(stride, 1), padding=(1, 0)),
            nn.BatchNorm2d(width)))
        self.branches.append(temporal_conv(in_c, last, 1, stride))
        self.residual = residual_branch(in_c, out_c, stride) if residual else None
        self.act = nn.ReLU(inplace=True) if act else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.cat([branch(x) for branch in self.branches], dim=1)
        if self.residual is not None:
            out = out + self.residual(x)
        return self.act(out)


def binary_adjacency(graph) -> np.ndarray:
    """(V, V) 0/1 symmetric adjacency without self loops, from an MMAction2 Graph's edges."""
    adj = np.zeros((graph.num_node, graph.num_node), dtype=np.float32)
    for i, j in graph.inward:
        adj[i, j] = adj[j, i] = 1
    return adj


def exact_hop_adjacency(adj: np.ndarray, hops: int) -> np.ndarray:
    """1 where the shortest path between two nodes has exactly `hops` edges, plus self loops
    (MS-G3D's disentangled k-adjacency; hops=0 is the identity)."""
    eye = np.eye(len(adj), dtype=np.float32)
    if hops == 0:
        return eye
    reach = np.linalg.matrix_power(adj + eye, hops) > 0
    closer = np.linalg.matrix_power(adj + eye, hops - 1) > 0
    return (reach & ~closer).astype(np.float32) + eye


def sym_normalise(adj: np.ndarray) -> np.ndarray:
    """D^-1/2 A D^-1/2 (every row has a self loop, so no degree is zero)."""
    inv_sqrt = adj.sum(-1) ** -0.5
    return (adj * inv_sqrt[:, None] * inv_sqrt[None, :]).astype(np.float32)


def multiscale_adjacency(adj: np.ndarray, scales: int) -> torch.Tensor:
    """(scales * V, V): normalised exact-k-hop adjacencies, k = 0..scales-1, stacked."""
    return torch.from_numpy(np.concatenate(
        [sym_normalise(exact_hop_adjacency(adj, k)) for k in range(scales)]))


class PersonDataBN(nn.Module):
    """BatchNorm over (person, joint, channel) per frame, as the reference CTR-GCN / MS-G3D
    implementations do, then (N, M, T, V, C) -> (N*M, C, T, V)."""

    def __init__(self, num_person: int, num_joints: int, channels: int):
        super().__init__()
        self.bn = nn.BatchNorm1d(num_person * num_joints * channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, m, t, v, c = x.shape
        x = self.bn(x.permute(0, 1, 3, 4, 2).reshape(n, m * v * c, t))
        return x.view(n, m, v, c, t).permute(0, 1, 3, 4, 2).reshape(n * m, c, t, v)


class StackedGCN(nn.Module):
    """The shared shell of the two backbones: `data_bn` then `blocks`, scores kept per person
    ((N*M, C, T, V) -> (N, M, C, T, V), as MMAction2's GCN heads expect)."""

    data_bn: PersonDataBN
    blocks: nn.Sequential

    def init_weights(self) -> None:
        pass  # trained from scratch; the modules' own initialisation (as published)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, m = x.shape[:2]
        out = self.blocks(self.data_bn(x))
        return out.reshape((n, m) + out.shape[1:])
