"""The ESRGAN VGG-style discriminator (BasicSR ``VGGStyleDiscriminator``) for any input size.

Stage ``i`` is conv 3×3 (stride 1) then conv 4×4 (stride 2), each followed by BatchNorm
(except the very first conv) and LeakyReLU(0.2), with ``features·min(2^i, 8)`` channels;
there are as many stages as it takes to reach 4×4, then Linear(→100), LeakyReLU, Linear(→1).
At 128 px this is BasicSR's network; at 64 px (CiSRGAN) the last pair is dropped, so the
head still sees 4×4×512 (METHODS_SPEC A9).
"""

from __future__ import annotations

import math

from torch import Tensor, nn


class Discriminator(nn.Module):
    def __init__(self, input_size: int = 64, features: int = 64) -> None:
        super().__init__()
        stages = math.log2(input_size / 4)
        if stages < 1 or stages != int(stages):
            raise ValueError(f"input size {input_size} must be 4·2^k with k ≥ 1")
        layers: list[nn.Module] = []
        cin = 3
        for i in range(int(stages)):
            c = features * min(2 ** i, 8)
            layers += [nn.Conv2d(cin, c, 3, 1, 1, bias=i == 0)]
            layers += [nn.BatchNorm2d(c)] if i else []
            layers += [nn.LeakyReLU(0.2, True), nn.Conv2d(c, c, 4, 2, 1, bias=False),
                       nn.BatchNorm2d(c), nn.LeakyReLU(0.2, True)]
            cin = c
        self.body = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(cin * 16, 100), nn.LeakyReLU(0.2, True),
                                  nn.Linear(100, 1))

    def score(self, x: Tensor) -> Tensor:
        """Logits ``(B,)`` of images ``(B, 3, s, s)`` in [0, 1]."""
        return self.head(self.body(x)).squeeze(1)

    def forward(self, real: Tensor, fake: Tensor) -> tuple[Tensor, Tensor]:
        """Logits of both batches, scored separately (separate BatchNorm statistics, as in
        BasicSR) but in one call, so that DistributedDataParallel sees one forward per backward."""
        return self.score(real), self.score(fake)
