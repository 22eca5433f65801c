"""MS-G3D (Liu et al., "Disentangling and Unifying Graph Convolutions for Skeleton-Based Action
Recognition", CVPR 2020), written from the paper for MMAction2's RecognizerGCN.

- Disentangled multi-scale aggregation: scale k uses the normalised adjacency of nodes *exactly*
  k hops apart (not A^k, which is biased towards close, heavily connected nodes), plus a small
  learnable residual mask; the scales' features are concatenated and mixed by an MLP.
- G3D: a unified spatial-temporal graph over a sliding window of tau frames (every node linked to
  its spatial neighbours and itself in all tau frames), aggregated with the same disentangled
  multi-scale scheme; a (1 x tau) conv collapses the window. Windows of 3 and 5 frames are summed.
- STGC block = relu(MS-GCN -> MS-TCN -> MS-TCN  +  G3D) -> MS-TCN; three blocks (96/192/384
  channels, temporal stride 1/2/2), 13 GCN scales and 6 G3D scales on NTU, as published.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from bench.methods.gcn_models.common import (MultiScaleTCN, PersonDataBN, StackedGCN,
                                             binary_adjacency, multiscale_adjacency)


class MultiScaleAggregation(nn.Module):
    """Disentangled multi-scale graph aggregation over a (V', V') graph, then a 1x1 MLP."""

    def __init__(self, in_c: int, out_c: int, adj: np.ndarray, scales: int):
        super().__init__()
        self.scales = scales
        self.register_buffer("A_scales", multiscale_adjacency(adj, scales), persistent=False)
        self.A_res = nn.Parameter(torch.empty_like(self.A_scales).uniform_(-1e-6, 1e-6))
        self.mlp = nn.Sequential(nn.Conv2d(in_c * scales, out_c, 1), nn.BatchNorm2d(out_c),
                                 nn.ReLU(inplace=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, t, v = x.shape
        agg = torch.einsum("wu,nctu->nctw", self.A_scales + self.A_res, x)  # w = scale * V + v
        agg = agg.view(n, c, t, self.scales, v).permute(0, 3, 1, 2, 4).reshape(n, -1, t, v)
        return self.mlp(agg)


class G3D(nn.Module):
    """One G3D pathway with window size tau: unfold windows, aggregate, collapse the window."""

    def __init__(self, in_c: int, out_c: int, adj: np.ndarray, scales: int, window: int,
                 stride: int = 1, dilation: int = 1):
        super().__init__()
        self.window = window
        pad = (window + (window - 1) * (dilation - 1) - 1) // 2
        self.unfold = nn.Unfold((window, 1), dilation=(dilation, 1), stride=(stride, 1),
                                padding=(pad, 0))
        eye = np.eye(len(adj), dtype=np.float32)
        st_graph = np.tile(adj + eye, (window, window))  # tau x tau blocks of A + I
        st_graph[np.diag_indices_from(st_graph)] = 0  # self loops are added per scale
        # The first block lifts the raw 3-channel input to out_c inside the ST aggregation.
        mid_c = out_c if in_c <= 3 else in_c
        self.aggregate = MultiScaleAggregation(in_c, mid_c, st_graph, scales)
        self.collapse = nn.Conv3d(mid_c, out_c, kernel_size=(1, window, 1))
        self.bn = nn.BatchNorm2d(out_c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, _, v = x.shape
        cols = self.unfold(x)  # (N, C * tau, T' * V)
        t = cols.shape[-1] // v
        x = cols.view(n, c, self.window, t, v).permute(0, 1, 3, 2, 4).reshape(
            n, c, t, self.window * v)
        x = self.aggregate(x).view(n, -1, t, self.window, v)
        return self.bn(self.collapse(x).squeeze(3))


class MultiWindowG3D(nn.Module):
    def __init__(self, in_c, out_c, adj, scales, windows=(3, 5), stride=1):
        super().__init__()
        self.paths = nn.ModuleList(G3D(in_c, out_c, adj, scales, w, stride) for w in windows)

    def forward(self, x):
        return sum(path(x) for path in self.paths)


class STGCBlock(nn.Module):
    def __init__(self, in_c, out_c, adj, gcn_scales, g3d_scales, stride):
        super().__init__()
        self.g3d = MultiWindowG3D(in_c, out_c, adj, g3d_scales, stride=stride)
        self.factorised = nn.Sequential(
            MultiScaleAggregation(in_c, out_c, adj, gcn_scales),
            MultiScaleTCN(out_c, out_c),
            MultiScaleTCN(out_c, out_c, stride=stride, act=False))
        self.relu = nn.ReLU(inplace=True)
        self.tcn = MultiScaleTCN(out_c, out_c)

    def forward(self, x):
        return self.tcn(self.relu(self.factorised(x) + self.g3d(x)))


class MSG3D(StackedGCN):
    """Backbone: (N, M, T, V, C) -> (N, M, C_out, T', V), the format GCNHead pools."""

    def __init__(self, graph_cfg: dict, in_channels: int = 3, base_channels: int = 96,
                 num_gcn_scales: int = 13, num_g3d_scales: int = 6, num_person: int = 2,
                 pretrained=None):
        super().__init__()
        from mmaction.models.utils import Graph

        graph = Graph(**graph_cfg)
        adj = binary_adjacency(graph)
        self.data_bn = PersonDataBN(num_person, graph.num_node, in_channels)
        c1, c2, c3 = base_channels, base_channels * 2, base_channels * 4
        self.blocks = nn.Sequential(
            STGCBlock(in_channels, c1, adj, num_gcn_scales, num_g3d_scales, stride=1),
            STGCBlock(c1, c2, adj, num_gcn_scales, num_g3d_scales, stride=2),
            STGCBlock(c2, c3, adj, num_gcn_scales, num_g3d_scales, stride=2))
        self.out_channels = c3
