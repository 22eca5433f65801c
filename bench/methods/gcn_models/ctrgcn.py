"""CTR-GCN (Chen et al., "Channel-wise Topology Refinement Graph Convolution for Skeleton-Based
Action Recognition", ICCV 2021), written from the paper for MMAction2's RecognizerGCN.

Each spatial graph convolution refines a shared, learnable topology A (one per partition subset:
self, inward, outward) per channel: M(x) = A + alpha * T(x), where T models joint-pair
relations from temporally pooled features, tanh(phi(x_u) - psi(x_v)), lifted to the output
channels by a 1x1 conv. Temporal modelling is a multi-scale TCN (kernel 5, dilations 1 and 2, a
max-pool and a 1x1 branch). The layout of the network follows the paper: 10 blocks, 64/128/256
channels, stride 2 at blocks 5 and 8.
"""
from __future__ import annotations

import torch
from torch import nn

from bench.methods.gcn_models.common import (MultiScaleTCN, PersonDataBN, StackedGCN,
                                             residual_branch, temporal_conv)


class ChannelTopologyGC(nn.Module):
    """One CTR-GC: features x (N, C, T, V), shared topology A (V, V) -> (N, C_out, T, V)."""

    def __init__(self, in_c: int, out_c: int, reduction: int = 8):
        super().__init__()
        rel_c = 8 if in_c <= 16 else in_c // reduction  # the 3-channel input gets 8, as published
        self.phi = nn.Conv2d(in_c, rel_c, 1)
        self.psi = nn.Conv2d(in_c, rel_c, 1)
        self.value = nn.Conv2d(in_c, out_c, 1)
        self.lift = nn.Conv2d(rel_c, out_c, 1)

    def topology(self, pooled: torch.Tensor, shared: torch.Tensor,
                 alpha: torch.Tensor) -> torch.Tensor:
        """(N, C', V, V) from time-pooled features (N, C, 1, V). A 1x1 conv commutes with the
        temporal mean, so pooling first equals the paper's conv-then-pool, T times cheaper."""
        q, k = self.phi(pooled).squeeze(-2), self.psi(pooled).squeeze(-2)  # (N, R, V)
        relation = torch.tanh(q.unsqueeze(-1) - k.unsqueeze(-2))  # (N, R, V, V)
        return self.lift(relation) * alpha + shared  # channel-wise refinement

    def forward(self, x: torch.Tensor, shared: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
        topology = self.topology(x.mean(-2, keepdim=True), shared, alpha)
        return torch.einsum("ncuv,nctv->nctu", topology, self.value(x))


class CTRGraphConv(nn.Module):
    """Sum of CTR-GCs over the partition subsets of A, BatchNorm, residual, ReLU."""

    def __init__(self, in_c: int, out_c: int, A: torch.Tensor):
        super().__init__()
        self.A = nn.Parameter(A.clone())  # shared topology, learnt (initialised from the graph)
        self.alpha = nn.Parameter(torch.zeros(1))
        self.convs = nn.ModuleList(ChannelTopologyGC(in_c, out_c) for _ in range(A.shape[0]))
        self.bn = nn.BatchNorm2d(out_c)
        nn.init.constant_(self.bn.weight, 1e-6)  # blocks start close to their residual path
        self.down = nn.Identity() if in_c == out_c else temporal_conv(in_c, out_c, 1)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = x.mean(-2, keepdim=True)
        # the subsets' sum as one batched matmul over (subset, joint): fewer, larger products
        topology = torch.stack([conv.topology(pooled, self.A[i], self.alpha)
                                for i, conv in enumerate(self.convs)], dim=2)  # (N, C, K, U, V)
        values = torch.stack([conv.value(x) for conv in self.convs], dim=2)  # (N, C, K, T, V)
        out = torch.einsum("nckuv,ncktv->nctu", topology, values)
        return self.relu(self.bn(out) + self.down(x))


class CTRBlock(nn.Module):
    """relu(TCN(GCN(x)) + residual(x))."""

    def __init__(self, in_c: int, out_c: int, A: torch.Tensor, stride: int = 1,
                 residual: bool = True):
        super().__init__()
        self.gcn = CTRGraphConv(in_c, out_c, A)
        self.tcn = MultiScaleTCN(out_c, out_c, kernel=5, stride=stride, dilations=(1, 2),
                                 residual=False, act=False)
        self.residual = residual_branch(in_c, out_c, stride) if residual else None
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.tcn(self.gcn(x))
        return self.relu(out if self.residual is None else out + self.residual(x))


class CTRGCN(StackedGCN):
    """Backbone: (N, M, T, V, C) -> (N, M, C_out, T', V), the format GCNHead pools."""

    def __init__(self, graph_cfg: dict, in_channels: int = 3, base_channels: int = 64,
                 num_stages: int = 10, inflate_stages=(5, 8), down_stages=(5, 8),
                 num_person: int = 2, pretrained=None):
        super().__init__()
        from mmaction.models.utils import Graph

        graph = Graph(**graph_cfg)
        A = torch.tensor(graph.A, dtype=torch.float32)
        self.data_bn = PersonDataBN(num_person, graph.num_node, in_channels)
        blocks, channels = [], base_channels
        blocks.append(CTRBlock(in_channels, channels, A, residual=False))
        for stage in range(2, num_stages + 1):
            out_c = channels * 2 if stage in inflate_stages else channels
            blocks.append(CTRBlock(channels, out_c, A, stride=2 if stage in down_stages else 1))
            channels = out_c
        self.blocks = nn.Sequential(*blocks)
        self.out_channels = channels
