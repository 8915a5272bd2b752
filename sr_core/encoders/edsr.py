"""EDSR-baseline without upsampler (METHODS_SPEC §2.1), key names as in the LIIF code."""

from __future__ import annotations

from torch import Tensor, nn


def _conv(cin: int, cout: int) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, padding=1)


class ResBlock(nn.Module):
    def __init__(self, n_feats: int, res_scale: float) -> None:
        super().__init__()
        self.body = nn.Sequential(_conv(n_feats, n_feats), nn.ReLU(True), _conv(n_feats, n_feats))
        self.res_scale = res_scale

    def forward(self, x: Tensor) -> Tensor:
        return self.body(x) * self.res_scale + x


class MeanShift(nn.Conv2d):
    """The frozen 1×1 mean-shift conv of the official code.

    It is constructed but never applied (the calls are commented out upstream). It is kept
    only so that official checkpoints load key-for-key and parameter counts match the papers
    (EDSR-LIIF 1,567,323 includes its 24 values).
    """

    def __init__(self, sign: int) -> None:
        super().__init__(3, 3, 1)
        # the identity, set without nn.init.eye_: on the meta device (checkpoint_schema sizes
        # models there) eye_ imports torch's Python refs, 1.3-1.8 s of every launch
        self.weight.data.zero_()
        self.weight.data.view(3, 3).diagonal().fill_(1.0)
        self.bias.data.copy_(sign * Tensor([0.4488, 0.4371, 0.4040]))
        self.requires_grad_(False)


class EDSRBaseline(nn.Module):
    """Head conv, ``n_resblocks`` residual blocks, body conv, global skip; 64 ch out."""

    def __init__(self, n_resblocks: int = 16, n_feats: int = 64, res_scale: float = 1.0) -> None:
        super().__init__()
        self.sub_mean = MeanShift(-1)
        self.add_mean = MeanShift(+1)
        self.head = nn.Sequential(_conv(3, n_feats))
        blocks: list[nn.Module] = [ResBlock(n_feats, res_scale) for _ in range(n_resblocks)]
        self.body = nn.Sequential(*blocks, _conv(n_feats, n_feats))
        self.out_dim = n_feats
        #: receptive-field radius in LR pixels: one per 3×3 conv
        self.radius = 2 * n_resblocks + 2

    def forward(self, x: Tensor) -> Tensor:
        x = self.head(x)
        return self.body(x) + x
