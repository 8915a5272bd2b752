"""Residual Dense Network without upsampler (METHODS_SPEC §2.2), LIIF key names."""

from __future__ import annotations

import torch
from torch import Tensor, nn

CONFIGS = {"A": (20, 6, 32), "B": (16, 8, 64)}


class RDBConv(nn.Module):
    def __init__(self, cin: int, growth: int, k: int) -> None:
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(cin, growth, k, padding=k // 2), nn.ReLU())

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([x, self.conv(x)], 1)


class RDB(nn.Module):
    def __init__(self, g0: int, growth: int, n_convs: int, k: int) -> None:
        super().__init__()
        self.convs = nn.Sequential(*[RDBConv(g0 + c * growth, growth, k) for c in range(n_convs)])
        self.LFF = nn.Conv2d(g0 + n_convs * growth, g0, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.LFF(self.convs(x)) + x


class RDN(nn.Module):
    """RDN config B by default: 16 blocks × 8 convs, growth 64; 64 ch out."""

    def __init__(self, G0: int = 64, kernel_size: int = 3, config: str = "B",
                 blocks: int | None = None, convs: int | None = None,
                 growth: int | None = None) -> None:
        super().__init__()
        d, c, g = CONFIGS[config]
        d, c, g = blocks or d, convs or c, growth or g
        k = kernel_size
        self.SFENet1 = nn.Conv2d(3, G0, k, padding=k // 2)
        self.SFENet2 = nn.Conv2d(G0, G0, k, padding=k // 2)
        self.RDBs = nn.ModuleList([RDB(G0, g, c, k) for _ in range(d)])
        self.GFF = nn.Sequential(nn.Conv2d(d * G0, G0, 1), nn.Conv2d(G0, G0, k, padding=k // 2))
        self.out_dim = G0
        #: receptive-field radius: SFENet1, SFENet2, C convs per block, GFF's 3×3
        self.radius = (k // 2) * (3 + d * c)

    def forward(self, x: Tensor) -> Tensor:
        f1 = self.SFENet1(x)
        x = self.SFENet2(f1)
        outs = []
        for block in self.RDBs:
            x = block(x)
            outs.append(x)
        return self.GFF(torch.cat(outs, 1)) + f1
